"""Checks for notebook 05 (LiRA, RMIA, label-only attacks, vulnerable records)."""

from __future__ import annotations

import math
import warnings

import numpy as np

from .._reference import blocked
from ..blackbox import query_labels
from ..metrics import tpr_at_fpr
from . import Case, call_counting, call_student, explicit_hints, passed, require, run_cases, skippable
from . import use_reference  # noqa: F401 (a notebook imports it from here, as it does hint)

LOGIT = "Exercise 5.1 (logit scaling)"
RATIO = "Exercise 5.2 (per-record likelihood ratio)"
TPR = "Exercise 5.3 (TPR at a low FPR, pooled over targets)"
POINT = "Exercise 5.4 (the decision boundary along a segment)"
BLOCK_POINT = ("label_only.boundary_point", "extraction.find_threshold")   # the registry's row blocks the same

_P = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.25, 0.25, 0.5]])
_Y = np.array([0, 1, 0])


def _logit_expected(probs, y):
    rows = np.arange(len(y))
    p_y = np.clip(probs[rows, y], 1e-12, None)
    rest = np.clip(probs.sum(axis=1) - probs[rows, y], 1e-12, None)
    return np.log(p_y) - np.log(rest)


@skippable(LOGIT)
def check_logit_scale(logit_scale, probs=None, y=None) -> None:
    """Check `logit_scale(probs, y) -> (n,)`: log(p_y) - log(sum of the other probabilities), each clipped at 1e-12."""
    __tracebackhide__ = True
    hint = ("The score of record i is log(p_y) - log(1 - p_y), with p_y = probs[i, y[i]] the confidence in the TRUE "
            "label; write 1 - p_y as the sum of the other probabilities.")
    sure = ("When the model is certain, p_y or 1 - p_y is 0 and its log is -inf: take 1 - p_y as the sum of the "
            "other probabilities, and raise both p_y and that sum to at least 1e-12 before the log, as the exercise "
            "says.")
    certain = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    cases = [
        Case("3 records, 3 classes", (_P, _Y), np.log([0.7 / 0.3, 0.8 / 0.2, 0.25 / 0.75]), hint),
        Case("two classes, true label 1", (np.array([[0.9, 0.1]]), np.array([1])), np.log([0.1 / 0.9]), hint),
        Case("a model that is certain (right, then wrong)", (certain, np.array([0, 0])),
             np.log([1.0 / 1e-12, 1e-12 / 1.0]), sure),
    ]
    run_cases(LOGIT, logit_scale, cases)
    if probs is not None:
        got = call_student(LOGIT, logit_scale, np.asarray(probs), np.asarray(y))
        require(np.shape(got) == (len(y),) and np.allclose(np.asarray(got, float), _logit_expected(probs, y),
                                                           atol=1e-6),
                LOGIT, "right on the small cases, wrong on the notebook's target.",
                "Use the arguments you are given; return one value per record.")
    return passed(LOGIT, f"{len(cases)} small cases{' and the purchase target' if probs is not None else ''}")


def _ratio_expected(x, mean_in, std_in, mean_out, std_out):
    def log_density(v, m, s):
        return -0.5 * ((v - m) / s) ** 2 - np.log(s) - 0.5 * np.log(2 * np.pi)
    return log_density(x, mean_in, std_in) - log_density(x, mean_out, std_out)


