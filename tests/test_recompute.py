"""Tests of credit_rules.recompute: bulk ledgers on disk, batches, atomicity, progress."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from conftest import POLICIES
from credit_rules import recompute
from credit_rules.cli import main
from credit_rules.eval import bulk
from credit_rules.recompute import batches
from credit_rules.synth import write_province

AS_OF = dt.date(2025, 12, 31)
SHIPPED = sorted(POLICIES.glob("*.policy"))


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("province")
    write_province(folder, 40, seed=3, chunk_teachers=15)
    return folder


def interpreter_ledger(policy: Path, events: Path, roster: Path | None, out: Path) -> pl.DataFrame:
    args = ["eval", str(policy), "--events", str(events), "--engine", "interpreter", "--as-of",
            AS_OF.isoformat(), "--format", "parquet", "--out", str(out)]
    if roster is not None:
        args += ["--roster", str(roster)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return pl.read_parquet(out)


@pytest.fixture(scope="module")
def interpreter_ledgers(province: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    """`eval --engine interpreter` of every shipped policy over the province: the reference
    both batch sizes below are compared with, computed once."""
    out = tmp_path_factory.mktemp("interpreter")
    return {policy.stem: interpreter_ledger(policy, province / "events", province / "roster.parquet",
                                            out / f"{policy.stem}.i.parquet") for policy in SHIPPED}


# Both batch sizes on one xdist worker, so the interpreter's ledgers are computed once.
@pytest.mark.xdist_group("recompute-vs-interpreter")
@pytest.mark.parametrize("batch_rows", [10**9, 700])
def test_ledgers_equal_the_interpreter(province: Path, tmp_path: Path, batch_rows: int,
                                       interpreter_ledgers: dict[str, pl.DataFrame]) -> None:
    """Every shipped policy's Parquet ledger equals `eval --engine interpreter`, batched or not."""
    events, roster = province / "events", province / "roster.parquet"
    results = recompute(SHIPPED, events, roster, tmp_path / "out", as_of=AS_OF,
                        batch_rows=batch_rows)
    assert (results[0].batches > 1) == (batch_rows == 700)
    for policy, result in zip(SHIPPED, results, strict=True):
        assert result.path == tmp_path / "out" / f"{policy.stem}.parquet"
        expected = interpreter_ledgers[policy.stem]
        got = pl.read_parquet(result.path)
        assert got.columns == expected.columns
        assert got.cast(expected.schema).equals(expected), policy.stem  # type: ignore[arg-type]


def _events_with_repeats(path: Path) -> Path:
    """Repeats across teachers and files: a conflicting copy under another teacher."""
    base = {"kind": "training", "hours": "10", "category": "knowledge"}
    part1 = [
        {"event_id": "x1", "teacher_id": "t1", "at": "2022-01-10T10:00:00", **base},
        {"event_id": "c1", "teacher_id": "t1", "at": "2022-01-11T10:00:00", **base},
        {"event_id": "d1", "teacher_id": "t2", "at": "2022-01-12T10:00:00", **base},
        {"event_id": "w1", "teacher_id": " t3 ", "at": "2022-01-12 10:00", **base},
        {"event_id": "bad", "teacher_id": "t4", "at": "2022-02-30", **base},
    ]
    part2 = [
        {"event_id": "c1", "teacher_id": "t9", "at": "2022-01-11T10:00:00", **base},
        {"event_id": "d1", "teacher_id": "t2", "at": "2022-01-12T10:00:00", **base},
        {"event_id": "y1", "teacher_id": "t3", "at": "2022-03-01", **base},
        {"event_id": "z1", "teacher_id": "t8", "at": "2022-03-01", **base},
    ]
    path.mkdir()
    pl.DataFrame(part1).write_parquet(path / "a.parquet")
    pl.DataFrame(part2).write_parquet(path / "b.parquet")
    return path


@pytest.mark.parametrize("rescan", [True, False])
def test_batches_find_repeats_across_teachers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              rescan: bool) -> None:
    """A conflicting copy under another teacher, in another file and batch, rejects both,
    whether the batches read the files again or a spill."""
    monkeypatch.setattr(batches, "_rescan_pays", lambda *_: rescan)
    events = _events_with_repeats(tmp_path / "events")
    policy = POLICIES / "five_year_cycle.policy"
    whole = recompute(policy, events, as_of=AS_OF)[0]
    batched = recompute(policy, events, as_of=AS_OF, batch_rows=2)[0]
    assert batched.batches > 2
    assert batched.events == whole.events
    assert whole.events.summary() == "events: 9 read = 5 used + 1 duplicates + 3 rejected"
    assert batched.ledger is not None and whole.ledger is not None
    assert batched.ledger.equals(whole.ledger)
    assert batched.rejects is not None and whole.rejects is not None
    assert sorted(batched.rejects["reason"].to_list()) == sorted(whole.rejects["reason"].to_list())
    assert any("conflicting copies of event_id c1" in r for r in batched.rejects["reason"])
    # t4 (only a rejected row) and t9 (only a conflicting copy) keep their rows (SPEC §5)
    assert batched.ledger["teacher_id"].to_list() == ["t1", "t2", "t3", "t4", "t8", "t9"]
    assert batched.ledger.filter(pl.col("teacher_id").is_in(["t4", "t9"]))["credits"].to_list() == [0, 0]


