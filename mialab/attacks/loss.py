"""Yeom et al. (2018): the loss-threshold attack and the correctness attack."""

from __future__ import annotations

import numpy as np

from .._validation import check_count, as_features, as_labels, check_positive_int, check_scalar, check_seed
from ..blackbox import check_target, query_labels, query_probabilities
from ..models import predict_proba
from .base import Attack, as_recipe
from .features import cross_entropy
from .shadow import ShadowModels, shadows_for_pool


def mean_training_loss(shadows: ShadowModels, X, y) -> float:
    """The shadow models' average cross-entropy on their own training records: the attacker's estimate of the
    target's expected training loss. shadows from train_shadows on the pool X (n, d), y (n,) -> float."""
    if not isinstance(shadows, ShadowModels):
        raise TypeError(f"`shadows` must be the ShadowModels that train_shadows returns; got {type(shadows).__name__}.")
    X = as_features(X, n=shadows.members.shape[0])
    y = as_labels(y, n=len(X))
    losses = []
    for j in range(len(shadows)):
        rows = shadows.members[:, j]
        losses.append(cross_entropy(_proba(shadows.stack, j, X[rows]), y[rows]))
    return float(np.mean(np.concatenate(losses)))


def _proba(stack, j, X):
    return predict_proba(stack[j], X)


class LossAttack(Attack):
    """Yeom et al.'s threshold adversary: a record is a member when the target's loss on it is below the expected
    training loss.

    The score is minus the cross-entropy, -log p_y (higher = member), so AUC and ROC need no threshold. `threshold_`
    is minus the expected training loss, in score units: predict() calls members the records with
    score >= threshold_, i.e. loss <= expected loss. The attacker either knows the expected training loss (Yeom's
    assumption; pass `expected_loss`, e.g. the target's reported training loss, then no fit is needed) or
    estimates it: fit(X_pool, y_pool) trains `n_shadows` shadow models with the target's recipe on the attacker's
    pool and takes their average loss on their own training records.

    Threat model:
        data:      none when `expected_loss` is given; else >= 2 * train_size labelled records from the target's
                   distribution
        knowledge: the expected training loss, or the target's training recipe to estimate it with shadows
        outputs:   the probability of the true label ("probabilities"; "rounded" is renormalised, a rounded 0
                   counts as loss -log 1e-12); top_k and label rejected
        queries:   one per candidate record; none for fitting
    Paper: S. Yeom, I. Giacomelli, M. Fredrikson, S. Jha, "Privacy Risk in Machine Learning: Analyzing the
    Connection to Overfitting", IEEE CSF 2018 (Sec. 3.2 and 6). Taught in notebook 04.
    """

    _fitted = ("expected_loss_",)

    def __init__(self, expected_loss: float | None = None, *, n_shadows: int = 1, train_size: int = 2500,
                 recipe=None, random_state: int = 0):
        if expected_loss is not None:
            try:
                self.expected_loss_ = check_scalar(expected_loss, "expected_loss", low=0.0)
            except (TypeError, ValueError):
                raise ValueError(f"`expected_loss` must be a finite number >= 0 (an average cross-entropy); got "
                                 f"{expected_loss!r}. Pass None to estimate it with shadow models in fit().") from None
        self.expected_loss = expected_loss
        self.n_shadows = check_count(n_shadows, "n_shadows")
        self.train_size = check_positive_int(train_size, "train_size")
        self.recipe = as_recipe(recipe)
        self.random_state = check_seed(random_state)

    @property
    def threshold_(self) -> float:
        """Minus the expected training loss: the score above which predict() calls a record a member."""
        self._check_fitted()
        return -self.expected_loss_

    def fit(self, X, y, *, shadows: ShadowModels | None = None) -> "LossAttack":
        """Estimate the expected training loss from shadows trained on the pool X (n, d), y (n,) (or `shadows`
        already trained on it). Does nothing when `expected_loss` was given."""
        if self.expected_loss is not None:
            return self
        X = as_features(X)
        y = as_labels(y, n=len(X))
        shadows = shadows_for_pool(X, y, shadows, n_shadows=self.n_shadows, train_size=self.train_size,
                                   recipe=self.recipe, random_state=self.random_state)
        self.shadows_ = shadows
        self.expected_loss_ = mean_training_loss(shadows, X, y)
        return self

    def score(self, target, X, y) -> np.ndarray:
        """Minus the target's loss on each candidate, X (n, d), y (n,) -> (n,) (higher = member)."""
        check_target(target)
        X = as_features(X)
        y = as_labels(y, n=len(X))
        probs = query_probabilities(target, X)
        return -cross_entropy(probs, as_labels(y, n=len(X), n_classes=probs.shape[1]))


class CorrectnessAttack(Attack):
    """Yeom et al.'s bounded-loss adversary under the 0-1 loss: a record is a member when the target classifies
    it correctly.

    score(target, X, y) -> (n,): 1.0 where the target's label equals y, else 0.0. Its advantage is exactly the
    generalization gap (TPR = training accuracy, FPR = test accuracy); Yeom et al. prove that every bounded-loss
    adversary's advantage equals the gap in expected loss. Needs no data, no fitting (fit is a no-op) and works
    with any output, including label-only.

    Threat model:
        data:      none
        knowledge: none
        outputs:   any ("probabilities", "rounded", "top_k" or "label"); only the predicted label is used
        queries:   one per candidate record
    Paper: S. Yeom, I. Giacomelli, M. Fredrikson, S. Jha, "Privacy Risk in Machine Learning: Analyzing the
    Connection to Overfitting", IEEE CSF 2018 (Sec. 3.2, Theorem 2); also the "gap attack" of Choquette-Choo et
    al. 2021. Taught in notebooks 01 and 05.
    """

    needs = "labels"
    threshold_ = 0.5

    def __init__(self, random_state: int = 0):
        self.random_state = check_seed(random_state)

    def score(self, target, X, y) -> np.ndarray:
        """1.0 where the target predicts the true label of each candidate, else 0.0: X (n, d), y (n,) -> (n,)."""
        check_target(target)
        X = as_features(X)
        y = as_labels(y, n=len(X), n_classes=getattr(target, "n_classes", None))
        predicted = query_labels(target, X)
        return (predicted == y).astype(float)
