"""Hidden tests for grading: the student's function on inputs drawn fresh at grading time, compared with
the reference, with the reference blocked while the student's code runs. Messages name the exercise,
never the inputs or the expected values.

mialab.course.verdict runs them (the registry's `test` of each exercise) in nbgrader's process, after the notebook
has run; the student's function is a proxy whose calls run in a sandbox (mialab.checks._process.grade)."""

from __future__ import annotations

import os

import numpy as np

from . import _METRICS, _MLLEAKS, _NB05, _SHADOW, CheckError, NotDoneError, NOT_DONE, blocks_for
from .._reference import blocked
from .compare import compare


def _quiet(func, *args, **kwargs):
    """Call a reference function with its few-non-members warning silenced (hidden inputs are small)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


def _fresh_rng() -> np.random.Generator:
    return np.random.default_rng(int.from_bytes(os.urandom(8), "little"))


def _call(exercise: str, func, *args, block=()):
    __tracebackhide__ = True
    if not callable(func):
        raise CheckError(f"{exercise}: the graded name is not a function any more.")
    try:
        with blocked(*block, *blocks_for(exercise)):  # and the exercise's own answer in mialab.answers
            return func(*args)
    except NotImplementedError:
        raise NotDoneError(f"{exercise} {NOT_DONE}.") from None
    except Exception as error:
        if type(error).__name__ == "ReferenceBlocked" and "`answers." in str(error):
            raise CheckError(f"{exercise}: skipped with the reference answer (use_reference), so it scores "
                             "0.") from None
        if type(error).__name__ == "ReferenceBlocked":  # of the notebook's copy of mialab or the fresh one
            raise CheckError(f"{exercise}: your function calls mialab's own implementation of this exercise "
                             "(or changes how grading blocks it); write the computation yourself.") from None
        raise CheckError(f"{exercise}: your function raised {type(error).__name__} on a fresh input "
                         "drawn at grading time.") from None


def _call_counting(exercise: str, func, position: int, *args, block=()):
    """_call, and count the rows the student's function asks of args[position] -> (result, rows). The counting and
    the function asked stay in this (the grading) process: the student's function gets a stub that forwards."""
    __tracebackhide__ = True
    from ._process import Counted
    args = list(args)
    counter = args[position] = Counted(args[position])
    return _call(exercise, func, *args, block=block), counter.rows


def _agree(exercise: str, got, expected, tol: float = 1e-6) -> None:
    """Raise CheckError unless the answer matches (mialab.checks.compare: shape, kind, finiteness, tolerance)."""
    __tracebackhide__ = True
    problem = compare(got, expected, atol=tol)
    if problem:
        raise CheckError(f"{exercise}: your function gives a wrong answer on fresh inputs drawn at grading time: it "
                         f"{problem}.")


def _score_sets(rng, n_sets=5):
    for _ in range(n_sets):
        n = int(rng.integers(20, 400))
        is_member = rng.random(n) < rng.uniform(0.2, 0.8)
        is_member[:2] = [True, False]
        scores = rng.normal(size=n) + rng.uniform(0, 2) * is_member
        if rng.random() < 0.5:  # ties, as a rounded black box gives
            scores = np.round(scores, 1)
        yield scores, is_member


def test_membership_advantage(membership_advantage) -> None:
    """Exercise 0.1 on fresh random scores."""
    from ..metrics import advantage
    rng = _fresh_rng()
    tie = (np.array([0.5, 0.5, 0.1]), np.array([True, False, False]))  # a member and a non-member tied at the top
    shift = float(rng.normal())
    fixed = [tie,
             (np.array([0.1, 0.3, 0.8, 0.9]) + shift, np.array([True, True, False, False])),  # members last: 0, not |.|
             (np.array([-1.0, -2.0, -3.0, 4.0]) + rng.uniform(-1, 0), np.array([True, False, False, True]))]  # < 0
    for scores, is_member in [*fixed, *_score_sets(rng)]:
        expected = _quiet(advantage, scores, is_member)
        got = _call("Exercise 0.1", membership_advantage, scores.copy(), is_member.copy(), block=_METRICS)
        _agree("Exercise 0.1", got, expected)


