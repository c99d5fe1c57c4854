"""Mutant table of notebook 10 (see tests/_mutants.py): wrong answers rejected, right ones accepted, by the
notebook's check and by grading."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mutants import check_inputs, mutant_tests  # noqa: E402, F401 (check_inputs: the fixture)

WRONG = {
    "10.1": {
        "<= (a tied candidate counted ahead)": """
def canary_rank(log_perplexities, secret):
    return int(np.sum(log_perplexities <= log_perplexities[secret]))
""",
        "rank from 0 (no + 1)": """
def canary_rank(log_perplexities, secret):
    return int(np.sum(log_perplexities < log_perplexities[secret]))
""",
        "higher log-perplexity counted as more likely": """
def canary_rank(log_perplexities, secret):
    return int(np.sum(log_perplexities > log_perplexities[secret])) + 1
""",
        "the position in a stable argsort": """
def canary_rank(log_perplexities, secret):
    order = np.argsort(log_perplexities, kind="stable")
    return int(np.where(order == secret)[0][0]) + 1
""",
        "scipy's rankdata, average ranks for ties": """
def canary_rank(log_perplexities, secret):
    from scipy.stats import rankdata
    return int(rankdata(log_perplexities)[secret])
""",
        "scipy's rankdata, max ranks for ties": """
def canary_rank(log_perplexities, secret):
    from scipy.stats import rankdata
    return int(rankdata(log_perplexities, method="max")[secret])
""",
        "a float rank": """
def canary_rank(log_perplexities, secret):
    return float(np.sum(log_perplexities < log_perplexities[secret]) + 1)
""",
    },
    "10.2": {
        "<= (a tied reference counted ahead)": """
def exposure_from_sample(canary_log_perplexity, reference_log_perplexities):
    rank = 1 + np.sum(reference_log_perplexities <= canary_log_perplexity)
    return float(np.log2(len(reference_log_perplexities)) - np.log2(rank))
""",
        "natural log": """
def exposure_from_sample(canary_log_perplexity, reference_log_perplexities):
    rank = 1 + np.sum(reference_log_perplexities < canary_log_perplexity)
    return float(np.log(len(reference_log_perplexities)) - np.log(rank))
""",
        "rank without + 1": """
def exposure_from_sample(canary_log_perplexity, reference_log_perplexities):
    rank = np.sum(reference_log_perplexities < canary_log_perplexity)
    return float(np.log2(len(reference_log_perplexities)) - np.log2(max(rank, 1)))
""",
        "log2(m + 1): the canary counted among the candidates": """
def exposure_from_sample(canary_log_perplexity, reference_log_perplexities):
    rank = 1 + np.sum(reference_log_perplexities < canary_log_perplexity)
    return float(np.log2(len(reference_log_perplexities) + 1) - np.log2(rank))
""",
        "metrics.exposure (refuses the rank m + 1)": """
def exposure_from_sample(canary_log_perplexity, reference_log_perplexities):
    rank = 1 + int(np.sum(reference_log_perplexities < canary_log_perplexity))
    return metrics.exposure(rank, len(reference_log_perplexities))
""",
        "the rank clipped to m": """
def exposure_from_sample(canary_log_perplexity, reference_log_perplexities):
    m = len(reference_log_perplexities)
    rank = min(m, 1 + int(np.sum(reference_log_perplexities < canary_log_perplexity)))
    return float(np.log2(m) - np.log2(rank))
""",
        "higher log-perplexity counted as ahead": """
def exposure_from_sample(canary_log_perplexity, reference_log_perplexities):
    rank = 1 + np.sum(reference_log_perplexities > canary_log_perplexity)
    return float(np.log2(len(reference_log_perplexities)) - np.log2(rank))
""",
    },
    "10.3": {
        "the sign flipped": """
def homer_statistic(genotypes, pool_freqs, reference_freqs):
    d = np.abs(genotypes - pool_freqs) - np.abs(genotypes - reference_freqs)
    return d.mean(axis=1) / (d.std(axis=1, ddof=1) / np.sqrt(d.shape[1]))
""",
        "ddof=0": """
def homer_statistic(genotypes, pool_freqs, reference_freqs):
    d = np.abs(genotypes - reference_freqs) - np.abs(genotypes - pool_freqs)
    return d.mean(axis=1) / (d.std(axis=1) / np.sqrt(d.shape[1]))
""",
        "divided by s instead of sqrt(s)": """
