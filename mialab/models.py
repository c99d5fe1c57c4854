"""Small torch models and their training loops: an MLP, a small CNN, and many MLPs trained at once.

Arrays in are NumPy (or anything NumPy reads): X (n, n_features) float, y (n,) int labels. Probabilities out are
float64 (n, n_classes), rows summing to 1. Training is Adam on the mean cross-entropy over minibatches, seeded by
`random_state`; weight decay is Adam's L2 term (`weight_decay * w` added to the gradient).
"""

from __future__ import annotations

import contextlib
import numbers

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._validation import as_features, as_labels, check_choice, check_fraction, check_memory, check_positive_int, \
    check_scalar, check_seed
from ._validation import check_count
from .progress import progress
from .threads import limited

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}


class TrainingDiverged(FloatingPointError):
    """The training loss or the weights stopped being finite (too large a learning rate or weight decay)."""


def _diverged(what: str, lr: float, weight_decay: float) -> TrainingDiverged:
    return TrainingDiverged(f"training diverged: {what} became NaN or infinite (lr={lr:g}, weight_decay="
                            f"{weight_decay:g}). Use a smaller lr (the course uses 1e-3) or weight_decay.")
_ACTIVATION_FUNCTIONS = {"tanh": torch.tanh, "relu": torch.relu}
_PROGRESS_DELAY_S = 2.0  # a bar appears only when training takes longer than this


# ---------------------------------------------------------------------------------------------------------------
# checks shared by the public functions
# ---------------------------------------------------------------------------------------------------------------

def _check_number(value, name: str, *, positive: bool) -> float:
    """lr or weight decay: a finite number > 0 (positive) or >= 0, at most 10 (beyond that training diverges)."""
    try:
        return check_scalar(value, name, low=0.0, high=10.0, closed="right" if positive else "both")
    except TypeError as error:
        raise ValueError(str(error)) from None


def _check_hidden(hidden) -> tuple[int, ...]:
    if isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool):
        hidden = (hidden,)
    if isinstance(hidden, (str, bytes)) or not hasattr(hidden, "__iter__"):
        raise ValueError(f"`hidden` must be a tuple of layer widths, for example (256,); got {hidden!r}.")
    widths = tuple(hidden)
    for width in widths:
        check_positive_int(width, "each entry of hidden")
    return tuple(int(w) for w in widths)


def _check_dropout(dropout) -> float:
    return 0.0 if dropout == 0 else check_fraction(dropout, "dropout")


def _check_module(model) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"`model` must be a torch module (for example mialab.models.MLP); got {type(model).__name__}.")
    if next(model.parameters(), None) is None:
        raise ValueError("`model` has no parameters to train or predict with.")
    return model


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _features(model: nn.Module, X) -> np.ndarray:
    """X as float32 records that `model` accepts: the right number of features per record."""
    X = as_features(X)
    n_features = getattr(model, "n_features", None)
    if n_features is not None and int(np.prod(X.shape[1:])) != n_features:
        raise ValueError(f"`X` has records of shape {X.shape[1:]} ({int(np.prod(X.shape[1:]))} features) but the "
                         f"model takes {n_features} features per record; pass the same columns it was built for.")
    return X


def _n_classes(model: nn.Module, X: np.ndarray) -> int:
    n_classes = getattr(model, "n_classes", None)
    if n_classes is None:
        n_classes = _logits(model, X[:1]).shape[1]
    return int(n_classes)


def _adam(params, lr: float, weight_decay: float) -> torch.optim.Adam:
    """Adam with the fused kernel (one pass over all parameters) where this torch supports it."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)


@contextlib.contextmanager
def _seeded(seed: int):
    """Run a block with torch's global RNG seeded, then put the global RNG back as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


# ---------------------------------------------------------------------------------------------------------------
# models
# ---------------------------------------------------------------------------------------------------------------

class MLP(nn.Module):
    """A multilayer perceptron: X (n, n_features) -> logits (n, n_classes); records of any shape are flattened.

    `hidden` gives the widths of the hidden layers (() is a linear model), each followed by tanh or relu and, when
    dropout > 0, a dropout layer. `random_state` seeds the initial weights (torch's default initialisation), so
    the same arguments build the same model. Shokri et al.'s (2017) local model for Purchase is
    MLP(600, 100, hidden=(128,)), one layer of 128 tanh units; the default (256,) is a wider variant.
    """

    def __init__(self, n_features: int, n_classes: int, hidden=(256,), activation: str = "tanh",
                 dropout: float = 0.0, random_state: int = 0):
        super().__init__()
        self.n_features = check_positive_int(n_features, "n_features")
        self.n_classes = check_positive_int(n_classes, "n_classes", minimum=2)
        self.hidden = _check_hidden(hidden)
        self.activation = check_choice(activation, "activation", ACTIVATIONS)
        self.dropout = _check_dropout(dropout)
        widths = (self.n_features, *self.hidden)
        n_params = sum((a + 1) * b for a, b in zip(widths, (*self.hidden, self.n_classes)))
        check_memory(4 * n_params, f"an MLP with {n_params:,} parameters", "lower n_features or the hidden widths")
        layers = []
        with _seeded(check_seed(random_state)):
            for n_in, n_out in zip(widths[:-1], widths[1:]):
                layers += [nn.Linear(n_in, n_out), ACTIVATIONS[activation]()]
                if self.dropout > 0:
                    layers.append(nn.Dropout(self.dropout))
            layers.append(nn.Linear(widths[-1], self.n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1))

    def linear_layers(self) -> list[nn.Linear]:
        """The linear layers, input to output."""
        return [layer for layer in self.net if isinstance(layer, nn.Linear)]


