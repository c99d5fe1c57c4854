"""Shadow training data for an attacker without real data (Shokri et al. 2017, Sec. V-C): model-based synthesis by
hill-climbing on the target's confidence (their Algorithm 1), and statistics-based (marginal) synthesis."""

from __future__ import annotations

import numpy as np

from .._validation import as_features, as_labels, check_bool, check_fraction, check_positive_int, check_random_state
from ..blackbox import query_probabilities


def _requested_classes(classes, n_records: int, n_classes: int) -> np.ndarray:
    if classes is None:
        return np.arange(n_records) % n_classes
    classes = as_labels(classes, "classes", n=n_records, n_classes=n_classes)
    return classes


def synthesize(target, n_records: int, n_features: int, *, classes=None, k_max: int = 64, k_min: int = 4,
               conf_min: float = 0.2, rej_max: int = 10, iter_max: int = 200, max_tries: int = 3,
               max_queries: int | None = None, p_one: float = 0.5, random_state: int = 0):
    """Model-based synthesis (Shokri et al. 2017, Algorithm 1): binary records the target puts in the asked class.

    Each requested record starts as a random binary vector (each feature 1 with probability `p_one`) and is
    improved by hill-climbing: propose the best record so far with `k` features re-drawn at random; accept the
    proposal when the target's confidence in the requested class does not fall; once an accepted record is
    classified into that class with confidence above `conf_min`, keep it with probability equal to that
    confidence. After `rej_max` rejections in a row, k halves (down to `k_min`). A search that finds nothing in
    `iter_max` queries restarts from a new random record, at most `max_tries` times. All searches run together,
    one query per search per step.

    Returns (X (m, n_features) float32 of 0/1, y (m,) int64 requested classes, n_queries): the m <= n_records
    records found, in request order, and the number of records the target answered (its own counter). The search
    stops early when the next step would exceed `max_queries`.

    Threat model:
        data:      none; only the feature domain (n_features binary features) and the number of classes
        knowledge: nothing about the training recipe
        outputs:   the full probability vector ("probabilities"; "rounded" is renormalised); top_k and label rejected
        queries:   one per search step, about 100-200 per record found on purchase-100 (the paper: 156); capped
                   by `max_queries`
    Paper: Shokri et al. 2017, Sec. V-C, Algorithm 1.
    """
    n_records = check_positive_int(n_records, "n_records")
    n_features = check_positive_int(n_features, "n_features")
    k_max = check_positive_int(k_max, "k_max")
    k_min = check_positive_int(k_min, "k_min")
    if k_min > k_max or k_max > n_features:
        raise ValueError(f"need k_min <= k_max <= n_features; got k_min={k_min}, k_max={k_max}, "
                         f"n_features={n_features}.")
    conf_min = check_fraction(conf_min, "conf_min", inclusive=True)
    rej_max = check_positive_int(rej_max, "rej_max")
    iter_max = check_positive_int(iter_max, "iter_max")
    max_tries = check_positive_int(max_tries, "max_tries")
    if max_queries is not None:
        max_queries = check_positive_int(max_queries, "max_queries")
    p_one = check_fraction(p_one, "p_one")
    rng = check_random_state(random_state)
    start = int(getattr(target, "n_queries", 0))
    n_classes = getattr(target, "n_classes", None)
    used = 0
    if n_classes is None:  # a black box that has not answered yet: one query tells the number of classes
        n_classes = query_probabilities(target, np.zeros((1, n_features), np.float32)).shape[1]
        used = 1
    want = _requested_classes(classes, n_records, int(n_classes))

    x_best = (rng.random((n_records, n_features)) < p_one).astype(np.float32)
    proposal = x_best.copy()
    conf_best = np.full(n_records, -1.0)       # so the first answer is always accepted
    k = np.full(n_records, k_max)
    rejections = np.zeros(n_records, int)
    steps = np.zeros(n_records, int)
    tries = np.ones(n_records, int)
    found = np.zeros(n_records, bool)
    active = np.ones(n_records, bool)
    while active.any():
        idx = np.flatnonzero(active)
        if max_queries is not None:
            idx = idx[: max_queries - used]
            if len(idx) == 0:
                break
        probs = query_probabilities(target, proposal[idx])
        used += len(idx)
        conf = probs[np.arange(len(idx)), want[idx]]
        accept = conf >= conf_best[idx]
        good = accept & (conf > conf_min) & (probs.argmax(axis=1) == want[idx])
        keep = good & (rng.random(len(idx)) < conf)
        found[idx[keep]] = True
        active[idx[keep]] = False
        acc = idx[accept & ~keep]
        x_best[acc], conf_best[acc], rejections[acc] = proposal[acc], conf[accept & ~keep], 0
        rej = idx[~accept]
        rejections[rej] += 1
        shrink = rej[rejections[rej] > rej_max]
        k[shrink] = np.maximum(k_min, np.ceil(k[shrink] / 2).astype(int))
        rejections[shrink] = 0
        steps[idx] += 1
        stuck = idx[active[idx] & (steps[idx] >= iter_max)]
        if len(stuck):
            tries[stuck] += 1
            over = stuck[tries[stuck] > max_tries]
            active[over] = False
            fresh = stuck[tries[stuck] <= max_tries]
            x_best[fresh] = (rng.random((len(fresh), n_features)) < p_one).astype(np.float32)
            conf_best[fresh], k[fresh], rejections[fresh], steps[fresh] = -1.0, k_max, 0, 0
        live = np.flatnonzero(active)
        proposal[live] = x_best[live]
        for kk in np.unique(k[live]):
            rows = live[k[live] == kk]
            cols = rng.integers(n_features, size=(len(rows), kk))   # k positions (a rare repeat re-draws one twice)
            proposal[rows[:, None], cols] = (rng.random((len(rows), kk)) < p_one).astype(np.float32)
        fresh_rows = live[(steps[live] == 0)]
        proposal[fresh_rows] = x_best[fresh_rows]      # a restarted search first queries its new random record
    n_queries = int(getattr(target, "n_queries", start + used)) - start
    return proposal[found].copy(), want[found].astype(np.int64), n_queries


