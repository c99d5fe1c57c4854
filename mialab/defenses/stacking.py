"""Salem et al. (2019) model stacking: no single model both sees a record in training and answers for it alone."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from .._validation import as_features, as_labels, check_fraction, check_positive_int, check_random_state, \
    check_seed
from ..many_models import train_many
from ..recipe import as_recipe


class StackedModel:
    """A two-level model: two first-level MLPs, and a second-level logistic regression on their concatenated
    posteriors. predict_proba(X) -> (n, n_classes), rows sum to 1; wrap it as BlackBox(stacked) like any model.

    first: the ModelStack of the two first-level MLPs; second: the fitted LogisticRegression; n_classes;
    part: int (n_train,), which model each training record trained: 0 or 1 (first level) or 2 (second level).
    """

    def __init__(self, first, second, n_classes: int, part=None):
        if not (callable(getattr(first, "predict_proba", None)) and hasattr(first, "n_models")):
            raise TypeError(f"`first` must be the ModelStack of the first-level models; got {type(first).__name__}.")
        if second is not None and not callable(getattr(second, "predict_proba", None)):   # None: set later
            raise TypeError(f"`second` must be a fitted classifier with predict_proba; got {type(second).__name__}.")
        n_classes = check_positive_int(n_classes, "n_classes", minimum=2)
        self.first, self.second, self.n_classes, self.part = first, second, n_classes, part
        self.n_features_in_ = first.n_features

    def _inputs(self, X) -> np.ndarray:
        probs = self.first.predict_proba(X)                          # (2, n, k)
        return np.concatenate(list(probs), axis=1)                   # (n, 2k)

    def predict_proba(self, X) -> np.ndarray:
        """Posteriors of the second level: X (n, d) -> (n, n_classes) float64."""
        X = as_features(X)
        out = np.zeros((len(X), self.n_classes))
        with threadpool_limits(1):
            out[:, self.second.classes_] = self.second.predict_proba(self._inputs(X))
        return out

    def predict(self, X) -> np.ndarray:
        """The most likely class of each record: (n,) int64."""
        return self.predict_proba(X).argmax(axis=1)


def train_stacked(X, y, *, second_fraction: float = 1 / 3, recipe=None, C: float = 10.0,
                  n_classes: int | None = None, random_state: int = 0) -> StackedModel:
    """Train Salem et al.'s stacked model on X (n, d), y (n,): the training set is cut into three disjoint parts;
    two first-level MLPs train on the first two (at once, with mialab.many_models.train_many) and a second-level
    logistic regression (inverse regularization `C`) on the first-level posteriors of the third
    (`second_fraction` of the records). Every record trains exactly one of the three models, so the second
    level never learns from an output the first level memorized, and a member of the whole training set is a
    member of one model only. Training the second level on the first level's own training records instead (two
    halves, no third part) leaks almost as much as one model: the second level learns to trust the first-level
    model that is most confident. The price is accuracy: each first-level model sees a third of the data.
    `recipe` (mialab.recipe.TrainingRecipe) trains the first level. (Salem et al. 2019, Sec. VI-B; the paper's
    first level is an MLP and a random forest.) Taught in notebook 03.
    """
    X = as_features(X)
    recipe = as_recipe(recipe)
    y = as_labels(y, n=len(X))
    second_fraction = check_fraction(second_fraction, "second_fraction")
    if isinstance(C, bool) or not isinstance(C, numbers.Real) or not np.isfinite(C) or C <= 0:
        raise ValueError(f"`C` (the second level's inverse regularization) must be a number > 0; got {C!r}.")
    n_classes = int(y.max()) + 1 if n_classes is None else check_positive_int(n_classes, "n_classes", minimum=2)
    if n_classes < 2:
        raise ValueError("`y` holds a single class; a classifier needs labels of at least two classes.")
    as_labels(y, n=len(X), n_classes=n_classes)
    n_second = int(round(second_fraction * len(X)))
    n_first = (len(X) - n_second) // 2
    if n_first < 1 or n_second < 2:
        raise ValueError(f"{len(X)} records are too few to cut into three training parts (second_fraction = "
                         f"{second_fraction:.2f}); pass at least 6 records, or move second_fraction toward 1/3.")
    rng = check_random_state(check_seed(random_state))
    order = rng.permutation(len(X))
    masks = np.zeros((len(X), 2), bool)
    masks[order[:n_first], 0] = True
    masks[order[n_first:2 * n_first], 1] = True
    third = order[2 * n_first:]
    if len(np.unique(y[third])) < 2:
        raise ValueError("the second-level part holds a single class; pass more records or a larger second_fraction.")
    first = train_many(X, y, masks, n_classes=n_classes, random_state=random_state, **recipe.as_kwargs())
    part = np.full(len(X), 2, dtype=np.int64)
    part[masks[:, 0]], part[masks[:, 1]] = 0, 1
    model = StackedModel(first, None, n_classes, part)
    # one BLAS thread: a small fit, which threads slow down many-fold on a busy machine
    with warnings.catch_warnings(), threadpool_limits(1):
        # "more classes than half the records" is expected with 100 classes
        warnings.filterwarnings("ignore", message="The number of unique classes", category=UserWarning)
        model.second = LogisticRegression(C=C, max_iter=1000).fit(model._inputs(X[third]), y[third])
    return model
