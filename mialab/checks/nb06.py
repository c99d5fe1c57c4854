"""Checks for notebook 06 (white-box features; passive, insider and active federated attackers; selective SGD)."""

from __future__ import annotations

import math

import numpy as np

from . import Case, call_student, explicit_hints, passed, require, run_cases, skippable
from . import use_reference  # noqa: F401 (a notebook imports it from here, as it does hint)
from .._reference import blocked
from .compare import compare

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


@skippable(GRADIENT)
def check_last_layer_gradient_norm(last_layer_gradient_norm, probs=None, y=None, hidden=None,
                                   expected=None) -> None:
    """Check `last_layer_gradient_norm(probs, y, hidden) -> (n,)` (||p - e_y|| * ||h|| per record); on the
    notebook's data also against `expected`, the package's closed form from the model's own weights."""
    __tracebackhide__ = True
    hint = ("the gradient of the loss with respect to the last layer's weights is an outer product of the error "
            "p - e_y (e_y is 1 at the TRUE label, 0 elsewhere) and the activations h; the Euclidean norm of an "
            "outer product is the product of the two vectors' Euclidean norms.")
    cases = [
        Case("2 records, 3 classes, right labels", (_P, np.array([0, 2]), _H), _last_norm(_P, [0, 2], _H), hint),
        Case("2 records whose labels the model gets wrong", (_P, np.array([1, 0]), _H), _last_norm(_P, [1, 0], _H),
             "the error vector is 1 below the probability at the record's TRUE label y, whatever class the model "
             "predicts: the label comes from y, not from the probabilities."),
        Case("a record the model is sure of and right about", (np.array([[1.0, 0.0]]), np.array([0]),
                                                               np.array([[2.0, 2.0]])), np.array([0.0]),
             "a certain, right answer has p = e_y, so the gradient is 0: members have SMALL gradients."),
        Case("3 records, hidden layer of width 1", (np.array([[0.5, 0.5]] * 3), np.array([0, 1, 1]),
                                                    np.array([[1.0], [-2.0], [0.0]])),
             _last_norm(np.array([[0.5, 0.5]] * 3), [0, 1, 1], np.array([[1.0], [-2.0], [0.0]])),
             "each record gets its own norms, taken along its row (not over the whole array), Euclidean: the "
             "square root of the sum of squares, not a sum of absolute values, and not left squared."),
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


@skippable(PASSIVE)
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
             "a loss of exactly 0 has log -inf: raise every loss, before and after, to at least 1e-12 before the "
             "log, as the exercise says (not another floor)."),
        Case("a loss of exactly 0 before and after", (np.array([[0.0, 1.0]]), np.array([[0.0, 0.5]])),
             _passive(np.array([[0.0, 1.0]]), np.array([[0.0, 0.5]])),
             "a loss BEFORE the update can be 0 too: raise both losses to at least 1e-12 before the log, as the "
             "exercise says."),
        Case("4 rounds, 1 record", (np.full((4, 1), 2.0), np.array([[1.0], [2.0], [2.0], [2.0]])),
             _passive(np.full((4, 1), 2.0), np.array([[1.0], [2.0], [2.0], [2.0]])),
             "average over the rounds (the first axis), do not sum them: the score should not grow with the "
             "number of rounds."),
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


def n_kept(theta, d) -> int:
    """floor(theta * d), with the slack that keeps 0.29 * 100 = 28.999999999999996 at 29."""
    return int(math.floor(theta * d + 1e-9))


def top_expected(got, update, theta):
    """The right answer to Exercise 6.4 closest to `got`: where entries tie in |value| at the cut, the tied entries
    that `got` keeps (when it keeps exactly as many as fit), else the earlier ones. Compared with `got` exactly."""
    update = np.asarray(update, dtype=float)
    want = _top(update, theta)
    k = n_kept(theta, len(update))
    if not 0 < k < len(update):
        return want
    size = np.abs(update)
    cut = np.sort(size)[::-1][k - 1]
    tied = size == cut
    if cut == 0 or tied.sum() < 2:
        return want
    try:
        array = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return want
    if array.shape != update.shape:
        return want
    chosen = tied & (array == update)
    if chosen.sum() != k - np.sum(size > cut):
        return want
    return np.where((size > cut) | chosen, update, 0.0)


