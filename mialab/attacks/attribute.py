"""Attribute inference through membership (Yeom et al. 2018): complete a record with each candidate value of a
sensitive attribute, query the target, keep the value its loss says is most member-like."""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import as_array, as_features, as_labels, as_membership, check_random_state
from ..blackbox import query_probabilities
from .features import cross_entropy


def _check_column(column, n_features: int) -> int:
    if isinstance(column, bool) or not isinstance(column, numbers.Integral):
        raise TypeError(f"`column` must be the integer index of the sensitive feature; got {column!r}.")
    if not -n_features <= column < n_features:
        raise ValueError(f"`column` = {column} is out of range for records with {n_features} features; pass an index "
                         f"from 0 to {n_features - 1}.")
    return int(column) % n_features


def _check_values(values) -> np.ndarray:
    values = as_array(values, "values", ndim=1)
    if len(values) < 2 or len(np.unique(values)) != len(values):
        raise ValueError(f"`values` must list at least 2 distinct candidate values of the sensitive attribute (for a "
                         f"binary feature: (0, 1)); got {values.tolist()}.")
    return values


class AttributeInference:
    """Yeom et al.'s reduction from attribute to membership inference: for each candidate value v of the sensitive
    feature `column`, query the target on the record completed with v; infer the v with the lowest loss, the
    completion a loss attack would most call a member.

    value_scores(target, X, y) -> (n, n_values): minus the target's loss on each completion. infer(target, X, y)
    -> (n,): the inferred value of each record (the first of equally good values). The value that `X` holds in
    `column` is ignored (overwritten), as the attacker does not know it. On members the model has fitted the
    true completion, so the attack is more accurate on members than on non-members: that difference
    (attribute_accuracy) is the privacy risk attributable to the record being in the training set.

    Threat model:
        data:      the candidate records without the sensitive feature, with their labels
        knowledge: the sensitive feature's possible values
        outputs:   the probability of the true label ("probabilities"; "rounded" is renormalised); top_k and label
                   rejected
        queries:   len(values) per candidate record
    Paper: S. Yeom, I. Giacomelli, M. Fredrikson, S. Jha, "Privacy Risk in Machine Learning: Analyzing the
    Connection to Overfitting", IEEE CSF 2018 (Sec. 4 and 5). Taught in notebook 04.

    Not an `Attack` subclass: it infers a feature's value, not membership, so its output is values (infer) and
    per-value scores (value_scores) rather than one membership score per record.
    """

    def __init__(self, column: int, values=(0.0, 1.0), *, random_state: int = 0):
        if isinstance(column, bool) or not isinstance(column, numbers.Integral):
            raise TypeError(f"`column` must be the integer index of the sensitive feature; got {column!r}.")
        self.column = int(column)
        self.values = _check_values(values)
        check_random_state(random_state)
        self.random_state = random_state

    def fit(self, X=None, y=None) -> "AttributeInference":
        """Nothing to fit; returns self so the attack has the same shape as the others."""
        return self

    def value_scores(self, target, X, y) -> np.ndarray:
        """Minus the target's loss on each record completed with each candidate value: X (n, d), y (n,) ->
        (n, n_values)."""
        X = as_features(X)
        if X.ndim != 2:
            raise ValueError(f"`X` must be tabular records, shape (n, n_features); got shape {X.shape}.")
        y = as_labels(y, n=len(X))
        column = _check_column(self.column, X.shape[1])
        scores = np.empty((len(X), len(self.values)))
        for i, value in enumerate(self.values):
            completed = X.copy()
            completed[:, column] = value
            probs = query_probabilities(target, completed)
            scores[:, i] = -cross_entropy(probs, as_labels(y, n=len(X), n_classes=probs.shape[1]))
        return scores

    def infer(self, target, X, y) -> np.ndarray:
        """The inferred value of the sensitive feature for each record: X (n, d), y (n,) -> (n,)."""
        return self.values[np.argmax(self.value_scores(target, X, y), axis=1)]


def attribute_accuracy(inferred, true, is_member) -> dict[str, float]:
    """Share of records whose sensitive value was inferred right, on members and on non-members, and the gap:
    inferred (n,), true (n,), is_member (n,) bool -> dict(members, nonmembers, advantage = members - nonmembers)."""
    inferred = as_array(inferred, "inferred", ndim=1)
    true = as_array(true, "true", ndim=1)
    if len(true) != len(inferred):
        raise ValueError(f"`true` has {len(true)} values but `inferred` has {len(inferred)}; pass one per record.")
    is_member = as_membership(is_member, n=len(inferred))
    right = inferred == true
    members, nonmembers = float(right[is_member].mean()), float(right[~is_member].mean())
    return {"members": members, "nonmembers": nonmembers, "advantage": members - nonmembers}
