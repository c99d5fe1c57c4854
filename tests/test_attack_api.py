"""Every attack class has the one shape of mialab.attacks.base.Attack: fit -> self, score -> (n,) floats,
predict from a fitted threshold_, one not-fitted error, a label-only target refused where probabilities are
needed, and the same scores under the same random_state. A new Attack subclass not listed here fails."""

from __future__ import annotations

import importlib
import pkgutil

import numpy as np
import pytest

import mialab.attacks
from mialab import data, generative_models
from mialab.attacks.base import Attack, NotFittedError
from mialab.attacks.label_only import BoundaryDistanceAttack, GapAttack, NoiseRobustnessAttack
from mialab.attacks.lira import LiRA
from mialab.attacks.loss import CorrectnessAttack, LossAttack
from mialab.attacks.calibrated import MetricAttack
from mialab.attacks.generative import (DiscriminatorAttack, LoganBlackBoxAttack, MonteCarloAttack,
                                      NearestSampleAttack, ReconstructionAttack)
from mialab.attacks.mlleaks import MLLeaksAttack, ThresholdAttack, TransferAttack, noise_records
from mialab.attacks.rmia import RMIA
from mialab.attacks.whitebox import WhiteBoxAttack
from mialab.attacks.shadow import ShadowAttack
from mialab.blackbox import BlackBox
from mialab.models import MLP, train

RECIPE = dict(hidden=(16,), epochs=3, batch_size=32)
K = 10


def _pool_fit(attack, world):
    return attack.fit(world["X_pool"], world["y_pool"])


def _model_fit(attack, world):
    return attack.fit(world["X_pool"], world["y_pool"], n_classes=K)


def _noise_fit(attack, world):
    return attack.fit(world["target"], noise_records(50, world["X_pool"].shape[1], random_state=0))


def _no_fit(attack, world):
    return attack.fit()


# class -> (make an unfitted instance from a cache folder, fit it[, the setting whose target and records it
# attacks: "purchase" (a BlackBox over a purchase MLP, the default), "weights" (that MLP itself, white-box),
# "vae" or "gan" (the generative model itself, white-box), "samples" (a VAE's generated samples)])
ATTACKS = {
    ShadowAttack: (lambda tmp: ShadowAttack(2, 100, n_classes=K, recipe=RECIPE), _pool_fit),
    MLLeaksAttack: (lambda tmp: MLLeaksAttack(1, 100, recipe=RECIPE), _pool_fit),
    TransferAttack: (lambda tmp: TransferAttack(1, 100, recipe=RECIPE), _pool_fit),
    ThresholdAttack: (lambda tmp: ThresholdAttack(), _noise_fit),
    LossAttack: (lambda tmp: LossAttack(n_shadows=1, train_size=100, recipe=RECIPE), _pool_fit),
    CorrectnessAttack: (lambda tmp: CorrectnessAttack(), _no_fit),
    GapAttack: (lambda tmp: GapAttack(), _no_fit),
    NoiseRobustnessAttack: (lambda tmp: NoiseRobustnessAttack(n_copies=4), _no_fit),
    BoundaryDistanceAttack: (lambda tmp: BoundaryDistanceAttack(max_queries=40, n_directions=5), _no_fit),
    MetricAttack: (lambda tmp: MetricAttack(n_shadows=2, train_size=100, recipe=RECIPE), _pool_fit),
    LiRA: (lambda tmp: LiRA(4, online=False, fix_variance=True, recipe=RECIPE, cache_dir=tmp), _model_fit),
    RMIA: (lambda tmp: RMIA(2, n_population=100, recipe=RECIPE, cache_dir=tmp), _model_fit),
    WhiteBoxAttack: (lambda tmp: WhiteBoxAttack(2, 100, n_classes=K, recipe=dict(RECIPE, hidden=(32,))),
                     _pool_fit, "weights"),
    DiscriminatorAttack: (lambda tmp: DiscriminatorAttack(), _no_fit, "gan"),
    ReconstructionAttack: (lambda tmp: ReconstructionAttack(n_draws=3), _no_fit, "vae"),
    MonteCarloAttack: (lambda tmp: MonteCarloAttack(n_components=5), _no_fit, "samples"),
    NearestSampleAttack: (lambda tmp: NearestSampleAttack(), _no_fit, "samples"),
    LoganBlackBoxAttack: (lambda tmp: LoganBlackBoxAttack(steps=20, n_train=50), _no_fit, "samples"),
}


def _spec(cls):
    make, fit, *setting = ATTACKS[cls]
    return make, fit, (setting[0] if setting else "purchase")


def _all_attack_classes():
    for info in pkgutil.iter_modules(mialab.attacks.__path__):
        importlib.import_module(f"mialab.attacks.{info.name}")
    found, todo = set(), [Attack]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("mialab.attacks") and sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