def homer_statistic(genotypes, pool_freqs, reference_freqs):
    d = np.abs(genotypes - reference_freqs) - np.abs(genotypes - pool_freqs)
    return d.mean(axis=1) / (d.std(axis=1, ddof=1) / d.shape[1])
""",
        "mean / std, no sqrt(s)": """
def homer_statistic(genotypes, pool_freqs, reference_freqs):
    d = np.abs(genotypes - reference_freqs) - np.abs(genotypes - pool_freqs)
    return d.mean(axis=1) / d.std(axis=1, ddof=1)
""",
        "squared differences instead of absolute ones": """
def homer_statistic(genotypes, pool_freqs, reference_freqs):
    d = (genotypes - reference_freqs) ** 2 - (genotypes - pool_freqs) ** 2
    return d.mean(axis=1) / (d.std(axis=1, ddof=1) / np.sqrt(d.shape[1]))
""",
        "the statistic over people (axis=0)": """
def homer_statistic(genotypes, pool_freqs, reference_freqs):
    d = np.abs(genotypes - reference_freqs) - np.abs(genotypes - pool_freqs)
    return d.mean(axis=0) / (d.std(axis=0, ddof=1) / np.sqrt(d.shape[0]))
""",
        "the mean of D only": """
def homer_statistic(genotypes, pool_freqs, reference_freqs):
    return (np.abs(genotypes - reference_freqs) - np.abs(genotypes - pool_freqs)).mean(axis=1)
""",
    },
    "10.4": {
        "float counts": """
def aggregate_counts(traces, n_regions):
    counts = np.zeros((n_regions, traces.shape[1]))
    for hour in range(traces.shape[1]):
        counts[:, hour] = np.bincount(traces[:, hour], minlength=n_regions)
    return counts
""",
        "transposed (hours, regions)": """
def aggregate_counts(traces, n_regions):
    return np.array([np.bincount(traces[:, h], minlength=n_regions) for h in range(traces.shape[1])])
""",
        "the number of regions read off the data": """
def aggregate_counts(traces, n_regions):
    n = traces.max() + 1
    return np.array([np.bincount(traces[:, h], minlength=n) for h in range(traces.shape[1])]).T
""",
        "presence (0/1), not counts": """
def aggregate_counts(traces, n_regions):
    return np.array([[int(np.any(traces[:, h] == r)) for h in range(traces.shape[1])] for r in range(n_regions)])
""",
        "the visits over all hours, in every column": """
def aggregate_counts(traces, n_regions):
    total = np.bincount(traces.ravel(), minlength=n_regions)
    return np.repeat(total[:, None], traces.shape[1], axis=1)
""",
        "regions counted over users (axis mix-up)": """
def aggregate_counts(traces, n_regions):
    out = np.zeros((n_regions, traces.shape[1]), dtype=int)
    for u in range(min(traces.shape[0], traces.shape[1])):
        out[:, u] = np.bincount(traces[u], minlength=n_regions)[:n_regions]
    return out
""",
    },
    "10.5": {
        "the sign flipped (out minus in)": """
def backes_statistic(target, study_means, reference_means, reference_std, study_size):
    from scipy.stats import norm
    n = study_size
    log_in = norm.logpdf(study_means, reference_means + (target - reference_means) / n,
                         reference_std * np.sqrt(n - 1) / n)
    log_out = norm.logpdf(study_means, reference_means, reference_std / np.sqrt(n))
    return (log_out - log_in).sum(axis=1)
""",
        "reference_std used as a variance": """
def backes_statistic(target, study_means, reference_means, reference_std, study_size):
    n = study_size
    var_in, var_out = (n - 1) * reference_std / n ** 2, reference_std / n
    mean_in = reference_means + (target - reference_means) / n
    log_in = -0.5 * np.log(2 * np.pi * var_in) - (study_means - mean_in) ** 2 / (2 * var_in)
    log_out = -0.5 * np.log(2 * np.pi * var_out) - (study_means - reference_means) ** 2 / (2 * var_out)
    return (log_in - log_out).sum(axis=1)
""",
        "the variance passed as norm's scale (a standard deviation)": """
def backes_statistic(target, study_means, reference_means, reference_std, study_size):
    from scipy.stats import norm
    n = study_size
    log_in = norm.logpdf(study_means, reference_means + (target - reference_means) / n,
                         (n - 1) * reference_std ** 2 / n ** 2)
    log_out = norm.logpdf(study_means, reference_means, reference_std ** 2 / n)
    return (log_in - log_out).sum(axis=1)
""",
        "no study size: the candidate's density around the study's vs the population's means": """
