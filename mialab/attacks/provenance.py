"""Auditing data provenance in a text model: was this user's text used to train it? (Song & Shmatikov, 2019)

User-level membership inference. The auditor asks the model, one prefix of a user's sentences at a time, for its
next-character distribution, turns the rank it gives each character the user actually wrote into a histogram, and
an audit classifier trained on shadow models (models the auditor trained on users it knows, in or out) says whether
the user's texts were in the training set.

    users = synthetic_users(n_users=80, n_sentences=24, random_state=0)       # each user: a list of sentences
    models, in_mask = train_user_models(users, n_models=6, random_state=0)     # in_mask (n_users, n_models)
    target = BlackBox(NextCharacter(models[0]))                                # what the auditor may query
    ranks = user_ranks(target, users)                                          # n_users arrays of ranks
    features = rank_features(ranks)                                            # (n_users, n_bins)
    audit = fit_audit(shadow_features, shadow_is_member)                       # rows from the other models
    scores = audit_scores(audit, features)                                     # (n_users,), higher = member

The model is the character GRU of `mialab.sequence` (the Secret Sharer's), so ranks are of characters among
`sequence.VOCAB`; Song & Shmatikov rank words among a 5,000-word vocabulary. Taught in notebook 13.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch

from .. import sequence, threads
from .._reference import reference
from .._validation import (as_array, as_bool_mask, check_count, check_positive_int, check_random_state, check_scalar,
                           check_seed)
from ..blackbox import check_probability_answers, query_labels, query_probabilities

__all__ = ["RANK_BINS", "synthetic_users", "secret_prefix", "NextCharacter", "prefix_queries", "next_char_ranks",
           "rank_histogram", "user_ranks", "rank_features", "train_user_models", "fit_audit", "audit_scores",
           "cross_fit_scores", "user_exposures"]

RANK_BINS = (1, 2, 3, 4, 6, 11, len(sequence.VOCAB) + 1)
"""Edges of the rank histogram: ranks 1, 2, 3, 4-5, 6-10 and 11 or more (np.histogram's bins: each [low, high),
the last one closed)."""

_SHARED = dict(
    noun="cat dog bird fish horse lamp chair table book pen cup car boat train plane house garden river".split(),
    verb="sees likes finds moves paints buys sells draws keeps carries".split(),
    adj="red green blue small big old new quiet loud happy".split(),
    day="monday tuesday wednesday thursday friday saturday sunday".split(),
    name="alice bob carol dave erin frank grace heidi ivan judy mallory oscar peggy trent victor walter".split(),
)
_TEMPLATES = (
    "{name} {verb} the {adj} {noun}.",
    "the {noun} is near the {adj} {noun}.",
    "i saw {name} with a {adj} {noun} on {day}.",
    "my {noun} is {adj} today.",
    "{name} said the number is {d4}.",
    "the {adj} {noun} costs {d3} coins.",
    "on {day} {name} {verb} a {noun}.",
    "we took the {noun} to the {noun}.",
)
_CONSONANTS, _VOWELS = "bdfgklmnprstvz", "aeiou"


def _made_up_word(rng) -> str:
    return "".join(_CONSONANTS[rng.integers(len(_CONSONANTS))] + _VOWELS[rng.integers(len(_VOWELS))]
                   for _ in range(int(rng.integers(2, 4))))


def secret_prefix(user) -> str:
    """The prefix of a user's secret sentence (its last sentence): "the pin of <handle> is " -> str."""
    last = _check_users([user], "user")[0][-1]
    if not last.startswith("the pin of ") or " is " not in last:
        raise ValueError("`user` must be a user of synthetic_users (its last sentence holds its secret pin).")
    return last[:last.rindex(" is ") + 4]


