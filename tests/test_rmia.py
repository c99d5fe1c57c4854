"""mialab.attacks.rmia: the relative likelihood ratio against population records, offline with the `a`
approximation, tuning `a`, the attack class, and clear errors."""

import warnings

import numpy as np
import pytest

from _small_models import one_thread, small_universe
from mialab.attacks.base import NotFittedError
from mialab.attacks import rmia
from mialab.blackbox import BlackBox
from mialab.metrics import auc, tpr_at_fpr


def _tpr(scores, is_member, fpr=0.01):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tpr_at_fpr(np.ravel(scores), np.ravel(is_member), fpr=fpr)


@pytest.fixture(scope="module")
def universe(tmp_path_factory):
    X, y, stack, masks, X_pop, y_pop = small_universe(tmp_path_factory.mktemp("models"), n_models=16)
    p = stack.predict_proba(X)[:, np.arange(len(y)), y].T                  # (n, 16)
    p_pop = stack.predict_proba(X_pop)[:, np.arange(len(y_pop)), y_pop].T  # (z, 16)
    return p, masks, p_pop


def test_rmia_beats_the_loss_threshold_at_low_fpr_on_real_models(universe):
    p, masks, p_pop = universe
    targets, refs = range(8), list(range(8, 16))
    scores = np.stack([rmia.rmia_scores(p[:, t], p[:, refs], masks[:, refs], population_target_signals=p_pop[:, t],
                                        population_ref_signals=p_pop[:, refs], online=False, a=0.0)
                       for t in targets], axis=1)
    is_member = masks[:, :8]
    loss_threshold = _tpr(p[:, :8], is_member)                          # p_y ranks like the loss
    assert _tpr(scores, is_member) > max(3 * loss_threshold, loss_threshold + 0.15)
    assert auc(scores.ravel(), is_member.ravel()) > auc(p[:, :8].ravel(), is_member.ravel()) + 0.03


def test_rmia_with_one_reference_model_beats_the_loss_threshold(universe):
    p, masks, p_pop = universe
    scores, members = [], []
    for t in range(8):
        ref = 8 + t                                                     # one reference model per target
        out = ~masks[:, ref]                                            # offline: candidates it did not train on
        scores.append(rmia.rmia_scores(p[out, t], p[out][:, [ref]], population_target_signals=p_pop[:, t],
                                       population_ref_signals=p_pop[:, [ref]], online=False, a=0.0))
        members.append(masks[out, t])
    scores, members = np.concatenate(scores), np.concatenate(members)
    baseline = np.concatenate([p[~masks[:, 8 + t], t] for t in range(8)])
    assert _tpr(scores, members) > _tpr(baseline, members) + 0.05


def test_score_counts_population_records_beaten_by_the_ratio():
    target_p = np.array([0.9, 0.2])
    ref_p = np.array([[0.5], [0.4]])
    pop_target, pop_ref = np.array([0.3, 0.6, 0.8]), np.array([[0.3], [0.5], [0.4]])
    population = dict(population_target_signals=pop_target, population_ref_signals=pop_ref)
    # online: Pr(x) = mean over references; ratios x: 1.8, 0.5; z: 1.0, 1.2, 2.0
    got = rmia.rmia_scores(target_p, ref_p, **population, online=True)
    assert np.array_equal(np.floor(got * 4), [2, 0])
    # offline, a = 0.5: Pr(x) = (1.5 * p_out + 0.5) / 2
    px = (1.5 * ref_p[:, 0] + 0.5) / 2
    pz = (1.5 * pop_ref[:, 0] + 0.5) / 2
    counts = [(pop_target / pz < t / x).sum() for t, x in zip(target_p, px)]
    got = rmia.rmia_scores(target_p, ref_p, **population, online=False, a=0.5)
    assert np.array_equal(np.floor(got * 4), counts)
    # gamma = 2 asks for twice the ratio
    strict = rmia.rmia_scores(target_p, ref_p, **population, online=True, gamma=2.0)
    assert np.array_equal(np.floor(strict * 4), [0, 0])


def test_offline_ignores_the_models_that_trained_on_a_record():
    ref_p = np.array([[0.2, 0.99], [0.2, 0.01]])
    ref_in = np.array([[False, True], [False, True]])
    scores = rmia.rmia_scores(np.array([0.5, 0.5]), ref_p, ref_in, population_target_signals=np.array([0.5, 0.4]),
                              population_ref_signals=np.array([[0.5, 0.5], [0.4, 0.4]]), online=False, a=0.3)
    assert scores[0] == scores[1]