def backes_statistic(target, study_means, reference_means, reference_std, study_size):
    from scipy.stats import norm
    return (norm.logpdf(target, study_means, reference_std) - norm.logpdf(target, reference_means,
                                                                          reference_std)).sum(axis=1)
""",
        "the same variance sd**2 / N in and out": """
def backes_statistic(target, study_means, reference_means, reference_std, study_size):
    n = study_size
    var = reference_std ** 2 / n
    mean_in = reference_means + (target - reference_means) / n
    return (((study_means - reference_means) ** 2 - (study_means - mean_in) ** 2) / (2 * var)).sum(axis=1)
""",
        "the normalising constants dropped": """
def backes_statistic(target, study_means, reference_means, reference_std, study_size):
    n = study_size
    var_in, var_out = (n - 1) * reference_std ** 2 / n ** 2, reference_std ** 2 / n
    mean_in = reference_means + (target - reference_means) / n
    return (-(study_means - mean_in) ** 2 / (2 * var_in)
            + (study_means - reference_means) ** 2 / (2 * var_out)).sum(axis=1)
""",
        "the mean over the miRNAs, not the sum": """
def backes_statistic(target, study_means, reference_means, reference_std, study_size):
    from scipy.stats import norm
    n = study_size
    log_in = norm.logpdf(study_means, reference_means + (target - reference_means) / n,
                         reference_std * np.sqrt(n - 1) / n)
    log_out = norm.logpdf(study_means, reference_means, reference_std / np.sqrt(n))
    return (log_in - log_out).mean(axis=1)
""",
        "the study's and the reference's means swapped": """
def backes_statistic(target, study_means, reference_means, reference_std, study_size):
    from scipy.stats import norm
    n = study_size
    log_in = norm.logpdf(reference_means, study_means + (target - study_means) / n,
                         reference_std * np.sqrt(n - 1) / n)
    log_out = norm.logpdf(reference_means, study_means, reference_std / np.sqrt(n))
    return (log_in - log_out).sum(axis=1)
""",
        "the candidate's whole value in the mean (no 1 / N share)": """
def backes_statistic(target, study_means, reference_means, reference_std, study_size):
    from scipy.stats import norm
    n = study_size
    log_in = norm.logpdf(study_means, target, reference_std * np.sqrt(n - 1) / n)
    log_out = norm.logpdf(study_means, reference_means, reference_std / np.sqrt(n))
    return (log_in - log_out).sum(axis=1)
""",
        "summed over the candidates (axis=0)": """
def backes_statistic(target, study_means, reference_means, reference_std, study_size):
    from scipy.stats import norm
    n = study_size
    log_in = norm.logpdf(study_means, reference_means + (target - reference_means) / n,
                         reference_std * np.sqrt(n - 1) / n)
    log_out = norm.logpdf(study_means, reference_means, reference_std / np.sqrt(n))
    return (log_in - log_out).sum(axis=0)
""",
    },
}

RIGHT = {
    "10.1": {
        "a generator over the candidates": """
def canary_rank(log_perplexities, secret):
    mine = log_perplexities[secret]
    return 1 + sum(1 for value in log_perplexities if value < mine)
""",
        "searchsorted in the sorted scores": """
def canary_rank(log_perplexities, secret):
    ordered = np.sort(log_perplexities)
    return int(np.searchsorted(ordered, log_perplexities[secret], side="left")) + 1
""",
        "scipy's rankdata, min ranks for ties": """
def canary_rank(log_perplexities, secret):
    from scipy.stats import rankdata
    return int(rankdata(log_perplexities, method="min")[secret])
""",
        "count_nonzero, an np.int64": """
def canary_rank(log_perplexities, secret):
    return np.count_nonzero(log_perplexities < log_perplexities[secret]) + np.int64(1)
""",
    },
    "10.2": {
        "-log2(rank / m)": """
def exposure_from_sample(canary_log_perplexity, reference_log_perplexities):
    rank = 1 + np.count_nonzero(np.asarray(reference_log_perplexities) < canary_log_perplexity)
    return float(-np.log2(rank / len(reference_log_perplexities)))
""",
        "searchsorted in the sorted references": """
def exposure_from_sample(canary_log_perplexity, reference_log_perplexities):
    refs = np.sort(reference_log_perplexities)
    rank = 1 + np.searchsorted(refs, canary_log_perplexity, side="left")
    return float(np.log2(len(refs)) - np.log2(rank))
""",
        "a loop and math.log2": """
