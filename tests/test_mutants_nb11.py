"""Mutant table of notebook 11 (see tests/_mutants.py): wrong answers rejected, right ones accepted, by the
notebook's check and by grading; and the hidden tests, run here with many seeds, reject each wrong answer and accept
each right one on every draw."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mutants import check_inputs, mutant_tests  # noqa: E402, F401 (check_inputs: the fixture)

WRONG = {
    "11.1": {
        "the summed cross-entropy instead of the mean": """
def relaxloss_objective(logits, y, alpha, epoch):
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    rows = np.arange(len(y))
    loss = -log_p[rows, y].sum()
    if loss >= alpha:
        return loss
    if epoch % 2 == 0:
        return -loss
    p_y = np.exp(log_p[rows, y])
    soft = np.repeat(((1 - p_y) / (logits.shape[1] - 1))[:, None], logits.shape[1], axis=1)
    soft[rows, y] = p_y
    return -(soft * log_p).sum(axis=1).mean()
""",
        "strict L > alpha (a loss exactly at alpha ascends)": """
def relaxloss_objective(logits, y, alpha, epoch):
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    rows = np.arange(len(y))
    loss = -log_p[rows, y].mean()
    if loss > alpha:
        return loss
    if epoch % 2 == 0:
        return -loss
    p_y = np.exp(log_p[rows, y])
    soft = np.repeat(((1 - p_y) / (logits.shape[1] - 1))[:, None], logits.shape[1], axis=1)
    soft[rows, y] = p_y
    return -(soft * log_p).sum(axis=1).mean()
""",
        "even and odd epochs swapped": """
def relaxloss_objective(logits, y, alpha, epoch):
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    rows = np.arange(len(y))
    loss = -log_p[rows, y].mean()
    if loss >= alpha:
        return loss
    if epoch % 2 == 1:
        return -loss
    p_y = np.exp(log_p[rows, y])
    soft = np.repeat(((1 - p_y) / (logits.shape[1] - 1))[:, None], logits.shape[1], axis=1)
    soft[rows, y] = p_y
    return -(soft * log_p).sum(axis=1).mean()
""",
        "no max shift: np.log(softmax) overflows on large logits": """
def relaxloss_objective(logits, y, alpha, epoch):
    e = np.exp(logits)
    p = e / e.sum(axis=1, keepdims=True)
    log_p = np.log(p)
    rows = np.arange(len(y))
    loss = -log_p[rows, y].mean()
    if loss >= alpha:
        return loss
    if epoch % 2 == 0:
        return -loss
    k = logits.shape[1]
    soft = np.repeat(((1 - p[rows, y]) / (k - 1))[:, None], k, axis=1)
    soft[rows, y] = p[rows, y]
    return -(soft * log_p).sum(axis=1).mean()
""",
        "soft labels share the rest over k classes, not k - 1": """
def relaxloss_objective(logits, y, alpha, epoch):
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    rows = np.arange(len(y))
    loss = -log_p[rows, y].mean()
    if loss >= alpha:
        return loss
    if epoch % 2 == 0:
        return -loss
    p_y = np.exp(log_p[rows, y])
    k = logits.shape[1]
    soft = np.repeat(((1 - p_y) / k)[:, None], k, axis=1)
    soft[rows, y] = p_y
    return -(soft * log_p).sum(axis=1).mean()
""",
        "the soft-label loss averaged over classes too (mean, not sum over j)": """
def relaxloss_objective(logits, y, alpha, epoch):
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    rows = np.arange(len(y))
    loss = -log_p[rows, y].mean()
    if loss >= alpha:
        return loss
    if epoch % 2 == 0:
        return -loss
    p_y = np.exp(log_p[rows, y])
    soft = np.repeat(((1 - p_y) / (logits.shape[1] - 1))[:, None], logits.shape[1], axis=1)
    soft[rows, y] = p_y
    return -(soft * log_p).mean()
""",
        "the odd-epoch branch returns -L too (no flattening)": """
def relaxloss_objective(logits, y, alpha, epoch):
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(len(y)), y].mean()
    return loss if loss >= alpha else -loss
""",
    },
    "11.2": {
        "every row mixed, also those below the cap": """
