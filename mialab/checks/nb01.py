"""Checks for notebook 01 (overfitting and leakage)."""

from __future__ import annotations

import numpy as np

from ..metrics import advantage
from . import Case, call_student, explicit_hints, passed, require, run_cases, skippable
from . import use_reference  # noqa: F401 (a notebook imports it from here, as it does hint)

GAP = "Exercise 1.1 (generalization gap)"
CORRECT = "Exercise 1.2 (correctness attack)"
CONFIDENCE = "Exercise 1.3 (confidence attack)"
TRACKS = "Exercise 1.4 (leakage tracks the gap)"

_P = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.5, 0.25, 0.25]])
_Y = np.array([0, 2, 2, 1])


@skippable(GAP)
def check_generalization_gap(generalization_gap, probs_train=None, y_train=None, probs_test=None, y_test=None) -> None:
    """Check `generalization_gap(probs_train, y_train, probs_test, y_test) -> float` (train minus test accuracy)."""
    __tracebackhide__ = True
    hint = ("A prediction is the class with the highest probability; accuracy is the share of correct "
            "predictions; the gap is train accuracy minus test accuracy.")
    cases = [
        Case("4 training and 4 test records", (_P, np.array([0, 1, 2, 0]), _P, _Y), 1.0 - 0.5, hint),
        Case("a model that does better on test data", (_P, _Y, _P, np.array([0, 1, 2, 0])), -0.5,
             "The gap can be negative; do not take an absolute value."),
        Case("different numbers of train and test records", (_P[:2], np.array([0, 1]), _P, _Y), 1.0 - 0.5, hint),
    ]
    run_cases(GAP, generalization_gap, cases)
    if probs_train is not None:
        got = call_student(GAP, generalization_gap, probs_train, y_train, probs_test, y_test)
        expected = np.mean(probs_train.argmax(1) == y_train) - np.mean(probs_test.argmax(1) == y_test)
        require(abs(float(got) - expected) < 1e-9, GAP, "right on the small cases, wrong on the notebook's target.",
                "Use the arguments you are given, not global variables.")
    return passed(GAP, f"{len(cases)} small cases{' and the purchase target' if probs_train is not None else ''}")


@skippable(CORRECT)
def check_correctness_attack(correctness_attack, probs=None, y=None) -> None:
    """Check `correctness_attack(probs, y) -> scores` (1.0 when the prediction is right, else 0.0)."""
    __tracebackhide__ = True
    hint = ("The attack says 'member' exactly when the target gets the record right: score 1.0 when the "
            "predicted class equals the true label, else 0.0, one score per record.")
    cases = [Case("4 records", (_P, _Y), np.array([1.0, 0.0, 1.0, 0.0]), hint),
             Case("one record", (_P[:1], _Y[:1]), np.array([1.0]), "Return an array of shape (n,), even for n = 1.")]
    run_cases(CORRECT, correctness_attack, cases)
    if probs is not None:
        got = call_student(CORRECT, correctness_attack, probs, y)
        require(np.array_equal(np.asarray(got, float), (probs.argmax(1) == y).astype(float)), CORRECT,
                "right on the small cases, wrong on the notebook's candidates.", hint)
    return passed(CORRECT)


@skippable(CONFIDENCE)
def check_confidence_attack(confidence_attack, probs=None, y=None) -> None:
    """Check `confidence_attack(probs, y) -> scores` (the probability given to the true label)."""
    __tracebackhide__ = True
    hint = ("The score of a record is the target's confidence in its TRUE label, not the largest probability: "
            "from row i, pick the column y[i]. NumPy can pick one column per row without a loop.")
    cases = [Case("4 records", (_P, _Y), np.array([0.7, 0.1, 0.4, 0.25]), hint),
             Case("one record", (_P[:1], _Y[:1]), np.array([0.7]), "Return an array of shape (n,), even for n = 1.")]
    run_cases(CONFIDENCE, confidence_attack, cases)
    if probs is not None:
        got = call_student(CONFIDENCE, confidence_attack, probs, y)
        require(np.allclose(np.asarray(got, float), probs[np.arange(len(y)), y]), CONFIDENCE,
                "right on the small cases, wrong on the notebook's candidates.", hint)
    return passed(CONFIDENCE)


