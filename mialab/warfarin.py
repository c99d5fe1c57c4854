"""A synthetic warfarin cohort made from the published IWPC pharmacogenetic dosing formula (no real patient).

    cohort = warfarin.load_warfarin(n_records=4000, random_state=0)
    cohort.X            # (n, 15) float64: the dosing model's inputs, VKORC1 one-hot in columns 3-4
    cohort.sqrt_dose    # (n,) the square root of the stable weekly dose (mg), what the model predicts
    cohort.vkorc1       # (n,) int64: 0 = G/G, 1 = A/G, 2 = A/A, the genotype the attacker infers

Fredrikson et al. (2014) attacked a linear model trained on the International Warfarin Pharmacogenetics
Consortium (IWPC) data, which cannot be redistributed. This module draws patients at random (age, height,
weight, race, genotypes, two co-medications) and gives each the dose of the IWPC formula (NEJM 2009) plus
Gaussian noise on the square-root scale. The coefficients are recalled from the published formula and not
re-checked against the paper (medium confidence); the attribute frequencies and the noise level are ours.
Datasheet: datasets/warfarin.md. Taught in notebook 08, section 2.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import check_positive_int, check_random_state, check_scalar

#: IWPC pharmacogenetic formula: sqrt(weekly dose in mg) = intercept + sum(coefficient * feature) (medium confidence)
INTERCEPT = 5.6044
FEATURES = (
    ("age_decades", -0.2614),
    ("height_cm", 0.0087),
    ("weight_kg", 0.0128),
    ("vkorc1_AG", -0.8677),
    ("vkorc1_AA", -1.6974),
    ("cyp2c9_12", -0.5211),
    ("cyp2c9_13", -0.9357),
    ("cyp2c9_22", -1.0616),
    ("cyp2c9_23", -1.9206),
    ("cyp2c9_33", -2.3312),
    ("asian", -0.1092),
    ("black", -0.2760),
    ("mixed_race", -0.1032),
    ("enzyme_inducer", 1.1816),
    ("amiodarone", -0.5503),
)
FEATURE_NAMES = tuple(name for name, _ in FEATURES)
COEFFICIENTS = np.array([c for _, c in FEATURES])
#: the columns of X that hold VKORC1 (A/G, A/A), and the one-hot pattern of each genotype 0 = G/G, 1 = A/G, 2 = A/A
VKORC1_COLUMNS = (3, 4)
VKORC1_ENCODING = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
VKORC1_NAMES = ("G/G", "A/G", "A/A")

# our choices (not from the IWPC data): race shares, VKORC1 A-allele frequency by race (Hardy-Weinberg),
# CYP2C9 genotype shares (*1/*1, *1/*2, *1/*3, *2/*2, *2/*3, *3/*3), co-medication rates, noise on sqrt(dose)
RACES = ("white", "asian", "black", "mixed")
RACE_SHARES = np.array([0.55, 0.30, 0.10, 0.05])
VKORC1_A_FREQUENCY = np.array([0.40, 0.90, 0.10, 0.45])
CYP2C9_SHARES = np.array([0.70, 0.14, 0.10, 0.02, 0.03, 0.01])
INDUCER_RATE, AMIODARONE_RATE = 0.02, 0.06
NOISE_SD = 0.65


class Cohort(NamedTuple):
    """A synthetic warfarin cohort (see the module docstring)."""

    X: np.ndarray          # (n, 15) float64, columns FEATURE_NAMES
    sqrt_dose: np.ndarray  # (n,) float64
    dose: np.ndarray       # (n,) float64, mg per week
    vkorc1: np.ndarray     # (n,) int64 in {0, 1, 2}
    race: np.ndarray       # (n,) int64, index into RACES


def iwpc_sqrt_dose(X) -> np.ndarray:
    """The IWPC formula's square-root weekly dose for records X (n, 15) in FEATURE_NAMES order -> (n,)."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != len(FEATURE_NAMES):
        raise ValueError(f"`X` must have shape (n, {len(FEATURE_NAMES)}) (columns mialab.warfarin.FEATURE_NAMES); "
                         f"got shape {X.shape}.")
    return INTERCEPT + X @ COEFFICIENTS


def load_warfarin(n_records: int = 4000, random_state: int = 0, noise_sd: float = NOISE_SD) -> Cohort:
    """Draw `n_records` synthetic patients and their doses from the IWPC formula plus N(0, noise_sd^2) on
    sqrt(dose): returns a Cohort (X (n, 15), sqrt_dose, dose, vkorc1, race). Synthetic data, see datasets/warfarin.md.
    Taught in notebook 08, section 2."""
    n = check_positive_int(n_records, "n_records", minimum=2)
    if n > 10_000_000:
        raise ValueError(f"`n_records` = {n} would not fit in memory comfortably; pass at most 10,000,000.")
    noise_sd = check_scalar(noise_sd, "noise_sd", low=0.0)
    rng = check_random_state(random_state)
    race = rng.choice(len(RACES), size=n, p=RACE_SHARES)
    age_decades = rng.integers(2, 10, size=n).astype(float)                 # 20-29 ... 90+
    height = rng.normal(np.where(race == 1, 163.0, 170.0), 9.0).clip(140, 200)
    weight = rng.normal(np.where(race == 1, 65.0, 80.0), 15.0).clip(40, 150)
    allele = VKORC1_A_FREQUENCY[race]
    vkorc1 = (rng.random(n) < allele).astype(np.int64) + (rng.random(n) < allele)  # copies of the A allele
    cyp2c9 = rng.choice(len(CYP2C9_SHARES), size=n, p=CYP2C9_SHARES)
    X = np.zeros((n, len(FEATURE_NAMES)))
    X[:, 0], X[:, 1], X[:, 2] = age_decades, height, weight
    X[:, 3:5] = VKORC1_ENCODING[vkorc1]
    X[:, 5:10] = np.eye(6)[cyp2c9][:, 1:]
    X[:, 10:13] = np.eye(4)[race][:, 1:]
    X[:, 13] = rng.random(n) < INDUCER_RATE
    X[:, 14] = rng.random(n) < AMIODARONE_RATE
    sqrt_dose = (iwpc_sqrt_dose(X) + rng.normal(0.0, noise_sd, size=n)).clip(0.5, None)
    return Cohort(X, sqrt_dose, sqrt_dose ** 2, vkorc1, race.astype(np.int64))


def genotype_prior(vkorc1) -> np.ndarray:
    """The share of each VKORC1 genotype (G/G, A/G, A/A) among `vkorc1` (n,) in {0, 1, 2} -> (3,)."""
    vkorc1 = np.asarray(vkorc1)
    if vkorc1.ndim != 1 or vkorc1.size == 0 or not np.isin(vkorc1, [0, 1, 2]).all():
        raise ValueError("`vkorc1` must be a non-empty array of genotypes 0 (G/G), 1 (A/G), 2 (A/A), shape (n,).")
    return np.bincount(vkorc1.astype(np.int64), minlength=3) / len(vkorc1)
