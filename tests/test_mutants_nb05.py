"""Mutant table of notebook 05 (see tests/_mutants.py): wrong answers rejected, right ones accepted, by the
notebook's check and by grading."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mutants import check_inputs, mutant_tests  # noqa: E402, F401 (check_inputs: the fixture)

WRONG = {
    "5.1": {
        "no clip (a certain answer gives inf)": """
def logit_scale(probs, y):
    p_y = probs[np.arange(len(y)), y]
    with np.errstate(divide="ignore"):
        return np.log(p_y) - np.log(probs.sum(axis=1) - p_y)
""",
        "only p_y clipped": """
def logit_scale(probs, y):
    p_y = probs[np.arange(len(y)), y]
    with np.errstate(divide="ignore"):
        return np.log(np.clip(p_y, 1e-12, None)) - np.log(probs.sum(axis=1) - p_y)
""",
        "log10": """
def logit_scale(probs, y):
    p_y = probs[np.arange(len(y)), y]
    rest = probs.sum(axis=1) - p_y
    return np.log10(np.clip(p_y, 1e-12, None)) - np.log10(np.clip(rest, 1e-12, None))
""",
        "the largest probability, not the true label's": """
def logit_scale(probs, y):
    p_y = probs.max(axis=1)
    rest = probs.sum(axis=1) - p_y
    return np.log(np.clip(p_y, 1e-12, None)) - np.log(np.clip(rest, 1e-12, None))
""",
        "the odds, not their log": """
def logit_scale(probs, y):
    p_y = probs[np.arange(len(y)), y]
    rest = probs.sum(axis=1) - p_y
    return np.clip(p_y, 1e-12, None) / np.clip(rest, 1e-12, None)
""",
        "log p_y alone": """
def logit_scale(probs, y):
    return np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None))
""",
        "clipped at 1e-6": """
def logit_scale(probs, y):
    p_y = probs[np.arange(len(y)), y]
    rest = probs.sum(axis=1) - p_y
    return np.log(np.clip(p_y, 1e-6, None)) - np.log(np.clip(rest, 1e-6, None))
""",
    },
    "5.2": {
        "the log of the ratio of densities (0 / 0 far in the tail)": """
def likelihood_ratio(x, mean_in, std_in, mean_out, std_out):
    d_in = np.exp(-0.5 * ((x - mean_in) / std_in) ** 2) / std_in
    d_out = np.exp(-0.5 * ((x - mean_out) / std_out) ** 2) / std_out
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(d_in / d_out)
""",
        "the log std terms forgotten": """
def likelihood_ratio(x, mean_in, std_in, mean_out, std_out):
    return -0.5 * ((x - mean_in) / std_in) ** 2 + 0.5 * ((x - mean_out) / std_out) ** 2
""",
        "log of the variance, not of the std": """
def likelihood_ratio(x, mean_in, std_in, mean_out, std_out):
    log_in = -0.5 * ((x - mean_in) / std_in) ** 2 - np.log(std_in ** 2)
    log_out = -0.5 * ((x - mean_out) / std_out) ** 2 - np.log(std_out ** 2)
    return log_in - log_out
""",
        "OUT minus IN": """
def likelihood_ratio(x, mean_in, std_in, mean_out, std_out):
    log_in = -0.5 * ((x - mean_in) / std_in) ** 2 - np.log(std_in)
    log_out = -0.5 * ((x - mean_out) / std_out) ** 2 - np.log(std_out)
    return log_out - log_in
""",
        "the 1/2 forgotten in the exponent": """
def likelihood_ratio(x, mean_in, std_in, mean_out, std_out):
    log_in = -((x - mean_in) / std_in) ** 2 - np.log(std_in)
    log_out = -((x - mean_out) / std_out) ** 2 - np.log(std_out)
    return log_in - log_out
""",
        "divided by the std, not its square": """
def likelihood_ratio(x, mean_in, std_in, mean_out, std_out):
    log_in = -0.5 * (x - mean_in) ** 2 / std_in - np.log(std_in)
    log_out = -0.5 * (x - mean_out) ** 2 / std_out - np.log(std_out)
    return log_in - log_out
""",
        "scipy's logpdf with the variance as the scale": """
