"""heron.utils.validation: one check, and one error message, for every numeric setting."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from heron.core import CheckpointError, ConfigError, HeronError
from heron.utils.validation import _describe_number, check_number

POSITIVE = {"minimum": 0, "exclusive_minimum": True}


@pytest.mark.parametrize(
    ("value", "bounds", "expected"),
    [
        (0.5, POSITIVE, 0.5),
        (3, POSITIVE, 3.0),
        (np.float32(0.25), POSITIVE, 0.25),
        (np.int64(7), {"minimum": 1, "integer": True}, 7),
        (Fraction(1, 4), {"minimum": 0, "maximum": 1}, 0.25),
        (0, {"minimum": 0}, 0.0),
        (1, {"minimum": 0, "maximum": 1}, 1.0),
        (-1e300, {}, -1e300),
        (10**30, {"integer": True}, 10**30),
    ],
)
def test_accepted_values_come_back_as_float_or_int(value, bounds, expected):
    result = check_number(value, "x", **bounds)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    "value", [True, False, np.bool_(True), "1", b"1", None, 1 + 0j, [1], math.nan, math.inf, -math.inf, np.nan]
)
def test_bools_strings_complex_and_non_finite_values_are_rejected(value):
    with pytest.raises(ConfigError, match=r"^x must be a finite number, got "):
        check_number(value, "x")


def test_integer_settings_reject_floats_even_whole_ones():
    for value in (2.5, 2.0, np.float64(3.0)):
        with pytest.raises(ConfigError, match=f"^num_envs must be a positive integer, got {value}$"):
            check_number(value, "num_envs", minimum=1, integer=True)


@pytest.mark.parametrize(
    ("value", "bounds", "message"),
    [
        (0, POSITIVE, "lr must be a positive number, got 0"),
        (-0.1, {"minimum": 0}, "lr must be a non-negative number, got -0.1"),
        (0, {"minimum": 0, "exclusive_minimum": True, "integer": True}, "lr must be a positive integer, got 0"),
        (-1, {"minimum": 0, "integer": True}, "lr must be a non-negative integer, got -1"),
        (1.5, {"minimum": 0, "maximum": 1}, r"lr must be a number in \[0, 1\], got 1.5"),
        (0, {"minimum": 0, "exclusive_minimum": True, "maximum": 1}, r"lr must be a number in \(0, 1\], got 0"),
        (2, {"minimum": 3}, "lr must be a number >= 3, got 2"),
        (3, {"minimum": 3, "exclusive_minimum": True}, "lr must be a number > 3, got 3"),
        (11, {"maximum": 10, "integer": True}, "lr must be an integer <= 10, got 11"),
        ("0.1", POSITIVE, "lr must be a positive number, got '0.1'"),
        (np.float64(-2.0), POSITIVE, "lr must be a positive number, got -2.0$"),
    ],
)
def test_the_message_names_the_setting_what_it_accepts_and_what_it_got(value, bounds, message):
    with pytest.raises(ConfigError, match=f"^{message}"):
        check_number(value, "lr", **bounds)


def test_the_error_is_a_heron_error_and_a_value_error_and_may_be_chosen():
    with pytest.raises(ConfigError) as info:
        check_number(-1, "x", minimum=0)
    assert isinstance(info.value, HeronError) and isinstance(info.value, ValueError)
    with pytest.raises(CheckpointError, match=r"^state\.json: env_steps must be a non-negative integer, got -1$"):
        check_number(-1, "state.json: env_steps", minimum=0, integer=True, error=CheckpointError)


def test_describe_number_reads_as_the_messages_do():
    assert _describe_number() == "a finite number"
    assert _describe_number(integer=True) == "an integer"
    assert _describe_number(minimum=1, integer=True) == "a positive integer"
    assert _describe_number(minimum=1) == "a number >= 1"
    assert _describe_number(minimum=0, maximum=1) == "a number in [0, 1]"
