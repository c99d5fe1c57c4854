"""Membership in aggregate statistics: a person in a pooled DNA mixture or a microRNA study, a user in location counts.

- Genomes (Homer et al., 2008; Sankararaman et al., 2009): `genome_pool` simulates a study that publishes the allele
  frequencies of a pool of people, a public reference panel, and candidates half of whom are in the pool;
  `homer_statistic` and `likelihood_ratio_statistic` score each candidate. Datasheet: datasets/genomes.md.
- Locations (Pyrgelis et al., 2018): `simulate_traces` draws users' hourly regions; `aggregate_counts` turns a group's
  traces into counts per region and hour; `location_membership` trains a classifier on aggregates of groups with and
  without a target user and scores fresh groups. Datasheet: datasets/locations.md.
- MicroRNA expression (Backes et al., 2016): `microrna_study` simulates a study that publishes its participants' mean
  expression per miRNA (continuous values, not 0/1 alleles) and a reference sample's means and standard deviations;
  `backes_statistic` is the likelihood-ratio test of membership, `backes_power` its power by a normal approximation.
  Datasheet: datasets/microrna.md.

Taught in notebook 10, sections 4 (genomes), 5 (locations) and 6 (microRNA).
"""

from __future__ import annotations

import numbers
import warnings
from typing import NamedTuple

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from ._reference import reference
from ._validation import as_array, check_fraction, check_positive_int, check_random_state, check_scalar

__all__ = ["GenomePool", "genome_pool", "homer_statistic", "likelihood_ratio_statistic", "MicroRNAStudy",
           "microrna_study", "backes_statistic", "backes_power", "simulate_traces", "aggregate_counts",
           "location_membership", "MAF_RANGE", "MIRNA_MEAN_RANGE", "MIRNA_SD_RANGE"]

MAF_RANGE = (0.05, 0.5)
"""Minor-allele frequencies are drawn uniformly from this range (common SNPs, as on genotyping arrays)."""
_MAX_CELLS = 50_000_000  # people x SNPs held at once (int8: 50 MB)


# --- genomes -----------------------------------------------------------------------------------------------------

class GenomePool(NamedTuple):
    """A simulated study: what it publishes, what the attacker holds, and who is in it.

    genotypes (n_candidates, n_snps) in {0, 0.5, 1}: each candidate's allele fraction at each SNP;
    is_member (n_candidates,) bool; pool_freqs (n_snps,): the published mixture's allele frequencies;
    reference_freqs (n_snps,): frequencies in a public reference panel of other people."""

    genotypes: np.ndarray
    is_member: np.ndarray
    pool_freqs: np.ndarray
    reference_freqs: np.ndarray


def _genotypes(rng, freqs, n_people):
    return rng.binomial(2, freqs, size=(n_people, len(freqs))).astype(np.int8)


def genome_pool(n_snps: int = 1000, pool_size: int = 200, *, n_reference: int = 1000, n_candidates: int = 200,
                random_state: int = 0) -> GenomePool:
    """Simulate a pooled genome study (Homer et al., 2008): SNP frequencies p ~ Uniform(MAF_RANGE), everyone's
    genotype Binomial(2, p) / 2 independently per SNP (no linkage, no population structure); the pool's published
    frequencies; a reference panel of `n_reference` other people; `n_candidates` candidates, the first half pool
    members, the second half neither in the pool nor in the panel. Datasheet: datasets/genomes.md.

    Taught in notebook 10, section 4."""
    n_snps = check_positive_int(n_snps, "n_snps")
    pool_size = check_positive_int(pool_size, "pool_size")
    n_reference = check_positive_int(n_reference, "n_reference")
    n_candidates = check_positive_int(n_candidates, "n_candidates", minimum=2)
    rng = check_random_state(random_state)
    biggest = max(pool_size, n_reference, n_candidates) * n_snps
    if biggest > _MAX_CELLS:
        raise ValueError(f"{biggest:,} genotypes at once (people x n_snps) would not fit comfortably in memory; "
                         f"keep people x SNPs under {_MAX_CELLS:,} (lower n_snps, pool_size or n_reference).")
    n_in = n_candidates // 2
    if n_in > pool_size:
        raise ValueError(f"half the candidates ({n_in}) must come from the pool, but pool_size={pool_size}; "
                         "lower n_candidates or raise pool_size.")
    freqs = rng.uniform(*MAF_RANGE, size=n_snps)
    pool = _genotypes(rng, freqs, pool_size)
    reference_panel = _genotypes(rng, freqs, n_reference)
    outsiders = _genotypes(rng, freqs, n_candidates - n_in)
    genotypes = np.concatenate([pool[:n_in], outsiders]) / 2.0
    is_member = np.arange(n_candidates) < n_in
    return GenomePool(genotypes, is_member, pool.mean(0) / 2.0, reference_panel.mean(0) / 2.0)