def exposure_from_sample(canary_log_perplexity, reference_log_perplexities):
    import math
    rank = 1
    for value in reference_log_perplexities:
        if value < canary_log_perplexity:
            rank += 1
    return math.log2(len(reference_log_perplexities)) - math.log2(rank)
""",
    },
    "10.3": {
        "scipy's one-sample t test": """
def homer_statistic(genotypes, pool_freqs, reference_freqs):
    from scipy.stats import ttest_1samp
    d = np.abs(genotypes - reference_freqs) - np.abs(genotypes - pool_freqs)
    return ttest_1samp(d, 0.0, axis=1).statistic
""",
        "a loop over people with the variance": """
def homer_statistic(genotypes, pool_freqs, reference_freqs):
    out = []
    for row in genotypes:
        d = np.abs(row - reference_freqs) - np.abs(row - pool_freqs)
        out.append(d.mean() * np.sqrt(len(d)) / np.sqrt(d.var(ddof=1)))
    return np.array(out)
""",
        "the standard error written out": """
def homer_statistic(genotypes, pool_freqs, reference_freqs):
    d = np.abs(genotypes - reference_freqs) - np.abs(genotypes - pool_freqs)
    s = d.shape[1]
    mean = d.sum(axis=1) / s
    sd = np.sqrt(((d - mean[:, None]) ** 2).sum(axis=1) / (s - 1))
    return mean / (sd / np.sqrt(s))
""",
    },
    "10.4": {
        "a loop over users and hours": """
def aggregate_counts(traces, n_regions):
    counts = np.zeros((n_regions, traces.shape[1]), dtype=int)
    for user in traces:
        for hour, region in enumerate(user):
            counts[region, hour] += 1
    return counts
""",
        "a broadcast comparison": """
def aggregate_counts(traces, n_regions):
    return (traces[None, :, :] == np.arange(n_regions)[:, None, None]).sum(axis=1)
""",
        "np.add.at": """
def aggregate_counts(traces, n_regions):
    counts = np.zeros((n_regions, traces.shape[1]), dtype=np.int64)
    np.add.at(counts, (traces, np.broadcast_to(np.arange(traces.shape[1]), traces.shape)), 1)
    return counts
""",
    },
    "10.5": {
        "scipy's norm.logpdf, vectorised": """
def backes_statistic(target, study_means, reference_means, reference_std, study_size):
    from scipy.stats import norm
    n = study_size
    log_in = norm.logpdf(study_means, reference_means + (target - reference_means) / n,
                         reference_std * np.sqrt(n - 1) / n)
    log_out = norm.logpdf(study_means, reference_means, reference_std / np.sqrt(n))
    return (log_in - log_out).sum(axis=1)
""",
        "the log of a ratio of densities": """
def backes_statistic(target, study_means, reference_means, reference_std, study_size):
    from scipy.stats import norm
    n = study_size
    p_in = norm.pdf(study_means, reference_means + (target - reference_means) / n, reference_std * np.sqrt(n - 1) / n)
    p_out = norm.pdf(study_means, reference_means, reference_std / np.sqrt(n))
    return np.log(p_in / p_out).sum(axis=1)
""",
        "a loop over candidates and miRNAs with math": """
def backes_statistic(target, study_means, reference_means, reference_std, study_size):
    import math
    n = study_size
    out = []
    for person in target:
        total = 0.0
        for x, m, mu, sd in zip(person, study_means, reference_means, reference_std):
            v_in, v_out = (n - 1) * sd * sd / (n * n), sd * sd / n
            total += -0.5 * math.log(2 * math.pi * v_in) - (m - (mu + (x - mu) / n)) ** 2 / (2 * v_in)
            total -= -0.5 * math.log(2 * math.pi * v_out) - (m - mu) ** 2 / (2 * v_out)
        out.append(total)
    return np.array(out)
""",
        "the closed form in standardised units": """
def backes_statistic(target, study_means, reference_means, reference_std, study_size):
    n = study_size
    z = (target - reference_means) / reference_std
    d = (study_means - reference_means) / reference_std
    per_mirna = 0.5 * np.log(n / (n - 1)) + (2 * n * d * z - z ** 2 - n * d ** 2) / (2 * (n - 1))
    return per_mirna.sum(axis=1)
""",
    },
}

test_wrong, test_right, test_wrong_every_draw, test_right_every_draw, test_use_reference = \
    mutant_tests(WRONG, RIGHT, seeds=30)  # every hidden test runs the check's edge cases first, whatever the seed
