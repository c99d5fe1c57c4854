"""Generative models and the attacks on them: the seeded VAE and GAN, LOGAN, Monte Carlo, reconstruction and
GAN-Leaks scores against independent computations, set scores, LOGAN's metric, the notebook-07 checks, hidden
tests, and bad input."""

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist
from sklearn.metrics import roc_auc_score

from mialab import data, generative_models
from mialab.attacks import generative as attacks
from mialab.attacks.base import Attack, NotFittedError
from mialab.checks import CheckError, NotDoneError, nb07
from _course import hidden_test
from mialab.checks.grading import HiddenTestFailed

pytestmark = pytest.mark.usefixtures("one_thread_module")    # tiny models: one thread is faster


@pytest.fixture(scope="module")
def digits():
    X, _ = data.load_digits()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(X))
    return X[order[:40]], X[order[40:80]]


@pytest.fixture(scope="module")
def vae(digits):
    return generative_models.train_vae(digits[0], steps=1500, random_state=0)


@pytest.fixture(scope="module")
def gan(digits):
    return generative_models.train_gan(digits[0], hidden=64, steps=600, random_state=0)


# --- models ---------------------------------------------------------------------------------------------------

def test_training_is_seeded_and_leaves_torchs_threads_and_rng_alone(digits):
    threads, state = torch.get_num_threads(), torch.random.get_rng_state()
    a = generative_models.train_vae(digits[0], hidden=32, steps=50, random_state=3)
    b = generative_models.train_vae(digits[0], hidden=32, steps=50, random_state=3)
    c = generative_models.train_vae(digits[0], hidden=32, steps=50, random_state=4)
    assert torch.get_num_threads() == threads and torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))
    g1 = generative_models.train_gan(digits[0], hidden=32, steps=20, random_state=3)
    g2 = generative_models.train_gan(digits[0], hidden=32, steps=20, random_state=3)
    assert np.array_equal(generative_models.sample(g1, 5, random_state=1),
                          generative_models.sample(g2, 5, random_state=1))


def test_samples_and_reconstructions_have_the_documented_shapes_and_range(vae, gan, digits):
    for model in (vae, gan):
        samples = generative_models.sample(model, 30, random_state=0)
        assert samples.shape == (30, 64) and samples.min() >= 0 and samples.max() <= 1
        assert not np.array_equal(samples, generative_models.sample(model, 30, random_state=1))
    recon = generative_models.reconstructions(vae, digits[0][:7], n_draws=4)
    assert recon.shape == (4, 7, 64)
    errors = generative_models.reconstruction_errors(vae, digits[0][:7], n_draws=4)
    assert np.allclose(errors, np.linalg.norm(recon - digits[0][None, :7], axis=2).T)
    assert generative_models.discriminator_scores(gan, digits[0][:7]).shape == (7,)


def test_an_overfit_vae_reconstructs_its_training_digits_better(vae, digits):
    X = np.concatenate(digits)
    is_member = np.arange(len(X)) < len(digits[0])
    scores = attacks.ReconstructionAttack(n_draws=10).score(vae, X)
    assert roc_auc_score(is_member, scores) > 0.7
    nearest = attacks.NearestSampleAttack().score(generative_models.sample(vae, 3000, random_state=1), X)
    assert roc_auc_score(is_member, nearest) > 0.6


def test_discriminator_attack_is_the_gans_discriminator(gan, digits):
    X = digits[1][:9]
    with torch.no_grad():
        want = gan.discriminator(torch.from_numpy(X)).squeeze(1).numpy()
    assert np.allclose(attacks.DiscriminatorAttack().score(gan, X), want, atol=1e-6)


# --- scores against independent computations ------------------------------------------------------------------

