"""The capstone's audit toolkit (notebook 12): epsilon from an attack's counts, the audit table, the evidence and
the diagnosis. The targets and the answer key are in mialab.capstone_targets; build, load, reveal, target_path
and the names below are re-exported here, where the notebook looks for them.

    audit = capstone.build()                  # self-paced: the public seed's target (a variant you do not know)
    audit.target.query(X)                     # a black box with a query budget (blackbox.QueryBudgetExceeded)
    audit.X_candidates, audit.is_member       # the records to audit, members and non-members mixed
    capstone.audit_table({"loss": scores}, audit.is_member)    # AUC, TPR and proven epsilon at 1% and 0.1% FPR
    capstone.diagnose(capstone.gather_evidence(audit, reference_models, reference_masks))
    capstone.reveal(audit)                    # self-check: the variant's name (self-paced targets only)

Taught in notebook 12.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
import torch

from . import metrics, models
from ._reference import reference
from ._validation import as_membership, as_scores, check_scalar
from .blackbox import QueryBudgetExceeded, query_labels
from .capstone_targets import (DELTA, KEY_ENV, KEY_FILE, PUBLIC_SEED, TARGET_ENV, TARGET_FILE, VARIANTS, Capstone,
                               _check_audit, build, key_variant, load, make_assignment, reveal, save, target_path)


# ---------------------------------------------------------------------------------------------------------------
# the audit: epsilon from counts, the table, the evidence and the diagnosis
# ---------------------------------------------------------------------------------------------------------------

@reference
def epsilon_lower_bound(true_positives: int, n_members: int, false_positives: int, n_nonmembers: int,
                        delta: float = DELTA, level: float = 0.95) -> float:
    """The epsilon an attack's counts prove at confidence `level`: ln((TPR_low - delta) / FPR_high), with
    TPR_low and FPR_high one-sided Clopper-Pearson bounds at (1 + level) / 2 each (tp = 0 gives TPR_low = 0,
    fp = n_nonmembers gives FPR_high = 1), and 0 when TPR_low <= delta or the log is negative.
    (Jagielski et al. 2020.) Taught in notebook 12, section 4."""
    delta = check_scalar(delta, "delta", low=0.0, high=1.0)
    tpr_low, fpr_high = metrics.clopper_pearson_rates(true_positives, n_members, false_positives, n_nonmembers,
                                                      level)
    if tpr_low <= delta:
        return 0.0
    return max(0.0, math.log((tpr_low - delta) / fpr_high))


@reference
def operating_point(scores, is_member, fpr: float) -> tuple[int, int, int, int]:
    """The counts (tp, n_members, fp, n_nonmembers) at the threshold with the highest TPR whose FPR <= `fpr`
    (metrics.tpr_at_fpr's threshold; "member" iff score >= threshold)."""
    scores = as_scores(scores)
    is_member = as_membership(is_member, n=len(scores))
    fpr = check_scalar(fpr, "fpr", low=0.0, high=1.0)
    n1, n0 = int(is_member.sum()), int((~is_member).sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", metrics.FewNonMembersWarning)
        fprs, tprs, _ = metrics.roc_curve(scores, is_member)
    best = int(np.flatnonzero(fprs <= fpr)[np.argmax(tprs[fprs <= fpr])])
    return int(round(tprs[best] * n1)), n1, int(round(fprs[best] * n0)), n0


@reference
def audit_table(scores: dict, is_member, delta: float = DELTA) -> dict:
    """The audit's table: {attack: (n,) scores}, is_member (n,) -> {attack: [AUC, TPR@1%, eps@1%, TPR@0.1%,
    eps@0.1%]}, with eps the 95% epsilon_lower_bound at each operating point. Taught in notebook 12, section 4."""
    if not isinstance(scores, dict) or not scores:
        raise TypeError(f"`scores` must be a dict {{attack name: scores (n,)}}, e.g. {{'loss': s}}; got "
                        f"{type(scores).__name__}.")
    table = {}
    for name, values in scores.items():
        row = [metrics.auc(values, is_member)]
        for at in (0.01, 0.001):
            tp, n1, fp, n0 = operating_point(values, is_member, at)
            row += [tp / n1, epsilon_lower_bound(tp, n1, fp, n0, delta)]
        table[name] = row
    return table


def weight_norm(model) -> float:
    """The L2 norm of the first layer's weights (600 x 256 for the capstone's MLP)."""
    if not callable(getattr(model, "linear_layers", None)):
        raise TypeError(f"`model` must be a torch module with linear layers (a mialab.models.MLP, such as "
                        f"audit.model); got {type(model).__name__}.")
    return float(torch.linalg.norm(model.linear_layers()[0].weight.detach()))


def _confidence(model, X, y) -> np.ndarray:
    return models.predict_proba(model, X)[np.arange(len(y)), y]


def gather_evidence(audit: Capstone, reference_models, reference_masks) -> dict:
    """What the diagnosis rests on, each number beside its yardstick: {"api", "member_acc", "nonmember_acc",
    "reference_acc", "member_confidence", "reference_member_confidence", "weight_norm", "reference_weight_norm"}.

    reference_models: MLPs trained with the public recipe on the auditor's population (a ModelStack or a list);
    reference_masks: bool (n_population, n_models), the records each trained on. Accuracies are on the candidates
    (from the black box's labels: one query per candidate); the confidence (the mean probability of the true
    label on members, or on each reference model's own training records) and the first layer's weight norm come
    from the weights. Taught in notebook 12, section 5."""
    _check_audit(audit)
    if not hasattr(reference_models, "__len__") or not hasattr(reference_models, "__getitem__"):
        raise TypeError(f"`reference_models` must be a ModelStack or a list of MLPs; got "
                        f"{type(reference_models).__name__}.")
    refs = [reference_models[j] for j in range(len(reference_models))]
    masks = np.asarray(reference_masks, dtype=bool)
    if masks.shape != (len(audit.y_population), len(refs)):
        raise ValueError(f"`reference_masks` must have shape {(len(audit.y_population), len(refs))} (population "
                         f"records x reference models); got {masks.shape}.")
    correct = query_labels(audit.target, audit.X_candidates) == audit.y_candidates
    X0, y0 = audit.X_candidates[~audit.is_member], audit.y_candidates[~audit.is_member]
    X1, y1 = audit.X_candidates[audit.is_member], audit.y_candidates[audit.is_member]
    Xp, yp = audit.X_population, audit.y_population
    return {
        "api": audit.api,
        "member_acc": float(correct[audit.is_member].mean()),
        "nonmember_acc": float(correct[~audit.is_member].mean()),
        "reference_acc": float(np.mean([(models.predict_proba(m, X0).argmax(1) == y0).mean() for m in refs])),
        "member_confidence": float(_confidence(audit.model, X1, y1).mean()),
        "reference_member_confidence": float(np.mean([_confidence(m, Xp[masks[:, j]], yp[masks[:, j]]).mean()
                                                      for j, m in enumerate(refs)])),
        "weight_norm": weight_norm(audit.model),
        "reference_weight_norm": float(np.mean([weight_norm(m) for m in refs])),
    }


@reference
def diagnose(evidence: dict) -> str:
    """The variant the evidence points to (one of VARIANTS): the API first, then utility, the weights, and how
    sure the model is of its members, each against the reference models. Taught in notebook 12, section 5."""
    if not isinstance(evidence, dict):
        raise TypeError(f"`evidence` must be the dict gather_evidence returns; got {type(evidence).__name__}.")

    def get(key):
        if key not in evidence:
            raise ValueError(f"`evidence` has no {key!r}; build it with gather_evidence(audit, ...).")
        value = evidence[key]
        if key != "api" and (isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value)):
            raise ValueError(f"`evidence[{key!r}]` must be a finite number; got {value!r} (NaN: an empty group?).")
        return value

    if get("api") == "label":
        return "label-only"
    if get("nonmember_acc") < 0.8 * get("reference_acc"):
        return "DP-SGD"
    if get("weight_norm") < 0.65 * get("reference_weight_norm"):
        return "L2"
    if get("member_confidence") < 0.9 * get("reference_member_confidence"):
        return "distillation"
    return "none"


__all__ = ["VARIANTS", "PUBLIC_SEED", "Capstone", "QueryBudgetExceeded", "build", "reveal", "load", "save",
           "target_path", "make_assignment", "key_variant", "KEY_ENV", "KEY_FILE", "TARGET_ENV", "TARGET_FILE",
           "epsilon_lower_bound", "operating_point", "audit_table", "gather_evidence", "diagnose", "weight_norm"]
