"""The records x models signal matrix that every reference-model attack starts from, and one leave-one-out
evaluation for all of them (Privacy Meter v2's shape: a signal matrix and a membership mask).

    values = signals(stack, X, y, kind="logit")            # (n_records, n_models): one signal per record and model
    scores, is_member = leave_one_out(lira.lira_scores, values, in_mask, fix_variance=True)
    metrics.evaluate(scores.ravel(), is_member.ravel())

An attack function (`SignalAttack`) takes `target_signals` (n,) or (n, n_aug), `ref_signals` (n, m[, n_aug]) and
`in_mask` (n, m) bool (which reference model trained on which record; None: all OUT), then keyword-only options
(for attacks that compare with population records, RMIA, `population_target_signals` (z,) and
`population_ref_signals` (z, m)); it returns scores (n,), higher = member. `lira.lira_scores`, `lira.lira_online`,
`lira.lira_offline` and `rmia.rmia_scores` are such functions (tests/test_signals.py checks each one).
Taught in notebook 05.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
from torch import nn

from .._validation import as_array, as_bool_mask, as_features, as_labels, check_choice, check_scalar
from ..blackbox import query_probabilities
from ..models import predict_proba
from .features import cross_entropy, logit_scale, true_class_confidence

KINDS = ("logit", "probability", "loss")


@runtime_checkable
class SignalAttack(Protocol):
    """An attack function over signals: target_signals (n,) or (n, n_aug), ref_signals (n, m[, n_aug]), in_mask
    (n, m) bool or None (every reference model OUT), options keyword-only -> scores (n,), higher = member."""

    def __call__(self, target_signals, ref_signals, in_mask=None, **options) -> np.ndarray: ...


def _augmented(X, augment):
    """X (n, d) as copies (n_aug, n, d): X itself, or augment(X) checked."""
    if augment is None:
        return X[None]
    if not callable(augment):
        raise TypeError(f"`augment` must be a function X -> copies of shape (n_aug, n, d) (e.g. "
                        f"augment.shifted_copies), or None; got {type(augment).__name__}.")
    copies = np.asarray(augment(X), dtype=np.float32)
    if copies.ndim != 3 or copies.shape[1:] != X.reshape(len(X), -1).shape:
        raise ValueError(f"`augment(X)` must return shape (n_aug, {len(X)}, {X[0].size}); got {copies.shape}.")
    return copies


_SIGNAL = {"logit": logit_scale, "probability": true_class_confidence, "loss": cross_entropy}


def _probabilities(models, X: np.ndarray) -> np.ndarray:
    """Every model's class probabilities on X (n, d) -> (m, n, k): a ModelStack at once, else one model at a time
    (a torch module through mialab.models.predict_proba, a black box through blackbox.query_probabilities)."""
    if callable(getattr(models, "predict_proba", None)) and hasattr(models, "n_models"):
        return models.predict_proba(X)
    out = []
    for model in models:
        if isinstance(model, nn.Module):
            out.append(predict_proba(model, X))
        else:
            out.append(query_probabilities(model, X))
    if len({p.shape for p in out}) != 1:
        raise ValueError(f"the models answer different shapes {sorted({p.shape for p in out})} on the same records; "
                         "pass models over the same classes.")
    return np.stack(out)


def _check_models(models):
    """`models` if it is a ModelStack or a non-empty list of torch modules / black boxes; else a TypeError."""
    if callable(getattr(models, "predict_proba", None)) and hasattr(models, "n_models"):
        return models
    if isinstance(models, (list, tuple)) and models:
        for j, model in enumerate(models):
            if not isinstance(model, nn.Module) and not callable(getattr(model, "query", None)):
                raise TypeError(f"`models[{j}]` must be a torch module or a black box (mialab.blackbox.BlackBox); "
                                f"got {type(model).__name__}.")
        return models
    raise TypeError(f"`models` must be a mialab.many_models.ModelStack (train it with "
                    f"mialab.cache.train_in_out_models), or a non-empty list of torch models or black boxes "
                    f"(BlackBox(model)); got {type(models).__name__}. For one model, pass a list of one.")


def signals(models, X, y, kind: str = "logit", *, augment=None) -> np.ndarray:
    """Each model's signal on each record: X (n, d), y (n,) -> (n, m), or (n, m, n_aug) with `augment`.

    models: a ModelStack (mialab.many_models.train_many, mialab.cache.train_in_out_models), or a list of m torch
    models or black boxes (anything with .query(X) answering probabilities; queries are counted). kind: "logit"
    the logit-scaled confidence log(p_y / (1 - p_y)) (LiRA), "probability" the probability of the true label
    (RMIA), "loss" the cross-entropy -log p_y. augment: a function X -> (n_aug, n, d), e.g. augment.shifted_copies.

    >>> import numpy as np, torch
    >>> from mialab.models import MLP
    >>> from mialab.blackbox import BlackBox
    >>> nets = [MLP(4, 3, hidden=(8,), random_state=seed) for seed in range(2)]
    >>> X, y = np.zeros((5, 4), np.float32), np.array([0, 1, 2, 0, 1])
    >>> signals(nets, X, y).shape                                  # records x models
    (5, 2)
    >>> bool(np.allclose(signals([BlackBox(net) for net in nets], X, y), signals(nets, X, y)))
    True
    """
    models = _check_models(models)
    kind = check_choice(kind, "kind", KINDS)
    X = as_features(X)
    y = as_labels(y, n=len(X))
    out = []
    for copy in _augmented(X, augment):
        probs = _probabilities(models, copy)                              # (m, n, k)
        m, n, k = probs.shape
        out.append(_SIGNAL[kind](probs.reshape(m * n, k), np.tile(y, m)).reshape(m, n).T)
    values = np.stack(out, axis=2)
    return values[:, :, 0] if augment is None else values


def _population(population, m: int):
    if population is None:
        return None
    population = as_array(population, "population", dtype=float)
    if population.ndim != 2 or population.shape[1] != m:
        raise ValueError(f"`population` must be the signals of population records on the same {m} models, shape "
                         f"(z, {m}); got {population.shape}.")
    return population


def _call(attack, target, refs, ref_in, population, t, others, options) -> np.ndarray:
    kwargs = dict(target_signals=target, ref_signals=refs, in_mask=ref_in, **options)
    if population is not None:
        kwargs.update(population_target_signals=population[:, t], population_ref_signals=population[:, others])
    return np.asarray(attack(**kwargs), dtype=float)


def _indices(indices, name: str, m: int) -> list[int]:
    indices = np.atleast_1d(np.asarray(indices))
    if indices.size == 0 or not np.issubdtype(indices.dtype, np.integer) or indices.min() < 0 or indices.max() >= m:
        raise ValueError(f"`{name}` must be a non-empty list of model indices in [0, {m}); got "
                         f"{indices.tolist()[:10]}.")
    return [int(i) for i in indices]


def _checked(values, in_mask):
    values = as_array(values, "signals", dtype=float)
    if values.ndim not in (2, 3):
        raise ValueError(f"`signals` must have shape (n, m) (records x models) or (n, m, n_aug); got "
                         f"{values.shape}.")
    return values, as_bool_mask(in_mask, "in_mask", values.shape[:2])


def leave_one_out(attack, signals, in_mask, *, targets=None, references=None, population=None, **options):
    """Each model in `targets` in turn the target, the models in `references` (never the target itself) its
    reference models: signals (n, m[, n_aug]), in_mask (n, m) bool -> scores (n, T), is_member (n, T).

    attack: an attack function (module docstring), called once per target with `options`. population: (z, m)
    signals of records no model trained on, for attacks that compare with them (RMIA). Pool the columns for
    metrics: evaluate(scores.ravel(), is_member.ravel()). (Carlini et al. 2022: many models on random halves of
    the data, each one in turn the target.)

    With one balanced mask over all models (each record IN for exactly half), a record IN for the target is IN
    for one fewer of the others, so the reference counts depend on the answer: take targets and references from
    different chunks of cache.train_in_out_models (or use cross_chunk)."""
    if not callable(attack):
        raise TypeError(f"`attack` must be an attack function such as lira.lira_scores; got {type(attack).__name__}.")
    values, in_mask = _checked(signals, in_mask)
    n, m = values.shape[:2]
    if m < 2:
        raise ValueError(f"leave-one-out needs at least 2 models (a target and a reference); got {m}.")
    population = _population(population, m)
    targets = _indices(range(m) if targets is None else targets, "targets", m)
    pool = None if references is None else _indices(references, "references", m)
    scores = np.empty((n, len(targets)))
    for col, t in enumerate(targets):
        others = np.delete(np.arange(m), t) if pool is None else np.array([r for r in pool if r != t])
        if len(others) == 0:
            raise ValueError(f"target {t} has no reference model left (`references` holds only the target itself).")
        scores[:, col] = _call(attack, values[:, t], values[:, others], in_mask[:, others], population, t, others,
                               options)
    return scores, in_mask[:, targets]


def cross_chunk(attack, signals, in_mask, chunk_size: int, *, n_reference: int | None = None, population=None,
                **options):
    """Every model a target, its references the models of the OTHER chunks: signals (n, m[, n_aug]), in_mask
    (n, m) from cache.train_in_out_models with this `chunk_size` -> scores (n, m), is_member (n, m).

    Each chunk's mask is balanced on its own, so a target's membership does not shift its references' IN/OUT
    counts. `n_reference` uses only the first that many models outside the target's chunk."""
    values, in_mask = _checked(signals, in_mask)
    m = values.shape[1]
    chunk_size = check_scalar(chunk_size, "chunk_size", int, low=1)
    if m % chunk_size or m // chunk_size < 2:
        raise ValueError(f"the {m} models must form at least 2 chunks of `chunk_size` = {chunk_size}.")
    n_reference = check_scalar(n_reference, "n_reference", int, low=1, allow_none=True)
    scores, is_member = [], []
    for start in range(0, m, chunk_size):
        chunk = list(range(start, start + chunk_size))
        others = [j for j in range(m) if j not in chunk][:n_reference]
        s, member = leave_one_out(attack, values, in_mask, targets=chunk, references=others, population=population,
                                  **options)
        scores.append(s)
        is_member.append(member)
    return np.concatenate(scores, axis=1), np.concatenate(is_member, axis=1)


