"""mialab.aggregates (Homer's test, likelihood ratio, microRNA studies, location aggregates) and the notebook-10 checks
of them."""

from __future__ import annotations

import math

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


# --- microRNA expression ---------------------------------------------------------------------------------------

def _gaussian_log_density(y, mean, var):
    return -0.5 * math.log(2 * math.pi * var) - (y - mean) ** 2 / (2 * var)


def _brute_force_backes(target, study_means, mu, sd, n):
    """Person by person, miRNA by miRNA: log p(published mean | the person took part) - log p(... | not)."""
    out = []
    for person in target:
        total = 0.0
        for x, m, mean, std in zip(person, study_means, mu, sd):
            others = (n - 1) * mean              # the other n - 1 participants: sum ~ N((n-1) mu, (n-1) sd^2)
            total += _gaussian_log_density(m, (x + others) / n, (n - 1) * std ** 2 / n ** 2)
            total -= _gaussian_log_density(m, mean, std ** 2 / n)
        out.append(total)
    return np.array(out)


def _pooled(statistic, n_features, study_size, n_studies=20, n_reference=10**6):
    """Scores and membership pooled over `n_studies` simulated studies (50 participants, 50 others as candidates)."""
    scores, is_member = [], []
    for seed in range(n_studies):
        study = aggregates.microrna_study(n_features, study_size, n_reference=n_reference, n_candidates=100,
                                          random_state=seed)
        scores.append(statistic(study.expression, study.study_means, study.reference_means, study.reference_std,
                                study.study_size))
        is_member.append(study.is_member)
    return np.concatenate(scores), np.concatenate(is_member)


def _power(statistic, n_features, study_size):
    return metrics.tpr_at_fpr(*_pooled(statistic, n_features, study_size), 0.01)


def test_microrna_study_members_pull_the_published_means_and_repeat_with_the_seed():
    study = aggregates.microrna_study(n_features=400, study_size=30, n_reference=500, n_candidates=40,
                                      random_state=0)
    assert study.expression.shape == (40, 400) and study.is_member.sum() == 20 and study.study_size == 30
    assert study.study_means.shape == study.reference_means.shape == study.reference_std.shape == (400,)
    lo, hi = aggregates.MIRNA_SD_RANGE
    assert lo <= study.population_std.min() and study.population_std.max() <= hi
    # standardised distance to the published means: participants are closer (each is 1/30 of the mean)
    z = np.abs(study.expression - study.study_means) / study.population_std
    assert z[study.is_member].mean() < z[~study.is_member].mean()
    # the published mean of 30 people and the reference of 500 sit near the population, at their sampling error
    err = (study.study_means - study.population_means) / study.population_std
    assert 0.6 / np.sqrt(30) < err.std() < 1.4 / np.sqrt(30)
    ref = (study.reference_means - study.population_means) / study.population_std
    assert ref.std() < 1.3 / np.sqrt(500)
    assert np.abs(study.reference_std / study.population_std - 1).max() < 0.25
    again = aggregates.microrna_study(n_features=400, study_size=30, n_reference=500, n_candidates=40,
                                      random_state=0)
    np.testing.assert_array_equal(again.study_means, study.study_means)
    np.testing.assert_array_equal(again.expression, study.expression)


def test_microrna_study_publishes_the_mean_of_its_participants():
    """The shortcut (the non-candidates' sum drawn at once) has the law of the mean of N profiles: over many studies
    of 3 with 2 candidates in them, the published mean minus the members' share is one person's value / 3."""
    rests = []
    for seed in range(400):
        study = aggregates.microrna_study(n_features=5, study_size=3, n_candidates=4, random_state=seed)
        members = study.expression[study.is_member]
        rests.append((3 * study.study_means - members.sum(0) - study.population_means) / study.population_std)
    rests = np.array(rests)
    assert abs(rests.mean()) < 0.1 and 0.9 < rests.std() < 1.1


def test_backes_statistic_is_the_gaussian_log_likelihood_ratio_of_the_published_means():
    study = aggregates.microrna_study(n_features=40, study_size=7, n_reference=50, n_candidates=6, random_state=2)
    args = (study.expression, study.study_means, study.reference_means, study.reference_std, study.study_size)
    np.testing.assert_allclose(aggregates.backes_statistic(*args), _brute_force_backes(*args), rtol=1e-9, atol=1e-9)
    # swapping the published and the reference means is not a symmetry of the test
    swapped = aggregates.backes_statistic(args[0], args[2], args[1], args[3], args[4])
    assert not np.allclose(swapped, aggregates.backes_statistic(*args))


