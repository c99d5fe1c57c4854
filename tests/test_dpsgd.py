"""mialab.defenses.dpsgd: the hand-written step equals Opacus's; the accountant; training; the DP bounds."""

import math
import warnings

import numpy as np
import pytest

from mialab import data, models
from mialab.defenses import dpsgd

pytestmark = pytest.mark.usefixtures("one_thread_module")


def _tiny(seed=0, n=10):
    rng = np.random.default_rng(seed)
    model = models.MLP(6, 3, hidden=(5,), random_state=seed)
    return model, rng.normal(size=(n, 6)).astype(np.float32), rng.integers(0, 3, size=n)


@pytest.mark.parametrize("C", [0.01, 0.3, 1.0, 100.0])
def test_hand_written_step_equals_opacus_without_noise(C):
    model, X, y = _tiny()
    grads = dpsgd.per_example_gradients(model, X, y)
    by_hand = dpsgd.dp_sgd_step(grads, C, 0.0, 0.5, np.zeros(grads.shape[1]))
    assert np.allclose(by_hand, dpsgd.opacus_step(model, X, y, max_grad_norm=C, lr=0.5), atol=1e-6)
    assert np.linalg.norm(by_hand) <= 0.5 * C + 1e-9


def test_no_clipping_and_no_noise_is_plain_sgd():
    model, X, y = _tiny(1)
    grads = dpsgd.per_example_gradients(model, X, y)
    assert np.allclose(dpsgd.dp_sgd_step(grads, math.inf, 0.0, 0.1, np.zeros(grads.shape[1])),
                       -0.1 * grads.mean(axis=0))
    assert np.allclose(dpsgd.opacus_step(model, X, y, max_grad_norm=1e9, lr=0.1), -0.1 * grads.mean(axis=0),
                       atol=1e-7)


def test_per_example_gradients_sum_to_the_batch_gradient():
    import torch
    import torch.nn.functional as F
    model, X, y = _tiny(2)
    grads = dpsgd.per_example_gradients(model, X, y)
    model.zero_grad()
    F.cross_entropy(model(torch.from_numpy(X)), torch.from_numpy(y)).backward()
    batch = torch.cat([p.grad.reshape(-1) for p in model.parameters()]).numpy()
    assert np.allclose(grads.mean(axis=0), batch, atol=1e-6)


def test_opacus_noise_has_the_stated_spread():
    """With all gradients clipped to ~0 (C tiny), the update is the noise: std lr * sigma * C / B per parameter."""
    model, X, y = _tiny(3, n=4)
    update = dpsgd.opacus_step(model, X, y, max_grad_norm=1.0, noise_multiplier=2.0, lr=1.0, random_state=5)
    grads = dpsgd.per_example_gradients(model, X, y)
    signal = dpsgd.dp_sgd_step(grads, 1.0, 0.0, 1.0, np.zeros(grads.shape[1]))
    noise = update - signal
    assert abs(noise.std() - 2.0 / 4) < 0.1


def test_accountant_round_trip():
    sigma = dpsgd.noise_multiplier_for(8.0, sample_rate=0.1, epochs=15)
    assert 0.5 < sigma < 3
    assert dpsgd.epsilon_spent(sigma, sample_rate=0.1, steps=150) == pytest.approx(8.0, rel=0.02)
    assert dpsgd.noise_multiplier_for(1.0, sample_rate=0.1, epochs=15) > sigma


def test_train_dpsgd_reaches_its_epsilon_is_repeatable_and_warns_nothing():
    X, y = data.load_purchase(n_classes=10)
    X, y = X[:600], y[:600]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = dpsgd.train_dpsgd(models.MLP(600, 10, hidden=(32,)), X[:300], y[:300], epsilon=4.0, epochs=3,
                              batch_size=60)
    b = dpsgd.train_dpsgd(models.MLP(600, 10, hidden=(32,)), X[:300], y[:300], epsilon=4.0, epochs=3, batch_size=60)
    assert a.privacy_["epsilon"] == pytest.approx(4.0, rel=0.05)
    assert a.privacy_["steps"] == 15 and a.privacy_["delta"] == 1e-5
    assert all(np.array_equal(p.detach().numpy(), q.detach().numpy()) for p, q in zip(a.parameters(), b.parameters()))
    assert not a.training and all(p.grad is None for p in a.parameters())
    assert type(a) is models.MLP and not hasattr(a, "_module")
    assert models.accuracy(a, X[300:], y[300:]) > 0.15      # it learned something (chance is 0.1)


@pytest.mark.parametrize("n, batch_size", [(100, 30), (100, 45), (97, 10), (50, 49)])
def test_the_rate_accounted_recorded_and_run_is_the_same_when_batch_size_does_not_divide_n(n, batch_size):
    """Opacus's Poisson loader samples at 1 / ceil(n / batch_size); the privacy record must say that rate, and
    Opacus's own accountant, given the record, must give back the target epsilon."""
    import torch
    from opacus.accountants import RDPAccountant
    from opacus.data_loader import DPDataLoader
    model, X, y = _tiny(4, n=n)
    dpsgd.train_dpsgd(model, X, y, epsilon=4.0, epochs=2, batch_size=batch_size)
    record = model.privacy_
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
    run = DPDataLoader.from_data_loader(torch.utils.data.DataLoader(dataset, batch_size=batch_size)).sample_rate
    assert record["sample_rate"] == pytest.approx(run, rel=1e-12)
    assert record["steps"] == 2 * math.ceil(n / batch_size)
    accountant = RDPAccountant()
    accountant.history = [(record["noise_multiplier"], record["sample_rate"], record["steps"])]
    recomputed = accountant.get_epsilon(delta=record["delta"])
    assert recomputed == pytest.approx(record["epsilon"], rel=1e-9)
    assert 4.0 - 0.02 <= recomputed <= 4.0


