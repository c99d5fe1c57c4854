"""Pictures of how attacks and defences work, drawn with matplotlib: the shadow-model pipeline (notebook 02), model
stacking (03), LiRA's per-record Gaussians and RMIA's comparison with population records (05). Each returns its
Axes."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from ._validation import as_array, check_scalar
from .plots import _axes

_FILL = {"data": "#e8f1fa", "model": "#fdf0e0", "attack": "#fbe3e3", "result": "#e6f4e6", "target": "#eeeeee"}


def _canvas(ax, figsize, width: float, height: float):
    ax = _axes(ax, figsize)
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    return ax


def _box(ax, x: float, y: float, w: float, h: float, text: str, kind: str, size: float = 9.5) -> tuple:
    """A rounded box with its lower-left corner at (x, y) -> its (left, right, bottom, top, centre x, centre y)."""
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.12", linewidth=1.2,
                                edgecolor="#555555", facecolor=_FILL[kind]))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=size)
    return x, x + w, y, y + h, x + w / 2, y + h / 2


def _arrow(ax, start, end, text: str = "", offset=(0.0, 0.12), size: float = 8.5, rad: float = 0.0):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=13, linewidth=1.2, color="#444444",
                                 connectionstyle=f"arc3,rad={rad}", shrinkA=2, shrinkB=2))
    if text:
        ax.text((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1], text, ha="center",
                va="bottom", fontsize=size, color="#333333", style="italic")


def shadow_pipeline(ax=None):
    """Shokri et al.'s attack as a flow: shadow models trained like the target on records whose membership the
    attacker knows, their answers labelled in/out, one attack model per class, then the target's answer on a
    candidate. Taught in notebook 02, section 3."""
    ax = _canvas(ax, (11, 4.6), 11, 4.75)
    pool = _box(ax, 0.1, 1.75, 1.8, 1.0, "attacker's pool\n(records like the\ntarget's data)", "data")
    shadows = [_box(ax, 2.9, y, 1.9, 0.62, text, "model") for y, text in
               ((3.3, "shadow model 1"), (2.45, "shadow model 2"), (1.2, "shadow model k"))]
    ax.text(3.85, 1.98, "⋮", ha="center", va="center", fontsize=14)
    dataset = _box(ax, 5.9, 1.75, 2.1, 1.0, "attack training set:\nanswer, class, in/out", "data")
    attack = _box(ax, 9.0, 1.75, 1.9, 1.0, "one attack model\nper class", "attack")
    target = _box(ax, 2.9, 0.05, 1.9, 0.62, "target (black box)", "target")
    result = _box(ax, 9.0, 0.05, 1.9, 0.62, "member?", "result")
    for left, _, bottom, top, _, cy in shadows:
        _arrow(ax, (pool[1], pool[5]), (left, cy))
        _arrow(ax, (left + 1.9, cy), (dataset[0], dataset[5]))
    ax.text(2.35, 3.95, "the target's recipe, each on\nits own IN records", ha="center", va="bottom", fontsize=8.5,
            style="italic", color="#333333")
    ax.text(5.35, 3.95, "answers on its IN\nand OUT records", ha="center", va="bottom", fontsize=8.5, style="italic",
            color="#333333")
    _arrow(ax, (dataset[1], dataset[5]), (attack[0], attack[5]), "fit")
    candidate = _box(ax, 0.1, 0.05, 1.8, 0.62, "a candidate record", "data", size=9)
    _arrow(ax, (candidate[1], candidate[5]), (target[0], target[5]), "query", offset=(0.0, 0.03))
    _arrow(ax, (target[1], target[5]), (9.5, attack[2]), "its answer", offset=(0.6, 0.05), rad=0.15)
    _arrow(ax, (attack[4] + 0.45, attack[2]), (attack[4] + 0.45, result[3]))
    ax.set_title("Shadow models: learn from models whose members you know", fontsize=11)
    return ax


def model_stacking(ax=None):
    """Salem et al.'s model-stacking defence: three disjoint parts of the training set, two first-level models
    and a second-level model on their answers, so each record trains exactly one model. Taught in notebook 03,
    section 6."""
    ax = _canvas(ax, (10, 3.8), 10, 3.8)
    parts = [_box(ax, 0.1, y, 1.9, 0.7, text, "data") for y, text in
             ((2.85, "part 1 of the\ntraining set"), (1.6, "part 2"), (0.35, "part 3"))]
    first = [_box(ax, 3.3, y, 2.2, 0.7, text, "model") for y, text in
             ((2.85, "first-level MLP A"), (1.6, "first-level MLP B"))]
    second = _box(ax, 6.5, 1.0, 2.0, 1.2, "second level:\nlogistic regression\non A's and B's\nanswers", "model")
    answer = _box(ax, 6.6, 3.0, 1.8, 0.6, "the stacked\nmodel's answer", "result", size=9)
    for part, model in zip(parts, first):
        _arrow(ax, (part[1], part[5]), (model[0], model[5]), "trains")
    _arrow(ax, (parts[2][1], parts[2][5]), (second[0], second[2] + 0.15), "trains", offset=(0.0, -0.4))
    for model in first:
        _arrow(ax, (model[1], model[5]), (second[0], second[5] + (0.25 if model is first[0] else -0.05)))
    _arrow(ax, (second[4], second[3]), (answer[4], answer[2]))
    ax.text(9.3, 1.6, "each record\ntrains exactly\none model", ha="center", va="center", fontsize=9,
            color="#7a2222")
    ax.set_title("Model stacking: no model both trains on a record and answers for it alone", fontsize=11)
    return ax


def lira_gaussians(in_values, out_values, target_value: float, mean_in: float, std_in: float, mean_out: float,
                   std_out: float, ax=None):
    """One record's LiRA test: its reference models' values when IN (in_values (a,)) and OUT (out_values (b,)) as
    histograms, the Gaussians fitted to them, and the target's value with the log likelihood ratio it gets.
    (Carlini et al. 2022.) Taught in notebook 05, section 4."""
    in_values = as_array(in_values, "in_values", ndim=1)
    out_values = as_array(out_values, "out_values", ndim=1)
    target_value = check_scalar(target_value, "target_value", float)
    for name, value in (("std_in", std_in), ("std_out", std_out)):
        check_scalar(value, name, float, low=0.0, closed="neither")
    ax = _axes(ax, (7, 3.6))
    low = min(in_values.min(), out_values.min(), target_value, mean_in - 3 * std_in, mean_out - 3 * std_out)
    high = max(in_values.max(), out_values.max(), target_value, mean_in + 3 * std_in, mean_out + 3 * std_out)
    bins = np.linspace(low, high, 30)
    grid = np.linspace(low, high, 400)
    for values, mean, std, colour, side in ((in_values, mean_in, std_in, "C3", "IN"),
                                            (out_values, mean_out, std_out, "C0", "OUT")):
        ax.hist(values, bins=bins, density=True, alpha=0.35, color=colour, label=f"{side} models ({len(values)})")
        density = np.exp(-0.5 * ((grid - mean) / std) ** 2) / (std * np.sqrt(2 * np.pi))
        ax.plot(grid, density, color=colour, linewidth=2, label=f"fitted {side} Gaussian")
    ratio = (-0.5 * ((target_value - mean_in) / std_in) ** 2 - np.log(std_in)) \
        - (-0.5 * ((target_value - mean_out) / std_out) ** 2 - np.log(std_out))
    ax.axvline(target_value, color="black", linestyle="--", linewidth=1.5, label="the target's value")
    ax.text(target_value, 1.02, f"log likelihood ratio = {ratio:.1f}", transform=ax.get_xaxis_transform(),
            ha="center", va="bottom", fontsize=9)
    ax.set_xlabel("logit-scaled confidence")
    ax.set_ylabel("density")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=8.5)
    ax.set_title("LiRA: is the target's value likelier under IN or OUT?", pad=18)
    return ax


def rmia_comparison(candidate_ratio: float, population_ratios, gamma: float = 1.0, ax=None):
    """RMIA's test for one candidate x: the ratios Pr(z | target) / Pr(z) of the population records z
    (population_ratios (z,)) as a histogram on a log axis, the candidate's ratio Pr(x | target) / Pr(x), and the
    share of population records it beats by more than `gamma` (its score, before RMIA's tie-break).
    (Zarifzadeh et al. 2024.) Taught in notebook 05, section 6."""
    candidate_ratio = check_scalar(candidate_ratio, "candidate_ratio", float, low=0.0, closed="neither")
    gamma = check_scalar(gamma, "gamma", float, low=0.0, closed="neither")
    ratios = as_array(population_ratios, "population_ratios", ndim=1)
    if not (ratios > 0).all():
        raise ValueError("`population_ratios` must be positive (probabilities divided by probabilities); got "
                         f"{int((ratios <= 0).sum())} value(s) <= 0.")
    ax = _axes(ax, (7, 3.6))
    cut = candidate_ratio / gamma
    share = float(np.mean(ratios < cut))
    bins = np.geomspace(min(ratios.min(), cut) / 1.2, max(ratios.max(), cut) * 1.2, 40)
    ax.hist(ratios[ratios < cut], bins=bins, color="C2", alpha=0.6, label=f"population records beaten ({share:.0%})")
    ax.hist(ratios[ratios >= cut], bins=bins, color="grey", alpha=0.5, label=f"not beaten ({1 - share:.0%})")
    ax.axvline(candidate_ratio, color="black", linestyle="--", linewidth=1.5, label="the candidate's ratio")
    ax.set_xscale("log")
    ax.set_xlabel("Pr(record | target) / Pr(record)")
    ax.set_ylabel("population records")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=8.5)
    ax.set_title(f"RMIA: the candidate beats {share:.0%} of the population records (its score)")
    return ax


__all__ = ["lira_gaussians", "model_stacking", "rmia_comparison", "shadow_pipeline"]
