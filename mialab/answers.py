"""Reference answers to the exercises of notebooks 00-05, for a student stuck on one: the ungraded way past.

`mialab.checks.use_reference("2.3")` returns `ex_2_3`, with the signature of the exercise's function. The notebook
check, given it, says the exercise was skipped and lets the notebook go on; the hidden test blocks `answers.ex_2_3`
while it grades exercise 2.3 (and the notebook checks block it too), so a skipped exercise scores 0 while a later
exercise that calls it (1.4 calls 1.1 and 1.3, 4.2 calls 4.1) is graded on its own code.

Each answer is plain NumPy (2.2 and 2.3 use the package functions the exercise allows), so no other exercise's
block can stop it. Taught in notebooks 00-05, in each exercise's "Still stuck?" line.
"""

from __future__ import annotations

import numpy as np

from ._reference import reference

_EPS = 1e-12


def _counts_at_or_above(scores, is_member):
    """For each distinct score t (increasing): members and non-members scoring >= t, and the two totals."""
    scores, is_member = np.ravel(scores).astype(float), np.ravel(is_member).astype(bool)
    thresholds = np.unique(scores)
    members, nonmembers = np.sort(scores[is_member]), np.sort(scores[~is_member])
    tp = len(members) - np.searchsorted(members, thresholds, side="left")
    fp = len(nonmembers) - np.searchsorted(nonmembers, thresholds, side="left")
    return tp, fp, len(members), len(nonmembers)


def _tpr_at(scores, is_member, fpr):
    """The highest TPR among the thresholds that let at most floor(fpr * non-members) non-members through."""
    tp, fp, n_in, n_out = _counts_at_or_above(scores, is_member)
    allowed = int(np.floor(fpr * n_out + 1e-9))
    return float(np.max(tp[fp <= allowed] / max(n_in, 1), initial=0.0))


def _accuracy(probs, y):
    return float(np.mean(np.argmax(probs, axis=1) == y))


def _true_label(probs, y):
    return np.asarray(probs)[np.arange(len(y)), y]


def _loss(probs, y):
    return -np.log(np.clip(probs[np.arange(len(y)), y], _EPS, None))


# ------------------------------------------------------------------------------------------------ notebook 00

@reference
def ex_0_1(scores, is_member):
    """Exercise 0.1: the largest TPR - FPR over all thresholds, scores (n,), is_member (n,) bool -> float."""
    tp, fp, n_in, n_out = _counts_at_or_above(scores, is_member)
    return float(max(0.0, np.max(tp / max(n_in, 1) - fp / max(n_out, 1), initial=0.0)))


@reference
def ex_0_2(scores, is_member, fpr):
    """Exercise 0.2: the highest TPR among thresholds with FPR <= fpr: (n,), (n,) bool, float -> float."""
    return _tpr_at(scores, is_member, fpr)


# ------------------------------------------------------------------------------------------------ notebook 01

@reference
def ex_1_1(probs_train, y_train, probs_test, y_test):
    """Exercise 1.1: train accuracy minus test accuracy, from probabilities (n, k) and labels (n,) -> float."""
    return float(_accuracy(probs_train, y_train) - _accuracy(probs_test, y_test))


@reference
def ex_1_2(probs, y):
    """Exercise 1.2: 1.0 where the predicted class is y, else 0.0: (n, k), (n,) -> (n,)."""
    return (np.argmax(probs, axis=1) == y).astype(float)


@reference
def ex_1_3(probs, y):
    """Exercise 1.3: the probability of the true label: (n, k), (n,) -> (n,)."""
    return _true_label(probs, y)


