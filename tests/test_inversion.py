import numpy as np
import pytest

from mialab import data, models, warfarin
from mialab.attacks.inversion import (BlackBoxMIFace, MAPAttributeInference, MIFace, finite_difference_gradient,
                                      judge_inversions, map_estimate, mi_face_descent)
from mialab.blackbox import BlackBox
from mialab.checks import CheckError, NotDoneError, nb08
from _course import hidden_test
from mialab.checks.grading import HiddenTestFailed
from mialab.defenses.dp_linear import DPLinearRegression

LABELS = np.arange(10)


# --- attribute inference ----------------------------------------------------------------------------------------

def test_map_estimate_weighs_the_likelihood_by_the_prior():
    predictions = np.array([[5.0, 4.0], [5.0, 4.0]])
    assert map_estimate(predictions, np.array([4.4, 4.4]), 1.0, np.array([0.5, 0.5])).tolist() == [1, 1]
    assert map_estimate(predictions, np.array([4.4, 4.4]), 1.0, np.array([0.9, 0.1])).tolist() == [0, 0]
    assert map_estimate(predictions, np.array([4.4, 4.4]), 0.1, np.array([0.9, 0.1])).tolist() == [1, 1]
    assert map_estimate(np.array([[1.0, 2.0]]), np.array([9.0]), 1.0, np.array([0.0, 1.0])).tolist() == [1]


@pytest.fixture(scope="module")
def warfarin_attack():
    cohort = warfarin.load_warfarin(6000, random_state=0)
    train, test = slice(0, 3000), slice(3000, 6000)
    model = DPLinearRegression().fit(cohort.X[train], cohort.sqrt_dose[train])
    attack = MAPAttributeInference(warfarin.VKORC1_COLUMNS, warfarin.VKORC1_ENCODING, warfarin.NOISE_SD)
    attack.fit(cohort.vkorc1[test])
    return cohort, model, attack, test


def test_map_attack_beats_the_prior_on_the_warfarin_model(warfarin_attack):
    cohort, model, attack, test = warfarin_attack
    inferred = attack.infer(model, cohort.X[test], cohort.sqrt_dose[test])
    accuracy = np.mean(inferred == cohort.vkorc1[test])
    baseline = np.mean(cohort.vkorc1[test] == np.argmax(attack.prior_))
    assert accuracy > baseline + 0.15
    # the value the record holds in the attribute's columns is ignored (overwritten)
    blanked = cohort.X[test].copy()
    blanked[:, list(warfarin.VKORC1_COLUMNS)] = 0
    assert np.array_equal(attack.infer(model, blanked, cohort.sqrt_dose[test]), inferred)


def test_strong_dp_brings_the_attack_down_to_the_prior(warfarin_attack):
    cohort, _, attack, test = warfarin_attack
    bounds = np.array([[2, 9], [140, 200], [40, 150]] + [[0, 1]] * 12)
    accs = []
    for s in range(3):
        private = DPLinearRegression(0.5, feature_bounds=bounds, target_bounds=(0, 12), l1_bound=9,
                                     random_state=s).fit(cohort.X[:3000], cohort.sqrt_dose[:3000])
        accs.append(np.mean(attack.infer(private, cohort.X[test], cohort.sqrt_dose[test]) == cohort.vkorc1[test]))
    assert np.mean(accs) < 0.5


def test_attribute_attack_refuses_bad_input(warfarin_attack):
    cohort, model, attack, test = warfarin_attack
    with pytest.raises(ValueError, match="encodings"):
        MAPAttributeInference((3, 4), np.eye(3), 0.6)
    with pytest.raises(ValueError, match="sigma"):
        MAPAttributeInference((3, 4), warfarin.VKORC1_ENCODING, 0.0)
    with pytest.raises(ValueError, match="not fitted"):
        MAPAttributeInference((3, 4), warfarin.VKORC1_ENCODING, 0.6).infer(model, cohort.X[:5], cohort.dose[:5])
    with pytest.raises(TypeError, match="predict"):
        attack.infer("model", cohort.X[:5], cohort.dose[:5])
    with pytest.raises(ValueError, match="prior"):
        map_estimate(np.ones((2, 2)), np.ones(2), 1.0, np.array([0.3, 0.3]))
    with pytest.raises(ValueError, match="values"):
        attack.fit(np.array([0, 5]))


# --- MI-Face ----------------------------------------------------------------------------------------------------

