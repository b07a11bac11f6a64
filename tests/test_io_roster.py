"""Tests of credit_rules.io.roster."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from credit_rules.errors import InputError
from credit_rules.io import load_roster

CSV = """teacher_id,title,roles,stage,hired_on,retired_on,school,county,city,workshop,subject
t2,senior,class_teacher; teacher,primary,2019-09-01,,S1,C1,Y1,math,maths
t1,none,,high,,2025-06-30,S2,,,,
t3,boss,teacher,primary,,,,,,,
t4,junior,teacher;wizard,,,,,,,,
t5,junior,,,2019-02-30,,,,,,
t6,junior,teacher,,2020-01-01,,,,,,
t6,junior,teacher,,2020-01-01,,,,,,
t7,junior,teacher,,2020-01-01,,,,,,
t7,senior,teacher,,2020-01-01,,,,,,
,junior,teacher,,,,,,,,
"""


def test_roster_csv(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(CSV, encoding="utf-8")
    roster = load_roster(path)
    assert roster.frame.columns == [
        "teacher_id", "title", "roles", "stage", "hired_on", "retired_on", "school", "county",
        "city", "workshop", "subject", "source", "row",
    ]
    assert roster.frame["teacher_id"].to_list() == ["t1", "t2", "t6"]
    assert roster.report.summary() == "roster: 10 read = 3 used + 1 duplicates + 6 rejected"
    reasons = dict(zip(roster.rejects["row"].to_list(), roster.rejects["reason"].to_list(),
                       strict=True))
    assert reasons[3] == 'title: "boss" is not one of senior, intermediate, junior, none'
    assert reasons[4].startswith("roles: unknown role(s) wizard; allowed roles: teacher,")
    assert reasons[5] == 'hired_on: the date "2019-02-30" does not exist'
    assert reasons[8] == reasons[9] == "conflicting copies of teacher_id t7 (rows 8, 9)"
    assert reasons[10] == "missing teacher_id"
    teachers = roster.teachers()
    t2 = teachers["t2"]
    assert t2.roles == frozenset({"teacher", "class_teacher"})
    assert t2.hired_on == dt.date(2019, 9, 1)
    assert t2.title == "senior" and t2.stage == "primary" and t2.workshop == "math"
    assert t2.attributes == {"subject": "maths"}
    assert teachers["t1"].roles == frozenset()
    assert teachers["t1"].retired_on == dt.date(2025, 6, 30)
    assert teachers["t1"].attributes == {}
    assert roster.frame.filter(pl.col("teacher_id") == "t2")["roles"].to_list() == [
        ["class_teacher", "teacher"]
    ]


def test_roster_parquet_list_roles(tmp_path: Path) -> None:
    table = pa.table({
        "teacher_id": ["a", "b"],
        "roles": pa.array([["dean", "teacher"], []], pa.list_(pa.string())),
        "hired_on": pa.array([dt.date(2020, 1, 1), None], pa.date32()),
    })
    path = tmp_path / "r.parquet"
    pq.write_table(table, path)
    roster = load_roster(path)
    teachers = roster.teachers()
    assert teachers["a"].roles == frozenset({"dean", "teacher"})
    assert teachers["a"].hired_on == dt.date(2020, 1, 1)
    assert teachers["b"].roles == frozenset()
    assert roster.report.rejected == 0


def test_roster_jsonl_and_dataframe_agree(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"teacher_id": "a", "roles": ["dean", "teacher"], "title": "senior"}\n')
    frame = pl.DataFrame({"teacher_id": ["a"], "roles": ["teacher;dean"], "title": ["senior"]})
    one, two = load_roster(path), load_roster(frame)
    assert one.frame.drop("source", "row").rows() == two.frame.drop("source", "row").rows()


def test_roster_duplicate_across_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("teacher_id,title\nx,senior\ny,junior\n")
    b.write_text("teacher_id,title\ny,senior\nx,senior\n")
    roster = load_roster([a, b])
    assert roster.frame["teacher_id"].to_list() == ["x"]
    assert roster.report.duplicates == 1
    assert roster.rejects["reason"].to_list() == [
        f"conflicting copies of teacher_id y (rows {a}:2, {b}:1)"
    ] * 2


def test_roster_errors(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("id,title\nx,senior\n")
    with pytest.raises(InputError, match="required column teacher_id missing"):
        load_roster(path)
    with pytest.raises(InputError, match="no such roster file"):
        load_roster(tmp_path / "nope.csv")
