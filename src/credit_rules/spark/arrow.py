"""Frames across the Python/JVM boundary: the Arrow types Spark accepts, and blobs.

Spark checks the Arrow schema a UDF returns exactly and knows no ``large_*`` or view
types, which Polars produces: :func:`spark_schema` maps a schema to the plain types.
Results whose columns differ from policy to policy (the per-teacher results that ranks
need, rejected rows, accounting) cross as one Arrow IPC blob per part (:func:`to_blob`).
"""

from __future__ import annotations

import io
from typing import Any

import polars as pl
import pyarrow as pa


def plain_type(kind: pa.DataType) -> pa.DataType:
    """``kind`` with every large or view type replaced by its plain form, recursively."""
    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return pa.string()
    if pa.types.is_large_binary(kind) or pa.types.is_binary_view(kind):
        return pa.binary()
    if pa.types.is_large_list(kind) or pa.types.is_list_view(kind) or pa.types.is_list(kind):
        return pa.list_(pa.field(kind.value_field.name, plain_type(kind.value_type)))
    if pa.types.is_struct(kind):
        return pa.struct([pa.field(f.name, plain_type(f.type), f.nullable) for f in kind])
    if pa.types.is_dictionary(kind):
        return plain_type(kind.value_type)
    return kind


def spark_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` in the types Spark reads and returns (see :func:`plain_type`)."""
    return pa.schema([pa.field(f.name, plain_type(f.type)) for f in schema])


def frame_schema(frame_schema: dict[str, Any] | pl.Schema) -> pa.Schema:
    """The Spark-safe Arrow schema of a Polars schema."""
    return spark_schema(pl.DataFrame(schema=frame_schema).to_arrow().schema)


def struct_type(schema: pa.Schema) -> Any:
    """The Spark ``StructType`` of an Arrow schema."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(spark_schema(schema))


def to_table(frame: pl.DataFrame, schema: pa.Schema) -> pa.Table:
    """``frame`` as an Arrow table of exactly ``schema`` (columns in its order)."""
    table = frame.select(schema.names).to_arrow().cast(schema)
    # An empty frame can give a column of no chunks, which Spark's createDataFrame refuses
    # ("cannot construct ChunkedArray from empty vector"): a ranked policy without events.
    return table if table.num_rows else schema.empty_table()


def to_frame(table: pa.Table | pa.RecordBatch, schema: dict[str, Any] | pl.Schema) -> pl.DataFrame:
    """An Arrow table from Spark back as a frame of the Polars ``schema`` it left as."""
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame.cast(dict(schema))  # type: ignore[arg-type]


def to_blob(frame: pl.DataFrame) -> bytes:
    """A frame as Arrow IPC bytes (any columns and types)."""
    buffer = io.BytesIO()
    frame.write_ipc(buffer, compression="lz4")
    return buffer.getvalue()


def from_blob(blob: bytes) -> pl.DataFrame:
    return pl.read_ipc(io.BytesIO(blob))
