"""Defences against membership inference: each trains (or wraps) a model whose answers leak less, at some cost in
accuracy; notebook 11 measures them with the strongest attacks.

stacking (Salem et al. 2019) · dpsgd (DP-SGD through Opacus, DP bounds, empirical epsilon) · relaxloss (Chen et
al. 2022) · adversarial (Nasr et al. 2018) · distillation (DMP-like, Shejwalkar & Houmansadr 2021) · memguard
(MemGuard-style output softening, Jia et al. 2019) · outliers (remove the most exposed records before training,
after Long et al. 2018). L2, dropout and early stopping are training options
(mialab.recipe.TrainingRecipe); rounding, top-k and label-only answers are mialab.blackbox.BlackBox outputs."""
