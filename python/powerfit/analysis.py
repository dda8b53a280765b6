"""Turning a fit into decisions: compute-optimal allocation, inference-aware sizing,
elasticities, forecasts with intervals, and extrapolation checks. The numerics run in the Rust
core; this module shapes inputs and outputs."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _core
from ._data import as_float_array, column_names, get_column
from .errors import InvalidDataError, InvalidLawError, InvalidOptionError

if TYPE_CHECKING:  # pragma: no cover
    from .fit import FitResult

#: Relative spread of C / (N D) below which C = k N D is taken to hold in the data.
CONFOUND_SPREAD = 1e-3


def compute_confounded(res: FitResult) -> float | None:
    """k when the data satisfy C = k N D (so a C term is confounded with N and D), else None."""
    if not {"N", "D", "C"} <= set(res.variables):
        return None
    ratio = np.log(res._x["C"]) - np.log(res._x["N"]) - np.log(res._x["D"])
    if float(np.std(ratio)) < CONFOUND_SPREAD:
        return float(np.exp(np.mean(ratio)))
    return None


def _budgets(C: Any) -> list[float]:
    c = np.atleast_1d(np.asarray(C, dtype=float))
    if c.ndim != 1 or c.size == 0 or not np.all(np.isfinite(c)) or np.any(c <= 0):
        raise InvalidOptionError(f"compute budgets must be positive finite numbers, got {C!r}")
    return [float(v) for v in c]


def _check_nd(res: FitResult) -> None:
    if not {"N", "D"} <= set(res.variables):
        raise InvalidLawError(
            f"compute-optimal analyses need a law with N and D terms; '{res.law}' has "
            f"{', '.join(res.variables)}"
        )
    k = compute_confounded(res)
    if k is not None:
        raise InvalidOptionError(
            f"C = k N D holds in these data (k = {k:.4g}), so the fitted C term cannot be told "
            f"apart from the N and D terms and the allocation it implies is meaningless; refit "
            f"without C (law='chinchilla' or additive on N and D)"
        )


def compute_optimal(
    res: FitResult, C: Any, k: float = 6.0, level: float = 0.95
) -> pd.DataFrame:
    """Compute-optimal allocation at budgets C with C = k N D.

    Closed form for laws E + A N^-alpha + B D^-beta (N* = G (C/k)^a, D* = G^-1 (C/k)^b,
    a = beta/(alpha+beta), b = alpha/(alpha+beta), G = (alpha A/(beta B))^(1/(alpha+beta)));
    numeric minimisation of L(N, C/(kN)) for other laws on N and D (kaplan, additive with a C
    term recorded independently of N and D, user laws). With a bootstrap run, ``_lower`` and
    ``_upper`` columns give percentile intervals at ``level``.
    """
    _check_nd(res)
    budgets = _budgets(C)
    if not (k > 0 and math.isfinite(k)):
        raise InvalidOptionError(f"k must be positive, got {k}")
    idx = res._nd_index()
    boot = res._boot
    mats = [res.values[None, :]]
    if boot is not None:
        mats.append(boot.samples[boot.success])
    frames = []
    for m in mats:
        m = np.ascontiguousarray(m, dtype=np.float64)
        if idx is not None:
            names, d = _core.derived(m, idx, budgets, float(k))
            q = len(budgets)
            n_opt = d[:, 4::4][:, :q]
            d_opt = d[:, 5::4][:, :q]
            l_opt = d[:, 7::4][:, :q]
        else:
            n_opt, d_opt, l_opt = _core.numeric_optimal(
                res._law_arg, list(res.variables), m, budgets, float(k)
            )
        frames.append((np.asarray(n_opt), np.asarray(d_opt), np.asarray(l_opt)))
    n0, d0, l0 = frames[0]
    out = pd.DataFrame(
        {
            "C": budgets,
            "N_opt": n0[0],
            "D_opt": d0[0],
            "tokens_per_param": d0[0] / n0[0],
            "L_opt": l0[0],
        }
    )
    if idx is not None:
        p = res.values
        alpha, beta = p[idx[3]], p[idx[4]]
        out["a"] = beta / (alpha + beta)
        out["b"] = alpha / (alpha + beta)
        out["eta"] = alpha * beta / (alpha + beta)
    if boot is not None:
        nb, db, lb = frames[1]
        cols = {"N_opt": nb, "D_opt": db, "tokens_per_param": db / nb, "L_opt": lb}
        for name, mat in cols.items():
            est = out[name].to_numpy()
            lo, hi = _core.intervals(np.ascontiguousarray(mat), list(est), level, "percentile")
            out[f"{name}_lower"] = lo
            out[f"{name}_upper"] = hi
    return out


@dataclass(frozen=True)
class InferenceSizing:
    """The outcome of :func:`inference_optimal` (all FLOPs in floating-point operations)."""

    target_loss: float
    inference_tokens: float
    N: float
    D: float
    train_flops: float
    inference_flops: float
    total_flops: float
    chinchilla_N: float
    chinchilla_D: float
    chinchilla_total_flops: float
    saving: float

    def to_series(self) -> pd.Series:
        """As a pandas Series."""
        return pd.Series(self.__dict__)


def inference_optimal(
    res: FitResult, target_loss: float, inference_tokens: float, k: float = 6.0
) -> InferenceSizing:
    """Sardana and Frankle 2023: the N and D reaching ``target_loss`` that minimise training
    (k N D) plus inference (2 N per token) FLOPs, against the compute-optimal model of the same
    loss serving the same tokens; ``saving`` is the share of total FLOPs saved."""
    _check_nd(res)
    if not (inference_tokens >= 0 and math.isfinite(inference_tokens)):
        raise InvalidOptionError(f"inference_tokens must be >= 0, got {inference_tokens}")
    args = (res._law_arg, list(res.variables), list(res.values), float(target_loss))
    best = _core.inference_optimal(*args, float(inference_tokens), float(k))
    chin = _core.inference_optimal(*args, 0.0, float(k))
    if best is None or chin is None:
        raise InvalidOptionError(
            f"no model reaches loss {target_loss}: the fitted law's floor is above it"
        )
    n, d, tr, inf = best
    cn, cd, ctr, _ = chin
    ctotal = ctr + 2.0 * cn * inference_tokens
    total = tr + inf
    return InferenceSizing(
        float(target_loss), float(inference_tokens), n, d, tr, inf, total, cn, cd, ctotal,
        1.0 - total / ctotal,
    )


def elasticities(res: FitResult, data: Any = None, **points: Any) -> pd.DataFrame:
    """At each point: d log(L - L_inf) / d log x for every variable x (``elasticity_x``), the
    derivatives dL/dx (``dL_dx``) and, for laws on N and D, ``token_vs_param`` = (dL/dD) /
    (dL/dN): how many parameters one more training token is worth at that point."""
    xs = res._points(data, points)
    mat = np.ascontiguousarray(np.column_stack(xs), dtype=np.float64)
    const = 0 if res.param_names[0] in ("L_inf", "E") else None
    el, der = _core.elasticities(res._law_arg, list(res.variables), list(res.values), mat, const)
    out = pd.DataFrame({v: mat[:, j] for j, v in enumerate(res.variables)})
    for j, v in enumerate(res.variables):
        out[f"elasticity_{v}"] = el[:, j]
    for j, v in enumerate(res.variables):
        out[f"dL_d{v}"] = der[:, j]
    if {"N", "D"} <= set(res.variables):
        out["token_vs_param"] = out["dL_dD"] / out["dL_dN"]
    return out


def predict_interval(
    res: FitResult,
    data: Any = None,
    *,
    level: float = 0.95,
    kind: str = "confidence",
    seed: int = 0,
    **points: Any,
) -> pd.DataFrame:
    """Bootstrap intervals for ``res.predict``: ``kind="confidence"`` for the law itself,
    ``"prediction"`` adding each replicate a residual drawn from the fit's residuals (on the
    loss's scale), for a new observed run. Needs ``res.bootstrap(...)`` first."""
    boot = res._boot
    if boot is None:
        raise InvalidOptionError("prediction intervals need a bootstrap: call res.bootstrap() first")
    if kind not in ("confidence", "prediction"):
        raise InvalidOptionError(f"kind must be 'confidence' or 'prediction', got {kind!r}")
    if not 0 < level < 1:
        raise InvalidOptionError(f"level must be in (0, 1), got {level}")
    xs = res._points(data, points)
    est = res.predict(**dict(zip(res.variables, xs)))
    reps = _core.evaluate_many(
        res._law_arg, list(res.variables), xs, np.ascontiguousarray(boot.samples[boot.success])
    )
    reps = np.asarray(reps)
    if kind == "prediction":
        resid = res.residuals()
        rng = np.random.default_rng(seed)
        draw = resid[rng.integers(0, resid.size, size=reps.shape)]
        reps = np.exp(np.log(reps) + draw) if _log_scale(res) else reps + draw
    lo, hi = _core.intervals(np.ascontiguousarray(reps), list(est), level, "percentile")
    out = pd.DataFrame({v: x for v, x in zip(res.variables, xs)})
    out["prediction"] = est
    out["lower"] = lo
    out["upper"] = hi
    return out