def test_monte_carlo_scores_and_epsilon_match_scipy_distances_also_in_small_chunks(monkeypatch):
    rng = np.random.default_rng(1)
    X, G = rng.normal(size=(37, 5)), rng.normal(size=(211, 5))
    distances = cdist(X, G)
    eps = attacks.choose_epsilon(X, G, percentile=5)
    assert eps == pytest.approx(np.percentile(distances, 5))
    want = (distances <= eps).mean(axis=1)
    assert np.allclose(attacks.monte_carlo_scores(X, G, eps), want)
    attack = attacks.MonteCarloAttack(n_components=None, percentile=5)
    assert np.allclose(attack.score(G, X), want) and attack.eps_ == pytest.approx(eps)
    assert np.allclose(attacks.MonteCarloAttack(n_components=None, eps=eps).score(G, X), want)
    monkeypatch.setattr(attacks, "_CHUNK", 500)             # blocks of two records
    assert np.allclose(attacks.monte_carlo_scores(X, G, eps), want)
    assert attacks.choose_epsilon(X, G, percentile=5) == pytest.approx(eps)


def test_monte_carlo_counts_the_edge_of_the_ball():
    grid = np.array([[i, j] for i in range(-2, 3) for j in range(-2, 3)], dtype=float)
    assert np.allclose(attacks.monte_carlo_scores(np.zeros((1, 2)), grid, 1.0), [5 / 25])


def test_nearest_distances_match_scipy():
    rng = np.random.default_rng(2)
    X, G = rng.normal(size=(30, 4)), rng.normal(size=(300, 4))
    distances = np.sort(cdist(X, G), axis=1)
    assert np.allclose(attacks.nearest_distances(X, G), distances[:, 0])
    assert np.allclose(attacks.nearest_distances(X, G, k=3), distances[:, 2])
    assert np.allclose(attacks.NearestSampleAttack().score(G, X), -distances[:, 0])


def test_monte_carlo_attack_in_pca_space_finds_memorised_records():
    rng = np.random.default_rng(3)
    basis = rng.normal(size=(3, 10))                          # records on a 3-dimensional plane in 10-D
    X = rng.normal(size=(100, 3)) @ basis
    G = np.concatenate([X[:50] + rng.normal(scale=0.05, size=(50, 10)) for _ in range(4)] +
                       [rng.normal(size=(800, 3)) @ basis])
    attack = attacks.MonteCarloAttack(n_components=5, percentile=0.2)
    scores = attack.score(G, X)
    assert scores.shape == (100,) and attack.eps_ > 0
    assert roc_auc_score(np.arange(100) < 50, scores) > 0.9


def test_reconstruction_scores_average_distances_not_reconstructions():
    X = np.zeros((1, 1))
    assert attacks.reconstruction_scores(X, np.array([[[1.0]], [[-1.0]]])) == pytest.approx([-1.0])


def test_precision_at_k_is_one_for_a_perfect_scorer_and_breaks_ties_by_order():
    is_member = np.array([False, True, True, False, True])
    assert attacks.precision_at_k(is_member.astype(float), is_member) == 1.0
    assert attacks.precision_at_k(-is_member.astype(float), is_member, k=2) == 0.0
    assert attacks.precision_at_k(np.ones(5), is_member, k=2) == 0.5        # records 0 and 1
    rng = np.random.default_rng(4)
    scores, members = rng.normal(size=50), rng.random(50) < 0.5
    top = sorted(range(50), key=lambda i: -scores[i])[:int(members.sum())]
    assert attacks.precision_at_k(scores, members) == pytest.approx(members[top].mean())


def test_sets_of_members_and_their_scores():
    is_member = np.arange(40) < 15
    sets, set_is_member = attacks.draw_sets(is_member, set_size=5, n_sets=30, random_state=0)
    assert sets.shape == (60, 5) and set_is_member.sum() == 30
    assert np.all(is_member[sets[set_is_member]]) and not np.any(is_member[sets[~set_is_member]])
    assert all(len(set(row)) == 5 for row in sets)
    scores = np.arange(40.0)
    assert np.allclose(attacks.set_scores(scores, sets), sets.mean(axis=1))