@reference
def ex_1_4(sweep):
    """Exercise 1.4: per target dict, (generalization gap, confidence-attack advantage) -> two arrays (len(sweep),)."""
    gaps, advantages = [], []
    for t in sweep:
        gaps.append(_accuracy(t["probs_in"], t["y_in"]) - _accuracy(t["probs_out"], t["y_out"]))
        scores = np.concatenate([_true_label(t["probs_in"], t["y_in"]), _true_label(t["probs_out"], t["y_out"])])
        is_member = np.arange(len(scores)) < len(t["y_in"])
        tp, fp, n_in, n_out = _counts_at_or_above(scores, is_member)
        advantages.append(max(0.0, float(np.max(tp / n_in - fp / n_out))))
    return np.array(gaps, dtype=float), np.array(advantages, dtype=float)


# ------------------------------------------------------------------------------------------------ notebook 02

@reference
def ex_2_1(shadow_probs, y, members, nonmembers):
    """Exercise 2.1: shadow outputs (S, n, k), labels (n,), masks (n, S) -> features (m, k), labels (m,),
    is_member (m,): each shadow's members, then its non-members, shadow after shadow."""
    features, labels, flags = [], [], []
    for j in range(shadow_probs.shape[0]):
        for mask, flag in ((members[:, j], True), (nonmembers[:, j], False)):
            features.append(shadow_probs[j][mask])
            labels.append(y[mask])
            flags.append(np.full(int(mask.sum()), flag))
    return np.concatenate(features), np.concatenate(labels), np.concatenate(flags)


@reference
def ex_2_2(features, labels, is_member, n_classes):
    """Exercise 2.2: one fresh make_attack_model() per class fitted on its rows (None when one-sided) -> list."""
    from .attacks.shadow import make_attack_model  # deferred: scikit-learn, only for this answer

    models = []
    for c in range(n_classes):
        rows = labels == c
        one_sided = is_member[rows].all() or not is_member[rows].any()
        models.append(None if one_sided else make_attack_model().fit(features[rows], is_member[rows]))
    return models


@reference
def ex_2_3(shadow_scores, shadow_is_member, scores, is_member):
    """Exercise 2.3: threshold chosen on shadow scores (m,), then (threshold, precision, recall) on scores (n,)."""
    from .metrics import choose_threshold  # deferred, as in ex_2_2 (the exercise allows it)

    t = choose_threshold(shadow_scores, shadow_is_member)
    called = scores >= t
    precision = float(np.mean(is_member[called])) if called.any() else 0.0
    return t, precision, float(np.mean(called[is_member]))


# ------------------------------------------------------------------------------------------------ notebook 03

@reference
def ex_3_1(probs, k):
    """Exercise 3.1: the k largest posteriors of each row, largest first: (n, C) -> (n, k)."""
    return -np.sort(-np.asarray(probs), axis=1)[:, :k]


@reference
def ex_3_2(probs):
    """Exercise 3.2: minus the Shannon entropy of each row (0 log 0 = 0): (n, C) -> (n,)."""
    probs = np.asarray(probs)
    return np.sum(probs * np.log(np.clip(probs, _EPS, None)), axis=1)


@reference
def ex_3_3(noise_probs, percentile):
    """Exercise 3.3: the percentile of the largest posterior of each answer to noise, (m, C) -> float."""
    return float(np.percentile(np.max(noise_probs, axis=1), percentile))


# ------------------------------------------------------------------------------------------------ notebook 04

@reference
def ex_4_1(probs, y, expected_loss):
    """Exercise 4.1: True where the loss -log p_y is at most expected_loss: (n, k), (n,), float -> bool (n,)."""
    return _loss(probs, y) <= expected_loss


@reference
def ex_4_2(probs_in, y_in, probs_out, y_out):
    """Exercise 4.2: TPR - FPR of the loss attack at the members' mean loss -> float."""
    threshold = _loss(probs_in, y_in).mean()
    return float(np.mean(_loss(probs_in, y_in) <= threshold) - np.mean(_loss(probs_out, y_out) <= threshold))


