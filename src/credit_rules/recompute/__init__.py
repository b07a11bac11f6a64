"""Recompute ledgers for many policies at once with the bulk engine (``credit-rules recompute``).

One job per module:

- :mod:`~credit_rules.recompute.run`: :func:`recompute` itself: load the inputs, run every
  policy over them, write each ledger (:class:`RecomputeResult`);
- :mod:`~credit_rules.recompute.batches`: the larger-than-memory path, Parquet events in
  batches of teachers through spill files;
- :mod:`~credit_rules.recompute.folder`: the output folder: its lock, stale temporaries,
  which files of an events folder are inputs;
- :mod:`~credit_rules.recompute.provenance`: version, checksums, each ledger's provenance
  and ``manifest.json``;
- :mod:`~credit_rules.recompute.checks`: warnings about the inputs, and
  :class:`StrictInputError`.

This package re-exports their public names, so ``credit_rules.recompute.X`` keeps working;
as before the split, ``credit_rules.recompute.provenance`` is the function (the binding
replaces the submodule's; ``from credit_rules.recompute.provenance import …`` still reads
the module).
"""

from __future__ import annotations

from credit_rules.recompute.batches import BATCH_ROWS
from credit_rules.recompute.batches import Progress as Progress
from credit_rules.recompute.checks import StrictInputError as StrictInputError
from credit_rules.recompute.checks import input_warnings as input_warnings
from credit_rules.recompute.checks import roster_columns as roster_columns
from credit_rules.recompute.checks import table_columns as table_columns
from credit_rules.recompute.folder import LOCK_NAME as LOCK_NAME
from credit_rules.recompute.folder import is_data_file as is_data_file
from credit_rules.recompute.folder import remove_stale_temporaries as remove_stale_temporaries
from credit_rules.recompute.provenance import MANIFEST_NAME as MANIFEST_NAME
from credit_rules.recompute.provenance import PROVENANCE_KEY as PROVENANCE_KEY
from credit_rules.recompute.provenance import file_sha256 as file_sha256
from credit_rules.recompute.provenance import provenance as provenance
from credit_rules.recompute.provenance import version as version
from credit_rules.recompute.provenance import write_manifest as write_manifest
from credit_rules.recompute.run import ROW_GROUP_ROWS as ROW_GROUP_ROWS
from credit_rules.recompute.run import RecomputeResult, recompute, write_frame
from credit_rules.values import DEFAULT_TIMEZONE

__all__ = ["BATCH_ROWS", "DEFAULT_TIMEZONE", "RecomputeResult", "recompute", "write_frame"]
