"""Hidden tests of notebook 09 (model extraction and hyperparameter stealing), on inputs drawn at grading time."""

from __future__ import annotations

import numpy as np

from . import CheckError
from .hidden import _agree, _call, _call_counting, _fresh_rng
from .nb09 import (_P3, _PA, _PB, BLOCK_FIDELITY, BLOCK_LOGISTIC, BLOCK_RIDGE, BLOCK_THRESHOLD, _THRESHOLD_CASES,
                   _leaf_function, _logistic_cases, _ridge_cases, _ridge_lambda)


def test_steal_logistic(steal_logistic) -> None:
    """Exercise 9.1 on the check's known models (one confident, answers within 1e-6 of 0 or 1), then fresh random
    logistic models and d + 1 queries."""
    rng = _fresh_rng()
    models = [(X, w, b) for _, X, w, b in _logistic_cases()]
    for _ in range(5):
        d = int(rng.integers(1, 40))
        w, b = rng.normal(scale=rng.uniform(0.5, 2.0) / np.sqrt(d), size=d), float(rng.normal())
        X = rng.normal(size=(d + 1, d))
        while np.linalg.cond(np.hstack([X, np.ones((d + 1, 1))])) > 1e3:   # a well-posed system: fair to every solver
            X = rng.normal(size=(d + 1, d))
        models.append((X, w, b))
    for X, w, b in models:
        d = len(w)
        p = 1.0 / (1.0 + np.exp(-(X @ w + b)))
        got = _call("Exercise 9.1", steal_logistic, X.copy(), p.copy(), block=BLOCK_LOGISTIC)
        if not (isinstance(got, tuple) and len(got) == 2) or np.size(got[0]) != d:
            raise CheckError("Exercise 9.1: expected a tuple (w (d,), b) on fresh inputs drawn at grading time.")
        _agree("Exercise 9.1", np.append(np.ravel(np.asarray(got[0], float)), float(got[1])), np.append(w, b), tol=1e-5)


def test_find_threshold(find_threshold) -> None:
    """Exercise 9.2 on the check's toy trees at tol 1e-3 and 1e-6, then fresh toy trees: the answer must lie within
    tol of the true split, with few queries."""
    rng = _fresh_rng()
    trees = [(_leaf_function(splits), x, feature, low, high, tol, truth)  # a scan stops at the first, costly no more
             for tol in (1e-3, 1e-6) for _, splits, x, feature, low, high, truth in _THRESHOLD_CASES]
    for _ in range(5):
        d = int(rng.integers(1, 5))
        feature = int(rng.integers(d))
        low, high = sorted(rng.uniform(-10, 10, size=2))
        truth = float(rng.uniform(low + 0.01 * (high - low), high - 0.01 * (high - low)))
        others = [(int(f), float(rng.normal())) for f in rng.integers(d, size=int(rng.integers(0, 3))) if f != feature]
        x = rng.normal(size=d)
        tol = float(rng.choice([1e-2, 1e-4, 1e-6]))
        trees.append((_leaf_function([(feature, truth)] + others), x, feature, float(low), float(high), tol, truth))
    for leaf_of, x, feature, low, high, tol, truth in trees:
        got, queries = _call_counting("Exercise 9.2", find_threshold, 0, leaf_of, x.copy(), feature, low, high, tol,
                                      block=BLOCK_THRESHOLD)
        if np.ndim(got) != 0:
            raise CheckError("Exercise 9.2: expected one number on fresh inputs drawn at grading time.")
        _agree("Exercise 9.2", got, truth, tol=tol)
        if queries > int(np.ceil(np.log2((high - low) / tol))) + 4:
            raise CheckError("Exercise 9.2: your function asks far more queries than a binary search needs.")


def test_fidelity(fidelity) -> None:
    """Exercise 9.3 on the check's cases (probabilities against probabilities, labels against probabilities, three
    classes), then fresh random labels and probability vectors."""
    rng = _fresh_rng()
    fixed = [(_PA, _PB, 0.5), (np.array([0, 1, 1, 1]), _PB, 0.75),   # two kinds of answers, either side
             (_P3, np.array([1, 0, 2, 2]), 0.75)]                     # three classes: the most probable one
    for a, b, want in fixed:
        _agree("Exercise 9.3", _call("Exercise 9.3", fidelity, a.copy(), b.copy(), block=BLOCK_FIDELITY), want)
    for _ in range(6):
        n, k = int(rng.integers(1, 300)), int(rng.integers(2, 12))
        answers = []
        for _side in range(2):
            if rng.random() < 0.5:
                answers.append(rng.integers(k, size=n))
            else:
                p = rng.random((n, k))
                answers.append(p / p.sum(1, keepdims=True))
        a, b = answers
        want = np.mean((a.argmax(1) if a.ndim == 2 else a) == (b.argmax(1) if b.ndim == 2 else b))
        _agree("Exercise 9.3", _call("Exercise 9.3", fidelity, a.copy(), b.copy(), block=BLOCK_FIDELITY), want)


def test_steal_ridge_lambda(steal_ridge_lambda) -> None:
    """Exercise 9.4 on the check's ridge models (one with rounded weights), then fresh ridge models fit in closed
    form, each also with its weights perturbed by up to 2% (where the d equations disagree: only least squares is
    right)."""
    rng = _fresh_rng()
    cases = [(X, y, w, b) for _, X, y, w, b in _ridge_cases()]
    for _ in range(4):
        n, d = int(rng.integers(10, 200)), int(rng.integers(1, 20))
        lam = float(10 ** rng.uniform(-2, 2))
        X = rng.normal(size=(n, d)) + rng.normal(size=d)
        y = X @ rng.normal(size=d) + rng.normal(size=n) + rng.normal()
        Xc, yc = X - X.mean(0), y - y.mean()
        w = np.linalg.solve(Xc.T @ Xc + lam * np.eye(d), Xc.T @ yc)
        b = float(y.mean() - X.mean(0) @ w)
        cases += [(X, y, w, b), (X, y, w * (1 + rng.uniform(-0.02, 0.02, size=d)), b)]
    for X, y, w, b in cases:
        got = _call("Exercise 9.4", steal_ridge_lambda, X.copy(), y.copy(), w.copy(), b, block=BLOCK_RIDGE)
        if np.ndim(got) != 0:
            raise CheckError("Exercise 9.4: expected one number on fresh inputs drawn at grading time.")
        _agree("Exercise 9.4", float(got) / _ridge_lambda(X, y, w, b), 1.0, tol=1e-6)
