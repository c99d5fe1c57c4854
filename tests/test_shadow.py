"""Shokri et al. shadow-model attack: the attack set, per-class models, the attack end to end, and bad input."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from mialab.attacks.base import NotFittedError
from mialab import data, metrics, models
from mialab.attacks.shadow import (ClassifierStack, ShadowAttack, ShadowModels, attack_dataset, attack_scores,
                                   fit_attack_models, make_attack_model, shadow_attack_dataset, train_shadows)
from mialab.blackbox import BlackBox
from mialab._reference import ReferenceBlocked, blocked

SMALL = dict(hidden=(128,), epochs=30)


pytestmark = pytest.mark.usefixtures("one_thread_module")    # tiny models: one thread is faster


def _game(k, n_target=300, n_shadows=2, **attack):
    """A purchase-k target trained on n_target records, its candidates, and a fitted ShadowAttack."""
    X, y = data.load_purchase(n_classes=k)
    split = data.target_shadow_split(len(X), n_target=n_target, random_state=0)
    net = models.MLP(600, k, hidden=SMALL["hidden"], random_state=0)
    models.train(net, X[split.target_in], y[split.target_in], epochs=SMALL["epochs"], random_state=0)
    candidates = np.concatenate([split.target_in, split.target_out])
    is_member = np.arange(len(candidates)) < n_target
    pool = split.shadow[:4000]
    attack = ShadowAttack(n_shadows=n_shadows, train_size=n_target, n_classes=k, recipe=SMALL, **attack)
    attack.fit(X[pool], y[pool])
    target = BlackBox(net)
    scores = attack.score(target, X[candidates], y[candidates])
    return dict(attack=attack, target=target, scores=scores, is_member=is_member, X=X[candidates],
                y=y[candidates], X_pool=X[pool], y_pool=y[pool])


@pytest.fixture(scope="module")
def overfit():
    return _game(100)


@pytest.fixture(scope="module")
def two_classes():
    return _game(2)


# --- the attack set -----------------------------------------------------------------------------------------

def _tiny():
    probs = np.array([[[0.7, 0.3], [0.2, 0.8], [0.5, 0.5]],
                      [[0.9, 0.1], [0.4, 0.6], [0.1, 0.9]]])
    y = np.array([0, 1, 1])
    members = np.array([[True, False], [False, True], [False, False]])
    nonmembers = np.array([[False, True], [True, False], [True, False]])
    return probs, y, members, nonmembers


def test_attack_dataset_lists_each_shadows_members_then_nonmembers():
    probs, y, members, nonmembers = _tiny()
    features, labels, is_member = attack_dataset(probs, y, members, nonmembers)
    np.testing.assert_allclose(features, [[0.7, 0.3], [0.2, 0.8], [0.5, 0.5], [0.4, 0.6], [0.9, 0.1]])
    np.testing.assert_array_equal(labels, [0, 1, 1, 1, 0])
    np.testing.assert_array_equal(is_member, [True, False, False, True, False])
    assert is_member.dtype == bool


def test_attack_dataset_sorts_each_row_when_asked():
    probs, y, members, nonmembers = _tiny()
    features, _, _ = attack_dataset(probs, y, members, nonmembers, sort=True)
    assert np.all(np.diff(features, axis=1) <= 0)
    np.testing.assert_allclose(features[1], [0.8, 0.2])


def test_attack_dataset_appends_the_true_class_probability_when_asked():
    probs, y, members, nonmembers = _tiny()
    features, labels, _ = attack_dataset(probs, y, members, nonmembers, sort=True, true_label=True)
    assert features.shape == (5, 3)
    np.testing.assert_allclose(features[:, 2], [0.7, 0.8, 0.5, 0.6, 0.9])      # p[label] of each row, unsorted
    np.testing.assert_allclose(features[:, :2], attack_dataset(probs, y, members, nonmembers, sort=True)[0])


def test_train_shadows_gives_disjoint_in_and_out_sets_of_train_size():
    X, y = data.load_purchase(n_classes=10)
    shadows = train_shadows(X[:400], y[:400], 3, train_size=100, recipe=dict(hidden=(16,), epochs=2), random_state=1)
    assert isinstance(shadows, ShadowModels) and len(shadows) == 3 and len(shadows.stack) == 3
    assert shadows.members.shape == shadows.nonmembers.shape == (400, 3)
    assert (shadows.members.sum(axis=0) == 100).all() and (shadows.nonmembers.sum(axis=0) == 100).all()
    assert not (shadows.members & shadows.nonmembers).any()
    assert not np.array_equal(shadows.members[:, 0], shadows.members[:, 1])
    assert shadows.stack.predict_proba(X[:5]).shape == (3, 5, 10)
    features, labels, is_member = shadow_attack_dataset(shadows, X[:400], y[:400])
    assert features.shape == (600, 10) and is_member.sum() == 300
    sub = shadows.subset(2)
    assert len(sub) == 2
    np.testing.assert_allclose(sub.stack.predict_proba(X[:5]), shadows.stack.predict_proba(X[:5])[:2])


def test_train_shadows_with_an_estimator_trains_scikit_learn_shadows_into_a_classifier_stack():
    from sklearn.tree import DecisionTreeClassifier
    rng = np.random.default_rng(0)
    X, y = rng.random((200, 6)).astype(np.float32), rng.integers(0, 10, 200)
    shadows = train_shadows(X, y, 3, train_size=40, n_classes=12, estimator=DecisionTreeClassifier(), random_state=0)
    assert isinstance(shadows.stack, ClassifierStack) and len(shadows) == 3
    probs = shadows.stack.predict_proba(X)
    assert probs.shape == (3, 200, 12) and (probs[:, :, 10:] == 0).all()      # classes 10, 11 never seen
    for j in range(3):                      # a fully grown tree fits its members; column c is class c
        members = shadows.members[:, j]
        np.testing.assert_array_equal(probs[j][members].argmax(axis=1), y[members])
        assert not (shadows.members[:, j] & shadows.nonmembers[:, j]).any()
    assert shadows.stack[0].random_state != shadows.stack[1].random_state      # each shadow its own seed
    again = train_shadows(X, y, 3, train_size=40, n_classes=12, estimator=lambda: DecisionTreeClassifier(),
                          random_state=0)
    np.testing.assert_array_equal(again.stack.predict_proba(X), probs)       # a function returning one: the same
    np.testing.assert_array_equal(shadows.subset(2).stack.predict_proba(X), probs[:2])
    with pytest.raises(ValueError, match="either `recipe`.*or `estimator`"):
        train_shadows(X, y, 1, train_size=40, recipe=dict(epochs=1), estimator=DecisionTreeClassifier())
    with pytest.raises(TypeError, match="`estimator`"):
        train_shadows(X, y, 1, train_size=40, estimator="tree")


def test_fit_attack_models_fits_one_model_per_class_and_none_for_one_sided_classes():
    rng = np.random.default_rng(0)
    features = rng.dirichlet(np.ones(3), size=60)
    labels = np.repeat([0, 1, 2], 20)
    is_member = np.tile([True, False], 30)
    is_member[40:] = True  # class 2: members only
    got = fit_attack_models(features, labels, is_member, 3)
    assert len(got) == 3 and got[2] is None
    own = make_attack_model().fit(features[labels == 1], is_member[labels == 1])
    np.testing.assert_allclose(got[1].predict_proba(features)[:, 1], own.predict_proba(features)[:, 1])
    fallback = LogisticRegression().fit(features, is_member)
    scores = attack_scores(got, features, labels, fallback=fallback)
    np.testing.assert_allclose(scores[labels == 2], fallback.predict_proba(features[labels == 2])[:, 1])
    with pytest.raises(ValueError, match="no attack model for class 2"):
        attack_scores(got, features, labels)


def test_reference_functions_can_be_blocked_for_grading():
    probs, y, members, nonmembers = _tiny()
    with blocked("shadow.attack_dataset"), pytest.raises(ReferenceBlocked):
        attack_dataset(probs, y, members, nonmembers)


# --- the attack end to end -------------------------------------------------------------------------------------

def test_attack_is_well_above_chance_on_an_overfit_purchase_100_target(overfit):
    assert metrics.auc(overfit["scores"], overfit["is_member"]) > 0.8


def test_auc_agrees_with_scikit_learn_and_a_pairwise_count(overfit):
    scores, is_member = overfit["scores"], overfit["is_member"]
    ours = metrics.auc(scores, is_member)
    assert ours == pytest.approx(roc_auc_score(is_member.astype(int), scores), abs=1e-12)
    diff = scores[is_member][:, None] - scores[~is_member][None, :]
    assert ours == pytest.approx(np.mean(diff > 0) + 0.5 * np.mean(diff == 0), abs=1e-9)
    assert scores[is_member].mean() > scores[~is_member].mean()   # higher = member, not the other way round


def test_attack_precision_and_recall_at_the_shadow_side_threshold(overfit):
    attack, scores, is_member = overfit["attack"], overfit["scores"], overfit["is_member"]
    assert np.isfinite(attack.threshold_) and 0 < attack.threshold_ < 1
    assert attack.shadow_scores_.shape == attack.shadow_is_member_.shape == (2 * 2 * 300,)
    assert metrics.choose_threshold(attack.shadow_scores_, attack.shadow_is_member_) == attack.threshold_
    called = attack.predict(overfit["target"], overfit["X"], overfit["y"])
    np.testing.assert_array_equal(called, scores >= attack.threshold_)
    result = metrics.threshold_metrics(scores, is_member, attack.threshold_)
    assert result["precision"] > 0.7 and result["recall"] > 0.6


def test_precision_and_auc_rise_with_the_number_of_classes(overfit, two_classes):
    auc_2 = metrics.auc(two_classes["scores"], two_classes["is_member"])
    auc_100 = metrics.auc(overfit["scores"], overfit["is_member"])
    assert auc_100 > auc_2 + 0.2
    precision = {name: metrics.threshold_metrics(g["scores"], g["is_member"], g["attack"].threshold_)["precision"]
                 for name, g in (("2", two_classes), ("100", overfit))}
    assert precision["2"] < 0.65 and precision["100"] > precision["2"] + 0.15


def test_single_model_and_sorted_features_work_too(overfit):
    for kwargs in (dict(per_class=False), dict(per_class=False, sort=True),
                   dict(per_class=False, sort=True, true_label=True), dict(per_class=True, sort=True, true_label=True)):
        attack = ShadowAttack(n_shadows=2, train_size=300, n_classes=100, recipe=SMALL, **kwargs)
        attack.fit(overfit["X_pool"], overfit["y_pool"], shadows=overfit["attack"].shadows_)
        scores = attack.score(overfit["target"], overfit["X"], overfit["y"])
        assert metrics.auc(scores, overfit["is_member"]) > 0.75, kwargs
        assert all(m is None for m in attack.models_) == (not kwargs["per_class"])


def test_attack_is_near_chance_on_a_well_generalized_target():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6000, 10)).astype(np.float32)
    y = (X @ rng.normal(size=10) + 0.5 * rng.normal(size=6000) > 0).astype(np.int64)
    net = models.MLP(10, 2, hidden=(16,), random_state=0)
    models.train(net, X[:1000], y[:1000], epochs=20, weight_decay=1e-3)
    attack = ShadowAttack(n_shadows=2, train_size=1000, recipe=dict(hidden=(16,), epochs=20, weight_decay=1e-3))
    attack.fit(X[2000:], y[2000:])
    scores = attack.score(BlackBox(net), X[:2000], y[:2000])
    assert metrics.auc(scores, np.arange(2000) < 1000) < 0.56


def test_rounded_answers_are_accepted(overfit):
    target = BlackBox(overfit["target"]._model, output="rounded", decimals=3)
    scores = overfit["attack"].score(target, overfit["X"], overfit["y"])
    assert metrics.auc(scores, overfit["is_member"]) > 0.7
    assert target.n_queries == len(overfit["X"])


# --- bad input ---------------------------------------------------------------------------------------------------

def test_train_shadows_rejects_bad_input():
    X, y = data.load_purchase(n_classes=10)
    with pytest.raises(ValueError, match="needs a pool of at least 400"):
        train_shadows(X[:300], y[:300], 2, train_size=200)
    with pytest.raises(ValueError, match="n_shadows"):
        train_shadows(X[:300], y[:300], 0, train_size=50)
    with pytest.raises(ValueError, match="train_size"):
        train_shadows(X[:300], y[:300], 2, train_size=0)
    with pytest.raises(ValueError, match="labels but there are"):
        train_shadows(X[:300], y[:299], 2, train_size=50)
    bad = X[:300].copy()
    bad[3, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        train_shadows(bad, y[:300], 2, train_size=50)


def test_attack_dataset_rejects_bad_input():
    probs, y, members, nonmembers = _tiny()
    with pytest.raises(ValueError, match="both a member and a non-member"):
        attack_dataset(probs, y, members, members | nonmembers)
    with pytest.raises(ValueError, match="shape"):
        attack_dataset(probs, y, members[:2], nonmembers[:2])
    with pytest.raises(ValueError, match="sum to 1"):
        attack_dataset(probs * 0.5, y, members, nonmembers)
    with pytest.raises(ValueError, match="out of range"):
        attack_dataset(probs, np.array([0, 1, 2]), members, nonmembers)
    with pytest.raises(TypeError, match="boolean"):
        attack_dataset(probs, y, members.astype(int), nonmembers)
    with pytest.raises(ValueError, match="no members or no non-members"):
        attack_dataset(probs, y, np.zeros_like(members), nonmembers)
    with pytest.raises(ValueError, match="shape"):
        attack_dataset(probs[0], y, members, nonmembers)
    with pytest.raises(TypeError, match="ShadowModels"):
        shadow_attack_dataset("shadows", np.zeros((3, 2)), y)
    with pytest.raises(TypeError, match="`sort` must be True or False"):
        attack_dataset(probs, y, members, nonmembers, sort="yes")
    with pytest.raises(TypeError, match="`true_label` must be True or False"):
        attack_dataset(probs, y, members, nonmembers, true_label=1)


def test_attack_models_reject_bad_input():
    features = np.full((4, 2), 0.5)
    with pytest.raises(ValueError, match="only members"):
        fit_attack_models(features, np.array([0, 1, 0, 1]), np.ones(4, bool), 2)
    with pytest.raises(ValueError, match="out of range"):
        fit_attack_models(features, np.array([0, 1, 2, 1]), np.array([1, 0, 1, 0], bool), 2)
    with pytest.raises(ValueError, match="n_classes"):
        fit_attack_models(features, np.array([0, 1, 0, 1]), np.array([1, 0, 1, 0], bool), 0)
    with pytest.raises(TypeError, match="list"):
        attack_scores("models", features, np.array([0, 1, 0, 1]))


def test_shadow_attack_rejects_bad_settings_and_unusable_targets(overfit):
    with pytest.raises(ValueError, match="n_shadows"):
        ShadowAttack(n_shadows=0)
    with pytest.raises(TypeError, match="per_class"):
        ShadowAttack(per_class="yes")
    with pytest.raises(TypeError, match="true_label"):
        ShadowAttack(true_label=1)
    with pytest.raises(TypeError, match="attack_model"):
        ShadowAttack(attack_model="logistic")
    with pytest.raises(ValueError, match="random_state"):
        ShadowAttack(random_state=None)
    with pytest.raises(NotFittedError, match="not fitted"):
        ShadowAttack().score(overfit["target"], overfit["X"], overfit["y"])
    attack, model = overfit["attack"], overfit["target"]._model
    for output in ("label", "top_k"):
        with pytest.raises(ValueError, match="probability vectors"):
            attack.score(BlackBox(model, output=output), overfit["X"], overfit["y"])
    with pytest.raises(TypeError, match="BlackBox"):
        attack.score(model, overfit["X"], overfit["y"])
    with pytest.raises(ValueError, match="labels but there are"):
        attack.score(overfit["target"], overfit["X"], overfit["y"][:-1])
    other = models.MLP(600, 10, hidden=(8,))
    with pytest.raises(ValueError, match="answers 10 classes"):
        attack.score(BlackBox(other), overfit["X"][:5], overfit["y"][:5] % 10)
    with pytest.raises(ValueError, match="pool of"):
        ShadowAttack(n_shadows=2, train_size=300).fit(overfit["X_pool"][:100], overfit["y_pool"][:100],
                                                      shadows=attack.shadows_)
    with pytest.raises(ValueError, match="only 2 shadows"):
        attack.shadows_.subset(3)
