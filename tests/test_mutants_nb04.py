"""Mutant table of notebook 04 (see tests/_mutants.py): wrong answers rejected, right ones accepted, by the
notebook's check and by grading."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mutants import check_inputs, mutant_tests  # noqa: E402, F401 (check_inputs: the fixture)

WRONG = {
    "4.1": {
        "a strict < (a loss equal to expected_loss left out)": """
def loss_attack(probs, y, expected_loss):
    loss = -np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None))
    return loss < expected_loss
""",
        "members where the loss is at least expected_loss (reversed)": """
def loss_attack(probs, y, expected_loss):
    loss = -np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None))
    return loss >= expected_loss
""",
        "log10": """
def loss_attack(probs, y, expected_loss):
    loss = -np.log10(np.clip(probs[np.arange(len(y)), y], 1e-12, None))
    return loss <= expected_loss
""",
        "the predicted class's probability, not the true label's": """
def loss_attack(probs, y, expected_loss):
    loss = -np.log(np.clip(probs.max(axis=1), 1e-12, None))
    return loss <= expected_loss
""",
        "the mean loss compared, one boolean": """
def loss_attack(probs, y, expected_loss):
    return bool(np.mean(-np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None))) <= expected_loss)
""",
        "1 - p_y as the loss": """
def loss_attack(probs, y, expected_loss):
    return 1 - probs[np.arange(len(y)), y] <= expected_loss
""",
        "the probability compared with expected_loss": """
def loss_attack(probs, y, expected_loss):
    return probs[np.arange(len(y)), y] >= expected_loss
""",
    },
    "4.2": {
        "the median member loss as the threshold": """
def yeom_advantage(probs_in, y_in, probs_out, y_out):
    t = np.median(-np.log(np.clip(probs_in[np.arange(len(y_in)), y_in], 1e-12, None)))
    return float(loss_attack(probs_in, y_in, t).mean() - loss_attack(probs_out, y_out, t).mean())
""",
        "the best TPR - FPR over all thresholds": """
def yeom_advantage(probs_in, y_in, probs_out, y_out):
    l_in = -np.log(np.clip(probs_in[np.arange(len(y_in)), y_in], 1e-12, None))
    l_out = -np.log(np.clip(probs_out[np.arange(len(y_out)), y_out], 1e-12, None))
    return float(max(np.mean(l_in <= t) - np.mean(l_out <= t) for t in np.concatenate([l_in, l_out])))
""",
        "the absolute value": """
def yeom_advantage(probs_in, y_in, probs_out, y_out):
    t = -np.log(np.clip(probs_in[np.arange(len(y_in)), y_in], 1e-12, None)).mean()
    return float(abs(loss_attack(probs_in, y_in, t).mean() - loss_attack(probs_out, y_out, t).mean()))
""",
        "the non-members' mean loss as the threshold": """
def yeom_advantage(probs_in, y_in, probs_out, y_out):
    t = -np.log(np.clip(probs_out[np.arange(len(y_out)), y_out], 1e-12, None)).mean()
    return float(loss_attack(probs_in, y_in, t).mean() - loss_attack(probs_out, y_out, t).mean())
""",
        "a strict < at the threshold": """
def yeom_advantage(probs_in, y_in, probs_out, y_out):
    l_in = -np.log(np.clip(probs_in[np.arange(len(y_in)), y_in], 1e-12, None))
    l_out = -np.log(np.clip(probs_out[np.arange(len(y_out)), y_out], 1e-12, None))
    t = l_in.mean()
    return float(np.mean(l_in < t) - np.mean(l_out < t))
""",
        "FPR - TPR": """
def yeom_advantage(probs_in, y_in, probs_out, y_out):
    t = -np.log(np.clip(probs_in[np.arange(len(y_in)), y_in], 1e-12, None)).mean()
    return float(loss_attack(probs_out, y_out, t).mean() - loss_attack(probs_in, y_in, t).mean())
""",
        "the mean loss of all records as the threshold": """
def yeom_advantage(probs_in, y_in, probs_out, y_out):
    l_in = -np.log(np.clip(probs_in[np.arange(len(y_in)), y_in], 1e-12, None))
    l_out = -np.log(np.clip(probs_out[np.arange(len(y_out)), y_out], 1e-12, None))
    t = np.concatenate([l_in, l_out]).mean()
    return float(np.mean(l_in <= t) - np.mean(l_out <= t))
""",
    },
    "4.3": {
        "the true class's term not removed": """
def modified_entropy(probs, y):
    rows = np.arange(len(y))
    p_y = probs[rows, y]
    terms = probs * np.log(np.clip(1 - probs, 1e-12, None))
    return -(1 - p_y) * np.log(np.clip(p_y, 1e-12, None)) - terms.sum(axis=1)
""",
        "log p_i in place of log(1 - p_i)": """
def modified_entropy(probs, y):
    rows = np.arange(len(y))
    p_y = probs[rows, y]
    terms = probs * np.log(np.clip(probs, 1e-12, None))
    terms[rows, y] = 0.0
    return -(1 - p_y) * np.log(np.clip(p_y, 1e-12, None)) - terms.sum(axis=1)
""",
        "no clip (a certain answer gives inf or nan)": """
