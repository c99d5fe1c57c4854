"""Checks for notebook 08 (model inversion and attribute inference)."""

from __future__ import annotations

import numpy as np

from .._reference import blocked
from . import Case, call_counting, call_student, explicit_hints, passed, require, run_cases, skippable
from . import use_reference  # noqa: F401 (a notebook imports it from here, as it does hint)

MAP = "Exercise 8.1 (MAP attribute estimate)"
LSQ = "Exercise 8.2 (least squares from noisy statistics)"
DESCENT = "Exercise 8.3 (MI-Face descent)"
FD = "Exercise 8.4 (finite-difference gradient)"

_MAP_BLOCK = ("inversion.map_estimate",)
_LSQ_BLOCK = ("dp_linear.noisy_least_squares",)
_DESCENT_BLOCK = ("inversion.mi_face_descent",)
_FD_BLOCK = ("inversion.finite_difference_gradient",)


def _map_cases():
    """(description, args, expected index per record, hint) of Exercise 8.1 (the hidden test runs them too)."""
    p2 = np.array([[5.0, 4.0]])
    prior = ("the prior counts: a likely value can win over a slightly closer prediction. Bayes' rule multiplies "
             "the likelihood by the prior, so in logs their logs add up.")
    return [
        ("one record, a uniform prior", (np.array([[5.0, 4.0, 3.0]]), np.array([4.1]), 1.0, np.ones(3) / 3),
         np.array([1]), None),
        ("a strong prior against the closest prediction", (p2, np.array([4.4]), 1.0, np.array([0.9, 0.1])),
         np.array([0]), prior),
        ("a prior of 0.6 against 0.4 and a slightly closer prediction", (p2, np.array([4.2]), 1.0,
                                                                         np.array([0.6, 0.4])),
         np.array([0]), "in log space the prior enters through its LOG (Bayes' rule multiplies probabilities); "
                        "adding the probability itself to a log likelihood mixes two scales."),
        ("the same with a small sigma", (p2, np.array([4.4]), 0.1, np.array([0.9, 0.1])), np.array([1]),
         "sigma counts, squared: the Gaussian log density falls with the squared distance measured in units of "
         "sigma, so the smaller the model's error, the more the distance weighs against the prior."),
        ("a tie", (np.array([[3.0, 5.0]]), np.array([4.0]), 1.0, np.array([0.5, 0.5])), np.array([0]),
         "on a tie, return the first candidate (np.argmax does)."),
        ("three records", (np.array([[1.0, 2.0, 3.0]] * 3), np.array([0.9, 2.2, 9.0]), 0.5, np.ones(3) / 3),
         np.array([0, 1, 2]), "each record's observed output is compared with that record's own V predictions "
                              "(its row): line observed up with the rows, and return one index per record, "
                              "shape (n,)."),
        ("a tiny sigma, both candidates far away", (np.array([[1.0, 1.6]]), np.array([2.2]), 0.01,
                                                    np.array([0.5, 0.5])),
         np.array([1]), "both likelihoods underflow to 0.0 when computed as probabilities (e to the -1800 is "
                        "below the smallest float): compare LOG likelihoods instead."),
    ]


@skippable(MAP)
def check_map_estimate(map_estimate, predictions=None, observed=None, sigma=None, prior=None) -> None:
    """Check `map_estimate(predictions (n, V), observed (n,), sigma, prior (V,)) -> (n,) int`."""
    __tracebackhide__ = True
    from ..attacks.inversion import map_estimate as reference
    hint = ("the MAP value maximises likelihood × prior. In logs: the Gaussian log likelihood of the observed "
            "output around each candidate's prediction (its normalising constant is the same for all) plus the "
            "candidate's log prior; pick the best candidate of each record.")
    cases = [Case(description, args, expected, specific or hint) for description, args, expected, specific
             in _map_cases()]
    run_cases(MAP, map_estimate, cases)
    if predictions is not None:
        with blocked(*_MAP_BLOCK):
            got = call_student(MAP, map_estimate, predictions, observed, sigma, prior)
        require(np.array_equal(np.asarray(got), reference(predictions, observed, sigma, prior)), MAP,
                "right on the small cases, wrong on the notebook's patients.",
                "the cohort has thousands of records and several candidates each: stay in log space (products of "
                "small likelihoods underflow) and return one index per patient, as an int array.")
    return passed(MAP, f"{len(cases)} small cases{' and the warfarin cohort' if predictions is not None else ''}")


