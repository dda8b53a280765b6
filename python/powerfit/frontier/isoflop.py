"""IsoFLOP profiles (Approach 2): :func:`isoflop`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import _core
from .._data import as_table, column_names
from .._deprecate import renamed
from .._progress import Progress
from ..errors import InvalidDataError
from ._columns import OLD_KEYWORDS, read, resolve
from ._inputs import (
    Settings,
    as_list,
    budget_list,
    group_codes,
    points_frame,
    sort_by_group,
    take,
    take_optional,
    total_replicates,
)
from .results import IsoflopResult


@renamed(
    {**OLD_KEYWORDS, "loss": "columns:loss", "flops_per_token": "flops_per_param_token"},
    positional=("compute", "size", "loss", "tokens", "by", "n_boot", "seed", "budgets"),
)
def isoflop(
    data: Any,
    *,
    columns: Mapping[str, str] | None = None,
    by: str | Sequence[str] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    budgets: Sequence[float] | float | None = None,
    level: float = 0.95,
    window: int = 2,
    budget_rtol: float = 1e-3,
    flops_per_param_token: float = 6.0,
    progress: bool | None = None,
    resample: str = "runs",
) -> IsoflopResult:
    """IsoFLOP profiles (Chinchilla's Approach 2): the loss-minimising model size at each
    compute budget, and power laws N*(C) = k_N C^a, D*(C) = k_D C^b through the optima.

    Each budget's optimum is the vertex of a least-squares parabola of log loss in log N over
    the lowest point and up to ``window`` sampled sizes on each side (the same number on both
    sides, so that an asymmetric sampling of the profile does not pull the vertex); if that
    parabola is not convex or its vertex leaves the window, the three points around the lowest
    one are used. A budget whose lowest point is the smallest or largest sampled size has no
    located optimum and is dropped (``result.dropped`` lists them). Several rows of the same size
    at one budget (a hyperparameter sweep) count as one point, the lowest loss.

    Args:
        data: a pandas or polars DataFrame, a pyarrow Table or a dict of columns, one row per
            run (or per run and budget).
        columns: maps the variables to your columns, as in :func:`powerfit.fit`: C (the FLOP
            budget), N (the model size), loss (the observed loss) and, optionally, D (the
            tokens; used when mapped or when the table has a column D). With D, D_opt is
            interpolated at N_opt within each budget; without it D_opt = C / (k N_opt).
            Replaces the old ``compute=``, ``size=``, ``loss=`` and ``tokens=``.
        by: column(s) defining groups analysed separately (as in :func:`fit_groups`).
        n_boot: bootstrap replicates (0: none); replicate i of a group draws from its own
            random stream (seed, group keys, i), so results do not depend on threads.
        seed: the bootstrap seed.
        budgets: budgets C at which N*(C) and D*(C) are predicted with intervals.
        level: coverage of the percentile intervals.
        window: sampled sizes on each side of the lowest point in the parabola.
        budget_rtol: rows whose budgets agree within this relative tolerance share a budget.
        flops_per_param_token: k in C = k N D (FLOPs per parameter per token), for D_opt
            without a D column (formerly ``flops_per_token``).
        progress: a tqdm progress bar over replicates (default: when stderr is a terminal).
        resample: what a replicate resamples. ``"runs"`` (default): the rows within every
            budget, with replacement, then the whole analysis is repeated, so every budget's
            optimum gets an interval too. ``"budgets"``: the budgets with an optimum, each
            keeping its full-data optimum (a case bootstrap of the power-law regression).
            Use it when profiles are thin: resampling a profile of a few sizes leaves fewer
            distinct sizes, which can bias the re-located optima and shift the intervals of a
            and b; there are then no per-budget intervals (NaN).

    Returns:
        An :class:`IsoflopResult`.

    Raises:
        InvalidDataError: missing columns, or a non-positive or non-finite value (the message
            names the column and row).
        InvalidOptionError: bad options.
    """
    data = as_table(data)
    names = column_names(data)
    cols = resolve(columns, names)
    C, N, L = (read(data, cols, names, v) for v in ("C", "N", "loss"))
    assert C is not None and N is not None and L is not None
    T = read(data, cols, names, "D")
    n = len(C)
    if n == 0:
        raise InvalidDataError("no rows to analyse")
    by_cols = as_list(by)
    codes, keys, ids = group_codes(data, by_cols, names, n)
    order, offsets = sort_by_group(codes, len(keys))
    preds = budget_list(budgets)
    options = Settings(window, n_boot, seed, level, preds, flops_per_param_token, resample)
    with Progress(total_replicates(n_boot, len(keys)), progress, "isoflop", "replicate") as bar:
        table = _core.isoflop(
            take(C, order),
            take(N, order),
            take(L, order),
            take_optional(T, order),
            offsets,
            options=options,
            budget_rtol=budget_rtol,
            ids=ids,
            progress=bar.callback,
        )
    points = points_frame(data, by_cols, names, C, N, L, T)
    settings = dict(
        n_boot=n_boot, seed=seed, level=level, window=window, budget_rtol=budget_rtol,
        resample=resample,
        flops_per_param_token=flops_per_param_token, budgets=preds, columns=cols,
    )  # fmt: skip
    result = IsoflopResult(table, keys, points, settings)
    result.warn_outside()
    return result
