"""Mutant table of notebook 12 (see tests/_mutants.py): wrong answers rejected, right ones accepted, by the
notebook's check and by grading; and the hidden tests, run here with many seeds, reject each wrong answer and accept
each right one on every draw. (12.4 is graded by hand.) The answers of 12.2 call the notebook's
`epsilon_lower_bound` (12.1's solution, in scope as in the notebook)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mutants import check_inputs, mutant_tests  # noqa: E402, F401 (check_inputs: the fixture)

WRONG = {
    "12.1": {
        "the point estimate, no confidence bounds": """
def epsilon_lower_bound(tp, n_members, fp, n_nonmembers, delta):
    tpr, fpr = tp / n_members, fp / n_nonmembers
    if tpr <= delta:
        return 0.0
    return float('inf') if fpr == 0 else max(0.0, float(np.log((tpr - delta) / fpr)))
""",
        "two-sided 90% levels (0.05 and 0.95)": """
def epsilon_lower_bound(tp, n_members, fp, n_nonmembers, delta):
    tpr_low = 0.0 if tp == 0 else scipy.stats.beta.ppf(0.05, tp, n_members - tp + 1)
    fpr_high = 1.0 if fp == n_nonmembers else scipy.stats.beta.ppf(0.95, fp + 1, n_nonmembers - fp)
    if tpr_low <= delta:
        return 0.0
    return float(max(0.0, np.log((tpr_low - delta) / fpr_high)))
""",
        "the FPR bound with the lower bound's shapes (fp, n - fp + 1)": """
def epsilon_lower_bound(tp, n_members, fp, n_nonmembers, delta):
    tpr_low = 0.0 if tp == 0 else scipy.stats.beta.ppf(0.025, tp, n_members - tp + 1)
    fpr_high = 1.0 if fp == n_nonmembers else scipy.stats.beta.ppf(0.975, fp, n_nonmembers - fp + 1)
    if tpr_low <= delta:
        return 0.0
    return float(max(0.0, np.log((tpr_low - delta) / fpr_high)))
""",
        "the TPR bound's second shape off by one (n - tp)": """
def epsilon_lower_bound(tp, n_members, fp, n_nonmembers, delta):
    tpr_low = 0.0 if tp == 0 else scipy.stats.beta.ppf(0.025, tp, n_members - tp)
    fpr_high = 1.0 if fp == n_nonmembers else scipy.stats.beta.ppf(0.975, fp + 1, n_nonmembers - fp)
    if tpr_low <= delta:
        return 0.0
    return float(max(0.0, np.log((tpr_low - delta) / fpr_high)))
""",
        "delta left out": """
def epsilon_lower_bound(tp, n_members, fp, n_nonmembers, delta):
    tpr_low = 0.0 if tp == 0 else scipy.stats.beta.ppf(0.025, tp, n_members - tp + 1)
    fpr_high = 1.0 if fp == n_nonmembers else scipy.stats.beta.ppf(0.975, fp + 1, n_nonmembers - fp)
    if tpr_low <= 0:
        return 0.0
    return float(max(0.0, np.log(tpr_low / fpr_high)))
""",
        "no floor at 0 (a negative log returned)": """
def epsilon_lower_bound(tp, n_members, fp, n_nonmembers, delta):
    tpr_low = 0.0 if tp == 0 else scipy.stats.beta.ppf(0.025, tp, n_members - tp + 1)
    fpr_high = 1.0 if fp == n_nonmembers else scipy.stats.beta.ppf(0.975, fp + 1, n_nonmembers - fp)
    if tpr_low <= delta:
        return 0.0
    return float(np.log((tpr_low - delta) / fpr_high))
""",
        "edges skipped and floored with np.maximum (nan gets through)": """
def epsilon_lower_bound(tp, n_members, fp, n_nonmembers, delta):
    tpr_low = scipy.stats.beta.ppf(0.025, tp, n_members - tp + 1)
    fpr_high = scipy.stats.beta.ppf(0.975, fp + 1, n_nonmembers - fp)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.maximum(0.0, np.log((tpr_low - delta) / fpr_high)))
""",
        "the wrong tails (0.975 for the TPR, 0.025 for the FPR)": """
def epsilon_lower_bound(tp, n_members, fp, n_nonmembers, delta):
    tpr_low = 0.0 if tp == 0 else scipy.stats.beta.ppf(0.975, tp, n_members - tp + 1)
    fpr_high = 1.0 if fp == n_nonmembers else scipy.stats.beta.ppf(0.025, fp + 1, n_nonmembers - fp)
    if tpr_low <= delta:
        return 0.0
    return float(max(0.0, np.log((tpr_low - delta) / fpr_high)))
""",
    },
    "12.2": {
        "the last threshold among equal TPRs (the highest FPR)": """