def test_tpr_at_fpr(tpr_at_fpr) -> None:
    """Exercise 0.2 on fresh random scores."""
    from ..metrics import tpr_at_fpr as reference
    rng = _fresh_rng()
    members, nonmembers = rng.normal(1.0, 1.0, 5), np.sort(rng.normal(0.0, 1.0, 10))
    # FPR 15% of 10 non-members allows one false positive: a member just below the 2nd-highest non-member is found
    # by a threshold that lets two through (an interpolated quantile), never by one that keeps to one
    members[0] = nonmembers[8] - 0.1 * (nonmembers[8] - nonmembers[7])
    members[1] = max(members[1], nonmembers[9] + 0.5)  # and one member above all, so the right answer is not 0
    fractional = (np.concatenate([members, nonmembers]), np.arange(15) < 5)
    # a member tied with a non-member where no false positive is allowed, each listed first in turn (whichever way
    # a sort breaks ties, one of the two splits the tie member-first); a member tied with the highest non-member,
    # where none is allowed and where exactly one is (an FPR equal to the target is allowed)
    shift = float(rng.normal())
    tied = [(np.array([0.9, 0.5, 0.5, 0.1]) + shift, np.array(member), 0.25)
            for member in ([True, True, False, False], [True, False, True, False])]
    top = np.concatenate([members, nonmembers])
    top[2] = nonmembers[-1]
    tied += [(top, np.arange(15) < 5, 0.05), (top, np.arange(15) < 5, 0.1)]  # 0.1: one false positive, exactly
    drawn = [(s, m, float(rng.choice([0.01, 0.05, 0.1, 0.3]))) for s, m in _score_sets(rng)]
    cases = [(*fractional, 0.15), *tied, *drawn]
    for scores, is_member, fpr in cases:
        expected = _quiet(reference, scores, is_member, fpr=fpr)
        got = _call("Exercise 0.2", tpr_at_fpr, scores.copy(), is_member.copy(), fpr, block=_METRICS)
        _agree("Exercise 0.2", got, expected)


def _probs(rng, n, k):
    logits = rng.normal(scale=rng.uniform(0.5, 3), size=(n, k))
    p = np.exp(logits - logits.max(1, keepdims=True))
    return p / p.sum(1, keepdims=True)


def _nb01_fixed(rng):
    """Records whose true label has the largest probability but below 0.5, one that a wrong prediction gives the
    most to, and an argmax of the last column: (probs, y) with a random order of records and classes."""
    p = np.array([[0.2, 0.35, 0.45], [0.6, 0.3, 0.1], [0.25, 0.4, 0.35], [0.1, 0.1, 0.8]])
    y = np.array([2, 1, 1, 0])
    rows, cols = rng.permutation(4), rng.permutation(3)
    return p[rows][:, cols], np.argsort(cols)[y[rows]]


def test_generalization_gap(generalization_gap) -> None:
    """Exercise 1.1 on fresh random probabilities, and on a target that does better on its test records."""
    rng = _fresh_rng()
    p, y = _nb01_fixed(rng)                                   # accuracy 2/4
    better_on_test = (p[:2], p[:2].argmin(1), p, y)            # train accuracy 0: a negative gap
    _agree("Exercise 1.1", _call("Exercise 1.1", generalization_gap, *better_on_test), -0.5)
    for _ in range(5):
        k, n_in, n_out = int(rng.integers(2, 20)), int(rng.integers(5, 200)), int(rng.integers(5, 200))
        p_in, p_out = _probs(rng, n_in, k), _probs(rng, n_out, k)
        y_in, y_out = rng.integers(k, size=n_in), rng.integers(k, size=n_out)
        expected = np.mean(p_in.argmax(1) == y_in) - np.mean(p_out.argmax(1) == y_out)
        _agree("Exercise 1.1", _call("Exercise 1.1", generalization_gap, p_in, y_in, p_out, y_out), expected)


def test_correctness_attack(correctness_attack) -> None:
    """Exercise 1.2 on fresh random probabilities."""
    rng = _fresh_rng()
    for i in range(6):
        n, k = int(rng.integers(1, 300)), int(rng.integers(2, 20))
        p, y = _nb01_fixed(rng) if i == 0 else (_probs(rng, n, k), rng.integers(k, size=n))
        _agree("Exercise 1.2", _call("Exercise 1.2", correctness_attack, p, y), (p.argmax(1) == y).astype(float))


