import numpy as np
import pytest
import torch

from mialab.models import MLP, SmallCNN, accuracy, logits, predict, predict_proba, train


pytestmark = pytest.mark.usefixtures("one_thread_module")    # tiny models: one thread is faster


@pytest.fixture(scope="module")
def random_binary():
    rng = np.random.default_rng(0)
    return (rng.random((80, 30)) < 0.3).astype(np.float32), rng.integers(0, 4, 80)


# ---------------------------------------------------------------------------------------------------------------
# models
# ---------------------------------------------------------------------------------------------------------------

def test_mlp_maps_records_to_one_logit_per_class():
    model = MLP(20, 3, hidden=(8, 4), activation="relu")
    assert model(torch.zeros(5, 20)).shape == (5, 3)
    assert [layer.out_features for layer in model.linear_layers()] == [8, 4, 3]


def test_mlp_without_hidden_layers_is_linear():
    assert len(MLP(20, 3, hidden=()).linear_layers()) == 1


def test_mlp_same_random_state_builds_same_weights_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    a, b, c = MLP(10, 2, random_state=1), MLP(10, 2, random_state=1), MLP(10, 2, random_state=2)
    assert torch.rand(1) == expected
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.net[0].weight, c.net[0].weight)


def test_small_cnn_accepts_flat_and_image_shaped_digits():
    model = SmallCNN(n_classes=10)
    X = np.random.default_rng(0).random((6, 64)).astype(np.float32)
    np.testing.assert_allclose(predict_proba(model, X), predict_proba(model, X.reshape(6, 1, 8, 8)), atol=1e-6)


# ---------------------------------------------------------------------------------------------------------------
# train and predict
# ---------------------------------------------------------------------------------------------------------------

def test_train_overfits_a_small_random_dataset(random_binary):
    X, y = random_binary
    model = train(MLP(30, 4, hidden=(64,)), X, y, epochs=40, batch_size=16, lr=1e-2)
    assert accuracy(model, X, y) > 0.95


def test_train_with_same_random_state_gives_identical_predictions(random_binary):
    X, y = random_binary
    runs = [predict_proba(train(MLP(30, 4, hidden=(16,), dropout=0.2), X, y, epochs=3, random_state=seed), X)
            for seed in (5, 5, 6)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_predictions_are_float64_probabilities_int64_labels_and_raw_logits(random_binary):
    X, y = random_binary
    model = train(MLP(30, 4, hidden=(16,)), X, y, epochs=2)
    probs = predict_proba(model, X, batch_size=7)
    assert probs.dtype == np.float64 and probs.shape == (80, 4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    np.testing.assert_allclose(torch.softmax(torch.from_numpy(logits(model, X)), 1).numpy(), probs, atol=1e-6)
    labels = predict(model, X)
    assert labels.dtype == np.int64 and np.array_equal(labels, probs.argmax(axis=1))
    assert accuracy(model, X, y) == pytest.approx(np.mean(labels == y))


def test_predict_proba_leaves_the_training_mode_as_it_was(random_binary):
    model = MLP(30, 4, dropout=0.5).train()
    predict_proba(model, random_binary[0])
    assert model.training


def test_small_cnn_trains_on_flat_digits(random_binary):
    rng = np.random.default_rng(1)
    X, y = rng.random((40, 64)).astype(np.float32), rng.integers(0, 3, 40)
    model = train(SmallCNN(n_classes=3), X, y, epochs=40, batch_size=8, lr=3e-3)
    assert accuracy(model, X, y) > 0.9


# ---------------------------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("change, match", [
    (lambda X, y: (X[:-1], y), "labels"),
    (lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 7, np.nan, X), y), "NaN"),
    (lambda X, y: (X, np.where(np.arange(len(y)) == 0, 4, y)), "out of range"),
    (lambda X, y: (X, y + 0.5), "whole-number"),
    (lambda X, y: (X[:, :-1], y), "30 features"),
    (lambda X, y: (X[0], y), "one row per record"),
])
def test_train_rejects_bad_data(random_binary, change, match):
    X, y = change(*random_binary)
    with pytest.raises(ValueError, match=match):
        train(MLP(30, 4), X, y, epochs=1)


@pytest.mark.parametrize("kwargs", [dict(epochs=0), dict(batch_size=-1), dict(lr=0), dict(random_state=-1)])
def test_train_rejects_bad_settings(random_binary, kwargs):
    with pytest.raises(ValueError):
        train(MLP(30, 4), *random_binary, **kwargs)


def test_model_functions_reject_things_that_are_not_torch_modules(random_binary):
    with pytest.raises(TypeError, match="torch module"):
        predict_proba("model", random_binary[0])


@pytest.mark.parametrize("make", [lambda: MLP(0, 3), lambda: MLP(10, 1), lambda: MLP(10, 3, activation="gelu"),
                                  lambda: MLP(10, 3, dropout=-0.1), lambda: MLP(10, 3, hidden="wide"),
                                  lambda: SmallCNN(n_classes=1)])
def test_models_reject_bad_settings(make):
    with pytest.raises(ValueError):
        make()
