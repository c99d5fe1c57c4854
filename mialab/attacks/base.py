"""The one shape every attack has: fit(...) -> self; score(target, X, y) -> (n,) floats, higher = member;
predict(target, X, y) -> (n,) bools from the fitted `threshold_`.

    attack = LossAttack().fit(X_pool, y_pool)         # whatever the attack learns before it sees the target
    scores = attack.score(target, X, y)               # one membership score per candidate record
    result = metrics.evaluate(scores, is_member)      # AUC, advantage, TPR at low FPR

`needs` says what the attack asks of the target: "probabilities" (full probability vectors), "labels" (the
predicted class only), "scores" (any output that score() can rank), "weights" (white-box access: the target is
the model itself) or "samples" (a generative model's samples, (m, d), are the target).

    >>> import numpy as np
    >>> from mialab.attacks.loss import LossAttack
    >>> from mialab.blackbox import BlackBox
    >>> from mialab.models import MLP
    >>> target = BlackBox(MLP(4, 3, hidden=(8,), random_state=0))
    >>> X, y = np.zeros((5, 4), np.float32), np.array([0, 1, 2, 0, 1])
    >>> attack = LossAttack(expected_loss=1.2).fit(None, None)      # Yeom et al.: the training loss is known
    >>> attack.score(target, X, y).shape, attack.predict(target, X, y).dtype, target.n_queries
    ((5,), dtype('bool'), 10)
"""

from __future__ import annotations

import numpy as np

from .._validation import NotFittedError, check_is_fitted
from ..recipe import TrainingRecipe, as_recipe  # noqa: F401 (the attack modules import them from here)

__all__ = ["Attack"]  # NotFittedError and TrainingRecipe are documented where mialab.attacks exports them


class Attack:
    """Base class of mialab's attacks (see the module docstring for the protocol)."""

    needs = "probabilities"
    #: the fitted attributes score() needs; check_is_fitted looks for them
    _fitted = ()

    def fit(self, *args, **kwargs) -> "Attack":
        """Learn what the attack needs before it sees the target; the base needs nothing and returns self."""
        return self

    def score(self, target, X, y=None) -> np.ndarray:
        """One membership score per candidate record, shape (n,), higher = more likely a member."""
        raise NotImplementedError(f"{type(self).__name__} must define score(target, X, y).")

    def predict(self, target, X, y=None) -> np.ndarray:
        """Member (True) where the score reaches the fitted `threshold_`: bool (n,).

        An attack whose scores have no natural decision point has no threshold_ until the user sets one (for
        example metrics.choose_threshold on attacker-side scores); predict says so."""
        self._check_fitted()
        if getattr(self, "threshold_", None) is None:
            kind = type(self).__name__
            raise NotFittedError(f"this {kind} has no decision threshold (`threshold_`): its scores rank records "
                                 "but do not say where members start. Choose one on attacker-side data, e.g. "
                                 f"attack.threshold_ = metrics.choose_threshold(scores, is_member), then predict.")
        return self.score(target, X, y) >= self.threshold_

    def _check_fitted(self) -> None:
        check_is_fitted(self, self._fitted)

    def __repr__(self) -> str:
        params = {k: v for k, v in vars(self).items() if not k.endswith("_") and not k.startswith("_")}
        inner = ", ".join(f"{k}={v!r}" for k, v in params.items() if not isinstance(v, np.ndarray))
        return f"{type(self).__name__}({inner})"
