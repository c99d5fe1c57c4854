import warnings

import numpy as np
import pytest
import sklearn.metrics

from mialab import metrics
from mialab.metrics import AttackResult, FewNonMembersWarning, evaluate, format_interval, results_table, tpr_key


def simulated(n_members=300, n_nonmembers=300, shift=1.0, decimals=None, seed=0):
    rng = np.random.default_rng(seed)
    is_member = np.r_[np.ones(n_members, bool), np.zeros(n_nonmembers, bool)]
    scores = rng.normal(size=len(is_member)) + shift * is_member
    return (np.round(scores, decimals) if decimals is not None else scores), is_member


def mann_whitney_auc(scores, is_member):
    pos, neg = scores[is_member][:, None], scores[~is_member][None, :]
    return ((pos > neg).sum() + 0.5 * (pos == neg).sum()) / (pos.size * neg.size)


def brute_force_rates(scores, is_member):
    thresholds = np.r_[np.inf, np.unique(scores)]
    tpr = np.array([(scores[is_member] >= t).mean() for t in thresholds])
    fpr = np.array([(scores[~is_member] >= t).mean() for t in thresholds])
    return tpr, fpr


# --- agreement with sklearn and with independent formulas -------------------------------------------------

@pytest.mark.parametrize("decimals", [None, 1])
def test_auc_matches_mann_whitney_and_sklearn(decimals):
    scores, is_member = simulated(decimals=decimals)
    assert metrics.auc(scores, is_member) == pytest.approx(mann_whitney_auc(scores, is_member), abs=1e-12)
    assert metrics.auc(scores, is_member) == pytest.approx(sklearn.metrics.roc_auc_score(is_member, scores))


def test_roc_curve_has_a_point_per_distinct_score_and_matches_sklearn():
    scores, is_member = simulated(decimals=1)
    fpr, tpr, thresholds = metrics.roc_curve(scores, is_member)
    assert len(thresholds) == len(np.unique(scores)) + 1 and np.isinf(thresholds[0])
    ref = sklearn.metrics.roc_curve(is_member, scores, drop_intermediate=False)
    for got, want in zip((fpr, tpr, thresholds), ref):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("decimals", [None, 1])
def test_advantage_matches_brute_force_over_thresholds(decimals):
    scores, is_member = simulated(decimals=decimals)
    tpr, fpr = brute_force_rates(scores, is_member)
    assert metrics.advantage(scores, is_member) == pytest.approx(np.max(tpr - fpr))


@pytest.mark.parametrize("fpr", [0.01, 0.05, 0.1, 0.3])
@pytest.mark.parametrize("decimals", [None, 1])
def test_tpr_at_fpr_matches_brute_force(fpr, decimals):
    scores, is_member = simulated(decimals=decimals)
    tpr_all, fpr_all = brute_force_rates(scores, is_member)
    assert metrics.tpr_at_fpr(scores, is_member, fpr) == pytest.approx(tpr_all[fpr_all <= fpr].max())


def test_tpr_at_fpr_small_case_counts_false_positives_exactly():
    scores = np.r_[[9.5, 8.5, 3.0, 2.5, 20.0], np.arange(10.0)]
    is_member = np.r_[np.ones(5, bool), np.zeros(10, bool)]
    assert metrics.tpr_at_fpr(scores, is_member, 0.1) == pytest.approx(0.6)
    with pytest.warns(FewNonMembersWarning, match="zero false positives"):
        assert metrics.tpr_at_fpr(scores, is_member, 0.05) == pytest.approx(0.4)


