"""Shokri et al. (2017) shadow models: train models that mimic the target, learn membership from their outputs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from .._validation import as_array, as_features, as_labels, as_membership, as_proba, check_bool, check_count, \
    check_positive_int, check_random_state, check_scalar, check_seed
from .._reference import reference
from ..blackbox import query_candidates
from ..metrics import choose_threshold
from ..many_models import ModelStack, train_many
from .base import Attack, as_recipe


def make_estimator(estimator, random_state: int | None = None):
    """A fresh, unfitted scikit-learn classifier from `estimator` (an unfitted classifier, cloned, or a function of
    no argument that returns one), its `random_state` set when it has one and `random_state` is given."""
    if callable(getattr(estimator, "fit", None)):
        model = clone(estimator)
    elif callable(estimator):
        model = estimator()
        if callable(getattr(model, "get_params", None)):
            model = clone(model)      # a fresh copy: a function that returns one shared instance is not refitted
    else:
        raise TypeError("`estimator` must be a scikit-learn classifier (unfitted; it is cloned) or a function of no "
                        f"argument that returns one, e.g. lambda: DecisionTreeClassifier(); got {estimator!r}.")
    if not (callable(getattr(model, "fit", None)) and callable(getattr(model, "predict_proba", None))):
        raise TypeError("`estimator` must give a classifier with fit and predict_proba (for SVC: probability=True); "
                        f"got {type(model).__name__}.")
    if random_state is not None and callable(getattr(model, "get_params", None)) \
            and "random_state" in model.get_params(deep=False):
        model.set_params(random_state=int(random_state))
    return model


class ClassifierStack:
    """Fitted scikit-learn classifiers that answer together as a ModelStack does: predict_proba(X (n, d)) ->
    (n_models, n, n_classes), column c the probability of class c (0 for a class a model never saw in training).

    models: classifiers with predict_proba and integer `classes_` (0 .. n_classes - 1). What train_shadows returns
    as `stack` when given an `estimator`; ShadowAttack, MLLeaksAttack and MetricAttack take such shadows."""

    def __init__(self, models, n_classes: int):
        if not isinstance(models, (list, tuple)) or not models:
            raise TypeError(f"`models` must be a non-empty list of fitted classifiers; got {type(models).__name__}.")
        self.n_classes = check_positive_int(n_classes, "n_classes", minimum=2)
        for j, model in enumerate(models):
            classes = getattr(model, "classes_", None)
            if not callable(getattr(model, "predict_proba", None)) or classes is None:
                raise TypeError(f"`models[{j}]` must be a fitted classifier with predict_proba and classes_ (fit it "
                                f"first); got {type(model).__name__}.")
            classes = np.asarray(classes)
            if not np.issubdtype(classes.dtype, np.integer) or classes.min() < 0 or classes.max() >= self.n_classes:
                raise ValueError(f"`models[{j}]` has classes_ {classes[:5].tolist()}...; a stack needs class indices "
                                 f"0 .. {self.n_classes - 1} (pass the task's n_classes).")
        self.models = list(models)

    def __len__(self) -> int:
        return len(self.models)

    def __getitem__(self, j):
        return self.models[j]

    def predict_proba(self, X) -> np.ndarray:
        """Every model's class probabilities on X (n, d) -> (n_models, n, n_classes)."""
        X = as_features(X)
        out = np.zeros((len(self.models), len(X), self.n_classes))
        for j, model in enumerate(self.models):
            out[j][:, np.asarray(model.classes_)] = as_proba(model.predict_proba(X), "a model's predict_proba output",
                                                             n=len(X))
        return out


