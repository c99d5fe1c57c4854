"""mialab.attacks.lira: per-record Gaussians beat a global threshold at low FPR; online/offline, fixed/per-record
variance, augmented queries, many models as targets, the attack class, and clear errors."""

import warnings

import numpy as np
import pytest
from scipy.stats import norm

from _small_models import one_thread, small_universe, synthetic_values
from mialab.attacks.augment import shifted_copies
from mialab.attacks.signals import leave_one_out, signals
from mialab.attacks.base import NotFittedError
from mialab.attacks import lira
from mialab.blackbox import BlackBox
from mialab.metrics import tpr_at_fpr

TARGETS, REFERENCES = [0, 1, 2, 3], list(range(4, 20))


def _tpr(scores, is_member, fpr=0.01):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tpr_at_fpr(np.ravel(scores), np.ravel(is_member), fpr=fpr)


@pytest.fixture(scope="module")
def synthetic():
    return synthetic_values()


@pytest.fixture(scope="module")
def universe(tmp_path_factory):
    X, y, stack, masks, X_pop, y_pop = small_universe(tmp_path_factory.mktemp("models"), n_models=16)
    return X, y, stack, masks, signals(stack, X, y)


# --- the attack works, and a broken one would not --------------------------------------------------------------

@pytest.mark.parametrize("online", [True, False])
@pytest.mark.parametrize("fix_variance", [True, False])
def test_every_variant_beats_the_global_threshold_on_synthetic_records(synthetic, online, fix_variance):
    values, masks = synthetic
    scores, is_member = leave_one_out(lira.lira_scores, values, masks, online=online, fix_variance=fix_variance,
                                                  targets=TARGETS, references=REFERENCES)
    baseline = _tpr(values[:, TARGETS], masks[:, TARGETS])
    assert scores.shape == is_member.shape == (len(values), 4)
    assert np.array_equal(is_member, masks[:, TARGETS])
    assert _tpr(scores, is_member) > max(5 * baseline, baseline + 0.3)


def test_lira_beats_the_loss_threshold_at_low_fpr_on_real_models(universe):
    X, y, stack, masks, values = universe
    targets, references = range(8), range(8, 16)
    scores, is_member = leave_one_out(lira.lira_scores, values, masks, fix_variance=True, targets=targets,
                                                  references=references)
    loss_threshold = _tpr(values[:, :8], masks[:, :8])        # logit scaling keeps the loss's ranking
    assert _tpr(scores, is_member) > max(3 * loss_threshold, loss_threshold + 0.15)


def test_fixed_variance_wins_with_few_models(synthetic):
    values, masks = synthetic
    few = REFERENCES[:4]                                         # 2 IN and 2 OUT models per record
    for online in (True, False):
        fixed = _tpr(*leave_one_out(lira.lira_scores, values, masks, online=online, fix_variance=True, targets=TARGETS,
                                                references=few))
        own = _tpr(*leave_one_out(lira.lira_scores, values, masks, online=online, fix_variance=False, targets=TARGETS,
                                              references=few))
        assert fixed > own + 0.2


def test_online_beats_offline_on_real_models(universe):
    X, y, stack, masks, values = universe
    tpr = {online: _tpr(*leave_one_out(lira.lira_scores, values, masks, online=online, fix_variance=True,
                                                   targets=range(8), references=range(8, 16)))
           for online in (True, False)}
    assert tpr[True] > tpr[False] + 0.03


def test_per_record_variance_pays_off_when_records_differ_in_spread_and_models_are_many():
    spread = np.where(np.arange(2000) % 2 == 0, 0.2, 2.0)
    values, masks = synthetic_values(n_chunks=9, spread=spread, random_state=1)
    refs = list(range(4, 36))
    fixed = _tpr(*leave_one_out(lira.lira_scores, values, masks, fix_variance=True, targets=TARGETS, references=refs))
    own = _tpr(*leave_one_out(lira.lira_scores, values, masks, fix_variance=False, targets=TARGETS, references=refs))
    assert own > fixed + 0.03


