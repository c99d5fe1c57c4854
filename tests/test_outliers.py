"""mialab.defenses.outliers: the most exposed records flagged and removed before training (Long et al. 2018), and
what removing them does to the removed records and to the others (Carlini et al. 2022, the privacy onion effect);
and exercise 11.5's check and hidden test."""

import numpy as np
import pytest
import torch

from mialab import metrics, models
from mialab.attacks import lira, vulnerable
from mialab.attacks.signals import signals
from mialab.checks import CheckError, NotDoneError, nb11
from mialab.checks.grading import HiddenTestFailed
from mialab.defenses import outliers
from mialab.many_models import train_many
from _course import hidden_test
from _small_models import CONFIG, one_thread, small_universe, synthetic_values

pytestmark = pytest.mark.usefixtures("one_thread_module")


def _brute_force_top(exposure, k):
    return [i for _, i in sorted((-e, i) for i, e in enumerate(exposure))][:k]


@pytest.mark.parametrize("seed", range(5))
def test_flagged_records_are_the_most_exposed_by_a_brute_force_ranking(seed):
    rng = np.random.default_rng(seed)
    exposure = np.round(rng.normal(size=200), 1)           # many ties, some straddling the cut
    for k in (0, 1, 17, 100, 200):
        assert outliers.flag_exposed(exposure, k).tolist() == _brute_force_top(exposure, k)


def test_ties_go_to_the_lower_index_and_the_order_is_most_exposed_first():
    assert outliers.flag_exposed([0.5, 0.9, 0.5, 0.5, -1.0], 3).tolist() == [1, 0, 2]
    assert outliers.flag_exposed([-3.0, -1.0, -2.0], 2).tolist() == [1, 2]


def test_kept_indices_keep_the_requested_share_and_nothing_more_exposed_than_the_removed():
    rng = np.random.default_rng(1)
    exposure = rng.normal(size=500)
    for share in (0.05, 0.1, 0.5):
        k = int(share * len(exposure))
        kept, removed = outliers.kept_indices(exposure, k), outliers.flag_exposed(exposure, k)
        assert len(kept) == len(exposure) - k and len(removed) == k
        assert np.all(np.diff(kept) > 0)                                  # increasing, no repeats
        assert np.array_equal(np.sort(np.concatenate([kept, removed])), np.arange(len(exposure)))
        assert exposure[kept].max() <= exposure[removed].min()


def test_influence_measure_is_longs_leave_one_out_influence_and_finds_the_planted_effects():
    values, masks = synthetic_values(n_records=400, n_chunks=2, chunk_size=4, random_state=3)
    exposure = outliers.record_leakage(values, masks)
    assert np.allclose(exposure, vulnerable.influence(values, masks))
    # the planted effect: values = base + effect * IN + noise; the top 40 by exposure are mostly the top 40 effects
    rng = np.random.default_rng(3)
    rng.normal(0.0, 3.0, 400)
    effect = np.abs(rng.normal(1.5, 1.5, 400))
    planted = set(np.argsort(-effect)[:40])
    assert len(planted & set(outliers.flag_exposed(exposure, 40))) >= 30


def test_lira_measure_is_each_records_per_record_tpr_and_needs_two_in_and_two_out():
    values, masks = synthetic_values(n_records=300, n_chunks=4, chunk_size=4, random_state=5)
    exposure = outliers.record_leakage(values, masks, measure="lira", fpr=0.05)
    assert exposure.shape == (300,) and np.all((exposure >= 0) & (exposure <= 1))
    # per-record TPR at the pooled threshold: its mean over records, weighted by IN counts, is the pooled TPR
    from mialab.attacks.signals import leave_one_out
    scores, is_member = leave_one_out(lira.lira_online, values, masks, fix_variance=True)
    leak = vulnerable.per_record_leakage(scores, is_member, fpr=0.05)
    assert np.allclose(exposure, leak.tpr)
    pooled_tpr = ((scores >= leak.threshold) & is_member).sum() / is_member.sum()
    assert np.isclose(np.average(exposure, weights=is_member.sum(axis=1)), pooled_tpr)
    # the two measures agree on who is exposed (the per-record TPR saturates at 1, so compare means, not top sets)
    influence_top = outliers.flag_exposed(outliers.record_leakage(values, masks), 30)
    rest = np.setdiff1d(np.arange(300), influence_top)
    assert exposure[influence_top].mean() >= 0.95 and exposure[rest].mean() <= 0.8
    with pytest.raises(ValueError, match="IN for at least 2"):
        outliers.record_leakage(values[:, :2], masks[:, :2], measure="lira")


def test_retraining_excludes_the_flagged_records_and_trains_as_the_target_did():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(60, 8)).astype(np.float32)
    y = rng.integers(0, 3, size=60)
    exposure = rng.normal(size=60)
    model, kept = outliers.train_without_exposed(models.MLP(8, 3, hidden=(4,), random_state=1), X, y, exposure, 6,
                                                 epochs=3, random_state=2)
    assert np.array_equal(kept, outliers.kept_indices(exposure, 6))
    assert not set(kept) & set(outliers.flag_exposed(exposure, 6))
    same = models.train(models.MLP(8, 3, hidden=(4,), random_state=1), X[kept], y[kept], epochs=3, random_state=2)
    for a, b in zip(model.parameters(), same.parameters()):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="removes every training record"):
        outliers.train_without_exposed(models.MLP(8, 3, hidden=(4,)), X, y, exposure, 60)


