"""White-box membership features and the white-box attack (Nasr, Shokri & Houmansadr 2019, stand-alone setting).

An attacker who holds the weights can compute, for each candidate record, more than the loss: the gradient of the
loss with respect to each layer's weights, and the hidden activations. For a linear layer a_l = W_l a_{l-1} + b_l,
the gradient of one record's loss is the outer product delta_l a_{l-1}^T, so its norm has a closed form,

    ||dL/dW_l|| = ||delta_l|| * ||a_{l-1}||        (delta_l = dL/d(W_l a_{l-1} + b_l))

and every record's norms come from one forward and one backward pass over the batch, with no per-record autograd.
Members have SMALLER gradients than non-members (the model has already fitted them), so a membership score is
the negative norm.

Taught in notebook 06, section 2.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .._reference import reference
from .._validation import check_count, as_features, as_labels, check_positive_int, check_random_state
from ..blackbox import BlackBox
from ..many_models import ModelStack, train_many
from ..models import MLP
from ..recipe import as_recipe
from ..threads import limited
from .base import Attack
from .shadow import ShadowModels

__all__ = ["FEATURE_GROUPS", "WhiteBoxAttack", "feature_matrix", "gradient_norms", "last_layer_gradient_norm",
           "whitebox_features", "record_gradient_norms"]

#: the feature groups WhiteBoxAttack can use, and the columns of feature_matrix they select
FEATURE_GROUPS = ("loss", "gradients", "last_gradient", "activations")
_EPS = 1e-12
_MAX_BATCH = 4096   # records per forward/backward pass: a few MB of activations for the purchase MLP


def _check_mlp(model) -> MLP:
    if isinstance(model, BlackBox):
        raise TypeError("`model` is a BlackBox, which answers queries only; white-box features need the weights: "
                        "pass the model itself (a mialab.models.MLP).")
    if not isinstance(model, MLP):
        raise TypeError(f"`model` must be a mialab.models.MLP (white-box features need its weights); got "
                        f"{type(model).__name__}. A ModelStack's model j is stack[j].")
    return model


def _checked(model, X, y):
    model = _check_mlp(model)
    X = as_features(X)
    if X.ndim != 2 or X.shape[1] != model.n_features:
        raise ValueError(f"`X` must have shape (n, {model.n_features}) for this model; got {X.shape}.")
    y = as_labels(y, n=len(X), n_classes=model.n_classes)
    return model, X, y


def _derivative(activation: str, a: torch.Tensor) -> torch.Tensor:
    """d activation / d pre-activation, written with the activation's output a."""
    return 1 - a * a if activation == "tanh" else (a > 0).to(a.dtype)


@torch.no_grad()
def _passes(model: MLP, X: np.ndarray, y: np.ndarray):
    """One batch: the inputs of each linear layer a_0..a_{L-1}, each layer's delta (dL/d pre-activation) and the
    probabilities, all float64, for every record at once."""
    layers = model.linear_layers()
    a = torch.from_numpy(X).double()
    inputs = []
    for i, layer in enumerate(layers):
        inputs.append(a)
        a = a @ layer.weight.double().T + layer.bias.double()
        if i < len(layers) - 1:
            a = torch.tanh(a) if model.activation == "tanh" else torch.relu(a)
    probs = torch.softmax(a, dim=1)
    delta = probs.clone()
    delta[torch.arange(len(y)), torch.from_numpy(y)] -= 1.0       # dL/dlogits = p - e_y
    deltas = [delta]
    for i in range(len(layers) - 1, 0, -1):
        delta = (delta @ layers[i].weight.double()) * _derivative(model.activation, inputs[i])
        deltas.append(delta)
    return inputs, deltas[::-1], probs


def _batches(model, X, y):
    with limited():
        for start in range(0, len(X), _MAX_BATCH):
            rows = slice(start, start + _MAX_BATCH)
            yield _passes(model, X[rows], y[rows]), y[rows]


