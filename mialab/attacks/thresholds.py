"""Thresholds on a per-record value learned from shadow models' members and non-members, one per class.

Values are oriented so that higher = more likely a member (negate a loss or an entropy first). A record is called
a member when its value is >= the threshold of its class. (Song & Mittal 2021, Sec. 3.)
"""

from __future__ import annotations

import numpy as np

from .._validation import as_array, as_labels, as_membership, check_choice, check_positive_int

CRITERIA = ("balanced_accuracy", "accuracy")


def best_threshold(values, is_member, criterion: str = "balanced_accuracy") -> float:
    """The threshold t maximising `criterion` of "member iff value >= t": values (n,), is_member (n,) bool -> float.

    Candidates are the midpoints between consecutive distinct values, the smallest value (everyone a member) and
    just above the largest (nobody), so t is always finite. "balanced_accuracy" is (TPR + TNR) / 2, what Song &
    Mittal's code maximises (it ignores how many members and non-members a class happens to have); "accuracy"
    counts correct calls. Ties go to the lowest threshold.
    """
    check_choice(criterion, "criterion", CRITERIA)
    values = as_array(values, "values", ndim=1)
    is_member = as_membership(is_member, n=len(values))
    return _best(values, is_member, criterion)


def _best(values: np.ndarray, is_member: np.ndarray, criterion: str) -> float:
    order = np.argsort(values, kind="stable")
    v, m = values[order], is_member[order]
    distinct = np.flatnonzero(np.r_[True, v[1:] != v[:-1]])          # first index of each distinct value
    # calling members the records from index i on: members kept = members at or after i
    members_after = np.r_[np.cumsum(m[::-1])[::-1], 0]
    nonmembers_after = np.r_[np.cumsum(~m[::-1])[::-1], 0]
    starts = np.r_[distinct, len(v)]                                   # len(v): nobody called a member
    tp, fp = members_after[starts], nonmembers_after[starts]
    n1, n0 = int(m.sum()), int((~m).sum())
    if criterion == "balanced_accuracy":
        gain = tp / n1 - fp / n0
    else:
        gain = tp + (n0 - fp)
    i = int(np.argmax(gain))
    if i == 0:
        return float(v[0])
    if i == len(distinct):
        top = float(v[-1])
        return top + max(1e-9, 1e-9 * abs(top))
    return float((v[distinct[i] - 1] + v[distinct[i]]) / 2)


def fit_class_thresholds(values, y, is_member, n_classes: int, *, criterion: str = "balanced_accuracy") -> np.ndarray:
    """One threshold per class, each maximising `criterion` on that class's shadow records -> (n_classes,) float.

    values (n,) (higher = member), y (n,) class labels, is_member (n,) bool: the shadow models' outputs on their
    members and non-members. A class without both members and non-members among the rows gets the global
    threshold fitted on all rows. (Song & Mittal 2021, class-dependent thresholds.)
    """
    n_classes = check_positive_int(n_classes, "n_classes")
    check_choice(criterion, "criterion", CRITERIA)
    values = as_array(values, "values", ndim=1)
    y = as_labels(y, n=len(values), n_classes=n_classes)
    is_member = as_membership(is_member, n=len(values))
    thresholds = np.full(n_classes, _best(values, is_member, criterion))
    for c in np.unique(y):
        rows = y == c
        if is_member[rows].any() and not is_member[rows].all():
            thresholds[c] = _best(values[rows], is_member[rows], criterion)
    return thresholds