def test_sets_are_far_easier_than_single_records():
    rng = np.random.default_rng(5)
    is_member = np.arange(400) < 200
    scores = rng.normal(size=400) + 0.5 * is_member                         # single-record AUC about 0.64
    sets, set_is_member = attacks.draw_sets(is_member, set_size=10, n_sets=200, random_state=0)
    assert roc_auc_score(set_is_member, attacks.set_scores(scores, sets)) > roc_auc_score(is_member, scores) + 0.2


def test_attacks_have_the_one_shape():
    for cls in (attacks.DiscriminatorAttack, attacks.ReconstructionAttack, attacks.MonteCarloAttack,
                attacks.NearestSampleAttack, attacks.LoganBlackBoxAttack):
        attack = cls()
        assert isinstance(attack, Attack) and attack.fit() is attack
        assert cls.needs in ("weights", "samples")
        with pytest.raises(NotFittedError):
            attack.predict(None, np.zeros((1, 64)))


def test_logan_black_box_trains_its_own_gan_on_the_samples(gan, digits):
    generated = generative_models.sample(gan, 100, random_state=2)
    attack = attacks.LoganBlackBoxAttack(steps=5, n_train=50, random_state=0)
    scores = attack.score(generated, digits[1][:6])
    assert scores.shape == (6,) and isinstance(attack.gan_, generative_models.GAN)


# --- bad input ---------------------------------------------------------------------------------------------------

def test_models_refuse_bad_data_and_settings(vae, gan):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        generative_models.train_vae(np.full((5, 3), 16.0))
    with pytest.raises(ValueError, match="steps"):
        generative_models.train_gan(np.zeros((5, 3)), steps=0)
    with pytest.raises(ValueError, match="random_state"):
        generative_models.train_vae(np.zeros((5, 3)), random_state=-1)
    with pytest.raises(TypeError, match="VAE"):
        generative_models.reconstructions(gan, np.zeros((2, 64)))
    with pytest.raises(TypeError, match="GAN"):
        generative_models.discriminator_scores(vae, np.zeros((2, 64)))
    with pytest.raises(ValueError, match="64"):
        generative_models.discriminator_scores(gan, np.zeros((2, 3)))
    with pytest.raises(MemoryError, match="GiB.*fewer samples"):                    # the shared check_memory
        generative_models.sample(gan, 10 ** 10)
    with pytest.raises(MemoryError, match="n_draws"):
        generative_models.reconstructions(vae, np.zeros((1000, 64)), n_draws=10 ** 7)


def test_attacks_refuse_bad_input(gan):
    X = np.zeros((3, 4))
    with pytest.raises(TypeError, match="not the model"):
        attacks.NearestSampleAttack().score(gan, X)
    with pytest.raises(ValueError, match="features"):
        attacks.monte_carlo_scores(X, np.zeros((5, 3)), 1.0)
    with pytest.raises(ValueError, match="eps"):
        attacks.monte_carlo_scores(X, np.zeros((5, 4)), -1.0)
    with pytest.raises(ValueError, match="percentile"):
        attacks.MonteCarloAttack(percentile=100)
    with pytest.raises(ValueError, match="n_components"):
        attacks.MonteCarloAttack(n_components=10).score(np.zeros((5, 4)), X)
    with pytest.raises(ValueError, match="random subset"):
        attacks.choose_epsilon(np.zeros((2 ** 14, 1)), np.zeros((2 ** 14, 1)))
    with pytest.raises(ValueError, match="k"):
        attacks.nearest_distances(X, np.zeros((2, 4)), k=3)
    with pytest.raises(ValueError, match="k"):
        attacks.precision_at_k([0.1, 0.2], [True, False], k=3)
    with pytest.raises(ValueError, match="only members"):
        attacks.precision_at_k([0.1, 0.2], [True, True])
    with pytest.raises(ValueError, match="record indices"):
        attacks.set_scores([0.1, 0.2], [[0, 2]])
    with pytest.raises(ValueError, match="reconstructions"):
        attacks.reconstruction_scores(X, np.zeros((2, 3, 5)))
    with pytest.raises(ValueError, match="set_size"):
        attacks.draw_sets([True, False, False], set_size=2)


