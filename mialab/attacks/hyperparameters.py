"""Wang & Gong (2018): stealing the regularisation hyperparameter λ from a trained linear model.

A model trained to the minimum of  L(w) + λ R(w)  has zero gradient there:  ∇L(w) + λ ∇R(w) = 0.  Knowing the
training data and the weights, the attacker solves this overdetermined system for λ by least squares:

    λ = -(∇R · ∇L) / (∇R · ∇R)

    lam = steal_ridge_lambda(X, y, model.coef_, model.intercept_)            # sklearn Ridge: λ = alpha
    lam = steal_logistic_lambda(X, y, model.coef_[0], model.intercept_[0])   # sklearn LogisticRegression: λ = 1/C
    lam = steal_svm_lambda(X, y, model.coef_[0], model.intercept_[0])        # sklearn LinearSVC: λ = 1/C

Each λ is the one in the objective as the library writes it:
    Ridge               ‖y - Xw - b‖² + λ ‖w‖²
    LogisticRegression  Σ log-loss + (λ/2) ‖w‖²               (C Σ log-loss + ½‖w‖², the intercept free)
    LinearSVC           Σ max(0, 1 - y(w·x + b))² + (λ/2) ‖(w, b)‖²   (liblinear penalises the intercept too)

Paper: B. Wang, N. Z. Gong, "Stealing Hyperparameters in Machine Learning", IEEE S&P 2018 (Sec. 3).
Taught in notebook 09, section 5.
"""

from __future__ import annotations

import numpy as np

from .._reference import reference
from .._validation import as_array, check_bool, check_scalar

__all__ = ["lambda_from_gradients", "steal_ridge_lambda", "steal_logistic_lambda", "steal_svm_lambda",
           "relative_error"]


@reference
def lambda_from_gradients(loss_gradient, regulariser_gradient) -> float:
    """The least-squares λ of loss_gradient + λ regulariser_gradient = 0: two (p,) vectors -> float.

    Wang & Gong 2018, Sec. 3 (Eq. 4). Taught in notebook 09, section 5."""
    b = as_array(loss_gradient, "loss_gradient", ndim=1)
    a = as_array(regulariser_gradient, "regulariser_gradient", ndim=1)
    if a.shape != b.shape:
        raise ValueError(f"`loss_gradient` and `regulariser_gradient` must have the same shape; got {b.shape} and "
                         f"{a.shape}.")
    denominator = float(a @ a)
    if denominator == 0.0:
        raise ValueError("the regulariser's gradient is 0 (all weights are 0): λ cannot be read from a model "
                         "with zero weights.")
    return float(-(a @ b) / denominator)


def _inputs(X, y, w, b):
    X = as_array(X, "X", ndim=2)
    y = as_array(y, "y", ndim=1)
    w = as_array(np.ravel(w), "w", ndim=1)
    b = float(np.ravel(as_array(b, "b", allow_empty=False))[0])
    if len(y) != len(X):
        raise ValueError(f"`y` has {len(y)} values but `X` has {len(X)} records; pass one label per record.")
    if len(w) != X.shape[1]:
        raise ValueError(f"`w` has {len(w)} weights but `X` has {X.shape[1]} features; pass the model's coef_.")
    return X, y, w, b


@reference
def steal_ridge_lambda(X, y, w, b=0.0) -> float:
    """λ of ridge regression (scikit-learn's alpha) from its training data X (n, d), y (n,), weights w (d,) and
    intercept b -> float. Objective ‖y - Xw - b‖² + λ‖w‖², so λ w = Xᵀ(y - Xw - b).

    Wang & Gong 2018, Sec. 3. Taught in notebook 09, section 5."""
    X, y, w, b = _inputs(X, y, w, b)
    residual = y - X @ w - b
    return lambda_from_gradients(-2.0 * X.T @ residual, 2.0 * w)


def steal_logistic_lambda(X, y, w, b=0.0) -> float:
    """λ = 1/C of scikit-learn's binary LogisticRegression from X (n, d), y (n,) in {0, 1}, w (d,), b -> float.
    Objective Σ log-loss + (λ/2)‖w‖² (intercept not penalised), so Xᵀ(σ(Xw + b) - y) + λ w = 0.

    Wang & Gong 2018, Sec. 3. Taught in notebook 09, section 5."""
    X, y, w, b = _inputs(X, y, w, b)
    if not np.isin(y, [0, 1]).all():
        raise ValueError("`y` must hold the binary labels 0 and 1 (the model's classes_ in order).")
    p = 0.5 * (1.0 + np.tanh(0.5 * (X @ w + b)))   # the sigmoid, without overflow
    return lambda_from_gradients(X.T @ (p - y), w)


def steal_svm_lambda(X, y, w, b=0.0, *, intercept_penalised: bool = True, intercept_scaling: float = 1.0) -> float:
    """λ = 1/C of scikit-learn's LinearSVC (squared hinge, L2 penalty) from X (n, d), y (n,) in {0, 1} or {-1, 1},
    w (d,), b -> float. Objective Σ max(0, 1 - s(w·x + b))² + (λ/2)‖w‖², s = ±1; liblinear also penalises the
    intercept, as a weight b / intercept_scaling on a constant feature intercept_scaling.

    Wang & Gong 2018, Sec. 3. Taught in notebook 09, section 5."""
    X, y, w, b = _inputs(X, y, w, b)
    check_bool(intercept_penalised, "intercept_penalised")
    intercept_scaling = check_scalar(intercept_scaling, "intercept_scaling", low=0.0, closed="neither")
    labels = np.unique(y)
    if len(labels) > 2 or not (np.isin(labels, [0, 1]).all() or np.isin(labels, [-1, 1]).all()):
        raise ValueError("`y` must hold binary labels, 0/1 or -1/+1.")
    s = np.where(y > 0, 1.0, -1.0)
    slack = np.clip(1.0 - s * (X @ w + b), 0.0, None)
    if intercept_penalised:
        X = np.hstack([X, np.full((len(X), 1), float(intercept_scaling))])
        w = np.append(w, b / float(intercept_scaling))
    return lambda_from_gradients(-2.0 * X.T @ (slack * s), w)


def relative_error(estimate, truth) -> float:
    """|estimate - truth| / |truth|, the error Wang & Gong report."""
    estimate = check_scalar(estimate, "estimate")
    truth = check_scalar(truth, "truth")
    if truth == 0.0:
        raise ValueError("`truth` is 0; the relative error is undefined.")
    return abs(float(estimate) - truth) / abs(truth)