@skippable(TRACKS)
def check_leakage_table(leakage_table, sweep=None) -> None:
    """Check `leakage_table(sweep) -> (gaps, advantages)`, one entry per target in the sweep."""
    __tracebackhide__ = True

    def reference(targets):
        gaps, advs = [], []
        for t in targets:
            gaps.append(np.mean(t["probs_in"].argmax(1) == t["y_in"]) - np.mean(t["probs_out"].argmax(1) == t["y_out"]))
            probs = np.concatenate([t["probs_in"], t["probs_out"]])
            y = np.concatenate([t["y_in"], t["y_out"]])
            member = np.concatenate([np.ones(len(t["y_in"]), bool), np.zeros(len(t["y_out"]), bool)])
            advs.append(advantage(probs[np.arange(len(y)), y], member))
        return np.array(gaps), np.array(advs)

    small = [{"probs_in": _P, "y_in": np.array([0, 1, 2, 0]), "probs_out": _P, "y_out": _Y},
             {"probs_in": _P, "y_in": _Y, "probs_out": _P[::-1], "y_out": _Y},
             {"probs_in": _P[:1], "y_in": _Y[:1], "probs_out": _P, "y_out": np.array([1, 1, 2, 0])}]
    hint = ("For each target: gap = generalization_gap(...); advantage = metrics.advantage of the confidence "
            "scores of its members followed by its non-members, with is_member True for the members.")
    small_name = "three small targets (the last with 1 member and 4 non-members)"
    for name, targets in [(small_name, small)] + ([("the notebook's sweep", sweep)] if sweep else []):
        got = call_student(TRACKS, leakage_table, targets)
        require(isinstance(got, tuple) and len(got) == 2, TRACKS,
                f"on {name}, expected a tuple (gaps, advantages), got {type(got).__name__}.",
                "Return the two arrays together, gaps first: a tuple of two arrays, one entry per target in each.")
        want_gaps, want_advs = reference(targets)
        for label, value, want in (("gaps", got[0], want_gaps), ("advantages", got[1], want_advs)):
            value = np.asarray(value, float)
            require(value.shape == want.shape, TRACKS, f"on {name}, `{label}` has shape {value.shape}, "
                    f"expected {want.shape} (one per target).", hint)
            require(np.allclose(value, want, atol=1e-6), TRACKS, f"on {name}, some `{label}` are wrong.",
                    hint + (" The advantage is only as good as is_member: one True per member (len(y_in) of them), "
                            "in the same order as the scores." if label == "advantages" else ""))
    return passed(TRACKS)


HINTS = {
    '1.1': ("The prediction for each record is the column with the largest probability in its row: "
            "`probs.argmax(axis=1)`. Compare it with the labels (an array of True/False); the mean of that array "
            "is the accuracy. Do this for train and for test, and subtract in that order (no absolute value)."),
    '1.2': ("Compare each record's predicted class (`argmax` along the classes, axis=1) with its label `y`: that "
            "gives True/False per record. The exercise wants 1.0/0.0: turn the booleans into floats."),
    '1.3': ("Row i must give column y[i]. Index with two arrays of the same length, one of row numbers "
            "(np.arange(n)) and one of column numbers (the labels): NumPy pairs them element by element."),
    '1.4': ("For each target t in the sweep: its gap comes from generalization_gap on t's four arrays; its scores "
            "are confidence_attack on the members (probs_in, y_in) followed by the non-members (probs_out, y_out), "
            "joined with np.concatenate; is_member is True for the len(t['y_in']) members and False for the rest, "
            "in the same order. Collect both numbers in lists and hand back the two lists as arrays."),
}


hint = explicit_hints(HINTS)