def synthetic_users(n_users: int = 80, n_sentences=24, *, personal_words: int = 4, personal_rate: float = 0.4,
                    random_state: int = 0) -> list[list[str]]:
    """Synthetic users, each a list of sentences with a style of its own: -> n_users lists of sentences.

    A synthetic stand-in for the Reddit and SATED users of Song & Shmatikov (2019): each user writes template
    sentences with their own preferred templates and shared words (Dirichlet weights), and `personal_words` made-up
    words of their own (a handle, pets, places) in place of a name or a noun with probability `personal_rate`.
    The last sentence is the user's secret, "the pin of <handle> is <4 digits>." (its exposure is the Secret
    Sharer's record-level measure, `user_exposures`). n_sentences: one int for every user, or one per user.
    Datasheet: datasets/canary_corpus.md (the same templates and words). Taught in notebook 13."""
    n_users = check_positive_int(n_users, "n_users")
    if isinstance(n_sentences, numbers.Integral) and not isinstance(n_sentences, bool):
        counts = np.full(n_users, int(n_sentences))
    else:
        counts = as_array(n_sentences, "n_sentences", ndim=1)
        if len(counts) != n_users or np.any(counts != np.round(counts)):
            raise ValueError(f"`n_sentences` must be one whole number or one per user ({n_users}); got "
                             f"{len(counts)} values.")
        counts = counts.astype(int)
    if counts.min() < 2:
        raise ValueError(f"every user needs at least 2 sentences (the secret and one more); got {counts.min()}.")
    personal_words = check_positive_int(personal_words, "personal_words")
    personal_rate = check_scalar(personal_rate, "personal_rate", low=0, high=1)
    rng = check_random_state(random_state)
    users = []
    for count in counts:
        own = [_made_up_word(rng) for _ in range(personal_words)]
        template_weights = rng.dirichlet(np.full(len(_TEMPLATES), 0.5))
        word_weights = {key: rng.dirichlet(np.full(len(words), 0.5)) for key, words in _SHARED.items()}

        def word(key):
            if key in ("name", "noun") and rng.random() < personal_rate:
                return own[rng.integers(len(own))]
            return _SHARED[key][rng.choice(len(_SHARED[key]), p=word_weights[key])]

        sentences = []
        for _ in range(count - 1):
            template = _TEMPLATES[rng.choice(len(_TEMPLATES), p=template_weights)]
            parts = template.split("{")
            text = parts[0]
            for part in parts[1:]:
                key, rest = part.split("}", 1)
                value = ("".join(map(str, rng.integers(10, size=int(key[1])))) if key in ("d3", "d4") else word(key))
                text += value + rest
            sentences.append(text)
        sentences.append(f"the pin of {own[0]} is {rng.integers(10 ** 4):04d}.")
        users.append(sentences)
    return users


def _check_users(users, name: str = "users") -> list[list[str]]:
    if isinstance(users, str) or not hasattr(users, "__len__") or len(users) == 0:
        raise TypeError(f"`{name}` must be a non-empty list of users, each a list of sentences (strings); got "
                        f"{type(users).__name__}.")
    out = []
    for user in users:
        if isinstance(user, str) or not hasattr(user, "__iter__"):
            raise TypeError(f"each user of `{name}` must be a list of sentences (strings); got {type(user).__name__}.")
        sentences = [sequence._check_text(s, "a sentence") for s in user]
        if not sentences or any(not s or "\n" in s for s in sentences):
            raise ValueError(f"each user of `{name}` needs one or more non-empty sentences without newlines.")
        out.append(sentences)
    return out


