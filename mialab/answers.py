"""Reference answers to the exercises of notebooks 00-13, for a student stuck on one: the ungraded way past.

`mialab.checks.use_reference("2.3")` returns `ex_2_3`, with the signature of the exercise's function. The notebook
check, given it, says the exercise was skipped and lets the notebook go on; the hidden test blocks `answers.ex_2_3`
while it grades exercise 2.3 (and the notebook checks block it too), so a skipped exercise scores 0 while a later
exercise that calls it (1.4 calls 1.1 and 1.3, 4.2 calls 4.1) is graded on its own code.

Each answer is plain NumPy (2.2 and 2.3 use the package functions the exercise allows), so no other exercise's
block can stop it. Taught in notebooks 00-13, in each exercise's "Still stuck?" line.
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


@reference
def ex_3_4(pair_scores, is_member, shadows, targets):
    """Exercise 3.4: {(shadow family, target family): scores (n,)}, is_member (n,), the row and column families ->
    (len(shadows), len(targets)): entry [i, j] the AUC of pair_scores[(shadows[i], targets[j])] (ties count 1/2)."""
    is_member = np.asarray(is_member, bool)
    table = np.zeros((len(shadows), len(targets)))
    for i, shadow in enumerate(shadows):
        for j, target in enumerate(targets):
            scores = np.asarray(pair_scores[(shadow, target)], float)
            above = scores[is_member][:, None] - scores[~is_member][None, :]
            table[i, j] = np.mean((above > 0) + 0.5 * (above == 0))
    return table


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


@reference
def ex_5_4(label_of, x, y, x_other, tol):
    """Exercise 5.4: the point labelled otherwise on the segment x -> x_other, within tol of where the label leaves
    y, by bisection -> (d,)."""
    x, x_other = np.asarray(x, dtype=float), np.asarray(x_other, dtype=float)
    length = float(np.linalg.norm(x_other - x))
    inside, outside = 0.0, 1.0                    # fractions of the way: labelled y, labelled otherwise
    while (outside - inside) * length > tol:
        half = 0.5 * (inside + outside)
        if label_of((x + half * (x_other - x)).reshape(1, -1))[0] == y:
            inside = half
        else:
            outside = half
    return x + outside * (x_other - x)


# ------------------------------------------------------------------------------------------------ notebook 06

@reference
def ex_6_1(probs, y, hidden):
    """Exercise 6.1: ||p - e_y|| * ||h|| per record: (n, k), (n,), (n, m) -> (n,)."""
    probs, hidden = np.asarray(probs, dtype=float), np.asarray(hidden, dtype=float)
    error = probs - np.eye(probs.shape[1])[np.asarray(y)]
    return np.sqrt(np.sum(error ** 2, axis=1)) * np.sqrt(np.sum(hidden ** 2, axis=1))


@reference
def ex_6_2(losses_before, losses_after):
    """Exercise 6.2: the mean over rounds of log(before) - log(after), each clipped at 1e-12: (r, n), (r, n) -> (n,)."""
    before = np.log(np.maximum(np.asarray(losses_before, dtype=float), _EPS))
    after = np.log(np.maximum(np.asarray(losses_after, dtype=float), _EPS))
    return np.mean(before - after, axis=0)


@reference
def ex_6_3(gradients):
    """Exercise 6.3: sum over records of g_i / ||g_i||, zero rows adding nothing: (n, d) -> (d,)."""
    gradients = np.asarray(gradients, dtype=float)
    norms = np.sqrt(np.sum(gradients ** 2, axis=1))
    nonzero = norms > 0
    return np.sum(gradients[nonzero] / norms[nonzero, None], axis=0) + np.zeros(gradients.shape[1])


@reference
def ex_6_4(update, theta):
    """Exercise 6.4: the floor(theta * d) entries largest in |value| kept (ties: the earlier), the rest 0 -> (d,)."""
    update = np.asarray(update, dtype=float)
    k = int(np.floor(theta * len(update) + 1e-9))
    order = np.lexsort((np.arange(len(update)), -np.abs(update)))   # by |value| down, then by position
    kept = np.zeros_like(update)
    kept[order[:k]] = update[order[:k]]
    return kept


# ------------------------------------------------------------------------------------------------ notebook 07

@reference
def ex_7_1(scores, is_member, k):
    """Exercise 7.1: the share of members among the k highest-scored records: (n,), (n,) bool, int -> float."""
    scores, is_member = np.asarray(scores, dtype=float), np.asarray(is_member, dtype=bool)
    order = np.lexsort((np.arange(len(scores)), -scores))
    return float(np.sum(is_member[order[:k]]) / k)


@reference
def ex_7_2(X, reconstructions):
    """Exercise 7.2: minus the mean over the draws of ||reconstruction - record||: (n, d), (draws, n, d) -> (n,)."""
    X, reconstructions = np.asarray(X, dtype=float), np.asarray(reconstructions, dtype=float)
    return -np.mean(np.sqrt(np.sum((reconstructions - X[None]) ** 2, axis=2)), axis=0)


@reference
def ex_7_3(X, generated, eps):
    """Exercise 7.3: the share of generated samples within distance eps of each record: (n, d), (m, d) -> (n,)."""
    from scipy.spatial.distance import cdist
    return np.mean(cdist(np.asarray(X, dtype=float), np.asarray(generated, dtype=float)) <= eps, axis=1)


@reference
def ex_7_4(scores, sets):
    """Exercise 7.4: the mean record score of each set: (n,), (n_sets, set_size) int -> (n_sets,)."""
    return np.mean(np.asarray(scores, dtype=float)[np.asarray(sets)], axis=1)


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


@reference
def ex_10_5(target, study_means, reference_means, reference_std, study_size):
    """Exercise 10.5: the log-likelihood ratio of the published means, in the study vs not, summed over the features:
    (n, s), (s,), (s,), (s,), N -> (n,)."""
    n = int(study_size)
    mu, sd = np.asarray(reference_means, dtype=float), np.asarray(reference_std, dtype=float)
    z = (np.asarray(target, dtype=float) - mu) / sd
    d = (np.asarray(study_means, dtype=float) - mu) / sd
    return (0.5 * np.log(n / (n - 1)) + (2 * n * d * z - z ** 2 - n * d ** 2) / (2 * (n - 1))).sum(axis=1)


# ------------------------------------------------------------------------------------------------ notebook 11

def _log_softmax(logits):
    logits = np.asarray(logits, dtype=float)
    z = logits - logits.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


@reference
def ex_11_1(logits, y, alpha, epoch):
    """Exercise 11.1: the RelaxLoss objective on one batch: logits (B, k), y (B,), alpha, epoch -> float."""
    log_p = _log_softmax(logits)
    rows, k = np.arange(len(y)), log_p.shape[1]
    loss = float(-log_p[rows, y].mean())
    if loss >= alpha:
        return loss
    if epoch % 2 == 0:
        return -loss
    p_y = np.exp(log_p[rows, y])
    soft = np.tile(((1 - p_y) / (k - 1))[:, None], (1, k))
    soft[rows, y] = p_y
    return float(-(soft * log_p).sum(axis=1).mean())


@reference
def ex_11_2(probs, cap):
    """Exercise 11.2: rows whose max exceeds cap mixed with the uniform vector until their max is cap: (n, k)."""
    probs = np.asarray(probs, dtype=float)
    k = probs.shape[1]
    m = probs.max(axis=1, keepdims=True)
    t = np.where(m > cap, (m - cap) / np.where(m > cap, m - 1 / k, 1.0), 0.0)
    return (1 - t) * probs + t / k


@reference
def ex_11_3(per_example_grads, max_grad_norm, noise_multiplier, lr, noise):
    """Exercise 11.3: one DP-SGD update (d,) from per-example gradients (B, d), C, sigma, lr and noise (d,)."""
    grads = np.asarray(per_example_grads, dtype=float)
    norms = np.linalg.norm(grads, axis=1)
    scale = np.ones_like(norms)
    over = norms > max_grad_norm
    scale[over] = max_grad_norm / norms[over]
    total = (grads * scale[:, None]).sum(axis=0)
    if noise_multiplier != 0:
        total = total + noise_multiplier * max_grad_norm * np.asarray(noise, dtype=float)
    return -lr * total / len(grads)


@reference
def ex_11_4(tpr, fpr, delta):
    """Exercise 11.4: the empirical epsilon max(0, ln((tpr - delta) / fpr), ln((1 - delta - fpr) / (1 - tpr)))."""
    import math
    terms = [0.0]
    for top, bottom in ((tpr - delta, fpr), (1 - delta - fpr, 1 - tpr)):
        if top > 0:
            terms.append(math.inf if bottom == 0 else math.log(top / bottom))
    return max(terms)


@reference
def ex_11_5(leakage, k):
    """Exercise 11.5: the indices (k,) of the k records with the highest leakage, the most exposed first; ties: the
    lower index first."""
    leakage = np.asarray(leakage, dtype=float)
    order = sorted(range(len(leakage)), key=lambda i: (-leakage[i], i))
    return np.array(order[:k], dtype=np.int64)


# ------------------------------------------------------------------------------------------------ notebook 12

def _epsilon_bound(tp, n1, fp, n0, delta):
    import math

    from scipy import stats
    low = float(stats.beta.ppf(0.025, tp, n1 - tp + 1)) if tp > 0 else 0.0
    high = float(stats.beta.ppf(0.975, fp + 1, n0 - fp)) if fp < n0 else 1.0
    if low <= delta:
        return 0.0
    return max(0.0, math.log((low - delta) / high))


@reference
def ex_12_1(tp, n_members, fp, n_nonmembers, delta):
    """Exercise 12.1: the 95% Clopper-Pearson lower bound on epsilon from an attack's counts -> float >= 0."""
    return _epsilon_bound(int(tp), int(n_members), int(fp), int(n_nonmembers), float(delta))


