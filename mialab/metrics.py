"""Membership metrics: ROC, AUC, advantage, TPR at a fixed FPR, thresholds, bootstrap intervals, exposure.

Every function takes `scores` (n,) float, higher = more likely a member, and `is_member` (n,) bool.
A threshold `t` calls a record a member when its score is >= t. Curves use every distinct score as a
threshold; no threshold is chosen with the true labels except by `choose_threshold`, on attacker-side data.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import stats
from sklearn import metrics as _sk

from ._validation import check_count, as_array, as_membership, as_scores, check_bool, check_choice, check_fraction, \
    check_memory, check_positive_int, check_random_state, check_scalar
from ._reference import reference
from .progress import progress


class FewNonMembersWarning(UserWarning):
    """An FPR below 1 / n_nonmembers: the TPR there rests on zero false positives."""


def _inputs(scores, is_member) -> tuple[np.ndarray, np.ndarray]:
    scores = as_scores(scores)
    return scores, as_membership(is_member, n=len(scores))


def _roc(scores, is_member):
    return _sk.roc_curve(is_member, scores, drop_intermediate=False)


def _tpr_at(fpr: np.ndarray, tpr: np.ndarray, at: float) -> float:
    return float(tpr[fpr <= at].max())  # the threshold above every score gives (0, 0), so never empty


def _warn_if_unmeasurable(at: float, n_nonmembers: int) -> None:
    if at * n_nonmembers < 1:
        warnings.warn(
            f"TPR at FPR {at:g} is measured on {n_nonmembers} non-members, where even one false positive is an FPR "
            f"of {1 / n_nonmembers:.2g}: the value rests on zero false positives. Use at least "
            f"{math.ceil(1 / at)} non-members to measure this FPR.", FewNonMembersWarning, stacklevel=4)


def _pct(at: float) -> str:
    return f"{100 * at:g}%"


@reference
def roc_curve(scores, is_member) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC over all distinct scores: (fpr, tpr, thresholds), each (n_distinct + 1,); thresholds[0] is inf."""
    scores, is_member = _inputs(scores, is_member)
    return _roc(scores, is_member)


@reference
def auc(scores, is_member) -> float:
    """Area under the ROC curve: P(member score > non-member score), ties counting 1/2."""
    scores, is_member = _inputs(scores, is_member)
    return float(_sk.roc_auc_score(is_member, scores))


@reference
def advantage(scores, is_member) -> float:
    """Membership advantage max_t (TPR - FPR) over all thresholds (Yeom et al., 2018); in [0, 1]."""
    fpr, tpr, _ = _roc(*_inputs(scores, is_member))
    return float(np.max(tpr - fpr))


@reference
def tpr_at_fpr(scores, is_member, fpr: float = 0.001) -> float:
    """Highest TPR over thresholds whose FPR is <= `fpr` (Carlini et al., 2022).

    Measuring an FPR of `fpr` needs at least 1 / fpr non-members (1000 for 0.1%); with fewer, the only
    allowed FPR is 0 and the value rests on zero false positives (a FewNonMembersWarning says so).
    """
    at = check_fraction(fpr, "fpr")
    scores, is_member = _inputs(scores, is_member)
    _warn_if_unmeasurable(at, int((~is_member).sum()))
    fprs, tprs, _ = _roc(scores, is_member)
    return _tpr_at(fprs, tprs, at)


def choose_threshold(scores, is_member, criterion: str = "accuracy", *, midpoint: bool = False) -> float:
    """The threshold t that maximises `criterion` of "member iff score >= t" on ATTACKER-side data: scores (n,),
    is_member (n,) bool -> float. The course's one threshold chooser.

    criterion: "accuracy" (correct calls), "advantage" (TPR - FPR) or "balanced_accuracy" ((TPR + TNR) / 2, the
    same maximiser as "advantage"; what Song & Mittal's code maximises). Among equally good thresholds the
    highest wins. midpoint=False returns one of the scores (the lowest score called a member), or inf when calling
    nobody is best; midpoint=True returns a finite threshold in the gap below it (halfway to the next lower
    score, or just above the largest score when nobody is called), which makes the same calls on this data and
    generalises better to new records. Taught in notebooks 02 and 04.
    """
    check_choice(criterion, "criterion", {"accuracy", "advantage", "balanced_accuracy"})
    midpoint = check_bool(midpoint, "midpoint")
    scores, is_member = _inputs(scores, is_member)
    fpr, tpr, thresholds = _roc(scores, is_member)                    # thresholds[0] = inf, then scores descending
    if criterion == "accuracy":
        n1, n0 = int(is_member.sum()), int((~is_member).sum())
        gain = np.rint(tpr * n1) + np.rint((1 - fpr) * n0)             # correct calls, exact integers
    else:
        gain = tpr - fpr
    i = int(np.argmax(gain))
    if not midpoint:
        return float(thresholds[i])
    if i == 0:
        top = float(thresholds[1])
        return top + max(1e-9, 1e-9 * abs(top))
    if i == len(thresholds) - 1:
        return float(thresholds[i])
    return float((thresholds[i] + thresholds[i + 1]) / 2)


