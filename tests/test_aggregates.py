"""mialab.aggregates (Homer's test, likelihood ratio, location aggregates) and the notebook-10 checks of them."""

from __future__ import annotations

import numpy as np
import pytest

from mialab import aggregates, metrics
from mialab.checks import CheckError, nb10
from _course import hidden_test
from mialab.checks.grading import HiddenTestFailed


def _auc(statistic, study):
    return metrics.auc(statistic(study.genotypes, study.pool_freqs, study.reference_freqs), study.is_member)


# --- genomes -----------------------------------------------------------------------------------------------

def test_genome_pool_members_are_in_the_published_mixture():
    study = aggregates.genome_pool(n_snps=300, pool_size=50, n_reference=100, n_candidates=40, random_state=0)
    assert study.genotypes.shape == (40, 300) and study.is_member.sum() == 20
    assert set(np.unique(study.genotypes)) <= {0.0, 0.5, 1.0}
    # each member contributes 1/pool_size of the mixture: the members' mean is pulled towards the pool
    members = study.genotypes[study.is_member].mean(0)
    outsiders = study.genotypes[~study.is_member].mean(0)
    assert np.abs(members - study.pool_freqs).mean() < np.abs(outsiders - study.pool_freqs).mean()
    again = aggregates.genome_pool(n_snps=300, pool_size=50, n_reference=100, n_candidates=40, random_state=0)
    np.testing.assert_array_equal(again.pool_freqs, study.pool_freqs)


def test_homer_statistic_is_a_t_statistic_of_the_distance_differences():
    genotypes = np.array([[0.0, 0.5, 1.0, 0.5]])
    pool, ref = np.array([0.2, 0.6, 0.7, 0.4]), np.array([0.3, 0.4, 0.5, 0.5])
    d = np.abs(genotypes[0] - ref) - np.abs(genotypes[0] - pool)
    expected = d.mean() / (d.std(ddof=1) / 2)
    assert aggregates.homer_statistic(genotypes, pool, ref)[0] == pytest.approx(expected)
    assert aggregates.homer_statistic(genotypes, ref, pool)[0] == pytest.approx(-expected)


def test_inference_is_stronger_with_more_snps_and_weaker_with_bigger_pools():
    auc = {}
    for pool_size in (100, 1000):
        for n_snps in (500, 5000):
            study = aggregates.genome_pool(n_snps=n_snps, pool_size=pool_size, n_candidates=200, random_state=1)
            auc[pool_size, n_snps] = (_auc(aggregates.homer_statistic, study),
                                      _auc(aggregates.likelihood_ratio_statistic, study))
    for test in (0, 1):
        assert auc[100, 5000][test] > auc[100, 500][test] > auc[1000, 500][test]
        assert auc[1000, 5000][test] > auc[1000, 500][test]
    assert auc[1000, 500][0] > 0.55


