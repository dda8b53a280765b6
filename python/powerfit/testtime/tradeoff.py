"""Spending inference compute: a smaller model sampled k times against a larger one sampled
fewer times, at a fixed inference budget (about 2N FLOPs per processed token), and the total
cost (training plus inference) of reaching a target coverage, as ``inference_optimal`` does
for loss."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _check
from .._deprecate import renamed
from ..compute import Budget, plan
from ..errors import InvalidOptionError
from .coverage import CoverageResult

if TYPE_CHECKING:  # pragma: no cover
    from ..fit import FitResult


def _positive(name: str, v: Any, allow_zero: bool = False) -> float:
    ok = (
        isinstance(v, (int, float, np.integer, np.floating))
        and not isinstance(v, bool)
        and math.isfinite(v)
        and (v >= 0 if allow_zero else v > 0)
    )
    if not ok:
        raise InvalidOptionError(
            f"{name} must be a {'non-negative' if allow_zero else 'positive'} number, got {v!r}"
        )
    return float(v)


def _per_group(cov: CoverageResult, values: Any, name: str) -> np.ndarray:
    """One positive value per group from a mapping (group label or key value -> value), a
    sequence in group order, a scalar (one group), or the size column kept by the fit."""
    G = len(cov.labels)
    if values is None:
        if name == "N" and "N" in cov.groups.columns:
            out = cov.groups["N"].to_numpy(dtype=float)
        else:
            raise InvalidOptionError(
                f"give {name}= (a mapping from group to value, or one value per group)"
                + (" or fit_coverage(..., size=column)" if name == "N" else "")
            )
    elif isinstance(values, Mapping):
        keys = [cov.groups[k].tolist() for k in cov.by]
        out = np.empty(G)
        for g, label in enumerate(cov.labels):
            key = tuple(col[g] for col in keys)
            for cand in (label, key, key[0] if len(key) == 1 else None):
                if cand is not None and cand in values:
                    out[g] = float(values[cand])
                    break
            else:
                raise InvalidOptionError(f"{name}: no value for group '{label}'")
    else:
        out = _check.reals(values, name)
        if out.size == 1 and G > 1:
            raise InvalidOptionError(f"{name}: give one value per group ({G})")
        if out.shape != (G,):
            raise InvalidOptionError(f"{name}: expected {G} values, got {out.size}")
    if not np.all(np.isfinite(out) & (out > 0)):
        raise InvalidOptionError(f"{name} must be positive for every group, got {out.tolist()}")
    return np.asarray(out, dtype=float)


def _keys(cov: CoverageResult, repeat: int) -> dict[str, np.ndarray]:
    return {k: np.repeat(cov.groups[k].to_numpy(), repeat) for k in cov.by}


def sampling_tradeoff(
    coverage: CoverageResult,
    budgets: float | Sequence[float],
    *,
    tokens_per_sample: float,
    N: Any = None,
    prompt_tokens: float = 0.0,
    law: str = "beta",
    level: float | None = None,
) -> pd.DataFrame:
    """Which model to sample, and how often, at a fixed inference budget per problem.

    An attempt by a model of N parameters costs about 2 N FLOPs per processed token, so a
    budget of B FLOPs per problem buys k = floor(B / (2 N (tokens_per_sample +
    prompt_tokens))) attempts (the prompt is processed once per attempt: no prefix cache).
    pass@k comes from the fitted coverage law of each model, with bootstrap intervals.

    Args:
        coverage: per-model coverage fits (:func:`fit_coverage` with ``by=`` the model).
        budgets: inference FLOPs per problem.
        tokens_per_sample: generated tokens per attempt.
        N: model sizes: a mapping from group label to N, one value per group, or (default)
            the ``size=`` column given to :func:`fit_coverage`.
        prompt_tokens: prompt tokens processed per attempt.
        law: ``"beta"`` (the fitted distribution of success rates) or ``"power"``.
        level: interval coverage (default: the fit's).

    Returns:
        One row per (budget, model): the keys, ``budget_flops``, ``N``, ``flops_per_sample``,
        ``k`` (attempts affordable; 0 when not even one is), ``pass_at_k`` with ``lower`` and
        ``upper``, ``extrapolated`` (k beyond the attempts the fit saw) and ``best`` (the
        highest pass@k at that budget).
    """
    b = _check.reals(budgets, "budgets")
    if b.ndim != 1 or b.size == 0 or not np.all(np.isfinite(b) & (b > 0)):
        raise InvalidOptionError(f"budgets must be positive FLOPs, got {budgets!r}")
    T = _positive("tokens_per_sample", tokens_per_sample) + _positive(
        "prompt_tokens", prompt_tokens, allow_zero=True
    )
    n = _per_group(coverage, N, "N")
    per_sample = 2.0 * n * T  # (G,)
    k = np.floor(b[None, :] / per_sample[:, None])  # (G, B)
    kk = np.where(k >= 1, k, np.nan)
    est, lo, hi = coverage.evaluate(kk, law=law, level=level)
    G, B = k.shape
    best = np.zeros_like(est, dtype=bool)
    with np.errstate(all="ignore"):
        top = np.nanmax(np.where(np.isfinite(est), est, -np.inf), axis=0)
    best[:, :] = np.isfinite(est) & (est == top[None, :])
    minimum = coverage.groups["min_samples"].to_numpy()[:, None]
    frame = pd.DataFrame(
        {
            **_keys(coverage, B),
            "budget_flops": np.tile(b, G),
            "N": np.repeat(n, B),
            "flops_per_sample": np.repeat(per_sample, B),
            "k": k.astype(np.int64).ravel(),
            "pass_at_k": est.ravel(),
            "lower": lo.ravel(),
            "upper": hi.ravel(),
            "extrapolated": (k > minimum).ravel(),
            "best": best.ravel(),
        }
    )
    return frame.sort_values(["budget_flops", "N"], kind="stable").reset_index(drop=True)


def _train_tokens(train: FitResult, n: np.ndarray, k_train: float) -> np.ndarray:
    """Compute-optimal training tokens for models of sizes `n` under a fitted law, by
    inverting its compute-optimal N*(C) over a grid of budgets."""
    grid = np.geomspace(1e12, 1e32, 801)
    tab = train.compute_optimal(grid, k_train)
    ln_n, ln_d = np.log(tab["N_opt"].to_numpy()), np.log(tab["D_opt"].to_numpy())
    if np.any(np.diff(ln_n) <= 0):
        raise InvalidOptionError("the training law's compute-optimal N*(C) is not increasing")
    out_of_range = (np.log(n) < ln_n[0]) | (np.log(n) > ln_n[-1])
    if out_of_range.any():
        raise InvalidOptionError(
            f"model size {n[out_of_range][0]:.3g} is outside the training law's "
            f"compute-optimal range for budgets 1e12..1e32 FLOPs"
        )
    return np.asarray(np.exp(np.interp(np.log(n), ln_n, ln_d)), dtype=float)


@renamed({"k_train": "flops_per_param_token"})
def sampling_cost(
    coverage: CoverageResult,
    target: float,
    *,
    tokens_per_sample: float,
    n_queries: float,
    N: Any = None,
    D: Any = None,
    train: FitResult | None = None,
    flops_per_param_token: float = 6.0,
    prompt_tokens: float = 0.0,
    law: str = "beta",
    level: float | None = None,
    hardware: Budget | None = None,
) -> pd.DataFrame:
    """Total cost of reaching a target coverage with each model: training plus serving
    ``n_queries`` problems with as many attempts as the model needs.

    The attempts a model needs are the fitted law's k at ``target`` (rounded up); inference
    costs n_queries x k x 2 N (tokens_per_sample + prompt_tokens) FLOPs, training
    flops_per_param_token x N D.
    This is the sampling counterpart of ``FitResult.inference_optimal``: a smaller, cheaper
    model sampled several times against a larger one sampled once.

    Args:
        coverage: per-model coverage fits.
        target: the pass@k to reach, in (0, 1).
        tokens_per_sample, prompt_tokens: tokens per attempt.
        n_queries: problems served over the model's life.
        N: model sizes (as for :func:`sampling_tradeoff`).
        D: training tokens per model (mapping or one per group); or
        train: a fitted training law (``pf.fit(..., law="chinchilla")``): each model is taken
            as trained compute-optimally, D = D*(N) from the law.
        flops_per_param_token: training FLOPs per parameter per token (formerly ``k_train``).
        law: ``"beta"`` or ``"power"``.
        level: interval coverage (default: the fit's).
        hardware: a :class:`~powerfit.Budget` whose accelerator, MFU and price add
            accelerator-hours and money for every FLOPs column (and the share of the budget).

    Returns:
        One row per model: keys, ``N``, ``D``, ``k`` (attempts, with ``k_lower`` and
        ``k_upper``), ``train_flops``, ``inference_flops`` (with bounds), ``total_flops``
        (with bounds), ``cheapest`` and ``saving_vs_largest`` (share of the largest model's
        total saved; negative when it costs more).
    """
    t = _positive("target", target)
    if not t < 1.0:
        raise InvalidOptionError(f"target pass@k must be in (0, 1), got {target!r}")
    T = _positive("tokens_per_sample", tokens_per_sample) + _positive(
        "prompt_tokens", prompt_tokens, allow_zero=True
    )
    q = _positive("n_queries", n_queries, allow_zero=True)
    kt = _positive("flops_per_param_token", flops_per_param_token)
    n = _per_group(coverage, N, "N")
    if D is not None and train is not None:
        raise InvalidOptionError("give D= or train=, not both")
    if train is not None:
        d = _train_tokens(train, n, kt)
    elif D is not None:
        d = _per_group(coverage, D, "D")
    else:
        d = np.full(n.shape, np.nan)
    kf = coverage.k_for(t, law=law, level=level)
    k = np.ceil(kf["k"].to_numpy())
    klo, khi = np.ceil(kf["lower"].to_numpy()), np.ceil(kf["upper"].to_numpy())
    per_query = 2.0 * n * T
    train_flops = kt * n * d
    inf, inf_lo, inf_hi = q * k * per_query, q * klo * per_query, q * khi * per_query
    total = np.where(np.isnan(train_flops), 0.0, train_flops) + inf
    out = pd.DataFrame(
        {
            **_keys(coverage, 1),
            "N": n,
            "D": d,
            "target": t,
            "k": k,
            "k_lower": klo,
            "k_upper": khi,
            "train_flops": train_flops,
            "inference_flops": inf,
            "inference_flops_lower": inf_lo,
            "inference_flops_upper": inf_hi,
            "total_flops": total,
            "total_flops_lower": total - inf + inf_lo,
            "total_flops_upper": total - inf + inf_hi,
        }
    )
    finite = np.isfinite(total)
    out["cheapest"] = finite & (total == np.min(np.where(finite, total, np.inf)))
    largest = int(np.argmax(n))
    out["saving_vs_largest"] = 1.0 - total / total[largest]
    if hardware is not None:
        if not isinstance(hardware, Budget):
            raise InvalidOptionError(f"hardware must be a powerfit.Budget, got {hardware!r}")
        if hardware.has_hardware:
            out = plan(out, hardware, columns=["train_flops", "inference_flops", "total_flops"])
    return out.sort_values("N", kind="stable").reset_index(drop=True)
