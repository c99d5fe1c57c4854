"""Label-only attacks (Choquette-Choo et al. 2021): the black box answers only its predicted class.

- the gap attack: member iff the target classifies the record correctly. On a balanced set of members and
  non-members its accuracy is exactly 1/2 + (train accuracy - test accuracy) / 2 (`gap_attack_accuracy`).
- the noise-robustness attack: query noisy copies of each record; members sit farther from the decision
  boundary, so more of their copies keep the right label. For binary records (purchase) the noise flips random
  bits; for images, Gaussian pixel noise or shifts by whole pixels.
- the decision-boundary attack: the L2 distance from each record to the target's decision boundary, found with label
  queries alone by a HopSkipJump-style search (Chen et al. 2020): start from a point the target labels otherwise,
  binary-search the segment back to the boundary, estimate the boundary's normal from the labels of random
  perturbations, step along it and search again. Members sit farther from the boundary (Choquette-Choo et al. 2021,
  Sec. 5; Li & Zhang 2021). IBM ART ships the same attack as `LabelOnlyDecisionBoundary`.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._reference import reference
from .._validation import (as_array, as_features, as_labels, check_choice, check_fraction, check_memory,
                           check_positive_int, check_scalar, check_seed)
from ..blackbox import check_target, query_labels
from .base import Attack
from .augment import NOISES, noisy_copies
from .loss import CorrectnessAttack


def gap_attack_accuracy(train_accuracy: float, test_accuracy: float) -> float:
    """The gap attack's accuracy on a balanced set of members and non-members: 1/2 + (train - test) / 2.

    Its TPR is the train accuracy (members classified correctly) and its FPR the test accuracy, so accuracy =
    (TPR + 1 - FPR) / 2. (Choquette-Choo et al. 2021, Sec. 4; Yeom et al. 2018, Theorem 2.)"""
    for name, value in (("train_accuracy", train_accuracy), ("test_accuracy", test_accuracy)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
            raise ValueError(f"`{name}` must be an accuracy in [0, 1]; got {value!r}.")
    return 0.5 + (float(train_accuracy) - float(test_accuracy)) / 2


class GapAttack(CorrectnessAttack):
    """The gap attack: score 1.0 where the label-only target classifies the candidate correctly, else 0.0.

    The baseline every label-only attack must beat: its accuracy on balanced members and non-members is
    1/2 + gap/2 (gap_attack_accuracy). predict() calls members the correctly classified records. Same as
    mialab.attacks.loss.CorrectnessAttack (Yeom's 0-1-loss adversary), under the label-only name.

    Threat model:
        data:      none
        knowledge: none
        outputs:   any ("label", "probabilities", "rounded", "top_k"); only the predicted class is used
        queries:   one per candidate record
    Paper: C. A. Choquette-Choo, F. Tramèr, N. Carlini, N. Papernot, "Label-Only Membership Inference Attacks",
    ICML 2021 (Sec. 4, the gap attack).
    """


class NoiseRobustnessAttack(Attack):
    """Choquette-Choo et al.'s data-augmentation / noise-robustness attack against a label-only black box.

    score(target, X, y) -> (n,) in [0, 1]: the share of the record and its `n_copies` noisy copies (noisy_copies:
    bit flips for 0/1 records, Gaussian noise or pixel shifts for images) that the target still classifies as y.
    Members were fitted, so they tend to keep their label under noise; non-members near the decision boundary lose
    it. Unlike the gap attack, two correctly classified records now get different scores. `strength` should match
    the data (the paper tunes it on shadow models). predict() uses `threshold` (default: all queries correct),
    an argument rather than a fitted value because the attack fits nothing; it is kept as `threshold_` like every
    attack's decision threshold.

    Threat model:
        data:      none (the paper uses shadow models only to tune the noise strength)
        knowledge: what noise keeps records realistic (bit flips for purchase, shifts for images)
        outputs:   the predicted label ("label"; any other output is reduced to its argmax)
        queries:   n_copies + 1 per candidate record
    Paper: C. A. Choquette-Choo, F. Tramèr, N. Carlini, N. Papernot, "Label-Only Membership Inference Attacks",
    ICML 2021 (Sec. 5, data augmentation and noise robustness). Taught in notebook 05.
    """

    needs = "labels"

    def __init__(self, n_copies: int = 20, noise: str = "flip", strength: float = 0.02, *, image_shape=(8, 8),
                 threshold: float = 1.0, random_state: int = 0):
        self.n_copies = check_positive_int(n_copies, "n_copies")
        self.noise = check_choice(noise, "noise", NOISES)
        self.strength = strength
        self.image_shape = image_shape
        self.threshold = check_fraction(threshold, "threshold", inclusive=True)
        self.threshold_ = self.threshold
        self.random_state = check_seed(random_state)
        # validate strength now, on a tiny record of the right kind
        noisy_copies(np.zeros((1, int(np.prod(image_shape))), np.float32), 1, noise, strength,
                     image_shape=image_shape, random_state=0)

    def score(self, target, X, y) -> np.ndarray:
        """Share of the record and its noisy copies classified as y: X (n, d), y (n,) -> (n,) in [0, 1]."""
        check_target(target)
        X = as_features(X)
        y = as_labels(y, n=len(X), n_classes=getattr(target, "n_classes", None))
        copies = noisy_copies(X, self.n_copies, self.noise, self.strength, image_shape=self.image_shape,
                              random_state=self.random_state)
        queries = np.concatenate([X.reshape(len(X), -1)[None], copies]).reshape(-1, copies.shape[-1])
        correct = (query_labels(target, queries).reshape(self.n_copies + 1, len(X)) == y)
        return correct.mean(axis=0)


# ---------------------------------------------------------------------------------------------------------------
# the decision-boundary attack (Choquette-Choo et al. 2021, Sec. 5; Li & Zhang 2021)
# ---------------------------------------------------------------------------------------------------------------

@reference
def boundary_point(label_of, x, y: int, x_other, tol: float = 1e-3) -> np.ndarray:
    """Where the segment from x to x_other leaves class y, by binary search on label queries: label_of(points (m, d))
    -> labels (m,), x (d,) labelled y, x_other (d,) labelled otherwise -> the point (d,) on the segment that the
    target labels otherwise, within `tol` (L2) of the crossing, in ceil(log2(|x_other - x| / tol)) queries.

    The step HopSkipJump repeats (Chen et al. 2020); where class y's region is convex (a linear or argmax-of-linear
    model) the segment crosses its boundary once and the crossing is unique. Taught in notebook 05 (exercise 5.4)."""
    if not callable(label_of):
        raise TypeError(f"`label_of` must be a function of points (m, d) returning labels (m,); got "
                        f"{type(label_of).__name__}. Wrap a black box: lambda P: query_labels(target, P).")
    x, x_other = as_array(x, "x", ndim=1), as_array(x_other, "x_other", ndim=1)
    if x_other.shape != x.shape:
        raise ValueError(f"`x_other` has {x_other.size} features but `x` has {x.size}; pass two points of one space.")
    y = check_scalar(y, "y", numbers.Integral, low=0)
    tol = check_scalar(tol, "tol", numbers.Real, low=0.0, closed="neither")
    length = float(np.linalg.norm(x_other - x))
    low, high = 0.0, 1.0                              # x + t (x_other - x): labelled y at low, otherwise at high
    while (high - low) * length > tol:
        mid = 0.5 * (low + high)
        if int(np.asarray(label_of((x + mid * (x_other - x))[None]))[0]) == y:
            low = mid
        else:
            high = mid
    return x + high * (x_other - x)


def _check_bounds(bounds, X: np.ndarray) -> tuple[float, float]:
    if bounds is None:
        low, high = float(X.min()), float(X.max())
        return (low, high) if high > low else (low - 1.0, high + 1.0)
    if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
        raise TypeError(f"`bounds` must be a pair (low, high) of feature values, e.g. (0, 1) for purchase, or None "
                        f"(the candidates' range); got {bounds!r}.")
    low, high = check_scalar(bounds[0], "bounds[0]"), check_scalar(bounds[1], "bounds[1]")
    if not low < high:
        raise ValueError(f"`bounds` must be (low, high) with low < high; got {bounds!r}.")
    return low, high


def boundary_distance(target, X, y, *, max_queries: int = 300, n_directions: int = 20, tol: float = 1e-3,
                      bounds=None, init_tries: int = 20, random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Each record's L2 distance to the target's decision boundary, from label queries: X (n, d), y (n,) ->
    (distances (n,), queries (n,) int), a HopSkipJump-style search (Chen et al. 2020) with at most `max_queries`
    label queries per record, all through the black box (its n_queries grows by queries.sum()).

    A record the target misclassifies is at distance 0 (one query). Otherwise: draw uniform noise within `bounds`
    (default: the candidates' range) until the target labels it otherwise (at most `init_tries` draws), binary-search
    the segment back to the boundary (to `tol` of its length), then repeat while the budget lasts: estimate the
    boundary's normal from the labels of n_directions * sqrt(t) random perturbations (t = 1, 2, ...), step along it
    (halving the step until the point is still labelled otherwise) and binary-search back towards the record. The
    distance is the smallest found. A record for which no draw is labelled otherwise starts from the nearest other
    candidate the target labels otherwise (no query); with none, its distance is the diagonal of `bounds`.

    Threat model: label-only outputs; knowledge of the feature range. Papers: C. A. Choquette-Choo et al., ICML 2021
    (Sec. 5, boundary distance); Z. Li, Y. Zhang, CCS 2021; J. Chen, M. Jordan, M. Wainwright, "HopSkipJumpAttack",
    IEEE S&P 2020. Taught in notebook 05, section 7."""
    check_target(target)
    X = as_features(X)
    X = X.reshape(len(X), -1).astype(np.float64)
    y = as_labels(y, n=len(X), n_classes=getattr(target, "n_classes", None))
    n_directions = check_positive_int(n_directions, "n_directions")
    tol = check_scalar(tol, "tol", numbers.Real, low=0.0, high=1.0, closed="neither")
    init_tries = check_positive_int(init_tries, "init_tries")
    steps = int(np.ceil(np.log2(1.0 / tol)))          # binary-search queries per search
    max_queries = check_positive_int(max_queries, "max_queries")
    if max_queries < steps + 2:
        raise ValueError(f"`max_queries` = {max_queries} leaves no room for one search: a record takes 1 query for its "
                         f"label, 1 for a starting point and {steps} for a binary search at tol={tol:g}; pass at least "
                         f"{steps + 2} (a few hundred for a useful distance).")
    low, high = _check_bounds(bounds, X)
    rng = np.random.default_rng(check_seed(random_state))
    n, d = X.shape
    t, spent = 1, 0
    while spent + int(n_directions * np.sqrt(t)) <= max_queries:      # the largest round of perturbations
        spent, t = spent + int(n_directions * np.sqrt(t)), t + 1
    check_memory(n * int(n_directions * np.sqrt(max(t - 1, 1))) * d * 12, f"the perturbations of {n} records",
                 "attack fewer records at a time or lower `n_directions`")
    queries = np.zeros(n, np.int64)

    def otherwise(points, rows):
        """Query points (m, d) for the records `rows` (m,): True where the target labels one not y."""
        if len(rows) == 0:
            return np.zeros(0, bool)
        labels = query_labels(target, points.astype(np.float32))
        np.add.at(queries, rows, 1)
        return labels != y[rows]

    def search(rows, far):
        """Binary search from X[rows] (labelled y) to far (labelled otherwise): the boundary points."""
        lo, hi = np.zeros(len(rows)), np.ones(len(rows))
        for _ in range(steps):
            mid = (lo + hi) / 2
            out = otherwise(X[rows] + mid[:, None] * (far - X[rows]), rows)
            hi, lo = np.where(out, mid, hi), np.where(out, lo, mid)
        return X[rows] + hi[:, None] * (far - X[rows])

    predicted = query_labels(target, X.astype(np.float32))
    queries += 1
    predicted_other = predicted != y
    distances = np.zeros(n)
    start = np.full((n, d), np.nan)
    for _ in range(init_tries):                        # random noise until the target labels it otherwise
        rows = np.flatnonzero(~predicted_other & np.isnan(start[:, 0]) & (queries + 1 + steps <= max_queries))
        if len(rows) == 0:
            break
        noise = rng.uniform(low, high, size=(len(rows), d))
        found = otherwise(noise, rows)
        start[rows[found]] = noise[found]
    for i in np.flatnonzero(~predicted_other & np.isnan(start[:, 0])):   # no draw: the nearest other candidate
        others = np.flatnonzero(predicted != y[i])
        if len(others):
            start[i] = X[others[np.argmin(np.linalg.norm(X[others] - X[i], axis=1))]]
        else:
            distances[i] = np.sqrt(d) * (high - low)
    started = np.flatnonzero(~np.isnan(start[:, 0]))
    point = start.copy()
    active = started[queries[started] + steps <= max_queries]
    point[active] = search(active, start[active])
    distances[started] = np.linalg.norm(point[started] - X[started], axis=1)
    halvings = 10
    for t in range(1, max_queries):
        m = int(n_directions * np.sqrt(t))
        rows = active[queries[active] + m + halvings + steps <= max_queries]
        if len(rows) == 0:
            break
        current = point[rows]
        dist = np.linalg.norm(current - X[rows], axis=1)
        delta = (np.full(len(rows), 0.1 * (high - low)) if t == 1 else 0.01 * dist)[:, None, None]
        u = rng.standard_normal((len(rows), m, d), dtype=np.float32)
        u /= np.linalg.norm(u, axis=2, keepdims=True)
        near, delta = current[:, None].astype(np.float32), delta.astype(np.float32)
        probes = np.clip(near + delta * u, low, high)
        u = (probes - near) / delta                    # the directions as clipped
        phi = np.where(otherwise(probes.reshape(-1, d), np.repeat(rows, m)).reshape(len(rows), m), 1.0, -1.0)
        mean = phi.mean(axis=1, keepdims=True)
        weight = np.where(np.abs(mean) == 1.0, phi, phi - mean)     # all one side: step along (or against) them all
        grad = np.einsum("rm,rmd->rd", weight.astype(np.float32), u).astype(np.float64) / m
        grad /= np.maximum(np.linalg.norm(grad, axis=1, keepdims=True), 1e-12)
        step = dist / np.sqrt(t)
        moved = current.copy()
        searching = np.ones(len(rows), bool)
        for _ in range(halvings):                      # a geometric step search: halve until still otherwise
            idx = np.flatnonzero(searching)
            if len(idx) == 0:
                break
            candidate = np.clip(current[idx] + step[idx, None] * grad[idx], low, high)
            out = otherwise(candidate, rows[idx])
            moved[idx[out]] = candidate[out]
            searching[idx[out]] = False
            step[idx[~out]] /= 2
        point[rows] = search(rows, moved)
        distances[rows] = np.minimum(distances[rows], np.linalg.norm(point[rows] - X[rows], axis=1))
    return distances, queries


