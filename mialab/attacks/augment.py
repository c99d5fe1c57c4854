"""Augmented copies of records, for attacks that query a record and its neighbours: shifted images (LiRA's
augmented queries, Carlini et al. 2022, Sec. VI-D) and noisy copies (the label-only noise-robustness attack,
Choquette-Choo et al. 2021, Sec. 5). Each function maps X (n, d) to copies (n_copies, n, d).

    >>> import numpy as np
    >>> shifted_copies(np.eye(1, 64)).shape          # the original, then 4 one-pixel shifts of an 8x8 image
    (5, 1, 64)
"""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import as_features, check_bool, check_choice, check_fraction, check_memory, check_positive_int, \
    check_random_state, check_scalar

NOISES = ("flip", "gaussian", "shift")

__all__ = ["shifted_copies", "noisy_copies", "NOISES"]


def shifted_copies(X, image_shape=(8, 8), shifts=((0, 0), (0, 1), (0, -1), (1, 0), (-1, 0)), mirror: bool = False):
    """Copies of images X (n, h*w) shifted by whole pixels (zero fill): -> (n_aug, n, h*w), the first shift first.

    The digits are 8x8; shifts of 1 pixel keep them legible, mirror images (mirror=True adds each shift flipped
    left-right) mostly do not (a mirrored 2 is no 2), so they are off by default. (Carlini et al. 2022, Sec. VI-D
    use flips and 4-pixel shifts on CIFAR-10.)"""
    X = as_features(X)
    mirror = check_bool(mirror, "mirror")
    if not isinstance(image_shape, (tuple, list)) or len(image_shape) != 2:
        raise ValueError(f"`image_shape` must be a pair (height, width), e.g. (8, 8); got {image_shape!r}.")
    h, w = (check_scalar(s, "image_shape", int, low=1) for s in image_shape)
    if int(np.prod(X.shape[1:])) != h * w:
        raise ValueError(f"`X` has {int(np.prod(X.shape[1:]))} features per record but image_shape {image_shape} "
                         f"needs {h * w}.")
    if not isinstance(shifts, (tuple, list)) or len(shifts) == 0:
        raise ValueError(f"`shifts` must be a non-empty list of (dy, dx) pixel pairs; got {shifts!r}.")
    images = X.reshape(len(X), h, w)
    out = []
    for shift in shifts:
        if not isinstance(shift, (tuple, list)) or len(shift) != 2:
            raise ValueError(f"each of `shifts` must be a pair (dy, dx) of whole pixels; got {shift!r}.")
        dy, dx = shift
        bad = not (isinstance(dy, numbers.Integral) and isinstance(dx, numbers.Integral))
        if bad or abs(dy) >= h or abs(dx) >= w:
            raise ValueError(f"each of `shifts` must be a pair of whole pixels smaller than the image ({h}x{w}); "
                             f"got {(dy, dx)}.")
        shifted = np.zeros_like(images)
        shifted[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
            images[:, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
        out.append(shifted)
        if mirror:
            out.append(shifted[:, :, ::-1])
    return np.stack(out).reshape(len(out), len(X), h * w)


def noisy_copies(X, n_copies: int, noise: str = "flip", strength: float = 0.02, *, image_shape=(8, 8),
                 random_state: int = 0) -> np.ndarray:
    """`n_copies` noisy copies of each record: X (n, d) -> (n_copies, n, d).

    noise "flip": each feature of a 0/1 record flipped with probability `strength`; "gaussian": N(0, strength^2)
    added to each feature; "shift": images (`image_shape`) moved by a random whole-pixel offset of at most
    `strength` pixels in each direction (zero fill)."""
    X = as_features(X)
    n_copies = check_positive_int(n_copies, "n_copies")
    check_choice(noise, "noise", NOISES)
    rng = check_random_state(random_state)
    flat = X.reshape(len(X), -1)
    check_memory(n_copies * flat.size * 8, f"{n_copies} noisy copies of {len(X)} records", "lower `n_copies`")
    if noise == "flip":
        strength = check_fraction(strength, "strength", low=0.0, high=1.0)
        if not np.isin(flat, (0.0, 1.0)).all():
            raise ValueError("noise='flip' needs 0/1 records (such as purchase); use noise='gaussian' for others.")
        flips = rng.random((n_copies, *flat.shape)) < strength
        return np.where(flips, 1.0 - flat, flat).astype(np.float32)
    if noise == "gaussian":
        if isinstance(strength, bool) or not isinstance(strength, numbers.Real) or not 0 < strength < np.inf:
            raise ValueError(f"`strength` must be a finite standard deviation > 0 for noise='gaussian'; got "
                             f"{strength!r}.")
        return (flat + rng.normal(0.0, strength, (n_copies, *flat.shape))).astype(np.float32)
    if isinstance(strength, bool) or not isinstance(strength, numbers.Integral) or strength < 1:
        raise ValueError(f"`strength` must be a whole number of pixels >= 1 for noise='shift'; got {strength!r}.")
    offsets = rng.integers(-strength, strength + 1, size=(n_copies, 2))
    out = np.empty((n_copies, *flat.shape), np.float32)
    for c, (dy, dx) in enumerate(offsets):
        out[c] = shifted_copies(flat, image_shape, shifts=((int(dy), int(dx)),))[0]
    return out