def cap_confidence(probs, cap):
    k = probs.shape[1]
    top = probs.max(axis=1)
    t = (top - cap) / (top - 1 / k)
    return (1 - t[:, None]) * probs + t[:, None] / k
""",
        "the global maximum instead of each row's": """
def cap_confidence(probs, cap):
    k = probs.shape[1]
    top = probs.max()
    t = (top - cap) / (top - 1 / k) if top > cap else 0.0
    return (1 - t) * probs + t / k
""",
        "k from the wrong axis (the number of rows)": """
def cap_confidence(probs, cap):
    k = probs.shape[0]
    top = probs.max(axis=1)
    t = np.where(top > cap, (top - cap) / (top - 1 / k), 0.0)
    return (1 - t[:, None]) * probs + t[:, None] / k
""",
        "clip the top entry to the cap and renormalise": """
def cap_confidence(probs, cap):
    out = np.minimum(probs, cap)
    return out / out.sum(axis=1, keepdims=True)
""",
        "the top entry set to the cap, the excess shared equally among the others": """
def cap_confidence(probs, cap):
    out = probs.copy()
    k = probs.shape[1]
    for i, row in enumerate(probs):
        j = row.argmax()
        if row[j] > cap:
            out[i] += (row[j] - cap) / (k - 1)
            out[i, j] = cap
    return out
""",
        "t = (m - cap) / m": """
def cap_confidence(probs, cap):
    k = probs.shape[1]
    top = probs.max(axis=1)
    t = np.where(top > cap, (top - cap) / top, 0.0)
    return (1 - t[:, None]) * probs + t[:, None] / k
""",
        "the others rescaled in proportion (top set to the cap)": """
def cap_confidence(probs, cap):
    out = probs.copy()
    for i, row in enumerate(probs):
        j = row.argmax()
        if row[j] > cap:
            out[i] = row * (1 - cap) / (1 - row[j])
            out[i, j] = cap
    return out
""",
    },
    "11.3": {
        "every gradient scaled to norm C (normalised, not clipped)": """
def dp_sgd_step(per_example_grads, max_grad_norm, noise_multiplier, lr, noise):
    norms = np.linalg.norm(per_example_grads, axis=1)
    clipped = per_example_grads * (max_grad_norm / (norms + 1e-12))[:, None]
    total = clipped.sum(axis=0)
    if noise_multiplier > 0:
        total = total + noise_multiplier * max_grad_norm * noise
    return -lr * total / len(per_example_grads)
""",
        "the noise added after averaging (not divided by B)": """
def dp_sgd_step(per_example_grads, max_grad_norm, noise_multiplier, lr, noise):
    norms = np.linalg.norm(per_example_grads, axis=1)
    factor = np.minimum(1.0, max_grad_norm / (norms + 1e-12))
    mean = (factor[:, None] * per_example_grads).mean(axis=0)
    if noise_multiplier > 0:
        mean = mean + noise_multiplier * max_grad_norm * noise
    return -lr * mean
""",
        "the noise scaled by sigma only, not sigma * C": """
def dp_sgd_step(per_example_grads, max_grad_norm, noise_multiplier, lr, noise):
    norms = np.linalg.norm(per_example_grads, axis=1)
    factor = np.minimum(1.0, max_grad_norm / (norms + 1e-12))
    total = (factor[:, None] * per_example_grads).sum(axis=0)
    if noise_multiplier > 0:
        total = total + noise_multiplier * noise
    return -lr * total / len(per_example_grads)
""",
        "the summed gradient clipped, not each example's": """
def dp_sgd_step(per_example_grads, max_grad_norm, noise_multiplier, lr, noise):
    total = per_example_grads.sum(axis=0)
    total = total * min(1.0, max_grad_norm / (np.linalg.norm(total) + 1e-12))
    if noise_multiplier > 0:
        total = total + noise_multiplier * max_grad_norm * noise
    return -lr * total / len(per_example_grads)
""",
        "each coordinate clipped to [-C, C]": """