def whitebox_features(model, X, y) -> dict:
    """Per-record white-box features of an MLP: X (n, d), y (n,) -> dict of arrays.

    - "loss" (n,): the cross-entropy -log p_y;
    - "gradient_norms" (n, L): ||dL/dW_l|| for each of the L linear layers, input to output (weights, not biases);
    - "bias_gradient_norms" (n, L): ||dL/db_l|| = ||delta_l||;
    - "activation_norms" (n, L-1): the norm of each hidden layer's output.
    `model` is a mialab.models.MLP, evaluated in eval mode (no dropout). Computed in
    closed form from one forward and one backward pass per batch of records (Nasr et al. 2019, Sec. III).
    Taught in notebook 06, section 2.
    """
    model, X, y = _checked(model, X, y)
    parts = {"loss": [], "gradient_norms": [], "bias_gradient_norms": [], "activation_norms": []}
    for (inputs, deltas, probs), y_batch in _batches(model, X, y):
        p_y = probs.numpy()[np.arange(len(y_batch)), y_batch]
        parts["loss"].append(-np.log(np.clip(p_y, _EPS, None)))
        delta_norms = torch.stack([d.norm(dim=1) for d in deltas], dim=1)
        input_norms = torch.stack([a.norm(dim=1) for a in inputs], dim=1)
        parts["gradient_norms"].append((delta_norms * input_norms).numpy())
        parts["bias_gradient_norms"].append(delta_norms.numpy())
        parts["activation_norms"].append(input_norms[:, 1:].numpy())
    return {name: np.concatenate(values) for name, values in parts.items()}


def gradient_norms(model, X, y) -> np.ndarray:
    """||dL/dW_l|| of each record for each linear layer, in closed form: X (n, d), y (n,) -> (n, L).
    Taught in notebook 06, section 2."""
    return whitebox_features(model, X, y)["gradient_norms"]


def record_gradient_norms(model, X, y) -> np.ndarray:
    """The norm of each record's whole gradient (all weights and biases): X (n, d), y (n,) -> (n,).
    The active federated attacker normalises each record's gradient by it (mialab.federated.ascent_direction)."""
    f = whitebox_features(model, X, y)
    return np.sqrt((f["gradient_norms"] ** 2).sum(axis=1) + (f["bias_gradient_norms"] ** 2).sum(axis=1))


@reference
def last_layer_gradient_norm(probs, y, hidden) -> np.ndarray:
    """||dL/dW_last|| = ||p - e_y|| * ||h|| per record: probs (n, k), y (n,), last hidden layer h (n, m) -> (n,).
    Taught in notebook 06, exercise 6.1."""
    probs = np.asarray(probs, dtype=float)
    hidden = np.asarray(hidden, dtype=float)
    y = as_labels(y, n=len(probs), n_classes=probs.shape[1])
    if hidden.ndim != 2 or len(hidden) != len(probs):
        raise ValueError(f"`hidden` must have shape (n, m) with n = {len(probs)}; got {hidden.shape}.")
    delta = probs.copy()
    delta[np.arange(len(y)), y] -= 1.0
    return np.linalg.norm(delta, axis=1) * np.linalg.norm(hidden, axis=1)


def feature_matrix(features: dict, groups=("loss", "gradients", "activations")) -> np.ndarray:
    """The columns of whitebox_features(...) that `groups` name, log-scaled for a linear attack model: -> (n, f).

    groups from FEATURE_GROUPS: "loss" (1 column), "gradients" (one per layer), "last_gradient" (the last
    layer's only), "activations" (one per hidden layer). Losses and norms span orders of magnitude (members'
    are near 0), so each column is log(value + 1e-12)."""
    if isinstance(groups, str):
        groups = (groups,)
    unknown = [g for g in groups if g not in FEATURE_GROUPS]
    if unknown or not groups:
        raise ValueError(f"`groups` must be a non-empty tuple of names from {list(FEATURE_GROUPS)}; got {groups!r}.")
    columns = {"loss": features["loss"][:, None], "gradients": features["gradient_norms"],
               "last_gradient": features["gradient_norms"][:, -1:], "activations": features["activation_norms"]}
    return np.log(np.concatenate([columns[g] for g in groups], axis=1) + _EPS)