def test_backes_statistic_and_the_plug_in_form_differ_by_the_stated_terms():
    study = aggregates.microrna_study(n_features=50, study_size=20, n_candidates=8, random_state=1)
    x, m, mu, sd, n = (study.expression, study.study_means, study.reference_means, study.reference_std,
                       study.study_size)
    plug_in = (((x - mu) ** 2 - (x - m) ** 2) / (2 * sd ** 2)).sum(1)
    z2 = (((x - mu) / sd) ** 2).sum(1)
    gap = plug_in - ((n - 1) / n * aggregates.backes_statistic(x, m, mu, sd, n) + z2 / (2 * n))
    np.testing.assert_allclose(gap, gap[0], atol=1e-9)    # the same constant for every candidate


@pytest.mark.parametrize("n_features, study_size", [(300, 100), (1000, 100), (3000, 300), (1000, 1000)])
def test_power_at_1pct_fpr_matches_the_normal_approximation(n_features, study_size):
    """Within 0.06 of backes_power: a sign-flipped statistic (power ~0) and one that forgets to standardise
    (about half the power at 1,000 miRNAs and a study of 100) fall far outside."""
    predicted = aggregates.backes_power(n_features, study_size)
    assert _power(aggregates.backes_statistic, n_features, study_size) == pytest.approx(predicted, abs=0.06)


def test_power_rises_with_the_features_and_falls_with_the_study_size():
    power = {(s, n): _power(aggregates.backes_statistic, s, n) for s, n in [(100, 100), (1000, 100), (1000, 1000)]}
    assert power[1000, 100] > power[100, 100] + 0.5
    assert power[1000, 100] > power[1000, 1000] + 0.5
    assert power[1000, 1000] < 0.2


def test_a_broken_statistic_misses_the_power_test():
    predicted = aggregates.backes_power(1000, 100)

    def flipped(*args):
        return -aggregates.backes_statistic(*args)

    def unstandardised(x, m, mu, sd, n):
        return aggregates.backes_statistic(x, m, mu, np.full_like(sd, sd.mean()), n)

    assert _power(flipped, 1000, 100) < 0.05
    assert _power(unstandardised, 1000, 100) < predicted - 0.2


def test_no_signal_when_the_published_means_are_the_population_means():
    """A study that publishes the population's own means tells nothing about who took part: AUC ~ 0.5."""
    scores, is_member = [], []
    for seed in range(10):
        study = aggregates.microrna_study(n_features=500, study_size=100, n_candidates=200, random_state=seed)
        scores.append(aggregates.backes_statistic(study.expression, study.population_means, study.reference_means,
                                                  study.reference_std, study.study_size))
        is_member.append(study.is_member)
    assert metrics.auc(np.concatenate(scores), np.concatenate(is_member)) == pytest.approx(0.5, abs=0.04)
    real = _pooled(aggregates.backes_statistic, 500, 100, n_studies=5)
    assert metrics.auc(*real) > 0.9


