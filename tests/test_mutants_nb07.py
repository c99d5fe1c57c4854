"""Mutant table of notebook 07 (see tests/_mutants.py): wrong answers rejected, right ones accepted, by the
notebook's check and by grading."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mutants import check_inputs, mutant_tests  # noqa: E402, F401 (check_inputs: the fixture)

WRONG = {
    "7.1": {
        "the non-members among the top k counted (the wrong class)": """
def precision_at_k(scores, is_member, k):
    top = np.argsort(-scores)[:k]
    return float(np.mean(~is_member[top]))
""",
        "the k lowest scores": """
def precision_at_k(scores, is_member, k):
    top = np.argsort(scores)[:k]
    return float(np.mean(is_member[top]))
""",
        "divided by n, not k": """
def precision_at_k(scores, is_member, k):
    top = np.argsort(-scores)[:k]
    return float(np.sum(is_member[top]) / len(scores))
""",
        "recall: divided by the number of members": """
def precision_at_k(scores, is_member, k):
    top = np.argsort(-scores)[:k]
    return float(np.sum(is_member[top]) / np.sum(is_member))
""",
        "one record too few (argsort[:k - 1])": """
def precision_at_k(scores, is_member, k):
    top = np.argsort(-scores)[:k - 1]
    return float(np.mean(is_member[top]))
""",
        "a strict > cut at the k-th score (k - 1 records)": """
def precision_at_k(scores, is_member, k):
    cut = np.sort(scores)[::-1][k - 1]
    top = scores > cut
    return float(np.mean(is_member[top])) if top.any() else 0.0
""",
        "k taken as the number of members": """
def precision_at_k(scores, is_member, k):
    top = np.argsort(-scores)[:int(np.sum(is_member))]
    return float(np.mean(is_member[top]))
""",
        "the count of members, not the share": """
def precision_at_k(scores, is_member, k):
    top = np.argsort(-scores)[:k]
    return float(np.sum(is_member[top]))
""",
    },
    "7.2": {
        "the distance to the mean reconstruction": """
def reconstruction_score(X, reconstructions):
    return -np.linalg.norm(reconstructions.mean(axis=0) - X, axis=1)
""",
        "squared distances": """
def reconstruction_score(X, reconstructions):
    return -((reconstructions - X[None]) ** 2).sum(axis=2).mean(axis=0)
""",
        "no minus sign": """
def reconstruction_score(X, reconstructions):
    return np.linalg.norm(reconstructions - X[None], axis=2).mean(axis=0)
""",
        "averaged over the records (axis 1)": """
def reconstruction_score(X, reconstructions):
    return -np.linalg.norm(reconstructions - X[None], axis=2).mean(axis=1)
""",
        "L1 distances": """
def reconstruction_score(X, reconstructions):
    return -np.abs(reconstructions - X[None]).sum(axis=2).mean(axis=0)
""",
        "the median over the draws": """
def reconstruction_score(X, reconstructions):
    return -np.median(np.linalg.norm(reconstructions - X[None], axis=2), axis=0)
""",
        "root mean square over the dimensions": """
def reconstruction_score(X, reconstructions):
    return -np.sqrt(((reconstructions - X[None]) ** 2).mean(axis=2)).mean(axis=0)
""",
    },
    "7.3": {
        "a strict < eps": """
from scipy.spatial.distance import cdist
def monte_carlo_score(X, generated, eps):
    return (cdist(X, generated) < eps).mean(axis=1)
""",
        "a count, not a share": """
from scipy.spatial.distance import cdist
def monte_carlo_score(X, generated, eps):
    return (cdist(X, generated) <= eps).sum(axis=1).astype(float)
""",
        "squared distances compared with eps": """
from scipy.spatial.distance import cdist
def monte_carlo_score(X, generated, eps):
    return (cdist(X, generated, "sqeuclidean") <= eps).mean(axis=1)
""",
        "the share of the records near each sample (axis 0)": """
from scipy.spatial.distance import cdist
def monte_carlo_score(X, generated, eps):
    return (cdist(X, generated) <= eps).mean(axis=0)
""",
        "L1 (city block) distances": """
