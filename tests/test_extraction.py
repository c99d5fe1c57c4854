"""Tramèr et al. extraction: exact recovery of logistic and softmax regression, path-finding through leaf ids,
retraining within a query budget, fidelity, the notebook-09 checks and hidden tests, and bad input."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from mialab import data, metrics, models
from mialab.attacks.extraction import (LeafOracle, LinearCopy, QueryBudgetExceeded, bootstrap_queries_to_reach,
                                       extract_logistic, fidelity, find_threshold, path_finding, queries_to_reach,
                                       query_within_budget, retrain_copy, solve_binary_logistic, solve_softmax)
from mialab.blackbox import BlackBox
from mialab.checks import CheckError, NotDoneError, nb09
from _course import hidden_test
from mialab.checks.grading import HiddenTestFailed

pytestmark = pytest.mark.usefixtures("one_thread_module")


@pytest.fixture(scope="module")
def cancer():
    X, y = data.load_breast_cancer()
    return X.astype(float), y


@pytest.fixture(scope="module")
def digits():
    X, y = data.load_digits()
    return X.astype(float), y


# --- equation solving ----------------------------------------------------------------------------------------

def test_binary_logistic_regression_is_recovered_to_machine_precision_from_d_plus_1_queries(cancer):
    X, y = cancer
    model = LogisticRegression(max_iter=1000).fit(X, y)
    target = BlackBox(model)
    copy = extract_logistic(target, n_features=30)
    assert target.n_queries == 31
    assert np.abs(copy.coef_[0] - model.coef_[0]).max() < 1e-10
    assert abs(copy.intercept_[0] - model.intercept_[0]) < 1e-10
    assert fidelity(model.predict(X), copy.predict(X)) == 1.0
    assert np.allclose(copy.predict_proba(X), model.predict_proba(X), atol=1e-10)


def test_softmax_regression_is_recovered_up_to_the_class_shift(digits):
    X, y = digits
    model = LogisticRegression(max_iter=3000).fit(X, y)
    target = BlackBox(model)
    copy = extract_logistic(target, n_features=64)
    assert target.n_queries == 65
    W, b = model.coef_ - model.coef_[0], model.intercept_ - model.intercept_[0]
    assert np.abs(copy.coef_ - W).max() < 1e-9 and np.abs(copy.intercept_ - b).max() < 1e-9
    assert np.allclose(copy.predict_proba(X), model.predict_proba(X), atol=1e-10)


def test_float32_answers_cap_the_precision_and_rounding_lowers_fidelity(cancer):
    X, y = cancer
    model = LogisticRegression(max_iter=1000).fit(X, y)
    model32 = LogisticRegression(max_iter=1000).fit(X.astype(np.float32), y)      # answers in float32
    float32 = extract_logistic(BlackBox(model32), n_features=30)
    assert 1e-9 < np.abs(float32.coef_[0] - model32.coef_[0]).max() < 1e-3
    fid = {dec: fidelity(model.predict(X), extract_logistic(BlackBox(model, output="rounded",
                                                                     decimals=dec), 30).predict(X))
           for dec in (6, 4, 2)}
    assert fid[6] == 1.0 and fid[4] >= 0.98 and fid[2] < fid[4]


def test_solvers_take_more_queries_by_least_squares_and_refuse_too_few():
    rng = np.random.default_rng(0)
    w, b = rng.normal(size=4), 0.7
    X = rng.normal(size=(12, 4))
    w_got, b_got = solve_binary_logistic(X, 1 / (1 + np.exp(-(X @ w + b))))
    assert np.allclose(w_got, w) and np.isclose(b_got, b)
    with pytest.raises(ValueError, match="at least d \\+ 1 = 5"):
        solve_binary_logistic(X[:4], np.full(4, 0.5))
    with pytest.raises(ValueError, match="probabilities in \\[0, 1\\]"):
        solve_binary_logistic(X, np.full(12, 1.5))
    with pytest.raises(ValueError, match="one probability vector"):
        solve_softmax(X, np.full((11, 3), 1 / 3))
    with pytest.raises(ValueError, match="n_queries"):
        extract_logistic(BlackBox(LogisticRegression().fit(X, X[:, 0] > 0)), 4, n_queries=3)
    with pytest.raises(TypeError, match="BlackBox"):
        extract_logistic("model", 4)


# --- path-finding ----------------------------------------------------------------------------------------------

def test_path_finding_finds_every_leaf_its_box_and_copies_the_tree_exactly(cancer):
    X, y = cancer
    tree = DecisionTreeClassifier(max_depth=5, random_state=0).fit(X, y)
    oracle = LeafOracle(tree)
    copy = path_finding(oracle, X.min(0) - 0.1, X.max(0) + 0.1, tol=1e-4)
    assert set(copy.leaves_) == set(np.unique(tree.apply(X.astype(np.float32)))) | set(copy.leaves_)
    assert len(copy.leaves_) == tree.get_n_leaves()
    assert copy.n_queries_ == oracle.n_queries
    found = sorted({round(t, 3) for lo, hi, _ in copy.leaves_.values() for t in np.concatenate([lo, hi])})
    for t in tree.tree_.threshold[tree.tree_.feature >= 0]:
        assert min(abs(t - f) for f in found) < 2e-3
    U = np.random.default_rng(0).uniform(X.min(0), X.max(0), size=(3000, 30))
    assert fidelity(tree.predict(U.astype(np.float32)), copy.predict(U)) == 1.0
    assert fidelity(tree.predict(X.astype(np.float32)), copy.predict(X)) == 1.0


def test_find_threshold_is_a_binary_search_within_tol(cancer):
    X, y = cancer
    tree = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X, y)
    f, t = int(tree.tree_.feature[0]), float(tree.tree_.threshold[0])
    oracle = LeafOracle(tree)
    got = find_threshold(oracle.leaf, np.zeros(30), f, float(X[:, f].min()), float(X[:, f].max()), tol=1e-5)
    assert abs(got - t) <= 1e-5
    assert oracle.n_queries <= np.ceil(np.log2(np.ptp(X[:, f]) / 1e-5)) + 2
    with pytest.raises(ValueError, match="smaller than `high`"):
        find_threshold(oracle.leaf, np.zeros(30), f, 1.0, 0.0)
    with pytest.raises(TypeError, match="leaf_of"):
        find_threshold("tree", np.zeros(30), f, 0.0, 1.0)


def test_leaf_oracle_and_path_finding_reject_bad_input(cancer):
    X, y = cancer
    with pytest.raises(TypeError, match="decision tree"):
        LeafOracle(LogisticRegression())
    oracle = LeafOracle(DecisionTreeClassifier(max_depth=2).fit(X, y))
    with pytest.raises(TypeError, match="LeafOracle"):
        path_finding(BlackBox(LogisticRegression().fit(X, y)), X.min(0), X.max(0))
    with pytest.raises(ValueError, match="low < high"):
        path_finding(oracle, X.max(0), X.min(0))
    with pytest.raises(ValueError, match="max_leaves"):
        path_finding(oracle, X.min(0), X.max(0), max_leaves=2)


# --- retraining ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def victim(digits):
    X, y = digits
    net = models.MLP(64, 10, hidden=(64,), random_state=0)
    models.train(net, X[:500], y[:500], epochs=40, random_state=0)
    return net


def test_retraining_copies_the_network_and_probabilities_beat_labels(digits, victim):
    X, y = digits
    test = models.predict(victim, X[1200:])
    fid = {}
    for labels_only in (False, True):
        target = BlackBox(victim, output="label" if labels_only else "probabilities")
        copy = retrain_copy(target, X[500:600], budget=100, n_classes=10, labels_only=labels_only, steps=300)
        assert target.n_queries == 100
        fid[labels_only] = fidelity(test, models.predict(copy, X[1200:]))
    assert fid[False] > 0.9 and fid[False] > fid[True]


def test_the_query_budget_is_enforced_by_the_target_counter(digits, victim):
    X, _ = digits
    target = BlackBox(victim)
    target.query(X[:30])
    with pytest.raises(QueryBudgetExceeded, match="over the budget of 50"):
        retrain_copy(target, X[:21], budget=50, n_classes=10)
    assert target.n_queries == 30
    assert query_within_budget(target, X[:20], 50).shape == (20, 10)
    assert query_within_budget(target, X[:0 + 1], 51, labels_only=True).shape == (1,)
    with pytest.raises(ValueError, match="n_classes=3"):
        retrain_copy(BlackBox(victim), X[:10], budget=10, n_classes=3)


def test_fidelity_compares_labels_and_rejects_mismatched_answers():
    p = np.array([[0.9, 0.1], [0.2, 0.8]])
    assert fidelity(p, np.array([0, 0])) == 0.5 and fidelity(np.array([1, 1]), p) == 0.5
    with pytest.raises(ValueError, match="same inputs"):
        fidelity(np.array([0, 1, 1]), p)
    with pytest.raises(ValueError, match="labels \\(n,\\)"):
        fidelity(np.zeros((2, 2, 2)), p)


def test_linear_copy_shapes():
    copy = LinearCopy([[1.0, -1.0]], [0.0])
    assert copy.predict_proba(np.array([[2.0, 0.0]])).shape == (1, 2)
    assert copy.predict(np.array([[2.0, 0.0], [0.0, 2.0]])).tolist() == [1, 0]


# --- notebook checks and hidden tests ----------------------------------------------------------------------------

def _steal_logistic(X, p):
    A = np.hstack([X, np.ones((len(X), 1))])
    theta = np.linalg.solve(A, np.log(p / (1 - p)))
    return theta[:-1], theta[-1]


def _steal_logistic_log(X, p):          # a common mistake: log p instead of the logit
    A = np.hstack([X, np.ones((len(X), 1))])
    theta = np.linalg.lstsq(A, np.log(p), rcond=None)[0]
    return theta[:-1], theta[-1]


def _find_linear_scan(leaf_of, x, feature, low, high, tol):
    values = np.arange(low, high, tol)
    X = np.repeat(x[None], len(values), 0)
    X[:, feature] = values
    ids = leaf_of(X)
    return float(values[np.argmax(ids != ids[0])])


def _find_off(leaf_of, x, feature, low, high, tol):
    return find_threshold.__call__(leaf_of, x, feature, low, high, tol) + 3 * tol


def _fidelity_raw(a, b):
    return float(np.mean(np.asarray(a) == np.asarray(b)))


def _ridge_no_intercept(X, y, w, b):
    return float(w @ (X.T @ (y - X @ w)) / (w @ w))


def _ridge(X, y, w, b):
    r = y - X @ w - b
    return float(w @ (X.T @ r) / (w @ w))


def _blank(*args):
    raise NotImplementedError()


def test_notebook_checks_pass_right_answers_and_catch_common_mistakes(cancer):
    nb09.check_steal_logistic(_steal_logistic)
    with pytest.raises(CheckError, match="logit"):
        nb09.check_steal_logistic(_steal_logistic_log)
    with pytest.raises(NotDoneError):
        nb09.check_steal_logistic(_blank)
    nb09.check_find_threshold(lambda *a: float(np.float64(np.mean(_bisect(*a)))))
    with pytest.raises(CheckError, match="queries"):
        nb09.check_find_threshold(_find_linear_scan)
    nb09.check_fidelity(lambda a, b: _fidelity_raw(*(v.argmax(1) if v.ndim == 2 else v for v in (a, b))))
    with pytest.raises(CheckError, match="argmax|labels"):
        nb09.check_fidelity(_fidelity_raw)
    nb09.check_steal_ridge_lambda(_ridge)
    with pytest.raises(CheckError, match="intercept"):
        nb09.check_steal_ridge_lambda(_ridge_no_intercept)
    with pytest.raises(CheckError, match="sign"):
        nb09.check_steal_ridge_lambda(lambda *a: -_ridge(*a))


def _bisect(leaf_of, x, feature, low, high, tol):
    x = np.array(x, float)

    def leaf(v):
        z = x.copy()
        z[feature] = v
        return leaf_of(z[None])[0]
    first = leaf(low)
    while high - low > tol:
        mid = (low + high) / 2
        low, high = (mid, high) if leaf(mid) == first else (low, mid)
    return (low, high)


def _reference_ridge(X, y, w, b):
    from mialab.attacks.hyperparameters import steal_ridge_lambda
    return steal_ridge_lambda(X, y, w, b)


def _reference_logistic(X, p):
    return solve_binary_logistic(X, p)


def _reference_threshold(*args):
    return find_threshold(*args)


def _reference_fidelity(a, b):
    return fidelity(a, b)


def _wrong_threshold(*args):
    return float(np.mean(_bisect(*args))) + 0.05


@pytest.mark.parametrize("exercise, right, wrong, reference", [
    ("steal_logistic", _steal_logistic, _steal_logistic_log, _reference_logistic),
    ("find_threshold", lambda *a: float(np.mean(_bisect(*a))), _wrong_threshold, _reference_threshold),
    ("fidelity", lambda a, b: _fidelity_raw(*(v.argmax(1) if v.ndim == 2 else v for v in (a, b))),
     lambda a, b: 0.5, _reference_fidelity),
    ("steal_ridge_lambda", _ridge, _ridge_no_intercept, _reference_ridge),
])
def test_hidden_tests_pass_the_right_answer_fail_a_wrong_one_and_block_the_reference(exercise, right, wrong,
                                                                                       reference):
    assert hidden_test("nb09", exercise, right) is None
    with pytest.raises(HiddenTestFailed, match="wrong answer"):
        hidden_test("nb09", exercise, wrong)
    with pytest.raises(HiddenTestFailed, match="calls mialab's own implementation"):
        hidden_test("nb09", exercise, reference)


def _scan_threshold(leaf_of, x, feature, low, high, tol):
    """Right answer, wrong method: steps along the range (many more queries than a binary search)."""
    x = np.array(x, float)
    grid = np.arange(low, high + tol, tol / 2)
    points = np.repeat(x[None], len(grid), axis=0)
    points[:, feature] = grid
    leaves = leaf_of(points)
    change = int(np.argmax(leaves != leaves[0]))
    return float((grid[change - 1] + grid[change]) / 2)


def test_a_linear_scan_is_refused_by_the_check_and_by_grading_although_its_threshold_is_right(capsys):
    # the student's function runs in another process: the queries are counted there (mialab.checks._counting)
    with pytest.raises(CheckError):
        nb09.check_find_threshold(_scan_threshold)
    assert "queries; binary search needs" in capsys.readouterr().out
    with pytest.raises(HiddenTestFailed, match="far more queries"):
        hidden_test("nb09", "find_threshold", _scan_threshold)


# --- queries_to_reach and its bootstrap (notebook 09, section 4) ------------------------------------------------

def _notebook_queries_to_reach(agree, budgets, level=0.9):
    """Notebook 09's cell before it moved into the package, kept as the oracle."""
    curve = agree.mean(axis=(0, 2))
    above = np.flatnonzero(curve >= level)
    if len(above) == 0:
        return np.inf
    j = above[0]
    if j == 0:
        return float(budgets[0])
    t = (level - curve[j - 1]) / (curve[j] - curve[j - 1])
    return float(np.exp(np.log(budgets[j - 1]) + t * np.log(budgets[j] / budgets[j - 1])))