def test_backes_power_is_about_phi_of_sqrt_features_over_study_size():
    from scipy.stats import norm
    s, n = np.array([100, 1000, 10000]), np.array([10000, 10000, 10000])
    np.testing.assert_allclose(aggregates.backes_power(s, n, fpr=0.05), norm.cdf(np.sqrt(s / n) - norm.isf(0.05)),
                               atol=0.01)
    assert aggregates.backes_power(1, 10**6) == pytest.approx(0.01, abs=0.002)   # no signal: power = fpr
    assert isinstance(aggregates.backes_power(100, 10), float)


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_features=0), "n_features"), (dict(study_size=1), "study_size"),
    (dict(study_size=10, n_candidates=40), "study_size"), (dict(n_reference=1), "n_reference"),
    (dict(n_features=10**6, n_candidates=100), "memory"), (dict(random_state="a"), "random_state"),
])
def test_microrna_study_refuses_bad_sizes(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        aggregates.microrna_study(**kwargs)


@pytest.mark.parametrize("args, match", [
    (([[1.0, 2.0]], [1.0, 2.0, 3.0], [1.0, 2.0], [1.0, 1.0], 10), "same miRNAs"),
    (([[1.0, 2.0]], [1.0, 2.0], [1.0, 2.0], [1.0, 0.0], 10), "`reference_std` must be positive"),
    (([[1.0, 2.0]], [1.0, 2.0], [1.0, 2.0], [1.0, 1.0], 1), "`study_size`"),
    (([[1.0, 2.0]], [1.0, 2.0], [1.0, 2.0], [1.0, 1.0], 2.5), "`study_size`"),
    (([1.0, 2.0], [1.0, 2.0], [1.0, 2.0], [1.0, 1.0], 10), "`target`"),
    (([[1.0, np.nan]], [1.0, 2.0], [1.0, 2.0], [1.0, 1.0], 10), "`target`"),
])
def test_backes_statistic_refuses_bad_input(args, match):
    with pytest.raises((ValueError, TypeError), match=match):
        aggregates.backes_statistic(*args)


def test_backes_power_refuses_bad_input():
    with pytest.raises(ValueError, match="`fpr`"):
        aggregates.backes_power(100, 10, fpr=1.5)
    with pytest.raises(ValueError, match="`study_size`"):
        aggregates.backes_power(100, 1)
    with pytest.raises(ValueError, match="`n_features`"):
        aggregates.backes_power(0.5, 10)


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


def _backes(target, study_means, reference_means, reference_std, study_size):
    """Exercise 10.5 as a student might write it: scipy's Gaussian log densities, in minus out, summed."""
    from scipy.stats import norm
    n = study_size
    log_in = norm.logpdf(study_means, reference_means + (target - reference_means) / n,
                         reference_std * np.sqrt(n - 1) / n)
    log_out = norm.logpdf(study_means, reference_means, reference_std / np.sqrt(n))
    return (log_in - log_out).sum(axis=1)


def _backes_no_study_size(target, study_means, reference_means, reference_std, study_size):
    """A wrong 10.5: the candidate's likelihood around the study's means vs the population's (N plays no part)."""
    return (((target - reference_means) ** 2 - (target - study_means) ** 2) / (2 * reference_std ** 2)).sum(axis=1)


def _mirna_args():
    study = aggregates.microrna_study(n_features=300, study_size=50, n_candidates=20, random_state=0)
    return study.expression, study.study_means, study.reference_means, study.reference_std, study.study_size


def test_checks_pass_correct_solutions(capsys):
    study = aggregates.genome_pool(n_snps=200, pool_size=50, n_candidates=20, random_state=0)
    nb10.check_homer_statistic(_homer, study.genotypes, study.pool_freqs, study.reference_freqs)
    traces = aggregates.simulate_traces(n_users=50, random_state=0)
    nb10.check_aggregate_counts(_counts, traces, 30)
    nb10.check_backes_statistic(_backes, *_mirna_args())
    nb10.check_backes_statistic(nb10.use_reference("10.5"), *_mirna_args())   # skipped, not failed
    out = capsys.readouterr().out
    assert out.count("✅") == 3 and "❌" not in out


@pytest.mark.parametrize("check, wrong, hint", [
    (nb10.check_homer_statistic, lambda g, p, r: -_homer(g, p, r), "the sign matters"),
    (nb10.check_homer_statistic, lambda g, p, r: _homer(g, p, r) * np.sqrt(g.shape[1] / (g.shape[1] - 1)), "ddof=1"),
    (nb10.check_aggregate_counts, lambda t, n: _counts(t, int(t.max()) + 1), "every region gets a row"),
    (nb10.check_aggregate_counts, lambda t, n: _counts(t, n).T, "counts[r, h]"),
    (nb10.check_backes_statistic, lambda *a: -_backes(*a), "the sign matters"),
    (nb10.check_backes_statistic, _backes_no_study_size, "the study size N sets both"),
    (nb10.check_backes_statistic, lambda t, m, mu, sd, n: _backes(t, m, mu, sd ** 2, n), "square the std once"),
])
def test_checks_catch_common_mistakes_with_a_hint(check, wrong, hint, capsys):
    with pytest.raises(CheckError):
        check(wrong)
    assert hint in capsys.readouterr().out


@pytest.mark.parametrize("exercise, right, wrong, reference", [
    ("homer_statistic", _homer, lambda g, p, r: _homer(g, r, p), aggregates.homer_statistic),
    ("aggregate_counts", _counts, lambda t, n: _counts(t, n) + 1, aggregates.aggregate_counts),
    ("backes_statistic", _backes, _backes_no_study_size, aggregates.backes_statistic),
])
def test_hidden_tests_pass_the_right_answer_fail_a_wrong_one_and_block_the_reference(exercise, right, wrong,
                                                                                       reference):
    assert hidden_test("nb10", exercise, right) is None
    with pytest.raises(HiddenTestFailed, match="wrong answer"):
        hidden_test("nb10", exercise, wrong)
    with pytest.raises(HiddenTestFailed, match="calls mialab's own implementation"):
        hidden_test("nb10", exercise, reference)


def test_backes_hidden_test_called_directly_accepts_right_answers_and_refuses_wrong_ones():
    from mialab.checks import hidden_nb10

    def closed_form(target, study_means, reference_means, reference_std, study_size):
        n, z = study_size, (target - reference_means) / reference_std
        d = (study_means - reference_means) / reference_std
        return (0.5 * np.log(n / (n - 1)) + (2 * n * d * z - z ** 2 - n * d ** 2) / (2 * (n - 1))).sum(axis=1)

    for right in (_backes, closed_form):
        hidden_nb10.test_backes_statistic(right)
    for wrong in (lambda *a: -_backes(*a), _backes_no_study_size,
                  lambda t, m, mu, sd, n: _backes(t, m, mu, sd, n) / t.shape[1]):
        with pytest.raises(CheckError, match="wrong answer"):
            hidden_nb10.test_backes_statistic(wrong)
