"""Remove the most exposed records before training (the survey's defence after Long et al. 2018): the defender
measures each of its training records' leakage with reference models it trains itself, drops the records that
leak most (outliers, which add little to accuracy), and retrains on the rest.

Threat model: the defender knows its training set and can train reference models like its target (each record
IN for some of them, OUT for the others, as mialab.cache.train_in_out_models does). It measures leakage per record
with the same tools an attacker would (mialab.attacks.vulnerable): Long et al.'s differential training privacy
(the leave-one-out influence of a record on its own prediction) or LiRA's per-record TPR at a low FPR. The removed
records are safe by construction (they are not trained on); the question is what happens to the others: Carlini
et al. (2022, "The Privacy Onion Effect") found that removing the most exposed layer exposes the next one.
Taught in notebook 11, section 8.

record_leakage(values, masks) -> (n,) · flag_exposed(leakage, k) -> (k,) · kept_indices(leakage, k) -> (n - k,) ·
train_without_exposed(model, X, y, leakage, k) -> (model, kept).
"""

from __future__ import annotations

import numpy as np

from .._reference import reference
from .._validation import as_array, as_bool_mask, as_features, as_labels, check_choice, check_fraction, \
    check_scalar
from ..attacks import lira
from ..attacks.signals import leave_one_out
from ..attacks.vulnerable import influence, per_record_leakage
from ..models import train

MEASURES = ("influence", "lira")


def record_leakage(values, masks, *, measure: str = "influence", fpr: float = 0.01) -> np.ndarray:
    """Each record's leakage, measured with the defender's reference models: values (n, m), masks (n, m) bool ->
    (n,), higher = more exposed.

    values: each reference model's logit-scaled confidence on each record (mialab.attacks.signals.signals);
    masks: which models trained on which record. measure "influence": Long et al.'s differential training privacy,
    the mean value over the models that trained on the record minus the mean over those that did not
    (mialab.attacks.vulnerable.influence; with LiRA's fixed variance this orders the records as LiRA's power on
    each does). measure "lira": the share of a record's IN models that online LiRA (fixed variance) catches at
    `fpr`, each model in turn the target and the others its references (vulnerable.per_record_leakage); it needs
    every record IN for >= 2 and OUT for >= 2 models, and many models to be more than a coarse count.
    (Long et al. 2018, "Understanding membership inferences on well-generalized learning models"; Carlini et al.
    2022.)"""
    values = as_array(values, "values", ndim=2, dtype=float)
    masks = as_bool_mask(masks, "masks", values.shape)
    measure = check_choice(measure, "measure", MEASURES)
    fpr = check_fraction(fpr, "fpr")
    if measure == "influence":
        return influence(values, masks)
    n_in, n_out = masks.sum(axis=1), (~masks).sum(axis=1)
    if (n_in < 2).any() or (n_out < 2).any():
        raise ValueError("measure='lira' needs every record IN for at least 2 reference models and OUT for at "
                         f"least 2 (one is the target in turn); the fewest here are {int(n_in.min())} IN and "
                         f"{int(n_out.min())} OUT. Train more models (cache.train_in_out_models, n_models >= 4) or "
                         "use measure='influence'.")
    scores, is_member = leave_one_out(lira.lira_online, values, masks, fix_variance=True)
    return per_record_leakage(scores, is_member, fpr=fpr).tpr


def _check_k(leakage, k):
    leakage = as_array(leakage, "leakage", ndim=1, dtype=float)
    k = check_scalar(k, "k", int, low=0, high=len(leakage))
    return leakage, int(k)


@reference
def flag_exposed(leakage, k) -> np.ndarray:
    """The `k` most exposed records: leakage (n,) -> indices (k,) int64, the most exposed first; among equal
    leakages the lower index comes first (a stable order, so the same input always flags the same records)."""
    leakage, k = _check_k(leakage, k)
    return np.lexsort((np.arange(len(leakage)), -leakage))[:k].astype(np.int64)


@reference
def kept_indices(leakage, k) -> np.ndarray:
    """The records left after removing the `k` most exposed (flag_exposed): leakage (n,) -> indices (n - k,)
    int64, in increasing order."""
    leakage, k = _check_k(leakage, k)
    keep = np.ones(len(leakage), bool)
    keep[flag_exposed(leakage, k)] = False
    return np.flatnonzero(keep).astype(np.int64)


def train_without_exposed(model, X, y, leakage, k, **options):
    """Train `model` (a fresh torch module) on X (n, d), y (n,) without its `k` most exposed records -> (model,
    kept): the trained model (eval mode) and the indices (n - k,) of the records it trained on.

    leakage (n,): one value per training record, e.g. record_leakage(...) of the defender's reference models.
    `options` go to mialab.models.train (epochs, batch_size, lr, weight_decay, random_state), so the model trains
    as the undefended target did, on fewer records."""
    X = as_features(X)
    y = as_labels(y, n=len(X))
    leakage = as_array(leakage, "leakage", ndim=1, dtype=float)
    if len(leakage) != len(X):
        raise ValueError(f"`leakage` must hold one value per training record ({len(X)}); got {len(leakage)}.")
    kept = kept_indices(leakage, k)
    if len(kept) == 0:
        raise ValueError(f"`k` = {k} removes every training record; keep at least one.")
    return train(model, X[kept], y[kept], **options), kept
