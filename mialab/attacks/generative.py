"""Membership inference against generative models: LOGAN (Hayes et al., 2019), the Monte Carlo and reconstruction
attacks (Hilprecht et al., 2019), GAN-Leaks' distance to the nearest generated sample (Chen et al., 2020),
set-level scores and LOGAN's precision among the top-ranked records.

    scores = DiscriminatorAttack().score(gan, X)                   # white-box: the GAN's own discriminator
    scores = ReconstructionAttack(n_draws=50).score(vae, X)         # white-box: the VAE's encoder and decoder
    generated = mialab.generative_models.sample(gan, 20_000)               # black-box: all the attacker sees
    scores = MonteCarloAttack(percentile=1).score(generated, X)      # share of generated samples near each record
    scores = NearestSampleAttack().score(generated, X)              # minus the distance to the nearest one

The black-box attacks take the generated samples (m, d) as their `target` (`needs = "samples"`): a generative
model answers no query about a record, it only releases samples. Distances between records and generated
samples go through scikit-learn's NearestNeighbors or in chunks, never as one (n, m, d) tensor.
Taught in notebook 07 (generative models).
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors

from .. import generative_models
from .._reference import reference
from .._validation import (check_count, as_array, as_membership, as_scores, check_positive_int, check_random_state,
                           check_scalar, check_seed)
from .base import Attack

__all__ = ["DiscriminatorAttack", "ReconstructionAttack", "MonteCarloAttack", "NearestSampleAttack",
           "LoganBlackBoxAttack", "reconstruction_scores", "monte_carlo_scores", "choose_epsilon",
           "nearest_distances", "precision_at_k", "set_scores", "draw_sets"]

# distances held at once (float64): 2**22 values = 32 MiB
_CHUNK = 2 ** 22
# the most pairwise distances choose_epsilon keeps to take a percentile of: 2**27 float64 = 1 GiB
_MAX_PAIRS = 2 ** 27


def _records(X, name: str) -> np.ndarray:
    return as_array(X, name, ndim=2)


def _generated(generated, X: np.ndarray, name: str = "generated") -> np.ndarray:
    if hasattr(generated, "parameters"):
        raise TypeError(f"`{name}` must be the generated samples, an array (m, d), not the model: this attack is "
                        "black-box. Draw them with mialab.generative_models.sample(model, m).")
    generated = as_array(generated, name, ndim=2)
    if generated.shape[1] != X.shape[1]:
        raise ValueError(f"`{name}` has {generated.shape[1]} features per sample but the records have "
                         f"{X.shape[1]}; pass samples of the records' shape.")
    return generated


def _distance_chunks(X: np.ndarray, generated: np.ndarray):
    """Yield (rows, distances (len(rows), m)): Euclidean, in blocks of at most _CHUNK distances.

    |x - g|^2 = |x|^2 - 2 x.g + |g|^2 (one matrix product per block; exact on small whole numbers)."""
    g2 = np.einsum("ij,ij->i", generated, generated)
    step = max(1, _CHUNK // len(generated))
    for start in range(0, len(X), step):
        block = X[start:start + step]
        squared = np.einsum("ij,ij->i", block, block)[:, None] - 2 * block @ generated.T + g2[None]
        yield slice(start, start + len(block)), np.sqrt(np.clip(squared, 0, None))


# --------------------------------------------------------------------------------------------- record scores

@reference
def reconstruction_scores(X, reconstructions) -> np.ndarray:
    """Minus the mean Euclidean distance between each record and its reconstructions: X (n, d), reconstructions
    (n_draws, n, d) -> (n,), higher = reconstructed better = more likely a member.

    Hilprecht et al. (2019)'s reconstruction attack on VAEs. Taught in notebook 07, section 4."""
    X = _records(X, "X")
    reconstructions = as_array(reconstructions, "reconstructions", ndim=3)
    if reconstructions.shape[1:] != X.shape:
        raise ValueError(f"`reconstructions` must have shape (n_draws, {X.shape[0]}, {X.shape[1]}), one "
                         f"reconstruction of every record per draw; got {reconstructions.shape}.")
    return -np.linalg.norm(reconstructions - X[None], axis=2).mean(axis=0)


@reference
def monte_carlo_scores(X, generated, eps: float) -> np.ndarray:
    """The share of generated samples within Euclidean distance `eps` (<= eps) of each record: X (n, d),
    generated (m, d) -> (n,) in [0, 1].

    Hilprecht et al. (2019)'s Monte Carlo attack: a generator that memorised a record puts many samples near it.
    Computed in blocks of records, never the (n, m, d) differences at once. Taught in notebook 07, section 5."""
    X = _records(X, "X")
    generated = _generated(generated, X)
    eps = check_scalar(eps, "eps", low=0)
    counts = np.zeros(len(X))
    for rows, distances in _distance_chunks(X, generated):
        counts[rows] = (distances <= eps).sum(axis=1)
    return counts / len(generated)


