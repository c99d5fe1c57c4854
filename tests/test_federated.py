"""Federated simulation (FedAvg equals the clients trained one by one), selective SGD, the attackers' helpers."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mialab import data, federated as fl, metrics, models
from _course import hidden_test
from mialab.checks.grading import HiddenTestFailed

pytestmark = pytest.mark.usefixtures("one_thread_module")
OPTIONS = dict(local_epochs=2, hidden=(32,), batch_size=32, lr=1e-3)


@pytest.fixture(scope="module")
def setting():
    X, y = data.load_purchase(n_classes=10, n_records=2000, random_state=0)
    masks = np.zeros((len(X), 3), bool)
    for c in range(3):
        masks[c * 100:(c + 1) * 100 - 7 * c, c] = True       # clients of 100, 93 and 86 records
    return X, y, masks


def _one_by_one(X, y, masks, rounds, random_state, share=1.0):
    """FedAvg written plainly: each client trained alone with mialab.models.train on a copy of the global model."""
    model = models.MLP(X.shape[1], 10, hidden=OPTIONS["hidden"], random_state=random_state)
    for r in range(rounds):
        start = fl.vector(model)
        updates = []
        for c, seed in enumerate(fl.client_seeds(random_state, r, masks.shape[1])):
            client = copy.deepcopy(model)
            models.train(client, X[masks[:, c]], y[masks[:, c]], epochs=OPTIONS["local_epochs"],
                         batch_size=OPTIONS["batch_size"], lr=OPTIONS["lr"], random_state=seed)
            update = (fl.vector(client) - start).double().numpy()
            updates.append(fl.top_fraction(update, share))
        fl.load_vector(model, start + torch.from_numpy(np.mean(updates, axis=0)).float())
    return model


@pytest.mark.parametrize("share", [1.0, 0.05])
def test_federated_simulation_gives_the_models_of_the_clients_trained_one_by_one(setting, share):
    X, y, masks = setting
    run = fl.federated_training(X, y, masks, rounds=3, share=share, n_classes=10, random_state=4, **OPTIONS)
    plain = _one_by_one(X, y, masks, 3, 4, share)
    np.testing.assert_allclose(fl.vector(run.model).numpy(), fl.vector(plain).numpy(), atol=2e-5)


def test_federated_simulation_is_deterministic_and_records_what_the_attackers_see(setting):
    X, y, masks = setting
    kwargs = dict(rounds=3, n_classes=10, watch=(X[:150], y[:150]), test=(X[1000:], y[1000:]), random_state=0,
                  **OPTIONS)
    a, b = fl.federated_training(X, y, masks, **kwargs), fl.federated_training(X, y, masks, **kwargs)
    assert torch.equal(fl.vector(a.model), fl.vector(b.model))
    assert a.global_losses.shape == (4, 150) and a.client_losses.shape == (3, 3, 150)
    assert a.test_accuracy.shape == (4,) and a.client_test_accuracy.shape == (3, 3)
    np.testing.assert_allclose(a.global_losses[-1], -np.log(models.predict_proba(a.model, X[:150])[
        np.arange(150), y[:150]]), rtol=1e-5)
    # the clients' own records lose more of their loss in local training than the others
    score = fl.passive_server_score(a.global_losses[:-1], a.client_losses[:, 0])
    assert metrics.auc(score[:150], np.arange(150) < 100) > 0.6
    c = fl.federated_training(X, y, masks, **{**kwargs, "random_state": 1})
    assert not torch.equal(fl.vector(a.model), fl.vector(c.model))


def test_a_continued_run_equals_one_longer_run(setting):
    X, y, masks = setting
    kwargs = dict(n_classes=10, watch=(X[:50], y[:50]), random_state=2, **OPTIONS)
    whole = fl.federated_training(X, y, masks, rounds=3, **kwargs)
    first = fl.federated_training(X, y, masks, rounds=2, **kwargs)
    rest = fl.federated_training(X, y, masks, rounds=1, initial=first.model, first_round=2, **kwargs)
    assert torch.equal(fl.vector(whole.model), fl.vector(rest.model))
    np.testing.assert_allclose(whole.client_losses[2], rest.client_losses[0])
    with pytest.raises(TypeError, match="initial"):
        fl.federated_training(X, y, masks, rounds=1, initial=models.MLP(5, 10), **kwargs)


def test_top_fraction_keeps_exactly_floor_theta_d_largest_entries():
    rng = np.random.default_rng(0)
    update = rng.normal(size=1000)
    for theta, k in [(0.1, 100), (0.0015, 1), (0.0009, 0), (1.0, 1000), (0.29, 290), (0.123, 123)]:
        kept = fl.top_fraction(update, theta)
        assert np.count_nonzero(kept) == k
        if k:
            assert np.abs(kept).max() == np.abs(update).max()
            assert np.abs(update[kept == 0]).max(initial=0) <= np.abs(kept[kept != 0]).min()
        np.testing.assert_array_equal(kept[kept != 0], update[kept != 0])
    np.testing.assert_array_equal(fl.top_fraction([3.0, -5.0, 1.0, 4.0], 0.5), [0.0, -5.0, 0.0, 4.0])
    rows = torch.from_numpy(rng.normal(size=(3, 200)))
    np.testing.assert_array_equal(fl._top_fraction_rows(rows, 0.07).numpy(),
                                  np.stack([fl.top_fraction(r, 0.07) for r in rows.numpy()]))


def test_normalised_ascent_equals_the_sum_of_unit_per_record_gradients():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(20, 8)).astype(np.float32), rng.integers(4, size=20)
    model = models.MLP(8, 4, hidden=(16,), random_state=0)
    grads = []
    for i in range(20):
        model.zero_grad()
        F.cross_entropy(model(torch.from_numpy(X[i:i + 1])), torch.from_numpy(y[i:i + 1])).backward()
        grads.append(torch.cat([p.grad.reshape(-1) for p in model.parameters()]).numpy().astype(float))
    np.testing.assert_allclose(fl.normalised_ascent(model, X, y).numpy(), fl.ascent_direction(np.array(grads)),
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fl.ascent_direction([[3.0, 4.0], [0.0, 0.0], [0.0, -2.0]]), [0.6, -0.2])


def test_active_server_steps_gamma_along_the_ascent_and_raises_the_targets_loss():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(30, 8)).astype(np.float32), rng.integers(4, size=30)
    model = models.MLP(8, 4, hidden=(16,), random_state=0)
    before = fl.vector(model)
    loss_before = F.cross_entropy(model(torch.from_numpy(X)), torch.from_numpy(y)).item()
    fl.ActiveServer(X, y, gamma=0.5, rounds=[2])(1, model)
    assert torch.equal(fl.vector(model), before)                 # not an attack round
    fl.ActiveServer(X, y, gamma=0.5, rounds=[2])(2, model)
    assert abs((fl.vector(model) - before).norm().item() - 0.5) < 1e-5
    assert F.cross_entropy(model(torch.from_numpy(X)), torch.from_numpy(y)).item() > loss_before


def test_load_vector_copies_so_a_later_change_of_the_vector_leaves_the_model_alone():
    model = models.MLP(5, 3, hidden=(4,), random_state=0)
    values = torch.arange(sum(p.numel() for p in model.parameters()), dtype=torch.float32)
    fl.load_vector(model, values)
    values += 1
    assert torch.equal(fl.vector(model), values - 1)
    with pytest.raises(ValueError, match="parameters"):
        fl.load_vector(model, values[:-1])


def test_scores_of_the_passive_server_and_the_insider():
    before = np.array([[1.0, 1.0], [0.5, 2.0]])
    after = np.array([[0.1, 1.0], [0.05, 0.0]])
    np.testing.assert_allclose(fl.passive_server_score(before, after),
                               [np.log(10), (np.log(2.0) - np.log(1e-12)) / 2])
    np.testing.assert_allclose(fl.insider_score(np.array([[1.0, 2.0], [np.e, 1.0]]), last=1), [-1.0, 0.0])


def test_bad_inputs_get_clear_errors(setting):
    X, y, masks = setting
    with pytest.raises(ValueError, match="share"):
        fl.federated_training(X, y, masks, share=1.5)
    with pytest.raises(ValueError, match="rounds"):
        fl.federated_training(X, y, masks, rounds=0)
    with pytest.raises(ValueError, match="masks"):
        fl.federated_training(X, y, masks[:10])
    with pytest.raises(TypeError, match="server"):
        fl.federated_training(X, y, masks, server="evil")
    with pytest.raises(TypeError, match="watch"):
        fl.federated_training(X, y, masks, watch=X[:5])
    with pytest.raises(ValueError, match="theta"):
        fl.top_fraction([1.0, 2.0], -0.1)
    with pytest.raises(ValueError, match="same shape"):
        fl.passive_server_score(np.ones((2, 3)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="last"):
        fl.insider_score(np.ones((2, 3)), last=3)


@pytest.mark.parametrize("exercise, right, wrong, reference", [
    ("passive_server_score",
     lambda b, a: (np.log(np.clip(b, 1e-12, None)) - np.log(np.clip(a, 1e-12, None))).mean(axis=0),
     lambda b, a: (b - a).mean(axis=0), fl.passive_server_score),
    ("top_fraction",
     lambda u, t: np.where(np.isin(np.arange(len(u)), np.argsort(-np.abs(u))[:int(np.floor(t * len(u) + 1e-9))]),
                           u, 0.0),
     lambda u, t: np.where(np.isin(np.arange(len(u)), np.argsort(-u)[:int(np.floor(t * len(u) + 1e-9))]), u, 0.0),
     fl.top_fraction),
    ("ascent_direction",
     lambda g: (g / np.where(np.linalg.norm(g, axis=1, keepdims=True) > 0,
                             np.linalg.norm(g, axis=1, keepdims=True), 1)).sum(0),
     lambda g: g.sum(0) / max(np.linalg.norm(g.sum(0)), 1e-12), fl.ascent_direction),
])
def test_hidden_tests_pass_the_right_answer_fail_a_wrong_one_and_block_the_reference(exercise, right, wrong,
                                                                                       reference):
    assert hidden_test("nb06", exercise, right) is None
    with pytest.raises(HiddenTestFailed, match="wrong answer"):
        hidden_test("nb06", exercise, wrong)
    with pytest.raises(HiddenTestFailed, match="calls mialab's own implementation"):
        hidden_test("nb06", exercise, reference)
