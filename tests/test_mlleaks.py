"""Salem et al. ML-Leaks: adversaries 1-3 on an overfit and a well-generalized target, the label-free threshold,
dropout as a defence, the notebook-03 checks, and bad input."""

import inspect

import numpy as np
import pytest
import scipy.stats
from sklearn.metrics import precision_score, recall_score, roc_auc_score

from mialab.attacks.base import NotFittedError
from mialab import data, metrics, models
from mialab.attacks import features
from mialab.attacks.mlleaks import (MLLeaksAttack, ThresholdAttack, TransferAttack, noise_records, noise_threshold,
                                    posterior_scores, query_top_k)
from mialab.attacks.shadow import ShadowAttack, train_shadows
from mialab.blackbox import BlackBox
from mialab.checks import CheckError, NotDoneError
from mialab.checks import nb03
from _course import hidden_test
from mialab.checks.grading import HiddenTestFailed

RECIPE = dict(hidden=(128,), epochs=30)
N = 500  # the overfit target's training records


pytestmark = pytest.mark.usefixtures("one_thread_module")    # tiny models: one thread is faster


def _game(k, n_target, pool_size, **recipe):
    X, y = data.load_purchase(n_classes=k)
    split = data.target_shadow_split(len(X), n_target=n_target, random_state=0)
    net = models.MLP(600, k, hidden=recipe["hidden"], random_state=0)
    models.train(net, X[split.target_in], y[split.target_in], epochs=recipe["epochs"], random_state=0)
    candidates = np.concatenate([split.target_in, split.target_out])
    pool = split.shadow[:pool_size]
    return dict(net=net, target=BlackBox(net), X=X[candidates], y=y[candidates],
                is_member=np.arange(len(candidates)) < n_target, X_pool=X[pool], y_pool=y[pool])


@pytest.fixture(scope="module")
def overfit():
    """Purchase-100, 500 training records: train accuracy 1.0, test accuracy about 0.45."""
    game = _game(100, N, 4000, **RECIPE)
    game["shadows"] = train_shadows(game["X_pool"], game["y_pool"], 4, train_size=N, n_classes=100, random_state=1,
                                    recipe=RECIPE)
    game["adv1"] = MLLeaksAttack(1, N, recipe=RECIPE).fit(game["X_pool"], game["y_pool"])
    game["adv1_scores"] = game["adv1"].score(game["target"], game["X"])
    return game


@pytest.fixture(scope="module")
def generalized():
    """Purchase-10, a linear model on 4,000 records: train accuracy 0.99, test accuracy 0.95."""
    return _game(10, 4000, 8000, hidden=(), epochs=10)


def _auc(scores, game):
    return metrics.auc(scores, game["is_member"])


# --- adversary 1 -------------------------------------------------------------------------------------------

def test_adversary1_is_far_above_chance_on_an_overfit_target(overfit):
    assert _auc(overfit["adv1_scores"], overfit) > 0.85


def test_adversary1_is_near_chance_on_a_well_generalized_target(generalized):
    attack = MLLeaksAttack(1, 2000, recipe=dict(hidden=(), epochs=10)).fit(generalized["X_pool"], generalized["y_pool"])
    assert abs(_auc(attack.score(generalized["target"], generalized["X"]), generalized) - 0.5) < 0.06


def test_one_shadow_is_within_a_few_auc_points_of_many_shadows(overfit):
    one = _auc(overfit["adv1_scores"], overfit)
    many = MLLeaksAttack(4, N).fit(overfit["X_pool"], overfit["y_pool"], shadows=overfit["shadows"])
    shokri = ShadowAttack(4, N, n_classes=100, recipe=RECIPE).fit(overfit["X_pool"], overfit["y_pool"],
                                                               shadows=overfit["shadows"])
    assert abs(one - _auc(many.score(overfit["target"], overfit["X"]), overfit)) < 0.03
    assert abs(one - _auc(shokri.score(overfit["target"], overfit["X"], overfit["y"]), overfit)) < 0.05


def test_adversary1_sees_only_the_top_3_so_a_top_3_black_box_gives_the_same_scores(overfit):
    top3 = BlackBox(overfit["net"], output="top_k", k=3)
    np.testing.assert_allclose(overfit["adv1"].score(top3, overfit["X"]), overfit["adv1_scores"], atol=1e-12)


