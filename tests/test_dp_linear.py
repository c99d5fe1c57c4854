import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from mialab import warfarin
from _course import hidden_test
from mialab.checks.grading import HiddenTestFailed
from mialab.defenses.dp_linear import DPLinearRegression, noisy_least_squares

BOUNDS = np.array([[2, 9], [140, 200], [40, 150]] + [[0, 1]] * 12)


@pytest.fixture(scope="module")
def cohort():
    return warfarin.load_warfarin(3000, random_state=0)


def test_epsilon_none_is_ordinary_least_squares(cohort):
    model = DPLinearRegression(None, feature_bounds=BOUNDS, target_bounds=(0, 12)).fit(cohort.X, cohort.sqrt_dose)
    ols = LinearRegression().fit(cohort.X, cohort.sqrt_dose)
    assert np.allclose(model.predict(cohort.X), ols.predict(cohort.X), atol=1e-8)
    plain = DPLinearRegression().fit(cohort.X, cohort.sqrt_dose)          # bounds from the data, same answer
    assert plain.bounds_from_data_ and np.allclose(plain.predict(cohort.X), ols.predict(cohort.X), atol=1e-8)


def test_noisy_least_squares_solves_the_perturbed_normal_equations():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 3)), rng.normal(size=50)
    assert np.allclose(noisy_least_squares(X, y), np.linalg.lstsq(X, y, rcond=None)[0])
    nxx, nxy = np.eye(3), np.ones(3)
    assert np.allclose(noisy_least_squares(X, y, nxx, nxy), np.linalg.solve(X.T @ X + nxx, X.T @ y + nxy))
    assert np.allclose(noisy_least_squares(X, y, np.zeros((3, 3)), None), noisy_least_squares(X, y))


def test_less_budget_means_more_noise_and_worse_predictions(cohort):
    errors = {}
    for eps in (None, 50.0, 1.0):
        runs = [DPLinearRegression(eps, feature_bounds=BOUNDS, target_bounds=(0, 12), l1_bound=9, random_state=s)
                .fit(cohort.X, cohort.sqrt_dose) for s in range(3)]
        errors[eps] = np.mean([np.mean(np.abs(m.predict(cohort.X) - cohort.sqrt_dose)) for m in runs])
    assert errors[None] <= errors[50.0] < errors[1.0]
    assert errors[None] < 0.7 and errors[1.0] > 2 * errors[None]


def test_the_noise_is_seeded_and_symmetric(cohort):
    fit = lambda s: DPLinearRegression(5.0, feature_bounds=BOUNDS, target_bounds=(0, 12), random_state=s).fit(
        cohort.X, cohort.sqrt_dose).coef_
    assert np.array_equal(fit(0), fit(0)) and not np.array_equal(fit(0), fit(1))


@pytest.mark.parametrize("kwargs, match", [(dict(epsilon=0), "epsilon"), (dict(epsilon=-1.0), "epsilon"),
                                           (dict(epsilon="big"), "epsilon"), (dict(l1_bound=0.5), "l1_bound"),
                                           (dict(random_state=-1), "random_state")])
def test_bad_settings_are_refused(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        DPLinearRegression(**kwargs)


def test_bad_data_are_refused(cohort):
    with pytest.raises(ValueError, match="same n"):
        DPLinearRegression().fit(cohort.X, cohort.sqrt_dose[:-1])
    with pytest.raises(ValueError, match="feature_bounds"):
        DPLinearRegression(1.0, feature_bounds=BOUNDS[:3], target_bounds=(0, 12)).fit(cohort.X, cohort.sqrt_dose)
    with pytest.raises(ValueError, match="not fitted"):
        DPLinearRegression().predict(cohort.X)
    with pytest.raises(ValueError, match="noise_xx"):
        noisy_least_squares(np.ones((4, 2)), np.ones(4), np.eye(3), np.ones(2))


def test_hidden_test_passes_the_right_answer_fails_a_wrong_one_and_blocks_the_reference():
    def right(X, y, a=None, b=None):
        if a is None and b is None:
            return np.linalg.lstsq(X, y, rcond=None)[0]
        return np.linalg.solve(X.T @ X + (0 if a is None else a), X.T @ y + (0 if b is None else b))

    assert hidden_test("nb08", "noisy_least_squares", right) is None
    with pytest.raises(HiddenTestFailed, match="wrong answer"):
        hidden_test("nb08", "noisy_least_squares", lambda X, y, a=None, b=None: right(X, y, a, None))
    with pytest.raises(HiddenTestFailed, match="calls mialab's own implementation"):
        hidden_test("nb08", "noisy_least_squares", noisy_least_squares)
