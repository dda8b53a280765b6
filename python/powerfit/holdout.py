"""Does a law extrapolate? Fit on the smaller runs, predict the larger held-out ones."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import _check
from ._data import as_float_array, as_table, column_names, find_y, get_column, mapping_frame
from .errors import InvalidDataError, InvalidOptionError
from .expr import law_argument
from .fit import FitResult, fit


@dataclass(frozen=True)
class ExtrapolationResult:
    """Fit on the smaller runs, errors on the held-out larger ones."""

    fit: FitResult
    table: pd.DataFrame
    n_train: int
    n_test: int

    @property
    def mean_abs_rel_error(self) -> float:
        """Mean |predicted - observed| / observed over the held-out runs."""
        return float(self.table["abs_rel_error"].mean())

    @property
    def max_abs_rel_error(self) -> float:
        """Largest |relative error| over the held-out runs."""
        return float(self.table["abs_rel_error"].max())

    def summary(self) -> str:
        """One paragraph: sizes and error statistics."""
        t = self.table["rel_error"]
        return (
            f"extrapolation check: fitted {self.n_train} runs, predicted {self.n_test} held-out "
            f"runs; relative error mean {t.mean():+.3%}, mean |.| {self.mean_abs_rel_error:.3%}, "
            f"median |.| {float(self.table['abs_rel_error'].median()):.3%}, max |.| "
            f"{self.max_abs_rel_error:.3%}"
        )


def extrapolation_check(
    data: Any,
    law: Any = "chinchilla",
    holdout: Mapping[str, float] | float = 0.25,
    columns: Mapping[str, str] | None = None,
    **fit_kwargs: Any,
) -> ExtrapolationResult:
    """Fit on the smaller runs and predict the larger ones.

    Args:
        data: a table with the law's columns and the loss.
        law: the law to fit.
        holdout: ``{"N": 1e9}`` holds out runs with N >= 1e9 (any variable: N, D, C); a float
            q in (0, 1) holds out the share q of runs with the most compute (C, or N*D).
        columns: column mapping, as in :func:`powerfit.fit`.
        fit_kwargs: passed to :func:`powerfit.fit` (loss, delta, starts, ...).
    """
    cols = _check.mapping(columns, "columns")
    law = law_argument(law)
    data = mapping_frame(data) if isinstance(data, Mapping) else as_table(data)
    names = column_names(data)
    frame = pd.DataFrame({c: np.asarray(get_column(data, c)) for c in names})
    if isinstance(holdout, Mapping):
        if len(holdout) != 1:
            raise InvalidOptionError("holdout must name exactly one variable, e.g. {'N': 1e9}")
        ((var, thr),) = holdout.items()
        var = _check.name(var, "the variable of holdout")
        thr = _check.real(thr, f"holdout['{var}']")
        col = cols.get(var, var)
        if col not in names:
            raise InvalidDataError(
                f"holdout column '{col}' is not in the data; columns are {names}"
            )
        size = as_float_array(frame[col].to_numpy(), col)
        test = size >= thr
    else:
        if not _check.is_real(holdout):
            raise InvalidOptionError(
                "holdout must be a share of runs in (0, 1) or one variable's threshold, e.g. "
                f"{{'N': 1e9}}, got {_check.shown(holdout)}"
            )
        q = float(holdout)
        if not 0 < q < 1:
            raise InvalidOptionError(f"holdout share must be in (0, 1), got {holdout}")
        ccol = cols.get("C", "C")
        if ccol in names:
            comp = as_float_array(frame[ccol].to_numpy(), ccol)
        else:
            ncol, dcol = cols.get("N", "N"), cols.get("D", "D")
            if ncol not in names or dcol not in names:
                raise InvalidDataError("a holdout share needs a C column or N and D columns")
            comp = as_float_array(frame[ncol].to_numpy(), ncol) * as_float_array(
                frame[dcol].to_numpy(), dcol
            )
        test = comp > np.quantile(comp, 1.0 - q)
    if test.all() or not test.any():
        raise InvalidOptionError(
            f"the holdout leaves {int((~test).sum())} training and {int(test.sum())} test runs; "
            f"both must be non-empty"
        )
    train_df = frame[~test].reset_index(drop=True)
    test_df = frame[test].reset_index(drop=True)
    res = fit(train_df, law=law, columns=cols, **fit_kwargs)
    pts = {v: test_df[c].to_numpy(dtype=float) for v, c in zip(res.variables, res.columns)}
    pred = res.predict(warn=False, **pts)
    yname = find_y(names, cols)
    obs = test_df[yname].to_numpy(dtype=float)
    table = pd.DataFrame({c: pts[v] for v, c in zip(res.variables, res.columns)})
    table["observed"] = obs
    table["predicted"] = pred
    table["rel_error"] = (pred - obs) / obs
    table["abs_rel_error"] = np.abs(table["rel_error"])
    return ExtrapolationResult(res, table, int((~test).sum()), int(test.sum()))
