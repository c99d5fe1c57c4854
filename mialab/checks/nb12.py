"""Checks for notebook 12 (the capstone: an epsilon lower bound from counts, the audit table, the diagnosis)."""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.stats import beta

from . import Case, call_student, explicit_hints, passed, require, run_cases, skippable
from . import use_reference  # noqa: F401 (a notebook imports it from here, as it does hint)
from .._reference import blocked

EPSILON = "Exercise 12.1 (an epsilon lower bound from counts)"
TABLE = "Exercise 12.2 (the audit table)"
DIAGNOSE = "Exercise 12.3 (name the defence)"

BLOCK_EPSILON = ("capstone.epsilon_lower_bound", "dpsgd.empirical_epsilon")
BLOCK_TABLE = ("capstone.audit_table", "capstone.operating_point", "capstone.epsilon_lower_bound",
               "dpsgd.empirical_epsilon")
BLOCK_DIAGNOSE = ("capstone.diagnose",)

def _cp_epsilon(tp, n1, fp, n0, delta):
    low = 0.0 if tp == 0 else float(beta.ppf(0.025, tp, n1 - tp + 1))
    high = 1.0 if fp == n0 else float(beta.ppf(0.975, fp + 1, n0 - fp))
    return 0.0 if low <= delta else max(0.0, math.log((low - delta) / high))


@skippable(EPSILON)
def check_epsilon_lower_bound(epsilon_lower_bound, counts=None) -> None:
    """Check `epsilon_lower_bound(tp, n_members, fp, n_nonmembers, delta) -> float` (95% Clopper-Pearson)."""
    __tracebackhide__ = True
    base = ("bound the TPR from below and the FPR from above with one-sided 97.5% Clopper-Pearson bounds "
            "(scipy.stats.beta.ppf), then return ln((tpr_low - delta) / fpr_high), or 0 when that is not positive.")
    cases = [
        Case("tp 500 of 1000 members, fp 10 of 1000 non-members", (500, 1000, 10, 1000, 0.0),
             _cp_epsilon(500, 1000, 10, 1000, 0.0),
             base + " The point estimate ln(0.5 / 0.01) overstates what 1,000 records prove."),
        Case("the same with delta = 0.01", (500, 1000, 10, 1000, 0.01), _cp_epsilon(500, 1000, 10, 1000, 0.01),
             "delta is the slack of the guarantee: it comes off the TPR's lower bound before the ratio is taken."),
        Case("no false positive at all (fp = 0)", (50, 1000, 0, 1000, 0.0), _cp_epsilon(50, 1000, 0, 1000, 0.0),
             "with fp = 0 the FPR is not 0 with confidence: its upper bound is beta.ppf(0.975, 1, n_nonmembers), "
             "so the answer is finite."),
        Case("no true positive (tp = 0)", (0, 1000, 3, 1000, 0.0), 0.0,
             "with tp = 0 the TPR's lower bound is 0: nothing is proved, return 0 (beta.ppf needs a > 0)."),
        Case("every member found (tp = n_members)", (200, 200, 2, 1000, 0.0), _cp_epsilon(200, 200, 2, 1000, 0.0),
             "the lower bound for tp of n is beta.ppf(0.025, tp, n - tp + 1): the second shape is n - tp + 1."),
        Case("every non-member flagged (fp = n_nonmembers)", (900, 1000, 1000, 1000, 0.0), 0.0,
             "with fp = n_nonmembers the FPR's upper bound is 1, and ln(tpr_low / 1) < 0: return 0."),
        Case("a TPR bound below delta", (1, 1000, 0, 1000, 0.01), 0.0,
             "when tpr_low <= delta the bound proves nothing: return 0."),
        Case("an attack whose bounds cross (tpr_low < fpr_high)", (30, 1000, 40, 1000, 0.0), 0.0,
             "when the log is negative the counts prove nothing: the answer is never below 0."),
    ]
    with blocked(*BLOCK_EPSILON):
        run_cases(EPSILON, epsilon_lower_bound, cases)
        got = call_student(EPSILON, epsilon_lower_bound, 500, 1000, 10, 1000, 0.0)
        require(got < math.log(0.5 / 0.01), EPSILON, "your bound is not below the point estimate.", base)
        if counts is not None:
            tp, n1, fp, n0, delta = counts
            got = call_student(EPSILON, epsilon_lower_bound, int(tp), int(n1), int(fp), int(n0), float(delta))
            require(np.isclose(float(got), _cp_epsilon(tp, n1, fp, n0, delta), atol=1e-9), EPSILON,
                    "right on the small cases, wrong on the audit's counts.", base)
    extra = " and the audit's counts" if counts is not None else ""
    return passed(EPSILON, f"{len(cases)} small cases (fp = 0, tp = 0, tp = n, fp = n, tpr_low <= delta){extra}")