def choose_epsilon(X, generated, percentile: float = 1.0) -> float:
    """The `percentile`-th percentile of the distances between the records X (n, d) and the generated samples
    (m, d): the ε of the Monte Carlo attack.

    A small ε counts only samples that sit almost on a record (rare, noisy counts); a large one counts samples
    near any record alike. Hilprecht et al. (2019) choose it by a percentile of the distances, like this.
    Taught in notebook 07, section 5."""
    X = _records(X, "X")
    generated = _generated(generated, X)
    percentile = check_scalar(percentile, "percentile", low=0, high=100, closed="neither")
    return float(np.percentile(_all_distances(X, generated), percentile))


def _all_distances(X: np.ndarray, generated: np.ndarray) -> np.ndarray:
    """All distances (n, m) between records and samples, refused beyond _MAX_PAIRS (1 GiB)."""
    if len(X) * len(generated) > _MAX_PAIRS:
        raise ValueError(f"{len(X):,} records x {len(generated):,} samples are over {_MAX_PAIRS:,} distances (1 GiB);"
                         " pass a random subset of the generated samples (10,000 give nearly the same ε).")
    distances = np.empty((len(X), len(generated)))
    for rows, block in _distance_chunks(X, generated):
        distances[rows] = block
    return distances


def nearest_distances(X, generated, k: int = 1) -> np.ndarray:
    """Euclidean distance from each record X (n, d) to its k-th nearest generated sample (m, d): (n,).

    GAN-Leaks' full black-box attack scores a record by minus its distance to the nearest generated sample
    (Chen et al., 2020). scikit-learn's NearestNeighbors, not a (n, m, d) tensor. Taught in notebook 07,
    section 5."""
    X = _records(X, "X")
    generated = _generated(generated, X)
    k = check_positive_int(k, "k")
    if k > len(generated):
        raise ValueError(f"`k` = {k} but there are only {len(generated)} generated samples; lower k.")
    distances, _ = NearestNeighbors(n_neighbors=k).fit(generated).kneighbors(X)
    return distances[:, k - 1]


# --------------------------------------------------------------------------------------------- metrics and sets

@reference
def precision_at_k(scores, is_member, k: int | None = None) -> float:
    """LOGAN's metric: the share of members among the k highest-scored records (k = the number of members by
    default). scores (n,), is_member (n,) bool -> float. Ties are broken by the records' order (a stable sort).

    Hayes et al. (2019) rank all candidates and report the precision among the top |train|. Taught in
    notebook 07, section 3."""
    scores = as_scores(scores)
    is_member = as_membership(is_member, n=len(scores))
    k = int(is_member.sum()) if k is None else check_positive_int(k, "k")
    if k > len(scores):
        raise ValueError(f"`k` = {k} is more than the {len(scores)} records; pass k <= n.")
    top = np.argsort(-scores, kind="stable")[:k]
    return float(is_member[top].mean())


@reference
def set_scores(scores, sets) -> np.ndarray:
    """The mean record score of each set: scores (n,), sets (n_sets, set_size) record indices -> (n_sets,).

    Hilprecht et al. (2019)'s set-level inference: is this whole set of records in the training data?
    Taught in notebook 07, section 6."""
    scores = as_scores(scores)
    sets = as_array(sets, "sets", ndim=2, dtype=None)
    if not np.issubdtype(sets.dtype, np.integer) or sets.min() < 0 or sets.max() >= len(scores):
        raise ValueError(f"`sets` must hold record indices from 0 to {len(scores) - 1}, one row per set; got "
                         f"dtype {sets.dtype} with values from {sets.min()} to {sets.max()}.")
    return scores[sets].mean(axis=1)


def draw_sets(is_member, set_size: int = 10, n_sets: int = 200, random_state: int = 0):
    """n_sets sets of members and n_sets of non-members, each `set_size` distinct records drawn at random.

    is_member (n,) bool -> (sets (2 n_sets, set_size) indices, set_is_member (2 n_sets,) bool), members first.
    Taught in notebook 07, section 6."""
    is_member = as_membership(is_member)
    set_size = check_positive_int(set_size, "set_size")
    n_sets = check_positive_int(n_sets, "n_sets")
    rng = check_random_state(random_state)
    groups = [np.flatnonzero(is_member), np.flatnonzero(~is_member)]
    if set_size > min(len(g) for g in groups):
        raise ValueError(f"`set_size` = {set_size} but there are only {min(len(g) for g in groups)} "
                         "members or non-members to draw a set from; lower set_size.")
    sets = np.stack([rng.choice(group, set_size, replace=False) for group in groups for _ in range(n_sets)])
    return sets, np.arange(2 * n_sets) < n_sets


