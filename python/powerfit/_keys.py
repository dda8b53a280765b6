"""Group keys of a table: one dense code per row (groups in the sorted order of their key
values, only combinations that occur), each group's key values, and the per-group hash that
seeds its bootstrap."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

Flavour = Literal["pandas", "polars", "pyarrow"]

#: A dense code table may be this much wider than the rows (a presence table per code
#: instead of hashing: faster, and no hash table in memory).
_SLACK = 4


def _dense(span: int, n: int) -> bool:
    return span <= _SLACK * n + 1024


def _fits(lo: int, hi: int) -> bool:
    """Values (and their offsets from the smallest) that int64 holds: uint64 keys above it
    are hashed instead."""
    return lo > -(2**62) and hi < 2**62


def _compress(code: np.ndarray, span: int) -> np.ndarray:
    """Renumbers codes in 0..span in place to 0..(number that occur), in order, by a presence
    table (no hashing); returns the codes that occur."""
    present = np.bincount(code, minlength=span) > 0
    remap = np.cumsum(present, dtype=np.int64)
    remap -= 1
    np.take(remap, code, out=code)
    return np.flatnonzero(present)


def group_codes(table: Any, flavour: Flavour, keys: list[str]) -> tuple[np.ndarray, list[Any]]:
    """One int64 group code per row and, per key column, each group's value (a pandas Series
    or a pyarrow Array)."""
    fast = _dense_int_keys(table, keys) if flavour == "pandas" else None
    if fast is not None:
        return fast
    uniques: list[Any] = []
    row_codes: list[np.ndarray] = []
    for k in keys:
        c, u = _factorize(table, flavour, k)
        row_codes.append(c)
        uniques.append(u)
        del c
    code, per_key = _combine(row_codes, [len(u) for u in uniques])
    return code, [_key_values(u, flavour, gc) for u, gc in zip(uniques, per_key)]


def _dense_int_keys(table: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, list[Any]] | None:
    """The codes of integer keys whose value ranges multiply to a dense table, in one pass per
    column and one presence table for them all (the common case of run and config ids);
    None otherwise."""
    cols = [table[k] for k in keys]
    n = len(table)
    if n == 0 or not all(isinstance(c.dtype, np.dtype) and c.dtype.kind in "iu" for c in cols):
        return None
    arrs = [c.to_numpy() for c in cols]
    bounds = [(int(a.min()), int(a.max())) for a in arrs]
    spans = [hi - lo + 1 for lo, hi in bounds]
    total = 1
    for s in spans:
        total *= s
    # Python ints: the check cannot overflow
    if not _dense(total, n) or not all(_fits(lo, hi) for lo, hi in bounds):
        return None
    code = np.subtract(arrs[0], bounds[0][0], dtype=np.int64)
    for a, (lo, _), s in zip(arrs[1:], bounds[1:], spans[1:]):
        code *= s
        code += np.subtract(a, lo, dtype=np.int64)
    cells = _compress(code, total)
    values: list[Any] = []
    for a, (lo, _), s in reversed(list(zip(arrs, bounds, spans))):
        cells, offset = np.divmod(cells, s)
        values.append(pd.Series((offset + lo).astype(a.dtype), index=pd.RangeIndex(len(offset))))
    return code, values[::-1]


def _factorize_arrow(col: Any) -> tuple[np.ndarray, Any]:
    """(codes in sorted order of the values, sorted unique values) of a pyarrow column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    enc = arr.dictionary_encode(null_encoding="encode")
    dictionary = enc.dictionary
    order = pc.array_sort_indices(dictionary, null_placement="at_end").to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    idx = enc.indices.to_numpy(zero_copy_only=False)
    return rank[idx], dictionary.take(pa.array(order))


def _factorize_dense_ints(arr: np.ndarray) -> tuple[np.ndarray, Any] | None:
    """Sorted factorisation of integers spanning a range not much wider than their count, by a
    presence table instead of hashing (faster, and no hash table in memory); None otherwise."""
    lo, hi = int(arr.min()), int(arr.max())
    span = hi - lo + 1
    if not _dense(span, len(arr)) or not _fits(lo, hi):
        return None
    codes = np.subtract(arr, lo, dtype=np.int64)
    uniques = pd.Index((_compress(codes, span) + lo).astype(arr.dtype))
    return codes, uniques


def _factorize(table: Any, flavour: Flavour, name: str) -> tuple[np.ndarray, Any]:
    """Sorted factorisation of one key column: int64 codes per row and the unique values
    (missing values form their own group, sorted last)."""
    if flavour == "pandas":
        col = table[name]
        if isinstance(col.dtype, np.dtype) and col.dtype.kind in "iu" and len(col):
            dense = _factorize_dense_ints(col.to_numpy())
            if dense is not None:
                return dense
        codes, uniques = pd.factorize(col, sort=True, use_na_sentinel=False)
        return np.asarray(codes, dtype=np.int64), uniques
    if flavour == "polars":
        return _factorize_arrow(table[name].to_arrow())
    return _factorize_arrow(table.column(name))


def _combine(codes: list[np.ndarray], sizes: list[int]) -> tuple[np.ndarray, list[np.ndarray]]:
    """One dense group code per row (groups ordered lexicographically by the key columns, only
    combinations that occur), and for every key column each group's code in that column.
    Consumes ``codes``."""
    n = len(codes[0])
    code = codes.pop(0)
    group_keys = [np.arange(sizes[0], dtype=np.int64)]
    for m in sizes[1:]:
        code = code * m
        code += codes.pop(0)
        span = len(group_keys[0]) * m
        if _dense(span, n):
            values = _compress(code, span)
        else:
            code, values = pd.factorize(code, sort=True)
            code = np.asarray(code, dtype=np.int64)
        prev, kcode = np.divmod(np.asarray(values, dtype=np.int64), m)
        group_keys = [g[prev] for g in group_keys] + [kcode]
    return np.ascontiguousarray(code, dtype=np.int64), group_keys


def _key_values(uniques: Any, flavour: Flavour, take: np.ndarray) -> Any:
    """The key column of the result: each group's value (a pandas Series or a pyarrow Array)."""
    if flavour == "pandas":
        return pd.Series(uniques.take(take), index=pd.RangeIndex(len(take)))
    import pyarrow as pa

    return uniques.take(pa.array(take, type=pa.int64()))


def _canonical(values: Any) -> np.ndarray:
    """Key values as a numpy array whose hash does not depend on the table library or dtype
    flavour (missing values as None)."""
    if isinstance(values, pd.Series):
        arr = values.to_numpy()
    else:  # pyarrow
        arr = values.to_numpy(zero_copy_only=False)
    if arr.dtype.kind in "iub":
        return arr.astype(np.int64)
    if arr.dtype.kind == "f":
        return arr.astype(np.float64)
    if arr.dtype.kind in "mM":
        unit = "datetime64[ns]" if arr.dtype.kind == "M" else "timedelta64[ns]"
        return arr.astype(unit).view(np.int64)
    arr = np.array(arr, dtype=object)
    arr[pd.isna(arr)] = None
    return arr


def group_ids(keys: list[Any]) -> np.ndarray:
    """A 64-bit hash of every group's key values: the stream of its bootstrap seed, so a group's
    replicates do not depend on which other groups (or which Dask partition) it is fitted with."""
    h = np.zeros(len(keys[0]) if keys else 0, dtype=np.uint64)
    for v in keys:
        hv = pd.util.hash_array(_canonical(v))
        h = (h * np.uint64(0x9E3779B97F4A7C15)) ^ hv
    return np.ascontiguousarray(h, dtype=np.uint64)
