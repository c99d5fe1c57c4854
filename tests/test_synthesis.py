"""Shadow data without real data: model-based synthesis (Shokri's Algorithm 1) and marginal synthesis."""

import numpy as np
import pytest

from mialab import data, metrics, models
from mialab.attacks.shadow import ShadowAttack
from mialab.attacks.synthesis import synthesize, synthesize_marginal
from mialab.blackbox import BlackBox


pytestmark = pytest.mark.usefixtures("one_thread_module")    # tiny models: one thread is faster


@pytest.fixture(scope="module")
def purchase_100():
    X, y = data.load_purchase(n_classes=100)
    split = data.target_shadow_split(len(X), n_target=300, random_state=0)
    net = models.MLP(600, 100, hidden=(128,), random_state=0)
    models.train(net, X[split.target_in], y[split.target_in], epochs=30, random_state=0)
    return X, y, split, net


def test_synthesized_records_are_binary_and_classified_into_the_requested_class(purchase_100):
    _, _, _, net = purchase_100
    target = BlackBox(net)
    X_syn, y_syn, n_queries = synthesize(target, 200, 600, random_state=0)
    assert X_syn.dtype == np.float32 and X_syn.shape == (len(y_syn), 600) and set(np.unique(X_syn)) <= {0.0, 1.0}
    assert len(y_syn) > 100                                     # most searches succeed
    assert np.mean(models.predict(net, X_syn) == y_syn) > 0.95  # chance is 0.01
    assert len(np.unique(y_syn)) > 50                           # requested round-robin over the classes
    assert n_queries == target.n_queries > len(y_syn)
    assert 10 < n_queries / len(y_syn) < 1000                   # the paper: about 156 queries per record


def test_synthesis_respects_its_query_budget_and_repeats_with_its_seed(purchase_100):
    _, _, _, net = purchase_100
    target = BlackBox(net)
    X_a, y_a, used = synthesize(target, 100, 600, max_queries=3000, random_state=1)
    assert used <= 3000 and used == target.n_queries
    assert len(y_a) < 100                                       # the budget ran out first
    X_b, y_b, used_b = synthesize(BlackBox(net), 100, 600, max_queries=3000, random_state=1)
    np.testing.assert_array_equal(X_a, X_b)
    assert used_b == used


def test_synthesis_honours_the_requested_classes(purchase_100):
    _, _, _, net = purchase_100
    classes = np.array([3, 3, 7, 7, 7])
    X_syn, y_syn, _ = synthesize(BlackBox(net), 5, 600, classes=classes, random_state=0)
    assert set(y_syn) <= {3, 7}
    np.testing.assert_array_equal(models.predict(net, X_syn), y_syn)


def test_marginal_synthesis_matches_per_class_feature_means():
    X, y = data.load_purchase(n_classes=10)
    X_syn, y_syn = synthesize_marginal(X[:5000], y[:5000], 5000, random_state=0)
    assert X_syn.shape == (5000, 600) and set(np.unique(X_syn)) <= {0.0, 1.0}
    assert np.abs(np.bincount(y_syn, minlength=10) / 5000 - np.bincount(y[:5000], minlength=10) / 5000).max() < 0.03
    for c in (0, 5):
        assert np.abs(X_syn[y_syn == c].mean(0) - X[:5000][y[:5000] == c].mean(0)).max() < 0.12
    # features are independent within a class: no record is copied whole
    rows = {r.tobytes() for r in X[:5000]}
    assert np.mean([r.tobytes() in rows for r in X_syn]) < 0.1


def test_marginal_synthesis_without_classes_labels_records_by_the_target(purchase_100):
    X, y, split, net = purchase_100
    target = BlackBox(net)
    X_syn, y_syn = synthesize_marginal(X[split.shadow], y[split.shadow], 300, per_class=False, target=target)
    np.testing.assert_array_equal(y_syn, models.predict(net, X_syn))
    assert target.n_queries == 300


def test_shadows_on_synthesized_data_attack_an_overfit_target(purchase_100):
    X, y, split, net = purchase_100
    target = BlackBox(net)
    candidates = np.concatenate([split.target_in, split.target_out])
    is_member = np.arange(len(candidates)) < 300
    sources = {"marginal": synthesize_marginal(X[split.shadow], y[split.shadow], 600, random_state=0),
               "model-based": synthesize(target, 700, 600, random_state=0)[:2]}
    for name, (X_syn, y_syn) in sources.items():
        assert len(y_syn) >= 300
        attack = ShadowAttack(n_shadows=2, train_size=150, recipe=dict(hidden=(128,)), n_classes=100)
        attack.fit(X_syn[:300], y_syn[:300])
        auc = metrics.auc(attack.score(target, X[candidates], y[candidates]), is_member)
        assert auc > 0.7, name


def test_synthesis_rejects_bad_input(purchase_100):
    _, _, _, net = purchase_100
    target = BlackBox(net)
    with pytest.raises(ValueError, match="probability vectors"):
        synthesize(BlackBox(net, output="label"), 5, 600)
    with pytest.raises(ValueError, match="k_min <= k_max"):
        synthesize(target, 5, 600, k_min=10, k_max=5)
    with pytest.raises(ValueError, match="k_min <= k_max <= n_features"):
        synthesize(target, 5, 600, k_max=601)
    with pytest.raises(ValueError, match="n_records"):
        synthesize(target, 0, 600)
    with pytest.raises(ValueError, match="max_queries"):
        synthesize(target, 5, 600, max_queries=0)
    with pytest.raises(ValueError, match="conf_min"):
        synthesize(target, 5, 600, conf_min=1.5)
    with pytest.raises(ValueError, match="out of range"):
        synthesize(target, 2, 600, classes=[0, 100])
    with pytest.raises(ValueError, match="labels but there are"):
        synthesize(target, 3, 600, classes=[0, 1])
    with pytest.raises(ValueError, match="600 features"):
        synthesize(target, 3, 500)
    with pytest.raises(TypeError, match="BlackBox"):
        synthesize(net, 3, 600)
    assert target.n_queries == 0


def test_marginal_synthesis_rejects_bad_input():
    X, y = data.load_purchase(n_classes=10)
    with pytest.raises(ValueError, match="pass `target`"):
        synthesize_marginal(X[:100], y[:100], 10, per_class=False)
    with pytest.raises(ValueError, match="n_records"):
        synthesize_marginal(X[:100], y[:100], 0)
    with pytest.raises(ValueError, match="labels but there are"):
        synthesize_marginal(X[:100], y[:99], 10)
    with pytest.raises(TypeError, match="per_class"):
        synthesize_marginal(X[:100], y[:100], 10, per_class="yes")
    bad = X[:100].copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        synthesize_marginal(bad, y[:100], 10)