@skippable(LSQ)
def check_noisy_least_squares(noisy_least_squares, X=None, y=None, noise_xx=None, noise_xy=None) -> None:
    """Check `noisy_least_squares(X (n, d), y (n,), noise_xx=None, noise_xy=None) -> (d,)`."""
    __tracebackhide__ = True
    from ..defenses.dp_linear import noisy_least_squares as reference
    Xs = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0], [1.0, 3.0]])
    ys = np.array([1.0, 3.0, 5.0, 7.5])
    exact = np.linalg.lstsq(Xs, ys, rcond=None)[0]
    nxx, nxy = np.array([[1.0, 0.5], [0.5, 2.0]]), np.array([0.3, -0.4])
    hint = ("least squares solves (XᵀX) β = Xᵀy; the private version adds the noise to the two statistics first: "
            "(XᵀX + noise_xx) β = Xᵀy + noise_xy (np.linalg.solve).")
    cases = [
        Case("a line through 4 points, no noise", (Xs, ys), exact,
             "with no noise this is ordinary least squares (np.linalg.lstsq(X, y) gives it).", tol=1e-8),
        Case("the same with noise on both statistics", (Xs, ys, nxx, nxy),
             np.linalg.solve(Xs.T @ Xs + nxx, Xs.T @ ys + nxy), hint, tol=1e-8),
        Case("noise on XᵀX only (noise_xy=None)", (Xs, ys, nxx, None), np.linalg.solve(Xs.T @ Xs + nxx, Xs.T @ ys),
             "a noise given as None adds nothing to its statistic.", tol=1e-8),
        Case("noise on Xᵀy only (noise_xx=None)", (Xs, ys, None, nxy), np.linalg.solve(Xs.T @ Xs, Xs.T @ ys + nxy),
             "a noise given as None adds nothing to its statistic; the other one still counts.", tol=1e-8),
    ]
    run_cases(LSQ, noisy_least_squares, cases)
    if X is not None:
        for a, b in ((None, None), (noise_xx, noise_xy)):
            with blocked(*_LSQ_BLOCK):
                got = call_student(LSQ, noisy_least_squares, X, y, a, b)
            want = reference(X, y, a, b)
            require(np.shape(got) == want.shape and np.allclose(got, want, atol=1e-6, rtol=1e-6), LSQ,
                    "right on the small cases, wrong on the warfarin training set.", hint)
    return passed(LSQ, f"{len(cases)} small cases{' and the warfarin training set' if X is not None else ''}")


def _scripted(costs):
    """A cost_grad that returns the given costs in turn and a gradient of -1 everywhere (x grows by lr a step)."""
    state = {"i": 0}

    def cost_grad(x):
        i = min(state["i"], len(costs) - 1)
        state["i"] += 1
        return costs[i], -np.ones_like(np.asarray(x, dtype=float))
    return cost_grad


def _quadratic(target):
    target = np.asarray(target, dtype=float)
    return lambda x: (float(np.sum((x - target) ** 2)), 2 * (x - target))


def _descent_cases():
    """(description, factory of the arguments, hint) for Exercise 8.3."""
    window = ("stop when the new cost is >= the LARGEST of the last `beta` costs (x0's included), not just the "
              "previous one, and keep going while it is below it.")
    return [
        ("a bowl inside the box, stopped by gamma", lambda: (_quadratic([0.3, 0.7]), np.zeros(2), 0.1, 1000, 5, 1e-4),
         "step x = clip(x - lr * gradient, 0, 1) and stop as soon as the cost is <= gamma."),
        ("the same bowl with max_iter = 3", lambda: (_quadratic([0.3, 0.7]), np.zeros(2), 0.1, 3, 5, 1e-4),
         "take at most `max_iter` steps (x1 ... x_max_iter) after x0."),
        ("a bowl whose bottom is outside the box", lambda: (_quadratic([1.5, 0.5]), np.zeros(2), 0.1, 1000, 3, 1e-4),
         "the paper's Process step keeps x a valid image: clip every iterate to [0, 1] (np.clip)."),
        ("a step so large that the cost grows", lambda: (_quadratic([0.4]), np.array([0.0]), 1.1, 1000, 5, 1e-4),
         "return the iterate with the LOWEST cost seen (x0 included), not the last one."),
        ("costs 1, .5, .7, .3, .9, .95, .2 with beta = 2",
         lambda: (_scripted([1.0, 0.5, 0.7, 0.3, 0.9, 0.95, 0.2]), np.zeros(1), 0.1, 100, 2, 0.01), window),
        ("costs 1, .5, .7, .3, .9, .95, .2 with beta = 1",
         lambda: (_scripted([1.0, 0.5, 0.7, 0.3, 0.9, 0.95, 0.2]), np.zeros(1), 0.1, 100, 1, 0.01), window),
        ("costs 1, .5, .5, .2 with beta = 1 (a flat step)",
         lambda: (_scripted([1.0, 0.5, 0.5, 0.2]), np.zeros(1), 0.1, 100, 1, 0.01),
         "a cost EQUAL to the window's largest also stops (>=); of equal costs return the first iterate."),
        ("costs 1, .5, .25, .1 with gamma = .25",
         lambda: (_scripted([1.0, 0.5, 0.25, 0.1]), np.zeros(1), 0.1, 100, 5, 0.25),
         "a cost EQUAL to gamma also stops (<=)."),
    ]


