"""mialab.attacks.augment: shifted and noisy copies of records (LiRA's augmented queries, the label-only
noise-robustness attack), and the old import paths that notebooks use."""

import numpy as np
import pytest

from mialab.attacks import augment, label_only, lira
from mialab.attacks.augment import noisy_copies, shifted_copies


def test_shifted_copies_move_pixels_and_keep_the_original_first():
    X = np.arange(64, dtype=np.float32).reshape(1, 64)
    copies = shifted_copies(X)
    assert copies.shape == (5, 1, 64)
    assert np.array_equal(copies[0], X)
    right = copies[1, 0].reshape(8, 8)                            # shift (0, 1): one pixel right, zero fill
    assert np.array_equal(right[:, 1:], X.reshape(8, 8)[:, :-1]) and (right[:, 0] == 0).all()
    assert shifted_copies(X, mirror=True).shape == (10, 1, 64)


def test_noisy_copies_flip_about_the_asked_share_of_bits():
    X = (np.random.default_rng(0).random((200, 100)) < 0.1).astype(np.float32)
    copies = noisy_copies(X, 5, "flip", 0.05, random_state=1)
    assert copies.shape == (5, 200, 100)
    assert np.mean(copies != X) == pytest.approx(0.05, abs=0.005)
    assert set(np.unique(copies)) <= {0.0, 1.0}
    assert np.array_equal(copies, noisy_copies(X, 5, "flip", 0.05, random_state=1))     # seeded


def test_noisy_copies_gaussian_and_shift():
    X = np.random.default_rng(0).random((10, 64)).astype(np.float32)
    g = noisy_copies(X, 3, "gaussian", 0.1)
    assert g.shape == (3, 10, 64) and np.std(g - X) == pytest.approx(0.1, rel=0.2)
    s = noisy_copies(X, 6, "shift", 1, random_state=2)
    allowed = shifted_copies(X, shifts=[(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
    assert s.shape == (6, 10, 64)
    assert all(any(np.array_equal(copy, a) for a in allowed) for copy in s)   # each copy one whole-pixel shift


def test_the_old_import_paths_are_the_augment_functions():
    assert lira.shifted_copies is augment.shifted_copies          # notebook 05 calls lira.shifted_copies
    assert label_only.noisy_copies is augment.noisy_copies
