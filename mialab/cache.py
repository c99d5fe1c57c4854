"""Trained models cached on disk, keyed by everything that made them, so notebooks and tests train each stack once.

`train_many_cached(X, y, masks, **config)` is `mialab.models.train_many` with a cache: the key is a SHA-256 of
the data's bytes, the mask's bytes, every training option (architecture, seed, epochs, learning rate, weight
decay, batch size, ...) and the versions of the training code (mialab's version, a hash of mialab/models.py, and
torch's version). A changed configuration therefore gets a new key and is trained afresh; it never reuses a stale
model. Each stack is stored as `<key>.pt` (its weights) next to `<key>.sha256` (the checksum of that file) under
`mialab.data.cache_dir()/models/`; a missing, truncated or garbled file fails the checksum and is retrained.

`train_in_out_models(X, y, n_models, chunk_size=4, **config)` trains LiRA's reference models in chunks of
`chunk_size`, each chunk a cached stack with its own balanced in/out mask: asking for 64 models after 16 reuses
the first 16 and trains 48.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from . import __version__
from ._validation import as_features, as_labels, check_positive_int

__all__ = ["train_many_cached", "train_in_out_models", "cache_key", "model_cache_dir", "concat_stacks",
           "CorruptCacheWarning"]

_KEY_VERSION = 1  # bump when the cache layout or the key's recipe changes
_NOT_IN_KEY = {"progress_desc", "group_size"}  # train_many options that change speed or display, never the models


class CorruptCacheWarning(UserWarning):
    """A cached model file failed its checksum or could not be read; it is being retrained."""


def model_cache_dir(cache_dir=None) -> Path:
    """The folder of cached models: `cache_dir` if given, else mialab.data.cache_dir() / "models" (created)."""
    if cache_dir is None:
        from .data import cache_dir as data_cache_dir
        path = data_cache_dir() / "models"
    else:
        path = Path(cache_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RuntimeError(f"cannot create the model cache folder {path} ({error}); pass cache_dir= a writable "
                           "folder or set MIALAB_CACHE.") from None
    return path


def _training_defaults() -> dict:
    from .models import train_many
    params = inspect.signature(train_many).parameters
    return {name: p.default for name, p in params.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and name not in _NOT_IN_KEY}


def _code_fingerprint() -> str:
    """mialab's version, a hash of the training code's source file, and torch's version."""
    from . import models
    source = Path(models.__file__).read_bytes()
    return f"mialab {__version__}; models.py {hashlib.sha256(source).hexdigest()[:16]}; torch {torch.__version__}"


def _normalised_config(config: dict) -> dict:
    defaults = _training_defaults()
    unknown = set(config) - set(defaults) - _NOT_IN_KEY
    if unknown:
        raise TypeError(f"unknown training option(s) {sorted(unknown)}; train_many takes {sorted(defaults)}.")
    full = {**defaults, **{k: v for k, v in config.items() if k not in _NOT_IN_KEY}}
    hidden = full["hidden"]
    full["hidden"] = [int(hidden)] if isinstance(hidden, (int, np.integer)) else [int(h) for h in hidden]
    for name in ("lr", "weight_decay", "dropout"):
        full[name] = float(full[name])
    return full


def _check_inputs(X, y, masks):
    from .models import _check_masks
    X = as_features(X)
    y = as_labels(y, n=len(X))
    return X, y, _check_masks(masks, len(X))


def cache_key(X, y, masks, **config) -> str:
    """The cache key (64 hex digits) of train_many(X, y, masks, **config): changes with the data, the masks,
    any training option (defaults filled in, so leaving an option out or passing its default give one key) and
    the version of the training code."""
    X, y, masks = _check_inputs(X, y, masks)
    digest = hashlib.sha256()
    digest.update(f"mialab-model-cache {_KEY_VERSION}\n".encode())
    digest.update(f"X {X.shape} {X.dtype}\n".encode())
    digest.update(np.ascontiguousarray(X, dtype="<f4").tobytes())
    digest.update(f"\ny {y.shape}\n".encode())
    digest.update(np.ascontiguousarray(y, dtype="<i8").tobytes())
    digest.update(f"\nmasks {masks.shape}\n".encode())
    digest.update(np.packbits(np.ascontiguousarray(masks), axis=None).tobytes())
    digest.update(("\n" + json.dumps(_normalised_config(config), sort_keys=True)).encode())
    digest.update(("\n" + _code_fingerprint()).encode())
    return digest.hexdigest()


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _save(stack, path: Path, key: str, n_records: int) -> None:
    state = {"key": key, "n_records": n_records, "activation": stack.activation, "dropout": stack.dropout,
             "seeds": list(stack.seeds), "weights": [w.clone() for w in stack.weights],
             "biases": [b.clone() for b in stack.biases]}
    _atomic_write(path, lambda handle: torch.save(state, handle))
    checksum = path.with_suffix(".sha256")
    digest = _file_digest(path)
    _atomic_write(checksum, lambda handle: handle.write(f"{digest}  {path.name}\n".encode()))


