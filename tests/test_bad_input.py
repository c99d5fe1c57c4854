"""Bad input to the package's public functions: one table per module, each row a call that must fail at once
with an error that names what was wrong (scikit-learn's style). A new public function joins its module's table.
The rows include every case the hardening review (issue 11) found slipping through."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mialab import _validation, blackbox, cache, data, download, metrics, models, recipe, threads
from mialab.attacks import calibrated, label_only, lira, mlleaks, rmia, shadow, signals
from mialab.attacks.label_only import GapAttack, NoiseRobustnessAttack
from mialab.attacks.loss import CorrectnessAttack, LossAttack
from mialab.blackbox import BlackBox
from mialab.many_models import ModelStack, train_many

X4 = np.zeros((6, 4), np.float32)
Y3 = np.array([0, 1, 2, 0, 1, 2])
MASKS = np.array([[True, False]] * 3 + [[False, True]] * 3)


def _nan_model():
    model = models.MLP(4, 3, hidden=(2,))
    with torch.no_grad():
        model.net[0].weight[0, 0] = float("nan")
    return model


def _labels_box():
    class LabelsOnly:
        """A duck-typed target that answers labels where probabilities are needed."""
        output = "probabilities"

        def query(self, X):
            return np.zeros(len(X), np.int64)
    return LabelsOnly()


# (call, exception, message pattern)
VALIDATION = [
    (lambda: _validation.check_seed(-1), ValueError, "random_state.*between 0 and 2\\*\\*63"),
    (lambda: _validation.check_seed(2 ** 70), ValueError, "random_state"),
    (lambda: _validation.check_seed(np.random.default_rng(0)), TypeError, "Generator"),
    (lambda: _validation.check_random_state(-1), ValueError, "random_state"),
    (lambda: _validation.check_scalar("a", "lr"), TypeError, "`lr` must be a number"),
    (lambda: _validation.check_scalar(float("inf"), "gamma"), ValueError, "`gamma` must be a finite"),
    (lambda: _validation.check_scalar(0, "n", int, low=0, closed="neither"), ValueError, "`n` must be .* > 0"),
    (lambda: _validation.check_choice(["tanh"], "activation", {"tanh": 1}), ValueError, "activation"),
    (lambda: _validation.check_choice(np.array(["a", "b"]), "metric", ("a",)), ValueError, "metric"),
    (lambda: _validation.as_bool_mask(np.zeros((3, 0), bool), "in_mask"), ValueError, "nothing in it"),
    (lambda: _validation.as_bool_mask([[0, 2]], "in_mask"), ValueError, "booleans"),
    (lambda: _validation.as_labels([0, 5], n_classes=3), ValueError, "labels from 0 to 2 \\(3 classes\\)"),
    (lambda: _validation.check_memory(1e18, "these arrays", "lower n"), MemoryError, "GiB.*lower n"),
]

MODELS = [
    (lambda: models.MLP(4, 3, activation=["tanh"]), ValueError, "activation"),
    (lambda: models.MLP(4, 3, random_state=-1), ValueError, "random_state"),
    (lambda: models.MLP(4, 3, random_state=2 ** 70), ValueError, "random_state"),
    (lambda: models.MLP(10 ** 12, 3), MemoryError, "lower n_features"),
    (lambda: models.train(models.MLP(4, 3), X4, Y3, lr=1e300), ValueError, "lr"),
    (lambda: models.train(models.MLP(4, 3), X4, Y3, weight_decay=1e300), ValueError, "weight_decay"),
    (lambda: models.train(models.MLP(4, 3), X4, Y3, random_state=2 ** 70), ValueError, "random_state"),
    (lambda: train_many(X4, Y3, MASKS, hidden="abc"), ValueError, "hidden"),
    (lambda: train_many(X4, Y3, MASKS, lr=None), ValueError, "lr"),
    (lambda: train_many(X4, Y3, MASKS, random_state=-1), ValueError, "random_state"),
    (lambda: ModelStack([], []), ValueError, "non-empty"),
    (lambda: ModelStack([torch.zeros(2, 4, 3)], [torch.zeros(3, 3)]), ValueError, "layer 0"),
    (lambda: recipe.TrainingRecipe(hidden="abc"), TypeError, "hidden"),
    (lambda: recipe.TrainingRecipe(activation=["tanh"]), TypeError, "activation"),
    (lambda: recipe.TrainingRecipe(lr=None), TypeError, "lr"),
    (lambda: recipe.as_recipe({"epoch": 3}), TypeError, "unknown fields"),
    (lambda: threads.set_torch_threads(0), ValueError, "threads"),
]

DATA = [
    (lambda: data.target_shadow_split(10 ** 12, 10), MemoryError, "lower n_records"),
    (lambda: data.in_out_mask(10 ** 7, 10 ** 6), MemoryError, "lower n_records or n_models"),
    (lambda: data.load_purchase(n_classes=20_000, n_records=200_000), (MemoryError, ValueError), "n_records"),
    (lambda: data.target_shadow_split(100, 10, random_state=-1), ValueError, "random_state"),
    (lambda: data.in_out_mask(10, 4, random_state=np.random.default_rng(0).integers(-5, -1)), ValueError,
     "random_state"),
]

CACHE = [
    (lambda: cache.train_in_out_models(X4, Y3, 2, chunk_size=2, n_classes=0), ValueError, "n_classes"),
    (lambda: cache.cache_key(X4, Y3, MASKS, hidden="abc"), TypeError, "hidden"),
    (lambda: cache.cache_key(X4, Y3, MASKS, lr=None), TypeError, "lr"),
    (lambda: cache.train_in_out_models(X4, Y3, 2, chunk_size=2, random_state=np.random.default_rng(0)), TypeError,
     "Generator"),
    (lambda: cache.train_in_out_models(X4, Y3, 2, chunk_size=2, executor=object()), TypeError, "submit"),
]

BLACKBOX = [
    (lambda: BlackBox(_nan_model()).query(X4), ValueError, "NaN or infinite"),
    (lambda: blackbox.query_probabilities(_labels_box(), X4), ValueError, "one probability vector per record"),
    (lambda: blackbox.query_probabilities("model", X4), TypeError, "BlackBox"),
]

METRICS = [
    (lambda: metrics.exposure(1, 10 ** 400), ValueError, "n_candidates"),
    (lambda: metrics.evaluate(np.linspace(0, 1, 2000), np.arange(2000) % 2 == 0, n_boot=10 ** 9), ValueError,
     "`n_boot` = 1,000,000,000 would run .* resamples.*at most"),
    (lambda: metrics.choose_threshold([0.1, 0.9], [0, 1], criterion=["accuracy"]), ValueError, "criterion"),
    (lambda: metrics.choose_threshold([0.1, 0.9], [0, 1], midpoint="no"), TypeError, "midpoint"),
]

DOWNLOAD = [
    (lambda: download.fetch("purchase100", timeout=1e300, offline=True), ValueError, "timeout"),
]

ATTACKS = [
    (lambda: LossAttack().score(BlackBox(_nan_model()), X4, Y3), ValueError, "NaN or infinite"),
    (lambda: CorrectnessAttack().score(BlackBox(models.MLP(4, 3)), X4, np.r_[Y3[:-1], 3]), ValueError,
     "out of range"),
    (lambda: GapAttack().score(BlackBox(models.MLP(4, 3)), X4, np.r_[Y3[:-1], 500]), ValueError, "out of range"),
    (lambda: NoiseRobustnessAttack(noise="gaussian", strength=0.1).score(BlackBox(models.MLP(4, 3)), X4,
                                                                         np.r_[Y3[:-1], 3]), ValueError,
     "out of range"),
    (lambda: label_only.noisy_copies(X4, 2, "gaussian", strength=float("inf")), ValueError, "strength"),
    (lambda: label_only.noisy_copies(X4, 10 ** 12, "gaussian", strength=0.1), MemoryError, "lower `n_copies`"),
    (lambda: NoiseRobustnessAttack(n_copies=10 ** 6).score(BlackBox(models.MLP(600, 3)),
                                                           np.zeros((10 ** 5, 600), np.float32),
                                                           np.zeros(10 ** 5, int)), MemoryError, "n_copies"),
    (lambda: rmia.rmia_scores([0.5], [[0.5]], [0.5], [[0.5]], gamma=float("inf")), ValueError, "gamma"),
    (lambda: rmia.tune_offline_a(np.full((4, 2), 0.5), np.eye(4, 2, dtype=bool), np.full((4, 2), 0.5), grid=[]),
     ValueError, "grid"),
    (lambda: rmia.RMIA(2, random_state=np.random.default_rng(0)), TypeError, "Generator"),
    (lambda: lira.LiRA(4, random_state=-1), ValueError, "random_state"),
    (lambda: lira.shifted_copies(np.zeros((2, 64)), image_shape=(8,)), ValueError, "image_shape"),
    (lambda: lira.shifted_copies(np.zeros((2, 64)), shifts=()), ValueError, "shifts"),
    (lambda: lira.shifted_copies(np.zeros((2, 64)), mirror="no"), TypeError, "mirror"),
    (lambda: mlleaks.noise_records(5, n_features=8.0), TypeError, "n_features"),
    (lambda: mlleaks.ThresholdAttack(metric=np.array(["max_posterior"])), ValueError, "metric"),
    (lambda: shadow.fit_attack_models(np.zeros((4, 2)), [0, 0, 1, 1], [True, False, True, False], 2,
                                      attack_model="lr"), TypeError, "attack_model"),
    (lambda: shadow.attack_scores(["x"] * 3, np.zeros((2, 2)), [0, 1]), TypeError, "fitted classifiers"),
    (lambda: shadow.ShadowAttack(recipe=dict(activation="gelu")), ValueError, "activation"),
    (lambda: shadow.ShadowAttack(n_shadows=2, train_size=2500).fit(X4, Y3), ValueError, "train_size <= 3"),
    (lambda: calibrated.MetricAttack(criterion=["accuracy"]), ValueError, "criterion"),
    (lambda: signals.signals("stack", X4, Y3), TypeError, "ModelStack"),
    (lambda: signals.leave_one_out(lira.lira_scores, np.zeros((3, 1)), np.ones((3, 1), bool)), ValueError,
     "at least 2 models"),
]

TABLES = {"_validation": VALIDATION, "models": MODELS, "data": DATA, "cache": CACHE, "blackbox": BLACKBOX,
          "metrics": METRICS, "download": DOWNLOAD, "attacks": ATTACKS}
ROWS = [(name, i, *row) for name, table in TABLES.items() for i, row in enumerate(table)]


@pytest.mark.parametrize("module, i, call, error, match", ROWS, ids=[f"{r[0]}-{r[1]}" for r in ROWS])
def test_bad_input_fails_at_once_with_a_message_that_says_what_to_do(module, i, call, error, match, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setenv("MIALAB_CACHE", str(tmp_path))
    with pytest.raises(error, match=match):
        call()
