"""Checks for notebook 04 (Yeom et al. loss attack, advantage vs gap; Song & Mittal modified entropy)."""

from __future__ import annotations

import numpy as np

from . import Case, call_student, explicit_hints, passed, require, run_cases, skippable
from . import use_reference  # noqa: F401 (a notebook imports it from here, as it does hint)

LOSS = "Exercise 4.1 (the loss attack)"
ADVANTAGE = "Exercise 4.2 (the loss attack's advantage)"
MENTR = "Exercise 4.3 (the modified entropy)"

_EPS = 1e-12
_P = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.5, 0.25, 0.25]])
_Y = np.array([0, 2, 2, 1])
_Y_FIT = np.array([0, 1, 2, 0])
_SKEW_IN = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.01, 0.99]])   # losses 0.11, 0.22, 0.36, 4.6
_SKEW_OUT = np.array([[0.5, 0.5], [0.3, 0.7]])                          # losses 0.69, 1.2


def _loss(probs, y):
    return -np.log(np.clip(probs[np.arange(len(y)), y], _EPS, None))


def _advantage(probs_in, y_in, probs_out, y_out):
    threshold = _loss(probs_in, y_in).mean()
    return float(np.mean(_loss(probs_in, y_in) <= threshold) - np.mean(_loss(probs_out, y_out) <= threshold))


def _mentr(probs, y):
    """Modified entropy, record by record (a second computation, independent of mialab.attacks.features)."""
    out = np.empty(len(y))
    for i, (row, label) in enumerate(zip(probs, y)):
        total = -(1 - row[label]) * np.log(max(row[label], _EPS))
        for j, p in enumerate(row):
            if j != label:
                total -= p * np.log(max(1 - p, _EPS))
        out[i] = total
    return out


@skippable(LOSS)
def check_loss_attack(loss_attack, probs=None, y=None, expected_loss=None) -> bool:
    """Check `loss_attack(probs, y, expected_loss) -> is_called_member` (loss at most the expected training loss)."""
    __tracebackhide__ = True
    hint = ("A record the model fits better than an average training record is probably a member: its loss is "
            "minus the natural log of the probability of its TRUE label, and it is called a member (True) when "
            "that loss is at most expected_loss.")
    cases = [
        Case("4 records, expected loss 1.0", (_P, _Y, 1.0), np.array([True, False, True, False]), hint),
        Case("4 records, expected loss 0.1", (_P, _Y, 0.1), np.array([False, False, False, False]),
             "A small expected loss calls few records members: member when loss <= expected_loss, not >=."),
        Case("a record whose loss equals the expected loss exactly",
             (np.array([[0.5, 0.5], [0.25, 0.75]]), np.array([0, 0]), float(-np.log(0.5))), np.array([True, False]),
             "At most includes equality: a loss equal to expected_loss is a member (<=, not <)."),
        Case("4 records, expected loss 2.0", (_P, _Y, 2.0), np.array([True, False, True, True]), hint),
        Case("a record the target gives probability 0", (np.array([[1.0, 0.0], [0.6, 0.4]]), np.array([1, 0]), 0.6),
             np.array([False, True]), "A probability of 0 is an infinite loss: never a member."),
    ]
    run_cases(LOSS, loss_attack, cases)
    if probs is not None:
        got = call_student(LOSS, loss_attack, np.copy(probs), np.copy(y), expected_loss)
        want = _loss(probs, y) <= expected_loss
        require(np.shape(got) == want.shape and np.array_equal(np.asarray(got, bool), want), LOSS,
                "right on the small cases, wrong on the notebook's candidates.",
                "Use the arguments you are given, not global variables; return one True/False per record.")
    return passed(LOSS, f"{len(cases)} small cases{' and the purchase target' if probs is not None else ''}")


