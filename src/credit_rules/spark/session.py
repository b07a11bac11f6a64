"""The Spark session the engine runs in, and the clear error when PySpark is missing.

PySpark is an optional extra (``pip install "credit-rules[spark]"``): this is the only
place that says so. A session already running (a notebook's, a cluster job's) is used as
it is; otherwise one is built for ``master`` with the settings the engine needs.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from credit_rules.errors import UsageError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: The install hint every "no PySpark" error gives.
INSTALL_HINT = 'pip install "credit-rules[spark]"'

#: What the engine needs of any session it builds: Arrow UDFs, times read as written (the
#: validation, not Spark, decides what a local time means), and no web UI port.
SESSION_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # A partition's rows reach Polars in one piece: fewer, larger Arrow batches.
    "spark.sql.execution.arrow.maxRecordsPerBatch": "1000000",
}


def require_pyspark() -> None:
    """Raise :class:`UsageError` with the install command when PySpark (or the pandas it
    needs for Arrow UDFs) is not installed."""
    missing = [name for name in ("pyspark", "pandas") if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(
            f"the Spark engine needs {' and '.join(missing)}, which is not installed; "
            f"install it with: {INSTALL_HINT}")


def spark_session(master: str | None = None, conf: Mapping[str, str] | None = None) -> SparkSession:
    """The active Spark session, or a new one for ``master`` (default ``local[*]``) with
    :data:`SESSION_CONF` and ``conf``. The executors' Python is this interpreter unless
    ``PYSPARK_PYTHON`` says otherwise (it must have credit-rules, Polars and pyarrow)."""
    require_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master or "local[*]").appName("credit-rules")
    for key, value in {**SESSION_CONF, **(conf or {})}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