def dp_sgd_step(per_example_grads, max_grad_norm, noise_multiplier, lr, noise):
    total = np.clip(per_example_grads, -max_grad_norm, max_grad_norm).sum(axis=0)
    if noise_multiplier > 0:
        total = total + noise_multiplier * max_grad_norm * noise
    return -lr * total / len(per_example_grads)
""",
        "the noise always added (0 * inf is nan with C = inf)": """
def dp_sgd_step(per_example_grads, max_grad_norm, noise_multiplier, lr, noise):
    norms = np.linalg.norm(per_example_grads, axis=1)
    factor = np.minimum(1.0, max_grad_norm / (norms + 1e-12))
    total = (factor[:, None] * per_example_grads).sum(axis=0) + noise_multiplier * max_grad_norm * noise
    return -lr * total / len(per_example_grads)
""",
        "a step up the gradient (+lr)": """
def dp_sgd_step(per_example_grads, max_grad_norm, noise_multiplier, lr, noise):
    norms = np.linalg.norm(per_example_grads, axis=1)
    factor = np.minimum(1.0, max_grad_norm / (norms + 1e-12))
    total = (factor[:, None] * per_example_grads).sum(axis=0)
    if noise_multiplier > 0:
        total = total + noise_multiplier * max_grad_norm * noise
    return lr * total / len(per_example_grads)
""",
    },
    "11.4": {
        "only the TPR side": """
def empirical_epsilon(tpr, fpr, delta):
    import math
    if tpr - delta <= 0:
        return 0.0
    return math.inf if fpr == 0 else max(0.0, math.log((tpr - delta) / fpr))
""",
        "delta left out of the false-negative side": """
def empirical_epsilon(tpr, fpr, delta):
    import math
    best = 0.0
    for num, den in ((tpr - delta, fpr), (1 - fpr, 1 - tpr)):
        if num > 0:
            best = max(best, math.inf if den == 0 else math.log(num / den))
    return best
""",
        "delta added instead of subtracted": """
def empirical_epsilon(tpr, fpr, delta):
    import math
    best = 0.0
    for num, den in ((tpr + delta, fpr), (1 + delta - fpr, 1 - tpr)):
        if num > 0:
            best = max(best, math.inf if den == 0 else math.log(num / den))
    return best
""",
        "no floor at 0": """
def empirical_epsilon(tpr, fpr, delta):
    import math
    terms = []
    for num, den in ((tpr - delta, fpr), (1 - delta - fpr, 1 - tpr)):
        if num > 0:
            terms.append(math.inf if den == 0 else math.log(num / den))
    return max(terms) if terms else 0.0
""",
        "no guard for a zero denominator (ZeroDivisionError)": """
def empirical_epsilon(tpr, fpr, delta):
    import math
    best = 0.0
    for num, den in ((tpr - delta, fpr), (1 - delta - fpr, 1 - tpr)):
        if num > 0:
            best = max(best, math.log(num / den))
    return best
""",
        "a zero denominator is inf whatever its numerator": """
def empirical_epsilon(tpr, fpr, delta):
    import math
    best = 0.0
    for num, den in ((tpr - delta, fpr), (1 - delta - fpr, 1 - tpr)):
        if den == 0:
            return math.inf
        if num > 0:
            best = max(best, math.log(num / den))
    return best
""",
        "log base 10": """
def empirical_epsilon(tpr, fpr, delta):
    import math
    best = 0.0
    for num, den in ((tpr - delta, fpr), (1 - delta - fpr, 1 - tpr)):
        if num > 0:
            best = max(best, math.inf if den == 0 else math.log10(num / den))
    return best
""",
    },
    "11.5": {
        "ascending order: the right records, least exposed first": """
def records_to_remove(leakage, k):
    return np.argsort(leakage, kind="stable")[len(leakage) - k:]
""",
        "a reversed ascending sort: ties go to the higher index": """
def records_to_remove(leakage, k):
    return np.argsort(leakage, kind="stable")[::-1][:k]
""",
        "np.argpartition: the right records in no particular order": """
def records_to_remove(leakage, k):
    if k == 0:
        return np.zeros(0, dtype=int)
    return np.argpartition(-np.asarray(leakage), k - 1)[:k]
""",
        "the right records listed by index, not by exposure": """
