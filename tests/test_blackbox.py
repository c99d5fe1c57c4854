import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from mialab.blackbox import BlackBox, QueryBudgetExceeded
from mialab.models import MLP, predict_proba


@pytest.fixture(scope="module")
def records():
    return np.random.default_rng(0).random((12, 6)).astype(np.float32)


@pytest.fixture(scope="module")
def model():
    return MLP(6, 5, hidden=(8,), random_state=0)


def test_probabilities_are_the_models_predict_proba(model, records):
    answers = BlackBox(model).query(records)
    np.testing.assert_array_equal(answers, predict_proba(model, records))


def test_top_k_keeps_each_rows_k_largest_probabilities_and_zeroes_the_rest_without_renormalising(model, records):
    probs = predict_proba(model, records)
    answers = BlackBox(model, output="top_k", k=2).query(records)
    assert answers.shape == probs.shape
    assert np.all((answers > 0).sum(axis=1) == 2)
    np.testing.assert_array_equal(np.sort(answers, axis=1)[:, -2:], np.sort(probs, axis=1)[:, -2:])
    assert np.all(answers.sum(axis=1) < 1)


def test_rounded_rounds_probabilities_to_the_given_decimals(model, records):
    answers = BlackBox(model, output="rounded", decimals=1).query(records)
    np.testing.assert_array_equal(answers, np.round(predict_proba(model, records), 1))


def test_label_answers_the_predicted_class_as_int64(model, records):
    answers = BlackBox(model, output="label").query(records)
    assert answers.dtype == np.int64 and answers.shape == (12,)
    np.testing.assert_array_equal(answers, predict_proba(model, records).argmax(axis=1))


def test_n_queries_counts_records_answered_until_reset(model, records):
    target = BlackBox(model, output="label")
    target.query(records)
    target.query(records[:5])
    assert target.n_queries == 17
    assert "n_queries=17" in repr(target) and "'label'" in repr(target)
    target.reset_queries()
    assert target.n_queries == 0


def test_a_rejected_query_is_not_counted(model, records):
    target = BlackBox(model)
    with pytest.raises(ValueError):
        target.query(records[:, :3])
    assert target.n_queries == 0


def test_scikit_learn_models_work_through_predict_proba(records):
    y = np.arange(12) % 3
    clf = LogisticRegression().fit(records, y)
    target = BlackBox(clf, output="top_k", k=3)
    assert target.n_classes == 3
    np.testing.assert_allclose(target.query(records), clf.predict_proba(records))
    np.testing.assert_array_equal(BlackBox(clf, output="label").query(records), clf.predict(records))


def test_a_class_a_scikit_learn_model_never_saw_answers_zero_in_its_own_column(records):
    y = np.array([0, 2, 5] * 4)                       # classes 1, 3, 4 never seen: predict_proba has 3 columns
    clf = LogisticRegression().fit(records, y)
    answers = BlackBox(clf).query(records)
    assert answers.shape == (12, 6) and BlackBox(clf).n_classes == 6
    np.testing.assert_allclose(answers[:, [0, 2, 5]], clf.predict_proba(records))
    assert (answers[:, [1, 3, 4]] == 0).all()
    np.testing.assert_array_equal(answers.argmax(axis=1), clf.predict(records))   # column c is class c
    np.testing.assert_array_equal(BlackBox(clf, output="label").query(records), clf.predict(records))


def test_n_classes_widens_the_answers_to_classes_above_the_models_largest(records):
    clf = LogisticRegression().fit(records, np.arange(12) % 3)
    target = BlackBox(clf, n_classes=10, output="top_k", k=2)
    answers = target.query(records)
    assert target.n_classes == 10 and answers.shape == (12, 10) and (answers[:, 3:] == 0).all()
    with pytest.raises(ValueError, match="`n_classes` = 2 but the model answers 3 classes"):
        BlackBox(clf, n_classes=2)
    with pytest.raises(ValueError, match="class indices"):
        BlackBox(LogisticRegression().fit(records, np.array(["a", "b"] * 6)), n_classes=3)


def test_n_classes_and_output_are_public_but_the_model_is_not(model):
    target = BlackBox(model, output="rounded")
    assert target.n_classes == 5 and target.output == "rounded"
    public = {name: getattr(target, name) for name in dir(target) if not name.startswith("_")}
    assert not any(value is model for value in public.values())


def test_default_k_does_not_matter_outside_top_k():
    assert BlackBox(MLP(6, 2), output="probabilities").n_classes == 2


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(output="logits"), ValueError, "output"),
    (dict(output="top_k", k=0), ValueError, "k"),
    (dict(output="top_k", k=6), ValueError, "k <= 5"),
    (dict(output="top_k", k=2.5), ValueError, "k"),
    (dict(output="rounded", decimals=-1), ValueError, "decimals"),
])
def test_bad_settings_are_rejected(model, kwargs, error, match):
    with pytest.raises(error, match=match):
        BlackBox(model, **kwargs)


def test_objects_without_predict_proba_are_rejected():
    with pytest.raises(TypeError, match="predict_proba"):
        BlackBox(object())


@pytest.mark.parametrize("bad, match", [
    (lambda X: X[0], "one row per record"),
    (lambda X: X[:, :4], "6 features"),
    (lambda X: np.where(X > 0.5, np.nan, X), "NaN"),
    (lambda X: X[:0], "empty"),
])
def test_bad_queries_are_rejected(model, records, bad, match):
    with pytest.raises(ValueError, match=match):
        BlackBox(model).query(bad(records))


def test_a_budget_refuses_the_query_that_would_pass_it_and_answers_nothing(model, records):
    box = BlackBox(model, budget=len(records) + 2)
    assert box.queries_left == len(records) + 2 and BlackBox(model).queries_left is None
    box.query(records)
    with pytest.raises(QueryBudgetExceeded, match=f"asks {len(records)} records but only 2 of the budget of "
                                                  f"{len(records) + 2}"):
        box.query(records)
    assert box.n_queries == len(records)                           # the refused query was not counted
    assert box.query(records[:2]).shape == (2, 5) and box.queries_left == 0
    assert "budget=" in repr(box) and "budget" not in repr(BlackBox(model))
    with pytest.raises(ValueError, match="budget"):
        BlackBox(model, budget=0)


def test_one_budget_exception_for_the_capstone_the_extraction_attack_and_the_box():
    from mialab import capstone
    from mialab.attacks import extraction
    assert capstone.QueryBudgetExceeded is extraction.QueryBudgetExceeded is QueryBudgetExceeded
    box = BlackBox(MLP(6, 5, hidden=(8,), random_state=0), budget=3)
    with pytest.raises(extraction.QueryBudgetExceeded):             # the box's budget, caught by extraction's name
        extraction.retrain_copy(box, np.zeros((4, 6), np.float32), budget=10, n_classes=5, steps=1)
    with pytest.raises(capstone.QueryBudgetExceeded):               # the attacker's budget, by the capstone's name
        extraction.query_within_budget(BlackBox(MLP(6, 5, hidden=(8,), random_state=0)), np.zeros((4, 6)), 3)
