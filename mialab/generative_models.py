"""Small generative models for membership inference: an MLP VAE and an MLP GAN on flattened images, trained
full-batch from a seed on one torch thread.

    vae = train_vae(X_train, steps=3000, random_state=0)        # X_train (n, d) in [0, 1]
    gan = train_gan(X_train, steps=4000, random_state=0)
    samples = sample(gan, 10_000, random_state=1)              # (10000, d), what a black box releases
    d_scores = discriminator_scores(gan, X)                    # (n,), LOGAN's white-box signal
    errors = reconstruction_errors(vae, X, n_draws=50)         # (n, 50), Hilprecht's reconstruction attack

Taught in notebook 07 (generative models).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from . import threads
from ._validation import as_array, check_count, check_memory, check_positive_int, check_scalar, check_seed
from .models import _adam, _seeded
from .progress import progress

__all__ = ["VAE", "GAN", "train_vae", "train_gan", "sample", "discriminator_scores", "reconstruction_errors",
           "reconstructions"]



def _check_sizes(n_features, latent, hidden) -> tuple[int, int, int]:
    return (check_positive_int(n_features, "n_features"), check_positive_int(latent, "latent"),
            check_positive_int(hidden, "hidden"))


class VAE(nn.Module):
    """A variational autoencoder d-hidden-latent-hidden-d with tanh hidden layers and a sigmoid output.

    encode(x (n, d)) -> (mean, log variance), each (n, latent); decode(z (n, latent)) -> (n, d) in [0, 1]."""

    def __init__(self, n_features: int, latent: int = 8, hidden: int = 256):
        super().__init__()
        self.n_features, self.latent, self.hidden = _check_sizes(n_features, latent, hidden)
        self.encoder = nn.Sequential(nn.Linear(n_features, hidden), nn.Tanh())
        self.mean = nn.Linear(hidden, latent)
        self.log_var = nn.Linear(hidden, latent)
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.Tanh(), nn.Linear(hidden, n_features))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x)
        return self.mean(h), self.log_var(h).clamp(-10, 10)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(z))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean, log_var = self.encode(x)
        return self.decode(mean + torch.randn_like(mean) * torch.exp(0.5 * log_var))


class GAN(nn.Module):
    """A GAN of two MLPs: generator latent-hidden-d (sigmoid output) and discriminator d-hidden-1 (a logit).

    generator(z (n, latent)) -> (n, d) in [0, 1]; discriminator(x (n, d)) -> (n, 1) logits, high = "real"."""

    def __init__(self, n_features: int, latent: int = 16, hidden: int = 256):
        super().__init__()
        self.n_features, self.latent, self.hidden = _check_sizes(n_features, latent, hidden)
        self.generator = nn.Sequential(nn.Linear(latent, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, n_features),
                                       nn.Sigmoid())
        self.discriminator = nn.Sequential(nn.Linear(n_features, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(z)


def _images(X, name: str = "X") -> np.ndarray:
    X = as_array(X, name, ndim=2)
    if X.min() < 0 or X.max() > 1:
        raise ValueError(f"`{name}` must hold pixel values in [0, 1] (the models' outputs are sigmoids); got values "
                         f"from {X.min():.3g} to {X.max():.3g}. Divide by the largest pixel value first.")
    return X.astype(np.float32)


def _check_model(model, kinds, name: str = "model"):
    if not isinstance(model, kinds):
        wanted = " or ".join(k.__name__ for k in kinds)
        raise TypeError(f"`{name}` must be a mialab.generative_models {wanted} (from train_vae / train_gan); "
                        f"got {type(model).__name__}.")
    return model


def _check_width(model, X: np.ndarray, name: str = "X") -> None:
    if X.shape[1] != model.n_features:
        raise ValueError(f"`{name}` has {X.shape[1]} features per record but the model was trained on "
                         f"{model.n_features}; pass records of the training data's shape.")


def train_vae(X, *, latent: int = 8, hidden: int = 256, steps: int = 3000, lr: float = 1e-3, beta: float = 1.0,
              random_state: int = 0) -> VAE:
    """Train a VAE on X (n, d) in [0, 1]: full-batch Adam on binary cross-entropy + beta * KL, seeded.

    Many full-batch steps on a few hundred records make it memorise them, as an overfit generative model does
    (Hilprecht et al., 2019). Taught in notebook 07, section 2."""
    X = _images(X)
    latent = check_positive_int(latent, "latent")
    hidden = check_positive_int(hidden, "hidden")
    steps = check_count(steps, "steps")
    lr = check_scalar(lr, "lr", low=0, closed="neither")
    beta = check_scalar(beta, "beta", low=0)
    seed = check_seed(random_state)
    with threads.limited(), _seeded(seed):
        model = VAE(X.shape[1], latent, hidden)
        optimizer = _adam(model.parameters(), lr, 0.0)
        x = torch.from_numpy(X)
        for _ in progress(range(steps), desc="training the VAE", delay=2.0):
            mean, log_var = model.encode(x)
            z = mean + torch.randn_like(mean) * torch.exp(0.5 * log_var)
            recon = F.binary_cross_entropy_with_logits(model.decoder(z), x, reduction="sum") / len(x)
            kl = -0.5 * torch.sum(1 + log_var - mean ** 2 - log_var.exp()) / len(x)
            optimizer.zero_grad()
            (recon + beta * kl).backward()
            optimizer.step()
    return model.eval()


def train_gan(X, *, latent: int = 16, hidden: int = 256, steps: int = 4000, lr: float = 2e-4,
              random_state: int = 0) -> GAN:
    """Train a GAN on X (n, d) in [0, 1]: full-batch, one discriminator and one generator Adam step per step,
    the non-saturating loss (Goodfellow et al., 2014), seeded.

    Its discriminator, trained to say "real" on exactly these records, is LOGAN's white-box attack (Hayes et al.,
    2019). Taught in notebook 07, section 2."""
    X = _images(X)
    latent = check_positive_int(latent, "latent")
    hidden = check_positive_int(hidden, "hidden")
    steps = check_count(steps, "steps")
    lr = check_scalar(lr, "lr", low=0, closed="neither")
    seed = check_seed(random_state)
    with threads.limited(), _seeded(seed):
        model = GAN(X.shape[1], latent, hidden)
        g_opt = torch.optim.Adam(model.generator.parameters(), lr=lr, betas=(0.5, 0.999))
        d_opt = torch.optim.Adam(model.discriminator.parameters(), lr=lr, betas=(0.5, 0.999))
        real = torch.from_numpy(X)
        ones, zeros = torch.ones(len(X), 1), torch.zeros(len(X), 1)
        for _ in progress(range(steps), desc="training the GAN", delay=2.0):
            fake = model.generator(torch.randn(len(X), latent))
            d_loss = F.binary_cross_entropy_with_logits(model.discriminator(real), ones) + \
                F.binary_cross_entropy_with_logits(model.discriminator(fake.detach()), zeros)
            d_opt.zero_grad()
            d_loss.backward()
            d_opt.step()
            g_loss = F.binary_cross_entropy_with_logits(model.discriminator(fake), ones)
            g_opt.zero_grad()
            g_loss.backward()
            g_opt.step()
    return model.eval()


def sample(model, n: int, random_state: int = 0) -> np.ndarray:
    """n generated records (n, d) from a VAE (decoded prior draws) or a GAN (generator outputs), seeded.

    Taught in notebook 07, section 2."""
    _check_model(model, (VAE, GAN))
    n = check_positive_int(n, "n")
    check_memory(12.0 * n * model.n_features, f"{n:,} samples of {model.n_features} features",   # float32 + float64
                 "ask for fewer samples (or draw them in several calls)")
    generator = torch.Generator().manual_seed(check_seed(random_state))
    with threads.limited(), torch.no_grad():
        z = torch.randn(n, model.latent, generator=generator)
        out = model.decode(z) if isinstance(model, VAE) else model.generator(z)
    return out.numpy().astype(np.float64)


def discriminator_scores(model, X) -> np.ndarray:
    """The GAN discriminator's logit on each record of X (n, d): (n,), higher = "looks like training data".

    LOGAN's white-box attack (Hayes et al., 2019). Taught in notebook 07, section 3."""
    _check_model(model, (GAN,))
    X = _images(X)
    _check_width(model, X)
    with threads.limited(), torch.no_grad():
        return model.discriminator(torch.from_numpy(X)).squeeze(1).numpy().astype(np.float64)


