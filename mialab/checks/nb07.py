"""Checks for notebook 07 (membership inference against generative models: LOGAN, Monte Carlo, reconstruction,
sets of records)."""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist

from .._reference import blocked
from . import Case, call_student, explicit_hints, passed, require, run_cases, skippable
from . import use_reference  # noqa: F401 (a notebook imports it from here, as it does hint)

PRECISION = "Exercise 7.1 (LOGAN's precision among the top k)"
RECONSTRUCTION = "Exercise 7.2 (the reconstruction score)"
MONTE_CARLO = "Exercise 7.3 (the Monte Carlo score)"
SETS = "Exercise 7.4 (set scores)"

# the package's answers to these exercises, blocked while the student's function runs in a check
_NB07 = ("generative.precision_at_k", "generative.reconstruction_scores", "generative.monte_carlo_scores",
         "generative.set_scores")


def _call(exercise, func, *args):
    __tracebackhide__ = True
    with blocked(*_NB07):
        return call_student(exercise, func, *args)


def _run(exercise, func, cases):
    __tracebackhide__ = True
    with blocked(*_NB07):
        return run_cases(exercise, func, cases)


# independent second computations (not mialab's code) for the notebook's real data
def _precision(scores, is_member, k):
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return float(np.mean([bool(is_member[i]) for i in order[:k]]))


def _reconstruction(X, reconstructions):
    return -np.sqrt(((reconstructions - X[None]) ** 2).sum(axis=2)).mean(axis=0)


def _monte_carlo(X, generated, eps):
    return (cdist(X, generated) <= eps).mean(axis=1)


@skippable(PRECISION)
def check_precision_at_k(precision_at_k, scores=None, is_member=None) -> None:
    """Check `precision_at_k(scores, is_member, k) -> float`: the share of members among the k top-scored records."""
    __tracebackhide__ = True
    hint = ("the precision among the top k is a share of the k records ranked highest: how many of THOSE k are "
            "members, divided by how many records were kept (k), not by n or by the number of members.")
    scores_ = np.array([0.9, 0.1, 0.8, 0.3, 0.7, 0.2])
    members = np.array([True, False, False, True, True, False])
    cases = [
        Case("6 records, k = 3", (scores_, members, 3), 2 / 3, hint),
        Case("a perfect scorer (scores = is_member), k = 3", (members.astype(float), members, 3), 1.0,
             "a perfect scorer must get precision 1: count the MEMBERS among the HIGHEST scores (not the "
             "non-members, not the lowest scores)."),
        Case("the worst scorer (scores = not is_member), k = 3", ((~members).astype(float), members, 3), 0.0,
             "a scorer that ranks every non-member first has precision 0 among the top 3."),
        Case("6 records, k = 1", (scores_, members, 1), 1.0,
             "with k = 1 only the single highest-scored record counts: keep exactly k records, no more, no fewer."),
        Case("6 records, k = 2", (scores_, members, 2), 0.5,
             "keep exactly k records, the k highest scores: with k = 2 the two records scored 0.9 and 0.8."),
        Case("6 records, k = 6 (everybody)", (scores_, members, 6), 0.5,
             "with k = n every record is in the top k: the precision is the share of members overall."),
    ]
    _run(PRECISION, precision_at_k, cases)
    if scores is not None:
        k = int(np.sum(is_member))
        got = _call(PRECISION, precision_at_k, np.asarray(scores, float), np.asarray(is_member, bool), k)
        require(np.ndim(got) == 0 and abs(float(got) - _precision(scores, is_member, k)) < 1e-9, PRECISION,
                "right on the small cases, wrong on the notebook's discriminator scores.",
                "use the arguments you are given, not global variables; return one number.")
    return passed(PRECISION, f"{len(cases)} small cases{' and the GAN discriminator' if scores is not None else ''}")


@skippable(RECONSTRUCTION)
def check_reconstruction_score(reconstruction_score, X=None, reconstructions=None) -> None:
    """Check `reconstruction_score(X, reconstructions) -> (n,)`: minus the mean distance over the draws."""
    __tracebackhide__ = True
    hint = ("for each draw and record, the Euclidean distance between the record and that draw's reconstruction "
            "(one number per draw and record); average those distances over the draws, one mean per record; return "
            "minus the mean, so that higher = closer = member.")
    X_ = np.array([[0.0, 0.0], [1.0, 1.0]])
    recon = np.array([[[3.0, 4.0], [1.0, 1.0]],          # draw 1: record 0 at distance 5, record 1 exact
                      [[0.0, 1.0], [1.0, 3.0]]])         # draw 2: distances 1 and 2
    cases = [
        Case("2 records, 2 draws", (X_, recon), np.array([-3.0, -1.0]), hint),
        Case("1 draw that reconstructs exactly", (X_, X_[None]), np.array([0.0, 0.0]),
             "a perfect reconstruction is at distance 0, the highest possible score."),
        Case("1 record, 3 draws in one dimension", (np.array([[0.0]]), np.array([[[1.0]], [[-2.0]], [[6.0]]])),
             np.array([-3.0]), "average the distances of the draws (|1|, |-2|, |6|), not the draws themselves: "
                               "the mean reconstruction can sit on the record while every draw is far from it."),
    ]
    _run(RECONSTRUCTION, reconstruction_score, cases)
    if X is not None:
        got = _call(RECONSTRUCTION, reconstruction_score, np.asarray(X, float), np.asarray(reconstructions, float))
        require(np.shape(got) == (len(X),) and np.allclose(np.asarray(got, float),
                                                           _reconstruction(np.asarray(X, float), reconstructions),
                                                           atol=1e-6),
                RECONSTRUCTION, "right on the small cases, wrong on the notebook's VAE reconstructions.",
                "use the arguments you are given; return one score per record.")
    return passed(RECONSTRUCTION, f"{len(cases)} small cases{' and the VAE' if X is not None else ''}")


