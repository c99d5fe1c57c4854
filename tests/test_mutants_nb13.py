"""Mutant table of notebook 13 (see tests/_mutants.py): wrong answers rejected, right ones accepted, by the
notebook's check and by grading."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mutants import check_inputs, mutant_tests  # noqa: E402, F401 (check_inputs: the fixture)

WRONG = {
    "13.1": {
        "ranks from 0 (no + 1)": """
def rank_histogram(probs, next_chars, bins):
    written = probs[np.arange(len(probs)), next_chars]
    ranks = np.sum(probs > written[:, None], axis=1)
    return np.histogram(ranks, bins=bins)[0] / len(ranks)
""",
        ">= (ties and the character itself counted ahead)": """
def rank_histogram(probs, next_chars, bins):
    written = probs[np.arange(len(probs)), next_chars]
    ranks = np.sum(probs >= written[:, None], axis=1)
    return np.histogram(ranks, bins=bins)[0] / len(ranks)
""",
        "the position in a stable argsort (ties broken by index)": """
def rank_histogram(probs, next_chars, bins):
    order = np.argsort(-probs, axis=1, kind="stable")
    ranks = np.array([int(np.where(row == c)[0][0]) + 1 for row, c in zip(order, next_chars)])
    return np.histogram(ranks, bins=bins)[0] / len(ranks)
""",
        "lower probabilities counted as ahead": """
def rank_histogram(probs, next_chars, bins):
    written = probs[np.arange(len(probs)), next_chars]
    ranks = np.sum(probs < written[:, None], axis=1) + 1
    return np.histogram(ranks, bins=bins)[0] / len(ranks)
""",
        "counts, not shares": """
def rank_histogram(probs, next_chars, bins):
    written = probs[np.arange(len(probs)), next_chars]
    ranks = np.sum(probs > written[:, None], axis=1) + 1
    return np.histogram(ranks, bins=bins)[0]
""",
        "the histogram of the written characters' probabilities": """
def rank_histogram(probs, next_chars, bins):
    written = probs[np.arange(len(probs)), next_chars]
    return np.histogram(written, bins=bins)[0] / len(written)
""",
        "the rank of the model's first guess, not of the written character": """
def rank_histogram(probs, next_chars, bins):
    top = probs.max(axis=1)
    ranks = np.sum(probs > top[:, None], axis=1) + 1
    return np.histogram(ranks, bins=bins)[0] / len(ranks)
""",
        "np.digitize's bins: the last edge left open": """
def rank_histogram(probs, next_chars, bins):
    written = probs[np.arange(len(probs)), next_chars]
    ranks = np.sum(probs > written[:, None], axis=1) + 1
    index = np.digitize(ranks, bins) - 1
    return np.bincount(index[index < len(bins) - 1], minlength=len(bins) - 1) / len(ranks)
""",
        "the course's RANK_BINS whatever bins are given": """
def rank_histogram(probs, next_chars, bins):
    written = probs[np.arange(len(probs)), next_chars]
    ranks = np.sum(probs > written[:, None], axis=1) + 1
    return np.histogram(ranks, bins=provenance.RANK_BINS)[0] / len(ranks)
""",
    },
}

RIGHT = {
    "13.1": {
        "a loop over rows and bins": """
def rank_histogram(probs, next_chars, bins):
    shares = np.zeros(len(bins) - 1)
    for row, c in zip(probs, next_chars):
        rank = 1 + sum(p > row[c] for p in row)
        for b in range(len(bins) - 1):
            last = b == len(bins) - 2
            if bins[b] <= rank < bins[b + 1] or (last and rank == bins[b + 1]):
                shares[b] += 1
    return shares / len(probs)
""",
        "scipy's rankdata with the min method": """
def rank_histogram(probs, next_chars, bins):
    from scipy.stats import rankdata
    ranks = rankdata(-probs, method="min", axis=1)[np.arange(len(probs)), next_chars]
    return np.histogram(ranks, bins=bins, density=False)[0] / len(ranks)
""",
        "searchsorted over the sorted edges": """
def rank_histogram(probs, next_chars, bins):
    bins = np.asarray(bins)
    written = np.take_along_axis(probs, np.asarray(next_chars)[:, None], axis=1)
    ranks = (probs > written).sum(axis=1) + 1
    index = np.searchsorted(bins, ranks, side="right") - 1
    index[ranks == bins[-1]] = len(bins) - 2
    keep = (index >= 0) & (index < len(bins) - 1)
    return np.bincount(index[keep], minlength=len(bins) - 1) / len(ranks)
""",
    },
}

test_wrong, test_right, test_wrong_every_draw, test_right_every_draw, test_use_reference = \
    mutant_tests(WRONG, RIGHT, seeds=30)  # the hidden test runs the check's tied case first, whatever the seed