def audit_table(scores, is_member, delta):
    n1, n0 = int(is_member.sum()), int((~is_member).sum())
    table = {}
    for name, s in scores.items():
        row = [metrics.auc(s, is_member)]
        for at in (0.01, 0.001):
            best = (0, 0)
            for t in np.unique(s)[::-1]:
                tp, fp = int((s[is_member] >= t).sum()), int((s[~is_member] >= t).sum())
                if fp / n0 <= at and tp >= best[0]:
                    best = (tp, fp)
            row += [best[0] / n1, epsilon_lower_bound(best[0], n1, best[1], n0, delta)]
        table[name] = row
    return table
""",
        "FPR strictly below the target (< at)": """
def audit_table(scores, is_member, delta):
    n1, n0 = int(is_member.sum()), int((~is_member).sum())
    table = {}
    for name, s in scores.items():
        fpr, tpr, _ = metrics.roc_curve(s, is_member)
        row = [metrics.auc(s, is_member)]
        for at in (0.01, 0.001):
            ok = np.flatnonzero(fpr < at)
            i = ok[np.argmax(tpr[ok])]
            tp, fp = int(round(tpr[i] * n1)), int(round(fpr[i] * n0))
            row += [tp / n1, epsilon_lower_bound(tp, n1, fp, n0, delta)]
        table[name] = row
    return table
""",
        "the false positives taken as the target, floor(at * n0)": """
def audit_table(scores, is_member, delta):
    n1, n0 = int(is_member.sum()), int((~is_member).sum())
    table = {}
    for name, s in scores.items():
        fpr, tpr, _ = metrics.roc_curve(s, is_member)
        row = [metrics.auc(s, is_member)]
        for at in (0.01, 0.001):
            tp = int(round(tpr[fpr <= at].max() * n1))
            fp = int(np.floor(at * n0 + 1e-9))
            row += [tp / n1, epsilon_lower_bound(tp, n1, fp, n0, delta)]
        table[name] = row
    return table
""",
        "the AUC without ties (strict >, a tie counts 0)": """
def audit_table(scores, is_member, delta):
    n1, n0 = int(is_member.sum()), int((~is_member).sum())
    table = {}
    for name, s in scores.items():
        fpr, tpr, _ = metrics.roc_curve(s, is_member)
        m, o = np.sort(s[is_member]), np.sort(s[~is_member])
        row = [float(np.searchsorted(o, m, side="left").sum() / (n1 * n0))]
        for at in (0.01, 0.001):
            ok = np.flatnonzero(fpr <= at)
            i = ok[np.argmax(tpr[ok])]
            tp, fp = int(round(tpr[i] * n1)), int(round(fpr[i] * n0))
            row += [tp / n1, epsilon_lower_bound(tp, n1, fp, n0, delta)]
        table[name] = row
    return table
""",
        "delta not passed on (0)": """
def audit_table(scores, is_member, delta):
    n1, n0 = int(is_member.sum()), int((~is_member).sum())
    table = {}
    for name, s in scores.items():
        fpr, tpr, _ = metrics.roc_curve(s, is_member)
        row = [metrics.auc(s, is_member)]
        for at in (0.01, 0.001):
            ok = np.flatnonzero(fpr <= at)
            i = ok[np.argmax(tpr[ok])]
            tp, fp = int(round(tpr[i] * n1)), int(round(fpr[i] * n0))
            row += [tp / n1, epsilon_lower_bound(tp, n1, fp, n0, 0.0)]
        table[name] = row
    return table
""",
        "the ROC interpolated at the target FPR": """
def audit_table(scores, is_member, delta):
    n1, n0 = int(is_member.sum()), int((~is_member).sum())
    table = {}
    for name, s in scores.items():
        fpr, tpr, _ = metrics.roc_curve(s, is_member)
        row = [metrics.auc(s, is_member)]
        for at in (0.01, 0.001):
            t = float(np.interp(at, fpr, tpr))
            tp, fp = int(round(t * n1)), int(round(at * n0))
            row += [t, epsilon_lower_bound(tp, n1, fp, n0, delta)]
        table[name] = row
    return table
""",
        "the FPR as a fraction of all records": """
def audit_table(scores, is_member, delta):
    n1, n0 = int(is_member.sum()), int((~is_member).sum())
    table = {}
    for name, s in scores.items():
        row = [metrics.auc(s, is_member)]
        for at in (0.01, 0.001):
            best = (0, 0)
            for t in np.unique(s)[::-1]:
                tp, fp = int((s[is_member] >= t).sum()), int((s[~is_member] >= t).sum())
                if fp / len(s) <= at and tp > best[0]:
                    best = (tp, fp)
            row += [best[0] / n1, epsilon_lower_bound(best[0], n1, best[1], n0, delta)]
        table[name] = row
    return table
""",
    },
    "12.3": {
        "absolute thresholds (the typical evidence's yardsticks built in)": """
