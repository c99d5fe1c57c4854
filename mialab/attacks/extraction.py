"""Tramèr et al. (2016): stealing a model through its prediction API.

Three ways, from the most to the least the API gives away:

    w, b = extract_logistic(target, n_features=30)                 # d + 1 confidence queries, solved exactly
    copy = path_finding(LeafOracle(tree), low, high)               # a tree's leaves and their boxes, from leaf ids
    copy = retrain_copy(target, X_queries, budget=700, n_classes=10)  # a network trained on the API's answers
    fidelity(target.query(X_test), copy_answers)                   # share of inputs the copy labels as the victim

Extraction returns a model, not membership scores, so these are functions and small model classes rather than
`Attack` subclasses; §6 of notebook 09 runs a membership attack through a copy.

Paper: F. Tramèr, F. Zhang, A. Juels, M. K. Reiter, T. Ristenpart, "Stealing Machine Learning Models via
Prediction APIs", USENIX Security 2016 (Sec. 4.1 equation solving, 4.2 path-finding, 5 retraining).
Taught in notebook 09.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
import torch.nn.functional as F

from .._reference import reference
from .._validation import (as_array, as_features, as_proba, check_count, check_positive_int, check_random_state,
                           check_scalar, check_seed, check_width)
from ..blackbox import QueryBudgetExceeded, check_target, query_labels, query_probabilities
from ..models import MLP
from ..threads import limited

__all__ = ["solve_binary_logistic", "solve_softmax", "extract_logistic", "LinearCopy", "LeafOracle",
           "find_threshold", "path_finding", "TreeCopy", "QueryBudgetExceeded", "query_within_budget",
           "retrain_copy", "fidelity", "queries_to_reach", "bootstrap_queries_to_reach"]


# ---------------------------------------------------------------------------------------------------------------
# equation solving (Tramèr et al. Sec. 4.1)
# ---------------------------------------------------------------------------------------------------------------

def _logit(p: np.ndarray, clip: float) -> np.ndarray:
    p = np.clip(p, clip, 1.0 - clip)
    return np.log(p) - np.log1p(-p)


def _check_clip(clip) -> float:
    return check_scalar(clip, "clip", numbers.Real, low=0.0, high=0.5, closed="neither")


@reference
def solve_binary_logistic(X, p, clip: float = 1e-15):
    """Weights and bias of a binary logistic regression from its answers: X (m, d) queries with m >= d + 1,
    p (m,) the probabilities of class 1 -> (w (d,), b float).

    Solves logit(p) = X w + b (least squares when m > d + 1). `clip` keeps a rounded 0 or 1 finite.
    Tramèr et al. 2016, Sec. 4.1. Taught in notebook 09, section 2."""
    X = as_array(X, "X", ndim=2)
    p = as_array(p, "p", ndim=1)
    if len(p) != len(X):
        raise ValueError(f"`p` has {len(p)} probabilities but `X` has {len(X)} queries; pass one per query.")
    if len(X) < X.shape[1] + 1:
        raise ValueError(f"{len(X)} queries cannot determine {X.shape[1] + 1} unknowns (d weights and a bias); "
                         f"pass at least d + 1 = {X.shape[1] + 1} queries.")
    if np.any((p < 0) | (p > 1)):
        raise ValueError("`p` must hold probabilities in [0, 1]; got values outside. Pass the class-1 column.")
    A = np.hstack([X, np.ones((len(X), 1))])
    theta = np.linalg.lstsq(A, _logit(p, _check_clip(clip)), rcond=None)[0]
    return theta[:-1], float(theta[-1])


@reference
def solve_softmax(X, probs, clip: float = 1e-15):
    """Weights and biases of a softmax regression, up to the class shift: X (m, d) queries with m >= d + 1,
    probs (m, k) -> (W (k, d), b (k,)) with class 0's row and bias set to 0.

    log p_j - log p_0 = (w_j - w_0) x + (b_j - b_0) is linear, so each class j > 0 is one linear system; the
    softmax cannot tell (W, b) from (W + c, b + c), so only the differences are recovered.
    Tramèr et al. 2016, Sec. 4.1.2. Taught in notebook 09, section 2."""
    X = as_array(X, "X", ndim=2)
    probs = as_proba(probs, "probs")
    if len(probs) != len(X) or probs.shape[1] < 2:
        raise ValueError(f"`probs` must have one probability vector (k >= 2 classes) per query, shape "
                         f"({len(X)}, k); got {probs.shape}.")
    if len(X) < X.shape[1] + 1:
        raise ValueError(f"{len(X)} queries cannot determine {X.shape[1] + 1} unknowns per class; pass at least "
                         f"d + 1 = {X.shape[1] + 1} queries.")
    log_p = np.log(np.clip(probs, _check_clip(clip), None))
    A = np.hstack([X, np.ones((len(X), 1))])
    theta = np.linalg.lstsq(A, log_p[:, 1:] - log_p[:, :1], rcond=None)[0]      # (d + 1, k - 1)
    W = np.vstack([np.zeros(X.shape[1]), theta[:-1].T])
    b = np.concatenate([[0.0], theta[-1]])
    return W, b


class LinearCopy:
    """A stolen linear model: coef_ (k, d) and intercept_ (k,) of a softmax (k = 1 row for a binary model)."""

    def __init__(self, coef, intercept):
        self.coef_ = np.atleast_2d(as_array(coef, "coef"))
        self.intercept_ = np.atleast_1d(as_array(intercept, "intercept"))
        if self.coef_.ndim != 2 or self.intercept_.shape != (len(self.coef_),):
            raise ValueError(f"`coef` (k, d) and `intercept` (k,) must have one row and one value per class; got "
                             f"{self.coef_.shape} and {self.intercept_.shape}.")

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities: X (n, d) -> (n, k) (k = 2 for a binary model)."""
        X = check_width(as_features(X), self.coef_.shape[1], what="this copy")
        z = X.astype(float) @ self.coef_.T + self.intercept_
        if self.coef_.shape[0] == 1:
            z = np.hstack([np.zeros_like(z), z])
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """The most likely class: X (n, d) -> int64 (n,)."""
        return self.predict_proba(X).argmax(axis=1).astype(np.int64)

    def __repr__(self) -> str:
        return f"LinearCopy(classes={max(2, self.coef_.shape[0])}, features={self.coef_.shape[1]})"