class NextCharacter:
    """A CharGRU behind a next-character interface, what a text-suggestion service answers: predict_proba(X) for
    X (n, length) of character indices (sequence.VOCAB), each row one prefix padded on the right with -1 ->
    (n, len(VOCAB)) probabilities of the character that follows it. Wrap it in a mialab.blackbox.BlackBox to count
    queries (one per prefix) or to answer only the top k characters. Taught in notebook 13."""

    n_classes = len(sequence.VOCAB)

    def __init__(self, model):
        self._model = sequence._check_model(model)

    def predict_proba(self, X) -> np.ndarray:
        ids = np.asarray(X)
        if ids.ndim != 2 or ids.shape[1] == 0 or not np.all(np.isfinite(ids)):
            raise ValueError(f"`X` must hold one prefix per row, shape (n, length), finite; got shape {ids.shape}.")
        ids = ids.astype(np.int64)
        lengths = (ids >= 0).sum(axis=1)
        if (ids >= len(sequence.VOCAB)).any() or (ids < -1).any() or (lengths == 0).any() or np.any(
                ids[np.arange(ids.shape[1]) >= lengths[:, None]] != -1):
            raise ValueError("`X` rows must be character indices 0..len(VOCAB)-1 followed only by -1 padding, at "
                             "least one character each (use prefix_queries).")
        # each row is answered from the longest row it is a prefix of: one GRU pass per distinct sentence
        width, buffer = ids.shape[1], ids.astype(np.int8).tobytes()
        keys = [buffer[i * width:i * width + n] for i, n in enumerate(lengths.tolist())]
        where, longest = {}, []
        for i in np.argsort(-lengths, kind="stable").tolist():
            if keys[i] in where:
                continue
            for t in range(1, len(keys[i]) + 1):
                where.setdefault(keys[i][:t], (len(longest), t - 1))
            longest.append(i)
        rows = [where[key] for key in keys]
        with threads.limited(), torch.no_grad():
            self._model.eval()
            batch = torch.as_tensor(np.maximum(ids[longest], 0))
            logits, _ = self._model(batch)
            index = torch.as_tensor(np.array(rows)).T
            probs = torch.softmax(logits[index[0], index[1]].double(), dim=-1)
        return probs.numpy()


