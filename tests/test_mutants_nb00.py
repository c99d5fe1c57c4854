"""Mutant table of notebook 00 (see tests/_mutants.py): wrong answers rejected, right ones accepted, by the
notebook's check and by grading."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mutants import check_inputs, mutant_tests  # noqa: E402, F401 (check_inputs: the fixture)

WRONG = {
    "0.1": {
        "sorted scores, cumulative sums that ignore ties": """
def membership_advantage(scores, is_member):
    order = np.argsort(-scores)
    m = is_member[order]
    tpr = np.cumsum(m) / m.sum()
    fpr = np.cumsum(~m) / (~m).sum()
    return float(np.max(tpr - fpr))
""",
        "accuracy at the best threshold instead of TPR - FPR": """
def membership_advantage(scores, is_member):
    best = 0.0
    for t in np.unique(scores):
        best = max(best, np.mean((scores >= t) == is_member))
    return float(best)
""",
        "counts, not rates": """
def membership_advantage(scores, is_member):
    best = 0.0
    for t in np.unique(scores):
        best = max(best, np.sum(scores[is_member] >= t) - np.sum(scores[~is_member] >= t))
    return float(best)
""",
        "rates over all records instead of over members / non-members": """
def membership_advantage(scores, is_member):
    best = 0.0
    for t in np.unique(scores):
        best = max(best, np.mean((scores >= t) & is_member) - np.mean((scores >= t) & ~is_member))
    return float(best)
""",
        "the threshold at the median score only": """
def membership_advantage(scores, is_member):
    t = np.median(scores)
    return float(np.mean(scores[is_member] >= t) - np.mean(scores[~is_member] >= t))
""",
        "absolute value of the gap (a reversed score counts)": """
def membership_advantage(scores, is_member):
    best = 0.0
    for t in np.unique(scores):
        best = max(best, abs(np.mean(scores[is_member] >= t) - np.mean(scores[~is_member] >= t)))
    return float(best)
""",
        "a fixed grid of 101 thresholds in [0, 1]": """
def membership_advantage(scores, is_member):
    best = 0.0
    for t in np.linspace(0, 1, 101):
        best = max(best, np.mean(scores[is_member] >= t) - np.mean(scores[~is_member] >= t))
    return float(best)
""",
    },
    "0.2": {
        "threshold at np.quantile(non-member scores, 1 - fpr)": """
def tpr_at_fpr(scores, is_member, fpr):
    t = np.quantile(scores[~is_member], 1 - fpr)
    return float(np.mean(scores[is_member] >= t))
""",
        "FPR below the target strictly (< fpr)": """
def tpr_at_fpr(scores, is_member, fpr):
    best = 0.0
    for t in np.unique(scores):
        if np.mean(scores[~is_member] >= t) < fpr:
            best = max(best, np.mean(scores[is_member] >= t))
    return float(best)
""",
        "sorted scores walked one by one without grouping ties": """
def tpr_at_fpr(scores, is_member, fpr):
    order = np.argsort(-scores, kind="stable")
    m = is_member[order]
    tpr = np.cumsum(m) / m.sum()
    fp = np.cumsum(~m) / (~m).sum()
    return float(np.max(tpr[fp <= fpr], initial=0.0))
""",
        "sklearn's roc_curve interpolated at the FPR": """
def tpr_at_fpr(scores, is_member, fpr):
    from sklearn.metrics import roc_curve
    f, t, _ = roc_curve(is_member, scores)
    return float(np.interp(fpr, f, t))
""",
        "FPR as a fraction of all records": """
def tpr_at_fpr(scores, is_member, fpr):
    best = 0.0
    for t in np.unique(scores):
        if np.mean((scores >= t) & ~is_member) <= fpr:
            best = max(best, np.mean(scores[is_member] >= t))
    return float(best)
""",
        "the threshold whose FPR is closest to the target, even above it": """
def tpr_at_fpr(scores, is_member, fpr):
    ts = np.unique(scores)
    fprs = np.array([np.mean(scores[~is_member] >= t) for t in ts])
    t = ts[np.argmin(np.abs(fprs - fpr))]
    return float(np.mean(scores[is_member] >= t))
""",
        "np.quantile(method='higher') of the non-member scores": """