@pytest.fixture(scope="module")
def world():
    X, y = data.load_purchase(n_classes=K, n_records=2000, random_state=0)
    model = train(MLP(600, K, hidden=(32,), random_state=0), X[:200], y[:200], epochs=20, random_state=0)
    digits, _ = data.load_digits()
    digits = digits[:120] / digits.max()
    vae = generative_models.train_vae(digits[:60], latent=2, hidden=16, steps=20)
    gan = generative_models.train_gan(digits[:60], latent=2, hidden=16, steps=20)
    purchase = {"X": np.concatenate([X[:30], X[1500:1530]]), "y": np.concatenate([y[:30], y[1500:1530]]),
                "target": BlackBox(model, output="probabilities")}
    images = {"X": digits[30:90], "y": None}
    return {"X_pool": X[400:900], "y_pool": y[400:900], "model": model, "target": purchase["target"],
            "purchase": purchase, "weights": dict(purchase, target=model),
            "vae": dict(images, target=vae), "gan": dict(images, target=gan),
            "samples": dict(images, target=generative_models.sample(vae, 200))}


def test_every_attack_class_is_listed_here():
    missing = {cls.__name__ for cls in _all_attack_classes()} - {cls.__name__ for cls in ATTACKS}
    assert not missing, f"add these attack classes to ATTACKS in tests/test_attack_api.py: {sorted(missing)}"


def test_the_package_index_names_every_attack():
    assert {cls.__name__ for cls in ATTACKS} <= set(mialab.attacks.__all__)


@pytest.mark.parametrize("cls", list(ATTACKS), ids=lambda cls: cls.__name__)
def test_fit_returns_self_and_score_is_one_float_per_record(cls, world, tmp_path):
    make, fit, setting = _spec(cls)
    case = world[setting]
    attack = make(tmp_path)
    assert fit(attack, world) is attack
    scores = attack.score(case["target"], case["X"], case["y"])
    assert isinstance(scores, np.ndarray) and scores.shape == (len(case["X"]),)
    assert scores.dtype.kind == "f" and np.isfinite(scores).all()
    if getattr(attack, "threshold_", None) is None:       # scores that rank records with no natural cut
        with pytest.raises(NotFittedError, match="no decision threshold.*choose_threshold"):
            attack.predict(case["target"], case["X"], case["y"])
        attack.threshold_ = float(np.median(scores))
    called = attack.predict(case["target"], case["X"], case["y"])
    assert called.shape == scores.shape and called.dtype == bool
    np.testing.assert_array_equal(called, scores >= attack.threshold_)


@pytest.mark.parametrize("cls", [cls for cls in ATTACKS if cls._fitted], ids=lambda cls: cls.__name__)
def test_an_unfitted_attack_raises_the_one_not_fitted_error(cls, world, tmp_path):
    make, _, setting = _spec(cls)
    case = world[setting]
    with pytest.raises(NotFittedError, match=rf"this {cls.__name__} is not fitted yet.*fit"):
        make(tmp_path).predict(case["target"], case["X"], case["y"])


@pytest.mark.parametrize("cls", [cls for cls in ATTACKS if cls.needs in ("probabilities", "scores")],
                         ids=lambda cls: cls.__name__)
def test_a_label_only_target_is_refused_where_the_attack_needs_more(cls, world, tmp_path):
    make, fit, _ = _spec(cls)
    attack = fit(make(tmp_path), world)
    with pytest.raises(ValueError, match="label"):
        attack.score(BlackBox(world["model"], output="label"), world["purchase"]["X"], world["purchase"]["y"])


@pytest.mark.parametrize("cls", [cls for cls in ATTACKS if cls.needs == "labels"], ids=lambda cls: cls.__name__)
def test_a_label_only_target_is_enough_for_label_attacks(cls, world, tmp_path):
    make, fit, _ = _spec(cls)
    case = world["purchase"]
    scores = fit(make(tmp_path), world).score(BlackBox(world["model"], output="label"), case["X"], case["y"])
    assert scores.shape == (len(case["X"]),)


@pytest.mark.parametrize("cls", [cls for cls in ATTACKS if cls.needs in ("weights", "samples")],
                         ids=lambda cls: cls.__name__)
def test_a_white_box_or_sample_attack_refuses_a_black_box(cls, world, tmp_path):
    make, fit, setting = _spec(cls)
    with pytest.raises((TypeError, ValueError)):
        fit(make(tmp_path), world).score(world["target"], world[setting]["X"], world[setting]["y"])


@pytest.mark.parametrize("cls", list(ATTACKS), ids=lambda cls: cls.__name__)
def test_the_same_random_state_gives_the_same_scores(cls, world, tmp_path):
    make, fit, setting = _spec(cls)
    case = world[setting]
    first = fit(make(tmp_path / "a"), world).score(case["target"], case["X"], case["y"])
    second = fit(make(tmp_path / "b"), world).score(case["target"], case["X"], case["y"])
    np.testing.assert_array_equal(first, second)
