"""mialab.attacks.label_only: the gap attack (accuracy = 1/2 + gap/2), noisy copies, the noise-robustness attack
against a label-only black box, and clear errors."""

import numpy as np
import pytest

from _small_models import one_thread
from mialab import data
from mialab.attacks import label_only
from mialab.attacks.augment import noisy_copies
from mialab.attacks.label_only import GapAttack, NoiseRobustnessAttack, gap_attack_accuracy
from mialab.blackbox import BlackBox
from mialab.metrics import auc, threshold_metrics


class FixedAnswers:
    """A 'model' whose predict_proba answers a fixed label per record (looked up by the record's first feature)."""

    def __init__(self, labels, n_classes):
        self.labels, self.n_classes = np.asarray(labels), n_classes

    def predict_proba(self, X):
        out = np.zeros((len(X), self.n_classes))
        out[np.arange(len(X)), self.labels[X[:, 0].astype(int)]] = 1.0
        return out


@pytest.fixture(scope="module")
def target():
    from mialab.many_models import train_many
    X, y = data.load_purchase(n_classes=10, n_records=2000, random_state=0)
    with one_thread():
        stack = train_many(X[:300], y[:300], np.ones((300, 1), bool), n_classes=10, hidden=(64,), epochs=30,
                           batch_size=32, random_state=0)
    return stack[0], X, y


@pytest.mark.parametrize("n_in, n_out, right_in, right_out", [(10, 10, 9, 6), (50, 50, 50, 0), (8, 8, 3, 5),
                                                             (100, 100, 73, 73)])
def test_gap_attack_accuracy_is_one_half_plus_half_the_gap_on_balanced_sets(n_in, n_out, right_in, right_out):
    labels = np.zeros(n_in + n_out, int)
    labels[right_in:n_in] = 1                                     # members answered wrongly
    labels[n_in + right_out:] = 1                                 # non-members answered wrongly
    X = np.arange(n_in + n_out, dtype=np.float32)[:, None]
    y = np.zeros(n_in + n_out, int)
    box = BlackBox(FixedAnswers(labels, 2), output="label")
    is_member = np.arange(n_in + n_out) < n_in
    attack = GapAttack()
    accuracy = np.mean(attack.predict(box, X, y) == is_member)
    train_acc, test_acc = right_in / n_in, right_out / n_out
    assert accuracy == pytest.approx(gap_attack_accuracy(train_acc, test_acc), abs=1e-12)
    assert accuracy == pytest.approx(0.5 + (train_acc - test_acc) / 2, abs=1e-12)
    scores = attack.score(box, X, y)
    assert threshold_metrics(scores, is_member, 0.5)["accuracy"] == pytest.approx(accuracy)


def test_gap_attack_on_a_trained_target_matches_its_accuracies(target):
    model, X, y = target
    from mialab.models import accuracy
    members, nonmembers = np.arange(300), np.arange(1000, 1300)
    idx = np.concatenate([members, nonmembers])
    box = BlackBox(model, output="label")
    predicted = GapAttack().predict(box, X[idx], y[idx])
    is_member = np.arange(600) < 300
    gap_acc = gap_attack_accuracy(accuracy(model, X[members], y[members]),
                                  accuracy(model, X[nonmembers], y[nonmembers]))
    assert np.mean(predicted == is_member) == pytest.approx(gap_acc, abs=1e-12)
    assert box.n_queries == 600


def test_noise_robustness_separates_correctly_classified_members_from_non_members(target):
    model, X, y = target
    members, nonmembers = np.arange(300), np.arange(1000, 1300)
    idx = np.concatenate([members, nonmembers])
    is_member = np.arange(600) < 300
    box = BlackBox(model, output="label")
    gap = GapAttack().score(box, X[idx], y[idx])
    box.reset_queries()
    robust = NoiseRobustnessAttack(n_copies=20, noise="flip", strength=0.05).score(box, X[idx], y[idx])
    assert box.n_queries == 600 * 21
    assert robust.shape == (600,) and robust.min() >= 0 and robust.max() <= 1
    correct = gap == 1.0
    assert auc(robust[correct], is_member[correct]) > 0.6             # the gap attack is at chance on these
    assert auc(robust, is_member) > auc(gap, is_member) + 0.02


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="train_accuracy"):
        gap_attack_accuracy(1.2, 0.5)
    with pytest.raises(ValueError, match="test_accuracy"):
        gap_attack_accuracy(0.9, -0.1)
    with pytest.raises(ValueError, match="0/1 records"):
        noisy_copies(np.full((2, 3), 0.5), 2, "flip", 0.1)
    with pytest.raises(ValueError, match="noise"):
        noisy_copies(np.zeros((2, 3)), 2, "blur", 0.1)
    with pytest.raises(ValueError, match="strength"):
        noisy_copies(np.zeros((2, 3)), 2, "flip", 1.5)
    with pytest.raises(ValueError, match="strength"):
        NoiseRobustnessAttack(noise="shift", strength=0.5)
    with pytest.raises(ValueError, match="n_copies"):
        NoiseRobustnessAttack(n_copies=0)
    with pytest.raises(TypeError, match="BlackBox"):
        NoiseRobustnessAttack().score(object(), np.zeros((2, 64)), np.array([0, 1]))
    box = BlackBox(FixedAnswers(np.array([0, 1]), 2), output="label")
    with pytest.raises(ValueError, match="labels"):
        NoiseRobustnessAttack().score(box, np.zeros((2, 64)), np.array([0, 5, 1]))
    assert label_only.NOISES == ("flip", "gaussian", "shift")
