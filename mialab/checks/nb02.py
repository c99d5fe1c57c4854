"""Checks for notebook 02 (Shokri et al. shadow models)."""

from __future__ import annotations

import numpy as np

from sklearn.base import clone

from ..attacks.shadow import make_attack_model
from ..metrics import choose_threshold, threshold_metrics
from . import Case, call_student, explicit_hints, passed, require, skippable
from . import use_reference  # noqa: F401 (a notebook imports it from here, as it does hint)

DATASET = "Exercise 2.1 (the attack training set)"
MODELS = "Exercise 2.2 (one attack model per class)"
THRESHOLD = "Exercise 2.3 (a threshold chosen on shadow data)"

# 2 shadows, 5 records, 3 classes
_PROBS = np.array([
    [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.5, 0.25, 0.25], [0.2, 0.2, 0.6]],
    [[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8], [0.4, 0.4, 0.2], [0.1, 0.3, 0.6]],
])
_Y = np.array([0, 1, 2, 0, 2])
_IN = np.array([[True, False], [False, True], [True, False], [False, False], [False, True]])
_OUT = np.array([[False, True], [True, False], [False, False], [True, True], [False, False]])


def _dataset(probs, y, members, nonmembers):
    features, labels, flags = [], [], []
    for j in range(probs.shape[0]):
        for mask, flag in ((members[:, j], True), (nonmembers[:, j], False)):
            features.append(probs[j][mask])
            labels.append(y[mask])
            flags.append(np.full(int(mask.sum()), flag))
    return np.concatenate(features), np.concatenate(labels), np.concatenate(flags)


def _compare_triple(exercise, got, want, where, hint):
    __tracebackhide__ = True
    require(isinstance(got, tuple) and len(got) == 3, exercise,
            f"on {where}, expected a tuple (features, labels, is_member), got {type(got).__name__}.",
            "End with `return features, labels, is_member`.")
    for name, value, expected in zip(("features", "labels", "is_member"), got, want):
        value = np.asarray(value)
        require(value.shape == expected.shape, exercise,
                f"on {where}, `{name}` has shape {value.shape}, expected {expected.shape}.",
                "One row per (shadow, record) pair: each shadow's members, then its non-members.")
        if name == "is_member":
            require(value.dtype == bool, exercise, f"on {where}, `is_member` has dtype {value.dtype}, expected bool.",
                    "Build it with np.ones(n, bool) / np.zeros(n, bool) or np.full(n, True).")
        require(np.allclose(value.astype(float), expected.astype(float)), exercise,
                f"on {where}, `{name}` has the right shape but wrong values or order.", hint)


@skippable(DATASET)
def check_attack_dataset(build_attack_dataset, shadow_probs=None, y=None, members=None, nonmembers=None) -> bool:
    """Check `build_attack_dataset(shadow_probs, y, members, nonmembers) -> (features, labels, is_member)`."""
    __tracebackhide__ = True
    hint = ("Each shadow model plays the target, and you know who its members are: every shadow contributes its "
            "members' outputs (labelled member) and then its non-members' outputs (labelled non-member), shadow "
            "after shadow.")
    small = [("2 shadows, 5 records, 3 classes", (_PROBS, _Y, _IN, _OUT)),
             ("1 shadow", (_PROBS[:1], _Y, _IN[:, :1], _OUT[:, :1]))]
    if shadow_probs is not None:
        small.append(("the notebook's shadows", (shadow_probs, y, members, nonmembers)))
    for where, args in small:
        got = call_student(DATASET, build_attack_dataset, *(np.copy(a) for a in args))
        _compare_triple(DATASET, got, _dataset(*args), where, hint)
    return passed(DATASET, f"2 small cases{' and the notebook shadows' if shadow_probs is not None else ''}")


def _check_models(exercise, got, features, labels, is_member, n_classes, classes, where):
    __tracebackhide__ = True
    require(isinstance(got, (list, tuple)) and len(got) == n_classes, exercise,
            f"on {where}, expected a list of {n_classes} models (one per class), got "
            f"{type(got).__name__}{'' if not hasattr(got, '__len__') else f' of length {len(got)}'}.",
            "Append one entry per class c in range(n_classes), in order.")
    rng = np.random.default_rng(0)
    probe = features[rng.choice(len(features), size=min(50, len(features)), replace=False)]
    for c in classes:
        rows = labels == c
        want_none = is_member[rows].all() or not is_member[rows].any()
        if want_none:
            require(got[c] is None, exercise, f"on {where}, class {c} has no members (or no non-members) but got "
                    "a model.", "Put None for a class without both kinds of records: there is nothing to learn.")
            continue
        require(got[c] is not None and hasattr(got[c], "predict_proba"), exercise,
                f"on {where}, entry {c} is not a fitted model.", "Append the fitted model for class c.")
        try:
            out = got[c].predict_proba(probe)[:, list(got[c].classes_).index(True)]
        except Exception:
            out = None
        reference = clone(make_attack_model()).fit(features[rows], is_member[rows])
        want = reference.predict_proba(probe)[:, list(reference.classes_).index(True)]
        require(out is not None and np.allclose(out, want, atol=1e-6), exercise,
                f"on {where}, the model of class {c} does not behave like one fitted on class {c}'s rows.",
                "Model c must learn from class c's rows only, and each class needs its own fresh, untrained copy "
                "of the attack model (refitting one shared model leaves every entry equal to the last fit).")