def _sweep(rng, n_test=300, budgets=(25, 50, 100, 200, 400, 700), slope=0.12):
    """Agreement (3 seeds, budgets, n_test) whose chance of agreeing grows with log(budget)."""
    p = np.clip(0.4 + slope * np.log(np.asarray(budgets) / budgets[0]), 0, 1)
    return rng.random((3, len(budgets), n_test)) < p[None, :, None]


def test_queries_to_reach_interpolates_on_a_log_scale_and_is_inf_when_never_reached():
    budgets = [10, 100, 1000]
    agree = np.zeros((1, 3, 4))
    agree[0, 1, :2] = 1                                             # fidelity 0, 0.5, 1.0
    agree[0, 2] = 1
    assert queries_to_reach(agree, budgets, level=0.5) == pytest.approx(100)
    assert queries_to_reach(agree, budgets, level=0.75) == pytest.approx(np.sqrt(100 * 1000))
    assert queries_to_reach(agree, budgets, level=0.0) == 10
    assert queries_to_reach(agree[:, :2], budgets[:2], level=0.9) == np.inf
    rng = np.random.default_rng(0)
    for _ in range(5):
        agree, budgets = _sweep(rng), [25, 50, 100, 200, 400, 700]
        for level in (0.5, 0.7, 0.9):
            assert queries_to_reach(agree, budgets, level) == _notebook_queries_to_reach(agree, budgets, level)