def _genome_inputs(genotypes, pool_freqs, reference_freqs):
    genotypes = as_array(genotypes, "genotypes", ndim=2)
    pool_freqs = as_array(pool_freqs, "pool_freqs", ndim=1)
    reference_freqs = as_array(reference_freqs, "reference_freqs", ndim=1)
    for name, value in (("genotypes", genotypes), ("pool_freqs", pool_freqs), ("reference_freqs", reference_freqs)):
        if value.min() < 0 or value.max() > 1:
            raise ValueError(f"`{name}` must hold allele frequencies in [0, 1]; got values from {value.min():g} to "
                             f"{value.max():g}. Genotypes counted 0/1/2 must be divided by 2 first.")
    if not genotypes.shape[1] == len(pool_freqs) == len(reference_freqs):
        raise ValueError(f"`genotypes` has {genotypes.shape[1]} SNPs (columns), `pool_freqs` {len(pool_freqs)} and "
                         f"`reference_freqs` {len(reference_freqs)}; pass the same SNPs in the same order.")
    return genotypes, pool_freqs, reference_freqs


@reference
def homer_statistic(genotypes, pool_freqs, reference_freqs) -> np.ndarray:
    """Homer's test statistic for each candidate: genotypes (n, s) in [0, 1], pool_freqs (s,), reference_freqs
    (s,) -> (n,). D_j = |Y_j - ref_j| - |Y_j - pool_j| per SNP j; the statistic is the one-sample t statistic
    mean(D) / (sd(D) / sqrt(s)); large means "in the pool". Homer et al. (2008). Taught in notebook 10, section 4."""
    genotypes, pool_freqs, reference_freqs = _genome_inputs(genotypes, pool_freqs, reference_freqs)
    if genotypes.shape[1] < 2:
        raise ValueError("`genotypes` needs at least 2 SNPs for a t statistic.")
    d = np.abs(genotypes - reference_freqs) - np.abs(genotypes - pool_freqs)
    sd = d.std(axis=1, ddof=1)
    return d.mean(axis=1) / np.where(sd > 0, sd, np.inf) * np.sqrt(d.shape[1])


def likelihood_ratio_statistic(genotypes, pool_freqs, reference_freqs, eps: float = 1e-3) -> np.ndarray:
    """Log-likelihood ratio of each candidate's alleles under the pool's frequencies vs the reference's:
    sum_j 2 Y_j log(pool_j / ref_j) + 2 (1 - Y_j) log((1 - pool_j) / (1 - ref_j)); frequencies clipped to
    [eps, 1 - eps]. Shapes as homer_statistic. The most powerful test (Sankararaman et al., 2009).
    Taught in notebook 10, section 4."""
    genotypes, pool_freqs, reference_freqs = _genome_inputs(genotypes, pool_freqs, reference_freqs)
    eps = check_scalar(eps, "eps", low=0, high=0.5, closed="neither")
    pool, ref = np.clip(pool_freqs, eps, 1 - eps), np.clip(reference_freqs, eps, 1 - eps)
    return 2 * (genotypes @ np.log(pool / ref) + (1 - genotypes) @ np.log((1 - pool) / (1 - ref)))


