"""Model families (Truex et al.): any scikit-learn classifier behind a BlackBox is attacked as an MLP is, and the
family x family transfer table of mialab.attacks.families."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import BernoulliNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.tree import DecisionTreeClassifier

from mialab import data, metrics
from mialab.attacks import families, mlleaks
from mialab.attacks.loss import LossAttack
from mialab.attacks.mlleaks import MLLeaksAttack, ThresholdAttack
from mialab.attacks.shadow import ShadowAttack, train_shadows
from mialab.blackbox import BlackBox

pytestmark = pytest.mark.usefixtures("one_thread_module")

N = 300   # each target's training records (purchase-100: some of the 100 classes are missing from them)
SIX = {
    "logistic regression": lambda: LogisticRegression(C=0.05, tol=1e-3),
    "decision tree": lambda: DecisionTreeClassifier(),
    "random forest": lambda: RandomForestClassifier(n_estimators=10, n_jobs=1),
    "k-nearest neighbours": lambda: KNeighborsClassifier(n_neighbors=5, weights="distance", algorithm="brute"),
    "naive Bayes": lambda: BernoulliNB(),
    "MLP": lambda: MLPClassifier(hidden_layer_sizes=(16,), max_iter=30),
}
THREE = {"decision tree": DecisionTreeClassifier(), "naive Bayes": BernoulliNB(),
         "logistic regression": lambda: LogisticRegression(C=0.05, tol=1e-3)}
# family_transfer(THREE, ...) below, measured once (rows: the shadows' family, columns: the target's)
PINNED = [[0.9467, 0.6713, 0.8519],
          [0.9467, 0.6658, 0.3689],
          [0.9467, 0.6344, 0.7997]]
TOLERANCE = 0.03


@pytest.fixture(scope="module")
def game():
    X, y = data.load_purchase(n_classes=100)
    split = data.target_shadow_split(len(X), n_target=N, random_state=1)
    return dict(members=(X[split.target_in], y[split.target_in]), nonmembers=(X[split.target_out], y[split.target_out]),
                pool=(X[split.shadow[:4 * N]], y[split.shadow[:4 * N]]),
                X=np.concatenate([X[split.target_in], X[split.target_out]]),
                y=np.concatenate([y[split.target_in], y[split.target_out]]), is_member=np.arange(2 * N) < N)


@pytest.fixture(scope="module")
def transfer(game):
    return families.family_transfer(THREE, game["members"], game["nonmembers"], game["pool"], n_shadows=2,
                                    random_state=0)


@pytest.fixture(scope="module")
def attacks(game):
    """The package's attacks fitted once on scikit-learn shadows (logistic regression)."""
    X_pool, y_pool = game["pool"]
    shadows = train_shadows(X_pool, y_pool, 2, train_size=N, n_classes=100, estimator=THREE["logistic regression"],
                            random_state=0)
    return {"shadow": ShadowAttack(2, N, per_class=False, sort=True, n_classes=100).fit(X_pool, y_pool,
                                                                                        shadows=shadows),
            "ml-leaks": MLLeaksAttack(2, N).fit(X_pool, y_pool, shadows=shadows),
            "ml-leaks, true label": MLLeaksAttack(2, N, true_label=True).fit(X_pool, y_pool, shadows=shadows),
            "loss": LossAttack(), "threshold": ThresholdAttack()}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")   # the MLP's capped max_iter
@pytest.mark.parametrize("family", list(SIX))
def test_any_scikit_learn_classifier_behind_a_black_box_is_attacked_like_an_mlp(family, game, attacks):
    model = SIX[family]().fit(*game["members"])
    assert len(model.classes_) < 100                       # some classes never seen: the box still answers 100
    target = BlackBox(model, n_classes=100)
    for name, attack in attacks.items():
        scores = attack.score(target, game["X"], game["y"])
        assert scores.shape == (2 * N,) and np.isfinite(scores).all(), name
    assert target.n_queries == len(attacks) * 2 * N


def test_the_attacks_score_a_scikit_learn_target_above_chance(game, attacks):
    target = BlackBox(THREE["logistic regression"]().fit(*game["members"]), n_classes=100)
    for name in ("shadow", "ml-leaks", "ml-leaks, true label", "loss"):
        assert metrics.auc(attacks[name].score(target, game["X"], game["y"]), game["is_member"]) > 0.7, name


