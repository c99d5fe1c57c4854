"""The target as the attacker sees it: a black box that answers queries in one of four output modes and counts them.

    target = BlackBox(model, output="top_k", k=3)
    answers = target.query(X)        # (n, n_classes), all but each row's 3 largest probabilities set to 0
    target.n_queries                 # records answered so far
    BlackBox(model, budget=1000)     # refuses (QueryBudgetExceeded) a query past 1,000 records in all

    >>> import numpy as np
    >>> from mialab.models import MLP
    >>> target = BlackBox(MLP(4, 3, hidden=(8,), random_state=0), output="top_k", k=1, budget=10)
    >>> answers = target.query(np.zeros((6, 4), np.float32))
    >>> answers.shape, int((answers > 0).sum()), target.n_queries, target.queries_left
    ((6, 3), 6, 6, 4)
    >>> target.query(np.zeros((5, 4), np.float32))
    Traceback (most recent call last):
    ...
    mialab.blackbox.QueryBudgetExceeded: this query asks 5 records but only 4 of the budget of 10 are left: ...

The model sits in a private attribute (`_model`) and the box offers no way to its weights or training data. That
is a teaching convention that marks what an attacker may use, not a security boundary: Python hides nothing.
"""

from __future__ import annotations

import numbers

import numpy as np
from torch import nn

from ._validation import as_features, as_labels, as_proba, check_choice, check_positive_int
from .models import predict_proba

OUTPUTS = ("probabilities", "top_k", "rounded", "label")


class QueryBudgetExceeded(RuntimeError):
    """A query would take a black box past its query budget (BlackBox(..., budget=)) or an attacker past the budget
    it was given (extraction.query_within_budget); nothing is asked."""


def _integer_classes(model) -> np.ndarray | None:
    """The model's `classes_` when they are class indices (whole numbers >= 0), else None (strings, none)."""
    classes = getattr(model, "classes_", None)
    if classes is None:
        return None
    classes = np.asarray(classes)
    if classes.ndim != 1 or not len(classes) or not np.issubdtype(classes.dtype, np.integer) or classes.min() < 0:
        return None
    return classes


def _model_n_classes(model) -> int | None:
    if getattr(model, "n_classes", None) is not None:
        return int(model.n_classes)
    classes = getattr(model, "classes_", None)
    if classes is None:
        return None
    indices = _integer_classes(model)
    return len(classes) if indices is None else int(indices.max()) + 1