def extract_logistic(target, n_features: int, *, n_queries: int | None = None, scale: float = 1.0,
                     random_state: int = 0) -> LinearCopy:
    """Steal a (binary or softmax) logistic regression behind `target` from n_queries >= d + 1 random queries
    (default d + 1), each x ~ N(0, scale^2 I) -> LinearCopy (binary: coef_ (1, d); k classes: (k, d), up to the
    class shift).

    A box that rounds its answers (output="rounded") is clipped at half its last digit, so a rounded 0 or 1
    stays finite. A scikit-learn model fit on float32 data answers in float32, which caps the precision at ~1e-6.
    Tramèr et al. 2016, Sec. 4.1. Taught in notebook 09, section 2."""
    check_target(target)
    d = check_positive_int(n_features, "n_features")
    m = d + 1 if n_queries is None else check_positive_int(n_queries, "n_queries", minimum=d + 1)
    scale = check_scalar(scale, "scale", numbers.Real, low=0.0, closed="neither")
    rng = np.random.default_rng(check_seed(random_state))
    X = (rng.normal(size=(m, d)) * scale).astype(np.float32).astype(float)  # the box sees float32 records
    probs = query_probabilities(target, X)
    clip = 0.5 * 10.0 ** -target.decimals if getattr(target, "output", None) == "rounded" else 1e-15
    if probs.shape[1] == 2:
        w, b = solve_binary_logistic(X, probs[:, 1], clip=clip)
        return LinearCopy(w[None, :], [b])
    return LinearCopy(*solve_softmax(X, probs, clip=clip))


# ---------------------------------------------------------------------------------------------------------------
# path-finding through leaf identifiers (Tramèr et al. Sec. 4.2)
# ---------------------------------------------------------------------------------------------------------------

