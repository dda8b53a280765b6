"""The three approaches side by side: :func:`compare_approaches`."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import _check, _core, _display
from .._data import as_table, column_names
from .._deprecate import renamed, warn
from ..analysis import nd_index
from ..bootstrap import BootstrapResult
from ..errors import InvalidDataError, InvalidOptionError
from ..fit import FitResult, fit
from ._columns import OLD_KEYWORDS, read, resolve
from ._inputs import as_list, budget_list, check_run_sizes, run_codes
from .envelope import envelope
from .isoflop import isoflop
from .results import EnvelopeResult, IsoflopResult

#: Most IsoFLOP slices cut from training curves: each is one budget's profile, and far fewer
#: resolve the frontier (the budgets are log-spaced over the covered range).
MAX_SLICES = 100_000


class ApproachComparison:
    """The outcome of :func:`compare_approaches`. Read-only.

    Attributes:
        table: one row per (approach, budget): a, b with intervals, N_opt and D_opt at the
            budget with intervals. Approaches: ``1 envelope``, ``2 isoflop``,
            ``3 parametric``.
        envelope, isoflop: the :class:`EnvelopeResult` and :class:`IsoflopResult`.
        parametric: the :class:`~powerfit.FitResult` of Approach 3; ``parametric_bootstrap`` its
            :class:`~powerfit.BootstrapResult` (None with ``n_boot=0``).
        budgets: the budgets of the table.
    """

    def __init__(
        self,
        table: pd.DataFrame,
        env: EnvelopeResult,
        iso: IsoflopResult,
        par: FitResult,
        boot: BootstrapResult | None,
        budgets: list[float],
        notes: list[str],
    ) -> None:
        self.table = table
        self.envelope = env
        self.isoflop = iso
        self.parametric = par
        self.parametric_bootstrap = boot
        self.budgets = budgets
        self.notes = notes

    def wide(self) -> pd.DataFrame:
        """One row per approach: a, b with intervals, and N*, D* at each budget."""
        out = []
        for name, g in self.table.groupby("approach", sort=False):
            row: dict[str, Any] = {"approach": name}
            first = g.iloc[0]
            for k in ("a", "a_lower", "a_upper", "b", "b_lower", "b_upper"):
                row[k] = first[k]
            for _, r in g.iterrows():
                tag = f"C={r['C']:.3g}"
                for k in ("N_opt", "N_opt_lower", "N_opt_upper", "D_opt", "D_opt_lower",
                          "D_opt_upper"):  # fmt: skip
                    row[f"{k}({tag})"] = r[k]
            out.append(row)
        return pd.DataFrame(out)

    def summary(self) -> str:
        """The table as text, with the settings of each approach."""
        lines = ["=" * 78, "The compute-optimal frontier by three approaches", "=" * 78]
        lines += self.notes
        lines.append("-" * 78)
        t = self.table.copy()
        with pd.option_context("display.width", 200, "display.max_columns", 30):
            lines.append(t.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        lines.append("=" * 78)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return _display.comparison_text(self)

    def _repr_html_(self) -> str:
        return _display.comparison_html(self)


def _old_loss_names(func: Callable[..., ApproachComparison]) -> Callable[..., ApproachComparison]:
    """Before ``loss=`` named the objective here it named the loss column, and the objective
    was ``parametric_loss=``: calls in the old words keep working, with a warning."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> ApproachComparison:
        loss = kwargs.get("loss")
        old_column = "parametric_loss" in kwargs and "loss" in kwargs
        if not old_column and isinstance(loss, str) and loss not in _core.LOSSES:
            data = args[0] if args else kwargs.get("data")
            old_column = loss in column_names(as_table(data))
        if old_column:
            kwargs["columns"] = {**(kwargs.get("columns") or {}), "loss": kwargs.pop("loss")}
            warn(
                "compare_approaches(): loss= names the objective now; map the loss column "
                f"with columns={{'loss': {loss!r}}}",
                3,
            )
        if "parametric_loss" in kwargs:
            kwargs["loss"] = kwargs.pop("parametric_loss")
            use = f"loss={kwargs['loss']!r}"
            warn(f"compare_approaches(): parametric_loss= is deprecated; use {use}", 3)
        return func(*args, **kwargs)

    return wrapper