def test_adversary1_spends_one_query_per_candidate_and_ignores_labels(overfit):
    target = BlackBox(overfit["net"])
    scores = overfit["adv1"].score(target, overfit["X"], overfit["y"])
    assert target.n_queries == len(overfit["X"])
    np.testing.assert_allclose(scores, overfit["adv1_scores"])


def test_adversary1_features_are_the_sorted_top_3_of_the_target_answers(overfit):
    got = query_top_k(overfit["target"], overfit["X"][:50], 3)
    probs = models.predict_proba(overfit["net"], overfit["X"][:50])
    np.testing.assert_allclose(got, np.sort(probs, axis=1)[:, ::-1][:, :3])
    np.testing.assert_allclose(got, features.sorted_top_k(probs, 3))


def test_adversary1_predicts_members_at_its_attack_models_decision(overfit):
    called = overfit["adv1"].predict(overfit["target"], overfit["X"])
    np.testing.assert_array_equal(called, overfit["adv1_scores"] >= 0.5)
    assert precision_score(overfit["is_member"], called) > 0.75


# --- adversary 2 -------------------------------------------------------------------------------------------

def test_adversary2_with_a_shadow_trained_on_digits_attacks_a_purchase_target(overfit):
    X_digits, y_digits = data.load_digits()
    attack = TransferAttack(1, 800, recipe=RECIPE).fit(X_digits, y_digits)
    assert _auc(attack.score(overfit["target"], overfit["X"]), overfit) > 0.8


# --- adversary 3 -------------------------------------------------------------------------------------------

def test_adversary3_scores_are_the_max_posterior_and_minus_the_entropy(overfit):
    probs = models.predict_proba(overfit["net"], overfit["X"])
    np.testing.assert_allclose(ThresholdAttack().score(overfit["target"], overfit["X"]), probs.max(axis=1))
    np.testing.assert_allclose(ThresholdAttack("entropy").score(overfit["target"], overfit["X"]),
                               -scipy.stats.entropy(probs, axis=1), atol=1e-9)


def test_adversary3_auc_matches_sklearn_and_members_score_higher(overfit):
    scores = ThresholdAttack().score(overfit["target"], overfit["X"])
    assert metrics.auc(scores, overfit["is_member"]) == pytest.approx(roc_auc_score(overfit["is_member"], scores))
    assert scores[overfit["is_member"]].mean() > scores[~overfit["is_member"]].mean()


@pytest.mark.parametrize("metric", ["max_posterior", "entropy"])
def test_adversary3_comes_close_to_the_shadow_attack_on_an_overfit_target(overfit, metric):
    scores = ThresholdAttack(metric).score(overfit["target"], overfit["X"])
    assert _auc(scores, overfit) > 0.85
    assert abs(_auc(scores, overfit) - _auc(overfit["adv1_scores"], overfit)) < 0.04


def test_adversary3_is_near_chance_on_a_well_generalized_target(generalized):
    scores = ThresholdAttack().score(generalized["target"], generalized["X"])
    assert abs(_auc(scores, generalized) - 0.5) < 0.06


def test_the_label_free_threshold_takes_no_membership_labels():
    assert list(inspect.signature(ThresholdAttack.fit).parameters) == ["self", "target", "X_noise"]
    assert list(inspect.signature(noise_threshold).parameters) == ["noise_probs", "percentile", "metric"]


def test_the_label_free_threshold_is_a_percentile_of_the_answers_on_noise(overfit):
    X_noise = noise_records(1000, 600, "binary", random_state=0)
    target = BlackBox(overfit["net"])
    attack = ThresholdAttack(percentile=90).fit(target, X_noise)
    assert target.n_queries == 1000
    noise_max = models.predict_proba(overfit["net"], X_noise).max(axis=1)
    assert attack.threshold_ == pytest.approx(np.quantile(noise_max, 0.9))
    assert (noise_max >= attack.threshold_).mean() == pytest.approx(0.1, abs=0.002)
    called = attack.predict(target, overfit["X"])
    assert precision_score(overfit["is_member"], called) > 0.7 and recall_score(overfit["is_member"], called) > 0.7
    m = metrics.threshold_metrics(attack.score(target, overfit["X"]), overfit["is_member"], attack.threshold_)
    assert m["precision"] == pytest.approx(precision_score(overfit["is_member"], called))