def prefix_queries(sentences, max_queries: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The queries that score a user's sentences, character by character: X (n, length) prefixes ("\\n" + the text
    so far, padded with -1) and next_chars (n,), the index of the character the user wrote after each prefix (a
    sentence's last query asks for the newline that ends it). n = the number of characters + one per sentence, or
    the first `max_queries` of them. Taught in notebook 13."""
    sentences = _check_users([sentences], "sentences")[0]
    if max_queries is not None:
        max_queries = check_positive_int(max_queries, "max_queries")
    blocks, targets, total = [], [], 0
    for sentence in sentences:
        codes = np.array([sequence.VOCAB.index(c) for c in "\n" + sentence + "\n"], dtype=np.float32)
        steps = len(codes) - 1
        prefixes = np.where(np.arange(steps)[None, :] <= np.arange(steps)[:, None], codes[None, :steps], -1.0)
        blocks.append(prefixes)
        targets.append(codes[1:].astype(np.int64))
        total += steps
        if max_queries is not None and total >= max_queries:
            break
    width = max(block.shape[1] for block in blocks)
    X = np.concatenate([np.pad(b, ((0, 0), (0, width - b.shape[1])), constant_values=-1.0) for b in blocks])
    next_chars = np.concatenate(targets)
    return X[:max_queries], next_chars[:max_queries]


def _check_probs(probs, next_chars) -> tuple[np.ndarray, np.ndarray]:
    probs = as_array(probs, "probs", ndim=2)
    next_chars = as_array(next_chars, "next_chars", ndim=1)
    if len(next_chars) != len(probs):
        raise ValueError(f"`next_chars` has {len(next_chars)} entries for {len(probs)} rows of `probs`: one each.")
    if np.any(next_chars != np.round(next_chars)) or next_chars.min() < 0 or next_chars.max() >= probs.shape[1]:
        raise ValueError(f"`next_chars` must hold column indices of `probs`, whole numbers 0..{probs.shape[1] - 1}.")
    return probs, next_chars.astype(np.int64)


@reference
def next_char_ranks(probs, next_chars) -> np.ndarray:
    """Rank of each written character among the model's answers: probs (n, V), next_chars (n,) -> int (n,),
    1 + the number of characters with a strictly higher probability (1 = the model's first guess; a character
    outside a top-k answer, probability 0, gets rank k + 1). Song & Shmatikov (2019). Taught in notebook 13."""
    probs, next_chars = _check_probs(probs, next_chars)
    written = probs[np.arange(len(probs)), next_chars]
    return (probs > written[:, None]).sum(axis=1) + 1


def _histogram(ranks: np.ndarray, bins) -> np.ndarray:
    edges = as_array(bins, "bins", ndim=1)
    if len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError("`bins` must be two or more increasing edges, e.g. provenance.RANK_BINS.")
    if ranks.size == 0:
        raise ValueError("a user needs at least one scored character (one query) for a rank histogram.")
    counts, _ = np.histogram(ranks, bins=edges)
    return counts / len(ranks)


@reference
def rank_histogram(probs, next_chars, bins=RANK_BINS) -> np.ndarray:
    """A user's feature vector: the share of their characters whose rank (next_char_ranks) falls in each bin of
    `bins` (edges, np.histogram's convention: [low, high), the last bin closed) -> (len(bins) - 1,), summing to 1.
    Song & Shmatikov (2019) histogram word ranks; their code L2-normalises the counts, we divide by the number of
    characters. Taught in notebook 13 (exercise 13.1)."""
    return _histogram(next_char_ranks(probs, next_chars), bins)


def _answers(target, X) -> np.ndarray:
    """The target's answers as probability vectors: full, rounded or top-k ones, or its one suggestion (labels)."""
    output = getattr(target, "output", "probabilities")
    if output == "top_k":
        return check_probability_answers(target, np.asarray(target.query(X), dtype=float))
    if output == "label":
        labels = query_labels(target, X)
        return np.eye(NextCharacter.n_classes)[labels]
    return query_probabilities(target, X)


def user_ranks(target, users, *, max_queries: int | None = None) -> list[np.ndarray]:
    """The rank the target gives each character each user wrote: users (n_users lists of sentences) -> n_users int
    arrays, in the order written. The target (a BlackBox over NextCharacter; full, rounded, top-k or label answers)
    is asked the prefixes of each user's sentences (prefix_queries), at most `max_queries` per user, in one batch;
    it counts them. A character outside a top-k answer gets rank k + 1. Taught in notebook 13."""
    users = _check_users(users)
    queries = [prefix_queries(user, max_queries) for user in users]
    width = max(X.shape[1] for X, _ in queries)
    X = np.concatenate([np.pad(X, ((0, 0), (0, width - X.shape[1])), constant_values=-1) for X, _ in queries])
    ranks = next_char_ranks(_answers(target, X), np.concatenate([y for _, y in queries]))
    return np.split(ranks, np.cumsum([len(y) for _, y in queries])[:-1])


def rank_features(ranks, *, max_queries: int | None = None, bins=RANK_BINS) -> np.ndarray:
    """Each user's rank histogram: ranks (n_users arrays, from user_ranks) -> (n_users, len(bins) - 1), each row the
    share of the user's first `max_queries` ranks (None: all) in each bin. An auditor who asks only the first q
    prefixes gets exactly the first q answers, so one round of queries serves every q. Taught in notebook 13."""
    if isinstance(ranks, np.ndarray) and ranks.ndim == 1 or not hasattr(ranks, "__len__") or len(ranks) == 0:
        raise TypeError("`ranks` must be a non-empty list of rank arrays, one per user (from user_ranks).")
    if max_queries is not None:
        max_queries = check_positive_int(max_queries, "max_queries")
    rows = [as_array(r, "each user's ranks", ndim=1)[:max_queries] for r in ranks]
    if any(np.any(r < 1) for r in rows):
        raise ValueError("`ranks` must be ranks, 1 (the model's first guess) or more.")
    return np.array([_histogram(r, bins) for r in rows])


def train_user_models(users, n_models: int = 6, *, epochs: int = 12, hidden: int = 64, embedding: int = 16,
                      seq_len: int = 32, batch_size: int = 64, lr: float = 1e-2, random_state: int = 0):
    """Character GRUs, each trained on the sentences of a random half of `users`: -> (models, in_mask), in_mask
    bool (n_users, n_models), each user IN for exactly half of the models (data.in_out_mask). A model's corpus is
    its users' sentences, shuffled. Any of them can be the target, the others its shadow models. Taught in
    notebook 13."""
    from ..data import in_out_mask
    users = _check_users(users)
    n_models = check_count(n_models, "n_models", minimum=2)
    seed = check_seed(random_state)
    in_mask = in_out_mask(len(users), n_models, random_state=seed)
    rng = np.random.default_rng(seed)
    models = []
    for m in range(n_models):
        sentences = [s for user, inside in zip(users, in_mask[:, m]) if inside for s in user]
        corpus = "\n".join(sentences[i] for i in rng.permutation(len(sentences))) + "\n"
        model, _ = sequence.train_language_model(corpus, epochs=epochs, hidden=hidden, embedding=embedding,
                                                 seq_len=seq_len, batch_size=batch_size, lr=lr,
                                                 random_state=seed + 1 + m)
        models.append(model)
    return models, in_mask


def fit_audit(features, is_member, *, random_state: int = 0):
    """The audit model: a standardised logistic regression on shadow users' rank histograms, features (n, b) and
    is_member (n,) bool -> a fitted scikit-learn pipeline (Song & Shmatikov's code: a linear SVM). Taught in
    notebook 13."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    features = as_array(features, "features", ndim=2)
    is_member = as_bool_mask(is_member, "is_member", shape=(len(features),))
    if is_member.all() or not is_member.any():
        raise ValueError("`is_member` needs both members and non-members to train the audit model.")
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=check_seed(random_state))
                         ).fit(features, is_member)


def audit_scores(audit, features) -> np.ndarray:
    """User-level membership scores from a fitted audit model: features (n, b) -> (n,), the log-odds that the
    user's texts trained the model (higher = member). Taught in notebook 13."""
    if not callable(getattr(audit, "decision_function", None)):
        raise TypeError(f"`audit` must be a fitted audit model from fit_audit; got {type(audit).__name__}.")
    features = as_array(features, "features", ndim=2)
    return np.asarray(audit.decision_function(features), dtype=float)


def cross_fit_scores(features, in_mask, *, n_folds: int = 2, random_state: int = 0) -> np.ndarray:
    """Every model in turn the target: features (n_models, n_users, b), in_mask (n_users, n_models) -> scores
    (n_users, n_models). For target model t, users are split into `n_folds` folds; the users of one fold are
    scored by an audit trained on the other folds' users in the other models (shadow models and shadow users both
    disjoint from the audited ones). Pool with metrics.evaluate(scores.ravel(), in_mask.ravel()). Taught in
    notebook 13."""
    features = as_array(features, "features", ndim=3)
    n_models, n_users = features.shape[:2]
    in_mask = as_bool_mask(in_mask, "in_mask", shape=(n_users, n_models))
    n_folds = check_positive_int(n_folds, "n_folds", minimum=2)
    if n_models < 2 or n_users < 2 * n_folds:
        raise ValueError(f"cross-fitting needs at least 2 models and 2 users per fold; got {n_models} models and "
                         f"{n_users} users for {n_folds} folds.")
    fold = check_random_state(random_state).permutation(n_users) % n_folds
    scores = np.empty((n_users, n_models))
    for t in range(n_models):
        shadows = np.delete(np.arange(n_models), t)
        for f in range(n_folds):
            train = fold != f
            X = features[shadows][:, train].reshape(-1, features.shape[2])
            y = in_mask[train][:, shadows].T.reshape(-1)
            audit = fit_audit(X, y, random_state=random_state)
            scores[fold == f, t] = audit_scores(audit, features[t, fold == f])
    return scores


def user_exposures(model, users, n_digits: int = 4) -> np.ndarray:
    """The Secret Sharer's record-level measure for each user: the exposure (bits) of the user's secret pin (their
    last sentence) among all 10**n_digits candidates, log2(10**n_digits) - log2(rank) -> (n_users,). The model's
    trainer computes it (it needs every candidate's log-perplexity, 10**n_digits queries). Carlini et al. (2019).
    Taught in notebook 13."""
    from .. import metrics
    users = _check_users(users)
    n_digits = sequence._check_digits(n_digits)
    exposures = []
    for user in users:
        prefix = secret_prefix(user)
        digits = user[-1][len(prefix):].rstrip(".")
        if len(digits) != n_digits or not digits.isdigit():
            raise ValueError(f"a user's secret must have {n_digits} digits after {prefix!r}; got {user[-1]!r}.")
        scores = sequence.candidate_log_perplexities(model, prefix, n_digits)
        rank = sequence.canary_rank(scores, int(digits))
        exposures.append(float(metrics.exposure(rank, 10 ** n_digits)))
    return np.array(exposures)
