"""Mutant table of notebook 01 (see tests/_mutants.py): wrong answers rejected, right ones accepted, by the
notebook's check and by grading."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mutants import check_inputs, mutant_tests  # noqa: E402, F401 (check_inputs: the fixture)

WRONG = {
    "1.1": {
        "the absolute value of the gap": """
def generalization_gap(probs_train, y_train, probs_test, y_test):
    return float(abs(np.mean(probs_train.argmax(1) == y_train) - np.mean(probs_test.argmax(1) == y_test)))
""",
        "test minus train": """
def generalization_gap(probs_train, y_train, probs_test, y_test):
    return float(np.mean(probs_test.argmax(1) == y_test) - np.mean(probs_train.argmax(1) == y_train))
""",
        "counts of correct predictions, not accuracies": """
def generalization_gap(probs_train, y_train, probs_test, y_test):
    return float(np.sum(probs_train.argmax(1) == y_train) - np.sum(probs_test.argmax(1) == y_test))
""",
        "argmin instead of argmax": """
def generalization_gap(probs_train, y_train, probs_test, y_test):
    return float(np.mean(probs_train.argmin(1) == y_train) - np.mean(probs_test.argmin(1) == y_test))
""",
        "the gap in mean confidence on the true label": """
def generalization_gap(probs_train, y_train, probs_test, y_test):
    c_train = probs_train[np.arange(len(y_train)), y_train]
    c_test = probs_test[np.arange(len(y_test)), y_test]
    return float(c_train.mean() - c_test.mean())
""",
        "correct when the true label gets more than 0.5": """
def generalization_gap(probs_train, y_train, probs_test, y_test):
    train = probs_train[np.arange(len(y_train)), y_train] > 0.5
    test = probs_test[np.arange(len(y_test)), y_test] > 0.5
    return float(train.mean() - test.mean())
""",
        "accuracies over train and test pooled, divided by the train size": """
def generalization_gap(probs_train, y_train, probs_test, y_test):
    n = len(y_train)
    return float((np.sum(probs_train.argmax(1) == y_train) - np.sum(probs_test.argmax(1) == y_test)) / n)
""",
    },
    "1.2": {
        "argmin instead of argmax": """
def correctness_attack(probs, y):
    return (probs.argmin(axis=1) == y).astype(float)
""",
        "inverted: 1.0 where the prediction is wrong": """
def correctness_attack(probs, y):
    return (probs.argmax(axis=1) != y).astype(float)
""",
        "the accuracy (one number) instead of one score per record": """
def correctness_attack(probs, y):
    return float(np.mean(probs.argmax(axis=1) == y))
""",
        "correct when the true label gets more than 0.5": """
def correctness_attack(probs, y):
    return (probs[np.arange(len(y)), y] > 0.5).astype(float)
""",
        "the largest probability instead of 0/1": """
def correctness_attack(probs, y):
    return probs.max(axis=1)
""",
        "1-based classes (argmax + 1)": """
def correctness_attack(probs, y):
    return (probs.argmax(axis=1) + 1 == y).astype(float)
""",
        "argmax over axis 0": """
def correctness_attack(probs, y):
    return (probs.argmax(axis=0)[:len(y)] == y).astype(float)
""",
    },
    "1.3": {
        "the largest probability, not the true label's": """
def confidence_attack(probs, y):
    return probs.max(axis=1)
""",
        "probs[:, y] (an n x n table)": """
def confidence_attack(probs, y):
    return probs[:, y]
""",
        "np.take without an axis (flat indices: row 0 only)": """
def confidence_attack(probs, y):
    return np.take(probs, y)
""",
        "1-based labels (y - 1)": """
def confidence_attack(probs, y):
    return probs[np.arange(len(y)), y - 1]
""",
        "the log of the probability": """
def confidence_attack(probs, y):
    return np.log(probs[np.arange(len(y)), y])
""",
        "one minus the probability (the loss-like direction)": """
def confidence_attack(probs, y):
    return 1 - probs[np.arange(len(y)), y]
""",
        "0/1 correctness times the largest probability": """
def confidence_attack(probs, y):
    return probs.max(axis=1) * (probs.argmax(axis=1) == y)
""",
    },
    "1.4": {
        "is_member True for the non-members": """
