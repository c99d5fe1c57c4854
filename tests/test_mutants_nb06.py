"""Mutant table of notebook 06 (see tests/_mutants.py): wrong answers rejected, right ones accepted, by the
notebook's check and by grading."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mutants import check_inputs, mutant_tests  # noqa: E402, F401 (check_inputs: the fixture)

WRONG = {
    "6.1": {
        "1 subtracted at the predicted class (argmax), not the true label": """
def last_layer_gradient_norm(probs, y, hidden):
    delta = np.array(probs, dtype=float)
    delta[np.arange(len(y)), np.argmax(probs, axis=1)] -= 1.0
    return np.linalg.norm(delta, axis=1) * np.linalg.norm(hidden, axis=1)
""",
        "||p|| * ||h|| (e_y never subtracted)": """
def last_layer_gradient_norm(probs, y, hidden):
    return np.linalg.norm(probs, axis=1) * np.linalg.norm(hidden, axis=1)
""",
        "squared norms": """
def last_layer_gradient_norm(probs, y, hidden):
    delta = np.array(probs, dtype=float)
    delta[np.arange(len(y)), y] -= 1.0
    return np.sum(delta ** 2, axis=1) * np.sum(hidden ** 2, axis=1)
""",
        "the sum of the two norms": """
def last_layer_gradient_norm(probs, y, hidden):
    delta = np.array(probs, dtype=float)
    delta[np.arange(len(y)), y] -= 1.0
    return np.linalg.norm(delta, axis=1) + np.linalg.norm(hidden, axis=1)
""",
        "L1 norms (sums of absolute values)": """
def last_layer_gradient_norm(probs, y, hidden):
    delta = np.array(probs, dtype=float)
    delta[np.arange(len(y)), y] -= 1.0
    return np.abs(delta).sum(axis=1) * np.abs(hidden).sum(axis=1)
""",
        "the hidden layer's norm over the whole array": """
def last_layer_gradient_norm(probs, y, hidden):
    delta = np.array(probs, dtype=float)
    delta[np.arange(len(y)), y] -= 1.0
    return np.linalg.norm(delta, axis=1) * np.linalg.norm(hidden)
""",
        "1 - p_y in place of ||p - e_y||": """
def last_layer_gradient_norm(probs, y, hidden):
    return (1 - probs[np.arange(len(y)), y]) * np.linalg.norm(hidden, axis=1)
""",
    },
    "6.2": {
        "after minus before": """
def passive_server_score(losses_before, losses_after):
    return (np.log(np.clip(losses_after, 1e-12, None)) - np.log(np.clip(losses_before, 1e-12, None))).mean(axis=0)
""",
        "summed over the rounds": """
def passive_server_score(losses_before, losses_after):
    return (np.log(np.clip(losses_before, 1e-12, None)) - np.log(np.clip(losses_after, 1e-12, None))).sum(axis=0)
""",
        "averaged over the records (axis 1)": """
def passive_server_score(losses_before, losses_after):
    return (np.log(np.clip(losses_before, 1e-12, None)) - np.log(np.clip(losses_after, 1e-12, None))).mean(axis=1)
""",
        "no clip (a loss of 0 gives inf)": """
def passive_server_score(losses_before, losses_after):
    with np.errstate(divide="ignore"):
        return (np.log(losses_before) - np.log(losses_after)).mean(axis=0)
""",
        "only the after losses clipped": """
def passive_server_score(losses_before, losses_after):
    with np.errstate(divide="ignore"):
        return (np.log(losses_before) - np.log(np.clip(losses_after, 1e-12, None))).mean(axis=0)
""",
        "clipped at 1e-8": """
def passive_server_score(losses_before, losses_after):
    return (np.log(np.clip(losses_before, 1e-8, None)) - np.log(np.clip(losses_after, 1e-8, None))).mean(axis=0)
""",
        "log10": """
def passive_server_score(losses_before, losses_after):
    return (np.log10(np.clip(losses_before, 1e-12, None)) - np.log10(np.clip(losses_after, 1e-12, None))).mean(axis=0)
""",
        "the log of the mean losses, not the mean of the logs": """
