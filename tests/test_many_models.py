"""mialab.many_models: many MLPs trained at once (train_many, train_many_chunks, ModelStack)."""

import time

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification

from mialab import many_models
from mialab.many_models import ModelStack, train_many, train_many_chunks
from mialab.models import MLP, TrainingDiverged, accuracy, logits, predict_proba, train


pytestmark = pytest.mark.usefixtures("one_thread_module")    # tiny models: one thread is faster


@pytest.fixture(scope="module")
def blobs():
    X, y = make_classification(n_samples=1400, n_features=20, n_informative=10, n_classes=3, n_clusters_per_class=1,
                               random_state=0)
    return X.astype(np.float32), y


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
    from mialab.many_models import _sparse_rows
    X = torch.zeros(3, 12)
    X[0, [2, 7]] = torch.tensor([1.0, 0.5])
    X[2, 11] = 2.0
    columns, values = _sparse_rows(X)
    assert columns.tolist() == [[2, 7], [0, 0], [11, 0]]
    assert values.tolist() == [[1.0, 0.5], [0.0, 0.0], [2.0, 0.0]]
    assert _sparse_rows(torch.ones(3, 12)) is None                 # dense rows: the dense matmul is cheaper
    assert _sparse_rows(torch.zeros(3, 12)) is None


