import time

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification

from mialab.models import MLP, ModelStack, SmallCNN, accuracy, logits, predict, predict_proba, train, train_many, \
    train_many_chunks


pytestmark = pytest.mark.usefixtures("one_thread_module")    # tiny models: one thread is faster


@pytest.fixture(scope="module")
def blobs():
    X, y = make_classification(n_samples=1400, n_features=20, n_informative=10, n_classes=3, n_clusters_per_class=1,
                               random_state=0)
    return X.astype(np.float32), y


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
# train_many
# ---------------------------------------------------------------------------------------------------------------

def test_train_many_model_j_is_train_on_its_records_with_its_seed(blobs):
    X, y = blobs
    masks = np.zeros((len(X), 3), bool)
    masks[:100, 0], masks[50:400, 1], masks[::2, 2] = True, True, True        # 2, 7 and 6 steps per epoch
    kw = dict(epochs=4, batch_size=50, lr=3e-3, weight_decay=1e-3)
    stack = train_many(X, y, masks, hidden=(16, 8), activation="relu", group_size=2, **kw)
    together = stack.predict_proba(X)
    for j, seed in enumerate(stack.seeds):
        alone = train(MLP(20, 3, (16, 8), "relu", random_state=seed), X[masks[:, j]], y[masks[:, j]],
                      random_state=seed, **kw)
        np.testing.assert_allclose(predict_proba(alone, X), together[j], atol=1e-5)


def test_train_many_reaches_the_accuracy_of_training_one_by_one(blobs):
    X, y = blobs
    test = np.arange(len(X)) >= 400
    masks = np.zeros((len(X), 8), bool)
    rng = np.random.default_rng(0)
    for j in range(8):
        masks[rng.choice(400, 200, replace=False), j] = True
    stack = train_many(X, y, masks, hidden=(32,), epochs=20, lr=1e-2, random_state=1)
    alone = [train(MLP(20, 3, (32,), random_state=10 + j), X[masks[:, j]], y[masks[:, j]], epochs=20, lr=1e-2,
                   random_state=10 + j) for j in range(8)]
    test_alone = [accuracy(model, X[test], y[test]) for model in alone]
    assert abs(stack.accuracy(X[test], y[test]).mean() - np.mean(test_alone)) < 0.03
    for j in range(8):
        assert accuracy(stack[j], X[masks[:, j]], y[masks[:, j]]) > 0.9


def test_model_stack_item_is_a_plain_mlp_with_the_same_predictions(blobs):
    X, y = blobs
    stack = train_many(X, y, np.ones((len(X), 3), bool), hidden=(8,), epochs=1)
    assert len(stack) == stack.n_models == 3 and stack.n_classes == 3 and stack.hidden == (8,)
    together = stack.predict_proba(X, batch_size=64)
    assert together.shape == (3, len(X), 3) and together.dtype == np.float64
    np.testing.assert_allclose(together.sum(axis=2), 1.0)
    for j in (0, 2, -1):
        assert isinstance(stack[j], MLP)
        np.testing.assert_allclose(predict_proba(stack[j], X), together[j], atol=1e-6)
        np.testing.assert_allclose(logits(stack[j], X), stack.logits(X)[j], atol=1e-5)
    assert np.array_equal(stack.predict(X), together.argmax(axis=2))
    with pytest.raises(IndexError):
        stack[3]


def test_train_many_is_deterministic_and_gives_different_models_different_seeds(blobs):
    X, y = blobs
    masks = np.ones((len(X), 2), bool)
    a, b = (train_many(X, y, masks, hidden=(8,), epochs=1, random_state=3).predict_proba(X) for _ in range(2))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a[0], a[1])


def test_train_many_results_do_not_depend_on_how_models_are_grouped(blobs):
    X, y = blobs
    masks = np.random.default_rng(0).random((len(X), 3)) < 0.3
    probs = [train_many(X, y, masks, hidden=(8,), dropout=0.2, epochs=2, group_size=g).predict_proba(X)
             for g in (1, 2, None)]
    np.testing.assert_allclose(probs[0], probs[1], atol=1e-5)
    np.testing.assert_allclose(probs[0], probs[2], atol=1e-5)