def score_targets(attack, target_signals, ref_signals, in_mask=None, *, population=None, **options):
    """Several target models against one set of reference models: target_signals (n, T[, n_aug]), ref_signals
    (n, m[, n_aug]), in_mask (n, m) bool or None (all OUT) -> scores (n, T).

    population: a pair (target population signals (z, T), reference population signals (z, m)) for RMIA."""
    if not callable(attack):
        raise TypeError(f"`attack` must be an attack function such as lira.lira_scores; got {type(attack).__name__}.")
    targets = as_array(target_signals, "target_signals", dtype=float)
    if targets.ndim not in (2, 3):
        raise ValueError(f"`target_signals` must have shape (n, T) (records x target models) or (n, T, n_aug); "
                         f"got {targets.shape}.")
    columns = []
    for t in range(targets.shape[1]):
        kwargs = dict(target_signals=targets[:, t], ref_signals=ref_signals, in_mask=in_mask, **options)
        if population is not None:
            if not isinstance(population, tuple) or len(population) != 2:
                raise TypeError("`population` must be a pair (target population signals (z, T), reference "
                                "population signals (z, m)).")
            kwargs.update(population_target_signals=np.asarray(population[0])[:, t],
                          population_ref_signals=population[1])
        columns.append(np.asarray(attack(**kwargs), dtype=float))
    return np.stack(columns, axis=1)
