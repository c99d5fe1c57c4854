"""Song & Mittal (2021): metric attacks with thresholds calibrated on shadow models, one threshold per class."""

from __future__ import annotations

import numpy as np

from .._validation import check_count, as_features, as_labels, as_proba, check_bool, check_choice, check_positive_int, \
    check_seed
from ..blackbox import query_candidates
from .base import Attack, as_recipe
from .features import cross_entropy, entropy, modified_entropy, true_class_confidence
from .shadow import ShadowModels, shadows_for_pool
from ..metrics import choose_threshold
from .thresholds import CRITERIA, fit_class_thresholds

METRICS = ("confidence", "entropy", "modified_entropy", "loss")


def metric_values(probs, y, metric: str) -> np.ndarray:
    """The metric of each record, oriented so that higher = more likely a member: (n, k), (n,) -> (n,).

    confidence: p_y; entropy: minus the Shannon entropy; modified_entropy: minus Song & Mittal's Mentr; loss:
    minus the cross-entropy.
    """
    check_choice(metric, "metric", METRICS)
    probs = as_proba(probs)
    y = as_labels(y, n=len(probs), n_classes=probs.shape[1])
    if metric == "confidence":
        return true_class_confidence(probs, y)
    if metric == "entropy":
        return -entropy(probs)
    if metric == "modified_entropy":
        return -modified_entropy(probs, y)
    return -cross_entropy(probs, y)


def _shadow_values(shadows: ShadowModels, X, y, metric: str):
    """The metric on each shadow's members then non-members -> values (m,), labels (m,), is_member (m,), n_classes."""
    used = shadows.members.any(axis=1) | shadows.nonmembers.any(axis=1)
    probs = shadows.stack.predict_proba(X[used])                        # (n_shadows, n_used, k)
    members, nonmembers, y_used = shadows.members[used], shadows.nonmembers[used], y[used]
    values, labels, flags = [], [], []
    for j in range(len(shadows)):
        for mask, flag in ((members[:, j], True), (nonmembers[:, j], False)):
            values.append(metric_values(probs[j][mask], y_used[mask], metric))
            labels.append(y_used[mask])
            flags.append(np.full(int(mask.sum()), flag))
    return np.concatenate(values), np.concatenate(labels), np.concatenate(flags), probs.shape[-1]


class MetricAttack(Attack):
    """Song & Mittal's calibrated metric attack: a threshold on confidence, entropy, modified entropy or loss,
    learned on shadow models' members and non-members, one threshold per class (`class_dependent=True`) or one
    for all.

    fit(X_pool, y_pool) trains `n_shadows` shadows with the target's recipe (mialab.attacks.shadow.train_shadows,
    all at once), computes the metric on their members' and non-members' outputs and fits the thresholds
    (fit_class_thresholds; a class missing from the shadow data gets the global threshold). score(target, X, y)
    -> (n,): the metric minus the threshold of the record's class, with the metric oriented so that higher =
    member (see metric_values). The score is continuous, so AUC and ROC are defined; predict() calls members the
    records with score >= threshold_ = 0, i.e. above their class's threshold.

    Threat model:
        data:      >= 2 * train_size labelled records from the target's distribution (the shadows' pool)
        knowledge: the target's training recipe (`recipe`) and training set size
        outputs:   the full probability vector ("probabilities"; "rounded" is renormalised); top_k and label
                   rejected
        queries:   one per candidate record; none for fitting
    Paper: L. Song, P. Mittal, "Systematic Evaluation of Privacy Risks of Machine Learning Models", USENIX Security
    2021 (Sec. 3). Taught in notebook 04.
    """

    _fitted = ("thresholds_",)
    threshold_ = 0.0

    def __init__(self, metric: str = "modified_entropy", class_dependent: bool = True, *, n_shadows: int = 4,
                 train_size: int = 2500, recipe=None, criterion: str = "balanced_accuracy", random_state: int = 0):
        self.metric = check_choice(metric, "metric", METRICS)
        self.class_dependent = check_bool(class_dependent, "class_dependent")
        self.n_shadows = check_count(n_shadows, "n_shadows")
        self.train_size = check_positive_int(train_size, "train_size")
        self.criterion = check_choice(criterion, "criterion", CRITERIA)
        self.recipe = as_recipe(recipe)
        self.random_state = check_seed(random_state)

    def fit(self, X, y, *, shadows: ShadowModels | None = None) -> "MetricAttack":
        """Train the shadows on the pool X (n, d), y (n,) (or reuse `shadows` trained on it), then the thresholds."""
        X = as_features(X)
        y = as_labels(y, n=len(X))
        shadows = shadows_for_pool(X, y, shadows, n_shadows=self.n_shadows, train_size=self.train_size,
                                   recipe=self.recipe, random_state=self.random_state)
        self.shadows_ = shadows
        values, labels, is_member, self.n_classes_ = _shadow_values(shadows, X, y, self.metric)
        if self.class_dependent:
            thresholds = fit_class_thresholds(values, labels, is_member, self.n_classes_, criterion=self.criterion)
        else:
            thresholds = np.full(self.n_classes_, choose_threshold(values, is_member, self.criterion, midpoint=True))
        self.thresholds_ = thresholds
        self.shadow_scores_ = values - thresholds[labels]
        self.shadow_is_member_ = is_member
        return self

    def score(self, target, X, y) -> np.ndarray:
        """The metric minus its class's threshold for each candidate, X (n, d), y (n,) -> (n,) (higher = member)."""
        self._check_fitted()
        probs, y = query_candidates(target, X, y, self.n_classes_)
        return metric_values(probs, y, self.metric) - self.thresholds_[y]