def _same_descent(got, want) -> str | None:
    if not (isinstance(got, tuple) and len(got) == 2):
        return f"returned {type(got).__name__}, expected a tuple (x_best, cost_best)"
    x, c = got
    if np.shape(x) != want[0].shape:
        return f"returned x_best of shape {np.shape(x)}, expected {want[0].shape}"
    if not np.allclose(np.asarray(x, float), want[0], atol=1e-6) or abs(float(c) - want[1]) > 1e-6:
        return "returned a different image or cost"
    return None


@skippable(DESCENT)
def check_mi_face_descent(mi_face_descent, cost_grad=None, x0=None, lr=None, max_iter=None, beta=None,
                          gamma=None) -> None:
    """Check `mi_face_descent(cost_grad, x0, lr, max_iter, beta, gamma) -> (x_best, cost_best)`."""
    __tracebackhide__ = True
    from ..attacks.inversion import mi_face_descent as reference
    cases = _descent_cases()
    for description, make, hint in cases:
        want = reference(*make())
        with blocked(*_DESCENT_BLOCK):
            got = call_student(DESCENT, mi_face_descent, *make())
        problem = _same_descent(got, want)
        require(problem is None, DESCENT, f"on {description}, your function {problem}.",
                hint + " Call cost_grad once per iterate, x0 included.")
    if cost_grad is not None:
        want = reference(cost_grad, x0, lr, max_iter, beta, gamma)
        with blocked(*_DESCENT_BLOCK):
            got = call_student(DESCENT, mi_face_descent, cost_grad, x0, lr, max_iter, beta, gamma)
        require(_same_descent(got, want) is None, DESCENT, "right on the small cases, wrong on the digits model.",
                "keep a copy of the best iterate (an in-place update of x changes a stored array too), and use the "
                "lr, max_iter, beta and gamma you are given.")
    return passed(DESCENT, f"{len(cases)} small cases{' and the digits model' if cost_grad is not None else ''}")


def _fd_cases():
    """(description, f, x, h, hint) of Exercise 8.4 (the hidden test runs them too)."""
    x3 = np.array([0.2, 0.5, 0.9])
    central = ("use CENTRAL differences, one step forward and one back along each coordinate: they are exact on "
               "quadratics, where a one-sided difference is off by a term in h.")
    return [
        ("a linear f", lambda X: X @ np.array([1.0, -2.0, 3.0]) + 4.0, x3, 0.01,
         "f takes a batch of points, shape (m, d), and returns one value per point; entry i of the gradient "
         "comes from moving x along coordinate i ALONE (h times the i-th unit vector), once forward, once back."),
        ("f = sum of squares", lambda X: np.sum(X ** 2, axis=1), x3, 0.1, central),
        ("f = sum of cubes", lambda X: np.sum(X ** 3, axis=1), x3, 0.1, central),
        ("a one-dimensional x", lambda X: 5 * X[:, 0] ** 2, np.array([0.3]), 0.05,
         "it must work for d = 1 too: return shape (1,)."),
        ("x near the edges of [0, 1] (0.05 and 0.97, h = 0.1)",
         lambda X: X @ np.array([1.0, 2.0, -1.0]) + (X ** 3) @ np.array([2.0, -1.0, 3.0]),
         np.array([0.05, 0.5, 0.97]), 0.1, central),
    ]


