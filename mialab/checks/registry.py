"""Every graded exercise of the course, one row each: what grading needs to know, in one place.

A row names the notebook, the check cell's nbgrader grade_id and points, the student's function (the name the check
cell passes to its hidden test), the hidden test (`test_<test>` in mialab.checks.hidden or hidden_nbNN) and what is
off limits: the package's code that computes the answer. Grading (mialab.course.verdict) reads the rows: it captures
the named function from the student's kernel, runs it in a sandbox whose copy of mialab lacks the off-limits code
(mialab.course.sandbox), and decides the points in the grading process. The notebook checks block the same names
(`blocks_for`), so a ✅ and the grade agree.

Add an exercise: one row here, its hidden test, its check and its `mialab.answers` entry;
tests/test_registry.py checks that every row matches the solution notebooks and that the solution passes.
"""

from __future__ import annotations

from dataclasses import dataclass

_METRICS = ("metrics.roc_curve", "metrics.auc", "metrics.advantage", "metrics.tpr_at_fpr", "metrics.evaluate",
            "metrics.threshold_metrics", "metrics.bootstrap_ci")
_NB00 = _METRICS + ("metrics.choose_threshold",)  # the threshold with the largest TPR - FPR is 0.1's answer
_SHADOW = ("shadow.attack_dataset", "shadow.shadow_attack_dataset", "shadow.fit_attack_models")
_MLLEAKS = ("features.sorted_top_k", "features.entropy", "mlleaks.posterior_scores", "mlleaks.noise_threshold")
_NB05 = ("features.logit_scale", "lira.log_likelihood_ratio", "lira.lira_scores")
_NB06 = ("whitebox.last_layer_gradient_norm", "federated.passive_server_score", "federated.top_fraction",
         "federated.ascent_direction")
_NB07 = ("generative.precision_at_k", "generative.reconstruction_scores", "generative.monte_carlo_scores",
         "generative.set_scores")
_EPSILON = ("capstone.epsilon_lower_bound", "dpsgd.empirical_epsilon", "dpsgd.empirical_epsilon_ci",
            "metrics.clopper_pearson_rates")


@dataclass(frozen=True)
class Exercise:
    """One graded exercise: where it is, what the student writes, how it is graded, what is off limits."""

    id: str                       # "0.1"
    function: str                 # the student's function, as the check cell names it
    test: str                     # the hidden test: test_<test>
    points: float
    blocks: tuple[str, ...] = ()  # "module.function" of the package's code that computes the answer
    manual: bool = False          # graded by hand (a written answer)

    @property
    def notebook(self) -> str:
        """"nb00" for exercise "0.1"."""
        return f"nb{int(self.id.split('.')[0]):02d}"

    @property
    def grade_id(self) -> str:
        """The graded cell's nbgrader grade_id: "ex0_1_check" (a written answer's: "ex12_4_answer")."""
        return f"ex{self.id.replace('.', '_')}_{'answer' if self.manual else 'check'}"

    @property
    def answer(self) -> str:
        """The reference answer's key in mialab.answers (what use_reference returns): "answers.ex_0_1"."""
        return "answers.ex_" + self.id.replace(".", "_")

    @property
    def off_limits(self) -> tuple[str, ...]:
        """Everything absent while the student's function runs: the blocks and the exercise's own answer."""
        return (*self.blocks, self.answer)


