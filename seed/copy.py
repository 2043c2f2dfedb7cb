"""Bulk loading for the seeder: PostgreSQL's binary COPY built from NumPy arrays, and id blocks.

Binary COPY needs no text formatting on either side: each row is a field count and, per field, a
length and big-endian bytes. Rows of one layout (which nullable fields are NULL, which short text
value a low-cardinality column holds) are fixed-width, so each layout is one NumPy structured array
written with `tobytes()`; a stream may mix layouts because every field carries its own length.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Connection, Engine, text

PG_EPOCH_US = 946_684_800 * 1_000_000  # 2000-01-01 in Unix microseconds
HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)
_WIDTH = {"int8": ">i8", "int4": ">i4", "int2": ">i2", "bool": "u1", "timestamptz": ">i8"}


@dataclass(frozen=True)
class Column:
    """A column to COPY: `kind` is int8/int4/int2/bool/timestamptz (seconds since the Unix epoch)
    or text (a small set of values); `null` marks the rows where it is NULL."""

    name: str
    kind: str
    values: np.ndarray
    null: np.ndarray | None = None


def _field_values(column: Column, rows: np.ndarray) -> np.ndarray:
    values = column.values[rows]
    if column.kind == "timestamptz":
        return values.astype(np.int64) * 1_000_000 - PG_EPOCH_US
    if column.kind == "bool":
        return values.astype(np.uint8)
    return values


def binary_payload(columns: Sequence[Column]) -> bytes:
    """The whole COPY ... (FORMAT binary) stream for these columns (all of one length)."""
    n = len(columns[0].values)
    # A row's layout: per nullable column whether it is NULL, per text column its value's code.
    keys, choices = [], []
    for column in columns:
        if column.kind == "text":
            labels, codes = np.unique(column.values, return_inverse=True)
            keys.append(codes)
            choices.append([str(label).encode() for label in labels])
        elif column.null is not None:
            keys.append(column.null.astype(np.int64))
            choices.append([False, True])
        else:
            keys.append(np.zeros(n, dtype=np.int64))
            choices.append([False])
    radix = [len(c) for c in choices]
    layout = np.zeros(n, dtype=np.int64)
    for key, base in zip(keys, radix, strict=True):
        layout = layout * base + key
    parts = [HEADER]
    for combo in itertools.product(*[range(r) for r in radix]):
        code = 0
        for value, base in zip(combo, radix, strict=True):
            code = code * base + value
        rows = np.flatnonzero(layout == code)
        if rows.size:
            parts.append(_layout_bytes(columns, choices, combo, rows))
    parts.append(TRAILER)
    return b"".join(parts)


def _layout_bytes(columns, choices, combo, rows: np.ndarray) -> bytes:
    fields = [("count", ">i2")]
    fill: dict[str, object] = {"count": len(columns)}
    for i, (column, pick) in enumerate(zip(columns, combo, strict=True)):
        if column.kind == "text":
            label = choices[i][pick]
            fields += [(f"l{i}", ">i4"), (f"v{i}", f"S{max(len(label), 1)}")]
            fill[f"l{i}"], fill[f"v{i}"] = len(label), label
        elif choices[i][pick] is True:  # NULL: length -1, no bytes
            fields.append((f"l{i}", ">i4"))
            fill[f"l{i}"] = -1
        else:
            width = _WIDTH[column.kind]
            fields += [(f"l{i}", ">i4"), (f"v{i}", width)]
            fill[f"l{i}"], fill[f"v{i}"] = np.dtype(width).itemsize, _field_values(column, rows)
    if any(np.dtype(w).itemsize == 0 for _, w in fields):
        raise ValueError("empty text values cannot be copied in a fixed layout")
    block = np.empty(rows.size, dtype=np.dtype(fields))
    for name, value in fill.items():
        block[name] = value
    return block.tobytes()


def copy_binary(conn: Connection, table: str, columns: Sequence[Column]) -> int:
    """COPY the rows into `table`; returns the number of rows."""
    if len(columns[0].values) == 0:
        return 0
    names = ", ".join(c.name for c in columns)
    payload = io.BytesIO(binary_payload(columns))
    cursor = conn.connection.dbapi_connection.cursor()
    cursor.copy_expert(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT binary)", payload)
    return len(columns[0].values)


def copy_csv(conn: Connection, table: str, frame) -> int:
    """COPY a pandas DataFrame (columns named as the table's) as CSV; NULL is an empty unquoted field."""
    if frame.empty:
        return 0
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="", date_format="%Y-%m-%d %H:%M:%S+00")
    buffer.seek(0)
    cursor = conn.connection.dbapi_connection.cursor()
    cursor.copy_expert(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv)", buffer)
    return len(frame)


def reserve_ids(engine: Engine, table: str, column: str, count: int) -> int:
    """Reserve `count` consecutive values of the column's identity sequence; returns the first.

    In a short transaction of its own: the table lock keeps concurrent inserts (which draw from the
    same sequence) out only while the block is taken. Unused reserved ids are just a gap.
    """
    with engine.begin() as conn:
        conn.execute(text(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))
        sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table, "c": column}).scalar_one()
        first = conn.execute(text("SELECT nextval(:s)"), {"s": sequence}).scalar_one()
        conn.execute(text("SELECT setval(:s, :last)"), {"s": sequence, "last": first + max(count, 1) - 1})
    return int(first)


def as_columns(arrays: Mapping[str, tuple[str, np.ndarray]], nulls: Mapping[str, np.ndarray] | None = None):
    """[Column] from {name: (kind, values)} and optional {name: null mask}."""
    nulls = nulls or {}
    return [Column(name, kind, values, nulls.get(name)) for name, (kind, values) in arrays.items()]
