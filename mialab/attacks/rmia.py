"""RMIA, the relative membership inference attack (Zarifzadeh et al. 2024): compare how much more likely the target
makes a record than the reference models do, against the same ratio for population records.

For a candidate x: ratio(x) = Pr(x | target) / Pr(x), with Pr(x | target) the target's probability of x's true
label and Pr(x) its average over reference models. The score is the share of population records z (records that
no model trained on) with ratio(x) / ratio(z) > gamma. Offline (reference models that never trained on x), Pr(x)
is approximated from the OUT average alone by the paper's linear fit Pr_IN(x) ~ a * Pr_OUT(x) + (1 - a):
Pr(x) = ((1 + a) * Pr_OUT(x) + (1 - a)) / 2. `a` is tuned on the reference models themselves (`tune_offline_a`).

Arrays are records x models (mialab.attacks.signals, kind="probability"): `ref_signals` (n, m) is reference model
j's probability of record i's true label; `in_mask` (n, m) bool which models trained on which record. Taught in
notebook 05.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_array, as_bool_mask, as_features, as_labels, check_bool, check_random_state, \
    check_scalar, check_seed
from ..blackbox import query_probabilities
from ..cache import train_in_out_models, train_many_cached
from ..data import in_out_mask
from ..metrics import auc
from .base import Attack, as_recipe
from .features import true_class_confidence
from .signals import signals


def _probabilities(value, name: str, ndim: int) -> np.ndarray:
    array = as_array(value, name, ndim=ndim, dtype=float)
    if (array < 0).any() or (array > 1).any():
        raise ValueError(f"`{name}` must hold probabilities of the true label, in [0, 1]; got values from "
                         f"{array.min():.3g} to {array.max():.3g}.")
    return array


def _check_a(a) -> float:
    try:
        return check_scalar(a, "a", low=0.0, high=1.0)
    except (TypeError, ValueError):
        raise ValueError(f"`a` must be a number in [0, 1] (the paper's offline approximation Pr_IN ~ a Pr_OUT + 1 - a; "
                         f"tune it with tune_offline_a); got {a!r}.") from None


def _check_gamma(gamma) -> float:
    return check_scalar(gamma, "gamma", low=0.0, high=1e6, closed="right")


def _reference_average(ref_p: np.ndarray, ref_in: np.ndarray, online: bool, a: float) -> np.ndarray:
    """Pr(x): the average over all reference models (online) or the offline approximation from the OUT ones."""
    if online:
        return ref_p.mean(axis=1)
    out = ~ref_in
    n_out = out.sum(axis=1)
    if (n_out == 0).any():
        raise ValueError(f"{int((n_out == 0).sum())} record(s) have no OUT reference model; offline RMIA needs at "
                         "least one per record. Use more reference models.")
    mean_out = np.where(out, ref_p, 0.0).sum(axis=1) / n_out
    return ((1 + a) * mean_out + (1 - a)) / 2


def rmia_scores(target_signals, ref_signals, in_mask=None, *, population_target_signals, population_ref_signals,
                online: bool = True, a: float = 0.5, gamma: float = 1.0) -> np.ndarray:
    """RMIA scores: target_signals (n,), ref_signals (n, m), in_mask (n, m) bool or None, population_target_signals
    (z,), population_ref_signals (z, m), all probabilities of the true label -> (n,) in [0, 1]. A
    signals.SignalAttack.

    Score of x = the share of population records z with (target_p[x] / Pr(x)) / (population_target_p[z] / Pr(z))
    > gamma, returned as (count + u) / (z + 1): equal counts (say, candidates that beat every population record)
    are ordered by u in (0, 1), an increasing function of target_p[x] / Pr(x), so the counts' order is kept and
    floor(score * (z + 1)) is the count. Pr(.) averages the reference models: all of them when online (the
    default, as for lira.lira_scores); offline (online=False), only those that did not train on the record
    (in_mask False; None = all OUT) with the `a` approximation. The population records trained no model.
    (Zarifzadeh et al. 2024, Eq. 2-4 and Sec. 3 "offline".)"""
    online = check_bool(online, "online")
    a = _check_a(a)
    gamma = _check_gamma(gamma)
    target_p = _probabilities(target_signals, "target_signals", 1)
    ref_p = _probabilities(ref_signals, "ref_signals", 2)
    if ref_p.shape[0] != len(target_p):
        raise ValueError(f"`ref_signals` has {ref_p.shape[0]} rows but `target_signals` {len(target_p)} records; pass "
                         "one row per record (records x reference models).")
    ref_in = np.zeros(ref_p.shape, bool) if in_mask is None else as_bool_mask(in_mask, "in_mask", ref_p.shape)
    pop_target = _probabilities(population_target_signals, "population_target_signals", 1)
    pop_ref = _probabilities(population_ref_signals, "population_ref_signals", 2)
    if pop_ref.shape != (len(pop_target), ref_p.shape[1]):
        raise ValueError(f"`population_ref_signals` must have shape ({len(pop_target)}, {ref_p.shape[1]}) "
                         f"(population records x the same reference models); got {pop_ref.shape}.")
    tiny = 1e-30
    ratio_x = target_p / np.maximum(_reference_average(ref_p, ref_in, online, a), tiny)
    ratio_z = pop_target / np.maximum(_reference_average(pop_ref, np.zeros(pop_ref.shape, bool), online, a), tiny)
    ratio_z = np.sort(ratio_z)
    # ratio_x / ratio_z > gamma  <=>  ratio_z < ratio_x / gamma
    count = np.searchsorted(ratio_z, ratio_x / gamma, side="left")
    # break ties between equal counts (e.g. every candidate that beats all population records) by the ratio itself,
    # with an increment below 1 / |Z|, so the order of the counts is kept
    tie_break = 1.0 / (1.0 + np.exp(-np.log(np.maximum(ratio_x, tiny))))
    return (count + 0.999 * tie_break) / (len(ratio_z) + 1)


def tune_offline_a(ref_signals, in_mask, population_ref_signals, *, grid=np.round(np.arange(0.0, 1.01, 0.1), 2),
                   gamma: float = 1.0) -> float:
    """The `a` of offline RMIA that maximises the mean AUC when each reference model in turn plays the target and
    the others are its references: ref_signals (n, m) and in_mask (n, m) bool on the reference models' training
    pool, population_ref_signals (z, m) -> a (float).

    The pseudo-target's members are its training records (those with an OUT model among the others); its
    non-members are half of the population records, the other half being the population it is compared with.
    Needs m >= 2. (Zarifzadeh et al. 2024, App. B: `a` is tuned on reference models; Privacy Meter does the same
    with a pair of them.)"""
    ref_p = _probabilities(ref_signals, "ref_signals", 2)
    n, m = ref_p.shape
    ref_in = as_bool_mask(in_mask, "in_mask", (n, m))
    pop_ref = _probabilities(population_ref_signals, "population_ref_signals", 2)
    if pop_ref.shape[1] != m:
        raise ValueError(f"`population_ref_signals` must have {m} columns (the same reference models); got "
                         f"{pop_ref.shape}.")
    if m < 2:
        raise ValueError("tuning `a` needs at least 2 reference models (one plays the target); with 1, pass a fixed "
                         "`a` (the paper's values lie between 0.2 and 1).")
    if len(pop_ref) < 4:
        raise ValueError(f"tuning `a` needs at least 4 population records; got {len(pop_ref)}.")
    grid = np.atleast_1d(np.asarray(grid, dtype=float))
    if grid.size == 0:
        raise ValueError("`grid` must hold at least one candidate value of `a` in [0, 1], e.g. [0.0, 0.5, 1.0].")
    grid = [_check_a(float(g)) for g in grid]
    gamma = _check_gamma(gamma)
    half = len(pop_ref) // 2
    aucs = {a: [] for a in grid}
    for t in range(m):
        others = np.delete(np.arange(m), t)
        members = ref_in[:, t] & (~ref_in[:, others]).any(axis=1)
        if not members.any():
            continue
        p = np.concatenate([ref_p[members, t], pop_ref[:half, t]])
        refs = np.concatenate([ref_p[members][:, others], pop_ref[:half][:, others]])
        refs_in = np.concatenate([ref_in[members][:, others], np.zeros((half, m - 1), bool)])
        is_member = np.arange(len(p)) < int(members.sum())
        for a in grid:
            scores = rmia_scores(p, refs, refs_in, population_target_signals=pop_ref[half:, t],
                                 population_ref_signals=pop_ref[half:][:, others], online=False, a=a, gamma=gamma)
            aucs[a].append(auc(scores, is_member))
    if not aucs[grid[0]]:
        raise ValueError("no reference model has training records with an OUT model among the others; pass the "
                         "reference models' own training pool with its `ref_in` mask.")
    return max(grid, key=lambda a: (np.mean(aucs[a]), -a))


class RMIA(Attack):
    """Zarifzadeh et al.'s relative membership inference attack, offline, with few reference models.

    fit(X_pool, y_pool) splits the pool: `n_population` records become the population z (never trained on), the
    rest train `n_reference` reference models on random halves (mialab.cache.train_in_out_models, cached), and
    `a` is tuned on them when a="auto" (needs n_reference >= 2; with 1 model pass a number). score(target, X, y) ->
    (n,) in [0, 1]: the share of population records that the candidate beats in likelihood ratio
    target / reference (offline: no reference model trained on a candidate). The fitted `reference_models_` and
    `in_mask_` can be reused by another attack (signals.signals). predict: member when the candidate beats at
    least `threshold_` = 0.95 of the population (the paper's score threshold beta, at a 5%-level reading).

    recipe: the target's training recipe (mialab.recipe.TrainingRecipe).

    Threat model:
        data:      labelled records from the target's distribution (the pool: reference training data and the
                   population)
        knowledge: the target's training recipe
        outputs:   the probability of the true label ("probabilities"; "rounded" is renormalised); top_k and
                   label rejected
        queries:   one per candidate record, plus one per population record (n_population)
    Paper: S. Zarifzadeh, P. Liu, R. Shokri, "Low-Cost High-Power Membership Inference Attacks", ICML 2024.
    Taught in notebook 05.
    """

    _fitted = ("reference_models_",)
    threshold_ = 0.95

    def __init__(self, n_reference: int = 2, *, a="auto", gamma: float = 1.0, n_population: int = 1000,
                 recipe=None, cache_dir=None, random_state: int = 0):
        self.n_reference = check_scalar(n_reference, "n_reference", int, low=1)
        if not (isinstance(a, str) and a == "auto"):
            _check_a(a)
        elif self.n_reference < 2:
            raise ValueError("a='auto' tunes `a` on the reference models and needs n_reference >= 2; with one "
                             "reference model pass a number, e.g. a=0.5.")
        if self.n_reference > 1 and self.n_reference % 2:
            raise ValueError(f"`n_reference` must be 1 or even; got {self.n_reference}.")
        self.a = a
        self.gamma = _check_gamma(gamma)
        self.n_population = check_scalar(n_population, "n_population", int, low=1)
        self.recipe = as_recipe(recipe)
        self.cache_dir = cache_dir
        self.random_state = check_seed(random_state)

    def fit(self, X, y, *, n_classes: int | None = None) -> "RMIA":
        """Split the pool X (n, d), y (n,) into population and reference data; train the reference models."""
        X = as_features(X)
        y = as_labels(y, n=len(X))
        if len(X) < self.n_population + 4:
            raise ValueError(f"the pool has {len(X)} records; it needs more than n_population = {self.n_population} "
                             "(population) plus reference training data.")
        self.n_classes_ = int(y.max()) + 1 if n_classes is None else check_scalar(n_classes, "n_classes", int, low=2)
        order = check_random_state(self.random_state).permutation(len(X))
        pop, train = order[:self.n_population], np.sort(order[self.n_population:])
        config = dict(n_classes=self.n_classes_, cache_dir=self.cache_dir, random_state=self.random_state,
                      **self.recipe.as_kwargs())
        if self.n_reference == 1:
            masks = in_out_mask(len(train), 2, random_state=self.random_state)[:, :1]
            stack = train_many_cached(X[train], y[train], masks, **config)
        else:
            chunk = 2 if self.n_reference % 4 else 4
            stack, masks = train_in_out_models(X[train], y[train], self.n_reference, chunk_size=chunk, **config)
        self.reference_models_, self.in_mask_ = stack, masks
        self.X_population_, self.y_population_ = X[pop], y[pop]
        self.population_ref_signals_ = signals(stack, X[pop], y[pop], kind="probability")
        if isinstance(self.a, str):
            self.a_ = tune_offline_a(signals(stack, X[train], y[train], kind="probability"), masks,
                                     self.population_ref_signals_, gamma=self.gamma)
        else:
            self.a_ = float(self.a)
        return self

    def score(self, target, X, y) -> np.ndarray:
        """RMIA score of each candidate X (n, d), y (n,) -> (n,) in [0, 1], higher = member."""
        self._check_fitted()
        X = as_features(X)
        y = as_labels(y, n=len(X), n_classes=self.n_classes_)
        probs = query_probabilities(target, np.concatenate([X, self.X_population_]))
        if probs.shape[1] != self.n_classes_:
            raise ValueError(f"the target answers {probs.shape[1]} classes but the pool has {self.n_classes_}.")
        p = true_class_confidence(probs, np.concatenate([y, self.y_population_]))
        return rmia_scores(p[:len(X)], signals(self.reference_models_, X, y, kind="probability"),
                           population_target_signals=p[len(X):], population_ref_signals=self.population_ref_signals_,
                           online=False, a=self.a_, gamma=self.gamma)
