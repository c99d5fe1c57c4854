"""Unintended memorisation in a character language model: the Secret Sharer (Carlini et al., 2019).

A small GRU learns a synthetic corpus into which a canary such as "my secret code is 28146" was inserted k times.
The canary's log-perplexity (bits: -log2 of the model's probability of the secret digits after the prefix) is
compared with that of every other candidate secret: the canary's rank among all 10^d candidates gives its
exposure, log2(10^d) - log2(rank) (`mialab.metrics.exposure`). All 10^d candidates are scored at once by walking
the trie of digit strings level by level (one batched GRU step a level), not by 10^d forward passes.

    corpus = synthetic_corpus(n_sentences=700, canaries={"my secret code is 28146": 4}, random_state=0)
    model, history = train_language_model(corpus, epochs=30, random_state=0)
    scores = candidate_log_perplexities(model, "my secret code is ", n_digits=5)   # (100000,)
    rank = canary_rank(scores, 28146)

Taught in notebook 10, section 2.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch
from torch import nn

from . import threads
from ._reference import reference
from .progress import progress
from ._validation import check_count, as_array, check_positive_int, check_random_state, check_scalar, check_seed

__all__ = ["VOCAB", "canary_text", "synthetic_corpus", "CharGRU", "train_language_model", "log_perplexity",
           "candidate_log_perplexities", "canary_rank", "MAX_DIGITS"]

VOCAB = "\n .abcdefghijklmnopqrstuvwxyz0123456789"
"""The characters the model reads and writes; index 0 (newline) separates sentences."""
_INDEX = {c: i for i, c in enumerate(VOCAB)}
MAX_DIGITS = 6  # 10^6 candidates: the last trie level holds 10^6 log-probabilities (8 MB), 10^5 GRU states

_WORDS = dict(
    name="alice bob carol dave erin frank grace heidi ivan judy mallory oscar peggy trent victor walter".split(),
    noun="cat dog bird fish horse lamp chair table book pen cup car boat train plane house garden river".split(),
    verb="sees likes finds moves paints buys sells draws keeps carries".split(),
    adj="red green blue small big old new quiet loud happy".split(),
    day="monday tuesday wednesday thursday friday saturday sunday".split(),
)
_TEMPLATES = (
    "{name} {verb} the {adj} {noun}.",
    "the {noun} is near the {adj} {noun}.",
    "order {d5} ships on {day}.",
    "the total is {d5}.",
    "room {d3} is on floor {d1}.",
    "{name} said the number is {d4}.",
    "call {name} at {d5} on {day}.",
    "the {adj} {noun} costs {d3} coins.",
)


def _check_text(text, name: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"`{name}` must be a string; got {type(text).__name__}.")
    bad = sorted(set(text) - set(VOCAB))
    if bad:
        raise ValueError(f"`{name}` holds characters the model cannot read: {bad[:5]}. Use lowercase letters, "
                         f"digits, spaces, '.' and newlines (mialab.sequence.VOCAB).")
    return text


def _check_digits(n_digits) -> int:
    return check_scalar(n_digits, "n_digits", numbers.Integral, low=1, high=MAX_DIGITS)


def canary_text(secret: int, n_digits: int = 5, prefix: str = "my secret code is ") -> str:
    """The canary sentence: `prefix` followed by `secret` written with `n_digits` digits (leading zeros kept)."""
    n_digits = _check_digits(n_digits)
    secret = check_scalar(secret, "secret", numbers.Integral, low=0, high=10 ** n_digits - 1)
    return _check_text(prefix, "prefix") + f"{secret:0{n_digits}d}"


def synthetic_corpus(n_sentences: int = 700, canaries: dict | None = None, random_state: int = 0) -> str:
    """A synthetic corpus: `n_sentences` template sentences (one a line; random words and random digits) with
    each canary sentence of `canaries` ({text: k}) inserted k times at random lines. Returns one string.

    Digits in the corpus are uniform, so a model that did not memorise a canary finds every secret about equally
    likely. Datasheet: datasets/canary_corpus.md. Taught in notebook 10, section 2."""
    n_sentences = check_count(n_sentences, "n_sentences")
    canaries = {} if canaries is None else canaries
    if not isinstance(canaries, dict):
        raise TypeError("`canaries` must be a dict {canary sentence: times inserted}; got "
                        f"{type(canaries).__name__}.")
    for text, k in canaries.items():
        _check_text(text, "a canary")
        check_positive_int(k, f"the insertions of canary {text!r}", minimum=0)
    rng = check_random_state(random_state)
    lines = []
    for _ in range(n_sentences):
        template = _TEMPLATES[rng.integers(len(_TEMPLATES))]
        fill = {key: words[rng.integers(len(words))] for key, words in _WORDS.items()}
        # each {noun} slot gets its own word: format with a fresh noun per occurrence
        parts = template.split("{noun}")
        nouns = [_WORDS["noun"][rng.integers(len(_WORDS["noun"]))] for _ in parts[1:]]
        template = parts[0] + "".join(n + p for n, p in zip(nouns, parts[1:]))
        digits = {f"d{d}": "".join(map(str, rng.integers(10, size=d))) for d in (1, 3, 4, 5)}
        lines.append(template.format(**fill, **digits))
    for text, k in canaries.items():
        for position in rng.integers(len(lines) + 1, size=k):
            lines.insert(int(position), text)
    return "\n".join(lines) + "\n"


def _encode(text: str) -> torch.Tensor:
    return torch.tensor([_INDEX[c] for c in text], dtype=torch.long)


class CharGRU(nn.Module):
    """A character-level GRU language model: embedding -> GRU -> next-character logits over VOCAB.

    forward(x (batch, time) long, h (1, batch, hidden) or None) -> (logits (batch, time, len(VOCAB)), h).
    Taught in notebook 10, section 2."""

    def __init__(self, embedding: int = 32, hidden: int = 128):
        super().__init__()
        embedding = check_positive_int(embedding, "embedding")
        hidden = check_positive_int(hidden, "hidden")
        self.embed = nn.Embedding(len(VOCAB), embedding)
        self.gru = nn.GRU(embedding, hidden, batch_first=True)
        self.out = nn.Linear(hidden, len(VOCAB))

    def forward(self, x, h=None):
        y, h = self.gru(self.embed(x), h)
        return self.out(y), h


def _check_model(model) -> CharGRU:
    if not isinstance(model, CharGRU):
        raise TypeError(f"`model` must be a mialab.sequence.CharGRU (from train_language_model); "
                        f"got {type(model).__name__}.")
    return model


def _windows(data: torch.Tensor, seq_len: int, offset: int) -> tuple[torch.Tensor, torch.Tensor]:
    n = (len(data) - 1 - offset) // seq_len
    x = data[offset:offset + n * seq_len].view(n, seq_len)
    y = data[offset + 1:offset + 1 + n * seq_len].view(n, seq_len)
    return x, y


def _mean_loss(model: CharGRU, data: torch.Tensor, seq_len: int) -> float:
    """Mean next-character cross-entropy (nats) over `data`, in windows of `seq_len`."""
    x, y = _windows(data, seq_len, 0)
    with torch.no_grad():
        logits, _ = model(x)
        return float(nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)))


def train_language_model(text: str, *, epochs: int = 30, seq_len: int = 64, batch_size: int = 32,
                         lr: float = 3e-3, embedding: int = 32, hidden: int = 128, val_text: str | None = None,
                         on_epoch=None, random_state: int = 0):
    """Train a CharGRU on `text` by next-character prediction (Adam, windows of `seq_len` at a random offset
    each epoch). Returns (model, history): history["train_loss"] and, with `val_text`, history["val_loss"] hold
    one mean cross-entropy (nats per character) per epoch; `on_epoch(model, epoch)` is called after each epoch
    and its return values are kept in history["on_epoch"]. Seeded; runs on mialab.threads' one torch thread.

    Carlini et al. (2019) train word- and character-level LSTMs; this is the small CPU version.
    Taught in notebook 10, section 2."""
    text = _check_text(text, "text")
    epochs = check_count(epochs, "epochs")
    seq_len = check_positive_int(seq_len, "seq_len", minimum=2)
    batch_size = check_positive_int(batch_size, "batch_size")
    lr = check_scalar(lr, "lr", low=0, closed="neither")
    seed = check_seed(random_state)
    if len(text) < 2 * seq_len + 2:
        raise ValueError(f"`text` has {len(text)} characters; it needs at least {2 * seq_len + 2} for windows of "
                         f"seq_len={seq_len}. Use a longer corpus or a smaller seq_len.")
    if val_text is not None and len(_check_text(val_text, "val_text")) < seq_len + 1:
        raise ValueError(f"`val_text` needs at least seq_len + 1 = {seq_len + 1} characters; got {len(val_text)}.")
    if on_epoch is not None and not callable(on_epoch):
        raise TypeError("`on_epoch` must be a function on_epoch(model, epoch) or None.")
    data = _encode(text)
    val = None if val_text is None else _encode(val_text)
    history = {"train_loss": [], "val_loss": [], "on_epoch": []}
    with threads.limited(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        model = CharGRU(embedding, hidden)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        for epoch in progress(range(epochs), desc="training the language model", delay=2.0):
            model.train()
            offset = int(torch.randint(seq_len, (1,), generator=generator))
            x, y = _windows(data, seq_len, offset)
            order = torch.randperm(len(x), generator=generator)
            total, count = 0.0, 0
            for start in range(0, len(x), batch_size):
                rows = order[start:start + batch_size]
                logits, _ = model(x[rows])
                loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y[rows].reshape(-1))
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), 5.0)
                optimizer.step()
                total, count = total + loss.item() * len(rows), count + len(rows)
            model.eval()
            history["train_loss"].append(total / count)
            if val is not None:
                history["val_loss"].append(_mean_loss(model, val, min(seq_len * 8, len(val) - 1)))
            if on_epoch is not None:
                history["on_epoch"].append(on_epoch(model, epoch + 1))
    return model, history


def log_perplexity(model, prefix: str, continuations) -> np.ndarray:
    """Log-perplexity in bits, -log2 P(continuation | prefix), of each string in `continuations` (m,) -> (m,).

    Carlini et al. (2019), Definition 1. Taught in notebook 10, section 2."""
    model = _check_model(model)
    prefix = _check_text(prefix, "prefix")
    if isinstance(continuations, str):
        continuations = [continuations]
    continuations = [_check_text(c, "a continuation") for c in continuations]
    if not continuations or any(len(c) == 0 for c in continuations):
        raise ValueError("`continuations` must be one or more non-empty strings.")
    out = np.empty(len(continuations))
    with threads.limited(), torch.no_grad():
        model.eval()
        for i, text in enumerate(continuations):
            ids = _encode("\n" + prefix + text)
            logp = torch.log_softmax(model(ids[None, :-1])[0][0], dim=-1)
            tail = logp[len(prefix):, :].gather(1, ids[len(prefix) + 1:, None])[:, 0]
            out[i] = -float(tail.sum()) / math.log(2)
    return out


def candidate_log_perplexities(model, prefix: str = "my secret code is ", n_digits: int = 5) -> np.ndarray:
    """Log-perplexity in bits of every candidate secret: (10**n_digits,), entry s for the digits of s written
    with `n_digits` digits after `prefix`.

    Scores the trie of digit strings level by level: level l holds the 10**l prefixes of l digits, their GRU
    states and their summed log-probabilities; one batched GRU step moves to the next level (Carlini et al.,
    2019, section 8 use a similar shortest-path search to extract secrets). Taught in notebook 10, section 2."""
    model = _check_model(model)
    prefix = _check_text(prefix, "prefix")
    n_digits = _check_digits(n_digits)
    digits = _encode("0123456789")
    with threads.limited(), torch.no_grad():
        model.eval()
        logits, h = model(_encode("\n" + prefix)[None, :])
        logp = torch.log_softmax(logits[:, -1], dim=-1)  # (1, vocab): next character after the prefix
        total = torch.zeros(1, dtype=torch.float64)
        for level in range(n_digits):
            total = (total[:, None] + logp[:, digits].double()).reshape(-1)  # (10**(level+1),), digit-major
            if level + 1 < n_digits:
                nodes = len(total)
                step = digits.repeat(nodes // 10)  # the last digit of each node
                h = h.repeat_interleave(10, dim=1)
                logits, h = model(step[:, None], h)
                logp = torch.log_softmax(logits[:, -1], dim=-1)
    return (-total / math.log(2)).numpy()


@reference
def canary_rank(log_perplexities, secret: int, exclude=()) -> int:
    """Rank (1 = most likely) of candidate `secret` among `log_perplexities` (n,), one per candidate secret:
    1 + the number of other candidates with a strictly lower log-perplexity. Candidates in `exclude` (other
    inserted canaries) are not counted. Carlini et al. (2019), Definition 3. Taught in notebook 10, section 2."""
    scores = as_array(log_perplexities, "log_perplexities", ndim=1)
    secret = check_scalar(secret, "secret", numbers.Integral, low=0, high=len(scores) - 1)
    ahead = scores < scores[secret]
    exclude = np.asarray(list(exclude), dtype=int)
    if exclude.size and (exclude.min() < 0 or exclude.max() >= len(scores)):
        raise ValueError(f"`exclude` must hold candidate indices from 0 to {len(scores) - 1}.")
    ahead[exclude] = False
    return int(ahead.sum()) + 1
