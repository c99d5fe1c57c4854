"""mialab.attacks.label_only: the gap attack (accuracy = 1/2 + gap/2), noisy copies, the noise-robustness attack
against a label-only black box, the decision-boundary distance (against the analytic distance of linear models and
against IBM ART's LabelOnlyDecisionBoundary), and clear errors."""

import numpy as np
import pytest

from _small_models import one_thread
from mialab import data
from mialab.attacks import label_only
from mialab.attacks.augment import noisy_copies
from mialab.attacks.label_only import (BoundaryDistanceAttack, GapAttack, NoiseRobustnessAttack, boundary_distance,
                                       boundary_point, gap_attack_accuracy)
from mialab.blackbox import BlackBox, QueryBudgetExceeded, query_labels
from mialab.metrics import auc, choose_threshold, threshold_metrics


class FixedAnswers:
    """A 'model' whose predict_proba answers a fixed label per record (looked up by the record's first feature)."""

    def __init__(self, labels, n_classes):
        self.labels, self.n_classes = np.asarray(labels), n_classes

    def predict_proba(self, X):
        out = np.zeros((len(X), self.n_classes))
        out[np.arange(len(X)), self.labels[X[:, 0].astype(int)]] = 1.0
        return out


@pytest.fixture(scope="module")
def target():
    from mialab.many_models import train_many
    X, y = data.load_purchase(n_classes=10, n_records=2000, random_state=0)
    with one_thread():
        stack = train_many(X[:300], y[:300], np.ones((300, 1), bool), n_classes=10, hidden=(64,), epochs=30,
                           batch_size=32, random_state=0)
    return stack[0], X, y


@pytest.mark.parametrize("n_in, n_out, right_in, right_out", [(10, 10, 9, 6), (50, 50, 50, 0), (8, 8, 3, 5),
                                                             (100, 100, 73, 73)])
def test_gap_attack_accuracy_is_one_half_plus_half_the_gap_on_balanced_sets(n_in, n_out, right_in, right_out):
    labels = np.zeros(n_in + n_out, int)
    labels[right_in:n_in] = 1                                     # members answered wrongly
    labels[n_in + right_out:] = 1                                 # non-members answered wrongly
    X = np.arange(n_in + n_out, dtype=np.float32)[:, None]
    y = np.zeros(n_in + n_out, int)
    box = BlackBox(FixedAnswers(labels, 2), output="label")
    is_member = np.arange(n_in + n_out) < n_in
    attack = GapAttack()
    accuracy = np.mean(attack.predict(box, X, y) == is_member)
    train_acc, test_acc = right_in / n_in, right_out / n_out
    assert accuracy == pytest.approx(gap_attack_accuracy(train_acc, test_acc), abs=1e-12)
    assert accuracy == pytest.approx(0.5 + (train_acc - test_acc) / 2, abs=1e-12)
    scores = attack.score(box, X, y)
    assert threshold_metrics(scores, is_member, 0.5)["accuracy"] == pytest.approx(accuracy)


def test_gap_attack_on_a_trained_target_matches_its_accuracies(target):
    model, X, y = target
    from mialab.models import accuracy
    members, nonmembers = np.arange(300), np.arange(1000, 1300)
    idx = np.concatenate([members, nonmembers])
    box = BlackBox(model, output="label")
    predicted = GapAttack().predict(box, X[idx], y[idx])
    is_member = np.arange(600) < 300
    gap_acc = gap_attack_accuracy(accuracy(model, X[members], y[members]),
                                  accuracy(model, X[nonmembers], y[nonmembers]))
    assert np.mean(predicted == is_member) == pytest.approx(gap_acc, abs=1e-12)
    assert box.n_queries == 600