class LeafOracle:
    """A decision tree behind an API that answers each query with the id of the leaf it lands in and the leaf's
    label (as BigML did): query(X (n, d)) -> (leaf ids int64 (n,), labels int64 (n,)); n_queries counts records.

    tree: a fitted scikit-learn DecisionTreeClassifier (or anything with apply(X) and predict(X)). Like BlackBox,
    the tree sits in a private attribute by convention only. Taught in notebook 09, section 3."""

    def __init__(self, tree):
        if not (callable(getattr(tree, "apply", None)) and callable(getattr(tree, "predict", None))):
            raise TypeError(f"`tree` must be a fitted scikit-learn decision tree (with apply(X) and predict(X)); got "
                            f"{type(tree).__name__}. Fit sklearn.tree.DecisionTreeClassifier first.")
        if isinstance(tree, type):
            raise TypeError(f"`tree` is the class {tree.__name__} itself; pass a fitted instance, e.g. "
                            f"{tree.__name__}().fit(X, y).")
        if getattr(tree, "tree_", None) is None and hasattr(tree, "get_params"):
            raise ValueError("`tree` is not fitted yet; call tree.fit(X, y) first.")
        self._tree = tree
        self.n_queries = 0

    def query(self, X) -> tuple[np.ndarray, np.ndarray]:
        """(leaf ids (n,), labels (n,)) of the records X (n, d)."""
        X = as_features(X)
        self.n_queries += len(X)
        return self._tree.apply(X).astype(np.int64), np.asarray(self._tree.predict(X)).astype(np.int64)

    def leaf(self, X) -> np.ndarray:
        """The leaf ids alone (n,), counted as queries."""
        return self.query(X)[0]

    def reset_queries(self) -> None:
        """Set the query counter back to 0."""
        self.n_queries = 0

    def __repr__(self) -> str:
        return f"LeafOracle(n_queries={self.n_queries})"


def _check_leaf_of(leaf_of):
    if not callable(leaf_of):
        raise TypeError(f"`leaf_of` must be a function X (n, d) -> leaf ids (n,), such as LeafOracle(tree).leaf; "
                        f"got {type(leaf_of).__name__}.")
    return leaf_of


def _with(x: np.ndarray, feature: int, values) -> np.ndarray:
    X = np.repeat(x[None, :], np.size(values), axis=0)
    X[:, feature] = values
    return X


@reference
def find_threshold(leaf_of, x, feature: int, low: float, high: float, tol: float = 1e-4) -> float:
    """The split threshold on `feature` between `low` and `high` by binary search: leaf_of(X (n, d)) -> leaf ids
    (n,), x (d,) the other features' values, leaf(low) != leaf(high) with one boundary between them -> the
    threshold, within `tol`.

    Tramèr et al. 2016, Sec. 4.2 (line search). Taught in notebook 09, section 3."""
    leaf_of = _check_leaf_of(leaf_of)
    x = as_array(x, "x", ndim=1)
    feature = check_scalar(feature, "feature", numbers.Integral, low=0, high=len(x) - 1)
    low, high = check_scalar(low, "low"), check_scalar(high, "high")
    tol = check_scalar(tol, "tol", numbers.Real, low=0.0, closed="neither")
    if not low < high:
        raise ValueError(f"`low` must be smaller than `high`; got low={low}, high={high}.")
    leaf_low = leaf_of(_with(x, feature, [low]))[0]
    while high - low > tol:
        mid = 0.5 * (low + high)
        if leaf_of(_with(x, feature, [mid]))[0] == leaf_low:
            low = mid
        else:
            high = mid
    return 0.5 * (low + high)


