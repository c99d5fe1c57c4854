"""Mutant table of notebook 02 (see tests/_mutants.py): wrong answers rejected, right ones accepted, by the
notebook's check and by grading."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mutants import check_inputs, mutant_tests  # noqa: E402, F401 (check_inputs: the fixture)

WRONG = {
    "2.1": {
        "all shadows' members first, then all non-members": """
def build_attack_dataset(shadow_probs, y, members, nonmembers):
    f, l, m = [], [], []
    for mask_all, flag in ((members, True), (nonmembers, False)):
        for j in range(shadow_probs.shape[0]):
            mask = mask_all[:, j]
            f.append(shadow_probs[j][mask]); l.append(y[mask]); m.append(np.full(mask.sum(), flag))
    return np.concatenate(f), np.concatenate(l), np.concatenate(m)
""",
        "non-members before members": """
def build_attack_dataset(shadow_probs, y, members, nonmembers):
    f, l, m = [], [], []
    for j in range(shadow_probs.shape[0]):
        for mask, flag in ((nonmembers[:, j], False), (members[:, j], True)):
            f.append(shadow_probs[j][mask]); l.append(y[mask]); m.append(np.full(mask.sum(), flag))
    return np.concatenate(f), np.concatenate(l), np.concatenate(m)
""",
        "is_member as 1.0 / 0.0 floats": """
def build_attack_dataset(shadow_probs, y, members, nonmembers):
    f, l, m = [], [], []
    for j in range(shadow_probs.shape[0]):
        for mask, flag in ((members[:, j], 1.0), (nonmembers[:, j], 0.0)):
            f.append(shadow_probs[j][mask]); l.append(y[mask]); m.append(np.full(mask.sum(), flag))
    return np.concatenate(f), np.concatenate(l), np.concatenate(m)
""",
        "non-members taken as ~members (unused records included)": """
def build_attack_dataset(shadow_probs, y, members, nonmembers):
    f, l, m = [], [], []
    for j in range(shadow_probs.shape[0]):
        for mask, flag in ((members[:, j], True), (~members[:, j], False)):
            f.append(shadow_probs[j][mask]); l.append(y[mask]); m.append(np.full(mask.sum(), flag))
    return np.concatenate(f), np.concatenate(l), np.concatenate(m)
""",
        "the first shadow only": """
def build_attack_dataset(shadow_probs, y, members, nonmembers):
    f, l, m = [], [], []
    for mask, flag in ((members[:, 0], True), (nonmembers[:, 0], False)):
        f.append(shadow_probs[0][mask]); l.append(y[mask]); m.append(np.full(mask.sum(), flag))
    return np.concatenate(f), np.concatenate(l), np.concatenate(m)
""",
        "labels: the shadow's predicted class, not the true one": """
def build_attack_dataset(shadow_probs, y, members, nonmembers):
    f, l, m = [], [], []
    for j in range(shadow_probs.shape[0]):
        for mask, flag in ((members[:, j], True), (nonmembers[:, j], False)):
            f.append(shadow_probs[j][mask]); l.append(shadow_probs[j][mask].argmax(1))
            m.append(np.full(mask.sum(), flag))
    return np.concatenate(f), np.concatenate(l), np.concatenate(m)
""",
        "records in shadow-interleaved order (record by record)": """
def build_attack_dataset(shadow_probs, y, members, nonmembers):
    f, l, m = [], [], []
    for j in range(shadow_probs.shape[0]):
        keep = members[:, j] | nonmembers[:, j]
        f.append(shadow_probs[j][keep]); l.append(y[keep]); m.append(members[keep, j])
    return np.concatenate(f), np.concatenate(l), np.concatenate(m)
""",
    },
    "2.2": {
        "one shared model refitted for every class": """
def fit_attack_models(features, labels, is_member, n_classes):
    model = make_attack_model()
    out = []
    for c in range(n_classes):
        rows = labels == c
        if is_member[rows].all() or not is_member[rows].any():
            out.append(None)
        else:
            out.append(model.fit(features[rows], is_member[rows]))
    return out
""",
        "None only for a class with no rows at all": """
def fit_attack_models(features, labels, is_member, n_classes):
    out = []
    for c in range(n_classes):
        rows = labels == c
        out.append(make_attack_model().fit(features[rows], is_member[rows]) if rows.any() else None)
    return out
""",
        "None only for a class of members only": """