def test_noise_robustness_separates_correctly_classified_members_from_non_members(target):
    model, X, y = target
    members, nonmembers = np.arange(300), np.arange(1000, 1300)
    idx = np.concatenate([members, nonmembers])
    is_member = np.arange(600) < 300
    box = BlackBox(model, output="label")
    gap = GapAttack().score(box, X[idx], y[idx])
    box.reset_queries()
    robust = NoiseRobustnessAttack(n_copies=20, noise="flip", strength=0.05).score(box, X[idx], y[idx])
    assert box.n_queries == 600 * 21
    assert robust.shape == (600,) and robust.min() >= 0 and robust.max() <= 1
    correct = gap == 1.0
    assert auc(robust[correct], is_member[correct]) > 0.6             # the gap attack is at chance on these
    assert auc(robust, is_member) > auc(gap, is_member) + 0.02


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="train_accuracy"):
        gap_attack_accuracy(1.2, 0.5)
    with pytest.raises(ValueError, match="test_accuracy"):
        gap_attack_accuracy(0.9, -0.1)
    with pytest.raises(ValueError, match="0/1 records"):
        noisy_copies(np.full((2, 3), 0.5), 2, "flip", 0.1)
    with pytest.raises(ValueError, match="noise"):
        noisy_copies(np.zeros((2, 3)), 2, "blur", 0.1)
    with pytest.raises(ValueError, match="strength"):
        noisy_copies(np.zeros((2, 3)), 2, "flip", 1.5)
    with pytest.raises(ValueError, match="strength"):
        NoiseRobustnessAttack(noise="shift", strength=0.5)
    with pytest.raises(ValueError, match="n_copies"):
        NoiseRobustnessAttack(n_copies=0)
    with pytest.raises(TypeError, match="BlackBox"):
        NoiseRobustnessAttack().score(object(), np.zeros((2, 64)), np.array([0, 1]))
    box = BlackBox(FixedAnswers(np.array([0, 1]), 2), output="label")
    with pytest.raises(ValueError, match="labels"):
        NoiseRobustnessAttack().score(box, np.zeros((2, 64)), np.array([0, 5, 1]))
    assert label_only.NOISES == ("flip", "gaussian", "shift")


def test_boundary_attack_bad_input_raises_clear_errors():
    model, X, y = _linear_case(2, n=4)
    box = BlackBox(model, output="label")
    with pytest.raises(ValueError, match="max_queries.*at least 12"):
        boundary_distance(box, X, y, max_queries=5)
    with pytest.raises(ValueError, match="bounds"):
        boundary_distance(box, X, y, bounds=(1, 0))
    with pytest.raises(TypeError, match="bounds"):
        BoundaryDistanceAttack(bounds=3)
    with pytest.raises(ValueError, match="tol"):
        boundary_distance(box, X, y, tol=0)
    with pytest.raises(ValueError, match="threshold"):
        BoundaryDistanceAttack(threshold=-1.0)
    with pytest.raises(TypeError, match="BlackBox"):
        BoundaryDistanceAttack().score(model, X, y)
    with pytest.raises(TypeError, match="label_of"):
        boundary_point("labels", X[0], 0, X[1])
    with pytest.raises(ValueError, match="x_other"):
        boundary_point(box.query, X[0], 0, X[1, :3])


# ---------------------------------------------------------------------------------------------------------------
# the decision-boundary distance
# ---------------------------------------------------------------------------------------------------------------

class Linear:
    """A 'model' that answers argmax(X W + b) as one-hot probabilities: class regions are convex polytopes, so each
    record's distance to the boundary is known in closed form (linear_distance)."""

    def __init__(self, W, b):
        self.W, self.b = np.asarray(W, float), np.asarray(b, float)
        self.n_classes = self.W.shape[1]

    def predict_proba(self, X):
        return np.eye(self.n_classes)[np.argmax(np.asarray(X, float) @ self.W + self.b, axis=1)]


def linear_distance(model, X, y):
    """The L2 distance from each x (inside class y's region) to the nearest point of another class: the nearest of
    the facets (w_y - w_j) . x + b_y - b_j = 0 over j != y."""
    W, b = model.W, model.b
    out = np.full(len(X), np.inf)
    for j in range(W.shape[1]):
        normal = W[:, y].T - W[:, j]                          # (n, d)
        margin = np.einsum("nd,nd->n", X, normal) + b[y] - b[j]
        size = np.linalg.norm(normal, axis=1)
        out = np.where(j == y, out, np.minimum(out, margin / np.where(size > 0, size, 1)))
    return out


def _linear_case(n_classes, d=8, n=40, seed=0):
    rng = np.random.default_rng(seed)
    model = Linear(rng.normal(size=(d, n_classes)), rng.normal(size=n_classes))
    X = rng.normal(size=(n, d))
    y = np.argmax(model.predict_proba(X), axis=1)             # every record correctly classified
    return model, X, y


@pytest.mark.parametrize("n_classes", [2, 5])
def test_boundary_distance_matches_the_analytic_distance_of_a_linear_model(n_classes):
    model, X, y = _linear_case(n_classes)
    box = BlackBox(model, output="label")
    found, queries = boundary_distance(box, X, y, max_queries=600, bounds=(-20, 20), random_state=0)
    truth = linear_distance(model, X, y)
    assert np.all(found >= truth * (1 - 1e-9))               # never closer: the point found is labelled otherwise
    ratio = found / truth
    if n_classes == 2:                                        # one hyperplane: the search converges to its foot
        assert ratio.max() < 1.05
    else:   # a polytope: a few records settle on the foot of a farther facet (a local minimum, as in HopSkipJump)
        assert np.median(ratio) < 1.05 and np.quantile(ratio, 0.75) < 1.25
    assert box.n_queries == queries.sum() and queries.max() <= 600


