"""The minibatch loop the trained defences share: seeded order, Adam, one torch thread."""

from __future__ import annotations

import numbers

import numpy as np
import torch
from torch import nn

from .._validation import check_count, as_features, as_labels, check_scalar, check_seed
from ..threads import limited


def check_model(model) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"`model` must be a torch module (for example mialab.models.MLP); got {type(model).__name__}.")
    return model


def check_training(model, X, y, epochs, batch_size, lr, weight_decay, random_state):
    """-> X (float32), y (int64), epochs, batch_size, lr, weight_decay, seed, all checked."""
    check_model(model)
    X = as_features(X)
    y = as_labels(y, n=len(X), n_classes=getattr(model, "n_classes", None))
    epochs = check_count(epochs, "epochs")
    batch_size = check_scalar(batch_size, "batch_size", numbers.Integral, low=1)
    lr = check_scalar(lr, "lr", low=0.0, high=10.0, closed="right")
    weight_decay = check_scalar(weight_decay, "weight_decay", low=0.0, high=10.0)
    return X, y, epochs, batch_size, lr, weight_decay, check_seed(random_state)


def run_minibatches(model: nn.Module, X: np.ndarray, y: np.ndarray, objective, *, epochs: int, batch_size: int,
                    lr: float, weight_decay: float, seed: int, params=None) -> nn.Module:
    """Adam on objective(model, xb, yb, epoch) -> scalar tensor, over seeded minibatches; -> model in eval mode.

    `params` (default: the model's) are the parameters Adam updates. Torch's global RNG (dropout) is seeded and
    put back afterwards."""
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    order = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters() if params is None else params, lr=lr,
                                 weight_decay=weight_decay)
    model.train()
    with limited(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for epoch in range(epochs):
            perm = torch.randperm(len(X), generator=order)
            for start in range(0, len(X), batch_size):
                rows = perm[start:start + batch_size]
                loss = objective(model, X_t[rows], y_t[rows], epoch)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
    return model.eval()

