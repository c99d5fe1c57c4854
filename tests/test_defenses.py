"""mialab.defenses: RelaxLoss, adversarial regularisation, distillation, MemGuard-style softening, and the
notebook 11 checks and hidden tests."""

import math
import warnings

import numpy as np
import pytest
import torch

from mialab import data, metrics, models
from mialab.attacks.loss import LossAttack
from mialab.blackbox import BlackBox
from mialab.checks import CheckError, NotDoneError, nb11
from _course import hidden_test
from mialab.checks.grading import HiddenTestFailed
from mialab.defenses import adversarial, distillation, dpsgd, memguard, relaxloss

pytestmark = pytest.mark.usefixtures("one_thread_module")

N = 400


@pytest.fixture(scope="module")
def game():
    """Purchase-20, 400 members, 400 non-members, 400 reference records; a small overfit MLP."""
    X, y = data.load_purchase(n_classes=20)
    g = dict(X_in=X[:N], y_in=y[:N], X_out=X[N:2 * N], y_out=y[N:2 * N], X_ref=X[2 * N:3 * N], y_ref=y[2 * N:3 * N])
    g["none"] = models.train(models.MLP(600, 20, hidden=(64,)), g["X_in"], g["y_in"], epochs=30)
    return g


def _loss_auc(model, g):
    box = BlackBox(model)
    scores = LossAttack(expected_loss=1.0).score(box, np.concatenate([g["X_in"], g["X_out"]]),
                                                 np.concatenate([g["y_in"], g["y_out"]]))
    return metrics.auc(scores, np.arange(2 * N) < N)


# --- RelaxLoss ---------------------------------------------------------------------------------------------

def test_relaxloss_objective_branches():
    logits = np.array([[2.0, 0.0, -1.0], [0.5, 1.5, 0.0]])
    y = np.array([0, 1])
    loss = relaxloss.relaxloss_objective(logits, y, 0.01, 0)
    assert loss == pytest.approx(float(torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(y))))
    assert relaxloss.relaxloss_objective(logits, y, 5.0, 4) == pytest.approx(-loss)
    flat = relaxloss.relaxloss_objective(logits, y, 5.0, 3)
    assert flat > loss     # soft labels put mass on the wrong classes, which the model gives little probability


def test_posterior_flattening_gradient_keeps_the_true_class_and_evens_out_the_rest():
    logits = torch.tensor([[3.0, 1.0, -2.0, 0.0]], requires_grad=True)
    relaxloss.relaxloss(logits, torch.tensor([0]), 100.0, 1).backward()
    p = torch.softmax(logits, 1).detach()
    grad = logits.grad[0]
    assert abs(grad[0]) < 1e-6                              # p_y is its own target
    assert grad[1] > 0 and grad[2] < 0                      # the largest wrong class goes down, the smallest up
    assert float(p[0, 1]) > float(p[0, 2])


def test_relaxloss_keeps_the_training_loss_near_alpha_and_leaks_less(game):
    net = relaxloss.train_relaxloss(models.MLP(600, 20, hidden=(64,)), game["X_in"], game["y_in"], alpha=1.0)
    train_loss = float(np.mean(-np.log(models.predict_proba(net, game["X_in"])[np.arange(N), game["y_in"]])))
    assert 0.5 < train_loss < 1.6
    assert _loss_auc(net, game) < _loss_auc(game["none"], game) - 0.05


# --- adversarial regularisation, distillation ------------------------------------------------------------------

def test_adversarial_regularisation_leaks_less_and_lam_zero_is_plain_training(game):
    reg = adversarial.train_adversarial(models.MLP(600, 20, hidden=(64,)), game["X_in"], game["y_in"], game["X_ref"],
                                        game["y_ref"], lam=3.0)
    assert isinstance(reg.inference_model_, adversarial.InferenceModel)
    assert _loss_auc(reg, game) < _loss_auc(game["none"], game) - 0.01
    plain = adversarial.train_adversarial(models.MLP(600, 20, hidden=(64,)), game["X_in"], game["y_in"],
                                          game["X_ref"], game["y_ref"], lam=0.0)
    assert models.accuracy(plain, game["X_in"], game["y_in"]) > 0.95


