"""Runs and outputs (issue 11): interrupted and concurrent runs, file modes, inputs only,
batching, provenance, markup, strict input, roster rejects."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import credit_rules
from credit_rules import recompute
from credit_rules.cli import main
from credit_rules.io.ledger import atomic_output
from credit_rules.recompute import batches
from credit_rules.recompute import folder as recompute_folder
from credit_rules.recompute import run as recompute_run
from credit_rules.synth import write_province

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
FIVE = POLICIES / "five_year_cycle.policy"
AS_OF = dt.date(2025, 12, 31)
SRC = Path(credit_rules.__file__).resolve().parents[1]
mod = sys.modules["credit_rules.recompute"]


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("province")
    write_province(folder, 30, seed=5, chunk_teachers=12)
    return folder


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_cli(*args: str) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


EVENT = {"kind": "training", "hours": "10", "category": "knowledge", "level": "school"}


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


# ------------------------------------------------------------------ 1. killed and interrupted runs


def test_next_run_removes_only_its_own_stale_temporaries(province: Path, tmp_path: Path) -> None:
    """A killed run's temporaries of this run's outputs are removed; other hidden files stay."""
    out = tmp_path / "out"
    out.mkdir()
    stale = [out / ".five_year_cycle.parquet.ab12cd34.tmp", out / ".manifest.json.x_9y8z7w.tmp"]
    spill = out / ".recompute.k2j3h4g5.spill.tmp"
    spill.mkdir()
    (spill / "000001").mkdir()
    kept = [out / ".lanxi_2023.parquet.ab12cd34.tmp", out / ".notes", out / "five_year_cycle.parquet.tmp"]
    for path in [*stale, *kept]:
        path.write_bytes(b"partial")
    recompute(FIVE, province / "events", province / "roster.parquet", out, as_of=AS_OF)
    assert not any(p.exists() for p in [*stale, spill])
    assert all(p.exists() for p in kept)
    assert not list(out.glob(".recompute.*.spill.tmp"))


_INTERRUPTED = textwrap.dedent("""
    import sys
    import credit_rules.recompute.run  # the command line imports it only when it recomputes
    from credit_rules.cli import main
    r = sys.modules["credit_rules.recompute.run"]
    real, calls = r.bulk_ledger, []
    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)
    r.bulk_ledger = interrupted
    sys.argv = ["credit-rules", *sys.argv[1:]]
    main()
""")


def test_ctrl_c_closes_writers_removes_temporaries_and_exits_130(province: Path, tmp_path: Path) -> None:
    """Ctrl-C mid-run: exit 130, one line, no `ParquetWriter.__del__` traceback, no temporaries,
    the previous ledger untouched."""
    out = tmp_path / "out"
    recompute(FIVE, province / "events", province / "roster.parquet", out, as_of=AS_OF)
    before = sha256(out / "five_year_cycle.parquet")
    result = subprocess.run(
        [sys.executable, "-c", _INTERRUPTED, "recompute", str(FIVE), "--events", str(province / "events"),
         "--roster", str(province / "roster.parquet"), "--out", str(out), "--as-of", "2025-12-31",
         "--batch-rows", "300"],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(SRC)}, timeout=300,
    )
    assert result.returncode == 130, result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr, result.stderr
    assert [line for line in result.stderr.splitlines() if "interrupted" in line] == [
        "interrupted: no output was replaced and temporary files were removed"]
    assert sorted(p.name for p in out.iterdir()) == [".recompute.lock", "five_year_cycle.parquet",
                                                    "manifest.json"]
    assert sha256(out / "five_year_cycle.parquet") == before


def test_a_second_run_into_the_same_folder_is_refused(province: Path, tmp_path: Path) -> None:
    """While a run holds the folder's lock another `recompute` there exits 2 with a message."""
    out = tmp_path / "out"
    out.mkdir()
    args = ["recompute", FIVE, "--events", province / "events", "--out", out, "--as-of", "2025-12-31"]
    with recompute_folder.locked(out):
        refused = run_cli(*args)
    assert refused.exit_code == 2, refused.output  # type: ignore[attr-defined]
    assert "another credit-rules recompute is writing into this folder" in refused.stderr  # type: ignore[attr-defined]
    assert not (out / "five_year_cycle.parquet").exists()
    assert run_cli(*args).exit_code == 0  # type: ignore[attr-defined]  # released at exit


