"""Hidden tests for notebook 11: the student's functions on inputs drawn at grading time, against the references
(which are blocked while the student's code runs). Each draw also holds the edge cases a plausible wrong answer
trips on (a loss exactly at alpha, huge logits, rows on both sides of the cap, gradients on both sides of the
clipping norm, zero denominators), so such an answer fails on every draw, not by luck."""

from __future__ import annotations

import math

import numpy as np

from .hidden import _agree, _call, _fresh_rng, _quiet


def test_relaxloss_objective(relaxloss_objective) -> None:
    """Exercise 11.1 on fresh logits: each branch (above alpha; below it on an even and on an odd epoch), a loss
    exactly at alpha, and logits large enough to overflow np.exp."""
    from ..defenses.relaxloss import relaxloss_objective as reference
    rng = _fresh_rng()
    draws = []
    for trial in range(9):
        n, k = int(rng.integers(2, 60)), int(rng.integers(2, 12))
        scale = 1000.0 if trial == 8 else rng.uniform(0.5, 6)        # the last: a certain model's logits
        logits = rng.normal(scale=scale, size=(n, k))
        y = rng.integers(k, size=n)
        loss = float(abs(reference(logits, y, 1e9, 0)))              # L: the batch is below a huge alpha
        branch = trial % 3                                           # above alpha, below and even, below and odd
        alpha = 0.5 * loss if branch == 0 else 2.0 * loss + 1e-3
        epoch = int(rng.integers(0, 25)) * 2 + (branch == 2 or (branch == 0 and trial % 2))
        draws.append((logits, y, alpha, epoch))
    k = int(rng.choice([2, 4, 8]))                                   # L = ln k exactly: uniform logits
    draws.append((np.zeros((2, k)), rng.integers(k, size=2), math.log(k), 2 * int(rng.integers(0, 25))))
    for logits, y, alpha, epoch in draws:
        expected = reference(logits, y, alpha, epoch)
        got = _call("Exercise 11.1", relaxloss_objective, logits.copy(), y.copy(), alpha, epoch,
                    block=("relaxloss.relaxloss_objective",))
        _agree("Exercise 11.1", got, expected, tol=1e-5)


def test_cap_confidence(cap_confidence) -> None:
    """Exercise 11.2 on fresh probability vectors and caps; the first draw's cap lies between its rows' maxima (rows
    on both sides), with more rows than classes."""
    from ..defenses.memguard import cap_confidence as reference
    rng = _fresh_rng()
    for trial in range(6):
        k = int(rng.integers(2, 15))
        n = int(rng.integers(k + 2, 80)) if trial == 0 else int(rng.integers(1, 80))
        logits = rng.normal(scale=rng.uniform(0.5, 5), size=(n, k))
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        if trial == 0:
            p[0] = np.linspace(1, 3, k) / np.linspace(1, 3, k).sum()   # unequal small entries, a low maximum
            p[1] = np.r_[0.9, np.linspace(1, 2, k - 1) / np.linspace(1, 2, k - 1).sum() * 0.1]
            cap = float(rng.uniform(p[0].max(), 0.9))                  # row 0 below the cap, row 1 above it
        else:
            cap = float(rng.uniform(1.0 / k + 0.01, 1.0))
        got = _call("Exercise 11.2", cap_confidence, p.copy(), cap, block=("memguard.cap_confidence",))
        _agree("Exercise 11.2", got, reference(p, cap), tol=1e-7)


