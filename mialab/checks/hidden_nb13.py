"""Hidden tests for notebook 13 (auditing data provenance in a text model): fresh random inputs at grading time."""

from __future__ import annotations

import numpy as np

from . import CheckError
from .hidden import _agree, _call, _fresh_rng


def test_rank_histogram(rank_histogram) -> None:
    """Exercise 13.1 on the check's tied and top-k case and its rank on the last edge, then fresh random answers: full
    probability vectors, rounded ones (ties), top-k ones (zeros tied below the top k), with the course's bins or
    fresh random edges ending at the largest possible rank."""
    from ..attacks.provenance import RANK_BINS, rank_histogram as reference
    from .nb13 import _BINS, _LAST_EDGE_BINS, _LAST_EDGE_CHARS, _PROBS
    rng = _fresh_rng()
    cases = [(_PROBS, np.array([2, 1, 0, 0]), _BINS), (_PROBS, _LAST_EDGE_CHARS, _LAST_EDGE_BINS)]
    for i in range(6):
        n, vocab = int(rng.integers(1, 400)), int(rng.integers(3, 60))
        probs = rng.dirichlet(np.full(vocab, rng.uniform(0.1, 2.0)), size=n)
        if i % 3 == 1:  # a rounded answer: ties
            probs = np.round(probs, 1)
        elif i % 3 == 2:  # a top-k answer: every character outside the top k at 0
            k = int(rng.integers(1, vocab))
            cut = np.sort(probs, axis=1)[:, vocab - k][:, None]
            probs = np.where(probs >= cut, probs, 0.0)
        next_chars = rng.integers(vocab, size=n)
        if i % 2 == 0:
            bins = np.array([edge for edge in RANK_BINS if edge <= vocab] + [vocab + 1])
        else:
            bins = np.unique(np.concatenate([[1], rng.integers(2, vocab, size=int(rng.integers(1, 6))),
                                             [vocab]]))   # the last edge a rank can reach: the last bin is closed
        cases.append((probs, next_chars, bins))
    for probs, next_chars, bins in cases:
        got = _call("Exercise 13.1", rank_histogram, probs.copy(), next_chars.copy(), bins.copy(),
                    block=("provenance.next_char_ranks", "provenance.rank_histogram"))
        if np.shape(got) != (len(bins) - 1,):
            raise CheckError("Exercise 13.1: the output has the wrong shape on fresh inputs drawn at grading time.")
        _agree("Exercise 13.1", got, reference(probs, next_chars, bins), tol=1e-9)
