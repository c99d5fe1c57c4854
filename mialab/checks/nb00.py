"""Checks for notebook 00 (the membership game and its metrics)."""

from __future__ import annotations

import numpy as np

from .._reference import blocked
from ..metrics import advantage
from ..metrics import tpr_at_fpr as reference_tpr_at_fpr
from . import Case, call_student, passed, require, run_cases

ADVANTAGE = "Exercise 0.1 (membership advantage)"
TPR = "Exercise 0.2 (TPR at a fixed FPR)"

_T, _F = True, False
# the package's metrics an exercise of this notebook asks for: blocked while the student's function runs (as graded)
_METRICS = ("metrics.roc_curve", "metrics.auc", "metrics.advantage", "metrics.tpr_at_fpr", "metrics.evaluate",
            "metrics.threshold_metrics")


def check_membership_advantage(membership_advantage, scores=None, is_member=None) -> None:
    """Check `membership_advantage(scores, is_member) -> float` on small cases, then on real scores."""
    __tracebackhide__ = True
    hint = ("the advantage is the largest TPR - FPR over every threshold t, where a record is called "
            "a member when its score >= t. Try each distinct score as t.")
    cases = [
        Case("a perfect attack (members score highest)", (np.array([0.9, 0.8, 0.3, 0.1]), np.array([_T, _T, _F, _F])),
             1.0, hint),
        Case("an attack that ranks every member last", (np.array([0.1, 0.3, 0.8, 0.9]), np.array([_T, _T, _F, _F])),
             0.0, "the threshold above every score calls nobody a member: TPR = FPR = 0, so the advantage is never "
                  "below 0. " + hint),
        Case("a mixed ranking", (np.array([0.9, 0.7, 0.6, 0.4, 0.2]), np.array([_T, _F, _T, _F, _F])),
             2 / 3, hint),
        Case("tied scores", (np.array([0.5, 0.5, 0.5, 0.1]), np.array([_T, _F, _T, _F])),
             0.5, "records with the same score are all called members or all non-members: use score >= t."),
    ]
    with blocked(*_METRICS):
        run_cases(ADVANTAGE, membership_advantage, cases)
    if scores is not None:
        with blocked(*_METRICS):
            got = call_student(ADVANTAGE, membership_advantage, np.asarray(scores), np.asarray(is_member))
        require(abs(float(got) - advantage(scores, is_member)) < 1e-6, ADVANTAGE,
                "your function is right on the small cases but not on the notebook's scores.",
                "make sure it works for any number of records and any scores, not only values between 0 and 1.")
    return passed(ADVANTAGE, f"{len(cases)} small cases{' and the real scores' if scores is not None else ''}")


def check_tpr_at_fpr(tpr_at_fpr, scores=None, is_member=None) -> None:
    """Check `tpr_at_fpr(scores, is_member, fpr) -> float` on small cases, then on real scores."""
    __tracebackhide__ = True
    hint = ("among the thresholds whose FPR is at most `fpr`, return the highest TPR "
            "(a record is a member when its score >= threshold).")
    nonmembers = np.arange(10.0)
    members = np.array([9.5, 8.5, 3.0, 2.5, 20.0])
    scores_small = np.concatenate([members, nonmembers])
    mask_small = np.concatenate([np.ones(5, bool), np.zeros(10, bool)])
    cases = [
        Case("a perfect attack at FPR 10%", (np.array([0.9, 0.8, 0.3, 0.1]), np.array([_T, _T, _F, _F]), 0.1),
             1.0, hint),
        Case("5 members and 10 non-members at FPR 10% (one false positive allowed)",
             (scores_small, mask_small, 0.1), 0.6, hint),
        Case("the same scores at FPR 5% (no false positive allowed)", (scores_small, mask_small, 0.05), 0.4,
             "with 10 non-members an FPR of 5% allows zero false positives: the threshold must be above "
             "every non-member's score."),
        Case("an attack that ranks every member last, at FPR 50%",
             (np.array([0.1, 0.3, 0.8, 0.9]), np.array([_T, _T, _F, _F]), 0.5), 0.0, hint),
    ]
    with blocked(*_METRICS):
        run_cases(TPR, tpr_at_fpr, cases)
    if scores is not None:
        for fpr in (0.01, 0.1):
            with blocked(*_METRICS):
                got = call_student(TPR, tpr_at_fpr, np.asarray(scores), np.asarray(is_member), fpr)
            require(abs(float(got) - reference_tpr_at_fpr(scores, is_member, fpr=fpr)) < 1e-6, TPR,
                    f"your function is right on the small cases but not on the notebook's scores at FPR {fpr}.",
                    "make sure it works for any number of records, with ties and any score range.")
    return passed(TPR, f"{len(cases)} small cases{' and the real scores' if scores is not None else ''}")
