"""Mutant table of notebook 03 (see tests/_mutants.py): wrong answers rejected, right ones accepted, by the
notebook's check and by grading."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mutants import check_inputs, mutant_tests  # noqa: E402, F401 (check_inputs: the fixture)

WRONG = {
    "3.1": {
        "sorted along axis 0 (across records)": """
def top_k_features(probs, k):
    return -np.sort(-probs, axis=0)[:, :k]
""",
        "the k smallest (increasing order, first k)": """
def top_k_features(probs, k):
    return np.sort(probs, axis=1)[:, :k]
""",
        "the k largest but in increasing order": """
def top_k_features(probs, k):
    return np.sort(probs, axis=1)[:, -k:]
""",
        "the first k classes, unsorted": """
def top_k_features(probs, k):
    return probs[:, :k]
""",
        "the class indices (argsort) instead of the posteriors": """
def top_k_features(probs, k):
    return np.argsort(-probs, axis=1)[:, :k].astype(float)
""",
        "np.partition (the k largest, in no particular order)": """
def top_k_features(probs, k):
    return np.partition(probs, -k, axis=1)[:, -k:]
""",
        "every row reversed, then unsorted": """
def top_k_features(probs, k):
    return probs[:, ::-1][:, :k]
""",
    },
    "3.2": {
        "no clip: 0 log 0 gives NaN": """
def entropy_attack(probs):
    return np.sum(probs * np.log(probs), axis=1)
""",
        "the entropy itself (sign flipped)": """
def entropy_attack(probs):
    return -np.sum(probs * np.log(np.clip(probs, 1e-12, None)), axis=1)
""",
        "log base 2": """
def entropy_attack(probs):
    return np.sum(probs * np.log2(np.clip(probs, 1e-12, None)), axis=1)
""",
        "mean over the classes instead of the sum": """
def entropy_attack(probs):
    return np.mean(probs * np.log(np.clip(probs, 1e-12, None)), axis=1)
""",
        "summed along axis 0": """
def entropy_attack(probs):
    return np.sum(probs * np.log(np.clip(probs, 1e-12, None)), axis=0)
""",
        "the sum of the logs, without the weights p": """
def entropy_attack(probs):
    return np.sum(np.log(np.clip(probs, 1e-12, None)), axis=1)
""",
        "clipped at 1e-3 (a small posterior counted as 0.001)": """
def entropy_attack(probs):
    return np.sum(probs * np.log(np.clip(probs, 1e-3, None)), axis=1)
""",
        "normalised by log C": """
def entropy_attack(probs):
    return np.sum(probs * np.log(np.clip(probs, 1e-12, None)), axis=1) / np.log(probs.shape[1])
""",
    },
    "3.3": {
        "the percentile of every posterior, not of each answer's largest": """
def pick_threshold(noise_probs, percentile):
    return float(np.percentile(noise_probs, percentile))
""",
        "the posterior of class 0": """
def pick_threshold(noise_probs, percentile):
    return float(np.percentile(noise_probs[:, 0], percentile))
""",
        "the percentile given as a fraction (percentile / 100)": """
def pick_threshold(noise_probs, percentile):
    return float(np.percentile(noise_probs.max(axis=1), percentile / 100))
""",
        "the opposite percentile (100 - percentile)": """
def pick_threshold(noise_probs, percentile):
    return float(np.percentile(noise_probs.max(axis=1), 100 - percentile))
""",
        "the nearest rank, no interpolation": """
def pick_threshold(noise_probs, percentile):
    m = np.sort(noise_probs.max(axis=1))
    return float(m[int(round(percentile / 100 * (len(m) - 1)))])
""",
        "np.percentile with method='lower'": """
def pick_threshold(noise_probs, percentile):
    return float(np.percentile(noise_probs.max(axis=1), percentile, method="lower"))
""",
        "the largest posterior over axis 0 (per class)": """
def pick_threshold(noise_probs, percentile):
    return float(np.percentile(noise_probs.max(axis=0), percentile))
""",
        "the mean of the largest posteriors": """
def pick_threshold(noise_probs, percentile):
    return float(np.mean(noise_probs.max(axis=1)))
""",
    },
    "3.4": {
        "transposed: one row per target family": """
def transfer_table(pair_scores, is_member, shadows, targets):
    return np.array([[metrics.auc(pair_scores[(s, t)], is_member) for s in shadows] for t in targets])
""",
        "each key read the wrong way round, (target, shadow)": """
def transfer_table(pair_scores, is_member, shadows, targets):
    table = np.zeros((len(shadows), len(targets)))
    for i, shadow in enumerate(shadows):
        for j, target in enumerate(targets):
            table[i, j] = metrics.auc(pair_scores[(target, shadow)], is_member)
    return table
""",
        "the table filled in the order of the dict's keys, not of shadows and targets": """
def transfer_table(pair_scores, is_member, shadows, targets):
    aucs = [metrics.auc(scores, is_member) for scores in pair_scores.values()]
    return np.array(aucs).reshape(len(shadows), len(targets))
""",
        "members and non-members swapped (1 - AUC)": """
def transfer_table(pair_scores, is_member, shadows, targets):
    return np.array([[metrics.auc(pair_scores[(s, t)], ~is_member) for t in targets] for s in shadows])
""",
        "an attack below chance folded up: max(AUC, 1 - AUC)": """
def transfer_table(pair_scores, is_member, shadows, targets):
    aucs = np.array([[metrics.auc(pair_scores[(s, t)], is_member) for t in targets] for s in shadows])
    return np.maximum(aucs, 1 - aucs)
""",
        "ties counted as wins (>=)": """