class BoundaryDistanceAttack(Attack):
    """The decision-boundary attack against a label-only black box: score = each record's L2 distance to the
    target's decision boundary, found with label queries by a HopSkipJump-style search (boundary_distance).

    score(target, X, y) -> (n,) distances >= 0, 0 for a misclassified record; higher = member (a model pushes its
    training records away from the boundary). queries_ holds each record's query count after score(). predict()
    uses `threshold` (a distance; default None: choose one on attacker-side data, as the paper does on shadow models
    and ART's calibrate_distance_threshold does on known members), kept as `threshold_`.

    Threat model:
        data:      none (the paper calibrates the threshold on shadow models)
        knowledge: the range of the features (`bounds`)
        outputs:   the predicted label ("label"; any other output is reduced to its argmax)
        queries:   up to `max_queries` per candidate record (a few hundred; the paper uses thousands)
    Paper: C. A. Choquette-Choo, F. Tramèr, N. Carlini, N. Papernot, "Label-Only Membership Inference Attacks",
    ICML 2021 (Sec. 5, decision boundary distance); Z. Li, Y. Zhang, "Membership Leakage in Label-Only Exposures",
    CCS 2021. IBM ART: art.attacks.inference.membership_inference.LabelOnlyDecisionBoundary. Taught in notebook 05.
    """

    needs = "labels"

    def __init__(self, max_queries: int = 300, n_directions: int = 20, *, tol: float = 1e-3, bounds=None,
                 threshold: float | None = None, random_state: int = 0):
        self.max_queries = check_positive_int(max_queries, "max_queries")
        self.n_directions = check_positive_int(n_directions, "n_directions")
        self.tol = check_scalar(tol, "tol", numbers.Real, low=0.0, high=1.0, closed="neither")
        if bounds is not None:
            _check_bounds(bounds, np.zeros((1, 1)))
        self.bounds = bounds
        self.threshold = check_scalar(threshold, "threshold", numbers.Real, low=0.0, allow_none=True)
        self.threshold_ = self.threshold
        self.random_state = check_seed(random_state)

    def score(self, target, X, y) -> np.ndarray:
        """Each record's L2 distance to the target's decision boundary: X (n, d), y (n,) -> (n,) >= 0."""
        distances, self.queries_ = boundary_distance(target, X, y, max_queries=self.max_queries,
                                                     n_directions=self.n_directions, tol=self.tol, bounds=self.bounds,
                                                     random_state=self.random_state)
        return distances