def test_the_true_class_posterior_is_what_exposes_a_fully_grown_tree(game, attacks):
    """A fully grown tree answers one-hot vectors: the sorted top 3 are (1, 0, 0) for every record."""
    target = BlackBox(DecisionTreeClassifier(random_state=0).fit(*game["members"]), n_classes=100)
    blind = metrics.auc(attacks["ml-leaks"].score(target, game["X"]), game["is_member"])
    seeing = metrics.auc(attacks["ml-leaks, true label"].score(target, game["X"], game["y"]), game["is_member"])
    assert abs(blind - 0.5) < 0.02 and seeing > 0.9


def test_true_label_needs_the_candidates_labels(game, attacks):
    target = BlackBox(DecisionTreeClassifier(random_state=0).fit(*game["members"]), n_classes=100)
    with pytest.raises(ValueError, match="true_label=True: pass the candidates' labels"):
        attacks["ml-leaks, true label"].score(target, game["X"])


def test_the_table_has_a_row_per_shadow_family_and_a_column_per_target_family(transfer):
    names = list(THREE)
    for frame in (transfer.auc, transfer.low, transfer.high, transfer.table()):
        assert list(frame.index) == names and list(frame.columns) == names
    assert ((transfer.low.values <= transfer.auc.values) & (transfer.auc.values <= transfer.high.values)).all()
    assert transfer.table().loc["naive Bayes", "logistic regression"] == metrics.format_interval(
        transfer.auc.loc["naive Bayes", "logistic regression"], transfer.low.loc["naive Bayes", "logistic regression"],
        transfer.high.loc["naive Bayes", "logistic regression"])
    assert list(transfer.accuracy.columns) == ["train", "test"] and list(transfer.accuracy.index) == names
    assert set(transfer.scores) == {(a, b) for a in names for b in names}


def test_the_table_is_the_auc_of_each_pairs_scores(transfer):
    pd.testing.assert_frame_equal(families.auc_table(transfer.scores, transfer.is_member), transfer.auc)
    scores = transfer.scores[("decision tree", "naive Bayes")]
    assert transfer.auc.loc["decision tree", "naive Bayes"] == metrics.auc(scores, transfer.is_member)
    assert (transfer.low.loc["decision tree", "naive Bayes"], transfer.high.loc["decision tree", "naive Bayes"]) == \
        metrics.auc_ci(scores, transfer.is_member, random_state=0)


def test_a_fully_grown_tree_leaks_clearly_and_naive_bayes_much_less(transfer):
    own = transfer.mirrored()
    assert transfer.low.loc["decision tree", "decision tree"] > 0.85
    assert own["naive Bayes"] < own["decision tree"] - 0.15
    assert transfer.accuracy.loc["decision tree", "train"] == 1.0
    gap = transfer.accuracy["train"] - transfer.accuracy["test"]
    assert gap["naive Bayes"] < gap["decision tree"] - 0.3
    summary = transfer.summary()
    assert summary.loc["decision tree", "AUC, own-family shadows"].startswith(f"{own['decision tree']:.2f} [")


def test_the_table_is_the_same_for_the_same_random_state(game, transfer):
    again = families.family_transfer(THREE, game["members"], game["nonmembers"], game["pool"], n_shadows=2,
                                     random_state=0)
    pd.testing.assert_frame_equal(again.auc, transfer.auc)
    pd.testing.assert_frame_equal(again.low, transfer.low)
    pd.testing.assert_frame_equal(again.accuracy, transfer.accuracy)


def test_the_transfer_rows_match_the_measured_table(transfer):
    np.testing.assert_allclose(transfer.auc.values, PINNED, atol=TOLERANCE)


def test_an_attack_trained_on_shuffled_membership_labels_misses_the_measured_table(game, monkeypatch):
    """The tolerance of the test above is tight enough to catch a broken attack."""
    real = mlleaks.shadow_attack_dataset

    def shuffled(*args, **kwargs):
        probs, labels, is_member = real(*args, **kwargs)
        return probs, labels, np.random.default_rng(0).permutation(is_member)

    monkeypatch.setattr(mlleaks, "shadow_attack_dataset", shuffled)
    broken = families.family_transfer(THREE, game["members"], game["nonmembers"], game["pool"], n_shadows=2,
                                      random_state=0)
    off = np.abs(broken.auc.values - np.array(PINNED))
    assert (off > TOLERANCE).any(axis=1).all(), off      # every shadow family's row misses somewhere
    assert off.max() > 5 * TOLERANCE


