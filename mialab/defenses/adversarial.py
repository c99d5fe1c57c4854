"""Adversarial regularisation (Nasr, Shokri, Houmansadr, CCS 2018): train the classifier against an inference
model that tries to tell its training records from reference records.

Each minibatch of members: first the inference model h takes one step to tell the classifier's outputs on the
members from its outputs on as many reference records (non-members the defender holds), then the classifier
takes one step on cross-entropy + lambda * mean log h(members), i.e. it is paid for making its members look like
non-members to h. h sees the probability vector and the one-hot label (the paper's two-branch network, here one
small MLP on their concatenation). Taught in notebook 11, section 2.
"""

from __future__ import annotations

import numbers

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import as_features, as_labels, check_scalar, check_seed
from ._loop import check_training, run_minibatches


class InferenceModel(nn.Module):
    """Nasr et al.'s membership inference model: (probabilities (B, k), labels (B,)) -> membership logit (B,)."""

    def __init__(self, n_classes: int, hidden: int = 64, random_state: int = 0):
        super().__init__()
        self.n_classes = check_scalar(n_classes, "n_classes", numbers.Integral, low=2)
        hidden = check_scalar(hidden, "hidden", numbers.Integral, low=1)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(check_seed(random_state))
            self.net = nn.Sequential(nn.Linear(2 * self.n_classes, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, probs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([probs, F.one_hot(y, self.n_classes).to(probs.dtype)], dim=1))[:, 0]


def train_adversarial(model: nn.Module, X, y, X_reference, y_reference, *, lam: float = 1.0, epochs: int = 30,
                      batch_size: int = 64, lr: float = 1e-3, weight_decay: float = 0.0,
                      random_state: int = 0) -> nn.Module:
    """Train `model` in place on X (n, d), y (n,) with adversarial regularisation of strength `lam` against an
    inference model that compares members with the reference records X_reference (m, d), y_reference (m,)
    (non-members from the same distribution) -> the model (eval mode); `model.inference_model_` is h.

    lam = 0 is plain training; larger lam leaks less and costs accuracy. (Nasr et al. 2018, Algorithm 1, one
    inference step per classifier step.)"""
    X, y, epochs, batch_size, lr, weight_decay, seed = check_training(model, X, y, epochs, batch_size, lr,
                                                                      weight_decay, random_state)
    lam = check_scalar(lam, "lam", low=0.0)
    X_ref = as_features(X_reference, "X_reference")
    if X_ref.shape[1:] != X.shape[1:]:
        raise ValueError(f"`X_reference` has records of shape {X_ref.shape[1:]} but X has {X.shape[1:]}.")
    n_classes = getattr(model, "n_classes", None) or int(y.max()) + 1
    y_ref = as_labels(y_reference, "y_reference", n=len(X_ref), n_classes=n_classes)
    X_ref_t, y_ref_t = torch.from_numpy(X_ref), torch.from_numpy(y_ref)
    h = InferenceModel(n_classes, random_state=seed)
    h_optimizer = torch.optim.Adam(h.parameters(), lr=lr)
    picks = torch.Generator().manual_seed(seed + 1)

    def objective(net, xb, yb, epoch):
        rows = torch.randint(len(X_ref_t), (len(xb),), generator=picks)
        with torch.no_grad():
            p_in, p_out = torch.softmax(net(xb), 1), torch.softmax(net(X_ref_t[rows]), 1)
        logits = torch.cat([h(p_in, yb), h(p_out, y_ref_t[rows])])
        target = torch.cat([torch.ones(len(xb)), torch.zeros(len(xb))])
        h_optimizer.zero_grad(set_to_none=True)
        F.binary_cross_entropy_with_logits(logits, target).backward()
        h_optimizer.step()
        out = net(xb)
        gain = F.logsigmoid(h(torch.softmax(out, 1), yb)).mean()          # h's log-belief that members are members
        return F.cross_entropy(out, yb) + lam * gain

    model = run_minibatches(model, X, y, objective, epochs=epochs, batch_size=batch_size, lr=lr,
                            weight_decay=weight_decay, seed=seed)
    model.inference_model_ = h.eval()
    return model
