"""Conversion of user data (DataFrames, Arrow tables, dicts, arrays) to float64 columns.

Numerics live in Rust; this module only finds columns, converts them, and reports problems by
column and row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .errors import InvalidDataError

Y_KEYS = ("loss", "y", "L")


def column_names(data: Any) -> list[str]:
    """Names of the columns of a table-like object."""
    if isinstance(data, Mapping):
        return [str(k) for k in data.keys()]
    # pyarrow first: a Table's `.columns` is its list of arrays, not their names
    names = getattr(data, "column_names", None)
    if names is not None and not callable(names):
        return [str(c) for c in names]
    cols = getattr(data, "columns", None)
    if cols is not None:
        return [str(c) for c in cols]
    raise InvalidDataError(
        f"data must be a DataFrame (pandas or polars), a pyarrow Table or a dict of columns, "
        f"not {type(data).__name__}"
    )


def get_column(data: Any, name: str) -> Any:
    """The raw column `name` of a table-like object."""
    if isinstance(data, Mapping):
        return data[name]
    if hasattr(data, "column_names") and hasattr(data, "column"):  # pyarrow.Table
        return data.column(name).to_numpy()
    col = data[name]
    to_numpy = getattr(col, "to_numpy", None)
    return to_numpy() if to_numpy is not None else col


def as_float_array(values: Any, name: str) -> np.ndarray:
    """A contiguous 1-D float64 array, or InvalidDataError naming the column and first bad row."""
    if isinstance(values, np.ndarray) and values.dtype == np.float64 and values.ndim == 1:
        return np.ascontiguousarray(values)
    try:
        arr = np.asarray(values)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise InvalidDataError(f"column '{name}' cannot be converted to numbers: {exc}") from exc
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise InvalidDataError(f"column '{name}' must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind in "fiu":
        return np.ascontiguousarray(arr, dtype=np.float64)
    if arr.dtype.kind == "b":
        raise InvalidDataError(f"column '{name}' holds booleans, not numbers")
    out = np.empty(arr.shape[0], dtype=np.float64)
    for row, v in enumerate(arr):
        if v is None:
            out[row] = np.nan
            continue
        try:
            out[row] = float(v)
        except (TypeError, ValueError):
            raise InvalidDataError(
                f"column '{name}' has a non-numeric value {v!r} at row {row}"
            ) from None
    return out


def find_y(names: list[str], columns: Mapping[str, str]) -> str:
    """The observed-loss column: columns['loss'] / columns['y'], else 'loss', 'y' or 'L'."""
    for key in ("loss", "y"):
        if key in columns:
            if columns[key] not in names:
                raise InvalidDataError(
                    f"column '{columns[key]}' (given for {key}) is not in the data; "
                    f"columns are {names}"
                )
            return columns[key]
    for key in Y_KEYS:
        if key in names:
            return key
    raise InvalidDataError(
        f"no loss column: expected one of {list(Y_KEYS)} or columns={{'loss': ...}}; "
        f"columns are {names}"
    )


def resolve_column(var: str, names: list[str], columns: Mapping[str, str]) -> str:
    """The data column that holds law variable `var`."""
    col = columns.get(var, var)
    if col not in names:
        hint = "" if var in columns else f" (map it with columns={{'{var}': ...}})"
        raise InvalidDataError(
            f"column '{col}' for variable {var} is not in the data{hint}; columns are {names}"
        )
    return col