def test_confidence_attack(confidence_attack) -> None:
    """Exercise 1.3 on fresh random probabilities."""
    rng = _fresh_rng()
    for i in range(6):
        n, k = int(rng.integers(1, 300)), int(rng.integers(2, 20))
        p, y = _nb01_fixed(rng) if i == 0 else (_probs(rng, n, k), rng.integers(k, size=n))
        _agree("Exercise 1.3", _call("Exercise 1.3", confidence_attack, p, y), p[np.arange(len(y)), y])


def test_leakage_table(leakage_table) -> None:
    """Exercise 1.4 on fresh random targets."""
    from ..metrics import advantage
    rng = _fresh_rng()
    targets, gaps, advs = [], [], []
    for i in range(int(rng.integers(2, 6))):
        k, n_in, n_out = int(rng.integers(2, 10)), int(rng.integers(10, 100)), int(rng.integers(10, 100))
        n_out += i == 0 and n_out == n_in                    # the first target: more non-members than members
        t = {"probs_in": _probs(rng, n_in, k), "y_in": rng.integers(k, size=n_in),
             "probs_out": _probs(rng, n_out, k), "y_out": rng.integers(k, size=n_out)}
        targets.append(t)
        gaps.append(np.mean(t["probs_in"].argmax(1) == t["y_in"]) - np.mean(t["probs_out"].argmax(1) == t["y_out"]))
        scores = np.concatenate([t["probs_in"][np.arange(n_in), t["y_in"]],
                                 t["probs_out"][np.arange(n_out), t["y_out"]]])
        advs.append(_quiet(advantage, scores, np.arange(n_in + n_out) < n_in))
    got = _call("Exercise 1.4", leakage_table, targets)
    if not (isinstance(got, tuple) and len(got) == 2):
        raise CheckError("Exercise 1.4: expected a tuple (gaps, advantages).")
    _agree("Exercise 1.4", got[0], gaps)
    _agree("Exercise 1.4", got[1], advs)


# ============================================================================ notebook 04 (loss and metric attacks)
def _nb04_loss(probs, y):
    return -np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None))


def test_loss_attack(loss_attack) -> None:
    """Exercise 4.1 on fresh random probabilities and thresholds; first, records whose true label is not the
    predicted class, on both sides of a threshold that is one record's loss."""
    rng = _fresh_rng()
    for draw in range(6):
        n, k = int(rng.integers(1, 300)), int(rng.integers(2, 20))
        p, y = _probs(rng, n, k), rng.integers(k, size=n)
        losses = _nb04_loss(p, y)
        threshold = float(losses[rng.integers(n)])          # a record's loss exactly: "at most" includes it
        if draw == 0:  # p_y 0.5, 0.3 (the threshold), 0.1 (another class at 0.8), 0.05, 0.9, in a random order
            order = rng.permutation(5)
            p = np.array([[0.5, 0.3, 0.2], [0.3, 0.4, 0.3], [0.1, 0.8, 0.1], [0.05, 0.15, 0.8],
                          [0.9, 0.05, 0.05]])[order]
            n, y, losses = 5, np.zeros(5, int), _nb04_loss(p, np.zeros(5, int))
            threshold = float(-np.log(0.3))
        got = _call("Exercise 4.1", loss_attack, p.copy(), y.copy(), threshold)
        if np.shape(got) != (n,):
            raise CheckError("Exercise 4.1: the output has the wrong shape on fresh inputs drawn at grading time.")
        _agree("Exercise 4.1", np.asarray(got, bool), losses <= threshold)


