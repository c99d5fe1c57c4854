"""No silent waits (issue 27): the package's long training loops show a tqdm bar (mialab.progress: after 2 s, so
short runs print nothing; off with MIALAB_PROGRESS=0)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mialab import generative_models, progress, sequence
from mialab.defenses import dpsgd

RNG = np.random.default_rng(0)
IMAGES = RNG.random((40, 16)).astype(np.float32)
X, Y = RNG.normal(size=(60, 5)).astype(np.float32), RNG.integers(0, 2, 60)

RUNS = {
    "VAE": (generative_models, lambda: generative_models.train_vae(IMAGES, steps=3)),
    "GAN": (generative_models, lambda: generative_models.train_gan(IMAGES, steps=3)),
    "language model": (sequence, lambda: sequence.train_language_model("abcdefgh" * 40, epochs=2, seq_len=8)),
    "DP-SGD": (dpsgd, lambda: dpsgd.train_dpsgd(torch.nn.Linear(5, 2), X, Y, noise_multiplier=1.0, epochs=2,
                                               batch_size=20)),
}


@pytest.mark.parametrize("name", list(RUNS))
def test_long_training_shows_a_progress_bar(name, monkeypatch):
    module, run = RUNS[name]
    bars = []

    def recording(iterable=None, **kwargs):
        bars.append(kwargs)
        return progress.progress(iterable, **kwargs)

    monkeypatch.setattr(module, "progress", recording)
    run()
    assert bars and bars[0].get("desc") and bars[0].get("delay", 0) > 0, bars


def test_progress_bars_are_off_when_asked(monkeypatch):
    monkeypatch.setenv("MIALAB_PROGRESS", "0")
    assert progress.progress(range(3)).disable
    monkeypatch.setenv("MIALAB_PROGRESS", "1")
    assert not progress.progress(range(3)).disable