def passive_server_score(losses_before, losses_after):
    before, after = losses_before.mean(axis=0), losses_after.mean(axis=0)
    return np.log(np.clip(before, 1e-12, None)) - np.log(np.clip(after, 1e-12, None))
""",
    },
    "6.3": {
        "the sum normalised after adding": """
def ascent_direction(gradients):
    total = gradients.sum(axis=0)
    return total / np.linalg.norm(total)
""",
        "no normalisation at all": """
def ascent_direction(gradients):
    return gradients.sum(axis=0)
""",
        "a zero row divided by its norm of 0 (nan)": """
def ascent_direction(gradients):
    with np.errstate(invalid="ignore"):
        return (gradients / np.linalg.norm(gradients, axis=1, keepdims=True)).sum(axis=0)
""",
        "column norms (axis 0)": """
def ascent_direction(gradients):
    norms = np.linalg.norm(gradients, axis=0, keepdims=True)
    return (gradients / np.where(norms > 0, norms, 1.0)).sum(axis=0)
""",
        "divided by the squared norm": """
def ascent_direction(gradients):
    norms = np.sum(gradients ** 2, axis=1, keepdims=True)
    return (gradients / np.where(norms > 0, norms, 1.0)).sum(axis=0)
""",
        "the mean of the unit rows, not the sum": """
def ascent_direction(gradients):
    norms = np.linalg.norm(gradients, axis=1, keepdims=True)
    return (gradients / np.where(norms > 0, norms, 1.0)).mean(axis=0)
""",
        "L1 norms": """
def ascent_direction(gradients):
    norms = np.abs(gradients).sum(axis=1, keepdims=True)
    return (gradients / np.where(norms > 0, norms, 1.0)).sum(axis=0)
""",
    },
    "6.4": {
        "a >= cut at the k-th largest |value| (keeps every tied entry)": """
def top_fraction(update, theta):
    k = int(np.floor(theta * len(update) + 1e-9))
    if k == 0:
        return np.zeros_like(update)
    cut = np.sort(np.abs(update))[::-1][k - 1]
    return np.where(np.abs(update) >= cut, update, 0.0)
""",
        "one entry too many (argsort[:k + 1])": """
def top_fraction(update, theta):
    k = int(np.floor(theta * len(update) + 1e-9))
    index = np.argsort(-np.abs(update))[:k + 1]
    kept = np.zeros_like(update)
    kept[index] = update[index]
    return kept
""",
        "the largest values, not the largest absolute values": """
def top_fraction(update, theta):
    k = int(np.floor(theta * len(update) + 1e-9))
    index = np.argsort(-update)[:k]
    kept = np.zeros_like(update)
    kept[index] = update[index]
    return kept
""",
        "int(theta * d) without slack (28 of 100 at theta = 0.29)": """
def top_fraction(update, theta):
    k = int(theta * len(update))
    index = np.argsort(-np.abs(update))[:k]
    kept = np.zeros_like(update)
    kept[index] = update[index]
    return kept
""",
        "k rounded, not floored": """
def top_fraction(update, theta):
    k = int(round(theta * len(update)))
    index = np.argsort(-np.abs(update))[:k]
    kept = np.zeros_like(update)
    kept[index] = update[index]
    return kept
""",
        "the last k of an increasing argsort (x[-0:] keeps everything)": """
def top_fraction(update, theta):
    k = int(np.floor(theta * len(update) + 1e-9))
    index = np.argsort(np.abs(update))[-k:]
    kept = np.zeros_like(update)
    kept[index] = update[index]
    return kept
""",
        "absolute values kept (the sign lost)": """
def top_fraction(update, theta):
    k = int(np.floor(theta * len(update) + 1e-9))
    index = np.argsort(-np.abs(update))[:k]
    kept = np.zeros_like(update)
    kept[index] = np.abs(update[index])
    return kept
""",
        "a strict > cut at the k-th largest |value|": """
def top_fraction(update, theta):
    k = int(np.floor(theta * len(update) + 1e-9))
    if k == 0:
        return np.zeros_like(update)
    cut = np.sort(np.abs(update))[::-1][k - 1]
    return np.where(np.abs(update) > cut, update, 0.0)
""",
    },
}

RIGHT = {
    "6.1": {
        "one-hot labels from np.eye": """
