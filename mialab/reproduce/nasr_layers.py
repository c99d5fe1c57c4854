"""Nasr et al. 2019: the last layers' gradients leak the most (notebook 06).

Notebook 06's target has one hidden layer, so its two weight matrices' gradient norms both factor through the
same error vector and rank records alike (AUC 0.869 = 0.869). A deeper MLP lets the layers differ: we train
the course's purchase target with several hidden layers, score every candidate by minus each layer's gradient
norm (whitebox.whitebox_features, closed form) and fit Nasr et al.'s attack (whitebox.WhiteBoxAttack, shadow
models with the same recipe) on the loss alone, the last layer's gradient, all layers' gradients, and everything.
"""

from __future__ import annotations

import numpy as np

from .. import data, metrics, models
from ..attacks import whitebox
from ..progress import progress
from ..recipe import TrainingRecipe
from ._entry import Entry, Outcome, auc_difference, cell, new_figure, result_cell, row


def _train(X, y, recipe: TrainingRecipe, device, seed: int):
    model = models.MLP(600, 100, hidden=recipe.hidden, activation=recipe.activation, random_state=seed).to(device)
    models.train(model, X, y, epochs=recipe.epochs, batch_size=recipe.batch_size, lr=recipe.lr, random_state=seed)
    return model.cpu()


