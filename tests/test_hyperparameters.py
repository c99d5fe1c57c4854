"""Wang & Gong hyperparameter stealing: λ of ridge, logistic regression and a linear SVM recovered from the
trained weights, the training tolerance as the limit, and bad input."""

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.svm import LinearSVC

from mialab import data
from mialab.attacks.hyperparameters import (lambda_from_gradients, relative_error, steal_logistic_lambda,
                                            steal_ridge_lambda, steal_svm_lambda)


@pytest.fixture(scope="module")
def cancer():
    X, y = data.load_breast_cancer()
    return X.astype(float), y


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y)


@pytest.mark.parametrize("alpha", [0.01, 1.0, 30.0])
def test_ridge_lambda_is_recovered_to_machine_precision(cancer, alpha):
    X, y = cancer
    model = Ridge(alpha=alpha).fit(X, y.astype(float))
    assert relative_error(steal_ridge_lambda(X, y, model.coef_, model.intercept_), alpha) < 1e-9


@pytest.mark.parametrize("C", [0.1, 1.0])
def test_logistic_lambda_is_one_over_C_and_tolerance_bounds_the_error(cancer, C):
    X, y = cancer
    converged = _fit(LogisticRegression(C=C, tol=1e-10, max_iter=10_000), X, y)
    loose = _fit(LogisticRegression(C=C, tol=1e-2, max_iter=10_000), X, y)
    err_converged = relative_error(steal_logistic_lambda(X, y, converged.coef_[0], converged.intercept_[0]), 1 / C)
    err_loose = relative_error(steal_logistic_lambda(X, y, loose.coef_[0], loose.intercept_[0]), 1 / C)
    assert err_converged < 1e-5
    assert err_loose > 10 * err_converged


def test_linear_svm_lambda_counts_liblinears_penalised_intercept(cancer):
    X, y = cancer
    model = _fit(LinearSVC(C=0.5, tol=1e-10, max_iter=100_000), X, y)
    w, b = model.coef_[0], model.intercept_[0]
    assert relative_error(steal_svm_lambda(X, y, w, b), 2.0) < 1e-5
    assert relative_error(steal_svm_lambda(X, 2 * y - 1, w, b), 2.0) < 1e-5
    # the intercept's equation is one more of the same system: leaving it out changes little
    assert relative_error(steal_svm_lambda(X, y, w, b, intercept_penalised=False), 2.0) < 1e-5


def test_lambda_from_gradients_is_the_least_squares_solution():
    rng = np.random.default_rng(0)
    a = rng.normal(size=7)
    assert np.isclose(lambda_from_gradients(-3.0 * a, a), 3.0)
    noise = rng.normal(size=7)
    b = -3.0 * a + noise
    assert np.isclose(lambda_from_gradients(b, a), np.linalg.lstsq(a[:, None], -b, rcond=None)[0][0])


def test_bad_input_gets_clear_errors(cancer):
    X, y = cancer
    w = np.ones(30)
    with pytest.raises(ValueError, match="zero weights"):
        lambda_from_gradients(np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="same shape"):
        lambda_from_gradients(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="30 features"):
        steal_ridge_lambda(X, y, np.ones(3))
    with pytest.raises(ValueError, match="one label per record"):
        steal_ridge_lambda(X, y[:-1], w)
    with pytest.raises(ValueError, match="0 and 1"):
        steal_logistic_lambda(X, 2 * y - 1, w)
    with pytest.raises(ValueError, match="binary labels"):
        steal_svm_lambda(X, y + 5, w)
    with pytest.raises(ValueError, match="undefined"):
        relative_error(1.0, 0.0)
