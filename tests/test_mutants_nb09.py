"""Mutant table of notebook 09 (see tests/_mutants.py): wrong answers rejected, right ones accepted, by the
notebook's check and by grading."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mutants import check_inputs, mutant_tests  # noqa: E402, F401 (check_inputs: the fixture)

WRONG = {
    "9.1": {
        "log10 odds": """
def steal_logistic(X, p):
    A = np.hstack([X, np.ones((len(X), 1))])
    theta = np.linalg.solve(A, np.log10(p / (1 - p)))
    return theta[:-1], float(theta[-1])
""",
        "the odds of class 0 (signs flipped)": """
def steal_logistic(X, p):
    A = np.hstack([X, np.ones((len(X), 1))])
    theta = np.linalg.solve(A, np.log((1 - p) / p))
    return theta[:-1], float(theta[-1])
""",
        "no column for the bias (b = 0)": """
def steal_logistic(X, p):
    w = np.linalg.lstsq(X, np.log(p / (1 - p)), rcond=None)[0]
    return w, 0.0
""",
        "the bias read from the first entry, the ones appended last": """
def steal_logistic(X, p):
    A = np.hstack([X, np.ones((len(X), 1))])
    theta = np.linalg.solve(A, np.log(p / (1 - p)))
    return theta[1:], float(theta[0])
""",
        "solving for p itself, no logit": """
def steal_logistic(X, p):
    A = np.hstack([X, np.ones((len(X), 1))])
    theta = np.linalg.solve(A, p)
    return theta[:-1], float(theta[-1])
""",
        "log p only (not the odds)": """
def steal_logistic(X, p):
    A = np.hstack([X, np.ones((len(X), 1))])
    theta = np.linalg.solve(A, np.log(p))
    return theta[:-1], float(theta[-1])
""",
        "probabilities clipped to [1e-4, 1 - 1e-4] first": """
def steal_logistic(X, p):
    p = np.clip(p, 1e-4, 1 - 1e-4)
    A = np.hstack([X, np.ones((len(X), 1))])
    theta = np.linalg.solve(A, np.log(p / (1 - p)))
    return theta[:-1], float(theta[-1])
""",
    },
    "9.2": {
        "a linear scan in steps of tol": """
def find_threshold(leaf_of, x, feature, low, high, tol):
    z = np.array(x, dtype=float)
    z[feature] = low
    start = leaf_of(z[None, :])[0]
    value = low
    while value < high:
        value += tol
        z[feature] = value
        if leaf_of(z[None, :])[0] != start:
            return value - tol / 2
    return high
""",
        "the halves swapped": """
def find_threshold(leaf_of, x, feature, low, high, tol):
    def leaf(v):
        z = np.array(x, dtype=float)
        z[feature] = v
        return leaf_of(z[None, :])[0]
    at_low = leaf(low)
    while high - low > tol:
        mid = (low + high) / 2
        if leaf(mid) == at_low:
            high = mid
        else:
            low = mid
    return (low + high) / 2
""",
        "a fixed 12 halvings": """
def find_threshold(leaf_of, x, feature, low, high, tol):
    def leaf(v):
        z = np.array(x, dtype=float)
        z[feature] = v
        return leaf_of(z[None, :])[0]
    at_low = leaf(low)
    for _ in range(12):
        mid = (low + high) / 2
        if leaf(mid) == at_low:
            low = mid
        else:
            high = mid
    return (low + high) / 2
""",
        "the leaf at low asked again at every step": """
def find_threshold(leaf_of, x, feature, low, high, tol):
    def leaf(v):
        z = np.array(x, dtype=float)
        z[feature] = v
        return leaf_of(z[None, :])[0]
    lo0 = low
    while high - low > tol:
        mid = (low + high) / 2
        if leaf(mid) == leaf(lo0):
            low = mid
        else:
            high = mid
    return (low + high) / 2
""",
        "the feature set on x's first coordinate": """
def find_threshold(leaf_of, x, feature, low, high, tol):
    def leaf(v):
        z = np.array(x, dtype=float)
        z[0] = v
        return leaf_of(z[None, :])[0]
    at_low = leaf(low)
    while high - low > tol:
        mid = (low + high) / 2
        if leaf(mid) == at_low:
            low = mid
        else:
            high = mid
    return (low + high) / 2
""",
        "returns the width of the last interval": """
def find_threshold(leaf_of, x, feature, low, high, tol):
    def leaf(v):
        z = np.array(x, dtype=float)
        z[feature] = v
        return leaf_of(z[None, :])[0]
    at_low = leaf(low)
    while high - low > tol:
        mid = (low + high) / 2
        if leaf(mid) == at_low:
            low = mid
        else:
            high = mid
    return high - low