def diagnose(evidence):
    if evidence["api"] == "label":
        return "label-only"
    if evidence["nonmember_acc"] < 0.56:
        return "DP-SGD"
    if evidence["weight_norm"] < 21.3:
        return "L2"
    if evidence["member_confidence"] < 0.887:
        return "distillation"
    return "none"
""",
        "L2 tested before DP-SGD": """
def diagnose(evidence):
    if evidence["api"] == "label":
        return "label-only"
    if evidence["weight_norm"] < 0.65 * evidence["reference_weight_norm"]:
        return "L2"
    if evidence["nonmember_acc"] < 0.8 * evidence["reference_acc"]:
        return "DP-SGD"
    if evidence["member_confidence"] < 0.9 * evidence["reference_member_confidence"]:
        return "distillation"
    return "none"
""",
        "<= at each factor": """
def diagnose(evidence):
    if evidence["api"] == "label":
        return "label-only"
    if evidence["nonmember_acc"] <= 0.8 * evidence["reference_acc"]:
        return "DP-SGD"
    if evidence["weight_norm"] <= 0.65 * evidence["reference_weight_norm"]:
        return "L2"
    if evidence["member_confidence"] <= 0.9 * evidence["reference_member_confidence"]:
        return "distillation"
    return "none"
""",
        "differences to the yardsticks instead of ratios": """
def diagnose(evidence):
    if evidence["api"] == "label":
        return "label-only"
    if evidence["reference_acc"] - evidence["nonmember_acc"] > 0.14:
        return "DP-SGD"
    if evidence["reference_weight_norm"] - evidence["weight_norm"] > 11.5:
        return "L2"
    if evidence["reference_member_confidence"] - evidence["member_confidence"] > 0.0986:
        return "distillation"
    return "none"
""",
        "the API tested last": """
def diagnose(evidence):
    if evidence["nonmember_acc"] < 0.8 * evidence["reference_acc"]:
        return "DP-SGD"
    if evidence["weight_norm"] < 0.65 * evidence["reference_weight_norm"]:
        return "L2"
    if evidence["member_confidence"] < 0.9 * evidence["reference_member_confidence"]:
        return "distillation"
    if evidence["api"] == "label":
        return "label-only"
    return "none"
""",
        "the member accuracy instead of the non-member accuracy": """
def diagnose(evidence):
    if evidence["api"] == "label":
        return "label-only"
    if evidence["member_acc"] < 0.8 * evidence["reference_acc"]:
        return "DP-SGD"
    if evidence["weight_norm"] < 0.65 * evidence["reference_weight_norm"]:
        return "L2"
    if evidence["member_confidence"] < 0.9 * evidence["reference_member_confidence"]:
        return "distillation"
    return "none"
""",
        "distillation tested before L2": """
def diagnose(evidence):
    if evidence["api"] == "label":
        return "label-only"
    if evidence["nonmember_acc"] < 0.8 * evidence["reference_acc"]:
        return "DP-SGD"
    if evidence["member_confidence"] < 0.9 * evidence["reference_member_confidence"]:
        return "distillation"
    if evidence["weight_norm"] < 0.65 * evidence["reference_weight_norm"]:
        return "L2"
    return "none"
""",
    },
}

RIGHT = {
    "12.1": {
        "frozen scipy.stats.beta objects, math.log": """
def epsilon_lower_bound(tp, n_members, fp, n_nonmembers, delta):
    import math
    from scipy.stats import beta
    low = beta(tp, n_members - tp + 1).ppf(0.025) if tp > 0 else 0.0
    high = beta(fp + 1, n_nonmembers - fp).ppf(0.975) if fp < n_nonmembers else 1.0
    return 0.0 if low <= delta else max(0.0, math.log((low - delta) / high))
""",
        "scipy.special.betaincinv (the inverse regularised incomplete beta)": """
def epsilon_lower_bound(tp, n_members, fp, n_nonmembers, delta):
    from scipy.special import betaincinv
    low = betaincinv(tp, n_members - tp + 1, 0.025) if tp else 0.0
    high = betaincinv(fp + 1, n_nonmembers - fp, 0.975) if fp != n_nonmembers else 1.0
    if low - delta <= 0:
        return 0.0
    eps = float(np.log(low - delta) - np.log(high))
    return eps if eps > 0 else 0.0
""",
        "edges left to nan, Python's max(0.0, nan) gives 0.0 (the value is right on every input)": """
def epsilon_lower_bound(tp, n_members, fp, n_nonmembers, delta):
    import math
    tpr_low = scipy.stats.beta.ppf(0.025, tp, n_members - tp + 1)
    fpr_high = scipy.stats.beta.ppf(0.975, fp + 1, n_nonmembers - fp)
    if not tpr_low > delta:
        return 0.0
    return max(0.0, math.log((tpr_low - delta) / fpr_high))