def fit_attack_models(features, labels, is_member, n_classes):
    out = []
    for c in range(n_classes):
        rows = labels == c
        out.append(None if is_member[rows].all() else make_attack_model().fit(features[rows], is_member[rows]))
    return out
""",
        "every model fitted on all rows": """
def fit_attack_models(features, labels, is_member, n_classes):
    out = []
    for c in range(n_classes):
        rows = labels == c
        if is_member[rows].all() or not is_member[rows].any():
            out.append(None)
        else:
            out.append(make_attack_model().fit(features, is_member))
    return out
""",
        "classes skipped instead of None (a shorter list)": """
def fit_attack_models(features, labels, is_member, n_classes):
    out = []
    for c in range(n_classes):
        rows = labels == c
        if is_member[rows].any() and not is_member[rows].all():
            out.append(make_attack_model().fit(features[rows], is_member[rows]))
    return out
""",
        "class c fitted on the rows of class c + 1 (off by one)": """
def fit_attack_models(features, labels, is_member, n_classes):
    out = []
    for c in range(n_classes):
        rows = labels == (c + 1) % n_classes
        if is_member[rows].all() or not is_member[rows].any():
            out.append(None)
        else:
            out.append(make_attack_model().fit(features[rows], is_member[rows]))
    return out
""",
        "targets inverted (fitted to spot non-members)": """
def fit_attack_models(features, labels, is_member, n_classes):
    out = []
    for c in range(n_classes):
        rows = labels == c
        if is_member[rows].all() or not is_member[rows].any():
            out.append(None)
        else:
            out.append(make_attack_model().fit(features[rows], (~is_member[rows]).astype(int)))
    return out
""",
    },
    "2.3": {
        "strict > t": """
def shadow_threshold_metrics(shadow_scores, shadow_is_member, scores, is_member):
    t = metrics.choose_threshold(shadow_scores, shadow_is_member)
    called = scores > t
    precision = is_member[called].mean() if called.any() else 0.0
    return t, float(precision), float(called[is_member].mean())
""",
        "threshold chosen on the candidates' labels": """
def shadow_threshold_metrics(shadow_scores, shadow_is_member, scores, is_member):
    t = metrics.choose_threshold(scores, is_member)
    called = scores >= t
    precision = is_member[called].mean() if called.any() else 0.0
    return t, float(precision), float(called[is_member].mean())
""",
        "precision and recall swapped": """
def shadow_threshold_metrics(shadow_scores, shadow_is_member, scores, is_member):
    t = metrics.choose_threshold(shadow_scores, shadow_is_member)
    called = scores >= t
    precision = is_member[called].mean() if called.any() else 0.0
    return t, float(called[is_member].mean()), float(precision)
""",
        "no guard: precision NaN when nobody is called": """
def shadow_threshold_metrics(shadow_scores, shadow_is_member, scores, is_member):
    t = metrics.choose_threshold(shadow_scores, shadow_is_member)
    called = scores >= t
    tp = np.sum(called & is_member)
    return t, float(tp / called.sum()) if called.sum() else float("nan"), float(tp / is_member.sum())
""",
        "recall over all candidates": """
def shadow_threshold_metrics(shadow_scores, shadow_is_member, scores, is_member):
    t = metrics.choose_threshold(shadow_scores, shadow_is_member)
    called = scores >= t
    precision = is_member[called].mean() if called.any() else 0.0
    return t, float(precision), float(np.sum(called & is_member) / len(scores))
""",
        "precision as true positives over members": """
def shadow_threshold_metrics(shadow_scores, shadow_is_member, scores, is_member):
    t = metrics.choose_threshold(shadow_scores, shadow_is_member)
    called = scores >= t
    tp = np.sum(called & is_member)
    return t, float(tp / is_member.sum()), float(tp / is_member.sum())
""",
        "accuracy instead of precision": """
def shadow_threshold_metrics(shadow_scores, shadow_is_member, scores, is_member):
    t = metrics.choose_threshold(shadow_scores, shadow_is_member)
    called = scores >= t
    return t, float(np.mean(called == is_member)), float(called[is_member].mean())
""",
        "the threshold at the median shadow score": """
def shadow_threshold_metrics(shadow_scores, shadow_is_member, scores, is_member):
    t = float(np.median(shadow_scores))
    called = scores >= t
    precision = is_member[called].mean() if called.any() else 0.0
    return t, float(precision), float(called[is_member].mean())