def _load(path: Path, key: str, n_models: int):
    """The cached ModelStack, None when there is none, or None plus a warning when the file is corrupt."""
    from .models import ModelStack
    checksum = path.with_suffix(".sha256")
    if not path.exists() and not checksum.exists():
        return None
    problem = None
    try:
        expected = checksum.read_text().split()[0]
        if _file_digest(path) != expected:
            problem = "its checksum does not match (truncated or garbled)"
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
            if state.get("key") != key or state["weights"][0].shape[0] != n_models:
                problem = "it holds another configuration"
    except (OSError, IndexError, KeyError, RuntimeError, ValueError, EOFError) as error:
        problem = f"it cannot be read ({type(error).__name__})"
    except Exception as error:  # a garbled pickle can raise nearly anything
        problem = f"it cannot be read ({type(error).__name__})"
    if problem:
        warnings.warn(f"the cached models {path.name} are unusable: {problem}; training them again.",
                      CorruptCacheWarning, stacklevel=3)
        return None
    return ModelStack(state["weights"], state["biases"], activation=state["activation"], dropout=state["dropout"],
                      seeds=state["seeds"])


def train_many_cached(X, y, masks, *, cache_dir=None, **config):
    """`mialab.models.train_many(X, y, masks, **config)`, loaded from the disk cache when the same configuration was
    trained before: X (n, d), y (n,), masks bool (n, n_models) -> ModelStack.

    The key (see `cache_key`) covers the data's and the masks' bytes, every training option and the training
    code's version. A corrupt cache file (checksum mismatch, unreadable) is retrained with a CorruptCacheWarning.
    `cache_dir` defaults to mialab.data.cache_dir() / "models"; the environment variable MIALAB_CACHE moves it.
    """
    from .models import train_many
    X, y, masks = _check_inputs(X, y, masks)
    key, path = _entry(X, y, masks, config, cache_dir)
    stack = _load(path, key, masks.shape[1])
    if stack is None:
        stack = train_many(X, y, masks, **config)
        _store(stack, path, key, len(X))
    return stack


def _entry(X, y, masks, config, cache_dir) -> tuple[str, Path]:
    key = cache_key(X, y, masks, **config)
    return key, model_cache_dir(cache_dir) / f"{key}.pt"


def _store(stack, path: Path, key: str, n_records: int) -> None:
    try:
        _save(stack, path, key, n_records)
    except OSError as error:
        warnings.warn(f"could not write the model cache in {path.parent} ({error}); the models will be trained "
                      "again next time.", stacklevel=3)


def concat_stacks(stacks):
    """One ModelStack holding the models of `stacks` (same shapes and activation) in order."""
    from .models import ModelStack
    stacks = list(stacks)
    if not stacks:
        raise ValueError("`stacks` is empty; pass at least one ModelStack.")
    first = stacks[0]
    for s in stacks[1:]:
        if [w.shape[1:] for w in s.weights] != [w.shape[1:] for w in first.weights] or s.activation != first.activation:
            raise ValueError("all stacks must have the same layer shapes and activation to be joined.")
    return ModelStack([torch.cat([s.weights[l] for s in stacks]) for l in range(len(first.weights))],
                      [torch.cat([s.biases[l] for s in stacks]) for l in range(len(first.biases))],
                      activation=first.activation, dropout=first.dropout,
                      seeds=[seed for s in stacks for seed in s.seeds])


def train_in_out_models(X, y, n_models: int, *, chunk_size: int = 4, random_state: int = 0, cache_dir=None,
                        **config):
    """LiRA's reference models: `n_models` MLPs, each record IN for exactly half of every chunk of `chunk_size`
    models -> (ModelStack, masks bool (n_records, n_models)).

    Chunk c is `train_many_cached(X, y, in_out_mask(n, chunk_size, seed_c), random_state=seed_c, **config)` with
    seed_c the c-th word of numpy.random.SeedSequence(random_state), so the first 16 of 64 models are the 16
    models: growing n_models reuses the cached chunks. The chunks not in the cache are trained together in one
    call (mialab.models.train_many_chunks: the same models, fewer steps), then cached one by one. n_models must
    be a multiple of chunk_size (even).
    (Carlini et al. 2022, Sec. V: each record IN for half of the models, so each model trains on about half.)
    """
    from .data import in_out_mask
    X = as_features(X)
    y = as_labels(y, n=len(X))
    n_models = check_positive_int(n_models, "n_models", minimum=2)
    chunk_size = check_positive_int(chunk_size, "chunk_size", minimum=2)
    if chunk_size % 2 or n_models % chunk_size:
        raise ValueError(f"`n_models` ({n_models}) must be a multiple of `chunk_size` ({chunk_size}), which must be "
                         "even, so every record is IN for exactly half the models of each chunk.")
    from ._validation import check_random_state
    check_random_state(random_state)
    n_chunks = n_models // chunk_size
    seeds = np.random.SeedSequence(int(random_state)).generate_state(n_chunks)
    config["n_classes"] = config.get("n_classes") or int(y.max()) + 1
    masks = [in_out_mask(len(X), chunk_size, random_state=int(seed)) for seed in seeds]
    entries = [_entry(X, y, mask, dict(config, random_state=int(seed)), cache_dir) for mask, seed in zip(masks, seeds)]
    stacks = [_load(path, key, chunk_size) for key, path in entries]
    missing = [c for c, stack in enumerate(stacks) if stack is None]
    if missing:
        # the chunks not cached are trained in one call (fuller steps), then stored chunk by chunk
        from .models import train_many_chunks
        trained = train_many_chunks(X, y, [(masks[c], int(seeds[c])) for c in missing], **config)
        for c, stack in zip(missing, trained):
            stacks[c] = stack
            _store(stack, entries[c][1], entries[c][0], len(X))
    return concat_stacks(stacks), np.concatenate(masks, axis=1)
