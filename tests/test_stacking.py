"""Salem et al.'s model stacking: three disjoint training parts, a valid probability model, lower leakage at an
accuracy cost, and bad input."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mialab import data, metrics, models
from mialab.attacks.mlleaks import MLLeaksAttack, ThresholdAttack
from mialab.blackbox import BlackBox
from mialab.defenses.stacking import StackedModel, train_stacked

RECIPE = dict(hidden=(128,), epochs=30)
N = 600


pytestmark = pytest.mark.usefixtures("one_thread_module")    # tiny models: one thread is faster


@pytest.fixture(scope="module")
def game():
    X, y = data.load_purchase(n_classes=100)
    split = data.target_shadow_split(len(X), n_target=N, random_state=0)
    X_train, y_train = X[split.target_in], y[split.target_in]
    plain = models.MLP(600, 100, hidden=RECIPE["hidden"], random_state=0)
    models.train(plain, X_train, y_train, epochs=RECIPE["epochs"], random_state=0)
    stacked = train_stacked(X_train, y_train, n_classes=100, random_state=0, recipe=RECIPE)
    candidates = np.concatenate([split.target_in, split.target_out])
    return dict(plain=plain, stacked=stacked, X_train=X_train, y_train=y_train, X_out=X[split.target_out],
                y_out=y[split.target_out], X=X[candidates], is_member=np.arange(len(candidates)) < N,
                X_pool=X[split.shadow[:2 * N]], y_pool=y[split.shadow[:2 * N]])


def test_each_training_record_trains_exactly_one_of_the_three_models(game):
    part = game["stacked"].part
    assert part.shape == (N,) and set(np.unique(part)) == {0, 1, 2}
    assert np.bincount(part).tolist() == [200, 200, 200]
    first = game["stacked"].first
    # a first-level model fits its own part far better than the other parts
    for j in (0, 1):
        own = (first.predict(game["X_train"])[j] == game["y_train"])[part == j].mean()
        other = (first.predict(game["X_train"])[j] == game["y_train"])[part != j].mean()
        assert own > 0.95 and other < 0.6


def test_stacked_model_answers_probabilities_over_every_class_through_a_black_box(game):
    assert isinstance(game["stacked"], StackedModel)
    target = BlackBox(game["stacked"])
    probs = target.query(game["X_out"][:50])
    assert probs.shape == (50, 100) and target.n_queries == 50
    assert np.all(probs >= 0) and np.allclose(probs.sum(axis=1), 1)
    np.testing.assert_array_equal(game["stacked"].predict(game["X_out"][:50]), probs.argmax(axis=1))


def test_stacked_model_is_seeded(game):
    again = train_stacked(game["X_train"][:120], game["y_train"][:120], n_classes=100, random_state=3,
                          recipe=dict(hidden=(16,), epochs=3))
    same = train_stacked(game["X_train"][:120], game["y_train"][:120], n_classes=100, random_state=3,
                         recipe=dict(hidden=(16,), epochs=3))
    np.testing.assert_allclose(again.predict_proba(game["X_out"][:20]), same.predict_proba(game["X_out"][:20]))
    np.testing.assert_array_equal(again.part, same.part)


def test_stacking_lowers_the_attack_auc_at_an_accuracy_cost(game):
    attacks = {"adversary 3": ThresholdAttack(),
               "adversary 1": MLLeaksAttack(1, N, recipe=RECIPE).fit(game["X_pool"], game["y_pool"])}
    for name, attack in attacks.items():
        plain = metrics.auc(attack.score(BlackBox(game["plain"]), game["X"]), game["is_member"])
        scores = attack.score(BlackBox(game["stacked"]), game["X"])
        stacked = metrics.auc(scores, game["is_member"])
        assert stacked == pytest.approx(roc_auc_score(game["is_member"], scores))
        assert plain > 0.9 and stacked < plain - 0.15, name
    test_acc = np.mean(game["stacked"].predict(game["X_out"]) == game["y_out"])
    assert 0.1 < test_acc < models.accuracy(game["plain"], game["X_out"], game["y_out"])


@pytest.mark.parametrize("kwargs, match", [
    (dict(second_fraction=0.0), "second_fraction"), (dict(second_fraction=1.0), "second_fraction"),
    (dict(second_fraction="third"), "second_fraction"), (dict(C=0), "`C`"), (dict(C=True), "`C`"),
    (dict(C=float("nan")), "`C`"), (dict(n_classes=1), "n_classes"), (dict(n_classes=5), "out of range"),
    (dict(random_state=-1), "random_state"), (dict(recipe=dict(hidden="wide")), "hidden"),
    (dict(recipe=dict(epochs=0)), "epochs"),
])
def test_train_stacked_rejects_bad_settings(game, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        train_stacked(game["X_train"][:60], game["y_train"][:60], **kwargs)


def test_train_stacked_rejects_bad_data(game):
    X, y = game["X_train"][:60], game["y_train"][:60]
    X_nan = X.copy()
    X_nan[3, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        train_stacked(X_nan, y)
    with pytest.raises(ValueError, match="one label per record"):
        train_stacked(X, y[:-1])
    with pytest.raises(ValueError, match="single class"):
        train_stacked(X, np.zeros(60, int))
    with pytest.raises(ValueError, match="too few"):
        train_stacked(X[:4], np.array([0, 1, 0, 1]))
    with pytest.raises(ValueError, match="one row per record"):
        train_stacked(X[0], y[:1])
    with pytest.raises(ValueError, match="600"):
        game["stacked"].predict_proba(X[:, :10])