import scipy.stats
def likelihood_ratio(x, mean_in, std_in, mean_out, std_out):
    return scipy.stats.norm.logpdf(x, mean_in, std_in ** 2) - scipy.stats.norm.logpdf(x, mean_out, std_out ** 2)
""",
    },
    "5.3": {
        "threshold at np.quantile(non-member scores, 1 - fpr)": """
def tpr_at_low_fpr(scores, is_member, fpr):
    s, m = np.ravel(scores), np.ravel(is_member).astype(bool)
    return float(np.mean(s[m] >= np.quantile(s[~m], 1 - fpr)))
""",
        "each target on its own, the TPRs averaged": """
def tpr_at_low_fpr(scores, is_member, fpr):
    s, m = np.asarray(scores, float), np.asarray(is_member, bool)
    if s.ndim == 1:
        s, m = s[:, None], m[:, None]
    out = []
    for col, mem in zip(s.T, m.T):
        best = 0.0
        for t in np.unique(col):
            if np.mean(col[~mem] >= t) <= fpr:
                best = max(best, np.mean(col[mem] >= t))
        out.append(best)
    return float(np.mean(out))
""",
        "the first target only": """
def tpr_at_low_fpr(scores, is_member, fpr):
    s, m = np.asarray(scores, float), np.asarray(is_member, bool)
    if s.ndim == 2:
        s, m = s[:, 0], m[:, 0]
    best = 0.0
    for t in np.unique(s):
        if np.mean(s[~m] >= t) <= fpr:
            best = max(best, np.mean(s[m] >= t))
    return float(best)
""",
        "FPR below the target strictly (< fpr)": """
def tpr_at_low_fpr(scores, is_member, fpr):
    s, m = np.ravel(scores), np.ravel(is_member).astype(bool)
    best = 0.0
    for t in np.unique(s):
        if np.mean(s[~m] >= t) < fpr:
            best = max(best, np.mean(s[m] >= t))
    return float(best)
""",
        "sorted scores walked one by one without grouping ties": """
def tpr_at_low_fpr(scores, is_member, fpr):
    s, m = np.ravel(scores), np.ravel(is_member).astype(bool)
    order = np.argsort(-s, kind="stable")
    mm = m[order]
    tpr = np.cumsum(mm) / mm.sum()
    fp = np.cumsum(~mm) / (~mm).sum()
    return float(np.max(tpr[fp <= fpr], initial=0.0))
""",
        "the allowed count rounded, not floored": """
def tpr_at_low_fpr(scores, is_member, fpr):
    s, m = np.ravel(scores), np.ravel(is_member).astype(bool)
    non = np.sort(s[~m])[::-1]
    allowed = int(round(fpr * len(non)))
    if allowed >= len(non):
        return 1.0
    return float(np.mean(s[m] > non[allowed]))
""",
        "sklearn's roc_curve interpolated at the FPR": """
def tpr_at_low_fpr(scores, is_member, fpr):
    from sklearn.metrics import roc_curve
    f, t, _ = roc_curve(np.ravel(is_member), np.ravel(scores))
    return float(np.interp(fpr, f, t))
""",
    },
    "5.4": {
        "the middle of the final interval (on the record's side half the time)": """
def boundary_point(label_of, x, y, x_other, tol):
    length = np.linalg.norm(x_other - x)
    lo, hi = 0.0, 1.0
    while (hi - lo) * length > tol:
        mid = (lo + hi) / 2
        if label_of((x + mid * (x_other - x))[None])[0] == y:
            lo = mid
        else:
            hi = mid
    return x + (lo + hi) / 2 * (x_other - x)
""",
        "the end of the final interval labelled y": """
def boundary_point(label_of, x, y, x_other, tol):
    length = np.linalg.norm(x_other - x)
    lo, hi = 0.0, 1.0
    while (hi - lo) * length > tol:
        mid = (lo + hi) / 2
        if label_of((x + mid * (x_other - x))[None])[0] == y:
            lo = mid
        else:
            hi = mid
    return x + lo * (x_other - x)
""",
        "tol in fractions of the segment, not in distance": """
def boundary_point(label_of, x, y, x_other, tol):
    lo, hi = 0.0, 1.0
    while hi - lo > tol:
        mid = (lo + hi) / 2
        if label_of((x + mid * (x_other - x))[None])[0] == y:
            lo = mid
        else:
            hi = mid
    return x + hi * (x_other - x)