def test_noise_records_are_seeded_and_have_the_asked_kind():
    binary = noise_records(200, 600, "binary", random_state=3)
    np.testing.assert_array_equal(binary, noise_records(200, 600, "binary", random_state=3))
    assert binary.dtype == np.float32 and set(np.unique(binary)) == {0.0, 1.0}
    assert abs(binary.mean() - 0.5) < 0.01
    pixels = noise_records(10, (1, 8, 8), "uniform")
    assert pixels.shape == (10, 1, 8, 8) and pixels.min() >= 0 and pixels.max() < 1


# --- dropout (Salem et al.'s first defence) --------------------------------------------------------------------

def test_strong_dropout_lowers_the_attack_auc_at_an_accuracy_cost(overfit):
    X_train, y_train = overfit["X"][overfit["is_member"]], overfit["y"][overfit["is_member"]]
    net = models.MLP(600, 100, hidden=(128,), dropout=0.9, random_state=0)
    models.train(net, X_train, y_train, epochs=30, random_state=0)
    defended = BlackBox(net)
    for attack in (overfit["adv1"], ThresholdAttack()):
        undefended = _auc(attack.score(overfit["target"], overfit["X"]), overfit)
        assert _auc(attack.score(defended, overfit["X"]), overfit) < undefended - 0.1
    assert models.accuracy(net, X_train, y_train) < models.accuracy(overfit["net"], X_train, y_train)


# --- the notebook-03 checks and hidden tests --------------------------------------------------------------

def _top_k(probs, k):
    return -np.sort(-probs, axis=1)[:, :k]


def _entropy_attack(probs):
    return np.sum(probs * np.log(np.clip(probs, 1e-12, None)), axis=1)


def _pick(noise_probs, percentile):
    return float(np.percentile(noise_probs.max(axis=1), percentile))


def test_checks_pass_correct_solutions(capsys):
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(10), size=50)
    nb03.check_top_k_features(_top_k, probs)
    nb03.check_entropy_attack(_entropy_attack, probs)
    nb03.check_pick_threshold(_pick, probs)
    assert capsys.readouterr().out.count("✅") == 3


@pytest.mark.parametrize("check, wrong, hint", [
    (nb03.check_top_k_features, lambda p, k: np.sort(p, axis=1)[:, :k], "decreasing"),
    (nb03.check_top_k_features, lambda p, k: -np.sort(-p, axis=0)[:, :k], "axis=1"),
    (nb03.check_entropy_attack, lambda p: -np.sum(p * np.log(np.clip(p, 1e-12, None)), axis=1), "minus the entropy"),
    (nb03.check_entropy_attack, lambda p: np.sum(p * np.log(p), axis=1), "0 log 0"),
    (nb03.check_pick_threshold, lambda p, q: float(np.percentile(p[:, 0], q)), "largest posterior"),
    (nb03.check_pick_threshold, lambda p, q, is_member=None: 0.5, "no membership labels"),
])
def test_checks_catch_common_mistakes_with_a_hint(check, wrong, hint, capsys):
    with np.errstate(all="ignore"), pytest.raises(CheckError):
        check(wrong)
    assert hint in capsys.readouterr().out


def test_checks_say_not_done_for_a_blank_exercise():
    def blank(*args):
        raise NotImplementedError()

    for check in (nb03.check_top_k_features, nb03.check_entropy_attack):
        with pytest.raises(NotDoneError):
            check(blank)


@pytest.mark.parametrize("exercise, right, wrong, reference", [
    ("top_k_features", _top_k, lambda p, k: np.sort(p, axis=1)[:, :k] + 0.01,
     lambda p, k: features.sorted_top_k(p, k)),
    ("entropy_attack", _entropy_attack, lambda p: -_entropy_attack(p), lambda p: -features.entropy(p)),
    ("pick_threshold", _pick, lambda p, q: float(np.percentile(p.max(axis=1), 100 - q)),
     lambda p, q: noise_threshold(p, q)),
])
def test_hidden_tests_pass_the_right_answer_fail_a_wrong_one_and_block_the_reference(exercise, right, wrong,
                                                                                       reference):
    assert hidden_test("nb03", exercise, right) is None
    with pytest.raises(HiddenTestFailed, match="wrong answer"):
        hidden_test("nb03", exercise, wrong)
    with pytest.raises(HiddenTestFailed, match="calls mialab's own implementation"):
        hidden_test("nb03", exercise, reference)