def tpr_at_fpr(scores, is_member, fpr):
    t = np.quantile(scores[~is_member], 1 - fpr, method="higher")
    return float(np.mean(scores[is_member] >= t))
""",
        "sorted scores in increasing order, reversed (ties walked one by one)": """
def tpr_at_fpr(scores, is_member, fpr):
    order = np.argsort(scores, kind="stable")[::-1]
    m = is_member[order]
    tpr = np.cumsum(m) / m.sum()
    fp = np.cumsum(~m) / (~m).sum()
    return float(np.max(tpr[fp <= fpr], initial=0.0))
""",
    },
}

RIGHT = {
    "0.1": {
        "vectorised over every distinct score": """
def membership_advantage(scores, is_member):
    t = np.unique(scores)[:, None]
    return float(np.max(np.mean(scores[is_member] >= t, axis=1) - np.mean(scores[~is_member] >= t, axis=1)))
""",
        "sklearn's roc_curve": """
def membership_advantage(scores, is_member):
    from sklearn.metrics import roc_curve
    fpr, tpr, _ = roc_curve(is_member, scores)
    return float(np.max(tpr - fpr))
""",
        "a loop over the sorted distinct scores, from a list": """
def membership_advantage(scores, is_member):
    scores, is_member = list(scores), list(is_member)
    n_in = sum(is_member)
    n_out = len(is_member) - n_in
    best = 0.0
    for t in sorted(set(scores)):
        tp = sum(1 for s, m in zip(scores, is_member) if m and s >= t)
        fp = sum(1 for s, m in zip(scores, is_member) if not m and s >= t)
        best = max(best, tp / n_in - fp / n_out)
    return best
""",
        "strict > at each distinct score (the threshold just above it)": """
def membership_advantage(scores, is_member):
    best = 0.0
    for t in np.unique(scores):
        best = max(best, np.mean(scores[is_member] > t) - np.mean(scores[~is_member] > t))
    return float(best)
""",
    },
    "0.2": {
        "vectorised over every distinct score": """
def tpr_at_fpr(scores, is_member, fpr):
    t = np.unique(scores)[:, None]
    tpr = np.mean(scores[is_member] >= t, axis=1)
    ok = np.mean(scores[~is_member] >= t, axis=1) <= fpr
    return float(tpr[ok].max()) if ok.any() else 0.0
""",
        "sklearn's roc_curve (drop_intermediate=False), best TPR where FPR <= target": """
def tpr_at_fpr(scores, is_member, fpr):
    from sklearn.metrics import roc_curve
    f, t, _ = roc_curve(is_member, scores, drop_intermediate=False)
    return float(t[f <= fpr].max())
""",
        "count of allowed false positives, floor(fpr * n_nonmembers)": """
def tpr_at_fpr(scores, is_member, fpr):
    members, nonmembers = np.sort(scores[is_member]), np.sort(scores[~is_member])[::-1]
    allowed = int(np.floor(fpr * len(nonmembers) + 1e-9))
    if allowed >= len(nonmembers):
        return 1.0
    bar = nonmembers[allowed]   # the highest score that would be one false positive too many
    return float(np.mean(members > bar))
""",
        "strict > at each distinct score (the threshold just above it)": """
def tpr_at_fpr(scores, is_member, fpr):
    best = 0.0
    for t in np.unique(scores):
        if np.mean(scores[~is_member] > t) <= fpr:
            best = max(best, np.mean(scores[is_member] > t))
    return float(best)
""",
        "the lowest threshold that keeps to the FPR (TPR only grows as t falls)": """
def tpr_at_fpr(scores, is_member, fpr):
    for t in np.unique(scores):
        if np.mean(scores[~is_member] >= t) <= fpr:
            return float(np.mean(scores[is_member] >= t))
    return 0.0
""",
        "ties walked with non-members first (a tie never helps)": """
def tpr_at_fpr(scores, is_member, fpr):
    order = np.lexsort((is_member, -scores))
    m = is_member[order]
    tpr = np.cumsum(m) / m.sum()
    fp = np.cumsum(~m) / (~m).sum()
    return float(np.max(tpr[fp <= fpr], initial=0.0))
""",
    },
}

test_wrong, test_right, test_wrong_every_draw, test_right_every_draw, test_use_reference = \
    mutant_tests(WRONG, RIGHT)
