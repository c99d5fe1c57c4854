"""DP-SGD through Opacus, one step of it by hand, and what (epsilon, delta) promises against membership inference.

    model = MLP(600, 100)
    model = train_dpsgd(model, X, y, epsilon=8.0, delta=1e-5)   # Opacus, ghost clipping, RDP accountant
    model.privacy_                                              # {"epsilon": 7.99, "delta": 1e-05, ...}

DP-SGD (Abadi et al. 2016) clips each example's gradient to norm <= C, sums, adds N(0, (sigma C)^2) noise and
divides by the expected batch size. The accountant turns (sigma, sampling rate, steps) into (epsilon, delta).
Training runs in Opacus (`opacus.PrivacyEngine`, pinned in pyproject.toml), not in a hand-written optimiser;
`dp_sgd_step` is the same step written out in NumPy, checked against Opacus (`opacus_step`) in the tests and in
notebook 11. Opacus warns about its RNG ("secure mode") and backward hooks; those warnings are expected here and
are silenced inside this module, so none reaches a notebook cell.

The bounds: an epsilon-DP training algorithm caps a membership attack's advantage at e^epsilon - 1 (Yeom et al.
2018, Theorem 1) and, for (epsilon, delta)-DP, its TPR at each FPR at min(e^eps FPR + delta,
1 - e^-eps (1 - delta - FPR)) (Kairouz et al. 2015; the hypothesis-testing view). Read backwards, a measured
(TPR, FPR) gives a lower bound on the epsilon of the training run (`empirical_epsilon`, Jagielski et al. 2020).
Taught in notebook 11, section 5.
"""

from __future__ import annotations

import contextlib
import copy
import math
import numbers
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._reference import reference
from .._validation import check_count, as_array, as_features, as_labels, check_choice, check_scalar, check_seed
from ..metrics import clopper_pearson_rates
from ..progress import progress
from ..threads import limited

# Opacus is imported here, not lazily: this module exists to run it, and it is a pinned dependency.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import opacus
    from opacus.accountants import RDPAccountant
    from opacus.accountants.utils import get_noise_multiplier
    from opacus.grad_sample import GradSampleModule
    from opacus.optimizers import DPOptimizer

DEFAULT_DELTA = 1e-5
_OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}


@contextlib.contextmanager
def _quiet_opacus():
    """Silence the warnings Opacus gives on every run here: secure RNG off (a teaching setting), full backward
    hooks, ghost clipping's double backward. Other warnings pass through."""
    with warnings.catch_warnings():
        for message in ("Secure RNG", "secure", "Using a non-full backward hook", "Full backward hook",
                        "full backward hook", "Optimal order", "optimal order", "retain_graph",
                        "Ghost clipping", "ghost clipping", "torch.nn.utils.parametrize", "Poisson"):
            warnings.filterwarnings("ignore", message=f".*{message}.*")
        warnings.filterwarnings("ignore", module=r"opacus(\..*)?")
        warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.nn\.modules\.module")
        warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.autograd\.graph")
        yield


# ---------------------------------------------------------------------------------------------------------------
# one step, by hand and by Opacus
# ---------------------------------------------------------------------------------------------------------------

def _check_norm(max_grad_norm) -> float:
    if isinstance(max_grad_norm, bool) or not isinstance(max_grad_norm, numbers.Real) or not max_grad_norm > 0:
        raise ValueError(f"`max_grad_norm` (the clipping norm C) must be a number > 0, or math.inf for no "
                         f"clipping; got {max_grad_norm!r}.")
    return float(max_grad_norm)


@reference
def dp_sgd_step(per_example_grads, max_grad_norm: float, noise_multiplier: float, lr: float, noise) -> np.ndarray:
    """One DP-SGD update: per_example_grads (B, d), noise (d,) standard normal draws -> the update (d,) to add to
    the parameters: -lr * (sum_i clip(g_i) + noise_multiplier * max_grad_norm * noise) / B.

    clip(g) = g * min(1, C / ||g||) (Opacus divides by ||g|| + 1e-6, which changes nothing visible). With
    noise_multiplier = 0 the noise term is left out, so C = inf gives plain SGD on the mean gradient.
    (Abadi et al. 2016, Algorithm 1.)"""
    grads = as_array(per_example_grads, "per_example_grads", dtype=float)
    if grads.ndim != 2 or len(grads) == 0:
        raise ValueError(f"`per_example_grads` must have shape (B, d), one flattened gradient per example; got "
                         f"{grads.shape}.")
    C = _check_norm(max_grad_norm)
    sigma = check_scalar(noise_multiplier, "noise_multiplier", low=0.0)
    lr = check_scalar(lr, "lr", low=0.0, closed="neither")
    noise = as_array(noise, "noise", dtype=float)
    if noise.shape != grads.shape[1:]:
        raise ValueError(f"`noise` must have shape {grads.shape[1:]} (one draw per parameter); got {noise.shape}.")
    norms = np.linalg.norm(grads, axis=1)
    factor = np.minimum(1.0, C / (norms + 1e-6)) if math.isfinite(C) else np.ones(len(grads))
    total = (factor[:, None] * grads).sum(axis=0)
    if sigma > 0:
        total = total + sigma * C * noise
    return -lr * total / len(grads)