def reconstructions(model, X, n_draws: int = 50, random_state: int = 0) -> np.ndarray:
    """A VAE's reconstructions of X (n, d): decode `n_draws` draws of z from the encoder's q(z | x) for each
    record, shape (n_draws, n, d).

    Hilprecht et al. (2019)'s reconstruction attack averages the distance over these draws. Taught in notebook
    07, section 4."""
    _check_model(model, (VAE,))
    X = _images(X)
    _check_width(model, X)
    n_draws = check_positive_int(n_draws, "n_draws")
    check_memory(12.0 * n_draws * X.size, f"{n_draws} draws of {len(X):,} records x {X.shape[1]} features",
                 "lower `n_draws` or score the records in smaller batches")
    generator = torch.Generator().manual_seed(check_seed(random_state))
    with threads.limited(), torch.no_grad():
        mean, log_var = model.encode(torch.from_numpy(X))
        noise = torch.randn((n_draws, *mean.shape), generator=generator)
        return model.decode(mean + noise * torch.exp(0.5 * log_var)).numpy().astype(np.float64)


def reconstruction_errors(model, X, n_draws: int = 50, random_state: int = 0) -> np.ndarray:
    """Euclidean distance between each record of X (n, d) and each of its `n_draws` reconstructions: (n, n_draws).

    Taught in notebook 07, section 4."""
    X64 = as_array(X, "X", ndim=2)
    recon = reconstructions(model, X, n_draws, random_state)
    return np.linalg.norm(recon - X64[None], axis=2).T
