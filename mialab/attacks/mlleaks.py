"""Salem et al. (2019) ML-Leaks: membership inference with one shadow model (adversary 1), with a shadow trained
on another dataset (adversary 2), and with no shadow at all, a threshold on the target's confidence picked from
its answers on random noise (adversary 3)."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import clone

from .._validation import check_count, as_features, as_labels, as_proba, check_bool, check_choice, \
    check_positive_int, check_memory, check_random_state, check_seed
from .. import blackbox
from .._reference import reference
from .base import Attack, as_recipe
from .features import entropy, sorted_top_k
from .shadow import ShadowModels, _member_column, make_attack_model, shadow_attack_dataset, shadows_for_pool

METRICS = ("max_posterior", "entropy")
NOISE_KINDS = ("binary", "uniform", "gaussian")


# ---------------------------------------------------------------------------------------------------------------
# the target's answers
# ---------------------------------------------------------------------------------------------------------------

def _answers(target, X, accepted: tuple, need: str) -> np.ndarray:
    """The target's answers on X as a float array (n, C), after checking its output mode is one of `accepted`."""
    if not hasattr(target, "query"):
        raise TypeError(f"`target` must be a mialab.blackbox.BlackBox (something with .query(X)); got "
                        f"{type(target).__name__}. Wrap your model: BlackBox(model).")
    output = getattr(target, "output", "probabilities")
    if output not in accepted:
        raise ValueError(f"{need} needs the target's posteriors (BlackBox output in {list(accepted)}); the target "
                         f"answers {output!r}. Use a label-only attack for a target that returns labels (notebook 05).")
    answers = blackbox._answers(target, X)
    if answers.ndim != 2 or len(answers) != len(X):
        raise ValueError(f"the target answered shape {answers.shape} for {len(X)} records; expected one posterior "
                         "vector per record, shape (n, n_classes).")
    return blackbox.check_probability_answers(target, answers)


def query_top_k(target, X, k: int = 3) -> np.ndarray:
    """The k largest posteriors of the target's answer on each record, in decreasing order: X (n, d) -> (n, k).

    Accepts "probabilities", "rounded" and "top_k" black boxes (a top_k box must reveal at least k classes);
    rounded and top-k answers are used as they come, not renormalised. (Salem et al. 2019, Sec. III.)
    """
    k = check_positive_int(k, "k")
    X = as_features(X)
    revealed = getattr(target, "k", None) if getattr(target, "output", None) == "top_k" else None
    if revealed is not None and revealed < k:  # checked before spending any query
        raise ValueError(f"the target reveals only its top {revealed} posteriors but the attack uses the top {k}; "
                         f"pass k <= {revealed} (to the attack) or query a BlackBox with a larger k.")
    answers = _answers(target, X, ("probabilities", "rounded", "top_k"), "ML-Leaks")
    if k > answers.shape[1]:
        raise ValueError(f"`k` = {k} is larger than the target's number of classes ({answers.shape[1]}); pass "
                         f"k <= {answers.shape[1]}.")
    return -np.sort(-answers, axis=1)[:, :k]


# ---------------------------------------------------------------------------------------------------------------
# adversaries 1 and 2: a shadow model and one class-independent attack model on sorted top-k posteriors
# ---------------------------------------------------------------------------------------------------------------