def test_more_reference_models_help_per_record_variance(synthetic):
    values, masks = synthetic
    tprs = [_tpr(*leave_one_out(lira.lira_scores, values, masks, fix_variance=False, targets=TARGETS,
                                            references=REFERENCES[:k])) for k in (4, 8, 16)]
    assert tprs[0] < tprs[1] < tprs[2]


# --- the formulas -----------------------------------------------------------------------------------------------

def test_log_likelihood_ratio_is_the_difference_of_gaussian_log_densities():
    x, mi, si, mo, so = np.array([0.5, 3.0]), np.array([2.0, 2.0]), np.array([1.0, 0.5]), np.array([0.0, -1.0]), \
        np.array([1.0, 2.0])
    expected = -(x - mi) ** 2 / (2 * si ** 2) - np.log(si) + (x - mo) ** 2 / (2 * so ** 2) + np.log(so)
    assert np.allclose(lira.log_likelihood_ratio(x, mi, si, mo, so), expected)


def test_online_score_uses_medians_and_pooled_spread_by_hand():
    values = np.array([[1.0, 2.0, 4.0, 0.0, 1.0, -1.0], [5.0, 7.0, 6.0, 2.0, 2.0, 5.0]])
    ref_in = np.array([[1, 1, 1, 0, 0, 0], [1, 1, 1, 0, 0, 0]], bool)
    x = np.array([3.0, 3.0])
    mean_in, mean_out = np.array([2.0, 6.0]), np.array([0.0, 2.0])
    ss_in = np.sum((values[:, :3] - values[:, :3].mean(1, keepdims=True)) ** 2)
    ss_out = np.sum((values[:, 3:] - values[:, 3:].mean(1, keepdims=True)) ** 2)
    s_in, s_out = np.sqrt(ss_in / 4), np.sqrt(ss_out / 4)
    expected = norm.logpdf(x, mean_in, s_in) - norm.logpdf(x, mean_out, s_out)
    assert np.allclose(lira.lira_online(x, values, ref_in, fix_variance=True), expected)
    own_in = values[:, :3].std(1, ddof=1)
    own_out = values[:, 3:].std(1, ddof=1)
    expected = norm.logpdf(x, mean_in, own_in) - norm.logpdf(x, mean_out, own_out)
    assert np.allclose(lira.lira_online(x, values, ref_in, fix_variance=False), expected)
    fitted = lira.fit_gaussians(values, ref_in)
    assert np.allclose(fitted["mean_in"], mean_in) and np.allclose(fitted["std_out"], own_out)


def test_offline_score_is_the_one_sided_tail_and_ignores_in_models():
    values = np.array([[0.0, 2.0, 100.0], [1.0, 3.0, -50.0]])
    ref_in = np.array([[0, 0, 1], [0, 0, 1]], bool)
    x = np.array([1.0, 10.0])
    got = lira.lira_offline(x, values, ref_in, fix_variance=False)
    assert np.allclose(got, -norm.logsf(x, [1.0, 2.0], np.sqrt(2.0)))
    assert np.allclose(got, lira.lira_offline(x, values[:, :2], None, fix_variance=False))
    assert np.isfinite(lira.lira_offline(np.array([500.0, 1.0]), values[:, :2])).all()   # far tail stays finite


def test_one_reference_model_works_offline_with_fixed_variance():
    values = np.array([[0.0], [1.0], [5.0]])
    scores = lira.lira_offline(np.array([1.0, 1.0, 1.0]), values, fix_variance=True)
    assert np.all(np.diff(scores) < 0)                            # ranked by x - mean_out


def test_augmented_queries_average_per_augmentation_scores(synthetic):
    values, masks = synthetic
    x, refs, ref_in = values[:, 0], values[:, 4:12], masks[:, 4:12]
    one = lira.lira_online(x, refs, ref_in)
    assert np.allclose(lira.lira_online(x[:, None], refs[:, :, None], ref_in), one)
    two = lira.lira_online(np.stack([x, x + 1], 1), np.stack([refs, refs + 1], 2), ref_in)
    assert np.allclose(two, one)                                  # a shift of both changes nothing