# --- microRNA expression -----------------------------------------------------------------------------------------

MIRNA_MEAN_RANGE = (2.0, 12.0)
"""Each miRNA's population mean log2 expression is drawn uniformly from this range (our choice)."""
MIRNA_SD_RANGE = (0.3, 3.0)
"""Each miRNA's population standard deviation is drawn log-uniformly from this range (our choice): some miRNAs
vary little between people, others a lot, so a statistic that forgets to standardise weights them wrongly."""


class MicroRNAStudy(NamedTuple):
    """A simulated microRNA study: what it publishes, what the attacker holds, and who is in it.

    expression (n_candidates, n_features): each candidate's log2 expression of each miRNA; is_member
    (n_candidates,) bool; study_means (n_features,): the study's published mean expression; reference_means,
    reference_std (n_features,): a reference sample of other people from the same population; study_size: the
    number of participants (published with the means); population_means, population_std (n_features,): the
    population itself, which no attacker holds (for comparisons only)."""

    expression: np.ndarray
    is_member: np.ndarray
    study_means: np.ndarray
    reference_means: np.ndarray
    reference_std: np.ndarray
    study_size: int
    population_means: np.ndarray
    population_std: np.ndarray


def microrna_study(n_features: int = 1000, study_size: int = 100, *, n_reference: int = 1000,
                   n_candidates: int = 200, random_state: int = 0) -> MicroRNAStudy:
    """Simulate a microRNA expression study that publishes its participants' mean expression per miRNA, as in the
    membership attack of Backes et al. (2016). Each miRNA j has a population mean mu_j ~ Uniform(MIRNA_MEAN_RANGE)
    and a standard deviation sigma_j log-uniform in MIRNA_SD_RANGE; everyone's log2 expression is N(mu_j, sigma_j^2),
    independently across miRNAs and people. The study has `study_size` participants; `n_candidates` candidates,
    the first half participants, the second half people in neither the study nor the reference sample; a
    reference sample of `n_reference` other people gives the attacker means and standard deviations (ddof=1).

    Only the candidates' profiles are drawn one by one: the other participants enter the published means through
    their sum, drawn from its exact distribution N((N - k) mu, (N - k) sigma^2), and the reference sample through
    its mean and standard deviation, drawn from theirs (a normal mean and an independent scaled chi-square
    variance), so a study of 100,000 people costs no more than one of 100.

    What it cannot show (datasheet: datasets/microrna.md): miRNAs that rise and fall together, measurement batches,
    skewed or heavy-tailed expression, and a study of patients whose expression differs from the reference
    population's, which makes every patient, participant or not, look closer to the study's means.

    Taught in notebook 10, section 6."""
    n_features = check_positive_int(n_features, "n_features")
    study_size = check_positive_int(study_size, "study_size", minimum=2)
    n_reference = check_positive_int(n_reference, "n_reference", minimum=2)
    n_candidates = check_positive_int(n_candidates, "n_candidates", minimum=2)
    rng = check_random_state(random_state)
    if n_candidates * n_features > _MAX_CELLS:
        raise ValueError(f"n_candidates x n_features = {n_candidates * n_features:,} values would not fit "
                         f"comfortably in memory; keep it under {_MAX_CELLS:,} (lower n_candidates or n_features).")
    n_in = n_candidates // 2
    if n_in > study_size:
        raise ValueError(f"half the candidates ({n_in}) must come from the study, but study_size={study_size}; "
                         "lower n_candidates or raise study_size.")
    means = rng.uniform(*MIRNA_MEAN_RANGE, size=n_features)
    std = np.exp(rng.uniform(*np.log(MIRNA_SD_RANGE), size=n_features))
    members = rng.normal(means, std, size=(n_in, n_features))
    outsiders = rng.normal(means, std, size=(n_candidates - n_in, n_features))
    others = study_size - n_in  # participants who are not candidates: only their sum enters the published means
    others_sum = rng.normal(others * means, np.sqrt(others) * std)
    study_means = (members.sum(0) + others_sum) / study_size
    reference_means = rng.normal(means, std / np.sqrt(n_reference))
    reference_std = std * np.sqrt(rng.chisquare(n_reference - 1, size=n_features) / (n_reference - 1))
    expression = np.concatenate([members, outsiders])
    is_member = np.arange(n_candidates) < n_in
    return MicroRNAStudy(expression, is_member, study_means, reference_means, reference_std, study_size, means, std)


