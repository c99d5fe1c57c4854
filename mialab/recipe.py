"""A training recipe: everything about how a target was trained that an attacker can mirror in its own models."""

from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass

from ._validation import check_count, check_choice, check_scalar

ACTIVATIONS = ("tanh", "relu")


@dataclass(frozen=True)
class TrainingRecipe:
    """How to train an MLP: its hidden widths, activation, dropout, epochs, batch size, Adam's lr and weight decay.

    Attacks that train shadow or reference models take one (`recipe=`) so that they can mirror the target's
    training, ReLU and dropout included. `TrainingRecipe()` is the course's purchase target: one hidden layer of
    256 tanh units (a wider variant of Shokri et al.'s 128), 30 epochs of Adam, batch 64, lr 1e-3.
    """

    hidden: tuple = (256,)
    activation: str = "tanh"
    dropout: float = 0.0
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.0

    def __post_init__(self):
        hidden = self.hidden
        if isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool):
            hidden = (hidden,)
        if isinstance(hidden, (str, bytes)) or not hasattr(hidden, "__iter__"):
            raise TypeError(f"`hidden` must be a tuple of layer widths, for example (256,); got {hidden!r}.")
        hidden = tuple(check_scalar(w, "each entry of hidden", numbers.Integral, low=1) for w in hidden)
        object.__setattr__(self, "hidden", hidden)
        if not isinstance(self.activation, str):
            raise TypeError(f"`activation` must be one of {list(ACTIVATIONS)}; got {self.activation!r}.")
        check_choice(self.activation, "activation", ACTIVATIONS)
        object.__setattr__(self, "dropout", check_scalar(self.dropout, "dropout", low=0.0, high=1.0, closed="left"))
        object.__setattr__(self, "epochs", check_count(self.epochs, "epochs"))
        object.__setattr__(self, "batch_size", check_scalar(self.batch_size, "batch_size", numbers.Integral, low=1))
        object.__setattr__(self, "lr", check_scalar(self.lr, "lr", low=0.0, high=10.0, closed="right"))
        object.__setattr__(self, "weight_decay", check_scalar(self.weight_decay, "weight_decay", low=0.0,
                                                              high=10.0))

    def as_kwargs(self) -> dict:
        """The recipe as keyword arguments of mialab.many_models.train_many / mialab.cache.train_in_out_models."""
        return asdict(self)


def as_recipe(recipe) -> TrainingRecipe:
    """`recipe` checked: a TrainingRecipe, a dict of its fields, or None (the default recipe)."""
    if recipe is None:
        return TrainingRecipe()
    if isinstance(recipe, TrainingRecipe):
        return recipe
    if isinstance(recipe, dict):
        unknown = set(recipe) - set(TrainingRecipe.__dataclass_fields__)
        if unknown:
            raise TypeError(f"`recipe` has unknown fields {sorted(unknown)}; TrainingRecipe takes "
                            f"{list(TrainingRecipe.__dataclass_fields__)}.")
        return TrainingRecipe(**recipe)
    raise TypeError(f"`recipe` must be a mialab.recipe.TrainingRecipe (or a dict of its fields); got "
                    f"{type(recipe).__name__}.")
