"""Bad input to the package's public functions: one table per module, each row a call that must fail at once
with an error that names what was wrong (scikit-learn's style). A new public function joins its module's table.
The rows include every case the hardening review (issue 11) found slipping through."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

from sklearn.tree import DecisionTreeClassifier

from mialab import (_validation, aggregates, blackbox, cache, capstone, data, diagrams, download, federated, metrics,
                    models, plots, recipe, sequence, threads, warfarin)
from mialab import capstone_targets, reproduce
from mialab import generative_models as generative
from mialab.attacks import augment
from mialab.attacks import (attribute, calibrated, extraction, families, features, hyperparameters, inversion,
                            label_only, lira, mlleaks, provenance, rmia, shadow, signals, synthesis, thresholds,
                            vulnerable, whitebox)
from mialab.attacks import generative as generative_attacks
from mialab.attacks import loss as loss_attacks
from mialab.defenses import adversarial, distillation, dp_linear, dpsgd, memguard, outliers, relaxloss, stacking
from mialab.attacks.label_only import GapAttack, NoiseRobustnessAttack
from mialab.attacks.loss import CorrectnessAttack, LossAttack
from mialab.blackbox import BlackBox
from mialab.checks import registry
from mialab.many_models import ModelStack, check_device, train_many, train_many_chunks

course_execute = importlib.import_module("mialab.course.execute")   # mialab.course.execute is also a function
course_release = importlib.import_module("mialab.course.release")
sandbox = importlib.import_module("mialab.course.sandbox")
verdict = importlib.import_module("mialab.course.verdict")
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
    (lambda: rmia.rmia_scores([0.5], [[0.5]], population_target_signals=[0.5], population_ref_signals=[[0.5]],
                                      gamma=float("inf")), ValueError, "gamma"),
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

# ---------------------------------------------------------------------------------------------------------------
# issue 25: every public function has a row; the classes the second probe found (duck targets answering
# non-probabilities, huge counts, deep errors, silent acceptance, arguments not named)
# ---------------------------------------------------------------------------------------------------------------

def _duck(answers, output="probabilities"):
    """A duck-typed target whose query(X) answers `answers(n)`."""
    class Duck:
        def __init__(self):
            self.output = output

        def query(self, X):
            return answers(len(X))

        def __repr__(self):
            return "Duck()"
    return Duck()


LOGITS = _duck(lambda n: np.tile([2.0, -1.0, 0.5], (n, 1)))
NEGATIVE = _duck(lambda n: np.tile([-0.2, 0.6, 0.6], (n, 1)))
SUM_TWO = _duck(lambda n: np.full((n, 3), 2 / 3))
SUM_HALF = _duck(lambda n: np.full((n, 3), 1 / 6))
STRINGS = _duck(lambda n: np.array([["a", "b", "c"]] * n))
LABEL_STRINGS = _duck(lambda n: np.array(["cat"] * n), "label")
LABEL_NEGATIVE = _duck(lambda n: -np.ones(n, np.int64), "label")
LABEL_FRACTION = _duck(lambda n: np.full(n, 0.5), "label")
NAN = float("nan")
BIG = 10 ** 9


def _mlp():
    return models.MLP(4, 3, hidden=(2,))


def _box():
    return BlackBox(_mlp())


def _trained():
    return models.train(models.MLP(4, 3, hidden=(3,)), np.random.default_rng(0).normal(size=(30, 4)),
                        np.arange(30) % 3, epochs=1)


def _cli(argv):
    """Run the course CLI; a non-zero exit becomes SystemExit carrying what it printed to stderr."""
    import contextlib
    import io

    from mialab.course.__main__ import main
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code
    if code:
        raise SystemExit(f"exit {code}: {err.getvalue()}")
    return code


DUCKS = [
    (lambda: blackbox.query_probabilities(LOGITS, X4), ValueError, "Duck\\(\\).*outside \\[0, 1\\].*softmax"),
    (lambda: blackbox.query_probabilities(NEGATIVE, X4), ValueError, "Duck\\(\\).*outside \\[0, 1\\]"),
    (lambda: blackbox.query_probabilities(SUM_TWO, X4), ValueError, "Duck\\(\\).*sums to 2.*BlackBox\\(model\\)"),
    (lambda: blackbox.query_probabilities(SUM_HALF, X4), ValueError, "Duck\\(\\).*sums to 0.5"),
    (lambda: blackbox.query_probabilities(STRINGS, X4), TypeError, "Duck\\(\\).*dtype <U1.*numbers"),
    (lambda: blackbox.query_labels(LABEL_STRINGS, X4), TypeError, "Duck\\(\\).*dtype"),
    (lambda: blackbox.query_labels(LABEL_NEGATIVE, X4), ValueError, "Duck\\(\\).*not class indices.*>= 0"),
    (lambda: blackbox.query_labels(LABEL_FRACTION, X4), ValueError, "Duck\\(\\).*not class indices.*whole"),
    (lambda: blackbox.check_probability_answers(LOGITS, np.array([[2.0, -1.0]])), ValueError, "outside"),
    (lambda: blackbox.query_candidates(SUM_TWO, X4, Y3, 3), ValueError, "sums to 2"),
    (lambda: LossAttack(expected_loss=1.0).score(SUM_TWO, X4, Y3), ValueError, "sums to 2"),
    (lambda: CorrectnessAttack().score(LABEL_NEGATIVE, X4, Y3), ValueError, "not class indices"),
    (lambda: GapAttack().score(LABEL_STRINGS, X4, Y3), TypeError, "Duck\\(\\).*dtype"),
    (lambda: NoiseRobustnessAttack(n_copies=2).score(LABEL_FRACTION, X4, Y3), ValueError, "not class indices"),
    (lambda: mlleaks.query_top_k(NEGATIVE, X4), ValueError, "outside \\[0, 1\\]"),
    (lambda: mlleaks.query_top_k(STRINGS, X4), TypeError, "dtype"),
]

HUGE = [
    (lambda: models.train(_mlp(), X4, Y3, epochs=BIG), ValueError, "`epochs` = 1,000,000,000 would run"),
    (lambda: train_many(X4, Y3, MASKS, epochs=BIG), ValueError, "`epochs`.*at most"),
    (lambda: recipe.TrainingRecipe(epochs=BIG), ValueError, "`epochs`.*at most"),
    (lambda: generative.train_vae(X4, steps=BIG), ValueError, "`steps`.*optimisation steps"),
    (lambda: generative.train_gan(X4, steps=BIG), ValueError, "`steps`"),
    (lambda: federated.federated_training(X4, Y3, MASKS, rounds=BIG), ValueError, "`rounds`.*federated rounds"),
    (lambda: federated.federated_training(X4, Y3, MASKS, local_epochs=BIG), ValueError, "`local_epochs`"),
    (lambda: metrics.exposure_extrapolated(1.0, np.linspace(0, 5, 50), n_boot=BIG), ValueError, "`n_boot`"),
    (lambda: metrics.bootstrap_ci(metrics.auc, [0.1, 0.9], [0, 1], n_boot=BIG), ValueError, "`n_boot`"),
    (lambda: inversion.bootstrap_share([True, False], n_boot=BIG), ValueError, "`n_boot`"),
    (lambda: cache.train_in_out_models(X4, Y3, 10 ** 7), ValueError, "`n_models`.*trained models"),
    (lambda: sequence.synthetic_corpus(n_sentences=BIG), ValueError, "`n_sentences`"),
    (lambda: sequence.train_language_model("abc " * 50, epochs=BIG), ValueError, "`epochs`"),
    (lambda: inversion.MIFace(max_iter=BIG), ValueError, "`max_iter`"),
    (lambda: shadow.ShadowAttack(n_shadows=BIG), ValueError, "`n_shadows`"),
    (lambda: dpsgd.train_dpsgd(_mlp(), X4, Y3, epsilon=1.0, epochs=BIG, batch_size=2), ValueError, "`epochs`"),
    (lambda: dpsgd.train_dpsgd(_mlp(), X4, Y3, epsilon=1e-9, epochs=1, batch_size=2), ValueError,
     "`epsilon` = 1e-09 cannot be reached"),
    (lambda: dpsgd.noise_multiplier_for(1e-9, sample_rate=0.1, epochs=1), ValueError, "cannot be reached"),
    (lambda: extraction.retrain_copy(_box(), X4, budget=100, n_classes=3, steps=BIG), ValueError, "`steps`"),
    (lambda: relaxloss.train_relaxloss(_mlp(), X4, Y3, epochs=BIG), ValueError, "`epochs`"),
    (lambda: adversarial.train_adversarial(_mlp(), X4, Y3, X4, Y3, epochs=BIG), ValueError, "`epochs`"),
    (lambda: distillation.train_distilled(_mlp(), _mlp(), X4, epochs=BIG), ValueError, "`epochs`"),
]

CAPSTONE = [
    (lambda: capstone_targets.build(budget=0), ValueError, "`budget`"),
    (lambda: capstone_targets.build(budget="lots"), TypeError, "`budget`"),
    (lambda: capstone_targets.build(variant=["none"]), ValueError, "`variant`"),
    (lambda: capstone_targets.build(n_train=10), ValueError, "`n_train`"),
    (lambda: capstone_targets.default_budget("x"), TypeError, "`n_train`"),
    (lambda: BlackBox(_mlp(), budget=-1), ValueError, "`budget`"),
    (lambda: capstone_targets.make_assignment("a-long-secret", __file__), NotADirectoryError, "`out`.*is a file"),
    (lambda: capstone_targets.make_assignment("a-long-secret", "/nonexistent/x", students="alice"), TypeError,
     "`students` must be a list.*'alice'"),
    (lambda: capstone_targets.make_assignment("a-long-secret", "/nonexistent/x", students=["bo", "bo"]), ValueError,
     "more than once"),
    (lambda: capstone_targets.make_assignment("short", "/nonexistent/x"), ValueError, "`secret`"),
    (lambda: capstone_targets.make_assignment("a-long-secret", 7), TypeError, "`out` must be a path"),
    (lambda: capstone_targets.load(12), TypeError, "`path` must be a path"),
    (lambda: capstone_targets.load("/nonexistent/target.pt"), FileNotFoundError, "not a file"),
    (lambda: capstone_targets.reveal("audit"), TypeError, "`audit` must be a Capstone"),
    (lambda: capstone_targets.save("audit", "/nonexistent/x.pt"), TypeError, "`audit` must be a Capstone"),
    (lambda: capstone.epsilon_lower_bound(5, 4, 0, 4), ValueError, "true_positives"),
    (lambda: capstone.operating_point([0.1, 0.9], [0, 1], fpr=NAN), ValueError, "`fpr`"),
    (lambda: capstone.audit_table({"loss": [0.1, NAN]}, [0, 1]), ValueError, "NaN"),
    (lambda: capstone.audit_table([0.1, 0.9], [0, 1]), TypeError, "`scores` must be a dict"),
    (lambda: capstone.weight_norm("model"), TypeError, "torch module"),
    (lambda: capstone.gather_evidence("audit", None, None), TypeError, "`audit` must be a Capstone"),
    (lambda: capstone.diagnose({"loss_auc": NAN}), ValueError, "evidence"),
]


def _bad_target(kind: str):
    """A capstone target file that is empty, truncated, garbage, or has weights of the wrong shape."""
    import io
    import tempfile
    from pathlib import Path
    state = {"format": "mialab-capstone-1", "weights": models.MLP(600, 100, hidden=(8,)).state_dict(),
             "api": "label", "n_train": 250, "is_member": torch.zeros(500, dtype=torch.bool), "budget": 10}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    whole = buffer.getvalue()
    payload = {"empty": b"", "truncated": whole[: len(whole) // 2], "garbage": b"\x00not a target" * 10,
               "mismatched": whole}[kind]
    path = Path(tempfile.mkdtemp()) / "capstone_target.pt"
    path.write_bytes(payload)
    return path


CAPSTONE += [
    (lambda: capstone_targets.load(_bad_target("empty")), ValueError, "not a capstone target file .*: it is empty"),
    (lambda: capstone_targets.load(_bad_target("truncated")), ValueError, "cannot be read.*truncated"),
    (lambda: capstone_targets.load(_bad_target("garbage")), ValueError, "cannot be read"),
    (lambda: capstone_targets.load(_bad_target("mismatched")), ValueError,
     "(?s)not a capstone target file .*size mismatch"),
]


COURSE = [
    (lambda: _cli(["release", "--out", __file__]), SystemExit, "exit 1: error: --out .* is a file"),
    (lambda: _cli(["execute", "--timeout", "-1", "x.ipynb"]), SystemExit, "(?s)exit 2.*--timeout.*at least 1"),
    (lambda: _cli(["nbgrader-course", "/nonexistent/c", "--timeout", "0"]), SystemExit, "(?s)exit 2.*at least 1"),
    (lambda: _cli(["capstone", "--secret", "a-long-secret", "--out", __file__]), SystemExit, "exit 1.*is a file"),
    (lambda: course_execute.execute("x.ipynb", timeout=0), ValueError, "`timeout`"),
    (lambda: course_execute.execute(3), TypeError, "`path`"),
    (lambda: course_execute.run_notebook({}, ".", timeout=-1), ValueError, "`timeout`"),
    (lambda: course_release.release("/nonexistent/solutions", "/nonexistent/out"), FileNotFoundError, "solutions"),
    (lambda: course_release.check_release("solutions", 3), TypeError, "`out_dir`"),
]

WIDTH_5_NOT_4 = "`X` has .*5 features.*4|`X` must have shape \\(n, 4\\)"   # records 5 wide, a model 4 wide

DEEP = [   # errors that came from deep inside NumPy, torch, scikit-learn or pathlib
    (lambda: hyperparameters.steal_svm_lambda(X4, [0, 1] * 3, np.ones(4), intercept_scaling=0), ValueError,
     "`intercept_scaling`"),
    (lambda: hyperparameters.steal_ridge_lambda(X4, np.zeros(6), np.ones(3)), ValueError, "`w` has 3.*4 features"),
    (lambda: extraction.LinearCopy(np.ones((3, 4)), np.zeros(3)).predict_proba(np.zeros((2, 5))), ValueError,
     WIDTH_5_NOT_4),
    (lambda: extraction.LeafOracle(DecisionTreeClassifier()), ValueError, "not fitted|fit"),
    (lambda: extraction.LeafOracle(DecisionTreeClassifier), TypeError, "class .* itself|instance"),
    (lambda: dp_linear.DPLinearRegression().fit(np.random.default_rng(0).normal(size=(20, 2)), np.arange(20.0))
     .predict(np.zeros((2, 3))), ValueError, "`X` must have shape \\(n, 2\\)"),
    (lambda: stacking.StackedModel(_mlp(), _mlp(), 3), TypeError, "`first`"),
    (lambda: memguard.MemGuard(_trained()).fit(X4, X4).predict_proba(np.zeros((2, 5))), ValueError,
     WIDTH_5_NOT_4),
    (lambda: models.train(models.MLP, X4, Y3), TypeError, "class MLP itself|torch module"),
    (lambda: BlackBox(models.MLP), TypeError, "`model`"),
    (lambda: data.load_dataset(3), (TypeError, ValueError), "`name`"),
    (lambda: download.sha256_file(3), TypeError, "`path`"),
    (lambda: download.fetch("purchase100", cache_dir=3, offline=True), TypeError, "`cache_dir`"),
    (lambda: cache.model_cache_dir(3), TypeError, "`cache_dir`"),
    (lambda: federated.federated_training(X4, Y3, MASKS, batch_size=0), ValueError, "`batch_size`"),
    (lambda: federated.federated_training(X4, Y3, MASKS, lr=-1), ValueError, "`lr`"),
    (lambda: models.train(_mlp(), X4, Y3, lr=-1), ValueError, "`lr`"),
    (lambda: generative.train_vae(X4, lr=-1), ValueError, "`lr`"),
    (lambda: models.predict_proba(_mlp(), np.zeros((2, 5))), ValueError, WIDTH_5_NOT_4),
    (lambda: generative.discriminator_scores(generative.GAN(4, latent=2, hidden=4), np.zeros((2, 5))), ValueError,
     WIDTH_5_NOT_4),
    (lambda: generative.reconstruction_errors(generative.VAE(4, latent=2, hidden=4), np.zeros((2, 5))), ValueError,
     WIDTH_5_NOT_4),
    (lambda: whitebox.whitebox_features(_mlp(), np.zeros((2, 5)), [0, 1]), ValueError, WIDTH_5_NOT_4),
    (lambda: shadow.attack_scores(shadow.fit_attack_models(np.random.default_rng(0).dirichlet([1] * 3, 20),
                                                           np.arange(20) % 3, np.arange(20) % 2 == 0, 3),
                                  np.full((2, 5), 0.2), [0, 1]), ValueError, "`features`.*5.*3"),
]

SILENT = [   # accepted without a word before
    (lambda: metrics.auc(np.array([0.1, 0.9]) + 1j, [0, 1]), TypeError, "`scores` holds complex"),
    (lambda: models.train(_mlp(), X4 + 0j, Y3), TypeError, "complex"),
    (lambda: inversion.map_estimate([[1.0, 2.0]], [1.0], 1.0, [0.5, NAN]), ValueError, "`prior`.*NaN"),
    (lambda: thresholds.fit_class_thresholds([0.1, NAN], [0, 1], [True, False], 2), ValueError, "`values`.*NaN"),
    (lambda: metrics.threshold_metrics([0.1, 0.9], [0, 1], threshold=NAN), ValueError, "`threshold`"),
    (lambda: capstone.diagnose({"api": "probabilities", "nonmember_acc": NAN, "reference_acc": 0.5}), ValueError,
     "`evidence\\['nonmember_acc'\\]`.*finite"),
    (lambda: hyperparameters.relative_error(NAN, 1.0), ValueError, "`estimate`"),
    (lambda: dpsgd.yeom_bound(NAN), ValueError, "`epsilon`.*NaN"),
    (lambda: generative.VAE(4, latent=0), ValueError, "`latent`"),
    (lambda: generative.GAN(-4), ValueError, "`n_features`"),
    (lambda: generative.VAE(4, hidden=-1), ValueError, "`hidden`"),
    (lambda: generative.sample(generative.VAE(4, latent=2, hidden=4), 0), ValueError, "`n`"),
    (lambda: adversarial.InferenceModel(0), ValueError, "`n_classes`"),
    (lambda: adversarial.InferenceModel(3, hidden=-2), ValueError, "`hidden`"),
    (lambda: shadow.make_attack_model(C=-1), ValueError, "`C`"),
    (lambda: shadow.make_attack_model(C=NAN), ValueError, "`C`"),
    (lambda: lira.lira_scores(np.zeros(2), np.zeros((2, 2)), np.eye(2, dtype=bool), online="yes"), TypeError,
     "`online`"),
    (lambda: lira.LiRA(online="no"), TypeError, "`online`"),
    (lambda: shadow.ShadowAttack(per_class="yes"), TypeError, "`per_class`"),
    (lambda: attribute.attribute_accuracy([1.0, NAN], [1.0, 0.0], [True, False]), ValueError, "`inferred`"),
    (lambda: memguard.cap_confidence(np.full((1, 2), 0.5), NAN), ValueError, "`cap`"),
    (lambda: memguard.soften(np.full((1, 2), 0.5), NAN), ValueError, "`t`"),
    (lambda: federated.top_fraction(np.ones(4), NAN), ValueError, "`theta`"),
    (lambda: plots.update_threshold({}, NAN), (TypeError, ValueError), "`t`|`state`"),
]


P3 = np.full((2, 3), 1 / 3)
MEM = np.array([True, False])

COVERAGE = [   # one row (at least) for each public callable the tables above did not reach
    (lambda: aggregates.genome_pool(n_snps=0), ValueError, "`n_snps`"),
    (lambda: aggregates.homer_statistic([[0, 1]], [0.5, NAN], [0.5, 0.5]), ValueError, "`pool_freqs`"),
    (lambda: aggregates.likelihood_ratio_statistic([[0, 1]], [0.5, 0.5], [0.5, 0.5], eps=-1), ValueError, "`eps`"),
    (lambda: aggregates.microrna_study(study_size=1), ValueError, "`study_size`"),
    (lambda: aggregates.backes_statistic([[1.0, 2.0]], [1.0, 2.0], [1.0, 2.0], [1.0, -1.0], 10), ValueError,
     "`reference_std`"),
    (lambda: aggregates.backes_power(100, 10, fpr=0.0), ValueError, "`fpr`"),
    (lambda: aggregates.simulate_traces(n_users=-5), ValueError, "`n_users`"),
    (lambda: aggregates.aggregate_counts([[0.5, 1]], 2), TypeError, "`traces`"),
    (lambda: aggregates.location_membership(np.zeros((10, 3), int), 0, group_size=0), ValueError, "`group_size`"),
    (lambda: attribute.AttributeInference("age"), (TypeError, ValueError), "`column`"),
    (lambda: calibrated.metric_values(P3, [0, 1], "nope"), ValueError, "`metric`"),
    (lambda: extraction.solve_binary_logistic(X4, np.full(6, 1.5)), ValueError, "`p`"),
    (lambda: extraction.solve_softmax(X4, np.full((6, 3), 0.5)), ValueError, "`probs`"),
    (lambda: extraction.extract_logistic(_box(), n_features=0), ValueError, "`n_features`"),
    (lambda: extraction.find_threshold(lambda x: 0, np.zeros(2), 5, 0.0, 1.0), ValueError, "`feature`"),
    (lambda: extraction.TreeCopy("leaves", 3), TypeError, "`leaves`"),
    (lambda: extraction.path_finding("oracle", 0, 1), TypeError, "`oracle`"),
    (lambda: extraction.query_within_budget(_box(), X4, budget=2), extraction.QueryBudgetExceeded, "budget of 2"),
    (lambda: extraction.fidelity([0, 1], [0, 1, 2]), ValueError, "answers"),
    (lambda: features.true_class_confidence(P3, [0, 5]), ValueError, "out of range"),
    (lambda: features.cross_entropy(P3 * 2, [0, 1]), ValueError, "`probs`"),
    (lambda: features.sorted_top_k(P3, k=5), ValueError, "`k`"),
    (lambda: features.entropy([0.5, 0.5]), ValueError, "`probs`"),
    (lambda: features.modified_entropy(P3, [0]), ValueError, "`y`"),
    (lambda: features.logit_scale(-P3, [0, 1]), ValueError, "`probs`"),
    (lambda: generative_attacks.reconstruction_scores(X4, np.zeros((5, 4))), ValueError, "`reconstructions`"),
    (lambda: generative_attacks.monte_carlo_scores(X4, X4, eps=-1.0), ValueError, "`eps`"),
    (lambda: generative_attacks.choose_epsilon(X4, X4, percentile=200), ValueError, "`percentile`"),
    (lambda: generative_attacks.nearest_distances(X4, np.zeros((3, 5))), ValueError, "`generated`"),
    (lambda: generative_attacks.precision_at_k([0.1, 0.9], [1, 0], k=0), ValueError, "`k`"),
    (lambda: generative_attacks.set_scores([0.1, 0.9], [[0, 7]]), ValueError, "`sets`"),
    (lambda: generative_attacks.draw_sets([True, False], set_size=0), ValueError, "`set_size`"),
    (lambda: generative_attacks.ReconstructionAttack(n_draws=0), ValueError, "`n_draws`"),
    (lambda: generative_attacks.MonteCarloAttack(percentile=-1), ValueError, "`percentile`"),
    (lambda: generative_attacks.LoganBlackBoxAttack(n_train=0), ValueError, "`n_train`"),
    (lambda: hyperparameters.lambda_from_gradients(np.ones(3), np.ones(2)), ValueError, "`regulariser_gradient`"),
    (lambda: hyperparameters.steal_logistic_lambda(X4, [0, 1] * 3, np.ones(5)), ValueError, "`w`"),
    (lambda: inversion.MAPAttributeInference([0], [[0.0], [1.0]], sigma=-1.0), ValueError, "`sigma`"),
    (lambda: inversion.mi_face_descent(lambda x: (0.0, x), np.zeros(2), lr=0), ValueError, "`lr`"),
    (lambda: inversion.finite_difference_gradient(np.sum, np.zeros(2), h=0), ValueError, "`h`"),
    (lambda: inversion.class_cost_grad(_mlp(), 7), ValueError, "`label`"),
    (lambda: inversion.BlackBoxMIFace(h=NAN), ValueError, "`h`"),
    (lambda: inversion.judge_inversions(np.zeros((2, 4)), [0], _mlp(), X4, Y3), ValueError, "`labels`"),
    (lambda: label_only.gap_attack_accuracy(1.5, 0.5), ValueError, "`train_accuracy`"),
    (lambda: label_only.boundary_distance(BlackBox(models.MLP(4, 3), output="label"), X4, Y3, max_queries=5),
     ValueError, "`max_queries` = 5 leaves no room.*pass at least 12"),
    (lambda: label_only.boundary_distance(BlackBox(models.MLP(4, 3)), X4, Y3, bounds=(1.0, 0.0)), ValueError,
     "`bounds` must be \\(low, high\\) with low < high"),
    (lambda: label_only.boundary_distance(BlackBox(models.MLP(4, 3)), X4, np.r_[Y3[:-1], 3]), ValueError,
     "out of range"),
    (lambda: label_only.boundary_point("labels", np.zeros(2), 0, np.ones(2)), TypeError, "`label_of` must be"),
    (lambda: label_only.boundary_point(lambda P: np.zeros(len(P), int), np.zeros(2), 0, np.ones(2), tol=0.0),
     ValueError, "`tol`"),
    (lambda: label_only.BoundaryDistanceAttack(bounds=(0, 1, 2)), TypeError, "`bounds` must be a pair"),
    (lambda: label_only.BoundaryDistanceAttack(threshold=-0.5), ValueError, "`threshold`"),
    (lambda: label_only.BoundaryDistanceAttack(n_directions=0), ValueError, "`n_directions`"),
    (lambda: label_only.boundary_distance(BlackBox(models.MLP(600, 3), output="label"),
                                          np.zeros((10 ** 5, 600), np.float32), np.zeros(10 ** 5, int),
                                          n_directions=10 ** 4), MemoryError, "lower `n_directions`"),
    (lambda: lira.fit_gaussians(np.zeros((2, 2)), np.zeros((2, 3), bool)), ValueError, "`in_mask`"),
    (lambda: lira.log_likelihood_ratio([0.0], [0.0], [-1.0], [0.0], [1.0]), ValueError, "`std_in`"),
    (lambda: lira.lira_online(np.zeros(2), np.zeros((2, 2)), np.zeros((2, 3), bool)), ValueError, "`in_mask`"),
    (lambda: lira.lira_offline(np.zeros(3), np.zeros((2, 2))), ValueError, "`ref_signals`|`target_signals`"),
    (lambda: loss_attacks.mean_training_loss("shadows", X4, Y3), TypeError, "`shadows`"),
    (lambda: mlleaks.MLLeaksAttack(k=0), ValueError, "`k`"),
    (lambda: mlleaks.TransferAttack(n_shadows=0), ValueError, "`n_shadows`"),
    (lambda: mlleaks.posterior_scores(P3, metric="nope"), ValueError, "`metric`"),
    (lambda: mlleaks.noise_threshold(P3, percentile=101), ValueError, "`percentile`"),
    (lambda: shadow.train_shadows(X4, Y3, 2, train_size=0), ValueError, "`train_size`"),
    (lambda: shadow.attack_dataset(P3[None], [0, 1], [[True], [False]], [[True, False]]), ValueError,
     "`nonmembers`"),
    (lambda: shadow.shadow_attack_dataset("shadows", X4, Y3), TypeError, "`shadows`"),
    (lambda: shadow.shadows_for_pool(X4, Y3, "x", n_shadows=1, train_size=2, recipe=None), TypeError,
     "`shadows`"),
    (lambda: signals.cross_chunk(lira.lira_scores, np.zeros((3, 4)), np.ones((3, 4), bool), chunk_size=0),
     ValueError, "`chunk_size`"),
    (lambda: signals.score_targets("lira", np.zeros(3), np.zeros((3, 2))), TypeError, "`attack`"),
    (lambda: synthesis.synthesize(_box(), n_records=0, n_features=4), ValueError, "`n_records`"),
    (lambda: synthesis.synthesize_marginal(X4, Y3, n_records=-1), ValueError, "`n_records`"),
    (lambda: vulnerable.per_record_leakage(np.zeros((2, 2)), np.eye(2, dtype=bool), fpr=2), ValueError, "`fpr`"),
    (lambda: vulnerable.most_exposed("leakage"), TypeError, "`leakage`"),
    (lambda: vulnerable.influence(np.zeros((2, 2)), np.zeros((2, 3), bool)), ValueError, "`masks`"),
    (lambda: vulnerable.outlier_scores(X4, Y3, n_neighbors=0), ValueError, "`n_neighbors`"),
    (lambda: vulnerable.retrain_without(X4, Y3, index=99), ValueError, "`index`"),
    (lambda: whitebox.gradient_norms(_mlp(), X4, np.r_[Y3[:-1], 9]), ValueError, "out of range"),
    (lambda: whitebox.record_gradient_norms("model", X4, Y3), TypeError, "`model` must be a mialab.models.MLP"),
    (lambda: whitebox.last_layer_gradient_norm(P3, [0, 1], np.zeros((3, 2))), ValueError, "`hidden`"),
    (lambda: whitebox.feature_matrix({}, groups=("nope",)), ValueError, "`groups`"),
    (lambda: whitebox.WhiteBoxAttack(groups=("nope",)), ValueError, "`groups`"),
    (lambda: blackbox.check_target(_mlp()), TypeError, "BlackBox\\(model\\)"),
    (lambda: cache.train_many_cached(X4, Y3, MASKS, cache_dir=3), TypeError, "`cache_dir`"),
    (lambda: cache.concat_stacks([]), ValueError, "`stacks`"),
    (lambda: course_execute.check_timeout(0), ValueError, "`timeout`"),
    (lambda: course_execute.run_notebook({}, ".", timeout="x"), ValueError,
     "`timeout`"),
    (lambda: course_release.student_notebook("nb"), TypeError, "`nb`"),
    (lambda: course_release.release_notebook(3), TypeError, "`source`"),
    (lambda: course_release.release("/nonexistent/s", "/nonexistent/o"),
     FileNotFoundError, "solutions|/nonexistent/s"),
    (lambda: course_release.check_release(3), TypeError, "`solutions_dir`"),
    (lambda: data.array_checksum(X4, Y3[:2]), ValueError, "`y`"),
    (lambda: dp_linear.noisy_least_squares(X4, Y3, noise_xx=np.zeros((2, 2))), ValueError, "`noise_xx`"),
    (lambda: dpsgd.dp_sgd_step(np.zeros((2, 3)), 1.0, 0.0, 0.1, np.zeros(2)), ValueError, "`noise`"),
    (lambda: dpsgd.per_example_gradients(_mlp(), X4, Y3[:3]), ValueError, "`y`"),
    (lambda: dpsgd.opacus_step(_mlp(), X4, Y3, noise_multiplier=1.0, max_grad_norm=float("inf")), ValueError,
     "finite clipping"),
    (lambda: dpsgd.epsilon_spent(1.0, sample_rate=2.0, steps=10), ValueError, "`sample_rate`"),
    (lambda: dpsgd.tpr_bound(1.5, 1.0), ValueError, "`fpr`"),
    (lambda: dpsgd.empirical_epsilon(1.5, 0.1), ValueError, "`tpr`"),
    (lambda: dpsgd.empirical_epsilon_ci(5, 4, 0, 4), ValueError, "true_positives"),
    (lambda: relaxloss.relaxloss_objective(np.zeros((2, 3)), [0, 1], alpha=-1.0, epoch=0), ValueError, "`alpha`"),
    (lambda: stacking.train_stacked(X4, Y3, second_fraction=1.5), ValueError, "`second_fraction`"),
    (lambda: outliers.record_leakage(np.zeros((2, 2)), np.zeros((2, 3), bool)), ValueError, "`masks`"),
    (lambda: outliers.record_leakage(np.zeros((3, 2)), MASKS[:3], measure="dtp"), ValueError, "`measure`"),
    (lambda: outliers.record_leakage(np.zeros((6, 2)), MASKS, measure="lira"), ValueError,
     "IN for at least 2 reference models"),
    (lambda: outliers.flag_exposed([0.1, NAN], 1), ValueError, "`leakage`.*NaN"),
    (lambda: outliers.flag_exposed([0.1, 0.2], 3), ValueError, "`k` must be a whole number in \\[0, 2\\]"),
    (lambda: outliers.kept_indices([[0.1, 0.2]], 1), ValueError, "`leakage` must have one value per record"),
    (lambda: outliers.kept_indices([0.1, 0.2], 0.5), TypeError, "`k` must be a whole number"),
    (lambda: outliers.train_without_exposed(_mlp(), X4, Y3, np.zeros(5), 1), ValueError,
     "`leakage` must hold one value per training record \\(6\\)"),
    (lambda: outliers.train_without_exposed(_mlp(), X4, Y3, np.zeros(6), 6), ValueError, "removes every"),
    (lambda: diagrams.shadow_pipeline(ax="axes"), TypeError, "`ax`"),
    (lambda: diagrams.model_stacking(ax=3), TypeError, "`ax`"),
    (lambda: diagrams.lira_gaussians([0.1], [0.2], 0.1, 0.0, -1.0, 0.0, 1.0), ValueError, "`std_in`"),
    (lambda: diagrams.rmia_comparison(NAN, [1.0]), ValueError, "`candidate_ratio`"),
    (lambda: federated.vector("model"), TypeError, "`model`"),
    (lambda: federated.load_vector(_mlp(), torch.zeros(3)), ValueError, "`values`"),
    (lambda: federated.ascent_direction([[1.0, NAN]]), ValueError, "`gradients`"),
    (lambda: federated.normalised_ascent(_mlp(), np.zeros((2, 5)), [0, 1]), ValueError,
     "`X` must have shape \\(n, 4\\)"),
    (lambda: federated.ActiveServer(X4, Y3, gamma=NAN), ValueError, "`gamma`"),
    (lambda: federated.passive_server_score([[0.1, 0.2]], [[0.1]]), ValueError, "`losses_after`"),
    (lambda: federated.insider_score(np.zeros((3, 2)), last=0), ValueError, "`last`"),
    (lambda: federated.client_seeds(0, -1, 2), ValueError, "`round_`"),
    (lambda: generative.reconstructions(generative.VAE(4, latent=2, hidden=4), X4, n_draws=0), ValueError,
     "`n_draws`"),
    (lambda: train_many_chunks(X4, Y3, "chunks"), TypeError, "`chunks`"),
    (lambda: check_device("gpu9"), ValueError, "`device`"),
    (lambda: metrics.roc_curve([0.1, NAN], [0, 1]), ValueError, "`scores`"),
    (lambda: metrics.advantage([0.1, 0.2], [1, 1]), ValueError, "`is_member`"),
    (lambda: metrics.tpr_at_fpr([0.1, 0.2], [0, 1], fpr=NAN), ValueError, "`fpr`"),
    (lambda: metrics.clopper_pearson_rates(1, 0, 0, 4), ValueError, "`n_members`"),
    (lambda: metrics.exposure_interpolated(NAN, [1.0, 2.0]), ValueError, "`canary_log_perplexity`"),
    (lambda: models.SmallCNN(n_classes=0), ValueError, "`n_classes`"),
    (lambda: models.logits(_mlp(), X4, batch_size=0), ValueError, "`batch_size`"),
    (lambda: models.predict("model", X4), TypeError, "torch module"),
    (lambda: models.accuracy(_mlp(), X4, Y3[:2]), ValueError, "`y`"),
    (lambda: plots.plot_roc("results"), TypeError, "`results`"),
    (lambda: plots.plot_score_histograms([0.1, NAN], [0, 1]), ValueError, "`scores`"),
    (lambda: plots.plot_train_test([1, 2], [0.5], [0.5, 0.4]), ValueError, "`train`"),
    (lambda: plots.legend_outside("axes"), TypeError, "`ax`"),
    (lambda: plots.threshold_rates([0.1, 0.9], [0, 1], [NAN]), ValueError, "`thresholds`"),
    (lambda: plots.threshold_explorer([0.1, 0.9], [0, 1], interactive="yes"), TypeError, "`interactive`"),
    (lambda: sequence.canary_text(-1), ValueError, "`secret`"),
    (lambda: sequence.CharGRU(embedding=0), ValueError, "`embedding`"),
    (lambda: sequence.log_perplexity("model", "abc", ["1"]), TypeError, "`model`"),
    (lambda: sequence.candidate_log_perplexities(sequence.CharGRU(4, 4), n_digits=0), ValueError, "`n_digits`"),
    (lambda: sequence.canary_rank([0.1, 0.2], secret=5), ValueError, "`secret`"),
    (lambda: warfarin.iwpc_sqrt_dose(np.zeros((2, 3))), ValueError, "`X`"),
    (lambda: warfarin.load_warfarin(n_records=0), ValueError, "`n_records`"),
    (lambda: warfarin.genotype_prior([0, 7]), ValueError, "`vkorc1`"),
]


AGREE = np.ones((1, 2, 3))   # a budget sweep's agreement: one seed x two budgets x three test inputs


def _result():
    return metrics.evaluate(np.arange(8.0), np.arange(8) >= 4, fprs=(0.25,))


def _in_tmp(call):
    """call(folder) in a temporary folder, removed afterwards (package_copy writes a copy of mialab there)."""
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        return call(folder)


def _refused(reply: dict):
    """grade_exercise answers a refusal ({"ok": False, "message": ...}) instead of raising: raise its message."""
    assert reply.get("ok") is False, f"expected a refusal, got {reply!r}"
    raise ValueError(reply["message"])


ROW = registry.EXERCISES[0]

PACKAGE_SHAPE = [   # issue 26's new public functions and the grading rewrite's (sandbox, verdict, release)
    (lambda: augment.shifted_copies(np.zeros((2, 64)), shifts=[(0, 9)]), ValueError,
     "each of `shifts` .*smaller than the image \\(8x8\\)"),
    (lambda: augment.shifted_copies(np.zeros((2, 64)), shifts=[(0.5, 0)]), ValueError, "`shifts`.*whole pixels"),
    (lambda: augment.shifted_copies(np.zeros((2, 64)), shifts=()), ValueError, "`shifts` must be a non-empty"),
    (lambda: augment.noisy_copies(X4, -1), ValueError, "`n_copies` must be an integer >= 1"),
    (lambda: augment.noisy_copies(X4, 2, "salt"), ValueError, "`noise`"),
    (lambda: augment.noisy_copies(X4, 2, "shift", strength=0.5), ValueError, "`strength`"),
    (lambda: extraction.queries_to_reach(AGREE, [10, 100, 1000]), ValueError,
     "`agreement` has 2 budgets.*`budgets` lists 3"),
    (lambda: extraction.queries_to_reach(AGREE * 2, [10, 100]), ValueError, "`agreement` must hold 1.*or 0"),
    (lambda: extraction.queries_to_reach(AGREE, [100, 10]), ValueError, "`budgets` must be increasing"),
    (lambda: extraction.queries_to_reach(AGREE, [10, 100], level=NAN), ValueError, "`level`"),
    (lambda: extraction.bootstrap_queries_to_reach([AGREE], [10, 100]), TypeError,
     "`agreements` must be a non-empty dict"),
    (lambda: extraction.bootstrap_queries_to_reach({"a": AGREE}, [10, 100], n_boot=BIG), ValueError,
     "`n_boot` = 1,000,000,000.*at most"),
    (lambda: extraction.bootstrap_queries_to_reach({"a": AGREE, "b": np.ones((1, 2, 4))}, [10, 100]), ValueError,
     "same test inputs"),
    (lambda: metrics.percentile_interval([]), ValueError, "`draws` must be a non-empty"),
    (lambda: metrics.percentile_interval([1.0, NAN]), ValueError, "`draws`.*1 NaN"),
    (lambda: metrics.percentile_interval([1.0, 2.0], level=1.5), ValueError, "`level`"),
    (lambda: metrics.tpr_key(1.5), ValueError, "`fpr`"),
    (lambda: metrics.tpr_key("1%"), ValueError, "`fpr`"),
    (lambda: metrics.format_interval("x", 0, 1), TypeError, "`value` must be a number"),
    (lambda: metrics.format_interval(0.5, 0.4), ValueError, "both `low` and `high`"),
    (lambda: metrics.format_interval(0.5, digits=-1), ValueError, "`digits`"),
    (lambda: metrics.results_table({}), TypeError, "`results` must be a non-empty dict"),
    (lambda: metrics.results_table([0.7]), TypeError, "`results`.*got list"),
    (lambda: metrics.results_table({"a": _result()}, columns="auc"), TypeError, "`columns` must be a list"),
    (lambda: metrics.results_table({"a": _result()}, columns=["nope"]), KeyError, "`columns` names 'nope'"),
    (lambda: course_release.committed_versions(3), TypeError, "`path` must be a path"),
    (lambda: sandbox.prune_source("def f(:\n", "m", {"f"}), ValueError, "`source` of module 'm' is not valid Python"),
    (lambda: sandbox.prune_source(b"def f():\n    pass\n", "m", {"f"}), TypeError, "`source`"),
    (lambda: sandbox.prune_source("def f():\n    pass\n", "m", "f"), TypeError, "`functions` must be a set"),
    (lambda: _in_tmp(lambda folder: sandbox.package_copy(["metrics.no_such"], folder)), LookupError,
     "no function metrics.no_such"),
    (lambda: sandbox.package_copy("metrics.advantage", "/nonexistent/x"), TypeError, "`off_limits` must be a list"),
    (lambda: sandbox.package_copy(["advantage"], "/nonexistent/x"), ValueError, "`off_limits`.*'advantage'"),
    (lambda: sandbox.package_copy(["metrics.advantage"], 3), TypeError, "`dest` must be a path"),
    (lambda: sandbox.command("python -c 1", "/tmp"), TypeError, "`argv` must be a non-empty list"),
    (lambda: sandbox.command(["python"], 3), TypeError, "`copy_parent` must be a path"),
    (lambda: sandbox.command(["python"], "/tmp", env=["A=1"]), TypeError, "`env`"),
    (lambda: sandbox.kernel_command("python", "/tmp", "/tmp", "/tmp/k.json"), TypeError, "`argv`"),
    (lambda: sandbox.kernel_command(["python"], None, "/tmp", "/tmp/k.json"), TypeError, "`folder` must be a path"),
    (lambda: _refused(verdict.grade_exercise(ROW, None)), ValueError,
     "there is no function `.*` to grade \\(it was not captured\\)"),
    (lambda: _refused(verdict.grade_exercise(ROW, {"payload": None, "error": "NameError: f"})), ValueError,
     "no function .*\\(NameError: f\\)"),
]

_TREE = DecisionTreeClassifier(random_state=0).fit(X4, Y3)
_PAIR = (X4, Y3)
_POOL = (np.zeros((12, 4), np.float32), np.r_[Y3, Y3])

FAMILIES = [   # issue 28: scikit-learn targets and shadows, the family x family transfer table
    (lambda: BlackBox(_TREE, n_classes=2), ValueError, "`n_classes` = 2 but the model answers 3 classes"),
    (lambda: BlackBox(_TREE, n_classes=0), ValueError, "`n_classes`"),
    (lambda: shadow.make_estimator("tree"), TypeError, "`estimator` must be a scikit-learn classifier"),
    (lambda: shadow.make_estimator(lambda: object()), TypeError, "`estimator` must give a classifier"),
    (lambda: shadow.ClassifierStack([], 3), TypeError, "`models` must be a non-empty list"),
    (lambda: shadow.ClassifierStack([DecisionTreeClassifier()], 3), TypeError, "`models\\[0\\]`.*fit it first"),
    (lambda: shadow.ClassifierStack([_TREE], 2), ValueError, "class indices 0 .. 1"),
    (lambda: shadow.ClassifierStack([_TREE], 3).predict_proba(np.zeros((2, 5))), ValueError, "features"),
    (lambda: shadow.train_shadows(X4, Y3, 1, train_size=2, recipe={}, estimator=_TREE), ValueError,
     "either `recipe`"),
    (lambda: shadow.train_shadows(X4, Y3, 1, train_size=2, n_classes=2, estimator=DecisionTreeClassifier()),
     ValueError, "`n_classes` = 2"),
    (lambda: mlleaks.MLLeaksAttack(true_label="yes"), TypeError, "`true_label`"),
    (lambda: whitebox.WhiteBoxAttack(n_shadows=1, train_size=2).fit(_POOL[0], _POOL[1], shadows=shadow.ShadowModels(
        shadow.ClassifierStack([_TREE], 3), MASKS[:, :1].repeat(2, 0), ~MASKS[:, :1].repeat(2, 0))), TypeError,
     "must be MLPs"),
    (lambda: metrics.auc_ci(np.arange(4.0), [True, True, False, False], n_boot=0), ValueError, "`n_boot`"),
    (lambda: metrics.auc_ci(np.arange(4.0), [True, True, False, False], level=1.5), ValueError, "`level`"),
    (lambda: metrics.auc_ci(np.arange(4.0), [True, True, True, True]), ValueError, "is_member"),
    (lambda: families.auc_table([0.5], [True, False]), TypeError, "`pair_scores` must be a non-empty dict"),
    (lambda: families.auc_table({"tree": np.ones(2)}, [True, False]), TypeError, "a pair \\(shadow family"),
    (lambda: families.auc_table({("a", "b"): np.ones(3)}, [True, False]), ValueError, "has 3 scores but"),
    (lambda: families.auc_table({("a", "b"): np.ones(2)}, [True, True]), ValueError, "is_member"),
    (lambda: families.family_transfer({}, _PAIR, _PAIR, _POOL), TypeError, "`families` must be a non-empty dict"),
    (lambda: families.family_transfer({"x": "tree"}, _PAIR, _PAIR, _POOL), TypeError, "`families\\['x'\\]`"),
    (lambda: families.family_transfer({"t": _TREE}, X4, _PAIR, _POOL), TypeError, "`members` must be a pair"),
    (lambda: families.family_transfer({"t": _TREE}, _PAIR, (X4[:, :3], Y3), _POOL), ValueError,
     "same features per record"),
    (lambda: families.family_transfer({"t": _TREE}, _PAIR, _PAIR, _PAIR), ValueError, "at least 12"),
    (lambda: families.family_transfer({"t": _TREE}, _PAIR, _PAIR, _POOL, n_classes=2), ValueError,
     "`n_classes` = 2"),
    (lambda: families.family_transfer({"t": _TREE}, _PAIR, _PAIR, _POOL, k=0), ValueError, "`k`"),
    (lambda: families.family_transfer({"t": _TREE}, _PAIR, _PAIR, _POOL, n_shadows=0), ValueError, "`n_shadows`"),
]


GRU = sequence.CharGRU(4, 4)
USERS = [["the cat.", "the pin of bob is 1234."], ["a dog.", "the pin of eve is 0042."]]
PROBS = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])

PROVENANCE = [   # notebook 13: Song & Shmatikov's user-level audit
    (lambda: provenance.synthetic_users(0), ValueError, "`n_users` must be an integer >= 1"),
    (lambda: provenance.synthetic_users(2, [3]), ValueError, "`n_sentences` must be one whole number or one per user"),
    (lambda: provenance.synthetic_users(2, 1), ValueError, "at least 2 sentences"),
    (lambda: provenance.synthetic_users(2, personal_rate=2), ValueError, "`personal_rate`"),
    (lambda: provenance.secret_prefix(["no secret here."]), ValueError, "last sentence holds its secret pin"),
    (lambda: provenance.NextCharacter("model"), TypeError, "`model` must be a mialab.sequence.CharGRU"),
    (lambda: provenance.NextCharacter(GRU).predict_proba(np.array([[-1.0, 3.0]])), ValueError,
     "followed only by -1 padding"),
    (lambda: provenance.prefix_queries("the cat."), TypeError, "each user of `sentences` must be a list of sentences"),
    (lambda: provenance.prefix_queries(["The Cat!"]), ValueError, "characters the model cannot read"),
    (lambda: provenance.prefix_queries(["a."], max_queries=0), ValueError, "`max_queries` must be an integer >= 1"),
    (lambda: provenance.next_char_ranks(PROBS, [0]), ValueError, "`next_chars` has 1 entries for 2 rows"),
    (lambda: provenance.next_char_ranks(PROBS, [0, 3]), ValueError, "`next_chars` must hold column indices"),
    (lambda: provenance.rank_histogram(PROBS, [0, 1], bins=[3, 1]), ValueError, "`bins` must be two or more"),
    (lambda: provenance.user_ranks(BlackBox(provenance.NextCharacter(GRU)), []), TypeError,
     "`users` must be a non-empty list of users"),
    (lambda: provenance.user_ranks(GRU, USERS), TypeError, "`target` must be a mialab.blackbox.BlackBox"),
    (lambda: provenance.rank_features(np.array([1, 2])), TypeError, "`ranks` must be a non-empty list of rank arrays"),
    (lambda: provenance.rank_features([np.array([0, 1])]), ValueError, "`ranks` must be ranks, 1"),
    (lambda: provenance.train_user_models(USERS, n_models=1), ValueError, "`n_models`"),
    (lambda: provenance.train_user_models(USERS, epochs=BIG), ValueError, "`epochs`"),
    (lambda: provenance.fit_audit(np.zeros((4, 2)), [True] * 4), ValueError, "both members and non-members"),
    (lambda: provenance.audit_scores("audit", np.zeros((2, 2))), TypeError, "`audit` must be a fitted audit model"),
    (lambda: provenance.cross_fit_scores(np.zeros((2, 3, 3)), np.zeros((3, 2), bool)), ValueError,
     "at least 2 models and 2 users per fold"),
    (lambda: provenance.cross_fit_scores(np.zeros((2, 4)), np.zeros((4, 2), bool)), ValueError, "`features`"),
    (lambda: provenance.user_exposures(GRU, [["a.", "b."]]), ValueError, "last sentence holds its secret pin"),
    (lambda: provenance.user_exposures(GRU, USERS, n_digits=2), ValueError, "must have 2 digits"),
]


REPRODUCE = [   # issue 30: python -m mialab.reproduce
    (lambda: reproduce.entry("no-such-entry"), ValueError, "unknown reproduction 'no-such-entry'; the known ones"),
    (lambda: reproduce.entry(3), ValueError, "unknown reproduction 3"),
    (lambda: reproduce.source_hash("salem_dropout"), ValueError, "known ones are: .*salem-dropout"),
    (lambda: reproduce.run("salem-dropout", "huge"), ValueError, "`size` must be one of"),
    (lambda: reproduce.run("salem-dropout", "tiny", device="tpu"), ValueError, "`device`"),
    (lambda: reproduce.run("salem-dropout", "tiny", seed=2 ** 70), ValueError, "`seed`"),
    (lambda: reproduce.render(3), TypeError, "`folder` must be a path"),
    (lambda: reproduce.write_report(3), TypeError, "`docs` must be a path"),
]


TABLES = {"_validation": VALIDATION, "models": MODELS, "data": DATA, "cache": CACHE, "blackbox": BLACKBOX,
          "metrics": METRICS, "download": DOWNLOAD, "attacks": ATTACKS, "ducks": DUCKS, "huge": HUGE,
          "capstone": CAPSTONE, "course": COURSE, "deep": DEEP, "silent": SILENT,
          "coverage": COVERAGE, "package_shape": PACKAGE_SHAPE, "families": FAMILIES,
          "provenance": PROVENANCE,
          "reproduce": REPRODUCE}
ROWS = [(name, i, *row) for name, table in TABLES.items() for i, row in enumerate(table)]


@pytest.mark.parametrize("module, i, call, error, match", ROWS, ids=[f"{r[0]}-{r[1]}" for r in ROWS])
def test_bad_input_fails_at_once_with_a_message_that_says_what_to_do(module, i, call, error, match, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setenv("MIALAB_CACHE", str(tmp_path))
    with pytest.raises(error, match=match):
        call()


# ---------------------------------------------------------------------------------------------------------------
# every public function of every module has a row
# ---------------------------------------------------------------------------------------------------------------

# Not in the tables, and why. Left out by rule: private modules (a name part starting with "_"), exceptions,
# callables that take no argument, and records (dataclasses, named tuples: results the package builds).
EXEMPT = {
    "mialab.course.grading": "being rewritten by the lead (grading); tests/test_grading.py covers its input",
    "mialab.reproduce.main": "the argparse front end of `python -m mialab.reproduce`; tests/test_reproduce.py checks "
                             "that it refuses unknown names, sizes and devices before running anything",
    "mialab.progress.progress": "a thin tqdm wrapper: whatever tqdm accepts, and tqdm's own errors",
    "mialab.threads.limited": "a context manager over set_torch_threads, which has rows",
    "mialab.attacks.signals.SignalAttack": "a typing.Protocol (the signature of a signal attack): never called",
    "mialab.course.sandbox.Copy": "a temporary folder around package_copy, whose rows cover its one argument",
    "mialab.course.verdict.CaptureExecute": "an nbgrader preprocessor that nbgrader builds and drives (traitlets); "
                                            "tests/test_verdict.py runs it",
    "mialab.course.verdict.Verdict": "an nbgrader preprocessor that nbgrader builds and drives (traitlets); "
                                     "tests/test_verdict.py runs it",
    "mialab.course.verdict.configure": "sets one entry of the traitlets Config nbgrader passes (`c` in "
                                       "nbgrader_config.py); tests/test_verdict.py checks the pipeline it installs",
}


def public_callables() -> dict:
    """{module name: {callable name: object}} for every public module of mialab, its own callables only."""
    import dataclasses
    import importlib
    import inspect
    import pkgutil

    import mialab
    found = {}
    for info in pkgutil.walk_packages(mialab.__path__, "mialab."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts) or parts[1] in ("checks", "answers"):
            continue   # private modules; the notebook checks and answers are graded by tests/test_checks_*
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if name.startswith("_") or not callable(obj) or getattr(obj, "__module__", None) != info.name:
                continue
            record = dataclasses.is_dataclass(obj) or inspect.isclass(obj) and issubclass(obj, tuple)
            if inspect.isclass(obj) and (issubclass(obj, BaseException) or record and obj is not recipe.TrainingRecipe):
                continue
            try:
                if not inspect.signature(obj).parameters:
                    continue
            except (TypeError, ValueError):
                pass
            found.setdefault(info.name, {})[name] = obj
    return found


def _code_names(code) -> set:
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= _code_names(const)
    return names


def rows_naming(module_name: str, name: str, obj, rows) -> list:
    """The rows whose call names `name` of `module_name` (through a module alias here, or the object itself)."""
    import sys
    here = vars(sys.modules[__name__])
    aliases = {alias for alias, value in here.items() if getattr(value, "__name__", None) == module_name
               and type(value).__name__ == "module"}
    found = []
    for row in rows:
        names = _code_names(row[0].__code__)
        if name in names and (names & aliases or here.get(name) is obj):
            found.append(row)
    return found


def test_every_public_function_of_every_module_has_a_bad_input_row():
    all_rows = [row for table in TABLES.values() for row in table]
    missing = [f"{module}.{name}" for module, members in public_callables().items() for name, obj in members.items()
               if module not in EXEMPT and f"{module}.{name}" not in EXEMPT
               and not rows_naming(module, name, obj, all_rows)]
    assert not missing, f"{len(missing)} public callables have no row in the bad-input tables: {missing}"


# ---------------------------------------------------------------------------------------------------------------
# valid but unusual input: accepted wherever an array, a number or a flag is
# ---------------------------------------------------------------------------------------------------------------

def _views():
    """The same 12 records as float64, float32, reversed (negative strides; float32 ones reach torch as they are),
    every other column, Fortran order, read-only, a list, a DataFrame: (name, X (12, 4)-like, y (12,)-like)."""
    import pandas as pd
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 8))
    y = np.arange(12) % 3
    readonly = X[:, :4].copy()
    readonly.setflags(write=False)
    return [("float32", X[:, :4].astype(np.float32), y), ("reversed", X[::-1, :4], y[::-1]),
            ("reversed float32", X[:, :4].astype(np.float32)[::-1], y[::-1]),
            ("strided", X[:, ::2], y), ("fortran", np.asfortranarray(X[:, :4]), y), ("readonly", readonly, y),
            ("list", X[:, :4].tolist(), y.tolist()), ("pandas", pd.DataFrame(X[:, :4]), pd.Series(y))]


VIEWS = _views()
S12 = np.linspace(0, 1, 12)
M12 = np.arange(12) % 2 == 0


def _stack():
    return train_many(np.zeros((12, 4), np.float32), np.arange(12) % 3, np.ones((12, 2), bool), hidden=(3,), epochs=1)


IN3 = np.tile([True, False, True], (12, 1))   # 12 records x 3 reference models, each record both IN and OUT


def _col(X, j):
    """Column j of a view, as the view's own kind (a Series for a DataFrame)."""
    return X.iloc[:, j] if hasattr(X, "iloc") else [row[j] for row in X] if isinstance(X, list) else X[:, j]


