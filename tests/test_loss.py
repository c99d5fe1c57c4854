import numpy as np
import pytest
import sklearn.metrics
import torch

from mialab.attacks.base import NotFittedError
from mialab import data, metrics, models
from mialab.attacks.loss import CorrectnessAttack, LossAttack, mean_training_loss
from mialab.blackbox import BlackBox


@pytest.fixture(scope="module")
def purchase():
    X, y = data.load_purchase()
    return X, y, data.target_shadow_split(len(X), n_target=500, random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = data.load_digits()
    return X, y, data.target_shadow_split(len(X), n_target=800, random_state=0)


def train_target(X, y, epochs, weight_decay=0.0, hidden=(256,), random_state=0):
    model = models.MLP(X.shape[1], int(y.max()) + 1, hidden=hidden)
    return models.train(model, X, y, epochs=epochs, weight_decay=weight_decay, random_state=random_state)


def candidates(X, y, split):
    X_c = np.concatenate([X[split.target_in], X[split.target_out]])
    y_c = np.concatenate([y[split.target_in], y[split.target_out]])
    is_member = np.r_[np.ones(len(split.target_in), bool), np.zeros(len(split.target_out), bool)]
    return X_c, y_c, is_member


@pytest.fixture(scope="module")
def overfit(purchase):
    """600-256-100 on 500 purchase records, 30 epochs: train accuracy 1.0, test about 0.4."""
    X, y, split = purchase
    return train_target(X[split.target_in], y[split.target_in], epochs=30)


@pytest.fixture(scope="module")
def generalized(digits):
    """64-128-10 on 800 digits, 10 epochs: train and test accuracy both about 0.92."""
    X, y, split = digits
    return train_target(X[split.target_in], y[split.target_in], epochs=10, hidden=(128,))


def test_score_is_minus_the_loss_computed_independently_from_the_logits(purchase, overfit):
    X, y, split = purchase
    X_c, y_c, _ = candidates(X, y, split)
    scores = LossAttack(expected_loss=0.1).score(BlackBox(overfit), X_c, y_c)
    with torch.no_grad():
        logits = overfit(torch.as_tensor(X_c))
        loss = torch.nn.functional.cross_entropy(logits, torch.as_tensor(y_c), reduction="none").double().numpy()
    np.testing.assert_allclose(scores, -loss, atol=1e-4)


def test_auc_well_above_chance_on_an_overfit_target_and_orientation_agrees_with_sklearn(purchase, overfit):
    X, y, split = purchase
    X_c, y_c, is_member = candidates(X, y, split)
    scores = LossAttack(expected_loss=0.1).score(BlackBox(overfit), X_c, y_c)
    auc = metrics.auc(scores, is_member)
    assert auc > 0.9
    assert auc == pytest.approx(sklearn.metrics.roc_auc_score(is_member, scores))


def test_auc_near_chance_on_a_well_generalized_target(digits, generalized):
    X, y, split = digits
    X_c, y_c, is_member = candidates(X, y, split)
    scores = LossAttack(expected_loss=1.0).score(BlackBox(generalized), X_c, y_c)
    assert abs(metrics.auc(scores, is_member) - 0.5) < 0.04


def test_predict_calls_members_the_records_with_loss_at_most_the_expected_loss(purchase, overfit):
    X, y, split = purchase
    X_c, y_c, _ = candidates(X, y, split)
    attack = LossAttack(expected_loss=0.05)
    target = BlackBox(overfit)
    loss = -attack.score(target, X_c, y_c)
    np.testing.assert_array_equal(attack.predict(target, X_c, y_c), loss <= 0.05)
    assert attack.threshold_ == -0.05


def test_shadow_estimate_of_the_expected_loss_is_close_to_the_targets(purchase, overfit):
    X, y, split = purchase
    pool_X, pool_y = X[split.shadow][:2000], y[split.shadow][:2000]
    attack = LossAttack(n_shadows=2, train_size=500, random_state=1).fit(pool_X, pool_y)
    target_loss = -LossAttack(expected_loss=0.0).score(BlackBox(overfit), X[split.target_in], y[split.target_in])
    assert 0.5 < attack.expected_loss_ / target_loss.mean() < 2
    assert attack.expected_loss_ == pytest.approx(mean_training_loss(attack.shadows_, pool_X, pool_y))


@pytest.mark.parametrize("which", ["overfit", "generalized"])
def test_correctness_advantage_is_exactly_the_generalization_gap(request, which):
    X, y, split = request.getfixturevalue("purchase" if which == "overfit" else "digits")
    model = request.getfixturevalue(which)
    X_c, y_c, is_member = candidates(X, y, split)
    scores = CorrectnessAttack().fit().score(BlackBox(model), X_c, y_c)
    gap = (models.accuracy(model, X[split.target_in], y[split.target_in])
           - models.accuracy(model, X[split.target_out], y[split.target_out]))
    assert metrics.advantage(scores, is_member) == pytest.approx(max(gap, 0.0), abs=1e-12)
    called = CorrectnessAttack().predict(BlackBox(model), X_c, y_c)
    assert called[is_member].mean() - called[~is_member].mean() == pytest.approx(gap, abs=1e-12)


def test_correctness_attack_works_label_only(purchase, overfit):
    X, y, split = purchase
    X_c, y_c, _ = candidates(X, y, split)
    with_probs = CorrectnessAttack().score(BlackBox(overfit), X_c, y_c)
    label_only = CorrectnessAttack().score(BlackBox(overfit, output="label"), X_c, y_c)
    np.testing.assert_array_equal(with_probs, label_only)


def yeom_advantage(scores, is_member, expected_loss):
    called = -scores <= expected_loss
    return called[is_member].mean() - called[~is_member].mean()


def test_loss_attack_advantage_tracks_the_gap_over_a_sweep(purchase):
    """Yeom et al.: the threshold adversary's advantage follows the generalization gap (slope about 1)."""
    X, y, split = purchase
    X_in, y_in = X[split.target_in], y[split.target_in]
    X_out, y_out = X[split.target_out], y[split.target_out]
    X_c, y_c, is_member = candidates(X, y, split)
    gaps, advantages, shuffled = [], [], []
    rng = np.random.default_rng(0)
    for epochs, weight_decay in [(1, 0.0), (3, 0.0), (10, 0.0), (30, 0.0), (3, 0.01), (10, 0.01),
                                  (10, 0.03), (30, 0.03), (30, 0.1)]:
        model = train_target(X_in, y_in, epochs=epochs, weight_decay=weight_decay)
        gaps.append(models.accuracy(model, X_in, y_in) - models.accuracy(model, X_out, y_out))
        scores = LossAttack(expected_loss=0.0).score(BlackBox(model), X_c, y_c)
        advantages.append(yeom_advantage(scores, is_member, -scores[is_member].mean()))
        shuffled.append(yeom_advantage(rng.permutation(scores), is_member, -scores[is_member].mean()))
    slope, intercept = np.polyfit(gaps, advantages, 1)
    assert max(gaps) - min(gaps) > 0.3
    assert 0.6 < slope < 1.4 and abs(intercept) < 0.15
    assert np.corrcoef(gaps, advantages)[0, 1] > 0.9
    assert abs(np.polyfit(gaps, shuffled, 1)[0]) < 0.3      # an attack that ignores the loss does not track it


def test_bad_inputs_raise_clear_errors(purchase, overfit):
    X, y, split = purchase
    X_c, y_c, _ = candidates(X, y, split)
    with pytest.raises(ValueError, match="expected_loss"):
        LossAttack(expected_loss=-1.0)
    with pytest.raises(ValueError, match="expected_loss"):
        LossAttack(expected_loss=float("nan"))
    with pytest.raises(NotFittedError, match="fit"):
        LossAttack().predict(BlackBox(overfit), X_c, y_c)
    with pytest.raises(ValueError, match="probability"):
        LossAttack(expected_loss=0.1).score(BlackBox(overfit, output="label"), X_c, y_c)
    with pytest.raises(ValueError, match="y"):
        LossAttack(expected_loss=0.1).score(BlackBox(overfit), X_c, y_c[:-1])
    with pytest.raises(ValueError, match="y"):
        LossAttack(expected_loss=0.1).score(BlackBox(overfit), X_c, y_c + 10)
    with pytest.raises(TypeError, match="BlackBox"):
        CorrectnessAttack().score(overfit, X_c, y_c)
    with pytest.raises(ValueError, match="y"):
        CorrectnessAttack().score(BlackBox(overfit), X_c, y_c[:-1])
    with pytest.raises(TypeError, match="shadows"):
        mean_training_loss("not shadows", X_c, y_c)
