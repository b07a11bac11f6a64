"""`order.time_order` gives exactly the order of sorting by (teacher_id, at_us, event_id)."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from credit_rules.order import time_order

# Few teachers and few instants, so that rows often share a teacher and an instant (the
# ties that event_id must break), and ids that sort differently as text and as numbers.
_rows = st.lists(
    st.tuples(st.sampled_from(["T10", "T2", "t1", "T1 ", "教师"]), st.integers(-2, 3),
              st.integers(0, 120)),
    max_size=60, unique_by=lambda row: row[2],
)


@settings(max_examples=60, deadline=None)
@given(_rows)
def test_time_order_is_the_sort_by_teacher_time_and_event_id(rows: list[tuple[str, int, int]]) -> None:
    frame = pl.DataFrame(
        {"teacher_id": [r[0] for r in rows], "at_us": [r[1] for r in rows],
         "event_id": [f"e{r[2]}" for r in rows], "payload": list(range(len(rows)))},
        schema={"teacher_id": pl.String, "at_us": pl.Int64, "event_id": pl.String, "payload": pl.Int64},
    )
    assert_frame_equal(time_order(frame), frame.sort(["teacher_id", "at_us", "event_id"]))


def test_a_frame_in_order_is_returned_as_it_is() -> None:
    frame = pl.DataFrame({"teacher_id": ["a", "a", "b"], "at_us": [1, 1, 0], "event_id": ["e1", "e2", "e0"]})
    assert time_order(frame) is frame