@skippable(RATIO)
def check_likelihood_ratio(likelihood_ratio, x=None, fitted=None) -> None:
    """Check `likelihood_ratio(x, mean_in, std_in, mean_out, std_out) -> (n,)`: the log of N(x; IN) / N(x; OUT)."""
    __tracebackhide__ = True
    hint = ("The log density of a Gaussian is -(x - mean)^2 / (2 std^2) - log(std) - log(2 pi) / 2; return the IN "
            "one minus the OUT one (scipy.stats.norm.logpdf(x, mean, std) computes it).")
    cases = [
        Case("one record halfway between equal Gaussians", (np.array([1.0]), np.array([2.0]), np.array([1.0]),
                                                            np.array([0.0]), np.array([1.0])), np.array([0.0]), hint),
        Case("3 records", (np.array([2.0, 0.0, 5.0]), np.array([2.0, 2.0, 2.0]), np.array([1.0, 1.0, 1.0]),
                           np.array([0.0, 0.0, 0.0]), np.array([1.0, 1.0, 1.0])), np.array([2.0, -2.0, 8.0]), hint),
        Case("different spreads", (np.array([0.0]), np.array([0.0]), np.array([0.5]), np.array([0.0]),
                                   np.array([2.0])), np.array([np.log(4.0)]),
             "The spread matters even at the mean: keep the -log(std) term of each density."),
        Case("a record far in the tail of both Gaussians", (np.array([40.0]), np.array([0.0]), np.array([1.0]),
                                                           np.array([1.0]), np.array([1.0])), np.array([-39.5]),
             "Far from both means each density is smaller than the smallest float and rounds to 0, so a ratio of "
             "densities is 0/0 = nan. Never form the densities: subtract the log densities."),
    ]
    run_cases(RATIO, likelihood_ratio, cases)
    if x is not None:
        args = (x, fitted["mean_in"], fitted["std_in"], fitted["mean_out"], fitted["std_out"])
        got = call_student(RATIO, likelihood_ratio, *(np.asarray(a) for a in args))
        require(np.shape(got) == np.shape(x) and np.allclose(np.asarray(got, float), _ratio_expected(*args),
                                                             atol=1e-6),
                RATIO, "right on the small cases, wrong on the notebook's target.",
                "Work elementwise on arrays: one ratio per record, in log space.")
    return passed(RATIO, f"{len(cases)} small cases{' and the purchase target' if x is not None else ''}")


def _tpr_expected(scores, is_member, fpr):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tpr_at_fpr(np.ravel(scores), np.ravel(is_member), fpr=fpr)


@skippable(TPR)
def check_tpr_at_low_fpr(tpr_at_low_fpr, scores=None, is_member=None) -> None:
    """Check `tpr_at_low_fpr(scores, is_member, fpr) -> float` for scores of shape (n,) or (n, n_targets)."""
    __tracebackhide__ = True
    hint = ("Flatten both arrays (all targets pooled), then among the thresholds t whose FPR is at most `fpr` "
            "(a record is called a member when its score >= t) return the highest TPR. With n0 non-members, "
            "at most floor(fpr * n0) of them may score >= t.")
    nonmembers = np.arange(10.0)
    members = np.array([9.5, 8.5, 3.0, 2.5, 20.0])
    s = np.concatenate([members, nonmembers])
    m = np.concatenate([np.ones(5, bool), np.zeros(10, bool)])
    grid = np.stack([s, s - 100])                                 # two targets, scores on different scales
    cases = [
        Case("5 members and 10 non-members at FPR 10%", (s, m, 0.1), 0.6, hint),
        Case("the same at FPR 5% (no false positive allowed)", (s, m, 0.05), 0.4,
             "With 10 non-members an FPR of 5% allows zero false positives."),
        Case("2 members and 10 non-members at FPR 15% (1.5 false positives: 1 allowed)",
             (np.concatenate([[7.8, 20.0], nonmembers]), np.arange(12) < 2, 0.15), 0.5,
             "With 10 non-members an FPR of 15% allows floor(1.5) = 1 false positive, not 1.5: no threshold may let "
             "a second non-member through (an interpolated quantile of the non-members' scores does)."),
        Case("two targets as columns of a (15, 2) array, at FPR 10%", (grid.T, np.stack([m, m], 1), 0.1), 0.3,
             "Pool the targets: flatten scores and is_member together (np.ravel) before choosing the threshold. "
             + hint),
        Case("tied scores at FPR 25%", (np.array([1.0, 1.0, 1.0, 0.0]), np.array([True, False, True, False]), 0.25),
             0.0, "Tied records are all members or all non-members: calling the three 1.0s members is an FPR of "
                  "50%, too many."),
    ]
    run_cases(TPR, tpr_at_low_fpr, cases)
    if scores is not None:
        for fpr in (0.001, 0.01):
            got = call_student(TPR, tpr_at_low_fpr, np.asarray(scores), np.asarray(is_member), fpr)
            require(abs(float(got) - _tpr_expected(scores, is_member, fpr)) < 1e-9, TPR,
                    f"right on the small cases, wrong on the notebook's LiRA scores at FPR {fpr:g}.", hint)
    return passed(TPR, f"{len(cases)} small cases{' and the LiRA scores' if scores is not None else ''}")


