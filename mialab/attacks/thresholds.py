"""Thresholds on a per-record value learned from shadow models' members and non-members, one per class.

Values are oriented so that higher = more likely a member (negate a loss or an entropy first). A record is called
a member when its value is >= the threshold of its class. (Song & Mittal 2021, Sec. 3.) Each threshold comes
from mialab.metrics.choose_threshold (midpoint=True), the course's one threshold chooser. Taught in notebook 04.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_array, as_labels, as_membership, check_choice, check_positive_int
from ..metrics import choose_threshold

CRITERIA = ("balanced_accuracy", "accuracy")


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
    thresholds = np.full(n_classes, choose_threshold(values, is_member, criterion, midpoint=True))
    for c in np.unique(y):
        rows = y == c
        if is_member[rows].any() and not is_member[rows].all():
            thresholds[c] = choose_threshold(values[rows], is_member[rows], criterion, midpoint=True)
    return thresholds
