import numpy as np
import pytest

from mialab import data, models
from mialab.attacks.attribute import AttributeInference, attribute_accuracy
from mialab.attacks.features import cross_entropy
from mialab.blackbox import BlackBox

N_TRAIN = 1000


@pytest.fixture(scope="module")
def purchase():
    X, y = data.load_purchase()
    split = data.target_shadow_split(len(X), n_target=N_TRAIN, random_state=0)
    X_c = np.concatenate([X[split.target_in], X[split.target_out]])
    y_c = np.concatenate([y[split.target_in], y[split.target_out]])
    is_member = np.r_[np.ones(N_TRAIN, bool), np.zeros(N_TRAIN, bool)]
    columns = np.argsort(-X.mean(axis=0))[:5]           # the five most often bought products
    return X, y, split, X_c, y_c, is_member, columns


def train_target(purchase, epochs):
    X, y, split, *_ = purchase
    return models.train(models.MLP(600, 100), X[split.target_in], y[split.target_in], epochs=epochs, random_state=0)


@pytest.fixture(scope="module")
def overfit_model(purchase):
    return train_target(purchase, epochs=30)


@pytest.fixture
def overfit(overfit_model):
    return BlackBox(overfit_model)


def mean_accuracy(bb, purchase):
    *_, X_c, y_c, is_member, columns = purchase
    results = [attribute_accuracy(AttributeInference(int(c)).infer(bb, X_c, y_c), X_c[:, c], is_member)
               for c in columns]
    return {key: np.mean([r[key] for r in results]) for key in results[0]}


def test_inference_is_more_accurate_on_members_of_an_overfit_target(purchase, overfit):
    result = mean_accuracy(overfit, purchase)
    assert result["advantage"] > 0.03
    assert result["members"] > 0.55


def test_no_member_advantage_on_a_barely_trained_target(purchase):
    result = mean_accuracy(BlackBox(train_target(purchase, epochs=1)), purchase)
    assert abs(result["advantage"]) < 0.03


def test_infers_the_value_whose_completion_has_the_lowest_loss(purchase, overfit):
    *_, X_c, y_c, _, columns = purchase
    column = int(columns[0])
    attack = AttributeInference(column, values=(0, 1))
    X_small, y_small = X_c[::50], y_c[::50]
    losses = []
    for value in (0, 1):
        completed = X_small.copy()
        completed[:, column] = value
        losses.append(cross_entropy(overfit.query(completed), y_small))
    expected = np.argmin(np.stack(losses, axis=1), axis=1)
    scores = attack.value_scores(overfit, X_small, y_small)
    np.testing.assert_allclose(scores, -np.stack(losses, axis=1))
    np.testing.assert_array_equal(attack.infer(overfit, X_small, y_small), expected)
    # the record's own value of the column is ignored
    flipped = X_small.copy()
    flipped[:, column] = 1 - flipped[:, column]
    np.testing.assert_array_equal(attack.infer(overfit, flipped, y_small), expected)


def test_spends_one_query_per_candidate_value(purchase, overfit):
    *_, X_c, y_c, _, columns = purchase
    before = overfit.n_queries
    AttributeInference(int(columns[0]), values=(0, 0.5, 1)).infer(overfit, X_c[:10], y_c[:10])
    assert overfit.n_queries - before == 30


def test_attribute_accuracy_splits_members_and_nonmembers():
    result = attribute_accuracy(np.array([1, 0, 1, 1]), np.array([1, 0, 0, 0]), np.array([True, True, False, False]))
    assert result == {"members": 1.0, "nonmembers": 0.0, "advantage": 1.0}


def test_bad_inputs_raise_clear_errors(purchase, overfit, overfit_model):
    *_, X_c, y_c, _, _ = purchase
    with pytest.raises(TypeError, match="column"):
        AttributeInference(1.5)
    with pytest.raises(ValueError, match="values"):
        AttributeInference(0, values=(1,))
    with pytest.raises(ValueError, match="values"):
        AttributeInference(0, values=(1, 1))
    with pytest.raises(ValueError, match="column"):
        AttributeInference(600).infer(overfit, X_c[:5], y_c[:5])
    with pytest.raises(ValueError, match="y"):
        AttributeInference(0).infer(overfit, X_c[:5], y_c[:4])
    with pytest.raises(ValueError, match="probability"):
        AttributeInference(0).infer(BlackBox(overfit_model, output="label"), X_c[:5], y_c[:5])
    with pytest.raises(ValueError, match="true"):
        attribute_accuracy(np.array([1, 0]), np.array([1]), np.array([True, False]))
    with pytest.raises(ValueError, match="is_member"):
        attribute_accuracy(np.array([1, 0]), np.array([1, 0]), np.array([True, True]))