def _argmax_linear(W, b):
    """A label oracle: label_of(points (m, d)) -> argmax(points W + b) (m,). Its class regions are convex, so a segment
    from a point of class y leaves the class once."""
    W, b = np.asarray(W, float), np.asarray(b, float)

    def label_of(points):
        points = np.asarray(points, float)
        if points.ndim != 2 or points.shape[1] != W.shape[0]:
            raise ValueError(f"label_of takes an array of points, shape (m, {W.shape[0]}), one row per point; got "
                             f"shape {points.shape}. Ask about one point p as label_of(p[None]), and read [0].")
        return np.argmax(points @ W + b, axis=1)
    return label_of


def _crossing(W, b, x, y, x_other):
    """Where the segment x -> x_other leaves class y of argmax(X W + b): the first facet it crosses."""
    W, b, x, x_other = (np.asarray(a, float) for a in (W, b, x, x_other))
    margin = (x @ W + b)[y] - (x @ W + b)               # > 0 for the other classes
    slope = ((x_other - x) @ W)[y] - (x_other - x) @ W  # how fast each margin changes along the segment
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where((slope < 0) & (np.arange(len(b)) != y), margin / -slope, np.inf)
    return x + min(float(t.min()), 1.0) * (x_other - x)


# (description, W (d, k), b (k,), x, y, x_other, tol): class 0 where x0 > 0.3 (two classes), the same on a long
# segment, a segment that meets a third class before x_other's (at x0 = 0.2), a tight tol on a 3-D diagonal
_W2, _B2 = np.array([[1.0, -1.0], [0.0, 0.0]]), np.array([-0.3, 0.3])
_W3 = np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 2.0]])
_WD, _BD = np.array([[1.0, 0.0], [2.0, 0.0], [-1.0, 0.0]]), np.array([0.0, 0.7])
_POINT_CASES = [
    ("two classes split at x0 = 0.3", _W2, _B2, np.array([1.0, 0.5]), 0, np.array([-1.0, 0.5]), 1e-3),
    ("a segment 100 long", _W2, _B2, np.array([40.0, 2.0]), 0, np.array([-60.0, 2.0]), 1e-3),
    ("three classes, x_other's class behind a third one", _W3, np.zeros(3), np.array([2.0, 0.1]), 0,
     np.array([-2.0, 0.1]), 1e-3),
    ("a diagonal segment in 3-D at tol = 1e-6", _WD, _BD, np.array([1.0, 1.0, 0.5]), 0,
     np.array([-1.0, -0.5, 1.5]), 1e-6),
]


