"""The Spark engine gives the bulk engine's ledgers, however the events are partitioned.

One real local Spark (``local[2]``, no mocks) for the whole file. Equality is frame
equality of every column: of the Parquet ledgers read back for the shipped policies on a
generated province (2 and 7 partitions, the last through the command line, where a
ranking group's teachers sit in different buckets; 1 in the slow soak run), of a
conflicting repeat whose copies sit in different partitions under different teachers, and
of a few Hypothesis cases.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("pyspark", reason='the Spark engine is an extra: pip install "credit-rules[spark]"')

from credit_rules.api import shipped_policies
from credit_rules.cli import main
from credit_rules.compile import load_policy
from credit_rules.recompute import PROVENANCE_KEY, recompute
from credit_rules.schema import REQUIRED_EVENT_COLUMNS
from credit_rules.spark import recompute as spark_recompute
from credit_rules.spark import recompute_files, spark_session
from credit_rules.spark.arrow import spark_schema, struct_type
from credit_rules.spark.evaluate import bucket_of
from credit_rules.synth import write_province
from credit_rules.testing.strategies import cases, text_frame

pytestmark = pytest.mark.xdist_group("spark")  # one worker, so one JVM for the file
AS_OF = dt.date(2025, 12, 31)
POLICIES = shipped_policies()


@pytest.fixture(scope="module")
def spark() -> Any:
    session = spark_session("local[2]", {
        "spark.sql.shuffle.partitions": "2",
        "spark.default.parallelism": "2",
        # Tests are short: the quick JIT and a small heap start the JVM sooner.
        "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
        "spark.driver.memory": "1g",
    })
    yield session
    session.stop()


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """120 teachers, plus a second events file holding an identical copy of an event, a
    differing copy of another under another teacher, a negative-hours row and a row
    without a kind naming a teacher found nowhere else (SPEC §2, §5)."""
    folder = tmp_path_factory.mktemp("province")
    files = write_province(folder, 120, seed=5, events_per_teacher=25)
    first = pl.read_parquet(files.events[0])
    trained = first.filter(pl.col("kind") == "training")
    other = first.filter(pl.col("teacher_id") != trained["teacher_id"][1])["teacher_id"][0]
    extra = pl.concat([
        trained.slice(0, 1),
        trained.slice(1, 1).with_columns(pl.lit(other).alias("teacher_id")),
        trained.slice(2, 1).with_columns(pl.lit("-3").alias("hours"), pl.lit("x-neg").alias("event_id")),
        trained.slice(3, 1).with_columns(pl.lit(None, pl.String).alias("kind"), pl.lit("T9999999").alias("teacher_id"),
                                         pl.lit("x-nokind").alias("event_id")),
    ])
    extra.write_parquet(files.events[0].parent / "part-00001.parquet")
    return files.events[0].parent, files.roster


def _ledgers(folder: Path) -> dict[str, pl.DataFrame]:
    return {p.stem: pl.read_parquet(folder / f"{p.stem}.parquet") for p in POLICIES}


def _spark_equals_bulk(spark: Any, province: tuple[Path, Path], tmp_path: Path,
                       partitions: int) -> dict[str, pl.DataFrame]:
    """Runs both engines over the province and asserts equal ledgers, rejects and
    accounting; returns the bulk engine's ledgers."""
    events, roster = province
    bulk = recompute(POLICIES, events, roster, tmp_path / "bulk", as_of=AS_OF)
    expected = _ledgers(tmp_path / "bulk")
    assert bulk[0].events.duplicates == 1 and bulk[0].events.rejected == 4  # the repeats and bad rows count
    out = tmp_path / f"spark{partitions}"
    results = recompute_files(POLICIES, events, roster, out, partitions=partitions, as_of=AS_OF, session=spark)
    assert results[0].events == bulk[0].events
    assert results[0].rejects is not None and bulk[0].rejects is not None
    assert results[0].rejects.equals(bulk[0].rejects)
    for name, frame in _ledgers(out).items():
        assert frame.equals(expected[name]), (partitions, name)
    return expected


@pytest.mark.slow
def test_province_ledgers_equal_bulk_in_one_partition(spark: Any, province: tuple[Path, Path],
                                                      tmp_path: Path) -> None:
    """One partition (every teacher in one bucket): the degenerate case, as a soak run
    (each partition count is a Spark job per policy: ~7 s of the default run)."""
    _spark_equals_bulk(spark, province, tmp_path, 1)


def test_province_ledgers_equal_bulk_for_2_and_7_partitions(spark: Any, province: tuple[Path, Path],
                                                           tmp_path: Path) -> None:
    """Every shipped policy's Parquet ledger, rejects and accounting equal the bulk
    engine's, whatever the partition count; 7 goes through `recompute --engine spark`
    (1 partition: the slow soak run above). With 7 buckets ziyang_2017's ranking groups
    (the two best scores per workshop) are split across buckets, and its ranks still
    equal the bulk engine's."""
    from pyspark.sql import functions as F

    events, roster = province
    expected = _spark_equals_bulk(spark, province, tmp_path, 2)
    assert expected["ziyang_2017"]["excellent_eligible"].sum() >= 4  # ranks picked someone in several workshops
    ranked = pl.read_parquet(roster).filter(pl.col("workshop") == "math").select("teacher_id")
    assert _spark_frame(spark, ranked).select(bucket_of(F.col("teacher_id"), 7).alias("b")).distinct().count() > 1
    out = tmp_path / "spark7"
    rejects = tmp_path / "rejects.csv"
    cli = CliRunner().invoke(main, ["recompute", *map(str, POLICIES), "--events", str(events), "--roster", str(roster),
                                    "--out", str(out), "--as-of", "2025-12-31", "--engine", "spark",
                                    "--partitions", "7", "--rejects", str(rejects)])
    assert cli.exit_code == 0, cli.output
    for name, frame in _ledgers(out).items():
        assert frame.equals(expected[name]), (7, name)
        assert frame.height > 0
    assert pl.read_csv(rejects).height == 4
    ledger = out / "five_year_cycle.parquet"
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(ledger).metadata
    assert json.loads(meta.metadata[PROVENANCE_KEY.encode()])["engine"] == "spark"
    assert meta.schema.to_arrow_schema() == pq.ParquetFile(tmp_path / "bulk" / ledger.name).metadata.schema.to_arrow_schema()
    assert json.loads((out / "manifest.json").read_text())["ledgers"][0]["rows"] == expected["annual_training"].height