def test_boundary_distance_shrinks_to_zero_for_records_near_the_boundary():
    model = Linear(np.array([[1.0, -1.0], [0.0, 0.0]]), np.zeros(2))     # class 0 where x0 > 0: at distance x0
    X = np.array([[0.001, 0.3], [0.01, -0.2], [0.1, 0.5], [1.0, 0.0], [3.0, -1.0]])
    y = np.zeros(5, int)
    found, _ = boundary_distance(BlackBox(model, output="label"), X, y, max_queries=300, bounds=(-5, 5))
    truth = X[:, 0]
    np.testing.assert_allclose(found, truth, rtol=0.05, atol=1e-2)
    assert np.all(np.diff(found) > 0)


def test_a_misclassified_record_is_at_distance_zero_after_one_query():
    model, X, y = _linear_case(3, n=10)
    y[:4] = (y[:4] + 1) % 3
    found, queries = boundary_distance(BlackBox(model, output="label"), X, y, max_queries=100)
    assert np.all(found[:4] == 0) and np.all(queries[:4] == 1) and np.all(found[4:] > 0)


@pytest.mark.parametrize("max_queries", [12, 40, 150])
def test_the_query_budget_per_record_is_respected_and_counted_by_the_black_box(max_queries):
    model, X, y = _linear_case(4, n=30)
    box = BlackBox(model, output="label", budget=30 * max_queries)     # the box refuses a query past the budget
    found, queries = boundary_distance(box, X, y, max_queries=max_queries)
    assert queries.max() <= max_queries and box.n_queries == queries.sum() <= box.budget
    assert np.isfinite(found).all() and (found > 0).all()
    attack = BoundaryDistanceAttack(max_queries=max_queries)
    box.reset_queries()
    np.testing.assert_array_equal(attack.score(box, X, y), found)
    np.testing.assert_array_equal(attack.queries_, queries)
    with pytest.raises(QueryBudgetExceeded):                # a box with less than the attack needs says so
        boundary_distance(BlackBox(model, output="label", budget=30), X, y, max_queries=max_queries)


def test_more_queries_find_a_closer_boundary_point():
    model, X, y = _linear_case(5, n=30, seed=1)
    box = BlackBox(model, output="label")
    few, _ = boundary_distance(box, X, y, max_queries=15, bounds=(-20, 20))
    many, _ = boundary_distance(box, X, y, max_queries=400, bounds=(-20, 20))
    assert np.all(many <= few + 1e-9) and np.median(many) < 0.7 * np.median(few)


def test_boundary_distance_is_deterministic_given_random_state(target):
    model, X, y = target
    box = BlackBox(model, output="label")
    idx = np.r_[0:20, 1000:1020]
    first, q1 = boundary_distance(box, X[idx], y[idx], max_queries=80, random_state=3)
    second, q2 = boundary_distance(box, X[idx], y[idx], max_queries=80, random_state=3)
    other, _ = boundary_distance(box, X[idx], y[idx], max_queries=80, random_state=4)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(q1, q2)
    assert not np.array_equal(first, other)


def test_a_record_with_no_random_start_starts_from_the_nearest_candidate_labelled_otherwise():
    model = Linear(np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([0.0, -0.95]))   # class 1 only where x0 > 0.95
    X = np.array([[0.2, 0.5], [0.5, 0.5], [0.99, 0.5]])
    y = np.array([0, 0, 1])
    found, queries = boundary_distance(BlackBox(model, output="label"), X, y, max_queries=200, init_tries=1,
                                       bounds=(0, 1), random_state=0)
    np.testing.assert_allclose(found, [0.75, 0.45, 0.04], atol=0.02)


def test_members_of_an_overfit_model_are_farther_from_the_boundary(target):
    model, X, y = target                                        # 300 training records, train accuracy 1
    idx = np.r_[0:100, 1000:1100]
    is_member = np.arange(200) < 100
    with one_thread():
        scores = BoundaryDistanceAttack(max_queries=150, bounds=(0, 1)).score(BlackBox(model, output="label"),
                                                                               X[idx], y[idx])
    assert auc(scores, is_member) > 0.65                         # 0.73-0.76 measured over three seeds
    correct = scores > 0
    assert auc(scores[correct], is_member[correct]) > 0.6       # beyond the gap attack: among correct records too


def test_members_of_a_model_that_does_not_overfit_are_not_farther():
    from sklearn.linear_model import LogisticRegression
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=1.5, size=(3, 5))
    y = rng.integers(3, size=4000)
    X = centres[y] + rng.normal(size=(4000, 5))
    model = LogisticRegression(C=0.1).fit(X[:2000], y[:2000])   # 2,000 records, 18 parameters: no memorization
    idx = np.r_[0:150, 2000:2150]
    is_member = np.arange(300) < 150
    scores = BoundaryDistanceAttack(max_queries=150).score(BlackBox(model, output="label"), X[idx], y[idx])
    assert abs(auc(scores, is_member) - 0.5) < 0.08