def test_the_bootstrap_draws_the_notebooks_resamples_shared_by_every_setting():
    rng = np.random.default_rng(1)
    budgets = [25, 50, 100, 200, 400, 700]
    agreements = {"probabilities": _sweep(rng, slope=0.2), "labels": _sweep(rng, slope=0.1)}
    draws = bootstrap_queries_to_reach(agreements, budgets, level=0.7, n_boot=50, random_state=3)
    boot_rng = np.random.default_rng(3)                             # the notebook's loop
    rows = [boot_rng.integers(300, size=300) for _ in range(50)]
    for name, agree in agreements.items():
        want = [_notebook_queries_to_reach(agree[:, :, r], budgets, 0.7) for r in rows]
        np.testing.assert_array_equal(draws[name], want)
    low, high = metrics.percentile_interval(draws["labels"] / draws["probabilities"])
    assert 1 < low <= high                                          # labels need more queries in every pairing
    assert queries_to_reach(agreements["labels"], budgets, 0.7) == pytest.approx(
        np.median(draws["labels"]), rel=0.3)


@pytest.mark.parametrize("call, match", [
    (lambda: queries_to_reach(np.ones((1, 2, 3)), [10, 20, 30]), "axis 1"),
    (lambda: queries_to_reach(np.ones((1, 2, 3)), [20, 10]), "increasing"),
    (lambda: queries_to_reach(np.ones((2, 3)), [10, 20]), "agreement"),
    (lambda: queries_to_reach(np.ones((1, 2, 3)), [10, 20], level=1.5), "level"),
    (lambda: bootstrap_queries_to_reach({}, [10]), "non-empty dict"),
    (lambda: bootstrap_queries_to_reach({"a": np.ones((1, 1, 3)), "b": np.ones((1, 1, 4))}, [10]), "same test"),
    (lambda: metrics.percentile_interval([1.0, np.nan]), "NaN"),
])
def test_bad_sweeps_are_refused_with_the_reason(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call()
