"""Checks for notebook 09 (model extraction and hyperparameter stealing)."""

from __future__ import annotations

import math

import numpy as np

from .._reference import blocked
from . import Case, call_counting, call_student, explicit_hints, passed, require, run_cases, skippable
from . import use_reference  # noqa: F401 (a notebook imports it from here, as it does hint)

LOGISTIC = "Exercise 9.1 (steal a logistic regression)"
THRESHOLD = "Exercise 9.2 (find a split by binary search)"
FIDELITY = "Exercise 9.3 (fidelity)"
RIDGE = "Exercise 9.4 (steal ridge's lambda)"

# the references each exercise may not call (the hidden tests block the same ones)
BLOCK_LOGISTIC = ("extraction.solve_binary_logistic", "extraction.solve_softmax")
BLOCK_THRESHOLD = ("extraction.find_threshold",)
BLOCK_FIDELITY = ("extraction.fidelity",)
BLOCK_RIDGE = ("hyperparameters.steal_ridge_lambda", "hyperparameters.lambda_from_gradients")


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _tuple_of_two(exercise, got, what):
    __tracebackhide__ = True
    require(isinstance(got, tuple) and len(got) == 2, exercise, f"expected a tuple {what}, got {type(got).__name__}.",
            f"end with `return {what.strip('()')}`.")


def _logistic_cases():
    """(description, X, w, b) of the known models of Exercise 9.1 (the hidden test runs them too)."""
    X1 = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    rng = np.random.default_rng(9)
    X2 = rng.normal(size=(6, 5))
    X3 = np.array([[0.5, -0.2], [-0.4, 0.3], [0.1, 0.6]])
    return [("3 queries of a 2-feature model", X1, np.array([2.0, -1.0]), 0.5),
            ("6 queries of a 5-feature model", X2, rng.normal(size=5), -1.3),
            ("a confident model (answers within 1e-6 of 0 or 1)", X3, np.array([30.0, -25.0]), 1.0)]


def _logistic_mistake(got, w, b) -> str | None:
    """The hint for a known wrong (w, b), else None."""
    theta = np.append(w, b)
    for wrong, text in [(theta / np.log(10), "the logit is the NATURAL log of the odds (np.log, not np.log10)."),
                        (-theta, "your signs are flipped: the logit is the log of the odds of class 1, p against "
                                 "1 - p, which is positive when p > 1/2."),
                        (np.append(b, w), "the bias came out of the wrong column: return the weight of the "
                                          "column of ones you added as b, the others as w.")]:
        if got.shape == wrong.shape and np.allclose(got, wrong, atol=1e-6):
            return text
    if got.shape == theta.shape and np.allclose(np.sort(got), np.sort(theta), atol=1e-6):
        return ("the right numbers in the wrong places: the bias is the weight of the column of ones you added, "
                "the others are w, in the order of X's columns.")
    return None


@skippable(LOGISTIC)
def check_steal_logistic(steal_logistic, X=None, p=None, w=None, b=None) -> None:
    """Check `steal_logistic(X, p) -> (w, b)` on known models, then on the notebook's API answers (X, p) whose
    model has weights w and bias b."""
    __tracebackhide__ = True
    hint = ("p = σ(w·x + b) is not linear in (w, b), but σ can be undone: the inverse of the sigmoid (the logit) "
            "turns each answer into one LINEAR equation in the d + 1 unknowns, and d + 1 queries give a square "
            "system. The bias is the weight of a constant feature.")
    cases = _logistic_cases()
    for name, Xc, wc, bc in cases:
        with blocked(*BLOCK_LOGISTIC):
            got = call_student(LOGISTIC, steal_logistic, Xc.copy(), _sigmoid(Xc @ wc + bc))
        _tuple_of_two(LOGISTIC, got, "(w, b)")
        w_got = np.ravel(np.asarray(got[0], float))
        require(w_got.shape == wc.shape, LOGISTIC, f"on {name}, `w` has shape {w_got.shape}, expected {wc.shape}.",
                "w has one weight per feature; the bias is returned separately.")
        if not (np.allclose(w_got, wc, atol=1e-6) and abs(float(got[1]) - bc) < 1e-6):
            mistake = _logistic_mistake(np.append(w_got, float(got[1])), wc, bc)
            require(False, LOGISTIC, f"on {name}, the weights or the bias are wrong.", mistake or (
                "keep every answer as it is (no clipping or rounding: near 0 or 1 the logit needs every digit). "
                + hint if "confident" in name else hint))
    if X is not None:
        with blocked(*BLOCK_LOGISTIC):
            got = call_student(LOGISTIC, steal_logistic, np.array(X, float), np.array(p, float))
        _tuple_of_two(LOGISTIC, got, "(w, b)")
        error = max(np.abs(np.ravel(np.asarray(got[0], float)) - w).max(), abs(float(got[1]) - b))
        require(error < 1e-6, LOGISTIC, "right on the small cases, wrong on the breast-cancer API's answers.",
                "some of the API's probabilities are very close to 0 or 1: keep them as they are, in float64.")
    return passed(LOGISTIC, f"{len(cases)} known models{' and the breast-cancer API' if X is not None else ''}")


