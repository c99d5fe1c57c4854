"""LiRA, the likelihood-ratio attack (Carlini et al. 2022): per-record Gaussians of the logit-scaled confidence on
reference models that did (IN) and did not (OUT) train on the record.

Arrays are records x models, as in Privacy Meter: `values` (n, m) holds the logit-scaled confidence
log(p_y / (1 - p_y)) (features.logit_scale) of model j on record i, or (n, m, n_aug) with one value per augmented
query; `ref_in` (n, m) bool says which models trained on which record (data.in_out_mask). The array functions
(`fit_gaussians`, `lira_online`, `lira_offline`, `leave_one_out_scores`) are what the notebook uses on many models;
`LiRA` wraps them in the package's attack shape (fit on the attacker's pool, score a black box).

Following the authors' code (github.com/tensorflow/privacy, research/mi_lira_2021): each Gaussian's mean is the
median of its values; "fixed variance" uses one spread for all records (the pooled within-record standard
deviation, separately for IN and OUT); the online score is log N(x; mu_in, s_in) - log N(x; mu_out, s_out); the
offline score is the paper's one-sided test, here -log Pr[Z > x], Z ~ N(mu_out, s_out) (which keeps its resolution
in the far tail, where low-FPR decisions are made). With augmented queries every quantity is per augmentation and
the scores are averaged over augmentations.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy.stats import norm

from .._validation import as_array, as_features, as_labels, check_bool, check_positive_int, check_random_state
from ..blackbox import query_probabilities
from .._reference import reference
from .features import logit_scale

_MIN_STD = 1e-6


# ---------------------------------------------------------------------------------------------------------------
# checks
# ---------------------------------------------------------------------------------------------------------------

def _bool_mask(mask, name: str, shape) -> np.ndarray:
    mask = as_array(mask, name, dtype=None)
    if mask.dtype != bool:
        if not np.isin(mask, [0, 1]).all():
            raise ValueError(f"`{name}` must hold booleans (True = the model trained on the record); got values "
                             f"{np.unique(mask)[:5]}.")
        mask = mask.astype(bool)
    if mask.shape != tuple(shape):
        raise ValueError(f"`{name}` must have shape {tuple(shape)} (records x models, like `ref_values`); got "
                         f"{mask.shape}.")
    return mask


def _check_refs(target_values, ref_values, ref_in, *, need_in: bool):
    """-> x (n, a), values (n, m, a), ref_in (n, m), squeeze (whether inputs had no augmentation axis)."""
    x = as_array(target_values, "target_values", dtype=float)
    if x.ndim not in (1, 2):
        raise ValueError(f"`target_values` must have shape (n,) (one value per record) or (n, n_aug) (one per "
                         f"augmented query); got {x.shape}.")
    squeeze = x.ndim == 1
    x = x[:, None] if squeeze else x
    values = as_array(ref_values, "ref_values", dtype=float)
    if values.ndim != (2 if squeeze else 3):
        want = "(n, m): records x reference models" if squeeze else "(n, m, n_aug): records x models x augmentations"
        raise ValueError(f"`ref_values` must have shape {want}, to match `target_values` of shape "
                         f"{(len(x),) if squeeze else x.shape}; got {values.shape}.")
    values = values[:, :, None] if squeeze else values
    if values.shape[0] != x.shape[0] or values.shape[2] != x.shape[1]:
        raise ValueError(f"`ref_values` has shape {values.shape[:2] if squeeze else values.shape} but `target_values` "
                         f"has {x.shape[0]} records{'' if squeeze else f' and {x.shape[1]} augmentations'}; pass the "
                         "same records (and augmentations) in the same order.")
    if ref_in is None:
        ref_in = np.zeros(values.shape[:2], bool)
    ref_in = _bool_mask(ref_in, "ref_in", values.shape[:2])
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


def fit_gaussians(ref_values, ref_in, *, fix_variance: bool = False) -> dict:
    """IN and OUT Gaussians of each record: ref_values (n, m) or (n, m, n_aug), ref_in (n, m) bool -> dict of
    mean_in, std_in, mean_out, std_out, each (n,) (or (n, n_aug)); the IN ones are NaN-free only where a record has
    IN models (records without IN models get NaN there).

    Mean = median over the models (authors' code). fix_variance: one standard deviation per side for all records
    (the pooled within-record spread); else each record's own, falling back to the pooled one for records with
    fewer than 2 models on that side. (Carlini et al. 2022, Sec. IV, Algorithm 1.)"""
    fix_variance = check_bool(fix_variance, "fix_variance")
    values = as_array(ref_values, "ref_values", dtype=float)
    if values.ndim not in (2, 3):
        raise ValueError(f"`ref_values` must have shape (n, m) or (n, m, n_aug); got {values.shape}.")
    squeeze = values.ndim == 2
    values = values[:, :, None] if squeeze else values
    ref_in = _bool_mask(ref_in, "ref_in", values.shape[:2])
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


def lira_online(target_values, ref_values, ref_in, *, fix_variance: bool = False) -> np.ndarray:
    """Online LiRA: target_values (n,) or (n, n_aug), ref_values (n, m[, n_aug]), ref_in (n, m) bool -> scores (n,).

    The log likelihood ratio of the target's value under the record's IN and OUT Gaussians (averaged over
    augmentations); every record needs >= 1 IN and >= 1 OUT reference model. (Carlini et al. 2022, Algorithm 1.)"""
    fix_variance = check_bool(fix_variance, "fix_variance")
    x, values, ref_in, _ = _check_refs(target_values, ref_values, ref_in, need_in=True)
    mean_in, std_in = _gaussian(values, ref_in, fix_variance)
    mean_out, std_out = _gaussian(values, ~ref_in, fix_variance)
    return (norm.logpdf(x, mean_in, std_in) - norm.logpdf(x, mean_out, std_out)).mean(axis=1)


def lira_offline(target_values, ref_values, ref_in=None, *, fix_variance: bool = False) -> np.ndarray:
    """Offline LiRA: only the OUT models of each record -> scores (n,): -log Pr[Z > x], Z ~ N(mean_out, std_out^2).

    target_values (n,) or (n, n_aug), ref_values (n, m[, n_aug]); ref_in (n, m) bool marks the models to ignore per
    record (None: every reference model is OUT, as when they trained on the attacker's own pool). Needs >= 1 OUT
    model per record; with 1, use fix_variance (a per-record spread needs 2). (Carlini et al. 2022, Sec. VI-C.)"""
    fix_variance = check_bool(fix_variance, "fix_variance")
    x, values, ref_in, _ = _check_refs(target_values, ref_values, ref_in, need_in=False)
    mean_out, std_out = _gaussian(values, ~ref_in, fix_variance)
    return -norm.logsf(x, mean_out, std_out).mean(axis=1)


def lira_scores(target_values, ref_values, ref_in=None, *, online: bool = True, fix_variance: bool = False):
    """lira_online (online=True) or lira_offline: see those. -> scores (n,), higher = member."""
    online = check_bool(online, "online")
    if online:
        return lira_online(target_values, ref_values, ref_in, fix_variance=fix_variance)
    return lira_offline(target_values, ref_values, ref_in, fix_variance=fix_variance)


# ---------------------------------------------------------------------------------------------------------------
# many models: every model a target in turn
# ---------------------------------------------------------------------------------------------------------------

def model_confidences(stack, X, y, *, augment=None) -> np.ndarray:
    """Logit-scaled confidence of every model of a ModelStack on every record: X (n, d), y (n,) -> (n, m), or
    (n, m, n_aug) when `augment(X)` gives n_aug copies of X, shape (n_aug, n, d)."""
    if not hasattr(stack, "predict_proba"):
        raise TypeError(f"`stack` must be a mialab.models.ModelStack; got {type(stack).__name__}.")
    X = as_features(X)
    y = as_labels(y, n=len(X))
    copies = _augmented(X, augment)
    out = []
    for copy in copies:
        probs = stack.predict_proba(copy)                                 # (m, n, k)
        m, n, k = probs.shape
        out.append(logit_scale(probs.reshape(m * n, k), np.tile(y, m)).reshape(m, n).T)
    values = np.stack(out, axis=2)
    return values[:, :, 0] if augment is None else values


def leave_one_out_scores(values, masks, *, online: bool = True, fix_variance: bool = False, targets=None,
                         references=None):
    """Models as targets, other models as their references: values (n, m[, n_aug]), masks (n, m) bool ->
    (scores (n, T), is_member (n, T)) for the T models in `targets` (default: all m).

    Target t is scored with lira_online / lira_offline on its own values, with the models in `references` (default:
    all the others; t itself is always left out) as reference models; is_member[:, t] = masks[:, t]. Pool the
    columns for metrics: evaluate(scores.ravel(), is_member.ravel()). (Carlini et al. 2022: many models on random
    halves of the data, each one in turn the target.)

    With one balanced mask over all models (each record IN for exactly half), a record IN for the target is IN for
    one fewer of the others: the reference counts then depend on the answer. Take targets and references from
    different chunks of cache.train_in_out_models (each chunk balanced on its own) to keep them independent."""
    online = check_bool(online, "online")
    values = as_array(values, "values", dtype=float)
    if values.ndim not in (2, 3):
        raise ValueError(f"`values` must have shape (n, m) (records x models) or (n, m, n_aug); got {values.shape}.")
    n, m = values.shape[:2]
    masks = _bool_mask(masks, "masks", (n, m))
    if m < 2:
        raise ValueError(f"this needs at least 2 models (a target and a reference); got {m}.")
    targets = _indices(range(m) if targets is None else targets, "targets", m)
    pool = None if references is None else _indices(references, "references", m)
    scores = np.empty((n, len(targets)))
    for col, t in enumerate(targets):
        others = np.delete(np.arange(m), t) if pool is None else np.array([r for r in pool if r != t])
        if len(others) == 0:
            raise ValueError(f"target {t} has no reference model left (`references` holds only the target itself).")
        scores[:, col] = lira_scores(values[:, t], values[:, others], masks[:, others], online=online,
                                     fix_variance=fix_variance)
    return scores, masks[:, targets]


def cross_chunk_scores(values, masks, chunk_size: int, *, online: bool = True, fix_variance: bool = False,
                       n_reference: int | None = None):
    """Every model a target, scored with the models of the OTHER chunks as references: values (n, m[, n_aug]),
    masks (n, m) from cache.train_in_out_models with this `chunk_size` -> scores (n, m), is_member (n, m).

    Each chunk's mask is balanced on its own, so a target's membership does not shift its references' IN/OUT
    counts. `n_reference` (a multiple of chunk_size) uses only the first that many models outside the target's
    chunk. Pool the columns for metrics, or read them per record (vulnerable.per_record_leakage)."""
    values = as_array(values, "values", dtype=float)
    if values.ndim not in (2, 3):
        raise ValueError(f"`values` must have shape (n, m) (records x models) or (n, m, n_aug); got {values.shape}.")
    m = values.shape[1]
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    if m % chunk_size or m // chunk_size < 2:
        raise ValueError(f"the {m} models must form at least 2 chunks of `chunk_size` = {chunk_size}.")
    scores, is_member = [], []
    for start in range(0, m, chunk_size):
        chunk = list(range(start, start + chunk_size))
        others = [j for j in range(m) if j not in chunk]
        if n_reference is not None:
            others = others[:check_positive_int(n_reference, "n_reference")]
        s, member = leave_one_out_scores(values, masks, online=online, fix_variance=fix_variance, targets=chunk,
                                         references=others)
        scores.append(s)
        is_member.append(member)
    return np.concatenate(scores, axis=1), np.concatenate(is_member, axis=1)


def _indices(indices, name: str, m: int) -> list[int]:
    indices = np.atleast_1d(np.asarray(indices))
    if indices.size == 0 or not np.issubdtype(indices.dtype, np.integer) or indices.min() < 0 or indices.max() >= m:
        raise ValueError(f"`{name}` must be a non-empty list of model indices in [0, {m}); got {indices.tolist()[:10]}.")
    return [int(i) for i in indices]


# ---------------------------------------------------------------------------------------------------------------
# augmented queries (images)
# ---------------------------------------------------------------------------------------------------------------

def shifted_copies(X, image_shape=(8, 8), shifts=((0, 0), (0, 1), (0, -1), (1, 0), (-1, 0)), mirror: bool = False):
    """Copies of images X (n, h*w) shifted by whole pixels (zero fill): -> (n_aug, n, h*w), the first shift first.

    The digits are 8x8; shifts of 1 pixel keep them legible, mirror images (mirror=True adds each shift flipped
    left-right) mostly do not (a mirrored 2 is no 2), so they are off by default. (Carlini et al. 2022, Sec. VI-D
    use flips and 4-pixel shifts on CIFAR-10.)"""
    X = as_features(X)
    h, w = (check_positive_int(s, "image_shape") for s in image_shape)
    if int(np.prod(X.shape[1:])) != h * w:
        raise ValueError(f"`X` has {int(np.prod(X.shape[1:]))} features per record but image_shape {image_shape} "
                         f"needs {h * w}.")
    images = X.reshape(len(X), h, w)
    out = []
    for dy, dx in shifts:
        if not (isinstance(dy, numbers.Integral) and isinstance(dx, numbers.Integral)) or abs(dy) >= h or abs(dx) >= w:
            raise ValueError(f"each shift must be a pair of whole pixels smaller than the image; got {(dy, dx)}.")
        shifted = np.zeros_like(images)
        shifted[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
            images[:, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
        out.append(shifted)
        if mirror:
            out.append(shifted[:, :, ::-1])
    return np.stack(out).reshape(len(out), len(X), h * w)


def _augmented(X, augment):
    if augment is None:
        return X[None]
    if not callable(augment):
        raise TypeError(f"`augment` must be a function X -> copies of shape (n_aug, n, d) (e.g. "
                        f"lira.shifted_copies), or None; got {type(augment).__name__}.")
    copies = np.asarray(augment(X), dtype=np.float32)
    if copies.ndim != 3 or copies.shape[1:] != X.reshape(len(X), -1).shape:
        raise ValueError(f"`augment(X)` must return shape (n_aug, {len(X)}, {X[0].size}); got {copies.shape}.")
    return copies


# ---------------------------------------------------------------------------------------------------------------
# the attack
# ---------------------------------------------------------------------------------------------------------------

class LiRA:
    """Carlini et al.'s likelihood-ratio attack against a black box, with reference models trained like the target.

    Offline (online=False): fit(X_pool, y_pool) trains `n_reference` reference models on random halves of the
    attacker's pool (mialab.cache.train_in_out_models, cached on disk); none trained on a candidate, so each
    candidate's OUT Gaussian uses all of them. Online (online=True): the reference models must also train on the
    candidates, which are known only at score time, so score(target, X, y) trains them then on the pool plus the
    candidates, each candidate IN for half of them (cached, so scoring the same candidates again is free).
    score -> (n,): the log likelihood ratio (online) or -log Pr[Z > x] under the OUT Gaussian (offline), from the
    target's logit-scaled confidence (averaged over `augment` copies, e.g. lira.shifted_copies, if given).

    Pass a pool about twice the target's training set, so each reference model trains on as many records as the
    target (Carlini et al. train on half of the data too).

    Threat model:
        data:      labelled records from the target's distribution (the pool), and for online the candidates
        knowledge: the target's training recipe (architecture `hidden`, `epochs`, `lr`, batch size, set size)
        outputs:   the full probability vector ("probabilities"; "rounded" is renormalised); top_k and label
                   rejected (use label_only for those)
        queries:   one per candidate record, times the number of augmented copies; none for fitting
    Paper: N. Carlini, S. Chien, M. Nasr, S. Song, A. Terzis, F. Tramèr, "Membership Inference Attacks From First
    Principles", IEEE S&P 2022.
    """

    def __init__(self, n_reference: int = 16, *, online: bool = True, fix_variance: bool = False, augment=None,
                 hidden=(256,), epochs: int = 30, lr: float = 1e-3, weight_decay: float = 0.0, batch_size: int = 64,
                 chunk_size: int = 4, cache_dir=None, random_state: int = 0):
        self.n_reference = check_positive_int(n_reference, "n_reference", minimum=2)
        self.chunk_size = check_positive_int(chunk_size, "chunk_size", minimum=2)
        if self.chunk_size % 2 or self.n_reference % self.chunk_size:
            raise ValueError(f"`n_reference` ({n_reference}) must be a multiple of `chunk_size` ({chunk_size}, even): "
                             "reference models are trained in chunks, each record IN for half of each chunk.")
        self.online = check_bool(online, "online")
        self.fix_variance = check_bool(fix_variance, "fix_variance")
        if augment is not None and not callable(augment):
            raise TypeError(f"`augment` must be a function X -> (n_aug, n, d) or None; got {type(augment).__name__}.")
        self.augment = augment
        self.hidden, self.epochs, self.lr, self.weight_decay, self.batch_size = hidden, epochs, lr, weight_decay, batch_size
        self.cache_dir = cache_dir
        check_random_state(random_state)
        self.random_state = random_state

    def _train(self, X, y):
        from ..cache import train_in_out_models
        return train_in_out_models(X, y, self.n_reference, chunk_size=self.chunk_size, hidden=self.hidden,
                                   epochs=self.epochs, lr=self.lr, weight_decay=self.weight_decay,
                                   batch_size=self.batch_size, n_classes=self.n_classes_, cache_dir=self.cache_dir,
                                   random_state=self.random_state)

    def fit(self, X, y, *, n_classes: int | None = None) -> "LiRA":
        """Keep the pool X (n, d), y (n,); offline, train the reference models on it now."""
        self.X_pool_ = as_features(X)
        self.y_pool_ = as_labels(y, n=len(self.X_pool_))
        self.n_classes_ = int(self.y_pool_.max()) + 1 if n_classes is None else check_positive_int(n_classes,
                                                                                                   "n_classes", minimum=2)
        if not self.online:
            self.stack_, _ = self._train(self.X_pool_, self.y_pool_)
        return self

    def _check_fitted(self):
        if not hasattr(self, "X_pool_"):
            raise RuntimeError("this LiRA is not fitted yet; call .fit(X_pool, y_pool) first.")

    def score(self, target, X, y) -> np.ndarray:
        """LiRA score of each candidate X (n, d), y (n,) -> (n,), higher = member."""
        self._check_fitted()
        X = as_features(X)
        if X.shape[1:] != self.X_pool_.shape[1:]:
            raise ValueError(f"the candidates have records of shape {X.shape[1:]} but the pool {self.X_pool_.shape[1:]}.")
        y = as_labels(y, n=len(X), n_classes=self.n_classes_)
        copies = _augmented(X, self.augment)
        probs = np.stack([query_probabilities(target, copy) for copy in copies])     # (n_aug, n, k)
        if probs.shape[2] != self.n_classes_:
            raise ValueError(f"the target answers {probs.shape[2]} classes but the pool has {self.n_classes_}; pass "
                             "n_classes= to fit if some classes are missing from the pool.")
        x = np.stack([logit_scale(p, y) for p in probs], axis=1)                     # (n, n_aug)
        if self.online:
            stack, masks = self._train(np.concatenate([X, self.X_pool_]), np.concatenate([y, self.y_pool_]))
            ref_in = masks[:len(X)]
        else:
            stack, ref_in = self.stack_, None
        values = model_confidences(stack, X, y, augment=self.augment)
        values = values if values.ndim == 3 else values[:, :, None]
        return lira_scores(x, values, ref_in, online=self.online, fix_variance=self.fix_variance)
