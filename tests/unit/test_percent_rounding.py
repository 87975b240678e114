"""CapacityIncrease.Percent adds that percent of the instances, rounded up (the input schema says so).

A fraction of an instance is one more instance: the raise is a precaution, and rounding down would make a
small percent of a small variant add nothing at all.
"""

from __future__ import annotations

import pytest

from endpoint_updater.core.request import CAPACITY_PERCENT_RANGE, PROPERTIES
from endpoint_updater.core.scaling import raised_count


def test_the_schema_documents_rounding_up() -> None:
    assert "rounded up" in PROPERTIES["CapacityIncrease"]["properties"]["Percent"]["description"]


@pytest.mark.parametrize(("count", "percent", "expected"), [
    (2, 50, 3),      # whole: 2 + 1
    (3, 50, 5),      # 3 + 1.5 -> 3 + 2
    (3, 10, 4),      # 3 + 0.3 -> 3 + 1
    (1, 1, 2),       # 1 + 0.01 -> 1 + 1: the smallest raise still adds an instance
    (1, 99, 2),      # 1 + 0.99 -> 2
    (1, 150, 3),     # 1 + 1.5 -> 1 + 2
    (7, 33, 10),     # 7 + 2.31 -> 7 + 3
    (10, 10, 11),    # whole: exactly one more, not two
    (3, 100, 6),     # whole: doubled, not one more
    (100, 7, 107),   # whole, where float arithmetic could tip over
    (999, 1000, 10989),
])
def test_a_percent_that_gives_a_fraction_of_an_instance_rounds_up(count: int, percent: int, expected: int) -> None:
    assert raised_count(count, {"Percent": percent}) == expected


def test_every_percent_is_the_exact_ceiling_and_adds_at_least_one_instance() -> None:
    low, high = CAPACITY_PERCENT_RANGE
    for count in range(1, 61):
        for percent in range(low, high + 1):
            exact = -(-count * (100 + percent) // 100)  # integer ceiling, no floats
            assert raised_count(count, {"Percent": percent}) == exact > count, (count, percent)


def test_add_adds_exactly() -> None:
    assert raised_count(3, {"Add": 1}) == 4
    assert raised_count(0, {"Add": 2}) == 2
