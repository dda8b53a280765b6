"""Sweep databases read straight from Parquet by the workers: only the columns a fit needs,
and only the rows the filters keep."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from .. import _core
from .._data import available, find_y, resolve_column
from ..errors import InvalidDataError, InvalidOptionError
from ..expr import Law
from ..readers._filters import Filter, check_filters


def require_dask() -> Any:
    """``dask.dataframe``, or ImportError saying how to install it."""
    try:
        import dask.dataframe as dd
    except ImportError as exc:
        raise ImportError(
            'powerfit.dask needs Dask: pip install "powerfit[dask]" '
            "(dask[dataframe] and distributed)"
        ) from exc
    return dd


def is_path(data: Any) -> bool:
    """A path or URL (or a list of them) that :func:`read_parquet` reads."""
    if isinstance(data, (str, os.PathLike)):
        return True
    return isinstance(data, (list, tuple)) and bool(data) and all(is_path(p) for p in data)


def needed_columns(
    names: list[str],
    keys: Sequence[str],
    law: Any,
    *,
    x: str | None = None,
    columns: Mapping[str, str] | None = None,
    weights: str | None = None,
    row_labels: str | None = None,
) -> list[str]:
    """The columns :func:`powerfit.fit_groups` reads from a table with these column names:
    the keys, the law's variables (as the core resolves them), the loss, weights and row
    labels; InvalidDataError naming a missing one."""
    cols = dict(columns or {})
    missing = [k for k in keys if k not in names]
    if missing:
        raise InvalidDataError(
            f"key column(s) {', '.join(repr(m) for m in missing)} not in the data; columns are "
            f"{names}"
        )
    written = list(law.variables) if isinstance(law, Law) else None
    avail, xname = available(dict.fromkeys(names), law, x, {}, cols, written)
    model = _core.Model(law.native if isinstance(law, Law) else law, avail, xname)
    out = [*keys, *(resolve_column(v, names, cols) for v in model.variables)]
    out.append(find_y(names, cols))
    for extra in (weights, row_labels):
        if isinstance(extra, str):
            out.append(resolve_column(extra, names, {}))
    return list(dict.fromkeys(out))


def read_parquet(
    path: Any,
    by: str | Sequence[str],
    law: Any = "chinchilla",
    *,
    x: str | None = None,
    columns: Mapping[str, str] | None = None,
    weights: str | None = None,
    row_labels: str | None = None,
    filters: Sequence[Filter] | Filter | None = None,
    storage_options: Mapping[str, Any] | None = None,
    **read_options: Any,
) -> Any:
    """A Parquet sweep database as a lazy Dask DataFrame holding just what a fit of ``law``
    by ``by`` reads.

    Only the schema is read here; the workers read the data, each partition (a file, or row
    groups of a large one) only for the columns kept and with the filters pushed into the scan
    (row groups and Hive partitions the filters exclude are never read).

    Args:
        path: a Parquet file, a folder of files (Hive-partitioned or not), a glob, a list of
            files, or a URL Dask reads (``s3://``, ``gs://``, ... with ``storage_options``).
        by: the key column(s).
        law, x, columns, weights, row_labels: as for :func:`powerfit.dask.fit_groups`; they
            decide which columns are read.
        filters: rows to keep, as ``(column, op, value)`` conditions that must all hold, ``op``
            one of ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``in``, ``not in``; e.g.
            ``[("dataset", "==", "c4"), ("N", ">=", 1e8)]``.
        storage_options: passed to fsspec (credentials, endpoints) for remote paths.
        **read_options: any other keyword of ``dask.dataframe.read_parquet`` (``blocksize``,
            ``split_row_groups``, ``aggregate_files``, ...).

    Returns:
        A ``dask.dataframe.DataFrame`` with the key columns, the law's variables, the loss (and
        weights, row labels), one partition per file or per block of row groups.

    Raises:
        ImportError: Dask is not installed.
        FileNotFoundError: no such file or folder.
        InvalidDataError: a key or data column the dataset does not have.
        InvalidOptionError: a malformed filter, or a filter on a column the dataset lacks.
        InvalidLawError: an unknown law.
    """
    dd = require_dask()
    keys = [by] if isinstance(by, str) else list(by)
    conds = check_filters(filters)
    for name in ("columns", "filters"):
        if name in read_options:
            raise InvalidOptionError(f"{name} is powerfit's own option here")
    store = dict(storage_options) if storage_options else None
    # the schema first (metadata only): pyarrow's own error for a filter on a missing column
    # names neither the filter nor the dataset's columns
    names = [str(c) for c in dd.read_parquet(path, storage_options=store, **read_options).columns]
    bad = [c for c, _, _ in conds if c not in names]
    if bad:
        raise InvalidOptionError(
            f"filters use column '{bad[0]}', which {path} does not have; columns are {names}"
        )
    ddf = dd.read_parquet(
        path, filters=[conds] if conds else None, storage_options=store, **read_options
    )
    keep = needed_columns(
        names, keys, law, x=x, columns=columns, weights=weights, row_labels=row_labels
    )
    return ddf[keep]
