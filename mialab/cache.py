"""Trained models cached on disk, keyed by everything that made them, so notebooks and tests train each stack once.

`train_many_cached(X, y, masks, **config)` is `mialab.many_models.train_many` with a cache: the key is a SHA-256 of
the data's bytes, the mask's bytes, every training option (architecture, seed, epochs, learning rate, weight
decay, batch size, ...) and the version of the training code (mialab's version, a hash of the training modules'
code without docstrings and comments, and torch's version). A changed configuration therefore gets a new key and
is trained afresh; it never reuses a stale model, and editing a docstring retrains nothing. Each stack is one file
`<key>.pt` under `mialab.data.cache_dir()/models/`: a first line with the SHA-256 of the rest, then the weights.
It is written to a temporary name and renamed into place, so a reader (another process on a shared cache) sees
the whole file or none; a truncated or garbled file fails the checksum and is retrained. Files get the same mode
as the data cache's (readable by everyone, as far as the umask allows), so one `MIALAB_CACHE` can serve a class
on a shared JupyterHub. A read-only cache is read but never written: models missing from it are trained, with
one warning.

`train_in_out_models(X, y, n_models, chunk_size=4, **config)` trains LiRA's reference models in chunks of
`chunk_size`, each chunk a cached stack with its own balanced in/out mask: asking for 64 models after 16 reuses
the first 16 and trains 48.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import numbers
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from . import __version__, many_models, models
from ._validation import as_features, as_labels, as_path, check_count, check_scalar, check_seed
from .data import cache_dir as data_cache_dir
from .data import in_out_mask
from .many_models import ModelStack, train_many, train_many_chunks
from .progress import progress
from .recipe import TrainingRecipe

__all__ = ["train_many_cached", "train_in_out_models", "cache_key", "model_cache_dir", "concat_stacks",
           "CorruptCacheWarning", "training_code_hash"]

_KEY_VERSION = 2  # bump when the cache layout or the key's recipe changes (2: one file with its checksum inside)
_MAGIC = b"mialab-model-cache sha256="
_TRAINING_MODULES = (models, many_models)  # the code that turns a configuration into weights
_NOT_IN_KEY = {"progress_desc", "group_size", "device"}  # train_many options that change speed or display only
_warned_read_only: set = set()


class CorruptCacheWarning(UserWarning):
    """A cached model file failed its checksum or could not be read; it is being retrained."""


class ReadOnlyCacheWarning(UserWarning):
    """The model cache folder cannot be written; models are trained without being cached."""


def model_cache_dir(cache_dir=None) -> Path:
    """The folder of cached models: `cache_dir` if given, else mialab.data.cache_dir() / "models" (created when
    possible; a folder that cannot be created is returned all the same, and nothing is written there)."""
    path = data_cache_dir() / "models" if cache_dir is None else as_path(cache_dir, "cache_dir")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # read-only: _store warns once and trains without caching
    return path


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant) \
                    and isinstance(first.value.value, str):
                node.body = node.body[1:] or [ast.Pass()]
    return tree


def training_code_hash() -> str:
    """A hash of the training modules' code without docstrings and comments (16 hex digits): it changes when the
    code that turns a configuration into weights changes, and not when its documentation does."""
    digest = hashlib.sha256()
    for module in _TRAINING_MODULES:
        tree = _strip_docstrings(ast.parse(Path(module.__file__).read_text(encoding="utf-8")))
        digest.update(ast.unparse(tree).encode())
    return digest.hexdigest()[:16]


def _code_fingerprint() -> str:
    """mialab's version, the training code's hash, and torch's version."""
    return f"mialab {__version__}; training code {training_code_hash()}; torch {torch.__version__}"


def _normalised_config(config: dict) -> dict:
    """train_many's options checked, defaults filled in, in plain JSON types (NumPy integers become ints)."""
    recipe_fields = set(TrainingRecipe.__dataclass_fields__)
    allowed = recipe_fields | {"n_classes", "random_state"}
    unknown = set(config) - allowed - _NOT_IN_KEY
    if unknown:
        raise TypeError(f"unknown training option(s) {sorted(unknown)}; train_many takes {sorted(allowed)}.")
    recipe = TrainingRecipe(**{k: v for k, v in config.items() if k in recipe_fields})
    full = recipe.as_kwargs()
    full["hidden"] = list(full["hidden"])
    n_classes = config.get("n_classes")
    full["n_classes"] = None if n_classes is None else check_scalar(n_classes, "n_classes", numbers.Integral, low=2)
    full["random_state"] = check_seed(config.get("random_state", 0))
    return full


