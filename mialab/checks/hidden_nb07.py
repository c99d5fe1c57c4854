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
    """Exercise 7.1 on fresh random scores (no ties), k from 1 to n."""
    from ..attacks.generative import precision_at_k as reference
    rng = _fresh_rng()
    for _ in range(6):
        n = int(rng.integers(4, 300))
        is_member = rng.random(n) < rng.uniform(0.2, 0.8)
        is_member[:2] = [True, False]
        scores = rng.normal(size=n) + rng.uniform(-1, 2) * is_member
        k = int(is_member.sum()) if rng.random() < 0.5 else int(rng.integers(1, n + 1))
        expected = reference(scores, is_member, k)
        got = _call("Exercise 7.1", precision_at_k, scores.copy(), is_member.copy(), k, block=_NB07)
        if np.ndim(got) != 0:
            raise CheckError("Exercise 7.1: expected a single number (the precision).")
        _agree("Exercise 7.1", got, expected)


def test_reconstruction_score(reconstruction_score) -> None:
    """Exercise 7.2 on fresh random records and reconstructions."""
    from ..attacks.generative import reconstruction_scores as reference
    rng = _fresh_rng()
    for _ in range(5):
        draws, n, d = int(rng.integers(1, 20)), int(rng.integers(1, 100)), int(rng.integers(1, 70))
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
    for _ in range(5):
        n, m, d = int(rng.integers(1, 80)), int(rng.integers(1, 2000)), int(rng.integers(1, 20))
        X, generated = rng.normal(size=(n, d)), rng.normal(size=(m, d))
        if rng.random() < 0.5:  # some records among the samples, as a memorising generator gives
            generated[: min(n, m)] = X[: min(n, m)] + rng.normal(scale=0.01, size=(min(n, m), d))
        eps = float(rng.uniform(0.1, 2.0) * np.sqrt(d))
        expected = reference(X, generated, eps)
        got = _call("Exercise 7.3", monte_carlo_score, X.copy(), generated.copy(), eps, block=_NB07)
        _shape("Exercise 7.3", got, (n,))
        _agree("Exercise 7.3", got, expected, tol=1e-9)


def test_set_score(set_score) -> None:
    """Exercise 7.4 on fresh random scores and sets."""
    from ..attacks.generative import set_scores as reference
    rng = _fresh_rng()
    for _ in range(5):
        n, n_sets, size = int(rng.integers(1, 300)), int(rng.integers(1, 50)), int(rng.integers(1, 20))
        scores = rng.normal(size=n)
        sets = rng.integers(n, size=(n_sets, size))
        expected = reference(scores, sets)
        got = _call("Exercise 7.4", set_score, scores.copy(), sets.copy(), block=_NB07)
        _shape("Exercise 7.4", got, (n_sets,))
        _agree("Exercise 7.4", got, expected)
