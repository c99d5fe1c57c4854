"""Salem et al. 2019: dropout as a defence (notebooks 03 and 11).

At course scale (one hidden layer, 1,000-2,500 members) the target fits its members with or without dropout, so
dropout changes nothing. Dropout regularises when capacity limits the fit: more records, deeper networks with a
dropout layer after each hidden layer. We train the purchase target with and without dropout p = 0.5 on more
records and deeper, and attack each with Salem et al.'s adversary 1 (mlleaks.MLLeaksAttack, one shadow with the
target's recipe, dropout included), adversary 3 (mlleaks.ThresholdAttack, no shadow) and the loss attack.
"""

from __future__ import annotations

import numpy as np

from .. import data, metrics, models
from ..attacks.loss import LossAttack
from ..attacks.mlleaks import MLLeaksAttack, ThresholdAttack, noise_records
from ..blackbox import BlackBox
from ..progress import progress
from ..recipe import TrainingRecipe
from ._entry import Entry, Outcome, auc_difference, cell, new_figure, result_cell, row

ATTACKS = ("adversary 1 (one shadow, top-3)", "adversary 3 (max posterior)", "loss attack")


def _config_name(hidden, activation, n) -> str:
    return f"{'-'.join(map(str, hidden))} {activation}, {n:,} members"