def ranked(is_member, top, rng):
    """Scores for `is_member` whose highest records, in order, have the labels `top` (the rest lower, at random)."""
    is_member = np.asarray(is_member, bool)
    order = np.empty(len(is_member), int)
    members, nonmembers = list(rng.permutation(np.flatnonzero(is_member))), list(rng.permutation(
        np.flatnonzero(~is_member)))
    head = [(members if label else nonmembers).pop() for label in top]
    order[:len(head)] = head
    order[len(head):] = rng.permutation(members + nonmembers)
    scores = np.empty(len(is_member))
    scores[order] = np.sort(rng.uniform(0, 10, size=len(is_member)))[::-1]
    return scores


def _table_cases():
    """Small score sets with ties; one that separates members from non-members (many thresholds reach TPR 1 at FPR
    <= 1%: the one with the lowest FPR is taken), one whose best threshold at 1% has an FPR of exactly 1% (200
    non-members allow 2 false positives)."""
    rng = np.random.default_rng(12)
    is_member = np.arange(400) < 200
    strong = rng.normal(size=400) + 2.5 * is_member
    tied = np.round(rng.normal(size=400) + 0.5 * is_member, 1)
    separated = rng.uniform(size=400) + 2.0 * is_member
    exact = ranked(is_member, [False, False] + [True] * 20 + [False, True], rng)
    chance = rng.normal(size=400)
    return {"separated": separated, "exactly 1%": exact, "strong": strong, "tied": tied, "chance": chance}, is_member


@skippable(TABLE)
def check_audit_table(audit_table, scores=None, is_member=None, delta=1e-5) -> None:
    """Check `audit_table(scores: dict, is_member, delta) -> {attack: [AUC, TPR@1%, eps@1%, TPR@0.1%, eps@0.1%]}`."""
    __tracebackhide__ = True
    from ..capstone import audit_table as reference
    base = ("for each attack: the AUC, then at FPR 1% and 0.1% the threshold with the highest TPR whose FPR is <= "
            "the target (member iff score >= threshold; among thresholds with that same TPR, the lowest FPR), its "
            "TPR, and epsilon_lower_bound of its actual counts (tp, n_members, fp, n_nonmembers, delta).")
    sets, members = _table_cases()
    expected = _unblocked(reference, sets, members, 1e-5)
    real = None if scores is None else _unblocked(reference, dict(scores), np.asarray(is_member), delta)
    with blocked(*BLOCK_TABLE):
        got = call_student(TABLE, audit_table, dict(sets), members.copy(), 1e-5)
        _check_table(got, expected, base)
        if real is not None:
            got = call_student(TABLE, audit_table, dict(scores), np.asarray(is_member).copy(), delta)
            _check_table(got, real, "right on the small cases, wrong on the audit's scores: " + base)
    extra = " and the audit's scores" if scores is not None else ""
    return passed(TABLE, f"5 small attacks (a strong one, ties, chance, a perfect one, one at exactly 1% FPR){extra}")


def _unblocked(func, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args)


_TABLE_HINTS = {
    "tied": " Ties: a threshold keeps every record that scores >= it, so tied scores enter together; the AUC counts "
            "a tied member/non-member pair as one half.",
    "separated": " Here every member scores above every non-member, so many thresholds reach the highest TPR at an "
                 "FPR <= the target; they differ in their false positives, and the statement says which one to take.",
    "exactly 1%": " Here the best threshold at 1% lets through exactly 1% of the non-members (2 of 200): an FPR "
                  "equal to the target is allowed.",
}