# ------------------------------------------------------------------ 2. file modes and symlinks


def test_written_files_follow_the_umask_and_keep_an_existing_mode(province: Path, tmp_path: Path) -> None:
    """A new file gets 0666 & ~umask (not mkstemp's 0600); a replaced file keeps its mode."""
    with umask(0o022):
        with atomic_output(tmp_path / "new.txt") as handle:
            handle.write("x")
        recompute(FIVE, province / "events", None, tmp_path / "out", as_of=AS_OF)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "out" / "five_year_cycle.parquet").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "out" / "manifest.json").stat().st_mode) == 0o644
    os.chmod(tmp_path / "new.txt", 0o640)
    with umask(0o077), atomic_output(tmp_path / "new.txt") as handle:
        handle.write("y")
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o640
    assert (tmp_path / "new.txt").read_text() == "y"


def test_fmt_write_on_a_symlink_writes_through_to_its_target(tmp_path: Path) -> None:
    """`fmt --write LINK` rewrites the link's target; the link stays a link."""
    real = tmp_path / "policies" / "real.policy"
    real.parent.mkdir()
    text = FIVE.read_text(encoding="utf-8")
    real.write_text(text.replace("cap municipal_at_most:", "cap   municipal_at_most:"), encoding="utf-8")
    link = tmp_path / "link.policy"
    link.symlink_to(real)
    result = run_cli("fmt", "--write", link)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert "cap municipal_at_most:" in real.read_text(encoding="utf-8")
    assert run_cli("fmt", "--check", real).exit_code == 0  # type: ignore[attr-defined]
    assert not list(tmp_path.glob(".link.policy.*")) and not list(real.parent.glob(".*.tmp"))


# ------------------------------------------------------------------ 3. only inputs are read


# 1000 of the ~3000 events: a few batches (each batch costs a pass of every policy)
@pytest.mark.parametrize("batch_rows", [10**9, 1000])
def test_recompute_into_its_events_folder_reads_only_the_events(
        province: Path, tmp_path: Path, batch_rows: int) -> None:
    """`--events D --out D` twice: no ledger, manifest, hidden or metadata file read as events."""
    folder = tmp_path / "d"
    folder.mkdir()
    for part in sorted((province / "events").iterdir()):
        (folder / part.name).write_bytes(part.read_bytes())
    for junk in ("._part-00000.parquet", ".x", "_metadata", "_SUCCESS", "_common_metadata"):
        (folder / junk).write_bytes(b"\x00\x05junk")
    runs = [recompute([FIVE, POLICIES / "lanxi_2023.policy"], folder, province / "roster.parquet",
                      folder, as_of=AS_OF, batch_rows=batch_rows) for _ in range(2)]
    # A ledger left by another policy's earlier run is not an events file either.
    recompute(POLICIES / "ziyang_2017.policy", folder, None, folder, as_of=AS_OF, batch_rows=batch_rows)
    again = recompute(FIVE, folder, province / "roster.parquet", folder, as_of=AS_OF, batch_rows=batch_rows)
    assert runs[0][0].events == runs[1][0].events == again[0].events
    assert runs[0][0].events.rows_read == sum(
        pq.ParquetFile(p).metadata.num_rows for p in (province / "events").iterdir())


# ------------------------------------------------------------------ 4. batching


