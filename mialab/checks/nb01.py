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
             {"probs_in": _P, "y_in": _Y, "probs_out": _P[::-1], "y_out": _Y}]
    hint = ("For each target: gap = generalization_gap(...); advantage = metrics.advantage of the confidence "
            "scores of its members followed by its non-members, with is_member True for the members.")
    for name, targets in [("two small targets", small)] + ([("the notebook's sweep", sweep)] if sweep else []):
        got = call_student(TRACKS, leakage_table, targets)
        require(isinstance(got, tuple) and len(got) == 2, TRACKS,
                f"on {name}, expected a tuple (gaps, advantages), got {type(got).__name__}.",
                "End with `return np.array(gaps), np.array(advantages)`.")
        want_gaps, want_advs = reference(targets)
        for label, value, want in (("gaps", got[0], want_gaps), ("advantages", got[1], want_advs)):
            value = np.asarray(value, float)
            require(value.shape == want.shape, TRACKS, f"on {name}, `{label}` has shape {value.shape}, "
                    f"expected {want.shape} (one per target).", hint)
            require(np.allclose(value, want, atol=1e-6), TRACKS, f"on {name}, some `{label}` are wrong.", hint)
    return passed(TRACKS)


HINTS = {
    '1.1': ("train_acc = np.mean(probs_train.argmax(axis=1) == y_train); the same for the test set; return "
            "train_acc - test_acc as a float."),
    '1.2': ("(probs.argmax(axis=1) == y).astype(float)."),
    '1.3': ("Fancy indexing takes one element per row: probs[np.arange(len(y)), y]."),
    '1.4': ("Loop over the targets t; build scores = confidence_attack(np.concatenate([t['probs_in'], "
            "t['probs_out']]), labels) and is_member (True for the len(t['y_in']) members first); append "
            "metrics.advantage(scores, is_member) and the gap; return np.array(gaps), np.array(advantages)."),
}


hint = explicit_hints(HINTS)