def _check_table(got, expected, base):
    __tracebackhide__ = True
    require(isinstance(got, dict) and set(got) == set(expected), TABLE,
            f"expected a dict with one entry per attack ({', '.join(expected)}); got "
            f"{type(got).__name__}{' with keys ' + ', '.join(map(str, got)) if isinstance(got, dict) else ''}.",
            "return {name: [auc, tpr_1, eps_1, tpr_01, eps_01] for name in scores}.")
    columns = ("AUC", "TPR at 1% FPR", "epsilon at 1% FPR", "TPR at 0.1% FPR", "epsilon at 0.1% FPR")
    for name, row in expected.items():
        mine = np.asarray(got[name], dtype=float).ravel()
        require(mine.shape == (5,), TABLE, f"the row of {name!r} has {mine.size} values, expected 5.", base)
        for column, a, b in zip(columns, mine, row):
            require(bool(np.isclose(a, b, atol=1e-6)), TABLE, f"the {column} of {name!r} is wrong.",
                    base + _TABLE_HINTS.get(name, ""))


# typical evidence of each variant, measured on the capstone's targets (notebook 12, section 5)
TYPICAL = {
    "none": {"api": "probabilities", "member_acc": 1.0, "nonmember_acc": 0.70, "reference_acc": 0.70,
             "member_confidence": 0.985, "reference_member_confidence": 0.986, "weight_norm": 32.9,
             "reference_weight_norm": 32.8},
    "L2": {"api": "probabilities", "member_acc": 0.985, "nonmember_acc": 0.666, "reference_acc": 0.70,
           "member_confidence": 0.654, "reference_member_confidence": 0.986, "weight_norm": 14.8,
           "reference_weight_norm": 32.8},
    "DP-SGD": {"api": "probabilities", "member_acc": 0.596, "nonmember_acc": 0.40, "reference_acc": 0.70,
               "member_confidence": 0.376, "reference_member_confidence": 0.986, "weight_norm": 50.9,
               "reference_weight_norm": 32.8},
    "distillation": {"api": "probabilities", "member_acc": 0.952, "nonmember_acc": 0.683, "reference_acc": 0.70,
                     "member_confidence": 0.769, "reference_member_confidence": 0.986, "weight_norm": 28.0,
                     "reference_weight_norm": 32.8},
    "label-only": {"api": "label", "member_acc": 1.0, "nonmember_acc": 0.70, "reference_acc": 0.70,
                   "member_confidence": 0.985, "reference_member_confidence": 0.986, "weight_norm": 32.9,
                   "reference_weight_norm": 32.8},
}
_HINTS = {
    "none": "no defence leaves members fitted perfectly, non-members at the references' accuracy, and weights "
            "like the references'.",
    "L2": "weight decay shrinks the weights: compare weight_norm with the references' weight norm.",
    "DP-SGD": "DP-SGD's noise costs accuracy: a non-member accuracy far below what the public recipe reaches.",
    "distillation": "a distilled model learned soft answers and never saw the members: it is much less sure of "
                    "them (member_confidence) than a model trained on its members, with ordinary weights.",
    "label-only": "look at the API first: a box that answers labels is the label-only variant, whatever is behind "
                  "it.",
}


def plain_evidence(api="probabilities", acc=(0.70, 0.70), norm=(32.8, 32.8), conf=(0.986, 0.986)) -> dict:
    """Evidence with the given (target, reference) pairs; the rest as the references' (an undefended model)."""
    return {"api": api, "member_acc": 1.0, "nonmember_acc": acc[0], "reference_acc": acc[1],
            "member_confidence": conf[0], "reference_member_confidence": conf[1], "weight_norm": norm[0],
            "reference_weight_norm": norm[1]}


_RATIOS = ("decide from each number's RATIO to its own yardstick: the same number can be normal beside one set of "
           "reference models and the mark of a defence beside another. Use the statement's factors, in its order.")
