"""Tables already in memory: pandas, polars and pyarrow objects, and dicts of arrays.

Each is turned into a pyarrow Table of the wanted columns without touching the input: numeric
columns cross without a copy where the library allows it (pyarrow and polars always, pandas
for NumPy-backed columns without missing values).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import InvalidDataError

#: Module roots of the table libraries recognised, and the kind each is read as.
_LIBRARIES = {"pandas": "pandas", "polars": "polars", "pyarrow": "pyarrow"}


def memory_kind(obj: Any) -> str | None:
    """``"pandas"``, ``"polars"``, ``"pyarrow"`` or ``"dict"`` for a table in memory, else
    None."""
    if isinstance(obj, Mapping):
        return "dict"
    root = type(obj).__module__.split(".")[0]
    kind = _LIBRARIES.get(root)
    if kind == "pandas" and hasattr(obj, "columns") and hasattr(obj, "iloc"):
        return "pandas" if getattr(obj, "ndim", 2) == 2 else None
    if kind == "polars" and type(obj).__name__ == "LazyFrame":
        return "polars"
    if kind == "polars" and hasattr(obj, "columns") and hasattr(obj, "to_arrow"):
        return "polars"
    if kind == "pyarrow" and hasattr(obj, "column_names"):
        return "pyarrow"
    return None


def memory_names(obj: Any, kind: str) -> list[str]:
    """Column names of an in-memory table."""
    if kind == "dict":
        return [str(k) for k in obj]
    if kind == "pyarrow":
        return [str(c) for c in obj.column_names]
    if kind == "polars" and type(obj).__name__ == "LazyFrame":
        return [str(c) for c in obj.collect_schema().names()]
    return [str(c) for c in obj.columns]


def memory_table(obj: Any, kind: str, cols: Sequence[str] | None, source: str) -> Any:
    """The columns ``cols`` (all when None) of an in-memory table as a pyarrow Table."""
    import pyarrow as pa

    if kind == "pyarrow":
        table = obj if isinstance(obj, pa.Table) else pa.table(obj)
        return table if cols is None else table.select(list(cols))
    if kind == "polars":
        frame = obj if cols is None else obj.select(list(cols))
        if type(frame).__name__ == "LazyFrame":  # projection pushed into the lazy scan
            frame = frame.collect()
        return frame.to_arrow()
    if kind == "pandas":
        return _from_pandas(obj, cols, source)
    return _from_dict(obj, cols, source)


def _from_pandas(df: Any, cols: Sequence[str] | None, source: str) -> Any:
    import pyarrow as pa

    names = [str(c) for c in df.columns]
    if len(set(names)) != len(names):
        dup = sorted({c for c in names if names.count(c) > 1})
        raise InvalidDataError(f"{source} has repeated column names: {dup}")
    wanted = names if cols is None else list(cols)
    arrays = []
    for name in wanted:
        series = df[df.columns[names.index(name)]]
        try:
            arrays.append(pa.Array.from_pandas(series))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            raise InvalidDataError(_mixed_message(series.to_numpy(), name, source, exc)) from None
    return pa.Table.from_arrays(arrays, names=wanted)


def _from_dict(d: Mapping[Any, Any], cols: Sequence[str] | None, source: str) -> Any:
    import pyarrow as pa

    keys = {str(k): k for k in d}
    wanted = list(keys) if cols is None else list(cols)
    arrays = []
    length: tuple[str, int] | None = None
    for name in wanted:
        arr = _dict_column(d[keys[name]], name, source)
        if length is not None and len(arr) != length[1]:
            raise InvalidDataError(
                f"columns of {source} differ in length: '{length[0]}' has {length[1]} rows, "
                f"'{name}' has {len(arr)}"
            )
        length = length or (name, len(arr))
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, names=wanted)


def _dict_column(values: Any, name: str, source: str) -> Any:
    """One dict entry (array, list, Series, pyarrow array) as a pyarrow array."""
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    if hasattr(values, "to_arrow") and not isinstance(values, np.ndarray):  # polars Series
        return values.to_arrow()
    if type(values).__module__.split(".")[0] == "pandas":
        return pa.Array.from_pandas(values)
    arr = np.asarray(values) if not isinstance(values, np.ndarray) else values
    if arr.ndim != 1:
        raise InvalidDataError(
            f"column '{name}' of {source} must be one-dimensional, got shape {arr.shape}"
        )
    try:
        return pa.array(arr) if arr.dtype.kind != "O" else pa.array(list(arr))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise InvalidDataError(_mixed_message(arr, name, source, exc)) from None


def _category(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "bool"
    if isinstance(v, (int, float, np.number)):
        return "number"
    return type(v).__name__


def _mixed_message(values: np.ndarray, name: str, source: str, exc: Exception) -> str:
    """Why a column could not be converted: the first value of another kind than the first
    value (an error path)."""
    first = next((v for v in values if v is not None), None)
    for row, v in enumerate(values):
        if v is not None and first is not None and _category(v) != _category(first):
            return (
                f"column '{name}' of {source} mixes {_category(first)} and "
                f"{_category(v)} values (row {row}: {v!r})"
            )
    msg = " ".join(str(exc).split())
    return f"column '{name}' of {source} cannot be read: {msg}"