@dataclass
class ShadowModels:
    """Shadow models trained at once, with each one's IN set (`members`) and disjoint OUT set (`nonmembers`).

    stack: a ModelStack (MLPs trained at once) or a ClassifierStack (scikit-learn shadows);
    stack.predict_proba(X) -> (n_shadows, n, k).
    members, nonmembers: bool (n_records, n_shadows) over the pool the shadows were drawn from.
    """

    stack: ModelStack
    members: np.ndarray
    nonmembers: np.ndarray

    def __len__(self) -> int:
        return self.members.shape[1]

    def subset(self, n_shadows: int) -> "ShadowModels":
        """The first `n_shadows` shadows (no retraining): for measuring how the attack grows with more shadows."""
        n_shadows = check_count(n_shadows, "n_shadows")
        if n_shadows > len(self):
            raise ValueError(f"`n_shadows` = {n_shadows} but only {len(self)} shadows were trained.")
        stack = self.stack
        if isinstance(stack, ClassifierStack):
            return ShadowModels(ClassifierStack(stack.models[:n_shadows], stack.n_classes),
                                self.members[:, :n_shadows].copy(), self.nonmembers[:, :n_shadows].copy())
        sub = ModelStack([w[:n_shadows] for w in stack.weights], [b[:n_shadows] for b in stack.biases],
                         activation=stack.activation, dropout=stack.dropout, seeds=stack.seeds[:n_shadows])
        return ShadowModels(sub, self.members[:, :n_shadows].copy(), self.nonmembers[:, :n_shadows].copy())


def train_shadows(X, y, n_shadows: int, *, train_size: int, recipe=None, n_classes: int | None = None,
                  estimator=None, random_state: int = 0) -> ShadowModels:
    """Train `n_shadows` shadow models at once, each on `train_size` records of the pool (X (n, d), y (n,)).

    Shadow j trains on X[members[:, j]] and keeps another `train_size` records, X[nonmembers[:, j]], as its OUT
    set; the two are disjoint, so the pool needs at least 2 * train_size records. `recipe` is the target's training
    recipe (mialab.recipe.TrainingRecipe or a dict of its fields). Pass `n_classes` (the target's) when the pool
    may miss the highest classes. Trained at once with mialab.many_models.train_many. (Shokri et al. 2017, Sec. IV.)
    `estimator` (a scikit-learn classifier, or a function that returns one) trains scikit-learn shadows instead,
    one after another, into a ClassifierStack (shadow j's random_state: drawn from `random_state`); the shadow
    need not be the target's kind of model (Salem et al. 2019; Truex et al., notebook 03).
    Taught in notebook 02.
    """
    X = as_features(X)
    y = as_labels(y, n=len(X))
    n_shadows = check_count(n_shadows, "n_shadows")
    train_size = check_positive_int(train_size, "train_size")
    if estimator is not None:
        if recipe is not None:
            raise ValueError("pass either `recipe` (MLP shadows) or `estimator` (scikit-learn shadows), not both.")
        make_estimator(estimator)                              # checked before any training
    recipe = as_recipe(recipe)
    if 2 * train_size > len(X):
        raise ValueError(f"`train_size` = {train_size} needs a pool of at least {2 * train_size} records (an IN set "
                         f"and a disjoint OUT set of that size per shadow); the pool has {len(X)}. Pass a smaller "
                         "train_size or more attacker records.")
    rng = check_random_state(random_state)
    members = np.zeros((len(X), n_shadows), bool)
    nonmembers = np.zeros((len(X), n_shadows), bool)
    for j in range(n_shadows):
        order = rng.permutation(len(X))
        members[order[:train_size], j] = True
        nonmembers[order[train_size:2 * train_size], j] = True
    if estimator is not None:
        n_classes = int(y.max()) + 1 if n_classes is None else check_positive_int(n_classes, "n_classes", minimum=2)
        if y.max() >= n_classes:
            raise ValueError(f"y holds class {int(y.max())} but `n_classes` = {n_classes}; pass the task's n_classes.")
        seeds = rng.integers(0, 2 ** 31, size=n_shadows)
        with threadpool_limits(limits=1):
            fitted = [make_estimator(estimator, seeds[j]).fit(X[members[:, j]], y[members[:, j]])
                      for j in range(n_shadows)]
        return ShadowModels(ClassifierStack(fitted, n_classes), members=members, nonmembers=nonmembers)
    stack = train_many(X, y, members, n_classes=n_classes, random_state=random_state, **recipe.as_kwargs())
    return ShadowModels(stack=stack, members=members, nonmembers=nonmembers)