def test_yeom_advantage(yeom_advantage) -> None:
    """Exercise 4.2 on fresh random members and non-members; first, members the target fits perfectly (each loss
    0, at the threshold), members with one badly fit record (mean and median differ) and a target that does worse
    on its members (a negative advantage)."""
    rng = _fresh_rng()
    skew_in = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.01, 0.99]])   # losses 0.11, 0.22, 0.36, 4.6
    skew_out = np.array([[0.5, 0.5], [0.3, 0.7]])                          # losses 0.69, 1.2
    for draw in range(7):
        k, n_in, n_out = int(rng.integers(2, 20)), int(rng.integers(5, 200)), int(rng.integers(5, 200))
        p_in, p_out = _probs(rng, n_in, k), _probs(rng, n_out, k)
        y_in, y_out = rng.integers(k, size=n_in), rng.integers(k, size=n_out)
        if draw == 0:  # every member fit perfectly: the threshold is 0, and every member's loss is 0
            p_in = np.eye(k)[y_in]
        elif draw == 1:
            p_in, p_out = skew_in[rng.permutation(4)], skew_out[rng.permutation(2)]
            y_in, y_out = np.zeros(4, int), np.zeros(2, int)
        elif draw == 2:  # members fit worse than non-members
            p_in, p_out = _probs(rng, n_in, 3) / 4 + 0.25, np.eye(3)[rng.integers(3, size=n_out)] * 0.9 + 0.1 / 3
            y_in, y_out = rng.integers(3, size=n_in), np.argmax(p_out, axis=1)
        threshold = _nb04_loss(p_in, y_in).mean()
        expected = np.mean(_nb04_loss(p_in, y_in) <= threshold) - np.mean(_nb04_loss(p_out, y_out) <= threshold)
        _agree("Exercise 4.2", _call("Exercise 4.2", yeom_advantage, p_in, y_in, p_out, y_out), expected)


def test_modified_entropy(modified_entropy) -> None:
    """Exercise 4.3 on fresh random probabilities, some rows certain (right and wrong), with the package's
    modified_entropy blocked."""
    from ..attacks.features import modified_entropy as reference
    rng = _fresh_rng()
    for draw in range(6):
        n, k = int(rng.integers(1, 300)), int(rng.integers(2, 20))
        if draw == 0:
            n, k = int(rng.integers(6, 40)), int(rng.integers(3, 8))
        p, y = _probs(rng, n, k), rng.integers(k, size=n)
        if draw == 0:  # certain and right, certain and wrong
            p[0], p[1] = np.eye(k)[y[0]], np.eye(k)[(y[1] + 1) % k]
        expected = reference(p, y)
        got = _call("Exercise 4.3", modified_entropy, p.copy(), y.copy(), block=("features.modified_entropy",))
        if np.shape(got) != (n,):
            raise CheckError("Exercise 4.3: the output has the wrong shape on fresh inputs drawn at grading time.")
        _agree("Exercise 4.3", got, expected, tol=1e-6)
# ===================================================================================== end of notebook 04


# ===================================================================================== notebook 02 (shadow models)
def test_attack_dataset(build_attack_dataset) -> None:
    """Exercise 2.1 on fresh random shadow outputs."""
    from ..attacks.shadow import attack_dataset
    rng = _fresh_rng()
    for i in range(4):
        s = int(rng.integers(1 if i else 2, 5))                # two shadows or more at least once
        n, k = int(rng.integers(6, 80)), int(rng.integers(2, 12))
        probs = np.stack([_probs(rng, n, k) for _ in range(s)])
        y = rng.integers(k, size=n)
        side = rng.integers(3, size=(n, s))  # 0 member, 1 non-member, 2 unused
        side[:4] = np.array([[0], [1], [2], [0]])  # a member after a non-member, and an unused record
        members, nonmembers = side == 0, side == 1
        expected = attack_dataset(probs, y, members, nonmembers)
        got = _call("Exercise 2.1", build_attack_dataset, probs.copy(), y.copy(), members.copy(), nonmembers.copy(),
                    block=_SHADOW)
        if not (isinstance(got, tuple) and len(got) == 3):
            raise CheckError("Exercise 2.1: expected a tuple (features, labels, is_member).")
        for value, want in zip(got, expected):
            if np.shape(value) != want.shape:
                raise CheckError("Exercise 2.1: an output has the wrong shape on fresh inputs drawn at grading time.")
            _agree("Exercise 2.1", value, want)


