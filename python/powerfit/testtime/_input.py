"""Per-problem sample counts from the forms results come in: one row per problem (samples and
successes columns), one row per attempt (problem and correct columns), or plain arrays."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import _check
from .._tables import as_frame, counts, group_codes, require, sorted_by_group
from ..errors import InvalidDataError


@dataclass(frozen=True)
class Problems:
    """Problems sorted by group: counts n (samples) and c (successes), group offsets, the key
    values of each group, and extra per-group columns (e.g. model size)."""

    n: np.ndarray
    c: np.ndarray
    offsets: np.ndarray
    keys: pd.DataFrame
    by: tuple[str, ...]

    @property
    def n_groups(self) -> int:
        return len(self.offsets) - 1

    def labels(self) -> list[str]:
        """A readable label per group ("all" without groups)."""
        if not self.by:
            return ["all"]
        return [", ".join(str(v) for v in row) for row in self.keys.itertuples(index=False)]


def _attempt_rows(df: pd.DataFrame, problem: str, correct: str, by: list[str]) -> pd.DataFrame:
    """One row per attempt -> one row per (group, problem) with n and c."""
    col = df[correct]
    if col.dtype.kind == "b":
        ok = col.to_numpy(dtype=np.int64)
    else:
        ok = counts(df, correct)
        if (ok > 1).any():
            row = int(np.flatnonzero(ok > 1)[0])
            raise InvalidDataError(
                f"column '{correct}' must be True/False or 0/1 per attempt, got {ok[row]} at "
                f"row {row}"
            )
    keys = [*by, problem]
    frame = df[keys].assign(_ok=ok)
    agg = frame.groupby(keys, sort=True, dropna=False)["_ok"].agg(["size", "sum"])
    return agg.reset_index().rename(columns={"size": "samples", "sum": "successes"})


def problems(
    data: Any,
    *,
    n: Any = None,
    c: Any = None,
    samples: str = "n",
    successes: str = "c",
    problem: str = "problem",
    correct: str = "correct",
    by: str | Sequence[str] | None = None,
) -> Problems:
    """Reads per-problem counts (see the module docstring) into a :class:`Problems`."""
    keys = _check.names(by, "by")
    if data is None:
        if n is None or c is None:
            raise InvalidDataError("pass data=..., or both n= (samples) and c= (successes)")
        if by is not None:
            raise InvalidDataError("by= needs a table (data=...)")
        nv, cv = np.atleast_1d(np.asarray(n)), np.atleast_1d(np.asarray(c))
        if nv.ndim != 1 or cv.shape != nv.shape:
            raise InvalidDataError(
                f"n and c must be one-dimensional and of the same length, got {nv.shape} and "
                f"{cv.shape}"
            )
        df = pd.DataFrame({"samples": nv, "successes": cv})
        ncol, ccol = "samples", "successes"
    else:
        df = as_frame(data)
        for role, col in (("samples", samples), ("successes", successes),
                          ("problem", problem), ("correct", correct)):  # fmt: skip
            _check.name(col, role)
        if successes in df.columns:
            require(df, samples, "samples per problem")
            ncol, ccol = samples, successes
        elif correct in df.columns:
            require(df, problem, "problem ids, one row per attempt")
            df = _attempt_rows(df, problem, correct, keys)
            ncol, ccol = "samples", "successes"
        else:
            raise InvalidDataError(
                f"expected per-problem columns '{samples}' and '{successes}', or per-attempt "
                f"columns '{problem}' and '{correct}'; columns are "
                f"{[str(x) for x in df.columns]}"
            )
    if len(df) == 0:
        raise InvalidDataError("no problems in the data")
    nv, cv = counts(df, ncol), counts(df, ccol)
    if (nv == 0).any():
        row = int(np.flatnonzero(nv == 0)[0])
        raise InvalidDataError(f"column '{ncol}' is 0 at row {row}: every problem needs a sample")
    if (cv > nv).any():
        row = int(np.flatnonzero(cv > nv)[0])
        raise InvalidDataError(f"row {row} has {cv[row]} successes but only {nv[row]} samples")
    codes, key_table = group_codes(df, keys or None)
    order, offsets = sorted_by_group(codes, len(key_table))
    return Problems(
        n=np.ascontiguousarray(nv[order]),
        c=np.ascontiguousarray(cv[order]),
        offsets=offsets,
        keys=key_table.reset_index(drop=True),
        by=tuple(keys),
    )


def group_values(data: Any, by: Sequence[str], column: str, keys: pd.DataFrame) -> np.ndarray:
    """One value of `column` per group (it must be constant within each group)."""
    df = as_frame(data)
    require(df, column, "a per-group value")
    if not by:
        v = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)
        if np.unique(v).size != 1:
            raise InvalidDataError(f"column '{column}' must hold one value (no groups given)")
        return np.asarray(v[:1], dtype=float)
    g = df.groupby(list(by), sort=True, dropna=False)[column]
    if (g.nunique(dropna=False) > 1).any():
        bad = g.nunique(dropna=False)
        first = bad[bad > 1].index[0]
        raise InvalidDataError(
            f"column '{column}' must be constant within each group; group {first!r} has "
            f"{int(bad[first])} values"
        )
    first_vals = g.first().reset_index()
    merged = keys.merge(first_vals, on=list(by), how="left")
    return np.asarray(pd.to_numeric(merged[column], errors="coerce"), dtype=float)
