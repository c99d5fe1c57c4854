"""Checks for notebook 11 (defences measured by strong attacks: RelaxLoss, MemGuard-style softening, DP-SGD, removing
the most exposed records)."""

from __future__ import annotations

import math

import numpy as np

from . import Case, call_student, explicit_hints, passed, require, run_cases, skippable
from .compare import compare as _compare_answer
from . import use_reference  # noqa: F401 (a notebook imports it from here, as it does hint)
from .._reference import blocked

RELAX = "Exercise 11.1 (the RelaxLoss objective)"
CAP = "Exercise 11.2 (a label-keeping softening)"
DPSGD = "Exercise 11.3 (one DP-SGD step)"
EPSILON = "Exercise 11.4 (an empirical epsilon)"
REMOVE = "Exercise 11.5 (the records to remove)"

_CERTAIN = np.array([[800.0, 0.0], [0.0, 900.0]])   # logits whose softmax overflows without the max shift


def _ce(logits, y):
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(y)), y], logp


def _relax_expected(logits, y, alpha, epoch):
    losses, logp = _ce(logits, y)
    loss = losses.mean()
    if loss >= alpha:
        return loss
    if epoch % 2 == 0:
        return -loss
    p = np.exp(logp)
    k = logits.shape[1]
    p_y = p[np.arange(len(y)), y]
    soft = np.repeat(((1 - p_y) / (k - 1))[:, None], k, axis=1)
    soft[np.arange(len(y)), y] = p_y
    return float(-(soft * logp).sum(axis=1).mean())


@skippable(RELAX)
def check_relaxloss_objective(relaxloss_objective) -> None:
    """Check `relaxloss_objective(logits, y, alpha, epoch) -> float` on the three branches."""
    __tracebackhide__ = True
    logits = np.array([[2.0, 0.0, -1.0], [0.5, 1.5, 0.0]])
    y = np.array([0, 1])
    loss = float(_ce(logits, y)[0].mean())                        # about 0.33
    hint = ("L is the cross-entropy of each record AVERAGED over the batch (not summed), from the log-softmax of "
            "each row. RelaxLoss descends while L has not reached alpha; below it, it alternates between ascending "
            "(even epochs) and flattening the predictions (odd epochs).")
    cases = [
        Case("a batch above the target loss (alpha = 0.1)", (logits, y, 0.1, 0), loss, hint),
        Case("the same batch below the target loss, epoch 2", (logits, y, 1.0, 2), -loss,
             "below alpha on an EVEN epoch, RelaxLoss ascends: the objective is -L (epoch % 2 == 0)."),
        Case("the same batch below the target loss, epoch 3", (logits, y, 1.0, 3), _relax_expected(logits, y, 1.0, 3),
             "below alpha on an ODD epoch, flatten: each record's soft label keeps its true-class probability and "
             "shares the rest equally among the k - 1 other classes; the objective is the cross-entropy against "
             "those soft labels (a sum over the classes), averaged over the records."),
        Case("a loss exactly at alpha (all-zero logits, 4 classes: L = ln 4 = alpha), epoch 4",
             (np.zeros((2, 4)), np.array([0, 3]), math.log(4), 4), math.log(4),
             "a batch whose loss is exactly alpha has reached the target: RelaxLoss still descends there, it does "
             "not ascend."),
        Case("large logits (a certain model), epoch 1", (_CERTAIN, np.array([0, 1]), 0.5, 1),
             _relax_expected(_CERTAIN, np.array([0, 1]), 0.5, 1),
             "logits in the hundreds overflow np.exp (inf / inf is nan): shift each row by its maximum first, which "
             "leaves the softmax unchanged."),
    ]
    with blocked("relaxloss.relaxloss_objective"):
        run_cases(RELAX, relaxloss_objective, cases)
    return passed(RELAX, f"{len(cases)} small cases, all three branches")


def _cap_expected(p, cap):
    k = p.shape[1]
    m = p.max(axis=1, keepdims=True)
    t = np.where(m > cap, (m - cap) / (m - 1 / k), 0.0)
    return (1 - t) * p + t / k