def _fd_mistake(func, point, step, got, expected) -> str | None:
    """The hint for a known wrong gradient, else None."""
    d = len(point)
    eye = step * np.eye(d)
    forward = (func(point + eye) - func(point[None, :])) / step
    clipped = (func(np.clip(point + eye, 0, 1)) - func(np.clip(point - eye, 0, 1))) / (2 * step)
    known = [(-expected, "your gradient points the wrong way: the difference must be the value a step FORWARD "
                         "minus the value a step back."),
             (expected * step, "divide by the distance between the two points you compare (two steps of h), "
                               "not just by 2."),
             (expected * 2 * step, "a difference of values is not yet a slope: divide it by the distance between "
                                   "the two points (two steps of h)."),
             (expected * 2, "the two points x + h e_i and x - h e_i are 2h apart, not h."),
             (expected / 2, "the two points x + h e_i and x - h e_i are 2h apart: divide by that distance once."),
             (clipped, "do not clip the points to [0, 1]: the formula needs exactly x ± h e_i (f accepts any point), "
                       "or the two points are no longer 2h apart."),
             (forward, "this is the one-sided difference; use CENTRAL differences, a step forward and a step "
                       "back: they are exact on quadratics.")]
    for wrong, text in known:
        if np.allclose(got, wrong, atol=1e-6) and not np.allclose(wrong, expected, atol=1e-6):
            return text
    return None


@skippable(FD)
def check_finite_difference_gradient(finite_difference_gradient, f=None, x=None, h=None) -> None:
    """Check `finite_difference_gradient(f, x (d,), h) -> (d,)`, f mapping (m, d) -> (m,)."""
    __tracebackhide__ = True
    from ..attacks.inversion import finite_difference_gradient as reference
    cases = _fd_cases()
    counts = []
    for description, func, point, step, hint in cases:
        expected = reference(func, point, step)
        with blocked(*_FD_BLOCK):  # f and its query counter stay here (mialab.checks._process.Counted)
            got, rows = call_counting(FD, finite_difference_gradient, 0, func, point.copy(), step)
        right = np.shape(got) == expected.shape and np.allclose(np.asarray(got, float), expected, atol=1e-6)
        if not right and np.shape(got) == expected.shape:
            hint = _fd_mistake(func, point, step, np.asarray(got, float), expected) or hint
        require(right, FD, f"on {description}, your gradient is wrong.", hint)
        counts.append((description, rows, point))
    for description, rows, point in counts:
        require(rows == 2 * len(point), FD, f"on {description}, you asked f about {rows} points; the "
                f"central differences need exactly 2d = {2 * len(point)} (each query costs the attacker).",
                "query x + h e_i and x - h e_i for each coordinate i, nothing else (x itself is not needed).")
    if f is not None:
        want = reference(f, x, h)
        with blocked(*_FD_BLOCK):
            got = call_student(FD, finite_difference_gradient, f, x, h)
        require(np.shape(got) == want.shape and np.allclose(np.asarray(got, float), want, atol=1e-6), FD,
                "right on the small cases, wrong on the digits black box.",
                "the black box has d = 64 inputs: build the 2d points from x and h for every coordinate, in float64.")
    return passed(FD, f"{len(cases)} small cases{' and the digits black box' if f is not None else ''}")


HINTS = {
    "8.1": ("Broadcast observed[:, None] against predictions (n, V): the log likelihood of candidate v is "
            "-((observed - prediction) / sigma) ** 2 / 2 up to a constant. Add np.log(prior) (shape (V,), it "
            "broadcasts over the rows) and take np.argmax(..., axis=1)."),
    "8.2": ("Treat a None noise as 0. Build X.T @ X plus noise_xx and X.T @ y plus noise_xy, then "
            "np.linalg.solve(gram, moment); with no noise at all, np.linalg.lstsq(X, y, rcond=None)[0] is the same "
            "answer, computed more stably."),
    "8.3": ("Keep a list of costs (x0's first) and the best (x, cost) so far. In a for loop over max_iter steps: "
            "step x against its gradient and np.clip the result to [0.0, 1.0]; ask cost_grad about the new x; "
            "update the best only when the cost is strictly lower; stop (break) when the cost is >= the max of "
            "costs[-beta:] or <= gamma; otherwise append the cost to the list."),
    "8.4": ("np.eye(d) * h holds the d steps h e_i as rows; x + steps and x - steps (x broadcasts) are the 2d "
            "points. Stack them with np.concatenate into one batch for a single call to f, then take the first d "
            "values minus the last d, divided by 2 * h."),
}


hint = explicit_hints(HINTS)
