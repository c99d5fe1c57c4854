"""Checks for notebook 11 (defences measured by strong attacks: RelaxLoss, MemGuard-style softening, DP-SGD)."""

from __future__ import annotations

import math

import numpy as np

from . import Case, call_student, passed, require, run_cases
from .._reference import blocked

RELAX = "Exercise 11.1 (the RelaxLoss objective)"
CAP = "Exercise 11.2 (a label-keeping softening)"
DPSGD = "Exercise 11.3 (one DP-SGD step)"
EPSILON = "Exercise 11.4 (an empirical epsilon)"

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


def check_relaxloss_objective(relaxloss_objective) -> None:
    """Check `relaxloss_objective(logits, y, alpha, epoch) -> float` on the three branches."""
    __tracebackhide__ = True
    logits = np.array([[2.0, 0.0, -1.0], [0.5, 1.5, 0.0]])
    y = np.array([0, 1])
    loss = float(_ce(logits, y)[0].mean())                        # about 0.33
    hint = ("compute L, the MEAN cross-entropy -log softmax(logits)[i, y_i] (subtract each row's max before exp). "
            "If L >= alpha return L; otherwise return -L on even epochs (gradient ascent) and the soft-label "
            "cross-entropy on odd epochs.")
    cases = [
        Case("a batch above the target loss (alpha = 0.1)", (logits, y, 0.1, 0), loss, hint),
        Case("the same batch below the target loss, epoch 2", (logits, y, 1.0, 2), -loss,
             "below alpha on an EVEN epoch, RelaxLoss ascends: the objective is -L (epoch % 2 == 0)."),
        Case("the same batch below the target loss, epoch 3", (logits, y, 1.0, 3), _relax_expected(logits, y, 1.0, 3),
             "below alpha on an ODD epoch, flatten: soft labels keep p_y (softmax probability of the true class) at "
             "the true class and put (1 - p_y) / (k - 1) on every other class; return the mean over records of "
             "-sum_j soft_j * log softmax_j."),
        Case("a loss exactly at alpha", (logits, y, loss, 1), loss,
             "at L == alpha RelaxLoss still descends: the test is L >= alpha."),
        Case("large logits (a certain model), epoch 1", (_CERTAIN, np.array([0, 1]), 0.5, 1),
             _relax_expected(_CERTAIN, np.array([0, 1]), 0.5, 1),
             "subtract each row's maximum from the logits before np.exp, or the softmax overflows to nan."),
    ]
    with blocked("relaxloss.relaxloss_objective"):
        run_cases(RELAX, relaxloss_objective, cases)
    return passed(RELAX, f"{len(cases)} small cases, all three branches")


def check_cap_confidence(cap_confidence, probs=None) -> None:
    """Check `cap_confidence(probs, cap) -> (n, k)`: rows moved towards uniform until max <= cap, label kept."""
    __tracebackhide__ = True
    p = np.array([[0.9, 0.05, 0.05], [0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    hint = ("for a row with largest probability m > cap, take t = (m - cap) / (m - 1/k) and return "
            "(1 - t) * p + t / k; leave rows with m <= cap as they are.")
    cases = [
        Case("3 rows, cap 0.6", (p, 0.6), np.array([[0.6, 0.2, 0.2], [0.5, 0.3, 0.2],
                                                   [0.1 + (0.2 / (0.8 - 1 / 3)) * (1 / 3 - 0.1),
                                                    0.1 + (0.2 / (0.8 - 1 / 3)) * (1 / 3 - 0.1), 0.6]]), hint),
        Case("cap 1 (nothing to do)", (p, 1.0), p, "with cap = 1 no row exceeds it: return the rows unchanged."),
        Case("a row exactly at the cap", (np.array([[0.7, 0.3]]), 0.7), np.array([[0.7, 0.3]]),
             "only rows ABOVE the cap move."),
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


def check_dp_sgd_step(dp_sgd_step) -> None:
    """Check `dp_sgd_step(per_example_grads, max_grad_norm, noise_multiplier, lr, noise) -> (d,)`, against
    Opacus on a tiny model."""
    __tracebackhide__ = True
    from ..defenses.dpsgd import opacus_step, per_example_gradients
    g = np.array([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]])             # norms 5, 0.5, 0
    hint = ("clip each row g_i to norm at most C: g_i * min(1, C / ||g_i||); sum the rows; add "
            "noise_multiplier * C * noise; divide by the batch size B; multiply by -lr.")
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


def check_empirical_epsilon(empirical_epsilon, tpr=None, fpr=None) -> None:
    """Check `empirical_epsilon(tpr, fpr, delta) -> float`."""
    __tracebackhide__ = True
    hint = ("return the largest of 0, ln((tpr - delta) / fpr) and ln((1 - delta - fpr) / (1 - tpr)) (a term whose "
            "numerator is <= 0 does not count; a zero denominator under a positive numerator gives inf).")
    cases = [
        Case("TPR 0.5 at FPR 0.05", (0.5, 0.05, 0.0), math.log(10), hint),
        Case("TPR 0.5 at FPR 0.05, delta 0.01", (0.5, 0.05, 0.01), math.log(0.49 / 0.05),
             "delta is subtracted from the TPR first: ln((tpr - delta) / fpr)."),
        Case("a weak attack, TPR = FPR = 0.3", (0.3, 0.3, 0.0), 0.0,
             "an attack no better than chance proves nothing: 0."),
        Case("a high-TPR attack, TPR 0.99 at FPR 0.5", (0.99, 0.5, 0.0), math.log(0.5 / 0.01),
             "the second test counts too: ln((1 - delta - fpr) / (1 - tpr)), the false-negative side."),
        Case("a worse-than-chance attack, TPR 0.1 at FPR 0.2", (0.1, 0.2, 0.0), 0.0, hint),
    ]
    with blocked("dpsgd.empirical_epsilon"):
        run_cases(EPSILON, empirical_epsilon, cases)
        got = call_student(EPSILON, empirical_epsilon, 0.3, 0.0, 0.0)
        require(got == math.inf, EPSILON, "with FPR = 0 and TPR > 0 your function does not return inf.",
                "no false positive at all means no finite epsilon explains the attack: return math.inf.")
    if tpr is not None:
        from ..defenses.dpsgd import empirical_epsilon as reference_epsilon
        expected = reference_epsilon(float(tpr), float(fpr), 0.0)
        with blocked("dpsgd.empirical_epsilon"):
            got = call_student(EPSILON, empirical_epsilon, float(tpr), float(fpr), 0.0)
        require(np.isclose(float(got), expected, atol=1e-9), EPSILON,
                "right on the small cases, wrong on the notebook's measured rates.", hint)
    return passed(EPSILON, f"{len(cases) + 1} small cases{' and the measured attack' if tpr is not None else ''}")