class WhiteBoxAttack(Attack):
    """Nasr et al.'s stand-alone white-box attack: an attack model learns members from shadow models' white-box
    features (loss, per-layer gradient norms, activation norms) and scores the target's.

    fit(X_pool, y_pool) trains `n_shadows` shadow MLPs with the target's `recipe`, each on `train_size` pool
    records (another `train_size` are its non-members), computes whitebox_features on both, and fits logistic
    regression on feature_matrix(..., groups) (standardised). score(target, X, y) -> (n,): the attack model's
    log-odds that each candidate is a member; `threshold_` = 0 (probability 1/2).
    `target` is the model itself (a mialab.models.MLP), not a BlackBox: this attack needs the weights.

    The paper's attack model is a neural network over the full gradients, activations and loss of several layers;
    ours is a linear model over their norms, which carry most of that signal on MLPs and train in a second.

    Threat model:
        data:      >= 2 * train_size labelled records from the target's distribution
        knowledge: the target's weights and its training recipe
        outputs:   the weights (white-box); the loss, gradients and activations are computed from them
        queries:   none (the attacker runs the model itself)
    Paper: M. Nasr, R. Shokri, A. Houmansadr, "Comprehensive Privacy Analysis of Deep Learning: Passive and Active
    White-box Inference Attacks against Centralized and Federated Learning", IEEE S&P 2019 (Sec. III, V-B).
    Taught in notebook 06, section 3.
    """

    needs = "weights"
    _fitted = ("attack_model_",)
    threshold_ = 0.0

    def __init__(self, n_shadows: int = 2, train_size: int = 2500, *, groups=("loss", "gradients", "activations"),
                 recipe=None, n_classes: int | None = None, random_state: int = 0):
        self.n_shadows = check_count(n_shadows, "n_shadows")
        self.train_size = check_positive_int(train_size, "train_size")
        feature_matrix({"loss": np.ones(1), "gradient_norms": np.ones((1, 2)),
                        "activation_norms": np.ones((1, 1))}, groups)                    # checks `groups`
        self.groups = (groups,) if isinstance(groups, str) else tuple(groups)
        self.recipe = as_recipe(recipe)
        self.n_classes = None if n_classes is None else check_positive_int(n_classes, "n_classes", minimum=2)
        check_random_state(random_state)
        self.random_state = random_state

    def fit(self, X, y, *, shadows=None) -> "WhiteBoxAttack":
        """Train the shadows on the pool X (n, d), y (n,) (or take `shadows` from train_shadows on that pool) and
        fit the attack model on their members' and non-members' white-box features."""
        X = as_features(X)
        y = as_labels(y, n=len(X))
        if shadows is None:
            shadows = self._shadows(X, y)
        elif not isinstance(shadows, ShadowModels):
            raise TypeError(f"`shadows` must be a ShadowModels (another attack's `shadows_`, or train_shadows'); got "
                            f"{type(shadows).__name__}.")
        elif not isinstance(shadows.stack, ModelStack):
            raise TypeError("`shadows` must be MLPs (train_shadows with a recipe): a white-box attack reads their "
                            f"gradients and activations, which a {type(shadows.stack).__name__} of scikit-learn "
                            "shadows does not have.")
        elif shadows.members.shape[0] != len(X):
            raise ValueError(f"`shadows` were drawn from a pool of {shadows.members.shape[0]} records but X has "
                             f"{len(X)}; pass the pool they were trained on.")
        rows, labels = [], []
        for j in range(len(shadows)):
            model = shadows.stack[j]
            for side, member in ((shadows.members[:, j], True), (shadows.nonmembers[:, j], False)):
                rows.append(feature_matrix(whitebox_features(model, X[side], y[side]), self.groups))
                labels.append(np.full(int(side.sum()), member))
        self.shadows_ = shadows
        self.attack_model_ = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
        self.attack_model_.fit(np.concatenate(rows), np.concatenate(labels))
        return self

    def _shadows(self, X, y) -> ShadowModels:
        if 2 * self.train_size > len(X):
            raise ValueError(f"`train_size` = {self.train_size} needs a pool of at least {2 * self.train_size} "
                             f"records (an IN and an OUT set per shadow); the pool has {len(X)}. Pass a smaller "
                             "train_size or more attacker records.")
        rng = check_random_state(self.random_state)
        members = np.zeros((len(X), self.n_shadows), bool)
        nonmembers = np.zeros_like(members)
        for j in range(self.n_shadows):
            order = rng.permutation(len(X))
            members[order[:self.train_size], j] = True
            nonmembers[order[self.train_size:2 * self.train_size], j] = True
        stack = train_many(X, y, members, n_classes=self.n_classes, random_state=self.random_state,
                           progress_desc="white-box shadows", **self.recipe.as_kwargs())
        return ShadowModels(stack=stack, members=members, nonmembers=nonmembers)

    def score(self, target, X, y) -> np.ndarray:
        """The attack model's log-odds that each candidate is a member: target MLP, X (n, d), y (n,) -> (n,)."""
        self._check_fitted()
        model, X, y = _checked(target, X, y)
        return self.attack_model_.decision_function(feature_matrix(whitebox_features(model, X, y), self.groups))
