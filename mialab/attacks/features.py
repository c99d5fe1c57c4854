"""Per-record features of a black box's answers that attacks share: confidence, loss, entropy, logit scaling.

Every function takes `probs` of shape (n, k) (rows sum to 1) and, where needed, true labels `y` of shape (n,),
and returns one value per record, shape (n,), unless said otherwise.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_labels, as_proba, check_positive_int
from .._reference import reference

_EPS = 1e-12


def true_class_confidence(probs, y) -> np.ndarray:
    """The probability given to the true label, p_y: (n, k), (n,) -> (n,)."""
    probs = as_proba(probs)
    y = as_labels(y, n=len(probs), n_classes=probs.shape[1])
    return probs[np.arange(len(y)), y]


def cross_entropy(probs, y) -> np.ndarray:
    """The loss -log p_y (clipped at 1e-12): (n, k), (n,) -> (n,)."""
    return -np.log(np.clip(true_class_confidence(probs, y), _EPS, None))


@reference
def sorted_top_k(probs, k: int = 3) -> np.ndarray:
    """The k largest probabilities of each row, in decreasing order (Salem et al. 2019): (n, C) -> (n, k)."""
    probs = as_proba(probs)
    k = check_positive_int(k, "k")
    if k > probs.shape[1]:
        raise ValueError(f"`k` = {k} is larger than the number of classes ({probs.shape[1]}); pass "
                         f"k <= {probs.shape[1]}.")
    return -np.sort(-probs, axis=1)[:, :k]


@reference
def entropy(probs) -> np.ndarray:
    """Shannon entropy of each row, in nats (low = confident): (n, k) -> (n,)."""
    probs = as_proba(probs)
    return -np.sum(probs * np.log(np.clip(probs, _EPS, None)), axis=1)


@reference
def modified_entropy(probs, y) -> np.ndarray:
    """Song & Mittal (2021): -(1-p_y) log p_y - sum_{i != y} p_i log(1-p_i) (low = member): (n, k), (n,) -> (n,)."""
    probs = as_proba(probs)
    y = as_labels(y, n=len(probs), n_classes=probs.shape[1])
    rows = np.arange(len(y))
    p_y = probs[rows, y]
    others = probs * np.log(np.clip(1 - probs, _EPS, None))
    others[rows, y] = 0.0
    return -(1 - p_y) * np.log(np.clip(p_y, _EPS, None)) - others.sum(axis=1)


@reference
def logit_scale(probs, y) -> np.ndarray:
    """LiRA's scaled confidence log(p_y / (1 - p_y)), computed stably (Carlini et al. 2022): (n, k), (n,) -> (n,)."""
    probs = as_proba(probs)
    y = as_labels(y, n=len(probs), n_classes=probs.shape[1])
    rows = np.arange(len(y))
    p_y = np.clip(probs[rows, y], _EPS, None)
    rest = probs.copy()
    rest[rows, y] = 0.0
    return np.log(p_y) - np.log(np.clip(rest.sum(axis=1), _EPS, None))
