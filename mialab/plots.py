"""Figures: log-log ROC curves, member vs non-member score histograms, train vs test curves (each returns its Axes),
and a threshold explorer (a slider where widgets run, a static figure of a few thresholds elsewhere)."""

from __future__ import annotations

import os
import sys

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._validation import as_array, as_membership, as_scores, check_bool, check_scalar
from .metrics import AttackResult

_MEMBER_COLOURS = {"members": "C3", "non-members": "C0"}


def _axes(ax, figsize) -> Axes:
    if ax is None:
        return plt.subplots(figsize=figsize)[1]
    if not isinstance(ax, Axes):
        raise TypeError(f"`ax` must be a matplotlib Axes (or None for a new figure); got {type(ax).__name__}.")
    return ax


def legend_outside(ax, where: str = "right", handles=None, labels=None, **kwargs):
    """Put `ax`'s legend outside its axes, where it covers no data (the course's default for every figure): to the
    "right", or "below" (side-by-side panels, twin axes). `handles`/`labels` merge several axes' entries (a twin
    axis); other keyword arguments go to `ax.legend` (e.g. ncol, fontsize, title). Returns the Legend."""
    if not isinstance(ax, Axes):
        raise TypeError(f"`ax` must be a matplotlib Axes; got {type(ax).__name__}.")
    places = {"right": {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0)},
              "below": {"loc": "upper center", "bbox_to_anchor": (0.5, -0.16)}}
    if where not in places:
        raise ValueError(f"`where` must be 'right' or 'below'; got {where!r}.")
    options = {**places[where], "borderaxespad": 0.0, "frameon": False, **kwargs}
    if handles is not None:
        return ax.legend(handles, labels, **options)
    return ax.legend(**options)


def plot_roc(results, ax=None, log: bool = True) -> Axes:
    """ROC curve of one AttackResult, or of a dict label -> AttackResult, with the chance line.

    Log-log by default (Carlini et al., 2022), from FPR min(1e-3, 1 / n_nonmembers) to 1; each curve is the
    staircase of its operating points, so it reads as the results' TPR at any FPR. The legend sits to the right of
    the axes, so it never covers the low-FPR corner.
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
        # a staircase through the operating points the thresholds reach: at each FPR, the best TPR at or below it
        # (what metrics.tpr_at_fpr reports). A straight line from (0, 0), which log axes clip to their corner,
        # would draw a score with few distinct values far above its table's TPR at low FPR.
        ax.step(result.fpr, result.tpr, where="post", label=name)
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
    legend_outside(ax)  # the low-FPR corner, the region the course reads, stays clear
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
    legend_outside(ax)
    return ax


# ------------------------------------------------------------------------------------------ threshold explorer

def threshold_rates(scores, is_member, thresholds) -> tuple[np.ndarray, np.ndarray]:
    """TPR and FPR of the attackers "member when score >= t", one per threshold: (n,), (n,) bool, (m,) -> two (m,)."""
    scores = as_scores(scores)
    is_member = as_membership(is_member, n=len(scores))
    t = np.atleast_1d(np.asarray(thresholds, dtype=float))[:, None]   # +-inf allowed: the ROC's end points
    if np.isnan(t).any():
        raise ValueError("`thresholds` contains NaN; pass numbers (each one is an attacker's threshold).")
    return (scores[is_member] >= t).mean(axis=1), (scores[~is_member] >= t).mean(axis=1)


def _readout(t: float, tpr: float, fpr: float) -> str:
    return f"t = {t:.3g}:  TPR = {tpr:.2f},  FPR = {fpr:.2f},  TPR − FPR = {tpr - fpr:.2f}"


def _explorer_figure(scores, is_member, figure: Figure) -> dict:
    """Draw the histogram and ROC panels on `figure` -> the artists the threshold moves."""
    hist, roc = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
    plot_score_histograms(scores, is_member, ax=hist, xlabel="score")
    hist.set_ylabel("density")
    fprs, tprs, _ = _roc_points(scores, is_member)
    roc.plot(fprs, tprs, color="C2", label="ROC (every threshold)")
    roc.plot([0, 1], [0, 1], "--", color="grey", linewidth=1, label="chance")
    roc.set_xlim(-0.02, 1.02)
    roc.set_ylim(-0.02, 1.02)
    roc.set_xlabel("False positive rate")
    roc.set_ylabel("True positive rate")
    roc.set_aspect("equal")
    roc.legend(loc="lower right", frameon=False, fontsize="small")
    return {"hist": hist, "roc": roc}


def _roc_points(scores, is_member):
    thresholds = np.r_[np.inf, np.unique(scores)[::-1]]
    tpr, fpr = threshold_rates(scores, is_member, thresholds)
    return fpr, tpr, thresholds


def _widgets_wanted() -> bool:
    """A person at a notebook that renders widgets: ipywidgets installed, an IPython kernel started by a Jupyter
    server (JupyterLab, Notebook: it sets JPY_SESSION_NAME) or by VS Code. Not nbval, nbconvert or nbgrader."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython else None
    if shell is None or not hasattr(shell, "kernel"):
        return False
    try:
        import ipywidgets  # noqa: F401 (an optional dependency: only to know whether it is there)
    except ImportError:
        return False
    return bool(os.environ.get("JPY_SESSION_NAME")) or "__vsc_ipynb_file__" in getattr(shell, "user_ns", {})


