"""Rollout validation: fit on the runs at the k smallest scales, predict every larger one, for
every k (an expanding window over model size, tokens or compute)."""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _check
from ..errors import InvalidDataError, PowerfitError
from ..expr import Law, law_argument
from ..fit import FitResult, fit
from ._tables import (
    MIN_DISTANCE,
    check_level,
    check_splits,
    default_by,
    frame_of,
    law_name,
    levels_of,
    prediction_points,
    scale_of,
    y_column,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class RolloutResult:
    """Expanding-window validation of one law: split k fits the runs at the k smallest values
    of ``by`` and predicts every larger one.

    Attributes:
        law: the law's name.
        by: the column that orders the runs (model size, tokens, compute, ...).
        splits: one row per split: ``split`` (k), ``train_max`` (largest training scale),
            ``n_train``, ``n_test``, ``success``, ``status``, ``rel_error`` (mean
            |predicted - observed| / observed), ``log_rmse`` (RMSE of log-loss), ``ppl_ratio``
            (exp of the mean |predicted - observed|: the typical factor between predicted and
            observed perplexity, for losses in nats),
            ``max_distance`` (decades beyond ``train_max``).
        points: one row per held-out prediction: ``split``, the scale, ``distance`` (decades
            beyond the split's largest training scale), ``observed``, ``predicted``,
            ``rel_error``, ``log_error`` (log predicted - log observed), ``ppl_ratio``
            (predicted / observed perplexity, exp(predicted - observed)).
        fits: the fit of every split (None where the fit raised).
        scale_max: the largest scale in the data (distances of forecasts count from it).
    """

    law: str
    by: str
    splits: pd.DataFrame
    points: pd.DataFrame
    fits: tuple[FitResult | None, ...] = field(repr=False)
    scale_max: float

    @property
    def log_rmse(self) -> float:
        """RMSE of log-loss over every held-out prediction of the splits that fitted."""
        e = self.points["log_error"].to_numpy()
        e = e[np.isfinite(e)]
        return float(np.sqrt(np.mean(e**2))) if e.size else math.nan

    @property
    def rel_error(self) -> float:
        """Mean |relative error| over every held-out prediction."""
        e = self.points["rel_error"].abs().to_numpy()
        e = e[np.isfinite(e)]
        return float(e.mean()) if e.size else math.nan

    @property
    def n_failed(self) -> int:
        """Splits whose fit did not succeed."""
        return int((~self.splits["success"]).sum())

    def error_scale(self, level: float = 0.95) -> float:
        """How much the log half-width of a ``level`` forecast interval grows per decade
        beyond the data, from the held-out predictions' z = |log error| / distance: their
        finite-sample conformal ``level`` quantile, or, with fewer predictions than that
        needs (19 at 95%), a Gaussian model: the normal quantile times the RMS of z, inflated
        by sqrt(1 + 1/n). Infinite without any finite prediction."""
        check_level(level)
        z = self._z()
        n = z.size
        if n == 0:
            return math.inf
        rank = math.ceil((n + 1) * level)
        if rank <= n:
            return float(np.sort(z)[rank - 1])
        zq = statistics.NormalDist().inv_cdf(0.5 + level / 2)
        return float(zq * np.sqrt(np.mean(z**2)) * math.sqrt(1 + 1 / n))

    def error_scale_method(self, level: float = 0.95) -> str:
        """Which estimate :meth:`error_scale` uses: ``"conformal"``, ``"gaussian"`` or
        ``"none"``."""
        n = self._z().size
        if n == 0:
            return "none"
        return "conformal" if math.ceil((n + 1) * level) <= n else "gaussian"

    def _z(self) -> np.ndarray:
        pts = self.points[np.isfinite(self.points["log_error"])]
        d = np.maximum(pts["distance"].to_numpy(dtype=float), MIN_DISTANCE)
        return np.asarray(np.abs(pts["log_error"].to_numpy(dtype=float)) / d, dtype=float)

    def summary(self) -> str:
        """The splits as a text table, with the pooled errors."""
        head = (
            f"rollout of law '{self.law}' over {self.by}: {len(self.splits)} splits, "
            f"{self.n_failed} failed; held-out log-loss RMSE {self.log_rmse:.4g}, "
            f"mean |relative error| {self.rel_error:.3%}"
        )
        return head + "\n" + str(self.splits.to_string(index=False))

    def plot(
        self,
        *,
        figsize: tuple[float, float] = (6.4, 4.2),
        dpi: float = 100,
        path: str | os.PathLike[str] | None = None,
    ) -> Figure:
        """|Relative error| of every held-out prediction against its extrapolation distance;
        see :func:`powerfit.plot.plot_rollout`. Needs the ``plot`` extra."""
        from ..plot import plot_rollout

        return plot_rollout(self, figsize=figsize, dpi=dpi, path=path)


def _n_params(
    law: str | Law,
    frame: pd.DataFrame,
    x: str | None,
    columns: Mapping[str, str],
    fit_kwargs: Mapping[str, Any],
) -> int:
    """Free parameters of the law on these data: the parameters of a fit to all of them that
    are not fixed (the fit also shows, with a clear error, a law that cannot fit the data)."""
    if isinstance(law, Law):
        names: tuple[str, ...] = tuple(law.params)
    else:
        whole = fit(frame, law=law, x=x, columns=dict(columns), warn=False, **fit_kwargs)
        names = whole.param_names
    fixed = fit_kwargs.get("fixed") or {}
    return len([p for p in names if p not in fixed])


@dataclass(frozen=True)
class _Task:
    """What every split of one rollout shares: the runs, their scale, the law and the fit's
    options."""

    frame: pd.DataFrame
    scale: np.ndarray
    law: str | Law
    by: str
    x: str | None
    yname: str
    columns: Mapping[str, str]
    fit_kwargs: Mapping[str, Any]


def _split_row(
    k: int, cut: float, *, n_train: int, n_test: int, fitted: FitResult | None, status: str
) -> dict[str, Any]:
    return {
        "split": k,
        "train_max": cut,
        "n_train": n_train,
        "n_test": n_test,
        "success": bool(fitted is not None and fitted.success),
        "status": status,
    }


def _one_split(
    task: _Task, k: int, cut: float
) -> tuple[dict[str, Any], pd.DataFrame | None, FitResult | None]:
    """Fit on the runs at scales <= cut, predict the others."""
    frame, scale, by, columns = task.frame, task.scale, task.by, task.columns
    law, x, yname, fit_kwargs = task.law, task.x, task.yname, task.fit_kwargs
    train, test = frame[scale <= cut], frame[scale > cut]
    try:
        fitted = fit(train, law=law, x=x, columns=dict(columns), warn=False, **fit_kwargs)
    except PowerfitError as err:
        row = _split_row(
            k, cut, n_train=len(train), n_test=len(test), fitted=None, status=f"error: {err}"
        )
        return row, None, None
    row = _split_row(
        k, cut, n_train=len(train), n_test=len(test), fitted=fitted, status=fitted.status
    )
    obs = test[yname].to_numpy(dtype=float)
    pred = fitted.predict(warn=False, **prediction_points(fitted, test, columns))
    # a forecast that runs away (a flexible law fitted on a few runs) scores an infinite
    # perplexity ratio, which is its honest value, not a numpy warning
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        log_err = np.log(pred) - np.log(obs)
        ppl = np.exp(pred - obs)
        mean_ppl = float(np.exp(np.mean(np.abs(pred - obs))))
    pts = pd.DataFrame(
        {
            "split": k,
            by: scale[scale > cut],
            "distance": np.log10(scale[scale > cut] / cut),
            "observed": obs,
            "predicted": pred,
            "rel_error": (pred - obs) / obs,
            "log_error": log_err,
            "ppl_ratio": ppl,
        }
    )
    # a fit that stopped before converging still forecasts with its best parameters (what
    # its user would get); `success` in the split's row says so
    good = pts["log_error"].to_numpy()
    row["rel_error"] = float(np.mean(np.abs(pts["rel_error"])))
    row["log_rmse"] = float(np.sqrt(np.mean(good**2)))
    row["ppl_ratio"] = mean_ppl
    row["max_distance"] = float(pts["distance"].max())
    return row, pts, fitted


def rollout(
    data: Any = None,
    law: str | Law = "power",
    by: str | None = None,
    *,
    x: Any = None,
    y: Any = None,
    columns: Mapping[str, str] | None = None,
    min_train: int = 3,
    splits: int | None = None,
    rtol: float = 0.01,
    loss: str = "log",
    **fit_kwargs: Any,
) -> RolloutResult:
    """Expanding-window validation: for every k, fit on the runs at the k smallest distinct
    values of ``by`` and predict all larger ones.

    Args:
        data: the runs (pandas, polars, pyarrow or a dict of columns); or omit it and pass arrays
            ``x=`` and ``y=`` (a single-variable law over a column named ``x``).
        law: a built-in law's name or a :class:`powerfit.Law`.
        by: the column that orders the runs: model size ``"N"``, tokens ``"D"``, compute ``"C"``
            (computed as 6ND when there is no C column) or any other. Default: the law's single
            variable, else N.
        x: for single-variable laws, which column is x (as in :func:`powerfit.fit`).
        columns: column mapping, as in :func:`powerfit.fit`.
        min_train: the fewest training scales of a split (splits whose training runs cannot
            determine the law's free parameters are skipped).
        splits: keep only the last ``splits`` splits (the ones with the most training data).
        rtol: values of ``by`` within this relative distance of the previous one are the same
            scale (one model size recorded with rounding noise).
        loss: the fit's loss; ``"log"`` by default (extrapolation is judged on log-loss).
        fit_kwargs: passed to :func:`powerfit.fit` (fixed, bounds, p0, starts, ...).

    Returns:
        a :class:`RolloutResult` with per-split and per-point errors.
    """
    columns = _check.mapping(columns, "columns")
    law = law_argument(law)
    by = _check.name(by, "by", optional=True)
    xname: str | None
    if data is None and x is not None and not isinstance(x, str):
        frame, xname = frame_of(None, x, y), "x"
    else:
        frame, xname = frame_of(data, None, None), _check.name(x, "x", optional=True)
    if by is None:
        by = default_by(frame, law, xname, columns)
    check_splits(min_train, splits)
    yname = y_column(frame, columns)
    scale = scale_of(frame, by, columns)
    levels = levels_of(scale, rtol)
    if levels.size < 2:
        raise InvalidDataError(
            f"rollout needs at least two distinct values of '{by}', got {levels.size}"
        )
    kw = {"loss": loss, **fit_kwargs}
    need = _n_params(law, frame, xname, columns, kw)
    ks = [k for k in range(min_train, levels.size) if int((scale <= levels[k - 1]).sum()) > need]
    if splits is not None:
        ks = ks[-splits:]
    if not ks:
        short = (
            f"; min_train={min_train} must be below the number of values"
            if min_train >= levels.size
            else ""
        )
        raise InvalidDataError(
            f"no split leaves enough training runs: law '{law_name(law)}' has {need} free "
            f"parameters and the data {len(frame)} runs over {levels.size} values of '{by}'"
            f"{short}"
        )
    task = _Task(frame, scale, law, by, xname, yname, columns, kw)
    rows, tables, fits = [], [], []
    for k in ks:
        row, pts, fitted = _one_split(task, k, float(levels[k - 1]))
        rows.append(row)
        fits.append(fitted)
        if pts is not None:
            tables.append(pts)
    cols = [
        "split",
        by,
        "distance",
        "observed",
        "predicted",
        "rel_error",
        "log_error",
        "ppl_ratio",
    ]
    points = (
        pd.concat(tables, ignore_index=True)
        if tables
        else pd.DataFrame({c: pd.Series(dtype=float) for c in cols})
    )
    table = pd.DataFrame(rows)
    for c in ("rel_error", "log_rmse", "ppl_ratio", "max_distance"):
        if c not in table:
            table[c] = math.nan
    return RolloutResult(law_name(law), by, table, points, tuple(fits), float(levels[-1]))