def _top_feedback(got, update, theta, magnitude):
    """What is wrong with an answer to 6.4 that differs from every right one: the count, the magnitude or the sign."""
    update = np.asarray(update, dtype=float)
    k = n_kept(theta, len(update))
    array = np.asarray(got, dtype=float) if np.shape(got) == update.shape else None
    if array is None:
        return f"returned shape {np.shape(got)}, expected {update.shape}", "return an array of the update's shape."
    kept = int(np.count_nonzero(array))
    if np.all(update != 0) and kept != k:
        size = np.abs(update)
        if kept > k and np.sum(size >= np.sort(size)[::-1][max(k, 1) - 1]) > k:
            return (f"it keeps {kept} entries, more than floor(theta * d) = {k}: entries that tie in absolute value "
                    "at the cut were all kept",
                    "a cut on the values keeps every entry equal to the k-th largest; keep exactly floor(theta * d) "
                    "entries, choosing among the tied ones (any of them).")
        what = "more" if kept > k else "fewer"
        return (f"it keeps {kept} entries, {what} than floor(theta * d) = {k}",
                "count the entries to keep from theta and d, and keep exactly that many (none when the floor is 0; "
                "all when theta = 1); mind the floor: no rounding, and a little slack for floating point.")
    if not np.all((array == update) | (array == 0)):
        return ("some kept entries are not the update's own values",
                "copy the kept entries unchanged, sign included; set only the others to 0.")
    return "it keeps the wrong entries", magnitude


@skippable(TOP)
def check_top_fraction(top_fraction, update=None, theta=None) -> None:
    """Check `top_fraction(update, theta) -> (d,)` (floor(theta * d) largest |entries| kept, the rest 0; ties at the
    cut broken any way)."""
    __tracebackhide__ = True
    u = np.array([3.0, -5.0, 1.0, 4.0])
    ten = np.array([0.3, -0.1, 0.9, -0.7, 0.2, 0.05, -0.6, 0.4, -0.8, 0.5])
    hundred = np.linspace(-1, 1, 101)[:100] + 0.001
    tied = np.array([2.0, -3.0, 3.0, 1.0, -3.0, 0.5, 3.0, -1.0])
    magnitude = ("keep the entries LARGEST IN ABSOLUTE VALUE, whatever their sign, with their sign; set all others "
                 "to 0; return an array of the update's shape.")
    cases = [
        ("4 entries, theta = 0.5", u, 0.5),
        ("10 entries, theta = 0.25 (floor(2.5) = 2 kept)", ten, 0.25),
        ("10 entries, theta = 0.05 (floor(0.5) = 0: nothing kept)", ten, 0.05),
        ("10 entries, theta = 1", ten, 1.0),
        ("10 entries, theta = 0.35 (floor(3.5) = 3 kept)", ten, 0.35),
        ("8 entries, four of them tied at |3|, theta = 0.25 (2 kept)", tied, 0.25),
        ("100 entries, theta = 0.29 (0.29 * 100 is 28.999999999999996 in floating point)", hundred, 0.29),
    ]
    with blocked(*_BLOCK):
        for description, values, fraction in cases:
            got = call_student(TOP, top_fraction, values.copy(), fraction)
            if compare(got, top_expected(got, values, fraction), atol=0.0):
                message, hint = _top_feedback(got, values, fraction, magnitude)
                require(False, TOP, f"on {description}, {message}.", hint)
    if update is not None:
        got = np.asarray(_call(TOP, top_fraction, np.copy(update), theta), dtype=float)
        require(compare(got, top_expected(got, update, theta), atol=0.0) is None, TOP,
                "right on the small cases, wrong on the notebook's client update.",
                "use the arguments you are given, not global variables.")
    passed(TOP, f"{len(cases)} small cases{' and a real client update' if update is not None else ''}")


@skippable(ASCENT)
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
             "a zero row has no direction: it must add nothing, and 0 / 0 is nan, so do not divide it by its norm "
             "of 0 (divide by something harmless, or leave the row out)."),
    ]
    _run(ASCENT, ascent_direction, cases)
    if gradients is not None:
        got = np.asarray(_call(ASCENT, ascent_direction, np.copy(gradients)), dtype=float)
        want = _ascent(gradients)
        require(got.shape == want.shape and np.allclose(got, want, rtol=1e-6, atol=1e-8), ASCENT,
                "right on the small cases, wrong on the notebook's per-record gradients.",
                "use the arguments you are given, not global variables.")
    passed(ASCENT, f"{len(cases)} small cases{' and real per-record gradients' if gradients is not None else ''}")


HINTS = {
    '6.1': ("build the error vectors in a float copy of probs (np.array copies), then subtract 1 in each row at "
            "column y[i] (fancy indexing with np.arange(len(y)) and y does every row at once). Then "
            "np.linalg.norm(..., axis=1) gives one Euclidean norm per row, for delta and for hidden alike."),
    '6.2': ("np.clip(losses, 1e-12, None) lifts every loss to at least 1e-12; take np.log of both arrays, "
            "subtract (before minus after), and .mean(axis=0) averages over the rounds."),
    '6.3': ("np.linalg.norm along axis 1 with keepdims=True gives the row norms as a column, shape (n, 1), so "
            "dividing gradients by it scales each row by its own norm; np.where(norms > 0, ...) can put a 1 in "
            "place of each zero norm; then add the rows up (axis 0)."),
    '6.4': ("k = floor(theta * d) with 1e-9 of slack before the floor; np.argsort(-np.abs(update)) lists the "
            "positions from the largest |value| down: take its first k; start from np.zeros_like(update) and copy "
            "update's values at those positions (k = 0 keeps nothing)."),
}


hint = explicit_hints(HINTS)
