"""Federated learning, simulated, and the attackers who take part in it (Nasr et al. 2019; Truex et al.; Shokri &
Shmatikov 2015).

    run = federated_training(X, y, client_masks, rounds=30, local_epochs=2, watch=(X_cand, y_cand))
    run.model                      # the final global MLP
    run.global_losses              # (rounds + 1, n_watch): each watched record's loss on every global model
    run.client_losses              # (rounds, n_clients, n_watch): ... on every client's returned model

Each round the server sends the global MLP to every client; each client trains it with Adam for `local_epochs`
epochs on its own records (as mialab.models.train would, seeded by client_seeds) and returns it; the server
averages the returned parameters (FedAvg, McMahan et al. 2017). With `share` = theta < 1 each client sends only
the floor(theta * d) largest entries of its update (selective SGD, Shokri & Shmatikov 2015); `server` lets an
active attacker change the global model before it is sent. The clients of a round train at once as one stack
of models (mialab.many_models.train_many's machinery): the same models as training them one by one.

Attackers by position: a passive server sees every client's returned model (passive_server_score); an insider
sees only the global models (insider_score); an active server pushes gradient ascent on the target records into
the global model (ActiveServer) and watches how a client's training pulls their loss back down.
Taught in notebook 06, sections 4-6.
"""

from __future__ import annotations

import copy
import math
import numbers
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ._reference import reference
from ._validation import check_count, as_array, as_features, as_labels, check_positive_int, check_scalar, check_seed
from .attacks.whitebox import record_gradient_norms
from .many_models import ModelStack, _check_masks, _sparse_rows, _train_group
from .models import MLP
from .progress import NoBar, progress
from .threads import limited

__all__ = ["ActiveServer", "FederatedRun", "ascent_direction", "client_seeds", "federated_training",
           "insider_score", "load_vector", "normalised_ascent", "passive_server_score", "top_fraction", "vector"]

_EPS = 1e-12


# ---------------------------------------------------------------------------------------------------------------
# parameters as one vector
# ---------------------------------------------------------------------------------------------------------------

