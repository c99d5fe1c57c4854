"""mialab.attacks.vulnerable: per-record leakage, the most exposed records, outlier measures, leave-one-out
influence, and clear errors."""

import numpy as np
import pytest

from _small_models import CONFIG, one_thread, small_universe, synthetic_values
from mialab.attacks.signals import leave_one_out, signals
from mialab.attacks import lira, vulnerable


@pytest.fixture(scope="module")
def synthetic():
    return synthetic_values()


def test_per_record_leakage_counts_each_records_true_and_false_positives():
    scores = np.array([[5.0, 4.0, 0.0], [1.0, 0.5, 0.2], [3.0, 0.1, 0.3]])
    is_member = np.array([[1, 1, 0], [1, 0, 0], [0, 1, 1]], bool)
    # non-member scores: 0.0, 0.5, 0.2, 3.0 -> at FPR 0.25 one false positive is allowed: threshold just above 0.5
    leak = vulnerable.per_record_leakage(scores, is_member, fpr=0.25)
    assert 0.5 < leak.threshold <= 1.0
    assert np.allclose(leak.tpr, [1.0, 1.0, 0.0])
    assert np.allclose(leak.fpr, [0.0, 0.0, 1.0])
    assert np.array_equal(leak.n_in, [2, 1, 2])


def test_per_record_leakage_pooled_matches_the_global_tpr_and_fpr(synthetic):
    values, masks = synthetic
    scores, is_member = leave_one_out(lira.lira_scores, values, masks, fix_variance=True, targets=range(4),
                                                  references=range(4, 20))
    leak = vulnerable.per_record_leakage(scores, is_member, fpr=0.01)
    called = scores >= leak.threshold
    assert called[~is_member].mean() <= 0.01
    assert np.isclose(np.nansum(leak.tpr * leak.n_in) / leak.n_in.sum(), called[is_member].mean())
    top = vulnerable.most_exposed(leak, k=20)
    assert len(top) == 20 and np.all(np.nan_to_num(leak.tpr[top]) >= np.nanmedian(leak.tpr))


def test_influence_is_in_mean_minus_out_mean_and_finds_the_planted_effect():
    values = np.array([[3.0, 1.0, 2.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    masks = np.array([[1, 0, 1, 0], [1, 1, 0, 0]], bool)
    assert np.allclose(vulnerable.influence(values, masks), [2.5 - 0.5, 0.0])
    rng = np.random.default_rng(0)
    effect = rng.uniform(0, 3, 500)
    masks = rng.random((500, 32)) < 0.5
    masks[:, 0], masks[:, 1] = True, False
    values = rng.normal(size=(500, 32)) * 0.3 + effect[:, None] * masks
    assert np.corrcoef(vulnerable.influence(values, masks), effect)[0, 1] > 0.95


def test_outlier_scores_find_the_record_far_from_its_class():
    rng = np.random.default_rng(0)
    X = rng.normal(0, 0.1, (40, 5))
    y = np.repeat([0, 1], 20)
    X[y == 1] += 5.0
    X[3] += 2.0                                                   # an outlier of class 0
    out = vulnerable.outlier_scores(X, y, n_neighbors=3)
    assert int(np.argmax(out["centroid_distance"])) == 3
    assert int(np.argmax(out["neighbour_distance"])) == 3
    assert out["centroid_distance"].shape == out["neighbour_distance"].shape == (40,)


def test_exposed_records_on_real_models_have_larger_influence(tmp_path):
    X, y, stack, masks, _, _ = small_universe(tmp_path, n_models=16)
    values = signals(stack, X, y)
    scores, is_member = leave_one_out(lira.lira_scores, values, masks, fix_variance=True, targets=range(8),
                                                  references=range(8, 16))
    leak = vulnerable.per_record_leakage(scores, is_member, fpr=0.01)
    infl = vulnerable.influence(values[:, 8:], masks[:, 8:])      # from the reference models only
    top = vulnerable.most_exposed(leak, k=30)
    assert np.median(infl[top]) > np.median(infl) + 1.0


def test_retrain_without_trains_with_and_without_the_record_from_the_same_seed(tmp_path):
    from mialab import data
    X, y = data.load_purchase(n_classes=10, n_records=1000, random_state=0)
    config = dict(CONFIG, epochs=10, cache_dir=tmp_path)
    with one_thread():
        out = vulnerable.retrain_without(X[:200], y[:200], 7, n_seeds=2, **config)
        again = vulnerable.retrain_without(X[:200], y[:200], 7, n_seeds=2, **config)   # from the cache
    assert set(out) == {"with_record", "without_record", "difference"}
    assert out["difference"].shape == (2,)
    assert np.allclose(out["difference"], out["with_record"] - out["without_record"])
    assert np.array_equal(out["with_record"], again["with_record"])
    assert out["difference"].mean() > 0                         # training on a record raises its confidence


def test_bad_input_raises_clear_errors():
    scores = np.zeros((3, 2))
    with pytest.raises(ValueError, match="both members and non-members"):
        vulnerable.per_record_leakage(scores, np.ones((3, 2), bool))
    with pytest.raises(ValueError, match="is_member"):
        vulnerable.per_record_leakage(scores, np.ones((3, 3), bool))
    with pytest.raises(ValueError, match="fpr"):
        vulnerable.per_record_leakage(scores, np.array([[1, 0]] * 3, bool), fpr=2)
    with pytest.raises(TypeError, match="per_record_leakage"):
        vulnerable.most_exposed(np.zeros(3))
    with pytest.raises(ValueError, match="at least one model"):
        vulnerable.influence(scores, np.array([[1, 1], [1, 0], [0, 1]], bool))
    with pytest.raises(ValueError, match="y"):
        vulnerable.outlier_scores(np.zeros((3, 2)), np.array([0, 1]))
    with pytest.raises(ValueError, match="index"):
        vulnerable.retrain_without(np.zeros((3, 2)), np.array([0, 1, 0]), 5)
