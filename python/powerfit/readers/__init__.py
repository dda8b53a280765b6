"""One reader for every entry point: files, tables in memory and SQL queries, as one
columnar form.

>>> from powerfit.readers import read_table
>>> t = read_table("sweep.parquet", columns=["N", "D", "loss"],
...                filters=[("dataset", "==", "c4")])          # doctest: +SKIP
>>> t.floats("N"), t.flavour                                  # doctest: +SKIP

Accepted sources:

- files, by extension (or ``format=``): CSV and TSV (also ``.gz``, ``.bz2``, ``.zst``), JSON
  lines (``.jsonl``, ``.ndjson``), JSON (an array of records, an object of columns, or JSON
  lines), Parquet (a file, a folder of files with Hive partitions, or a glob such as
  ``"runs/*.parquet"``), Arrow IPC / Feather (``.arrow``, ``.feather``, ``.ipc``, and the
  streaming ``.arrows``); ``"-"`` reads CSV from standard input;
- pandas DataFrames, polars DataFrames and LazyFrames, pyarrow Tables and RecordBatches;
- dicts of arrays (numpy arrays, lists, pandas or polars Series, pyarrow arrays);
- DuckDB relations, e.g. :func:`sql` (``pip install 'powerfit[duckdb]'``).

Only the columns asked for are read (Parquet, IPC and DuckDB do not even load the others from
disk; CSV does not convert them) and row filters are pushed into Parquet and DuckDB scans, so
sweep databases larger than memory can be read for the columns a fit needs. Inputs are never
modified. Reading needs pyarrow (``pip install 'powerfit[arrow]'``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import _check
from ..errors import InvalidDataError, InvalidOptionError
from ._duckdb import is_relation, read_relation, relation_names, sql
from ._files import FORMATS, describe, file_kind, file_names, is_path, read_file
from ._filters import OPS, Filter, arrow_expression, check_filters, filter_columns
from ._memory import memory_kind, memory_names, memory_table
from ._table import Flavour, Table

__all__ = ["FORMATS", "OPS", "Flavour", "Table", "read_table", "sql", "table_columns"]

_DESCRIPTIONS = {
    "pandas": "the pandas DataFrame",
    "polars": "the polars DataFrame",
    "pyarrow": "the pyarrow Table",
    "dict": "the dict of columns",
    "duckdb": "the DuckDB query",
}


def _require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ImportError("reading tables needs pyarrow: pip install 'powerfit[arrow]'") from None


def _classify(source: Any, fmt: str | None) -> tuple[str, str]:
    """(kind, description) of a source."""
    if is_relation(source):
        return "duckdb", _DESCRIPTIONS["duckdb"]
    kind = memory_kind(source)
    if kind is not None:
        return kind, _DESCRIPTIONS[kind]
    if is_path(source):
        return file_kind(source, fmt), describe(source)
    raise InvalidDataError(
        "data must be a path (CSV, TSV, JSON, Parquet, Arrow IPC), a DataFrame (pandas or "
        "polars), a pyarrow Table, a dict of columns or a DuckDB relation, not "
        f"{type(source).__name__}"
    )


def _names(source: Any, kind: str) -> list[str]:
    if kind == "duckdb":
        return relation_names(source)
    if kind in _DESCRIPTIONS:
        return memory_names(source, kind)
    return file_names(source, kind)


def table_columns(source: Any, *, format: str | None = None) -> list[str]:
    """The column names of ``source`` without reading its rows (a file's header or schema,
    a relation's or DataFrame's columns).

    Raises:
        FileNotFoundError: no such file.
        InvalidDataError: the file cannot be parsed, or the source is not a table.
        InvalidOptionError: an unknown ``format`` or extension.
    """
    _require_pyarrow()
    kind, _ = _classify(source, format)
    return _names(source, kind)


def read_table(
    source: Any,
    columns: Sequence[str] | None = None,
    *,
    optional: Sequence[str] | None = None,
    filters: Sequence[Filter] | Filter | None = None,
    format: str | None = None,
) -> Table:
    """Read a table from a file, a table in memory or a DuckDB relation.

    Args:
        source: a path (``str`` or ``os.PathLike``; ``"-"`` is CSV on standard input), a
            pandas or polars DataFrame (or polars LazyFrame), a pyarrow Table, a dict of
            arrays, or a DuckDB relation (see :func:`sql`).
        columns: the columns to read, all of which must exist; None reads every column.
        optional: further columns read when present (e.g. ``weights``).
        filters: rows to keep, as ``(column, op, value)`` conditions that must all hold, with
            ``op`` one of ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``in``, ``not in``;
            e.g. ``[("dataset", "==", "c4"), ("N", ">=", 1e8)]``. Pushed into Parquet and
            DuckDB scans. The filter's columns need not be among ``columns``.
        format: the file format when the extension does not tell: ``"csv"``, ``"tsv"``,
            ``"json"``, ``"jsonl"``, ``"parquet"`` or ``"ipc"``.

    Returns:
        A :class:`Table`: the columns as a pyarrow Table (in the order asked for), what kind of
        source it was, and the flavour outputs should come back in.

    Raises:
        FileNotFoundError: no such file.
        InvalidDataError: a missing column (naming it and the source, listing the columns
            there are), a file that cannot be parsed (naming the file and the format),
            columns of different lengths, a column mixing numbers and text.
        InvalidOptionError: an unknown format, extension or filter operator.
        ImportError: pyarrow (or DuckDB for a relation) is not installed.
    """
    _require_pyarrow()
    columns = None if columns is None else _check.names(columns, "columns")
    optional = None if optional is None else _check.names(optional, "optional")
    format = _check.name(format, "format", optional=True)
    conds = check_filters(filters)
    kind, desc = _classify(source, format)
    held = kind
    if is_path(source) and str(source) == "-":  # a stream is read once, then held in memory
        source, held = read_file(source, kind, None, None), "pyarrow"
    wanted = _wanted(source, held, desc, columns, optional, conds)
    expr = arrow_expression(conds) if conds else None
    if kind == "duckdb":
        data = read_relation(source, wanted.read, conds, desc)
    elif held in _DESCRIPTIONS:
        data = memory_table(source, held, wanted.read, desc)
        if expr is not None:
            data = data.filter(expr)
    else:
        data = read_file(source, kind, wanted.read, expr)
    if wanted.keep is not None and wanted.keep != wanted.read:
        data = data.select(wanted.keep)
    flavour: Flavour = kind if kind in ("polars", "pyarrow") else "pandas"  # type: ignore[assignment]
    return Table(data=data, kind=kind, flavour=flavour, source=desc)


class _Wanted:
    """Columns to read (``read``: kept columns plus filter columns) and to return (``keep``);
    None for all."""

    def __init__(self, read: list[str] | None, keep: list[str] | None) -> None:
        self.read = read
        self.keep = keep


def _wanted(
    source: Any,
    kind: str,
    desc: str,
    columns: Sequence[str] | None,
    optional: Sequence[str] | None,
    conds: list[Filter],
) -> _Wanted:
    if columns is None and optional is None and not conds:
        return _Wanted(None, None)
    names = _names(source, kind)
    present = set(names)
    missing = [c for c in (columns or []) if c not in present]
    if missing:
        listed = ", ".join(f"'{c}'" for c in missing)
        raise InvalidDataError(f"{desc} has no column {listed}; columns are {names}")
    bad_filter = [c for c in filter_columns(conds) if c not in present]
    if bad_filter:
        raise InvalidOptionError(
            f"filters use column '{bad_filter[0]}', which {desc} does not have; columns are {names}"
        )
    if columns is None and optional is None:
        keep = list(names)
    else:
        keep = list(
            dict.fromkeys([*(columns or []), *(c for c in (optional or []) if c in present)])
        )
    read = list(dict.fromkeys([*keep, *filter_columns(conds)]))
    return _Wanted(read, keep)