def test_descent_follows_algorithm_1():
    bowl = lambda x: (float(np.sum((x - 0.3) ** 2)), 2 * (x - 0.3))
    x, c = mi_face_descent(bowl, np.zeros(4), lr=0.1, max_iter=10_000, beta=5, gamma=1e-6)
    assert c <= 1e-6 and np.allclose(x, 0.3, atol=1e-3)
    x, c = mi_face_descent(lambda x: (float(np.sum((x - 2) ** 2)), 2 * (x - 2)), np.zeros(2), 0.1, 10_000, 5, 0.0)
    assert np.allclose(x, 1.0)                                   # clipped to the box, stopped by the window
    x, c = mi_face_descent(lambda x: (float(np.sum((x - 0.4) ** 2)), 2 * (x - 0.4)), np.zeros(1), 1.1, 100, 5, 0.0)
    assert np.allclose(x, 0.0) and np.isclose(c, 0.16)          # the cost grew at once: the best is x0


def test_finite_differences_are_central_and_use_2d_queries():
    calls = []

    def f(X):
        calls.append(len(X))
        return np.sum(X ** 3, axis=1)
    x = np.array([0.1, 0.5, 0.9])
    assert np.allclose(finite_difference_gradient(f, x, 0.1), 3 * x ** 2 + 0.01)
    assert calls == [6]


def test_the_check_counts_queries_of_the_finite_differences(capsys):
    def with_extra_query(f, x, h):
        f(x[None])
        return _fd(f, x, h)
    with pytest.raises(CheckError):
        nb08.check_finite_difference_gradient(with_extra_query)
    assert "need exactly 2d" in capsys.readouterr().out


@pytest.fixture(scope="module")
def digits():
    X, y = data.load_digits()
    perm = np.random.default_rng(0).permutation(len(X))
    a, b = perm[:900], perm[900:]
    target = models.train(models.MLP(64, 10, hidden=(), random_state=0), X[a], y[a], epochs=100, lr=1e-2)
    evaluator = models.train(models.MLP(64, 10, hidden=(128,), random_state=1), X[b], y[b], epochs=50)
    return X, y, a, b, target, evaluator


def test_white_box_mi_face_recovers_recognisable_digits(digits):
    X, y, a, b, target, evaluator = digits
    attack = MIFace(lr=1.0, max_iter=500)
    images = attack.infer(target, LABELS)
    assert images.shape == (10, 64) and images.min() >= 0 and images.max() <= 1
    judged = judge_inversions(images, LABELS, evaluator, X[b], y[b])
    assert judged["evaluator"] >= 0.8 and judged["nearest_mean"] >= 0.8
    assert np.all(attack.costs_ <= 0.02)


def test_mi_face_records_each_inversions_steps(digits):
    """n_steps_ (k,): the descent's iterations, max_iter when no stopping rule fires, 1 when gamma stops it at once."""
    target = digits[4]
    for attack, call in ((MIFace, lambda a: a.infer(target, LABELS[:3])),
                         (BlackBoxMIFace, lambda a: a.infer(BlackBox(target), LABELS[:3], n_features=64))):
        full = attack(lr=1e-6, max_iter=4, beta=10 ** 6, gamma=-1.0)
        call(full)
        assert full.n_steps_.tolist() == [4, 4, 4]
        first = attack(lr=1e-6, max_iter=4, gamma=1.0)
        call(first)
        assert first.n_steps_.tolist() == [1, 1, 1] and len(first.costs_) == 3


def test_rounding_defeats_black_box_mi_face(digits):
    X, y, a, b, target, evaluator = digits
    recognised = {}
    for decimals in (3, 1):
        box = BlackBox(target, output="rounded", decimals=decimals)
        attack = BlackBoxMIFace(lr=1.0, max_iter=300, h=0.01)
        images = attack.infer(box, LABELS, n_features=64)
        assert attack.queries_ == box.n_queries > 0
        recognised[decimals] = judge_inversions(images, LABELS, evaluator, X[b], y[b])["evaluator"]
    assert recognised[3] >= 0.8 and recognised[1] <= 0.3


def test_mi_face_refuses_bad_input(digits):
    X, y, a, b, target, evaluator = digits
    with pytest.raises(ValueError, match="lr"):
        MIFace(lr=0)
    with pytest.raises(ValueError, match="beta"):
        MIFace(beta=0)
    with pytest.raises(TypeError, match="torch module"):
        MIFace().infer("model", LABELS)
    with pytest.raises(TypeError, match="BlackBox"):
        BlackBoxMIFace().infer(target, LABELS, 64)
    with pytest.raises(ValueError, match="h"):
        BlackBoxMIFace(h=-1.0)
    with pytest.raises(TypeError, match="cost_grad"):
        mi_face_descent(None, np.zeros(2))
    with pytest.raises(ValueError, match="one value per row"):
        finite_difference_gradient(lambda X: np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="labels"):
        judge_inversions(np.zeros((3, 64)), LABELS, evaluator, X[b], y[b])


# --- notebook checks and hidden tests ------------------------------------------------------------------------------

def _map(predictions, observed, sigma, prior):
    return np.argmax(-0.5 * ((observed[:, None] - predictions) / sigma) ** 2 + np.log(prior), axis=1)


