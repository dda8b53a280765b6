"""Frontier inputs: positive columns, group keys, the rows sorted by group."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import _check
from .._data import as_float_array, get_column
from ..errors import InvalidDataError, InvalidOptionError


def positive_column(data: Any, name: str, names: list[str], role: str) -> np.ndarray:
    """A float64 column that must be positive and finite, or InvalidDataError naming the
    column and the first bad row."""
    if not isinstance(name, str):
        raise InvalidOptionError(f"{role} must be a column name, got {name!r}")
    if name not in names:
        raise InvalidDataError(
            f"column '{name}' (given as {role}=) is not in the data; columns are {names}"
        )
    v = as_float_array(get_column(data, name), name)
    bad = np.flatnonzero(~(np.isfinite(v) & (v > 0)))
    if bad.size:
        row = int(bad[0])
        raise InvalidDataError(
            f"column '{name}' has an invalid value {v[row]} at row {row}: {role} must be "
            "positive and finite"
        )
    return v


def key_frame(data: Any, cols: Sequence[str], names: list[str], what: str) -> pd.DataFrame:
    missing = [c for c in cols if c not in names]
    if missing:
        raise InvalidDataError(f"{what} column(s) {missing} not in the data; columns are {names}")
    return pd.DataFrame({c: np.asarray(get_column(data, c)) for c in cols})


def as_list(cols: str | Sequence[str] | None, option: str = "by") -> list[str]:
    """Column names given as one name, a list of names or None."""
    return _check.names(cols, option)


def group_codes(
    data: Any, by: list[str], names: list[str], n: int
) -> tuple[np.ndarray, pd.DataFrame, np.ndarray | None]:
    """(group code per row in key order, one row of key values per group, group seeds' ids)."""
    if not by:
        return np.zeros(n, dtype=np.int64), pd.DataFrame(index=range(1)), None
    kdf = key_frame(data, by, names, "by")
    codes = kdf.groupby(by, sort=True, dropna=False).ngroup().to_numpy(dtype=np.int64)
    _, first = np.unique(codes, return_index=True)
    keys = kdf.iloc[first].reset_index(drop=True)
    ids = pd.util.hash_pandas_object(keys, index=False).to_numpy(dtype=np.uint64)
    return codes, keys, np.ascontiguousarray(ids)


def sort_by_group(codes: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Row order (stable, by group) and the group offsets."""
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=n_groups)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return order, offsets


def take(v: np.ndarray, order: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(v[order])


def take_optional(v: np.ndarray | None, order: np.ndarray) -> np.ndarray | None:
    return None if v is None else np.ascontiguousarray(v[order])


def budget_list(budgets: Any, option: str = "budgets") -> list[float]:
    """Budgets as floats (the core checks that they are positive and finite)."""
    if budgets is None:
        return []
    return _check.reals(budgets, option).tolist()


@dataclass(frozen=True)
class Settings:
    """The options the core's frontier analyses take (checked there)."""

    window: Any
    n_boot: Any
    seed: Any
    level: Any
    budgets: Any
    flops_per_token: Any
    resample: Any


def total_replicates(n_boot: Any, n_groups: int) -> int:
    """Replicates in all, for the progress bar (0 when n_boot is not a sensible count: the
    core then refuses it)."""
    return int(n_boot) * n_groups if isinstance(n_boot, int) and 0 <= n_boot < 2**40 else 0


def infer_runs(N: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Runs as blocks of consecutive rows with the same size and increasing compute."""
    n = len(N)
    start = np.ones(n, dtype=bool)
    if n > 1:
        start[1:] = (N[1:] != N[:-1]) | (C[1:] <= C[:-1])
    return np.cumsum(start) - 1


def run_codes(
    data: Any, run: str | Sequence[str] | None, names: list[str], N: np.ndarray, C: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(run code per row, a label per row: the run's key values, or the first row of the run)."""
    cols = as_list(run, "run")
    if not cols:
        code = infer_runs(N, C).astype(np.int64)
        first = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
        ends = np.r_[first[1:], len(code)] - 1
        labels = np.asarray([f"rows {a}-{b}" for a, b in zip(first, ends)], dtype=object)
        return code, labels[code]
    kdf = key_frame(data, cols, names, "run")
    code = kdf.groupby(cols, sort=False, dropna=False).ngroup().to_numpy(dtype=np.int64)
    if len(cols) == 1:
        lab = kdf[cols[0]].to_numpy(dtype=object)
    else:
        lab = np.empty(len(kdf), dtype=object)
        lab[:] = list(kdf.itertuples(index=False, name=None))
    return code, lab


def check_run_sizes(code: np.ndarray, N: np.ndarray, run: list[str] | None, size: str) -> None:
    """Every run has one model size (named error with the row otherwise)."""
    if run is None:
        return
    first = pd.Series(N).groupby(code).transform("first").to_numpy()
    bad = np.flatnonzero(first != N)
    if bad.size:
        row = int(bad[0])
        raise InvalidDataError(
            f"column '{size}' has the value {N[row]} at row {row}, but that row's run "
            f"({', '.join(run)}) has size {first[row]}: a run has one model size"
        )


def points_frame(
    data: Any,
    by: list[str],
    names: list[str],
    C: np.ndarray,
    N: np.ndarray,
    L: np.ndarray,
    T: np.ndarray | None,
    run: np.ndarray | None = None,
) -> pd.DataFrame:
    frame: dict[str, Any] = {}
    if by:
        kdf = key_frame(data, by, names, "by")
        frame.update({c: kdf[c].to_numpy() for c in by})
    if run is not None:
        frame["run"] = run
    frame.update(C=C, N=N, loss=L)
    if T is not None:
        frame["tokens"] = T
    return pd.DataFrame(frame)