@reference
def threshold_metrics(scores, is_member, threshold: float) -> dict[str, float]:
    """Accuracy, precision, recall, TPR and FPR of calling members the records with score >= `threshold`."""
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or math.isnan(threshold):
        raise ValueError(f"`threshold` must be a number (a score value); got {threshold!r}.")
    scores, is_member = _inputs(scores, is_member)
    called = scores >= threshold
    tp, fp = int((called & is_member).sum()), int((called & ~is_member).sum())
    n1, n0 = int(is_member.sum()), int((~is_member).sum())
    return {"accuracy": (tp + n0 - fp) / (n1 + n0),
            "precision": tp / (tp + fp) if tp + fp else 0.0,
            "recall": tp / n1, "tpr": tp / n1, "fpr": fp / n0}


def _bootstrap(statistic, scores, is_member, n_boot: int, level: float, rng) -> tuple[np.ndarray, np.ndarray]:
    members, nonmembers = np.flatnonzero(is_member), np.flatnonzero(~is_member)
    check_memory(8.0 * n_boot * len(is_member), f"{n_boot:,} bootstrap resamples of {len(is_member):,} records",
                 "lower n_boot (200 to 1,000 is plenty for a 95% interval)")
    values = []
    for _ in progress(range(n_boot), desc="bootstrap", delay=2.0):
        idx = np.concatenate([rng.choice(members, len(members)), rng.choice(nonmembers, len(nonmembers))])
        values.append(np.atleast_1d(np.asarray(statistic(scores[idx], is_member[idx]), dtype=float)))
    low, high = np.quantile(np.stack(values), [(1 - level) / 2, (1 + level) / 2], axis=0)
    return low, high


def clopper_pearson_rates(true_positives: int, n_members: int, false_positives: int, n_nonmembers: int,
                          level: float = 0.95) -> tuple[float, float]:
    """An audit's one-sided Clopper-Pearson bounds from an attack's counts: (a lower bound on the TPR, an upper
    bound on the FPR), each at confidence (1 + level) / 2, so that both hold together at `level`; tp = 0 gives
    0 and fp = n_nonmembers gives 1. (Jagielski et al. 2020.) Taught in notebooks 11 and 12."""
    tp = check_scalar(true_positives, "true_positives", numbers.Integral, low=0)
    n1 = check_scalar(n_members, "n_members", numbers.Integral, low=1)
    fp = check_scalar(false_positives, "false_positives", numbers.Integral, low=0)
    n0 = check_scalar(n_nonmembers, "n_nonmembers", numbers.Integral, low=1)
    if tp > n1 or fp > n0:
        raise ValueError("`true_positives` and `false_positives` cannot exceed n_members and n_nonmembers.")
    level = check_scalar(level, "level", low=0.0, high=1.0, closed="neither")
    alpha = (1 - level) / 2
    tpr_low = 0.0 if tp == 0 else float(stats.beta.ppf(alpha, tp, n1 - tp + 1))
    fpr_high = 1.0 if fp == n0 else float(stats.beta.ppf(1 - alpha, fp + 1, n0 - fp))
    return tpr_low, fpr_high