def records_to_remove(leakage, k):
    return np.sort(np.argsort(-np.asarray(leakage), kind="stable")[:k])
""",
        "the least exposed records": """
def records_to_remove(leakage, k):
    return np.argsort(leakage, kind="stable")[:k]
""",
        "the largest magnitudes (abs), not the largest values": """
def records_to_remove(leakage, k):
    return np.argsort(-np.abs(leakage), kind="stable")[:k]
""",
        "the records to keep instead of those to remove": """
def records_to_remove(leakage, k):
    return np.argsort(-np.asarray(leakage), kind="stable")[k:]
""",
        "x[-k:] of a descending sort (k = 0 returns every record)": """
def records_to_remove(leakage, k):
    order = np.argsort(leakage, kind="stable")
    return order[-k:][::-1] if k else order[-k:]
""",
    },
}

RIGHT = {
    "11.1": {
        "scipy.special.log_softmax, soft labels with np.full": """
def relaxloss_objective(logits, y, alpha, epoch):
    from scipy.special import log_softmax
    log_p = log_softmax(logits, axis=1)
    rows = np.arange(len(y))
    loss = float(-log_p[rows, y].mean())
    if loss >= alpha:
        return loss
    if epoch % 2 == 0:
        return -loss
    k = logits.shape[1]
    p_y = np.exp(log_p[rows, y])
    soft = np.full(log_p.shape, 0.0) + ((1 - p_y) / (k - 1))[:, None]
    soft[rows, y] = p_y
    return float(-(soft * log_p).sum(axis=1).mean())
""",
        "torch: F.cross_entropy, soft targets": """
def relaxloss_objective(logits, y, alpha, epoch):
    import torch
    import torch.nn.functional as F
    z = torch.as_tensor(logits, dtype=torch.float64)
    t = torch.as_tensor(y, dtype=torch.long)
    loss = F.cross_entropy(z, t).item()
    if loss >= alpha:
        return loss
    if epoch % 2 == 0:
        return -loss
    p = torch.softmax(z, dim=1)
    p_y = p[torch.arange(len(t)), t]
    k = z.shape[1]
    soft = ((1 - p_y) / (k - 1))[:, None].repeat(1, k)
    soft[torch.arange(len(t)), t] = p_y
    return F.cross_entropy(z, soft).item()
""",
        "a loop over the records, logsumexp by hand": """
def relaxloss_objective(logits, y, alpha, epoch):
    import math
    rows = []
    for z, t in zip(logits, y):
        m = max(z)
        lse = m + math.log(sum(math.exp(v - m) for v in z))
        rows.append([v - lse for v in z])
    loss = -sum(r[t] for r, t in zip(rows, y)) / len(rows)
    if loss >= alpha:
        return loss
    if epoch % 2 == 0:
        return -loss
    k = len(rows[0])
    total = 0.0
    for r, t in zip(rows, y):
        p_y = math.exp(r[t])
        total -= sum((p_y if j == t else (1 - p_y) / (k - 1)) * r[j] for j in range(k))
    return total / len(rows)
""",
    },
    "11.2": {
        "a loop over the rows": """
def cap_confidence(probs, cap):
    out = np.array(probs, dtype=float)
    k = out.shape[1]
    for i in range(len(out)):
        m = out[i].max()
        if m > cap:
            t = (m - cap) / (m - 1 / k)
            out[i] = (1 - t) * out[i] + t / k
    return out
""",
        ">= cap (a row at the cap gets t = 0 anyway), keepdims": """
def cap_confidence(probs, cap):
    k = probs.shape[1]
    m = probs.max(axis=1, keepdims=True)
    t = np.where(m >= cap, (m - cap) / (m - 1 / k), 0.0)
    return probs - t * (probs - 1 / k)
""",
        "a boolean mask, mixing towards np.full uniform rows": """
def cap_confidence(probs, cap):
    out = probs.astype(float).copy()
    k = probs.shape[1]
    m = out.max(axis=1)
    over = m > cap
    t = ((m[over] - cap) / (m[over] - 1 / k))[:, None]
    out[over] = (1 - t) * out[over] + t * np.full((1, k), 1 / k)
    return out
""",
    },
    "11.3": {
        "divide by max(1, norm / C)": """
