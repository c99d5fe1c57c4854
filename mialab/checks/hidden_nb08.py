"""Hidden tests of notebook 08 (model inversion): fresh random inputs at grading time, the references blocked."""

from __future__ import annotations

import numpy as np

from . import CheckError
from .hidden import _agree, _call, _call_counting, _fresh_rng

_BLOCK = ("inversion.map_estimate", "dp_linear.noisy_least_squares", "inversion.mi_face_descent",
          "inversion.finite_difference_gradient")


def test_map_estimate(map_estimate) -> None:
    """Exercise 8.1 on the check's small cases, then fresh predictions, observations, noise levels and priors."""
    from ..attacks.inversion import map_estimate as reference
    from .nb08 import _map_cases
    rng = _fresh_rng()
    cases = [args for _, args, _, _ in _map_cases()]  # the prior's log, sigma squared, a tie, an underflow
    for _ in range(6):
        n, v = int(rng.integers(1, 300)), int(rng.integers(2, 6))
        predictions = rng.normal(5, 1, size=(n, v))
        observed = rng.normal(5, 1.5, size=n)
        sigma = float(rng.uniform(0.1, 3))
        prior = rng.dirichlet(np.ones(v) * rng.uniform(0.3, 3))
        cases.append((predictions, observed, sigma, prior))
    for predictions, observed, sigma, prior in cases:
        n = len(observed)
        expected = reference(predictions, observed, sigma, prior)
        got = _call("Exercise 8.1", map_estimate, predictions.copy(), observed.copy(), sigma, prior.copy(),
                    block=_BLOCK)
        if np.shape(got) != (n,):
            raise CheckError("Exercise 8.1: the output has the wrong shape on fresh inputs drawn at grading time.")
        _agree("Exercise 8.1", got, expected)


def test_noisy_least_squares(noisy_least_squares) -> None:
    """Exercise 8.2 on fresh regression problems, with and without noise."""
    from ..defenses.dp_linear import noisy_least_squares as reference
    rng = _fresh_rng()
    for which in ("none", "both", "xx", "xy", "both"):
        n, d = int(rng.integers(10, 200)), int(rng.integers(1, 8))
        X = rng.normal(size=(n, d))
        y = X @ rng.normal(size=d) + rng.normal(size=n)
        upper = np.triu(rng.laplace(0, rng.uniform(0.1, 3), size=(d, d)))
        noise_xx = upper + np.triu(upper, 1).T + n * np.eye(d) * 0.1
        noise_xy = rng.laplace(0, rng.uniform(0.1, 3), size=d)
        a = noise_xx if which in ("both", "xx") else None
        b = noise_xy if which in ("both", "xy") else None
        expected = reference(X, y, a, b)
        got = _call("Exercise 8.2", noisy_least_squares, X.copy(), y.copy(), None if a is None else a.copy(),
                    None if b is None else b.copy(), block=_BLOCK)
        if np.shape(got) != (d,):
            raise CheckError("Exercise 8.2: the output has the wrong shape on fresh inputs drawn at grading time.")
        _agree("Exercise 8.2", got, expected, tol=1e-6)


def _scripted(costs):
    state = {"i": 0}

    def cost_grad(x):
        i = min(state["i"], len(costs) - 1)
        state["i"] += 1
        return float(costs[i]), -np.ones_like(np.asarray(x, dtype=float))
    return cost_grad


def test_mi_face_descent(mi_face_descent) -> None:
    """Exercise 8.3 on the check's small cases, then fresh bowls (inside and outside the box) and fresh scripted
    cost sequences."""
    from ..attacks.inversion import mi_face_descent as reference
    from .nb08 import _descent_cases
    rng = _fresh_rng()
    makers = [make for _, make, _ in _descent_cases()]  # the window, the ties, the clip, the best iterate
    for trial in range(8):
        if trial % 2 == 0:
            d = int(rng.integers(1, 6))
            target = rng.uniform(-0.3, 1.3, size=d)

            def make(target=target, d=d, lr=float(rng.uniform(0.05, 1.2)), it=int(rng.integers(1, 200)),
                     beta=int(rng.integers(1, 10)), gamma=float(rng.uniform(0, 0.05))):
                return (lambda x: (float(np.sum((x - target) ** 2)), 2 * (x - target)), np.zeros(d), lr, it, beta,
                        gamma)
        else:
            costs = np.round(rng.uniform(0, 1, size=int(rng.integers(3, 30))), 1)

            def make(costs=costs, lr=float(rng.uniform(0.01, 0.2)), it=int(rng.integers(1, 40)),
                     beta=int(rng.integers(1, 6)), gamma=float(rng.choice([0.0, 0.1, 0.2]))):
                return _scripted(costs), np.zeros(2), lr, it, beta, gamma
        makers.append(make)
    for make in makers:
        want = reference(*make())
        got = _call("Exercise 8.3", mi_face_descent, *make(), block=_BLOCK)
        if not (isinstance(got, tuple) and len(got) == 2) or np.shape(got[0]) != want[0].shape:
            raise CheckError("Exercise 8.3: expected a tuple (x_best, cost_best) of the right shapes.")
        _agree("Exercise 8.3", got[0], want[0])
        _agree("Exercise 8.3", got[1], want[1])


def test_finite_difference_gradient(finite_difference_gradient) -> None:
    """Exercise 8.4 on the check's small cases, then fresh cubic functions, points and steps."""
    from ..attacks.inversion import finite_difference_gradient as reference
    from .nb08 import _fd_cases
    rng = _fresh_rng()
    cases = [(f, x, h) for _, f, x, h, _ in _fd_cases()]  # one near the edges of [0, 1]: no clipping
    for _ in range(6):
        d = int(rng.integers(1, 70))
        a, b, c = rng.normal(size=d), rng.normal(size=d), rng.normal(size=d)

        def f(X, a=a, b=b, c=c):
            X = np.asarray(X, dtype=float)
            return X @ a + (X ** 2) @ b + (X ** 3) @ c
        cases.append((f, rng.uniform(0, 1, size=d), float(rng.uniform(1e-3, 0.2))))
    for f, x, h in cases:
        d = len(x)
        expected = reference(f, x, h)
        got, rows = _call_counting("Exercise 8.4", finite_difference_gradient, 0, f, x.copy(), h, block=_BLOCK)
        if np.shape(got) != (d,):
            raise CheckError("Exercise 8.4: the output has the wrong shape on fresh inputs drawn at grading time.")
        _agree("Exercise 8.4", got, expected, tol=1e-6)
        if rows != 2 * d:
            raise CheckError("Exercise 8.4: your function asks f about more (or fewer) points than the central "
                             "differences need.")