def test_the_families_may_be_estimators_or_functions_returning_them(game, transfer):
    as_functions = {name: (lambda e=e: e) if hasattr(e, "fit") else e for name, e in THREE.items()}
    again = families.family_transfer(as_functions, game["members"], game["nonmembers"], game["pool"], n_shadows=2,
                                     random_state=0)
    pd.testing.assert_frame_equal(again.auc, transfer.auc)


def test_auc_table_keeps_first_seen_order_and_leaves_missing_pairs_empty():
    is_member = np.array([True, True, False, False])
    table = families.auc_table({("b", "x"): np.array([4.0, 3, 2, 1]), ("a", "x"): np.array([1.0, 2, 3, 4]),
                                ("b", "y"): np.array([4.0, 2, 3, 1])}, is_member)
    assert list(table.index) == ["b", "a"] and list(table.columns) == ["x", "y"]
    assert table.loc["b", "x"] == 1.0 and table.loc["a", "x"] == 0.0 and table.loc["b", "y"] == 0.75
    assert np.isnan(table.loc["a", "y"])


# --- exercise 3.4 (notebook 03): the check and the hidden test, called directly ------------------------------

SOLUTION = '''
def transfer_table(pair_scores, is_member, shadows, targets):
    table = np.zeros((len(shadows), len(targets)))
    for i, shadow in enumerate(shadows):
        for j, target in enumerate(targets):
            scores = pair_scores[(shadow, target)]
            above = scores[is_member][:, None] - scores[~is_member][None, :]
            table[i, j] = np.mean((above > 0) + 0.5 * (above == 0))
    return table
'''
TRANSPOSED = '''
def transfer_table(pair_scores, is_member, shadows, targets):
    return np.array([[metrics.auc(pair_scores[(s, t)], is_member) for s in shadows] for t in targets])
'''
TIES_AS_WINS = '''
def transfer_table(pair_scores, is_member, shadows, targets):
    return np.array([[np.mean(pair_scores[(s, t)][is_member][:, None] >= pair_scores[(s, t)][~is_member][None, :])
                      for t in targets] for s in shadows])
'''


def _function(source):
    namespace = {"np": np, "metrics": metrics}
    exec(source, namespace)
    return namespace["transfer_table"]


def test_exercise_3_4_check_passes_the_solution_on_the_transfer_table_and_fails_wrong_answers(transfer, capsys):
    from mialab.checks import CheckError, nb03
    names = list(THREE)
    nb03.check_transfer_table(_function(SOLUTION), transfer.scores, transfer.is_member, names, names)
    assert "✅ Exercise 3.4" in capsys.readouterr().out
    for wrong, hint in ((TRANSPOSED, "Row i belongs to shadows[i]"), (TIES_AS_WINS, "Ties count 1/2")):
        with pytest.raises(CheckError):
            nb03.check_transfer_table(_function(wrong), transfer.scores, transfer.is_member, names, names)
        assert hint in capsys.readouterr().out


def test_exercise_3_4_solution_matches_the_package_table(transfer):
    names = list(THREE)
    np.testing.assert_allclose(_function(SOLUTION)(transfer.scores, transfer.is_member, names, names),
                               transfer.auc.loc[names, names].to_numpy(), atol=1e-12)


def test_exercise_3_4_hidden_test_grades_the_solution_and_rejects_wrong_answers_and_the_reference():
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _course import hidden_test
    from mialab.checks.grading import HiddenTestFailed

    assert hidden_test("nb03", "transfer_table", _function(SOLUTION)) is None
    for wrong in (TRANSPOSED, TIES_AS_WINS):
        with pytest.raises(HiddenTestFailed, match="wrong answer"):
            hidden_test("nb03", "transfer_table", _function(wrong))

    def calls_the_reference(pair_scores, is_member, shadows, targets):
        return families.auc_table(pair_scores, is_member).loc[shadows, targets].to_numpy()
    with pytest.raises(HiddenTestFailed, match="calls mialab's own implementation"):
        hidden_test("nb03", "transfer_table", calls_the_reference)