def modified_entropy(probs, y):
    rows = np.arange(len(y))
    p_y = probs[rows, y]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = probs * np.log(1 - probs)
        terms[rows, y] = 0.0
        return -(1 - p_y) * np.log(p_y) - terms.sum(axis=1)
""",
        "the other classes' sum added, not subtracted": """
def modified_entropy(probs, y):
    rows = np.arange(len(y))
    p_y = probs[rows, y]
    terms = probs * np.log(np.clip(1 - probs, 1e-12, None))
    terms[rows, y] = 0.0
    return -(1 - p_y) * np.log(np.clip(p_y, 1e-12, None)) + terms.sum(axis=1)
""",
        "the (1 - p_y) factor forgotten": """
def modified_entropy(probs, y):
    rows = np.arange(len(y))
    p_y = probs[rows, y]
    terms = probs * np.log(np.clip(1 - probs, 1e-12, None))
    terms[rows, y] = 0.0
    return -np.log(np.clip(p_y, 1e-12, None)) - terms.sum(axis=1)
""",
        "log2": """
def modified_entropy(probs, y):
    rows = np.arange(len(y))
    p_y = probs[rows, y]
    terms = probs * np.log2(np.clip(1 - probs, 1e-12, None))
    terms[rows, y] = 0.0
    return -(1 - p_y) * np.log2(np.clip(p_y, 1e-12, None)) - terms.sum(axis=1)
""",
        "the other classes weighted by (1 - p_i), not p_i": """
def modified_entropy(probs, y):
    rows = np.arange(len(y))
    p_y = probs[rows, y]
    terms = (1 - probs) * np.log(np.clip(1 - probs, 1e-12, None))
    terms[rows, y] = 0.0
    return -(1 - p_y) * np.log(np.clip(p_y, 1e-12, None)) - terms.sum(axis=1)
""",
    },
}

RIGHT = {
    "4.1": {
        "a loop with math.log": """
import math
def loss_attack(probs, y, expected_loss):
    return np.array([-math.log(max(float(p[label]), 1e-12)) <= expected_loss for p, label in zip(probs, y)])
""",
        "np.take_along_axis and np.maximum": """
def loss_attack(probs, y, expected_loss):
    p_y = np.take_along_axis(probs, y[:, None], axis=1)[:, 0]
    return -np.log(np.maximum(p_y, 1e-12)) <= expected_loss
""",
        "the loss array compared with np.less_equal": """
def loss_attack(probs, y, expected_loss):
    loss = -np.log(np.clip(probs[range(len(y)), y], 1e-12, 1.0))
    return np.less_equal(loss, expected_loss)
""",
    },
    "4.2": {
        "the losses computed once, no loss_attack": """
def yeom_advantage(probs_in, y_in, probs_out, y_out):
    l_in = -np.log(np.clip(probs_in[np.arange(len(y_in)), y_in], 1e-12, None))
    l_out = -np.log(np.clip(probs_out[np.arange(len(y_out)), y_out], 1e-12, None))
    t = l_in.mean()
    return float(np.mean(l_in <= t) - np.mean(l_out <= t))
""",
        "counts divided by the sizes": """
def yeom_advantage(probs_in, y_in, probs_out, y_out):
    t = float(np.mean(-np.log(np.clip(probs_in[np.arange(len(y_in)), y_in], 1e-12, None))))
    tp = np.count_nonzero(loss_attack(probs_in, y_in, t))
    fp = np.count_nonzero(loss_attack(probs_out, y_out, t))
    return tp / len(y_in) - fp / len(y_out)
""",
        "a loop with math.log": """
import math
def yeom_advantage(probs_in, y_in, probs_out, y_out):
    loss = lambda probs, y: [-math.log(max(float(p[label]), 1e-12)) for p, label in zip(probs, y)]
    l_in, l_out = loss(probs_in, y_in), loss(probs_out, y_out)
    t = np.mean(l_in)
    return float(np.mean([v <= t for v in l_in]) - np.mean([v <= t for v in l_out]))
""",
    },
    "4.3": {
        "a loop over records and classes": """
import math
def modified_entropy(probs, y):
    out = []
    for row, label in zip(probs, y):
        total = -(1 - row[label]) * math.log(max(row[label], 1e-12))
        for j, p in enumerate(row):
            if j != label:
                total -= p * math.log(max(1 - p, 1e-12))
        out.append(total)
    return np.array(out)
""",
        "a mask of the other classes": """
def modified_entropy(probs, y):
    other = np.arange(probs.shape[1])[None, :] != y[:, None]
    p_y = probs[np.arange(len(y)), y]
    rest = np.sum(np.where(other, probs * np.log(np.clip(1 - probs, 1e-12, None)), 0.0), axis=1)
    return -(1 - p_y) * np.log(np.clip(p_y, 1e-12, None)) - rest
""",
        "one-hot labels": """
def modified_entropy(probs, y):
    onehot = np.eye(probs.shape[1])[y]
    p_y = (probs * onehot).sum(axis=1)
    rest = ((1 - onehot) * probs * np.log(np.maximum(1 - probs, 1e-12))).sum(axis=1)
    return -(1 - p_y) * np.log(np.maximum(p_y, 1e-12)) - rest
""",
    },
}

test_wrong, test_right, test_wrong_every_draw, test_right_every_draw, test_use_reference = \
    mutant_tests(WRONG, RIGHT)