def test_batches_read_again_or_from_a_spill_alike(province: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches that read the files again give the ledger, rejects and accounting of batches
    read from a spill; which is chosen follows the row groups' teacher_id statistics."""
    files = sorted((province / "events").glob("*.parquet"))
    edges = [None, "T0000014", "T0000027", None]
    rows = sum(pl.scan_parquet(f).select(pl.len()).collect().item() for f in files)
    # The province is written in chunks of teachers: few row groups per batch.
    assert batches._rescan_pays(files, edges, rows)
    shuffled = tmp_path / "shuffled.parquet"
    pl.concat([pl.read_parquet(f) for f in files]).sample(fraction=1.0, shuffle=True, seed=1) \
        .write_parquet(shuffled, row_group_size=50)
    assert not batches._rescan_pays([shuffled], edges, rows)
    bare = tmp_path / "bare.parquet"
    pl.read_parquet(files[0]).write_parquet(bare, statistics=False)
    assert not batches._rescan_pays([bare], edges, rows)
    events = _events_with_repeats(tmp_path / "events")  # with repeats and bad rows
    for file in files:
        shutil.copy(file, events / file.name)
    runs = {}
    for rescan in (True, False):
        monkeypatch.setattr(batches, "_rescan_pays", lambda *_, r=rescan: r)
        runs[rescan] = recompute(POLICIES / "five_year_cycle.policy", events, None, as_of=AS_OF,
                                 batch_rows=700)[0]
    again, spilled = runs[True], runs[False]
    assert again.batches == spilled.batches > 2
    assert again.events == spilled.events and again.events.rejected > 0
    assert again.ledger is not None and spilled.ledger is not None
    assert again.ledger.equals(spilled.ledger)
    assert again.rejects is not None and spilled.rejects is not None
    assert again.rejects.equals(spilled.rejects)


def test_failure_leaves_the_previous_ledger(province: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception mid-run leaves every previous ledger file intact, and no temporary file."""
    out = tmp_path / "out"
    policies = [POLICIES / "five_year_cycle.policy", POLICIES / "lanxi_2023.policy"]
    recompute(policies, province / "events", None, out, as_of=AS_OF, batch_rows=700)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    calls = {"n": 0}
    real_run = bulk.run

    def failing(*args: object, **kwargs: object) -> pl.DataFrame:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk on fire")
        return real_run(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(bulk, "run", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        recompute(policies, province / "events", None, out, as_of=AS_OF, batch_rows=700)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_progress_is_reported(province: Path, tmp_path: Path) -> None:
    """The callback sees the stages: scan, validate (rows) and each policy (batches)."""
    seen: list[tuple[str, int, int]] = []
    recompute(POLICIES / "lanxi_2023.policy", province / "events", None, tmp_path,
              as_of=AS_OF, progress=lambda *a: seen.append(a), batch_rows=700)
    stages = {s for s, _, _ in seen}
    assert {"scan", "validate", "policy lanxi_2023"} <= stages
    last = [x for x in seen if x[0] == "validate"][-1]
    assert last[1] == last[2] > 0


def test_frames_and_arrow_tables(province: Path) -> None:
    """The library entry point takes Polars and Arrow tables and returns the ledger frame."""
    frame = pl.read_parquet(province / "events")
    roster = pl.read_parquet(province / "roster.parquet")
    policy = POLICIES / "shandong_remote_2017.policy"
    a = recompute(policy, frame, roster, as_of=AS_OF)[0]
    b = recompute(policy, frame.to_arrow(), roster.to_arrow(), as_of=AS_OF)[0]
    c = recompute(policy, province / "events", province / "roster.parquet", as_of=AS_OF)[0]
    assert a.ledger is not None and b.ledger is not None and c.ledger is not None
    assert a.ledger.equals(b.ledger) and a.ledger.equals(c.ledger)
    assert a.rows == a.ledger.height > 0


def test_cli_recompute(province: Path, tmp_path: Path) -> None:
    """`credit-rules recompute` writes one ledger per policy and prints the accounting."""
    rejects = tmp_path / "rejects.csv"
    result = CliRunner().invoke(main, [
        "recompute", str(POLICIES / "lanxi_2023.policy"), str(POLICIES / "ziyang_2017.policy"),
        "--events", str(province / "events"), "--roster", str(province / "roster.parquet"),
        "--out", str(tmp_path / "out"), "--as-of", "2025-12-31", "--rejects", str(rejects),
        "--batch-rows", "700",
    ])
    assert result.exit_code == 0, result.output
    assert "read =" in result.stderr and "used +" in result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        ".recompute.lock", "lanxi_2023.parquet", "manifest.json", "ziyang_2017.parquet"]
    assert rejects.exists()


@pytest.mark.parametrize("name", ["ziyang_2017", "five_year_cycle"])
def test_a_policy_bulk_cannot_compile_is_recomputed_by_the_interpreter(
    province: Path, tmp_path: Path, name: str
) -> None:
    """A policy whose plan has fallbacks (an amount finer than Int64 fixed point holds) is
    recomputed by the interpreter, batched or not, with ranks (ziyang) or without."""
    policy = tmp_path / f"{name}_tiny.policy"
    text = (POLICIES / f"{name}.policy").read_text()
    policy.write_text(text + "\nrule tiny_bonus:\n  on gift\n  0.00000000001 credits\n")
    events, roster = province / "events", province / "roster.parquet"
    results = recompute(policy, events, roster, tmp_path / "out", as_of=AS_OF, batch_rows=700)
    assert results[0].fallbacks and results[0].batches > 1
    expected = interpreter_ledger(policy, events, roster, tmp_path / "i.parquet")
    assert results[0].path is not None
    got = pl.read_parquet(results[0].path)
    assert got.cast(expected.schema).equals(expected)  # type: ignore[arg-type]


def test_batch_sizes_default_to_one_pass_then_smaller_batches() -> None:
    """A province up to 12M events in one pass (fastest); beyond, batches of 4M events
    (memory bounded whatever the size); --batch-rows N sets both."""
    assert batches.batch_sizes(None) == (12_000_000, 4_000_000)
    assert batches.batch_sizes(700) == (700, 700)
