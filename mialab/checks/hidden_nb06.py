"""Hidden tests of notebook 06 (white-box and federated attacks): fresh random inputs at grading time, compared
with the reference, with the reference blocked while the student's function runs."""

from __future__ import annotations

import numpy as np

from . import CheckError
from .hidden import _agree, _call, _fresh_rng, _probs

_NB06 = ("whitebox.last_layer_gradient_norm", "federated.passive_server_score", "federated.top_fraction",
         "federated.ascent_direction")


def _shape(exercise, got, shape):
    if np.shape(got) != shape:
        raise CheckError(f"{exercise}: the output has the wrong shape on fresh inputs drawn at grading time.")


def test_last_layer_gradient_norm(last_layer_gradient_norm) -> None:
    """Exercise 6.1 on fresh random probabilities and hidden activations."""
    from ..attacks.whitebox import last_layer_gradient_norm as reference
    rng = _fresh_rng()
    for draw in range(6):
        n, k, m = int(rng.integers(1, 200)), int(rng.integers(2, 20)), int(rng.integers(1, 64))
        if draw == 0:  # several records, more than 2 classes, some labels the model gets wrong
            n, k, m = int(rng.integers(6, 30)), int(rng.integers(3, 6)), int(rng.integers(2, 8))
        p, y = _probs(rng, n, k), rng.integers(k, size=n)
        if draw == 0:
            y[: n // 2] = (np.argmax(p[: n // 2], axis=1) + 1) % k
        hidden = np.tanh(rng.normal(scale=2, size=(n, m)))
        got = _call("Exercise 6.1", last_layer_gradient_norm, p.copy(), y.copy(), hidden.copy(), block=_NB06)
        _shape("Exercise 6.1", got, (n,))
        _agree("Exercise 6.1", got, reference(p, y, hidden), tol=1e-8)


def test_passive_server_score(passive_server_score) -> None:
    """Exercise 6.2 on fresh random per-round losses, some exactly 0."""
    from ..federated import passive_server_score as reference
    rng = _fresh_rng()
    for draw in range(6):
        rounds, n = int(rng.integers(1, 12)), int(rng.integers(1, 200))
        if draw == 0:  # several rounds and records, losses of exactly 0 before and after
            rounds, n = int(rng.integers(2, 6)), int(rng.integers(8, 30))
        before = np.exp(rng.normal(-1, 2, size=(rounds, n)))
        after = before * np.exp(rng.normal(-1, 1, size=(rounds, n)))
        after[rng.random((rounds, n)) < 0.05] = 0.0
        if draw == 0:
            after[0, 0], before[-1, 1], before[0, 2], after[0, 2] = 0.0, 0.0, 0.0, 0.0
        got = _call("Exercise 6.2", passive_server_score, before.copy(), after.copy(), block=_NB06)
        _shape("Exercise 6.2", got, (n,))
        _agree("Exercise 6.2", got, reference(before, after), tol=1e-8)


def test_top_fraction(top_fraction) -> None:
    """Exercise 6.4 on fresh random updates and fractions, and on updates with ties at the cut, a floor of 0 and a
    fraction that floating point puts just below a whole count (any of the tied entries may be kept)."""
    from ..federated import top_fraction as reference
    from .nb06 import top_expected
    rng = _fresh_rng()
    d = int(rng.integers(8, 40))
    tied = rng.normal(size=d)
    cut = rng.choice(d, size=int(rng.integers(3, 6)), replace=False)
    tied[cut] = rng.choice([-1.0, 1.0], size=len(cut)) * (np.abs(tied).max() + 1)   # tied at the top
    theta_tied = (len(cut) - 1.5) / d                                                # keeps all but one or two
    fixed = [(tied, theta_tied),
             (rng.normal(size=100), 0.29),                    # 0.29 * 100 = 28.999999999999996: 29 kept
             (rng.normal(size=10), 0.35),                     # floor(3.5) = 3, not round or ceil
             (rng.normal(size=int(rng.integers(2, 20))), 0.0)]  # nothing kept
    fixed[1][0][int(rng.integers(100))] *= -50                 # the largest entry negative
    draws = []
    for _ in range(4):
        d = int(rng.integers(1, 500))
        theta = float(rng.choice([0.0, 1.0, 0.5, 0.1, 0.01, float(rng.uniform(0, 1))]))
        if abs(theta * d - round(theta * d)) < 1e-6 and theta * d != round(theta * d):
            theta = 0.5                                     # no fraction that floating point puts on an edge
        draws.append((rng.normal(size=d) * rng.choice([1e-3, 1.0, 10.0]), theta))
    for update, theta in fixed + draws:
        got = _call("Exercise 6.4", top_fraction, update.copy(), theta, block=_NB06)
        _shape("Exercise 6.4", got, (len(update),))
        want = reference(update, theta)
        _agree("Exercise 6.4", got, top_expected(got, update, theta) if np.shape(got) == want.shape else want,
               tol=0.0)


def test_ascent_direction(ascent_direction) -> None:
    """Exercise 6.3 on fresh random per-record gradients, some zero."""
    from ..federated import ascent_direction as reference
    rng = _fresh_rng()
    for draw in range(6):
        n, d = int(rng.integers(1, 100)), int(rng.integers(1, 300))
        if draw == 0:  # a zero row, and rows whose norms differ by orders of magnitude
            n, d = int(rng.integers(4, 20)), int(rng.integers(2, 10))
        grads = rng.normal(size=(n, d)) * np.exp(rng.normal(0, 3, size=(n, 1)))
        grads[rng.random(n) < 0.1] = 0.0
        if draw == 0:
            grads[0], grads[1], grads[2] = 0.0, grads[1] * 1e3, grads[2] * 1e-3
        got = _call("Exercise 6.3", ascent_direction, grads.copy(), block=_NB06)
        _shape("Exercise 6.3", got, (d,))
        _agree("Exercise 6.3", got, reference(grads), tol=1e-8)