def bootstrap_ci(metric, scores, is_member, n_boot: int = 200, level: float = 0.95,
                 random_state: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of `metric(scores, is_member)`, resampling members and non-members separately."""
    if not callable(metric):
        raise TypeError(f"`metric` must be a function metric(scores, is_member) -> float, such as "
                        f"mialab.metrics.auc; got {type(metric).__name__}.")
    n_boot = check_count(n_boot, "n_boot")
    level = check_fraction(level, "level")
    rng = check_random_state(random_state)
    scores, is_member = _inputs(scores, is_member)
    low, high = _bootstrap(metric, scores, is_member, n_boot, level, rng)
    return float(low[0]), float(high[0])


def auc_ci(scores, is_member, n_boot: int = 200, level: float = 0.95, random_state: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the AUC, members and non-members resampled separately (bootstrap_ci(auc,
    ...)'s interval), computed at once for tables of many AUCs (notebook 03's model families): all resamples are
    drawn together (so they are not bootstrap_ci's), as counts of each record, and each resample's AUC counts, for
    every drawn member, the drawn non-members below it (ties 1/2), from one sort of the non-members' scores."""
    n_boot = check_count(n_boot, "n_boot")
    level = check_fraction(level, "level")
    rng = check_random_state(random_state)
    scores, is_member = _inputs(scores, is_member)
    members, nonmembers = scores[is_member], np.sort(scores[~is_member], kind="stable")
    n1, n0 = len(members), len(nonmembers)
    check_memory(8.0 * n_boot * 3 * (n1 + n0), f"{n_boot:,} bootstrap resamples of {n1 + n0:,} records",
                 "lower n_boot (200 to 1,000 is plenty for a 95% interval)")
    rows = np.arange(n_boot)[:, None]
    member_counts = np.bincount((rows * n1 + rng.integers(0, n1, (n_boot, n1))).ravel(), minlength=n_boot * n1)
    nonmember_draws = rng.integers(0, n0, (n_boot, n0))             # positions in the sorted non-members
    below = np.zeros((n_boot, n0 + 1))                               # below[b, k]: drawn among the k lowest
    np.cumsum(np.bincount((rows * n0 + nonmember_draws).ravel(), minlength=n_boot * n0).reshape(n_boot, n0), axis=1,
              out=below[:, 1:])
    lo = np.searchsorted(nonmembers, members, side="left")          # each member's non-members strictly below
    hi = np.searchsorted(nonmembers, members, side="right")         # ... and tied with it
    # sum over drawn members of (below[b, lo] + below[b, hi]) / 2, the member counts first summed per column
    cells = n_boot * (n0 + 1)
    weight = np.bincount((rows * (n0 + 1) + lo).ravel(), member_counts, cells) \
        + np.bincount((rows * (n0 + 1) + hi).ravel(), member_counts, cells)
    values = (below * weight.reshape(n_boot, n0 + 1)).sum(axis=1) / (2.0 * n1 * n0)
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def percentile_interval(draws, level: float = 0.95) -> tuple[float, float]:
    """The central `level` percentile interval of bootstrap draws (k,) -> (low, high), each an actual draw
    (NumPy's inverted_cdf), so draws that are inf (a target never reached) keep the interval defined.

    >>> percentile_interval(np.arange(1.0, 101.0))
    (3.0, 98.0)
    """
    try:
        draws = np.asarray(draws, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"`draws` must be an array of bootstrap values; got {type(draws).__name__}.") from None
    if draws.ndim != 1 or len(draws) == 0 or np.isnan(draws).any():
        raise ValueError(f"`draws` must be a non-empty 1-D array of bootstrap values without NaN; got shape "
                         f"{draws.shape} with {int(np.isnan(draws).sum())} NaN.")
    level = check_fraction(level, "level")
    low, high = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], method="inverted_cdf")
    return float(low), float(high)


def tpr_key(fpr: float) -> str:
    """The name of the TPR at `fpr` in AttackResult's one key scheme: tpr_key(0.01) -> "tpr@1%fpr"."""
    return f"tpr@{_pct(check_fraction(fpr, 'fpr'))}fpr"


_LABELS = {"auc": "AUC", "advantage": "advantage"}


def _label(name: str) -> str:
    return _LABELS.get(name) or name.upper()


def _digits(name: str) -> int:
    return 3 if name.startswith("tpr") else 2


def format_interval(value: float, low: float | None = None, high: float | None = None, digits: int = 2) -> str:
    """A value and its interval as one string: format_interval(0.791, 0.78, 0.803) -> "0.79 [0.78, 0.80]"; the value
    alone when low and high are None."""
    digits = check_positive_int(digits, "digits", minimum=0)
    for name, number in (("value", value), ("low", low), ("high", high)):
        if number is not None and (isinstance(number, bool) or not isinstance(number, numbers.Real)):
            raise TypeError(f"`{name}` must be a number (inf and NaN print as such); got {number!r}.")
    if (low is None) != (high is None):
        raise ValueError("pass both `low` and `high` (an interval), or neither (the value alone).")
    if low is None:
        return f"{value:.{digits}f}"
    return f"{value:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


