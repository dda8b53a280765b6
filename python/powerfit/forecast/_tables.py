"""Shared helpers of the forecast tools: runs as a DataFrame, the scales that order them, and
argument checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._data import as_float_array, mapping_frame
from ..errors import InvalidDataError, InvalidOptionError
from ..expr import Law, law_argument

if TYPE_CHECKING:  # pragma: no cover
    from ..fit import FitResult

#: Extrapolation distances below this many decades count as this many in the error model (a
#: forecast next to the data still carries the error of the nearest held-out forecasts).
MIN_DISTANCE = 0.1
#: Names of the loss column, in order of preference.
Y_NAMES = ("loss", "y", "L")


def frame_of(data: Any, x: Any, y: Any) -> pd.DataFrame:
    """The runs as a pandas DataFrame (pandas, polars, pyarrow, a dict of columns or arrays)."""
    if data is None:
        if x is None or y is None or isinstance(x, str):
            raise InvalidDataError("no data: pass a table, or arrays x=... and y=...")
        xs, ys = as_float_array(x, "x"), as_float_array(y, "y")
        if len(xs) != len(ys):
            raise InvalidDataError(f"x and y differ in length ({len(xs)} and {len(ys)})")
        return pd.DataFrame({"x": xs, "loss": ys})
    if isinstance(data, pd.DataFrame):
        return data
    if hasattr(data, "to_pandas"):
        return data.to_pandas()
    if isinstance(data, Mapping):
        return mapping_frame(data)
    raise InvalidDataError(
        f"data must be a DataFrame, a pyarrow Table or a dict of columns, got {type(data).__name__}"
    )


def y_column(frame: pd.DataFrame, columns: Mapping[str, str]) -> str:
    for key in ("loss", "y"):
        if key in columns:
            return columns[key]
    for key in Y_NAMES:
        if key in frame.columns:
            return key
    raise InvalidDataError(
        f"no loss column: expected one of {list(Y_NAMES)} or columns={{'loss': ...}}; "
        f"columns are {list(frame.columns)}"
    )


def law_name(law: str | Law) -> str:
    return law.name if isinstance(law, Law) else str(law)


def law_variables(law: str | Law, x: str | None) -> list[str] | None:
    """The law's variables when they follow from the law alone (None: from the data)."""
    if isinstance(law, Law):
        return list(law.variables)
    if law in ("chinchilla", "kaplan"):
        return ["N", "D"]
    if law == "data_constrained":
        return ["N", "D", "U"]
    return [x] if x is not None else None


def default_by(
    frame: pd.DataFrame, law: str | Law, x: str | None, columns: Mapping[str, str]
) -> str:
    vs = law_variables(law, x)
    if vs is None:
        vs = [v for v in ("N", "D", "C", "x") if columns.get(v, v) in frame.columns]
    if len(vs) == 1:
        return vs[0]
    if "N" in vs:
        return "N"
    raise InvalidOptionError(
        "rollout needs to know which column orders the runs: pass by='N' (or 'D', 'C')"
    )


def scale_of(
    frame: pd.DataFrame, by: str, columns: Mapping[str, str], *, check: bool = True
) -> np.ndarray:
    """The column that orders the runs (C as 6ND when the data have no C), checked positive
    unless ``check`` is False (bulk work reports a bad value in its group's row)."""
    col = columns.get(by, by)
    if col not in frame.columns:
        if by == "C" and {columns.get("N", "N"), columns.get("D", "D")} <= set(frame.columns):
            n = np.asarray(frame[columns.get("N", "N")].to_numpy(float), dtype=float)
            d = np.asarray(frame[columns.get("D", "D")].to_numpy(float), dtype=float)
            c: np.ndarray = 6.0 * n * d
            return c
        raise InvalidDataError(
            f"column '{col}' (by='{by}') is not in the data; columns are {list(frame.columns)}"
        )
    s = frame[col].to_numpy(dtype=float)
    bad = ~(np.isfinite(s) & (s > 0))
    if check and bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InvalidDataError(
            f"column '{col}' has an invalid value {s[row]} at row {row}: must be positive"
        )
    return np.asarray(s, dtype=float)


def levels_of(scale: np.ndarray, rtol: float) -> np.ndarray:
    """The distinct scales, merging each value within ``rtol`` of the previous into its level
    (the level is the group's largest value, so a split's training runs are those <= it)."""
    if not (isinstance(rtol, (int, float)) and 0 <= rtol < 1):
        raise InvalidOptionError(f"rtol must be in [0, 1), got {rtol!r}")
    u = np.unique(scale)
    new_group = np.concatenate([[True], u[1:] > u[:-1] * (1.0 + rtol)])
    ends = np.concatenate([np.flatnonzero(new_group)[1:] - 1, [u.size - 1]])
    return np.asarray(u[ends], dtype=float)


def prediction_points(
    fitted: FitResult, frame: pd.DataFrame, columns: Mapping[str, str]
) -> dict[str, np.ndarray]:
    return {v: frame[columns.get(v, v)].to_numpy(dtype=float) for v in fitted.variables}


def check_level(level: float) -> None:
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise InvalidOptionError(f"level must be in (0, 1), got {level!r}")


def check_laws(laws: Sequence[str | Law]) -> list[str | Law]:
    """The candidate laws, checked: a non-empty list of distinct names or written laws."""
    if isinstance(laws, (str, Law)) or not isinstance(laws, Sequence) or len(laws) == 0:
        raise InvalidOptionError(
            "laws must be a non-empty list of law names or powerfit.Law objects"
        )
    names = [law_name(law_argument(law)) for law in laws]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InvalidOptionError(
            f"laws are named twice: {', '.join(dup)} (give written laws distinct names)"
        )
    return list(laws)


def check_splits(min_train: Any, splits: Any) -> None:
    """``min_train`` a positive integer, ``splits`` one or None."""
    if isinstance(min_train, bool) or not isinstance(min_train, int) or min_train < 1:
        raise InvalidOptionError(f"min_train must be a positive integer, got {min_train!r}")
    if splits is not None and (
        isinstance(splits, bool) or not isinstance(splits, int) or splits < 1
    ):
        raise InvalidOptionError(f"splits must be a positive integer or None, got {splits!r}")
