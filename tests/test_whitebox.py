"""White-box features (closed-form gradient norms against autograd) and the white-box attack."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mialab import data, metrics, models
from mialab.attacks.whitebox import (WhiteBoxAttack, feature_matrix, gradient_norms, last_layer_gradient_norm,
                                     record_gradient_norms, whitebox_features)
from mialab.blackbox import BlackBox
from _course import hidden_test
from mialab.checks.grading import HiddenTestFailed

pytestmark = pytest.mark.usefixtures("one_thread_module")


def _autograd(model, X, y):
    """Per-record loss and weight/bias gradient norms, one record at a time, with autograd in float64."""
    net = models.MLP(model.n_features, model.n_classes, hidden=model.hidden, activation=model.activation)
    net.load_state_dict(model.state_dict())
    net = net.double().eval()
    losses, weights, biases = [], [], []
    for x, label in zip(torch.from_numpy(X).double(), torch.from_numpy(y)):
        net.zero_grad()
        loss = F.cross_entropy(net(x[None]), label[None])
        loss.backward()
        losses.append(loss.item())
        weights.append([layer.weight.grad.norm().item() for layer in net.linear_layers()])
        biases.append([layer.bias.grad.norm().item() for layer in net.linear_layers()])
    return np.array(losses), np.array(weights), np.array(biases)


@pytest.fixture(scope="module")
def game():
    X, y = data.load_purchase(n_classes=10, n_records=3000, random_state=0)
    net = models.MLP(600, 10, hidden=(64,), random_state=0)
    models.train(net, X[:300], y[:300], epochs=30, random_state=0)
    return dict(X=X, y=y, net=net, cand=np.arange(600), is_member=np.arange(600) < 300)


@pytest.mark.parametrize("activation, hidden", [("tanh", (32,)), ("relu", (16, 8)), ("tanh", ())])
def test_closed_form_gradient_norms_equal_autograd_per_record(activation, hidden):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(25, 12)).astype(np.float32)
    y = rng.integers(5, size=25)
    model = models.MLP(12, 5, hidden=hidden, activation=activation, random_state=3)
    loss, weights, biases = _autograd(model, X, y)
    got = whitebox_features(model, X, y)
    np.testing.assert_allclose(got["loss"], loss, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got["gradient_norms"], weights, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got["bias_gradient_norms"], biases, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(record_gradient_norms(model, X, y),
                               np.sqrt((weights ** 2).sum(1) + (biases ** 2).sum(1)), rtol=1e-9)
    assert got["activation_norms"].shape == (25, len(hidden))


def test_closed_form_matches_autograd_on_the_trained_purchase_model(game):
    X, y = game["X"][:40], game["y"][:40]
    _, weights, _ = _autograd(game["net"], X, y)
    np.testing.assert_allclose(gradient_norms(game["net"], X, y), weights, rtol=1e-8, atol=1e-12)


def test_features_are_computed_in_batches_with_the_same_result(game, monkeypatch):
    from mialab.attacks import whitebox
    whole = whitebox_features(game["net"], game["X"][:100], game["y"][:100])
    monkeypatch.setattr(whitebox, "_MAX_BATCH", 7)
    parts = whitebox_features(game["net"], game["X"][:100], game["y"][:100])
    for name in whole:
        np.testing.assert_allclose(parts[name], whole[name], rtol=1e-12)


def test_last_layer_gradient_norm_is_the_closed_form_of_the_last_layer(game):
    net, X, y = game["net"], game["X"][:200], game["y"][:200]
    with torch.no_grad():
        hidden = torch.tanh(net.linear_layers()[0](torch.from_numpy(X))).double().numpy()
    probs = models.predict_proba(net, X)
    np.testing.assert_allclose(last_layer_gradient_norm(probs, y, hidden), gradient_norms(net, X, y)[:, -1],
                               rtol=1e-5)


def test_members_have_smaller_gradients_so_the_score_is_the_negative_norm(game):
    norms = gradient_norms(game["net"], game["X"][game["cand"]], game["y"][game["cand"]])
    assert metrics.auc(-norms[:, -1], game["is_member"]) > 0.75
    assert metrics.auc(norms[:, -1], game["is_member"]) < 0.25      # the sign error


def test_whitebox_attack_learns_from_shadows_and_scores_the_target(game):
    X, y = game["X"], game["y"]
    attack = WhiteBoxAttack(2, 300, recipe=dict(hidden=(64,), epochs=30), n_classes=10,
                            random_state=1).fit(X[600:], y[600:])
    scores = attack.score(game["net"], X[:600], y[:600])
    assert scores.shape == (600,)
    assert metrics.auc(scores, game["is_member"]) > 0.75
    with pytest.raises(TypeError, match="BlackBox"):
        attack.score(BlackBox(game["net"]), X[:600], y[:600])
    assert attack.predict(game["net"], X[:600], y[:600]).dtype == bool
    assert attack.needs == "weights"
    loss_only = WhiteBoxAttack(2, 300, groups="loss", n_classes=10).fit(X[600:], y[600:], shadows=attack.shadows_)
    assert abs(metrics.auc(loss_only.score(game["net"], X[:600], y[:600]), game["is_member"])
               - metrics.auc(-whitebox_features(game["net"], X[:600], y[:600])["loss"], game["is_member"])) < 1e-9


def test_feature_matrix_selects_and_logs_the_named_columns():
    f = {"loss": np.array([1.0, 2.0]), "gradient_norms": np.array([[1.0, 3.0], [2.0, 4.0]]),
         "activation_norms": np.array([[5.0], [6.0]])}
    np.testing.assert_allclose(feature_matrix(f, ("last_gradient", "loss")), np.log([[3.0, 1.0], [4.0, 2.0]]),
                               atol=1e-11)
    assert feature_matrix(f).shape == (2, 4)


def test_bad_inputs_get_clear_errors(game):
    from mialab.attacks.base import NotFittedError
    with pytest.raises(TypeError, match="MLP"):
        whitebox_features(models.SmallCNN(), np.zeros((2, 64)), [0, 1])
    with pytest.raises(ValueError, match=r"shape \(n, 600\)"):
        whitebox_features(game["net"], np.zeros((2, 5)), [0, 1])
    with pytest.raises(ValueError, match="groups"):
        WhiteBoxAttack(groups=("loss", "logits"))
    with pytest.raises(ValueError, match="n_shadows"):
        WhiteBoxAttack(n_shadows=0)
    with pytest.raises(NotFittedError):
        WhiteBoxAttack().score(game["net"], game["X"][:3], game["y"][:3])
    with pytest.raises(TypeError, match="ShadowModels"):
        WhiteBoxAttack(1, 300).fit(game["X"][:100], game["y"][:100], shadows="mine")
    with pytest.raises(ValueError, match="pool of at least"):
        WhiteBoxAttack(1, 300).fit(game["X"][:100], game["y"][:100])


def test_hidden_test_of_exercise_6_1_passes_the_right_answer_fails_a_wrong_one_and_blocks_the_reference():
    def right(probs, y, hidden):
        delta = probs.copy()
        delta[np.arange(len(y)), y] -= 1
        return np.linalg.norm(delta, axis=1) * np.linalg.norm(hidden, axis=1)

    def wrong(probs, y, hidden):       # the norm of p instead of p - e_y
        return np.linalg.norm(probs, axis=1) * np.linalg.norm(hidden, axis=1)

    assert hidden_test("nb06", "last_layer_gradient_norm", right) is None
    with pytest.raises(HiddenTestFailed, match="wrong answer"):
        hidden_test("nb06", "last_layer_gradient_norm", wrong)
    with pytest.raises(HiddenTestFailed, match="calls mialab's own implementation"):
        hidden_test("nb06", "last_layer_gradient_norm", last_layer_gradient_norm)
