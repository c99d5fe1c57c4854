"""Checks for notebook 03 (Salem et al. ML-Leaks)."""

from __future__ import annotations

import inspect

import numpy as np

from . import Case, call_student, explicit_hints, passed, require, run_cases, skippable
from .compare import compare
from . import use_reference  # noqa: F401 (a notebook imports it from here, as it does hint)

TOP_K = "Exercise 3.1 (sorted top-k posteriors)"
ENTROPY = "Exercise 3.2 (the entropy attack)"
THRESHOLD = "Exercise 3.3 (a threshold without labels)"
TRANSFER = "Exercise 3.4 (the transfer table)"

_P = np.array([[0.1, 0.7, 0.2, 0.0], [0.25, 0.25, 0.25, 0.25], [0.05, 0.15, 0.3, 0.5], [0.0, 0.0, 1.0, 0.0]])
_SMALL = np.array([[1e-5, 0.6, 0.4 - 1e-5, 0.0]])


def _entropy(probs):
    return -np.sum(probs * np.log(np.clip(probs, 1e-12, None)), axis=1)


@skippable(TOP_K)
def check_top_k_features(top_k_features, probs=None) -> None:
    """Check `top_k_features(probs, k) -> (n, k)`: each row's k largest posteriors, largest first."""
    __tracebackhide__ = True
    hint = ("The attack model should not care which class got which posterior, only how confident the answer is: "
            "put each record's posteriors in decreasing order (within the record: along axis=1) and keep the first k. "
            "NumPy sorts in increasing order only.")
    cases = [
        Case("4 records, 4 classes, k = 3", (_P, 3),
             np.array([[0.7, 0.2, 0.1], [0.25, 0.25, 0.25], [0.5, 0.3, 0.15], [1.0, 0.0, 0.0]]), hint),
        Case("k = 1 (the largest posterior only)", (_P, 1), np.array([[0.7], [0.25], [0.5], [1.0]]),
             "Keep the shape (n, k) even for k = 1: slice with [:, :k], do not index with [:, 0]."),
        Case("k = all classes", (_P[:2], 4), np.array([[0.7, 0.2, 0.1, 0.0], [0.25, 0.25, 0.25, 0.25]]),
             "Sort within each record (along axis=1), not across records (axis=0)."),
    ]
    run_cases(TOP_K, top_k_features, [Case(c.description, (c.args[0].copy(), c.args[1]), c.expected, c.hint)
                                      for c in cases])
    if probs is not None:
        got = call_student(TOP_K, top_k_features, np.array(probs, copy=True), 3)
        want = -np.sort(-np.asarray(probs), axis=1)[:, :3]
        require(np.shape(got) == want.shape and np.allclose(np.asarray(got, float), want), TOP_K,
                "right on the small cases, wrong on the notebook's posteriors.", hint)
    return passed(TOP_K, f"{len(cases)} small cases{' and the notebook posteriors' if probs is not None else ''}")


@skippable(ENTROPY)
def check_entropy_attack(entropy_attack, probs=None) -> None:
    """Check `entropy_attack(probs) -> scores`: minus the Shannon entropy of each row (higher = member)."""
    __tracebackhide__ = True
    hint = ("The entropy of a row is -sum_i p_i log p_i (natural log); a member gets a confident, low-entropy "
            "answer, so the SCORE is minus the entropy: sum_i p_i log p_i.")
    zero_hint = ("A posterior of exactly 0 contributes 0 (0 log 0 = 0), but np.log(0) is -inf and 0 * -inf is "
                 "nan: clip the probabilities first, np.log(np.clip(probs, 1e-12, None)).")
    cases = [
        Case("a uniform answer over 4 classes", (_P[1:2].copy(),), np.array([-np.log(4)]),
             "A uniform answer over k classes has entropy log k, so its score is -log k. " + hint),
        Case("answers without zeros", (_P[1:3].copy(),), -_entropy(_P[1:3]), hint),
        Case("answers with posteriors of exactly 0", (_P.copy(),), -_entropy(_P), zero_hint),
        Case("an answer with a posterior of 0.00001", (_SMALL.copy(),), -_entropy(_SMALL),
             "A small posterior is not 0: its p log p counts (here about -0.000115). Clip only to keep log away "
             "from 0, at a bound far below any posterior a model gives (such as 1e-12), so that nothing else "
             "changes."),
    ]
    run_cases(ENTROPY, entropy_attack, cases)
    if probs is not None:
        got = call_student(ENTROPY, entropy_attack, np.array(probs, copy=True))
        want = -_entropy(np.asarray(probs, float))
        require(np.shape(got) == want.shape and np.allclose(np.asarray(got, float), want, atol=1e-6), ENTROPY,
                "right on the small cases, wrong on the notebook's posteriors.", zero_hint)
    return passed(ENTROPY, f"{len(cases)} small cases{' and the notebook posteriors' if probs is not None else ''}")


