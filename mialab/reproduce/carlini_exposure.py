"""Carlini et al. 2019 (The Secret Sharer): exposure peaks near the best validation loss (notebook 10).

Notebook 10 trains its character GRU for 30 epochs and the validation loss never turns up (it rises by 0.01), so
there is no "after the best validation loss" to look at: exposure is still creeping up at the end. Here the same
model (sequence.train_language_model) is trained far past its best validation loss, wider and on a smaller
corpus so that it overfits, and the exposure (metrics.exposure of sequence.canary_rank among all 10^5
candidates) of every canary is measured after every epoch.
"""

from __future__ import annotations

import numpy as np

from .. import metrics, sequence
from ..progress import progress
from ._entry import Entry, Outcome, cell, mean_interval, new_figure, row

PREFIXES = ["my secret code is ", "the door pin is ", "my bank account is ", "the safe combination is ",
            "my lucky number is ", "the alarm code is ", "my locker code is ", "the vault key is ",
            "my card pin is ", "the server code is ", "my pass code is ", "the gate code is "]


def _experiment(scale: dict, *, device, seed: int) -> Outcome:
    insertions = list(scale["insertions"])
    prefixes = PREFIXES[:len(insertions)]
    secrets = np.random.default_rng(seed).choice(10 ** 5, size=len(prefixes), replace=False)
    canaries = {sequence.canary_text(int(s), prefix=p): k for s, p, k in zip(secrets, prefixes, insertions)}
    corpus = sequence.synthetic_corpus(n_sentences=scale["sentences"], canaries=canaries, random_state=seed)
    val_text = sequence.synthetic_corpus(n_sentences=200, random_state=seed + 1)
    bar = progress(total=scale["epochs"], desc="epochs, with exposures")

    def watch(model, epoch):
        bar.update()
        return [metrics.exposure(sequence.canary_rank(sequence.candidate_log_perplexities(model, p), int(s)), 10 ** 5)
                for p, s in zip(prefixes, secrets)]

    _, history = sequence.train_language_model(corpus, epochs=scale["epochs"], hidden=scale["hidden"],
                                               val_text=val_text, on_epoch=watch, random_state=seed)
    bar.close()
    exposures = np.array(history["on_epoch"])              # (epochs, canaries)
    val = np.array(history["val_loss"])
    epochs = np.arange(1, len(val) + 1)
    best = int(np.argmin(val)) + 1
    mean = exposures.mean(axis=1)
    peak = int(np.argmax(mean)) + 1
    at = {e: mean_interval(exposures[e - 1], random_state=seed) for e in sorted({best, peak, len(val)})}
    change = mean_interval(exposures[-1] - exposures[best - 1], random_state=seed)
    near = abs(peak - best) <= max(3, len(val) // 10)
    reproduced = bool(near and change[2] <= 0)
    rows = [row(f"epoch {e}" + (" (best validation loss)" if e == best else "") + (" (peak exposure)" if e == peak
                                                                                    else "")
                + (" (last)" if e == len(val) else ""), "peak near the best validation loss (qualitative)"
                if e == best else "-", f"mean exposure {cell(*at[e], digits=1)} bits",
                **{"validation loss": f"{val[e - 1]:.3f}"}) for e in sorted(at)]
    rows.append(row("last epoch − best-validation epoch", "exposure falls after the peak (qualitative)",
                    f"{cell(*change, digits=1)} bits"))
    summary = (f"the validation loss is lowest at epoch {best} ({val[best - 1]:.3f}) and ends at {val[-1]:.3f} "
               f"(epoch {len(val)}); the mean exposure of {len(prefixes)} canaries peaks at epoch {peak} "
               f"({mean[peak - 1]:.1f} bits) and changes by {cell(*change, digits=1)} bits from the best epoch to the "
               "last: " + ("it peaks near the best validation loss and falls after it." if reproduced else
                           "it does not fall after the best validation loss" + (" (its peak is near it)." if near
                                                                                 else ".")))
    fig, ax = new_figure(figsize=(7, 4))
    for k in sorted(set(insertions)):
        cols = [j for j, v in enumerate(insertions) if v == k]
        ax.plot(epochs, exposures[:, cols].mean(axis=1), "o-", ms=3, label=f"mean exposure, inserted {k}×")
    ax.plot(epochs, mean, "k-", lw=2, label="mean exposure, all canaries")
    ax.set(xlabel="epoch", ylabel="exposure (bits)")
    ax2 = ax.twinx()
    ax2.plot(epochs, val, "k--", label="validation loss")
    ax2.axvline(best, color="0.5", ls=":", label="best validation loss")
    ax2.set_ylabel("validation loss (nats/char)")
    ax.set_title("Carlini et al.: exposure over training, past the best validation loss")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="center right")
    return Outcome(rows=rows, reproduced=reproduced, summary=summary, figure=fig,
                   scale=f"character GRU (128 → {scale['hidden']} hidden units) on {scale['sentences']} sentences "
                         f"with {len(prefixes)} canaries inserted {sorted(set(insertions))} times, "
                         f"{scale['epochs']} epochs, exposure of every canary among all 10^5 candidates after every "
                         "epoch; the GRU trains on the CPU (notebook 10: 700 sentences, 128 units, 30 epochs, "
                         "2 canaries watched)",
                   numbers={"val_loss": val.tolist(), "mean_exposure": mean.tolist(), "best_epoch": best,
                            "peak_epoch": peak, "last_minus_best": change})


ENTRY = Entry(
    name="carlini-exposure",
    title="Carlini et al. 2019: exposure peaks near the best validation loss",
    notebooks=("10",),
    claim="A canary's exposure rises during training and peaks near the epoch of the best validation loss.",
    paper="exposure = log2 |R| − log2 rank(canary); exposure peaks near the best validation loss; DP-SGD is the "
          "effective fix (**M**)",
    source="PAPERS.md, Carlini 2019 (Secret Sharer)",
    course="30 epochs, two canaries: best validation loss at epoch 26, exposure 8.7 → 10.3 and 15.6 → 16.6 bits "
           "from there to epoch 30 (still rising; the validation loss rose by 0.01 only).",
    at_scale="training long past the best validation loss (a wider GRU on a smaller corpus, so that it overfits "
             "clearly), watching every canary's exposure after every epoch.",
    sizes={"tiny": {"sentences": 60, "insertions": [2, 4], "hidden": 16, "epochs": 2},
           "full": {"sentences": 400, "insertions": [1, 1, 2, 2, 4, 4, 8, 8], "hidden": 256, "epochs": 50}},
    experiment=_experiment,
    module="carlini_exposure",
)