@skippable(CAP)
def check_cap_confidence(cap_confidence, probs=None) -> None:
    """Check `cap_confidence(probs, cap) -> (n, k)`: rows moved towards uniform until max <= cap, label kept."""
    __tracebackhide__ = True
    p = np.array([[0.9, 0.05, 0.05], [0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    hint = ("each row is mixed with the uniform vector (1/k, ..., 1/k), by its own weight t: the one that brings "
            "the row's OWN largest probability down to exactly the cap (k is the number of classes, the length of a "
            "row). Rows already at or below the cap are returned unchanged.")
    cases = [
        Case("3 rows, cap 0.6", (p, 0.6), np.array([[0.6, 0.2, 0.2], [0.5, 0.3, 0.2],
                                                   [0.1 + (0.2 / (0.8 - 1 / 3)) * (1 / 3 - 0.1),
                                                    0.1 + (0.2 / (0.8 - 1 / 3)) * (1 / 3 - 0.1), 0.6]]), hint),
        Case("cap 1 (nothing to do)", (p, 1.0), p, "with cap = 1 no row exceeds it: return the rows unchanged."),
        Case("a row exactly at the cap", (np.array([[0.7, 0.3]]), 0.7), np.array([[0.7, 0.3]]),
             "only rows ABOVE the cap move."),
        Case("2 rows of 4 classes, unequal small probabilities, cap 0.5",
             (np.array([[0.7, 0.2, 0.06, 0.04], [0.4, 0.3, 0.2, 0.1]]), 0.5),
             _cap_expected(np.array([[0.7, 0.2, 0.06, 0.04], [0.4, 0.3, 0.2, 0.1]]), 0.5),
             "mixing with the uniform vector moves every entry of the row towards 1/k, each in proportion to its "
             "distance from 1/k: it is not clipping the top entry, nor sharing the excess equally, nor rescaling "
             "the others. The second row is below the cap and stays as it is."),
    ]
    with blocked("memguard.cap_confidence"):
        run_cases(CAP, cap_confidence, cases)
        if probs is not None:
            probs = np.asarray(probs)
            got = np.asarray(call_student(CAP, cap_confidence, probs.copy(), 0.5), float)
            require(got.shape == probs.shape, CAP, f"returned shape {got.shape} on the target's answers.",
                    "return one row per row of probs.")
            require(np.allclose(got.sum(axis=1), 1, atol=1e-9), CAP, "rows of your answer do not sum to 1.", hint)
            require(bool((got.argmax(axis=1) == probs.argmax(axis=1)).all()), CAP,
                    "some rows changed their predicted label.", "mixing with the uniform vector keeps the order.")
            require(bool((got.max(axis=1) <= 0.5 + 1e-9).all()), CAP, "some rows still exceed the cap.", hint)
    extra = " and the target answers (sum 1, label kept)" if probs is not None else ""
    return passed(CAP, f"{len(cases)} small cases{extra}")


def _tiny_problem():
    from ..models import MLP
    rng = np.random.default_rng(11)
    model = MLP(5, 3, hidden=(4,), random_state=11)
    X = rng.normal(size=(8, 5)).astype(np.float32)
    y = rng.integers(0, 3, size=8)
    return model, X, y


@skippable(DPSGD)
def check_dp_sgd_step(dp_sgd_step) -> None:
    """Check `dp_sgd_step(per_example_grads, max_grad_norm, noise_multiplier, lr, noise) -> (d,)`, against
    Opacus on a tiny model."""
    __tracebackhide__ = True
    from ..defenses.dpsgd import opacus_step, per_example_gradients
    g = np.array([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]])             # norms 5, 0.5, 0
    hint = ("clip each example's gradient on its own: a row longer than C is scaled down to length C, a shorter "
            "one is left as it is. Then sum the clipped rows, add the noise (its scale is sigma * C), average over "
            "the batch (the noise too), and step against the gradient.")
    cases = [
        Case("3 gradients, C = 1, no noise, lr 1", (g, 1.0, 0.0, 1.0, np.zeros(2)),
             -np.array([0.6 + 0.3, 0.8 + 0.4]) / 3, hint, tol=1e-5),
        Case("no clipping (C = inf) and no noise: plain SGD", (g, math.inf, 0.0, 0.5, np.zeros(2)),
             -0.5 * g.mean(axis=0),
             "with C = inf nothing is clipped; with noise_multiplier 0 leave the noise out (0 * inf is nan).",
             tol=1e-5),
        Case("noise on zero gradients: sigma = 2, C = 0.5, lr 0.1", (np.zeros((4, 2)), 0.5, 2.0, 0.1,
                                                                   np.array([1.0, -2.0])),
             -0.1 * 2.0 * 0.5 * np.array([1.0, -2.0]) / 4,
             "the noise is noise_multiplier * C * noise, added to the SUM of the clipped gradients, then divided by B.",
             tol=1e-9),
    ]
    with blocked("dpsgd.dp_sgd_step"):
        run_cases(DPSGD, dp_sgd_step, cases)
        model, X, y = _tiny_problem()
        grads = per_example_gradients(model, X, y)
        for C in (0.05, 1.0):
            got = np.asarray(call_student(DPSGD, dp_sgd_step, grads.copy(), C, 0.0, 0.5, np.zeros(grads.shape[1])),
                             float)
            expected = opacus_step(model, X, y, max_grad_norm=C, noise_multiplier=0.0, lr=0.5)
            require(got.shape == expected.shape and np.allclose(got, expected, atol=1e-6), DPSGD,
                    f"right on the small cases, but not the same step as Opacus on a tiny MLP at C = {C}.", hint)
            require(np.linalg.norm(got) <= 0.5 * C + 1e-6, DPSGD, "the update is longer than lr * C.",
                    "each clipped gradient has norm <= C, so their mean does too.")
    return passed(DPSGD, f"{len(cases)} small cases and Opacus's step on a tiny MLP (||update|| <= lr * C)")


@skippable(EPSILON)
def check_empirical_epsilon(empirical_epsilon, tpr=None, fpr=None) -> None:
    """Check `empirical_epsilon(tpr, fpr, delta) -> float`."""
    __tracebackhide__ = True
    hint = ("(epsilon, delta)-DP bounds the attack both ways: its TPR by e^eps * FPR + delta, and, on the other "
            "side, its true-negative rate by e^eps * (its false-negative rate) + delta. Each inequality, solved for "
            "eps, is one lower bound; the answer is the larger one, and never below 0 (an attack no better than "
            "chance proves nothing).")
    edge = ("the statement's two edge rules: a term whose numerator is not positive proves nothing and is left out "
            "(no log of 0 or of a negative number, no 0 / 0); a zero denominator under a positive numerator is an "
            "infinite epsilon (math.inf), not an error.")
    cases = [
        Case("TPR 0.5 at FPR 0.05", (0.5, 0.05, 0.0), math.log(10), hint),
        Case("TPR 0.5 at FPR 0.05, delta 0.01", (0.5, 0.05, 0.01), math.log(0.49 / 0.05),
             "delta is the slack the guarantee allows on the TPR: take it off the TPR before comparing with the "
             "FPR."),
        Case("a weak attack, TPR = FPR = 0.3", (0.3, 0.3, 0.0), 0.0,
             "an attack no better than chance proves nothing: 0."),
        Case("a high-TPR attack, TPR 0.99 at FPR 0.5", (0.99, 0.5, 0.0), math.log(0.5 / 0.01),
             "the second test counts too: the non-members the attack leaves alone (1 - FPR) against the members "
             "it misses (1 - TPR), the false-negative side."),
        Case("the same attack with delta 0.01", (0.99, 0.5, 0.01), math.log(0.49 / 0.01),
             "delta is the slack of the false-negative side too: take it off that side's numerator as well."),
        Case("a worse-than-chance attack, TPR 0.1 at FPR 0.2", (0.1, 0.2, 0.0), 0.0, hint),
        Case("no false positive at all, TPR 0.3 at FPR 0", (0.3, 0.0, 0.0), math.inf, edge),
        Case("every member found, TPR 1 at FPR 0.2", (1.0, 0.2, 0.0), math.inf, edge),
        Case("TPR = FPR = 0 (an attack that flags nobody)", (0.0, 0.0, 0.0), 0.0, edge),
        Case("a TPR equal to delta, TPR 0.01 at FPR 0.001, delta 0.01", (0.01, 0.001, 0.01), 0.0, edge),
        Case("a TPR below delta, TPR 0.005 at FPR 0, delta 0.01", (0.005, 0.0, 0.01), 0.0, edge),
    ]
    with blocked("dpsgd.empirical_epsilon"):
        run_cases(EPSILON, empirical_epsilon, cases)
    if tpr is not None:
        from ..defenses.dpsgd import empirical_epsilon as reference_epsilon
        expected = reference_epsilon(float(tpr), float(fpr), 0.0)
        with blocked("dpsgd.empirical_epsilon"):
            got = call_student(EPSILON, empirical_epsilon, float(tpr), float(fpr), 0.0)
        require(np.isclose(float(got), expected, atol=1e-9), EPSILON,
                "right on the small cases, wrong on the notebook's measured rates.", hint)
    return passed(EPSILON, f"{len(cases)} small cases{' and the measured attack' if tpr is not None else ''}")


_THIRTY = np.array([0.51, 0.95, 0.14, 0.95, 0.31, 0.42, 0.83, 0.41, 0.55, 0.03, 0.75, 0.54, 0.33, 0.79, 0.3, 0.45,
                    0.13, 0.4, 0.2, 0.26, 0.75, 0.28, 0.49, 0.98, 0.96, 0.72, 0.54, 0.28, 0.16, 0.97])


def _top(leakage, k):
    leakage = np.asarray(leakage, dtype=float)
    return np.lexsort((np.arange(len(leakage)), -leakage))[:k].astype(np.int64)


@skippable(REMOVE)
def check_records_to_remove(records_to_remove, leakage=None, k=None) -> None:
    """Check `records_to_remove(leakage, k) -> (k,)` indices, most exposed first, ties to the lower index; then on
    the notebook's per-record leakage."""
    __tracebackhide__ = True
    hint = ("the records to remove are those with the LARGEST leakage (the values, not their sizes), listed from "
            "the most exposed down, k of them.")
    ties = ("equal leakages are listed lowest index first: a stable sort of the negated leakage keeps that order; "
            "reversing an ascending sort puts the higher index first.")
    cases = [
        Case("5 records, k = 2", (np.array([0.1, 0.7, 0.3, 0.9, 0.2]), 2), np.array([3, 1]), hint),
        Case("3 records, k = 3 (all of them, most exposed first)", (np.array([0.2, 0.6, 0.4]), 3),
             np.array([1, 2, 0]), hint),
        Case("negative leakages, k = 2", (np.array([-3.0, -1.0, -2.5, -2.0]), 2), np.array([1, 3]),
             "a record whose leakage is -3 is LESS exposed than one at -1: rank the values themselves."),
        Case("ties at the cut, k = 3", (np.array([0.5, 0.9, 0.5, 0.5, -1.0]), 3), np.array([1, 0, 2]), ties),
        Case("k = 0 (remove nothing)", (np.array([0.3, 0.1]), 0), np.zeros(0, np.int64),
             "with k = 0 return an empty array of indices (careful: x[-0:] is the whole array)."),
        Case("30 records, k = 12", (_THIRTY, 12), _top(_THIRTY, 12),
             "the k records must come in order, the most exposed first: np.argpartition finds the right ones but "
             "leaves them unordered."),
    ]
    run_cases(REMOVE, records_to_remove, cases)
    if leakage is not None:
        leakage = np.asarray(leakage, dtype=float)
        got = call_student(REMOVE, records_to_remove, leakage.copy(), int(k))
        problem = _compare_answer(got, _top(leakage, int(k)))
        require(problem is None, REMOVE, f"right on the small cases, but on the notebook's {len(leakage)} members "
                f"with k = {k} your function {problem}.", ties)
    extra = f" and the {len(leakage)} members' leakage" if leakage is not None else ""
    return passed(REMOVE, f"{len(cases)} small cases{extra}")


HINTS = {
    "11.1": ("Shift the logits by each row's max (logits.max(axis=1, keepdims=True)); the log-softmax is the shifted "
             "row minus the log of its summed exponentials; L is minus its mean at the true labels (index with "
             "[np.arange(len(y)), y]). "
             "Then three branches in the order of the statement: `if L >= alpha`, then `epoch % 2 == 0`, then the "
             "soft labels: start from a (B, k) array filled with (1 - p_y) / (k - 1) per row and put p_y at the true "
             "class."),
    "11.2": ("k is the number of columns (probs.shape[1]) and the maximum is taken along axis=1: one per ROW. "
             "Compute t per row with np.where, "
             "0 where m <= cap and (m - cap) / (m - 1 / k) elsewhere, then mix with t[:, None] so that it "
             "broadcasts along the row."),
    "11.3": ("np.linalg.norm(..., axis=1) gives one norm per example; the clipping factor of a row is "
             "min(1, C / norm), guarded against a zero norm. Sum the scaled rows over axis 0; add "
             "noise_multiplier * max_grad_norm * noise only when noise_multiplier > 0; divide by the number of rows "
             "and multiply by -lr."),
    "11.5": ("Sort the records by DEcreasing leakage with a sort that keeps equal values in their index order "
             "(np.argsort(..., kind=\"stable\") of minus the leakage, or np.lexsort with the index as the second "
             "key); then keep the first k positions of that order. Return indices, not leakage values."),
    "11.4": ("Two candidates: the TPR side (tpr - delta over fpr) and the false-negative side (1 - delta - fpr over "
             "1 - tpr). Loop over the two (numerator, denominator) pairs: skip a pair whose numerator is <= 0; a "
             "zero denominator gives math.inf; otherwise math.log of the ratio. Keep the largest, starting from 0."),
}
hint = explicit_hints(HINTS)