def test_dp_sgd_step(dp_sgd_step) -> None:
    """Exercise 11.3 on fresh gradients, clipping norms, noise multipliers and noise draws: no clipping and no noise,
    a clipping norm between the rows' norms (some clipped, some not), noise over a batch of several."""
    from ..defenses.dpsgd import dp_sgd_step as reference
    rng = _fresh_rng()
    for trial in range(6):
        B, d = int(rng.integers(3 if trial <= 2 else 1, 40)), int(rng.integers(1, 30))
        grads = rng.normal(scale=rng.uniform(0.1, 5), size=(B, d)) * rng.uniform(0.2, 3, size=(B, 1))
        norms = np.sort(np.linalg.norm(grads, axis=1))
        if trial == 0:
            C = math.inf
        elif trial <= 2:                                             # some rows clipped, some not
            C = float(rng.uniform(norms[0], norms[-1]))
        else:
            C = float(rng.uniform(0.05, 3))
        sigma = 0.0 if trial <= 1 else float(rng.uniform(0.1, 3))
        lr = float(rng.uniform(0.01, 2))
        noise = rng.normal(size=d)
        got = _call("Exercise 11.3", dp_sgd_step, grads.copy(), C, sigma, lr, noise.copy(),
                    block=("dpsgd.dp_sgd_step",))
        _agree("Exercise 11.3", got, reference(grads, C, sigma, lr, noise), tol=1e-6)


def test_empirical_epsilon(empirical_epsilon) -> None:
    """Exercise 11.4 on fresh (TPR, FPR, delta): each term winning in turn, with and without delta, an attack worse
    than chance, and the edges (a zero FPR, a TPR of 1, a numerator of 0 or below)."""
    from ..defenses.dpsgd import empirical_epsilon as reference
    rng = _fresh_rng()
    draws = []
    for _ in range(10):
        tpr, fpr = (float(v) for v in rng.uniform(0.001, 0.999, size=2))
        draws.append((tpr, fpr, float(rng.choice([0.0, 1e-5, 0.01]))))
    low, high = float(rng.uniform(0.01, 0.2)), float(rng.uniform(0.5, 0.95))
    delta = float(rng.uniform(0.001, 0.005))
    draws += [(high, low, delta),                      # the TPR side wins, delta counts
              (float(rng.uniform(0.99, 0.999)), high, delta),   # the false-negative side wins, delta counts
              (low, high, 0.0),                        # worse than chance: 0
              (low, 0.0, 0.0), (1.0, low, 0.0),        # a zero denominator: inf
              (0.0, 0.0, 0.0),                         # no positive numerator over a zero denominator: 0
              (delta, low / 10, delta), (delta / 2, 0.0, delta)]   # a TPR at or below delta
    for tpr, fpr, delta in draws:
        got = _call("Exercise 11.4", empirical_epsilon, tpr, fpr, delta, block=("dpsgd.empirical_epsilon",))
        _agree("Exercise 11.4", got, _quiet(reference, tpr, fpr, delta), tol=1e-7)


def test_records_to_remove(records_to_remove) -> None:
    """Exercise 11.5 on fresh leakage arrays: ties straddling the cut (rounded values), negative values, k from 0 to
    n, all records tied."""
    from ..defenses.outliers import flag_exposed as reference
    rng = _fresh_rng()
    draws = []
    for trial in range(8):
        n = int(rng.integers(5, 400))
        leakage = np.round(rng.normal(loc=rng.uniform(-2, 2), size=n), int(rng.integers(0, 3)))   # many ties
        k = int(rng.integers(1, n + 1))
        if trial == 0:                                   # a tie at the cut: the k-th and (k+1)-th records equal
            order = np.argsort(-leakage, kind="stable")
            k = int(rng.integers(1, n - 1))
            leakage[order[k]] = leakage[order[k - 1]]
        draws.append((leakage, k))
    n = int(rng.integers(5, 50))
    draws += [(np.full(n, float(rng.normal())), int(rng.integers(1, n))),          # every record tied
              (-np.abs(rng.normal(size=n)) - 1, int(rng.integers(1, n))),          # all negative
              (rng.normal(size=n), 0), (rng.normal(size=n), n)]                     # nothing, everything
    for leakage, k in draws:
        expected = _quiet(reference, leakage, k)
        got = _call("Exercise 11.5", records_to_remove, leakage.copy(), k,
                    block=("outliers.flag_exposed", "outliers.kept_indices"))
        _agree("Exercise 11.5", got, expected, tol=0)