# --- bad input ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    (dict(n_shadows=0), "n_shadows"), (dict(train_size=-1), "train_size"), (dict(k=0), "k"),
    (dict(attack_model="mlp"), "attack_model"), (dict(random_state=None), "random_state"),
])
def test_mlleaks_attack_rejects_bad_settings(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        MLLeaksAttack(**kwargs)


def test_mlleaks_attack_rejects_a_small_pool_too_many_top_classes_and_foreign_shadows(overfit):
    X, y = overfit["X_pool"], overfit["y_pool"]
    with pytest.raises(ValueError, match="train_size <= 50"):
        MLLeaksAttack(1, 60).fit(X[:100], y[:100])
    X_bc, y_bc = data.load_breast_cancer()
    with pytest.raises(ValueError, match="2 classes|number of classes"):
        TransferAttack(1, 200, k=3).fit(X_bc, y_bc)
    with pytest.raises(TypeError, match="train_shadows"):
        MLLeaksAttack(1, N).fit(X, y, shadows="shadows")
    with pytest.raises(ValueError, match="pool of 4000"):
        MLLeaksAttack(1, N).fit(X[:100], y[:100], shadows=overfit["shadows"])
    with pytest.raises(ValueError, match="one label per record"):
        MLLeaksAttack(1, N).fit(X, y[:-1])


def test_attacks_reject_bad_targets_and_candidates(overfit):
    attack, X = overfit["adv1"], overfit["X"][:10]
    with pytest.raises(NotFittedError, match="not fitted"):
        MLLeaksAttack().score(overfit["target"], X)
    with pytest.raises(NotFittedError, match="fit"):
        ThresholdAttack().predict(overfit["target"], X)
    for bad in (attack, ThresholdAttack(), ThresholdAttack("entropy")):
        with pytest.raises(ValueError, match="label"):
            bad.score(BlackBox(overfit["net"], output="label"), X)
        with pytest.raises(TypeError, match="BlackBox"):
            bad.score(overfit["net"], X)
    with pytest.raises(ValueError, match="top 2"):
        attack.score(BlackBox(overfit["net"], output="top_k", k=2), X)
    with pytest.raises(ValueError, match="top_k"):
        ThresholdAttack("entropy").score(BlackBox(overfit["net"], output="top_k", k=3), X)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        attack.score(overfit["target"], X_nan)
    with pytest.raises(ValueError, match="one label per record"):
        attack.score(overfit["target"], X, overfit["y"][:3])
    with pytest.raises(ValueError, match="one row per record"):
        ThresholdAttack().score(overfit["target"], X[0])


@pytest.mark.parametrize("call, match", [
    (lambda: ThresholdAttack(metric="loss"), "metric"),
    (lambda: ThresholdAttack(percentile=150), "percentile"),
    (lambda: ThresholdAttack(percentile=True), "percentile"),
    (lambda: noise_threshold([[0.2, 0.7]], 90), "sum to 1"),
    (lambda: noise_threshold([[np.nan, 1.0]], 90), "NaN"),
    (lambda: noise_threshold(np.zeros((0, 3)), 90), "empty"),
    (lambda: noise_threshold([[0.3, 0.7]], -1), "percentile"),
    (lambda: posterior_scores([0.3, 0.7]), "shape"),
    (lambda: posterior_scores([[0.3, 0.7]], "loss"), "metric"),
    (lambda: noise_records(0, 600), "`n`"),
    (lambda: noise_records(10, 0), "n_features"),
    (lambda: noise_records(10, 600, "pixels"), "kind"),
    (lambda: noise_records(10, 600, random_state=1.5), "random_state"),
    (lambda: query_top_k(None, np.zeros((2, 3)), 3), "BlackBox"),
])
def test_adversary3_helpers_reject_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
