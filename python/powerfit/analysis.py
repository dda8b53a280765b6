"""Turning a fit into decisions: compute-optimal allocation, inference-aware sizing,
elasticities, forecasts with intervals, and extrapolation checks. The numerics run in the Rust
core; this module shapes inputs and outputs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import _check, _core
from ._deprecate import renamed
from .errors import InvalidLawError, InvalidOptionError, PowerfitError
from .errors import warn as warn_user
from .record import FAR_DECADES, FitRecord

#: Relative spread of C / (N D) below which C = k N D is taken to hold in the data.
CONFOUND_SPREAD = 1e-3


def compute_confounded(res: FitRecord) -> float | None:
    """k when the data satisfy C = k N D (so a C term is confounded with N and D), else None."""
    if not {"N", "D", "C"} <= set(res.variables):
        return None
    x = res.data
    ratio = np.log(x["C"]) - np.log(x["N"]) - np.log(x["D"])
    if float(np.std(ratio)) < CONFOUND_SPREAD:
        return float(np.exp(np.mean(ratio)))
    return None


def nd_index(res: FitRecord) -> list[int] | None:
    """Positions of (E, A, B, alpha, beta) for laws with one N and one D term (the closed form
    applies), else None."""
    names = res.param_names
    if res.law == "chinchilla":
        return [names.index(k) for k in ("E", "A", "B", "alpha", "beta")]
    if res.law == "additive" and set(res.variables) == {"N", "D"}:
        return [names.index(k) for k in ("L_inf", "A", "B", "alpha", "beta")]
    return None


def _budgets(budgets: Any) -> list[float]:
    try:
        c = np.atleast_1d(np.asarray(budgets, dtype=float))
    except (TypeError, ValueError):
        raise InvalidOptionError(f"budgets must be numbers, got {budgets!r}") from None
    if c.ndim != 1 or c.size == 0:
        raise InvalidOptionError(f"budgets must be a list of numbers, got {budgets!r}")
    return [float(v) for v in c]


def _check_nd(res: FitRecord) -> None:
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


def _budget_distance(res: FitRecord, budgets: list[float], k: float) -> np.ndarray:
    """How many decades each budget lies beyond the largest compute in the data (C, or k N D),
    or below the smallest (0 inside)."""
    x = res.data
    data_c = x["C"] if "C" in x else float(k) * x["N"] * x["D"]
    lo, hi = float(np.min(data_c)), float(np.max(data_c))
    c = np.asarray(budgets, dtype=float)
    return np.maximum(np.log10(np.maximum(c / hi, 1.0)), np.log10(np.maximum(lo / c, 1.0)))


def _listed(items: list[str], most: int = 4) -> str:
    """Items joined by commas; past ``most``, the first and last few and how many between."""
    if len(items) <= most:
        return ", ".join(items)
    half = most // 2
    return (
        ", ".join(items[:half])
        + f", ... ({len(items) - most} more) ..., "
        + ", ".join(items[-half:])
    )


def _warn_implausible(table: pd.DataFrame, res: FitRecord) -> None:
    """Warnings for budgets far from the data and for allocations no one would train."""
    far = table.loc[table["decades_beyond"] > FAR_DECADES, ["C", "decades_beyond"]]
    if len(far):
        shown = _listed([f"C={c:.3g} ({d:.1f} decades)" for c, d in far.itertuples(index=False)])
        warn_user(
            f"compute-optimal allocation far beyond the fitted runs' compute: {shown}; the "
            f"exponents are extrapolated that far (check them with powerfit.rollout)"
        )
    odd = table.loc[~(table["tokens_per_param"] >= 1.0), "C"]
    if len(odd):
        warn_user(
            f"implausible allocation at C={_listed([f'{c:.3g}' for c in odd])}: fewer than one "
            f"training token per parameter (or no finite optimum); the fitted {res.law} law's "
            f"data and parameter terms are not identified well enough to allocate compute"
        )


@renamed({"C": "budgets", "k": "flops_per_param_token"})
def compute_optimal(
    res: FitRecord,
    budgets: Any,
    flops_per_param_token: float = 6.0,
    level: float = 0.95,
    *,
    samples: np.ndarray | None = None,
    warn: bool = True,
) -> pd.DataFrame:
    """Compute-optimal allocation at compute budgets C, with C = k N D and k =
    ``flops_per_param_token`` (FLOPs per parameter per token; 6 for a dense transformer).

    Closed form for laws E + A N^-alpha + B D^-beta (N_opt = G (C/k)^a, D_opt = G^-1 (C/k)^b,
    a = beta/(alpha+beta), b = alpha/(alpha+beta), G = (alpha A/(beta B))^(1/(alpha+beta)));
    numeric minimisation of L(N, C/(kN)) for other laws on N and D (kaplan, additive with a C
    term recorded independently of N and D, user laws). With a bootstrap run (``res.boot``,
    or the replicate matrix ``samples``), ``_lower`` and ``_upper`` columns give percentile
    intervals at ``level``.

    Returns:
        One row per budget: ``C``, ``N_opt``, ``D_opt``, ``tokens_per_param`` (D_opt/N_opt),
        ``L_opt``, the exponents ``a``, ``b``, ``eta`` for the closed form, and the interval
        columns.
    """
    _check_nd(res)
    k = flops_per_param_token
    budgets = _budgets(budgets)
    idx = nd_index(res)
    if samples is None and res.boot is not None:
        samples = res.boot.converged
    mats = [res.values[None, :]]
    if samples is not None and len(samples):
        mats.append(samples)
    frames = []
    for m in mats:
        m = np.ascontiguousarray(m, dtype=np.float64)
        if idx is not None:
            names, d = _core.derived(m, idx, budgets, k)
            q = len(budgets)
            n_opt = d[:, 4::4][:, :q]
            d_opt = d[:, 5::4][:, :q]
            l_opt = d[:, 7::4][:, :q]
        else:
            n_opt, d_opt, l_opt = res.model.numeric_optimal(m, budgets, k)
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
    out["decades_beyond"] = _budget_distance(res, budgets, k)
    if warn:
        _warn_implausible(out, res)
    if len(frames) > 1:
        nb, db, lb = frames[1]
        cols = {"N_opt": nb, "D_opt": db, "tokens_per_param": db / nb, "L_opt": lb}
        for name, mat in cols.items():
            est = out[name].to_numpy()
            lo, hi = _core.intervals(np.ascontiguousarray(mat), est, level, "percentile")
            out[f"{name}_lower"] = lo
            out[f"{name}_upper"] = hi
    return out


@renamed({"k": "flops_per_param_token"})
def optimal_table(
    res: FitRecord,
    budgets: Sequence[float],
    flops_per_param_token: float = 6.0,
    level: float = 0.95,
    max_replicates: int | None = None,
) -> pd.DataFrame:
    """The compute-optimal allocation at each budget C = k N D (N_opt, D_opt,
    tokens_per_param, L_opt, with ``_lower``/``_upper`` bootstrap percentile columns when the
    fit has a bootstrap run), from :func:`compute_optimal`.

    Args:
        max_replicates: base the intervals on a fixed random subset of at most this many
            converged replicates (0: no intervals); None uses them all.

    Raises:
        InvalidLawError, InvalidOptionError: the law has no N and D terms, the data tie a C
            term to N and D, or a budget is not positive.
    """
    if max_replicates is not None:
        max_replicates = _check.count(max_replicates, "max_replicates")
    boot = res.boot
    samples = None if boot is None else boot.converged
    if max_replicates is not None and samples is not None and len(samples) > max_replicates:
        if max_replicates > 0:
            pick = np.random.default_rng(0).choice(len(samples), max_replicates, replace=False)
            samples = samples[np.sort(pick)]
        else:
            samples = samples[:0]
    # the table shows decades_beyond; figures and reports do not repeat it as a warning
    return compute_optimal(
        res, budgets, flops_per_param_token, level=level, samples=samples, warn=False
    )


def supports_optimal(res: FitRecord) -> bool:
    """Whether the fit has a compute-optimal allocation (a law of N and D whose terms the
    data can tell apart)."""
    if not {"N", "D"} <= set(res.variables):
        return False
    try:
        optimal_table(res, [1e21], max_replicates=0)
    except PowerfitError:
        return False
    return True


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


@renamed({"k": "flops_per_param_token"})
def inference_optimal(
    res: FitRecord,
    target_loss: float,
    inference_tokens: float,
    flops_per_param_token: float = 6.0,
) -> InferenceSizing:
    """Sardana and Frankle 2023: the N and D reaching ``target_loss`` that minimise training
    (k N D, k = ``flops_per_param_token``) plus inference (2 N per token) FLOPs, against the
    compute-optimal model of the same loss serving the same tokens; ``saving`` is the share of
    total FLOPs saved."""
    _check_nd(res)
    k = flops_per_param_token
    best = res.model.inference_optimal(res.values, target_loss, inference_tokens, k)
    chin = res.model.inference_optimal(res.values, target_loss, 0.0, k)
    n, d, tr, inf = best
    cn, cd, ctr, _ = chin
    ctotal = ctr + 2.0 * cn * inference_tokens
    total = tr + inf
    return InferenceSizing(
        float(target_loss),
        float(inference_tokens),
        n,
        d,
        tr,
        inf,
        total,
        cn,
        cd,
        ctotal,
        1.0 - total / ctotal,
    )


def elasticities(res: FitRecord, data: Any = None, **points: Any) -> pd.DataFrame:
    """At each point: d log(L - L_inf) / d log x for every variable x (``elasticity_x``), the
    derivatives dL/dx (``dL_dx``) and, for laws on N and D, ``token_vs_param`` = (dL/dD) /
    (dL/dN): how many parameters one more training token is worth at that point."""
    xs = res.points(data, points)
    mat = np.ascontiguousarray(np.column_stack(xs), dtype=np.float64)
    const = 0 if res.param_names[0] in ("L_inf", "E") else None
    el, der = res.model.elasticities(res.values, mat, const)
    out = pd.DataFrame({v: mat[:, j] for j, v in enumerate(res.variables)})
    for j, v in enumerate(res.variables):
        out[f"elasticity_{v}"] = el[:, j]
    for j, v in enumerate(res.variables):
        out[f"dL_d{v}"] = der[:, j]
    if {"N", "D"} <= set(res.variables):
        out["token_vs_param"] = out["dL_dD"] / out["dL_dN"]
    return out


def predict_interval(
    res: FitRecord,
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
    boot = res.boot
    if boot is None:
        raise InvalidOptionError(
            "prediction intervals need a bootstrap: call res.bootstrap() first"
        )
    kind = _check.name(kind, "kind")
    seed = _check.count(seed, "seed")
    if kind not in ("confidence", "prediction"):
        raise InvalidOptionError(f"kind must be 'confidence' or 'prediction', got {kind!r}")
    xs = res.points(data, points)
    est = res.model.predict(res.values, xs, list(res.columns))
    reps = res.model.predict_many(boot.converged, xs)
    if kind == "prediction":
        resid = res.residuals()
        rng = np.random.default_rng(seed)
        draw = resid[rng.integers(0, resid.size, size=reps.shape)]
        reps = np.exp(np.log(reps) + draw) if res.log_scale else reps + draw
    lo, hi = _core.intervals(np.ascontiguousarray(reps), est, level, "percentile")
    out = pd.DataFrame({v: x for v, x in zip(res.variables, xs)})
    out["prediction"] = est
    out["lower"] = lo
    out["upper"] = hi
    return out