def _expression_inputs(target, study_means, reference_means, reference_std, study_size):
    target = as_array(target, "target", ndim=2)
    study_means = as_array(study_means, "study_means", ndim=1)
    reference_means = as_array(reference_means, "reference_means", ndim=1)
    reference_std = as_array(reference_std, "reference_std", ndim=1)
    if not target.shape[1] == len(study_means) == len(reference_means) == len(reference_std):
        raise ValueError(f"`target` has {target.shape[1]} features (columns), `study_means` {len(study_means)}, "
                         f"`reference_means` {len(reference_means)} and `reference_std` {len(reference_std)}; pass "
                         "the same miRNAs in the same order.")
    if reference_std.min() <= 0:
        raise ValueError(f"`reference_std` must be positive (standard deviations, not variances or logs); its "
                         f"smallest value is {reference_std.min():g}. Drop the features that do not vary.")
    study_size = check_scalar(study_size, "study_size", numbers.Integral, low=2)
    return target, study_means, reference_means, reference_std, study_size


@reference
def backes_statistic(target, study_means, reference_means, reference_std, study_size: int) -> np.ndarray:
    """Log-likelihood ratio that each candidate is in a study whose mean expression per feature was published:
    target (n, s), study_means, reference_means, reference_std (s,), study_size N -> (n,); large = in the study.

    The form implemented: the exact Gaussian likelihood ratio of the published means given the candidate's
    profile x. With mu, sigma the reference's means and standard deviations, a participant contributes x / N to
    the mean and the other N - 1 participants are a sample of the population, so per feature j
      in the study:      study_mean_j ~ N(mu_j + (x_j - mu_j) / N, (N - 1) sigma_j^2 / N^2)
      not in the study:  study_mean_j ~ N(mu_j, sigma_j^2 / N)
    and the statistic is the sum over features of log density(in) - log density(out). Backes et al. (2016) run a
    likelihood-ratio test on published mean miRNA expression under this Gaussian model; we could not check the
    paper's own expression. The plug-in form, sum_j log N(x_j; study_mean_j, sigma_j^2) - log N(x_j; mu_j,
    sigma_j^2) (how likely the candidate is under the study's means rather than the population's), is (N - 1) / N
    times this one plus sum_j z_j^2 / (2N) and a constant, with z_j = (x_j - mu_j) / sigma_j: for large N the two
    rank candidates almost alike.
    Backes et al. (2016); Sankararaman et al. (2009) for the genomic case. Taught in notebook 10, section 6."""
    target, study_means, mu, sigma, n = _expression_inputs(target, study_means, reference_means, reference_std,
                                                            study_size)
    z = (target - mu) / sigma          # (n, s): the candidate, in population standard deviations
    d = (study_means - mu) / sigma     # (s,): the published mean, likewise
    per_feature = 0.5 * np.log(n / (n - 1)) + (2 * n * d * z - z ** 2 - n * d ** 2) / (2 * (n - 1))
    return per_feature.sum(axis=1)


