from itertools import pairwise

import pytest

from restloom.upstream.pages import plan_pages


def covers(plan, start, end):
    first = (plan.pages[0] - 1) * plan.size
    last = plan.pages[-1] * plan.size
    return first <= start and end <= last and all(b == a + 1 for a, b in pairwise(plan.pages))


@pytest.mark.parametrize(
    ("start", "end", "max_size", "size", "pages"),
    [
        (0, 10, 250, 10, (1,)),  # first: 10
        (5, 15, 250, 15, (1,)),  # after offset 4: one page of 15 beats two of 10
        (100, 200, 250, 100, (2,)),
        (0, 250, 250, 250, (1,)),
        (200, 300, 100, 100, (3,)),
        (240, 260, 250, 20, (13,)),  # page 13 of 20 is exactly [240, 260)
    ],
)
def test_plan_pages_known_windows(start, end, max_size, size, pages):
    plan = plan_pages(start, end, max_size)
    assert (plan.size, plan.pages) == (size, pages)


def test_plan_pages_is_minimal_for_every_small_window():
    max_size = 30
    for start in range(0, 70):
        for end in range(start + 1, start + 45):
            plan = plan_pages(start, end, max_size)
            assert covers(plan, start, end)
            fewest = min((end - 1) // s - start // s + 1 for s in range(1, max_size + 1))
            assert len(plan.pages) == fewest


def test_plan_pages_rejects_empty_window():
    with pytest.raises(ValueError):
        plan_pages(5, 5, 10)
