"""Row filters: a list of ``(column, op, value)`` conditions, all of which a row must meet.

The same list becomes a pyarrow expression (pushed into Parquet and Arrow dataset scans, so
row groups whose statistics exclude the condition are never read) or a DuckDB expression
(pushed into DuckDB's scan of the query). Values are bound as constants, never spliced into
query text.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import InvalidOptionError

#: Comparison operators a filter may use.
OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "not in")

Filter = tuple[str, str, Any]


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def check_filters(filters: Sequence[Filter] | Filter | None) -> list[Filter]:
    """The filters as a list of ``(column, op, value)``, or InvalidOptionError saying which
    entry is malformed."""
    if filters is None:
        return []
    if isinstance(filters, tuple) and len(filters) == 3 and isinstance(filters[0], str):
        filters = [filters]
    if not isinstance(filters, (list, tuple)):
        raise InvalidOptionError(
            f"filters must be a list of (column, op, value) triples, got {filters!r}"[:200]
        )
    out: list[Filter] = []
    for i, f in enumerate(filters):
        if not (isinstance(f, (tuple, list)) and len(f) == 3):
            raise InvalidOptionError(
                f"filters[{i}] must be a (column, op, value) triple, got {f!r}"
            )
        col, op, value = f
        if not isinstance(col, str):
            raise InvalidOptionError(f"filters[{i}]: the column must be a name, got {col!r}")
        if not isinstance(op, str) or op not in OPS:
            raise InvalidOptionError(
                f"filters[{i}]: unknown operator {op!r}; use one of {', '.join(OPS)}"
            )
        if op in ("in", "not in"):
            if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
                raise InvalidOptionError(
                    f"filters[{i}]: '{op}' needs a list of values, got {value!r}"
                )
            value = list(value)
        out.append((col, op, value))
    return out


def filter_columns(filters: Sequence[Filter]) -> list[str]:
    """Columns the filters read, in order of first use."""
    seen: dict[str, None] = {}
    for col, _, _ in filters:
        seen.setdefault(col, None)
    return list(seen)


def arrow_expression(filters: Sequence[Filter]) -> Any:
    """The conjunction of the filters as a ``pyarrow.compute.Expression`` (None if empty)."""
    import pyarrow.compute as pc

    expr = None
    for col, op, value in filters:
        f = pc.field(col)
        if op == "in":
            e = f.isin(value)
        elif op == "not in":
            e = ~f.isin(value)
        else:
            e = _COMPARE[op](f, value)
        expr = e if expr is None else expr & e
    return expr


def duckdb_expression(filters: Sequence[Filter]) -> Any:
    """The conjunction of the filters as a DuckDB expression (None if empty)."""
    import duckdb

    expr = None
    for col, op, value in filters:
        c = duckdb.ColumnExpression(col)
        if op in ("in", "not in"):
            consts = [duckdb.ConstantExpression(v) for v in value]
            e = c.isin(*consts) if op == "in" else c.isnotin(*consts)
        else:
            e = _COMPARE[op](c, duckdb.ConstantExpression(value))
        expr = e if expr is None else expr & e
    return expr
