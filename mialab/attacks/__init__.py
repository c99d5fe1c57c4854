"""Membership inference attacks. Each turns a black box's answers on candidate records into one score per
record (higher = more likely a member); `mialab.metrics` turns scores into numbers. Every attack class has the
shape of `mialab.attacks.base.Attack`: fit(...) -> self, score(target, X, y) -> (n,), predict from `threshold_`.

| class | paper | notebook |
| --- | --- | --- |
| `shadow.ShadowAttack` | Shokri et al. 2017, shadow models | 02 |
| `mlleaks.MLLeaksAttack` | Salem et al. 2019, adversary 1 (one shadow, sorted top-k) | 03 |
| `mlleaks.TransferAttack` | Salem et al. 2019, adversary 2 (shadow on other data) | 03 |
| `mlleaks.ThresholdAttack` | Salem et al. 2019, adversary 3 (no shadow, noise threshold) | 03 |
| `loss.LossAttack` | Yeom et al. 2018, loss threshold | 04 |
| `loss.CorrectnessAttack` | Yeom et al. 2018, 0-1 loss (the gap attack) | 01, 04 |
| `calibrated.MetricAttack` | Song & Mittal 2021, calibrated metric thresholds | 04 |
| `lira.LiRA` | Carlini et al. 2022, likelihood ratio | 05 |
| `rmia.RMIA` | Zarifzadeh et al. 2024, relative membership inference | 05 |
| `label_only.GapAttack` | Choquette-Choo et al. 2021, gap attack | 05 |
| `label_only.NoiseRobustnessAttack` | Choquette-Choo et al. 2021, noise robustness | 05 |
| `label_only.BoundaryDistanceAttack` | Choquette-Choo et al. 2021, Li & Zhang 2021, boundary distance | 05 |
| `whitebox.WhiteBoxAttack` | Nasr et al. 2019, white-box features (loss, gradient and activation norms) | 06 |
| `generative.DiscriminatorAttack` | Hayes et al. 2019 (LOGAN), white-box discriminator | 07 |
| `generative.LoganBlackBoxAttack` | Hayes et al. 2019 (LOGAN), a GAN trained on the target's samples | 07 |
| `generative.MonteCarloAttack` | Hilprecht et al. 2019, samples within an epsilon-ball | 07 |
| `generative.ReconstructionAttack` | Hilprecht et al. 2019, VAE reconstruction distance | 07 |
| `generative.NearestSampleAttack` | Chen et al. 2020 (GAN-Leaks), distance to the nearest sample | 07 |

Shared steps: `signals` (the records x models signal matrix, leave-one-out over many models), `features`
(confidence, entropy, logit scaling), `thresholds` (per-class thresholds), `synthesis` (shadow data by queries),
`attribute` (Yeom's attribute inference), `vulnerable` (per-record leakage, Long et al.), `families` (targets and
shadows of scikit-learn's model families and the family x family transfer table, Truex et al., notebook 03),
`extraction` and `hyperparameters` (stealing a model or its regularisation, notebook 09: they return models, not
scores), `inversion` (model inversion and MAP attribute inference, Fredrikson et al. 2014 and 2015, notebook 08:
they return attribute values and images, not scores), `provenance` (Song & Shmatikov 2019, notebook 13: user-level
membership in a text model, as plain functions: rank histograms of a user's texts, shadow models and an audit
model that scores users, not records).
"""

from .base import Attack, NotFittedError, TrainingRecipe
from .label_only import BoundaryDistanceAttack, GapAttack, NoiseRobustnessAttack
from .lira import LiRA
from .loss import CorrectnessAttack, LossAttack
from .calibrated import MetricAttack
from .generative import (DiscriminatorAttack, LoganBlackBoxAttack, MonteCarloAttack, NearestSampleAttack,
                         ReconstructionAttack)
from .mlleaks import MLLeaksAttack, ThresholdAttack, TransferAttack
from .rmia import RMIA
from .shadow import ShadowAttack
from .whitebox import WhiteBoxAttack

__all__ = ["Attack", "NotFittedError", "TrainingRecipe", "ShadowAttack", "MLLeaksAttack", "TransferAttack",
           "ThresholdAttack", "LossAttack", "CorrectnessAttack", "MetricAttack", "LiRA", "RMIA", "GapAttack",
           "NoiseRobustnessAttack", "BoundaryDistanceAttack", "DiscriminatorAttack", "LoganBlackBoxAttack",
           "MonteCarloAttack", "ReconstructionAttack", "NearestSampleAttack", "WhiteBoxAttack"]