def test_distillation_student_never_sees_members_and_leaks_less(game):
    student = distillation.train_distilled(game["none"], models.MLP(600, 20, hidden=(64,)), game["X_ref"])
    agree = np.mean(models.predict(student, game["X_ref"]) == models.predict(game["none"], game["X_ref"]))
    assert agree > 0.9
    assert _loss_auc(student, game) < _loss_auc(game["none"], game) - 0.05


# --- MemGuard-style ------------------------------------------------------------------------------------------

def test_cap_confidence_keeps_labels_sums_and_caps():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.full(7, 0.2), size=200)
    out = memguard.cap_confidence(p, 0.4)
    assert np.allclose(out.sum(1), 1) and (out.argmax(1) == p.argmax(1)).all()
    assert (out.max(1) <= 0.4 + 1e-12).all()
    low = p.max(1) <= 0.4
    assert np.allclose(out[low], p[low])


def test_memguard_keeps_labels_fools_its_own_attack_and_not_the_label_only_one(game):
    guarded = memguard.MemGuard(game["none"]).fit(game["X_in"], game["X_ref"])
    X = np.concatenate([game["X_in"], game["X_out"]])
    raw, out = models.predict_proba(game["none"], X), guarded.predict_proba(X)
    assert np.allclose(out.sum(1), 1) and (out.argmax(1) == raw.argmax(1)).all()
    assert np.mean(guarded.defender_scores(out) <= 0.5 + 1e-9) > 0.95
    assert _loss_auc(guarded, game) < _loss_auc(game["none"], game)
    assert np.array_equal(BlackBox(guarded, output="label").query(X), BlackBox(game["none"], output="label").query(X))


def test_memguard_refuses_to_answer_before_fit(game):
    with pytest.raises(RuntimeError, match="fit"):
        memguard.MemGuard(game["none"]).predict_proba(game["X_in"][:3])