def test_train_many_on_sparse_rows_is_train_one_by_one_and_the_dense_path(monkeypatch):
    X, y = _sparse_data()
    assert many_models._sparse_rows(torch.from_numpy(X)) is not None     # the sparse first layer is used
    masks = np.random.default_rng(1).random((len(X), 3)) < 0.6
    kw = dict(hidden=(16,), epochs=3, batch_size=32, lr=3e-3)
    stack = train_many(X, y, masks, random_state=2, **kw)
    for j, seed in enumerate(stack.seeds):
        alone = train(MLP(80, 3, (16,), random_state=seed), X[masks[:, j]], y[masks[:, j]], random_state=seed,
                      epochs=3, batch_size=32, lr=3e-3)
        np.testing.assert_allclose(predict_proba(alone, X), stack.predict_proba(X)[j], atol=1e-5)
    monkeypatch.setattr(many_models, "_sparse_rows", lambda X_t: None)
    dense = train_many(X, y, masks, random_state=2, **kw)
    np.testing.assert_allclose(dense.predict_proba(X), stack.predict_proba(X), atol=1e-5)


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_groups_trained_side_by_side_on_two_threads_equal_one_thread(blobs, two_threads, monkeypatch):
    X, y = blobs
    masks = np.random.default_rng(3).random((len(X), 5)) < 0.4
    calls = []
    real = many_models._train_side_by_side
    monkeypatch.setattr(many_models, "_train_side_by_side", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    monkeypatch.setenv("MIALAB_WORKERS", "2")
    kw = dict(hidden=(8,), dropout=0.2, epochs=2, random_state=4)
    side_by_side = train_many(X, y, masks, **kw)              # 2 threads: 2 groups (3 + 2 models), side by side
    assert calls == [2] and torch.get_num_threads() == 2       # and torch's thread count is restored
    torch.set_num_threads(1)
    monkeypatch.setenv("MIALAB_WORKERS", "1")
    alone = train_many(X, y, masks, **kw)
    assert side_by_side.seeds == alone.seeds
    np.testing.assert_array_equal(side_by_side.predict_proba(X), alone.predict_proba(X))


def test_an_error_in_one_group_stops_the_others(blobs, two_threads, monkeypatch):
    X, y = blobs
    monkeypatch.setenv("MIALAB_WORKERS", "2")
    real_step, real_group, steps = many_models._Group.step, many_models._train_group, []

    def counted_step(self, loss, active):
        steps.append(1)
        return real_step(self, loss, active)

    def second_group_fails(*args, seeds, **kwargs):
        if seeds == second:
            time.sleep(0.2)                                    # the first group is well under way
            raise RuntimeError("boom")
        return real_group(*args, seeds=seeds, **kwargs)

    second = train_many(X[:20], y[:20], np.ones((20, 2), bool), hidden=(8,), epochs=1).seeds[1:]
    monkeypatch.setattr(many_models._Group, "step", counted_step)
    monkeypatch.setattr(many_models, "_train_group", second_group_fails)
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




def test_model_stack_rejects_records_of_the_wrong_width(blobs):
    X, y = blobs
    stack = train_many(X, y, np.ones((len(X), 2), bool), hidden=(8,), epochs=1)
    with pytest.raises(ValueError, match=r"\(n, 20\)"):
        stack.predict_proba(X[:, :5])
    assert isinstance(stack, ModelStack) and "n_models=2" in repr(stack)


# ---------------------------------------------------------------------------------------------------------------
# what cannot train: a diverging run, sizes beyond the machine, a device it does not have, a stack of bad parts
# ---------------------------------------------------------------------------------------------------------------

def test_a_diverging_run_stops_with_training_diverged(blobs, monkeypatch):
    # Adam's bounded steps (lr <= 10 is enforced) rarely overflow on their own: make the hidden layer's output
    # non-finite, as an exploding run would, and check that training stops and says what to change
    X, y = blobs
    monkeypatch.setitem(many_models._ACTIVATION_FUNCTIONS, "tanh", lambda h: h * float("inf"))
    with pytest.raises(TrainingDiverged, match="training diverged.*smaller lr"):
        train_many(X, y, np.ones((len(X), 2), bool), hidden=(8,), epochs=2)

    class Exploding(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(20, 3))

        def forward(self, x):
            return x @ self.w * float("inf")

    with pytest.raises(TrainingDiverged, match="training diverged"):
        train(Exploding(), X, y, epochs=2)


def test_too_many_models_for_the_machine_are_refused_before_anything_is_allocated(blobs, monkeypatch):
    X, y = blobs
    monkeypatch.setattr(many_models, "MLP", None)                       # building one would fail: none is built
    with pytest.raises(MemoryError, match=r"10,000 models .* GiB.*train fewer models"):
        train_many(X[:50], y[:50], np.ones((50, 10_000), bool), hidden=(2 ** 20,), epochs=1)


def test_a_huge_mlp_is_refused_with_the_memory_it_would_need():
    with pytest.raises(MemoryError, match="GiB.*lower n_features"):
        MLP(n_features=10 ** 12, n_classes=2)


def test_the_device_path_trains_the_same_models_on_the_cpu(blobs):
    X, y = blobs
    masks = np.random.default_rng(5).random((len(X), 3)) < 0.5
    default = train_many(X, y, masks, hidden=(8,), epochs=2, random_state=1)
    on_cpu = train_many(X, y, masks, hidden=(8,), epochs=2, random_state=1, device=torch.device("cpu"))
    np.testing.assert_array_equal(default.predict_proba(X), on_cpu.predict_proba(X))


@pytest.mark.parametrize("device, match", [("tpu", "torch device"), ("meta", "CUDA device"), (3.5, "torch device")]
                         + ([] if torch.cuda.is_available() else [("cuda", "no CUDA device")]))
def test_a_device_this_machine_lacks_is_refused(blobs, device, match):
    X, y = blobs
    with pytest.raises(ValueError, match=match):
        train_many(X, y, np.ones((len(X), 1), bool), hidden=(8,), epochs=1, device=device)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_a_gpu_trains_the_models_the_cpu_trains_up_to_float_rounding(blobs):
    X, y = blobs
    masks = np.random.default_rng(5).random((len(X), 3)) < 0.5
    cpu = train_many(X, y, masks, hidden=(8,), epochs=2, random_state=1)
    gpu = train_many(X, y, masks, hidden=(8,), epochs=2, random_state=1, device="cuda")
    np.testing.assert_allclose(gpu.predict_proba(X), cpu.predict_proba(X), atol=1e-4)


@pytest.mark.parametrize("weights, biases, match", [
    ([], [], "non-empty lists"),
    ([torch.zeros(2, 3, 4)], [], "non-empty lists"),
    ([torch.zeros(2, 3, 4)], [torch.zeros(3, 4)], "layer 0 does not fit"),
    ([torch.zeros(2, 3, 4), torch.zeros(2, 5, 2)], [torch.zeros(2, 4), torch.zeros(2, 2)], "layer 1 does not fit"),
    ([np.zeros((2, 3, 4))], [np.zeros((2, 4))], "torch tensors"),
])
def test_a_model_stack_of_bad_parts_is_refused(weights, biases, match):
    with pytest.raises((TypeError, ValueError), match=match):
        ModelStack(weights, biases)
