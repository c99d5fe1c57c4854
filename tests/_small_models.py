"""A seeded small purchase-like universe of many models for the LiRA / RMIA / vulnerable-records tests."""

import contextlib

import numpy as np
import torch

from mialab import data
from mialab.cache import train_in_out_models

CONFIG = dict(hidden=(64,), epochs=20, batch_size=32)
N_RECORDS = 600


@contextlib.contextmanager
def one_thread():
    """Train tiny models on one thread: their matmuls are too small to split, and on a busy 2-core machine two
    threads wait on each other (10x slower measured)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def small_universe(cache_dir, n_models: int = 16):
    """(X, y, stack, masks, X_population, y_population): n_models MLPs, each record IN for half of them."""
    X, y = data.load_purchase(n_classes=10, n_records=2000, random_state=0)
    with one_thread():
        stack, masks = train_in_out_models(X[:N_RECORDS], y[:N_RECORDS], n_models, chunk_size=8,
                                           cache_dir=cache_dir, n_classes=10, random_state=0, **CONFIG)
    return X[:N_RECORDS], y[:N_RECORDS], stack, masks, X[N_RECORDS:N_RECORDS + 600], y[N_RECORDS:N_RECORDS + 600]


def synthetic_values(n_records: int = 2000, n_chunks: int = 5, chunk_size: int = 4, random_state: int = 0,
                     spread=None):
    """Logit-scaled confidences of records x models with known structure: value = base + effect * IN + noise.

    Records differ a lot in base level (some are easy, some hard), which hides membership from a global threshold
    and not from per-record Gaussians. `spread` (n,) sets each record's noise level (default 0.5 for all).
    Returns values (n, m), masks (n, m), with chunk 0 meant as the targets."""
    rng = np.random.default_rng(random_state)
    masks = np.concatenate([data.in_out_mask(n_records, chunk_size, random_state=random_state + c)
                            for c in range(n_chunks)], axis=1)
    base = rng.normal(0.0, 3.0, n_records)
    effect = np.abs(rng.normal(1.5, 1.5, n_records))
    spread = np.full(n_records, 0.5) if spread is None else spread
    noise = rng.normal(size=masks.shape) * spread[:, None]
    return base[:, None] + effect[:, None] * masks + noise, masks