def test_leave_one_out_never_uses_the_target_as_its_own_reference(synthetic):
    values, masks = synthetic
    cheat = values.copy()
    cheat[:, 0] = 1000.0 * masks[:, 0]                           # a target that would give itself away
    scores, _ = leave_one_out(lira.lira_scores, cheat, masks, targets=[1], references=[0] + REFERENCES)
    clean, _ = leave_one_out(lira.lira_scores, values, masks, targets=[1], references=[0] + REFERENCES)
    assert not np.allclose(scores, clean)                        # model 0 is a reference for target 1 ...
    again, _ = leave_one_out(lira.lira_scores, cheat, masks, targets=[0], references=[0] + REFERENCES)
    want, _ = leave_one_out(lira.lira_scores, cheat, masks, targets=[0], references=REFERENCES)
    assert np.allclose(again, want)                              # ... but never for itself


# --- the attack class -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("online", [True, False])
def test_the_attack_class_scores_a_black_box(tmp_path, online):
    from mialab import data
    from mialab.many_models import train_many
    X, y = data.load_purchase(n_classes=10, n_records=1000, random_state=0)
    config = dict(hidden=(16,), epochs=5, batch_size=32)
    X_cand, y_cand = np.concatenate([X[:100], X[200:300]]), np.concatenate([y[:100], y[200:300]])
    with one_thread():
        target_stack = train_many(X[:200], y[:200], np.ones((200, 1), bool), n_classes=10, **config)
        target = BlackBox(target_stack[0], output="probabilities")
        attack = lira.LiRA(4, online=online, fix_variance=True, cache_dir=tmp_path, recipe=config)
        attack.fit(X[400:800], y[400:800], n_classes=10)
        scores = attack.score(target, X_cand, y_cand)
    assert scores.shape == (200,) and np.isfinite(scores).all()
    assert target.n_queries == 200
    assert scores[:100].mean() > scores[100:].mean()


def test_the_attack_class_rejects_label_only_targets_and_bad_settings(tmp_path):
    from mialab.models import MLP
    with pytest.raises(ValueError, match="multiple"):
        lira.LiRA(6, chunk_size=4)
    with pytest.raises(TypeError, match="augment"):
        lira.LiRA(4, augment="shift")
    with pytest.raises(NotFittedError, match="fit"):
        lira.LiRA(4).score(BlackBox(MLP(4, 2)), np.zeros((2, 4)), np.array([0, 1]))
    attack = lira.LiRA(4, cache_dir=tmp_path, recipe=dict(hidden=(4,), epochs=1))
    rng = np.random.default_rng(0)
    attack.fit(rng.random((40, 4)), rng.integers(0, 2, 40))
    with pytest.raises(ValueError, match="probabilit"):
        attack.score(BlackBox(MLP(4, 2), output="label"), rng.random((4, 4)), np.array([0, 1, 0, 1]))


# --- bad input ------------------------------------------------------------------------------------------------------