def test_likelihood_ratio_of_a_person_is_the_log_ratio_of_their_allele_probabilities():
    genotypes = np.array([[1.0, 0.0]])  # two copies of the allele at SNP 0, none at SNP 1
    pool, ref = np.array([0.5, 0.2]), np.array([0.25, 0.4])
    expected = 2 * np.log(0.5 / 0.25) + 2 * np.log(0.8 / 0.6)
    assert aggregates.likelihood_ratio_statistic(genotypes, pool, ref)[0] == pytest.approx(expected)


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_snps=0), "n_snps"), (dict(pool_size=10, n_candidates=40), "pool_size"),
    (dict(n_snps=10**6, pool_size=1000), "memory"), (dict(random_state="a"), "random_state"),
])
def test_genome_pool_refuses_bad_sizes(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        aggregates.genome_pool(**kwargs)


def test_genome_statistics_refuse_counts_and_mismatched_snps():
    with pytest.raises(ValueError, match="divided by 2"):
        aggregates.homer_statistic(np.array([[0, 1, 2]]), np.full(3, 0.5), np.full(3, 0.5))
    with pytest.raises(ValueError, match="same SNPs"):
        aggregates.likelihood_ratio_statistic(np.zeros((2, 3)), np.full(4, 0.5), np.full(3, 0.5))


# --- locations ---------------------------------------------------------------------------------------------

def test_traces_are_regions_per_hour_and_mostly_home_at_night():
    traces = aggregates.simulate_traces(n_users=500, n_regions=20, n_hours=48, random_state=0)
    assert traces.shape == (500, 48) and traces.min() >= 0 and traces.max() < 20
    same_at_night = np.mean(traces[:, 2] == traces[:, 26])  # 2 am on two days
    assert same_at_night > 0.6


def test_aggregate_counts_count_users_per_region_and_hour():
    traces = np.array([[0, 0, 1], [2, 0, 1], [0, 1, 1]])
    counts = aggregates.aggregate_counts(traces, 4)
    np.testing.assert_array_equal(counts, [[2, 2, 0], [0, 1, 3], [1, 0, 0], [0, 0, 0]])
    assert counts.sum(0).tolist() == [3, 3, 3]
    with pytest.raises(ValueError, match="n_regions"):
        aggregates.aggregate_counts(traces, 2)
    with pytest.raises(TypeError, match="integer region ids"):
        aggregates.aggregate_counts(traces.astype(float), 4)


def test_location_membership_weakens_with_group_size_and_noise():
    traces = aggregates.simulate_traces(n_users=1000, random_state=0)

    def auc(size, noise=0.0):
        runs = [aggregates.location_membership(traces, t, size, n_train=100, n_test=60, noise=noise, random_state=t)
                for t in range(3)]
        return metrics.auc(*(np.concatenate(parts) for parts in zip(*runs)))

    small, large = auc(10), auc(500)
    assert small > 0.9 and small > large + 0.2
    assert auc(10, noise=10.0) < small - 0.2


@pytest.mark.parametrize("kwargs, match", [
    (dict(target=1000), "target"), (dict(group_size=0), "group_size"), (dict(noise=-1.0), "noise"),
    (dict(n_train=2), "n_train"), (dict(group_size=900, n_train=10**4), "memory"),
])
def test_location_membership_refuses_bad_input(kwargs, match):
    traces = aggregates.simulate_traces(n_users=1000, random_state=0)
    args = dict(target=0, group_size=10)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        aggregates.location_membership(traces, **args)


# --- the notebook-10 checks and hidden tests ---------------------------------------------------------------

def _homer(genotypes, pool, ref):
    d = np.abs(genotypes - ref) - np.abs(genotypes - pool)
    return d.mean(1) / (d.std(1, ddof=1) / np.sqrt(d.shape[1]))


def _counts(traces, n_regions):
    out = np.zeros((n_regions, traces.shape[1]), int)
    for u in range(traces.shape[0]):
        out[traces[u], np.arange(traces.shape[1])] += 1
    return out


def test_checks_pass_correct_solutions(capsys):
    study = aggregates.genome_pool(n_snps=200, pool_size=50, n_candidates=20, random_state=0)
    nb10.check_homer_statistic(_homer, study.genotypes, study.pool_freqs, study.reference_freqs)
    traces = aggregates.simulate_traces(n_users=50, random_state=0)
    nb10.check_aggregate_counts(_counts, traces, 30)
    assert capsys.readouterr().out.count("✅") == 2


@pytest.mark.parametrize("check, wrong, hint", [
    (nb10.check_homer_statistic, lambda g, p, r: -_homer(g, p, r), "the sign matters"),
    (nb10.check_homer_statistic, lambda g, p, r: _homer(g, p, r) * np.sqrt(g.shape[1] / (g.shape[1] - 1)), "ddof=1"),
    (nb10.check_aggregate_counts, lambda t, n: _counts(t, int(t.max()) + 1), "every region gets a row"),
    (nb10.check_aggregate_counts, lambda t, n: _counts(t, n).T, "counts[r, h]"),
])
def test_checks_catch_common_mistakes_with_a_hint(check, wrong, hint, capsys):
    with pytest.raises(CheckError):
        check(wrong)
    assert hint in capsys.readouterr().out


@pytest.mark.parametrize("exercise, right, wrong, reference", [
    ("homer_statistic", _homer, lambda g, p, r: _homer(g, r, p), aggregates.homer_statistic),
    ("aggregate_counts", _counts, lambda t, n: _counts(t, n) + 1, aggregates.aggregate_counts),
])
def test_hidden_tests_pass_the_right_answer_fail_a_wrong_one_and_block_the_reference(exercise, right, wrong,
                                                                                       reference):
    assert hidden_test("nb10", exercise, right) is None
    with pytest.raises(HiddenTestFailed, match="wrong answer"):
        hidden_test("nb10", exercise, wrong)
    with pytest.raises(HiddenTestFailed, match="calls mialab's own implementation"):
        hidden_test("nb10", exercise, reference)