# evidence whose yardsticks are not the typical ones: an answer with absolute thresholds, a difference instead of
# a ratio, <= instead of <, or the tests in another order names the wrong variant on one of them
YARDSTICKS = [
    ("a non-member accuracy of 0.6 beside references at 0.7", plain_evidence(acc=(0.6, 0.7)), _RATIOS),
    ("the same non-member accuracy of 0.6 beside references at 0.8", plain_evidence(acc=(0.6, 0.8)), _RATIOS),
    ("a non-member accuracy of 0.3 beside references at 0.4", plain_evidence(acc=(0.3, 0.4)), _RATIOS),
    ("a weight norm of 20 beside references at 25", plain_evidence(norm=(20.0, 25.0)), _RATIOS),
    ("the same weight norm of 20 beside references at 40", plain_evidence(norm=(20.0, 40.0)), _RATIOS),
    ("a member confidence of 0.8 beside references at 0.85", plain_evidence(conf=(0.8, 0.85)), _RATIOS),
    ("the same member confidence of 0.8 beside references at 0.95", plain_evidence(conf=(0.8, 0.95)), _RATIOS),
    ("a non-member accuracy of exactly 0.8 x the references' (0.4 beside 0.5)", plain_evidence(acc=(0.4, 0.5)),
     "below means strictly below: a ratio exactly at its factor does not count."),
    ("a weight norm of exactly 0.65 x the references' (20.8 beside 32)", plain_evidence(norm=(20.8, 32.0)),
     "below means strictly below: a ratio exactly at its factor does not count."),
    ("a member confidence of exactly 0.9 x the references' (0.45 beside 0.5)", plain_evidence(conf=(0.45, 0.5)),
     "below means strictly below: a ratio exactly at its factor does not count."),
    ("low non-member accuracy, small weights and low confidence together",
     plain_evidence(acc=(0.4, 0.7), norm=(15.0, 32.8), conf=(0.4, 0.986)),
     "several tests hold here: the first one that holds, in the statement's order, names the variant."),
    ("a label API with low accuracy, small weights and low confidence",
     plain_evidence(api="label", acc=(0.4, 0.7), norm=(15.0, 32.8), conf=(0.4, 0.986)),
     "the API comes first: a box that answers labels is the label-only variant, whatever else the evidence says."),
]


@skippable(DIAGNOSE)
def check_diagnose(diagnose, evidence=None) -> None:
    """Check `diagnose(evidence: dict) -> str`, one of mialab.capstone.VARIANTS."""
    __tracebackhide__ = True
    from ..capstone import VARIANTS
    from ..capstone import diagnose as reference
    cases = [Case(f"typical evidence of the {name!r} variant", (dict(ev),), name, _HINTS[name])
             for name, ev in TYPICAL.items()]
    cases += [Case(f"evidence with other yardsticks: {what}", (dict(ev),), _unblocked(reference, dict(ev)), why)
              for what, ev, why in YARDSTICKS]
    with blocked(*BLOCK_DIAGNOSE):
        for case in cases:
            got = call_student(DIAGNOSE, diagnose, *case.args)
            require(isinstance(got, str) and got in VARIANTS, DIAGNOSE,
                    f"on {case.description} your function returned {got!r}.",
                    f"return one of {', '.join(map(repr, VARIANTS))}.")
            require(got == case.expected, DIAGNOSE, f"on {case.description} your function returned {got!r}.",
                    case.hint)
        if evidence is not None:
            got = call_student(DIAGNOSE, diagnose, dict(evidence))
            require(isinstance(got, str) and got in VARIANTS, DIAGNOSE,
                    f"on your target's evidence your function returned {got!r}.",
                    f"return one of {', '.join(map(repr, VARIANTS))}.")
    extra = "; your target's diagnosis is graded by a hidden test" if evidence is not None else ""
    return passed(DIAGNOSE, f"the typical evidence of all {len(TYPICAL)} variants and {len(YARDSTICKS)} cases with "
                            f"other yardsticks{extra}")


HINTS = {
    "12.1": ("Two guarded bounds, then the log: tpr_low is 0.0 when tp is 0, else scipy.stats.beta.ppf at 0.025 with "
             "shapes tp and n_members - tp + 1; fpr_high is 1.0 when fp is n_nonmembers, else beta.ppf at 0.975 with "
             "shapes fp + 1 and n_nonmembers - fp. Return 0.0 early when tpr_low <= delta; otherwise the log of "
             "(tpr_low - delta) / fpr_high, floored at 0."),
    "12.2": ("n1 and n0 are the counts of members and non-members. For each attack, metrics.roc_curve(s, is_member) "
             "gives fpr and tpr over every distinct threshold, fpr increasing. Keep the indices where fpr <= at; "
             "among them np.argmax of tpr returns the FIRST index of the highest TPR, the one with the lowest FPR. "
             "Turn its rates back into counts with round(rate * n), and call your epsilon_lower_bound on "
             "(tp, n1, fp, n0, delta)."),
    "12.3": ("An if-chain in the statement's order, one return per test. Compare each target number with its factor "
             "times its own yardstick, e.g. evidence[\"weight_norm\"] against 0.65 * the reference weight norm, with a "
             "strict <; the API test compares evidence[\"api\"] with the string \"label\"."),
}
hint = explicit_hints(HINTS)