def dp_sgd_step(per_example_grads, max_grad_norm, noise_multiplier, lr, noise):
    norms = np.linalg.norm(per_example_grads, axis=1, keepdims=True)
    clipped = per_example_grads / np.maximum(1.0, norms / max_grad_norm)
    total = clipped.sum(axis=0)
    if noise_multiplier:
        total = total + noise_multiplier * max_grad_norm * noise
    return -lr * total / per_example_grads.shape[0]
""",
        "a loop over the examples": """
def dp_sgd_step(per_example_grads, max_grad_norm, noise_multiplier, lr, noise):
    import math
    total = np.zeros(per_example_grads.shape[1])
    for g in per_example_grads:
        n = float(np.sqrt((g ** 2).sum()))
        total += g if n <= max_grad_norm else g * (max_grad_norm / n)
    if noise_multiplier != 0:
        total += noise_multiplier * max_grad_norm * noise
    return -lr * total / len(per_example_grads)
""",
        "torch: clip factors with torch.clamp": """
def dp_sgd_step(per_example_grads, max_grad_norm, noise_multiplier, lr, noise):
    import torch
    g = torch.as_tensor(per_example_grads, dtype=torch.float64)
    norms = torch.linalg.vector_norm(g, dim=1)
    factor = torch.clamp(max_grad_norm / torch.clamp(norms, min=1e-300), max=1.0)
    total = (g * factor[:, None]).sum(dim=0)
    if noise_multiplier > 0:
        total = total + noise_multiplier * max_grad_norm * torch.as_tensor(noise, dtype=torch.float64)
    return (-lr * total / len(g)).numpy()
""",
    },
    "11.4": {
        "NumPy with errstate, nan and negatives dropped": """
def empirical_epsilon(tpr, fpr, delta):
    nums = np.array([tpr - delta, 1 - delta - fpr])
    dens = np.array([fpr, 1 - tpr])
    with np.errstate(divide="ignore", invalid="ignore"):
        vals = np.where(nums > 0, np.log(nums) - np.log(dens), 0.0)
    return float(max(0.0, vals.max()))
""",
        "two explicit ifs": """
def empirical_epsilon(tpr, fpr, delta):
    import math
    eps = 0.0
    if tpr - delta > 0:
        eps = max(eps, math.log((tpr - delta) / fpr) if fpr > 0 else math.inf)
    if 1 - delta - fpr > 0:
        eps = max(eps, math.log((1 - delta - fpr) / (1 - tpr)) if tpr < 1 else math.inf)
    return eps
""",
        "try/except ZeroDivisionError, a list of candidates": """
def empirical_epsilon(tpr, fpr, delta):
    import math
    candidates = [0.0]
    for num, den in [(tpr - delta, fpr), (1 - delta - fpr, 1 - tpr)]:
        if num <= 0:
            continue
        try:
            candidates.append(math.log(num / den))
        except ZeroDivisionError:
            candidates.append(math.inf)
    return max(candidates)
""",
    },
    "11.5": {
        "sorted() with a (-leakage, index) key": """
def records_to_remove(leakage, k):
    order = sorted(range(len(leakage)), key=lambda i: (-leakage[i], i))
    return np.array(order[:k], dtype=int)
""",
        "np.lexsort with the index as the tie-breaking key": """
def records_to_remove(leakage, k):
    leakage = np.asarray(leakage)
    return np.lexsort((np.arange(len(leakage)), -leakage))[:k]
""",
        "np.argmax k times (the first maximum), masking each pick": """
def records_to_remove(leakage, k):
    values = np.array(leakage, dtype=float)
    picked = []
    for _ in range(k):
        i = int(np.argmax(values))
        picked.append(i)
        values[i] = -np.inf
    return np.array(picked, dtype=int)
""",
        "pandas: a stable descending sort_values": """
def records_to_remove(leakage, k):
    import pandas as pd
    return pd.Series(leakage).sort_values(ascending=False, kind="stable").index.to_numpy()[:k]
""",
    },
}

test_wrong, test_right, test_wrong_every_draw, test_right_every_draw, test_use_reference = \
    mutant_tests(WRONG, RIGHT, seeds=100)
