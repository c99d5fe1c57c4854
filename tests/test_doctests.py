"""The examples in the entry points' docstrings run and print what they say (one per entry point: metrics, an
attack, signals, the black box, augmentation, extraction's statistics)."""

from __future__ import annotations

import doctest
import importlib

import pytest

ENTRY_POINTS = ["mialab.metrics", "mialab.blackbox", "mialab.attacks.base", "mialab.attacks.signals",
                "mialab.attacks.augment", "mialab.attacks.extraction"]


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_the_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no example in its docstrings"
    assert result.failed == 0, f"{result.failed} of {name}'s {result.attempted} examples failed (printed above)"