# --- a small real setup: what removal does to the removed records and to the others ---------------------------

N_TARGETS = 8


@pytest.fixture(scope="module")
def removal(tmp_path_factory):
    """300 members of a 600-record universe; the defender's 16 reference models (each record IN for 8); 8 targets
    trained on all members and 8, with the same seeds, without the 30 most exposed; LiRA against each."""
    X, y, stack, masks, _, _ = small_universe(tmp_path_factory.mktemp("models"), n_models=16)
    values = signals(stack, X, y)
    is_member = np.zeros(len(X), bool)
    is_member[np.random.default_rng(0).permutation(len(X))[:300]] = True
    members = np.flatnonzero(is_member)
    exposure = outliers.record_leakage(values[members], masks[members])
    kept, removed = members[outliers.kept_indices(exposure, 30)], members[outliers.flag_exposed(exposure, 30)]

    def lira_against(rows):
        trained = np.zeros((len(X), N_TARGETS), bool)
        trained[rows] = True
        with one_thread():
            targets = train_many(X, y, trained, n_classes=10, random_state=100, **CONFIG)
        target_values = signals(targets, X, y)
        return np.stack([lira.lira_online(target_values[:, j], values, masks, fix_variance=True)
                         for j in range(N_TARGETS)], axis=1)

    return dict(is_member=is_member, members=members, kept=kept, removed=removed,
                before=lira_against(members), after=lira_against(kept))


def _caught(scores, is_member, fpr=0.05):
    """Per record, the share of the targets that call it a member at the threshold of `fpr` over non-members."""
    threshold = np.quantile(scores[~is_member].ravel(), 1 - fpr)
    return (scores > threshold).mean(axis=1)


def test_removed_records_were_the_most_exposed_and_are_safe_after_retraining(removal):
    r = removal
    before, after = _caught(r["before"], r["is_member"]), _caught(r["after"], r["is_member"])
    assert before[r["removed"]].mean() >= 0.9                             # flagged: caught by nearly every target
    assert before[r["removed"]].mean() > before[r["kept"]].mean() + 0.2
    assert after[r["removed"]].mean() <= 0.15                             # no longer trained on: non-member level
    assert after[~r["is_member"]].mean() == pytest.approx(0.05, abs=0.01)


def test_the_remaining_records_stay_exposed_and_some_safe_ones_become_exposed(removal):
    """The onion effect, measured per record: the defence protects the records it removes, not the others. Their
    leakage after removal stays far above the FPR and within 0.15 of what it was on average (at this small scale it
    falls a little: 0.71 -> 0.60 caught per target), and the ranking reshuffles both ways: some records that at most
    a quarter of the targets caught before are caught by at least half after (the next layer), others the reverse.
    Notebook 11 measures it at the course's scale, against removing as many records at random."""
    r = removal
    before, after = _caught(r["before"], r["is_member"]), _caught(r["after"], r["is_member"])
    kept = r["kept"]
    assert after[kept].mean() >= 0.5
    assert abs(after[kept].mean() - before[kept].mean()) <= 0.15
    newly_exposed = (before[kept] <= 0.25) & (after[kept] >= 0.5)
    newly_safe = (before[kept] >= 0.75) & (after[kept] <= 0.25)
    assert newly_exposed.sum() >= 1 and newly_safe.sum() >= 1
    members = np.r_[np.ones(len(kept) * N_TARGETS), np.zeros((~r["is_member"]).sum() * N_TARGETS)].astype(bool)
    tpr_after = metrics.tpr_at_fpr(np.r_[r["after"][kept].ravel(), r["after"][~r["is_member"]].ravel()], members, 0.05)
    assert tpr_after >= 0.5


# --- exercise 11.5 -------------------------------------------------------------------------------------------

def _right(leakage, k):
    return np.lexsort((np.arange(len(leakage)), -np.asarray(leakage)))[:k]


def _wrong(leakage, k):   # ties broken by the higher index (a reversed ascending sort)
    return np.argsort(leakage, kind="stable")[::-1][:k]


def _ascending(leakage, k):   # the right set, least exposed first
    return np.argsort(leakage, kind="stable")[-k:]


def test_exercise_11_5_check_passes_the_reference_and_fails_wrong_answers(capsys):
    exposure = np.random.default_rng(0).normal(size=300)
    nb11.check_records_to_remove(_right, exposure, 30)
    assert "✅" in capsys.readouterr().out
    for wrong in (_wrong, _ascending):
        with pytest.raises(CheckError):
            nb11.check_records_to_remove(wrong, exposure, 30)
    with pytest.raises(CheckError, match="calls mialab's own implementation"):
        nb11.check_records_to_remove(lambda leakage, k: outliers.flag_exposed(leakage, k), exposure, 30)
    with pytest.raises(NotDoneError):
        nb11.check_records_to_remove(lambda leakage, k: (_ for _ in ()).throw(NotImplementedError()))


def test_exercise_11_5_hidden_test_passes_the_reference_and_fails_wrong_answers():
    assert hidden_test("nb11", "records_to_remove", _right) is None
    for wrong in (_wrong, _ascending):
        with pytest.raises(HiddenTestFailed, match="wrong answer"):
            hidden_test("nb11", "records_to_remove", wrong)
    with pytest.raises(HiddenTestFailed, match="calls mialab's own implementation"):
        hidden_test("nb11", "records_to_remove", lambda leakage, k: outliers.kept_indices(leakage, 0)[:k])
