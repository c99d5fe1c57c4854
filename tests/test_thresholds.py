import numpy as np
import pytest

from mialab.attacks.thresholds import fit_class_thresholds
from mialab.metrics import choose_threshold


def best_threshold(values, is_member, criterion="balanced_accuracy"):
    """The per-class threshold rule of the metric attack: the one chooser, with a finite midpoint."""
    return choose_threshold(values, is_member, criterion, midpoint=True)


def brute_force(values, is_member, criterion):
    """Try every candidate threshold (each value and one above all) and keep the lowest best one."""
    best, best_t = -np.inf, None
    for t in np.r_[np.unique(values), values.max() + 1]:
        called = values >= t
        tpr, fpr = called[is_member].mean(), called[~is_member].mean()
        gain = tpr - fpr if criterion == "balanced_accuracy" else (called == is_member).sum()
        if gain > best + 1e-12:
            best, best_t = gain, t
    return best, best_t


def gain_of(values, is_member, t, criterion):
    called = values >= t
    if criterion == "balanced_accuracy":
        return called[is_member].mean() - called[~is_member].mean()
    return (called == is_member).sum()


@pytest.mark.parametrize("criterion", ["balanced_accuracy", "accuracy"])
@pytest.mark.parametrize("seed", range(5))
def test_best_threshold_is_as_good_as_brute_force(criterion, seed):
    rng = np.random.default_rng(seed)
    is_member = rng.random(60) < rng.uniform(0.2, 0.8)
    is_member[:2] = [True, False]
    values = np.round(rng.normal(size=60) + rng.uniform(0, 2) * is_member, 1)  # with ties
    t = best_threshold(values, is_member, criterion)
    best, _ = brute_force(values, is_member, criterion)
    assert gain_of(values, is_member, t, criterion) == pytest.approx(best)


def test_best_threshold_separates_separable_values_at_the_midpoint():
    values = np.array([0.1, 0.2, 0.3, 0.8, 0.9])
    is_member = np.array([False, False, False, True, True])
    assert best_threshold(values, is_member) == pytest.approx(0.55)


def test_best_threshold_is_finite_when_calling_nobody_or_everybody_is_best():
    # members below non-members: calling nobody is right 3 times out of 4
    t = best_threshold(np.array([0.1, 0.8, 0.9, 1.0]), np.array([True, False, False, False]), "accuracy")
    assert np.isfinite(t) and t > 1.0
    # non-members below members but outnumbered: calling everybody is best
    t = best_threshold(np.array([1.0, 2.0, 3.0, 4.0]), np.array([False, True, True, True]), "accuracy")
    assert t == pytest.approx(1.5)
    t = best_threshold(np.array([2.0, 1.0, 3.0]), np.array([True, True, False]), "accuracy")
    assert np.isfinite(t) and t <= 1.0


def test_balanced_accuracy_ignores_class_imbalance_where_accuracy_does_not():
    # 1 member at 1.0; 9 non-members at 0.0..0.8 and 2 above it: accuracy prefers calling nobody
    values = np.r_[1.0, np.linspace(0, 0.8, 9), 1.5, 1.6]
    is_member = np.r_[True, np.zeros(11, bool)]
    assert best_threshold(values, is_member, "accuracy") > 1.6
    assert best_threshold(values, is_member, "balanced_accuracy") == pytest.approx(0.9)


def test_class_thresholds_follow_each_classes_own_scale():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 200)
    is_member = np.tile(np.r_[np.ones(100, bool), np.zeros(100, bool)], 3)
    shift = np.array([0.0, 5.0, -5.0])[y]  # each class on its own scale; members 2 above non-members
    values = shift + 2.0 * is_member + rng.normal(scale=0.3, size=len(y))
    thresholds = fit_class_thresholds(values, y, is_member, 3)
    assert thresholds.shape == (3,)
    np.testing.assert_allclose(thresholds, [1.0, 6.0, -4.0], atol=0.4)
    per_class = (values >= thresholds[y]) == is_member
    one = (values >= best_threshold(values, is_member)) == is_member
    assert per_class.mean() > 0.99 > 0.9 > one.mean()


def test_class_dependent_thresholds_match_a_global_one_when_classes_share_a_scale():
    rng = np.random.default_rng(1)
    y = rng.integers(4, size=2000)
    is_member = rng.random(2000) < 0.5
    values = is_member + rng.normal(size=2000)
    thresholds = fit_class_thresholds(values, y, is_member, 4)
    per_class = ((values >= thresholds[y]) == is_member).mean()
    one = ((values >= best_threshold(values, is_member)) == is_member).mean()
    assert per_class >= one - 0.01


def test_a_class_missing_or_one_sided_gets_the_global_threshold():
    values = np.array([0.0, 1.0, 0.2, 1.2, 5.0, 6.0])
    y = np.array([0, 0, 1, 1, 2, 2])
    is_member = np.array([False, True, False, True, True, True])   # class 2: members only; class 3 absent
    thresholds = fit_class_thresholds(values, y, is_member, 4)
    global_t = best_threshold(values, is_member)
    assert thresholds[2] == thresholds[3] == global_t
    assert thresholds[0] == pytest.approx(0.5) and thresholds[1] == pytest.approx(0.7)


def test_bad_inputs_raise_clear_errors():
    values, y, m = np.array([0.1, 0.9]), np.array([0, 1]), np.array([False, True])
    with pytest.raises(ValueError, match="is_member"):
        fit_class_thresholds(values, y, np.array([True, True]), 2)
    with pytest.raises(ValueError, match="y"):
        fit_class_thresholds(values, np.array([0, 5]), m, 2)
    with pytest.raises(ValueError, match="y"):
        fit_class_thresholds(values, np.array([0]), m, 2)
    with pytest.raises(ValueError, match="NaN"):
        fit_class_thresholds(np.array([np.nan, 0.2]), y, m, 2)
    with pytest.raises(ValueError, match="values"):
        fit_class_thresholds(np.ones((2, 2)), y, m, 2)
    with pytest.raises(ValueError, match="n_classes"):
        fit_class_thresholds(values, y, m, 0)
    with pytest.raises(ValueError, match="criterion"):
        fit_class_thresholds(values, y, m, 2, criterion="f1")
    with pytest.raises(ValueError, match="empty"):
        best_threshold(np.array([]), np.array([], bool))