def _lsq(X, y, a=None, b=None):
    if a is None and b is None:
        return np.linalg.lstsq(X, y, rcond=None)[0]
    return np.linalg.solve(X.T @ X + (0 if a is None else a), X.T @ y + (0 if b is None else b))


def _descent(cost_grad, x0, lr, max_iter, beta, gamma):
    x = np.clip(x0, 0, 1)
    c, g = cost_grad(x)
    costs, best = [c], (x, c)
    for _ in range(max_iter):
        x = np.clip(x - lr * g, 0, 1)
        c, g = cost_grad(x)
        if c < best[1]:
            best = (x, c)
        if c >= max(costs[-beta:]) or c <= gamma:
            break
        costs.append(c)
    return best


def _fd(f, x, h):
    d = len(x)
    v = f(np.concatenate([x + h * np.eye(d), x - h * np.eye(d)]))
    return (v[:d] - v[d:]) / (2 * h)


def test_checks_pass_right_answers(capsys):
    nb08.check_map_estimate(_map)
    nb08.check_noisy_least_squares(_lsq)
    nb08.check_mi_face_descent(_descent)
    nb08.check_finite_difference_gradient(_fd)
    assert capsys.readouterr().out.count("✅") == 4


def _descent_last(cost_grad, x0, lr, max_iter, beta, gamma):
    x = np.clip(x0, 0, 1)
    c, g = cost_grad(x)
    costs = [c]
    for _ in range(max_iter):
        x = np.clip(x - lr * g, 0, 1)
        c, g = cost_grad(x)
        if c >= max(costs[-beta:]) or c <= gamma:
            break
        costs.append(c)
    return x, c


def _descent_previous_only(cost_grad, x0, lr, max_iter, beta, gamma):
    return _descent(cost_grad, x0, lr, max_iter, 1, gamma)


@pytest.mark.parametrize("check, wrong, hint", [
    (nb08.check_map_estimate, lambda p, o, s, q: np.argmax(-(o[:, None] - p) ** 2, axis=1), "prior counts"),
    (nb08.check_map_estimate, lambda p, o, s, q: np.argmax(-0.5 * (o[:, None] - p) ** 2 + np.log(q), axis=1),
     "sigma counts"),
    (nb08.check_noisy_least_squares, lambda X, y, a=None, b=None: _lsq(X, y, a, None), "Xᵀy + noise_xy"),
    (nb08.check_mi_face_descent, _descent_last, "LOWEST cost"),
    (nb08.check_mi_face_descent, _descent_previous_only, "LARGEST of the last"),
    (nb08.check_mi_face_descent, lambda cg, x0, lr, it, beta, gamma: _descent(
        lambda x: cg(x), x0, lr, it, beta, -1.0), "<= gamma"),
    (nb08.check_finite_difference_gradient, lambda f, x, h: (f(x + h * np.eye(len(x))) - f(x[None])) / h, "CENTRAL"),
])
def test_checks_catch_common_mistakes_with_a_hint(check, wrong, hint, capsys):
    """Each wrong answer fails with the hint written for it."""
    with pytest.raises(CheckError):
        check(wrong)
    assert hint in capsys.readouterr().out


def test_checks_say_not_done_for_a_blank_exercise():
    def blank(*args):
        raise NotImplementedError()

    for check in (nb08.check_map_estimate, nb08.check_noisy_least_squares, nb08.check_mi_face_descent,
                  nb08.check_finite_difference_gradient):
        with pytest.raises(NotDoneError):
            check(blank)


@pytest.mark.parametrize("exercise, right, wrong, reference", [
    ("map_estimate", _map, lambda p, o, s, q: np.argmin(np.abs(o[:, None] - p), axis=1), map_estimate),
    ("mi_face_descent", _descent, _descent_last, mi_face_descent),
    ("finite_difference_gradient", _fd, lambda f, x, h: (f(x + h * np.eye(len(x))) - f(x - h * np.eye(len(x)))) / h,
     finite_difference_gradient),
])
def test_hidden_tests_pass_the_right_answer_fail_a_wrong_one_and_block_the_reference(exercise, right, wrong,
                                                                                       reference):
    assert hidden_test("nb08", exercise, right) is None
    with pytest.raises(HiddenTestFailed, match="wrong answer"):
        hidden_test("nb08", exercise, wrong)
    with pytest.raises(HiddenTestFailed, match="calls mialab's own implementation"):
        hidden_test("nb08", exercise, reference)


def test_grading_counts_the_queries_of_the_finite_differences_too():
    def with_extra_query(f, x, h):
        f(x[None])
        return _fd(f, x, h)
    with pytest.raises(HiddenTestFailed, match="more \\(or fewer\\) points"):
        hidden_test("nb08", "finite_difference_gradient", with_extra_query)
