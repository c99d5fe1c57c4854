"""mialab.attacks.provenance: Song & Shmatikov's user-level audit of a text model (notebook 13)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mialab import metrics, sequence
from mialab.attacks import provenance
from mialab.blackbox import BlackBox

GROUPS = np.repeat([4, 24], 16)   # sentences per user: a small and a large contribution


@pytest.fixture(scope="module")
def world():
    """32 users, 4 models on random halves of them, every user's ranks and features under every model."""
    users = provenance.synthetic_users(len(GROUPS), GROUPS, random_state=0)
    models, in_mask = provenance.train_user_models(users, n_models=4, random_state=0)
    ranks = [provenance.user_ranks(BlackBox(provenance.NextCharacter(m)), users) for m in models]
    features = np.array([provenance.rank_features(r) for r in ranks])
    return dict(users=users, models=models, in_mask=in_mask, ranks=ranks, features=features)


def _group_auc(scores, in_mask, n):
    return metrics.auc(scores[GROUPS == n].ravel(), in_mask[GROUPS == n].ravel())


# ------------------------------------------------------------------------------------------------ the features

def test_ranks_and_histogram_match_a_brute_force_count_with_ties_and_top_k_zeros():
    rng = np.random.default_rng(0)
    probs = np.round(rng.dirichlet(np.ones(7), size=200), 1)       # rounded: many ties
    probs[:50, 3:] = 0.0                                             # top-3-like rows: zeros tie below
    next_chars = rng.integers(7, size=200)
    brute = np.array([1 + sum(p > row[c] for p in row) for row, c in zip(probs, next_chars)])
    assert np.array_equal(provenance.next_char_ranks(probs, next_chars), brute)
    bins = (1, 2, 4, 8)
    counts = [sum(low <= r < high for r in brute) for low, high in zip(bins[:-2], bins[1:-1])]
    counts.append(sum(bins[-2] <= r <= bins[-1] for r in brute))       # np.histogram's last bin is closed
    assert np.allclose(provenance.rank_histogram(probs, next_chars, bins), np.array(counts) / 200)
    assert np.isclose(provenance.rank_histogram(probs, next_chars).sum(), 1.0)


def test_prefix_queries_ask_every_character_after_the_text_before_it():
    X, next_chars = provenance.prefix_queries(["ab c.", "d."])
    texts = ["".join(sequence.VOCAB[int(i)] for i in row if i >= 0) for row in X]
    assert texts == ["\n", "\na", "\nab", "\nab ", "\nab c", "\nab c.", "\n", "\nd", "\nd."]
    assert "".join(sequence.VOCAB[c] for c in next_chars) == "ab c.\nd.\n"
    X3, y3 = provenance.prefix_queries(["ab c.", "d."], max_queries=3)
    assert np.array_equal(X3, X[:3, :X3.shape[1]]) and np.array_equal(y3, next_chars[:3])


def test_the_next_character_box_answers_each_prefix_as_a_forward_pass_over_it_alone():
    torch.manual_seed(0)
    model = sequence.CharGRU(8, 16)
    X, _ = provenance.prefix_queries(["the cat.", "the dog is red."])
    rows = np.random.default_rng(1).permutation(len(X))              # any order, prefixes of one another or not
    got = provenance.NextCharacter(model).predict_proba(X[rows])
    with torch.no_grad():
        for answer, row in zip(got, X[rows]):
            ids = torch.as_tensor(row[row >= 0].astype(np.int64))[None]
            want = torch.softmax(model(ids)[0][0, -1].double(), dim=-1).numpy()
            assert np.allclose(answer, want, atol=1e-6)


def test_a_top_k_box_gives_k_plus_one_outside_its_answer_and_a_label_box_one_or_two(world):
    user = world["users"][:2]
    full = provenance.user_ranks(BlackBox(provenance.NextCharacter(world["models"][0])), user)
    top2 = provenance.user_ranks(BlackBox(provenance.NextCharacter(world["models"][0]), output="top_k", k=2), user)
    label = provenance.user_ranks(BlackBox(provenance.NextCharacter(world["models"][0]), output="label"), user)
    for f, t, lab in zip(full, top2, label):
        assert np.array_equal(t, np.minimum(f, 3))
        assert np.array_equal(lab, np.where(f == 1, 1, 2))


