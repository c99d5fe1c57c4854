"""Vulnerable records (Long et al. 2018/2020): leakage is not spread evenly. Per-record leakage from many target
models, the most exposed records, what makes them outliers, and the leave-one-out influence behind Long et al.'s
differential training privacy (DTP).

Arrays are records x models (mialab.attacks.signals): `scores` (n, T) and `is_member` (n, T) from
signals.leave_one_out or signals.cross_chunk; `values` (n, m) a per-model feature such as the logit-scaled
confidence, with `masks` (n, m) bool saying which models trained on which record.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.neighbors import NearestNeighbors

from .._validation import as_array, as_bool_mask, as_features, as_labels, check_fraction, check_positive_int, \
    check_seed
from ..cache import train_many_cached
from .features import logit_scale


def _records_by_models(scores, is_member, name="scores"):
    scores = as_array(scores, name, ndim=2, dtype=float)
    is_member = as_bool_mask(is_member, "is_member", scores.shape)
    if is_member.all() or not is_member.any():
        raise ValueError("`is_member` must hold both members and non-members (True and False).")
    return scores, is_member


@dataclass
class RecordLeakage:
    """Per-record leakage at one global threshold: tpr (n,), fpr (n,) (NaN where a record was never IN / OUT),
    n_in (n,), n_out (n,), and the threshold (the pooled scores' threshold at the target FPR)."""

    tpr: np.ndarray
    fpr: np.ndarray
    n_in: np.ndarray
    n_out: np.ndarray
    threshold: float


def per_record_leakage(scores, is_member, fpr: float = 0.01) -> RecordLeakage:
    """How often each record is caught: scores (n, T), is_member (n, T) bool -> RecordLeakage.

    One threshold for all (the lowest whose pooled FPR over all records and targets is <= `fpr`); a record's TPR is
    the share of the targets that trained on it whose score is above it, its FPR the same over the targets that
    did not. A handful of records carry most of the true positives at low FPR (Carlini et al. 2022, Fig. 5;
    Long et al. 2020)."""
    scores, is_member = _records_by_models(scores, is_member)
    fpr = check_fraction(fpr, "fpr")
    out_scores = np.sort(scores[~is_member])[::-1]                       # non-member scores, highest first
    allowed = int(np.floor(fpr * len(out_scores) + 1e-9))                # false positives allowed
    threshold = float(np.nextafter(out_scores[allowed], np.inf)) if allowed < len(out_scores) else -np.inf
    called = scores >= threshold
    n_in, n_out = is_member.sum(axis=1), (~is_member).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = np.where(n_in > 0, (called & is_member).sum(axis=1) / n_in, np.nan)
        fpr_ = np.where(n_out > 0, (called & ~is_member).sum(axis=1) / n_out, np.nan)
    return RecordLeakage(tpr=tpr, fpr=fpr_, n_in=n_in, n_out=n_out, threshold=threshold)


def most_exposed(leakage, k: int = 10) -> np.ndarray:
    """Indices of the `k` records with the highest per-record TPR (ties: lower per-record FPR first): -> (k,)."""
    if not isinstance(leakage, RecordLeakage):
        raise TypeError(f"`leakage` must be what per_record_leakage returns; got {type(leakage).__name__}.")
    k = check_positive_int(k, "k")
    tpr = np.nan_to_num(leakage.tpr, nan=-1.0)
    fpr = np.nan_to_num(leakage.fpr, nan=1.0)
    return np.lexsort((fpr, -tpr))[:k]


def influence(values, masks) -> np.ndarray:
    """Leave-one-out influence of each record on its own prediction, estimated from many models: values (n, m),
    masks (n, m) bool -> (n,): mean value over the models that trained on the record minus the mean over those
    that did not.

    With `values` the logit-scaled confidence, this is how much including a record raises the model's confidence
    in it, averaged over random training sets and seeds: the quantity Long et al.'s differential training privacy
    bounds (and Feldman's memorization score). Records with a large influence are the ones LiRA catches."""
    values = as_array(values, "values", ndim=2, dtype=float)
    masks = as_bool_mask(masks, "masks", values.shape)
    n_in, n_out = masks.sum(axis=1), (~masks).sum(axis=1)
    if (n_in == 0).any() or (n_out == 0).any():
        raise ValueError("every record needs at least one model that trained on it and one that did not; use "
                         "data.in_out_mask, which keeps each record IN for half the models.")
    return np.where(masks, values, 0).sum(axis=1) / n_in - np.where(~masks, values, 0).sum(axis=1) / n_out


def outlier_scores(X, y, n_neighbors: int = 5) -> dict:
    """How atypical each record is within its class: X (n, d), y (n,) -> dict of (n,) arrays:
    centroid_distance (Euclidean distance to its class's mean record) and neighbour_distance (mean distance to its
    `n_neighbors` nearest other records of the same class).

    Long et al. (2018) select vulnerable records as those with few close neighbours in a feature space; the
    records LiRA exposes most tend to be far from their class on both measures."""
    X = as_features(X).reshape(len(X), -1).astype(np.float64)
    y = as_labels(y, n=len(X))
    n_neighbors = check_positive_int(n_neighbors, "n_neighbors")
    centroid = np.zeros(len(X))
    neighbour = np.full(len(X), np.nan)
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        centroid[rows] = np.linalg.norm(X[rows] - X[rows].mean(axis=0), axis=1)
        k = min(n_neighbors, len(rows) - 1)
        if k >= 1:
            distances, _ = NearestNeighbors(n_neighbors=k + 1).fit(X[rows]).kneighbors(X[rows])
            neighbour[rows] = distances[:, 1:].mean(axis=1)
    return {"centroid_distance": centroid, "neighbour_distance": neighbour}


def retrain_without(X, y, index: int, *, n_seeds: int = 2, random_state: int = 0,
                    **config) -> dict:
    """The exact leave-one-out experiment for record `index` of the training set X (n, d), y (n,): train
    `n_seeds` models on all records and, with the same seeds, on all but that one -> dict of arrays (n_seeds,):
    with_record and without_record, the logit-scaled confidence on the record, and difference = with - without.

    Same seed = same initial weights, so the difference isolates what the one record did (the minibatch order still
    differs). Each model is trained with mialab.cache.train_many_cached (so it is cached); `config` goes to
    train_many (hidden, epochs, lr, ...). (Long et al. 2017, "Towards measuring membership privacy": DTP.)"""
    X = as_features(X)
    y = as_labels(y, n=len(X))
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < len(X):
        raise ValueError(f"`index` must be a record index in [0, {len(X)}); got {index!r}.")
    n_seeds = check_positive_int(n_seeds, "n_seeds")
    config.setdefault("n_classes", int(y.max()) + 1)
    seeds = np.random.SeedSequence(check_seed(random_state)).generate_state(n_seeds)
    full = np.ones((len(X), 1), bool)
    without = full.copy()
    without[index] = False
    out = {"with_record": [], "without_record": []}
    for seed in seeds:
        for key, mask in (("with_record", full), ("without_record", without)):
            stack = train_many_cached(X, y, mask, random_state=int(seed), **config)
            probs = stack.predict_proba(X[index:index + 1])[0]
            out[key].append(float(logit_scale(probs, y[index:index + 1])[0]))
    out = {k: np.array(v) for k, v in out.items()}
    out["difference"] = out["with_record"] - out["without_record"]
    return out