@skippable(ADVANTAGE)
def check_yeom_advantage(yeom_advantage, probs_in=None, y_in=None, probs_out=None, y_out=None) -> bool:
    """Check `yeom_advantage(probs_in, y_in, probs_out, y_out) -> float` (TPR - FPR at the mean training loss)."""
    __tracebackhide__ = True
    hint = ("Yeom et al.'s attacker knows the model's average training loss and uses it as the threshold; TPR is "
            "the share of members it calls members, FPR the share of non-members it calls members, at that one "
            "threshold (not the best over all thresholds).")
    cases = [
        Case("4 members and 4 non-members", (_P, _Y_FIT, _P, _Y), _advantage(_P, _Y_FIT, _P, _Y), hint),
        Case("a target that does worse on its members", (_P, _Y, _P, _Y_FIT), _advantage(_P, _Y, _P, _Y_FIT),
             "At a fixed threshold TPR - FPR can be negative: do not take max(0, ...) or an absolute value."),
        Case("members with one badly fit record (mean and median loss differ)",
             (_SKEW_IN, np.zeros(4, int), _SKEW_OUT, np.zeros(2, int)),
             _advantage(_SKEW_IN, np.zeros(4, int), _SKEW_OUT, np.zeros(2, int)),
             "The threshold is the MEAN training loss, not the median or another statistic: one badly fit member "
             "pulls the mean up, and the attacker uses exactly that expected loss."),
        Case("2 members and 4 non-members", (_P[:2], _Y_FIT[:2], _P, _Y), _advantage(_P[:2], _Y_FIT[:2], _P, _Y),
             "TPR is a share of the members, FPR a share of the non-members; the two sets may differ in size."),
        Case("members the target fits perfectly (every member's loss 0, equal to the threshold)",
             (np.eye(3)[_Y_FIT], _Y_FIT, _P, _Y), _advantage(np.eye(3)[_Y_FIT], _Y_FIT, _P, _Y),
             "a member whose loss equals the threshold is called a member: the attack of Exercise 4.1 uses "
             "'at most' (<=), here too."),
    ]
    run_cases(ADVANTAGE, yeom_advantage, cases)
    if probs_in is not None:
        got = call_student(ADVANTAGE, yeom_advantage, np.copy(probs_in), np.copy(y_in), np.copy(probs_out),
                           np.copy(y_out))
        require(np.ndim(got) == 0 and abs(float(got) - _advantage(probs_in, y_in, probs_out, y_out)) < 1e-9,
                ADVANTAGE, "right on the small cases, wrong on the notebook's target.",
                "Check the threshold: the mean of the members' losses (clipped as in Exercise 4.1), computed from "
                "the arguments you are given; return a single number.")
    return passed(ADVANTAGE, f"{len(cases)} small cases{' and the purchase target' if probs_in is not None else ''}")


@skippable(MENTR)
def check_modified_entropy(modified_entropy, probs=None, y=None) -> bool:
    """Check `modified_entropy(probs, y) -> (n,)` (Song & Mittal's Mentr, low for members)."""
    __tracebackhide__ = True
    hint = ("Mentr = -(1 - p_y) log p_y - sum over i != y of p_i log(1 - p_i), with p_y the TRUE label's "
            "probability; natural logs; one value per record.")
    clip_hint = ("A probability of exactly 0 or 1 makes a log -inf: clip inside each log, "
                 "np.log(np.clip(x, 1e-12, None)), as the exercise says.")
    binary = np.array([[0.9, 0.1], [0.2, 0.8]])
    certain = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    cases = [
        Case("4 records, 3 classes", (_P, _Y), _mentr(_P, _Y), hint),
        Case("2 records, 2 classes", (binary, np.array([0, 0])), _mentr(binary, np.array([0, 0])),
             "The sum runs over the classes OTHER than the true one, with log(1 - p_i), not log p_i."),
        Case("a certain right answer and a certain wrong one", (certain, np.array([0, 0])),
             _mentr(certain, np.array([0, 0])), clip_hint, tol=1e-4),
    ]
    run_cases(MENTR, modified_entropy, cases)
    if probs is not None:
        got = np.asarray(call_student(MENTR, modified_entropy, np.copy(probs), np.copy(y)), dtype=float)
        want = _mentr(probs, y) if len(y) <= 2000 else _vectorized(probs, y)
        require(got.shape == want.shape, MENTR, f"on the notebook's candidates, your function returned shape "
                f"{got.shape}, expected {want.shape}.", "Return one value per record.")
        require(np.allclose(got, want, atol=1e-4, rtol=1e-6), MENTR,
                "right on the small cases, wrong on the notebook's candidates.", clip_hint)
    return passed(MENTR, f"{len(cases)} small cases{' and the purchase target' if probs is not None else ''}")


def _vectorized(probs, y):
    rows = np.arange(len(y))
    p_y = probs[rows, y]
    others = probs * np.log(np.clip(1 - probs, _EPS, None))
    others[rows, y] = 0.0
    return -(1 - p_y) * np.log(np.clip(p_y, _EPS, None)) - others.sum(axis=1)


HINTS = {
    '4.1': ("index probs with two arrays at once, the row numbers np.arange(len(y)) and the labels y, to get each "
            "record's true-label probability; clip it at 1e-12 (np.clip(..., 1e-12, None)) before np.log; the loss "
            "is minus that log; compare it with expected_loss using <=, which gives one boolean per record."),
    '4.2': ("the threshold is one number: the mean of the members' losses, computed as in 4.1 (clip, log, minus). "
            "Call loss_attack with it on the members and on the non-members; the mean of a boolean array is the "
            "share of True; return TPR minus FPR as a float, without abs or max."),
    '4.3': ("p_y = the true label's probability of each row (np.arange(len(y)) and y). For the other classes, "
            "compute probs * log(1 - probs) for every entry at once (clip 1 - probs at 1e-12 inside the log), then "
            "set each row's true-class entry to 0 and sum the rows (axis=1). Subtract that sum from "
            "-(1 - p_y) times the clipped log of p_y."),
}


hint = explicit_hints(HINTS)