def _leaf_function(thresholds):
    """A toy tree: the leaf id counts how many thresholds x[feature] exceeds, per feature (feature, t) pairs."""
    def leaf_of(X):
        X = np.atleast_2d(np.asarray(X, float))
        ids = np.zeros(len(X), dtype=np.int64)
        for i, (feature, t) in enumerate(thresholds):
            ids += (X[:, feature] > t).astype(np.int64) << i
        return ids
    return leaf_of


# (description, the tree's (feature, threshold) splits, x, feature, low, high, the true threshold)
_THRESHOLD_CASES = [("one split at 0.3 on feature 0", [(0, 0.3)], np.array([0.0, 0.0]), 0, -1.0, 1.0, 0.3),
                    ("a split at -2.17 on feature 1, another on feature 0", [(0, 0.5), (1, -2.17)],
                     np.array([0.9, 0.0]), 1, -5.0, 3.0, -2.17),
                    ("a split very near the top of the range", [(2, 9.99)], np.zeros(3), 2, 0.0, 10.0, 9.99)]


@skippable(THRESHOLD)
def check_find_threshold(find_threshold, oracle=None, x=None, feature=None, low=None, high=None, truth=None) -> None:
    """Check `find_threshold(leaf_of, x, feature, low, high, tol) -> threshold` on toy trees, then on the notebook's
    tree (`oracle.leaf`, the true threshold `truth`)."""
    __tracebackhide__ = True
    hint = ("keep an interval [lo, hi] with leaf(lo) != leaf(hi); query the middle and keep the half whose ends "
            "still differ; stop when hi - lo <= tol and return its middle.")
    cases = _THRESHOLD_CASES
    for name, thresholds, xc, f, lo, hi, t in cases:
        for tol in (1e-3, 1e-6):
            with blocked(*BLOCK_THRESHOLD):   # the queries are counted where the function runs
                got, queries = call_counting(THRESHOLD, find_threshold, 0, _leaf_function(thresholds), xc.copy(),
                                             f, lo, hi, tol)
            require(np.ndim(got) == 0, THRESHOLD, f"on {name}, expected one number, got shape {np.shape(got)}.",
                    "return the middle of the final interval as a float.")
            require(abs(float(got) - t) <= tol, THRESHOLD,
                    f"on {name} with tol={tol}, your threshold {float(got):.6g} is more than tol from the true one.",
                    hint)
            allowed = math.ceil(math.log2((hi - lo) / tol)) + 4
            require(queries <= allowed, THRESHOLD,
                    f"on {name} with tol={tol}, your function asked {queries} queries; binary search needs about "
                    f"{allowed - 4}.", "halve the interval with each query instead of stepping along it.")
    if oracle is not None:
        with blocked(*BLOCK_THRESHOLD):
            got = call_student(THRESHOLD, find_threshold, oracle.leaf, np.array(x, float), feature, low, high, 1e-4)
        require(abs(float(got) - truth) <= 1e-4, THRESHOLD, "right on the toy trees, wrong on the notebook's tree.",
                "use the arguments you are given (leaf_of, x, feature, low, high, tol).")
    return passed(THRESHOLD, f"{len(cases)} toy trees{' and the breast-cancer tree' if oracle is not None else ''}")


