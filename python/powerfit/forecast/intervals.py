"""Forecast intervals that combine the bootstrap's parameter uncertainty with the extrapolation
error a rollout measured."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._data import as_float_array
from ..errors import InvalidDataError, InvalidOptionError
from ..errors import warn as warn_user
from ..fit import FitResult
from ._tables import MIN_DISTANCE, check_level
from .rollout import RolloutResult

if TYPE_CHECKING:  # pragma: no cover
    from ..bootstrap import BootstrapResult


def extrapolation_distance(scale_max: float, values: Any) -> np.ndarray:
    """Decades beyond ``scale_max`` (negative inside the data): log10(values / scale_max)."""
    v = as_float_array(values, "forecast points")
    if not (np.isfinite(scale_max) and scale_max > 0):
        raise InvalidOptionError(f"scale_max must be positive, got {scale_max}")
    if not (np.isfinite(v).all() and (v > 0).all()):
        raise InvalidDataError("forecast points must be positive and finite")
    return np.log10(v / scale_max)


def forecast_interval(
    fitted: FitResult,
    roll: RolloutResult,
    boot: BootstrapResult | None = None,
    *,
    level: float = 0.95,
    **points: Any,
) -> pd.DataFrame:
    """Forecast intervals beyond the data that combine the fit's parameter uncertainty (the
    bootstrap's confidence band) with the extrapolation error that rollout validation measured
    on the same kind of runs.

    The rollout gives, per held-out prediction, the log error e at distance d (decades beyond
    its split's training data); q = :meth:`RolloutResult.error_scale` (the ``level`` conformal
    quantile of |e| / d, or a Gaussian model of it with few predictions) is the measured error
    growth per decade. At a point d decades beyond the data, the log half-width is
    sqrt(w_boot^2 + (q max(d, MIN_DISTANCE))^2) on each side, w_boot the bootstrap band's log
    half-width on that side (0 without a bootstrap).

    Args:
        fitted: the full-data fit.
        roll: a :func:`rollout` of the same law on the same data.
        boot: a bootstrap of ``fitted`` (``fitted.bootstrap(...)``), or None.
        level: the intervals' level.
        points: the forecast points by variable (``N=[7e10], D=[1.4e12]``); the rollout's
            ``by`` column is needed too when it is not one of the law's variables (C is taken
            as 6ND when not given).

    Returns:
        a DataFrame: the points, ``distance`` (decades), ``prediction``, ``lower``, ``upper``,
        ``param_lower``/``param_upper`` (bootstrap band), ``extrapolation_halfwidth`` (log)
        and ``within_rollout`` (False past the farthest distance the rollout measured; a
        warning says how far).
    """
    check_level(level)
    if boot is not None and boot.result is not fitted:
        raise InvalidOptionError("boot must be a bootstrap of `fitted` (fitted.bootstrap(...))")
    if roll.law != fitted.law:
        raise InvalidOptionError(
            f"the rollout is of law '{roll.law}' but the fit of law '{fitted.law}'"
        )
    xs = {v: as_float_array(points[v], v) for v in fitted.variables if v in points}
    missing = [v for v in fitted.variables if v not in xs]
    if len(fitted.variables) == 1 and missing and "x" in points:
        xs, missing = ({fitted.variables[0]: as_float_array(points["x"], "x")}, [])
    if missing:
        raise InvalidDataError(f"forecast points need {', '.join(missing)}")
    if roll.by in points:
        scale = points[roll.by]
    elif roll.by in xs:
        scale = xs[roll.by]
    elif roll.by == "C" and {"N", "D"} <= set(xs):
        scale = 6.0 * xs["N"] * xs["D"]
    else:
        raise InvalidDataError(f"forecast points need the rollout's column '{roll.by}'")
    dist = extrapolation_distance(roll.scale_max, scale)
    pred = fitted.predict(warn=False, **xs)
    q = roll.error_scale(level)
    method = roll.error_scale_method(level)
    if method != "conformal":
        n = int(np.isfinite(roll.points["log_error"]).sum())
        warn_user(
            f"the rollout has {n} finite held-out predictions, fewer than a {level:.0%} "
            "conformal quantile needs: "
            + (
                "the intervals are unbounded"
                if method == "none"
                else "the extrapolation error uses a Gaussian model of the error per decade"
            )
        )
    within = _within_rollout(roll, dist)
    w_ext = q * np.maximum(dist, MIN_DISTANCE)
    if boot is not None:
        band = fitted.predict_interval(pd.DataFrame(xs), level=level, kind="confidence")
        plo, phi = band["lower"].to_numpy(), band["upper"].to_numpy()
    else:
        plo, phi = pred.copy(), pred.copy()
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        down = np.sqrt(np.log(pred / plo) ** 2 + w_ext**2)
        up = np.sqrt(np.log(phi / pred) ** 2 + w_ext**2)
        lower, upper = pred * np.exp(-down), pred * np.exp(up)
    out = pd.DataFrame(xs)
    out["distance"] = dist
    out["prediction"] = pred
    out["lower"] = lower
    out["upper"] = upper
    out["param_lower"] = plo
    out["param_upper"] = phi
    out["extrapolation_halfwidth"] = w_ext
    out["within_rollout"] = within
    return out


def _within_rollout(roll: RolloutResult, dist: np.ndarray) -> np.ndarray:
    """Which forecast points lie no farther beyond the data than the rollout's farthest
    forecast; warns about the others, whose extrapolation error is the measured error per
    decade carried beyond where it was measured."""
    pts = roll.points
    measured = pts["distance"].to_numpy(dtype=float)[np.isfinite(pts["log_error"].to_numpy())]
    reach = float(measured.max()) if measured.size else 0.0
    within = ~(dist > reach * (1.0 + 1e-9))
    if not within.all():
        warn_user(
            f"{int((~within).sum())} of {dist.size} forecast points lie up to "
            f"{float(np.max(dist)):.2f} decades beyond the data, past the {reach:.2f} decades "
            "the rollout measured: their extrapolation error is the measured error per decade "
            "carried further (column within_rollout)"
        )
    return within