def test_fit_attack_models(fit_attack_models) -> None:
    """Exercise 2.2 on a fresh random attack training set."""
    from ..attacks.shadow import fit_attack_models as reference
    rng = _fresh_rng()
    k, n = int(rng.integers(4, 7)), int(rng.integers(80, 200))   # >= 2 classes with models (0 and 1 have none)
    features = _probs(rng, n, k)
    labels = rng.integers(k, size=n)
    labels[:2 * k] = np.tile(np.arange(k), 2)
    is_member = rng.random(n) < 0.5
    is_member[:2 * k] = np.arange(2 * k) < k  # every class has both kinds...
    is_member[labels == 0] = True   # ...but class 0, members only -> None
    is_member[labels == 1] = False  # and class 1, non-members only -> None
    # classes whose members lie on opposite sides (high first feature in odd classes, low in even ones): one
    # model refitted for every class answers every class like the last one
    odd = labels % 2 == 1
    features[:, 0] = np.where(is_member == odd, 0.9, 0.05) * rng.uniform(0.8, 1.0, n)
    got = _call("Exercise 2.2", fit_attack_models, features.copy(), labels.copy(), is_member.copy(), k, block=_SHADOW)
    expected = reference(features, labels, is_member, k)
    if not (isinstance(got, (list, tuple)) and len(got) == k):
        raise CheckError("Exercise 2.2: expected a list with one entry per class.")
    for model, want in zip(got, expected):
        if (model is None) != (want is None):
            raise CheckError("Exercise 2.2: a class gets a model where it should get None, or the other way round, "
                             "on fresh inputs drawn at grading time.")
        if want is not None:
            try:
                out = model.predict_proba(features)[:, list(model.classes_).index(True)]
            except Exception:
                raise CheckError("Exercise 2.2: an entry is not a fitted scikit-learn classifier.") from None
            _agree("Exercise 2.2", out, want.predict_proba(features)[:, list(want.classes_).index(True)])


def test_shadow_threshold_metrics(shadow_threshold_metrics) -> None:
    """Exercise 2.3 on fresh random shadow and target scores."""
    from ..metrics import choose_threshold, threshold_metrics
    rng = _fresh_rng()
    sets = list(_score_sets(rng, n_sets=8))
    pairs = list(zip(sets[::2], sets[1::2]))
    below = sets[1][0] - sets[1][0].max() + sets[0][0].min() - 1.0  # every candidate below every shadow score
    pairs.append((sets[0], (below, sets[1][1])))                       # so below the threshold: nobody is called
    for i, ((s_scores, s_member), (scores, is_member)) in enumerate(pairs):
        t = choose_threshold(s_scores, s_member)
        if np.isfinite(t) and i < len(pairs) - 1:            # a candidate exactly at the threshold is a member
            scores = scores.copy()
            scores[int(rng.integers(len(scores)))] = t
        m = threshold_metrics(scores, is_member, t)
        got = _call("Exercise 2.3", shadow_threshold_metrics, s_scores.copy(), s_member.copy(), scores.copy(),
                    is_member.copy(), block=_METRICS + _SHADOW)
        if not (isinstance(got, tuple) and len(got) == 3):
            raise CheckError("Exercise 2.3: expected a tuple (threshold, precision, recall).")
        _agree("Exercise 2.3", got, [t, m["precision"], m["recall"]])
# ================================================================================= end of notebook 02 (shadow models)


# ============================================================================ notebook 05 (LiRA, RMIA, label-only)
def test_logit_scale(logit_scale) -> None:
    """Exercise 5.1 on fresh random probabilities, some rows certain (one-hot), right and wrong among them."""
    from ..attacks.features import logit_scale as reference
    rng = _fresh_rng()
    for draw in range(6):
        n, k = int(rng.integers(1, 300)), int(rng.integers(2, 20))
        if draw == 0:
            n, k = int(rng.integers(6, 40)), int(rng.integers(3, 8))
        p, y = _probs(rng, n, k), rng.integers(k, size=n)
        certain = rng.random(n) < 0.1
        p[certain] = np.eye(k)[rng.integers(k, size=int(certain.sum()))]
        if draw == 0:  # certain and right, certain and wrong, and a true label the model does not predict
            p[0], p[1] = np.eye(k)[y[0]], np.eye(k)[(y[1] + 1) % k]
            p[2] = np.full(k, 0.1 / (k - 1))
            p[2, (y[2] + 1) % k] = 0.9
        expected = reference(p, y)
        _agree("Exercise 5.1", _call("Exercise 5.1", logit_scale, p.copy(), y.copy(), block=_NB05), expected)


