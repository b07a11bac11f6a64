"""What produced a ledger: the credit-rules version, SHA-256 checksums of the policy and
input files, the provenance kept in each ledger's Parquet key-value metadata
(:data:`PROVENANCE_KEY`), and ``manifest.json`` (:data:`MANIFEST_NAME`), written last."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from credit_rules import ir
from credit_rules.eval import bulk
from credit_rules.io import LoadReport, sources
from credit_rules.io.ledger import atomic_output

if TYPE_CHECKING:
    from credit_rules.recompute.run import RecomputeResult

#: The Parquet key-value metadata key holding a ledger's provenance (JSON).
PROVENANCE_KEY = "credit_rules.provenance"
#: Written last into ``out_dir``: what the run read and wrote, with checksums.
MANIFEST_NAME = "manifest.json"


def write_manifest(path: Path, results: Sequence[RecomputeResult], started_at: dt.datetime,
                   batch_rows: int) -> None:
    """``manifest.json``: the run's inputs, accounting and every ledger with its SHA-256."""
    finished = dt.datetime.now(dt.UTC)
    manifest = {
        "credit_rules_version": version(),
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "batch_rows": batch_rows,
        "batches": max((r.batches for r in results), default=1),
        "ledgers": [
            {"file": r.path.name if r.path is not None else None,
             "sha256": file_sha256(r.path) if r.path is not None else None,
             "rows": r.rows, "provenance": r.provenance}
            for r in results
        ],
    }
    with atomic_output(path, "w") as handle:
        handle.write(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")


def version() -> str:
    """The installed credit-rules version (``credit_rules.__version__``)."""
    try:
        return importlib.metadata.version("credit-rules")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - a bare checkout
        return "unknown"


def file_sha256(path: str | os.PathLike[str]) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def input_entries(source: Any) -> list[dict[str, Any]] | None:
    """Each input file with its size and SHA-256 (a frame: its kind, no checksum)."""
    if source is None:
        return None
    items = source if isinstance(source, list | tuple) else [source]
    entries: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, str | os.PathLike) and os.fspath(item) != "-":
            name = os.fspath(item)
            paths = sources.expand_folder(item) if Path(name).is_dir() else [item]
            for path in paths:
                entries.append({"path": os.fspath(path), "bytes": os.path.getsize(path),
                                "sha256": file_sha256(path)})
        else:
            entries.append({"path": "-" if isinstance(item, str) else f"<{type(item).__name__}>",
                            "bytes": None, "sha256": None})
    return entries


def _counts(report: LoadReport | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {"read": report.rows_read, "used": report.rows_used, "duplicates": report.duplicates,
            "rejected": report.rejected, "summary": report.summary()}


def provenance(policy: ir.Policy, policy_file: Path | None, plan: bulk.BulkPlan, as_of: dt.date,
               inputs: dict[str, Any], events: LoadReport,
               roster: LoadReport | None) -> dict[str, Any]:
    """What produced a ledger: policy (file and SHA-256), version, engine, as-of date,
    input files with SHA-256, and the accounting. Deterministic (no clock)."""
    return {
        "policy": policy.name,
        "policy_file": os.fspath(policy_file) if policy_file is not None else None,
        "policy_sha256": file_sha256(policy_file) if policy_file is not None else None,
        "credit_rules_version": version(),
        "engine": "bulk" if not plan.fallbacks else "bulk+interpreter",
        "as_of": as_of.isoformat(),
        "timezone": policy.timezone,
        "inputs": inputs,
        "accounting": {"events": _counts(events), "roster": _counts(roster)},
    }
