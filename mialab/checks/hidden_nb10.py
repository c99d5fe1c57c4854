"""Hidden tests for notebook 10 (memorisation and membership in aggregates): fresh random inputs at grading time."""

from __future__ import annotations

import numpy as np

from . import CheckError
from .hidden import _agree, _call, _fresh_rng


def test_canary_rank(canary_rank) -> None:
    """Exercise 10.1 on the check's tied cases (the canary after its twin), then fresh random candidate scores,
    half of them with a candidate tied with the canary before it."""
    from ..sequence import canary_rank as reference
    from .nb10 import _RANK_CASES
    rng = _fresh_rng()
    fixed = [(scores, secret) for scores, secret, _ in _RANK_CASES[-2:]]
    drawn = []
    for i in range(5):
        n = int(rng.integers(2, 3000))
        scores = rng.normal(15, 2, n)
        if i == 0 or rng.random() < 0.5:  # ties
            scores = np.round(scores, 1)
        secret = int(rng.integers(n))
        if i % 2 == 0:  # a twin of the canary earlier in the array
            secret = max(secret, 1)
            scores[int(rng.integers(secret))] = scores[secret]
        drawn.append((scores, secret))
    for scores, secret in fixed + drawn:
        got = _call("Exercise 10.1", canary_rank, scores.copy(), secret, block=("sequence.canary_rank",))
        if np.ndim(got) != 0:
            raise CheckError("Exercise 10.1: expected a single whole number (the rank).")
        _agree("Exercise 10.1", got, reference(scores, secret))


def test_exposure_from_sample(exposure_from_sample) -> None:
    """Exercise 10.2 on a canary ahead of, tied with and behind every reference, then fresh random references and
    canaries, some tied."""
    from ..metrics import exposure_interpolated
    rng = _fresh_rng()
    refs = np.array([2.0, 3.0, 4.0, 5.0])
    cases = [(1.0, refs), (3.0, refs), (9.0, refs)]
    for i in range(5):
        m = int(rng.integers(2, 3000))
        refs = np.round(rng.normal(15, 2, m), 1)
        canary = float(refs[int(rng.integers(m))] if i == 0 or rng.random() < 0.5 else rng.normal(12, 3))
        if i == 1:  # behind every reference
            canary = float(refs.max() + rng.uniform(0.1, 2))
        cases.append((canary, refs))
    for canary, refs in cases:
        got = _call("Exercise 10.2", exposure_from_sample, canary, refs.copy(),
                    block=("metrics.exposure_interpolated",))
        if np.ndim(got) != 0:
            raise CheckError("Exercise 10.2: expected a single number (the exposure).")
        _agree("Exercise 10.2", got, exposure_interpolated(canary, refs))


def test_homer_statistic(homer_statistic) -> None:
    """Exercise 10.3 on fresh random genotypes and frequencies."""
    from ..aggregates import homer_statistic as reference
    rng = _fresh_rng()
    for _ in range(5):
        n, s = int(rng.integers(1, 50)), int(rng.integers(5, 500))
        genotypes = rng.integers(3, size=(n, s)) / 2.0
        pool, ref = rng.uniform(0.05, 0.95, s), rng.uniform(0.05, 0.95, s)
        got = _call("Exercise 10.3", homer_statistic, genotypes.copy(), pool.copy(), ref.copy(),
                    block=("aggregates.homer_statistic",))
        if np.shape(got) != (n,):
            raise CheckError("Exercise 10.3: the output has the wrong shape on fresh inputs drawn at grading time.")
        _agree("Exercise 10.3", got, reference(genotypes, pool, ref), tol=1e-6)


def test_aggregate_counts(aggregate_counts) -> None:
    """Exercise 10.4 on fresh random traces."""
    from ..aggregates import aggregate_counts as reference
    rng = _fresh_rng()
    for _ in range(5):
        n, hours, regions = int(rng.integers(1, 300)), int(rng.integers(1, 48)), int(rng.integers(2, 40))
        traces = rng.integers(regions - int(rng.integers(0, 2)), size=(n, hours))
        got = _call("Exercise 10.4", aggregate_counts, traces.copy(), regions, block=("aggregates.aggregate_counts",))
        if np.shape(got) != (regions, hours):
            raise CheckError("Exercise 10.4: the output has the wrong shape on fresh inputs drawn at grading time.")
        _agree("Exercise 10.4", got, reference(traces, regions))


def test_backes_statistic(backes_statistic) -> None:
    """Exercise 10.5 on the check's small case, then fresh random studies drawn from the Gaussian model: profiles,
    published means (with a participant's share in half of them) and reference statistics, studies of 2 to 2,000."""
    from ..aggregates import backes_statistic as reference
    from .nb10 import _EXPRESSION, _REF_MEANS, _REF_STD, _STUDY_MEANS, _STUDY_SIZE
    rng = _fresh_rng()
    cases = [(_EXPRESSION, _STUDY_MEANS, _REF_MEANS, _REF_STD, _STUDY_SIZE)]
    for i in range(5):
        n, s = int(rng.integers(1, 50)), int(rng.integers(2, 400))
        size = 2 if i == 0 else int(rng.integers(3, 2000))
        mu, sd = rng.uniform(2, 12, s), np.exp(rng.uniform(np.log(0.3), np.log(3.0), s))
        target = rng.normal(mu, sd, size=(n, s))
        study_means = mu + sd / np.sqrt(size) * rng.normal(size=s)
        if i % 2:  # the first candidate took part
            study_means += (target[0] - mu) / size
        ref_means, ref_std = mu + 0.03 * sd * rng.normal(size=s), sd * rng.uniform(0.95, 1.05, s)
        cases.append((target, study_means, ref_means, ref_std, size))
    for target, study_means, ref_means, ref_std, size in cases:
        got = _call("Exercise 10.5", backes_statistic, target.copy(), study_means.copy(), ref_means.copy(),
                    ref_std.copy(), size, block=("aggregates.backes_statistic",))
        if np.shape(got) != (len(target),):
            raise CheckError("Exercise 10.5: the output has the wrong shape on fresh inputs drawn at grading time.")
        _agree("Exercise 10.5", got, reference(target, study_means, ref_means, ref_std, size), tol=1e-6)