class TreeCopy:
    """A stolen tree: one box [lower, upper] per leaf and the leaf's label. predict(X (n, d)) -> int64 (n,);
    leaves_ maps leaf id -> (lower (d,), upper (d,), label). Points in no box (outside the explored domain)
    get the label of the nearest box."""

    def __init__(self, leaves: dict, n_queries: int):
        if not isinstance(leaves, dict) or not leaves:
            raise TypeError(f"`leaves` must be a non-empty dict {{leaf id: (lower (d,), upper (d,), label)}}, as "
                            f"path_finding builds it; got {type(leaves).__name__}.")
        self.leaves_ = leaves
        self.n_queries_ = check_positive_int(n_queries, "n_queries", minimum=0)

    def predict(self, X) -> np.ndarray:
        """The label of the leaf box each record falls in: X (n, d) -> int64 (n,)."""
        X = as_features(X).astype(float)
        lower = np.stack([v[0] for v in self.leaves_.values()])            # (L, d)
        upper = np.stack([v[1] for v in self.leaves_.values()])
        labels = np.array([v[2] for v in self.leaves_.values()], dtype=np.int64)
        # distance outside each box (0 inside); ties at a shared face go to the box where the point is <= upper
        outside = (np.clip(lower[None] - X[:, None], 0, None) + np.clip(X[:, None] - upper[None], 0, None)).sum(2)
        strict = (X[:, None] > lower[None]).all(2) & (X[:, None] <= upper[None]).all(2)
        return labels[np.where(strict.any(1), strict.argmax(1), outside.argmin(1))]

    def __repr__(self) -> str:
        return f"TreeCopy(leaves={len(self.leaves_)}, n_queries={self.n_queries_})"


def _line_search(leaf_of, x, feature, low, high, leaf_low, leaf_high, tol, found):
    """Every boundary on `feature` between low and high (a leaf's cut of a line is one interval, so equal ends
    mean no boundary between them); appends (boundary, a point just above it, the leaf there) to `found`."""
    if leaf_low == leaf_high:
        return
    if high - low <= tol:
        found.append((0.5 * (low + high), high, leaf_high))
        return
    mid = 0.5 * (low + high)
    leaf_mid = leaf_of(_with(x, feature, [mid]))[0]
    _line_search(leaf_of, x, feature, low, mid, leaf_low, leaf_mid, tol, found)
    _line_search(leaf_of, x, feature, mid, high, leaf_mid, leaf_high, tol, found)


def path_finding(oracle: LeafOracle, low, high, *, x0=None, tol: float = 1e-4, max_leaves: int = 10_000) -> TreeCopy:
    """Find every leaf of the tree behind `oracle` and its box within the domain [low, high] (each (d,)).

    Start from x0 (default the domain's centre); for each leaf found, move one feature at a time across its
    whole range and binary-search (to `tol`) every point where the leaf id changes. The leaf's box is where its
    own id holds; each new id seen is a new leaf, explored in turn from the point where it was seen.
    Returns a TreeCopy; n_queries_ counts the queries spent. Tramèr et al. 2016, Sec. 4.2.
    Taught in notebook 09, section 3."""
    if not isinstance(oracle, LeafOracle):
        raise TypeError(f"`oracle` must be a LeafOracle (a tree answering leaf ids); got {type(oracle).__name__}.")
    low, high = as_array(low, "low", ndim=1), as_array(high, "high", ndim=1)
    if low.shape != high.shape or np.any(low >= high):
        raise ValueError("`low` and `high` must have one bound per feature, shape (d,), with low < high everywhere.")
    tol = check_scalar(tol, "tol", numbers.Real, low=0.0, closed="neither")
    max_leaves = check_positive_int(max_leaves, "max_leaves")
    x0 = 0.5 * (low + high) if x0 is None else as_array(x0, "x0", ndim=1)
    if x0.shape != low.shape:
        raise ValueError(f"`x0` must have shape {low.shape}; got {x0.shape}.")
    start = oracle.n_queries
    label_of: dict[int, int] = {}

    def leaf_of(X):
        ids, labels = oracle.query(X)
        label_of.update(zip(ids.tolist(), labels.tolist()))
        return ids

    first = int(leaf_of(x0[None, :])[0])
    todo, seen, leaves = [(first, x0.astype(float))], {first}, {}
    while todo:
        leaf, x = todo.pop(0)
        lower, upper = low.copy(), high.copy()
        for f in range(len(x)):
            ends = leaf_of(_with(x, f, [low[f], high[f]]))
            found: list = []
            _line_search(leaf_of, x, f, low[f], x[f], int(ends[0]), leaf, tol, found)
            _line_search(leaf_of, x, f, x[f], high[f], leaf, int(ends[1]), tol, found)
            lower[f] = max([t for t, _, _ in found if t < x[f]], default=low[f])
            upper[f] = min([t for t, _, _ in found if t >= x[f]], default=high[f])
            for value, id_ in [(low[f], int(ends[0]))] + [(h, int(i)) for _, h, i in found]:
                if id_ not in seen:
                    seen.add(id_)
                    todo.append((id_, _with(x, f, [value])[0]))
        leaves[leaf] = (lower, upper, label_of[leaf])
        if len(seen) > max_leaves:
            raise ValueError(f"path_finding found more than max_leaves={max_leaves} leaves; raise max_leaves or "
                             "narrow the domain.")
    return TreeCopy(leaves, oracle.n_queries - start)