def vector(model: MLP) -> torch.Tensor:
    """All parameters of `model` as one new float32 vector (d,), layer by layer (weight, then bias)."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"`model` must be a torch module (a mialab.models.MLP); got {type(model).__name__}.")
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()]).clone()


def load_vector(model: MLP, values: torch.Tensor) -> MLP:
    """Copy the vector `values` (d,) into `model`'s parameters, in place, and return the model.

    Copies (p.copy_), unlike torch.nn.utils.vector_to_parameters, which makes the parameters views of the
    vector: changing the vector later would silently change the model."""
    values = torch.as_tensor(values).reshape(-1)
    n = sum(p.numel() for p in model.parameters())
    if values.numel() != n:
        raise ValueError(f"`values` has {values.numel()} entries but the model has {n} parameters.")
    start = 0
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(values[start:start + p.numel()].reshape(p.shape))
            start += p.numel()
    return model


def _stack_vectors(stack_weights, stack_biases) -> torch.Tensor:
    """Stacked client models (m, n_in, n_out) / (m, n_out) -> (m, d) in the order of `vector` (W as (out, in))."""
    parts = []
    for w, b in zip(stack_weights, stack_biases):
        parts += [w.detach().transpose(1, 2).reshape(len(w), -1), b.detach()]
    return torch.cat(parts, dim=1)


# ---------------------------------------------------------------------------------------------------------------
# selective SGD and the active attacker's direction (the exercises' reference answers)
# ---------------------------------------------------------------------------------------------------------------

def _n_kept(theta: float, d: int) -> int:
    return int(math.floor(theta * d + 1e-9))   # 1e-9: 0.29 * 100 is 28.999999999999996 in floating point


@reference
def top_fraction(update, theta: float) -> np.ndarray:
    """Selective SGD's shared update: the floor(theta * d) entries of `update` (d,) largest in absolute value
    kept, the rest set to 0 -> (d,). Ties at the cut are broken by position (the earlier entry is kept).
    Shokri & Shmatikov 2015, Sec. 4. Taught in notebook 06, exercise 6.4."""
    update = as_array(update, "update", ndim=1, allow_empty=True)
    theta = check_scalar(theta, "theta", low=0.0, high=1.0)
    k = _n_kept(theta, len(update))
    kept = np.zeros_like(update)
    if k:
        index = np.argsort(-np.abs(update), kind="stable")[:k]
        kept[index] = update[index]
    return kept


def _top_fraction_rows(updates: torch.Tensor, theta: float) -> torch.Tensor:
    """top_fraction of each row of `updates` (m, d), in torch."""
    k = _n_kept(theta, updates.shape[1])
    if k >= updates.shape[1]:
        return updates
    kept = torch.zeros_like(updates)
    if k:
        index = torch.topk(updates.abs(), k, dim=1, sorted=False).indices
        kept.scatter_(1, index, updates.gather(1, index))
    return kept


@reference
def ascent_direction(gradients) -> np.ndarray:
    """The active attacker's direction: the sum of each record's gradient divided by its norm, sum_i g_i/||g_i||:
    gradients (n, d) -> (d,). A record with a zero gradient adds nothing. Nasr et al. 2019, Sec. IV-C.
    Taught in notebook 06, exercise 6.3."""
    gradients = as_array(gradients, "gradients", ndim=2)
    norms = np.linalg.norm(gradients, axis=1, keepdims=True)
    return (gradients / np.where(norms > 0, norms, 1.0)).sum(axis=0)


def normalised_ascent(model: MLP, X, y) -> torch.Tensor:
    """ascent_direction of the per-record loss gradients of `model` on X (n, d), y (n,), without forming them:
    one backward pass of sum_i loss_i / ||g_i||, the norms ||g_i|| in closed form
    (mialab.attacks.whitebox.record_gradient_norms) -> float32 vector (d,) in the order of `vector(model)`."""
    X = as_features(X)
    y = as_labels(y, n=len(X), n_classes=model.n_classes)
    norms = torch.from_numpy(record_gradient_norms(model, X, y)).float()
    weights = torch.where(norms > 0, 1.0 / norms.clamp(min=_EPS), torch.zeros_like(norms))
    was_training = model.training
    model.eval()
    try:
        with limited(), torch.enable_grad():
            losses = F.cross_entropy(model(torch.from_numpy(X)), torch.from_numpy(y), reduction="none")
            grads = torch.autograd.grad(losses @ weights, list(model.parameters()))
    finally:
        model.train(was_training)
    return torch.cat([g.reshape(-1) for g in grads]).detach()


class ActiveServer:
    """Nasr et al.'s active server: before sending the global model in round r (r in `rounds`), it takes a step
    of gradient ascent on the target records, theta <- theta + gamma * u / ||u|| with u = sum_i g_i/||g_i||
    (normalised_ascent). A member's client pulls that record's loss back down in its local training; a
    non-member's loss stays up. gamma is the step's length in parameter space.

    Pass it as federated_training(..., server=ActiveServer(X_targets, y_targets, gamma)).
    Paper: M. Nasr, R. Shokri, A. Houmansadr, IEEE S&P 2019, Sec. IV-C. Taught in notebook 06, section 5.
    """

    def __init__(self, X, y, gamma: float, rounds=None):
        self.X = as_features(X)
        self.y = as_labels(y, n=len(self.X))
        self.gamma = check_scalar(gamma, "gamma", low=0.0)
        self.rounds = None if rounds is None else {check_positive_int(r, "each round", minimum=0) for r in rounds}

    def __call__(self, round_: int, model: MLP) -> None:
        if self.gamma == 0 or (self.rounds is not None and round_ not in self.rounds):
            return
        u = normalised_ascent(model, self.X, self.y)
        load_vector(model, vector(model) + self.gamma * u / u.norm().clamp(min=_EPS))


# ---------------------------------------------------------------------------------------------------------------
# the attackers' scores
# ---------------------------------------------------------------------------------------------------------------

@reference
def passive_server_score(losses_before, losses_after) -> np.ndarray:
    """A passive server's score for one client's records: how many times smaller the client's local training made
    each record's loss, on a log scale, averaged over the rounds:
    mean_r [log(losses_before[r]) - log(losses_after[r])], each loss clipped at 1e-12 -> (n,), higher = member.
    losses_before, losses_after (rounds, n): each record's loss on the global model sent in round r and on the
    model the client returned. Taught in notebook 06, exercise 6.2."""
    before = as_array(losses_before, "losses_before", ndim=2)
    after = as_array(losses_after, "losses_after", ndim=2)
    if before.shape != after.shape:
        raise ValueError(f"`losses_before` and `losses_after` must have the same shape (rounds, n); got "
                         f"{before.shape} and {after.shape}.")
    return (np.log(np.clip(before, _EPS, None)) - np.log(np.clip(after, _EPS, None))).mean(axis=0)


def insider_score(global_losses, last: int = 5) -> np.ndarray:
    """An insider's score from the global models alone (Truex et al.): minus each record's log-loss averaged over
    the `last` global models: global_losses (rounds + 1, n) -> (n,), higher = member."""
    losses = as_array(global_losses, "global_losses", ndim=2)
    last = check_positive_int(last, "last")
    if last > len(losses):
        raise ValueError(f"`last` = {last} but only {len(losses)} global models were watched; pass last <= "
                         f"{len(losses)}.")
    return -np.log(np.clip(losses[-last:], _EPS, None)).mean(axis=0)


# ---------------------------------------------------------------------------------------------------------------
# the simulation
# ---------------------------------------------------------------------------------------------------------------

def client_seeds(random_state: int, round_: int, n_clients: int) -> list[int]:
    """The seeds of the clients' local training in round `round_` (minibatch order), drawn from `random_state`:
    client c trains as mialab.models.train(model, X_c, y_c, ..., random_state=client_seeds(...)[c])."""
    seed = check_seed(random_state)
    round_ = check_positive_int(round_, "round_", minimum=0)
    n_clients = check_positive_int(n_clients, "n_clients")
    return [int(s) for s in np.random.SeedSequence([seed, round_]).generate_state(n_clients)]


@dataclass
class FederatedRun:
    """What federated_training returns.

    model: the final global MLP. global_losses (rounds + 1, n_watch): each watched record's loss on the global
    model sent in each round (after the server's change, if any), then on the final one. client_losses
    (rounds, n_clients, n_watch): on each client's returned model. test_accuracy (rounds + 1,): the global
    models' accuracy on the test set; client_test_accuracy (rounds, n_clients): the clients' returned models'.
    Arrays are empty (size 0) when nothing was watched or no test set was given."""

    model: MLP
    global_losses: np.ndarray
    client_losses: np.ndarray
    test_accuracy: np.ndarray
    client_test_accuracy: np.ndarray


def _losses(probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Cross-entropy of probabilities (..., n, k) at labels y (n,) -> (..., n)."""
    p_y = np.take_along_axis(probs, np.broadcast_to(y[:, None], probs.shape[:-1] + (1,)), axis=-1)[..., 0]
    return -np.log(np.clip(p_y, _EPS, None))


def _check_pair(pair, name, n_features, n_classes):
    if pair is None:
        return None
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise TypeError(f"`{name}` must be a pair (X, y) of records and labels, or None.")
    X = as_features(pair[0], name=f"{name}[0]")
    if X.ndim != 2 or X.shape[1] != n_features:
        raise ValueError(f"`{name}[0]` must have shape (n, {n_features}); got {X.shape}.")
    return X, as_labels(pair[1], name=f"{name}[1]", n=len(X), n_classes=n_classes)


def federated_training(X, y, client_masks, *, rounds: int = 30, local_epochs: int = 2, hidden=(256,),
                       activation: str = "tanh", batch_size: int = 64, lr: float = 1e-3, n_classes: int | None = None,
                       share: float = 1.0, server=None, watch=None, test=None, initial: MLP | None = None,
                       first_round: int = 0, random_state: int = 0,
                       progress_desc: str | None = None) -> FederatedRun:
    """FedAvg over `rounds` rounds; client c owns the records X[client_masks[:, c]] -> FederatedRun.

    X (n, d), y (n,), client_masks bool (n, n_clients). The global MLP starts from MLP(d, n_classes, hidden,
    activation, random_state=random_state). Each round: `server(round, global_model)` may change the global
    model in place (an active attacker, e.g. ActiveServer); every client trains a copy for `local_epochs` epochs
    of Adam (lr, batch_size; a fresh optimizer each round), seeded by client_seeds(random_state, round, ...);
    the server adds the mean of the clients' updates, each cut to its floor(share * d) largest entries
    (top_fraction; share = 1 is plain FedAvg, the mean of the returned models). `watch` = (X_w, y_w) records
    the losses the attackers see; `test` = (X_t, y_t) the accuracies. Deterministic under `random_state`.
    To continue a run, pass its final model as `initial` (copied; `hidden` and `activation` are then its own)
    and the next round's number as `first_round`: rounds first_round, ..., first_round + rounds - 1 follow,
    with the same seeds and server rounds as one longer run.
    Paper: H. B. McMahan et al. 2017 (FedAvg); R. Shokri, V. Shmatikov, CCS 2015 (selective SGD).
    Taught in notebook 06, sections 4-6.
    """
    X = as_features(X)
    if X.ndim != 2:
        raise ValueError(f"`X` must have shape (n_records, n_features); got {X.shape}.")
    y = as_labels(y, n=len(X))
    n_classes = int(y.max()) + 1 if n_classes is None else check_positive_int(n_classes, "n_classes", minimum=2)
    y = as_labels(y, n=len(X), n_classes=n_classes)
    masks = _check_masks(client_masks, len(X))
    rounds = check_count(rounds, "rounds")
    local_epochs = check_count(local_epochs, "local_epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    lr = check_scalar(lr, "lr", low=0.0, closed="neither")
    share = check_scalar(share, "share", low=0.0, high=1.0)
    if server is not None and not callable(server):
        raise TypeError(f"`server` must be a function server(round, model) (e.g. ActiveServer) or None; got "
                        f"{type(server).__name__}.")
    seed = check_seed(random_state)
    watch = _check_pair(watch, "watch", X.shape[1], n_classes)
    test = _check_pair(test, "test", X.shape[1], n_classes)
    options = dict(hidden=tuple(hidden) if not isinstance(hidden, numbers.Integral) else (hidden,),
                   activation=activation, dropout=0.0, epochs=local_epochs, batch_size=batch_size, lr=lr,
                   weight_decay=0.0, n_classes=n_classes)
    first_round = check_positive_int(first_round, "first_round", minimum=0)
    if initial is None:
        model = MLP(X.shape[1], n_classes, options["hidden"], activation, random_state=seed)
    elif isinstance(initial, MLP) and initial.n_features == X.shape[1] and initial.n_classes == n_classes:
        model = copy.deepcopy(initial)
        options.update(hidden=model.hidden, activation=model.activation)
        activation = model.activation
    else:
        raise TypeError(f"`initial` must be a mialab.models.MLP with {X.shape[1]} features and {n_classes} classes "
                        f"(a run's final model) or None; got {type(initial).__name__}.")
    n_clients = masks.shape[1]
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    sparse = _sparse_rows(X_t)
    rows = [torch.from_numpy(np.flatnonzero(masks[:, c])) for c in range(n_clients)]
    global_losses, client_losses, test_acc, client_acc = [], [], [], []

    def observe_global():
        if watch is not None:
            global_losses.append(_losses(_proba(model, watch[0]), watch[1]))
        if test is not None:
            test_acc.append(float(np.mean(_proba(model, test[0]).argmax(1) == test[1])))

    with limited():
        every_round = range(first_round, first_round + rounds)
        for r in progress(every_round, desc=progress_desc or "federated rounds", delay=2.0):
            if server is not None:
                server(r, model)
            observe_global()
            seeds = client_seeds(seed, r, n_clients)
            weights, biases = _train_group(X_t, y_t, rows, seeds, seeds, bar=NoBar(), sparse=sparse,
                                           initial=[copy.deepcopy(model) for _ in range(n_clients)], **options)
            clients = ModelStack(weights, biases, activation=activation)
            if watch is not None:
                client_losses.append(_losses(clients.predict_proba(watch[0]), watch[1]))
            if test is not None:
                client_acc.append((clients.predict_proba(test[0]).argmax(2) == test[1]).mean(axis=1))
            start = vector(model)
            updates = _stack_vectors(clients.weights, clients.biases) - start
            if share < 1:
                updates = _top_fraction_rows(updates, share)
            load_vector(model, start + updates.mean(dim=0))
        observe_global()
    model.eval()
    return FederatedRun(model=model, global_losses=np.array(global_losses), client_losses=np.array(client_losses),
                        test_accuracy=np.array(test_acc), client_test_accuracy=np.array(client_acc))


def _proba(model: MLP, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return torch.softmax(model.eval()(torch.from_numpy(X)).double(), dim=1).numpy()
