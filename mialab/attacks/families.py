"""Truex et al.: targets of different model families on the same data, how much each leaks, and whether an attack
trained on shadows of one family transfers to a target of another (a family x family table of AUCs).

    families = {"tree": lambda: DecisionTreeClassifier(), "naive Bayes": lambda: BernoulliNB(), ...}
    result = family_transfer(families, (X_train, y_train), (X_out, y_out), (X_pool, y_pool), n_shadows=1)
    result.auc            # DataFrame: rows = the shadows' family (the attack was trained on), columns = the target's
    result.table()        # the same with 95% intervals, "0.91 [0.90, 0.92]" cells
    result.summary()      # per family: target train / test accuracy, the AUC with shadows of the target's own family

The attack is mialab.attacks.mlleaks.MLLeaksAttack with one attack model for all classes on each record's 3 largest
posteriors, sorted, and the posterior of its own class (true_label=True): features that mean the same whichever
family answers, so one attack model can be carried from one family to another. (The whole sorted vector would not
do: its last columns are exact zeros for the classes a model never saw, and how many those are differs from one
training set to the next.)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from .._reference import reference
from .._validation import as_features, as_labels, as_membership, as_scores, check_count, check_positive_int, \
    check_random_state, check_seed
from ..blackbox import BlackBox, query_probabilities
from ..metrics import auc, auc_ci, format_interval
from .mlleaks import MLLeaksAttack
from .shadow import make_estimator, train_shadows


@reference
def auc_table(pair_scores, is_member):
    """The transfer table: {(shadow family, target family): scores (n,)}, is_member (n,) bool -> a pandas DataFrame
    of AUCs, one row per shadow family (the attack was trained on its shadows), one column per target family (the
    attack scored its candidates), each in the order the families first appear among the keys; NaN for a pair
    without scores. Every target is scored on the same candidates, so one is_member serves every pair.
    (Truex et al., "Towards demystifying membership inference attacks".) Taught in notebook 03."""
    import pandas as pd   # deferred: only tables need it

    if not isinstance(pair_scores, dict) or not pair_scores:
        raise TypeError("`pair_scores` must be a non-empty dict {(shadow family, target family): scores (n,)}; got "
                        f"{type(pair_scores).__name__}.")
    for key in pair_scores:
        if not (isinstance(key, tuple) and len(key) == 2):
            raise TypeError(f"each key of `pair_scores` must be a pair (shadow family, target family); got {key!r}.")
    is_member = as_membership(is_member)
    rows = list(dict.fromkeys(shadow for shadow, _ in pair_scores))
    columns = list(dict.fromkeys(target for _, target in pair_scores))
    table = pd.DataFrame(np.nan, index=pd.Index(rows, name="shadows"), columns=pd.Index(columns, name="target"))
    for (shadow, target), scores in pair_scores.items():
        scores = as_scores(scores, f"pair_scores[{(shadow, target)!r}]")
        if len(scores) != len(is_member):
            raise ValueError(f"`pair_scores[{(shadow, target)!r}]` has {len(scores)} scores but `is_member` has "
                             f"{len(is_member)} records; score every target on the same candidates.")
        table.loc[shadow, target] = auc(scores, is_member)
    return table


@dataclass(repr=False)
class FamilyTransfer:
    """What family_transfer measured. auc, low, high: DataFrames (shadow family x target family) of AUCs and their
    95% bootstrap bounds; accuracy: a DataFrame (family x "train", "test") of each target's accuracy; scores:
    {(shadow family, target family): scores (n,)} on the candidates, is_member (n,) bool."""

    auc: object
    low: object
    high: object
    accuracy: object
    scores: dict
    is_member: np.ndarray

    def table(self, digits: int = 2):
        """The transfer table with intervals: a DataFrame of "0.91 [0.90, 0.92]" strings."""
        cells = {target: [format_interval(float(self.auc.loc[shadow, target]), float(self.low.loc[shadow, target]),
                                          float(self.high.loc[shadow, target]), digits) for shadow in self.auc.index]
                 for target in self.auc.columns}
        frame = self.auc.copy().astype(object)
        for target, column in cells.items():
            frame[target] = column
        return frame

    def mirrored(self) -> dict:
        """{family: AUC} when the shadows are of the target's own family (the table's diagonal)."""
        return {family: float(self.auc.loc[family, family]) for family in self.auc.columns if family in self.auc.index}

    def summary(self, digits: int = 2):
        """One row per family: its target's train and test accuracy, their gap, and the AUC of the attack whose
        shadows are of the same family, with its interval."""
        frame = self.accuracy.copy()
        frame["gap"] = frame["train"] - frame["test"]
        frame["AUC, own-family shadows"] = [
            format_interval(float(self.auc.loc[f, f]), float(self.low.loc[f, f]), float(self.high.loc[f, f]), digits)
            for f in frame.index]
        return frame.round(digits)


def _pair(data, name: str, n_classes: int | None = None):
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise TypeError(f"`{name}` must be a pair (X, y) of records (n, d) and their labels (n,); got "
                        f"{type(data).__name__}.")
    X = as_features(data[0], f"{name}[0]")
    return X, as_labels(data[1], f"{name}[1]", n=len(X), n_classes=n_classes)


class _Answers:
    """The answers a BlackBox gave on the candidates, replayed: every attack model scores the same answers, so each
    target is queried once per candidate, not once per attack."""

    output = "probabilities"

    def __init__(self, box: BlackBox, X: np.ndarray):
        self._X, self._answers = X, query_probabilities(box, X)

    def query(self, X):
        if X is not self._X and not (np.shape(X) == self._X.shape and np.array_equal(X, self._X)):
            raise ValueError("these answers were recorded on other records.")
        return self._answers


def family_transfer(families, members, nonmembers, pool, *, n_shadows: int = 1, k: int = 3,
                    n_classes: int | None = None, n_boot: int = 200, random_state: int = 0) -> FamilyTransfer:
    """Targets and shadows of each model family; the attack trained on each family's shadows scores each family's
    target -> FamilyTransfer (the family x family AUC table with 95% intervals, each target's accuracy).

    families: {name: an unfitted scikit-learn classifier (cloned) or a function of no argument returning one};
    each needs predict_proba. members, nonmembers: (X, y) pairs, the targets' training set and as many records
    they never saw (the candidates: members then non-members). pool: (X, y), the attacker's records, at least
    2 * len(members) of them; each family gets `n_shadows` shadows, each trained on len(members) pool records with
    as many kept out. Every target and shadow gets its own random_state drawn from `random_state` (where the
    estimator has one): the same random_state gives the same table. n_boot: bootstrap resamples per interval
    (metrics.auc_ci). scikit-learn's ConvergenceWarning is silenced: a capped max_iter is a way to set a model's
    capacity. The attack: MLLeaksAttack(k=k, true_label=True), one attack model on each record's k largest
    posteriors, sorted, and the posterior of its own class; fitted on the n_shadows shadows. Threat model: the
    attacker has records of the target's distribution and the candidates' labels, sees probability vectors, and
    does not know the target's family. (Truex et al., "Towards demystifying membership inference attacks", 2018.)
    Taught in notebook 03.
    """
    import pandas as pd   # deferred: only tables need it

    if not isinstance(families, dict) or not families:
        raise TypeError("`families` must be a non-empty dict {name: scikit-learn classifier or a function returning "
                        f"one}}, e.g. {{'tree': lambda: DecisionTreeClassifier()}}; got {type(families).__name__}.")
    for name, estimator in families.items():
        try:
            make_estimator(estimator)
        except TypeError as error:
            raise TypeError(f"`families[{name!r}]`: {error}") from None
    X_in, y_in = _pair(members, "members")
    X_out, y_out = _pair(nonmembers, "nonmembers")
    X_pool, y_pool = _pair(pool, "pool")
    if not X_in.shape[1] == X_out.shape[1] == X_pool.shape[1]:
        raise ValueError(f"`members`, `nonmembers` and `pool` must have the same features per record; got "
                         f"{X_in.shape[1]}, {X_out.shape[1]} and {X_pool.shape[1]}.")
    n_shadows = check_count(n_shadows, "n_shadows")
    k = check_positive_int(k, "k")
    train_size = len(X_in)
    if 2 * train_size > len(X_pool):
        raise ValueError(f"`pool` holds {len(X_pool)} records but each shadow trains on {train_size} (the targets' "
                         f"training set size) and keeps as many out: pass a pool of at least {2 * train_size}.")
    seen = int(max(y_in.max(), y_out.max(), y_pool.max())) + 1
    n_classes = seen if n_classes is None else check_positive_int(n_classes, "n_classes", minimum=2)
    if n_classes < seen:
        raise ValueError(f"the labels go up to class {seen - 1} but `n_classes` = {n_classes}; pass n_classes >= "
                         f"{seen} or leave it out.")
    n_boot = check_count(n_boot, "n_boot")
    random_state = check_seed(random_state)
    rng = check_random_state(random_state)
    seeds = {name: rng.integers(0, 2 ** 31, size=2) for name in families}   # the target's, the shadows'

    X_candidates, y_candidates = np.concatenate([X_in, X_out]), np.concatenate([y_in, y_out])
    is_member = np.arange(len(X_candidates)) < len(X_in)
    answers, attacks, accuracy = {}, {}, {}
    for name, estimator in families.items():
        with threadpool_limits(limits=1), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)   # a capped max_iter is a capacity choice
            model = make_estimator(estimator, seeds[name][0]).fit(X_in, y_in)
        answers[name] = _Answers(BlackBox(model, n_classes=n_classes), X_candidates)
        correct = answers[name].query(X_candidates).argmax(axis=1) == y_candidates
        accuracy[name] = {"train": float(correct[is_member].mean()), "test": float(correct[~is_member].mean())}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            shadows = train_shadows(X_pool, y_pool, n_shadows, train_size=train_size, n_classes=n_classes,
                                    estimator=estimator, random_state=int(seeds[name][1]))
        attacks[name] = MLLeaksAttack(n_shadows, train_size, k=k, true_label=True).fit(X_pool, y_pool,
                                                                                        shadows=shadows)
    scores = {(shadow, target): attacks[shadow].score(answers[target], X_candidates, y_candidates)
              for shadow in families for target in families}
    table = auc_table(scores, is_member)
    low, high = table.copy(), table.copy()
    for (shadow, target), values in scores.items():
        low.loc[shadow, target], high.loc[shadow, target] = auc_ci(values, is_member, n_boot=n_boot,
                                                                   random_state=random_state)
    frame = pd.DataFrame.from_dict(accuracy, orient="index")[["train", "test"]]
    frame.index.name = "family"
    return FamilyTransfer(auc=table, low=low, high=high, accuracy=frame, scores=scores, is_member=is_member)