# ---------------------------------------------------------------------------------------------------------------
# retraining on the API's answers (Tramèr et al. Sec. 5)
# ---------------------------------------------------------------------------------------------------------------

def query_within_budget(target, X, budget: int, *, labels_only: bool = False) -> np.ndarray:
    """The target's answers on X (n, d) if its query counter stays within `budget` (else
    blackbox.QueryBudgetExceeded, and nothing is asked): probabilities (n, k), or labels (n,) when labels_only.

    The attacker's own budget on the target's counter; a BlackBox(..., budget=) enforces the defender's."""
    check_target(target)
    X = as_features(X)
    budget = check_positive_int(budget, "budget")
    used = int(getattr(target, "n_queries", 0))
    if used + len(X) > budget:
        raise QueryBudgetExceeded(f"{len(X)} more queries would take the target to {used + len(X)}, over the budget "
                                  f"of {budget}; pass fewer queries (or call target.reset_queries() for a new "
                                  "attacker).")
    return query_labels(target, X) if labels_only else query_probabilities(target, X)


def retrain_copy(target, X_queries, *, budget: int, n_classes: int, labels_only: bool = False, hidden=(128,),
                 steps: int = 400, lr: float = 1e-2, random_state: int = 0) -> MLP:
    """Train a copy of the model behind `target` on its answers to X_queries (n, d), n <= budget counted by the
    target's query counter -> an MLP(d, n_classes, hidden).

    With probabilities the copy fits the answers (cross-entropy to the soft labels); with labels_only it fits
    the labels. Full-batch Adam for `steps` steps (one torch thread). Tramèr et al. 2016, Sec. 5 (retraining).
    Taught in notebook 09, section 4."""
    answers = query_within_budget(target, X_queries, budget, labels_only=labels_only)
    X = as_features(X_queries)
    k = check_positive_int(n_classes, "n_classes", minimum=2)
    steps = check_count(steps, "steps")
    lr = check_scalar(lr, "lr", numbers.Real, low=0.0, closed="neither")
    seed = check_seed(random_state)
    if labels_only:
        soft = np.eye(k)[answers]
    else:
        if answers.shape[1] != k:
            raise ValueError(f"the target answers {answers.shape[1]} classes but n_classes={k}; pass its class count.")
        soft = answers
    model = MLP(X.reshape(len(X), -1).shape[1], k, hidden=hidden, random_state=seed)
    X_t = torch.from_numpy(X.reshape(len(X), -1))
    target_t = torch.from_numpy(soft.astype(np.float32))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    with limited():
        for _ in range(steps):
            loss = -(target_t * F.log_softmax(model(X_t), dim=1)).sum(1).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return model.eval()


@reference
def fidelity(answers_a, answers_b) -> float:
    """The share of inputs on which two models give the same label: answers (n,) labels or (n, k) probabilities
    (argmax taken) each -> float in [0, 1]. Tramèr et al. 2016's 1 - R_test. Taught in notebook 09, section 4."""
    a, b = np.asarray(answers_a), np.asarray(answers_b)
    labels = []
    for name, value in (("answers_a", a), ("answers_b", b)):
        if value.ndim not in (1, 2) or value.size == 0:
            raise ValueError(f"`{name}` must be labels (n,) or probability vectors (n, k); got shape {value.shape}.")
        labels.append(value.argmax(axis=1) if value.ndim == 2 else value)
    if len(labels[0]) != len(labels[1]):
        raise ValueError(f"the two models answered {len(labels[0])} and {len(labels[1])} inputs; pass answers on "
                         "the same inputs.")
    return float(np.mean(labels[0] == labels[1]))


