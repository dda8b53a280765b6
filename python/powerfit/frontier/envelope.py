"""The training-curve envelope (Approach 1): :func:`envelope`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import _check, _core
from .._data import as_table, column_names
from .._deprecate import renamed
from .._progress import Progress
from ..errors import InvalidDataError, InvalidOptionError
from ._columns import OLD_KEYWORDS, read, resolve
from ._inputs import (
    Settings,
    as_list,
    budget_list,
    check_run_sizes,
    group_codes,
    points_frame,
    run_codes,
    sort_by_group,
    take,
    take_optional,
    total_replicates,
)
from .results import EnvelopeResult


@renamed(
    {**OLD_KEYWORDS, "loss": "columns:loss", "flops_per_token": "flops_per_param_token"},
    positional=("size", "compute", "loss"),
)
def envelope(
    curves: Any,
    *,
    columns: Mapping[str, str] | None = None,
    run: str | Sequence[str] | None = None,
    by: str | Sequence[str] | None = None,
    grid: Sequence[float] | None = None,
    n_grid: int = 200,
    estimator: str = "argmin",
    n_boot: int = 1000,
    seed: int = 0,
    budgets: Sequence[float] | float | None = None,
    level: float = 0.95,
    window: int = 2,
    flops_per_param_token: float = 6.0,
    progress: bool | None = None,
) -> EnvelopeResult:
    """The training-curve envelope (Chinchilla's Approach 1): at each budget of a log-spaced
    grid, the lowest loss reached by any run with that much compute, the model size attaining
    it, and power laws N*(C) = k_N C^a, D*(C) = k_D C^b through those sizes.

    Every run's curve is interpolated linearly in (log C, log loss) between its checkpoints; a
    run covers the budgets between its first and last checkpoint. At a grid budget where the
    best size is the smallest or largest size covering it (early budgets, reached only by small
    models, and late ones, reached only by large ones) the envelope says nothing about the
    optimum: those budgets are dropped (``result.dropped``).

    Args:
        curves: training curves, one row per checkpoint (DataFrame, Arrow table or dict).
        columns: maps the variables to your columns, as in :func:`powerfit.fit`: N (the model
            size), C (the compute so far), loss (the observed loss) and, optionally, D (the
            tokens seen; used when mapped or when the table has a column D): D_opt is then the
            attaining run's token count at C, else C / (k N_opt). Replaces the old ``size=``,
            ``compute=``, ``loss=`` and ``tokens=``.
        run: column(s) identifying runs. Default: blocks of consecutive rows with the same size
            and increasing compute.
        by: column(s) defining groups analysed separately.
        grid: the budgets (default: ``n_grid`` log-spaced budgets over all checkpoints).
        estimator: ``"argmin"`` (the size of the run attaining the envelope, as Hoffmann et
            al.) or ``"parabola"`` (the vertex of the local parabola in log N over each size's
            lowest loss at the budget: continuous N*, better for coarse size ladders).
        n_boot: bootstrap replicates; each resamples whole runs with replacement.
        seed, budgets, level, window, flops_per_param_token, progress: as :func:`isoflop`.

    Returns:
        An :class:`EnvelopeResult`.
    """
    curves = as_table(curves)
    names = column_names(curves)
    cols = resolve(columns, names)
    C, N, L = (read(curves, cols, names, v) for v in ("C", "N", "loss"))
    assert C is not None and N is not None and L is not None
    T = read(curves, cols, names, "D")
    n = len(C)
    if n == 0:
        raise InvalidDataError("no rows to analyse")
    g_list: list[float] = []
    if grid is not None:
        g_list = budget_list(grid, "grid")
        if len(g_list) < 2:
            raise InvalidOptionError("grid needs at least 2 budgets")
    else:
        _check.count(n_grid, "n_grid", minimum=2)
    run_code, run_label = run_codes(curves, run, names, N, C)
    check_run_sizes(run_code, N, as_list(run, "run") or None, str(cols["N"]))
    by_cols = as_list(by)
    codes, keys, ids = group_codes(curves, by_cols, names, n)
    order, offsets = sort_by_group(codes, len(keys))
    preds = budget_list(budgets)
    rc = np.ascontiguousarray(run_code[order].astype(np.uint64))
    options = Settings(window, n_boot, seed, level, preds, flops_per_param_token, "runs")
    with Progress(total_replicates(n_boot, len(keys)), progress, "envelope", "replicate") as bar:
        table = _core.envelope(
            rc,
            take(C, order),
            take(N, order),
            take(L, order),
            take_optional(T, order),
            offsets,
            options=options,
            grid=g_list,
            n_grid=n_grid,
            estimator=estimator,
            ids=ids,
            progress=bar.callback,
        )
    runs = _runs_by_group(rc, run_label[order], offsets)
    points = points_frame(curves, by_cols, names, C, N, L, T, run=run_label)
    settings = dict(
        n_boot=n_boot, seed=seed, level=level, window=window, estimator=estimator,
        n_grid=n_grid if grid is None else len(g_list),
        flops_per_param_token=flops_per_param_token, budgets=preds, columns=cols,
    )  # fmt: skip
    result = EnvelopeResult(table, keys, points, settings, runs)
    result.warn_outside()
    return result


def _runs_by_group(codes: np.ndarray, labels: np.ndarray, offsets: np.ndarray) -> pd.DataFrame:
    """Every group's runs in order of first appearance (the core numbers them so): columns
    group, index (within the group) and run (the label)."""
    group = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    first = pd.DataFrame({"group": group, "code": codes, "run": labels}).drop_duplicates(
        ["group", "code"]
    )
    first["index"] = first.groupby("group").cumcount()
    return first[["group", "index", "run"]].reset_index(drop=True)