def _flat_params(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def per_example_gradients(model: nn.Module, X, y) -> np.ndarray:
    """Each example's gradient of the cross-entropy, flattened over the model's parameters in order:
    X (B, d), y (B,) -> (B, n_params) float64 (torch.func: vmap over grad)."""
    X = torch.from_numpy(as_features(X))
    y = torch.from_numpy(as_labels(y, n=len(X)))
    params = {name: p.detach() for name, p in model.named_parameters()}

    def loss(p, x, t):
        out = torch.func.functional_call(model, p, (x[None],))
        return F.cross_entropy(out, t[None])

    with limited():
        grads = torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0, 0))(params, X, y)
    return torch.cat([grads[name].reshape(len(X), -1) for name in params], dim=1).double().numpy()


def opacus_step(model: nn.Module, X, y, *, max_grad_norm: float = 1.0, noise_multiplier: float = 0.0,
                lr: float = 0.1, random_state: int = 0) -> np.ndarray:
    """The parameter update (n_params,) of one Opacus DP-SGD step (plain SGD inside Opacus's DPOptimizer) on the
    batch X (B, d), y (B,), taken on a copy of `model` (the model itself is not changed).

    Expected batch size B, mean loss: the same step as dp_sgd_step, with Opacus's own noise (seeded)."""
    C = _check_norm(max_grad_norm)
    sigma = check_scalar(noise_multiplier, "noise_multiplier", low=0.0)
    lr = check_scalar(lr, "lr", low=0.0, closed="neither")
    if sigma > 0 and not math.isfinite(C):
        raise ValueError("noise needs a finite clipping norm: noise_multiplier * max_grad_norm is the noise's "
                         "standard deviation. Pass a finite max_grad_norm.")
    X = torch.from_numpy(as_features(X))
    y = torch.from_numpy(as_labels(y, n=len(X)))
    net = copy.deepcopy(model).train()   # Opacus records activations only in training mode; models.train returns eval
    before = _flat_params(net)
    with _quiet_opacus(), limited():
        wrapped = GradSampleModule(net, batch_first=True, loss_reduction="mean")
        generator = torch.Generator().manual_seed(check_seed(random_state))
        optimizer = DPOptimizer(torch.optim.SGD(wrapped.parameters(), lr=lr), noise_multiplier=sigma,
                                max_grad_norm=C, expected_batch_size=len(X), generator=generator)
        optimizer.zero_grad()
        F.cross_entropy(wrapped(X), y).backward()
        optimizer.step()
        wrapped.to_standard_module()
    return (_flat_params(net) - before).double().numpy()


# ---------------------------------------------------------------------------------------------------------------
# the accountant
# ---------------------------------------------------------------------------------------------------------------

def _check_epsilon(epsilon) -> float:
    return check_scalar(epsilon, "epsilon", low=0.0, closed="neither")


def _check_delta(delta) -> float:
    return check_scalar(delta, "delta", low=0.0, high=1.0, closed="neither")


def noise_multiplier_for(epsilon: float, *, delta: float = DEFAULT_DELTA, sample_rate: float, epochs: int) -> float:
    """The noise multiplier sigma that makes `epochs` of DP-SGD at `sample_rate` (batch / n) (epsilon, delta)-DP
    under Opacus's RDP accountant (fast enough for sweeps; the PRV accountant is tighter and much slower)."""
    epsilon, delta = _check_epsilon(epsilon), _check_delta(delta)
    sample_rate = check_scalar(sample_rate, "sample_rate", low=0.0, high=1.0, closed="right")
    epochs = check_count(epochs, "epochs")
    return _noise_for_steps(epsilon, delta, sample_rate, int(epochs / sample_rate))


def _noise_for_steps(epsilon: float, delta: float, sample_rate: float, steps: int) -> float:
    """Opacus's search for sigma, with its refusal of an unreachable epsilon said in the course's words."""
    with _quiet_opacus():
        try:
            return float(get_noise_multiplier(target_epsilon=epsilon, target_delta=delta, sample_rate=sample_rate,
                                              steps=steps, accountant="rdp"))
        except ValueError as error:
            if "too low" not in str(error):
                raise
    raise ValueError(f"`epsilon` = {epsilon!r} cannot be reached: even a noise multiplier of 10**6 spends more "
                     f"over {steps} steps at sampling rate {sample_rate:.4g} (delta {delta:g}). Pass a larger "
                     "epsilon (the course uses 0.5 to 8), fewer epochs or a smaller batch_size.")


