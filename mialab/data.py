"""Datasets and membership splits: the course's three offline datasets, target/shadow splits, in/out masks.

- `load_purchase`: a synthetic Purchase-100-like set (600 binary "bought product j" features, classes by k-means),
  generated on first use and cached on disk (see `cache_dir`). Datasheet: datasets/purchase.md.
- `load_digits`, `load_breast_cancer`: scikit-learn's bundled data, no download. datasets/digits.md, breast_cancer.md.
- `target_shadow_split`: the target's members and non-members and the attacker's pool, disjoint.
- `in_out_mask`: which records each of many models trains on, each record IN for exactly half of them (LiRA).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
from scipy import sparse

from ._validation import as_features, as_labels, check_choice, check_memory, check_positive_int, check_random_state, \
    check_seed

__all__ = ["load_purchase", "load_digits", "load_breast_cancer", "load_dataset", "cache_dir", "array_checksum",
           "Split", "target_shadow_split", "in_out_mask", "PURCHASE_VERSION", "PURCHASE_CLASS_COUNTS"]

PURCHASE_VERSION = "purchase-synth-1"
"""Changes whenever the generator's output changes; part of every cache file's name."""

PURCHASE_CLASS_COUNTS = (2, 10, 20, 50, 100)
"""The class counts of Shokri et al. (2017); any k >= 2 works, these are the ones the datasheet measures."""

N_PRODUCTS = 600
MAX_PURCHASE_RECORDS = 200_000  # the real Purchase-100 has 197,324; X then takes 480 MB as float32

# The generator's parameters (datasets/purchase.md explains each, and what they were tuned to match).
_PURCHASE = dict(
    n_departments=8,         # product groups that shopper types draw most of their favourite products from
    department_size=90,      # products per department (drawn at random; departments may overlap)
    n_types=1000,            # latent shopper types, sizes ~ Dirichlet(1): some common, some rare
    favourites_own=40,       # favourite products a type takes from its department ...
    favourites_any=5,        # ... and from anywhere
    favourite_prob=(0.3, 0.9),  # P(buy a favourite) ~ Uniform over this range, per type and product
    background_median=0.003,  # P(buy) of any product for anyone: popularity, log-normal around this median ...
    background_sigma=1.0,     # ... with this log-sd (a few shared popular products, most rarely bought)
    max_mix=0.5,              # a shopper blends in a second type with weight ~ Uniform(0, max_mix)
    activity_sigma=0.15,      # a shopper's activity multiplies all their buying probabilities, log-normal
)
_KMEANS_MAX_ITER = 100


# --- cache ---------------------------------------------------------------------------------------------------

def cache_dir() -> Path:
    """The folder for generated and downloaded data: $MIALAB_CACHE, else <repo>/datasets/cache, else ~/.cache/mialab.

    The repository's folder is used when mialab runs from a source checkout (it is git-ignored); an installed
    package uses ~/.cache/mialab. The folder is created if needed."""
    env = os.environ.get("MIALAB_CACHE", "").strip()
    if env:
        path = Path(env).expanduser()
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise RuntimeError(f"MIALAB_CACHE={env!r} is not a folder mialab can create or write ({error}); "
                               "point it at a writable folder, or unset it to use the default.") from None
        return path
    repo_datasets = Path(__file__).resolve().parent.parent / "datasets"
    candidates = ([repo_datasets / "cache"] if repo_datasets.is_dir() else []) + [Path.home() / ".cache" / "mialab"]
    for path in candidates:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(path, os.W_OK):
            return path
    raise RuntimeError(f"none of {[str(p) for p in candidates]} is a writable folder; "
                       "set the environment variable MIALAB_CACHE to a folder mialab may write to.")


def array_checksum(X, y) -> str:
    """SHA-256 (hex) of a dataset's bytes: X as C-ordered little-endian float32, then y as little-endian int64.

    Shapes are hashed too, so a reshaped X gives another checksum. The datasheets in datasets/ record this
    for each loader's default output."""
    X = as_features(X)
    y = as_labels(y, n=len(X))
    digest = hashlib.sha256()
    digest.update(f"X{X.shape}y{y.shape}".encode())
    digest.update(np.ascontiguousarray(X, dtype="<f4").tobytes())
    digest.update(np.ascontiguousarray(y, dtype="<i8").tobytes())
    return digest.hexdigest()


def _purchase_cache_file(n_classes: int, n_records: int, random_state: int) -> Path:
    return cache_dir() / f"{PURCHASE_VERSION}_k{n_classes}_n{n_records}_seed{random_state}.npz"


