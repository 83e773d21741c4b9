"""`query_string` is `urlencode`, byte for byte, whatever the names and values hold."""

from __future__ import annotations

import random
from urllib.parse import urlencode

import pytest

from restloom.upstream.urls import query_string

CASES: list[tuple[tuple[str, str], ...]] = [
    (),
    (("page", "1"), ("per_page", "100"), ("sort", "created_at"), ("order", "desc")),
    (("q", ""),),
    (("search", "Ada Lovelace"),),  # a space: `+`
    (("search", "a+b&c=d"),),
    (("updated_since", "2025-01-02T03:04:05+00:00"),),
    (("filter[id]", "u1,u2,u3"),),
    (("name", "Zoë"), ("city", "東京")),
    (("id", "org_1"), ("id", "org_2")),  # repeated names keep their order
    (("x", "~._-"),),
    (("x", "a/b?c#d%e"),),
]


@pytest.mark.parametrize("params", CASES)
def test_the_same_as_urlencode(params: tuple[tuple[str, str], ...]) -> None:
    assert query_string(params) == urlencode(params)


def test_the_same_as_urlencode_for_random_strings() -> None:
    alphabet = "aZ09_.-~ +&=%/?#[],:;'\"é東\t\n"
    chooser = random.Random(11)
    for _ in range(2000):
        params = tuple(
            (
                "".join(chooser.choices(alphabet, k=chooser.randint(0, 6))),
                "".join(chooser.choices(alphabet, k=chooser.randint(0, 8))),
            )
            for _ in range(chooser.randint(0, 4))
        )
        assert query_string(params) == urlencode(params), params


def test_a_value_that_is_not_a_str_goes_to_urlencode() -> None:
    params = (("page", 2), ("flag", True))
    assert query_string(params) == urlencode(params)  # type: ignore[arg-type]