EXERCISES: tuple[Exercise, ...] = (
    Exercise("0.1", "membership_advantage", "membership_advantage", 2, _NB00),
    Exercise("0.2", "tpr_at_fpr", "tpr_at_fpr", 2, _NB00),
    Exercise("1.1", "generalization_gap", "generalization_gap", 1),
    Exercise("1.2", "correctness_attack", "correctness_attack", 1),
    Exercise("1.3", "confidence_attack", "confidence_attack", 1),
    Exercise("1.4", "leakage_table", "leakage_table", 2),
    Exercise("2.1", "build_attack_dataset", "attack_dataset", 2, _SHADOW),
    Exercise("2.2", "fit_attack_models", "fit_attack_models", 2, _SHADOW),
    Exercise("2.3", "shadow_threshold_metrics", "shadow_threshold_metrics", 1, _METRICS + _SHADOW),
    Exercise("3.1", "top_k_features", "top_k_features", 1, _MLLEAKS),
    Exercise("3.2", "entropy_attack", "entropy_attack", 1, _MLLEAKS),
    Exercise("3.3", "pick_threshold", "pick_threshold", 1, _MLLEAKS),
    Exercise("3.4", "transfer_table", "transfer_table", 1, ("families.auc_table",)),
    Exercise("4.1", "loss_attack", "loss_attack", 1),
    Exercise("4.2", "yeom_advantage", "yeom_advantage", 2),
    Exercise("4.3", "modified_entropy", "modified_entropy", 2, ("features.modified_entropy",)),
    Exercise("5.1", "logit_scale", "logit_scale", 1, _NB05),
    Exercise("5.2", "likelihood_ratio", "likelihood_ratio", 2, _NB05),
    Exercise("5.3", "tpr_at_low_fpr", "tpr_at_low_fpr", 1, _METRICS),
    Exercise("5.4", "boundary_point", "boundary_point", 2, ("label_only.boundary_point", "extraction.find_threshold")),
    Exercise("6.1", "last_layer_gradient_norm", "last_layer_gradient_norm", 2, _NB06),
    Exercise("6.2", "passive_server_score", "passive_server_score", 2, _NB06),
    Exercise("6.3", "ascent_direction", "ascent_direction", 1, _NB06),
    Exercise("6.4", "top_fraction", "top_fraction", 2, _NB06),
    Exercise("7.1", "precision_at_k", "precision_at_k", 1, _NB07),
    Exercise("7.2", "reconstruction_score", "reconstruction_score", 2, _NB07),
    Exercise("7.3", "monte_carlo_score", "monte_carlo_score", 2, _NB07),
    Exercise("7.4", "set_score", "set_score", 1, _NB07),
    Exercise("8.1", "map_estimate", "map_estimate", 2, ("inversion.map_estimate",)),
    Exercise("8.2", "noisy_least_squares", "noisy_least_squares", 2, ("dp_linear.noisy_least_squares",)),
    Exercise("8.3", "mi_face_descent", "mi_face_descent", 3, ("inversion.mi_face_descent",)),
    Exercise("8.4", "finite_difference_gradient", "finite_difference_gradient", 2,
             ("inversion.finite_difference_gradient",)),
    Exercise("9.1", "steal_logistic", "steal_logistic", 2,
             ("extraction.solve_binary_logistic", "extraction.solve_softmax")),
    Exercise("9.2", "find_threshold", "find_threshold", 2, ("extraction.find_threshold",)),
    Exercise("9.3", "fidelity", "fidelity", 1, ("extraction.fidelity",)),
    Exercise("9.4", "steal_ridge_lambda", "steal_ridge_lambda", 2,
             ("hyperparameters.steal_ridge_lambda", "hyperparameters.lambda_from_gradients")),
    Exercise("10.1", "canary_rank", "canary_rank", 1, ("sequence.canary_rank",)),
    Exercise("10.2", "exposure_from_sample", "exposure_from_sample", 1, ("metrics.exposure_interpolated",)),
    Exercise("10.3", "homer_statistic", "homer_statistic", 2, ("aggregates.homer_statistic",)),
    Exercise("10.4", "aggregate_counts", "aggregate_counts", 1, ("aggregates.aggregate_counts",)),
    Exercise("10.5", "backes_statistic", "backes_statistic", 2, ("aggregates.backes_statistic",)),
    Exercise("11.1", "relaxloss_objective", "relaxloss_objective", 2,
             ("relaxloss.relaxloss_objective", "relaxloss.relaxloss")),
    Exercise("11.2", "cap_confidence", "cap_confidence", 1, ("memguard.cap_confidence",)),
    Exercise("11.3", "dp_sgd_step", "dp_sgd_step", 2, ("dpsgd.dp_sgd_step",)),
    Exercise("11.4", "empirical_epsilon", "empirical_epsilon", 1, _EPSILON),
    Exercise("11.5", "records_to_remove", "records_to_remove", 1, ("outliers.flag_exposed", "outliers.kept_indices")),
    Exercise("12.1", "epsilon_lower_bound", "epsilon_lower_bound", 2, _EPSILON),
    Exercise("12.2", "audit_table", "audit_table", 2,
             ("capstone.audit_table", "capstone.operating_point", *_EPSILON)),
    Exercise("12.3", "diagnose", "diagnose", 2, ("capstone.diagnose",)),
    Exercise("12.4", "", "", 2, manual=True),
    Exercise("13.1", "rank_histogram", "rank_histogram", 2,
             ("provenance.next_char_ranks", "provenance.rank_histogram")),
)

BY_ID = {row.id: row for row in EXERCISES}
BY_GRADE_ID = {row.grade_id: row for row in EXERCISES}


def exercise(key: str) -> Exercise:
    """The row of an exercise, by its number ("2.3") or its check cell's grade_id ("ex2_3_check")."""
    row = BY_ID.get(str(key).strip()) or BY_GRADE_ID.get(str(key).strip())
    if row is None:
        raise KeyError(f"no graded exercise {key!r}; the exercises are {', '.join(BY_ID)}.")
    return row


def in_notebook(notebook: str) -> tuple[Exercise, ...]:
    """The rows of one notebook ("nb00"), in order."""
    return tuple(row for row in EXERCISES if row.notebook == notebook)


def builds_on(key: str) -> dict[str, str]:
    """The functions of the same notebook's earlier exercises, by name -> their reference answer in mialab.answers
    ("epsilon_lower_bound" -> "ex_12_1"). An exercise whose function calls one is checked and graded with the
    reference in its place, so that one mistake costs one exercise."""
    row = exercise(key)
    earlier = in_notebook(row.notebook)
    earlier = earlier[:earlier.index(row)]
    return {other.function: "ex_" + other.id.replace(".", "_") for other in earlier
            if not other.manual and other.function and other.function != row.function}


__all__ = ["BY_GRADE_ID", "BY_ID", "EXERCISES", "Exercise", "builds_on", "exercise", "in_notebook"]