def transfer_table(pair_scores, is_member, shadows, targets):
    table = np.zeros((len(shadows), len(targets)))
    for i, shadow in enumerate(shadows):
        for j, target in enumerate(targets):
            scores = pair_scores[(shadow, target)]
            table[i, j] = np.mean(scores[is_member][:, None] >= scores[~is_member][None, :])
    return table
""",
        "ties counted as losses (> only)": """
def transfer_table(pair_scores, is_member, shadows, targets):
    table = np.zeros((len(shadows), len(targets)))
    for i, shadow in enumerate(shadows):
        for j, target in enumerate(targets):
            scores = pair_scores[(shadow, target)]
            table[i, j] = np.mean(scores[is_member][:, None] > scores[~is_member][None, :])
    return table
""",
        "the members taken to be the first half of the records": """
def transfer_table(pair_scores, is_member, shadows, targets):
    first_half = np.arange(len(is_member)) < is_member.sum()
    return np.array([[metrics.auc(pair_scores[(s, t)], first_half) for t in targets] for s in shadows])
""",
        "the accuracy of calling members the scores above 0.5": """
def transfer_table(pair_scores, is_member, shadows, targets):
    return np.array([[np.mean((pair_scores[(s, t)] > 0.5) == is_member) for t in targets] for s in shadows])
""",
        "the membership advantage instead of the AUC": """
def transfer_table(pair_scores, is_member, shadows, targets):
    return np.array([[metrics.advantage(pair_scores[(s, t)], is_member) for t in targets] for s in shadows])
""",
    },
}

RIGHT = {
    "3.1": {
        "sort, then reverse the columns": """
def top_k_features(probs, k):
    return np.sort(probs, axis=1)[:, ::-1][:, :k]
""",
        "sorted() on each row, as lists": """
def top_k_features(probs, k):
    return np.array([sorted(row, reverse=True)[:k] for row in probs]).reshape(len(probs), k)
""",
        "argsort and take_along_axis": """
def top_k_features(probs, k):
    order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(probs, order, axis=1)
""",
        "np.flip of the last k": """
def top_k_features(probs, k):
    return np.flip(np.sort(probs, axis=-1)[:, probs.shape[1] - k:], axis=1)
""",
    },
    "3.2": {
        "np.where around p log p": """
def entropy_attack(probs):
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(probs > 0, probs * np.log(probs), 0.0)
    return terms.sum(axis=1)
""",
        "scipy.stats.entropy, negated": """
def entropy_attack(probs):
    from scipy.stats import entropy
    return -entropy(probs, axis=1)
""",
        "log(p + 1e-12)": """
def entropy_attack(probs):
    return (probs * np.log(probs + 1e-12)).sum(1)
""",
        "np.nan_to_num of p log p, in float32": """
def entropy_attack(probs):
    p = probs.astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.nan_to_num(p * np.log(p)).sum(axis=1)
""",
    },
    "3.3": {
        "np.quantile of percentile / 100": """
def pick_threshold(noise_probs, percentile):
    return float(np.quantile(np.max(noise_probs, axis=1), percentile / 100))
""",
        "sorted, interpolated by hand": """
def pick_threshold(noise_probs, percentile):
    m = np.sort(noise_probs.max(axis=1))
    pos = percentile / 100 * (len(m) - 1)
    lo = int(np.floor(pos))
    hi = min(lo + 1, len(m) - 1)
    return float(m[lo] + (pos - lo) * (m[hi] - m[lo]))
""",
        "pandas' quantile": """
def pick_threshold(noise_probs, percentile):
    import pandas as pd
    return float(pd.Series(noise_probs.max(axis=1)).quantile(percentile / 100))
""",
    },
    "3.4": {
        "mialab's metrics.auc in a nested list comprehension": """
def transfer_table(pair_scores, is_member, shadows, targets):
    return np.array([[metrics.auc(pair_scores[(s, t)], is_member) for t in targets] for s in shadows])
""",
        "scikit-learn's roc_auc_score, filled into zeros": """
def transfer_table(pair_scores, is_member, shadows, targets):
    from sklearn.metrics import roc_auc_score
    table = np.zeros((len(shadows), len(targets)))
    for i, shadow in enumerate(shadows):
        for j, target in enumerate(targets):
            table[i, j] = roc_auc_score(is_member, pair_scores[(shadow, target)])
    return table
""",
        "the Mann-Whitney U of scipy over n1 * n0": """
def transfer_table(pair_scores, is_member, shadows, targets):
    from scipy.stats import mannwhitneyu
    n1, n0 = is_member.sum(), (~is_member).sum()
    return np.array([[mannwhitneyu(pair_scores[(s, t)][is_member], pair_scores[(s, t)][~is_member]).statistic
                      / (n1 * n0) for t in targets] for s in shadows])
""",
        "average ranks (scipy.stats.rankdata)": """
def transfer_table(pair_scores, is_member, shadows, targets):
    from scipy.stats import rankdata
    n1, n0 = int(is_member.sum()), int((~is_member).sum())
    def auc(scores):
        return (rankdata(scores)[is_member].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)
    return np.array([[auc(pair_scores[(s, t)]) for t in targets] for s in shadows])
""",
        "pandas: a Series keyed by the pairs, unstacked, then reordered": """
def transfer_table(pair_scores, is_member, shadows, targets):
    import pandas as pd
    table = pd.Series({key: metrics.auc(scores, is_member) for key, scores in pair_scores.items()}).unstack()
    return table.loc[shadows, targets].to_numpy()
""",
    },
}

test_wrong, test_right, test_wrong_every_draw, test_right_every_draw, test_use_reference = \
    mutant_tests(WRONG, RIGHT)