""",
        "stops at 10 tol": """
def find_threshold(leaf_of, x, feature, low, high, tol):
    def leaf(v):
        z = np.array(x, dtype=float)
        z[feature] = v
        return leaf_of(z[None, :])[0]
    at_low = leaf(low)
    while high - low > 10 * tol:
        mid = (low + high) / 2
        if leaf(mid) == at_low:
            low = mid
        else:
            high = mid
    return low
""",
    },
    "9.3": {
        "probabilities compared as numbers": """
def fidelity(answers_a, answers_b):
    a, b = np.asarray(answers_a), np.asarray(answers_b)
    if a.ndim == 2 and b.ndim == 2:
        return float(np.mean(np.all(a == b, axis=1)))
    a = a.argmax(1) if a.ndim == 2 else a
    b = b.argmax(1) if b.ndim == 2 else b
    return float(np.mean(a == b))
""",
        "the kind read from the first argument only": """
def fidelity(answers_a, answers_b):
    if np.ndim(answers_a) == 2:
        return float(np.mean(np.argmax(answers_a, axis=1) == np.argmax(answers_b, axis=1)))
    return float(np.mean(np.asarray(answers_a) == np.asarray(answers_b)))
""",
        "class 1 above 1/2 as the label": """
def fidelity(answers_a, answers_b):
    a = (np.asarray(answers_a)[:, 1] > 0.5).astype(int) if np.ndim(answers_a) == 2 else np.asarray(answers_a)
    b = (np.asarray(answers_b)[:, 1] > 0.5).astype(int) if np.ndim(answers_b) == 2 else np.asarray(answers_b)
    return float(np.mean(a == b))
""",
        "the number of agreements, not the share": """
def fidelity(answers_a, answers_b):
    a = np.argmax(answers_a, axis=1) if np.ndim(answers_a) == 2 else np.asarray(answers_a)
    b = np.argmax(answers_b, axis=1) if np.ndim(answers_b) == 2 else np.asarray(answers_b)
    return float(np.sum(a == b))
""",
        "the share of disagreements": """
def fidelity(answers_a, answers_b):
    a = np.argmax(answers_a, axis=1) if np.ndim(answers_a) == 2 else np.asarray(answers_a)
    b = np.argmax(answers_b, axis=1) if np.ndim(answers_b) == 2 else np.asarray(answers_b)
    return float(np.mean(a != b))
""",
        "argmax along axis 0": """
def fidelity(answers_a, answers_b):
    a = np.argmax(answers_a, axis=0) if np.ndim(answers_a) == 2 else np.asarray(answers_a)
    b = np.argmax(answers_b, axis=0) if np.ndim(answers_b) == 2 else np.asarray(answers_b)
    return float(np.mean(a == b))
""",
    },
    "9.4": {
        "the mean of the per-weight ratios": """
def steal_ridge_lambda(X, y, w, b):
    return float(np.mean(X.T @ (y - X @ w - b) / w))
""",
        "the median of the per-weight ratios": """
def steal_ridge_lambda(X, y, w, b):
    return float(np.median(X.T @ (y - X @ w - b) / w))
""",
        "the first weight's ratio only": """
def steal_ridge_lambda(X, y, w, b):
    g = X.T @ (y - X @ w - b)
    return float(g[0] / w[0])
""",
        "the ratio of the norms": """
def steal_ridge_lambda(X, y, w, b):
    g = X.T @ (y - X @ w - b)
    return float(np.linalg.norm(g) / np.linalg.norm(w))
""",
        "residuals with the sign flipped": """
def steal_ridge_lambda(X, y, w, b):
    g = X.T @ (X @ w + b - y)
    return float(w @ g / (w @ w))
""",
        "the intercept ignored": """
def steal_ridge_lambda(X, y, w, b):
    g = X.T @ (y - X @ w)
    return float(w @ g / (w @ w))
""",
        "the gradient as a mean over records": """
def steal_ridge_lambda(X, y, w, b):
    g = X.T @ (y - X @ w - b) / len(y)
    return float(w @ g / (w @ w))
""",
        "least squares the other way round (g on w regressed as w on g)": """
def steal_ridge_lambda(X, y, w, b):
    g = X.T @ (y - X @ w - b)
    return float(g @ g / (w @ g))
""",
    },
}

RIGHT = {
    "9.1": {
        "lstsq and scipy's logit": """