@skippable(MODELS)
def check_attack_models(fit_attack_models, features=None, labels=None, is_member=None, n_classes=None) -> bool:
    """Check `fit_attack_models(features, labels, is_member, n_classes) -> list of n_classes models (or None)`."""
    __tracebackhide__ = True
    rng = np.random.default_rng(1)
    f_small = rng.dirichlet(np.ones(4), size=50)
    l_small = np.repeat([0, 1, 2, 0, 3], 10)
    m_small = np.tile([True, False], 25)
    m_small[20:30] = True   # class 2: members only
    m_small[40:50] = False  # class 3: non-members only
    cases = [("4 classes, one with members only and one with non-members only", f_small, l_small, m_small, 4,
              range(4))]
    if features is not None:  # the rows of a few classes (fitting all of them takes a while): the rest get None
        few = np.random.default_rng(2).choice(n_classes, size=min(5, n_classes), replace=False)
        keep = np.isin(labels, few)
        cases.append(("the notebook's attack training set (the rows of 5 of its classes)", features[keep],
                      labels[keep], is_member[keep], n_classes, range(n_classes)))
    for where, f, lab, mem, k, classes in cases:
        got = call_student(MODELS, fit_attack_models, f.copy(), lab.copy(), mem.copy(), k)
        _check_models(MODELS, got, f, lab, mem, k, classes, where)
    return passed(MODELS, f"a small case{' and the notebook data' if features is not None else ''}")


@skippable(THRESHOLD)
def check_shadow_threshold(shadow_threshold_metrics, shadow_scores=None, shadow_is_member=None, scores=None,
                           is_member=None) -> bool:
    """Check `shadow_threshold_metrics(shadow_scores, shadow_is_member, scores, is_member)` -> (t, precision,
    recall)."""
    __tracebackhide__ = True
    hint = ("The attacker knows membership only on the shadow data, so the threshold must be chosen there; the "
            "candidates are then judged with it, a candidate being called a member when its score >= t. Precision "
            "asks how many of those called are members, recall how many members are called.")
    s_scores = np.array([0.9, 0.8, 0.7, 0.4, 0.3, 0.2])
    s_member = np.array([True, True, False, True, False, False])
    t_scores = np.array([0.95, 0.85, 0.75, 0.5, 0.1, 0.82])
    t_member = np.array([True, True, True, True, False, False])
    cases = [Case("6 shadow records and 6 candidates", (s_scores, s_member, t_scores, t_member),
                  np.array([0.8, 2 / 3, 1 / 2]), hint),
             Case("a threshold above every candidate (precision 0 by convention)",
                  (s_scores, s_member, t_scores * 0.5, t_member), np.array([0.8, 0.0, 0.0]),
                  "When no candidate is called a member, return precision 0.0 (and recall 0.0)."),
             Case("a candidate whose score equals the threshold exactly",
                  (s_scores, s_member, np.array([0.95, 0.8, 0.75, 0.5, 0.1, 0.82]), t_member),
                  np.array([0.8, 2 / 3, 1 / 2]),
                  "A candidate whose score equals the threshold is called a member: score >= t, not > t.")]
    for case in cases:
        got = call_student(THRESHOLD, shadow_threshold_metrics, *(np.copy(a) for a in case.args))
        require(isinstance(got, tuple) and len(got) == 3, THRESHOLD,
                f"on {case.description}, expected a tuple (threshold, precision, recall), got {type(got).__name__}.",
                "End with `return threshold, precision, recall`.")
        require(np.allclose(np.asarray(got, float), case.expected, atol=1e-9), THRESHOLD,
                f"on {case.description}, your (threshold, precision, recall) is wrong.", case.hint)
    if scores is not None:
        got = call_student(THRESHOLD, shadow_threshold_metrics, shadow_scores, shadow_is_member, scores, is_member)
        t = choose_threshold(shadow_scores, shadow_is_member)
        m = threshold_metrics(scores, is_member, t)
        require(isinstance(got, tuple) and len(got) == 3
                and np.allclose(np.asarray(got, float), [t, m["precision"], m["recall"]], atol=1e-9), THRESHOLD,
                "right on the small cases, wrong on the notebook's scores.",
                "Use the arguments you are given, not global variables.")
    return passed(THRESHOLD, f"{len(cases)} small cases{' and the notebook scores' if scores is not None else ''}")


HINTS = {
    '2.1': ("Loop over the shadows j. `members[:, j]` is a boolean mask over the pool records; indexing "
            "`shadow_probs[j]` and `y` with it gives shadow j's members' rows and labels, in record order. Do the "
            "same with `nonmembers[:, j]` right after. For the flags, a boolean array of the right length: "
            "np.ones(count, bool) or np.zeros(count, bool), count being the mask's sum. Keep the pieces in three "
            "lists and np.concatenate each list once at the end."),
    '2.2': ("For each class c in range(n_classes): the rows are `labels == c`; look at is_member on those rows. If "
            "it holds only True or only False (`.all()`, `.any()`), append None. Otherwise call make_attack_model() "
            "again (a new, unfitted model for this class) and fit it on the class's features with the class's "
            "is_member as targets; .fit returns the model itself, ready to append."),
    '2.3': ("Three steps. The threshold comes from the shadow data only: metrics.choose_threshold on the shadow "
            "scores and shadow membership. The candidates called members are those with score >= t (a boolean "
            "mask). Precision = true positives / number called (0.0 when nobody is called); recall = true "
            "positives / number of members."),
}


hint = explicit_hints(HINTS)
