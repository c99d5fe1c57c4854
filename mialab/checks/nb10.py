"""Checks for notebook 10 (memorisation and membership in aggregates)."""

from __future__ import annotations

import numpy as np

from .._reference import blocked
from . import Case, _compare, _fail, call_student, explicit_hints, passed, require, run_cases, skippable
from . import use_reference  # noqa: F401 (a notebook imports it from here, as it does hint)

RANK = "Exercise 10.1 (the canary's rank)"
EXPOSURE = "Exercise 10.2 (exposure from a sample)"
HOMER = "Exercise 10.3 (Homer's statistic)"
COUNTS = "Exercise 10.4 (aggregate counts)"
BACKES = "Exercise 10.5 (the likelihood-ratio test on published microRNA means)"

_SCORES = np.array([3.0, 1.0, 2.0, 5.0, 2.0])


def _diagnose(exercise, func, description, args, expected, hint, mistakes=()) -> None:
    """Run one case; on a wrong answer, the hint of the first known mistake it matches, else `hint`."""
    __tracebackhide__ = True
    got = call_student(exercise, func, *args)
    problem = _compare(got, expected, 1e-6)
    if not problem:
        return
    if isinstance(got, (float, np.floating)) and np.ndim(expected) == 0 and float(got) == float(expected):
        hint = "the value is right, but it must be a whole number: return an int, not a float."
    for wrong, specific in mistakes:
        if _compare(got, wrong, 1e-6) is None:
            hint = specific
            break
    _fail(exercise, f"on {description}, your function {problem}.", hint)


# (scores, secret, description): the canary's twin (an equal log-perplexity) comes after it, then before it
_RANK_CASES = [(_SCORES, 0, "5 candidates, canary 0"), (_SCORES, 1, "the most likely candidate"),
               (_SCORES, 3, "the least likely candidate"), (_SCORES, 2, "a tie with a later candidate"),
               (_SCORES, 4, "a tie with an earlier candidate"),
               (np.array([2.0, 2.0, 1.0, 2.0]), 3, "three candidates tied, the canary last of them")]


def _rank_mistakes(scores, secret):
    """(wrong rank, hint) for the known mistakes on one case."""
    value = scores[secret]
    lower, ties = int(np.sum(scores < value)), int(np.sum(scores == value))
    before = int(np.sum(scores[:secret] == value))
    tie = ("a candidate with the same log-perplexity as the canary is not ahead of it, wherever it stands in the "
           "array or in a sorted order: the rank counts only the candidates STRICTLY more likely (use <, not <=).")
    return [(lower + before + 1, tie), (lower + ties, tie), (int(lower + 1 + (ties - 1) / 2), tie),
            (lower, "the most likely candidate has rank 1, not 0."),
            (int(np.sum(scores > value)) + 1,
             "lower log-perplexity = more likely: count the candidates BELOW the canary's value.")]


@skippable(RANK)
def check_canary_rank(canary_rank, log_perplexities=None, secret=None) -> None:
    """Check `canary_rank(log_perplexities, secret) -> int` (1 + candidates strictly more likely)."""
    __tracebackhide__ = True
    hint = ("a lower log-perplexity means more likely; the rank counts the candidates the model prefers to the "
            "canary, plus one for the canary itself.")
    with blocked("sequence.canary_rank"):
        for scores, secret_c, description in _RANK_CASES:
            want = int(np.sum(scores < scores[secret_c])) + 1
            _diagnose(RANK, canary_rank, description, (scores.copy(), secret_c), want, hint,
                      [(wrong, text) for wrong, text in _rank_mistakes(scores, secret_c) if wrong != want])
        if log_perplexities is not None:
            got = call_student(RANK, canary_rank, log_perplexities, secret)
            want = int(np.sum(log_perplexities < log_perplexities[secret])) + 1
            require(_compare(got, want, 0.0) is None, RANK,
                    "right on the small cases, wrong on the notebook's 100,000 candidates.",
                    "index the candidate scores by the secret itself, and count ties as not ahead.")
    where = " and the trained model" if log_perplexities is not None else ""
    return passed(RANK, f"{len(_RANK_CASES)} small cases{where}")


def _interpolated(canary, references):
    return float(np.log2(len(references)) - np.log2(1 + np.sum(np.asarray(references) < canary)))


