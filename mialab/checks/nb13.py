"""Checks for notebook 13 (auditing data provenance in a text model)."""

from __future__ import annotations

import numpy as np

from .._reference import blocked
from . import _compare, _fail, call_student, explicit_hints, passed, require, skippable
from . import use_reference  # noqa: F401 (a notebook imports it from here, as it does hint)

HISTOGRAM = "Exercise 13.1 (the rank histogram)"
BLOCK = ("provenance.next_char_ranks", "provenance.rank_histogram")

# 4 prefixes over a 4-character vocabulary; row 2 holds a tie (two characters at 0.3), row 3 a top-2 answer (zeros)
_PROBS = np.array([[0.1, 0.6, 0.2, 0.1],
                   [0.5, 0.2, 0.2, 0.1],
                   [0.3, 0.3, 0.4, 0.0],
                   [0.0, 0.7, 0.0, 0.3]])
_BINS = np.array([1, 2, 3, 5])
_LAST_EDGE_CHARS, _LAST_EDGE_BINS = np.array([2, 1, 3, 3]), np.array([1, 2, 4])   # ranks 2, 2, 4, 2


def _ranks(probs, next_chars):
    written = probs[np.arange(len(probs)), next_chars]
    return (probs > written[:, None]).sum(axis=1) + 1


def _histogram(probs, next_chars, bins):
    counts, _ = np.histogram(_ranks(probs, next_chars), bins=bins)
    return counts / len(next_chars)


def _mistakes(probs, next_chars, bins):
    """(wrong answer, hint) for the known mistakes on one case."""
    n = len(next_chars)
    written = probs[np.arange(n), next_chars]
    ranks = _ranks(probs, next_chars)
    order = np.argsort(-probs, axis=1, kind="stable").argsort(axis=1)[np.arange(n), next_chars] + 1

    def share(values):
        return np.histogram(values, bins=bins)[0] / n

    tie = ("a character the model finds exactly as likely as the one written is not ahead of it, and neither is "
           "the written character itself: count only the characters with a STRICTLY higher probability (>, not >=), "
           "whatever order a sort leaves ties in.")
    return [
        (share(ranks - 1), "the model's first guess has rank 1, not 0: add 1 to the number of characters ahead."),
        (share((probs >= written[:, None]).sum(axis=1)), tie),
        (share((probs >= written[:, None]).sum(axis=1) + 1), tie),
        (share(order), tie),
        (share((probs < written[:, None]).sum(axis=1) + 1),
         "a higher probability means more likely: count the characters with a probability ABOVE the written one's."),
        (np.histogram(ranks, bins=bins)[0].astype(float),
         "return shares, not counts: divide each bin's count by the number of characters (the rows of probs)."),
        (share(written), "histogram the ranks of the written characters, not their probabilities."),
    ]


def _diagnose(description, func, probs, next_chars, bins, hint):
    __tracebackhide__ = True
    got = call_student(HISTOGRAM, func, probs.copy(), next_chars.copy(), bins.copy())
    expected = _histogram(probs, next_chars, bins)
    problem = _compare(got, expected, 1e-9)
    if not problem:
        return
    for wrong, specific in _mistakes(probs, next_chars, bins):
        if _compare(wrong, expected, 1e-9) is not None and _compare(got, wrong, 1e-9) is None:
            hint = specific
            break
    _fail(HISTOGRAM, f"on {description}, your function {problem}.", hint)


@skippable(HISTOGRAM)
def check_rank_histogram(rank_histogram, probs=None, next_chars=None, bins=None) -> None:
    """Check `rank_histogram(probs, next_chars, bins) -> (len(bins) - 1,)` (the shares of ranks in each bin)."""
    __tracebackhide__ = True
    hint = ("per row, the rank of the written character is 1 + the number of characters with a strictly higher "
            "probability; then count the ranks in each bin (np.histogram with bins as its edges) and divide by the "
            "number of characters.")
    with blocked(*BLOCK):
        _diagnose("4 prefixes, no tie", rank_histogram, _PROBS[:2], np.array([2, 0]), _BINS, hint)
        _diagnose("4 prefixes, with a tie and a top-2 answer", rank_histogram, _PROBS, np.array([2, 1, 0, 0]),
                  _BINS, hint)
        _diagnose("a character outside a top-2 answer (probability 0, rank 3)", rank_histogram, _PROBS[3:],
                  np.array([2]), _BINS, hint)
        _diagnose("other bins, ranks 1 to 4", rank_histogram, _PROBS, np.array([3, 2, 2, 3]), np.array([1, 3, 5]),
                  "use the `bins` you are given as np.histogram's edges (each bin [low, high), the last one "
                  "closed); do not assume provenance.RANK_BINS.")
        _diagnose("a rank equal to the last edge", rank_histogram, _PROBS, _LAST_EDGE_CHARS, _LAST_EDGE_BINS,
                  "the last bin includes its upper edge, as in np.histogram: a rank equal to bins[-1] counts in it.")
        if probs is not None:
            got = call_student(HISTOGRAM, rank_histogram, probs, next_chars, bins)
            want = _histogram(np.asarray(probs, float), np.asarray(next_chars), np.asarray(bins))
            require(_compare(got, want, 1e-9) is None, HISTOGRAM,
                    "right on the small cases, wrong on the target's answers for the notebook's user.", hint)
    where = " and the target's answers for one user" if probs is not None else ""
    return passed(HISTOGRAM, f"5 small cases{where}")


HINTS = {
    "13.1": ("Index probs with two arrays, the row numbers (np.arange) and next_chars, to get the probability of each "
             "written character; compare each row with its own value (broadcast with [:, None]) and count the "
             "strictly larger entries per row, plus one. np.histogram with `bins` as its edges counts the ranks per "
             "bin (its first output); divide those counts by the number of rows."),
}


hint = explicit_hints(HINTS)