class SmallCNN(nn.Module):
    """A small convolutional net for 8x8 grey images (the digits): X (n, 64) or (n, 1, 8, 8) -> logits (n, n_classes).

    Two 3x3 convolutions (16 and 32 channels, relu), a 2x2 max-pool, then a linear layer. `random_state` seeds
    the initial weights.
    """

    n_features = 64

    def __init__(self, n_classes: int = 10, random_state: int = 0):
        super().__init__()
        self.n_classes = check_positive_int(n_classes, "n_classes", minimum=2)
        with _seeded(check_seed(random_state)):
            self.features = nn.Sequential(
                nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                nn.MaxPool2d(2),
            )
            self.head = nn.Linear(32 * 4 * 4, self.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x.reshape(-1, 1, 8, 8)).flatten(1))


# ---------------------------------------------------------------------------------------------------------------
# training and prediction, one model
# ---------------------------------------------------------------------------------------------------------------

def train(model: nn.Module, X, y, *, epochs: int = 30, batch_size: int = 64, lr: float = 1e-3,
          weight_decay: float = 0.0, random_state: int = 0, progress_desc: str | None = None) -> nn.Module:
    """Train `model` in place on X (n, n_features), y (n,) with Adam on minibatches; returns the model (in eval mode).

    Each epoch visits the records once in a fresh random order (ceil(n / batch_size) steps, the last one smaller).
    `random_state` seeds the order and dropout; the initial weights come from the model's own random_state.
    """
    model = _check_module(model)
    X = _features(model, X)
    y = as_labels(y, n=len(X), n_classes=_n_classes(model, X))
    epochs = check_count(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    lr = _check_number(lr, "lr", positive=True)
    weight_decay = _check_number(weight_decay, "weight_decay", positive=False)
    seed = check_seed(random_state)

    device = _device(model)
    X_t, y_t = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
    order = torch.Generator().manual_seed(seed)
    optimizer = _adam(model.parameters(), lr, weight_decay)
    model.train()
    with _seeded(seed), limited():
        for _ in progress(range(epochs), desc=progress_desc or "training", delay=_PROGRESS_DELAY_S):
            perm = torch.randperm(len(X), generator=order).to(device)
            for start in range(0, len(X), batch_size):
                rows = perm[start:start + batch_size]
                loss = F.cross_entropy(model(X_t[rows]), y_t[rows])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            if not torch.isfinite(loss):
                raise _diverged("the training loss", lr, weight_decay)
    if not all(torch.isfinite(p).all() for p in model.parameters()):
        raise _diverged("the weights", lr, weight_decay)
    return model.eval()


@torch.no_grad()
def _logits(model: nn.Module, X: np.ndarray, batch_size: int = 4096) -> torch.Tensor:
    was_training = model.training
    model.eval()
    try:
        device = _device(model)
        X_t = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        with limited():
            return torch.cat([model(X_t[i:i + batch_size].to(device)).cpu() for i in range(0, len(X_t), batch_size)])
    finally:
        model.train(was_training)


def logits(model: nn.Module, X, batch_size: int = 4096) -> np.ndarray:
    """The model's raw outputs (before the softmax): X (n, n_features) -> float64 (n, n_classes)."""
    model = _check_module(model)
    X = _features(model, X)
    return _logits(model, X, check_positive_int(batch_size, "batch_size")).double().numpy()


def predict_proba(model: nn.Module, X, batch_size: int = 4096) -> np.ndarray:
    """Class probabilities (softmax of the logits, eval mode): X (n, n_features) -> float64 (n, n_classes)."""
    model = _check_module(model)
    X = _features(model, X)
    return torch.softmax(_logits(model, X, check_positive_int(batch_size, "batch_size")).double(), dim=1).numpy()


def predict(model: nn.Module, X) -> np.ndarray:
    """The most likely class of each record: X (n, n_features) -> int64 (n,)."""
    return predict_proba(model, X).argmax(axis=1).astype(np.int64)


def accuracy(model: nn.Module, X, y) -> float:
    """The fraction of records whose predicted class is y: X (n, n_features), y (n,) -> float."""
    model = _check_module(model)
    X = _features(model, X)
    y = as_labels(y, n=len(X), n_classes=_n_classes(model, X))
    return float(np.mean(predict(model, X) == y))
