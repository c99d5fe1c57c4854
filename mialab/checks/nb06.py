"""Checks for notebook 06 (white-box features; passive, insider and active federated attackers; selective SGD)."""

from __future__ import annotations

import math

import numpy as np

from . import Case, call_student, passed, require, run_cases
from .._reference import blocked

GRADIENT = "Exercise 6.1 (the last layer's gradient norm)"
PASSIVE = "Exercise 6.2 (the passive server's score)"
TOP = "Exercise 6.4 (selective SGD's top-theta update)"
ASCENT = "Exercise 6.3 (the active attacker's direction)"
_BLOCK = ("whitebox.last_layer_gradient_norm", "federated.passive_server_score", "federated.top_fraction",
          "federated.ascent_direction")


# independent computations (written again here, not imported from the package)
def _last_norm(probs, y, hidden):
    out = np.empty(len(y))
    for i in range(len(y)):
        delta = np.array(probs[i], dtype=float)
        delta[y[i]] -= 1.0
        out[i] = math.sqrt(float(delta @ delta)) * math.sqrt(float(np.dot(hidden[i], hidden[i])))
    return out


def _passive(before, after):
    return np.mean(np.log(np.maximum(before, 1e-12)) - np.log(np.maximum(after, 1e-12)), axis=0)


def _top(update, theta):
    update = np.asarray(update, dtype=float)
    k = int(math.floor(theta * len(update) + 1e-9))
    out = np.zeros_like(update)
    for i in sorted(range(len(update)), key=lambda i: (-abs(update[i]), i))[:k]:
        out[i] = update[i]
    return out


def _ascent(grads):
    grads = np.asarray(grads, dtype=float)
    total = np.zeros(grads.shape[1])
    for g in grads:
        norm = math.sqrt(float(g @ g))
        if norm > 0:
            total += g / norm
    return total


def _run(exercise, func, cases):
    with blocked(*_BLOCK):
        return run_cases(exercise, func, cases)


def _call(exercise, func, *args):
    with blocked(*_BLOCK):
        return call_student(exercise, func, *args)


_P = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
_H = np.array([[3.0, 4.0], [1.0, 0.0]])


def check_last_layer_gradient_norm(last_layer_gradient_norm, probs=None, y=None, hidden=None,
                                   expected=None) -> None:
    """Check `last_layer_gradient_norm(probs, y, hidden) -> (n,)` (||p - e_y|| * ||h|| per record); on the
    notebook's data also against `expected`, the package's closed form from the model's own weights."""
    __tracebackhide__ = True
    hint = ("the gradient of the loss with respect to the last layer's weights is the outer product "
            "(p - e_y) h^T, where e_y is 1 at the TRUE label; the norm of an outer product is ||p - e_y|| * ||h||.")
    cases = [
        Case("2 records, 3 classes, right labels", (_P, np.array([0, 2]), _H), _last_norm(_P, [0, 2], _H), hint),
        Case("2 records whose labels the model gets wrong", (_P, np.array([1, 0]), _H), _last_norm(_P, [1, 0], _H),
             "subtract 1 at the record's TRUE label y, not at the predicted class (argmax)."),
        Case("a record the model is sure of and right about", (np.array([[1.0, 0.0]]), np.array([0]),
                                                               np.array([[2.0, 2.0]])), np.array([0.0]),
             "a certain, right answer has p = e_y, so the gradient is 0: members have SMALL gradients."),
        Case("3 records, hidden layer of width 1", (np.array([[0.5, 0.5]] * 3), np.array([0, 1, 1]),
                                                    np.array([[1.0], [-2.0], [0.0]])),
             _last_norm(np.array([[0.5, 0.5]] * 3), [0, 1, 1], np.array([[1.0], [-2.0], [0.0]])),
             "use the Euclidean norm of each row (np.linalg.norm(..., axis=1)), not a sum, and not squared."),
    ]
    _run(GRADIENT, last_layer_gradient_norm, cases)
    if probs is not None:
        got = np.asarray(_call(GRADIENT, last_layer_gradient_norm, np.copy(probs), np.copy(y), np.copy(hidden)),
                         dtype=float)
        require(got.shape == (len(y),), GRADIENT, f"on the notebook's candidates, your function returned shape "
                f"{got.shape}, expected ({len(y)},).", "return one norm per record.")
        require(np.allclose(got, expected, rtol=1e-4, atol=1e-7), GRADIENT,
                "right on the small cases, but it differs from autograd's norms on the notebook's candidates.",
                "use the arguments you are given, not global variables.")
    on_data = " and the target model (equal to autograd)" if probs is not None else ""
    passed(GRADIENT, f"{len(cases)} small cases{on_data}")