@skippable(EXPOSURE)
def check_exposure_from_sample(exposure_from_sample, canary_log_perplexity=None,
                               reference_log_perplexities=None) -> None:
    """Check `exposure_from_sample(canary_log_perplexity, reference_log_perplexities) -> float`."""
    __tracebackhide__ = True
    refs = np.array([2.0, 3.0, 4.0, 5.0])
    hint = ("rank the canary among the m references (the references strictly more likely than it, plus one), then "
            "compare that rank with m on a log2 scale: ahead of all of them the exposure is log2(m) bits.")
    cases = [
        Case("a canary more likely than all 4 references", (1.0, refs), 2.0,
             "ahead of all m references the rank is 1 and the exposure log2(m) bits: use log base 2 and the number "
             "of references itself."),
        Case("a canary behind 2 of 4 references", (3.5, refs), 2.0 - np.log2(3), hint),
        Case("a canary tied with a reference", (3.0, refs), 1.0,
             "a reference with the same log-perplexity as the canary is not ahead of it: use <, not <=."),
        Case("a canary behind all references", (9.0, refs), 2.0 - np.log2(5),
             "behind all m references the rank is m + 1 (not m), so the exposure is slightly negative; "
             "metrics.exposure refuses a rank above its number of candidates, so compute it yourself."),
    ]
    with blocked("metrics.exposure_interpolated"):
        run_cases(EXPOSURE, exposure_from_sample, cases)
        if canary_log_perplexity is not None:
            got = call_student(EXPOSURE, exposure_from_sample, canary_log_perplexity, reference_log_perplexities)
            require(np.ndim(got) == 0 and abs(float(got) - _interpolated(canary_log_perplexity,
                                                                         reference_log_perplexities)) < 1e-9,
                    EXPOSURE, "right on the small cases, wrong on the notebook's canary.", hint)
    return passed(EXPOSURE)


_GENOTYPES = np.array([[0.0, 0.5, 1.0, 0.5], [1.0, 1.0, 0.0, 0.5]])
_POOL = np.array([0.2, 0.6, 0.7, 0.4])
_REF = np.array([0.3, 0.4, 0.5, 0.5])


def _homer_mean(genotypes, pool, ref):
    return (np.abs(genotypes - ref) - np.abs(genotypes - pool)).mean(1)


def _homer(genotypes, pool, ref):
    d = np.abs(genotypes - ref) - np.abs(genotypes - pool)
    return d.mean(1) / (d.std(1, ddof=1) / np.sqrt(d.shape[1]))


@skippable(HOMER)
def check_homer_statistic(homer_statistic, genotypes=None, pool_freqs=None, reference_freqs=None) -> None:
    """Check `homer_statistic(genotypes, pool_freqs, reference_freqs) -> (n,)` (Homer's t statistic)."""
    __tracebackhide__ = True
    hint = ("per SNP, compare the person's distance to the reference frequency with their distance to the pool "
            "frequency (positive when closer to the pool); Homer's statistic is a one-sample t statistic of these "
            "differences: their mean over the SNPs divided by its standard error.")
    expected = _homer(_GENOTYPES, _POOL, _REF)
    mistakes = [(-expected, "the sign matters: a person closer to the POOL than to the reference must get a "
                            "positive statistic; swap the two distances."),
                (expected * np.sqrt(4 / 3), "use the sample standard deviation (ddof=1), as a t statistic does."),
                (_homer_mean(_GENOTYPES, _POOL, _REF), "this is the mean of the per-SNP differences; the t "
                                                       "statistic divides it by its standard error."),
                (expected * 2, "the standard error of a mean over s SNPs shrinks with the square root of s, not "
                               "with s itself."),
                (expected / 2, "a t statistic divides the mean by its standard error, which shrinks with the "
                               "number of SNPs, not by the standard deviation alone.")]
    cases = [Case("one person", (_GENOTYPES[:1], _POOL, _REF), expected[:1],
                  "average over SNPs (axis=1), one value per person, shape (n,) even for n = 1.")]
    with blocked("aggregates.homer_statistic"):
        _diagnose(HOMER, homer_statistic, "2 people and 4 SNPs", (_GENOTYPES, _POOL, _REF), expected, hint, mistakes)
        run_cases(HOMER, homer_statistic, cases)
        if genotypes is not None:
            got = call_student(HOMER, homer_statistic, genotypes, pool_freqs, reference_freqs)
            want = _homer(genotypes, pool_freqs, reference_freqs)
            require(np.shape(got) == want.shape and np.allclose(got, want, atol=1e-6), HOMER,
                    "right on the small cases, wrong on the notebook's candidates.", hint)
    return passed(HOMER)


