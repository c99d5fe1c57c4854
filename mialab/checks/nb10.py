"""Checks for notebook 10 (memorisation and membership in aggregates)."""

from __future__ import annotations

import numpy as np

from . import Case, _compare, _fail, call_student, passed, require, run_cases
from .._reference import blocked

RANK = "Exercise 10.1 (the canary's rank)"
EXPOSURE = "Exercise 10.2 (exposure from a sample)"
HOMER = "Exercise 10.3 (Homer's statistic)"
COUNTS = "Exercise 10.4 (aggregate counts)"

_SCORES = np.array([3.0, 1.0, 2.0, 5.0, 2.0])


def _diagnose(exercise, func, description, args, expected, hint, mistakes=()) -> None:
    """Run one case; on a wrong answer, the hint of the first known mistake it matches, else `hint`."""
    __tracebackhide__ = True
    got = call_student(exercise, func, *args)
    problem = _compare(got, expected, 1e-6)
    if problem:
        for wrong, specific in mistakes:
            if _compare(got, wrong, 1e-6) is None:
                hint = specific
                break
        _fail(exercise, f"on {description}, your function {problem}.", hint)


def check_canary_rank(canary_rank, log_perplexities=None, secret=None) -> None:
    """Check `canary_rank(log_perplexities, secret) -> int` (1 + candidates strictly more likely)."""
    __tracebackhide__ = True
    hint = ("a lower log-perplexity means more likely; the rank is 1 + the number of candidates whose "
            "log-perplexity is strictly lower than the canary's.")
    cases = [("5 candidates, canary 0", 0), ("the most likely candidate", 1), ("the least likely candidate", 3),
             ("a tie with another candidate", 2)]
    with blocked("sequence.canary_rank"):
        for description, secret in cases:
            lower, ties = int(np.sum(_SCORES < _SCORES[secret])), int(np.sum(_SCORES == _SCORES[secret]))
            mistakes = [(lower + ties, "a candidate with the same log-perplexity as the canary is not ahead of "
                                       "it: use <, not <=."),
                        (lower, "the most likely candidate has rank 1, not 0."),
                        (int(np.sum(_SCORES > _SCORES[secret])) + 1,
                         "lower log-perplexity = more likely: count the candidates BELOW the canary's value.")]
            _diagnose(RANK, canary_rank, description, (_SCORES, secret), lower + 1, hint, mistakes)
        if log_perplexities is not None:
            got = call_student(RANK, canary_rank, log_perplexities, secret)
            want = int(np.sum(log_perplexities < log_perplexities[secret])) + 1
            require(np.ndim(got) == 0 and int(got) == want, RANK,
                    "right on the small cases, wrong on the notebook's 100,000 candidates.",
                    "use the arguments you are given; index the candidate scores by the secret itself.")
    return passed(RANK, f"{len(cases)} small cases{' and the trained model' if log_perplexities is not None else ''}")


def _interpolated(canary, references):
    return float(np.log2(len(references)) - np.log2(1 + np.sum(np.asarray(references) < canary)))


def check_exposure_from_sample(exposure_from_sample, canary_log_perplexity=None,
                               reference_log_perplexities=None) -> None:
    """Check `exposure_from_sample(canary_log_perplexity, reference_log_perplexities) -> float`."""
    __tracebackhide__ = True
    refs = np.array([2.0, 3.0, 4.0, 5.0])
    hint = ("rank the canary among the m references (1 + references with a strictly lower log-perplexity), "
            "then exposure = log2(m) - log2(rank).")
    cases = [
        Case("a canary more likely than all 4 references", (1.0, refs), 2.0,
             "ahead of all m references the rank is 1 and the exposure log2(m); use log base 2."),
        Case("a canary behind 2 of 4 references", (3.5, refs), 2.0 - np.log2(3), hint),
        Case("a canary tied with a reference", (3.0, refs), 1.0,
             "a reference with the same log-perplexity as the canary is not ahead of it: use <, not <=."),
        Case("a canary behind all references", (9.0, refs), 2.0 - np.log2(5),
             "behind all m references the rank is m + 1, so the exposure is slightly negative."),
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


def _homer(genotypes, pool, ref):
    d = np.abs(genotypes - ref) - np.abs(genotypes - pool)
    return d.mean(1) / (d.std(1, ddof=1) / np.sqrt(d.shape[1]))


def check_homer_statistic(homer_statistic, genotypes=None, pool_freqs=None, reference_freqs=None) -> None:
    """Check `homer_statistic(genotypes, pool_freqs, reference_freqs) -> (n,)` (Homer's t statistic)."""
    __tracebackhide__ = True
    hint = ("per SNP, D = |Y - reference| - |Y - pool| (positive when the person is closer to the pool); "
            "the statistic is mean(D) / (std(D, ddof=1) / sqrt(number of SNPs)), one per row.")
    expected = _homer(_GENOTYPES, _POOL, _REF)
    mistakes = [(-expected, "the sign matters: closer to the POOL than to the reference must give a positive "
                            "statistic, so D = |Y - reference| - |Y - pool|."),
                (expected * np.sqrt(3 / 4), "use the sample standard deviation: np.std(..., ddof=1)."),
                (expected / 2, "divide the standard deviation by sqrt(number of SNPs), not by the number of SNPs.")]
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


def check_aggregate_counts(aggregate_counts, traces=None, n_regions=None) -> None:
    """Check `aggregate_counts(traces, n_regions) -> (n_regions, n_hours)` counts of users."""
    __tracebackhide__ = True
    hint = "counts[r, h] is the number of users (rows of traces) whose region in hour h is r."
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
            require(np.shape(got) == want.shape and np.array_equal(np.asarray(got), want), COUNTS,
                    "right on the small cases, wrong on the notebook's group.", hint)
    return passed(COUNTS)