@skippable(MONTE_CARLO)
def check_monte_carlo_score(monte_carlo_score, X=None, generated=None, eps=None) -> None:
    """Check `monte_carlo_score(X, generated, eps) -> (n,)`: the share of generated samples within distance eps."""
    __tracebackhide__ = True
    hint = ("for each record, the Euclidean (not squared) distance to every generated sample; the record's score "
            "is the share of the m samples at distance at most eps: one number per record, between 0 and 1.")
    grid = np.array([[i, j] for i in range(-2, 3) for j in range(-2, 3)], dtype=float)   # 25 points
    X_ = np.array([[0.0, 0.0], [2.0, 2.0], [10.0, 10.0]])
    cases = [
        Case("3 records on a 5 x 5 grid, eps = 1", (X_, grid, 1.0), np.array([5, 3, 0]) / 25,
             "the ball includes its edge: a sample at distance exactly eps counts (<=, not <). " + hint),
        Case("the same, eps = 1.5", (X_, grid, 1.5), np.array([9, 4, 0]) / 25, hint),
        Case("the same, eps = 0 (only exact copies)", (X_, grid, 0.0), np.array([1, 1, 0]) / 25,
             "return a share of the generated samples (out of m), not a count. " + hint),
    ]
    _run(MONTE_CARLO, monte_carlo_score, cases)
    if X is not None:
        got = _call(MONTE_CARLO, monte_carlo_score, np.asarray(X, float), np.asarray(generated, float), float(eps))
        require(np.shape(got) == (len(X),) and np.allclose(np.asarray(got, float),
                                                           _monte_carlo(np.asarray(X, float), generated, eps),
                                                           atol=1e-9),
                MONTE_CARLO, "right on the small cases, wrong on the notebook's generated samples.",
                "use the arguments you are given; return one share per record.")
    return passed(MONTE_CARLO, f"{len(cases)} small cases{' and the VAE samples' if X is not None else ''}")


@skippable(SETS)
def check_set_score(set_score, scores=None, sets=None) -> None:
    """Check `set_score(scores, sets) -> (n_sets,)`: the mean record score of each set."""
    __tracebackhide__ = True
    hint = ("each row of sets names the records of one set: look up their scores and take their mean, one "
            "number per set (the mean, not the sum or the median).")
    scores_ = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    cases = [
        Case("2 sets of 2", (scores_, np.array([[0, 1], [2, 4]])), np.array([1.5, 6.5]), hint),
        Case("3 sets of 3, one record in two sets", (scores_, np.array([[0, 1, 2], [2, 3, 4], [4, 3, 0]])),
             np.array([2.0, 17 / 3, 5.0]), "average within each set (along a row), not across the sets. " + hint),
        Case("1 set of 1", (scores_, np.array([[3]])), np.array([4.0]), hint),
    ]
    _run(SETS, set_score, cases)
    if scores is not None:
        got = _call(SETS, set_score, np.asarray(scores, float), np.asarray(sets))
        require(np.shape(got) == (len(sets),) and np.allclose(np.asarray(got, float),
                                                              np.asarray(scores, float)[sets].mean(axis=1),
                                                              atol=1e-9),
                SETS, "right on the small cases, wrong on the notebook's sets.",
                "use the arguments you are given; return one score per set.")
    return passed(SETS, f"{len(cases)} small cases{' and the notebook sets' if scores is not None else ''}")


HINTS = {
    '7.1': ("np.argsort(-scores) lists the positions from the highest score down; slice its first k; index "
            "is_member with them and take the mean of those k booleans (a float)."),
    '7.2': ("reconstructions - X broadcasts X over the draws, shape (n_draws, n, d); np.linalg.norm(..., axis=2) "
            "gives the distances, shape (n_draws, n); .mean(axis=0) averages over the draws; mind the minus sign."),
    '7.3': ("cdist(X, generated) from scipy.spatial.distance has shape (n, m); compare it with eps using <=, which "
            "gives booleans; the mean of booleans along axis=1 is the share for each record."),
    '7.4': ("np.asarray(scores)[sets] has the shape of sets, (n_sets, set_size), one row of record scores per set; "
            "then .mean(...) along axis 1."),
}


hint = explicit_hints(HINTS)
