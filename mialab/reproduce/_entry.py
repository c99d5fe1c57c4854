"""What a reproduction entry is (`Entry`), what its experiment returns (`Outcome`), and the helpers the entries
share: checked sizes and devices, paired bootstrap intervals, table rows. Changing this file changes every entry's
source hash (each entry's experiment runs through it), so every JSON under docs/reproduction/ must be regenerated."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .._validation import check_random_state
from ..metrics import AttackResult, auc, format_interval, percentile_interval

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced at this scale"


@dataclass(frozen=True)
class Entry:
    """One paper trend run at the scale where it should appear: a row of `mialab.reproduce.REGISTRY`.

    name: the registry key, the CLI argument, the JSON's and the figure's file name and the anchor in
    docs/reproduction.md. paper: the paper's figure exactly as docs' PAPERS.md gives it (with its confidence mark);
    source: where that figure is from. course: what the notebook measured at course scale; at_scale: what this entry
    changes to reach the paper's scale. sizes: {"tiny": {...}, "full": {...}} keyword arguments of `experiment`;
    experiment(scale: dict, device: torch.device, seed: int) -> Outcome."""

    name: str
    title: str
    notebooks: tuple
    claim: str
    paper: str
    source: str
    course: str
    at_scale: str
    sizes: dict
    experiment: Callable
    module: str


@dataclass
class Outcome:
    """What an experiment returns: the table (rows of {column: text}, "paper" and "ours" columns with 95%
    intervals), the verdict, one sentence that says why with numbers, the figure, and the scale in words."""

    rows: list
    reproduced: bool
    summary: str
    figure: object
    scale: str
    numbers: dict = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return REPRODUCED if self.reproduced else NOT_REPRODUCED


def row(setting: str, paper: str, ours: str, **extra) -> dict:
    """One table row: the setting, the paper's figure (or "-"), ours with its interval, extra columns."""
    return {"setting": setting, "paper": paper, "ours": ours, **{k: str(v) for k, v in extra.items()}}


def result_cell(result: AttackResult, name: str = "auc") -> str:
    """An AttackResult's number with its bootstrap interval, as metrics.results_table prints it."""
    return result.interval(name)


def paired_draws(statistic, score_sets, is_member, n_boot: int = 200, random_state: int = 0) -> np.ndarray:
    """Bootstrap draws of statistic(*scores, is_member) with the SAME resample of members and non-members for
    every score array (a paired bootstrap, for a difference between two attacks on the same records) -> (n_boot,)."""
    rng = check_random_state(random_state)
    is_member = np.asarray(is_member, bool)
    members, nonmembers = np.flatnonzero(is_member), np.flatnonzero(~is_member)
    draws = []
    for _ in range(n_boot):
        idx = np.concatenate([rng.choice(members, len(members)), rng.choice(nonmembers, len(nonmembers))])
        draws.append(statistic(*[np.asarray(s)[idx] for s in score_sets], is_member[idx]))
    return np.asarray(draws, dtype=float)


def auc_difference(scores_a, scores_b, is_member, n_boot: int = 200, random_state: int = 0) -> tuple:
    """AUC(a) - AUC(b) on the same records with its paired 95% bootstrap interval: (value, low, high)."""
    value = auc(scores_a, is_member) - auc(scores_b, is_member)
    draws = paired_draws(lambda a, b, m: auc(a, m) - auc(b, m), (scores_a, scores_b), is_member, n_boot,
                         random_state)
    return (value, *percentile_interval(draws))


def cell(value: float, low: float, high: float, digits: int = 2) -> str:
    """format_interval, for numbers that are not an AttackResult's."""
    return format_interval(float(value), float(low), float(high), digits=digits)


def mean_interval(values, n_boot: int = 1000, random_state: int = 0) -> tuple:
    """The mean of `values` (k,) with its percentile bootstrap interval: (mean, low, high)."""
    values = np.asarray(values, dtype=float)
    rng = check_random_state(random_state)
    draws = [values[rng.integers(0, len(values), len(values))].mean() for _ in range(n_boot)]
    return (float(values.mean()), *percentile_interval(draws))


def new_figure(*args, **kwargs):
    """A matplotlib figure drawn off screen (Agg): the entries save PNGs, never show them."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    return plt.subplots(*args, **kwargs)
