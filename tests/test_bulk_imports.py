"""The bulk engine never imports pandas: pyarrow's NumPy conversion does when pandas is
installed (the Spark extra installs it), which cost 0.7 s of every recompute."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

_SCRIPT = """
import datetime as dt, sys
import polars as pl
from credit_rules.api import as_policy, shipped_policies
from credit_rules.eval import bulk
from credit_rules.io import load_events
table = load_events(pl.DataFrame({"event_id": ["e1", "e2"], "teacher_id": ["t1", "t2"],
    "at": ["2024-03-01", "2024-03-02"], "kind": ["training", "training"], "hours": ["10", "4"]}))
for path in shipped_policies():
    bulk.run(bulk.compile_plan(as_policy(path)), table.frame, None, as_of=dt.date(2026, 1, 1))
print("pandas" in sys.modules)
"""


@pytest.mark.skipif(importlib.util.find_spec("pandas") is None, reason="pandas is not installed here")
def test_the_bulk_engine_does_not_import_pandas() -> None:
    out = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
