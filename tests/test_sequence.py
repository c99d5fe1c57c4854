"""mialab.sequence (Secret Sharer), the exposure estimates in mialab.metrics, and the notebook-10 checks of them."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from scipy.stats import skewnorm

from mialab import metrics, sequence
from mialab.checks import CheckError, NotDoneError, nb10
from _course import hidden_test
from mialab.checks.grading import HiddenTestFailed


@pytest.fixture(scope="module")
def memorised():
    """A small GRU trained on a corpus with one canary inserted 16 times and one never inserted."""
    canary = sequence.canary_text(31337, n_digits=5)
    corpus = sequence.synthetic_corpus(400, canaries={canary: 16}, random_state=0)
    val = sequence.synthetic_corpus(60, random_state=1)
    model, history = sequence.train_language_model(corpus, epochs=8, hidden=64, val_text=val, random_state=0)
    return model, history


# --- corpus ------------------------------------------------------------------------------------------------

def test_corpus_holds_each_canary_exactly_k_times_and_is_seeded():
    canaries = {sequence.canary_text(7, prefix="my pin is "): 3, sequence.canary_text(123): 1}
    corpus = sequence.synthetic_corpus(200, canaries=canaries, random_state=5)
    lines = corpus.splitlines()
    assert len(lines) == 204
    assert lines.count("my pin is 00007") == 3 and lines.count("my secret code is 00123") == 1
    assert corpus == sequence.synthetic_corpus(200, canaries=canaries, random_state=5)
    assert corpus != sequence.synthetic_corpus(200, canaries=canaries, random_state=6)
    assert set(corpus) <= set(sequence.VOCAB)


def test_canary_text_keeps_leading_zeros_and_refuses_a_secret_out_of_range():
    assert sequence.canary_text(42, n_digits=4, prefix="code ") == "code 0042"
    with pytest.raises(ValueError, match="secret"):
        sequence.canary_text(10_000, n_digits=4)
    with pytest.raises(ValueError, match="n_digits"):
        sequence.canary_text(1, n_digits=sequence.MAX_DIGITS + 1)
    with pytest.raises(ValueError, match="characters the model cannot read"):
        sequence.canary_text(1, prefix="My Secret: ")


# --- the trie ----------------------------------------------------------------------------------------------

def test_trie_scores_equal_one_forward_pass_per_candidate():
    torch.manual_seed(0)
    model = sequence.CharGRU(embedding=8, hidden=16)
    scores = sequence.candidate_log_perplexities(model, "the pin is ", n_digits=3)
    assert scores.shape == (1000,)
    picks = [0, 7, 70, 123, 500, 999]
    brute = sequence.log_perplexity(model, "the pin is ", [f"{s:03d}" for s in picks])
    np.testing.assert_allclose(scores[picks], brute, atol=1e-4)
    # probabilities of all candidates of one prefix sum to at most 1 (the rest goes to non-digit characters)
    assert np.sum(2.0 ** -scores) <= 1 + 1e-6


def test_training_is_seeded_and_lowers_the_loss(memorised):
    model, history = memorised
    assert len(history["train_loss"]) == len(history["val_loss"]) == 8
    assert history["val_loss"][-1] < history["val_loss"][0] - 0.5
    corpus = sequence.synthetic_corpus(100, random_state=0)
    a = sequence.train_language_model(corpus, epochs=1, hidden=16, random_state=3)[1]["train_loss"]
    b = sequence.train_language_model(corpus, epochs=1, hidden=16, random_state=3)[1]["train_loss"]
    assert a == b


def test_a_canary_inserted_16_times_is_exposed_and_an_absent_one_is_not(memorised):
    model, _ = memorised
    scores = sequence.candidate_log_perplexities(model, "my secret code is ", n_digits=5)
    inserted = metrics.exposure(sequence.canary_rank(scores, 31337), 10**5)
    absent = metrics.exposure(sequence.canary_rank(scores, 27182), 10**5)
    assert inserted > 10 > absent


def test_on_epoch_results_are_kept_in_the_history():
    corpus = sequence.synthetic_corpus(100, random_state=0)
    _, history = sequence.train_language_model(corpus, epochs=2, hidden=16, on_epoch=lambda m, e: e * 10)
    assert history["on_epoch"] == [10, 20]


@pytest.mark.parametrize("kwargs, match", [
    (dict(text=123), "text"), (dict(text="short"), "at least"), (dict(text="ABC" * 100), "cannot read"),
    (dict(epochs=0), "epochs"), (dict(lr=0.0), "lr"), (dict(random_state=-1), "random_state"),
    (dict(on_epoch="yes"), "on_epoch"),
])
def test_training_refuses_bad_input(kwargs, match):
    args = dict(text=sequence.synthetic_corpus(50, random_state=0), epochs=1, hidden=8)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        sequence.train_language_model(args.pop("text"), **args)


def test_scoring_refuses_a_model_that_is_not_a_char_gru():
    with pytest.raises(TypeError, match="CharGRU"):
        sequence.candidate_log_perplexities(torch.nn.Linear(3, 3), "x ")


# --- rank and exposure -------------------------------------------------------------------------------------

def test_canary_rank_counts_strictly_more_likely_candidates_and_can_exclude_other_canaries():
    scores = np.array([3.0, 1.0, 2.0, 5.0, 2.0])
    assert [sequence.canary_rank(scores, s) for s in range(5)] == [4, 1, 2, 5, 2]
    assert sequence.canary_rank(scores, 0, exclude=[1]) == 3
    with pytest.raises(ValueError, match="secret"):
        sequence.canary_rank(scores, 5)


def _tf_privacy_interpolation(canary, references):
    """tensorflow/privacy compute_exposure_interpolation, for one canary (no TensorFlow needed)."""
    values = np.concatenate([[canary], references])
    repetitions = np.concatenate([[1], np.zeros(len(references), int)])
    order = np.argsort(values, kind="stable")
    cum_sum = np.cumsum(repetitions[order] == 0)
    rank = cum_sum[repetitions[order] == 1] + 1
    return float(np.log2(len(references)) - np.log2(rank[0]))


def test_interpolated_exposure_matches_tensorflow_privacy_and_the_exact_rank():
    rng = np.random.default_rng(0)
    references = rng.normal(15, 2, 3000)
    for canary in [5.0, 11.0, 14.9, 15.3, 30.0]:
        assert metrics.exposure_interpolated(canary, references) == pytest.approx(
            _tf_privacy_interpolation(canary, references))
    scores = np.concatenate([[11.0], references])  # the canary is candidate 0 among all 3001
    rank = sequence.canary_rank(scores, 0)
    assert metrics.exposure_interpolated(11.0, references) == pytest.approx(metrics.exposure(rank, 3001)
                                                                            - np.log2(3001 / 3000))
    np.testing.assert_allclose(metrics.exposure_interpolated([5.0, 30.0], references),
                               [np.log2(3000), np.log2(3000) - np.log2(3001)])


def test_extrapolated_exposure_matches_tensorflow_privacy_formula():
    rng = np.random.default_rng(1)
    references = skewnorm.rvs(-3, loc=18, scale=2, size=2000, random_state=rng)
    canaries = np.array([9.0, 12.0, 16.0])
    params = skewnorm.fit(references)
    tf_privacy = -np.log2(skewnorm.cdf(canaries, *params))
    estimate = metrics.exposure_extrapolated(canaries, references, n_boot=0)
    np.testing.assert_allclose(estimate.exposure, tf_privacy, rtol=1e-6)
    assert np.all(estimate.low == estimate.exposure)


def test_extrapolated_exposure_agrees_with_the_exact_rank_within_its_interval():
    rng = np.random.default_rng(2)
    population = skewnorm.rvs(-4, loc=18, scale=2.5, size=10**6, random_state=rng)
    canary = np.sort(population)[99]  # exact rank 100 of 10^6: 13.3 bits, beyond the sample's log2(2000) = 11
    exact = metrics.exposure(100, 10**6)
    estimate = metrics.exposure_extrapolated(canary, rng.choice(population, 2000), n_boot=30, random_state=0)
    assert estimate.low - 1 <= exact <= estimate.high + 1
    assert estimate.low <= estimate.exposure <= estimate.high


def test_extrapolated_exposure_far_in_the_tail_is_large_and_warns_nothing():
    references = np.random.default_rng(3).normal(15, 1, 500)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert metrics.exposure_extrapolated(5.0, references, n_boot=5).exposure > 50
        assert metrics.exposure_extrapolated(-100.0, references, n_boot=0).exposure == np.inf


@pytest.mark.parametrize("args, match", [
    ((np.nan, [1.0, 2.0]), "NaN"), ((1.0, [1.0]), "at least 2"), (([[1.0]], [1.0, 2.0]), "one per canary"),
])
def test_exposure_estimates_refuse_bad_input(args, match):
    for estimate in (metrics.exposure_interpolated, metrics.exposure_extrapolated):
        with pytest.raises((ValueError, TypeError), match=match):
            estimate(*args)


# --- the notebook-10 checks and hidden tests ---------------------------------------------------------------

def _rank(scores, secret):
    return int(np.sum(scores < scores[secret])) + 1


def _from_sample(canary, references):
    return float(np.log2(len(references)) - np.log2(1 + np.sum(np.asarray(references) < canary)))


def test_checks_pass_correct_solutions(capsys):
    scores = np.random.default_rng(0).normal(size=1000)
    nb10.check_canary_rank(_rank, scores, 17)
    nb10.check_exposure_from_sample(_from_sample, 0.3, scores)
    assert capsys.readouterr().out.count("✅") == 2


@pytest.mark.parametrize("check, wrong, hint", [
    (nb10.check_canary_rank, lambda s, c: int(np.sum(s < s[c])), "rank 1, not 0"),
    (nb10.check_canary_rank, lambda s, c: int(np.sum(s <= s[c])), "use <, not <="),
    (nb10.check_canary_rank, lambda s, c: int(np.sum(s > s[c])) + 1, "BELOW"),
    (nb10.check_exposure_from_sample, lambda c, r: float(np.log(len(r)) - np.log(1 + np.sum(r < c))), "base 2"),
    (nb10.check_exposure_from_sample, lambda c, r: float(np.log2(len(r)) - np.log2(1 + np.sum(r <= c))),
     "use <, not <="),
])
def test_checks_catch_common_mistakes_with_a_hint(check, wrong, hint, capsys):
    with pytest.raises(CheckError):
        check(wrong)
    assert hint in capsys.readouterr().out


def test_checks_refuse_the_reference_and_say_not_done_for_a_blank_exercise(capsys):
    with pytest.raises(CheckError, match="calls mialab's own implementation"):
        nb10.check_canary_rank(sequence.canary_rank)

    def blank(*args):
        raise NotImplementedError()

    with pytest.raises(NotDoneError):
        nb10.check_exposure_from_sample(blank)


@pytest.mark.parametrize("exercise, right, wrong, reference", [
    ("canary_rank", _rank, lambda s, c: int(np.sum(s <= s[c])) + 1, sequence.canary_rank),
    ("exposure_from_sample", _from_sample, lambda c, r: _from_sample(c, r) + 0.5, metrics.exposure_interpolated),
])
def test_hidden_tests_pass_the_right_answer_fail_a_wrong_one_and_block_the_reference(exercise, right, wrong,
                                                                                       reference):
    assert hidden_test("nb10", exercise, right) is None
    with pytest.raises(HiddenTestFailed, match="wrong answer"):
        hidden_test("nb10", exercise, wrong)
    with pytest.raises(HiddenTestFailed, match="calls mialab's own implementation"):
        hidden_test("nb10", exercise, reference)
