"""mialab.attacks.signals: one signal matrix from a ModelStack, a list of torch models or a list of black boxes;
every attack function over signals has the SignalAttack shape (target_signals, ref_signals, in_mask=None, then
keyword-only options), and a new one not listed here fails."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import numpy as np
import pytest
import torch

import mialab.attacks
from mialab.attacks import augment, lira, rmia
from mialab.attacks.signals import KINDS, SignalAttack, leave_one_out, signals
from mialab.blackbox import BlackBox
from mialab.many_models import ModelStack

N, D, K, M = 40, 6, 3, 4


@pytest.fixture(scope="module")
def stack():
    """M random MLPs D-8-K as one ModelStack (no training: the signals only need answers)."""
    gen = torch.Generator().manual_seed(0)
    weights = [torch.randn(M, D, 8, generator=gen), torch.randn(M, 8, K, generator=gen)]
    biases = [torch.randn(M, 8, generator=gen), torch.randn(M, K, generator=gen)]
    return ModelStack(weights, biases)


@pytest.fixture(scope="module")
def records():
    rng = np.random.default_rng(0)
    return rng.normal(size=(N, D)).astype(np.float32), rng.integers(0, K, N)


@pytest.mark.parametrize("kind", KINDS)
def test_a_stack_a_list_of_models_and_a_list_of_black_boxes_give_the_same_matrix(stack, records, kind):
    X, y = records
    from_stack = signals(stack, X, y, kind=kind)
    from_models = signals([stack[j] for j in range(M)], X, y, kind=kind)
    from_boxes = signals([BlackBox(stack[j]) for j in range(M)], X, y, kind=kind)
    assert from_stack.shape == from_models.shape == from_boxes.shape == (N, M)
    assert from_stack.dtype == from_models.dtype == from_boxes.dtype == np.float64
    np.testing.assert_allclose(from_models, from_stack, rtol=1e-5, atol=1e-5)   # float32 matmuls: rounding only
    np.testing.assert_allclose(from_boxes, from_models, rtol=1e-12, atol=1e-12)


def test_black_boxes_count_their_queries_and_augmentation_adds_an_axis(stack, records):
    X, y = records
    X = np.abs(X[:, :4].repeat(16, axis=1))[:, :64]                            # 8x8 "images" for the shifts
    gen = torch.Generator().manual_seed(1)
    images = ModelStack([torch.randn(2, 64, K, generator=gen)], [torch.randn(2, K, generator=gen)])
    boxes = [BlackBox(images[j]) for j in range(2)]
    values = signals(boxes, X, y, augment=augment.shifted_copies)
    assert values.shape == (N, 2, 5)
    assert [box.n_queries for box in boxes] == [5 * N, 5 * N]
    np.testing.assert_allclose(values, signals(images, X, y, augment=augment.shifted_copies), rtol=1e-5, atol=1e-5)


def test_a_box_that_hides_probabilities_and_a_bad_list_are_refused(stack, records):
    X, y = records
    with pytest.raises(ValueError, match="probability vectors"):
        signals([BlackBox(stack[0], output="label")], X, y)
    with pytest.raises(TypeError, match=r"models\[1\]"):
        signals([stack[0], "a model"], X, y)
    with pytest.raises(TypeError, match="list of one"):
        signals(stack[0], X, y)
    with pytest.raises(TypeError, match="ModelStack"):
        signals([], X, y)


# --- the SignalAttack protocol ----------------------------------------------------------------------------------

SIGNAL_ATTACKS = {
    lira.lira_scores: {},
    lira.lira_online: {},
    lira.lira_offline: {},
    rmia.rmia_scores: {"population": True},
}
_FIRST = [p for p in inspect.signature(SignalAttack.__call__).parameters if p != "self"][:3]   # its positionals


def _public_functions_over_signals():
    for info in pkgutil.iter_modules(mialab.attacks.__path__):
        module = importlib.import_module(f"mialab.attacks.{info.name}")
        for name, func in vars(module).items():
            if inspect.isfunction(func) and not name.startswith("_") and func.__module__ == module.__name__:
                params = list(inspect.signature(func).parameters)
                if params[:1] == ["target_signals"]:
                    yield func


def test_every_function_over_signals_is_listed_here():
    missing = {f"{f.__module__}.{f.__name__}" for f in _public_functions_over_signals()} - \
        {f"{f.__module__}.{f.__name__}" for f in SIGNAL_ATTACKS}
    assert not missing, f"add these to SIGNAL_ATTACKS in tests/test_signals.py: {sorted(missing)}"


@pytest.mark.parametrize("attack", list(SIGNAL_ATTACKS), ids=lambda f: f.__name__)
def test_every_signal_attack_has_the_protocol_signature(attack):
    params = list(inspect.signature(attack).parameters.values())
    assert [p.name for p in params[:3]] == _FIRST
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in params[:3])
    assert params[2].default is None                                       # in_mask=None: every model OUT
    assert all(p.kind is p.KEYWORD_ONLY for p in params[3:]), "options after in_mask must be keyword-only"
    assert inspect.signature(attack).return_annotation in (np.ndarray, "np.ndarray")
    assert isinstance(attack, SignalAttack)


@pytest.mark.parametrize("attack", list(SIGNAL_ATTACKS), ids=lambda f: f.__name__)
def test_every_signal_attack_scores_each_record_through_leave_one_out(attack):
    rng = np.random.default_rng(0)
    in_mask = np.zeros((60, 6), bool)
    in_mask[np.arange(60)[:, None], np.argsort(rng.random((60, 6)), axis=1)[:, :3]] = True
    values = rng.uniform(0.05, 0.95, (60, 6)) + 0.04 * in_mask                 # probabilities, IN a bit higher
    population = rng.uniform(0.05, 0.95, (30, 6)) if SIGNAL_ATTACKS[attack].get("population") else None
    direct = attack(values[:, 0], values[:, 1:], in_mask[:, 1:], **(
        {} if population is None else dict(population_target_signals=population[:, 0],
                                           population_ref_signals=population[:, 1:])))
    assert direct.shape == (60,) and np.isfinite(direct).all()
    scores, is_member = leave_one_out(attack, values, in_mask, targets=[0], population=population)
    np.testing.assert_array_equal(scores[:, 0], direct)
    np.testing.assert_array_equal(is_member[:, 0], in_mask[:, 0])