def test_the_box_counts_one_query_per_character_and_rank_features_truncate(world):
    box = BlackBox(provenance.NextCharacter(world["models"][0]))
    users = world["users"][:3]
    ranks = provenance.user_ranks(box, users)
    assert box.n_queries == sum(len(s) + 1 for u in users for s in u) == sum(map(len, ranks))
    few = provenance.user_ranks(BlackBox(provenance.NextCharacter(world["models"][0])), users, max_queries=20)
    assert all(np.array_equal(f, r[:20]) for f, r in zip(few, ranks))
    assert np.allclose(provenance.rank_features(ranks, max_queries=20), provenance.rank_features(few))


# ------------------------------------------------------------------------------------------------ the audit

def test_the_audit_finds_users_whose_texts_trained_the_model(world):
    scores = provenance.cross_fit_scores(world["features"], world["in_mask"])
    assert metrics.auc(scores.ravel(), world["in_mask"].ravel()) > 0.65      # users with 4 and 24 sentences


def test_the_audit_is_at_chance_with_shuffled_labels_or_on_a_model_trained_on_nobodys_texts(world):
    features, in_mask = world["features"], world["in_mask"]
    shuffled = np.random.default_rng(0).permuted(in_mask, axis=0)     # the audit learns from wrong labels
    scores = provenance.cross_fit_scores(features, shuffled)
    assert abs(metrics.auc(scores.ravel(), in_mask.ravel()) - 0.5) < 0.12
    strangers = provenance.synthetic_users(24, 16, random_state=7)   # nobody of ours
    nobody, _ = provenance.train_user_models(strangers, n_models=2, random_state=7)
    null = provenance.rank_features(provenance.user_ranks(BlackBox(provenance.NextCharacter(nobody[0])),
                                                          world["users"]))
    audit = provenance.fit_audit(features[1:].reshape(-1, features.shape[2]), in_mask[:, 1:].T.reshape(-1))
    assert abs(metrics.auc(provenance.audit_scores(audit, null), in_mask[:, 0]) - 0.5) < 0.2


def test_the_audit_grows_with_the_sentences_a_user_contributed(world):
    scores = provenance.cross_fit_scores(world["features"], world["in_mask"])
    small, large = (_group_auc(scores, world["in_mask"], n) for n in (4, 24))
    assert large > 0.85 and large - small > 0.1, (small, large)    # a broken feature is ~0.5 for both


def test_users_pins_are_more_exposed_in_the_models_that_saw_them(world):
    model, in_mask = world["models"][0], world["in_mask"][:, 0]
    exposures = provenance.user_exposures(model, world["users"])
    assert exposures[in_mask].mean() > exposures[~in_mask].mean() + 0.5
    user = world["users"][3]
    scores = sequence.candidate_log_perplexities(model, provenance.secret_prefix(user), 4)
    rank = sequence.canary_rank(scores, int(user[-1][-5:-1]))
    assert np.isclose(exposures[3], np.log2(10 ** 4) - np.log2(rank))


# ------------------------------------------------------------------------------------------------ determinism

def test_the_same_random_state_gives_the_same_users_models_and_scores(world):
    assert provenance.synthetic_users(len(GROUPS), GROUPS, random_state=0) == world["users"]
    assert provenance.synthetic_users(4, 6, random_state=1) != provenance.synthetic_users(4, 6, random_state=2)
    small = world["users"][:6]
    a, mask_a = provenance.train_user_models(small, n_models=2, epochs=1, random_state=3)
    b, mask_b = provenance.train_user_models(small, n_models=2, epochs=1, random_state=3)
    assert np.array_equal(mask_a, mask_b)
    assert all(torch.equal(p, q) for p, q in zip(a[0].state_dict().values(), b[0].state_dict().values()))
    first = provenance.cross_fit_scores(world["features"], world["in_mask"], random_state=0)
    assert np.array_equal(first, provenance.cross_fit_scores(world["features"], world["in_mask"], random_state=0))


def test_synthetic_users_have_their_secret_last_and_the_asked_number_of_sentences():
    users = provenance.synthetic_users(3, [2, 5, 9], random_state=0)
    assert [len(u) for u in users] == [2, 5, 9]
    for user in users:
        assert provenance.secret_prefix(user).startswith("the pin of ") and user[-1][-5:-1].isdigit()
        assert all(set(s) <= set(sequence.VOCAB) for s in user)
