"""Checks for notebook 00 (the membership game and its metrics)."""

from __future__ import annotations

import numpy as np

from .._reference import blocked
from ..metrics import advantage
from ..metrics import tpr_at_fpr as reference_tpr_at_fpr
from . import _METRICS, Case, call_student, explicit_hints, passed, require, run_cases, skippable
from . import use_reference  # noqa: F401 (a notebook imports it from here, as it does hint)

ADVANTAGE = "Exercise 0.1 (membership advantage)"
TPR = "Exercise 0.2 (TPR at a fixed FPR)"

_T, _F = True, False


@skippable(ADVANTAGE)
def check_membership_advantage(membership_advantage, scores=None, is_member=None) -> None:
    """Check `membership_advantage(scores, is_member) -> float` on small cases, then on real scores."""
    __tracebackhide__ = True
    hint = ("Each threshold t is one attacker, with its own TPR and FPR; the advantage is the best of them. "
            "Which thresholds can give different answers? Only moving t past a score changes who is called a member.")
    cases = [
        Case("a perfect attack (members score highest)", (np.array([0.9, 0.8, 0.3, 0.1]), np.array([_T, _T, _F, _F])),
             1.0, hint),
        Case("an attack that ranks every member last", (np.array([0.1, 0.3, 0.8, 0.9]), np.array([_T, _T, _F, _F])),
             0.0, "The threshold above every score calls nobody a member: TPR = FPR = 0, so the advantage is never "
                  "below 0. " + hint),
        Case("a mixed ranking", (np.array([0.9, 0.7, 0.6, 0.4, 0.2]), np.array([_T, _F, _T, _F, _F])),
             2 / 3, hint),
        Case("tied scores", (np.array([0.5, 0.5, 0.5, 0.1]), np.array([_T, _F, _T, _F])),
             0.5, "Records with the same score are all called members or all non-members: use score >= t."),
        Case("a member and a non-member tied at the top", (np.array([0.5, 0.5, 0.1]), np.array([_T, _F, _F])),
             0.5, "No threshold separates two records with the same score: walking down a sorted list one record "
                  "at a time counts a tie as if it were split. Move the threshold past all tied records at once."),
        Case("scores outside [0, 1] (negative, as minus a loss is)",
             (np.array([-1.0, -2.0, -3.0, 4.0]), np.array([_T, _F, _F, _T])), 1.0,
             "Scores are not probabilities: they can be any real numbers. Thresholds from a fixed grid miss them; "
             "the scores themselves are the thresholds worth trying."),
    ]
    with blocked(*_METRICS):
        run_cases(ADVANTAGE, membership_advantage, cases)
    if scores is not None:
        with blocked(*_METRICS):
            got = call_student(ADVANTAGE, membership_advantage, np.asarray(scores), np.asarray(is_member))
        require(abs(float(got) - advantage(scores, is_member)) < 1e-6, ADVANTAGE,
                "your function is right on the small cases but not on the notebook's scores.",
                "A fixed grid of thresholds (such as np.linspace(0, 1, 100)) misses the best one when two scores "
                "fall between grid points; try the scores themselves as thresholds.")
    return passed(ADVANTAGE, f"{len(cases)} small cases{' and the real scores' if scores is not None else ''}")


_TIE_HINT = ("Records with the same score are called members together or not at all: a threshold cannot split a tie. "
             "The ROC points of a tie are its two ends only (a line between them, or walking the tie one record at "
             "a time, counts thresholds that do not exist); the FPR you get counts every non-member with "
             "score >= t, ties included.")


@skippable(TPR)
def check_tpr_at_fpr(tpr_at_fpr, scores=None, is_member=None) -> None:
    """Check `tpr_at_fpr(scores, is_member, fpr) -> float` on small cases, then on real scores."""
    __tracebackhide__ = True
    hint = ("Picture the attacker lowering the threshold from above every score: TPR and FPR only grow. "
            "Stop at the last threshold whose FPR is still at most `fpr`; its TPR is the answer.")
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
             "With 10 non-members an FPR of 5% allows zero false positives: the threshold must be above "
             "every non-member's score."),
        Case("5 members and 10 non-members at FPR 15% (still one false positive allowed)",
             (scores_small + np.r_[0, -0.7, 0, 0, 0, np.zeros(10)], mask_small, 0.15), 0.4,
             "With 10 non-members, FPR 15% allows one false positive, not 1.5. A threshold read off a quantile of "
             "the non-member scores (np.quantile interpolates) can let two through; check the FPR you actually get."),
        Case("an attack that ranks every member last, at FPR 50%",
             (np.array([0.1, 0.3, 0.8, 0.9]), np.array([_T, _T, _F, _F]), 0.5), 0.0, hint),
        *[Case(f"a member and a non-member tied at 0.5, FPR 25% of 2 non-members (none allowed){which}",
               (np.array([0.9, 0.5, 0.5, 0.1]), np.array(member), 0.25), 0.5, _TIE_HINT)
          for which, member in (("", [_T, _T, _F, _F]), (", the non-member listed first", [_T, _F, _T, _F]))],
        Case("a member tied with the highest non-member, at FPR 5% of 10 non-members (none allowed)",
             (scores_small - np.r_[0.5, np.zeros(14)], mask_small, 0.05), 0.2, _TIE_HINT),
    ]
    with blocked(*_METRICS):
        run_cases(TPR, tpr_at_fpr, cases)
    if scores is not None:
        for fpr in (0.01, 0.1):
            with blocked(*_METRICS):
                got = call_student(TPR, tpr_at_fpr, np.asarray(scores), np.asarray(is_member), fpr)
            require(abs(float(got) - reference_tpr_at_fpr(scores, is_member, fpr=fpr)) < 1e-6, TPR,
                    f"your function is right on the small cases but not on the notebook's scores at FPR {fpr}.",
                    "Count the false positives your threshold really lets through, ties included: FPR = (non-members "
                    "with score >= t) / (all non-members) must be at most `fpr`.")
    return passed(TPR, f"{len(cases)} small cases{' and the real scores' if scores is not None else ''}")


HINTS = {
    "0.1": ("Only the scores themselves are worth trying as thresholds (np.unique gives each once, sorted). For one "
            "threshold t, TPR is the share of the member scores that are >= t (a mean of a boolean array is a "
            "share) and FPR the same share among the non-member scores. Keep the largest TPR - FPR; the threshold "
            "above every score gives 0, a fine starting value."),
    "0.2": ("Try each distinct score as the threshold t. Skip a t whose FPR (the share of non-member scores >= t) "
            "is above `fpr`; among the others keep the largest TPR (the share of member scores >= t). Start from "
            "0.0: the threshold above every score keeps to any FPR."),
}


hint = explicit_hints(HINTS)