def _check_inputs(X, y, masks):
    X = as_features(X)
    y = as_labels(y, n=len(X))
    return X, y, many_models._check_masks(masks, len(X))


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


def _file_mode() -> int:
    """0o666 less the umask: the mode open() gives new files, as the data cache's files have."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _save(stack, path: Path, key: str, n_records: int) -> None:
    """Write the stack and its checksum as one file, atomically (a temporary file renamed into place)."""
    state = {"key": key, "n_records": n_records, "activation": stack.activation, "dropout": stack.dropout,
             "seeds": list(stack.seeds), "weights": [w.clone() for w in stack.weights],
             "biases": [b.clone() for b in stack.biases]}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    header = _MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(header + payload)
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _load(path: Path, key: str, n_models: int):
    """The cached ModelStack, None when there is none, or None plus a warning when the file is corrupt."""
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        blob, problem = None, f"it cannot be read ({type(error).__name__})"
    problem = None
    if blob is not None:
        head, _, payload = blob.partition(b"\n")
        if not head.startswith(_MAGIC) or head[len(_MAGIC):].decode(errors="replace") != \
                hashlib.sha256(payload).hexdigest():
            problem = "its checksum does not match (truncated or garbled)"
        else:
            try:
                state = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
                if state.get("key") != key or state["weights"][0].shape[0] != n_models:
                    problem = "it holds another configuration"
            except Exception as error:  # a garbled pickle can raise nearly anything
                problem = f"it cannot be read ({type(error).__name__})"
    else:
        problem = "it cannot be read"
    if problem:
        warnings.warn(f"the cached models {path.name} are unusable: {problem}; training them again.",
                      CorruptCacheWarning, stacklevel=3)
        return None
    return ModelStack(state["weights"], state["biases"], activation=state["activation"], dropout=state["dropout"],
                      seeds=state["seeds"])


def train_many_cached(X, y, masks, *, cache_dir=None, **config):
    """`mialab.many_models.train_many(X, y, masks, **config)`, loaded from the disk cache when the same configuration
    was trained before: X (n, d), y (n,), masks bool (n, n_models) -> ModelStack.

    The key (see `cache_key`) covers the data's and the masks' bytes, every training option and the training
    code's version. A corrupt cache file (checksum mismatch, unreadable) is retrained with a CorruptCacheWarning.
    `cache_dir` defaults to mialab.data.cache_dir() / "models"; the environment variable MIALAB_CACHE moves it.
    """
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


def _warn_not_cached(folder: Path, reason: str) -> None:
    """One ReadOnlyCacheWarning per cache folder and process: training goes on without caching."""
    if str(folder) in _warned_read_only:
        return
    _warned_read_only.add(str(folder))
    where = "MIALAB_CACHE" if os.environ.get("MIALAB_CACHE") else "the cache folder"
    warnings.warn(f"the model cache {folder} cannot be written ({reason}); models are trained without being "
                  f"cached. To cache them, make {where} writable or point MIALAB_CACHE at a writable folder.",
                  ReadOnlyCacheWarning, stacklevel=4)


def _store(stack, path: Path, key: str, n_records: int) -> None:
    folder = path.parent
    if not os.access(folder, os.W_OK):
        _warn_not_cached(folder, "read-only or missing")
        return
    try:
        _save(stack, path, key, n_records)
    except OSError as error:
        _warn_not_cached(folder, f"{type(error).__name__}: {error.strerror or error}")


def concat_stacks(stacks):
    """One ModelStack holding the models of `stacks` (same shapes and activation) in order."""
    stacks = list(stacks)
    if not stacks:
        raise ValueError("`stacks` is empty; pass at least one ModelStack.")
    first = stacks[0]
    for s in stacks[1:]:
        if [w.shape[1:] for w in s.weights] != [w.shape[1:] for w in first.weights] or s.activation != first.activation:
            raise ValueError("all stacks must have the same layer shapes and activation to be joined.")
    return ModelStack([torch.cat([s.weights[i] for s in stacks]) for i in range(len(first.weights))],
                      [torch.cat([s.biases[i] for s in stacks]) for i in range(len(first.biases))],
                      activation=first.activation, dropout=first.dropout,
                      seeds=[seed for s in stacks for seed in s.seeds])


def _train_chunk(X, y, mask, config, cache_dir):
    """One chunk, trained where an executor runs it, into the shared cache (module-level, so it pickles)."""
    return train_many_cached(X, y, mask, cache_dir=cache_dir, **config)


def train_in_out_models(X, y, n_models: int, *, chunk_size: int = 4, random_state: int = 0, cache_dir=None,
                        executor=None, **config):
    """LiRA's reference models: `n_models` MLPs, each record IN for exactly half of every chunk of `chunk_size`
    models -> (ModelStack, masks bool (n_records, n_models)).

    Chunk c is `train_many_cached(X, y, in_out_mask(n, chunk_size, seed_c), random_state=seed_c, **config)` with
    seed_c the c-th word of numpy.random.SeedSequence(random_state), so the first 16 of 64 models are the 16
    models: growing n_models reuses the cached chunks. The chunks not in the cache are trained together in one
    call (mialab.many_models.train_many_chunks: the same models, fewer steps), then cached one by one. n_models must
    be a multiple of chunk_size (even). `device` (in config) trains on a GPU (mialab.many_models.train_many).

    executor: anything with submit(fn, *args) -> a future with .result(): a dask.distributed Client (a cluster),
    or a concurrent.futures executor. Each missing chunk is then trained as its own task, by
    train_many_cached on the worker, straight into `cache_dir` (which the workers must share: the cache's
    atomic writes make concurrent writers safe), and gathered here; the models are those one process trains
    chunk by chunk, bit for bit on the same CPU kind. The notebooks never need it (README, "Past one machine").
    (Carlini et al. 2022, Sec. V: each record IN for half of the models, so each model trains on about half.)
    """
    X = as_features(X)
    y = as_labels(y, n=len(X))
    n_models = check_count(n_models, "n_models", minimum=2)
    chunk_size = check_scalar(chunk_size, "chunk_size", numbers.Integral, low=2)
    if chunk_size % 2 or n_models % chunk_size:
        raise ValueError(f"`n_models` ({n_models}) must be a multiple of `chunk_size` ({chunk_size}), which must be "
                         "even, so every record is IN for exactly half the models of each chunk.")
    seed = check_seed(random_state)
    n_chunks = n_models // chunk_size
    seeds = np.random.SeedSequence(seed).generate_state(n_chunks)
    n_classes = config.get("n_classes")
    config["n_classes"] = int(y.max()) + 1 if n_classes is None else check_scalar(n_classes, "n_classes",
                                                                                   numbers.Integral, low=2)
    masks = [in_out_mask(len(X), chunk_size, random_state=int(s)) for s in seeds]
    entries = [_entry(X, y, mask, dict(config, random_state=int(s)), cache_dir)
               for mask, s in progress(list(zip(masks, seeds)), desc="looking up cached models", delay=2.0)]
    stacks = [_load(path, key, chunk_size) for key, path in entries]
    missing = [c for c, stack in enumerate(stacks) if stack is None]
    if missing and executor is not None:
        if not callable(getattr(executor, "submit", None)):
            raise TypeError(f"`executor` must have a submit(fn, *args) method (a dask.distributed Client or a "
                            f"concurrent.futures executor); got {type(executor).__name__}.")
        folder = str(model_cache_dir(cache_dir).resolve())
        futures = [executor.submit(_train_chunk, X, y, masks[c], dict(config, random_state=int(seeds[c])), folder)
                   for c in missing]
        for c, future in zip(missing, futures):
            stacks[c] = future.result()
    elif missing:
        # the chunks not cached are trained in one call (fuller steps), then stored chunk by chunk
        trained = train_many_chunks(X, y, [(masks[c], int(seeds[c])) for c in missing], **config)
        for c, stack in zip(missing, trained):
            stacks[c] = stack
            _store(stack, entries[c][1], entries[c][0], len(X))
    return concat_stacks(stacks), np.concatenate(masks, axis=1)