def test_tpr_at_fpr_warns_only_when_too_few_nonmembers():
    scores, is_member = simulated(n_nonmembers=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metrics.tpr_at_fpr(scores, is_member, 0.001)
    with pytest.warns(FewNonMembersWarning, match="at least 10000 non-members"):
        metrics.tpr_at_fpr(scores, is_member, 0.0001)


# --- orientation and ties ---------------------------------------------------------------------------------

def test_perfect_attack_scores_one_and_reversed_attack_scores_zero():
    scores, is_member = np.array([0.9, 0.8, 0.3, 0.1]), np.array([True, True, False, False])
    assert metrics.auc(scores, is_member) == 1.0 and metrics.advantage(scores, is_member) == 1.0
    assert metrics.tpr_at_fpr(scores, is_member, 0.5) == 1.0
    assert metrics.auc(-scores, is_member) == 0.0 and metrics.advantage(-scores, is_member) == 0.0
    assert metrics.tpr_at_fpr(-scores, is_member, 0.5) == 0.0


def test_random_scores_give_auc_near_one_half_and_small_advantage():
    scores, is_member = simulated(2000, 2000, shift=0.0)
    assert metrics.auc(scores, is_member) == pytest.approx(0.5, abs=0.03)
    assert metrics.advantage(scores, is_member) < 0.06


def test_all_tied_scores_give_auc_one_half_and_zero_advantage():
    scores, is_member = np.full(6, 0.7), np.array([True, False] * 3)
    assert metrics.auc(scores, is_member) == 0.5
    assert metrics.advantage(scores, is_member) == 0.0
    assert metrics.tpr_at_fpr(scores, is_member, 0.5) == 0.0


def test_tied_scores_are_called_together():
    scores, is_member = np.array([0.5, 0.5, 0.5, 0.1]), np.array([True, False, True, False])
    assert metrics.advantage(scores, is_member) == pytest.approx(0.5)


def test_accepts_lists_and_zero_one_masks():
    assert metrics.auc([3.0, 2.0, 1.0], [1, 0, 0]) == 1.0


# --- thresholds -------------------------------------------------------------------------------------------

def test_threshold_metrics_counts_score_at_threshold_as_member():
    scores, is_member = np.array([0.9, 0.6, 0.6, 0.2]), np.array([True, True, False, False])
    got = metrics.threshold_metrics(scores, is_member, 0.6)
    assert got == pytest.approx({"accuracy": 0.75, "precision": 2 / 3, "recall": 1.0, "tpr": 1.0, "fpr": 0.5})


def test_threshold_metrics_above_every_score_has_zero_precision_and_rates():
    scores, is_member = simulated()
    got = metrics.threshold_metrics(scores, is_member, np.inf)
    assert got["tpr"] == got["fpr"] == got["precision"] == 0.0 and got["accuracy"] == pytest.approx(0.5)


@pytest.mark.parametrize("criterion", ["accuracy", "advantage"])
def test_choose_threshold_reaches_the_best_value_on_its_own_data(criterion):
    scores, is_member = simulated(200, 400, decimals=1)
    threshold = metrics.choose_threshold(scores, is_member, criterion)
    got = metrics.threshold_metrics(scores, is_member, threshold)
    candidates = [metrics.threshold_metrics(scores, is_member, t) for t in np.r_[np.inf, np.unique(scores)]]
    if criterion == "accuracy":
        assert got["accuracy"] == pytest.approx(max(c["accuracy"] for c in candidates))
    else:
        assert got["tpr"] - got["fpr"] == pytest.approx(metrics.advantage(scores, is_member))


def test_choose_threshold_returns_inf_when_calling_nobody_is_best():
    assert metrics.choose_threshold([0.1, 0.3, 0.8, 0.9], [1, 1, 0, 0], "advantage") == np.inf


# --- bootstrap and evaluate -------------------------------------------------------------------------------

def test_bootstrap_ci_contains_the_estimate_and_narrows_with_more_data():
    small, large = simulated(100, 100), simulated(2000, 2000)
    lo_s, hi_s = metrics.bootstrap_ci(metrics.auc, *small, n_boot=100)
    lo_l, hi_l = metrics.bootstrap_ci(metrics.auc, *large, n_boot=100)
    assert lo_s <= metrics.auc(*small) <= hi_s and lo_l <= metrics.auc(*large) <= hi_l
    assert hi_l - lo_l < (hi_s - lo_s) / 2


def test_bootstrap_ci_is_deterministic_given_random_state():
    data = simulated(100, 100)
    a = metrics.bootstrap_ci(metrics.advantage, *data, n_boot=50, random_state=3)
    assert a == metrics.bootstrap_ci(metrics.advantage, *data, n_boot=50, random_state=3)
    assert a != metrics.bootstrap_ci(metrics.advantage, *data, n_boot=50, random_state=4)


def test_bootstrap_ci_resamples_members_and_nonmembers_separately():
    seen = []
    scores, is_member = simulated(30, 70)
    metrics.bootstrap_ci(lambda s, m: seen.append(m.sum()) or 0.0, scores, is_member, n_boot=20)
    assert seen == [30] * 20


def test_evaluate_agrees_with_the_single_metrics():
    scores, is_member = simulated(1000, 1000, decimals=2)
    result = metrics.evaluate(scores, is_member)
    assert isinstance(result, AttackResult)
    assert result.auc == pytest.approx(metrics.auc(scores, is_member))
    assert result.advantage == pytest.approx(metrics.advantage(scores, is_member))
    for fpr in (0.001, 0.01):
        assert result.tpr_at[fpr] == pytest.approx(metrics.tpr_at_fpr(scores, is_member, fpr))
    np.testing.assert_array_equal(result.fpr, metrics.roc_curve(scores, is_member)[0])
    assert (result.n_members, result.n_nonmembers) == (1000, 1000) and result.ci == {}


@pytest.mark.parametrize("decimals", [None, 1, 0])
def test_auc_ci_is_the_percentile_interval_of_the_auc_over_stratified_resamples(decimals):
    """Brute force: the same draws (members' positions, then the sorted non-members'), one AUC per resample."""
    rng = np.random.default_rng(3)
    is_member = rng.random(300) < 0.4
    scores = rng.normal(size=300) + is_member
    scores = scores if decimals is None else np.round(scores, decimals)      # ties
    draws = np.random.default_rng(7)
    members, nonmembers = scores[is_member], np.sort(scores[~is_member], kind="stable")
    picks = (draws.integers(0, len(members), (50, len(members))),
             draws.integers(0, len(nonmembers), (50, len(nonmembers))))
    labels = np.r_[np.ones(len(members)), np.zeros(len(nonmembers))]
    values = [sklearn.metrics.roc_auc_score(labels, np.r_[members[picks[0][b]], nonmembers[picks[1][b]]])
              for b in range(50)]
    expected = np.quantile(values, [0.025, 0.975])
    np.testing.assert_allclose(metrics.auc_ci(scores, is_member, n_boot=50, random_state=7), expected, atol=1e-12)


def test_auc_ci_agrees_with_bootstrap_ci_of_the_auc():
    rng = np.random.default_rng(0)
    is_member = rng.random(2000) < 0.5
    scores = rng.normal(size=2000) + is_member
    fast = metrics.auc_ci(scores, is_member, n_boot=400, random_state=1)
    slow = metrics.bootstrap_ci(metrics.auc, scores, is_member, n_boot=400, random_state=1)
    assert fast[0] < metrics.auc(scores, is_member) < fast[1]
    np.testing.assert_allclose(fast, slow, atol=0.01)                 # other resamples, the same interval


def test_evaluate_with_bootstrap_gives_intervals_around_each_number():
    scores, is_member = simulated(500, 500)
    result = metrics.evaluate(scores, is_member, fprs=(0.01,), n_boot=50, random_state=1)
    assert set(result.ci) == {"auc", "advantage", "tpr@1%fpr"}
    for name, value in (("auc", result.auc), ("advantage", result.advantage), ("tpr@1%fpr", result.tpr_at[0.01])):
        assert result.ci[name][0] <= value <= result.ci[name][1]
    assert result.ci["auc"] == pytest.approx(metrics.bootstrap_ci(metrics.auc, scores, is_member, 50, random_state=1))
    assert result.ci == metrics.evaluate(scores, is_member, fprs=(0.01,), n_boot=50, random_state=1).ci


def test_attack_result_prints_readably_and_summarises_rounded():
    result = metrics.evaluate(*simulated(1000, 1000))
    text = str(result)
    assert text.startswith("AUC 0.") and "· advantage 0." in text and "TPR@0.1%FPR" in text and "TPR@1%FPR" in text
    assert text.endswith("(n=1000 members, 1000 non-members)")
    assert "AttackResult" in repr(result) and "array" not in repr(result)
    summary = result.summary(decimals=2)
    assert list(summary) == ["auc", "advantage", "tpr@0.1%fpr", "tpr@1%fpr", "n_members", "n_nonmembers"]
    assert summary["auc"] == round(result.auc, 2)
    with_ci = metrics.evaluate(*simulated(200, 200), fprs=(0.01,), n_boot=20).summary(3)
    assert len(with_ci["auc_ci"]) == 2 and with_ci["auc_ci"][0] == round(with_ci["auc_ci"][0], 3)


def test_evaluate_warns_when_an_fpr_is_below_one_over_the_nonmembers():
    with pytest.warns(FewNonMembersWarning, match="FPR 0.001"):
        metrics.evaluate(*simulated(200, 200))


# --- exposure ---------------------------------------------------------------------------------------------

def test_exposure_is_log2_candidates_minus_log2_rank():
    assert metrics.exposure(1, 2**20) == pytest.approx(20.0)
    assert metrics.exposure(2**20, 2**20) == 0.0
    np.testing.assert_allclose(metrics.exposure([1, 4, 1000], 1000), np.log2(1000) - np.log2([1, 4, 1000]))


@pytest.mark.parametrize("rank, n", [(0, 10), (11, 10), (1.5, 10), ([1, np.nan], 10)])
def test_exposure_rejects_ranks_outside_one_to_n(rank, n):
    with pytest.raises(ValueError, match="canary_rank"):
        metrics.exposure(rank, n)


@pytest.mark.parametrize("n", [0, 2.5, True])
def test_exposure_rejects_bad_candidate_counts(n):
    with pytest.raises(ValueError, match="n_candidates"):
        metrics.exposure(1, n)


# --- bad input --------------------------------------------------------------------------------------------

GOOD_SCORES, GOOD_MASK = np.array([0.9, 0.2, 0.5, 0.4]), np.array([True, False, True, False])
BAD_INPUTS = [
    ("scores", np.ones((4, 1)), GOOD_MASK),
    ("scores", np.array([0.9, np.nan, 0.5, 0.4]), GOOD_MASK),
    ("scores", np.array([]), np.array([], bool)),
    ("scores", None, GOOD_MASK),
    ("scores", ["a", "b", "c", "d"], GOOD_MASK),
    ("is_member", GOOD_SCORES, GOOD_MASK[:3]),
    ("is_member", GOOD_SCORES, np.ones(4, bool)),
    ("is_member", GOOD_SCORES, np.zeros(4, bool)),
    ("is_member", GOOD_SCORES, np.array([0, 1, 2, 1])),
    ("is_member", GOOD_SCORES, np.ones((4, 1), bool)),
]
FUNCTIONS = {
    "roc_curve": metrics.roc_curve, "auc": metrics.auc, "advantage": metrics.advantage,
    "tpr_at_fpr": lambda s, m: metrics.tpr_at_fpr(s, m, 0.1),
    "choose_threshold": metrics.choose_threshold,
    "threshold_metrics": lambda s, m: metrics.threshold_metrics(s, m, 0.5),
    "bootstrap_ci": lambda s, m: metrics.bootstrap_ci(metrics.auc, s, m, n_boot=2),
    "evaluate": lambda s, m: metrics.evaluate(s, m, fprs=(0.5,)),
}


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("name, scores, is_member", BAD_INPUTS)
def test_every_metric_rejects_bad_scores_and_masks(function, name, scores, is_member):
    with pytest.raises((ValueError, TypeError), match=name):
        FUNCTIONS[function](scores, is_member)


@pytest.mark.parametrize("fpr", [0.0, 1.0, -0.1, 1.5, np.nan, "0.1", None])
def test_tpr_at_fpr_rejects_fpr_outside_zero_one(fpr):
    with pytest.raises(ValueError, match="fpr"):
        metrics.tpr_at_fpr(GOOD_SCORES, GOOD_MASK, fpr)


@pytest.mark.parametrize("fprs", [(0.0,), (0.01, 1.0), None, "0.1"])
def test_evaluate_rejects_bad_fprs(fprs):
    with pytest.raises((ValueError, TypeError), match="fprs"):
        metrics.evaluate(GOOD_SCORES, GOOD_MASK, fprs=fprs)


@pytest.mark.parametrize("kwargs, name", [
    ({"n_boot": 0}, "n_boot"), ({"n_boot": 2.5}, "n_boot"), ({"level": 1.0}, "level"), ({"level": 0}, "level"),
    ({"random_state": None}, "random_state"), ({"random_state": "seed"}, "random_state"),
])
def test_bootstrap_ci_rejects_bad_settings(kwargs, name):
    with pytest.raises(ValueError, match=name):
        metrics.bootstrap_ci(metrics.auc, GOOD_SCORES, GOOD_MASK, **kwargs)


def test_bootstrap_ci_rejects_a_metric_that_is_not_a_function():
    with pytest.raises(TypeError, match="metric"):
        metrics.bootstrap_ci("auc", GOOD_SCORES, GOOD_MASK)


@pytest.mark.parametrize("kwargs, name", [({"n_boot": -1}, "n_boot"), ({"random_state": 1.5}, "random_state")])
def test_evaluate_rejects_bad_settings(kwargs, name):
    with pytest.raises(ValueError, match=name):
        metrics.evaluate(GOOD_SCORES, GOOD_MASK, fprs=(0.5,), **kwargs)


def test_choose_threshold_rejects_unknown_criterion():
    with pytest.raises(ValueError, match="criterion"):
        metrics.choose_threshold(GOOD_SCORES, GOOD_MASK, "f1")


@pytest.mark.parametrize("threshold", [np.nan, None, "0.5", True])
def test_threshold_metrics_rejects_a_threshold_that_is_not_a_number(threshold):
    with pytest.raises(ValueError, match="threshold"):
        metrics.threshold_metrics(GOOD_SCORES, GOOD_MASK, threshold)


def test_summary_rejects_negative_decimals():
    with pytest.raises(ValueError, match="decimals"):
        metrics.evaluate(GOOD_SCORES, GOOD_MASK, fprs=(0.5,)).summary(-1)


def test_clopper_pearson_rates_are_the_exact_binomial_tail_bounds():
    """The lower bound p on the TPR is where seeing >= tp members of n has probability alpha = (1 - level) / 2; the
    upper bound on the FPR, where seeing <= fp has probability alpha; the edges are 0 and 1."""
    from scipy.stats import binom
    tpr_low, fpr_high = metrics.clopper_pearson_rates(218, 2500, 25, 2500, level=0.95)
    assert binom.sf(218 - 1, 2500, tpr_low) == pytest.approx(0.025, rel=1e-6)
    assert binom.cdf(25, 2500, fpr_high) == pytest.approx(0.025, rel=1e-6)
    assert tpr_low < 218 / 2500 and fpr_high > 25 / 2500
    assert metrics.clopper_pearson_rates(0, 100, 100, 100) == (0.0, 1.0)
    with pytest.raises(ValueError, match="cannot exceed"):
        metrics.clopper_pearson_rates(5, 4, 0, 10)
    with pytest.raises(ValueError, match="level"):
        metrics.clopper_pearson_rates(1, 4, 0, 10, level=1.0)


# --- one key scheme, a formatted interval, the results table -----------------------------------------------------

def _two_results():
    rng = np.random.default_rng(0)
    is_member = np.arange(2000) < 1000
    strong = rng.normal(size=2000) + 1.0 * is_member
    weak = rng.normal(size=2000) + 0.2 * is_member
    return {"strong": evaluate(strong, is_member, fprs=(0.01,), n_boot=30),
            "weak": evaluate(weak, is_member, fprs=(0.01,))}


def test_one_key_scheme_names_values_intervals_and_the_fpr_keyed_tprs():
    result = _two_results()["strong"]
    assert result.names() == ["auc", "advantage", "tpr@1%fpr"] == list(result.ci)
    assert result[tpr_key(0.01)] == result.tpr_at[0.01] and result["auc"] == result.auc
    assert tpr_key(0.001) == "tpr@0.1%fpr"
    low, high = result.ci["auc"]
    assert result.interval("auc") == f"{result.auc:.2f} [{low:.2f}, {high:.2f}]"
    assert result.interval("tpr@1%fpr").count(".") == 3 and len(result.interval("tpr@1%fpr").split()[0]) == 5
    assert result.interval("auc") in str(result)
    with pytest.raises(KeyError, match="tpr_key"):
        result["tpr@5%fpr"]


def test_format_interval_prints_a_value_and_its_bounds_at_the_asked_digits():
    assert format_interval(0.7912, 0.78, 0.803) == "0.79 [0.78, 0.80]"
    assert format_interval(0.7912, digits=3) == "0.791"
    assert format_interval(120.4, 80.0, float("inf"), digits=0) == "120 [80, inf]"
    with pytest.raises(ValueError, match="both"):
        format_interval(0.5, 0.4)
    with pytest.raises(TypeError, match="value"):
        format_interval("0.5")


def test_results_table_has_a_row_per_attack_and_a_cell_per_number():
    results = _two_results()
    table = results_table(results)
    assert list(table.index) == ["strong", "weak"]
    assert list(table.columns) == ["AUC", "advantage", "TPR@1%FPR"]
    assert table.loc["strong", "AUC"] == results["strong"].interval("auc")        # with its interval
    assert table.loc["weak", "AUC"] == f"{results['weak'].auc:.2f}"              # none computed: the value alone
    numeric = results_table(results, ["auc"], as_numbers=True)
    assert list(numeric.columns) == ["AUC", "AUC low", "AUC high"]
    assert numeric.loc["strong", "AUC"] == results["strong"].auc
    assert np.isnan(numeric.loc["weak", "AUC low"])
    assert results_table(results, ["auc"], digits=1).loc["weak", "AUC"] == f"{results['weak'].auc:.1f}"


@pytest.mark.parametrize("bad, error, match", [
    ({}, TypeError, "non-empty dict"),
    ({"a": 0.7}, TypeError, r"results\['a'\]"),
])
def test_results_table_refuses_what_is_not_a_dict_of_results(bad, error, match):
    with pytest.raises(error, match=match):
        results_table(bad)