@skippable(POINT)
def check_boundary_point(boundary_point, target=None, x=None, y=None, x_other=None) -> None:
    """Check `boundary_point(label_of, x, y, x_other, tol) -> point (d,)` on linear models whose crossing is known,
    then on the notebook's label-only target (a record `x` of class `y`, a point `x_other` it labels otherwise)."""
    __tracebackhide__ = True
    hint = ("Keep two fractions of the way along x + t (x_other - x): one whose point the target labels y (t = 0 to "
            "begin with) and one labelled otherwise (t = 1). Query the middle and move one of the two there; stop "
            "when the two points are at most tol apart in distance (the fractions' gap times the segment's length).")
    for name, W, b, xc, yc, other, tol in _POINT_CASES:
        label_of = _argmax_linear(W, b)
        with blocked(*BLOCK_POINT):   # the queries are counted where the function runs
            got, queries = call_counting(POINT, boundary_point, 0, label_of, xc.copy(), yc, other.copy(), tol)
        require(np.shape(got) == np.shape(xc), POINT, f"on {name}, expected the point, shape {np.shape(xc)}, got "
                f"shape {np.shape(got)}.", "Return the point itself (its distance to x comes after).")
        got = np.asarray(got, dtype=float)
        crossing, length = _crossing(W, b, xc, yc, other), float(np.linalg.norm(other - xc))
        require(bool(np.all(np.isfinite(got))) and np.linalg.norm(got - crossing) <= tol * (1 + 1e-9), POINT,
                f"on {name} with tol={tol:g}, your point is {np.linalg.norm(got - crossing):.3g} from where the "
                "segment leaves class y, more than tol.",
                hint + " A point is past the boundary when its label differs from y (x_other's own label may lie "
                       "beyond a third class).")
        require(label_of(got[None])[0] != yc, POINT, f"on {name}, the target labels your point y: it is on the "
                "record's side of the boundary.", "Return the end of the final interval that the target labels "
                                                 "otherwise, not its middle nor the other end.")
        allowed = math.ceil(math.log2(length / tol)) + 3
        require(queries <= allowed, POINT, f"on {name} with tol={tol:g}, your function asked {queries} queries; a "
                f"binary search needs about {allowed - 3}.", "Halve the interval with each query instead of "
                                                               "stepping along the segment.")
    if target is not None:
        x, x_other = np.asarray(x, float), np.asarray(x_other, float)

        def label_of(points):
            return query_labels(target, points)
        with blocked(*BLOCK_POINT):
            got, queries = call_counting(POINT, boundary_point, 0, label_of, x.copy(), int(y), x_other.copy(), 1e-3)
        got = np.asarray(got, dtype=float)
        length = float(np.linalg.norm(x_other - x))
        back = x + (np.linalg.norm(got - x) - 1e-3) / length * (x_other - x)     # 1e-3 back towards the record
        on_segment = np.linalg.norm(got - x) + np.linalg.norm(x_other - got) <= length * (1 + 1e-9) + 1e-9
        require(np.shape(got) == np.shape(x) and on_segment and label_of(got[None])[0] != y
                and label_of(back[None])[0] == y and queries <= math.ceil(math.log2(length / 1e-3)) + 3,
                POINT, "right on the small cases, wrong on the notebook's target.",
                "Use the arguments you are given (label_of, x, y, x_other, tol) and return a point of the segment.")
    return passed(POINT, f"{len(_POINT_CASES)} small cases{' and the purchase target' if target is not None else ''}")


HINTS = {
    '5.1': ("p_y: index probs with np.arange(len(y)) and y. The other probabilities' sum: a row's total "
            "(probs.sum(axis=1)) less p_y, or the row summed after p_y is set to 0 in a copy. Clip each of the two "
            "at 1e-12 with np.clip(..., 1e-12, None), take np.log of each, and subtract."),
    '5.2': ("write the log density once, as a small function of (x, mean, std): -((x - mean) / std) ** 2 / 2 - "
            "np.log(std) (the constant -log(2 pi) / 2 cancels in the difference, keep it or not); call it with the IN "
            "parameters and with the OUT ones and subtract. scipy.stats.norm.logpdf(x, mean, std) is the same."),
    '5.3': ("np.ravel both arrays (is_member as bool). With n0 non-members, allowed = floor(fpr * n0) (1e-9 of "
            "slack before the floor). Sort the non-members' scores from the highest down: the threshold must lie "
            "above the score at position `allowed` of that order (when allowed < n0); the TPR is the share of "
            "members scoring strictly above it."),
    '5.4': ("the segment's length L is np.linalg.norm of x_other - x. Keep two fractions of the way along "
            "x + t * (x_other - x): lo = 0 (its point labelled y) and hi = 1 (labelled otherwise). While "
            "(hi - lo) * L > tol, ask label_of about the middle fraction's point as an array of shape (1, d) "
            "(p[None]), read the label at [0], and move lo there when it is y, hi otherwise. Return the point at hi, "
            "the end the target labels otherwise."),
}


hint = explicit_hints(HINTS)