@dataclass(repr=False)
class AttackResult:
    """An attack's numbers: AUC, advantage, TPR at fixed FPRs, its ROC curve and, if asked, bootstrap intervals.

    One key scheme names the numbers: "auc", "advantage" and tpr_key(fpr) ("tpr@1%fpr", "tpr@0.1%fpr"), for
    result[name], result.ci[name], result.interval(name), summary() and results_table(). `tpr_at` holds the same
    TPRs by their FPR as a number (result.tpr_at[0.01] == result["tpr@1%fpr"]).

    >>> import numpy as np
    >>> result = evaluate(np.arange(8.0), np.arange(8) >= 4, fprs=(0.25,))
    >>> result["auc"], result[tpr_key(0.25)] == result.tpr_at[0.25]
    (1.0, True)
    """

    auc: float
    advantage: float
    tpr_at: dict[float, float]
    fpr: np.ndarray
    tpr: np.ndarray
    n_members: int
    n_nonmembers: int
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)

    def _named(self) -> dict[str, float]:
        return {"auc": self.auc, "advantage": self.advantage,
                **{f"tpr@{_pct(at)}fpr": value for at, value in self.tpr_at.items()}}

    def names(self) -> list[str]:
        """The names of this result's numbers, in order: ["auc", "advantage", "tpr@0.1%fpr", ...]."""
        return list(self._named())

    def __getitem__(self, name: str) -> float:
        named = self._named()
        if name not in named:
            raise KeyError(f"{name!r} is not one of this result's numbers {list(named)}; a TPR is named "
                           f"metrics.tpr_key(fpr), e.g. {tpr_key(0.01)!r}, for an FPR passed to evaluate(fprs=...).")
        return named[name]

    def interval(self, name: str, digits: int | None = None) -> str:
        """The number `name` with its bootstrap interval when computed: "0.79 [0.78, 0.80]" (TPRs 3 digits)."""
        value = self[name]
        digits = _digits(name) if digits is None else digits
        return format_interval(value, *self.ci.get(name, (None, None)), digits=digits)

    def summary(self, decimals: int = 2) -> dict:
        """The numbers rounded to `decimals`, with `<name>_ci` intervals when computed: for printing."""
        decimals = check_positive_int(decimals, "decimals", minimum=0)
        out = {name: round(float(value), decimals) for name, value in self._named().items()}
        out.update({f"{name}_ci": (round(low, decimals), round(high, decimals))
                    for name, (low, high) in self.ci.items()})
        out.update(n_members=self.n_members, n_nonmembers=self.n_nonmembers)
        return out

    def __str__(self) -> str:
        parts = [f"{_label(name)} {self.interval(name)}" for name in self._named()]
        return " · ".join(parts) + f" (n={self.n_members} members, {self.n_nonmembers} non-members)"

    def __repr__(self) -> str:
        return f"<AttackResult: {self}>"