def leakage_table(sweep):
    gaps, advantages = [], []
    for t in sweep:
        gaps.append(generalization_gap(t["probs_in"], t["y_in"], t["probs_out"], t["y_out"]))
        scores = np.concatenate([confidence_attack(t["probs_in"], t["y_in"]),
                                 confidence_attack(t["probs_out"], t["y_out"])])
        member = np.concatenate([np.zeros(len(t["y_in"]), bool), np.ones(len(t["y_out"]), bool)])
        advantages.append(metrics.advantage(scores, member))
    return np.array(gaps), np.array(advantages)
""",
        "is_member sized by the non-members (n_out Trues first)": """
def leakage_table(sweep):
    gaps, advantages = [], []
    for t in sweep:
        gaps.append(generalization_gap(t["probs_in"], t["y_in"], t["probs_out"], t["y_out"]))
        scores = np.concatenate([confidence_attack(t["probs_in"], t["y_in"]),
                                 confidence_attack(t["probs_out"], t["y_out"])])
        member = np.arange(len(scores)) < len(t["y_out"])
        advantages.append(metrics.advantage(scores, member))
    return np.array(gaps), np.array(advantages)
""",
        "the largest probability as the score": """
def leakage_table(sweep):
    gaps, advantages = [], []
    for t in sweep:
        gaps.append(generalization_gap(t["probs_in"], t["y_in"], t["probs_out"], t["y_out"]))
        scores = np.concatenate([t["probs_in"].max(1), t["probs_out"].max(1)])
        member = np.concatenate([np.ones(len(t["y_in"]), bool), np.zeros(len(t["y_out"]), bool)])
        advantages.append(metrics.advantage(scores, member))
    return np.array(gaps), np.array(advantages)
""",
        "the correctness attack's scores": """
def leakage_table(sweep):
    gaps, advantages = [], []
    for t in sweep:
        gaps.append(generalization_gap(t["probs_in"], t["y_in"], t["probs_out"], t["y_out"]))
        scores = np.concatenate([correctness_attack(t["probs_in"], t["y_in"]),
                                 correctness_attack(t["probs_out"], t["y_out"])])
        member = np.concatenate([np.ones(len(t["y_in"]), bool), np.zeros(len(t["y_out"]), bool)])
        advantages.append(metrics.advantage(scores, member))
    return np.array(gaps), np.array(advantages)
""",
        "the gap test minus train": """
def leakage_table(sweep):
    gaps, advantages = [], []
    for t in sweep:
        gaps.append(generalization_gap(t["probs_out"], t["y_out"], t["probs_in"], t["y_in"]))
        scores = np.concatenate([confidence_attack(t["probs_in"], t["y_in"]),
                                 confidence_attack(t["probs_out"], t["y_out"])])
        member = np.concatenate([np.ones(len(t["y_in"]), bool), np.zeros(len(t["y_out"]), bool)])
        advantages.append(metrics.advantage(scores, member))
    return np.array(gaps), np.array(advantages)
""",
        "(advantages, gaps): the two swapped": """
def leakage_table(sweep):
    gaps, advantages = [], []
    for t in sweep:
        gaps.append(generalization_gap(t["probs_in"], t["y_in"], t["probs_out"], t["y_out"]))
        scores = np.concatenate([confidence_attack(t["probs_in"], t["y_in"]),
                                 confidence_attack(t["probs_out"], t["y_out"])])
        member = np.concatenate([np.ones(len(t["y_in"]), bool), np.zeros(len(t["y_out"]), bool)])
        advantages.append(metrics.advantage(scores, member))
    return np.array(advantages), np.array(gaps)
""",
        "the members' scores labelled with the members' labels only (y_in for both)": """
def leakage_table(sweep):
    gaps, advantages = [], []
    for t in sweep:
        gaps.append(generalization_gap(t["probs_in"], t["y_in"], t["probs_out"], t["y_out"]))
        y = t["y_in"][:len(t["y_out"])] if len(t["y_in"]) >= len(t["y_out"]) else np.resize(t["y_in"], len(t["y_out"]))
        scores = np.concatenate([confidence_attack(t["probs_in"], t["y_in"]), confidence_attack(t["probs_out"], y)])
        member = np.concatenate([np.ones(len(t["y_in"]), bool), np.zeros(len(t["y_out"]), bool)])
        advantages.append(metrics.advantage(scores, member))
    return np.array(gaps), np.array(advantages)