""",
    },
    "12.2": {
        "own counts over the distinct scores, a strictly better TPR replaces the best": """
def audit_table(scores, is_member, delta):
    n1, n0 = int(is_member.sum()), int((~is_member).sum())
    table = {}
    for name, s in scores.items():
        row = [metrics.auc(s, is_member)]
        for at in (0.01, 0.001):
            best = (0, 0)
            for t in np.unique(s)[::-1]:
                tp, fp = int((s[is_member] >= t).sum()), int((s[~is_member] >= t).sum())
                if fp / n0 <= at and tp > best[0]:
                    best = (tp, fp)
            row += [best[0] / n1, epsilon_lower_bound(best[0], n1, best[1], n0, delta)]
        table[name] = row
    return table
""",
        "sklearn's roc_curve and roc_auc_score": """
def audit_table(scores, is_member, delta):
    from sklearn.metrics import roc_auc_score, roc_curve
    n1, n0 = int(is_member.sum()), int((~is_member).sum())
    table = {}
    for name, s in scores.items():
        fpr, tpr, _ = roc_curve(is_member, s, drop_intermediate=False)
        row = [float(roc_auc_score(is_member, s))]
        for at in (0.01, 0.001):
            ok = fpr <= at
            best_tpr = tpr[ok].max()
            best_fpr = fpr[ok & (tpr == best_tpr)].min()
            tp, fp = int(round(best_tpr * n1)), int(round(best_fpr * n0))
            row.extend([tp / n1, epsilon_lower_bound(tp, n1, fp, n0, delta)])
        table[name] = row
    return table
""",
        "thresholds at the member scores only (and above every score), sorted counts": """
def audit_table(scores, is_member, delta):
    n1, n0 = int(is_member.sum()), int((~is_member).sum())
    table = {}
    for name, s in scores.items():
        s = np.asarray(s, float)
        members, others = np.sort(s[is_member]), np.sort(s[~is_member])
        t = np.r_[np.inf, np.unique(members)]
        tp = n1 - np.searchsorted(members, t, side="left")
        fp = n0 - np.searchsorted(others, t, side="left")
        auc = (np.searchsorted(others, members, "left").sum()
               + 0.5 * (np.searchsorted(others, members, "right") - np.searchsorted(others, members, "left")).sum())
        row = [float(auc / (n1 * n0))]
        for at in (0.01, 0.001):
            ok = fp / n0 <= at
            i = np.flatnonzero(ok)[np.argmax(tp[ok])]
            row += [tp[i] / n1, epsilon_lower_bound(int(tp[i]), n1, int(fp[i]), n0, delta)]
        table[name] = row
    return table
""",
    },
    "12.3": {
        "a loop over (key, yardstick, factor, name) with ratios": """
def diagnose(evidence):
    if evidence["api"] == "label":
        return "label-only"
    tests = [("nonmember_acc", "reference_acc", 0.8, "DP-SGD"),
             ("weight_norm", "reference_weight_norm", 0.65, "L2"),
             ("member_confidence", "reference_member_confidence", 0.9, "distillation")]
    for key, yardstick, factor, name in tests:
        if evidence[key] / evidence[yardstick] < factor:
            return name
    return "none"
""",
        "yardstick times factor greater than the number": """
def diagnose(evidence):
    e = evidence
    if e["api"] != "label":
        if 0.8 * e["reference_acc"] > e["nonmember_acc"]:
            return "DP-SGD"
        if 0.65 * e["reference_weight_norm"] > e["weight_norm"]:
            return "L2"
        if 0.9 * e["reference_member_confidence"] > e["member_confidence"]:
            return "distillation"
        return "none"
    return "label-only"
""",
        "next() over a generator of the tests that hold": """
def diagnose(evidence):
    ratio = {"DP-SGD": (evidence["nonmember_acc"] / evidence["reference_acc"], 0.8),
             "L2": (evidence["weight_norm"] / evidence["reference_weight_norm"], 0.65),
             "distillation": (evidence["member_confidence"] / evidence["reference_member_confidence"], 0.9)}
    if evidence["api"] == "label":
        return "label-only"
    return next((name for name, (r, factor) in ratio.items() if r < factor), "none")
""",
    },
}


def _target(module, monkeypatch):
    """The hidden test of 12.3 ends on the target's own evidence: here, an L2 target's typical evidence."""
    if hasattr(module, "_target_evidence"):
        monkeypatch.setattr(module, "_target_evidence", lambda: ("L2", dict(module.TYPICAL["L2"])))


test_wrong, test_right, test_wrong_every_draw, test_right_every_draw, test_use_reference = \
    mutant_tests(WRONG, RIGHT, seeds={"12.1": 100, "12.2": 15, "12.3": 100}, prepare=_target)
