"""Checks for notebook 09 (model extraction and hyperparameter stealing)."""

from __future__ import annotations

import math

import numpy as np

from . import Case, call_counting, call_student, passed, require, run_cases
from .._reference import blocked

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


def check_steal_logistic(steal_logistic, X=None, p=None, w=None, b=None) -> None:
    """Check `steal_logistic(X, p) -> (w, b)` on known models, then on the notebook's API answers (X, p) whose
    model has weights w and bias b."""
    __tracebackhide__ = True
    hint = ("p = σ(w·x + b) turns into a linear equation in (w, b) through the logit, log(p / (1 - p)) = w·x + b. "
            "Append a column of ones to X for b and solve the (d + 1) x (d + 1) system (np.linalg.solve).")
    X1 = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    w1, b1 = np.array([2.0, -1.0]), 0.5
    rng = np.random.default_rng(9)
    X2 = rng.normal(size=(6, 5))
    w2, b2 = rng.normal(size=5), -1.3
    cases = [("3 queries of a 2-feature model", X1, w1, b1), ("6 queries of a 5-feature model", X2, w2, b2)]
    for name, Xc, wc, bc in cases:
        with blocked(*BLOCK_LOGISTIC):
            got = call_student(LOGISTIC, steal_logistic, Xc.copy(), _sigmoid(Xc @ wc + bc))
        _tuple_of_two(LOGISTIC, got, "(w, b)")
        w_got = np.ravel(np.asarray(got[0], float))
        require(w_got.shape == wc.shape, LOGISTIC, f"on {name}, `w` has shape {w_got.shape}, expected {wc.shape}.",
                "w has one weight per feature; the bias is returned separately.")
        require(np.allclose(w_got, wc, atol=1e-6) and abs(float(got[1]) - bc) < 1e-6, LOGISTIC,
                f"on {name}, the weights or the bias are wrong.", hint)
    if X is not None:
        with blocked(*BLOCK_LOGISTIC):
            got = call_student(LOGISTIC, steal_logistic, np.array(X, float), np.array(p, float))
        _tuple_of_two(LOGISTIC, got, "(w, b)")
        error = max(np.abs(np.ravel(np.asarray(got[0], float)) - w).max(), abs(float(got[1]) - b))
        require(error < 1e-6, LOGISTIC, "right on the small cases, wrong on the breast-cancer API's answers.",
                "use the arguments you are given; compute the logit with np.log (not np.log10).")
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


def check_find_threshold(find_threshold, oracle=None, x=None, feature=None, low=None, high=None, truth=None) -> None:
    """Check `find_threshold(leaf_of, x, feature, low, high, tol) -> threshold` on toy trees, then on the notebook's
    tree (`oracle.leaf`, the true threshold `truth`)."""
    __tracebackhide__ = True
    hint = ("keep an interval [lo, hi] with leaf(lo) != leaf(hi); query the middle and keep the half whose ends "
            "still differ; stop when hi - lo <= tol and return its middle.")
    cases = [("one split at 0.3 on feature 0", [(0, 0.3)], np.array([0.0, 0.0]), 0, -1.0, 1.0, 0.3),
             ("a split at -2.17 on feature 1, another on feature 0", [(0, 0.5), (1, -2.17)], np.array([0.9, 0.0]),
              1, -5.0, 3.0, -2.17),
             ("a split very near the top of the range", [(2, 9.99)], np.zeros(3), 2, 0.0, 10.0, 9.99)]
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


def check_fidelity(fidelity, answers_victim=None, answers_copy=None) -> None:
    """Check `fidelity(answers_a, answers_b) -> float` (share of equal labels; answers are labels or probabilities)."""
    __tracebackhide__ = True
    hint = ("turn probability vectors (2-D) into labels with argmax along axis 1 and leave labels (1-D) as they "
            "are; fidelity is the share of inputs where the two labels agree.")
    cases = [Case("two label vectors", (np.array([0, 1, 2, 2]), np.array([0, 1, 1, 2])), 0.75, hint),
             Case("two probability matrices", (_PA, _PB), 0.5,
                  "with probabilities, compare the predicted classes (argmax), not the numbers themselves."),
             Case("labels against probabilities", (np.array([0, 1, 1, 1]), _PB), 0.75, hint),
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


def check_steal_ridge_lambda(steal_ridge_lambda, X=None, y=None, w=None, b=None, lam=None) -> None:
    """Check `steal_ridge_lambda(X, y, w, b) -> lambda` on ridge models fit in closed form, then on the notebook's."""
    __tracebackhide__ = True
    hint = ("at the minimum of ‖y - Xw - b‖² + λ‖w‖² the gradient in w is 0: λ w = Xᵀ(y - Xw - b). "
            "That is d equations in one unknown; the least-squares λ is (w · Xᵀr) / (w · w), with r the residuals.")
    rng = np.random.default_rng(4)
    for name, n, d, lam_c, with_b in [("20 records, 3 features, λ = 2", 20, 3, 2.0, False),
                                      ("50 records, 6 features, λ = 0.1, an intercept", 50, 6, 0.1, True)]:
        Xc = rng.normal(size=(n, d)) + (1.5 if with_b else 0.0)
        yc = Xc @ rng.normal(size=d) + rng.normal(size=n) + (3.0 if with_b else 0.0)
        if with_b:
            wc, bc = _ridge(Xc, yc, lam_c)
        else:
            wc, bc = np.linalg.solve(Xc.T @ Xc + lam_c * np.eye(d), Xc.T @ yc), 0.0
        with blocked(*BLOCK_RIDGE):
            got = call_student(RIDGE, steal_ridge_lambda, Xc.copy(), yc.copy(), wc.copy(), bc)
        require(np.ndim(got) == 0, RIDGE, f"on {name}, expected one number, got shape {np.shape(got)}.",
                "λ is a single number: reduce the d equations to one by least squares.")
        got = float(got)
        require(not abs(got + lam_c) < 1e-6 * lam_c, RIDGE, f"on {name}, your λ has the wrong sign.",
                "the residuals are y - Xw - b (not Xw + b - y).")
        require(not (with_b and abs(got - lam_c) > 1e-6 * lam_c and
                     abs(got - float(np.dot(wc, Xc.T @ (yc - Xc @ wc)) / np.dot(wc, wc))) < 1e-9), RIDGE,
                f"on {name}, your λ ignores the intercept.", "subtract b in the residuals: r = y - X @ w - b.")
        require(abs(got - lam_c) <= 1e-6 * lam_c, RIDGE, f"on {name}, your λ = {got:.4g} is wrong.", hint)
    if X is not None:
        with blocked(*BLOCK_RIDGE):
            got = call_student(RIDGE, steal_ridge_lambda, np.array(X, float), np.array(y, float), np.array(w), b)
        require(abs(float(got) - lam) <= 1e-6 * lam, RIDGE, "right on the small cases, wrong on the notebook's "
                "ridge model.", "use the arguments you are given.")
    return passed(RIDGE, f"2 closed-form ridge models{' and the notebook one' if X is not None else ''}")