def _experiment(scale: dict, *, device, seed: int) -> Outcome:
    configs = [(tuple(h), a, n) for h, a, n in scale["configs"]]
    n_max = max(n for _, _, n in configs)
    X, y = data.load_purchase(n_classes=100, n_records=max(20_000, 4 * n_max))
    candidates_per_side = scale["candidates"]
    noise = noise_records(1000, 600, "binary", random_state=seed)
    bar = progress(total=2 * len(configs), desc="dropout targets")
    results, accuracy = {}, {}
    for hidden, activation, n in configs:
        split = data.target_shadow_split(len(X), n_target=n, random_state=seed)
        pool = split.shadow[:2 * n]
        rng = np.random.default_rng(seed)
        cand = np.concatenate([rng.choice(split.target_in, min(n, candidates_per_side), replace=False),
                               rng.choice(split.target_out, min(n, candidates_per_side), replace=False)])
        is_member = np.isin(cand, split.target_in)
        for p in (0.0, 0.5):
            recipe = TrainingRecipe(hidden=hidden, activation=activation, dropout=p, epochs=scale["epochs"])
            model = models.MLP(600, 100, hidden=hidden, activation=activation, dropout=p,
                               random_state=seed).to(device)
            models.train(model, X[split.target_in], y[split.target_in], epochs=recipe.epochs, random_state=seed)
            model = model.cpu()
            key = (_config_name(hidden, activation, n), p)
            accuracy[key] = (models.accuracy(model, X[split.target_in], y[split.target_in]),
                             models.accuracy(model, X[split.target_out], y[split.target_out]))
            box = BlackBox(model)
            scores = {
                ATTACKS[0]: MLLeaksAttack(1, n, recipe=recipe, random_state=seed + 1).fit(X[pool], y[pool])
                .score(box, X[cand]),
                ATTACKS[1]: ThresholdAttack().fit(box, noise).score(box, X[cand]),
                ATTACKS[2]: LossAttack().score(box, X[cand], y[cand]),
            }
            results[key] = {name: (s, metrics.evaluate(s, is_member, n_boot=scale["n_boot"], random_state=seed))
                            for name, s in scores.items()}
            results[key]["is_member"] = is_member
            bar.update()
    bar.close()
    rows, verdicts = [], {}
    for hidden, activation, n in configs:
        name = _config_name(hidden, activation, n)
        base, defended = results[name, 0.0], results[name, 0.5]
        for p, res in ((0.0, base), (0.5, defended)):
            train_acc, test_acc = accuracy[name, p]
            rows.append(row(f"{name}, dropout {p:g} (train {train_acc:.2f}, test {test_acc:.2f})",
                            "near chance (qualitative)" if p else "-",
                            "AUC " + " · ".join(f"{a.split(' (')[0]} {result_cell(res[a][1])}" for a in ATTACKS)))
        best = max(ATTACKS, key=lambda a: base[a][1].auc)
        drop = auc_difference(base[best][0], defended[best][0], base["is_member"], scale["n_boot"], seed)
        cost = accuracy[name, 0.0][1] - accuracy[name, 0.5][1]
        excess = base[best][1].auc - 0.5
        verdicts[name] = (drop, cost, excess, best)
    # Salem et al.: near chance at a small accuracy cost -> half the excess AUC gone for at most 3 points of accuracy
    good = [name for name, (drop, cost, excess, _) in verdicts.items() if drop[0] >= excess / 2 and cost <= 0.03]
    reproduced = bool(good)
    parts = [f"{name}: the strongest attack ({best.split(' (')[0]}) loses {cell(*drop, digits=3)} AUC of its "
             f"{excess:.2f} above chance, and the model's test accuracy changes by {-cost:+.2f}"
             for name, (drop, cost, excess, best) in verdicts.items()]
    summary = "; ".join(parts) + (". Dropout brings the attack half-way to chance or more at a small cost in: "
                                  + ", ".join(good) + "." if good else
                                  ". Nowhere does dropout remove half the excess AUC for at most 3 points of "
                                  "test accuracy.")
    fig, ax = new_figure(figsize=(7, 4))
    names = [_config_name(h, a, n) for h, a, n in configs]
    x = np.arange(len(names))
    for k, p in enumerate((0.0, 0.5)):
        for j, attack in enumerate(ATTACKS):
            values = np.array([results[name, p][attack][1].auc for name in names])
            ax.plot(x + (k - 0.5) * 0.3, values, ["o", "s", "^"][j], color="C0" if p == 0 else "C3",
                    label=f"{attack}, dropout {p:g}")
    ax.axhline(0.5, color="grey", ls="--", lw=1)
    ax.set_xticks(x, names, fontsize=8)
    ax.set(ylabel="attack AUC", title="Salem et al.: dropout 0.5 against the ML-Leaks adversaries")
    ax.legend(fontsize=7, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    return Outcome(rows=rows, reproduced=reproduced, summary=summary, figure=fig,
                   scale=f"purchase-100, targets {', '.join(names)}, {scale['epochs']} epochs each, with and without "
                         f"dropout 0.5; {candidates_per_side:,} members and as many non-members as candidates "
                         "(notebooks 03 and 11: 256 tanh, 1,000-2,500 members)",
                   numbers={f"{name} | dropout {p:g}": {"accuracy": accuracy[name, p],
                                                        **{a: results[name, p][a][1].auc for a in ATTACKS}}
                            for name in names for p in (0.0, 0.5)})


ENTRY = Entry(
    name="salem-dropout",
    title="Salem et al. 2019: dropout as a defence",
    notebooks=("03", "11"),
    claim="Dropout (p = 0.5) brings the membership attack near chance at a small accuracy cost.",
    paper="dropout (p = 0.5) and model stacking bring the attack near chance at a small accuracy cost (**M**)",
    source="PAPERS.md, Salem et al. 2019 (NDSS, ML-Leaks)",
    course="one hidden layer of 256 tanh units on 2,500 members still fits its members with dropout 0.5 (train "
           "accuracy 1.00): LiRA's TPR at 1% FPR 0.527 with and without it (notebook 11).",
    at_scale="more members (10,000) and a deeper network with a dropout layer after each hidden layer, where "
             "dropout can stop the model from fitting every member.",
    sizes={"tiny": {"configs": [[[32], "tanh", 300]], "epochs": 3, "candidates": 300, "n_boot": 20},
           "full": {"configs": [[[256], "tanh", 2500], [[256], "tanh", 10000], [[128, 128, 128], "relu", 10000]],
                    "epochs": 30, "candidates": 2500, "n_boot": 200}},
    experiment=_experiment,
    module="salem_dropout",
)