def test_train_many_gives_every_model_all_classes_even_if_its_records_miss_some(blobs):
    X, y = blobs
    masks = np.stack([y != 2, np.ones(len(y), bool)], axis=1)
    assert train_many(X, y, masks, hidden=(8,), epochs=1).n_classes == 3
    assert train_many(X, y, masks, hidden=(8,), epochs=1, n_classes=5).predict_proba(X[:2]).shape == (2, 2, 5)


def test_train_many_with_dropout_runs_and_is_deterministic(blobs):
    X, y = blobs
    masks = np.ones((len(X), 2), bool)
    a, b = (train_many(X, y, masks, hidden=(8,), dropout=0.3, epochs=1).predict_proba(X) for _ in range(2))
    np.testing.assert_array_equal(a, b)


def _sparse_data(n=400, d=80, seed=0):
    """Records with few non-zeros (about 5%, some not 0/1) and labels from a linear rule: X (n, d), y (n,)."""
    rng = np.random.default_rng(seed)
    X = ((rng.random((n, d)) < 0.05) * rng.choice([1.0, 0.5, 2.0], size=(n, d))).astype(np.float32)
    y = (X @ rng.normal(size=(d, 3))).argmax(axis=1)
    return X, y


def test_sparse_rows_lists_each_rows_nonzero_columns_and_values():
    from mialab.models import _sparse_rows
    X = torch.zeros(3, 12)
    X[0, [2, 7]] = torch.tensor([1.0, 0.5])
    X[2, 11] = 2.0
    columns, values = _sparse_rows(X)
    assert columns.tolist() == [[2, 7], [0, 0], [11, 0]]
    assert values.tolist() == [[1.0, 0.5], [0.0, 0.0], [2.0, 0.0]]
    assert _sparse_rows(torch.ones(3, 12)) is None                 # dense rows: the dense matmul is cheaper
    assert _sparse_rows(torch.zeros(3, 12)) is None


