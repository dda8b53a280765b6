"""Conversion of user data (DataFrames, Arrow tables, dicts, arrays) to float64 columns.

Numerics live in Rust; this module only finds columns, converts them, and reports problems by
column and row.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .errors import InvalidDataError

Y_KEYS = ("loss", "y", "L")


def in_memory(data: Any) -> bool:
    """A table powerfit reads without the readers: a pandas DataFrame, a pyarrow Table, a
    polars DataFrame or a dict of columns."""
    if isinstance(data, Mapping):
        return True
    mod = type(data).__module__.split(".")[0]
    name = type(data).__name__
    return (mod == "pandas" and name == "DataFrame") or (mod, name) in (
        ("pyarrow", "Table"),
        ("polars", "DataFrame"),
    )


def as_table(data: Any, wanted: Iterable[str] | None = None) -> Any:
    """``data`` itself when it is a table in memory; anything else the readers take (a path,
    a polars LazyFrame, a pyarrow RecordBatch, a DuckDB relation) read with
    :func:`powerfit.readers.read_table` as a pyarrow Table (only the ``wanted`` columns when
    given, those of them present)."""
    if data is None or in_memory(data):
        return data
    from .errors import InvalidOptionError
    from .readers import read_table

    try:
        return read_table(data, optional=None if wanted is None else sorted(set(wanted))).data
    except InvalidOptionError as exc:  # an unreadable source is bad data, not a bad option
        raise InvalidDataError(str(exc)) from None


def _ndim(v: Any) -> int:
    try:
        return int(np.ndim(v))
    except (TypeError, ValueError):  # ragged nested lists
        return -1


def mapping_frame(data: Mapping[Any, Any]) -> Any:
    """A dict of columns as a pandas DataFrame, or InvalidDataError saying which column is not
    a column (a scalar, a table) or which lengths differ."""
    import pandas as pd

    lengths: dict[str, int] = {}
    for k, v in data.items():
        if isinstance(v, (str, bytes, Mapping)) or _ndim(v) != 1:
            raise InvalidDataError(
                f"column '{k}' of the dict must be a one-dimensional list or array of values, "
                f"got {type(v).__name__}"
            )
        lengths[str(k)] = len(v)
    if len(set(lengths.values())) > 1:
        raise InvalidDataError(f"the dict's columns differ in length: {lengths}")
    return pd.DataFrame({k: np.asarray(v) for k, v in data.items()})


def _is_pandas(data: Any) -> bool:
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(data, pd.DataFrame)


def column_names(data: Any) -> list[str]:
    """Names of the columns of a table-like object."""
    if isinstance(data, Mapping):
        return [str(k) for k in data.keys()]
    if _is_pandas(data):  # before any getattr: pandas looks a missing attribute up as a column
        return [str(c) for c in data.columns]
    # pyarrow next: a Table's `.columns` is its list of arrays, not their names
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
    if _is_pandas(data):
        return data[name].to_numpy()
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
    if arr.dtype.kind == "c":
        raise InvalidDataError(
            f"column '{name}' holds complex numbers; a loss, size or weight is real"
        )
    out = np.empty(arr.shape[0], dtype=np.float64)
    for row, v in enumerate(arr):
        if v is None:
            out[row] = np.nan
            continue
        if isinstance(v, complex):
            raise InvalidDataError(
                f"column '{name}' has a complex value {v!r} at row {row}; it must be real"
            )
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


#: Law variables looked for in a table, in order, when the law does not name its own.
CANDIDATES = ("N", "D", "C")


def _arrays_given(law: Any, x: Any, arrays: Mapping[str, Any], variables: Any) -> dict[str, Any]:
    """The variable arrays passed as keywords, with ``x=`` mapped to the law's variable."""
    given = {k: v for k, v in arrays.items() if v is not None}
    if x is None or isinstance(x, str):
        if isinstance(x, str):
            given = {x: given[x]} if x in given else {}
        return given
    if variables is not None and len(variables) == 1:
        return {variables[0]: x}
    return {"x": x}


def available(
    data: Any,
    law: Any,
    x: Any,
    arrays: Mapping[str, Any],
    columns: Mapping[str, str],
    variables: Any = None,
) -> tuple[list[str], str | None]:
    """The law variables the input provides (after the column mapping) and the user's choice
    of x (a name), for the core to choose the law's variables from. ``variables`` are a
    written law's own."""
    xname = x if isinstance(x, str) else None
    if data is None:
        return list(_arrays_given(law, x, arrays, variables)), xname
    names = column_names(data)
    power = isinstance(law, str) and law == "power"
    cands = ("N", "D", "C", "x") if power and x is None else CANDIDATES
    return [v for v in cands if columns.get(v, v) in names], xname


def gather(
    data: Any,
    variables: Sequence[str],
    x: Any,
    y: Any,
    arrays: Mapping[str, Any],
    columns: Mapping[str, str],
    weights: Any,
) -> tuple[list[np.ndarray], list[str], np.ndarray, str, np.ndarray | None]:
    """The law's variable columns (float64), their names as the user knows them, the observed
    losses and their name, and the weights."""
    if data is not None:
        names = column_names(data)
        labels = [resolve_column(v, names, columns) for v in variables]
        cols = [as_float_array(get_column(data, c), c) for c in labels]
        yname = find_y(names, columns)
        yv = as_float_array(get_column(data, yname), yname)
        if isinstance(weights, str):
            if weights not in names:
                raise InvalidDataError(
                    f"weights column '{weights}' is not in the data; columns are {names}"
                )
            weights = get_column(data, weights)
    else:
        if y is None:
            raise InvalidDataError("no observations: pass data=... or y=...")
        given = _arrays_given(None, x, arrays, variables)
        missing = [v for v in variables if v not in given]
        if missing:
            raise InvalidDataError(
                f"the law needs the variable(s) {', '.join(missing)}: pass them as arrays"
            )
        labels = list(variables)
        cols = [as_float_array(given[v], v) for v in variables]
        yname = "loss"
        yv = as_float_array(y, "y")
    w = None if weights is None else as_float_array(weights, "weights")
    return cols, labels, yv, yname, w