""",
    },
}

RIGHT = {
    "1.1": {
        "sklearn's accuracy_score": """
def generalization_gap(probs_train, y_train, probs_test, y_test):
    from sklearn.metrics import accuracy_score
    return accuracy_score(y_train, probs_train.argmax(1)) - accuracy_score(y_test, probs_test.argmax(1))
""",
        "a loop over the records, counting": """
def generalization_gap(probs_train, y_train, probs_test, y_test):
    def accuracy(probs, y):
        right = 0
        for p, label in zip(probs, y):
            right += int(np.argmax(p) == label)
        return right / len(y)
    return accuracy(probs_train, y_train) - accuracy(probs_test, y_test)
""",
        "np.count_nonzero over the length": """
def generalization_gap(probs_train, y_train, probs_test, y_test):
    a = np.count_nonzero(np.argmax(probs_train, axis=-1) == y_train) / len(y_train)
    b = np.count_nonzero(np.argmax(probs_test, axis=-1) == y_test) / len(y_test)
    return a - b
""",
    },
    "1.2": {
        "np.where": """
def correctness_attack(probs, y):
    return np.where(np.argmax(probs, axis=1) == y, 1.0, 0.0)
""",
        "a list comprehension": """
def correctness_attack(probs, y):
    return np.array([1.0 if np.argmax(p) == label else 0.0 for p, label in zip(probs, y)])
""",
        "float32 from a product": """
def correctness_attack(probs, y):
    return (probs.argmax(1) == y) * np.float32(1.0)
""",
    },
    "1.3": {
        "np.take_along_axis": """
def confidence_attack(probs, y):
    return np.take_along_axis(probs, y[:, None], axis=1)[:, 0]
""",
        "a loop": """
def confidence_attack(probs, y):
    out = np.empty(len(y))
    for i in range(len(y)):
        out[i] = probs[i, y[i]]
    return out
""",
        "a one-hot mask, summed along each row": """
def confidence_attack(probs, y):
    onehot = np.eye(probs.shape[1])[y]
    return (probs * onehot).sum(axis=1)
""",
    },
    "1.4": {
        "written out without the helpers": """
def leakage_table(sweep):
    gaps, advs = [], []
    for t in sweep:
        acc_in = np.mean(t["probs_in"].argmax(1) == t["y_in"])
        acc_out = np.mean(t["probs_out"].argmax(1) == t["y_out"])
        gaps.append(acc_in - acc_out)
        s_in = t["probs_in"][np.arange(len(t["y_in"])), t["y_in"]]
        s_out = t["probs_out"][np.arange(len(t["y_out"])), t["y_out"]]
        advs.append(metrics.advantage(np.r_[s_in, s_out], np.r_[np.ones(len(s_in), bool), np.zeros(len(s_out), bool)]))
    return np.array(gaps), np.array(advs)
""",
        "sklearn's roc_curve for the advantage, lists returned in a tuple": """
def leakage_table(sweep):
    from sklearn.metrics import roc_curve
    gaps, advs = [], []
    for t in sweep:
        gaps.append(generalization_gap(t["probs_in"], t["y_in"], t["probs_out"], t["y_out"]))
        scores = np.concatenate([confidence_attack(t["probs_in"], t["y_in"]),
                                 confidence_attack(t["probs_out"], t["y_out"])])
        member = np.r_[np.ones(len(t["y_in"])), np.zeros(len(t["y_out"]))]
        fpr, tpr, _ = roc_curve(member, scores)
        advs.append(float(np.max(tpr - fpr)))
    return gaps, advs
""",
        "non-members first, is_member built to match": """
def leakage_table(sweep):
    rows = []
    for t in sweep:
        scores = np.concatenate([confidence_attack(t["probs_out"], t["y_out"]),
                                 confidence_attack(t["probs_in"], t["y_in"])])
        member = np.arange(len(scores)) >= len(t["y_out"])
        rows.append((generalization_gap(t["probs_in"], t["y_in"], t["probs_out"], t["y_out"]),
                     metrics.advantage(scores, member)))
    gaps, advs = zip(*rows)
    return np.array(gaps), np.array(advs)
""",
    },
}

test_wrong, test_right, test_wrong_every_draw, test_right_every_draw, test_use_reference = \
    mutant_tests(WRONG, RIGHT)
