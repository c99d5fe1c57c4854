"""Distillation for membership privacy (DMP-like; Shejwalkar & Houmansadr, AAAI 2021): a student model learns
only the teacher's soft answers on reference records, never the private training records themselves.

The teacher (trained on the private members, e.g. the undefended target) labels unlabelled reference records
from the same distribution with its probabilities (softened by `temperature`); the student trains on those soft
labels. The student's answers on a member depend on that member only through the teacher's answers on other
records. DMP also picks the reference records the teacher is most certain about; we use them all. Taught in
notebook 11, section 2.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from torch import nn

from .._validation import check_count, as_features, check_scalar, check_seed
from ..models import logits as _model_logits
from ._loop import check_model, run_minibatches


def train_distilled(teacher: nn.Module, model: nn.Module, X_reference, *, temperature: float = 1.0,
                    epochs: int = 30, batch_size: int = 64, lr: float = 1e-3, random_state: int = 0) -> nn.Module:
    """Train the student `model` in place on the teacher's soft labels for X_reference (m, d) -> the student
    (eval mode). Loss: cross-entropy against softmax(teacher logits / temperature), student logits / temperature.
    (Shejwalkar & Houmansadr 2021; Hinton et al. 2015 for the temperature.)"""
    check_model(teacher)
    check_model(model)
    X_ref = as_features(X_reference, "X_reference")
    T = check_scalar(temperature, "temperature", low=0.0, closed="neither")
    epochs = check_count(epochs, "epochs")
    batch_size = check_scalar(batch_size, "batch_size", numbers.Integral, low=1)
    lr = check_scalar(lr, "lr", low=0.0, high=10.0, closed="right")
    seed = check_seed(random_state)
    soft = torch.softmax(torch.from_numpy(_model_logits(teacher, X_ref)).float() / T, dim=1)
    if getattr(model, "n_classes", soft.shape[1]) != soft.shape[1]:
        raise ValueError(f"the teacher answers {soft.shape[1]} classes but the student has {model.n_classes}.")

    def objective(net, xb, rows, epoch):
        return -(soft[rows] * torch.log_softmax(net(xb) / T, dim=1)).sum(dim=1).mean()

    rows = np.arange(len(X_ref), dtype=np.int64)   # the "labels" the loop hands back: each record's row
    return run_minibatches(model, X_ref, rows, objective, epochs=epochs, batch_size=batch_size, lr=lr,
                           weight_decay=0.0, seed=seed)
