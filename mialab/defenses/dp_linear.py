"""Differentially private linear regression by perturbed sufficient statistics (XᵀX and Xᵀy plus Laplace noise).

    model = DPLinearRegression(epsilon=1.0, feature_bounds=bounds, target_bounds=(0, 12)).fit(X, y)
    model.predict(X)            # (n,)
    DPLinearRegression(epsilon=None).fit(X, y)   # ordinary least squares, exactly

Least squares needs only two sums over the records, XᵀX and Xᵀy. With every feature and the target scaled into
[0, 1] by public bounds, a leading column of ones added, and each record's L1 norm at most L (public: a record
with one-hot groups has few non-zero entries), adding or removing one record moves the upper triangle of XᵀX by
at most (L² + L) / 2 in L1 norm and Xᵀy by at most L. Laplace noise of those scales over ε / 2 on each sum makes
the pair ε-DP (Laplace mechanism, budget split in half; Dwork and Roth 2014; Wang 2018). Fredrikson et al.
(2014) used the functional mechanism, another way to perturb the same quadratic objective.
Taught in notebook 08, section 3.
"""

from __future__ import annotations

import numpy as np

from .._reference import reference
from .._validation import as_array, check_is_fitted, check_random_state, check_scalar


@reference
def noisy_least_squares(X, y, noise_xx=None, noise_xy=None) -> np.ndarray:
    """Least-squares coefficients from the perturbed statistics XᵀX + noise_xx (d, d) and Xᵀy + noise_xy (d,):
    X (n, d), y (n,) -> (d,). With both noises None, the ordinary least-squares solution of X β ≈ y.
    Taught in notebook 08, Exercise 8.2."""
    X = as_array(X, "X", ndim=2)
    y = as_array(y, "y", ndim=1)
    if len(y) != len(X):
        raise ValueError(f"`y` has {len(y)} values but `X` has {len(X)} records; pass one target per record.")
    if noise_xx is None and noise_xy is None:
        return np.linalg.lstsq(X, y, rcond=None)[0]
    d = X.shape[1]
    noise_xx = np.zeros((d, d)) if noise_xx is None else as_array(noise_xx, "noise_xx", ndim=2)
    noise_xy = np.zeros(d) if noise_xy is None else as_array(noise_xy, "noise_xy", ndim=1)
    if noise_xx.shape != (d, d) or noise_xy.shape != (d,):
        raise ValueError(f"`noise_xx` must have shape ({d}, {d}) and `noise_xy` shape ({d},), one entry per entry "
                         f"of XᵀX and Xᵀy; got {noise_xx.shape} and {noise_xy.shape}.")
    xx, xy = X.T @ X + noise_xx, X.T @ y + noise_xy
    return np.linalg.lstsq(xx, xy, rcond=None)[0]


def _check_bounds(bounds, name: str, d: int | None) -> np.ndarray:
    array = as_array(bounds, name, ndim=2 if d is not None else 1)
    lows, highs = (array[:, 0], array[:, 1]) if d is not None else (array[:1], array[1:])
    if d is not None and array.shape != (d, 2):
        raise ValueError(f"`{name}` must give (low, high) for each of the {d} features, shape ({d}, 2); got "
                         f"shape {array.shape}.")
    if d is None and array.shape != (2,):
        raise ValueError(f"`{name}` must be (low, high); got shape {array.shape}.")
    if not np.all(highs >= lows):
        raise ValueError(f"`{name}`: each high must be >= its low.")
    return array


