"""Figures: log-log ROC curves, member vs non-member score histograms, train vs test curves. Each returns its Axes."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.axes import Axes

from ._validation import as_array, as_membership, as_scores
from .metrics import AttackResult

_MEMBER_COLOURS = {"members": "C3", "non-members": "C0"}


def _axes(ax, figsize) -> Axes:
    if ax is None:
        return plt.subplots(figsize=figsize)[1]
    if not isinstance(ax, Axes):
        raise TypeError(f"`ax` must be a matplotlib Axes (or None for a new figure); got {type(ax).__name__}.")
    return ax


def plot_roc(results, ax=None, log: bool = True) -> Axes:
    """ROC curve of one AttackResult, or of a dict label -> AttackResult, with the chance line.

    Log-log by default (Carlini et al., 2022), from FPR min(1e-3, 1 / n_nonmembers) to 1. The legend sits to the
    right of the axes, so it never covers the low-FPR corner.
    """
    if isinstance(results, AttackResult):
        results = {None: results}
    if not isinstance(results, dict) or not results or \
            not all(isinstance(r, AttackResult) for r in results.values()):
        raise TypeError("`results` must be an AttackResult (from mialab.metrics.evaluate) or a non-empty dict "
                        f"label -> AttackResult; got {type(results).__name__}.")
    ax = _axes(ax, (4.5, 4.5))
    low = min(1e-3, 1 / max(r.n_nonmembers for r in results.values())) if log else 0.0
    for label, result in results.items():
        name = f"AUC {result.auc:.2f}" if label is None else f"{label} (AUC {result.auc:.2f})"
        ax.plot(result.fpr, result.tpr, label=name)
    ax.plot([low, 1], [low, 1], "--", color="grey", linewidth=1, label="chance")
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
    if log:  # a margin below the lowest FPR keeps its tick (10^-3 for most notebooks) and label inside the frame
        ax.set_xlim(low / 1.5, 1.05)
        ax.set_ylim(low / 1.5, 1.05)
    else:
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
    ax.set_xlabel("False positive rate")
    ax.set_ylabel("True positive rate")
    # outside the axes: the low-FPR corner, the region the course reads, stays clear
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, frameon=False)
    return ax


def plot_score_histograms(scores, is_member, ax=None, xlabel: str = "score", title: str | None = None) -> Axes:
    """Density histograms of members' and non-members' scores (n,) on common bins."""
    scores = as_scores(scores)
    is_member = as_membership(is_member, n=len(scores))
    ax = _axes(ax, (5, 3.5))
    group = np.where(is_member, "members", "non-members")
    sns.histplot(x=scores, hue=group, hue_order=list(_MEMBER_COLOURS), palette=_MEMBER_COLOURS, stat="density",
                 common_norm=False, common_bins=True, element="step", ax=ax)
    ax.set_xlabel(xlabel)
    if title is not None:
        ax.set_title(title)
    return ax


def plot_train_test(x, train, test, ax=None, xlabel: str = "setting", ylabel: str = "accuracy",
                    title: str | None = None) -> Axes:
    """Train and test curves over settings `x` (n,), with the gap between them shaded."""
    x = as_array(x, "x", ndim=1)
    train = as_array(train, "train", ndim=1)
    test = as_array(test, "test", ndim=1)
    for name, values in (("train", train), ("test", test)):
        if len(values) != len(x):
            raise ValueError(f"`{name}` has {len(values)} values but `x` has {len(x)}; pass one value per setting.")
    ax = _axes(ax, (5, 3.5))
    ax.plot(x, train, "o-", label="train")
    ax.plot(x, test, "s-", label="test")
    ax.fill_between(x, train, test, alpha=0.15, color="grey", label="gap")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    ax.legend()
    return ax