# --- notebook checks and hidden tests ----------------------------------------------------------------------------

def _precision(scores, is_member, k):
    return float(np.asarray(is_member)[np.argsort(-np.asarray(scores), kind="stable")[:k]].mean())


def _reconstruction(X, recon):
    return -np.linalg.norm(recon - X[None], axis=2).mean(axis=0)


def _monte_carlo(X, generated, eps):
    return (cdist(X, generated) <= eps).mean(axis=1)


def _set_score(scores, sets):
    return np.asarray(scores)[sets].mean(axis=1)


RIGHT_WRONG = {
    "precision_at_k": (_precision, lambda s, m, k: float(np.asarray(m)[np.argsort(s)[:k]].mean()),
                       lambda s, m, k: attacks.precision_at_k(s, m, k)),
    "reconstruction_score": (_reconstruction, lambda X, r: -np.linalg.norm(r.mean(axis=0) - X, axis=1),
                             lambda X, r: attacks.reconstruction_scores(X, r)),
    "monte_carlo_score": (_monte_carlo, lambda X, g, e: (cdist(X, g) < e).sum(axis=1) * 1.0,
                          lambda X, g, e: attacks.monte_carlo_scores(X, g, e)),
    "set_score": (_set_score, lambda s, sets: np.asarray(s)[sets].sum(axis=1),
                  lambda s, sets: attacks.set_scores(s, sets)),
}
CHECKS = {"precision_at_k": nb07.check_precision_at_k, "reconstruction_score": nb07.check_reconstruction_score,
          "monte_carlo_score": nb07.check_monte_carlo_score, "set_score": nb07.check_set_score}


@pytest.mark.parametrize("exercise", list(RIGHT_WRONG))
def test_checks_pass_the_right_answer_and_fail_a_wrong_one_with_a_hint(exercise, capsys):
    right, wrong, reference = RIGHT_WRONG[exercise]
    CHECKS[exercise](right)
    assert "✅" in capsys.readouterr().out
    with pytest.raises(CheckError):
        CHECKS[exercise](wrong)
    assert "Hint:" in capsys.readouterr().out
    with pytest.raises(CheckError, match="reference answer"):
        CHECKS[exercise](reference)

    def blank(*args):
        raise NotImplementedError()

    with pytest.raises(NotDoneError):
        CHECKS[exercise](blank)


def test_checks_on_real_data_use_an_independent_computation(vae, gan, digits):
    X = np.concatenate(digits)
    is_member = np.arange(len(X)) < len(digits[0])
    nb07.check_precision_at_k(_precision, generative_models.discriminator_scores(gan, X), is_member)
    nb07.check_reconstruction_score(_reconstruction, X, generative_models.reconstructions(vae, X, 5))
    generated = generative_models.sample(vae, 500, random_state=0)
    nb07.check_monte_carlo_score(_monte_carlo, X, generated, attacks.choose_epsilon(X, generated, 1))
    sets, _ = attacks.draw_sets(is_member, 5, 10)
    nb07.check_set_score(_set_score, np.arange(len(X), dtype=float), sets)


@pytest.mark.parametrize("exercise", list(RIGHT_WRONG))
def test_hidden_tests_pass_the_right_answer_fail_a_wrong_one_and_block_the_reference(exercise):
    right, wrong, reference = RIGHT_WRONG[exercise]
    assert hidden_test("nb07", exercise, right) is None
    with pytest.raises(HiddenTestFailed, match="wrong answer|wrong shape"):
        hidden_test("nb07", exercise, wrong)
    with pytest.raises(HiddenTestFailed, match="calls mialab's own implementation"):
        hidden_test("nb07", exercise, reference)