@pytest.mark.parametrize("call, match", [
    (lambda: relaxloss.relaxloss_objective(np.zeros((2, 3)), [0, 1], 0.0, 0), "alpha"),
    (lambda: relaxloss.relaxloss_objective(np.zeros((2, 3)), [0, 1], 1.0, -1), "epoch"),
    (lambda: relaxloss.relaxloss_objective(np.zeros((2, 3)), [0, 5], 1.0, 0), "y"),
    (lambda: relaxloss.train_relaxloss("net", np.zeros((4, 3)), [0, 1, 0, 1]), "torch module"),
    (lambda: memguard.cap_confidence(np.full((2, 4), 0.25), 0.2), "cap"),
    (lambda: memguard.soften(np.full((2, 4), 0.25), 1.5), "t"),
    (lambda: adversarial.train_adversarial(models.MLP(6, 2), np.zeros((4, 6)), [0, 1, 0, 1], np.zeros((4, 5)),
                                           [0, 1, 0, 1]), "X_reference"),
    (lambda: distillation.train_distilled(models.MLP(6, 2), models.MLP(6, 2), np.zeros((4, 6)), temperature=0),
     "temperature"),
])
def test_bad_input_gets_a_clear_error(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


# --- notebook 11 checks and hidden tests ------------------------------------------------------------------------

def _relax(logits, y, alpha, epoch):
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    rows = np.arange(len(y))
    loss = -log_p[rows, y].mean()
    if loss >= alpha:
        return loss
    if epoch % 2 == 0:
        return -loss
    p_y = np.exp(log_p[rows, y])
    soft = np.repeat(((1 - p_y) / (logits.shape[1] - 1))[:, None], logits.shape[1], axis=1)
    soft[rows, y] = p_y
    return -(soft * log_p).sum(axis=1).mean()


def _cap(probs, cap):
    k = probs.shape[1]
    top = probs.max(axis=1)
    t = np.where(top > cap, (top - cap) / (top - 1 / k), 0.0)
    return (1 - t[:, None]) * probs + t[:, None] / k


def _step(g, C, sigma, lr, noise):
    factor = np.minimum(1.0, C / (np.linalg.norm(g, axis=1) + 1e-12))
    total = (factor[:, None] * g).sum(axis=0) + (sigma * C * noise if sigma > 0 else 0)
    return -lr * total / len(g)


def _eps(tpr, fpr, delta):
    best = 0.0
    for num, den in ((tpr - delta, fpr), (1 - delta - fpr, 1 - tpr)):
        if num > 0:
            best = max(best, math.inf if den == 0 else math.log(num / den))
    return best


RIGHT = {"relaxloss_objective": _relax, "cap_confidence": _cap, "dp_sgd_step": _step, "empirical_epsilon": _eps}
WRONG = {
    "relaxloss_objective": lambda logits, y, alpha, epoch: _relax(logits, y, alpha, epoch + 1),
    "cap_confidence": lambda p, cap: np.minimum(p, cap) / np.minimum(p, cap).sum(1, keepdims=True),
    "dp_sgd_step": lambda g, C, sigma, lr, noise: _step(g, C, sigma, lr, noise) * len(g) / (len(g) + 1),
    "empirical_epsilon": lambda tpr, fpr, delta: math.log(max(tpr - delta, 1e-12) / fpr) if tpr > fpr else 0.0,
}
REFERENCE = {
    "relaxloss_objective": lambda logits, y, alpha, epoch: relaxloss.relaxloss_objective(logits, y, alpha, epoch),
    "cap_confidence": lambda p, cap: memguard.cap_confidence(p, cap),
    "dp_sgd_step": lambda g, C, sigma, lr, noise: dpsgd.dp_sgd_step(g, C, sigma, lr, noise),
    "empirical_epsilon": lambda tpr, fpr, delta: dpsgd.empirical_epsilon(tpr, fpr, delta),
}
CHECKS = {"relaxloss_objective": nb11.check_relaxloss_objective, "cap_confidence": nb11.check_cap_confidence,
          "dp_sgd_step": nb11.check_dp_sgd_step, "empirical_epsilon": nb11.check_empirical_epsilon}


@pytest.mark.parametrize("exercise", list(RIGHT))
def test_hidden_tests_pass_the_right_answer_fail_a_wrong_one_and_block_the_reference(exercise):
    assert hidden_test("nb11", exercise, RIGHT[exercise]) is None
    with pytest.raises(HiddenTestFailed, match="wrong answer"):
        hidden_test("nb11", exercise, WRONG[exercise])
    with pytest.raises(HiddenTestFailed, match="calls mialab's own implementation"):
        hidden_test("nb11", exercise, REFERENCE[exercise])


@pytest.mark.parametrize("exercise", list(RIGHT))
def test_checks_pass_the_right_answer_and_fail_a_wrong_one_or_the_reference(exercise, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CHECKS[exercise](RIGHT[exercise])
    assert "✅" in capsys.readouterr().out
    with pytest.raises(CheckError):
        CHECKS[exercise](WRONG[exercise])
    with pytest.raises(CheckError, match="calls mialab's own implementation"):
        CHECKS[exercise](REFERENCE[exercise])


def test_checks_say_not_done_for_a_blank_exercise():
    def blank(*args):
        raise NotImplementedError()

    for check in CHECKS.values():
        with pytest.raises(NotDoneError):
            check(blank)


def test_sign_error_in_dp_step_gets_the_hint(capsys):
    with pytest.raises(CheckError):
        nb11.check_dp_sgd_step(lambda g, C, s, lr, z: -_step(g, C, s, lr, z))
    assert "Hint" in capsys.readouterr().out