def test_likelihood_ratio(likelihood_ratio) -> None:
    """Exercise 5.2 on fresh random values and Gaussians, each draw with a record far in the tail of both (whose
    densities round to 0) and a record at both means with different spreads."""
    rng = _fresh_rng()
    for _ in range(5):
        n = int(rng.integers(2, 300))
        x, mean_in, mean_out = rng.normal(0, 5, n), rng.normal(2, 3, n), rng.normal(-2, 3, n)
        std_in, std_out = rng.uniform(0.1, 3, n), rng.uniform(0.1, 3, n)
        x[0], mean_in[0], mean_out[0], std_in[0], std_out[0] = rng.uniform(40, 60), 0.0, 1.0, 1.0, rng.uniform(1, 2)
        x[1], mean_in[1], mean_out[1], std_in[1], std_out[1] = 0.0, 0.0, 0.0, rng.uniform(0.2, 0.8), 2.0
        expected = (-0.5 * ((x - mean_in) / std_in) ** 2 - np.log(std_in)) \
            - (-0.5 * ((x - mean_out) / std_out) ** 2 - np.log(std_out))
        got = _call("Exercise 5.2", likelihood_ratio, x.copy(), mean_in.copy(), std_in.copy(), mean_out.copy(),
                    std_out.copy(), block=_NB05)
        if np.shape(got) != (n,):
            raise CheckError("Exercise 5.2: the output has the wrong shape on fresh inputs drawn at grading time.")
        _agree("Exercise 5.2", got, expected, tol=1e-6)


def test_tpr_at_low_fpr(tpr_at_low_fpr) -> None:
    """Exercise 5.3 on fresh random score matrices (records x targets) and vectors; first, a fractional number of
    allowed false positives, one exactly allowed, tied scores, and two targets on different scales."""
    from ..metrics import tpr_at_fpr
    rng = _fresh_rng()
    members, nonmembers = rng.normal(1.0, 1.0, 5), np.sort(rng.normal(0.0, 1.0, 10))
    # 15% of 10 non-members allows 1.5, so 1: a member just below the 2nd-highest non-member is found only by a
    # threshold that lets 2 through; and one member above all, so the right answer is not 0
    members[0] = nonmembers[8] - 0.1 * (nonmembers[8] - nonmembers[7])
    members[1] = max(members[1], nonmembers[9] + 0.5)
    fractional = (np.concatenate([members, nonmembers]), np.arange(15) < 5, 0.15)
    # 10% of 10 allows exactly 1: a member between the two highest non-members counts
    exact = (np.concatenate([members, nonmembers]), np.arange(15) < 5, 0.1)
    exact[0][0] = nonmembers[8] + 0.5 * (nonmembers[9] - nonmembers[8])
    ties = (np.array([1.0, 1.0, 1.0, 0.0]), np.array([True, False, True, False]), 0.25)   # no false positive
    two = (np.stack([exact[0], exact[0] * 0.1 - 3], 1), np.stack([exact[1], exact[1]], 1), 0.1)
    two[0][2:5, 1] = two[0][:, 1].max() + 1.0                      # the second target finds three members more
    fixed = [fractional, exact, ties, two]
    for scores, is_member in _score_sets(rng, n_sets=6):
        fpr = float(rng.choice([0.001, 0.01, 0.05, 0.1, 0.3]))
        if rng.random() < 0.5 and len(scores) >= 4:  # pooled over targets: (n, T) with both classes per column
            t = int(rng.integers(2, 4))
            n = len(scores) // t * t
            scores, is_member = scores[:n].reshape(t, -1).T, is_member[:n].reshape(t, -1).T
        fixed.append((scores, is_member, fpr))
    for scores, is_member, fpr in fixed:
        expected = _quiet(tpr_at_fpr, np.ravel(scores), np.ravel(is_member), fpr=fpr)
        got = _call("Exercise 5.3", tpr_at_low_fpr, scores.copy(), is_member.copy(), fpr, block=_METRICS)
        _agree("Exercise 5.3", got, expected)