class BlackBox:
    """A model behind a query interface: query(X (n, d)) -> its answers, shaped by `output`.

    output:
        "probabilities"  the class probabilities, float (n, n_classes)
        "top_k"          the same with all but each row's k largest set to 0, float (n, n_classes); rows are not
                         renormalised, so they sum to less than 1 (Shokri et al. 2017, Salem et al. 2019 defences)
        "rounded"        the probabilities rounded to `decimals` decimals, float (n, n_classes) (Shokri et al. 2017)
        "label"          the predicted class only, int64 (n,) (the label-only setting, Choquette-Choo et al. 2021)
    model: a torch module (answers through mialab.models.predict_proba) or any object with predict_proba(X)
    (a scikit-learn classifier, a defended model). n_queries counts the records answered since the last
    reset_queries(). budget: the most records the box answers in all (None: no limit); a query that would pass it
    raises QueryBudgetExceeded and is not answered.

    A scikit-learn classifier answers one column per class it saw in training (`classes_`). Where those are class
    indices, column c of the box's answers is class c: a class the model never saw (absent from its training set)
    gets probability 0, so labels index the answers as they do a torch model's. `n_classes` (default: the model's
    largest class + 1) widens the answers to the task's classes when the highest ones were never seen.
    """

    def __init__(self, model, output: str = "probabilities", k: int = 3, decimals: int = 2, *,
                 budget: int | None = None, n_classes: int | None = None):
        self._is_torch = isinstance(model, nn.Module)
        if not self._is_torch and not callable(getattr(model, "predict_proba", None)):
            raise TypeError(f"`model` must be a torch module or have a predict_proba(X) method; got "
                            f"{type(model).__name__}. Train one with mialab.models.train first.")
        self._model = model
        self.output = check_choice(output, "output", OUTPUTS)
        self.k = check_positive_int(k, "k")
        if isinstance(decimals, bool) or not isinstance(decimals, numbers.Integral) or decimals < 0:
            raise ValueError(f"`decimals` must be an integer >= 0 (digits kept after the decimal point); "
                             f"got {decimals!r}.")
        self.decimals = int(decimals)
        self._n_classes = _model_n_classes(model)
        self._columns = None if self._is_torch else _integer_classes(model)   # where each predict_proba column goes
        if n_classes is not None:
            n_classes = check_positive_int(n_classes, "n_classes")
            if self._n_classes is not None and n_classes < self._n_classes:
                raise ValueError(f"`n_classes` = {n_classes} but the model answers {self._n_classes} classes; pass "
                                 f"n_classes >= {self._n_classes} (the task's number of classes), or leave it out.")
            if not self._is_torch and self._columns is None and getattr(model, "classes_", None) is not None:
                raise ValueError("`n_classes` widens the answers of a model whose `classes_` are class indices "
                                 f"(0, 1, ...); this model's classes are {list(model.classes_)[:5]}. Leave it out.")
            self._n_classes = n_classes
        self._check_k()
        self.budget = None if budget is None else check_positive_int(budget, "budget")
        self.n_queries = 0

    @property
    def queries_left(self) -> int | None:
        """How many more records the box will answer (None without a budget)."""
        return None if self.budget is None else self.budget - self.n_queries

    @property
    def n_classes(self) -> int | None:
        """The number of classes the model answers over (None until known: a model that does not say, not queried)."""
        return self._n_classes

    def _check_k(self) -> None:
        if self.output == "top_k" and self._n_classes is not None and self.k > self._n_classes:
            raise ValueError(f"`k` = {self.k} is larger than the model's number of classes ({self._n_classes}); "
                             f"pass 1 <= k <= {self._n_classes}.")

    def _probabilities(self, X: np.ndarray) -> np.ndarray:
        if self._is_torch:
            probs = predict_proba(self._model, X)
            if not np.all(np.isfinite(probs)):
                raise ValueError(f"the model behind this {self!r} answers NaN or infinite probabilities: it has "
                                 "diverged or is broken. Retrain it (a smaller lr) before attacking it.")
            return probs
        n_features = getattr(self._model, "n_features_in_", None)
        if n_features is not None and X.ndim == 2 and X.shape[1] != n_features:
            raise ValueError(f"`X` has {X.shape[1]} features per record but the model takes {n_features}.")
        probs = as_proba(self._model.predict_proba(X), "the model's predict_proba output", n=len(X))
        columns = self._columns
        if columns is None or (probs.shape[1] == self._n_classes and np.array_equal(columns, np.arange(len(columns)))):
            return probs
        if probs.shape[1] != len(columns):
            raise ValueError(f"the model's predict_proba answers {probs.shape[1]} columns but it has "
                             f"{len(columns)} classes_; it is not a scikit-learn classifier's output.")
        full = np.zeros((len(probs), self._n_classes), dtype=probs.dtype)
        full[:, columns] = probs
        return full

    def query(self, X) -> np.ndarray:
        """The model's answers on X (n, d): (n, n_classes) float, or (n,) int64 for output="label"."""
        X = as_features(X)
        if self.budget is not None and self.n_queries + len(X) > self.budget:
            raise QueryBudgetExceeded(
                f"this query asks {len(X):,} records but only {self.queries_left:,} of the budget of "
                f"{self.budget:,} are left: query fewer records (reuse the answers you have), or start again with a "
                "fresh box (a new attacker, a new budget).")
        probs = self._probabilities(X)
        if self._n_classes is None:
            self._n_classes = probs.shape[1]
            self._check_k()
        self.n_queries += len(X)
        if self.output == "probabilities":
            return probs
        if self.output == "rounded":
            return np.round(probs, self.decimals)
        if self.output == "label":
            return probs.argmax(axis=1).astype(np.int64)     # column c is class c (see _probabilities)
        top = np.argpartition(-probs, self.k - 1, axis=1)[:, :self.k]
        answers = np.zeros_like(probs)
        np.put_along_axis(answers, top, np.take_along_axis(probs, top, axis=1), axis=1)
        return answers

    def reset_queries(self) -> None:
        """Set the query counter back to 0."""
        self.n_queries = 0

    def __repr__(self) -> str:
        detail = {"top_k": f", k={self.k}", "rounded": f", decimals={self.decimals}"}.get(self.output, "")
        budget = "" if self.budget is None else f", budget={self.budget}"
        return f"BlackBox(output={self.output!r}{detail}, n_queries={self.n_queries}{budget})"


# ---------------------------------------------------------------------------------------------------------------
# querying a target: what every attack does first
# ---------------------------------------------------------------------------------------------------------------

_PROBABILITY_OUTPUTS = ("probabilities", "rounded")


def check_target(target):
    """`target` if it answers queries (has .query(X)); else a TypeError that says how to wrap a model."""
    if not callable(getattr(target, "query", None)):
        raise TypeError(f"`target` must be a mialab.blackbox.BlackBox (something with .query(X)); got "
                        f"{type(target).__name__}. Wrap your model: BlackBox(model).")
    return target


_FIX = "Make its query(X) return what a BlackBox does, or wrap the model instead: BlackBox(model)."


