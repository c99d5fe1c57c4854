"""Output perturbation in the spirit of MemGuard (Jia et al., CCS 2019): change the answer, not the model, so
that the defender's own attack model cannot tell members from non-members, while the predicted label stays.

MemGuard solves an optimisation per query (adversarial noise against the defender's attack classifier). We keep
its idea and constraints in a simpler form: each probability vector moves along the segment towards the uniform
vector, (1 - t) p + t / k, which keeps every row summing to 1 and keeps the order of the classes (so the label
and accuracy), and t is the smallest step (on a grid) at which the defender's attack model says "member" with
probability <= 1/2. The defender's attack model is a logistic regression on the sorted top-3 log-probabilities,
fitted on its training records (members) against reference records (non-members). It fools that attack model by
construction; an attack calibrated with reference models wrapped the same way (LiRA) still finds members, and,
as with MemGuard, a label-only attack sees the undefended model (Choquette-Choo et al. 2021). Taught in
notebook 11, section 3.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from .._reference import reference
from .._validation import as_array, as_features, as_proba, check_scalar
from ..models import predict_proba

_TOP = 3
_GRID = np.linspace(0.0, 0.999, 200)


def soften(probs, t) -> np.ndarray:
    """Each row moved towards uniform: (1 - t) p + t / k; probs (n, k), t scalar or (n,) in [0, 1] -> (n, k)."""
    probs = as_proba(probs)
    t = as_array(t, "t", dtype=float)
    if ((t < 0) | (t > 1)).any():
        raise ValueError("`t` must be in [0, 1] (0 = unchanged, 1 = uniform).")
    t = t[:, None] if t.ndim == 1 else t
    return (1 - t) * probs + t / probs.shape[1]


@reference
def cap_confidence(probs, cap: float) -> np.ndarray:
    """Rows whose largest probability exceeds `cap` moved towards uniform until it equals `cap`; others unchanged.
    probs (n, k), 1/k < cap <= 1 -> (n, k): rows sum to 1, each row's largest class stays the largest."""
    probs = as_proba(probs)
    k = probs.shape[1]
    cap = check_scalar(cap, "cap", low=1.0 / k, high=1.0, closed="right")
    top = probs.max(axis=1)
    t = np.where(top > cap, (top - cap) / np.maximum(top - 1.0 / k, 1e-12), 0.0)
    return soften(probs, np.clip(t, 0.0, 1.0))


def _features(probs: np.ndarray) -> np.ndarray:
    top = -np.sort(-probs, axis=1)[:, :_TOP]
    return np.log(np.clip(top, 1e-12, None))


class MemGuard:
    """A model whose answers are perturbed MemGuard-style: predict_proba(X) -> (n, k), rows sum to 1, same argmax
    as the model. Wrap it in a BlackBox like any model.

    MemGuard(model).fit(X_members, X_nonmembers) fits the defender's attack model (`attack_`) on the model's
    answers for its own training records and for reference records."""

    def __init__(self, model):
        self.model = model
        self.n_classes = getattr(model, "n_classes", None)
        self.n_features_in_ = getattr(model, "n_features", None)

    def fit(self, X_members, X_nonmembers) -> "MemGuard":
        """Fit the defender's attack model: members X_members (n1, d) vs non-members X_nonmembers (n0, d)."""
        X1, X0 = as_features(X_members, "X_members"), as_features(X_nonmembers, "X_nonmembers")
        feats = _features(np.concatenate([self._raw(X1), self._raw(X0)]))
        target = np.r_[np.ones(len(X1)), np.zeros(len(X0))]
        with threadpool_limits(1), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.attack_ = LogisticRegression(max_iter=1000).fit(feats, target)
        return self

    def _raw(self, X) -> np.ndarray:
        return predict_proba(self.model, X) if not hasattr(self.model, "predict_proba") else \
            np.asarray(self.model.predict_proba(X))

    def defender_scores(self, probs) -> np.ndarray:
        """The defender's attack model's membership probability for answers probs (n, k) -> (n,)."""
        if not hasattr(self, "attack_"):
            raise RuntimeError("this MemGuard is not fitted; call .fit(X_members, X_nonmembers) first.")
        with threadpool_limits(1):
            return self.attack_.predict_proba(_features(as_proba(probs)))[:, 1]

    def predict_proba(self, X) -> np.ndarray:
        """The perturbed answers: X (n, d) -> (n, k)."""
        probs = self._raw(as_features(X))
        n, k = probs.shape
        top = -np.sort(-probs, axis=1)[:, :_TOP]                                   # softening keeps the order
        moved = (1 - _GRID[None, :, None]) * top[:, None, :] + _GRID[None, :, None] / k     # (n, G, 3)
        if not hasattr(self, "attack_"):
            raise RuntimeError("this MemGuard is not fitted; call .fit(X_members, X_nonmembers) first.")
        with threadpool_limits(1):
            scores = self.attack_.predict_proba(np.log(moved.reshape(-1, _TOP)))[:, 1].reshape(n, len(_GRID))
        fooled = scores <= 0.5
        step = np.where(fooled.any(axis=1), fooled.argmax(axis=1), scores.argmin(axis=1))
        return soften(probs, _GRID[step])