def _spark_frame(spark: Any, frame: pl.DataFrame, partitions: int = 1) -> Any:
    """``frame`` as a Spark DataFrame cut in order into ``partitions`` partitions."""
    table = frame.to_arrow()
    schema = struct_type(spark_schema(table.schema))
    rows = spark.sparkContext.parallelize([tuple(r.values()) for r in table.to_pylist()], partitions)
    return spark.createDataFrame(rows, schema=schema)


def _events(rows: list[dict[str, str]]) -> pl.DataFrame:
    return text_frame(rows, REQUIRED_EVENT_COLUMNS)


def _bulk_ledger(policy: Any, events: pl.DataFrame, roster: pl.DataFrame | None) -> pl.DataFrame:
    result = recompute(policy, events, roster, as_of=AS_OF)[0]
    assert result.ledger is not None
    return result.ledger


def _spark_ledger(spark: Any, policy: Any, events: Any, roster: pl.DataFrame | None, partitions: int) -> pl.DataFrame:
    roster_df = _spark_frame(spark, roster) if roster is not None else None
    frame = pl.from_arrow(spark_recompute(policy, events, roster_df, as_of=AS_OF, partitions=partitions).toArrow())
    assert isinstance(frame, pl.DataFrame)
    return frame


def test_conflicting_repeat_split_across_partitions_voids_both(spark: Any) -> None:
    """Copies of e1 differing in teacher sit in two partitions: both are conflicts (SPEC §2),
    neither teacher is credited for it, and the identical copy of e2 counts once."""
    policy = load_policy(next(p for p in POLICIES if p.stem == "five_year_cycle"))
    base = {"at": "2022-03-01T09:00:00", "kind": "training", "hours": "20", "category": "knowledge", "level": "school"}
    first = [{"event_id": "e1", "teacher_id": "t1", **base}, {"event_id": "e2", "teacher_id": "t3", **base}]
    second = [{"event_id": "e1", "teacher_id": "t2", **base}, {"event_id": "e2", "teacher_id": "t3", **base},
              {"event_id": "e3", "teacher_id": "t2", **base}]
    events = _spark_frame(spark, _events(first + second), 2)  # e1 of t1 in one, of t2 in the other
    assert [len(p) for p in events.rdd.glom().collect()] == [2, 3]
    expected = _bulk_ledger(policy, _events(first + second), None)
    got = _spark_ledger(spark, policy, events, None, 7)
    assert got.equals(expected)
    credits = dict(zip(expected["teacher_id"], expected["credits"], strict=True))
    assert credits["t1"] == 0 and credits["t2"] == credits["t3"] > 0


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_differential_cases_agree(spark: Any, data: st.DataObject) -> None:
    """Generated rosters and events for a shipped policy (`testing.strategies.cases`): the
    Spark ledger equals the bulk engine's (a bounded number of cases: each is a Spark run)."""
    path = data.draw(st.sampled_from(POLICIES))
    policy = load_policy(path)
    case = data.draw(cases(policy, ids=("t1", "t2", "t3"), max_events=8))
    events = _events(list(case.events))
    roster = text_frame(list(case.roster), ("teacher_id",)) if case.roster else None
    expected = recompute(policy, events, roster, as_of=case.as_of)[0].ledger
    roster_df = _spark_frame(spark, roster) if roster is not None else None
    got = pl.from_arrow(spark_recompute(policy, _spark_frame(spark, events, 2), roster_df, as_of=case.as_of,
                                        partitions=2).toArrow())
    assert isinstance(got, pl.DataFrame) and expected is not None
    assert got.equals(expected)


def test_an_empty_ledger_crosses_to_spark_with_a_chunk_per_column() -> None:
    """An empty ledger (a ranked policy, no events: found by test_differential_cases_agree)
    gives Spark's createDataFrame an empty chunk in every column, not none."""
    from credit_rules.schema import LEDGER_FRAME
    from credit_rules.spark.arrow import to_table
    from credit_rules.spark.evaluate import ledger_arrow

    table = to_table(pl.DataFrame(schema=LEDGER_FRAME), ledger_arrow())
    assert table.num_rows == 0 and table.schema == ledger_arrow()
    assert all(column.num_chunks >= 1 for column in table.columns)


def test_missing_pyspark_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without PySpark the error says how to install it."""
    import importlib.util

    from credit_rules.errors import UsageError
    from credit_rules.spark import require_pyspark

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pyspark" else real(name, *a))
    with pytest.raises(UsageError, match=r'pip install "credit-rules\[spark\]"'):
        require_pyspark()