class MLLeaksAttack(Attack):
    """Salem et al.'s adversary 1: one shadow model, features = the sorted top-k posteriors, one attack model.

    fit(X_pool, y_pool) trains `n_shadows` shadow models (1 in the paper; mialab.attacks.shadow.train_shadows) on
    the attacker's pool, each on `train_size` records with another `train_size` kept out, and fits ONE attack
    model, for all classes, on the shadows' sorted top-k posteriors of their members (label IN) and non-members
    (OUT). Sorting makes the features independent of which class is which, so one attack model serves every
    class, and of how many classes there are, so the shadow may even come from another dataset (TransferAttack).
    score(target, X) -> (n,): the attack model's probability that each candidate is a member; predict() calls
    members the records with score >= 0.5 (the attack model's own decision; IN and OUT are balanced in fitting).

    The attack model is mialab.attacks.shadow.make_attack_model() (logistic regression on standardized
    log-posteriors; the paper uses a small neural network); pass `attack_model` (a scikit-learn classifier, e.g.
    MLPClassifier) to use another. With n_shadows=8 the same code is a many-shadow attack. `true_label=True`
    appends the posterior of the record's own class to the top-k (the candidates' labels are then needed): a model
    whose answers are one-hot, a fully grown decision tree, gives every record the same sorted top-k, and only the
    posterior of the true class (1 on its members, 0 on the non-members it gets wrong) tells them apart (notebook
    03's model families). The shadow may be any scikit-learn classifier (train_shadows(..., estimator=)).

    Threat model:
        data:      >= 2 * train_size labelled records from the target's distribution (the shadow's pool)
        knowledge: none about the target's training recipe (the shadow uses the attacker's own `recipe`); the
                   candidates' labels are not needed (true_label=True: they are)
        outputs:   the top-k posteriors: "probabilities", "rounded" or "top_k" with at least k classes revealed;
                   label rejected (true_label=True: "probabilities" or "rounded")
        queries:   one per candidate record; none for fitting
    Paper: A. Salem, Y. Zhang, M. Humbert, P. Berrang, M. Fritz, M. Backes, "ML-Leaks: Model and Data Independent
    Membership Inference Attacks and Defenses on Machine Learning Models", NDSS 2019 (Sec. III). Taught in
    notebook 03.
    """

    needs = "scores"
    _fitted = ("attack_model_",)
    threshold_ = 0.5

    def __init__(self, n_shadows: int = 1, train_size: int = 2500, *, k: int = 3, true_label: bool = False,
                 recipe=None, attack_model=None, random_state: int = 0):
        self.n_shadows = check_count(n_shadows, "n_shadows")
        self.train_size = check_positive_int(train_size, "train_size")
        self.k = check_positive_int(k, "k")
        self.true_label = check_bool(true_label, "true_label")
        if attack_model is not None and not (hasattr(attack_model, "fit") and hasattr(attack_model, "predict_proba")):
            raise TypeError("`attack_model` must be a scikit-learn classifier with fit and predict_proba; got "
                            f"{type(attack_model).__name__}.")
        self.recipe = as_recipe(recipe)
        self.attack_model = attack_model
        self.random_state = check_seed(random_state)

    def fit(self, X, y, *, shadows: ShadowModels | None = None):
        """Train the shadow(s) on the pool X (n, d), y (n,) (or reuse `shadows` trained on it), then the attack
        model."""
        X = as_features(X)
        y = as_labels(y, n=len(X))
        if self.k > int(y.max()) + 1:
            raise ValueError(f"`k` = {self.k} is larger than the number of classes in y ({int(y.max()) + 1}); pass "
                             f"k <= {int(y.max()) + 1} or shadow data with more classes.")
        shadows = shadows_for_pool(X, y, shadows, n_shadows=self.n_shadows, train_size=self.train_size,
                                   recipe=self.recipe, random_state=self.random_state)
        probs, labels, is_member = shadow_attack_dataset(shadows, X, y)
        features = self._features(probs, labels)
        self.n_classes_ = probs.shape[1]
        model = make_attack_model() if self.attack_model is None else self.attack_model
        self.attack_model_ = clone(model).fit(features, is_member)
        self.shadows_ = shadows
        self.shadow_features_, self.shadow_is_member_ = features, is_member
        return self

    def _features(self, probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
        features = sorted_top_k(probs, self.k)
        if self.true_label:
            features = np.hstack([features, probs[np.arange(len(probs)), labels][:, None]])
        return features

    def score(self, target, X, y=None) -> np.ndarray:
        """The attack model's probability that each candidate is a member: X (n, d) -> (n,). `y` is not used
        (the attack needs no labels) but is checked when given, so every attack can be called the same way;
        with true_label=True it is needed."""
        self._check_fitted()
        X = as_features(X)
        if self.true_label:
            if y is None:
                raise ValueError("this attack was built with true_label=True: pass the candidates' labels, "
                                 "score(target, X, y).")
            probs, y = blackbox.query_candidates(target, X, y, self.n_classes_)
            features = self._features(probs, y)
        else:
            if y is not None:
                as_labels(y, n=len(X))
            features = query_top_k(target, X, self.k)
        return self.attack_model_.predict_proba(features)[:, _member_column(self.attack_model_)]


class TransferAttack(MLLeaksAttack):
    """Salem et al.'s adversary 2 (data transferring): adversary 1 with a shadow trained on a DIFFERENT dataset.

    The same code as MLLeaksAttack: fit(X_other, y_other) on any labelled dataset with at least k classes (its
    features and class count need not match the target's), score(target, X) on the target. It works because the
    sorted top-k posteriors of an overfit model look alike whatever the data: members get one posterior near 1,
    non-members a flatter vector.

    Threat model:
        data:      >= 2 * train_size labelled records of ANY dataset with >= k classes (not the target's
                   distribution)
        knowledge: none about the target's data or training recipe; the candidates' labels are not needed
        outputs:   the top-k posteriors: "probabilities", "rounded" or "top_k" with at least k classes revealed;
                   label rejected
        queries:   one per candidate record; none for fitting
    Paper: A. Salem et al., "ML-Leaks", NDSS 2019 (Sec. IV). Taught in notebook 03.
    """


# ---------------------------------------------------------------------------------------------------------------
# adversary 3: no shadow model, a threshold picked from noise queries
# ---------------------------------------------------------------------------------------------------------------

def _scores(answers: np.ndarray, metric: str) -> np.ndarray:
    if metric == "max_posterior":
        return answers.max(axis=1)
    sums = answers.sum(axis=1, keepdims=True)
    probs = np.where(sums > 0, answers / np.where(sums > 0, sums, 1.0), 1.0 / answers.shape[1])
    return -entropy(probs)


@reference
def posterior_scores(probs, metric: str = "max_posterior") -> np.ndarray:
    """Adversary 3's membership score, higher = member: the largest posterior ("max_posterior") or minus the
    Shannon entropy ("entropy"), probs (n, C) -> (n,). (Salem et al. 2019, Sec. V.)"""
    check_choice(metric, "metric", METRICS)
    return _scores(as_proba(probs), metric)


def _check_percentile(percentile) -> float:
    if isinstance(percentile, bool) or not isinstance(percentile, numbers.Real) or not 0 <= percentile <= 100:
        raise ValueError(f"`percentile` must be a number between 0 and 100 (e.g. 90: the top 10 % of the noise "
                         f"answers score above the threshold); got {percentile!r}.")
    return float(percentile)


@reference
def noise_threshold(noise_probs, percentile: float = 90.0, metric: str = "max_posterior") -> float:
    """The label-free threshold of adversary 3: the `percentile`-th percentile of posterior_scores on the target's
    answers to random noise queries, noise_probs (m, C) -> float. No membership labels are involved: a record
    scoring above it is more confident than (100 - percentile) % of the answers on noise. (Salem et al. 2019,
    Sec. V, "threshold choosing": the top t percentile, here t = 100 - percentile.)"""
    percentile = _check_percentile(percentile)
    return float(np.percentile(posterior_scores(noise_probs, metric), percentile))


def noise_records(n: int, n_features, kind: str = "binary", random_state: int = 0) -> np.ndarray:
    """Random queries for adversary 3: float32 (n, *n_features). "binary": each feature 0 or 1 with probability
    1/2 (the paper's choice for binary data such as purchase); "uniform": uniform on [0, 1) (random pixels, e.g.
    digits); "gaussian": standard normal (standardized tabular data, e.g. breast_cancer)."""
    n = check_positive_int(n, "n")
    if isinstance(n_features, numbers.Integral) and not isinstance(n_features, bool):
        shape = (n_features,)
    elif isinstance(n_features, (tuple, list)):
        shape = tuple(n_features)
    else:
        raise TypeError(f"`n_features` must be a whole number of features (or an image shape such as (8, 8)); got "
                        f"{n_features!r}.")
    for size in shape:
        check_positive_int(size, "n_features")
    check_memory(8.0 * n * float(np.prod(shape)), f"{n:,} noise records", "lower n")
    check_choice(kind, "kind", NOISE_KINDS)
    rng = check_random_state(random_state)
    if kind == "binary":
        X = rng.integers(0, 2, size=(n, *shape))
    elif kind == "uniform":
        X = rng.random((n, *shape))
    else:
        X = rng.standard_normal((n, *shape))
    return X.astype(np.float32)


class ThresholdAttack(Attack):
    """Salem et al.'s adversary 3: no shadow model, no data; the score is the target's largest posterior (or
    minus its entropy), and the threshold is picked without any membership labels.

    score(target, X) -> (n,): posterior_scores of the target's answers (higher = member); AUC and ROC need no
    threshold. fit(target, X_noise) queries the target on random records (noise_records) and sets `threshold_` =
    noise_threshold(answers, percentile): a real member should be more confident than almost all noise. predict()
    calls members the candidates with score >= threshold_. No argument of fit takes membership labels.

    Threat model:
        data:      none (random noise queries only)
        knowledge: the input domain (feature count and range) to draw noise; nothing about the training recipe;
                   the candidates' labels are not needed
        outputs:   max_posterior: "probabilities", "rounded" or "top_k" (any k); entropy: "probabilities" or
                   "rounded" (renormalised); label rejected
        queries:   one per candidate record; one per noise record for fitting the threshold
    Paper: A. Salem et al., "ML-Leaks", NDSS 2019 (Sec. V). Taught in notebook 03.

    Why fit takes the target: unlike the other attacks, adversary 3 has no data and no shadow; what it learns
    before scoring (its threshold) comes from querying the target itself on noise, so fit(target, X_noise) is
    the honest signature. score() needs no fit; predict() does.
    """

    needs = "scores"
    _fitted = ("threshold_",)

    def __init__(self, metric: str = "max_posterior", percentile: float = 90.0):
        self.metric = check_choice(metric, "metric", METRICS)
        self.percentile = _check_percentile(percentile)

    def _outputs(self) -> tuple:
        return ("probabilities", "rounded", "top_k") if self.metric == "max_posterior" else ("probabilities", "rounded")

    def fit(self, target, X_noise) -> "ThresholdAttack":
        """Set threshold_ from the target's answers on random records X_noise (m, d) (see noise_records)."""
        X_noise = as_features(X_noise, "X_noise")
        answers = _answers(target, X_noise, self._outputs(), f"ThresholdAttack(metric={self.metric!r})")
        self.noise_scores_ = _scores(answers, self.metric)
        self.threshold_ = float(np.percentile(self.noise_scores_, self.percentile))
        return self

    def score(self, target, X, y=None) -> np.ndarray:
        """The target's largest posterior (or minus its entropy) on each candidate: X (n, d) -> (n,). `y` is not used
        but is checked when given."""
        X = as_features(X)
        if y is not None:
            as_labels(y, n=len(X))
        answers = _answers(target, X, self._outputs(), f"ThresholdAttack(metric={self.metric!r})")
        return _scores(answers, self.metric)

    def predict(self, target, X, y=None) -> np.ndarray:
        """Member (True) where score >= threshold_ (picked from noise, no labels): (n,) bool."""
        self._check_fitted()
        return self.score(target, X, y) >= self.threshold_