def epsilon_spent(noise_multiplier: float, *, sample_rate: float, steps: int, delta: float = DEFAULT_DELTA) -> float:
    """The epsilon of `steps` DP-SGD steps with `noise_multiplier` at `sample_rate`, at `delta` (RDP accountant)."""
    sigma = check_scalar(noise_multiplier, "noise_multiplier", low=0.0, closed="neither")
    sample_rate = check_scalar(sample_rate, "sample_rate", low=0.0, high=1.0, closed="right")
    steps = check_scalar(steps, "steps", numbers.Integral, low=1)   # the accountant's cost does not grow with steps
    accountant = RDPAccountant()
    accountant.history = [(sigma, sample_rate, int(steps))]
    with _quiet_opacus():
        return float(accountant.get_epsilon(delta=_check_delta(delta)))


# ---------------------------------------------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------------------------------------------

def train_dpsgd(model: nn.Module, X, y, *, epsilon: float | None = None, noise_multiplier: float | None = None,
                delta: float = DEFAULT_DELTA, max_grad_norm: float = 1.0, epochs: int = 15, batch_size: int = 250,
                lr: float = 1e-2, optimizer: str = "adam", random_state: int = 0) -> nn.Module:
    """Train `model` in place with DP-SGD through Opacus on X (n, d), y (n,) -> the model (eval mode), with
    `model.privacy_` = {"epsilon", "delta", "noise_multiplier", "max_grad_norm", "sample_rate", "steps"}.

    Give `epsilon` (the RDP accountant finds the noise multiplier) or `noise_multiplier` (epsilon is then
    computed). Poisson sampling at rate 1 / ceil(n / batch_size), the rate Opacus's loader runs and the one
    accounted and recorded (expected batch n / ceil(n / batch_size) <= batch_size; batches vary in size, as
    the accountant assumes), per-example clipping at `max_grad_norm` by ghost clipping (Opacus's fast path for
    linear layers: per-example norms without per-example gradients), then `optimizer` ("adam", as the course's
    other models, or "sgd") at `lr` on the noisy mean gradient (post-processing: the optimiser does not change epsilon).
    `random_state` seeds the batches and the noise (Opacus's secure RNG is off: fine for teaching, not for a release).
    (Abadi et al. 2016; Opacus, Yousefpour et al. 2021.)"""
    if not isinstance(model, nn.Module):
        raise TypeError(f"`model` must be a torch module (for example mialab.models.MLP); got {type(model).__name__}.")
    X = as_features(X)
    y = as_labels(y, n=len(X), n_classes=getattr(model, "n_classes", None))
    if (epsilon is None) == (noise_multiplier is None):
        raise ValueError("pass exactly one of `epsilon` (the accountant then picks the noise) and "
                         "`noise_multiplier` (epsilon is then computed).")
    delta = _check_delta(delta)
    C = _check_norm(max_grad_norm)
    if not math.isfinite(C):
        raise ValueError("DP-SGD needs a finite `max_grad_norm`: the noise is scaled to it.")
    epochs = check_count(epochs, "epochs")
    batch_size = check_scalar(batch_size, "batch_size", numbers.Integral, low=1)
    if batch_size > len(X):
        raise ValueError(f"`batch_size` ({batch_size}) is larger than the training set ({len(X)} records); pass "
                         "a smaller one.")
    lr = check_scalar(lr, "lr", low=0.0, closed="neither")
    check_choice(optimizer, "optimizer", _OPTIMIZERS)
    seed = check_seed(random_state)
    # Opacus's Poisson loader samples each record at 1 / (batches per epoch) = 1 / ceil(n / batch_size), which is
    # batch_size / n only when batch_size divides n: account for, record and run that one rate.
    batches = math.ceil(len(X) / batch_size)
    sample_rate = 1.0 / batches
    if noise_multiplier is None:
        noise_multiplier = _noise_for_steps(_check_epsilon(epsilon), delta, sample_rate, epochs * batches)
    else:
        noise_multiplier = check_scalar(noise_multiplier, "noise_multiplier", low=0.0, closed="neither")
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size,
                                         generator=torch.Generator().manual_seed(seed))
    model.train()
    with _quiet_opacus(), limited(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        engine = opacus.PrivacyEngine(accountant="rdp")
        wrapped, optimizer, criterion, loader = engine.make_private(
            module=model, optimizer=_OPTIMIZERS[optimizer](model.parameters(), lr=lr), data_loader=loader,
            criterion=nn.CrossEntropyLoss(), noise_multiplier=noise_multiplier, max_grad_norm=C,
            poisson_sampling=True, grad_sample_mode="ghost", noise_generator=torch.Generator().manual_seed(seed + 1))
        if not math.isclose(loader.sample_rate, sample_rate, rel_tol=1e-12):  # the rate accounted is the rate run
            raise RuntimeError(f"Opacus samples at {loader.sample_rate}, not the {sample_rate} accounted for; "
                               "report this (an Opacus version the course was not written for?).")
        steps = 0
        for _ in progress(range(epochs), desc=f"DP-SGD training (noise {noise_multiplier:.2f})", delay=2.0):
            for xb, yb in loader:
                optimizer.zero_grad()
                if len(xb):   # Poisson sampling can draw an empty batch; the step then adds noise only
                    criterion(wrapped(xb), yb).backward()
                optimizer.step()
                steps += 1
        spent = float(engine.get_epsilon(delta))
        wrapped.to_standard_module() if hasattr(wrapped, "to_standard_module") else None
    for p in model.parameters():
        p.grad = None
    model.privacy_ = {"epsilon": spent, "delta": delta, "noise_multiplier": float(noise_multiplier),
                      "max_grad_norm": C, "sample_rate": sample_rate, "steps": steps}
    return model.eval()


# ---------------------------------------------------------------------------------------------------------------
# what DP promises, and what a measured attack proves
# ---------------------------------------------------------------------------------------------------------------

def yeom_bound(epsilon) -> np.ndarray | float:
    """Yeom et al.'s bound on membership advantage under epsilon-DP: e^epsilon - 1, capped at 1 (advantage is at
    most 1 anyway). Scalar or array in, same shape out. (Yeom et al. 2018, Theorem 1.)"""
    eps = as_array(epsilon, "epsilon", dtype=float)
    if (eps < 0).any():
        raise ValueError("`epsilon` must be >= 0.")
    with np.errstate(over="ignore"):
        out = np.minimum(np.expm1(eps), 1.0)
    return float(out) if out.ndim == 0 else out


def tpr_bound(fpr, epsilon: float, delta: float = 0.0):
    """The highest TPR any attack can reach at false-positive rate `fpr` against an (epsilon, delta)-DP training
    algorithm: min(e^eps fpr + delta, 1 - e^-eps (1 - delta - fpr), 1). fpr scalar or array, same shape out.
    (Kairouz, Oh, Viswanath 2015: DP as a hypothesis test.)"""
    fpr = as_array(fpr, "fpr", dtype=float)
    if ((fpr < 0) | (fpr > 1)).any():
        raise ValueError("`fpr` must hold rates in [0, 1].")
    eps = check_scalar(epsilon, "epsilon", low=0.0)
    delta = check_scalar(delta, "delta", low=0.0, high=1.0)
    with np.errstate(over="ignore"):
        out = np.minimum.reduce([np.exp(eps) * fpr + delta, 1 - np.exp(-eps) * (1 - delta - fpr),
                                 np.ones_like(fpr)])
    out = np.clip(out, 0.0, 1.0)
    return float(out) if out.ndim == 0 else out


@reference
def empirical_epsilon(tpr: float, fpr: float, delta: float = 0.0) -> float:
    """The lower bound on epsilon that an attack with this TPR and FPR proves: the largest of
    ln((tpr - delta) / fpr) and ln((1 - delta - fpr) / (1 - tpr)), and 0 if neither is positive (inf when a
    denominator is 0 and its numerator positive). (Jagielski, Ullman, Oprea 2020; Kairouz et al. 2015.)"""
    tpr = check_scalar(tpr, "tpr", low=0.0, high=1.0)
    fpr = check_scalar(fpr, "fpr", low=0.0, high=1.0)
    delta = check_scalar(delta, "delta", low=0.0, high=1.0)
    bounds = [0.0]
    for num, den in ((tpr - delta, fpr), (1 - delta - fpr, 1 - tpr)):
        if num > 0:
            bounds.append(math.inf if den == 0 else math.log(num / den))
    return float(max(bounds))


def empirical_epsilon_ci(true_positives: int, n_members: int, false_positives: int, n_nonmembers: int, *,
                         delta: float = 0.0, level: float = 0.95) -> float:
    """A conservative empirical epsilon: empirical_epsilon of the Clopper-Pearson lower bound on the TPR and upper
    bound on the FPR (each one-sided at (1 + level) / 2), as a DP audit reports it (Jagielski et al. 2020)."""
    tpr_low, fpr_high = clopper_pearson_rates(true_positives, n_members, false_positives, n_nonmembers, level)
    return empirical_epsilon(tpr_low, fpr_high, delta)