class DPLinearRegression:
    """ε-DP linear regression by perturbed sufficient statistics: fit(X (n, d), y (n,)), predict(X) -> (n,).

    epsilon: the privacy budget (> 0), or None for ordinary least squares (no noise). feature_bounds (d, 2) and
    target_bounds (2,): the public range of each feature and of the target; records are clipped into them and
    scaled to [0, 1]. l1_bound: the public bound L on a scaled record's L1 norm, the column of ones included
    (default d + 1, always true); a record above it is scaled down to it. The bounds must not be read off the
    private data for the guarantee to hold; left None, they are (and `bounds_from_data_` says so).
    The noisy XᵀX is shifted to be positive definite (its smallest eigenvalue at least `min_eigenvalue`), which
    costs no privacy (post-processing).
    Paper: M. Fredrikson et al., "Privacy in Pharmacogenetics", USENIX Security 2014 (the DP models);
    the mechanism as in Y.-X. Wang, "Revisiting differentially private linear regression", UAI 2018.
    Taught in notebook 08, section 3.
    """

    def __init__(self, epsilon=None, *, feature_bounds=None, target_bounds=None, l1_bound=None,
                 min_eigenvalue: float = 1.0, random_state: int = 0):
        self.epsilon = check_scalar(epsilon, "epsilon", low=0.0, closed="neither", allow_none=True)
        self.l1_bound = check_scalar(l1_bound, "l1_bound", low=1.0, allow_none=True)
        self.feature_bounds = feature_bounds
        self.target_bounds = target_bounds
        self.min_eigenvalue = check_scalar(min_eigenvalue, "min_eigenvalue", low=0.0)
        check_random_state(random_state)
        self.random_state = random_state

    def _design(self, X) -> np.ndarray:
        low, high = self.feature_bounds_[:, 0], self.feature_bounds_[:, 1]
        span = np.where(high > low, high - low, 1.0)
        A = np.column_stack([np.ones(len(X)), (np.clip(X, low, high) - low) / span])
        norms = A.sum(axis=1)
        return A * np.minimum(1.0, self.l1_ / norms)[:, None]

    def fit(self, X, y) -> "DPLinearRegression":
        """Fit on X (n, d), y (n,); returns self with coef_ (d + 1,) on the scaled features (intercept first)."""
        X = as_array(X, "X", ndim=2)
        y = as_array(y, "y", ndim=1)
        if len(y) != len(X):
            raise ValueError(f"`X` must be (n, d) and `y` (n,) with the same n; got {X.shape} and {y.shape}.")
        d = X.shape[1]
        self.bounds_from_data_ = self.feature_bounds is None or self.target_bounds is None
        self.feature_bounds_ = (np.column_stack([X.min(0), X.max(0)]) if self.feature_bounds is None
                                else _check_bounds(self.feature_bounds, "feature_bounds", d))
        self.target_bounds_ = (np.array([y.min(), y.max()]) if self.target_bounds is None
                               else _check_bounds(self.target_bounds, "target_bounds", None))
        self.l1_ = float(d + 1) if self.l1_bound is None else self.l1_bound
        low, high = self.target_bounds_
        span = high - low if high > low else 1.0
        A = self._design(X)
        t = (np.clip(y, low, high) - low) / span
        noise_xx = noise_xy = None
        if self.epsilon is not None:
            rng = check_random_state(self.random_state)
            k, bound = d + 1, self.l1_
            # one record adds a aᵀ and a t: L1 norms of the upper triangle <= (L² + L) / 2 and of a t <= L
            upper = np.triu(rng.laplace(0.0, (bound ** 2 + bound) / 2 / (self.epsilon / 2), size=(k, k)))
            noise_xx = upper + np.triu(upper, 1).T
            noise_xy = rng.laplace(0.0, bound / (self.epsilon / 2), size=k)
            smallest = np.linalg.eigvalsh(A.T @ A + noise_xx)[0]
            noise_xx = noise_xx + max(0.0, self.min_eigenvalue - smallest) * np.eye(k)
        self.coef_ = noisy_least_squares(A, t, noise_xx, noise_xy)
        self.n_features_in_ = d
        return self

    def predict(self, X) -> np.ndarray:
        """The predicted target of each record: X (n, d) -> (n,), in the target's original units."""
        check_is_fitted(self, "coef_")
        X = as_array(X, "X", ndim=2)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"`X` must have shape (n, {self.n_features_in_}); got {X.shape}.")
        low, high = self.target_bounds_
        return low + (high - low if high > low else 1.0) * (self._design(X) @ self.coef_)

    def __repr__(self) -> str:
        return f"DPLinearRegression(epsilon={self.epsilon!r})"