def _experiment(scale: dict, *, device, seed: int) -> Outcome:
    n = scale["n_train"]
    X, y = data.load_purchase(n_classes=100, n_records=max(20_000, 2 * n + 4 * n))
    split = data.target_shadow_split(len(X), n_target=n, random_state=seed)
    candidates = np.concatenate([split.target_in, split.target_out])
    X_cand, y_cand = X[candidates], y[candidates]
    is_member = np.arange(len(candidates)) < n
    deep = TrainingRecipe(hidden=tuple(scale["hidden"]), epochs=scale["epochs"])
    shallow = TrainingRecipe(hidden=(256,), epochs=scale["epochs"])
    bar = progress(total=4, desc="white-box layers")
    per_layer, accuracy = {}, {}
    for name, recipe in (("1 hidden layer", shallow), (f"{len(deep.hidden)} hidden layers", deep)):
        model = _train(X[split.target_in], y[split.target_in], recipe, device, seed)
        accuracy[name] = (models.accuracy(model, X[split.target_in], y[split.target_in]),
                          models.accuracy(model, X[split.target_out], y[split.target_out]))
        norms = whitebox.whitebox_features(model, X_cand, y_cand)["gradient_norms"]
        per_layer[name] = (model, norms)
        bar.update()
    deep_name = f"{len(deep.hidden)} hidden layers"
    model, norms = per_layer[deep_name]
    pool = split.shadow[: 2 * n * scale["shadows"]] if len(split.shadow) >= 2 * n * scale["shadows"] else split.shadow
    variants = {"loss only (black-box)": ("loss",), "last layer's gradient": ("last_gradient",),
                "all layers' gradients": ("gradients",), "loss + gradients + activations":
                ("loss", "gradients", "activations")}
    full = whitebox.WhiteBoxAttack(scale["shadows"], n, recipe=deep, random_state=seed + 1).fit(X[pool], y[pool])
    bar.update()
    attacks = {name: whitebox.WhiteBoxAttack(scale["shadows"], n, groups=groups, recipe=deep, random_state=seed + 1)
               .fit(X[pool], y[pool], shadows=full.shadows_) for name, groups in variants.items()}
    attack_results = {name: metrics.evaluate(a.score(model, X_cand, y_cand), is_member, n_boot=scale["n_boot"],
                                             random_state=seed) for name, a in attacks.items()}
    bar.update()
    bar.close()
    rows = []
    layer_results = {}
    for name, (_, layer_norms) in per_layer.items():
        train_acc, test_acc = accuracy[name]
        for layer in range(layer_norms.shape[1]):
            result = metrics.evaluate(-layer_norms[:, layer], is_member, n_boot=scale["n_boot"], random_state=seed)
            layer_results[name, layer] = result
            which = "first" if layer == 0 else "last" if layer == layer_norms.shape[1] - 1 else f"{layer + 1}."
            paper = "leaks most (qualitative)" if which == "last" else "-"
            rows.append(row(f"{name} (train {train_acc:.2f}, test {test_acc:.2f}): {which} layer's gradient norm",
                            paper, f"AUC {result_cell(result)}", **{"TPR@1%FPR": result_cell(result, "tpr@1%fpr")}))
    for name, result in attack_results.items():
        rows.append(row(f"{deep_name}: WhiteBoxAttack, {name}", "-", f"AUC {result_cell(result)}",
                        **{"TPR@1%FPR": result_cell(result, "tpr@1%fpr")}))
    n_layers = norms.shape[1]
    last_minus_first = auc_difference(-norms[:, -1], -norms[:, 0], is_member, scale["n_boot"], seed)
    shallow_norms = per_layer["1 hidden layer"][1]
    shallow_diff = auc_difference(-shallow_norms[:, -1], -shallow_norms[:, 0], is_member, scale["n_boot"], seed)
    deep_aucs = [layer_results[deep_name, layer].auc for layer in range(n_layers)]
    best_layer = int(np.argmax(deep_aucs))
    reproduced = last_minus_first[1] > 0 and best_layer == n_layers - 1
    summary = (f"with {len(deep.hidden)} hidden layers the gradient norms' AUCs run "
               + " → ".join(f"{a:.3f}" for a in deep_aucs)
               + f" from the first layer to the last (last − first {cell(*last_minus_first, digits=3)}; one hidden "
               f"layer: {cell(*shallow_diff, digits=3)}); the most revealing layer is "
               + ("the last." if best_layer == n_layers - 1
                  else f"layer {best_layer + 1} of {n_layers}, not the last."))
    fig, ax = new_figure(figsize=(6, 3.8))
    for name, (_, layer_norms) in per_layer.items():
        k = layer_norms.shape[1]
        results = [layer_results[name, layer] for layer in range(k)]
        values = np.array([r.auc for r in results])
        low = np.array([r.ci["auc"][0] for r in results])
        high = np.array([r.ci["auc"][1] for r in results])
        ax.errorbar(np.arange(1, k + 1), values, yerr=[values - low, high - values], fmt="o-", capsize=3, label=name)
    ax.axhline(attack_results["loss only (black-box)"].auc, color="k", ls=":", lw=1, label="loss attack (black-box)")
    ax.set_xticks(np.arange(1, len(deep.hidden) + 2))
    ax.set(xlabel="linear layer (1 = input side)", ylabel="AUC of minus the gradient norm",
           title="Nasr et al.: which layer's gradient reveals membership")
    ax.legend(fontsize=8)
    return Outcome(rows=rows, reproduced=bool(reproduced), summary=summary, figure=fig,
                   scale=f"purchase-100, MLP 600-{'-'.join(map(str, deep.hidden))}-100 (tanh, {deep.epochs} epochs) "
                         f"on {n} members against {n} non-members, {scale['shadows']} shadow models; "
                         f"one hidden layer of 256 for comparison (notebook 06's target)",
                   numbers={"deep_layer_aucs": deep_aucs, "last_minus_first": last_minus_first,
                            "shallow_last_minus_first": shallow_diff,
                            "attacks": {k: v.auc for k, v in attack_results.items()}})


ENTRY = Entry(
    name="nasr-layers",
    title="Nasr et al. 2019: the last layer's gradients leak most",
    notebooks=("06",),
    claim="In a white-box attack the gradients of the last layers carry the most membership signal.",
    paper="white-box beats black-box; gradients (last layer most) add leakage; activations alone add little "
          "(**H**, qualitative)",
    source="PAPERS.md, Nasr, Shokri, Houmansadr 2019 (S&P)",
    course="one hidden layer of 256 units: the first and the last layer's gradient norms both give AUC 0.869.",
    at_scale="a deeper MLP (several hidden layers) lets the layers' gradients differ: each layer's norm is the "
             "back-propagated error times that layer's input, and only the layers near the output see the error "
             "before it is mixed through the network.",
    sizes={"tiny": {"n_train": 300, "hidden": [32, 32], "epochs": 3, "shadows": 1, "n_boot": 20},
           "full": {"n_train": 2500, "hidden": [512, 256, 128], "epochs": 30, "shadows": 2, "n_boot": 200}},
    experiment=_experiment,
    module="nasr_layers",
)