def _cols(X, start, stop):
    return X.iloc[:, start:stop] if hasattr(X, "iloc") else [row[start:stop] for row in X] \
        if isinstance(X, list) else X[:, start:stop]


def _softmax(values):
    e = np.exp(np.asarray(values, dtype=float))
    return e / e.sum(axis=1, keepdims=True)


def _sigmoid(values):
    return 1 / (1 + np.exp(-np.asarray(values, dtype=float)))


VALID = [   # (name, call taking (X, y))
    ("models.train", lambda X, y: models.train(models.MLP(4, 3, hidden=(3,)), X, y, epochs=1)),
    ("models.predict_proba", lambda X, y: models.predict_proba(_mlp(), X)),
    ("models.accuracy", lambda X, y: models.accuracy(_mlp(), X, y)),
    ("BlackBox.query", lambda X, y: BlackBox(_mlp()).query(X)),
    ("train_many", lambda X, y: train_many(X, y, np.ones((12, 2), bool), hidden=(3,), epochs=1)),
    ("signals", lambda X, y: signals.signals(_stack(), X, y)),
    ("lira.lira_scores", lambda X, y: lira.lira_scores(_col(X, 0), _cols(X, 1, 4), IN3)),
    ("rmia.rmia_scores", lambda X, y: rmia.rmia_scores(
        _sigmoid(_col(X, 0)), _sigmoid(_cols(X, 1, 4)), IN3, population_target_signals=[0.5, 0.4],
        population_ref_signals=[[0.5, 0.4, 0.6], [0.3, 0.2, 0.4]])),
    ("whitebox.whitebox_features", lambda X, y: whitebox.whitebox_features(_mlp(), X, y)),
    ("dpsgd.per_example_gradients", lambda X, y: dpsgd.per_example_gradients(_mlp(), X, y)),
    ("dpsgd.opacus_step", lambda X, y: dpsgd.opacus_step(_trained(), X, y)),
    ("relaxloss.train_relaxloss", lambda X, y: relaxloss.train_relaxloss(_mlp(), X, y, epochs=1)),
    ("relaxloss.relaxloss_objective", lambda X, y: relaxloss.relaxloss_objective(X, y, alpha=0.5, epoch=0)),
    ("federated.normalised_ascent", lambda X, y: federated.normalised_ascent(_mlp(), X, y)),
    ("LossAttack.score", lambda X, y: LossAttack(expected_loss=1.0).score(_box(), X, y)),
    ("GapAttack.score", lambda X, y: GapAttack().score(BlackBox(_mlp(), output="label"), X, y)),
    ("metrics.auc", lambda X, y: metrics.auc(_col(X, 0), M12)),
    ("features.entropy", lambda X, y: features.entropy(_softmax(_cols(X, 0, 3)))),
    ("generative.reconstruction_errors", lambda X, y: generative.reconstruction_errors(
        generative.VAE(4, latent=2, hidden=4), _sigmoid(X), n_draws=2)),
]