_PA = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.55, 0.45]])
_PB = np.array([[0.6, 0.4], [0.3, 0.7], [0.7, 0.3], [0.1, 0.9]])
_P3 = np.array([[0.3, 0.45, 0.25], [0.4, 0.35, 0.25], [0.5, 0.2, 0.3], [0.2, 0.35, 0.45]])


@skippable(FIDELITY)
def check_fidelity(fidelity, answers_victim=None, answers_copy=None) -> None:
    """Check `fidelity(answers_a, answers_b) -> float` (share of equal labels; answers are labels or probabilities)."""
    __tracebackhide__ = True
    hint = ("turn probability vectors (2-D) into labels with argmax along axis 1 and leave labels (1-D) as they "
            "are; fidelity is the share of inputs where the two labels agree.")
    cases = [Case("two label vectors", (np.array([0, 1, 2, 2]), np.array([0, 1, 1, 2])), 0.75, hint),
             Case("two probability matrices", (_PA, _PB), 0.5,
                  "with probabilities, compare the predicted labels, not the numbers themselves: one label per "
                  "input, the most probable class of its ROW (axis 1)."),
             Case("labels against probabilities", (np.array([0, 1, 1, 1]), _PB), 0.75, hint),
             Case("three classes", (_P3, np.array([1, 0, 2, 2])), 0.75,
                  "with k classes the label is the most probable of the k, not whether one probability is "
                  "above 1/2."),
             Case("identical answers", (_PA, _PA.copy()), 1.0, hint)]
    with blocked(*BLOCK_FIDELITY):
        run_cases(FIDELITY, fidelity, cases)
    if answers_victim is not None:
        with blocked(*BLOCK_FIDELITY):
            got = call_student(FIDELITY, fidelity, answers_victim, answers_copy)
        a, b = (np.asarray(v) for v in (answers_victim, answers_copy))
        want = np.mean((a.argmax(1) if a.ndim == 2 else a) == (b.argmax(1) if b.ndim == 2 else b))
        require(abs(float(got) - want) < 1e-9, FIDELITY, "right on the small cases, wrong on the notebook's copy.",
                hint)
    return passed(FIDELITY)


def _ridge(X, y, lam):
    Xc, yc = X - X.mean(0), y - y.mean()
    w = np.linalg.solve(Xc.T @ Xc + lam * np.eye(X.shape[1]), Xc.T @ yc)
    return w, float(y.mean() - X.mean(0) @ w)


def _ridge_lambda(X, y, w, b):
    """The least-squares λ of the d equations λ w = Xᵀ(y - Xw - b)."""
    pull = X.T @ (y - X @ w - b)
    return float(np.dot(w, pull) / np.dot(w, w))


def _ridge_cases():
    """(description, X, y, w, b) for Exercise 9.4: two exact closed-form fits, then weights and intercept rounded
    (as a model's published parameters are), where the d equations no longer agree (the hidden test runs them)."""
    rng = np.random.default_rng(4)
    out = []
    for name, n, d, lam_c, with_b in [("20 records, 3 features, λ = 2", 20, 3, 2.0, False),
                                      ("50 records, 6 features, λ = 0.1, an intercept", 50, 6, 0.1, True),
                                      ("30 records, 4 features, λ = 5, weights and intercept rounded to 2 decimals",
                                       30, 4, 5.0, True)]:
        Xc = rng.normal(size=(n, d)) + (1.5 if with_b else 0.0)
        yc = Xc @ rng.normal(size=d) + rng.normal(size=n) + (3.0 if with_b else 0.0)
        if with_b:
            wc, bc = _ridge(Xc, yc, lam_c)
        else:
            wc, bc = np.linalg.solve(Xc.T @ Xc + lam_c * np.eye(d), Xc.T @ yc), 0.0
        if "rounded" in name:
            wc, bc = np.round(wc, 2), round(bc, 2)
        out.append((name, Xc, yc, wc, bc))
    return out


