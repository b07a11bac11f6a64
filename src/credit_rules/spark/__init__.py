"""The Spark engine: the bulk engine's compiled plan run inside Spark executors.

PySpark is an optional extra (``pip install "credit-rules[spark]"``) imported only inside
this package, and only when a function here runs. One job per module:

- :mod:`~credit_rules.spark.session`: the session (settings, the missing-PySpark error);
- :mod:`~credit_rules.spark.arrow`: frames across the JVM boundary (Spark's Arrow types);
- :mod:`~credit_rules.spark.validate`: the io validation per partition, repeats decided once;
- :mod:`~credit_rules.spark.evaluate`: buckets of teachers through the bulk engine, ranks once;
- :mod:`~credit_rules.spark.run`: :func:`recompute` (DataFrames), :func:`recompute_files`
  and :func:`ledger_frames` (files, as ``credit-rules recompute`` takes them).

>>> from credit_rules import spark as cr_spark
>>> ledger = cr_spark.recompute("policies/five_year_cycle.policy", events_df, roster_df)  # doctest: +SKIP
"""

from __future__ import annotations

from credit_rules.spark.run import ledger_frames, recompute, recompute_files
from credit_rules.spark.session import INSTALL_HINT, require_pyspark, spark_session

__all__ = ["INSTALL_HINT", "ledger_frames", "recompute", "recompute_files", "require_pyspark",
           "spark_session"]