@reference
def ex_4_3(probs, y):
    """Exercise 4.3: Song & Mittal's modified entropy of each record: (n, k), (n,) -> (n,)."""
    probs = np.asarray(probs, dtype=float)
    rows = np.arange(len(y))
    p_y = probs[rows, y]
    others = probs * np.log(np.clip(1 - probs, _EPS, None))
    others[rows, y] = 0.0
    return -(1 - p_y) * np.log(np.clip(p_y, _EPS, None)) - others.sum(axis=1)


# ------------------------------------------------------------------------------------------------ notebook 05

@reference
def ex_5_1(probs, y):
    """Exercise 5.1: log p_y - log(sum of the other probabilities), each clipped at 1e-12: (n, k), (n,) -> (n,)."""
    probs = np.asarray(probs, dtype=float)
    rows = np.arange(len(y))
    rest = probs.copy()
    rest[rows, y] = 0.0
    return np.log(np.clip(probs[rows, y], _EPS, None)) - np.log(np.clip(rest.sum(axis=1), _EPS, None))


@reference
def ex_5_2(x, mean_in, std_in, mean_out, std_out):
    """Exercise 5.2: log N(x; mean_in, std_in^2) - log N(x; mean_out, std_out^2), elementwise -> (n,)."""
    return (-0.5 * ((x - mean_in) / std_in) ** 2 - np.log(std_in)) \
        - (-0.5 * ((x - mean_out) / std_out) ** 2 - np.log(std_out))


@reference
def ex_5_3(scores, is_member, fpr):
    """Exercise 5.3: the highest TPR with FPR <= fpr, every entry of (n,) or (n, T) arrays pooled -> float."""
    return _tpr_at(scores, is_member, fpr)


# ------------------------------------------------------------------------------------------------ notebook 08

@reference
def ex_8_1(predictions, observed, sigma, prior):
    """Exercise 8.1: the MAP candidate per record (the first on a tie): (n, V), (n,), sigma, (V,) -> (n,) int."""
    predictions = np.asarray(predictions, dtype=float)
    gap = predictions - np.asarray(observed, dtype=float).reshape(-1, 1)
    log_posterior = np.log(np.asarray(prior, dtype=float)) - gap * gap / (2.0 * float(sigma) ** 2)
    return np.argmax(log_posterior, axis=1).astype(np.int64)


@reference
def ex_8_2(X, y, noise_xx=None, noise_xy=None):
    """Exercise 8.2: beta solving (XᵀX + noise_xx) beta = Xᵀy + noise_xy (a None adds nothing) -> (d,)."""
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    if noise_xx is None and noise_xy is None:
        return np.linalg.lstsq(X, y, rcond=None)[0]
    gram, moment = X.T @ X, X.T @ y
    if noise_xx is not None:
        gram = gram + np.asarray(noise_xx, dtype=float)
    if noise_xy is not None:
        moment = moment + np.asarray(noise_xy, dtype=float)
    return np.linalg.solve(gram, moment)


@reference
def ex_8_3(cost_grad, x0, lr, max_iter, beta, gamma):
    """Exercise 8.3: Fredrikson et al.'s Algorithm 1 -> (x_best, cost_best), the first of equal lowest costs."""
    x = np.asarray(x0, dtype=float)
    cost, grad = cost_grad(x)
    window = [cost]
    best = (x, cost)
    for _step in range(int(max_iter)):
        x = np.clip(x - lr * np.asarray(grad, dtype=float), 0.0, 1.0)
        cost, grad = cost_grad(x)
        if cost < best[1]:
            best = (x, cost)
        if cost >= max(window[-int(beta):]) or cost <= gamma:
            break
        window.append(cost)
    return best


@reference
def ex_8_4(f, x, h):
    """Exercise 8.4: central differences from one batch of the 2d points x ± h e_i: f ((m, d) -> (m,)) -> (d,)."""
    x = np.asarray(x, dtype=float)
    d = x.shape[0]
    shifts = np.diag(np.full(d, float(h)))
    answers = np.asarray(f(np.vstack([x + shifts, x - shifts])), dtype=float)
    return (answers[:d] - answers[d:]) / (2.0 * h)