""",
    },
}

RIGHT = {
    "2.1": {
        "np.where indices, vstack and hstack": """
def build_attack_dataset(shadow_probs, y, members, nonmembers):
    f, l, m = [], [], []
    for j in range(len(shadow_probs)):
        i_in, i_out = np.where(members[:, j])[0], np.where(nonmembers[:, j])[0]
        idx = np.r_[i_in, i_out]
        f.append(shadow_probs[j, idx]); l.append(y[idx])
        m.append(np.r_[np.ones(len(i_in), dtype=bool), np.zeros(len(i_out), dtype=bool)])
    return np.vstack(f), np.hstack(l), np.hstack(m)
""",
        "record by record, appended to Python lists": """
def build_attack_dataset(shadow_probs, y, members, nonmembers):
    f, l, m = [], [], []
    for j in range(shadow_probs.shape[0]):
        for mask, flag in ((members[:, j], True), (nonmembers[:, j], False)):
            for i in range(len(y)):
                if mask[i]:
                    f.append(shadow_probs[j, i]); l.append(y[i]); m.append(flag)
    k = shadow_probs.shape[2]
    return np.array(f).reshape(-1, k), np.array(l, dtype=int), np.array(m, dtype=bool)
""",
        "is_member from the masks themselves (members[mask] is all True)": """
def build_attack_dataset(shadow_probs, y, members, nonmembers):
    f, l, m = [], [], []
    for j in range(shadow_probs.shape[0]):
        for mask in (members[:, j], nonmembers[:, j]):
            f.append(shadow_probs[j][mask]); l.append(y[mask]); m.append(members[mask, j])
    return np.concatenate(f), np.concatenate(l), np.concatenate(m)
""",
    },
    "2.2": {
        "np.unique to test for both kinds": """
def fit_attack_models(features, labels, is_member, n_classes):
    models = []
    for c in range(n_classes):
        X, t = features[labels == c], is_member[labels == c]
        models.append(make_attack_model().fit(X, t) if len(np.unique(t)) == 2 else None)
    return models
""",
        "sklearn's clone of one template": """
def fit_attack_models(features, labels, is_member, n_classes):
    from sklearn.base import clone
    template = make_attack_model()
    models = [None] * n_classes
    for c in range(n_classes):
        rows = labels == c
        if 0 < is_member[rows].sum() < rows.sum():
            models[c] = clone(template).fit(features[rows], is_member[rows])
    return models
""",
        "a dict by class, then a list": """
def fit_attack_models(features, labels, is_member, n_classes):
    fitted = {}
    for c in np.unique(labels):
        t = is_member[labels == c]
        if t.any() and (~t).any():
            fitted[int(c)] = make_attack_model().fit(features[labels == c], t)
    return [fitted.get(c) for c in range(n_classes)]
""",
    },
    "2.3": {
        "sklearn's precision_score and recall_score": """
def shadow_threshold_metrics(shadow_scores, shadow_is_member, scores, is_member):
    from sklearn.metrics import precision_score, recall_score
    t = metrics.choose_threshold(shadow_scores, shadow_is_member)
    called = scores >= t
    return t, precision_score(is_member, called, zero_division=0), recall_score(is_member, called)
""",
        "counts of true and false positives": """
def shadow_threshold_metrics(shadow_scores, shadow_is_member, scores, is_member):
    t = metrics.choose_threshold(shadow_scores, shadow_is_member)
    tp = fp = 0
    for s, m in zip(scores, is_member):
        if s >= t:
            tp += int(m)
            fp += int(not m)
    return t, tp / (tp + fp) if tp + fp else 0.0, tp / int(np.sum(is_member))
""",
        "the not-called candidates as the complement": """
def shadow_threshold_metrics(shadow_scores, shadow_is_member, scores, is_member):
    t = metrics.choose_threshold(shadow_scores, shadow_is_member)
    missed = scores < t
    tp = int(np.sum(~missed & is_member))
    n_called = int(np.sum(~missed))
    return float(t), (tp / n_called) if n_called > 0 else 0.0, tp / (tp + int(np.sum(missed & is_member)))
""",
    },
}

test_wrong, test_right, test_wrong_every_draw, test_right_every_draw, test_use_reference = \
    mutant_tests(WRONG, RIGHT, seeds={"2.1": 50, "2.2": 5, "2.3": 50})  # 2.2's hidden test fits models on each draw