def test_boundary_point(boundary_point) -> None:
    """Exercise 5.4 on the check's linear models (a segment through a third class, a long segment, a tight tol),
    then fresh random argmax-of-linear models, whose class regions are convex: the segment leaves class y once. The
    point must be within tol of the crossing, labelled otherwise, and found with about log2(length / tol) queries."""
    from .nb05 import BLOCK_POINT, _POINT_CASES, _argmax_linear, _crossing
    rng = _fresh_rng()
    cases = [(W, b, x, y, x_other, tol) for _, W, b, x, y, x_other, tol in _POINT_CASES]
    for _ in range(10):
        d, k = int(rng.integers(1, 30)), int(rng.integers(2, 7))
        W, b = rng.normal(size=(d, k)), rng.normal(size=k)
        label_of = _argmax_linear(W, b)
        scale = float(rng.choice([0.1, 1.0, 30.0]))
        x = rng.normal(scale=scale, size=d)
        y = int(label_of(x[None])[0])
        x_other = rng.normal(scale=scale, size=(64, d))
        x_other = x_other[label_of(x_other) != y]
        if len(x_other):
            cases.append((W, b, x, y, x_other[0], float(rng.choice([1e-2, 1e-4, 1e-6]))))
    for W, b, x, y, x_other, tol in cases:
        label_of = _argmax_linear(W, b)
        got, queries = _call_counting("Exercise 5.4", boundary_point, 0, label_of, x.copy(), y, x_other.copy(), tol,
                                      block=BLOCK_POINT)
        if np.shape(got) != np.shape(x):
            raise CheckError("Exercise 5.4: expected the point, shape (d,), on fresh inputs drawn at grading time.")
        got = np.asarray(got, dtype=float)
        crossing, length = _crossing(W, b, x, y, x_other), float(np.linalg.norm(x_other - x))
        _agree("Exercise 5.4", got, crossing, tol=tol)
        if np.linalg.norm(got - crossing) > tol * (1 + 1e-9) or label_of(got[None])[0] == y:
            raise CheckError("Exercise 5.4: your function gives a wrong answer on fresh inputs drawn at grading time.")
        if queries > int(np.ceil(np.log2(max(length / tol, 1.0)))) + 3:
            raise CheckError("Exercise 5.4: your function asks far more queries than a binary search needs.")
# ===================================================================================== end of notebook 05


# ===================================================================================== notebook 03 (ML-Leaks)
def _probs_with_zeros(rng, n, k):
    p = _probs(rng, n, k)
    if rng.random() < 0.5:  # exact zeros (0 log 0 = 0) and one-hot rows, as a top-k or rounded answer has
        p[rng.random((n, k)) < 0.3] = 0.0
        p[0] = 0.0
        p[0, int(rng.integers(k))] = 1.0
        p[p.sum(1) == 0, 0] = 1.0
        p /= p.sum(1, keepdims=True)
    return p


def _nb03_fixed(rng):
    """Posteriors with exact zeros, a one-hot row, a tie and a posterior of 1e-5 (its log counts), in a random
    order of classes."""
    p = np.array([[0.1, 0.7, 0.2, 0.0], [0.25, 0.25, 0.25, 0.25], [0.05, 0.15, 0.3, 0.5], [0.0, 0.0, 1.0, 0.0],
                  [1e-5, 0.6, 0.4 - 1e-5, 0.0]])
    return p[:, rng.permutation(4)]


def test_top_k_features(top_k_features) -> None:
    """Exercise 3.1 on fresh random posteriors."""
    from ..attacks.features import sorted_top_k
    rng = _fresh_rng()
    for i in range(6):
        n, c = int(rng.integers(1, 300)), int(rng.integers(2, 30))
        k = int(rng.integers(1, c + 1))
        p = _probs_with_zeros(rng, n, c)
        if i == 0:                                            # k = 3 of 4 classes: the order within the k counts
            p, n, k = _nb03_fixed(rng), 5, 3
        got = _call("Exercise 3.1", top_k_features, p.copy(), k, block=_MLLEAKS)
        if np.shape(got) != (n, k):
            raise CheckError("Exercise 3.1: the output has the wrong shape on fresh inputs drawn at grading time.")
        _agree("Exercise 3.1", got, sorted_top_k(p, k))