def backes_power(n_features, study_size, fpr: float = 0.01):
    """The power (true-positive rate) of `backes_statistic` at false-positive rate `fpr`, by a normal approximation:
    n_features s and study_size N (numbers or arrays that broadcast) -> float or array.

    With the population's means and standard deviations known exactly, the statistic sums s independent terms
    whose mean is 1 / (N - 1) higher for a participant, with variance (N + 1) / (N - 1)^2 for a non-participant
    and 1 / N for a participant; for large N the power is about Phi(sqrt(s / N) - z_(1 - fpr)). A finite
    reference sample adds noise and lowers it. Taught in notebook 10, section 6."""
    from scipy.stats import norm

    fpr = check_fraction(fpr, "fpr")
    s = as_array(n_features, "n_features", allow_empty=False)
    n = as_array(study_size, "study_size", allow_empty=False)
    if s.min() < 1 or not np.all(s == np.round(s)):
        raise ValueError(f"`n_features` must hold whole numbers >= 1; got values from {s.min():g} to {s.max():g}.")
    if n.min() < 2 or not np.all(n == np.round(n)):
        raise ValueError(f"`study_size` must hold whole numbers >= 2; got values from {n.min():g} to {n.max():g}.")
    gap = s / (n - 1)
    sd_out, sd_in = np.sqrt(s * (n + 1)) / (n - 1), np.sqrt(s / n)
    power = norm.sf((norm.isf(fpr) * sd_out - gap) / sd_in)
    return float(power) if np.ndim(power) == 0 else power


# --- locations ---------------------------------------------------------------------------------------------------

def simulate_traces(n_users: int = 2000, n_regions: int = 30, n_hours: int = 24, *,
                    random_state: int = 0) -> np.ndarray:
    """Synthetic location traces: (n_users, n_hours) int, the region (0..n_regions-1) each user is in each hour.

    Each user has a home, a work place and a favourite region, drawn with Zipf-like popularity (a few busy
    regions, many quiet ones); at night (hours 0-6 and 20-23 of each day) a user is home with probability 0.8,
    by day at work with probability 0.6; else at the favourite region (half the time) or anywhere. Stands in for
    the transport and taxi data of Pyrgelis et al. (2018). Datasheet: datasets/locations.md.
    Taught in notebook 10, section 5."""
    n_users = check_positive_int(n_users, "n_users")
    n_regions = check_positive_int(n_regions, "n_regions", minimum=2)
    n_hours = check_positive_int(n_hours, "n_hours")
    if n_users * n_hours > _MAX_CELLS:
        raise ValueError(f"n_users x n_hours = {n_users * n_hours:,} cells would not fit comfortably in memory; "
                         f"keep it under {_MAX_CELLS:,}.")
    rng = check_random_state(random_state)
    popularity = 1.0 / np.arange(1, n_regions + 1)
    popularity = rng.permutation(popularity / popularity.sum())
    home, work, favourite = (rng.choice(n_regions, size=n_users, p=popularity) for _ in range(3))
    hour_of_day = np.arange(n_hours) % 24
    night = (hour_of_day < 7) | (hour_of_day >= 20)
    u = rng.random((n_users, n_hours))
    anywhere = rng.integers(n_regions, size=(n_users, n_hours))
    stay = np.where(night, 0.8, 0.6)
    anchor = np.where(night, home[:, None], work[:, None])
    elsewhere = np.where(rng.random((n_users, n_hours)) < 0.5, favourite[:, None], anywhere)
    return np.where(u < stay, anchor, elsewhere).astype(np.int64)


def _check_traces(traces, n_regions=None) -> tuple[np.ndarray, int]:
    traces = as_array(traces, "traces", ndim=2, dtype=None)
    if not np.issubdtype(traces.dtype, np.integer):
        raise TypeError(f"`traces` must hold integer region ids, shape (n_users, n_hours); got dtype {traces.dtype}.")
    if traces.min() < 0:
        raise ValueError("`traces` holds negative region ids; regions are numbered 0 .. n_regions - 1.")
    if n_regions is None:
        return traces, int(traces.max()) + 1
    n_regions = check_positive_int(n_regions, "n_regions")
    if traces.max() >= n_regions:
        raise ValueError(f"`traces` holds region {traces.max()}, but n_regions={n_regions}; regions are numbered "
                         f"0 .. n_regions - 1.")
    return traces, n_regions


