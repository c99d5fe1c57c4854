import numpy as np
import pytest

from mialab.attacks.base import NotFittedError
from mialab import data, metrics, models
from mialab.attacks import features
from mialab.attacks.calibrated import METRICS, MetricAttack, metric_values
from mialab.attacks.shadow import ShadowAttack, train_shadows
from mialab.blackbox import BlackBox

def mentr_by_hand(probs, y):
    """Song & Mittal's Mentr record by record, with the same 1e-12 floor inside the logs."""
    out = []
    for row, label in zip(probs, y):
        value = -(1 - row[label]) * np.log(max(row[label], 1e-12))
        value -= sum(p * np.log(max(1 - p, 1e-12)) for j, p in enumerate(row) if j != label)
        out.append(value)
    return np.array(out)


def test_modified_entropy_matches_a_direct_second_computation():
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=4, size=(200, 7))
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    probs[0] = [1, 0, 0, 0, 0, 0, 0]   # certain and right
    probs[1] = [0, 1, 0, 0, 0, 0, 0]   # certain and wrong
    y = rng.integers(7, size=200)
    y[:2] = 0
    np.testing.assert_allclose(features.modified_entropy(probs, y), mentr_by_hand(probs, y), rtol=1e-10, atol=1e-10)
    assert features.modified_entropy(probs[:1], y[:1])[0] == 0.0


def test_modified_entropy_is_monotone_in_the_true_class_probability_unlike_entropy():
    # entropy cannot tell a confident right answer from a confident wrong one; Mentr can
    probs = np.array([[0.98, 0.01, 0.01], [0.01, 0.98, 0.01]])
    y = np.array([0, 0])
    entropy = features.entropy(probs)
    mentr = features.modified_entropy(probs, y)
    assert entropy[0] == pytest.approx(entropy[1])
    assert mentr[0] < 0.1 < 4 < mentr[1]
    p = np.linspace(0.01, 0.99, 50)
    rows = np.stack([p, (1 - p) / 2, (1 - p) / 2], 1)
    assert np.all(np.diff(features.modified_entropy(rows, np.zeros(50, int))) < 0)


def test_metric_values_are_oriented_higher_for_members():
    probs = np.array([[0.9, 0.05, 0.05], [0.4, 0.3, 0.3]])   # record 0 looks like a member
    y = np.array([0, 0])
    for metric in METRICS:
        values = metric_values(probs, y, metric)
        assert values[0] > values[1], metric
    np.testing.assert_allclose(metric_values(probs, y, "loss"), np.log([0.9, 0.4]))


@pytest.fixture(scope="module")
def purchase():
    """Overfit setting: 600-256-20 MLPs on 500 purchase-20 records, 30 epochs (train accuracy 1.0, test about 0.7);
    2 shadows with the same recipe (50 shadow records per class: enough for class-dependent thresholds)."""
    X, y = data.load_purchase(n_classes=20)
    split = data.target_shadow_split(len(X), n_target=500, random_state=0)
    pool = X[split.shadow][:4000], y[split.shadow][:4000]
    shadows = train_shadows(*pool, 2, train_size=500, random_state=1)
    model = models.train(models.MLP(600, 20), X[split.target_in], y[split.target_in], epochs=30)
    return X, y, split, pool, shadows, model


@pytest.fixture(scope="module")
def attacks(purchase):
    *_, pool, shadows, _ = purchase
    return {(metric, cd): MetricAttack(metric, cd, train_size=500).fit(*pool, shadows=shadows)
            for metric in METRICS for cd in (True, False)}


def candidates(X, y, split):
    X_c = np.concatenate([X[split.target_in], X[split.target_out]])
    y_c = np.concatenate([y[split.target_in], y[split.target_out]])
    return X_c, y_c, np.r_[np.ones(len(split.target_in), bool), np.zeros(len(split.target_out), bool)]


def test_auc_well_above_chance_on_an_overfit_target(purchase, attacks):
    X, y, split, *_, model = purchase
    X_c, y_c, is_member = candidates(X, y, split)
    for metric in METRICS:
        for cd in (True, False):
            assert metrics.auc(attacks[metric, cd].score(BlackBox(model), X_c, y_c), is_member) > 0.8, (metric, cd)