def update_threshold(state: dict, t: float) -> str:
    """Move the explorer's threshold to `t`: the line on the histogram, the point on the ROC, the readout (returned)."""
    needed = ("scores", "is_member", "line", "point", "title")
    if not isinstance(state, dict) or any(key not in state for key in needed):
        raise TypeError(f"`state` must be the dict the static threshold_explorer figure keeps (keys {list(needed)}); "
                        f"got {type(state).__name__}.")
    t = check_scalar(t, "t")
    tpr, fpr = (float(v[0]) for v in threshold_rates(state["scores"], state["is_member"], [t]))
    state["line"].set_xdata([t, t])
    state["point"].set_data([fpr], [tpr])
    text = _readout(t, tpr, fpr)
    state["title"].set_text(text)
    return text


def threshold_explorer(scores, is_member, thresholds=None, interactive: bool | None = None):
    """Each threshold t is one attacker ("member when score >= t") and one point on the ROC curve.

    With widgets (ipywidgets in JupyterLab, Notebook or VS Code; `interactive=None` finds out, True forces it): a
    slider moves t, its line on the score histograms, its point on the ROC curve, and the TPR / FPR readout;
    returns the widget. Elsewhere (nbval, nbconvert, the website, no ipywidgets) a static figure marks a few
    thresholds (`thresholds`, default four quantiles of the non-members' scores) with their TPR and FPR; returns
    the Figure. scores (n,), is_member (n,) bool. Taught in notebook 00, section 6.
    """
    scores = as_scores(scores)
    is_member = as_membership(is_member, n=len(scores))
    if thresholds is None:
        thresholds = np.quantile(scores[~is_member], [0.5, 0.8, 0.9, 0.99])
    thresholds = as_array(thresholds, "thresholds", ndim=1)
    if interactive is None:
        interactive = _widgets_wanted()
    interactive = check_bool(interactive, "interactive")
    if interactive:
        return _interactive_explorer(scores, is_member, float(np.median(thresholds)))
    figure = plt.figure(figsize=(9, 3.8), layout="constrained")
    panels = _explorer_figure(scores, is_member, figure)
    tprs, fprs = threshold_rates(scores, is_member, thresholds)
    low, high = panels["hist"].get_xlim()
    placed: list[tuple[float, int]] = []  # (x as a fraction of the axes, row) of the numbers above the lines
    for i, (t, tpr, fpr) in enumerate(zip(thresholds, tprs, fprs)):
        colour = f"C{(i + 4) % 10}"
        panels["hist"].axvline(t, color=colour, linestyle="--", linewidth=2)
        x = (t - low) / (high - low)
        row = min({0, 1, 2, 3} - {r for px, r in placed if abs(px - x) < 0.05}, default=len(placed))
        placed.append((x, row))
        panels["hist"].text(x, 1.01 + 0.07 * row, str(i + 1), transform=panels["hist"].transAxes, ha="center",
                            va="bottom", color=colour, fontweight="bold")
        panels["roc"].plot([fpr], [tpr], "o", color=colour, markersize=7,
                           label=f"{i + 1}: t = {t:.3g}, TPR {tpr:.2f}, FPR {fpr:.2f}")
    panels["roc"].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize="small")
    figure.suptitle("Each threshold is one attacker: one point on the ROC curve")
    return figure


def _interactive_explorer(scores, is_member, start: float):
    """The slider version: a Figure outside pyplot (so it is not shown twice), redrawn into an Output widget."""
    import ipywidgets as widgets  # deferred: an optional dependency, only for a person at a notebook
    from IPython.display import display

    figure = Figure(figsize=(9, 3.8), layout="constrained")
    panels = _explorer_figure(scores, is_member, figure)
    state = {"scores": scores, "is_member": is_member, "title": figure.suptitle(""),
             "line": panels["hist"].axvline(start, color="black", linestyle=":", linewidth=1.5),
             "point": panels["roc"].plot([0.0], [0.0], "o", color="black", markersize=8)[0]}
    low, high = float(scores.min()), float(scores.max())
    slider = widgets.FloatSlider(value=start, min=low, max=high, step=(high - low) / 200 or 1.0,
                                 description="threshold t", readout_format=".3g", continuous_update=True,
                                 layout=widgets.Layout(width="60%"))
    out = widgets.Output()

    def redraw(change=None):
        update_threshold(state, slider.value)
        with out:
            out.clear_output(wait=True)
            display(figure)

    slider.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([slider, out])
    box.slider, box.figure, box.state = slider, figure, state  # for a test, or to move t from code
    display(box)
    return box
