"""Label-only attacks (Choquette-Choo et al. 2021): the black box answers only its predicted class.

- the gap attack: member iff the target classifies the record correctly. On a balanced set of members and
  non-members its accuracy is exactly 1/2 + (train accuracy - test accuracy) / 2 (`gap_attack_accuracy`).
- the noise-robustness attack: query noisy copies of each record; members sit farther from the decision
  boundary, so more of their copies keep the right label. For binary records (purchase) the noise flips random
  bits; for images, Gaussian pixel noise or shifts by whole pixels.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import as_features, as_labels, check_choice, check_fraction, check_positive_int, check_seed
from ..blackbox import check_target, query_labels
from .base import Attack
from .augment import NOISES, noisy_copies
from .loss import CorrectnessAttack


def gap_attack_accuracy(train_accuracy: float, test_accuracy: float) -> float:
    """The gap attack's accuracy on a balanced set of members and non-members: 1/2 + (train - test) / 2.

    Its TPR is the train accuracy (members classified correctly) and its FPR the test accuracy, so accuracy =
    (TPR + 1 - FPR) / 2. (Choquette-Choo et al. 2021, Sec. 4; Yeom et al. 2018, Theorem 2.)"""
    for name, value in (("train_accuracy", train_accuracy), ("test_accuracy", test_accuracy)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
            raise ValueError(f"`{name}` must be an accuracy in [0, 1]; got {value!r}.")
    return 0.5 + (float(train_accuracy) - float(test_accuracy)) / 2


class GapAttack(CorrectnessAttack):
    """The gap attack: score 1.0 where the label-only target classifies the candidate correctly, else 0.0.

    The baseline every label-only attack must beat: its accuracy on balanced members and non-members is
    1/2 + gap/2 (gap_attack_accuracy). predict() calls members the correctly classified records. Same as
    mialab.attacks.loss.CorrectnessAttack (Yeom's 0-1-loss adversary), under the label-only name.

    Threat model:
        data:      none
        knowledge: none
        outputs:   any ("label", "probabilities", "rounded", "top_k"); only the predicted class is used
        queries:   one per candidate record
    Paper: C. A. Choquette-Choo, F. Tramèr, N. Carlini, N. Papernot, "Label-Only Membership Inference Attacks",
    ICML 2021 (Sec. 4, the gap attack).
    """


class NoiseRobustnessAttack(Attack):
    """Choquette-Choo et al.'s data-augmentation / noise-robustness attack against a label-only black box.

    score(target, X, y) -> (n,) in [0, 1]: the share of the record and its `n_copies` noisy copies (noisy_copies:
    bit flips for 0/1 records, Gaussian noise or pixel shifts for images) that the target still classifies as y.
    Members were fitted, so they tend to keep their label under noise; non-members near the decision boundary lose
    it. Unlike the gap attack, two correctly classified records now get different scores. `strength` should match
    the data (the paper tunes it on shadow models). predict() uses `threshold` (default: all queries correct),
    an argument rather than a fitted value because the attack fits nothing; it is kept as `threshold_` like every
    attack's decision threshold.

    Threat model:
        data:      none (the paper uses shadow models only to tune the noise strength)
        knowledge: what noise keeps records realistic (bit flips for purchase, shifts for images)
        outputs:   the predicted label ("label"; any other output is reduced to its argmax)
        queries:   n_copies + 1 per candidate record
    Paper: C. A. Choquette-Choo, F. Tramèr, N. Carlini, N. Papernot, "Label-Only Membership Inference Attacks",
    ICML 2021 (Sec. 5, data augmentation and noise robustness). Taught in notebook 05.
    """

    needs = "labels"

    def __init__(self, n_copies: int = 20, noise: str = "flip", strength: float = 0.02, *, image_shape=(8, 8),
                 threshold: float = 1.0, random_state: int = 0):
        self.n_copies = check_positive_int(n_copies, "n_copies")
        self.noise = check_choice(noise, "noise", NOISES)
        self.strength = strength
        self.image_shape = image_shape
        self.threshold = check_fraction(threshold, "threshold", inclusive=True)
        self.threshold_ = self.threshold
        self.random_state = check_seed(random_state)
        # validate strength now, on a tiny record of the right kind
        noisy_copies(np.zeros((1, int(np.prod(image_shape))), np.float32), 1, noise, strength,
                     image_shape=image_shape, random_state=0)

    def score(self, target, X, y) -> np.ndarray:
        """Share of the record and its noisy copies classified as y: X (n, d), y (n,) -> (n,) in [0, 1]."""
        check_target(target)
        X = as_features(X)
        y = as_labels(y, n=len(X), n_classes=getattr(target, "n_classes", None))
        copies = noisy_copies(X, self.n_copies, self.noise, self.strength, image_shape=self.image_shape,
                              random_state=self.random_state)
        queries = np.concatenate([X.reshape(len(X), -1)[None], copies]).reshape(-1, copies.shape[-1])
        correct = (query_labels(target, queries).reshape(self.n_copies + 1, len(X)) == y)
        return correct.mean(axis=0)