def test_train_many_on_sparse_rows_is_train_one_by_one_and_the_dense_path(monkeypatch):
    from mialab import models as models_module
    X, y = _sparse_data()
    assert models_module._sparse_rows(torch.from_numpy(X)) is not None     # the sparse first layer is used
    masks = np.random.default_rng(1).random((len(X), 3)) < 0.6
    kw = dict(hidden=(16,), epochs=3, batch_size=32, lr=3e-3)
    stack = train_many(X, y, masks, random_state=2, **kw)
    for j, seed in enumerate(stack.seeds):
        alone = train(MLP(80, 3, (16,), random_state=seed), X[masks[:, j]], y[masks[:, j]], random_state=seed,
                      epochs=3, batch_size=32, lr=3e-3)
        np.testing.assert_allclose(predict_proba(alone, X), stack.predict_proba(X)[j], atol=1e-5)
    monkeypatch.setattr(models_module, "_sparse_rows", lambda X_t: None)
    dense = train_many(X, y, masks, random_state=2, **kw)
    np.testing.assert_allclose(dense.predict_proba(X), stack.predict_proba(X), atol=1e-5)


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_groups_trained_side_by_side_on_two_threads_equal_one_thread(blobs, two_threads, monkeypatch):
    from mialab import models as models_module
    X, y = blobs
    masks = np.random.default_rng(3).random((len(X), 5)) < 0.4
    calls = []
    real = models_module._train_side_by_side
    monkeypatch.setattr(models_module, "_train_side_by_side", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    kw = dict(hidden=(8,), dropout=0.2, epochs=2, random_state=4)
    side_by_side = train_many(X, y, masks, **kw)              # 2 threads: 2 groups (3 + 2 models), side by side
    assert calls == [2] and torch.get_num_threads() == 2       # and torch's thread count is restored
    torch.set_num_threads(1)
    alone = train_many(X, y, masks, **kw)
    assert side_by_side.seeds == alone.seeds
    np.testing.assert_array_equal(side_by_side.predict_proba(X), alone.predict_proba(X))


def test_an_error_in_one_group_stops_the_others(blobs, two_threads, monkeypatch):
    from mialab import models as models_module
    X, y = blobs
    real_step, real_group, steps = models_module._Group.step, models_module._train_group, []

    def counted_step(self, loss, active):
        steps.append(1)
        return real_step(self, loss, active)

    def second_group_fails(*args, seeds, **kwargs):
        if seeds == second:
            time.sleep(0.2)                                    # the first group is well under way
            raise RuntimeError("boom")
        return real_group(*args, seeds=seeds, **kwargs)

    second = train_many(X[:20], y[:20], np.ones((20, 2), bool), hidden=(8,), epochs=1).seeds[1:]
    monkeypatch.setattr(models_module._Group, "step", counted_step)
    monkeypatch.setattr(models_module, "_train_group", second_group_fails)
    with pytest.raises(RuntimeError, match="boom"):
        train_many(X, y, np.ones((len(X), 2), bool), hidden=(8,), epochs=50, batch_size=10)
    assert 0 < len(steps) < 50 * 140                           # the first group stopped long before its end
    assert torch.get_num_threads() == 2


def test_train_many_chunks_equal_separate_train_many_calls(blobs):
    X, y = blobs
    rng = np.random.default_rng(1)
    first, second = rng.random((len(X), 3)) < 0.4, rng.random((len(X), 2)) < 0.6
    kw = dict(hidden=(8,), dropout=0.2, epochs=2)
    together = train_many_chunks(X, y, [(first, 5), (second, 9)], group_size=4, **kw)
    for stack, (masks, seed) in zip(together, [(first, 5), (second, 9)]):
        alone = train_many(X, y, masks, random_state=seed, **kw)
        assert stack.seeds == alone.seeds and len(stack) == masks.shape[1]
        np.testing.assert_allclose(stack.predict_proba(X), alone.predict_proba(X), atol=1e-5)


@pytest.mark.parametrize("chunks, error, match", [
    ([], TypeError, "non-empty list"),
    ([np.ones((1400, 2), bool)], TypeError, r"\(masks, random_state\) pair"),
    ([(np.ones((1400, 2), bool), None)], ValueError, "random_state"),
    ([(np.ones((1399, 2), bool), 0)], ValueError, "rows"),
])
def test_train_many_chunks_rejects_bad_chunks(blobs, chunks, error, match):
    X, y = blobs
    with pytest.raises(error, match=match):
        train_many_chunks(X, y, chunks, hidden=(8,), epochs=1)


# ---------------------------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    (dict(masks=np.ones((1399, 2), bool)), "rows"),
    (dict(masks=np.ones(1400, bool)), "n_records, n_models"),
    (dict(masks=np.stack([np.ones(1400, bool), np.zeros(1400, bool)], 1)), r"model\(s\) \[1\]"),
    (dict(masks=np.full((1400, 2), 2)), "booleans"),
    (dict(y=np.zeros(1399, int)), "labels"),
    (dict(n_classes=2), "out of range"),
    (dict(epochs=0), "epochs"),
    (dict(batch_size=0), "batch_size"),
    (dict(lr=-1.0), "lr"),
    (dict(weight_decay=float("nan")), "weight_decay"),
    (dict(hidden=(8, 0)), "hidden"),
    (dict(activation="sigmoid"), "activation"),
    (dict(dropout=1.0), "dropout"),
    (dict(random_state=None), "random_state"),
    (dict(group_size=0), "group_size"),
])
def test_train_many_rejects_bad_input(blobs, kwargs, match):
    X, y = blobs
    args = dict(X=X, y=y, masks=np.ones((len(X), 2), bool), hidden=(8,), epochs=1) | kwargs
    with pytest.raises(ValueError, match=match):
        train_many(args.pop("X"), args.pop("y"), args.pop("masks"), **args)


def test_train_many_rejects_nan_in_X(blobs):
    X, y = blobs
    X = X.copy()
    X[3, 4] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        train_many(X, y, np.ones((len(X), 2), bool))


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


def test_model_stack_rejects_records_of_the_wrong_width(blobs):
    X, y = blobs
    stack = train_many(X, y, np.ones((len(X), 2), bool), hidden=(8,), epochs=1)
    with pytest.raises(ValueError, match=r"\(n, 20\)"):
        stack.predict_proba(X[:, :5])
    assert isinstance(stack, ModelStack) and "n_models=2" in repr(stack)
