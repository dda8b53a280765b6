"""Tables in, columns out, for the workflow modules (diagnose, compute, testtime): any table
flavour or a file path becomes a pandas DataFrame, and columns come out as checked numpy
arrays, with errors that name the column and the first bad row."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._check import names, shown
from .errors import InvalidDataError, InvalidOptionError


def as_frame(data: Any, what: str = "data") -> pd.DataFrame:
    """A pandas DataFrame from a pandas, polars or pyarrow table, a dict of columns, or the
    path of a CSV, TSV, Parquet or JSON file."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, (str, os.PathLike)):
        from ._files import read_table

        return read_table(data)
    if isinstance(data, Mapping):
        try:
            return pd.DataFrame({str(k): np.asarray(v) for k, v in data.items()})
        except ValueError as exc:
            raise InvalidDataError(f"{what}: the columns do not form a table ({exc})") from None
    to_pandas = getattr(data, "to_pandas", None)
    if callable(to_pandas):
        return to_pandas()
    raise InvalidDataError(
        f"{what} must be a DataFrame (pandas or polars), a pyarrow Table, a dict of columns "
        f"or a file path, not {type(data).__name__}"
    )


def require(df: pd.DataFrame, name: str, role: str) -> None:
    """Raise InvalidDataError unless column `name` (holding `role`) is in the table."""
    if not isinstance(name, str):
        raise InvalidOptionError(f"the column of {role} must be a name, got {shown(name)}")
    if name not in df.columns:
        raise InvalidDataError(
            f"no column '{name}' ({role}) in the data; columns are {[str(c) for c in df.columns]}"
        )


def floats(
    df: pd.DataFrame,
    name: str,
    *,
    positive: bool = False,
    allow_nan: bool = False,
    allow_inf: bool = False,
) -> np.ndarray:
    """Column `name` as float64; non-numeric, non-finite or (with `positive`) non-positive
    values raise InvalidDataError naming the first bad row (NaN and +inf pass when allowed)."""
    col = df[name]
    if col.dtype.kind == "b":
        raise InvalidDataError(f"column '{name}' holds booleans, not numbers")
    values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64)
    bad_text = col.notna().to_numpy() & np.isnan(values)
    if bad_text.any():
        row = int(np.flatnonzero(bad_text)[0])
        raise InvalidDataError(
            f"column '{name}' has a non-numeric value {col.iloc[row]!r} at row {row}"
        )
    bad = ~np.isfinite(values)
    if allow_nan:
        bad &= ~np.isnan(values)
    if allow_inf:
        bad &= ~np.isposinf(values)
    if positive:
        bad |= values <= 0
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        need = "positive and finite" if positive else "finite"
        raise InvalidDataError(
            f"column '{name}' has an invalid value {values[row]} at row {row}: values must be "
            f"{need}"
        )
    return np.ascontiguousarray(values)


def counts(df: pd.DataFrame, name: str) -> np.ndarray:
    """Column `name` as non-negative whole numbers (int64)."""
    if df[name].dtype.kind == "b":
        return np.asarray(df[name].to_numpy(dtype=np.int64))
    v = floats(df, name)
    bad = (v < 0) | (v != np.floor(v))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InvalidDataError(
            f"column '{name}' has {v[row]} at row {row}: counts must be whole numbers >= 0"
        )
    return v.astype(np.int64)


def group_codes(
    df: pd.DataFrame, by: str | Sequence[str] | None
) -> tuple[np.ndarray, pd.DataFrame]:
    """(dense group code per row in sorted key order, one row of key values per group).
    Without `by`, every row is in group 0 and the key table has one empty row."""
    if by is None:
        return np.zeros(len(df), dtype=np.int64), pd.DataFrame(index=[0])
    keys = names(by, "by")
    if not keys:
        raise InvalidOptionError(f"by must be a column name or a list of them, got {by!r}")
    for k in keys:
        require(df, k, "a group key")
    grouped = df.groupby(keys, sort=True, dropna=False)
    codes = grouped.ngroup().to_numpy(dtype=np.int64)
    table = grouped.size().reset_index()[keys]
    return codes, table


def sorted_by_group(codes: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """(row order that sorts rows by group, stably; offsets of each group in that order)."""
    order = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes, minlength=n_groups)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return order, offsets