def test_opacus_step_takes_a_trained_model_and_leaves_it_alone():
    """models.train returns its model in eval mode; the step must still run (on a copy put in training mode)."""
    model, X, y = _tiny(5)
    trained = models.train(model, X, y, epochs=2)
    assert not trained.training
    before = [p.detach().clone() for p in trained.parameters()]
    update = dpsgd.opacus_step(trained, X, y, max_grad_norm=1.0, lr=0.5)
    grads = dpsgd.per_example_gradients(trained, X, y)
    assert np.allclose(update, dpsgd.dp_sgd_step(grads, 1.0, 0.0, 0.5, np.zeros(grads.shape[1])), atol=1e-6)
    assert not trained.training and all((p == q).all() for p, q in zip(trained.parameters(), before))


def test_more_noise_means_lower_accuracy():
    X, y = data.load_purchase(n_classes=10)
    acc = {}
    for sigma in (0.3, 20.0):
        net = dpsgd.train_dpsgd(models.MLP(600, 10, hidden=(32,)), X[:1000], y[:1000], noise_multiplier=sigma,
                                epochs=5, batch_size=100)
        acc[sigma] = models.accuracy(net, X[1000:2000], y[1000:2000])
    assert acc[0.3] > acc[20.0] + 0.1


def test_bounds():
    assert dpsgd.yeom_bound(0.0) == 0.0
    assert dpsgd.yeom_bound(math.log(1.5)) == pytest.approx(0.5)
    assert dpsgd.yeom_bound(1000.0) == 1.0
    assert dpsgd.tpr_bound(0.01, 1.0) == pytest.approx(math.e * 0.01)
    assert dpsgd.tpr_bound(0.01, 0.0) == pytest.approx(0.01)
    assert dpsgd.tpr_bound(0.5, 50.0) == 1.0
    fpr = np.linspace(0, 1, 11)
    assert np.all(np.diff(dpsgd.tpr_bound(fpr, 2.0, 1e-5)) >= 0)


def test_empirical_epsilon_inverts_the_bound():
    for eps in (0.5, 1.0, 3.0):
        fpr = 0.01
        tpr = dpsgd.tpr_bound(fpr, eps)
        assert dpsgd.empirical_epsilon(tpr, fpr) == pytest.approx(eps)
    assert dpsgd.empirical_epsilon(0.2, 0.3) == 0.0
    assert dpsgd.empirical_epsilon(0.5, 0.0) == math.inf
    assert dpsgd.empirical_epsilon(0.99, 0.5) == pytest.approx(math.log(50))


def test_empirical_epsilon_ci_is_below_the_point_estimate():
    point = dpsgd.empirical_epsilon(0.5, 0.01)
    audit = dpsgd.empirical_epsilon_ci(1250, 2500, 25, 2500)
    assert 0 < audit < point
    assert dpsgd.empirical_epsilon_ci(0, 100, 0, 100) == 0.0


@pytest.mark.parametrize("call, match", [
    (lambda: dpsgd.dp_sgd_step(np.zeros(3), 1.0, 0.0, 0.1, np.zeros(3)), "shape \\(B, d\\)"),
    (lambda: dpsgd.dp_sgd_step(np.zeros((2, 3)), 0.0, 0.0, 0.1, np.zeros(3)), "max_grad_norm"),
    (lambda: dpsgd.dp_sgd_step(np.zeros((2, 3)), 1.0, -1.0, 0.1, np.zeros(3)), "noise_multiplier"),
    (lambda: dpsgd.dp_sgd_step(np.zeros((2, 3)), 1.0, 0.0, 0.1, np.zeros(2)), "noise"),
    (lambda: dpsgd.noise_multiplier_for(-1.0, sample_rate=0.1, epochs=1), "epsilon"),
    (lambda: dpsgd.noise_multiplier_for(1.0, delta=0.0, sample_rate=0.1, epochs=1), "delta"),
    (lambda: dpsgd.train_dpsgd(models.MLP(6, 3), np.zeros((10, 6)), np.zeros(10, int)), "exactly one"),
    (lambda: dpsgd.train_dpsgd(models.MLP(6, 3), np.zeros((10, 6)), np.zeros(10, int), epsilon=1.0,
                               batch_size=20), "batch_size"),
    (lambda: dpsgd.train_dpsgd(models.MLP(6, 3), np.zeros((10, 6)), np.zeros(10, int), epsilon=1.0,
                               max_grad_norm=math.inf), "finite"),
    (lambda: dpsgd.train_dpsgd("model", np.zeros((10, 6)), np.zeros(10, int), epsilon=1.0), "torch module"),
    (lambda: dpsgd.train_dpsgd(models.MLP(6, 3), np.zeros((10, 6)), np.zeros(10, int), epsilon=1.0,
                               batch_size=5, optimizer="rmsprop"), "optimizer"),
    (lambda: dpsgd.empirical_epsilon(1.5, 0.1), "tpr"),
    (lambda: dpsgd.tpr_bound(0.1, -1.0), "epsilon"),
    (lambda: dpsgd.empirical_epsilon_ci(5, 4, 0, 10), "exceed"),
])
def test_bad_input_gets_a_clear_error(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