@reference
def ex_12_2(scores, is_member, delta):
    """Exercise 12.2: {attack: scores (n,)}, is_member (n,) bool, delta -> {attack: [AUC, TPR@1%, eps@1%, TPR@0.1%,
    eps@0.1%]}, at each FPR the highest TPR (and among equal TPRs the lowest FPR) of the thresholds allowed."""
    from scipy import stats
    is_member = np.ravel(is_member).astype(bool)
    table = {}
    for name, values in scores.items():
        values = np.ravel(values).astype(float)
        tp, fp, n1, n0 = _counts_at_or_above(values, is_member)
        ranks = stats.rankdata(values)                      # ties share their mean rank: they count 1/2
        row = [float((ranks[is_member].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))]
        tp, fp = np.append(tp, 0), np.append(fp, 0)       # and the threshold above every score
        for at in (0.01, 0.001):
            ok = fp <= np.floor(at * n0 + 1e-9)
            best_tp = tp[ok].max()
            best_fp = fp[ok & (tp == best_tp)].min()
            row += [best_tp / n1, _epsilon_bound(int(best_tp), n1, int(best_fp), n0, delta)]
        table[name] = row
    return table


@reference
def ex_12_3(evidence):
    """Exercise 12.3: the evidence dict -> the variant, the first test that holds of: a label API, non-member accuracy
    below 0.8x the references', weight norm below 0.65x, member confidence below 0.9x; else "none"."""
    def ratio(key):
        return evidence[key] / evidence["reference_" + ("acc" if key == "nonmember_acc" else key)]
    if evidence["api"] == "label":
        return "label-only"
    for key, factor, name in (("nonmember_acc", 0.8, "DP-SGD"), ("weight_norm", 0.65, "L2"),
                              ("member_confidence", 0.9, "distillation")):
        if ratio(key) < factor:
            return name
    return "none"


# ------------------------------------------------------------------------------------------------ notebook 13

@reference
def ex_13_1(probs, next_chars, bins):
    """Exercise 13.1: the share of a user's characters whose rank (1 + the characters strictly more likely) falls in
    each bin of `bins` (np.histogram's edges): probs (n, V), next_chars (n,) -> (len(bins) - 1,)."""
    probs = np.asarray(probs, dtype=float)
    written = probs[np.arange(len(probs)), np.asarray(next_chars, dtype=np.int64)]
    ranks = np.count_nonzero(probs > written[:, None], axis=1) + 1
    counts, _ = np.histogram(ranks, bins=np.asarray(bins, dtype=float))
    return counts / len(ranks)
