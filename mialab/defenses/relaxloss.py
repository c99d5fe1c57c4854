"""RelaxLoss (Chen, Yu, Fritz, ICLR 2022): train to a target loss alpha instead of to zero, so members' losses look
like non-members'.

Each minibatch with mean cross-entropy L: if L >= alpha, gradient descent on L; else, on even epochs gradient
ascent (the objective -L, pushing the loss back up to alpha), on odd epochs "posterior flattening": cross-entropy
against soft labels that keep the model's own probability of the true class p_y (a constant) and spread 1 - p_y
evenly over the other classes, which makes the wrong classes' probabilities uniform without moving p_y.
(The paper's Algorithm 1; the authors' code applies the flattening to misclassified records and an ascent term
to the others, a detail we leave out.) Taught in notebook 11, section 2.
"""

from __future__ import annotations

import numbers

import torch
import torch.nn.functional as F
from torch import nn

from .._reference import reference
from .._validation import as_array, as_labels, check_scalar
from ._loop import check_training, run_minibatches


def _check_alpha(alpha) -> float:
    return check_scalar(alpha, "alpha", low=0.0, closed="neither")


def relaxloss(logits: torch.Tensor, y: torch.Tensor, alpha: float, epoch: int) -> torch.Tensor:
    """The RelaxLoss objective of one minibatch (a scalar tensor to minimise): logits (B, k), y (B,) int64."""
    loss = F.cross_entropy(logits, y)
    if loss.item() >= alpha:
        return loss
    if epoch % 2 == 0:
        return -loss
    probs = torch.softmax(logits, dim=1).detach()
    k = logits.shape[1]
    p_y = probs.gather(1, y[:, None])                                    # (B, 1), a constant
    soft = ((1 - p_y) / (k - 1)).expand(-1, k).clone()
    soft.scatter_(1, y[:, None], p_y)
    return -(soft * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()


@reference
def relaxloss_objective(logits, y, alpha: float, epoch: int) -> float:
    """The value of the RelaxLoss objective on one minibatch: logits (B, k) float, y (B,) int, alpha > 0, epoch
    >= 0 -> float. L = mean cross-entropy; L if L >= alpha; else -L on even epochs; else the mean cross-entropy
    against soft labels (p_y at the true class, (1 - p_y) / (k - 1) elsewhere, p = softmax(logits))."""
    logits = as_array(logits, "logits", ndim=2, dtype=float)
    y = as_labels(y, n=len(logits), n_classes=logits.shape[1])
    alpha = _check_alpha(alpha)
    epoch = check_scalar(epoch, "epoch", numbers.Integral, low=0)
    if logits.shape[1] < 2:
        raise ValueError("`logits` needs at least 2 classes (columns).")
    return float(relaxloss(torch.from_numpy(logits), torch.from_numpy(y), alpha, epoch))


def train_relaxloss(model: nn.Module, X, y, *, alpha: float = 1.0, epochs: int = 30, batch_size: int = 64,
                    lr: float = 1e-3, weight_decay: float = 0.0, random_state: int = 0) -> nn.Module:
    """Train `model` in place with RelaxLoss at target loss `alpha` on X (n, d), y (n,) -> the model (eval mode).

    Adam on minibatches, as mialab.models.train (same defaults): only the objective differs. A larger alpha
    keeps the training loss higher (less leakage, less accuracy). (Chen et al. 2022, Algorithm 1.)"""
    X, y, epochs, batch_size, lr, weight_decay, seed = check_training(model, X, y, epochs, batch_size, lr,
                                                                      weight_decay, random_state)
    alpha = _check_alpha(alpha)

    def objective(net, xb, yb, epoch):
        return relaxloss(net(xb), yb, alpha, epoch)

    return run_minibatches(model, X, y, objective, epochs=epochs, batch_size=batch_size, lr=lr,
                           weight_decay=weight_decay, seed=seed)