def steal_logistic(X, p):
    from scipy.special import logit
    A = np.column_stack([X, np.ones(len(X))])
    theta = np.linalg.lstsq(A, logit(p), rcond=None)[0]
    return theta[:-1], float(theta[-1])
""",
        "the inverse matrix, log p - log1p(-p)": """
def steal_logistic(X, p):
    A = np.hstack([np.ones((len(X), 1)), X])
    theta = np.linalg.inv(A) @ (np.log(p) - np.log1p(-p))
    return theta[1:], float(theta[0])
""",
        "differences of queries remove b": """
def steal_logistic(X, p):
    z = np.log(p / (1 - p))
    w = np.linalg.solve(X[1:] - X[0], z[1:] - z[0])
    return w, float(z[0] - X[0] @ w)
""",
    },
    "9.2": {
        "compared with the leaf at high": """
def find_threshold(leaf_of, x, feature, low, high, tol):
    def leaf(v):
        z = np.array(x, dtype=float)
        z[feature] = v
        return leaf_of(z[None, :])[0]
    at_high = leaf(high)
    while high - low > tol:
        mid = 0.5 * (low + high)
        if leaf(mid) == at_high:
            high = mid
        else:
            low = mid
    return 0.5 * (low + high)
""",
        "recursive bisection": """
def find_threshold(leaf_of, x, feature, low, high, tol):
    def leaf(v):
        z = np.array(x, dtype=float)
        z[feature] = v
        return leaf_of(z.reshape(1, -1))[0]
    def search(lo, hi, at_lo):
        if hi - lo <= tol:
            return (lo + hi) / 2
        mid = (lo + hi) / 2
        return search(mid, hi, at_lo) if leaf(mid) == at_lo else search(lo, mid, at_lo)
    return search(low, high, leaf(low))
""",
        "a counted number of halvings, returning low": """
def find_threshold(leaf_of, x, feature, low, high, tol):
    import math
    z = np.array(x, dtype=float)
    z[feature] = low
    at_low = leaf_of(z[None, :])[0]
    for _ in range(max(0, math.ceil(math.log2((high - low) / tol)))):
        mid = (low + high) / 2
        z[feature] = mid
        if leaf_of(z[None, :])[0] == at_low:
            low = mid
        else:
            high = mid
    return float(low)
""",
    },
    "9.3": {
        "a list comprehension": """
def fidelity(answers_a, answers_b):
    def labels(a):
        a = np.asarray(a)
        return [int(np.argmax(row)) for row in a] if a.ndim == 2 else list(a)
    la, lb = labels(answers_a), labels(answers_b)
    return sum(1 for u, v in zip(la, lb) if u == v) / len(la)
""",
        "sklearn's accuracy_score": """
def fidelity(answers_a, answers_b):
    from sklearn.metrics import accuracy_score
    a = np.asarray(answers_a)
    b = np.asarray(answers_b)
    return float(accuracy_score(a.argmax(-1) if a.ndim > 1 else a, b.argmax(-1) if b.ndim > 1 else b))
""",
        "count_nonzero over the length": """
def fidelity(answers_a, answers_b):
    a = np.asarray(answers_a)
    b = np.asarray(answers_b)
    a = a.argmax(axis=1) if a.ndim == 2 else a
    b = b.argmax(axis=1) if b.ndim == 2 else b
    return np.count_nonzero(a == b) / a.shape[0]
""",
    },
    "9.4": {
        "np.linalg.lstsq of a one-column system": """
def steal_ridge_lambda(X, y, w, b):
    g = X.T @ (y - X @ w - b)
    return float(np.linalg.lstsq(w[:, None], g, rcond=None)[0][0])
""",
        "sums in a loop": """
def steal_ridge_lambda(X, y, w, b):
    r = y - X @ w - b
    num = den = 0.0
    for j in range(len(w)):
        num += w[j] * float(X[:, j] @ r)
        den += w[j] * w[j]
    return num / den
""",
        "the full gradient set to zero, minimised over lambda": """
def steal_ridge_lambda(X, y, w, b):
    grad_data = -2 * X.T @ (y - X @ w - b)
    # gradient = grad_data + 2 lambda w; least squares in lambda
    return float(-(grad_data @ (2 * w)) / ((2 * w) @ (2 * w)))
""",
    },
}

test_wrong, test_right, test_wrong_every_draw, test_right_every_draw, test_use_reference = \
    mutant_tests(WRONG, RIGHT, seeds=30)  # every hidden test runs the check's edge cases first, whatever the seed
