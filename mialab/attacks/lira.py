"""LiRA, the likelihood-ratio attack (Carlini et al. 2022): per-record Gaussians of the logit-scaled confidence on
reference models that did (IN) and did not (OUT) train on the record. Taught in notebook 05.

Arrays are records x models (mialab.attacks.signals): `ref_signals` (n, m) holds the logit-scaled confidence
log(p_y / (1 - p_y)) of reference model j on record i, or (n, m, n_aug) with one value per augmented query;
`in_mask` (n, m) bool says which models trained on which record (data.in_out_mask). `lira_scores` is an attack
function (signals.SignalAttack) for signals.leave_one_out; `LiRA` wraps it in the package's attack shape (fit on
the attacker's pool, score a black box).

What it computes, and where it differs from the authors' code (tensorflow/privacy, research/mi_lira_2021):
- each Gaussian's mean is the median of its values, as in the authors' code;
- "fixed variance" uses one standard deviation per side for all records: here the pooled WITHIN-record spread
  (sqrt of the summed squared deviations from each record's mean over the summed degrees of freedom), where the
  authors' code takes the standard deviation of all values of that side at once (which adds the spread between
  records' means). The pooled spread is what the paper's "global variance" estimates under its model (one
  variance, per-record means); the difference in AUC on our data was at most 0.006. The authors' online code
  (plot.py, generate_ours) also takes the IN side's spread for BOTH Gaussians when the variance is fixed; here
  each side keeps its own;
- the per-record standard deviation uses ddof=1 (the unbiased variance; the authors' code uses NumPy's default
  ddof=0), falling back to the pooled spread for records with fewer than 2 models on a side;
- the online score is log N(x; mu_in, s_in) - log N(x; mu_out, s_out); the offline score is the paper's
  one-sided test, here -log Pr[Z > x], Z ~ N(mu_out, s_out), which keeps its resolution in the far tail where
  low-FPR decisions are made;
- with augmented queries every quantity is per augmentation and the scores are averaged over augmentations.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from .._reference import reference
from .._validation import as_array, as_bool_mask, as_features, as_labels, check_bool, check_scalar, check_seed
from ..blackbox import query_probabilities
from ..cache import train_in_out_models
from .augment import shifted_copies  # noqa: F401 (notebook 05 calls lira.shifted_copies)
from .base import Attack, as_recipe
from .features import logit_scale
from .signals import _augmented, signals

_MIN_STD = 1e-6


# ---------------------------------------------------------------------------------------------------------------
# checks
# ---------------------------------------------------------------------------------------------------------------

def _check_refs(target_signals, ref_signals, in_mask, *, need_in: bool):
    """-> x (n, a), values (n, m, a), ref_in (n, m), squeeze (whether inputs had no augmentation axis)."""
    x = as_array(target_signals, "target_signals", dtype=float)
    if x.ndim not in (1, 2):
        raise ValueError(f"`target_signals` must have shape (n,) (one value per record) or (n, n_aug) (one per "
                         f"augmented query); got {x.shape}.")
    squeeze = x.ndim == 1
    x = x[:, None] if squeeze else x
    values = as_array(ref_signals, "ref_signals", dtype=float)
    if values.ndim != (2 if squeeze else 3):
        want = "(n, m): records x reference models" if squeeze else "(n, m, n_aug): records x models x augmentations"
        raise ValueError(f"`ref_signals` must have shape {want}, to match `target_signals` of shape "
                         f"{(len(x),) if squeeze else x.shape}; got {values.shape}.")
    values = values[:, :, None] if squeeze else values
    if values.shape[0] != x.shape[0] or values.shape[2] != x.shape[1]:
        augmentations = "" if squeeze else f" and {x.shape[1]} augmentations"
        raise ValueError(f"`ref_signals` has shape {values.shape[:2] if squeeze else values.shape} but "
                         f"`target_signals` has {x.shape[0]} records{augmentations}; pass the same records (and "
                         "augmentations) in the same order.")
    ref_in = np.zeros(values.shape[:2], bool) if in_mask is None else in_mask
    ref_in = as_bool_mask(ref_in, "in_mask", values.shape[:2])
    n_out = (~ref_in).sum(axis=1)
    if (n_out == 0).any():
        raise ValueError(f"{int((n_out == 0).sum())} record(s) have no OUT reference model (a model that did not "
                         "train on them); LiRA needs at least one per record. Use more reference models.")
    if need_in:
        n_in = ref_in.sum(axis=1)
        if (n_in == 0).any():
            raise ValueError(f"{int((n_in == 0).sum())} record(s) have no IN reference model; the online attack "
                             "needs at least one per record. Use more reference models (data.in_out_mask keeps "
                             "every record IN for half of them), or the offline attack.")
    return x, values, ref_in, squeeze


# ---------------------------------------------------------------------------------------------------------------
# Gaussians and scores
# ---------------------------------------------------------------------------------------------------------------

def _gaussian(values: np.ndarray, mask: np.ndarray, fix_variance: bool):
    """Per record (and augmentation): median and standard deviation of values[i, mask[i]] -> (n, a), (n, a)."""
    selected = np.where(mask[:, :, None], values, np.nan)
    count = mask.sum(axis=1)
    mean = np.nanmedian(selected, axis=1)
    centred = selected - np.nanmean(selected, axis=1, keepdims=True)
    squares = np.nansum(centred ** 2, axis=1)                                  # (n, a)
    dof = int(np.sum(np.maximum(count - 1, 0)))
    if dof > 0:
        pooled = np.sqrt(squares.sum(axis=0) / dof)                            # (a,) within-record spread
    else:  # one model per record: no within-record spread to pool; use the spread over records (authors' code)
        pooled = np.nanstd(selected, axis=(0, 1))
    pooled = np.maximum(pooled, _MIN_STD)
    if fix_variance:
        return mean, np.broadcast_to(pooled, mean.shape).copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        own = np.sqrt(squares / np.maximum(count - 1, 1)[:, None])
    std = np.where((count >= 2)[:, None], own, pooled[None, :])
    return mean, np.maximum(std, _MIN_STD)


def fit_gaussians(ref_signals, in_mask, *, fix_variance: bool = False) -> dict:
    """IN and OUT Gaussians of each record: ref_signals (n, m) or (n, m, n_aug), in_mask (n, m) bool -> dict of
    mean_in, std_in, mean_out, std_out, each (n,) (or (n, n_aug)); the IN ones are NaN-free only where a record has
    IN models (records without IN models get NaN there).

    Mean = median over the models (authors' code). fix_variance: one standard deviation per side for all records
    (the pooled within-record spread); else each record's own, falling back to the pooled one for records with
    fewer than 2 models on that side. (Carlini et al. 2022, Sec. IV, Algorithm 1.)"""
    fix_variance = check_bool(fix_variance, "fix_variance")
    values = as_array(ref_signals, "ref_signals", dtype=float)
    if values.ndim not in (2, 3):
        raise ValueError(f"`ref_signals` must have shape (n, m) or (n, m, n_aug); got {values.shape}.")
    squeeze = values.ndim == 2
    values = values[:, :, None] if squeeze else values
    ref_in = as_bool_mask(in_mask, "in_mask", values.shape[:2])
    out = {}
    for side, mask in (("in", ref_in), ("out", ~ref_in)):
        if not mask.any():
            mean = std = np.full((values.shape[0], values.shape[2]), np.nan)
        else:
            has = mask.any(axis=1)
            mean = np.full((values.shape[0], values.shape[2]), np.nan)
            std = mean.copy()
            mean[has], std[has] = _gaussian(values[has], mask[has], fix_variance)
        out[f"mean_{side}"], out[f"std_{side}"] = (mean[:, 0], std[:, 0]) if squeeze else (mean, std)
    return out


@reference
def log_likelihood_ratio(x, mean_in, std_in, mean_out, std_out) -> np.ndarray:
    """LiRA's online score log N(x; mean_in, std_in^2) - log N(x; mean_out, std_out^2), elementwise: arrays of one
    shape (n,) -> (n,). (Carlini et al. 2022, Eq. 4 / Algorithm 1 line 16.)"""
    arrays = [as_array(a, name, dtype=float) for a, name in
              ((x, "x"), (mean_in, "mean_in"), (std_in, "std_in"), (mean_out, "mean_out"), (std_out, "std_out"))]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"x, mean_in, std_in, mean_out and std_out must have one shape (one value per record); got "
                         f"{[a.shape for a in arrays]}.")
    x, mean_in, std_in, mean_out, std_out = arrays
    if (std_in <= 0).any() or (std_out <= 0).any():
        raise ValueError("`std_in` and `std_out` must be > 0 (standard deviations).")
    return norm.logpdf(x, mean_in, std_in) - norm.logpdf(x, mean_out, std_out)


def lira_online(target_signals, ref_signals, in_mask=None, *, fix_variance: bool = False) -> np.ndarray:
    """Online LiRA: target_signals (n,) or (n, n_aug), ref_signals (n, m[, n_aug]), in_mask (n, m) bool -> scores (n,).

    The log likelihood ratio of the target's value under the record's IN and OUT Gaussians (averaged over
    augmentations); every record needs >= 1 IN and >= 1 OUT reference model. (Carlini et al. 2022, Algorithm 1.)"""
    fix_variance = check_bool(fix_variance, "fix_variance")
    x, values, ref_in, _ = _check_refs(target_signals, ref_signals, in_mask, need_in=True)
    mean_in, std_in = _gaussian(values, ref_in, fix_variance)
    mean_out, std_out = _gaussian(values, ~ref_in, fix_variance)
    return (norm.logpdf(x, mean_in, std_in) - norm.logpdf(x, mean_out, std_out)).mean(axis=1)


def lira_offline(target_signals, ref_signals, in_mask=None, *, fix_variance: bool = False) -> np.ndarray:
    """Offline LiRA: only the OUT models of each record -> scores (n,): -log Pr[Z > x], Z ~ N(mean_out, std_out^2).

    target_signals (n,) or (n, n_aug), ref_signals (n, m[, n_aug]); in_mask (n, m) bool marks the models to ignore per
    record (None: every reference model is OUT, as when they trained on the attacker's own pool). Needs >= 1 OUT
    model per record; with 1, use fix_variance (a per-record spread needs 2). (Carlini et al. 2022, Sec. VI-C.)"""
    fix_variance = check_bool(fix_variance, "fix_variance")
    x, values, ref_in, _ = _check_refs(target_signals, ref_signals, in_mask, need_in=False)
    mean_out, std_out = _gaussian(values, ~ref_in, fix_variance)
    return -norm.logsf(x, mean_out, std_out).mean(axis=1)


def lira_scores(target_signals, ref_signals, in_mask=None, *, online: bool = True,
                fix_variance: bool = False) -> np.ndarray:
    """lira_online (online=True) or lira_offline: see those. -> scores (n,), higher = member. An attack function
    for signals.leave_one_out / cross_chunk / score_targets (a signals.SignalAttack)."""
    online = check_bool(online, "online")
    if online:
        return lira_online(target_signals, ref_signals, in_mask, fix_variance=fix_variance)
    return lira_offline(target_signals, ref_signals, in_mask, fix_variance=fix_variance)


# ---------------------------------------------------------------------------------------------------------------
# the attack
# ---------------------------------------------------------------------------------------------------------------

class LiRA(Attack):
    """Carlini et al.'s likelihood-ratio attack against a black box, with reference models trained like the target.

    Offline (online=False): fit(X_pool, y_pool) trains `n_reference` reference models on random halves of the
    attacker's pool (mialab.cache.train_in_out_models, cached on disk); none trained on a candidate, so each
    candidate's OUT Gaussian uses all of them. Online (online=True): the reference models must also train on the
    candidates, which are known only at score time, so score(target, X, y) trains them then on the pool plus the
    candidates, each candidate IN for half of them (cached, so scoring the same candidates again is free).
    score -> (n,): the log likelihood ratio (online) or -log Pr[Z > x] under the OUT Gaussian (offline), from the
    target's logit-scaled confidence (averaged over `augment` copies, e.g. augment.shifted_copies, if given).
    After scoring, `reference_models_` and `in_mask_` hold the reference models and which candidates (online) or
    pool records (offline) each trained on, for reuse by another attack (signals.signals).
    predict: online, member when the likelihood ratio exceeds 1 (`threshold_` = 0); offline, member when the
    target's confidence is above the OUT Gaussian at the 5% level (`threshold_` = -log 0.05).

    recipe: the target's training recipe (mialab.recipe.TrainingRecipe: architecture, activation, dropout,
    epochs, batch size, lr, weight decay). Pass a pool about twice the target's training set, so each reference
    model trains on as many records as the target (Carlini et al. train on half of the data too).

    Threat model:
        data:      labelled records from the target's distribution (the pool), and for online the candidates
        knowledge: the target's training recipe
        outputs:   the full probability vector ("probabilities"; "rounded" is renormalised); top_k and label
                   rejected (use label_only for those)
        queries:   one per candidate record, times the number of augmented copies; none for fitting
    Paper: N. Carlini, S. Chien, M. Nasr, S. Song, A. Terzis, F. Tramèr, "Membership Inference Attacks From First
    Principles", IEEE S&P 2022. Taught in notebook 05.
    """

    _fitted = ("X_pool_",)

    def __init__(self, n_reference: int = 16, *, online: bool = True, fix_variance: bool = False, augment=None,
                 recipe=None, chunk_size: int = 4, cache_dir=None, random_state: int = 0):
        self.n_reference = check_scalar(n_reference, "n_reference", int, low=2)
        self.chunk_size = check_scalar(chunk_size, "chunk_size", int, low=2)
        if self.chunk_size % 2 or self.n_reference % self.chunk_size:
            raise ValueError(f"`n_reference` ({n_reference}) must be a multiple of `chunk_size` ({chunk_size}, even): "
                             "reference models are trained in chunks, each record IN for half of each chunk.")
        self.online = check_bool(online, "online")
        self.fix_variance = check_bool(fix_variance, "fix_variance")
        if augment is not None and not callable(augment):
            raise TypeError(f"`augment` must be a function X -> (n_aug, n, d) or None; got {type(augment).__name__}.")
        self.augment = augment
        self.recipe = as_recipe(recipe)
        self.cache_dir = cache_dir
        self.random_state = check_seed(random_state)
        self.threshold_ = 0.0 if self.online else float(-np.log(0.05))

    def _train(self, X, y):
        return train_in_out_models(X, y, self.n_reference, chunk_size=self.chunk_size, n_classes=self.n_classes_,
                                   cache_dir=self.cache_dir, random_state=self.random_state,
                                   **self.recipe.as_kwargs())

    def fit(self, X, y, *, n_classes: int | None = None) -> "LiRA":
        """Keep the pool X (n, d), y (n,); offline, train the reference models on it now."""
        self.X_pool_ = as_features(X)
        self.y_pool_ = as_labels(y, n=len(self.X_pool_))
        self.n_classes_ = (int(self.y_pool_.max()) + 1 if n_classes is None
                           else check_scalar(n_classes, "n_classes", int, low=2))
        if not self.online:
            self.reference_models_, self.in_mask_ = self._train(self.X_pool_, self.y_pool_)
        return self

    def score(self, target, X, y) -> np.ndarray:
        """LiRA score of each candidate X (n, d), y (n,) -> (n,), higher = member."""
        self._check_fitted()
        X = as_features(X)
        if X.shape[1:] != self.X_pool_.shape[1:]:
            raise ValueError(f"the candidates have records of shape {X.shape[1:]} but the pool "
                             f"{self.X_pool_.shape[1:]}.")
        y = as_labels(y, n=len(X), n_classes=self.n_classes_)
        copies = _augmented(X, self.augment)
        probs = np.stack([query_probabilities(target, copy) for copy in copies])     # (n_aug, n, k)
        if probs.shape[2] != self.n_classes_:
            raise ValueError(f"the target answers {probs.shape[2]} classes but the pool has {self.n_classes_}; pass "
                             "n_classes= to fit if some classes are missing from the pool.")
        x = np.stack([logit_scale(p, y) for p in probs], axis=1)                     # (n, n_aug)
        if self.online:
            stack, masks = self._train(np.concatenate([X, self.X_pool_]), np.concatenate([y, self.y_pool_]))
            self.reference_models_, self.in_mask_ = stack, masks
            ref_in = masks[:len(X)]
        else:
            stack, ref_in = self.reference_models_, None
        values = signals(stack, X, y, kind="logit", augment=self.augment)
        values = values if values.ndim == 3 else values[:, :, None]
        return lira_scores(x, values, ref_in, online=self.online, fix_variance=self.fix_variance)
