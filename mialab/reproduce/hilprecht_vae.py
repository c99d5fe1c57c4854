"""Hilprecht et al. 2019 / Chen et al. 2020: white-box beats black-box on the VAE (notebook 07).

Notebook 07 trains a VAE on 200 digits: the black-box nearest-sample attack (GAN-Leaks) does about as well as the
white-box reconstruction attack there (AUC 0.809 vs 0.787, intervals overlapping). We train the same VAE
(generative_models.train_vae) on more members, draw more samples and more reconstructions, and compare the
reconstruction attack (white-box: the encoder and the decoder) with the best black-box attack on the same
samples (Monte Carlo and nearest sample), with paired bootstrap intervals on their difference.
"""

from __future__ import annotations

import numpy as np

from .. import data, metrics
from .. import generative_models as generative
from ..attacks import generative as attacks
from ..progress import progress
from ._entry import Entry, Outcome, auc_difference, cell, new_figure, result_cell, row

WHITE = "reconstruction (white-box)"
BLACK = ("nearest sample (GAN-Leaks, black-box)", "Monte Carlo (black-box)")


def _experiment(scale: dict, *, device, seed: int) -> Outcome:
    X, _ = data.load_digits()
    order = np.random.default_rng(seed).permutation(len(X))
    bar = progress(total=len(scale["n_train"]), desc="VAEs")
    results, diffs = {}, {}
    for n in scale["n_train"]:
        X_train, X_unseen = X[order[:n]], X[order[n:2 * n]]
        candidates = np.concatenate([X_train, X_unseen])
        is_member = np.arange(2 * n) < n
        vae = generative.train_vae(X_train, steps=scale["steps"], random_state=seed)
        samples = generative.sample(vae, scale["samples"], random_state=seed + 1)
        scores = {WHITE: attacks.ReconstructionAttack(n_draws=scale["draws"], random_state=seed).score(vae, candidates),
                  BLACK[0]: attacks.NearestSampleAttack().score(samples, candidates),
                  BLACK[1]: attacks.MonteCarloAttack(percentile=1, random_state=seed).score(samples, candidates)}
        results[n] = {name: metrics.evaluate(s, is_member, fprs=(0.01,), n_boot=scale["n_boot"], random_state=seed)
                      for name, s in scores.items()}
        best = max(BLACK, key=lambda name: results[n][name].auc)
        diffs[n] = (best, auc_difference(scores[WHITE], scores[best], is_member, scale["n_boot"], seed))
        bar.update()
    bar.close()
    rows = []
    for n in scale["n_train"]:
        best, diff = diffs[n]
        for name, result in results[n].items():
            rows.append(row(f"{n} members: {name}", "white-box ≥ black-box (qualitative)" if name == WHITE else "-",
                            f"AUC {result_cell(result)}", **{"TPR@1%FPR": result_cell(result, "tpr@1%fpr"),
                                                              "white − best black": cell(*diff, digits=3)
                                                              if name == WHITE else ""}))
    largest = scale["n_train"][-1]
    sign = [diffs[n][1][1] > 0 for n in scale["n_train"]]
    reproduced = bool(diffs[largest][1][1] > 0)
    summary = ("the reconstruction attack minus the best black-box attack, by training set size: "
               + "; ".join(f"{n}: {cell(*diffs[n][1], digits=3)}" for n in scale["n_train"])
               + (f". White-box is clearly ahead at {largest} members" if reproduced else
                  f". White-box is not clearly ahead at {largest} members")
               + f" (ahead with an interval above 0 at {sum(sign)} of {len(sign)} sizes).")
    fig, ax = new_figure(figsize=(6, 3.8))
    x = np.array(scale["n_train"])
    for name, style in ((WHITE, "o-"), (BLACK[0], "s--"), (BLACK[1], "^:")):
        values = np.array([results[n][name].auc for n in x])
        low = np.array([results[n][name].ci["auc"][0] for n in x])
        high = np.array([results[n][name].ci["auc"][1] for n in x])
        ax.errorbar(x, values, yerr=[values - low, high - values], fmt=style, capsize=3, label=name)
    ax.axhline(0.5, color="grey", ls="--", lw=1)
    ax.set(xscale="log", xlabel="digits the VAE trains on (members)", ylabel="AUC",
           title="Hilprecht et al.: white-box vs black-box on a VAE")
    ax.legend(fontsize=8)
    return Outcome(rows=rows, reproduced=reproduced, summary=summary, figure=fig,
                   scale=f"digits, VAE 64-256-8-256-64 trained {scale['steps']} full-batch steps on "
                         f"{', '.join(map(str, scale['n_train']))} members (as many unseen digits as non-members), "
                         f"{scale['samples']:,} samples, {scale['draws']} reconstructions per record; the VAE "
                         "trains on the CPU (notebook 07: 200 members, 20,000 samples, 50 draws)",
                   numbers={str(n): {"white_minus_best_black": diffs[n][1], "best_black": diffs[n][0],
                                     **{k: v.auc for k, v in results[n].items()}} for n in scale["n_train"]})


ENTRY = Entry(
    name="hilprecht-vae",
    title="Hilprecht et al. 2019: white-box ≥ black-box on the VAE",
    notebooks=("07",),
    claim="With the model's weights (the VAE's encoder and decoder) an attacker infers membership at least as well "
          "as from generated samples alone.",
    paper="VAEs leak more than GANs; set-level inference much stronger than single records (**H**); white-box "
          "≥ black-box is qualitative in notebook 07's table (**L** for Hayes et al.'s statement)",
    source="PAPERS.md, Hilprecht et al. (generative models); Hayes et al. (LOGAN)",
    course="200 members: reconstruction AUC 0.787 [0.751, 0.827] against nearest sample 0.809 [0.767, 0.844].",
    at_scale="more members per VAE (up to 800 of the 1,797 digits), more samples and more reconstructions per "
             "record: samples spread over more members, while the reconstruction still measures each record's fit.",
    sizes={"tiny": {"n_train": [50], "steps": 100, "samples": 2000, "draws": 5, "n_boot": 20},
           "full": {"n_train": [100, 200, 400, 800], "steps": 3000, "samples": 50_000, "draws": 100,
                    "n_boot": 200}},
    experiment=_experiment,
    module="hilprecht_vae",
)
