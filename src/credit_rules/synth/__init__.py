"""A seeded, reproducible synthetic province: a roster and its event stream (SPEC §2, §3).

Everything is vectorised (numpy draws, Polars string building); no Python loop runs per
teacher or per event, so a province of 1M teachers x 100 events is written chunk by chunk
with memory bounded by ``chunk_teachers``.

Determinism. The roster is drawn from one stream seeded by ``seed``. Events are drawn per
block of :data:`BLOCK` consecutive roster rows, each block from its own stream seeded by
``(seed, block number)``, so the concatenated event stream does not depend on
``chunk_teachers`` (chunks only decide where the stream is cut). Event ids are a global
zero-padded counter in stream order. Same seed and arguments: byte-identical files.

Shape of the data. Every shipped policy of SPEC §6 has events in its window, with teachers
on both sides of its requirements (remote-2017 assessments of every grade, task_missed and
reprimands in 2017-09..2018-08; ziyang scores in 2017-10-20..2017-12-31 for the teachers of
county ``K001``; school-based assessments and 300..3000-word reflections around lanxi's
2022-12-02..2023-06-30; ed-tech assessments in 2023-03-01..2024-02-29; training of every
category and level over the 2021..2025 cycle; probation training for new hires; observations
concentrated in a few semesters per teacher). A share of events sits exactly on period
bounds (00:00:00 / 23:59:59 of Sep 1, Aug 31, Jan 31, Feb 1, window ends) and some events of
one teacher share a timestamp. By design about 0.5% of roster teachers have no events at all
(:data:`IDLE_SHARE`), so the "every roster teacher gets a row" path is exercised.

One module per job: :mod:`~credit_rules.synth.roster` (teachers),
:mod:`~credit_rules.synth.events` (their events), :mod:`~credit_rules.synth.writer` (files);
:mod:`~credit_rules.synth.draws` holds the seeded draws and day arithmetic they share.

>>> import polars as pl
>>> from credit_rules.schema import EVENT_COLUMNS
>>> roster = generate_roster(200, seed=1)
>>> events = pl.concat(generate_events(roster, seed=1, events_per_teacher=10))
>>> events.columns == list(EVENT_COLUMNS)
True
"""

from credit_rules.synth.events import BLOCK, EVENT_SCHEMA, FORMATS, IDLE_SHARE, PROGRAMS, generate_events
from credit_rules.synth.roster import ROSTER_SCHEMA, WORKSHOPS, ProvinceShape, generate_roster
from credit_rules.synth.writer import ProvinceFiles, write_province

__all__ = [
    "BLOCK",
    "EVENT_SCHEMA",
    "FORMATS",
    "IDLE_SHARE",
    "PROGRAMS",
    "ROSTER_SCHEMA",
    "WORKSHOPS",
    "ProvinceFiles",
    "ProvinceShape",
    "generate_events",
    "generate_roster",
    "write_province",
]