# ---------------------------------------------------------------------------------------------------------------
# the attack training set
# ---------------------------------------------------------------------------------------------------------------

def _check_masks(members, nonmembers, n_records: int, n_shadows: int | None = None):
    out = []
    for name, mask in (("members", members), ("nonmembers", nonmembers)):
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise TypeError(f"`{name}` must be a boolean mask of shape (n_records, n_shadows); got dtype {mask.dtype}.")
        if mask.ndim != 2 or mask.shape[0] != n_records or (n_shadows is not None and mask.shape[1] != n_shadows):
            want = f"({n_records}, {'n_shadows' if n_shadows is None else n_shadows})"
            raise ValueError(f"`{name}` must have shape {want} (one row per record, one column per shadow); "
                             f"got {mask.shape}.")
        out.append(mask)
    members, nonmembers = out
    if (members & nonmembers).any():
        raise ValueError("a record is both a member and a non-member of the same shadow model; the IN and OUT sets "
                         "of each shadow must be disjoint.")
    empty = np.flatnonzero(~members.any(axis=0) | ~nonmembers.any(axis=0))
    if len(empty):
        raise ValueError(f"shadow model(s) {empty[:5].tolist()} have no members or no non-members; each shadow needs "
                         "both an IN and an OUT set.")
    return members, nonmembers


def _features(probs: np.ndarray, labels: np.ndarray, sort: bool, true_label: bool) -> np.ndarray:
    features = -np.sort(-probs, axis=-1) if sort else probs
    if true_label:
        features = np.hstack([features, probs[np.arange(len(probs)), labels][:, None]])
    return features


@reference
def attack_dataset(shadow_probs, y, members, nonmembers, *, sort: bool = False, true_label: bool = False):
    """The attack training set from shadow outputs: (n_shadows, n, k), (n,), (n, n_shadows) x 2 -> features, labels,
    is_member.

    For each shadow j in order, its members' probability vectors (in record order) followed by its non-members';
    `features` is (m, k) (each row sorted in decreasing order when `sort`; with `true_label`, (m, k + 1): the
    probability of the record's own class appended), `labels` (m,) the records' true classes, `is_member` (m,)
    bool. (Shokri et al. 2017, Sec. IV-C.)
    """
    sort, true_label = check_bool(sort, "sort"), check_bool(true_label, "true_label")
    shadow_probs = as_array(shadow_probs, "shadow_probs", ndim=3)
    n_shadows, n_records, k = shadow_probs.shape
    as_proba(shadow_probs.reshape(-1, k), "shadow_probs")
    y = as_labels(y, n=n_records, n_classes=k)
    members, nonmembers = _check_masks(members, nonmembers, n_records, n_shadows)
    features, labels, is_member = [], [], []
    for j in range(n_shadows):
        for mask, flag in ((members[:, j], True), (nonmembers[:, j], False)):
            features.append(shadow_probs[j][mask])
            labels.append(y[mask])
            is_member.append(np.full(int(mask.sum()), flag))
    labels = np.concatenate(labels)
    return _features(np.concatenate(features), labels, sort, true_label), labels, np.concatenate(is_member)


@reference
def shadow_attack_dataset(shadows: ShadowModels, X, y, *, sort: bool = False, true_label: bool = False):
    """The attack training set from trained shadows and their pool X (n, d), y (n,) -> features (m, k), labels (m,),
    is_member (m,); see `attack_dataset` for the order."""
    if not isinstance(shadows, ShadowModels):
        raise TypeError(f"`shadows` must be the ShadowModels that train_shadows returns; got {type(shadows).__name__}.")
    X = as_features(X, n=shadows.members.shape[0])
    y = as_labels(y, n=len(X))
    used = shadows.members.any(axis=1) | shadows.nonmembers.any(axis=1)
    probs = np.full((len(shadows), len(X), shadows.stack.n_classes), 1.0 / shadows.stack.n_classes)
    probs[:, used] = shadows.stack.predict_proba(X[used])
    return attack_dataset(probs, y, shadows.members, shadows.nonmembers, sort=sort, true_label=true_label)