def last_layer_gradient_norm(probs, y, hidden):
    delta = probs - np.eye(probs.shape[1])[y]
    return np.linalg.norm(delta, axis=1) * np.linalg.norm(hidden, axis=1)
""",
        "a loop over the records with math.sqrt": """
import math
def last_layer_gradient_norm(probs, y, hidden):
    out = []
    for p, label, h in zip(probs, y, hidden):
        d = [float(v) - (1.0 if j == label else 0.0) for j, v in enumerate(p)]
        out.append(math.sqrt(sum(v * v for v in d)) * math.sqrt(sum(float(v) * float(v) for v in h)))
    return np.array(out)
""",
        "the Frobenius norm of each explicit outer product": """
def last_layer_gradient_norm(probs, y, hidden):
    delta = probs.astype(float).copy()
    delta[np.arange(len(y)), y] -= 1
    return np.linalg.norm(np.einsum("ni,nj->nij", delta, hidden), axis=(1, 2))
""",
    },
    "6.2": {
        "np.maximum, then the log of the ratio": """
def passive_server_score(losses_before, losses_after):
    return np.log(np.maximum(losses_before, 1e-12) / np.maximum(losses_after, 1e-12)).mean(axis=0)
""",
        "a loop over the rounds": """
def passive_server_score(losses_before, losses_after):
    total = np.zeros(losses_before.shape[1])
    for b, a in zip(losses_before, losses_after):
        total += np.log(np.clip(b, 1e-12, None)) - np.log(np.clip(a, 1e-12, None))
    return total / len(losses_before)
""",
        "np.average over axis 0": """
def passive_server_score(losses_before, losses_after):
    drop = np.log(np.clip(losses_before, 1e-12, np.inf)) - np.log(np.clip(losses_after, 1e-12, np.inf))
    return np.average(drop, axis=0)
""",
    },
    "6.3": {
        "a loop that skips zero rows": """
def ascent_direction(gradients):
    total = np.zeros(gradients.shape[1])
    for g in gradients:
        norm = np.sqrt(np.sum(g ** 2))
        if norm > 0:
            total += g / norm
    return total
""",
        "np.divide with where=": """
def ascent_direction(gradients):
    norms = np.linalg.norm(gradients, axis=1, keepdims=True)
    unit = np.divide(gradients, norms, out=np.zeros_like(gradients, dtype=float), where=norms > 0)
    return unit.sum(axis=0)
""",
        "the nonzero rows only, norms from einsum": """
def ascent_direction(gradients):
    norms = np.sqrt(np.einsum("ij,ij->i", gradients, gradients))
    keep = norms > 0
    return (gradients[keep] / norms[keep, None]).sum(axis=0) + np.zeros(gradients.shape[1])
""",
    },
    "6.4": {
        "np.argpartition": """
def top_fraction(update, theta):
    k = int(np.floor(theta * len(update) + 1e-9))
    kept = np.zeros_like(update, dtype=float)
    if k > 0:
        index = np.argpartition(-np.abs(update), k - 1)[:k]
        kept[index] = update[index]
    return kept
""",
        "an increasing argsort reversed (ties: the later entries kept)": """
def top_fraction(update, theta):
    k = int(np.floor(theta * len(update) + 1e-9))
    index = np.argsort(np.abs(update), kind="stable")[::-1][:k]
    kept = np.zeros(len(update))
    kept[index] = update[index]
    return kept
""",
        "a Python sort of the positions, from lists": """
import math
def top_fraction(update, theta):
    values = [float(v) for v in update]
    k = math.floor(theta * len(values) + 1e-9)
    keep = set(sorted(range(len(values)), key=lambda i: -abs(values[i]))[:k])
    return np.array([v if i in keep else 0.0 for i, v in enumerate(values)])
""",
        "the default (unstable) argsort, as the hint has it": """
def top_fraction(update, theta):
    k = int(np.floor(theta * len(update) + 1e-9))
    index = np.argsort(-np.abs(update))[:k]
    kept = np.zeros_like(update)
    kept[index] = update[index]
    return kept
""",
    },
}

test_wrong, test_right, test_wrong_every_draw, test_right_every_draw, test_use_reference = \
    mutant_tests(WRONG, RIGHT)