def _answers(target, X) -> np.ndarray:
    """The target's answers on X, refused unless they are finite real numbers."""
    answers = np.asarray(target.query(X))
    if answers.dtype.kind not in "biuf":
        raise TypeError(f"the target ({target!r}) answered values of dtype {answers.dtype}; a target's query(X) must "
                        f"return numbers: probability vectors (n, k) or class labels (n,). {_FIX}")
    if answers.dtype.kind == "f" and not np.all(np.isfinite(answers)):
        bad = int(answers.size - np.isfinite(answers).sum())
        raise ValueError(f"the target ({target!r}) answered {bad} NaN or infinite value(s): its model has "
                         "diverged or is broken. Retrain it (a smaller lr) before attacking it.")
    return answers


def check_probability_answers(target, answers: np.ndarray) -> np.ndarray:
    """The target's answers (n, k) as floats, refused (not repaired) unless they are probability vectors as its
    `output` mode gives them: in [0, 1], rows summing to 1 (within rounding for "rounded", at most 1 for "top_k")."""
    probs = answers.astype(float)
    if (probs < 0).any() or (probs > 1 + 1e-6).any():
        raise ValueError(f"the target ({target!r}) answered values from {probs.min():.3g} to {probs.max():.3g}, "
                         f"outside [0, 1]: not probabilities (logits? then apply a softmax in its query). {_FIX}")
    output = getattr(target, "output", "probabilities")
    decimals = getattr(target, "decimals", None)
    atol = 1e-3
    if output == "rounded" and isinstance(decimals, numbers.Integral) and not isinstance(decimals, bool):
        atol = max(atol, probs.shape[1] * 0.5 * 10.0 ** -int(decimals) + 1e-9)   # each entry off by <= half a digit
    sums = probs.sum(axis=1)
    low = -np.inf if output == "top_k" else 1 - atol
    bad = (sums > 1 + atol) | (sums < low)
    if bad.any():
        row = int(np.argmax(bad))
        raise ValueError(f"the target ({target!r}) answered rows that do not sum to 1 (row {row} sums to "
                         f"{sums[row]:.4g}): not probability vectors. {_FIX}")
    return probs


def query_probabilities(target, X) -> np.ndarray:
    """The target's probability vectors for X (n, d) -> (n, k), rows renormalised when the box rounds them.

    Refuses a box that hides the probabilities (top-k, label), one whose answers are not finite, and one whose
    answers are not probabilities (logits, negative values, rows not summing to 1): they are refused, not repaired."""
    check_target(target)
    output = getattr(target, "output", "probabilities")
    if output not in _PROBABILITY_OUTPUTS:
        raise ValueError(f"this attack needs the target's probability vectors (BlackBox output in "
                         f"{list(_PROBABILITY_OUTPUTS)}); the target answers {output!r}. Use a label-only or top-k "
                         "attack instead (notebooks 03, 05).")
    answers = _answers(target, X)
    if answers.ndim != 2 or len(answers) != len(X):
        raise ValueError(f"the target answered shape {answers.shape} for {len(X)} records; this attack needs one "
                         "probability vector per record, shape (n, k). Use a label-only attack (notebook 05).")
    probs = check_probability_answers(target, answers)
    sums = probs.sum(axis=1, keepdims=True)
    return np.where(sums > 0, probs / np.where(sums > 0, sums, 1.0), 1.0 / probs.shape[1])


def query_labels(target, X) -> np.ndarray:
    """The target's predicted classes for X (n, d) -> int64 (n,): its label answers, or the argmax of its
    probability answers. Label answers must be whole numbers >= 0 (below the target's n_classes when it says)."""
    check_target(target)
    answers = _answers(target, X)
    if answers.ndim == 1 and len(answers) == len(X):
        n_classes = getattr(target, "n_classes", None)
        n_classes = n_classes if isinstance(n_classes, numbers.Integral) and n_classes > 0 else None
        try:
            return as_labels(answers, "the target's label answers", n_classes=n_classes)
        except (TypeError, ValueError) as error:
            raise type(error)(f"the target ({target!r}) answered labels that are not class indices: {error} "
                              f"{_FIX}") from None
    if answers.ndim == 2 and len(answers) == len(X):
        return answers.argmax(axis=1).astype(np.int64)
    raise ValueError(f"the target answered shape {answers.shape} for {len(X)} records; expected labels (n,) or "
                     "probability vectors (n, k).")


def query_candidates(target, X, y, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """The target's probability vectors for candidates X (n, d) with labels y (n,), checked against the
    `n_classes` the attack was fitted on -> probs (n, n_classes), y (n,)."""
    X = as_features(X)
    y = as_labels(y, n=len(X))
    probs = query_probabilities(target, X)
    if probs.shape[1] != n_classes:
        raise ValueError(f"the target answers {probs.shape[1]} classes but the attack was fitted on {n_classes}; "
                         "fit it on data with the target's classes.")
    return probs, as_labels(y, n=len(X), n_classes=n_classes)