def synthesize_marginal(X, y, n_records: int, *, per_class: bool = True, target=None, random_state: int = 0):
    """Statistics-based synthesis: each feature drawn independently from its marginal in the attacker's statistics.

    X (n, d), y (n,) stand for the statistics the attacker knows (only per-feature marginals are used, so any
    records with the right marginals give the same result). With `per_class`, labels are drawn with the class
    frequencies of y and each feature from its marginal within that class; otherwise every feature comes from its
    overall marginal and the records are labelled by querying `target` (n_records queries).
    Returns (X_syn (n_records, d) float32, y_syn (n_records,) int64). (Shokri et al. 2017, Sec. V-C.)
    """
    X = as_features(X)
    y = as_labels(y, n=len(X))
    n_records = check_positive_int(n_records, "n_records")
    per_class = check_bool(per_class, "per_class")
    rng = check_random_state(random_state)
    if per_class:
        classes, counts = np.unique(y, return_counts=True)
        y_syn = rng.choice(classes, size=n_records, p=counts / counts.sum())
        groups = {c: np.flatnonzero(y == c) for c in classes}
    else:
        if target is None:
            raise ValueError("with per_class=False the records have no class of their own; pass `target` (a "
                             "BlackBox) to label them, or use per_class=True.")
        y_syn = np.zeros(n_records, np.int64)
        groups = {0: np.arange(len(X))}
    X_syn = np.empty((n_records, X.shape[1]), np.float32)
    for c, rows in groups.items():
        out = np.flatnonzero(y_syn == c) if per_class else np.arange(n_records)
        # column j of each new record copies column j of an independently drawn record of the group
        pick = rows[rng.integers(len(rows), size=(len(out), X.shape[1]))]
        X_syn[out] = X[pick, np.arange(X.shape[1])]
    if not per_class:
        y_syn = query_probabilities(target, X_syn).argmax(axis=1)
    return X_syn, y_syn.astype(np.int64)