SCALARS = [   # NumPy scalars and lists where Python numbers and tuples are expected
    lambda: models.MLP(np.int64(4), np.int32(3), hidden=[np.int64(2)]),
    lambda: models.train(_mlp(), X4, Y3, epochs=np.int64(1), batch_size=np.int32(2), lr=np.float32(0.01)),
    lambda: metrics.tpr_at_fpr(S12, M12, fpr=np.float32(0.1)),
    lambda: metrics.evaluate(S12, M12, fprs=[np.float64(0.1)], n_boot=np.int64(2)),
    lambda: data.in_out_mask(np.int64(10), np.int64(2), random_state=np.int64(3)),
    lambda: lira.LiRA(np.int64(4), online=np.bool_(False)),
    lambda: blackbox.BlackBox(_mlp(), output="top_k", k=np.int64(2)),
    lambda: label_only.noisy_copies(X4, np.int64(2), "gaussian", strength=np.float64(0.1)),
    lambda: dpsgd.noise_multiplier_for(np.float64(8.0), sample_rate=np.float32(0.1), epochs=np.int64(2)),
    lambda: capstone.epsilon_lower_bound(np.int64(40), np.int64(50), np.int64(5), np.int64(50)),
    lambda: features.sorted_top_k([[0.2, 0.5, 0.3]], k=np.int64(2)),
    lambda: recipe.TrainingRecipe(hidden=[64], epochs=np.int64(3)),
]


@pytest.mark.filterwarnings("error:The given NumPy array is not writable")
@pytest.mark.parametrize("view", VIEWS, ids=[v[0] for v in VIEWS])
@pytest.mark.parametrize("name, call", VALID, ids=[v[0] for v in VALID])
def test_valid_but_unusual_arrays_are_accepted(name, call, view, tmp_path, monkeypatch):
    monkeypatch.setenv("MIALAB_CACHE", str(tmp_path))
    call(view[1], view[2])


@pytest.mark.parametrize("call", SCALARS, ids=range(len(SCALARS)))
def test_numpy_scalars_and_lists_are_accepted(call):
    call()