def results_table(results: dict, columns=None, *, digits: int | None = None, as_numbers: bool = False):
    """One row per attack: {name: AttackResult} -> a pandas DataFrame indexed by attack name, one column per number
    ("AUC", "advantage", "TPR@1%FPR", ...), each cell "value [low, high]" where the result has intervals.

    columns: the numbers to show, by name ("auc", "advantage", tpr_key(fpr)); default every number of the first
    result. digits: decimals (default 2, 3 for TPRs). as_numbers=True: floats instead of strings, with "<column> low"
    and "<column> high" columns where intervals exist (for sorting, plotting, or further arithmetic).

    >>> import numpy as np
    >>> is_member = np.arange(8) >= 4
    >>> table = results_table({"perfect": evaluate(np.arange(8.0), is_member, fprs=(0.25,)),
    ...                        "reversed": evaluate(-np.arange(8.0), is_member, fprs=(0.25,))})
    >>> print(table.to_string())
               AUC advantage TPR@25%FPR
    perfect   1.00      1.00      1.000
    reversed  0.00      0.00      0.000
    """
    import pandas as pd   # deferred: only tables need it

    if not isinstance(results, dict) or not results:
        raise TypeError(f"`results` must be a non-empty dict {{attack name: AttackResult}} (from metrics.evaluate); "
                        f"got {type(results).__name__}.")
    for name, result in results.items():
        if not isinstance(result, AttackResult):
            raise TypeError(f"`results[{name!r}]` must be an AttackResult (from metrics.evaluate); got "
                            f"{type(result).__name__}.")
    if isinstance(columns, str) or columns is not None and not isinstance(columns, (list, tuple)):
        raise TypeError(f"`columns` must be a list of number names, e.g. ['auc', {tpr_key(0.01)!r}]; got {columns!r}.")
    columns = next(iter(results.values())).names() if columns is None else list(columns)
    for attack, result in results.items():
        unknown = [name for name in columns if name not in result.names()]
        if unknown:
            raise KeyError(f"`columns` names {unknown[0]!r}, which is not one of results[{attack!r}]'s numbers "
                           f"{result.names()}; a TPR is named metrics.tpr_key(fpr), e.g. {tpr_key(0.01)!r}.")
    if digits is not None:
        digits = check_positive_int(digits, "digits", minimum=0)
    as_numbers = check_bool(as_numbers, "as_numbers")
    rows = {}
    for attack, result in results.items():
        row = {}
        for name in columns:
            value = result[name]
            if not as_numbers:
                row[_label(name)] = result.interval(name, digits)
                continue
            row[_label(name)] = round(value, digits) if digits is not None else value
            if name in result.ci:
                for side, bound in zip(("low", "high"), result.ci[name]):
                    row[f"{_label(name)} {side}"] = round(bound, digits) if digits is not None else bound
        rows[attack] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def _headline(fprs):
    def statistic(scores, is_member):
        fpr, tpr, _ = _roc(scores, is_member)
        return [_sk.auc(fpr, tpr), np.max(tpr - fpr), *[_tpr_at(fpr, tpr, at) for at in fprs]]
    return statistic


@reference
def evaluate(scores, is_member, *, fprs=(0.001, 0.01), n_boot: int = 0, random_state: int = 0) -> AttackResult:
    """AUC, advantage, TPR at each FPR in `fprs` and the ROC curve; bootstrap intervals when n_boot > 0.

    scores (n,), is_member (n,) bool. Intervals: `n_boot` stratified resamples, 95% percentile interval.
    """
    if isinstance(fprs, numbers.Real):
        fprs = (fprs,)
    if not isinstance(fprs, (tuple, list, np.ndarray)):
        raise TypeError(f"`fprs` must be a tuple of false-positive rates such as (0.001, 0.01); got {fprs!r}.")
    fprs = tuple(check_fraction(at, "fprs") for at in np.asarray(fprs, dtype=object).ravel().tolist())
    n_boot = check_count(n_boot, "n_boot", minimum=0)
    rng = check_random_state(random_state)
    scores, is_member = _inputs(scores, is_member)
    n1, n0 = int(is_member.sum()), int((~is_member).sum())
    for at in fprs:
        _warn_if_unmeasurable(at, n0)
    fpr, tpr, _ = _roc(scores, is_member)
    statistic = _headline(fprs)
    auc_, adv, *tprs = statistic(scores, is_member)
    result = AttackResult(auc=float(auc_), advantage=float(adv), tpr_at=dict(zip(fprs, map(float, tprs))),
                          fpr=fpr, tpr=tpr, n_members=n1, n_nonmembers=n0)
    if n_boot:
        low, high = _bootstrap(statistic, scores, is_member, n_boot, 0.95, rng)
        result.ci = {name: (float(lo), float(hi)) for name, lo, hi in zip(result._named(), low, high)}
    return result


def exposure(canary_rank, n_candidates: int):
    """Exposure log2(n_candidates) - log2(rank) of a canary ranked `canary_rank` (1 = most likely) among
    `n_candidates` (Carlini et al., 2019, The Secret Sharer). Scalar or array of ranks in, same shape out."""
    n = check_scalar(n_candidates, "n_candidates", numbers.Integral, low=1, high=2**1000)
    ranks = as_array(canary_rank, "canary_rank", dtype=float)
    if not np.all(ranks == np.round(ranks)) or ranks.min() < 1 or ranks.max() > n:
        raise ValueError(f"`canary_rank` must hold whole-number ranks from 1 (most likely) to n_candidates={n}; "
                         f"got values from {ranks.min():g} to {ranks.max():g}.")
    out = np.log2(n) - np.log2(ranks)
    return float(out) if out.ndim == 0 else out