# ------------------------------------------------------------------------------------------------ notebook 09

@reference
def ex_9_1(X, p):
    """Exercise 9.1: (w (d,), b) of a logistic regression from d + 1 queries X and its probabilities p."""
    X, p = np.asarray(X, dtype=float), np.asarray(p, dtype=float)
    system = np.column_stack([X, np.ones(len(X))])
    theta = np.linalg.solve(system, np.log(p) - np.log1p(-p))
    return theta[:-1], float(theta[-1])


@reference
def ex_9_2(leaf_of, x, feature, low, high, tol):
    """Exercise 9.2: the split on `feature` between low and high, within tol, by bisection -> float."""
    def leaf(value):
        point = np.array(x, dtype=float)
        point[feature] = value
        return leaf_of(point.reshape(1, -1))[0]

    low, high = float(low), float(high)
    at_high = leaf(high)
    while high - low > tol:
        middle = 0.5 * (low + high)
        if leaf(middle) == at_high:
            high = middle
        else:
            low = middle
    return 0.5 * (low + high)


@reference
def ex_9_3(answers_a, answers_b):
    """Exercise 9.3: the share of inputs with the same label, each side labels (n,) or probabilities (n, k)."""
    def labels(answers):
        answers = np.asarray(answers)
        return answers.argmax(axis=-1) if answers.ndim == 2 else answers
    return float(np.count_nonzero(labels(answers_a) == labels(answers_b)) / len(labels(answers_a)))


@reference
def ex_9_4(X, y, w, b):
    """Exercise 9.4: the least-squares lambda of lambda w = Xᵀ(y - Xw - b), the zero-gradient condition -> float."""
    X, y, w = np.asarray(X, dtype=float), np.asarray(y, dtype=float), np.asarray(w, dtype=float)
    pull = X.T @ (y - X @ w - float(b))
    return float(np.linalg.lstsq(w.reshape(-1, 1), pull, rcond=None)[0][0])


# ------------------------------------------------------------------------------------------------ notebook 10

@reference
def ex_10_1(log_perplexities, secret):
    """Exercise 10.1: 1 + the candidates with a strictly lower log-perplexity than candidate `secret` -> int."""
    scores = np.asarray(log_perplexities, dtype=float)
    return int(np.count_nonzero(scores < scores[int(secret)])) + 1


@reference
def ex_10_2(canary_log_perplexity, reference_log_perplexities):
    """Exercise 10.2: log2(m) - log2(rank), rank = 1 + references strictly below the canary (at most m + 1)."""
    references = np.sort(np.asarray(reference_log_perplexities, dtype=float))
    rank = 1 + int(np.searchsorted(references, float(canary_log_perplexity), side="left"))
    return float(np.log2(len(references)) - np.log2(rank))


@reference
def ex_10_3(genotypes, pool_freqs, reference_freqs):
    """Exercise 10.3: Homer's one-sample t statistic per person: (n, s), (s,), (s,) -> (n,)."""
    genotypes = np.asarray(genotypes, dtype=float)
    d = np.abs(genotypes - np.asarray(reference_freqs, dtype=float)) - np.abs(genotypes - np.asarray(pool_freqs))
    s = d.shape[1]
    return d.mean(axis=1) * np.sqrt(s) / np.sqrt(d.var(axis=1, ddof=1))


@reference
def ex_10_4(traces, n_regions):
    """Exercise 10.4: users per region and hour: (n_users, n_hours) int -> (n_regions, n_hours) int."""
    traces = np.asarray(traces, dtype=np.int64)
    counts = np.zeros((int(n_regions), traces.shape[1]), dtype=np.int64)
    np.add.at(counts, (traces, np.broadcast_to(np.arange(traces.shape[1]), traces.shape)), 1)
    return counts