_TRACES = np.array([[0, 0, 1], [2, 0, 1], [0, 1, 1]])


def _counts(traces, n_regions):
    out = np.zeros((n_regions, traces.shape[1]), int)
    for hour in range(traces.shape[1]):
        out[:, hour] = np.bincount(traces[:, hour], minlength=n_regions)
    return out


@skippable(COUNTS)
def check_aggregate_counts(aggregate_counts, traces=None, n_regions=None) -> None:
    """Check `aggregate_counts(traces, n_regions) -> (n_regions, n_hours)` counts of users."""
    __tracebackhide__ = True
    hint = ("counts[r, h] is the number of users (rows of traces) whose region in hour h is r; return whole "
            "numbers, an int array.")
    cases = [
        Case("3 users, 3 regions, 3 hours", (_TRACES, 3), _counts(_TRACES, 3), hint),
        Case("a region nobody visits", (_TRACES, 4), _counts(_TRACES, 4),
             "every region gets a row, even one with no visitors: shape (n_regions, n_hours)."),
        Case("a single user", (_TRACES[1:2], 3), _counts(_TRACES[1:2], 3), hint),
    ]
    with blocked("aggregates.aggregate_counts"):
        run_cases(COUNTS, aggregate_counts, cases)
        if traces is not None:
            got = call_student(COUNTS, aggregate_counts, traces, n_regions)
            want = _counts(traces, n_regions)
            require(_compare(got, want, 0.0) is None, COUNTS,
                    "right on the small cases, wrong on the notebook's group.", hint)
    return passed(COUNTS)


# a study of 4 participants publishes the means of 3 miRNAs; two candidates
_EXPRESSION = np.array([[8.0, 3.5, 6.0], [7.0, 5.0, 4.0]])
_STUDY_MEANS = np.array([7.8, 4.4, 5.1])
_REF_MEANS = np.array([7.5, 4.0, 5.0])
_REF_STD = np.array([0.5, 1.0, 2.0])
_STUDY_SIZE = 4


def _gauss_log(y, mean, var):
    return -0.5 * np.log(2 * np.pi * var) - (y - mean) ** 2 / (2 * var)


def _backes(target, study_means, mu, sd, n, *, var_in=None, keep_constants=True, power=1):
    """The log-likelihood ratio of the published means, summed over features; the keywords make known mistakes
    (power=2: each variance squared, as when a variance is passed where a standard deviation goes)."""
    var_in = (n - 1) * sd ** 2 / n ** 2 if var_in is None else var_in
    log_in = _gauss_log(study_means, mu + (target - mu) / n, var_in ** power)
    log_out = _gauss_log(study_means, mu, (sd ** 2 / n) ** power)
    if not keep_constants:
        log_in, log_out = log_in + 0.5 * np.log(2 * np.pi * var_in), log_out + 0.5 * np.log(2 * np.pi * sd ** 2 / n)
    return (log_in - log_out).sum(axis=1)


def _backes_mistakes(target, study_means, mu, sd, n):
    """(wrong answer, hint) for the known mistakes on one case."""
    expected = _backes(target, study_means, mu, sd, n)
    scale = ("`reference_std` holds standard deviations: the variance of the published mean is std**2 / N if the "
             "candidate is not in the study and (N - 1) * std**2 / N**2 if it is; square the std once.")
    return [
        (-expected, "the sign matters: a participant must score HIGH, so take the log density if the candidate is "
                    "in the study MINUS the log density if not."),
        (_backes(target, study_means, mu, np.sqrt(sd), n), scale),
        (_backes(target, study_means, mu, sd ** 2, n), scale),
        (_backes(target, study_means, mu, sd, n, power=2),
         "a variance went where a standard deviation goes (scipy's norm takes scale = the standard deviation, "
         "the square root of the variance)."),
        ((_gauss_log(target, study_means, sd ** 2) - _gauss_log(target, mu, sd ** 2)).sum(axis=1),
         "this asks how likely the candidate's profile is around the study's means rather than the population's; "
         "the test here is about the published means themselves, given the candidate: if the candidate took part, "
         "the mean is the candidate's value over N plus the mean of N - 1 others, so the study size N sets both "
         "distributions."),
        (_backes(target, study_means, mu, sd, n, var_in=sd ** 2 / n),
         "if the candidate took part, its own value is known: only the other N - 1 participants are random, so "
         "the variance of the published mean is (N - 1) * std**2 / N**2, not std**2 / N."),
        (_backes(target, study_means, mu, sd, n, keep_constants=False),
         "the two Gaussians have different variances, so their -0.5 * log(2 * pi * variance) terms do not cancel: "
         "keep them in the log densities."),
        (expected / target.shape[1], "add the per-miRNA log ratios up over the miRNAs (axis=1): a likelihood "
                                     "ratio of independent features multiplies, so its log sums; do not average."),
        (_backes(target, mu, study_means, sd, n), "`study_means` is what the study published and "
                                                  "`reference_means` the population's means: do not swap them."),
    ]