def test_boundary_point_finds_the_crossing_of_a_segment_within_tol_with_a_binary_search():
    model = Linear(np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 2.0]]), np.zeros(3))
    calls = []

    def label_of(P):
        calls.append(len(P))
        return query_labels(BlackBox(model, output="label"), P)

    x, x_other = np.array([2.0, 0.1]), np.array([-2.0, 0.1])    # class 0, then class 2 from x0 = 0.2, then 1
    for tol in (1e-1, 1e-3, 1e-6):
        calls.clear()
        point = boundary_point(label_of, x, 0, x_other, tol=tol)
        assert np.linalg.norm(point - [0.2, 0.1]) <= tol and label_of(point[None])[0] != 0
        assert sum(calls[:-1]) <= int(np.ceil(np.log2(4.0 / tol)))


# ---------------------------------------------------------------------------------------------------------------
# against IBM ART's LabelOnlyDecisionBoundary (the same search: HopSkipJump), when ART is installed
# ---------------------------------------------------------------------------------------------------------------

def art_distances(box, X, y, n_classes, *, max_iter=2, init_eval=20, bounds=(0.0, 1.0), seed=0):
    """ART's boundary distances (the ones LabelOnlyDecisionBoundary.infer thresholds) through the same label box:
    HopSkipJump from a BlackBoxClassifier whose predict_fn asks the box, 0 for misclassified records."""
    from art.attacks.evasion import HopSkipJump
    from art.estimators.classification import BlackBoxClassifier

    def predict(points):
        return np.eye(n_classes)[query_labels(box, points)]

    estimator = BlackBoxClassifier(predict, input_shape=(X.shape[1],), nb_classes=n_classes, clip_values=bounds)
    np.random.seed(seed)                                      # ART draws its perturbations from NumPy's global state
    attack = HopSkipJump(estimator, targeted=False, max_iter=max_iter, init_eval=init_eval, max_eval=1000,
                         batch_size=256, verbose=False)
    adversarial = attack.generate(x=X.astype(np.float32), y=np.eye(n_classes)[y])
    distances = np.linalg.norm(adversarial - X, axis=1)
    distances[query_labels(box, X) != y] = 0
    return distances


def test_our_distances_rank_records_as_art_does_and_give_a_close_auc(target):
    pytest.importorskip("art", reason="IBM ART (adversarial-robustness-toolbox, in the dev extras) is not installed: "
                                      "the comparison with its LabelOnlyDecisionBoundary is skipped")
    from scipy.stats import spearmanr
    from art.attacks.inference.membership_inference import LabelOnlyDecisionBoundary
    from art.estimators.classification import BlackBoxClassifier

    model, X, y = target
    idx = np.r_[0:40, 1000:1040]
    is_member = np.arange(80) < 40
    box = BlackBox(model, output="label")
    with one_thread():                  # about as many queries each: ours <= 150 (123 used), ART's 3 rounds (136)
        ours, _ = boundary_distance(box, X[idx], y[idx], max_queries=150, bounds=(0, 1))
        theirs = art_distances(box, X[idx], y[idx], 10, max_iter=3)
        assert spearmanr(ours, theirs)[0] > 0.8                  # 0.91-0.93 measured
        assert abs(auc(ours, is_member) - auc(theirs, is_member)) < 0.1
        # ART's attack class itself (its HopSkipJump starts from unseeded noise): its best accuracy over thresholds
        # on 20 of the members and 20 of the non-members, and ours on the same records
        members, nonmembers = np.arange(0, 20), np.arange(1000, 1020)
        estimator = BlackBoxClassifier(lambda P: np.eye(10)[query_labels(box, P)], input_shape=(600,), nb_classes=10,
                                       clip_values=(0.0, 1.0))
        art_attack = LabelOnlyDecisionBoundary(estimator)
        np.random.seed(0)
        art_attack.calibrate_distance_threshold(X[members].astype(np.float32), np.eye(10)[y[members]],
                                                X[nonmembers].astype(np.float32), np.eye(10)[y[nonmembers]],
                                                max_iter=2, init_eval=20, batch_size=256, verbose=False)
    art_accuracy = max(accuracy for _, accuracy in art_attack.threshold_bins)
    ours, in_ours = ours[np.r_[0:20, 40:60]], np.arange(40) < 20                # the same 20 + 20 records
    ours_accuracy = threshold_metrics(ours, in_ours, choose_threshold(ours, in_ours))["accuracy"]
    assert art_attack.distance_threshold_tau > 0 and abs(ours_accuracy - art_accuracy) < 0.15