def test_ties_are_broken_by_the_ratio_without_changing_the_counts():
    target_p = np.array([0.99, 0.9, 0.5])
    ref_p = np.full((3, 1), 0.1)
    scores = rmia.rmia_scores(target_p, ref_p, population_target_signals=np.array([0.1, 0.1]),
                              population_ref_signals=np.full((2, 1), 0.1), online=True)
    assert scores[0] > scores[1] > scores[2]                             # all beat both z, yet ordered
    assert np.array_equal(np.floor(scores * 3), [2, 2, 2]) and np.all(scores < 1)


def test_tune_offline_a_picks_a_grid_value_that_is_best_on_the_reference_models(universe):
    p, masks, p_pop = universe
    refs = list(range(8, 12))
    a = rmia.tune_offline_a(p[:, refs], masks[:, refs], p_pop[:, refs], grid=[0.0, 0.5, 1.0])
    assert a in (0.0, 0.5, 1.0)
    assert a < 1.0                                                       # these models fit their records: Pr_IN ~ 1


def test_the_attack_class_scores_a_black_box(tmp_path):
    from mialab import data
    from mialab.many_models import train_many
    X, y = data.load_purchase(n_classes=10, n_records=1000, random_state=0)
    config = dict(hidden=(16,), epochs=5, batch_size=32)
    with one_thread():
        target = BlackBox(train_many(X[:200], y[:200], np.ones((200, 1), bool), n_classes=10, **config)[0])
        attack = rmia.RMIA(2, n_population=100, cache_dir=tmp_path, recipe=config).fit(X[400:900], y[400:900],
                                                                                 n_classes=10)
    X_cand, y_cand = np.concatenate([X[:100], X[200:300]]), np.concatenate([y[:100], y[200:300]])
    scores = attack.score(target, X_cand, y_cand)
    assert scores.shape == (200,) and 0.0 <= attack.a_ <= 1.0
    assert target.n_queries == 200 + 100                                 # candidates + population
    assert scores[:100].mean() > scores[100:].mean()
    with one_thread():
        single = rmia.RMIA(1, a=0.3, n_population=100, cache_dir=tmp_path, recipe=config).fit(X[400:900], y[400:900],
                                                                                         n_classes=10)
    assert len(single.reference_models_) == 1 and single.score(target, X_cand, y_cand).shape == (200,)


def test_bad_input_raises_clear_errors():
    p, r, z, zr = np.array([0.5, 0.6]), np.array([[0.5], [0.6]]), np.array([0.5]), np.array([[0.5]])
    pop = dict(population_target_signals=z, population_ref_signals=zr)
    with pytest.raises(ValueError, match="a"):
        rmia.rmia_scores(p, r, **pop, a=1.5)
    with pytest.raises(ValueError, match="gamma"):
        rmia.rmia_scores(p, r, **pop, gamma=0)
    with pytest.raises(ValueError, match="probabilities"):
        rmia.rmia_scores(p * 3, r, **pop)
    with pytest.raises(ValueError, match="rows"):
        rmia.rmia_scores(p, r[:1], **pop)
    with pytest.raises(ValueError, match="population_ref_signals"):
        rmia.rmia_scores(p, r, population_target_signals=z, population_ref_signals=np.array([[0.5, 0.5]]))
    with pytest.raises(ValueError, match="no OUT reference"):
        rmia.rmia_scores(p, r, np.ones((2, 1), bool), **pop, online=False)
    with pytest.raises(ValueError, match="NaN"):
        rmia.rmia_scores(np.array([np.nan, 0.5]), r, **pop)
    with pytest.raises(ValueError, match="at least 2 reference"):
        rmia.tune_offline_a(r, np.ones((2, 1), bool), np.full((4, 1), 0.5))
    with pytest.raises(ValueError, match="n_reference >= 2"):
        rmia.RMIA(1)
    with pytest.raises(NotFittedError, match="fit"):
        from mialab.models import MLP
        rmia.RMIA(2).score(BlackBox(MLP(4, 2)), np.zeros((2, 4)), np.array([0, 1]))