# --- exposure from a sample of candidates (Secret Sharer) -------------------------------------------------------
# Cross-checked against tensorflow/privacy, privacy_tests/secret_sharer/exposures.py: compute_exposure_interpolation
# (rank among the references) and compute_exposure_extrapolation (-log2 of a fitted skew-normal's CDF).

def _log_perplexities(canary_log_perplexity, reference_log_perplexities):
    canary = as_array(canary_log_perplexity, "canary_log_perplexity")
    if canary.ndim > 1:
        raise ValueError(f"`canary_log_perplexity` must be one number or one per canary, shape (c,); got shape "
                         f"{canary.shape}.")
    references = as_array(reference_log_perplexities, "reference_log_perplexities", ndim=1)
    if len(references) < 2:
        raise ValueError("`reference_log_perplexities` needs at least 2 candidates that were not inserted.")
    return canary, references


@reference
def exposure_interpolated(canary_log_perplexity, reference_log_perplexities):
    """Exposure of a canary estimated from m reference candidates that were never inserted: log2(m) - log2(rank),
    rank = 1 + the number of references with a strictly lower log-perplexity (tensorflow/privacy's
    compute_exposure_interpolation). Resolves at most log2(m) bits. Scalar or (c,) in, same shape out.

    Carlini et al. (2019), The Secret Sharer, section 4.2. Taught in notebook 10, section 3."""
    canary, references = _log_perplexities(canary_log_perplexity, reference_log_perplexities)
    ranks = 1 + np.searchsorted(np.sort(references), canary, side="left")
    out = np.log2(len(references)) - np.log2(ranks)
    return float(out) if out.ndim == 0 else out


class ExposureEstimate(tuple):
    """(exposure, low, high): an extrapolated exposure and its percentile bootstrap interval."""

    __slots__ = ()

    def __new__(cls, exposure, low, high):
        return super().__new__(cls, (exposure, low, high))

    exposure = property(lambda self: self[0])
    low = property(lambda self: self[1])
    high = property(lambda self: self[2])

    def __repr__(self) -> str:
        def fmt(v):
            return f"{v:.2f}" if np.ndim(v) == 0 else np.array2string(np.asarray(v), precision=2)
        return f"ExposureEstimate(exposure={fmt(self[0])}, 95% interval [{fmt(self[1])}, {fmt(self[2])}])"


def _skewnorm_exposure(canary, references):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # the fit's optimiser warns on flat likelihood steps
        params = stats.skewnorm.fit(references)
        return -stats.skewnorm.logcdf(canary, *params) / np.log(2)


def exposure_extrapolated(canary_log_perplexity, reference_log_perplexities, *, n_boot: int = 50,
                          level: float = 0.95, random_state: int = 0) -> ExposureEstimate:
    """Exposure of a canary extrapolated from m reference candidates: fit a skew-normal to the references'
    log-perplexities and return -log2 CDF(canary's log-perplexity), which can exceed log2(m).

    Returns ExposureEstimate(exposure, low, high): the estimate and its percentile bootstrap interval
    (`n_boot` resamples of the references, refitted; `level` coverage); with n_boot=0, low = high = the
    estimate. The interval is the error from sampling the references, not from the skew-normal's shape; far
    in the tail (fewer than ~10 of all candidates ahead of the canary) the exact rank is decided by a few
    near-copies of the canary that no smooth fit sees. Scalar or (c,) canary values in, same shape out.

    Carlini et al. (2019), section 4.3; tensorflow/privacy's compute_exposure_extrapolation. Beyond ~1000 bits
    the fitted CDF underflows and the estimate is inf. Taught in notebook 10, section 3."""
    canary, references = _log_perplexities(canary_log_perplexity, reference_log_perplexities)
    n_boot = check_count(n_boot, "n_boot", minimum=0)
    level = check_fraction(level, "level")
    rng = check_random_state(random_state)
    estimate = _skewnorm_exposure(canary, references)
    if n_boot:
        boots = np.stack([_skewnorm_exposure(canary, rng.choice(references, len(references)))
                          for _ in range(n_boot)])
        low, high = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2], axis=0)
    else:
        low = high = estimate
    if canary.ndim == 0:
        return ExposureEstimate(float(estimate), float(low), float(high))
    return ExposureEstimate(np.asarray(estimate), np.asarray(low), np.asarray(high))
