"""DuckDB relations and SQL queries: sweep databases larger than memory.

A relation is lazy: projecting it onto the wanted columns and filtering it before fetching lets
DuckDB push both into its scan (of Parquet files, a database table, ...), so only the needed
columns of the needed rows are ever materialised, streamed to Arrow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import InvalidDataError
from ._filters import Filter, duckdb_expression


def is_relation(obj: Any) -> bool:
    """Whether ``obj`` is a DuckDB relation."""
    return (
        type(obj).__name__ == "DuckDBPyRelation"
        and type(obj).__module__.split(".")[0].lstrip("_") == "duckdb"
    )


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError:
        raise ImportError("SQL queries need DuckDB: pip install 'powerfit[duckdb]'") from None
    return duckdb


def sql(query: str, connection: Any = None) -> Any:
    """A lazy DuckDB relation for ``query`` (nothing runs until :func:`read_table` fetches
    the columns it needs).

    >>> rel = sql("SELECT * FROM 'sweeps/*.parquet' WHERE dataset = 'c4'")  # doctest: +SKIP
    >>> table = read_table(rel, columns=["N", "D", "loss"])                 # doctest: +SKIP

    Args:
        query: a DuckDB SQL query, e.g. over Parquet files (``FROM 'runs/*.parquet'``).
        connection: a ``duckdb.DuckDBPyConnection``; default an in-memory database.

    Raises:
        InvalidDataError: the query does not parse or names missing tables or columns.
    """
    duckdb = _duckdb()
    con = connection if connection is not None else duckdb.connect()
    try:
        return con.sql(query)
    except duckdb.Error as exc:
        raise InvalidDataError(f"SQL query failed: {_one_line(exc)}") from None


def relation_names(rel: Any) -> list[str]:
    """Column names of a relation (no query is run)."""
    return [str(c) for c in rel.columns]


def read_relation(
    rel: Any, cols: Sequence[str] | None, filters: Sequence[Filter], source: str
) -> Any:
    """The columns ``cols`` (all when None) of the rows meeting ``filters``, as a pyarrow
    Table."""
    duckdb = _duckdb()
    try:
        if filters:
            rel = rel.filter(duckdb_expression(filters))
        if cols is not None:
            rel = rel.select(*[duckdb.ColumnExpression(c) for c in cols])
        fetch = getattr(rel, "to_arrow_table", None) or rel.arrow  # older DuckDB: arrow()
        return fetch()
    except duckdb.Error as exc:
        raise InvalidDataError(f"cannot read {source}: {_one_line(exc)}") from None


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())