# ---------------------------------------------------------------------------------------------------------------
# how many queries a copy needs (notebook 09's budget sweep)
# ---------------------------------------------------------------------------------------------------------------

def _check_sweep(agreement, budgets) -> tuple[np.ndarray, np.ndarray]:
    agree = as_array(agreement, "agreement", ndim=3, dtype=float)
    budgets = as_array(budgets, "budgets", ndim=1, dtype=float)
    if agree.shape[1] != len(budgets):
        raise ValueError(f"`agreement` has {agree.shape[1]} budgets on its axis 1 but `budgets` lists {len(budgets)}; "
                         "pass agreement of shape (n_seeds, n_budgets, n_test).")
    if len(budgets) == 0 or np.any(budgets <= 0) or np.any(np.diff(budgets) <= 0):
        raise ValueError(f"`budgets` must be increasing query counts > 0; got {budgets.tolist()}.")
    if agree.size and ((agree < 0).any() or (agree > 1).any()):
        raise ValueError(f"`agreement` must hold 1 (the copy labels an input as the victim does) or 0 (it does "
                         f"not), or shares in [0, 1]; got values from {agree.min():g} to {agree.max():g}.")
    return agree, budgets


def _reach(curve: np.ndarray, budgets: np.ndarray, level: float) -> float:
    above = np.flatnonzero(curve >= level)
    if len(above) == 0:
        return np.inf
    j = above[0]
    if j == 0:
        return float(budgets[0])
    t = (level - curve[j - 1]) / (curve[j] - curve[j - 1])
    return float(np.exp(np.log(budgets[j - 1]) + t * np.log(budgets[j] / budgets[j - 1])))


def queries_to_reach(agreement, budgets, level: float = 0.9) -> float:
    """The budget at which a copy's mean fidelity first reaches `level`: agreement (n_seeds, n_budgets, n_test),
    1 where the copy trained with that seed and budget labels a test input as the victim does; budgets
    (n_budgets,) increasing -> float, interpolated linearly in log(budget) between the two budgets around the
    crossing; inf if no budget reaches `level`. Taught in notebook 09, section 4.

    >>> agree = np.array([[[0, 1], [1, 1]]])                       # one seed; fidelity 0.5 at 10, 1.0 at 1000
    >>> round(queries_to_reach(agree, [10, 1000], level=0.75))     # halfway on a log scale
    100
    """
    agree, budgets = _check_sweep(agreement, budgets)
    level = check_scalar(level, "level", numbers.Real, low=0.0, high=1.0)
    return _reach(agree.mean(axis=(0, 2)), budgets, level)


def bootstrap_queries_to_reach(agreements: dict, budgets, level: float = 0.9, *, n_boot: int = 200,
                               random_state: int = 0) -> dict:
    """queries_to_reach on `n_boot` resamples of the test inputs (with replacement), the SAME resamples for every
    setting, so that ratios between settings are paired: {name: agreement (n_seeds, n_budgets, n_test)} ->
    {name: draws (n_boot,)} (inf where a resample never reaches `level`).

    A 95% interval: metrics.percentile_interval(draws[name]); of a ratio: percentile_interval(draws[a] / draws[b]).
    Taught in notebook 09, section 4."""
    if not isinstance(agreements, dict) or not agreements:
        raise TypeError(f"`agreements` must be a non-empty dict {{setting name: agreement (n_seeds, n_budgets, "
                        f"n_test)}}; got {type(agreements).__name__}.")
    checked = {name: _check_sweep(agree, budgets) for name, agree in agreements.items()}
    n_test = {agree.shape[2] for agree, _ in checked.values()}
    if len(n_test) != 1:
        raise ValueError(f"every setting's agreement must be on the same test inputs; got {sorted(n_test)} inputs.")
    n_test = n_test.pop()
    level = check_scalar(level, "level", numbers.Real, low=0.0, high=1.0)
    n_boot = check_count(n_boot, "n_boot")
    rng = check_random_state(random_state)
    rows = [rng.integers(n_test, size=n_test) for _ in range(n_boot)]
    return {name: np.array([_reach(agree[:, :, r].mean(axis=(0, 2)), b, level) for r in rows])
            for name, (agree, b) in checked.items()}