@renamed({**OLD_KEYWORDS, "flops_per_token": "flops_per_param_token"})
@_old_loss_names
def compare_approaches(
    data: Any,
    budgets: Sequence[float] | float,
    *,
    columns: Mapping[str, str] | None = None,
    run: str | Sequence[str] | None = None,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
    window: int = 2,
    estimator: str = "argmin",
    n_grid: int = 200,
    n_slices: int = 12,
    law: str = "chinchilla",
    loss: str = "huber_log",
    delta: float = 1e-3,
    parametric_points: str = "final",
    flops_per_param_token: float = 6.0,
) -> ApproachComparison:
    """Approaches 1, 2 and 3 of Hoffmann et al. (2022) on the same data, side by side.

    - Approach 1, the envelope (:func:`envelope`): the size attaining the lowest loss at each
      budget. With training curves (``run`` given) on a log-spaced grid; with one row per run
      (IsoFLOP data, ``run=None``) at the sampled budgets, where it is the best sampled size.
    - Approach 2, IsoFLOP profiles (:func:`isoflop`). Training curves are first cut into
      profiles at ``n_slices`` log-spaced budgets covered by at least three sizes (each run's
      loss interpolated there).
    - Approach 3, a parametric fit (``pf.fit(law=law, loss=loss)``) of L(N, D), with
      D from the tokens column (else C / (k N), k = ``flops_per_param_token``), and its
      closed-form frontier a = beta/(alpha+beta), N_opt(C) = G (C/k)^a. With curves it is
      fitted to each run's final checkpoint (``parametric_points="final"``, the clean
      points: a checkpoint in the middle of a run has not finished its learning-rate
      schedule) or to all rows (``"all"``).

    Args:
        data: IsoFLOP points (one row per run) or training curves (with ``run``).
        budgets: budgets C at which N_opt and D_opt are compared.
        columns: maps C, N, loss and (optionally) D to your columns, as in
            :func:`isoflop` (replaces ``compute=``, ``size=``, ``tokens=`` and the old
            ``loss=`` column name).
        run: column(s) identifying the runs of training curves; None: every row is a run.
        n_boot: bootstrap replicates of each approach (runs resampled; for Approach 3 a case
            bootstrap of the fit).
        seed, level, window, estimator, n_grid, flops_per_param_token: as :func:`envelope`
            and :func:`isoflop`.
        n_slices: IsoFLOP budgets cut from training curves.
        law, loss, delta: the parametric fit of Approach 3: a law with N and D terms
            (``chinchilla``) and the objective (formerly ``parametric_loss``).

    Returns:
        An :class:`ApproachComparison` (``.table``, ``.wide()``, ``.summary()``).
    """
    data = as_table(data)
    preds = budget_list(budgets)
    if not preds:
        raise InvalidOptionError("compare_approaches needs at least one budget")
    parametric_points = _check.name(parametric_points, "parametric_points")
    n_boot = _check.count(n_boot, "n_boot")
    seed = _check.count(seed, "seed")
    if parametric_points not in ("final", "all"):
        raise InvalidOptionError(
            f"parametric_points must be 'final' or 'all', got {parametric_points!r}"
        )
    n_slices = _check.count(n_slices, "n_slices", minimum=2, maximum=MAX_SLICES)
    names = column_names(data)
    cols = resolve(columns, names)
    C, N, L = (read(data, cols, names, v) for v in ("C", "N", "loss"))
    assert C is not None and N is not None and L is not None
    T = read(data, cols, names, "D")
    k = flops_per_param_token
    common: dict[str, Any] = dict(
        n_boot=n_boot, seed=seed, budgets=preds, level=level, window=window,
        flops_per_param_token=k, progress=False,
    )  # fmt: skip
    frame: dict[str, Any] = {"C": C, "N": N, "loss": L}
    if T is not None:
        frame["D"] = T
    notes: list[str] = []
    if run is None:
        pts = pd.DataFrame(frame)
        pts["_run"] = np.arange(len(pts))
        grid = np.unique(C)
        env = envelope(pts, run="_run", grid=list(grid), estimator=estimator, **common)
        iso = isoflop(pts, **common)
        par_rows = pts
        notes.append(
            f"data: {len(pts)} IsoFLOP points (one per run) at {len(grid)} budgets; "
            f"Approach 1 = the best sampled size per budget ({estimator})"
        )
    else:
        run_code, run_label = run_codes(data, run, names, N, C)
        check_run_sizes(run_code, N, as_list(run, "run"), str(cols["N"]))
        curves = pd.DataFrame(frame)
        curves["_run"] = run_code
        env = envelope(curves, run="_run", n_grid=n_grid, estimator=estimator, **common)
        opt = env.optima
        covered = opt.loc[opt["n_sizes"] >= 3, "C"].to_numpy()
        if covered.size == 0:
            raise InvalidDataError(
                "no budget is covered by three or more model sizes: the curves cannot form "
                "IsoFLOP profiles"
            )
        slice_c = np.geomspace(covered.min(), covered.max(), int(n_slices))
        sl = _core.slice_runs(
            np.ascontiguousarray(run_code.astype(np.uint64)), C, N, L, T, list(slice_c)
        )
        prof = {"C": sl["C"], "N": sl["N"], "loss": sl["loss"]}
        if T is not None:
            prof["D"] = sl["tokens"]
        iso = isoflop(pd.DataFrame(prof), **common)
        last = pd.Series(C).groupby(run_code).transform("max").to_numpy() == C
        par_rows = curves.loc[last] if parametric_points == "final" else curves
        notes.append(
            f"data: {len(curves)} checkpoints of {len(np.unique(run_code))} runs; Approach 1 on "
            f"{env.settings['n_grid']} log-spaced budgets ({estimator}); Approach 2 on "
            f"{int(n_slices)} IsoFLOP slices from {slice_c[0]:.3g} to {slice_c[-1]:.3g}"
        )
    D = (
        par_rows["D"].to_numpy()
        if T is not None
        else par_rows["C"].to_numpy() / (k * par_rows["N"].to_numpy())
    )
    if T is None and not (np.isfinite(D).all() and (D > 0).all()):
        raise InvalidOptionError(
            f"flops_per_param_token={flops_per_param_token!r} gives token counts D = C / "
            f"(flops_per_param_token N) that are not positive finite numbers"
        )
    par = fit({"N": par_rows["N"].to_numpy(), "D": D, "loss": par_rows["loss"].to_numpy()},
               law=law, loss=loss, delta=delta, warn=False)  # fmt: skip
    idx = nd_index(par)
    if idx is None:
        raise InvalidOptionError(
            f"Approach 3 needs a law with one N and one D term (chinchilla), not '{law}'"
        )
    final = run is not None and parametric_points == "final"
    notes.append(
        f"Approach 3: pf.fit(law={law!r}, loss={loss!r}) on {par.n_points} points "
        f"({'final checkpoints' if final else 'all rows'}"
        f"); status {par.status}; C = {k:g} N D"
    )
    dnames, dvals = _core.derived(par.values[None, :], idx, preds, float(k))
    est = dict(zip(dnames, dvals[0]))
    boot = None
    bounds: dict[str, tuple[float, float]] = {}
    if int(n_boot) > 0:
        boot = par.bootstrap(int(n_boot), seed=int(seed), progress=False)
        ci = boot.ci(level=level, budgets=preds, flops_per_param_token=float(k))
        bounds = {
            str(p): (float(lo), float(hi))
            for p, lo, hi in zip(ci["parameter"], ci["lower"], ci["upper"])
        }
    nan2 = (math.nan, math.nan)
    rows = []
    for name, res in (("1 envelope", env), ("2 isoflop", iso)):
        r = res.group_values(0)
        p = res.predictions
        for k, c in enumerate(preds):
            rows.append(
                dict(
                    approach=name,
                    C=c,
                    a=r["a"],
                    a_lower=r["a_lower"],
                    a_upper=r["a_upper"],
                    b=r["b"],
                    b_lower=r["b_lower"],
                    b_upper=r["b_upper"],
                    N_opt=p["N_opt"].iloc[k],
                    N_opt_lower=p["N_opt_lower"].iloc[k],
                    N_opt_upper=p["N_opt_upper"].iloc[k],
                    D_opt=p["D_opt"].iloc[k],
                    D_opt_lower=p["D_opt_lower"].iloc[k],
                    D_opt_upper=p["D_opt_upper"].iloc[k],
                )  # fmt: skip
            )
    for j, c in enumerate(preds):
        # the core's layout: a, b, eta, G, then N_opt, D_opt, D_opt/N_opt, L_opt per budget
        nkey, dkey = dnames[4 + 4 * j], dnames[5 + 4 * j]
        rows.append(
            dict(
                approach="3 parametric",
                C=c,
                a=est["a"],
                a_lower=bounds.get("a", nan2)[0],
                a_upper=bounds.get("a", nan2)[1],
                b=est["b"],
                b_lower=bounds.get("b", nan2)[0],
                b_upper=bounds.get("b", nan2)[1],
                N_opt=est[nkey],
                N_opt_lower=bounds.get(nkey, nan2)[0],
                N_opt_upper=bounds.get(nkey, nan2)[1],
                D_opt=est[dkey],
                D_opt_lower=bounds.get(dkey, nan2)[0],
                D_opt_upper=bounds.get(dkey, nan2)[1],
            )  # fmt: skip
        )
    table = pd.DataFrame(rows)
    notes.append(
        f"intervals: {level:.0%} percentile, {int(n_boot)} bootstrap replicates (seed {seed})"
        if n_boot
        else "no bootstrap (n_boot=0): no intervals"
    )
    return ApproachComparison(table, env, iso, par, boot, preds, notes)