def test_bad_input_raises_clear_errors():
    v = np.zeros((3, 4))
    m = np.array([[1, 1, 0, 0]] * 3, bool)
    x = np.zeros(3)
    with pytest.raises(ValueError, match="no IN reference"):
        lira.lira_online(x, v, np.zeros((3, 4), bool))
    with pytest.raises(ValueError, match="no OUT reference"):
        lira.lira_offline(x, v, np.ones((3, 4), bool))
    with pytest.raises(ValueError, match="in_mask"):
        lira.lira_online(x, v, m[:, :3])
    with pytest.raises(ValueError, match="same records"):
        lira.lira_online(np.zeros(2), v, m)
    with pytest.raises(ValueError, match="NaN"):
        lira.lira_online(np.array([np.nan, 0, 0]), v, m)
    with pytest.raises(ValueError, match="booleans"):
        lira.lira_online(x, v, np.full((3, 4), 2))
    with pytest.raises(ValueError, match="ref_signals"):
        lira.lira_online(x, np.zeros((3, 4, 2)), m)
    with pytest.raises(TypeError, match="fix_variance"):
        lira.lira_online(x, v, m, fix_variance="yes")
    with pytest.raises(ValueError, match="targets"):
        leave_one_out(lira.lira_scores, v, m, targets=[7])
    with pytest.raises(ValueError, match="std"):
        lira.log_likelihood_ratio(x, x, x, x, np.ones(3))
    with pytest.raises(ValueError, match="one shape"):
        lira.log_likelihood_ratio(x, x, np.ones(3), x, np.ones(2))
    with pytest.raises(ValueError, match="image_shape"):
        shifted_copies(np.zeros((2, 10)))


# --- the notebook's exercise checks and hidden tests ------------------------------------------------------------

def _logit(probs, y):
    rows = np.arange(len(y))
    return np.log(np.clip(probs[rows, y], 1e-12, None)) - np.log(np.clip(probs.sum(1) - probs[rows, y], 1e-12, None))


def _ratio(x, mi, si, mo, so):
    return norm.logpdf(x, mi, si) - norm.logpdf(x, mo, so)


def _pooled_tpr(scores, is_member, fpr):
    scores, is_member = np.ravel(scores), np.ravel(is_member).astype(bool)
    out = np.sort(scores[~is_member])[::-1]
    allowed = int(np.floor(fpr * len(out) + 1e-9))
    return 1.0 if allowed >= len(out) else float(np.mean(scores[is_member] > out[allowed]))


def test_exercise_checks_pass_correct_solutions_and_catch_wrong_ones(synthetic, capsys):
    from mialab.checks import CheckError, nb05
    from _course import hidden_test
    from mialab.checks.grading import HiddenTestFailed
    values, masks = synthetic
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(5), 50)
    y = rng.integers(0, 5, 50)
    fitted = lira.fit_gaussians(values[:, 4:], masks[:, 4:], fix_variance=True)
    scores, is_member = leave_one_out(lira.lira_scores, values, masks, targets=TARGETS, references=REFERENCES)
    nb05.check_logit_scale(_logit, probs, y)
    nb05.check_likelihood_ratio(_ratio, values[:, 0], fitted)
    nb05.check_tpr_at_low_fpr(_pooled_tpr, scores, is_member)
    assert capsys.readouterr().out.count("✅") == 3
    for name, func in (("logit_scale", _logit), ("likelihood_ratio", _ratio), ("tpr_at_low_fpr", _pooled_tpr)):
        hidden_test("nb05", name, func)
    naive = lambda p, y: np.log(p[np.arange(len(y)), y] / (1 - p[np.arange(len(y)), y]))   # noqa: E731
    no_spread = lambda x, mi, si, mo, so: (x - mo) ** 2 / (2 * so ** 2) - (x - mi) ** 2 / (2 * si ** 2)  # noqa: E731
    first_target = lambda s, m, f: _tpr(s[:, 0] if np.ndim(s) == 2 else s, m[:, 0] if np.ndim(m) == 2 else m, f)  # noqa
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for check, wrong in ((nb05.check_logit_scale, naive), (nb05.check_likelihood_ratio, no_spread),
                             (nb05.check_tpr_at_low_fpr, first_target)):
            with pytest.raises(CheckError):
                check(wrong)
        for name, wrong in (("logit_scale", naive), ("likelihood_ratio", no_spread),
                            ("tpr_at_low_fpr", first_target)):
            with pytest.raises(HiddenTestFailed):
                hidden_test("nb05", name, wrong)
        with pytest.raises(HiddenTestFailed, match="mialab's own"):
            hidden_test("nb05", "logit_scale", lambda p, y: lira.logit_scale(p, y))
