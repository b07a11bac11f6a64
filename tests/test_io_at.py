"""One definition of ``at``: the loader, :func:`parse_at` and ``make_event`` read it alike.

Issue 8 ("one meaning in one place"): the test builders used to read ``at`` with a lenient
parser of their own, accepting what the loader rejects and shifting a skipped DST hour.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import examples
from credit_rules.io import load_events, parse_at
from credit_rules.testing.builders import make_event

BERLIN = "Europe/Berlin"
HOUR_US = 3_600_000_000


def utc_us(*parts: int) -> int:
    return int(dt.datetime(*parts, tzinfo=dt.UTC).timestamp()) * 1_000_000


def load_one(at: object, timezone: str) -> tuple[int | None, dt.date | None, str | None]:
    """(at_us, day, reason) of one event through the loader."""
    frame = pl.DataFrame({"event_id": ["e"], "teacher_id": ["t"], "at": [at], "kind": ["training"]})
    table = load_events(frame, timezone=timezone)
    if table.rejects.height:
        return None, None, table.rejects["reason"][0]
    return table.frame["at_us"][0], table.frame["day"][0], None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("20230430", 'at: not an ISO 8601 date or datetime: "20230430"'),
        ("2023/04/30", 'at: not an ISO 8601 date or datetime: "2023/04/30"'),
        ("2023-W17-7", 'at: not an ISO 8601 date or datetime: "2023-W17-7"'),
        ("2023-03-26T02:30", 'at: "2023-03-26T02:30" does not exist in Europe/Berlin'),
        ("2023-03-26T02:30:00", 'at: "2023-03-26T02:30:00" does not exist in Europe/Berlin'),
        ("", "missing at"),
    ],
)
def test_loader_parse_at_and_make_event_reject_alike(text: str, reason: str) -> None:
    """Compact, slashed and week dates and a skipped DST hour are refused by all three, with
    the loader's reason."""
    assert load_one(text, BERLIN)[2] == reason
    with pytest.raises(ValueError) as parsed:
        parse_at(text, BERLIN)
    assert str(parsed.value) == reason
    with pytest.raises(ValueError) as built:
        make_event("e", "t", text, "training", timezone=BERLIN)
    assert str(built.value) == reason


def test_a_repeated_hour_is_its_earlier_instant() -> None:
    """Berlin 2023-10-29T02:30 happens twice (CEST, then CET): the first, 00:30Z, is taken."""
    expected = (utc_us(2023, 10, 29, 0, 30), dt.date(2023, 10, 29))
    assert load_one("2023-10-29T02:30", BERLIN)[:2] == expected
    assert load_one("2023-10-29T02:30:00", BERLIN)[:2] == expected  # the fast path
    assert parse_at("2023-10-29T02:30", BERLIN) == expected
    event = make_event("e", "t", "2023-10-29T02:30", "training", timezone=BERLIN)
    assert (event.instant_us, event.day) == expected
    # Compared in UTC: Python never calls an ambiguous local time equal to another zone's.
    assert event.at.astimezone(dt.UTC) == dt.datetime(2023, 10, 29, 0, 30, tzinfo=dt.UTC)
    assert event.at.utcoffset() == dt.timedelta(hours=2)  # CEST: the first occurrence


def test_a_skipped_hour_is_refused_for_typed_datetimes_too() -> None:
    """A naive datetime in the skipped hour is refused by the loader and the builder alike."""
    naive = dt.datetime(2023, 3, 26, 2, 30)
    reason = load_one(naive, BERLIN)[2]
    assert reason is not None and reason.endswith("does not exist in Europe/Berlin")
    with pytest.raises(ValueError, match="does not exist in Europe/Berlin"):
        make_event("e", "t", naive, "training", timezone=BERLIN)


def test_make_event_takes_dates_and_datetimes_as_the_loader_does() -> None:
    """Date, naive and aware datetime objects: local midnight, local time, the instant itself."""
    for value in (dt.date(2023, 8, 31), dt.datetime(2023, 8, 31, 20, 0, 0, 250_000),
                  dt.datetime(2023, 8, 31, 20, tzinfo=dt.UTC)):
        event = make_event("e", "t", value, "training")
        us, day, reason = load_one(value, "Asia/Shanghai")
        assert reason is None
        assert (event.instant_us, event.day) == (us, day)
        assert event.at.timestamp() * 1_000_000 == pytest.approx(event.instant_us)


_TEXTS = st.one_of(
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(
        dt.datetime.isoformat),
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
                  r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?\Z"),
    st.sampled_from(["2023-03-26T02:30", "2023-10-29T02:30", "20230430", "2023/04/30", "2023-W17-7",
                     "2023-3-26", " 2023-03-26 ", "2023-03-26t01:00z"]),
)


# Each example is a load of one row: 40 in the default run, 500 in the soak run (pytest -m slow).
@examples(quick=40, soak=500)
def test_parse_at_agrees_with_the_loader(examples: int) -> None:
    """On any text, parse_at gives the loader's instant and day, or raises its reason."""

    @settings(max_examples=examples, deadline=None)
    @given(_TEXTS, st.sampled_from([BERLIN, "Asia/Shanghai", "America/New_York"]))
    def check(text: str, timezone: str) -> None:
        us, day, reason = load_one(text, timezone)
        if reason is None:
            assert parse_at(text, timezone) == (us, day)
        else:
            with pytest.raises(ValueError) as raised:
                parse_at(text, timezone)
            assert str(raised.value) == reason

    check()


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York", "Australia/Lord_Howe",
                                  "America/St_Johns", "Europe/Dublin"])
@pytest.mark.parametrize("spread", ["centuries", "years"])
def test_offsets_per_hour_equal_the_zone_rules_per_row(zone: str, spread: str) -> None:
    """The fast path's offset table (:func:`local_instants`, one look-up per local hour)
    gives what :func:`local_instant` gives row by row, in skipped and repeated DST hours
    (forward, backward, half-hour shifts) and across 1900-2199 (the sparse table)."""
    import numpy as np

    from credit_rules.io.parse import local_instant, local_instants

    rng = np.random.default_rng(7)
    lo, hi = (-2_208_988_800, 7_258_118_400) if spread == "centuries" else (1_600_000_000, 1_700_000_000)
    seconds = rng.integers(lo, hi, 20_000)
    # Every quarter hour of 2021 (each zone's clock changes that year, on the quarter hour),
    # a microsecond either side.
    quarters = np.arange(1_609_459_200, 1_640_995_200, 900)
    edges = np.concatenate([quarters * 1_000_000 - 1, quarters * 1_000_000, quarters * 1_000_000 + 1])
    micros = np.concatenate([seconds * 1_000_000 + rng.integers(0, 1_000_000, seconds.size), edges])
    naive = pl.Series("t", micros).cast(pl.Datetime("us")).append(pl.Series("t", [None], pl.Datetime("us")))
    expected = naive.to_frame().select(local_instant(pl.col("t"), zone)).to_series()
    got = local_instants(naive, zone)
    assert got.equals(expected, check_names=False)
    if zone != "Asia/Shanghai":
        assert got.null_count() > 1  # times in a skipped hour: the DST rule was met