def _read_purchase_cache(path: Path, n_classes: int, n_records: int):
    """The cached (X, y), or None when the file is missing, unreadable, or not what this call would generate."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            bits, y, version = archive["X_bits"], archive["y"], str(archive["version"])
        X = np.unpackbits(bits, axis=1, count=N_PRODUCTS)
    except Exception:  # a truncated or foreign file: regenerate
        return None
    ok = (version == PURCHASE_VERSION and X.shape == (n_records, N_PRODUCTS) and y.shape == (n_records,)
          and y.dtype == np.int64 and y.min() >= 0 and y.max() < n_classes)
    return (X.astype(np.float32), y) if ok else None


def _write_purchase_cache(path: Path, X: np.ndarray, y: np.ndarray) -> None:
    """Write atomically (temporary file, then rename), so a parallel reader never sees half a file."""
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            np.savez_compressed(handle, X_bits=np.packbits(X.astype(np.uint8), axis=1), y=y,
                                version=np.array(PURCHASE_VERSION))
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a shared cache should be readable by all
        os.replace(tmp, path)
    except OSError as error:
        warnings.warn(f"could not cache the purchase data in {path.parent} ({error}); it will be generated again "
                      "next time. Set MIALAB_CACHE to a writable folder to keep it.", stacklevel=3)
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


# --- synthetic purchase data ------------------------------------------------------------------------------------

def _purchase_features(n_records: int, random_state: int) -> np.ndarray:
    """The generator: binary (n_records, 600) uint8 records of shoppers drawn from latent shopper types.

    The "world" (departments, types, their favourite products, popularity) comes from one random stream, each
    per-shopper quantity from its own, so the first m records of a larger set are the m records of a smaller one."""
    p = _PURCHASE
    world, pick_type, pick_second, pick_mix, pick_activity, pick_buy = (
        np.random.default_rng(s) for s in np.random.SeedSequence(random_state).spawn(6))

    background = np.minimum(p["background_median"] * np.exp(world.normal(0.0, p["background_sigma"], N_PRODUCTS)),
                            0.5)
    departments = np.stack([world.choice(N_PRODUCTS, p["department_size"], replace=False)
                            for _ in range(p["n_departments"])])
    department_of_type = world.integers(p["n_departments"], size=p["n_types"])
    favourite = np.zeros((p["n_types"], N_PRODUCTS))
    low, high = p["favourite_prob"]
    for t in range(p["n_types"]):
        products = np.unique(np.r_[world.choice(departments[department_of_type[t]], p["favourites_own"], replace=False),
                                   world.choice(N_PRODUCTS, p["favourites_any"], replace=False)])
        favourite[t, products] = world.uniform(low, high, len(products))
    type_share = world.dirichlet(np.ones(p["n_types"]))

    first = pick_type.choice(p["n_types"], n_records, p=type_share)
    second = pick_second.choice(p["n_types"], n_records, p=type_share)
    mix = pick_mix.uniform(0.0, p["max_mix"], n_records)[:, None]
    activity = np.exp(pick_activity.normal(0.0, p["activity_sigma"], n_records))[:, None]

    records = np.empty((n_records, N_PRODUCTS), dtype=np.uint8)
    for start in range(0, n_records, 4096):  # in blocks, to keep the float temporaries small
        rows = slice(start, start + 4096)
        taste = (1 - mix[rows]) * favourite[first[rows]] + mix[rows] * favourite[second[rows]]
        a = activity[rows]
        buy = 1 - (1 - np.minimum(a * background, 1)) * (1 - np.minimum(a * taste, 1))
        records[rows] = pick_buy.random(buy.shape) < buy
    return records


def _one_hot(labels: np.ndarray, k: int, dtype) -> sparse.csr_matrix:
    """(k, m) sparse matrix with a 1 at (labels[i], i): left-multiplying records by it sums them per cluster."""
    return sparse.csr_matrix((np.ones(len(labels), dtype), (labels, np.arange(len(labels)))), shape=(k, len(labels)))


def _kmeans(X: np.ndarray, k: int, rng: np.random.Generator, max_iter: int = _KMEANS_MAX_ITER) -> np.ndarray:
    """k-means (greedy k-means++ seeding, then Lloyd) on binary records; labels (n,) int64, 0 = largest cluster.

    Exact: every sum it forms is a whole number (counts of ones) held exactly, so the labels come out bit-identical
    on any machine, thread count or BLAS. A cluster left empty takes the record farthest from its centre (as
    scikit-learn does). Stops when no label changes, or after `max_iter` rounds."""
    n = len(X)
    ones = X.sum(axis=1, dtype=np.float64)
    exact = np.float32 if ones.max() * n < 2 ** 24 else np.float64  # every dot product below is at most this
    Xs = sparse.csr_matrix(X, dtype=exact)

    def sq_dist_to_records(idx):  # squared Euclidean = Hamming distance to the records X[idx], (n, len(idx))
        return ones[:, None] + ones[idx][None, :] - 2 * np.asarray(Xs @ X[idx].T.astype(exact), dtype=np.float64)

    centres = [int(rng.integers(n))]
    closest = sq_dist_to_records(np.array(centres))[:, 0]
    n_trials = 2 + int(np.log(k))
    for _ in range(1, k):
        cumulative = np.cumsum(closest)
        candidates = np.minimum(np.searchsorted(cumulative, rng.random(n_trials) * cumulative[-1], side="right"), n - 1)
        with_candidate = np.minimum(closest[:, None], sq_dist_to_records(candidates))
        best = int(with_candidate.sum(axis=0).argmin())
        centres.append(int(candidates[best]))
        closest = with_candidate[:, best]

    sums, sizes = X[centres].astype(np.float64), np.ones(k)  # a cluster's centre is sums / sizes
    cost = np.empty((n, k))  # ||x - centre||^2 - ||x||^2, refreshed for the clusters that changed
    labels, changed = np.full(n, -1), np.arange(k)
    for _ in range(max_iter):
        dots = np.asarray(Xs @ np.ascontiguousarray(sums[changed].T, dtype=exact), dtype=np.float64)
        size = sizes[changed]
        cost[:, changed] = (sums[changed] ** 2).sum(axis=1) / size ** 2 - 2 * dots / size
        new = cost.argmin(axis=1)
        counts = np.bincount(new, minlength=k)
        for empty in np.flatnonzero(counts == 0):
            distance = ones + cost[np.arange(n), new]
            distance[counts[new] <= 1] = -np.inf  # never empty another cluster
            far = int(distance.argmax())
            counts[new[far]] -= 1
            new[far], counts[empty] = empty, 1
        moved = np.flatnonzero(new != labels)
        if len(moved) == 0:
            break
        if len(moved) == n:  # the first round: sum every cluster
            sums, changed = (_one_hot(new, k, exact) @ Xs).toarray().astype(np.float64), np.arange(k)
        else:  # move the records that changed cluster; whole numbers, so exact
            records = Xs[moved]
            sums += (_one_hot(new[moved], k, exact) @ records - _one_hot(labels[moved], k, exact) @ records).toarray()
            changed = np.unique(np.r_[labels[moved], new[moved]])
        labels, sizes = new, counts.astype(np.float64)
    by_size = np.argsort(-np.bincount(labels, minlength=k), kind="stable")
    return np.argsort(by_size)[labels].astype(np.int64)


def load_purchase(n_classes: int = 100, n_records: int = 20_000, random_state: int = 0):
    """Synthetic Purchase-100-like data: X float32 (n_records, 600) of 0/1, y int64 (n_records,) in range(n_classes).

    Shokri et al. (2017) built Purchase-k from real shoppers: 600 "bought product j" features, classes by
    k-means with k in {2, 10, 20, 50, 100}. This generator draws shoppers from 1,000 latent shopper types, then
    labels them by k-means (fixed seed) on the records; the same `random_state` and `n_records` give the same X
    for every k, relabelled. Tuned to overfit like the real data: a 600-256-100 MLP trained on 2,500 records fits
    them (train accuracy 1.0) and reaches about 0.7 test accuracy at k = 100, higher for fewer classes.
    Generated once (a few seconds) and cached in `cache_dir()`. Recipe and statistics: datasets/purchase.md."""
    n_classes = check_positive_int(n_classes, "n_classes", minimum=2)
    n_records = check_positive_int(n_records, "n_records", minimum=1)
    if n_records < 10 * n_classes:
        raise ValueError(f"`n_records` = {n_records} is too few for {n_classes} classes; k-means needs at least "
                         f"10 records per class, so pass n_records >= {10 * n_classes} (or fewer classes).")
    if n_records > MAX_PURCHASE_RECORDS:
        raise ValueError(f"`n_records` must be at most {MAX_PURCHASE_RECORDS:,} (the real Purchase-100 has 197,324 "
                         f"records); got {n_records:,}.")
    seed = check_seed(random_state)
    # the records, their float copy and k-means' distances to a batch of centres
    check_memory(600 * n_records * 9 + 8 * n_records * n_classes, f"purchase data of {n_records:,} records and "
                 f"{n_classes:,} classes", "lower n_records or n_classes")
    path = _purchase_cache_file(n_classes, n_records, seed)
    cached = _read_purchase_cache(path, n_classes, n_records)
    if cached is not None:
        return cached
    records = _purchase_features(n_records, seed)
    y = _kmeans(records, n_classes, np.random.default_rng([seed, n_classes]))
    X = records.astype(np.float32)
    _write_purchase_cache(path, X, y)
    return X, y


# --- scikit-learn's bundled datasets -----------------------------------------------------------------------------

def load_digits():
    """scikit-learn's 8x8 handwritten digits: X float32 (1797, 64) in [0, 1] (pixel / 16), y int64 (1797,) in 0-9.

    Reshape to images with X.reshape(-1, 1, 8, 8). Bundled with scikit-learn, no download. datasets/digits.md."""
    from sklearn.datasets import load_digits as _load  # deferred: sklearn.datasets is slow to import

    data = _load()
    return (data.data / 16.0).astype(np.float32), data.target.astype(np.int64)


def load_breast_cancer():
    """Wisconsin diagnostic breast cancer: X float32 (569, 30) standardized, y int64 (569,) (0 malignant, 1 benign).

    Each feature has mean 0 and standard deviation 1 over the whole dataset (simple; the mean and sd see every
    record, test ones included). Bundled with scikit-learn, no download. datasets/breast_cancer.md."""
    from sklearn.datasets import load_breast_cancer as _load  # deferred: sklearn.datasets is slow to import

    data = _load()
    X = data.data.astype(np.float64)
    return ((X - X.mean(axis=0)) / X.std(axis=0)).astype(np.float32), data.target.astype(np.int64)


_LOADERS = {"purchase": load_purchase, "digits": load_digits, "breast_cancer": load_breast_cancer}


def load_dataset(name: str, **kwargs):
    """Load a dataset by name ("purchase", "digits" or "breast_cancer"); keyword arguments go to its loader.

    Returns (X float32 (n, d), y int64 (n,))."""
    if not isinstance(name, str):
        raise TypeError(f"`name` must be a dataset name, one of {sorted(_LOADERS)}; got {type(name).__name__}.")
    check_choice(name, "name", _LOADERS)
    loader = _LOADERS[name]
    if kwargs and name != "purchase":
        raise TypeError(f"load_dataset({name!r}) takes no options; got {sorted(kwargs)}. "
                        "Only 'purchase' has options (n_classes, n_records, random_state).")
    unknown = set(kwargs) - {"n_classes", "n_records", "random_state"}
    if unknown:
        raise TypeError(f"load_dataset('purchase') got unknown option(s) {sorted(unknown)}; "
                        "its options are n_classes, n_records and random_state.")
    return loader(**kwargs)


# --- membership splits -------------------------------------------------------------------------------------------

class Split(NamedTuple):
    """Disjoint record indices (int64, sorted): the target's training set, its held-out set, the attacker's pool."""

    target_in: np.ndarray
    target_out: np.ndarray
    shadow: np.ndarray


def target_shadow_split(n_records: int, n_target: int, n_out: int | None = None, random_state: int = 0) -> Split:
    """Split range(n_records) at random into target_in (n_target members), target_out (n_out non-members,
    default n_target) and shadow (the rest: the attacker's pool, possibly empty). Returns a Split of int64 arrays.

    The membership game of Shokri et al. (2017) and Salem et al. (2019): the target trains on target_in; the
    attacker gets no record of target_in or target_out."""
    n_records = check_positive_int(n_records, "n_records", minimum=2)
    n_target = check_positive_int(n_target, "n_target", minimum=1)
    n_out = n_target if n_out is None else check_positive_int(n_out, "n_out", minimum=1)
    check_memory(16 * n_records, f"a split of {n_records:,} records", "lower n_records (the dataset's size)")
    if n_target + n_out > n_records:
        raise ValueError(f"`n_target` + `n_out` = {n_target} + {n_out} = {n_target + n_out} is more than the "
                         f"{n_records} records; pass smaller sizes (at most {n_records} together).")
    order = check_random_state(random_state).permutation(n_records).astype(np.int64)
    return Split(np.sort(order[:n_target]), np.sort(order[n_target:n_target + n_out]),
                 np.sort(order[n_target + n_out:]))


def in_out_mask(n_records: int, n_models: int, random_state: int = 0) -> np.ndarray:
    """Which records each model trains on: bool (n_records, n_models), each row True in exactly n_models // 2 places.

    Each record is IN for a random half of the models and OUT for the other half, so every record has as many
    IN as OUT models (Carlini et al. 2022, LiRA); each model then trains on about half of the records."""
    n_records = check_positive_int(n_records, "n_records", minimum=2)
    n_models = check_positive_int(n_models, "n_models", minimum=2)   # masks only: check_memory bounds it
    if n_models % 2:
        raise ValueError(f"`n_models` must be even, so each record is IN for exactly half the models; "
                         f"got {n_models}. Use {n_models + 1} (or {n_models - 1}).")
    check_memory(9 * n_records * n_models, f"an in/out mask of {n_records:,} records x {n_models:,} models",
                 "lower n_records or n_models")
    rng = check_random_state(random_state)
    half = np.arange(n_models) < n_models // 2
    return rng.permuted(np.broadcast_to(half, (n_records, n_models)), axis=1)