# --------------------------------------------------------------------------------------------- attacks

class DiscriminatorAttack(Attack):
    """LOGAN's white-box attack (Hayes et al., 2019): the target GAN's own discriminator scores each record.

    score(gan, X (n, d)) -> (n,) logits; `target` is the mialab.generative_models.GAN itself (white-box).
    Taught in notebook 07, section 3."""

    needs = "weights"

    def score(self, target, X, y=None) -> np.ndarray:
        return generative_models.discriminator_scores(target, X)


class ReconstructionAttack(Attack):
    """Hilprecht et al. (2019)'s reconstruction attack: minus the mean distance between a record and the VAE's
    reconstructions of it over `n_draws` draws of the latent from q(z | x).

    score(vae, X (n, d)) -> (n,); `target` is the mialab.generative_models.VAE itself (white-box: encoder and decoder).
    Taught in notebook 07, section 4."""

    needs = "weights"

    def __init__(self, n_draws: int = 50, random_state: int = 0):
        self.n_draws = check_positive_int(n_draws, "n_draws")
        self.random_state = check_seed(random_state)

    def score(self, target, X, y=None) -> np.ndarray:
        return reconstruction_scores(X, generative_models.reconstructions(target, X, self.n_draws, self.random_state))


class MonteCarloAttack(Attack):
    """Hilprecht et al. (2019)'s Monte Carlo attack: the share of generated samples within ε of each record, in
    the space of the first `n_components` principal components of the generated samples; ε is the `percentile`-th
    percentile of the distances between the candidates and the samples (or `eps`, when given).

    score(generated (m, d), X (n, d)) -> (n,) in [0, 1]; `eps_` holds the ε last used. Black-box: only samples.
    Taught in notebook 07, section 5."""

    needs = "samples"

    def __init__(self, n_components: int | None = 20, percentile: float = 1.0, eps: float | None = None,
                 random_state: int = 0):
        self.n_components = None if n_components is None else check_positive_int(n_components, "n_components")
        self.percentile = check_scalar(percentile, "percentile", low=0, high=100, closed="neither")
        self.eps = check_scalar(eps, "eps", low=0, closed="neither", allow_none=True)
        self.random_state = check_seed(random_state)

    def score(self, target, X, y=None) -> np.ndarray:
        X = _records(X, "X")
        generated = _generated(target, X, "target")
        if self.n_components is not None:
            if self.n_components > min(generated.shape):
                raise ValueError(f"`n_components` = {self.n_components} is more than the samples' "
                                 f"{min(generated.shape)} dimensions; lower it.")
            pca = PCA(self.n_components, random_state=self.random_state).fit(generated)
            X, generated = pca.transform(X), pca.transform(generated)
        if self.eps is not None:
            self.eps_ = self.eps
            return monte_carlo_scores(X, generated, self.eps_)
        distances = _all_distances(X, generated)                 # once, for both ε and the counts
        self.eps_ = float(np.percentile(distances, self.percentile))
        return (distances <= self.eps_).mean(axis=1)


class NearestSampleAttack(Attack):
    """GAN-Leaks' full black-box attack (Chen et al., 2020): minus the distance from each record to its nearest
    generated sample.

    score(generated (m, d), X (n, d)) -> (n,). Black-box: only samples. Taught in notebook 07, section 5."""

    needs = "samples"

    def score(self, target, X, y=None) -> np.ndarray:
        X = _records(X, "X")
        return -nearest_distances(X, _generated(target, X, "target"))


class LoganBlackBoxAttack(Attack):
    """LOGAN's black-box attack (Hayes et al., 2019): train a GAN of one's own on the target's generated samples,
    and score records by its discriminator. The target's samples carry its memorised records, so the attacker's
    discriminator learns to call them "real".

    score(generated (m, d) in [0, 1], X (n, d)) -> (n,); `gan_` holds the attacker's GAN. Black-box: only samples.
    Taught in notebook 07, section 3."""

    needs = "samples"

    def __init__(self, steps: int = 2000, n_train: int = 400, random_state: int = 0):
        self.steps = check_count(steps, "steps")
        self.n_train = check_positive_int(n_train, "n_train")
        self.random_state = check_seed(random_state)

    def score(self, target, X, y=None) -> np.ndarray:
        X = _records(X, "X")
        generated = _generated(target, X, "target")
        rng = np.random.default_rng(self.random_state)
        chosen = rng.choice(len(generated), min(self.n_train, len(generated)), replace=False)
        self.gan_ = generative_models.train_gan(generated[chosen], steps=self.steps, random_state=self.random_state)
        return generative_models.discriminator_scores(self.gan_, X)