""",
        "a fixed 20 halvings": """
def boundary_point(label_of, x, y, x_other, tol):
    lo, hi = 0.0, 1.0
    for _ in range(20):
        mid = (lo + hi) / 2
        if label_of((x + mid * (x_other - x))[None])[0] == y:
            lo = mid
        else:
            hi = mid
    return x + hi * (x_other - x)
""",
        "past the boundary only where the label is x_other's": """
def boundary_point(label_of, x, y, x_other, tol):
    target_label = label_of(x_other[None])[0]
    length = np.linalg.norm(x_other - x)
    lo, hi = 0.0, 1.0
    while (hi - lo) * length > tol:
        mid = (lo + hi) / 2
        if label_of((x + mid * (x_other - x))[None])[0] == target_label:
            hi = mid
        else:
            lo = mid
    return x + hi * (x_other - x)
""",
        "a scan of 100 steps, then a binary search in the step that crosses": """
def boundary_point(label_of, x, y, x_other, tol):
    length = np.linalg.norm(x_other - x)
    lo, hi = 0.0, 1.0
    for step in range(1, 101):
        if label_of((x + step / 100 * (x_other - x))[None])[0] != y:
            lo, hi = (step - 1) / 100, step / 100
            break
    while (hi - lo) * length > tol:
        mid = (lo + hi) / 2
        if label_of((x + mid * (x_other - x))[None])[0] == y:
            lo = mid
        else:
            hi = mid
    return x + hi * (x_other - x)
""",
        "the distance to the boundary, not the point": """
def boundary_point(label_of, x, y, x_other, tol):
    length = np.linalg.norm(x_other - x)
    lo, hi = 0.0, 1.0
    while (hi - lo) * length > tol:
        mid = (lo + hi) / 2
        if label_of((x + mid * (x_other - x))[None])[0] == y:
            lo = mid
        else:
            hi = mid
    return hi * length
""",
        "the two ends moved the wrong way": """
def boundary_point(label_of, x, y, x_other, tol):
    length = np.linalg.norm(x_other - x)
    lo, hi = 0.0, 1.0
    while (hi - lo) * length > tol:
        mid = (lo + hi) / 2
        if label_of((x + mid * (x_other - x))[None])[0] == y:
            hi = mid
        else:
            lo = mid
    return x + hi * (x_other - x)
""",
        "label_of asked about one point as a 1-D array": """
def boundary_point(label_of, x, y, x_other, tol):
    length = np.linalg.norm(x_other - x)
    lo, hi = 0.0, 1.0
    while (hi - lo) * length > tol:
        mid = (lo + hi) / 2
        if label_of(x + mid * (x_other - x))[0] == y:
            lo = mid
        else:
            hi = mid
    return x + hi * (x_other - x)
""",
    },
}

RIGHT = {
    "5.1": {
        "the other probabilities summed in a copy with p_y set to 0": """
def logit_scale(probs, y):
    rows = np.arange(len(y))
    rest = probs.copy()
    rest[rows, y] = 0.0
    return np.log(np.maximum(probs[rows, y], 1e-12)) - np.log(np.maximum(rest.sum(axis=1), 1e-12))
""",
        "1 - p_y, clipped (rows sum to 1)": """
def logit_scale(probs, y):
    p_y = probs[np.arange(len(y)), y]
    return np.log(np.clip(p_y, 1e-12, None)) - np.log(np.clip(1 - p_y, 1e-12, None))
""",
        "a loop with math.log": """
import math
def logit_scale(probs, y):
    out = []
    for row, label in zip(probs, y):
        p = float(row[label])
        rest = float(sum(row)) - p
        out.append(math.log(max(p, 1e-12)) - math.log(max(rest, 1e-12)))
    return np.array(out)
""",
    },
    "5.2": {
        "scipy.stats.norm.logpdf": """
import scipy.stats
def likelihood_ratio(x, mean_in, std_in, mean_out, std_out):
    return scipy.stats.norm.logpdf(x, mean_in, std_in) - scipy.stats.norm.logpdf(x, mean_out, std_out)
""",
        "with the constant -log(2 pi) / 2 kept": """