def test_batched_and_unbatched_ledgers_are_byte_identical(
        province: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same ledger bytes whatever --batch-rows (fixed row groups, provenance without clocks),
    and whether batches read the files again or a spill; from a spill, batches never rescan
    the inputs (one scan and one split pass per file)."""
    monkeypatch.setattr(recompute_run, "ROW_GROUP_ROWS", 7)  # several row groups, cut across batches
    scans: list[object] = []
    real_scan = pl.scan_parquet
    monkeypatch.setattr(pl, "scan_parquet", lambda *a, **k: scans.append(a[0]) or real_scan(*a, **k))
    real_choice = batches._rescan_pays
    policies = sorted(POLICIES.glob("*.policy"))
    digests: dict[tuple[int, bool], list[str]] = {}
    passes: dict[tuple[int, bool], int] = {}
    # 1, ~3 and ~8 batches of the ~3000 events; read again where the statistics allow it
    # (the province is written by chunks of teachers), or always from a spill.
    for batch_rows, spill in ((10**9, False), (1000, False), (1000, True), (400, True)):
        scans.clear()
        monkeypatch.setattr(batches, "_rescan_pays",
                            (lambda *_: False) if spill else real_choice)
        results = recompute(policies, province / "events", province / "roster.parquet",
                            tmp_path / f"{batch_rows}-{spill}", as_of=AS_OF, batch_rows=batch_rows)
        assert results[0].batches > 1 or batch_rows == 10**9
        digests[batch_rows, spill] = [sha256(r.path) for r in results if r.path is not None]
        passes[batch_rows, spill] = len(scans)
    assert len({tuple(d) for d in digests.values()}) == 1, digests
    assert pq.ParquetFile(tmp_path / "400-True" / "five_year_cycle.parquet").metadata.row_group(0).num_rows == 7
    assert passes[1000, True] == passes[400, True]  # reading does not grow with the number of batches
    assert passes[1000, False] > passes[1000, True]  # this province's batches read it again


# ------------------------------------------------------------------ 5. provenance


def test_each_ledger_and_the_manifest_record_what_produced_them(province: Path, tmp_path: Path) -> None:
    """Policy and input SHA-256, version, engine, as-of and the balanced accounting are in the
    ledger's Parquet metadata and in manifest.json; a rerun gives the same bytes."""
    out = tmp_path / "out"
    result = recompute(FIVE, province / "events", province / "roster.parquet", out, as_of=AS_OF)[0]
    ledger = out / "five_year_cycle.parquet"
    origin = json.loads(pq.ParquetFile(ledger).metadata.metadata[mod.PROVENANCE_KEY.encode()])
    assert origin == result.provenance
    assert origin["policy_sha256"] == sha256(FIVE)
    assert origin["credit_rules_version"] == credit_rules.__version__
    assert origin["engine"] == "bulk" and origin["as_of"] == "2025-12-31"
    files = sorted((province / "events").iterdir())
    assert [e["sha256"] for e in origin["inputs"]["events"]] == [sha256(p) for p in files]
    assert origin["inputs"]["roster"][0]["sha256"] == sha256(province / "roster.parquet")
    events = origin["accounting"]["events"]
    assert events["read"] == events["used"] + events["duplicates"] + events["rejected"] > 0
    assert events["summary"].startswith("events: ") and origin["accounting"]["roster"]["read"] == 30
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    (entry,) = manifest["ledgers"]
    assert entry["file"] == "five_year_cycle.parquet" and entry["sha256"] == sha256(ledger)
    assert entry["provenance"] == origin and "started_at" in manifest
    before = sha256(ledger)
    recompute(FIVE, province / "events", province / "roster.parquet", out, as_of=AS_OF)
    assert sha256(ledger) == before


# ------------------------------------------------------------------ 6. markup


def test_explain_prints_markup_in_ids_and_sources_as_written(tmp_path: Path) -> None:
    """`[/x]` and `[link=…]…[/link]` in event ids and policy sources are shown, not interpreted."""
    policy = tmp_path / "p.policy"
    policy.write_text(FIVE.read_text(encoding="utf-8").replace(
        'source "三(三) 参加市级课程学习完成4-7学分(10%-20%)"',
        'source "[link=http://x]y[/link] [/x] 三(三)"'), encoding="utf-8")
    events = write_jsonl(tmp_path / "e.jsonl", [
        {"event_id": "m[/x]", "teacher_id": "t1", "at": "2022-09-10", **EVENT, "hours": "70",
         "level": "municipal"},
        {"event_id": "m2", "teacher_id": "t1", "at": "2022-10-10", **EVENT, "hours": "20",
         "level": "municipal"},
        {"event_id": "[link=http://x]y[/link]", "teacher_id": "t1", "at": "2022-11-11",
         "kind": "observation"},
        {"event_id": "o[/x]", "teacher_id": "t1", "at": "2022-11-12", "kind": "observation"},
    ])
    result = run_cli("explain", policy, "--events", events, "--teacher", "t1", "--as-of", "2025-12-31")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    text = result.stdout  # type: ignore[attr-defined]
    assert "[link=http://x]y[/link] (observation), o[/x] (observation)" in text
    assert "cap municipal_at_most (at most 7 credits) cut m2  [link=http://x]y[/link] [/x] 三(三)" in text
    assert "\x1b]8;" not in text  # no terminal hyperlink


# ------------------------------------------------------------------ 7. --strict-input


def test_strict_input_fails_where_a_plain_run_warns(tmp_path: Path) -> None:
    """Misspelt columns, roster columns without a roster and rejected rows: warnings without
    --strict-input, exit 2 (and no ledger replaced) with it."""
    misspelt = write_jsonl(tmp_path / "e.jsonl", [
        {"event_id": "a", "teacher_id": "t1", "at": "2022-09-10", "kind": "training", "hour": "10",
         "category": "knowledge", "level": "school"}])
    plain = run_cli("eval", FIVE, "--events", misspelt, "--as-of", "2025-12-31")
    assert plain.exit_code == 0, plain.output  # type: ignore[attr-defined]
    warnings = [line for line in plain.stderr.splitlines() if line.startswith("warning:")]  # type: ignore[attr-defined]
    assert 'warning: no column "hours" in the events (did you mean `hour`?)' in warnings
    assert ('warning: policy five_year_cycle reads roster column "title" but no --roster was given'
            in warnings)
    strict = run_cli("eval", FIVE, "--events", misspelt, "--as-of", "2025-12-31", "--strict-input")
    assert strict.exit_code == 2 and 'no column "hours"' in strict.stderr  # type: ignore[attr-defined]
    assert strict.stdout == ""  # type: ignore[attr-defined]

    rejected = write_jsonl(tmp_path / "r.jsonl", [
        {"event_id": "a", "teacher_id": "t1", "at": "2022-09-10", **EVENT},
        {"event_id": "b", "teacher_id": "t1", "at": "2022-02-30", **EVENT}])
    nothing_read = write_jsonl(tmp_path / "n.jsonl", [
        {"event_id": "a", "teacher_id": "t1", "at": "2022-09-10", "kind": "observation"}])
    lanxi = POLICIES / "lanxi_2023.policy"  # reads no roster column
    out = tmp_path / "out"
    assert run_cli("recompute", lanxi, "--events", rejected, "--out", out, "--as-of", "2025-12-31").exit_code == 0  # type: ignore[attr-defined]
    before = sha256(out / "lanxi_2023.parquet")
    for events, message in ((rejected, "1 event(s) rejected"),
                            (nothing_read, "the events have none of the columns policy lanxi_2023 reads")):
        result = run_cli("recompute", lanxi, "--events", events, "--out", out, "--as-of", "2025-12-31",
                         "--strict-input", "--rejects", tmp_path / "rejects.csv")
        assert result.exit_code == 2 and message in result.stderr, result.stderr  # type: ignore[attr-defined]
        assert sha256(out / "lanxi_2023.parquet") == before
    assert "2022-02-30" in (tmp_path / "rejects.csv").read_text(encoding="utf-8")


# ------------------------------------------------------------------ 8. roster rejects


def test_roster_rejects_reach_the_rejects_output(tmp_path: Path) -> None:
    """`--rejects FILE` writes rejected roster rows to FILE.roster.csv (eval and recompute)."""
    events = write_jsonl(tmp_path / "e.jsonl", [
        {"event_id": "a", "teacher_id": "t1", "at": "2022-09-10", **EVENT}])
    roster = tmp_path / "roster.csv"
    roster.write_text("teacher_id,title\nt1,senior\nt2,boss\n", encoding="utf-8")
    for command in (["eval", FIVE, "--format", "jsonl"], ["recompute", FIVE, "--out", tmp_path / "out"]):
        rejects = tmp_path / f"{command[0]}.csv"
        result = run_cli(*command, "--events", events, "--roster", roster, "--as-of", "2025-12-31",
                         "--rejects", rejects)
        assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
        assert f"rejected roster rows written to {tmp_path / (command[0] + '.roster.csv')}" in result.stderr  # type: ignore[attr-defined]
        rows = pl.read_csv(tmp_path / f"{command[0]}.roster.csv")
        assert rows.get_column("teacher_id").to_list() == ["t2"]
        assert rows.get_column("reason").to_list()[0].startswith('title: "boss" is not one of')
        assert pl.read_csv(rejects).height == 0
