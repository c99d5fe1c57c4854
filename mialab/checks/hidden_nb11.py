"""Hidden tests for notebook 11: the student's functions on inputs drawn at grading time, against the references
(which are blocked while the student's code runs)."""

from __future__ import annotations

import math

import numpy as np

from .hidden import _agree, _call, _fresh_rng, _quiet


def test_relaxloss_objective(relaxloss_objective) -> None:
    """Exercise 11.1 on fresh logits, both sides of alpha, even and odd epochs."""
    from ..defenses.relaxloss import relaxloss_objective as reference
    rng = _fresh_rng()
    for trial in range(8):
        n, k = int(rng.integers(1, 60)), int(rng.integers(2, 12))
        logits = rng.normal(scale=rng.uniform(0.5, 6), size=(n, k))
        y = rng.integers(k, size=n)
        loss = reference(logits, y, 1e9, 0)                     # -L: the batch is below a huge alpha
        alpha = float(abs(loss)) * float(rng.choice([0.5, 2.0]))
        epoch = int(rng.integers(0, 50))
        expected = reference(logits, y, alpha, epoch)
        got = _call("Exercise 11.1", relaxloss_objective, logits.copy(), y.copy(), alpha, epoch,
                    block=("relaxloss.relaxloss_objective",))
        _agree("Exercise 11.1", got, expected, tol=1e-5)


def test_cap_confidence(cap_confidence) -> None:
    """Exercise 11.2 on fresh probability vectors and caps."""
    from ..defenses.memguard import cap_confidence as reference
    rng = _fresh_rng()
    for _ in range(6):
        n, k = int(rng.integers(1, 80)), int(rng.integers(2, 15))
        logits = rng.normal(scale=rng.uniform(0.5, 5), size=(n, k))
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        cap = float(rng.uniform(1.0 / k + 0.01, 1.0))
        got = _call("Exercise 11.2", cap_confidence, p.copy(), cap, block=("memguard.cap_confidence",))
        _agree("Exercise 11.2", got, reference(p, cap), tol=1e-7)


def test_dp_sgd_step(dp_sgd_step) -> None:
    """Exercise 11.3 on fresh gradients, clipping norms, noise multipliers and noise draws."""
    from ..defenses.dpsgd import dp_sgd_step as reference
    rng = _fresh_rng()
    for trial in range(6):
        B, d = int(rng.integers(1, 40)), int(rng.integers(1, 30))
        grads = rng.normal(scale=rng.uniform(0.1, 5), size=(B, d))
        C = math.inf if trial == 0 else float(rng.uniform(0.05, 3))
        sigma = 0.0 if trial <= 1 else float(rng.uniform(0.1, 3))
        lr = float(rng.uniform(0.01, 2))
        noise = rng.normal(size=d)
        got = _call("Exercise 11.3", dp_sgd_step, grads.copy(), C, sigma, lr, noise.copy(),
                    block=("dpsgd.dp_sgd_step",))
        _agree("Exercise 11.3", got, reference(grads, C, sigma, lr, noise), tol=1e-6)


def test_empirical_epsilon(empirical_epsilon) -> None:
    """Exercise 11.4 on fresh (TPR, FPR, delta)."""
    from ..defenses.dpsgd import empirical_epsilon as reference
    rng = _fresh_rng()
    for _ in range(10):
        tpr, fpr = (float(v) for v in rng.uniform(0.001, 0.999, size=2))
        delta = float(rng.choice([0.0, 1e-5, 0.01]))
        got = _call("Exercise 11.4", empirical_epsilon, tpr, fpr, delta, block=("dpsgd.empirical_epsilon",))
        _agree("Exercise 11.4", got, _quiet(reference, tpr, fpr, delta), tol=1e-7)