def test_entropy_attack(entropy_attack) -> None:
    """Exercise 3.2 on fresh random posteriors."""
    from ..attacks.mlleaks import posterior_scores
    rng = _fresh_rng()
    for i in range(6):
        n, c = int(rng.integers(1, 300)), int(rng.integers(2, 30))
        p = _probs_with_zeros(rng, n, c)
        if i == 0:                                            # exact zeros and a posterior of 1e-5
            p, n = _nb03_fixed(rng), 5
        expected = posterior_scores(p, "entropy")
        got = _call("Exercise 3.2", entropy_attack, p.copy(), block=_MLLEAKS)
        if np.shape(got) != (n,):
            raise CheckError("Exercise 3.2: the output has the wrong shape on fresh inputs drawn at grading time.")
        _agree("Exercise 3.2", got, expected)


def test_pick_threshold(pick_threshold) -> None:
    """Exercise 3.3 on fresh random answers to noise."""
    from ..attacks.mlleaks import noise_threshold
    rng = _fresh_rng()
    for i in range(6):
        n, c = int(rng.integers(5, 500)), int(rng.integers(2, 30))
        p = _probs_with_zeros(rng, n, c)
        percentile = float(rng.choice([50, 80, 90, 95, 99, float(rng.uniform(0, 100))]))
        if i == 0:  # 10 answers whose largest posteriors differ, at a percentile that falls between two of them
            tops = rng.permutation(np.linspace(0.3, 0.95, 10) + rng.uniform(0, 0.05, 10))
            p = np.array([np.r_[top, np.full(4, (1 - top) / 4)][rng.permutation(5)] for top in tops])
            percentile = float(rng.choice([55.0, 85.0, 95.0]))  # position 4.95, 7.65 or 8.55 of 0..9
        expected = noise_threshold(p, percentile)
        got = _call("Exercise 3.3", pick_threshold, p.copy(), percentile, block=_MLLEAKS)
        if np.ndim(got) != 0:
            raise CheckError("Exercise 3.3: expected a single number (the threshold).")
        _agree("Exercise 3.3", got, expected)


_FAMILY_NAMES = ("tree", "naive Bayes", "forest", "MLP", "k-NN", "logistic", "boosting", "SVM")


def test_transfer_table(transfer_table) -> None:
    """Exercise 3.4 on fresh score tables: rectangular (more shadow families than target families, or fewer) and
    square ones, rows and columns asked in another order than the keys', shuffled membership, ties, attacks that
    rank members below non-members."""
    from ..attacks.families import auc_table
    rng = _fresh_rng()
    for trial in range(4):
        names = list(rng.permutation(_FAMILY_NAMES))
        n_rows, n_cols = [(3, 1), (1, 3), (2, 2), (int(rng.integers(1, 5)), int(rng.integers(1, 5)))][trial]
        shadows, targets = names[:n_rows], names[n_rows:n_rows + n_cols] if trial < 2 else names[:n_cols]
        n = int(rng.integers(20, 400))
        is_member = rng.permutation(np.arange(n) < int(rng.integers(5, n - 5)))
        pair_scores = {}
        for shadow in shadows:
            for target in targets:
                first = not pair_scores           # the first pair: below chance, and rounded (ties)
                scores = rng.normal(size=n) + (-1.0 if first else rng.uniform(-1.5, 3)) * is_member
                pair_scores[(shadow, target)] = np.round(scores, 1) if first or rng.random() < 0.5 else scores
        shadows, targets = shadows[::-1], targets[::-1]     # asked in another order than the keys'
        expected = auc_table(pair_scores, is_member).loc[shadows, targets].to_numpy()
        got = _call("Exercise 3.4", transfer_table, {k: v.copy() for k, v in pair_scores.items()}, is_member.copy(),
                    list(shadows), list(targets), block=("families.auc_table",))
        _agree("Exercise 3.4", got, expected)
# ================================================================================= end of notebook 03 (ML-Leaks)