# ---------------------------------------------------------------------------------------------------------------
# attack models
# ---------------------------------------------------------------------------------------------------------------

def make_attack_model(C: float = 0.1):
    """The default attack model: logistic regression on standardized log-probabilities (see ShadowAttack)."""
    C = check_scalar(C, "C", low=0.0, closed="neither")
    return make_pipeline(FunctionTransformer(_log_probs), StandardScaler(), LogisticRegression(C=C, max_iter=500))


def _log_probs(features):
    return np.log(np.clip(features, 1e-12, None))


def _member_column(model) -> int:
    classes = list(getattr(model, "classes_", []))
    if True not in classes and 1 not in classes:
        raise ValueError("an attack model was fitted without member records; it cannot score membership.")
    return classes.index(True) if True in classes else classes.index(1)


def _fit_one(features, is_member, attack_model):
    model = clone(attack_model)
    model.fit(features, is_member)
    return model


def _check_attack_data(features, labels, is_member, n_classes):
    features = as_array(features, "features", ndim=2)
    labels = as_labels(labels, n=len(features), n_classes=n_classes)
    is_member = as_membership(is_member, n=len(features))
    return features, labels, is_member


def _check_attack_model(attack_model):
    if not (callable(getattr(attack_model, "fit", None)) and callable(getattr(attack_model, "predict_proba", None))):
        raise TypeError("`attack_model` must be a scikit-learn classifier with fit and predict_proba (it is cloned per "
                        f"class), for example LogisticRegression(); got {attack_model!r}.")
    return attack_model


@reference
def fit_attack_models(features, labels, is_member, n_classes: int, *, attack_model=None) -> list:
    """One attack model per class: model c is fitted on the rows whose label is c -> a list of n_classes models.

    features (m, f), labels (m,), is_member (m,) bool. A class without both member and non-member rows gets None
    (ShadowAttack then falls back to its single class-independent model). (Shokri et al. 2017, Sec. IV-C.)
    """
    n_classes = check_positive_int(n_classes, "n_classes")
    features, labels, is_member = _check_attack_data(features, labels, is_member, n_classes)
    attack_model = make_attack_model() if attack_model is None else _check_attack_model(attack_model)
    models = []
    with threadpool_limits(limits=1):  # many tiny fits: threads only wait on each other
        for c in range(n_classes):
            rows = labels == c
            if is_member[rows].all() or not is_member[rows].any():
                models.append(None)
            else:
                models.append(_fit_one(features[rows], is_member[rows], attack_model))
    return models


def attack_scores(models, features, labels, *, fallback=None) -> np.ndarray:
    """Membership probability of each row from the attack model of its class (or `fallback` where that is None):
    a list of per-class models, features (n, f), labels (n,) -> (n,)."""
    if not isinstance(models, (list, tuple)) or not models:
        raise TypeError("`models` must be the non-empty list that fit_attack_models returns.")
    for model in (*models, fallback):
        if model is not None and not (callable(getattr(model, "predict_proba", None))
                                      and getattr(model, "classes_", None) is not None):
            raise TypeError(f"`models` (and `fallback`) must hold fitted classifiers with predict_proba, or None for a "
                            f"class without one (what fit_attack_models returns); got {type(model).__name__}.")
    features = as_array(features, "features", ndim=2)
    widths = {getattr(m, "n_features_in_", None) for m in (*models, fallback) if m is not None} - {None}
    if widths and features.shape[1] not in widths:
        raise ValueError(f"`features` has {features.shape[1]} columns per record but the attack models were fitted on "
                         f"{min(widths)}; build them the same way (same k, sort and true_label options).")
    labels = as_labels(labels, n=len(features), n_classes=len(models))
    scores = np.empty(len(features))
    by_fallback = np.zeros(len(features), bool)      # the rows of every class without its own model: one call
    with threadpool_limits(limits=1):
        for c in np.unique(labels):
            rows = labels == c
            if models[c] is None:
                if fallback is None:
                    raise ValueError(f"there is no attack model for class {c} and no fallback; pass fallback=a model "
                                     "fitted on all classes.")
                by_fallback |= rows
            else:
                scores[rows] = models[c].predict_proba(features[rows])[:, _member_column(models[c])]
        if by_fallback.any():
            scores[by_fallback] = fallback.predict_proba(features[by_fallback])[:, _member_column(fallback)]
    return scores


