"""Hidden tests of notebook 07 (generative models): the student's functions on inputs drawn at grading time,
compared with mialab's references, which are blocked while the student's code runs."""

from __future__ import annotations

import numpy as np

from . import CheckError
from .hidden import _agree, _call, _fresh_rng

_NB07 = ("generative.precision_at_k", "generative.reconstruction_scores", "generative.monte_carlo_scores",
         "generative.set_scores")


def _shape(exercise: str, got, shape) -> None:
    if np.shape(got) != shape:
        raise CheckError(f"{exercise}: the output has the wrong shape on fresh inputs drawn at grading time.")


def test_precision_at_k(precision_at_k) -> None:
    """Exercise 7.1 on fresh random scores (no ties), k from 1 to n; first, 12 records whose members by rank make
    every count of the wrong records, or the wrong division, give another number."""
    from ..attacks.generative import precision_at_k as reference
    rng = _fresh_rng()
    for draw in range(7):
        n = int(rng.integers(4, 300))
        is_member = rng.random(n) < rng.uniform(0.2, 0.8)
        is_member[:2] = [True, False]
        scores = rng.normal(size=n) + rng.uniform(-1, 2) * is_member
        k = int(is_member.sum()) if rng.random() < 0.5 else int(rng.integers(1, n + 1))
        if draw == 0:  # by rank, highest first: precision 3/4 among the top 4, 2/3, 3/5, 4/7 among the top 3, 5, 7
            n, k, where = 12, 4, rng.permutation(12)
            scores, is_member = np.empty(n), np.empty(n, bool)
            scores[where] = np.sort(rng.normal(size=n))[::-1]
            is_member[where] = np.array([1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 1, 0], bool)
        expected = reference(scores, is_member, k)
        got = _call("Exercise 7.1", precision_at_k, scores.copy(), is_member.copy(), k, block=_NB07)
        if np.ndim(got) != 0:
            raise CheckError("Exercise 7.1: expected a single number (the precision).")
        _agree("Exercise 7.1", got, expected)


def test_reconstruction_score(reconstruction_score) -> None:
    """Exercise 7.2 on fresh random records and reconstructions."""
    from ..attacks.generative import reconstruction_scores as reference
    rng = _fresh_rng()
    for draw in range(6):
        draws, n, d = int(rng.integers(1, 20)), int(rng.integers(1, 100)), int(rng.integers(1, 70))
        if draw == 0:  # several draws, records and dimensions, all different counts
            draws, n, d = 5, int(rng.integers(7, 40)), int(rng.integers(2, 5))
        X = rng.random((n, d))
        recon = np.clip(X[None] + rng.normal(scale=rng.uniform(0.01, 0.5), size=(draws, n, d)), 0, 1)
        expected = reference(X, recon)
        got = _call("Exercise 7.2", reconstruction_score, X.copy(), recon.copy(), block=_NB07)
        _shape("Exercise 7.2", got, (n,))
        _agree("Exercise 7.2", got, expected)


def test_monte_carlo_score(monte_carlo_score) -> None:
    """Exercise 7.3 on fresh random records, samples and radii."""
    from ..attacks.generative import monte_carlo_scores as reference
    rng = _fresh_rng()
    grid = np.array([[i, j] for i in range(-3, 4) for j in range(-3, 4)], dtype=float)   # 49 samples
    for draw in range(6):
        n, m, d = int(rng.integers(1, 80)), int(rng.integers(1, 2000)), int(rng.integers(1, 20))
        X, generated = rng.normal(size=(n, d)), rng.normal(size=(m, d))
        if rng.random() < 0.5:  # some records among the samples, as a memorising generator gives
            generated[: min(n, m)] = X[: min(n, m)] + rng.normal(scale=0.01, size=(min(n, m), d))
        eps = float(rng.uniform(0.1, 2.0) * np.sqrt(d))
        if draw == 0:  # records on a grid of samples: some samples exactly at distance eps
            X = rng.integers(-2, 3, size=(int(rng.integers(3, 10)), 2)).astype(float)
            generated, eps = rng.permutation(grid), float(rng.choice([2.0, 3.0]))
            n = len(X)
        expected = reference(X, generated, eps)
        got = _call("Exercise 7.3", monte_carlo_score, X.copy(), generated.copy(), eps, block=_NB07)
        _shape("Exercise 7.3", got, (n,))
        _agree("Exercise 7.3", got, expected, tol=1e-9)


def test_set_score(set_score) -> None:
    """Exercise 7.4 on fresh random scores and sets of distinct records."""
    from ..attacks.generative import set_scores as reference
    rng = _fresh_rng()
    for draw in range(6):
        n, n_sets, size = int(rng.integers(1, 300)), int(rng.integers(1, 50)), int(rng.integers(1, 20))
        if draw == 0:  # several sets of a few records each
            n, n_sets, size = int(rng.integers(10, 30)), int(rng.integers(4, 9)), 3
        size = min(size, n)
        scores = rng.normal(size=n)
        sets = np.stack([rng.choice(n, size=size, replace=False) for _ in range(n_sets)])   # distinct records
        expected = reference(scores, sets)
        got = _call("Exercise 7.4", set_score, scores.copy(), sets.copy(), block=_NB07)
        _shape("Exercise 7.4", got, (n_sets,))
        _agree("Exercise 7.4", got, expected)