def _log_scale(res: FitResult) -> bool:
    return res.loss in ("log", "huber_log", "asymmetric_log")


@dataclass(frozen=True)
class ExtrapolationResult:
    """Fit on the smaller runs, errors on the held-out larger ones."""

    fit: Any
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
    from .fit import fit

    names = column_names(data)
    cols = dict(columns or {})
    frame = pd.DataFrame({c: np.asarray(get_column(data, c)) for c in names})
    if isinstance(holdout, Mapping):
        if len(holdout) != 1:
            raise InvalidOptionError("holdout must name exactly one variable, e.g. {'N': 1e9}")
        (var, thr), = holdout.items()
        col = cols.get(var, var)
        if col not in names:
            raise InvalidDataError(f"holdout column '{col}' is not in the data; columns are {names}")
        size = as_float_array(frame[col].to_numpy(), col)
        test = size >= float(thr)
    else:
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
    pts = {v: test_df[res._labels[j]].to_numpy(dtype=float) for j, v in enumerate(res.variables)}
    pred = res.predict(**pts)
    from ._data import find_y

    yname = find_y(names, cols)
    obs = test_df[yname].to_numpy(dtype=float)
    table = pd.DataFrame({**{res._labels[j]: pts[v] for j, v in enumerate(res.variables)}})
    table["observed"] = obs
    table["predicted"] = pred
    table["rel_error"] = (pred - obs) / obs
    table["abs_rel_error"] = np.abs(table["rel_error"])
    return ExtrapolationResult(res, table, int((~test).sum()), int(test.sum()))