# ---------------------------------------------------------------------------------------------------------------
# the attack
# ---------------------------------------------------------------------------------------------------------------

def shadows_for_pool(X, y, shadows, *, n_shadows: int, train_size: int, recipe, n_classes: int | None = None,
                     random_state: int = 0) -> ShadowModels:
    """`shadows` checked against the pool X (n, d), or, when None, shadows trained on it with train_shadows."""
    if shadows is None:
        if 2 * train_size > len(X):
            raise ValueError(f"`train_size` = {train_size} needs a pool of at least {2 * train_size} records (an IN "
                             f"set and a disjoint OUT set per shadow); the pool has {len(X)}. Pass "
                             f"train_size <= {len(X) // 2} (about the target's training set size) or more records.")
        return train_shadows(X, y, n_shadows, train_size=train_size, recipe=recipe, n_classes=n_classes,
                             random_state=random_state)
    if not isinstance(shadows, ShadowModels):
        raise TypeError(f"`shadows` must be what train_shadows returns; got {type(shadows).__name__}.")
    if shadows.members.shape[0] != len(X):
        raise ValueError(f"`shadows` were drawn from a pool of {shadows.members.shape[0]} records but X has "
                         f"{len(X)}; pass the pool they were trained on.")
    return shadows


class ShadowAttack(Attack):
    """Shokri et al.'s shadow-model attack: shadows mimic the target, attack models learn IN vs OUT from their outputs.

    fit(X_pool, y_pool) trains `n_shadows` shadows (with mialab.many_models.train_many, all at once), builds the attack
    training set from their members' and non-members' probability vectors, and fits one attack model per class
    (`per_class=True`, as in the paper) or one for all classes (`per_class=False`). score(target, X, y) -> (n,):
    the attack model's probability that each candidate is a member. `threshold_` is chosen on attacker-side data
    (out-of-fold scores on the shadows' records), so predict() needs no target membership labels.

    The attack model is logistic regression on standardized log-probabilities (C = 0.1), not the paper's neural
    network: members and non-members differ in how close the confidences are to 0 and 1 (0.9999 vs 0.99), which
    the log makes linear, and a per-class model sees few rows (n_shadows * 2 * train_size / k), where a linear
    model overfits least (the measured comparison with other attack models is in docs/measurements.md). Pass
    `attack_model` (any scikit-learn classifier; it is cloned per class) to use another. With few shadows a single
    model on sorted probabilities (`per_class=False, sort=True`, Salem et al. 2019) does better than per-class
    models on the full vector; `true_label=True` appends the probability of the record's own class (its loss,
    which the label reveals; IBM ART's attack model gets the label too). `train_size` should be the target's
    training set size; the pool needs 2 * train_size records. The trained shadows stay in `shadows_`.

    Threat model:
        data:      >= 2 * train_size labelled records from the target's distribution (real, or synthesized with
                   mialab.attacks.synthesis); they may overlap the target's training set but need not
        knowledge: the target's training recipe (`recipe`: architecture, activation, dropout, epochs, ...) and
                   training set size
        outputs:   the full probability vector ("probabilities"; "rounded" is renormalised); top_k and label rejected
        queries:   one per candidate record; none for fitting (synthesizing shadow data costs queries)
    Paper: R. Shokri, M. Stronati, C. Song, V. Shmatikov, "Membership Inference Attacks against Machine Learning
    Models", IEEE S&P 2017. Taught in notebook 02.
    """

    _fitted = ("models_",)

    def __init__(self, n_shadows: int = 8, train_size: int = 2500, *, per_class: bool = True, sort: bool = False,
                 true_label: bool = False, recipe=None, attack_model=None, n_classes: int | None = None,
                 random_state: int = 0):
        self.n_shadows = check_count(n_shadows, "n_shadows")
        self.train_size = check_positive_int(train_size, "train_size")
        if attack_model is not None and not (hasattr(attack_model, "fit") and hasattr(attack_model, "predict_proba")):
            raise TypeError("`attack_model` must be a scikit-learn classifier with fit and predict_proba (it is cloned "
                            f"per class); got {type(attack_model).__name__}.")
        self.n_classes = None if n_classes is None else check_positive_int(n_classes, "n_classes", minimum=2)
        self.per_class, self.sort = check_bool(per_class, "per_class"), check_bool(sort, "sort")
        self.true_label = check_bool(true_label, "true_label")
        self.recipe = as_recipe(recipe)
        self.attack_model = attack_model
        self.random_state = check_seed(random_state)

    def fit(self, X, y, *, shadows: ShadowModels | None = None) -> "ShadowAttack":
        """Train the shadows on the pool X (n, d), y (n,) (or reuse `shadows` trained on it), then the attack models."""
        X = as_features(X)
        y = as_labels(y, n=len(X))
        shadows = shadows_for_pool(X, y, shadows, n_shadows=self.n_shadows, train_size=self.train_size,
                                   recipe=self.recipe, n_classes=self.n_classes, random_state=self.random_state)
        self.shadows_ = shadows
        features, labels, is_member = shadow_attack_dataset(shadows, X, y, sort=self.sort,
                                                            true_label=self.true_label)
        shadow_of_row = np.concatenate([np.full(int(shadows.members[:, j].sum() + shadows.nonmembers[:, j].sum()), j)
                                        for j in range(len(shadows))])
        self.n_classes_ = shadows.stack.n_classes
        self._fit_models(features, labels, is_member)
        self.shadow_scores_, self.shadow_is_member_ = self._out_of_fold(features, labels, is_member, shadow_of_row)
        self.threshold_ = choose_threshold(self.shadow_scores_, self.shadow_is_member_, "accuracy")
        return self

    def _fit_models(self, features, labels, is_member):
        model = make_attack_model() if self.attack_model is None else self.attack_model
        with threadpool_limits(limits=1):
            self.global_model_ = _fit_one(features, is_member, model)
        self.models_ = (fit_attack_models(features, labels, is_member, self.n_classes_, attack_model=model)
                        if self.per_class else [None] * self.n_classes_)

    def _scores(self, features, labels):
        return attack_scores(self.models_, features, labels, fallback=self.global_model_)

    def _out_of_fold(self, features, labels, is_member, shadow_of_row):
        """Attack scores on the shadow rows from attack models fitted without them (2 folds, by shadow if possible)."""
        rng = check_random_state(self.random_state)
        if len(self.shadows_) >= 2:
            fold_of_shadow = rng.permutation(len(self.shadows_)) % 2
            fold = fold_of_shadow[shadow_of_row]
        else:
            fold = rng.permutation(len(features)) % 2
        scores = np.empty(len(features))
        saved = self.models_, self.global_model_
        try:
            for f in (0, 1):
                train, test = fold != f, fold == f
                if is_member[train].all() or not is_member[train].any():
                    raise ValueError("too few shadow records to fit the attack; pass a larger train_size.")
                self._fit_models(features[train], labels[train], is_member[train])
                scores[test] = self._scores(features[test], labels[test])
        finally:  # the fold models never stay in models_, also when a fold fails
            self.models_, self.global_model_ = saved
        return scores, is_member

    def score(self, target, X, y) -> np.ndarray:
        """Membership score of each candidate (the attack model's probability of IN): X (n, d), y (n,) -> (n,)."""
        self._check_fitted()
        probs, y = query_candidates(target, X, y, self.n_classes_)
        return self._scores(_features(probs, y, self.sort, self.true_label), y)