@skippable(RIDGE)
def check_steal_ridge_lambda(steal_ridge_lambda, X=None, y=None, w=None, b=None, lam=None) -> None:
    """Check `steal_ridge_lambda(X, y, w, b) -> lambda` on ridge models fit in closed form (then with rounded
    weights), then on the notebook's."""
    __tracebackhide__ = True
    hint = ("at the minimum the gradient in w is 0: that gives d equations, one per weight, in the single unknown λ. "
            "Solve them together by least squares (a line through the origin fitted to d points).")
    cases = _ridge_cases()
    for name, Xc, yc, wc, bc in cases:
        with blocked(*BLOCK_RIDGE):
            got = call_student(RIDGE, steal_ridge_lambda, Xc.copy(), yc.copy(), wc.copy(), bc)
        require(np.ndim(got) == 0, RIDGE, f"on {name}, expected one number, got shape {np.shape(got)}.",
                "λ is a single number: reduce the d equations to one by least squares.")
        got, want = float(got), _ridge_lambda(Xc, yc, wc, bc)
        if abs(got - want) <= 1e-6 * abs(want):
            continue
        pull = Xc.T @ (yc - Xc @ wc - bc)
        known = [(-want, "your λ has the wrong sign: the residuals are the data minus the model's predictions."),
                 (_ridge_lambda(Xc, yc, wc, 0.0), "your λ ignores the intercept: the model's predictions include b."),
                 (want / len(yc), "the objective sums the squared errors over the records: do not divide the "
                                  "gradient by their number."),
                 (float(np.mean(pull / wc)), "a mean of the d per-weight ratios is not least squares: they agree "
                                             "only when the weights are exact. Fit λ to all d equations at once."),
                 (float(np.median(pull / wc)), "a median of the d per-weight ratios is not least squares: they "
                                               "agree only when the weights are exact. Fit λ to all d equations.")]
        mistake = next((text for wrong, text in known if abs(got - wrong) <= 1e-6 * abs(wrong)), None)
        require(False, RIDGE, f"on {name}, your λ = {got:.6g} is wrong.",
                mistake or ("On rounded weights the d equations disagree slightly; least squares weighs them by "
                            "the weights' size. At" + hint[2:] if "rounded" in name else hint))
    if X is not None:
        with blocked(*BLOCK_RIDGE):
            got = call_student(RIDGE, steal_ridge_lambda, np.array(X, float), np.array(y, float), np.array(w), b)
        require(abs(float(got) - lam) <= 1e-6 * lam, RIDGE, "right on the small cases, wrong on the notebook's "
                "ridge model.", "the notebook's labels are integers: compute in floats, and use the intercept "
                "you are given.")
    return passed(RIDGE, f"{len(cases)} closed-form ridge models{' and the notebook one' if X is not None else ''}")


HINTS = {
    "9.1": ("z = np.log(p / (1 - p)) is w·x + b for each query. Append a column of ones to X (np.hstack or "
            "np.column_stack), solve that square system for z with np.linalg.solve, and split the solution: the "
            "last entry is b."),
    "9.2": ("Write a helper that copies x, sets its `feature` to a value and returns leaf_of(z[None, :])[0]. "
            "Remember the leaf at low; while high - low > tol, query the middle: if its leaf is the one at low, "
            "the split is above the middle (move low up), else move high down. Return the middle of [low, high]."),
    "9.3": ("For each argument: if np.ndim(...) == 2, take np.argmax(..., axis=1), else use it as it is. Then "
            "np.mean(labels_a == labels_b), as a float."),
    "9.4": ("r = y - X @ w - b are the residuals and g = X.T @ r; at the minimum g equals λ w, coordinate by "
            "coordinate. The least-squares λ of that is the slope of a line through the origin: the dot product "
            "of w with g divided by the dot product of w with itself."),
}


hint = explicit_hints(HINTS)