@skippable(THRESHOLD)
def check_pick_threshold(pick_threshold, noise_probs=None) -> None:
    """Check `pick_threshold(noise_probs, percentile) -> float`: that percentile of the noise's max posteriors."""
    __tracebackhide__ = True
    try:
        params = list(inspect.signature(pick_threshold).parameters)
    except (TypeError, ValueError):
        params = None
    require(params is None or len(params) == 2, THRESHOLD,
            f"`pick_threshold` should take exactly (noise_probs, percentile); it takes {params}.",
            "The threshold comes from the target's answers on noise alone: no membership labels, no candidates.")
    hint = ("Noise is never a member, so how confident the target is on noise tells what a non-member's answer "
            "looks like: summarize each noise answer by its confidence (its largest posterior), then place the "
            "threshold at the given percentile of those confidences.")
    rows = np.linspace(0.1, 1.0, 10)  # max posteriors 0.1 ... 1.0 over 10 noise answers, 10 classes
    noise = np.array([np.r_[m, np.full(9, (1 - m) / 9)] for m in rows])
    noise = noise[np.random.default_rng(0).permutation(10)][:, np.random.default_rng(1).permutation(10)]
    cases = [
        Case("10 noise answers, percentile 50", (noise.copy(), 50), 0.55, hint),
        Case("10 noise answers, percentile 90", (noise.copy(), 90), 0.91,
             "np.percentile interpolates between values by default; use it as is. " + hint),
        Case("10 noise answers, percentile 100", (noise.copy(), 100), 1.0,
             "Use the largest posterior of each answer, not the posterior of class 0. " + hint),
    ]
    run_cases(THRESHOLD, pick_threshold, cases)
    if noise_probs is not None:
        got = call_student(THRESHOLD, pick_threshold, np.array(noise_probs, copy=True), 90)
        want = float(np.percentile(np.asarray(noise_probs).max(axis=1), 90))
        require(np.ndim(got) == 0 and abs(float(got) - want) < 1e-9, THRESHOLD,
                "right on the small cases, wrong on the target's answers to noise.", hint)
    noise = "" if noise_probs is None else " and the answers to noise"
    return passed(THRESHOLD, f"{len(cases)} small cases{noise}")