def test_auc_near_chance_on_a_well_generalized_target():
    """64-128-10 MLPs on 500 digits, 10 epochs: train and test accuracy about equal."""
    X, y = data.load_digits()
    split = data.target_shadow_split(len(X), n_target=500, random_state=0)
    recipe = dict(hidden=(128,), epochs=10)
    attack = MetricAttack("modified_entropy", n_shadows=2, train_size=390, random_state=1, recipe=recipe)
    attack.fit(X[split.shadow], y[split.shadow])
    model = models.train(models.MLP(64, 10, hidden=(128,)), X[split.target_in], y[split.target_in], epochs=10)
    X_c, y_c, is_member = candidates(X, y, split)
    assert abs(metrics.auc(attack.score(BlackBox(model), X_c, y_c), is_member) - 0.5) < 0.05


def test_score_is_the_metric_minus_the_threshold_of_the_records_class(purchase, attacks):
    X, y, split, *_, model = purchase
    X_c, y_c, _ = candidates(X, y, split)
    bb = BlackBox(model)
    attack = attacks["modified_entropy", True]
    expected = -features.modified_entropy(bb.query(X_c), y_c) - attack.thresholds_[y_c]
    np.testing.assert_allclose(attack.score(bb, X_c, y_c), expected)
    np.testing.assert_array_equal(attack.predict(bb, X_c, y_c), expected >= 0)
    assert len(np.unique(attacks["modified_entropy", False].thresholds_)) == 1
    assert len(np.unique(attack.thresholds_)) == 20


def test_class_dependent_thresholds_help_or_match_on_shadow_and_target_data(purchase, attacks):
    X, y, split, *_, model = purchase
    X_c, y_c, is_member = candidates(X, y, split)
    bb = BlackBox(model)
    for metric in METRICS:
        dep, ind = attacks[metric, True], attacks[metric, False]
        fit_dep = ((dep.shadow_scores_ >= 0) == dep.shadow_is_member_).mean()
        fit_ind = ((ind.shadow_scores_ >= 0) == ind.shadow_is_member_).mean()
        assert fit_dep >= fit_ind - 1e-9, metric
        auc_dep = metrics.auc(dep.score(bb, X_c, y_c), is_member)
        auc_ind = metrics.auc(ind.score(bb, X_c, y_c), is_member)
        assert auc_dep >= auc_ind - 0.01, metric
        acc_dep = (dep.predict(bb, X_c, y_c) == is_member).mean()
        acc_ind = (ind.predict(bb, X_c, y_c) == is_member).mean()
        assert acc_dep >= acc_ind - 0.02, metric
    auc = {cd: metrics.auc(attacks["modified_entropy", cd].score(bb, X_c, y_c), is_member) for cd in (True, False)}
    assert auc[True] > auc[False] + 0.01


def test_modified_entropy_matches_or_beats_the_shadow_model_attack(purchase, attacks):
    X, y, split, pool, shadows, model = purchase
    X_c, y_c, is_member = candidates(X, y, split)
    bb = BlackBox(model)
    nn = ShadowAttack(2, train_size=500, random_state=1).fit(*pool, shadows=shadows)
    auc_nn = metrics.auc(nn.score(bb, X_c, y_c), is_member)
    auc_mentr = metrics.auc(attacks["modified_entropy", True].score(bb, X_c, y_c), is_member)
    assert auc_mentr >= auc_nn - 0.02


def test_bad_inputs_raise_clear_errors(purchase, attacks):
    X, y, split, pool, shadows, model = purchase
    X_c, y_c, _ = candidates(X, y, split)
    bb = BlackBox(model)
    with pytest.raises(ValueError, match="metric"):
        MetricAttack("accuracy")
    with pytest.raises(TypeError, match="class_dependent"):
        MetricAttack("loss", class_dependent="yes")
    with pytest.raises(ValueError, match="n_shadows"):
        MetricAttack(n_shadows=0)
    with pytest.raises(NotFittedError, match="fit"):
        MetricAttack().score(bb, X_c, y_c)
    with pytest.raises(ValueError, match="pool"):
        MetricAttack(train_size=500).fit(X_c, y_c, shadows=shadows)
    with pytest.raises(TypeError, match="shadows"):
        MetricAttack(train_size=500).fit(*pool, shadows="shadows")
    attack = attacks["loss", True]
    with pytest.raises(ValueError, match="probability"):
        attack.score(BlackBox(model, output="label"), X_c, y_c)
    with pytest.raises(ValueError, match="y"):
        attack.score(bb, X_c, y_c[:-1])
    with pytest.raises(ValueError, match="metric"):
        metric_values(np.array([[0.5, 0.5]]), np.array([0]), "accuracy")
    with pytest.raises(ValueError, match="sum to 1"):
        metric_values(np.array([[0.5, 0.6]]), np.array([0]), "loss")
