"""mialab.checks.compare: the one comparison of notebook checks and hidden tests. Right answers in another
representation pass; wrong shapes, kinds, non-finite values and wrong values fail, with a message that never
states the expected value."""

import numpy as np
import pandas as pd
import pytest

from mialab.checks.compare import compare

EXPECTED = np.array([0.25, 1.5, 3.0])
MATRIX = np.arange(6.0).reshape(2, 3)

ACCEPTED = [
    ("the same array", EXPECTED.copy(), EXPECTED),
    ("a list", [0.25, 1.5, 3.0], EXPECTED),
    ("a tuple", (0.25, 1.5, 3.0), EXPECTED),
    ("a pandas Series", pd.Series(EXPECTED), EXPECTED),
    ("float32", EXPECTED.astype(np.float32), EXPECTED),
    ("float32 with cancellation near 0", np.array([1e-7, 1.0], np.float32), np.array([0.0, 1.0])),
    ("within the relative tolerance", EXPECTED * (1 + 1e-7), EXPECTED),
    ("a float for a float", 0.5, 0.5),
    ("a 0-d array for a number", np.array(0.5), 0.5),
    ("a NumPy float32 scalar", np.float32(0.1), 0.1),
    ("an int for a float", 2, 2.0),
    ("a bool array for 0/1 floats", np.array([True, False]), np.array([1.0, 0.0])),
    ("an int for an int", 3, 3),
    ("a NumPy int for an int", np.int64(3), 3),
    ("an int array for ints", np.array([1, 2]), np.array([1, 2])),
    ("a bool for a bool", np.True_, True),
    ("a matrix", MATRIX.tolist(), MATRIX),
    ("a DataFrame", pd.DataFrame(MATRIX), MATRIX),
    ("NaN where NaN is expected", np.array([np.nan, 1.0]), np.array([np.nan, 1.0])),
]

REJECTED = [
    ("an empty array", np.array([]), EXPECTED, "shape (0,)"),
    ("an empty array for a number", np.array([]), 0.5, "expected a single number"),
    ("a scalar for an array", 0.5, EXPECTED, "shape ()"),
    ("an array for a scalar", EXPECTED, 0.5, "expected a single number"),
    ("a column for a vector", EXPECTED[:, None], EXPECTED, "shape (3, 1)"),
    ("a transposed matrix", MATRIX.T, MATRIX, "shape (3, 2)"),
    ("one value off", EXPECTED + [0, 0, 1e-3], EXPECTED, "1 of 3 values"),
    ("a NaN", np.array([np.nan, 1.5, 3.0]), EXPECTED, "NaN or infinity"),
    ("an infinity for a number", float("inf"), 0.5, "NaN or infinity"),
    ("a NaN for a number", float("nan"), 0.5, "NaN or infinity"),
    ("a float for an int", 3.0, 3, "whole number"),
    ("floats for ints", np.array([1.0, 2.0]), np.array([1, 2]), "int array"),
    ("0/1 for a bool", 1, True, "True or False"),
    ("strings", np.array(["0.25", "1.5", "3.0"]), EXPECTED, "expected an array of numbers"),
    ("None", None, 0.5, "NoneType"),
    ("a dict", {"a": 1}, 0.5, "dict"),
    ("a ragged list", [[1.0], [2.0, 3.0]], EXPECTED, "expected an array of numbers"),
    ("an object array", np.array([object(), 1], dtype=object), np.array([1.0, 1.0]), "expected an array"),
    ("the wrong value", 0.4, 0.5, "not the expected value"),
    ("ints for bools", np.array([1, 0]), np.array([True, False]), "bool"),
    ("a bool entry wrong", np.array([True, True]), np.array([True, False]), "1 of 2 entries"),
]


@pytest.mark.parametrize("got, expected", [case[1:] for case in ACCEPTED], ids=[case[0] for case in ACCEPTED])
def test_a_right_answer_in_another_form_is_accepted(got, expected):
    assert compare(got, expected) is None


@pytest.mark.parametrize("got, expected, says", [case[1:] for case in REJECTED], ids=[case[0] for case in REJECTED])
def test_a_wrong_answer_is_rejected_with_what_is_wrong(got, expected, says):
    message = compare(got, expected)
    assert message is not None and says in message, message
    assert "0.25" not in message and "1.5" not in message  # never the expected values


def test_a_bad_expected_value_is_a_bug_of_the_test():
    with pytest.raises(TypeError, match="expected must be"):
        compare(1.0, np.array(["a"]))