@reference
def aggregate_counts(traces, n_regions: int) -> np.ndarray:
    """How many users of the group are in each region each hour: traces (n_users, n_hours) int ->
    counts (n_regions, n_hours) int. Pyrgelis et al. (2018). Taught in notebook 10, section 5."""
    traces, n_regions = _check_traces(traces, n_regions)
    n_hours = traces.shape[1]
    cells = traces * n_hours + np.arange(n_hours)  # region-major index of (region, hour)
    return np.bincount(cells.ravel(), minlength=n_regions * n_hours).reshape(n_regions, n_hours)


def _group_aggregates(traces, groups, n_regions, noise, rng):
    """Aggregates (n_groups, n_regions * n_hours) of the groups (n_groups, group_size) of row indices."""
    n_hours = traces.shape[1]
    cells = traces * n_hours + np.arange(n_hours)
    offsets = np.arange(len(groups))[:, None, None] * (n_regions * n_hours)
    counts = np.bincount((cells[groups] + offsets).ravel(), minlength=len(groups) * n_regions * n_hours)
    counts = counts.reshape(len(groups), n_regions * n_hours).astype(float)
    if noise > 0:
        counts += rng.laplace(scale=noise, size=counts.shape)
    return counts


def _groups(rng, n_users, target, group_size, n_groups):
    """n_groups groups of group_size users; the first half contain the target, the second half do not."""
    others = np.delete(np.arange(n_users), target)
    groups = np.stack([rng.choice(others, group_size, replace=False) for _ in range(n_groups)])
    with_target = np.arange(n_groups) < n_groups // 2
    groups[with_target, 0] = target
    return groups, with_target


def location_membership(traces, target: int, group_size: int, *, n_regions: int | None = None, n_train: int = 200,
                        n_test: int = 200, noise: float = 0.0, random_state: int = 0):
    """Is user `target` in a group whose aggregate location counts were published? (Pyrgelis et al., 2018)

    The attacker knows `traces` (n_users, n_hours) of a population, the target included (prior knowledge of
    locations). It builds `n_train` groups of `group_size` users, half with the target, aggregates each
    (`aggregate_counts`, plus Laplace noise of scale `noise` per count, as a publisher might add), and fits a
    logistic regression on the aggregates; then scores `n_test` fresh groups drawn the same way.
    Returns (scores (n_test,), is_member (n_test,) bool): higher = more likely the target is in the group.
    Taught in notebook 10, section 5."""
    traces, n_regions = _check_traces(traces, n_regions)
    n_users = traces.shape[0]
    target = check_scalar(target, "target", numbers.Integral, low=0, high=n_users - 1)
    group_size = check_scalar(group_size, "group_size", numbers.Integral, low=1, high=n_users - 1)
    n_train = check_positive_int(n_train, "n_train", minimum=4)
    n_test = check_positive_int(n_test, "n_test", minimum=2)
    noise = check_scalar(noise, "noise", low=0)
    rng = check_random_state(random_state)
    cells = (n_train + n_test) * group_size * traces.shape[1]
    if cells > _MAX_CELLS:
        raise ValueError(f"(n_train + n_test) x group_size x n_hours = {cells:,} would not fit comfortably in "
                         f"memory; keep it under {_MAX_CELLS:,} (lower n_train, n_test or group_size).")
    train_groups, train_in = _groups(rng, n_users, target, group_size, n_train)
    test_groups, test_in = _groups(rng, n_users, target, group_size, n_test)
    X_train = _group_aggregates(traces, train_groups, n_regions, noise, rng)
    X_test = _group_aggregates(traces, test_groups, n_regions, noise, rng)
    scale = X_train.std(0) + 1.0
    center = X_train.mean(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier = LogisticRegression(C=1.0, max_iter=500).fit((X_train - center) / scale, train_in)
    return classifier.decision_function((X_test - center) / scale), test_in