def likelihood_ratio(x, mean_in, std_in, mean_out, std_out):
    def log_density(v, m, s):
        return -(v - m) ** 2 / (2 * s ** 2) - np.log(s) - 0.5 * np.log(2 * np.pi)
    return log_density(x, mean_in, std_in) - log_density(x, mean_out, std_out)
""",
        "half the log of the variance": """
def likelihood_ratio(x, mean_in, std_in, mean_out, std_out):
    var_in, var_out = std_in ** 2, std_out ** 2
    return (-(x - mean_in) ** 2 / (2 * var_in) - 0.5 * np.log(var_in)) - (
        -(x - mean_out) ** 2 / (2 * var_out) - 0.5 * np.log(var_out))
""",
        "one expression, the log of the std ratio": """
def likelihood_ratio(x, mean_in, std_in, mean_out, std_out):
    return np.log(std_out / std_in) + 0.5 * (((x - mean_out) / std_out) ** 2 - ((x - mean_in) / std_in) ** 2)
""",
    },
    "5.3": {
        "vectorised over every distinct score": """
def tpr_at_low_fpr(scores, is_member, fpr):
    s, m = np.ravel(scores), np.ravel(is_member).astype(bool)
    t = np.unique(s)[:, None]
    ok = np.mean(s[~m] >= t, axis=1) <= fpr
    return float(np.mean(s[m] >= t, axis=1)[ok].max()) if ok.any() else 0.0
""",
        "sklearn's roc_curve (drop_intermediate=False), best TPR where FPR <= target": """
def tpr_at_low_fpr(scores, is_member, fpr):
    from sklearn.metrics import roc_curve
    f, t, _ = roc_curve(np.ravel(is_member), np.ravel(scores), drop_intermediate=False)
    return float(t[f <= fpr].max())
""",
        "boolean indexing of the 2-D arrays (which flattens them), a loop over the thresholds": """
def tpr_at_low_fpr(scores, is_member, fpr):
    members, nonmembers = scores[is_member], scores[~is_member]
    best = 0.0
    for t in np.unique(scores):
        if np.mean(nonmembers >= t) <= fpr:
            best = max(best, np.mean(members >= t))
    return float(best)
""",
    },
    "5.4": {
        "bisection on the distance along the unit direction": """
def boundary_point(label_of, x, y, x_other, tol):
    length = float(np.linalg.norm(x_other - x))
    unit = (x_other - x) / length
    near, far = 0.0, length
    while far - near > tol:
        half = (near + far) / 2
        if label_of((x + half * unit).reshape(1, -1))[0] == y:
            near = half
        else:
            far = half
    return x + far * unit
""",
        "the number of halvings computed first": """
import math
def boundary_point(label_of, x, y, x_other, tol):
    length = np.linalg.norm(x_other - x)
    steps = max(0, math.ceil(math.log2(length / tol)))
    lo, hi = 0.0, 1.0
    for _ in range(steps):
        mid = (lo + hi) / 2
        if label_of(np.array([x + mid * (x_other - x)]))[0] == y:
            lo = mid
        else:
            hi = mid
    return x + hi * (x_other - x)
""",
        "recursive, on the two end points": """
def boundary_point(label_of, x, y, x_other, tol):
    def search(inside, outside):
        if np.linalg.norm(outside - inside) <= tol:
            return outside
        middle = (inside + outside) / 2
        if label_of(middle[None])[0] == y:
            return search(middle, outside)
        return search(inside, middle)
    return search(np.asarray(x, float), np.asarray(x_other, float))
""",
        "both ends' labels checked first (two queries more)": """
def boundary_point(label_of, x, y, x_other, tol):
    ends = label_of(np.stack([x, x_other]))
    assert ends[0] == y and ends[1] != y
    length = np.linalg.norm(x_other - x)
    lo, hi = 0.0, 1.0
    while (hi - lo) * length > tol:
        mid = (lo + hi) / 2
        if label_of((x + mid * (x_other - x))[None])[0] == y:
            lo = mid
        else:
            hi = mid
    return x + hi * (x_other - x)
""",
    },
}

test_wrong, test_right, test_wrong_every_draw, test_right_every_draw, test_use_reference = \
    mutant_tests(WRONG, RIGHT)