def check_passive_server_score(passive_server_score, losses_before=None, losses_after=None) -> None:
    """Check `passive_server_score(losses_before, losses_after) -> (n,)` (mean over rounds of the log-loss drop)."""
    __tracebackhide__ = True
    before = np.array([[1.0, 2.0, 0.5], [0.5, 2.0, 0.25]])
    after = np.array([[0.1, 2.0, 1.0], [0.05, 1.0, 0.25]])
    hint = ("for each round and record take log(loss before) - log(loss after) (natural log), then average over "
            "the rounds (axis 0): one score per record, higher when the client's training shrank the loss more.")
    cases = [
        Case("2 rounds, 3 records", (before, after), _passive(before, after), hint),
        Case("1 round, 3 records", (before[:1], after[:1]), _passive(before[:1], after[:1]),
             "the score is before minus after: the client's update LOWERS a member's loss, so members score high."),
        Case("a loss that reaches exactly 0", (np.array([[1.0], [1.0]]), np.array([[0.0], [1.0]])),
             _passive(np.array([[1.0], [1.0]]), np.array([[0.0], [1.0]])),
             "clip each loss at 1e-12 before the log (np.clip(loss, 1e-12, None)), as the exercise says."),
        Case("4 rounds, 1 record", (np.full((4, 1), 2.0), np.array([[1.0], [2.0], [2.0], [2.0]])),
             _passive(np.full((4, 1), 2.0), np.array([[1.0], [2.0], [2.0], [2.0]])),
             "average over the rounds (np.mean(..., axis=0)), do not sum them."),
    ]
    _run(PASSIVE, passive_server_score, cases)
    if losses_before is not None:
        got = np.asarray(_call(PASSIVE, passive_server_score, np.copy(losses_before), np.copy(losses_after)),
                         dtype=float)
        want = _passive(losses_before, losses_after)
        require(got.shape == want.shape and np.allclose(got, want, atol=1e-8), PASSIVE,
                "right on the small cases, wrong on the notebook's federated run.",
                "use the arguments you are given, not global variables; return one score per record.")
    passed(PASSIVE, f"{len(cases)} small cases{' and the federated run' if losses_before is not None else ''}")


def check_top_fraction(top_fraction, update=None, theta=None) -> None:
    """Check `top_fraction(update, theta) -> (d,)` (floor(theta * d) largest |entries| kept, the rest 0)."""
    __tracebackhide__ = True
    u = np.array([3.0, -5.0, 1.0, 4.0])
    ten = np.array([0.3, -0.1, 0.9, -0.7, 0.2, 0.05, -0.6, 0.4, -0.8, 0.5])
    hundred = np.linspace(-1, 1, 101)[:100] + 0.001
    magnitude = ("keep the entries LARGEST IN ABSOLUTE VALUE (np.abs), whatever their sign, with their sign; set "
                 "all others to 0; return an array of the update's shape.")
    cases = [
        Case("4 entries, theta = 0.5", (u, 0.5), _top(u, 0.5), magnitude, tol=0.0),
        Case("10 entries, theta = 0.25 (floor(2.5) = 2 kept)", (ten, 0.25), _top(ten, 0.25),
             "keep exactly floor(theta * d) entries: 2 of 10 at theta = 0.25, not 3 (no rounding up).", tol=0.0),
        Case("10 entries, theta = 0.05 (nothing kept)", (ten, 0.05), _top(ten, 0.05),
             "floor(0.5) = 0: keep nothing and return all zeros (careful: x[-0:] is the whole array).", tol=0.0),
        Case("10 entries, theta = 1", (ten, 1.0), _top(ten, 1.0), "theta = 1 keeps the whole update.", tol=0.0),
        Case("100 entries, theta = 0.29", (hundred, 0.29), _top(hundred, 0.29),
             "0.29 * 100 is 28.999999999999996 in floating point: count int(np.floor(theta * d + 1e-9)) entries.",
             tol=0.0),
    ]
    _run(TOP, top_fraction, cases)
    if update is not None:
        got = np.asarray(_call(TOP, top_fraction, np.copy(update), theta), dtype=float)
        want = _top(update, theta)
        require(got.shape == want.shape and np.array_equal(got, want), TOP,
                "right on the small cases, wrong on the notebook's client update.",
                "use the arguments you are given, not global variables.")
        require(np.count_nonzero(got) == math.floor(theta * len(update) + 1e-9), TOP,
                "the number of kept entries is not floor(theta * d).", magnitude)
    passed(TOP, f"{len(cases)} small cases{' and a real client update' if update is not None else ''}")


def check_ascent_direction(ascent_direction, gradients=None) -> None:
    """Check `ascent_direction(gradients) -> (d,)` (sum over records of g_i / ||g_i||, zero rows skipped)."""
    __tracebackhide__ = True
    g = np.array([[3.0, 4.0], [0.0, -2.0]])
    big = np.array([[300.0, 0.0, 0.0], [0.0, 0.001, 0.0], [0.0, 0.0, 1.0]])
    hint = "divide each record's gradient (a row) by its own Euclidean norm, then add the rows: one vector of length d."
    cases = [
        Case("2 records, 2 parameters", (g,), _ascent(g), hint),
        Case("a record with a huge gradient and one with a tiny one", (big,), _ascent(big),
             "normalise each row BEFORE adding (not the sum after): every record then counts the same, however "
             "small its gradient (members' gradients are near 0)."),
        Case("a record with a zero gradient", (np.array([[0.0, 0.0], [1.0, 1.0]]),),
             _ascent(np.array([[0.0, 0.0], [1.0, 1.0]])),
             "a zero row has no direction: it adds nothing (avoid 0 / 0 = nan, e.g. divide by 1 where the norm is 0)."),
    ]
    _run(ASCENT, ascent_direction, cases)
    if gradients is not None:
        got = np.asarray(_call(ASCENT, ascent_direction, np.copy(gradients)), dtype=float)
        want = _ascent(gradients)
        require(got.shape == want.shape and np.allclose(got, want, rtol=1e-6, atol=1e-8), ASCENT,
                "right on the small cases, wrong on the notebook's per-record gradients.",
                "use the arguments you are given, not global variables.")
    passed(ASCENT, f"{len(cases)} small cases{' and real per-record gradients' if gradients is not None else ''}")