def _auc(scores, is_member) -> float:
    """P(a member scores above a non-member), ties 1/2: the Mann-Whitney statistic from average ranks."""
    from scipy.stats import rankdata
    is_member = np.asarray(is_member, bool)
    ranks = rankdata(np.asarray(scores, float))
    n1, n0 = int(is_member.sum()), int((~is_member).sum())
    return float((ranks[is_member].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _auc_table(pair_scores, is_member, shadows, targets) -> np.ndarray:
    return np.array([[_auc(pair_scores[(shadow, target)], is_member) for target in targets] for shadow in shadows])


# is_member interleaved: members are records 0, 2 and 5
_MEMBER = np.array([True, False, True, False, False, True])
_RECTANGLE = {("tree", "naive Bayes"): np.array([0.9, 0.1, 0.8, 0.2, 0.3, 0.7]),      # AUC 1
              ("MLP", "naive Bayes"): np.array([0.2, 0.9, 0.4, 0.3, 0.8, 0.5])}       # AUC 2/9: below chance
_FIRST = np.array([True, True, True, False, False, False])
_ROW = {("MLP", "naive Bayes"): np.array([0.2, 0.4, 0.5, 0.9, 0.3, 0.8]),            # AUC 2/9 (with _FIRST)
        ("MLP", "tree"): np.array([0.9, 0.8, 0.7, 0.1, 0.2, 0.3])}                    # AUC 1
_SQUARE = {("tree", "tree"): np.array([1.0, 0.0, 1.0, 0.0, 1.0, 1.0]),                # ties: 5/6
           ("tree", "forest"): np.full(6, 0.5),                                        # all tied: 1/2
           ("forest", "tree"): np.array([0.6, 0.6, 0.9, 0.1, 0.6, 0.2]),              # 2/3
           ("forest", "forest"): np.array([3.0, 1.0, 2.0, 2.0, 0.0, 1.0])}            # 7/9


def _copies(pair_scores) -> dict:
    return {key: np.array(value, copy=True) for key, value in pair_scores.items()}


@skippable(TRANSFER)
def check_transfer_table(transfer_table, pair_scores=None, is_member=None, shadows=None, targets=None) -> None:
    """Check `transfer_table(pair_scores, is_member, shadows, targets) -> (len(shadows), len(targets))`: entry
    [i, j] the AUC of the scores of the attack trained on shadows[i]'s shadows against the target targets[j]."""
    __tracebackhide__ = True
    hint = ("Each key of pair_scores is a pair (shadow family, target family): the first names the family whose "
            "shadows trained the attack, the second the target it scored. Row i belongs to shadows[i], column j to "
            "targets[j]; the entry is the AUC of that pair's scores against is_member: the chance that a member "
            "scores above a non-member, ties counting 1/2.")
    tie_hint = ("Ties count 1/2: a member and a non-member with the same score are half a win. mialab's "
                "metrics.auc (or scikit-learn's roc_auc_score) counts them so; a hand-made count with > alone, or "
                ">=, does not. " + hint)
    cases = [
        Case("one shadow family attacking two targets (asked in another order than the keys')",
             (_ROW, _FIRST, ["MLP"], ["tree", "naive Bayes"]),
             _auc_table(_ROW, _FIRST, ["MLP"], ["tree", "naive Bayes"]),
             "Look each pair up by its families, pair_scores[(shadows[i], targets[j])], not by the order of the "
             "dict's keys. " + hint),
        Case("two shadow families attacking one target, members at records 0, 2 and 5",
             (_RECTANGLE, _MEMBER, ["tree", "MLP"], ["naive Bayes"]),
             _auc_table(_RECTANGLE, _MEMBER, ["tree", "MLP"], ["naive Bayes"]),
             "Use is_member as it is given (the members are not the first half here), and keep an AUC below 1/2 "
             "as it is: an attack that ranks members below non-members has AUC < 0.5. " + hint),
        Case("two families attacking each other, with tied scores", (_SQUARE, _MEMBER, ["forest", "tree"],
                                                                     ["tree", "forest"]),
             _auc_table(_SQUARE, _MEMBER, ["forest", "tree"], ["tree", "forest"]), tie_hint),
    ]
    run_cases(TRANSFER, transfer_table, [Case(c.description, (_copies(c.args[0]), c.args[1].copy(), list(c.args[2]),
                                                              list(c.args[3])), c.expected, c.hint) for c in cases])
    if pair_scores is not None:
        got = call_student(TRANSFER, transfer_table, _copies(pair_scores), np.array(is_member, copy=True),
                           list(shadows), list(targets))
        problem = compare(got, _auc_table(pair_scores, is_member, shadows, targets))
        require(problem is None, TRANSFER, f"right on the small cases, but on the notebook's scores your function "
                f"{problem}.", hint)
    detail = f"{len(cases)} small tables{' and the notebook transfer table' if pair_scores is not None else ''}"
    return passed(TRANSFER, detail)


HINTS = {
    '3.1': ("np.sort(..., axis=1) sorts each row in increasing order, so the largest values end up last. Either "
            "reverse the columns of the sorted array (a step of -1 in the column slice) or sort the negated "
            "posteriors and negate back; then keep the first k columns with a slice, which keeps the shape (n, k)."),
    '3.2': ("Work on the whole array at once: multiply the posteriors element by element with their natural log, "
            "but take the log of np.clip(probs, 1e-12, None) so that a 0 gives 0 * (a finite number) = 0. Then sum "
            "along each row (axis=1). That sum is already minus the entropy: no extra minus sign."),
    '3.3': ("Two steps: the largest posterior of each answer (a max along axis=1, one number per noise query), "
            "then np.percentile of those numbers at `percentile` (0-100, with its default linear interpolation), "
            "returned as a float."),
    '3.4': ("Start from an array of zeros of shape (len(shadows), len(targets)). Loop with enumerate over shadows "
            "(index i, family shadow) and, inside, over targets (j, target); the scores of that pair are "
            "pair_scores[(shadow, target)], the key in that order. Store their AUC at [i, j]: metrics.auc(scores, "
            "is_member) computes it, or count it yourself: subtract every non-member's score from every member's "
            "(broadcast a column of member scores against a row of non-member scores), then average 1 for a "
            "positive difference, 1/2 for a zero and 0 for a negative one."),
}


hint = explicit_hints(HINTS)