@skippable(BACKES)
def check_backes_statistic(backes_statistic, target=None, study_means=None, reference_means=None,
                           reference_std=None, study_size=None) -> None:
    """Check `backes_statistic(target, study_means, reference_means, reference_std, study_size) -> (n,)`."""
    __tracebackhide__ = True
    hint = ("per miRNA, write the Gaussian log density of the published mean twice: if the candidate took part "
            "(mean: reference mean + (candidate - reference mean) / N, variance (N - 1) std**2 / N**2) and if not "
            "(mean: reference mean, variance std**2 / N); subtract (in minus out) and sum over the miRNAs.")
    args = (_EXPRESSION, _STUDY_MEANS, _REF_MEANS, _REF_STD, _STUDY_SIZE)
    expected = _backes(*args)
    smallest = (_EXPRESSION, _STUDY_MEANS, _REF_MEANS, _REF_STD, 2)
    with blocked("aggregates.backes_statistic"):
        _diagnose(BACKES, backes_statistic, "2 candidates, 3 miRNAs and a study of 4", args, expected, hint,
                  [(wrong, text) for wrong, text in _backes_mistakes(*args)])
        _diagnose(BACKES, backes_statistic, "the smallest study (N = 2)", smallest, _backes(*smallest), hint,
                  [(wrong, text) for wrong, text in _backes_mistakes(*smallest)])
        run_cases(BACKES, backes_statistic, [
            Case("one candidate", (_EXPRESSION[:1], _STUDY_MEANS, _REF_MEANS, _REF_STD, _STUDY_SIZE), expected[:1],
                 "sum over the miRNAs (axis=1), one value per candidate, shape (n,) even for n = 1.")])
        if target is not None:
            got = call_student(BACKES, backes_statistic, target, study_means, reference_means, reference_std,
                               study_size)
            want = _backes(np.asarray(target), study_means, reference_means, reference_std, study_size)
            require(_compare(got, want, 1e-6) is None, BACKES,
                    "right on the small cases, wrong on the notebook's study.", hint)
    return passed(BACKES)


HINTS = {
    "10.1": ("Compare the whole array with the canary's own value, log_perplexities[secret], using a strict <; "
             "the number of True entries is how many candidates are ahead; add 1 and return it as an int."),
    "10.2": ("The rank is 1 + np.sum of a strict comparison: references < canary (so it runs from 1 to m + 1). "
             "Return np.log2 of the number of references minus np.log2 of the rank, as a float."),
    "10.3": ("D = |genotypes - reference_freqs| - |genotypes - pool_freqs| (np.abs; the (s,) vectors broadcast over "
             "the rows) has shape (n, s). Along axis=1 take its mean and its std with ddof=1; the statistic is "
             "mean / (std / np.sqrt(s))."),
    "10.4": ("Start from np.zeros((n_regions, n_hours), dtype=int). For each hour h, "
             "np.bincount(traces[:, h], minlength=n_regions) counts the users per region: it is column h."),
    "10.5": ("Let N = study_size and sd = reference_std. If the candidate took part, the published mean of a miRNA "
             "has mean reference_means + (target - reference_means) / N (shape (n, s) by broadcasting) and variance "
             "(N - 1) * sd**2 / N**2; if not, mean reference_means and variance sd**2 / N. A Gaussian's log density "
             "at y is -0.5 * np.log(2 * np.pi * var) - (y - mean)**2 / (2 * var), with y = study_means. Subtract "
             "the second from the first and .sum(axis=1)."),
}


hint = explicit_hints(HINTS)