from scipy.spatial.distance import cdist
def monte_carlo_score(X, generated, eps):
    return (cdist(X, generated, "cityblock") <= eps).mean(axis=1)
""",
        "divided by the number of records": """
from scipy.spatial.distance import cdist
def monte_carlo_score(X, generated, eps):
    return (cdist(X, generated) <= eps).sum(axis=1) / len(X)
""",
    },
    "7.4": {
        "averaged over the sets (axis 0)": """
def set_score(scores, sets):
    return scores[sets].mean(axis=0)
""",
        "the sum, not the mean": """
def set_score(scores, sets):
    return scores[sets].sum(axis=1)
""",
        "the median": """
def set_score(scores, sets):
    return np.median(scores[sets], axis=1)
""",
        "one mean over everything": """
def set_score(scores, sets):
    return float(scores[sets].mean())
""",
        "the max": """
def set_score(scores, sets):
    return scores[sets].max(axis=1)
""",
        "the first record of each set only": """
def set_score(scores, sets):
    return scores[sets[:, 0]]
""",
        "the sum divided by n": """
def set_score(scores, sets):
    return scores[sets].sum(axis=1) / len(scores)
""",
    },
}

RIGHT = {
    "7.1": {
        "an increasing argsort reversed": """
def precision_at_k(scores, is_member, k):
    top = np.argsort(scores)[::-1][:k]
    return float(is_member[top].sum() / k)
""",
        "Python lists and sorted": """
def precision_at_k(scores, is_member, k):
    ranked = sorted(zip(list(scores), list(is_member)), key=lambda pair: -pair[0])
    return sum(bool(m) for _, m in ranked[:k]) / k
""",
        "a >= cut at the k-th score (no ties)": """
def precision_at_k(scores, is_member, k):
    cut = np.sort(scores)[-k]
    return float(np.mean(is_member[scores >= cut]))
""",
        "np.argpartition": """
def precision_at_k(scores, is_member, k):
    top = np.argpartition(-scores, k - 1)[:k]
    return float(np.mean(is_member[top]))
""",
    },
    "7.2": {
        "a loop over the draws": """
def reconstruction_score(X, reconstructions):
    total = np.zeros(len(X))
    for r in reconstructions:
        total += np.sqrt(((r - X) ** 2).sum(axis=1))
    return -total / len(reconstructions)
""",
        "einsum for the squared distances": """
def reconstruction_score(X, reconstructions):
    diff = reconstructions - X
    return -np.sqrt(np.einsum("jid,jid->ji", diff, diff)).mean(axis=0)
""",
        "np.linalg.norm on the last axis, negated with np.negative": """
def reconstruction_score(X, reconstructions):
    return np.negative(np.mean(np.linalg.norm(X - reconstructions, axis=-1), axis=0))
""",
    },
    "7.3": {
        "a loop over the records": """
def monte_carlo_score(X, generated, eps):
    return np.array([np.mean(np.linalg.norm(generated - x, axis=1) <= eps) for x in X])
""",
        "squared distances against eps squared": """
from scipy.spatial.distance import cdist
def monte_carlo_score(X, generated, eps):
    return np.mean(cdist(X, generated, "sqeuclidean") <= eps ** 2, axis=1)
""",
        "a count divided by m": """
from scipy.spatial.distance import cdist
def monte_carlo_score(X, generated, eps):
    return np.count_nonzero(cdist(X, generated) <= eps, axis=1) / len(generated)
""",
    },
    "7.4": {
        "a list comprehension over the rows": """
def set_score(scores, sets):
    return np.array([np.mean([scores[i] for i in row]) for row in sets])
""",
        "np.take": """
def set_score(scores, sets):
    return np.take(scores, sets).mean(axis=1)
""",
        "the transpose, averaged over axis 0": """
def set_score(scores, sets):
    return scores[sets.T].mean(axis=0)
""",
        "the distinct records of each row (np.unique)": """
def set_score(scores, sets):
    return np.array([scores[np.unique(row)].mean() for row in sets])
""",
    },
}

test_wrong, test_right, test_wrong_every_draw, test_right_every_draw, test_use_reference = \
    mutant_tests(WRONG, RIGHT)
