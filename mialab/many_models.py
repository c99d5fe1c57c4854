"""Many MLPs of one shape trained at once: stacked weights, batched matmuls, one fused Adam for a group of models.

`train_many(X, y, masks, **recipe)` trains one MLP per column of `masks` -> a `ModelStack`; model j is the model
`mialab.models.train` would give with the same seed. The shadow models (notebooks 02-04), LiRA's and RMIA's
reference models (05) and the model cache (mialab.cache) all train through here. Taught in notebook 02 (shadow
models trained at once) and 05 (many reference models).
"""

from __future__ import annotations

import concurrent.futures
import math
import numbers
import threading

import numpy as np
import torch
import torch.nn.functional as F

from ._validation import as_array, as_features, as_labels, check_choice, check_memory, check_positive_int, check_seed
from ._validation import check_count
from .models import (_ACTIVATION_FUNCTIONS, _PROGRESS_DELAY_S, ACTIVATIONS, MLP, TrainingDiverged, _adam,
                     _check_dropout, _check_hidden, _check_number)
from .progress import progress
from .threads import limited, workers

class ModelStack:
    """`n_models` MLPs of one shape, stored as stacked weights; predict_proba(X) -> (n_models, n, n_classes).

    weights[l] has shape (n_models, n_in, n_out) and biases[l] (n_models, n_out), layer l from input to output.
    stack[j] is model j as a plain MLP (a copy); seeds[j] is the random_state it was initialised and shuffled with.
    """

    def __init__(self, weights, biases, *, activation: str = "tanh", dropout: float = 0.0, seeds=None):
        if not isinstance(weights, (list, tuple)) or not isinstance(biases, (list, tuple)) or not weights \
                or len(weights) != len(biases):
            raise ValueError("`weights` and `biases` must be non-empty lists of tensors, one of each per layer "
                             "(what train_many returns); got "
                             f"{type(weights).__name__} and {type(biases).__name__}.")
        if not all(isinstance(t, torch.Tensor) for t in (*weights, *biases)):
            raise TypeError("`weights` and `biases` must hold torch tensors (n_models, n_in, n_out) and "
                            "(n_models, n_out).")
        self.weights = [w.detach().cpu().contiguous() for w in weights]
        self.biases = [b.detach().cpu().contiguous() for b in biases]
        m = self.weights[0].shape[0] if self.weights[0].ndim == 3 else -1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            fits = (w.ndim == 3 and b.ndim == 2 and w.shape[0] == m and b.shape == (m, w.shape[2])
                    and (i == 0 or w.shape[1] == self.weights[i - 1].shape[2]))
            if not fits:
                raise ValueError(f"layer {i} does not fit: weights {tuple(w.shape)}, biases {tuple(b.shape)}; "
                                 "expected (n_models, n_in, n_out) and (n_models, n_out), each layer's n_in the "
                                 "previous layer's n_out.")
        if not isinstance(activation, str):
            raise TypeError(f"`activation` must be one of {sorted(ACTIVATIONS)}; got {activation!r}.")
        self.activation = check_choice(activation, "activation", ACTIVATIONS)
        self.dropout = float(dropout)
        self.seeds = list(range(self.n_models)) if seeds is None else [int(s) for s in seeds]
        if len(self.seeds) != self.n_models:
            raise ValueError(f"`seeds` has {len(self.seeds)} entries for {self.n_models} models.")

    @property
    def n_models(self) -> int:
        return self.weights[0].shape[0]

    @property
    def n_features(self) -> int:
        return self.weights[0].shape[1]

    @property
    def n_classes(self) -> int:
        return self.weights[-1].shape[2]

    @property
    def hidden(self) -> tuple[int, ...]:
        return tuple(w.shape[2] for w in self.weights[:-1])

    def __len__(self) -> int:
        return self.n_models

    def __repr__(self) -> str:
        shape = " -> ".join(str(w) for w in (self.n_features, *self.hidden, self.n_classes))
        return f"ModelStack(n_models={self.n_models}, {shape}, {self.activation})"

    def __getitem__(self, j) -> MLP:
        if isinstance(j, bool) or not isinstance(j, numbers.Integral) or not -self.n_models <= j < self.n_models:
            raise IndexError(f"model index must be an integer in [0, {self.n_models}); got {j!r}.")
        model = MLP(self.n_features, self.n_classes, hidden=self.hidden, activation=self.activation,
                    dropout=self.dropout)
        with torch.no_grad():
            for layer, w, b in zip(model.linear_layers(), self.weights, self.biases):
                layer.weight.copy_(w[j].T)
                layer.bias.copy_(b[j])
        return model.eval()

    def _check_X(self, X) -> np.ndarray:
        X = as_features(X)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"`X` must have shape (n, {self.n_features}) for these models; got {X.shape}.")
        return X

    @torch.no_grad()
    def _logits(self, X: np.ndarray, batch_size: int) -> torch.Tensor:
        m, d = self.n_models, self.n_features
        act = _ACTIVATION_FUNCTIONS[self.activation]
        widest = max(w.shape[2] for w in self.weights)
        chunk = max(1, min(batch_size, 2 ** 24 // (m * widest)))   # at most ~64 MB of activations at a time
        first = self.weights[0].permute(1, 0, 2).reshape(d, -1)      # every model's first layer as one matrix
        out = []
        with limited():
            for start in range(0, len(X), chunk):
                x = torch.from_numpy(X[start:start + chunk])
                h = (x @ first).reshape(len(x), m, -1).transpose(0, 1) + self.biases[0][:, None, :]
                for w, b in zip(self.weights[1:], self.biases[1:]):
                    h = torch.baddbmm(b[:, None, :], act(h), w)
                out.append(h)
        return torch.cat(out, dim=1)

    def logits(self, X, batch_size: int = 4096) -> np.ndarray:
        """Every model's raw outputs: X (n, n_features) -> float64 (n_models, n, n_classes)."""
        X = self._check_X(X)
        return self._logits(X, check_positive_int(batch_size, "batch_size")).double().numpy()

    def predict_proba(self, X, batch_size: int = 4096) -> np.ndarray:
        """Every model's class probabilities: X (n, n_features) -> float64 (n_models, n, n_classes)."""
        X = self._check_X(X)
        return torch.softmax(self._logits(X, check_positive_int(batch_size, "batch_size")).double(), dim=2).numpy()

    def predict(self, X) -> np.ndarray:
        """Every model's most likely class: X (n, n_features) -> int64 (n_models, n)."""
        return self.predict_proba(X).argmax(axis=2).astype(np.int64)

    def accuracy(self, X, y) -> np.ndarray:
        """Each model's accuracy on X (n, n_features), y (n,) -> (n_models,)."""
        X = self._check_X(X)
        y = as_labels(y, n=len(X), n_classes=self.n_classes)
        return (self.predict(X) == y).mean(axis=1)


def _check_masks(masks, n_records: int) -> np.ndarray:
    masks = as_array(masks, "masks", dtype=None)
    if masks.ndim != 2:
        raise ValueError(f"`masks` must be boolean of shape (n_records, n_models), one column per model; got shape "
                         f"{masks.shape}. For a single model pass mask[:, None].")
    if masks.dtype != bool:
        if not np.isin(masks, [0, 1]).all():
            raise ValueError("`masks` must hold booleans (True = the model trains on the record) or 0/1.")
        masks = masks.astype(bool)
    if masks.shape[0] != n_records:
        raise ValueError(f"`masks` has {masks.shape[0]} rows but X has {n_records} records; pass one row per record "
                         "(shape (n_records, n_models)).")
    empty = np.flatnonzero(~masks.any(axis=0))
    if len(empty):
        raise ValueError(f"model(s) {empty[:10].tolist()} have no training records (an all-False column of `masks`); "
                         "give every model at least one record.")
    return masks


def _epoch_batches(rows: list[torch.Tensor], generators: list[torch.Generator], batch_size: int, n_steps: int):
    """One epoch of minibatches for every model: record indices (n_steps, m, batch_size), loss weights of the same
    shape (1 / batch length for real rows, 0 for padding) and which models take a step (n_steps, m)."""
    m = len(rows)
    index = torch.zeros(m, n_steps * batch_size, dtype=torch.long)
    weight = torch.zeros(m, n_steps * batch_size)
    for j, (own, generator) in enumerate(zip(rows, generators)):
        index[j, :len(own)] = own[torch.randperm(len(own), generator=generator)]
        weight[j, :len(own)] = 1.0
    index = index.reshape(m, n_steps, batch_size).transpose(0, 1)
    weight = weight.reshape(m, n_steps, batch_size).transpose(0, 1)
    count = weight.sum(dim=2)
    return index, weight / count.clamp(min=1)[:, :, None], count > 0


_GROUP_BYTES = 96 * 2 ** 20
# Weights, gradients and Adam moments of one group (16 bytes per parameter). On a busy 2-core EPYC (32 MB L3),
# groups of 8 to 32 purchase MLPs ran within 10% of each other on one thread and all 64 at once 25% slower (the
# Adam step streams from memory); on two threads larger groups did better (fewer thread barriers per flop), 32 at
# once within 10% of 64. 96 MB holds 32 purchase MLPs.


def _group_size(n_params: int, n_models: int | None = None, n_workers: int = 1) -> int:
    """How many models to train together: about _GROUP_BYTES of state each, groups of near-equal size, and a
    multiple of `n_workers` groups (as many as fit) so that side-by-side workers finish together."""
    largest = max(1, _GROUP_BYTES // (16 * n_params))
    if n_models is None:
        return largest
    n_groups = math.ceil(n_models / largest)
    n_groups = min(n_models, math.ceil(n_groups / n_workers) * n_workers)
    return math.ceil(n_models / n_groups)


class _Group:
    """Models trained together: stacked weights (m, n_in, n_out) and biases (m, n_out), one fused Adam."""

    def __init__(self, initial: list[MLP], lr: float, weight_decay: float, device: torch.device):
        layers = [model.linear_layers() for model in initial]
        self.weights = [torch.stack([ls[i].weight.detach().T for ls in layers]).to(device).contiguous()
                        .requires_grad_() for i in range(len(layers[0]))]
        self.biases = [torch.stack([ls[i].bias.detach() for ls in layers]).to(device).contiguous().requires_grad_()
                       for i in range(len(layers[0]))]
        # Adam sees each model's slice of each stacked tensor as its own parameter: a model that sits out a step
        # gets no gradient, and Adam skips it (its step count included) exactly as if it trained alone.
        stacked = [t.detach() for t in (*self.weights, *self.biases)]
        self.slices = [[t[j] for t in stacked] for j in range(len(initial))]
        self.optimizer = _adam([p for per_model in self.slices for p in per_model], lr, weight_decay)

    def step(self, loss: torch.Tensor, active: list[bool]) -> None:
        loss.backward()
        tensors = (*self.weights, *self.biases)
        grads = [t.grad for t in tensors]
        for j, (per_model, on) in enumerate(zip(self.slices, active)):
            for p, g in zip(per_model, grads):
                p.grad = g[j] if on else None
        self.optimizer.step()
        for t in tensors:
            t.grad = None


class _SparseRowsLinear(torch.autograd.Function):
    """The first layer of m stacked models for inputs with few non-zeros: out (m, B, n_out) = x @ w + b, with x given
    as each row's non-zero columns and values, (m, B, K) each. Forward: an embedding-bag sum of each row's K weight
    rows instead of a matmul over all n_in; backward: the weight gradient as a sum, for each input column, over
    the batch rows where it is non-zero (the same sums as x^T @ grad without the zeros)."""

    @staticmethod
    def forward(ctx, columns, values, w, b):
        m, batch, k = columns.shape
        n_in, n_out = w.shape[1:]
        # each entry's row of w.reshape(-1, n_out)
        flat = (columns + (torch.arange(m, device=columns.device) * n_in)[:, None, None]).reshape(m * batch, k)
        out = F.embedding_bag(flat, w.reshape(m * n_in, n_out), mode="sum",
                              per_sample_weights=values.reshape(m * batch, k))
        ctx.save_for_backward(flat, values)
        ctx.n_in = n_in
        return out.reshape(m, batch, n_out) + b[:, None, :]

    @staticmethod
    def backward(ctx, grad):
        flat, values = ctx.saved_tensors
        m, batch, n_out = grad.shape
        k = flat.shape[1]
        flat = flat.reshape(-1)
        order = torch.argsort(flat, stable=True)           # group the entries by weight row (model, input column)
        counts = torch.bincount(flat, minlength=m * ctx.n_in)
        batch_row = torch.arange(m * batch, device=grad.device).repeat_interleave(k)
        grad_w = F.embedding_bag(batch_row[order], grad.reshape(m * batch, n_out), torch.cumsum(counts, 0) - counts,
                                 mode="sum", per_sample_weights=values.reshape(-1)[order])
        return None, None, grad_w.reshape(m, ctx.n_in, n_out), grad.sum(dim=1)


def _sparse_rows(X_t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Each row's non-zero columns and values, padded to the longest row (padding: column 0, value 0): (n, K) x 2;
    None when the padded rows would hold more than a quarter of the columns (the dense matmul is then cheaper)."""
    nonzero = X_t != 0
    counts = nonzero.sum(dim=1)
    k = int(counts.max()) if len(counts) else 0
    if k == 0 or 4 * k > X_t.shape[1]:
        return None
    # stable sort puts each row's non-zero columns first, in column order
    order = torch.sort((~nonzero).to(torch.int8), dim=1, stable=True).indices[:, :k]
    values = torch.gather(X_t, 1, order)
    keep = torch.arange(k)[None, :] < counts[:, None]
    return torch.where(keep, order, 0), torch.where(keep, values, 0.0)


def _train_group(X_t, y_t, rows, seeds, dropout_seeds, *, hidden, activation, dropout, epochs, batch_size, lr,
                 weight_decay, n_classes, bar, sparse=None, initial=None,
                 stop=None) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Train one group on X_t's device: its models' record indices `rows`, seeds; `initial` MLPs (built from the
    seeds if None); `stop` (a threading.Event) ends training early, between steps, when set. Minibatch orders and
    dropout masks are drawn on the CPU, so a GPU trains on the same batches. -> CPU weights, biases."""
    n_features, device = X_t.shape[1], X_t.device
    if initial is None:
        initial = [MLP(n_features, n_classes, hidden, activation, random_state=s) for s in seeds]
    group = _Group(initial, lr, weight_decay, device)
    orders = [torch.Generator().manual_seed(s) for s in seeds]
    masks_rng = [torch.Generator().manual_seed(s) for s in dropout_seeds]
    n_steps = max(math.ceil(len(r) / batch_size) for r in rows)
    act = _ACTIVATION_FUNCTIONS[activation]
    for _ in range(epochs):
        index, weight, active = _epoch_batches(rows, orders, batch_size, n_steps)
        for step in range(n_steps):
            if stop is not None and stop.is_set():
                return [w.detach().cpu() for w in group.weights], [b.detach().cpu() for b in group.biases]
            on = active[step].tolist()
            rows_now = index[step].to(device)                                   # (m, batch_size) record indices
            h = None if sparse is not None else X_t[rows_now]                  # (m, batch_size, n_features)
            for layer, (w, b) in enumerate(zip(group.weights, group.biases)):
                if layer == 0 and sparse is not None:
                    h = _SparseRowsLinear.apply(sparse[0][rows_now], sparse[1][rows_now], w, b)
                    continue
                if layer:
                    h = act(h)
                    if dropout > 0:
                        # a model draws its dropout masks only on its own steps, so grouping never changes them
                        keep = torch.stack([torch.rand(h.shape[1:], generator=g) if model_on
                                            else torch.ones(h.shape[1:]) for g, model_on in zip(masks_rng, on)])
                        h = h * (keep >= dropout).to(device) / (1 - dropout)
                h = torch.baddbmm(b[:, None, :], h, w)
            losses = F.cross_entropy(h.reshape(-1, n_classes), y_t[rows_now].reshape(-1), reduction="none")
            group.step(losses @ weight[step].reshape(-1).to(device), on)
        if not torch.isfinite(losses).all() or not all(torch.isfinite(w).all() for w in group.weights):
            raise TrainingDiverged(f"training diverged: the loss or the weights became NaN or infinite (lr={lr:g}, "
                                   f"weight_decay={weight_decay:g}). Use a smaller lr (the course uses 1e-3) or "
                                   "weight_decay.")
        bar.update(1)
    return [w.detach().cpu() for w in group.weights], [b.detach().cpu() for b in group.biases]


def train_many(X, y, masks, *, hidden=(256,), activation: str = "tanh", dropout: float = 0.0, epochs: int = 30,
               batch_size: int = 64, lr: float = 1e-3, weight_decay: float = 0.0, n_classes: int | None = None,
               random_state: int = 0, group_size: int | None = None, progress_desc: str | None = None,
               device="cpu") -> ModelStack:
    """Train one MLP per column of `masks` at once: model j learns X[masks[:, j]], y[masks[:, j]] -> a ModelStack.

    X (n, d), y (n,), masks bool (n, n_models). Model j is the model that
        train(MLP(d, n_classes, hidden, activation, random_state=s), X[masks[:, j]], y[masks[:, j]], random_state=s)
    gives, with s = stack.seeds[j] (drawn from `random_state`): the same initial weights, the same minibatches and
    the same Adam steps, so results match that loop up to float rounding (dropout masks differ). It is faster
    because one batched matmul (torch.baddbmm) serves a group of models and one fused Adam updates them all.
    Groups hold `group_size` models (default: about 96 MB of weights, gradients and Adam moments per group, 32
    purchase MLPs); the grouping changes the speed, never the result. With n >= 2 workers
    (`mialab.threads.workers()`, the cores by default), n groups train side by side, each in its own Python thread
    on one torch thread (the default then makes at least n groups); the models equal those of a one-thread run.

    Models may have different numbers of records. Each still takes exactly ceil(n_j / batch_size) steps per epoch
    over its own records in its own random order; a group runs its largest number, batches are padded to
    `batch_size` rows whose padding has zero loss weight, and a model that has finished its epoch sits out the
    remaining steps (no gradient, so Adam leaves its weights, moments and step count alone). The summed loss is
    each model's mean minibatch loss, so each model's gradient is its solo gradient. `n_classes` defaults to
    y.max() + 1 over all records, so every model has the same outputs even if its records miss a class.
    When X's rows have few non-zeros (each at most a quarter of the columns, as purchase's 0/1 rows with about
    30 ones in 600), the first layer skips the zeros: its forward pass sums each row's non-zero weight rows and
    its weight gradient sums, per input column, the batch rows where the column is non-zero (torch embedding_bag
    both ways): the same result up to float rounding, faster on purchase (docs/measurements.md).
    `device` ("cpu", "cuda", "cuda:1", a torch.device) is where the groups train; batches and dropout masks are
    drawn on the CPU either way, so a GPU trains the same models up to float rounding. The stack comes back on
    the CPU. Raises TrainingDiverged when a loss or a weight stops being finite, and MemoryError, before
    allocating, when the models cannot fit in this machine's memory.
    """
    X, y, masks, options = _check_training(X, y, masks, hidden=hidden, activation=activation, dropout=dropout,
                                           epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                                           n_classes=n_classes)
    seeds, dropout_seeds = _model_seeds(random_state, masks.shape[1])
    return _train_stack(X, y, masks, seeds, dropout_seeds, options, group_size, progress_desc, check_device(device))


def train_many_chunks(X, y, chunks, *, hidden=(256,), activation: str = "tanh", dropout: float = 0.0,
                      epochs: int = 30, batch_size: int = 64, lr: float = 1e-3, weight_decay: float = 0.0,
                      n_classes: int | None = None, group_size: int | None = None,
                      progress_desc: str | None = None, device="cpu") -> list[ModelStack]:
    """Several train_many calls on the same data, trained together: chunks = [(masks, random_state), ...] -> one
    ModelStack per chunk.

    Stack i holds the models of train_many(X, y, masks_i, random_state=random_state_i, **options) (same seeds, same
    results up to float rounding); training them in one call runs fewer, fuller steps. For caches that store
    each chunk on its own (mialab.cache.train_in_out_models). `device` as in train_many.
    """
    if not isinstance(chunks, (list, tuple)) or not chunks:
        raise TypeError("`chunks` must be a non-empty list of (masks, random_state) pairs, one per ModelStack.")
    X = as_features(X)
    all_masks, seeds, dropout_seeds, sizes = [], [], [], []
    for i, chunk in enumerate(chunks):
        if not isinstance(chunk, (list, tuple)) or len(chunk) != 2:
            raise TypeError(f"chunk {i} must be a (masks, random_state) pair; got {type(chunk).__name__}.")
        masks, random_state = chunk
        masks = _check_masks(masks, len(X))
        s, d = _model_seeds(random_state, masks.shape[1])
        all_masks.append(masks)
        seeds += s
        dropout_seeds += d
        sizes.append(masks.shape[1])
    X, y, masks, options = _check_training(X, y, np.concatenate(all_masks, axis=1), hidden=hidden,
                                           activation=activation, dropout=dropout, epochs=epochs,
                                           batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                                           n_classes=n_classes)
    stack = _train_stack(X, y, masks, seeds, dropout_seeds, options, group_size, progress_desc,
                         check_device(device))
    ends = np.cumsum(sizes)
    return [ModelStack([w[end - size:end] for w in stack.weights], [b[end - size:end] for b in stack.biases],
                       activation=stack.activation, dropout=stack.dropout, seeds=stack.seeds[end - size:end])
            for size, end in zip(sizes, ends)]


def _model_seeds(random_state, n_models: int) -> tuple[list[int], list[int]]:
    """Each model's seed (initial weights, minibatch order) and dropout seed, drawn from `random_state`."""
    seed = check_seed(random_state)
    seeds = [int(s) for s in np.random.SeedSequence(seed).generate_state(n_models)]
    dropout_seeds = [int(s) for s in np.random.SeedSequence([seed, 1]).generate_state(n_models)]
    return seeds, dropout_seeds


def _check_training(X, y, masks, *, hidden, activation, dropout, epochs, batch_size, lr, weight_decay, n_classes):
    """train_many's inputs checked: -> X, y, masks, options (a dict of the checked training options)."""
    X = as_features(X)
    if X.ndim != 2:
        raise ValueError(f"`X` must have shape (n_records, n_features); got {X.shape}. Flatten images first.")
    y = as_labels(y, n=len(X))
    n_classes = int(y.max()) + 1 if n_classes is None else check_positive_int(n_classes, "n_classes", minimum=2)
    if n_classes < 2:
        raise ValueError("`y` holds a single class (0); pass labels of at least two classes, or pass n_classes.")
    y = as_labels(y, n=len(X), n_classes=n_classes)
    masks = _check_masks(masks, len(X))
    hidden = _check_hidden(hidden)
    activation = check_choice(activation, "activation", ACTIVATIONS)
    dropout = _check_dropout(dropout)
    epochs = check_count(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    lr = _check_number(lr, "lr", positive=True)
    weight_decay = _check_number(weight_decay, "weight_decay", positive=False)
    return X, y, masks, dict(hidden=hidden, activation=activation, dropout=dropout, epochs=epochs,
                             batch_size=batch_size, lr=lr, weight_decay=weight_decay, n_classes=n_classes)


def check_device(device) -> torch.device:
    """`device` as a torch.device that this machine has: "cpu", "cuda", "cuda:0", ... (or a torch.device)."""
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"`device` must be a torch device such as 'cpu' or 'cuda'; got {device!r}.") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"`device` is {str(device)!r} but this torch has no CUDA device available "
                         f"(torch {torch.__version__}); train on 'cpu', or install a CUDA build (README, 'GPU').")
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"`device` must be 'cpu' or a CUDA device; got {str(device)!r}.")
    return device


def _train_stack(X, y, masks, seeds, dropout_seeds, options, group_size, progress_desc,
                 device=torch.device("cpu")) -> ModelStack:
    """Train one MLP per column of the checked `masks`, model j seeded with seeds[j], in groups of `group_size`.

    With n >= 2 workers (`mialab.threads.workers()`), the groups train side by side, one per Python thread, each
    on one torch thread: these small matmuls use a core better alone than split in two (docs/measurements.md).
    The models are exactly those of a one-thread run."""
    widths = (X.shape[1], *options["hidden"], options["n_classes"])
    m = masks.shape[1]
    n_params = sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:]))
    n_workers = min(workers(), m) if device.type == "cpu" else 1
    if group_size is None:
        group_size = _group_size(n_params, m, n_workers)
    group_size = check_positive_int(group_size, "group_size")
    # all models' weights (the initial ones and the result), and weights, gradients and Adam moments per group
    check_memory(4 * n_params * (2 * m + 4 * min(m, group_size * n_workers)),
                 f"{m:,} models of {n_params:,} parameters", "train fewer models per call (the model cache "
                 "trains LiRA's reference models chunk by chunk) or smaller models")
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    sparse = _sparse_rows(X_t)   # 0/1 purchase rows: the first layer works on ~30 weight rows instead of 600
    X_t, y_t = X_t.to(device), y_t.to(device)
    sparse = None if sparse is None else (sparse[0].to(device), sparse[1].to(device))
    rows = [torch.from_numpy(np.flatnonzero(masks[:, j])) for j in range(m)]
    parts = [slice(start, start + group_size) for start in range(0, m, group_size)]
    n_features = X_t.shape[1]
    with progress(total=len(parts) * options["epochs"], desc=progress_desc or f"training {m} models",
                  delay=_PROGRESS_DELAY_S) as bar:
        if n_workers < 2 or len(parts) < 2:
            with limited():
                trained = [_train_group(X_t, y_t, rows[part], seeds[part], dropout_seeds[part], bar=bar,
                                        sparse=sparse, **options) for part in parts]
        else:
            # initial weights come from torch's global RNG: drawn here, one model after another, not in the threads
            initial = [[MLP(n_features, options["n_classes"], options["hidden"], options["activation"],
                            random_state=s) for s in seeds[part]] for part in parts]
            trained = _train_side_by_side(
                [dict(rows=rows[part], seeds=seeds[part], dropout_seeds=dropout_seeds[part], initial=first)
                 for part, first in zip(parts, initial)],
                n_workers, X_t=X_t, y_t=y_t, bar=_LockedBar(bar), sparse=sparse, **options)
    return ModelStack([torch.cat(layer) for layer in zip(*(w for w, _ in trained))],
                      [torch.cat(layer) for layer in zip(*(b for _, b in trained))],
                      activation=options["activation"], dropout=options["dropout"], seeds=seeds)


class _LockedBar:
    """A progress bar that several threads may update."""

    def __init__(self, bar):
        self._bar, self._lock = bar, threading.Lock()

    def update(self, n: int = 1) -> None:
        with self._lock:
            self._bar.update(n)


def _train_side_by_side(groups: list[dict], n_workers: int, **shared) -> list:
    """_train_group(**group, **shared) for each group, `n_workers` at a time in threads, torch on one thread each;
    an error or an interrupt (Ctrl-C, the kernel's stop button) stops the other groups at their next step."""
    stop = threading.Event()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=n_workers) as pool:
            futures = [pool.submit(_train_group, stop=stop, **group, **shared) for group in groups]
            try:
                concurrent.futures.wait(futures, return_when=concurrent.futures.FIRST_EXCEPTION)
            except BaseException:          # an interrupt while waiting
                stop.set()
                raise
            if any(future.done() and future.exception() is not None for future in futures):
                stop.set()
            return [future.result() for future in futures]      # raises the first group's error, if any
    finally:
        torch.set_num_threads(threads)
