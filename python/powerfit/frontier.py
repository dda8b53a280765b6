"""The compute-optimal frontier straight from runs: IsoFLOP profiles, the training-curve
envelope, and the three approaches of Hoffmann et al. (2022) side by side.

>>> import powerfit as pf
>>> iso = pf.isoflop(pf.datasets.porian2024(), compute="flops", size="n", tokens="t",
...                  by=["dataset", "hparams", "warmup", "decay", "param_count", "val"])
>>> iso.table[["dataset", "hparams", "a", "a_lower", "a_upper"]]        # doctest: +SKIP

- :func:`isoflop` (Approach 2): at each FLOP budget, the minimum of log loss over log model size,
  located by a local parabola around the lowest sampled point; budgets whose lowest point is the
  smallest or largest sampled size are dropped (and listed). N*(C) = k_N C^a and
  D*(C) = k_D C^b are then fitted by least squares in log-log.
- :func:`envelope` (Approach 1): from training curves, the lowest loss of any run at each budget
  of a log-spaced grid, and the model size attaining it; the same power-law fits.
- :func:`compare_approaches`: Approaches 1, 2 and 3 (a parametric ``pf.fit``) on the same data,
  a, b, N*(C) and D*(C) at given budgets with bootstrap intervals, in one table.
- :func:`plot_isoflop`, :func:`plot_envelope`: the figures.

All numerics (optima, fits, bootstrap replicates, intervals) run in the Rust core with the GIL
released; this module converts and validates the data and builds the tables.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _core
from ._data import as_float_array, column_names, get_column
from .analysis import nd_index
from .errors import InvalidDataError, InvalidOptionError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from .bootstrap import BootstrapResult
    from .fit import FitResult  # noqa: F401

__all__ = [
    "isoflop",
    "envelope",
    "compare_approaches",
    "IsoflopResult",
    "EnvelopeResult",
    "ApproachComparison",
    "plot_isoflop",
    "plot_envelope",
]

#: Names of a budget's status, by code (``ok``: an interior optimum was located).
STATUS_NAMES: tuple[str, ...] = tuple(_core.BUDGET_STATUS_NAMES)
ESTIMATORS = ("argmin", "parabola")
RESAMPLE = ("runs", "budgets")  # what an IsoFLOP bootstrap replicate resamples
STATUS_HELP = {
    "ok": "interior optimum",
    "edge_low": "lowest loss at the smallest sampled size",
    "edge_high": "lowest loss at the largest sampled size",
    "too_few_sizes": "fewer than 3 distinct sizes",
    "not_convex": "the local parabola is not convex",
}


# --------------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------------


def _positive(data: Any, name: str, names: list[str], role: str) -> np.ndarray:
    """A float64 column that must be positive and finite, or InvalidDataError naming the
    column and the first bad row."""
    if not isinstance(name, str):
        raise InvalidOptionError(f"{role} must be a column name, got {name!r}")
    if name not in names:
        raise InvalidDataError(
            f"column '{name}' (given as {role}=) is not in the data; columns are {names}"
        )
    v = as_float_array(get_column(data, name), name)
    bad = np.flatnonzero(~(np.isfinite(v) & (v > 0)))
    if bad.size:
        row = int(bad[0])
        raise InvalidDataError(
            f"column '{name}' has an invalid value {v[row]} at row {row}: {role} must be "
            "positive and finite"
        )
    return v


def _key_frame(data: Any, cols: Sequence[str], names: list[str], what: str) -> pd.DataFrame:
    missing = [c for c in cols if c not in names]
    if missing:
        raise InvalidDataError(
            f"{what} column(s) {missing} not in the data; columns are {names}"
        )
    return pd.DataFrame({c: np.asarray(get_column(data, c)) for c in cols})


def _as_list(cols: str | Sequence[str] | None) -> list[str]:
    if cols is None:
        return []
    if isinstance(cols, str):
        return [cols]
    return [str(c) for c in cols]


def _groups(
    data: Any, by: list[str], names: list[str], n: int
) -> tuple[np.ndarray, pd.DataFrame, np.ndarray | None]:
    """(group code per row in key order, one row of key values per group, group seeds' ids)."""
    if not by:
        return np.zeros(n, dtype=np.int64), pd.DataFrame(index=range(1)), None
    kdf = _key_frame(data, by, names, "by")
    codes = kdf.groupby(by, sort=True, dropna=False).ngroup().to_numpy(dtype=np.int64)
    _, first = np.unique(codes, return_index=True)
    keys = kdf.iloc[first].reset_index(drop=True)
    ids = pd.util.hash_pandas_object(keys, index=False).to_numpy(dtype=np.uint64)
    return codes, keys, np.ascontiguousarray(ids)


def _sorted(codes: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Row order (stable, by group) and the group offsets."""
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=n_groups)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return order, offsets


def _take(v: np.ndarray, order: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(v[order])


def _take_opt(v: np.ndarray | None, order: np.ndarray) -> np.ndarray | None:
    return None if v is None else np.ascontiguousarray(v[order])


def _budgets(budgets: Any) -> list[float]:
    if budgets is None:
        return []
    vals = [float(c) for c in np.atleast_1d(np.asarray(budgets, dtype=float))]
    for c in vals:
        if not (math.isfinite(c) and c > 0):
            raise InvalidOptionError(f"budgets must be positive and finite, got {c}")
    return vals


def _check_common(n_boot: int, level: float, window: int, seed: int) -> None:
    if int(n_boot) < 0:
        raise InvalidOptionError(f"n_boot must be >= 0, got {n_boot}")
    if not 0.0 < float(level) < 1.0:
        raise InvalidOptionError(f"level must be in (0, 1), got {level}")
    if int(window) < 1:
        raise InvalidOptionError(
            f"window must be >= 1 (sizes on each side of the lowest point), got {window}"
        )
    if int(seed) < 0:
        raise InvalidOptionError(f"seed must be a non-negative integer, got {seed}")


def _progress(total: int, progress: bool | None, desc: str) -> Any:
    if progress is False or total == 0:
        return None
    import sys

    if progress is None and not sys.stderr.isatty():
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="replicate", desc=desc, leave=False)


def _ticker(bar: Any) -> Any:
    if bar is None:
        return None
    last = [0]

    def tick(done: int) -> None:
        bar.update(done - last[0])
        last[0] = done

    return tick


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


def _group_label(keys: pd.DataFrame, g: int) -> str:
    if keys.shape[1] == 0:
        return "all rows"
    return ", ".join(f"{c}={keys.iloc[g][c]}" for c in keys.columns)


class _FrontierResult:
    """Shared parts of :class:`IsoflopResult` and :class:`EnvelopeResult`."""

    _kind = ""

    def __init__(
        self,
        raw: list[dict[str, Any]],
        keys: pd.DataFrame,
        points: pd.DataFrame,
        settings: dict[str, Any],
    ) -> None:
        self._raw = raw
        self._keys = keys
        self.points = points
        self.settings = dict(settings)
        self.n_boot = int(settings["n_boot"])
        self.seed = int(settings["seed"])
        self.level = float(settings["level"])
        self.by = list(keys.columns)
        self._table: pd.DataFrame | None = None
        self._optima: pd.DataFrame | None = None
        self._predictions: pd.DataFrame | None = None

    # --- tables (built on first use) --------------------------------------------------------
    @property
    def table(self) -> pd.DataFrame:
        """One row per group: a and b with intervals, k_N, k_D, R², budgets used/dropped."""
        if self._table is None:
            self._table = self._build_table()
        return self._table.copy()

    @property
    def optima(self) -> pd.DataFrame:
        """One row per (group, budget): the optimum, its bootstrap bounds and status."""
        if self._optima is None:
            self._optima = self._build_optima()
        return self._optima.copy()

    @property
    def predictions(self) -> pd.DataFrame:
        """N*(C) and D*(C) with bounds at the budgets given to the analysis."""
        if self._predictions is None:
            self._predictions = self._build_predictions()
        return self._predictions.copy()

    def _stack(self, counts: list[int], frame: dict[str, Any]) -> pd.DataFrame:
        """A frame of the groups' key values (group g repeated counts[g] times) and ``frame``."""
        rep = np.repeat(np.arange(len(counts)), counts)
        out = self._keys.iloc[rep].reset_index(drop=True) if self.by else pd.DataFrame()
        add = pd.DataFrame(frame)
        if not self.by:
            return add
        return pd.concat([out, add], axis=1)

    def _cat(self, key: str, sub: str | None = None) -> np.ndarray:
        parts = [np.asarray(r[key] if sub is None else r[key][sub]) for r in self._raw]
        return np.concatenate(parts) if parts else np.empty(0)

    def _build_table(self) -> pd.DataFrame:
        raw = self._raw
        col = lambda k: np.array([float(r[k]) for r in raw])  # noqa: E731
        status = [np.asarray(r["status"]) for r in raw]
        frame = {
            "a": col("a"),
            "a_lower": col("a_lower"),
            "a_upper": col("a_upper"),
            "b": col("b"),
            "b_lower": col("b_lower"),
            "b_upper": col("b_upper"),
            "k_N": np.exp(col("log_k_N")),
            "k_D": np.exp(col("log_k_D")),
            "r2_N": col("r2_N"),
            "r2_D": col("r2_D"),
            "n_budgets": np.array([len(s) for s in status], dtype=np.int64),
            "n_used": np.array([int(r["n_used"]) for r in raw], dtype=np.int64),
            "n_dropped": np.array([int((s != 0).sum()) for s in status], dtype=np.int64),
            "n_boot": np.full(len(raw), self.n_boot, dtype=np.int64),
            "n_boot_ok": np.array([int(r["n_boot_ok"]) for r in raw], dtype=np.int64),
        }
        return self._stack([1] * len(raw), frame)

    def _optima_columns(self) -> dict[str, Any]:
        return {}

    def _build_optima(self) -> pd.DataFrame:
        names = np.asarray(STATUS_NAMES, dtype=object)
        frame: dict[str, Any] = {
            "C": self._cat("C"),
            "n_points": self._cat("n_points"),
            "n_sizes": self._cat("n_sizes"),
            "status": names[self._cat("status").astype(np.int64)],
        }
        for k in ("N_opt", "N_opt_lower", "N_opt_upper", "D_opt", "D_opt_lower",
                  "D_opt_upper", "L_opt"):  # fmt: skip
            frame[k] = self._cat(k)
        frame.update(self._optima_columns())
        frame["n_boot_ok"] = self._cat("budget_n_boot_ok")
        return self._stack([len(r["C"]) for r in self._raw], frame)

    def _build_predictions(self) -> pd.DataFrame:
        frame = {
            k: self._cat("predictions", k)
            for k in ("C", "N_opt", "N_opt_lower", "N_opt_upper", "D_opt", "D_opt_lower",
                      "D_opt_upper")  # fmt: skip
        }
        return self._stack([len(r["predictions"]["C"]) for r in self._raw], frame)

    # --- accessors ------------------------------------------------------------------------
    @property
    def n_groups(self) -> int:
        """Number of groups (1 without ``by``)."""
        return len(self._raw)

    def _single(self, what: str) -> dict[str, Any]:
        if len(self._raw) != 1:
            raise InvalidOptionError(
                f"'{what}' is defined for one group; this result has {len(self._raw)} groups: "
                "read the column of .table instead"
            )
        return self._raw[0]

    @property
    def a(self) -> float:
        """Exponent of N*(C) = k_N C^a (one group only; see ``.table`` for several)."""
        return float(self._single("a")["a"])

    @property
    def b(self) -> float:
        """Exponent of D*(C) = k_D C^b (one group only)."""
        return float(self._single("b")["b"])

    @property
    def dropped(self) -> pd.DataFrame:
        """Budgets without a located optimum, with the reason (``status``)."""
        cols = [*self.by, "C", "n_points", "n_sizes", "status"]
        d = self.optima.loc[self.optima["status"] != "ok", cols]
        return d.reset_index(drop=True)

    @property
    def samples(self) -> pd.DataFrame:
        """Bootstrap replicates: group keys, replicate, a, k_N, b, k_D (NaN where a replicate
        had fewer than two budgets with an optimum)."""
        mats = [np.asarray(r["samples"]).reshape(-1, 4) for r in self._raw]
        s = np.concatenate(mats) if mats else np.empty((0, 4))
        frame = {
            "replicate": np.concatenate([np.arange(m.shape[0]) for m in mats]),
            "a": s[:, 0],
            "k_N": np.exp(s[:, 1]),
            "b": s[:, 2],
            "k_D": np.exp(s[:, 3]),
        }
        return self._stack([m.shape[0] for m in mats], frame)

    def predict(self, C: Any, group: int = 0) -> pd.DataFrame:
        """N*(C) and D*(C) from the fitted power laws at budgets ``C`` (point estimates; the
        intervals are in ``.predictions`` for the budgets given to the analysis)."""
        c = np.atleast_1d(np.asarray(C, dtype=float))
        if not (np.isfinite(c).all() and (c > 0).all()):
            raise InvalidOptionError("budgets C must be positive and finite")
        r = self._raw[group]
        return pd.DataFrame(
            {
                "C": c,
                "N_opt": np.exp(r["log_k_N"] + r["a"] * np.log(c)),
                "D_opt": np.exp(r["log_k_D"] + r["b"] * np.log(c)),
            }
        )

    # --- text -----------------------------------------------------------------------------
    def _header(self) -> list[str]:
        return []

    def summary(self) -> str:
        """A text report: the method, per group the exponents with intervals and the dropped
        budgets, and the predictions."""
        lvl = f"{self.level:.0%}"
        lines = ["=" * 78, *self._header()]
        boot = (
            f"{self.n_boot} bootstrap replicates (seed {self.seed}), {lvl} percentile intervals"
            if self.n_boot
            else "no bootstrap (n_boot=0): no intervals"
        )
        lines.append(boot)
        lines.append("fits: N*(C) = k_N C^a and D*(C) = k_D C^b, least squares in log-log")
        lines.append("=" * 78)
        for g, r in enumerate(self._raw):
            status = np.asarray(r["status"])
            lines.append(f"[{_group_label(self._keys, g)}]")
            lines.append(
                f"  a = {r['a']:.4f}  ({r['a_lower']:.4f}, {r['a_upper']:.4f})   "
                f"k_N = {math.exp(r['log_k_N']):.4g}   R² = {r['r2_N']:.4f}"
            )
            lines.append(
                f"  b = {r['b']:.4f}  ({r['b_lower']:.4f}, {r['b_upper']:.4f})   "
                f"k_D = {math.exp(r['log_k_D']):.4g}   R² = {r['r2_D']:.4f}"
            )
            if self.n_boot:
                s = np.asarray(r["samples"])[:, 0]
                s = s[np.isfinite(s)]
                if s.size:
                    lines.append(
                        f"  bootstrap: {int(r['n_boot_ok'])}/{self.n_boot} replicates with a "
                        f"fit; median a {np.median(s):.4f}, sd {s.std(ddof=1) if s.size > 1 else math.nan:.4f}"
                    )
            lines.append(f"  budgets used: {int(r['n_used'])} of {len(status)}")
            bad = np.flatnonzero(status != 0)
            if bad.size:
                kinds: dict[str, list[str]] = {}
                for k in bad:
                    kinds.setdefault(STATUS_NAMES[int(status[k])], []).append(
                        f"{r['C'][k]:.3g}"
                    )
                for name, cs in kinds.items():
                    shown = ", ".join(cs[:8]) + (f", ... ({len(cs)} in all)" if len(cs) > 8 else "")
                    lines.append(f"  dropped ({STATUS_HELP[name]}): C = {shown}")
            p = r["predictions"]
            for j in range(len(p["C"])):
                lines.append(
                    f"  C = {p['C'][j]:.3g}: N* = {p['N_opt'][j]:.4g} ({p['N_opt_lower'][j]:.4g}, "
                    f"{p['N_opt_upper'][j]:.4g}); D* = {p['D_opt'][j]:.4g} "
                    f"({p['D_opt_lower'][j]:.4g}, {p['D_opt_upper'][j]:.4g})"
                )
        lines.append("=" * 78)
        return "\n".join(lines)

    def __repr__(self) -> str:
        if len(self._raw) == 1:
            r = self._raw[0]
            return (
                f"<{type(self).__name__}: a={r['a']:.4f}, b={r['b']:.4f}; "
                f"{int(r['n_used'])}/{len(r['C'])} budgets used>"
            )
        return f"<{type(self).__name__}: {len(self._raw)} groups>"


class IsoflopResult(_FrontierResult):
    """The outcome of :func:`isoflop`. Read-only.

    Attributes:
        table: one row per group: a, b with their intervals (``a_lower``, ``a_upper``, ...),
            the coefficients k_N, k_D, R² of the log-log fits, budgets used and dropped, and
            the bootstrap replicates that produced a fit.
        optima: one row per (group, budget): the located optimum N_opt, D_opt, L_opt with
            bootstrap bounds, and ``status`` (``ok``, ``edge_low``, ``edge_high``,
            ``too_few_sizes``, ``not_convex``).
        predictions: N*(C) and D*(C) with bounds at the budgets given to :func:`isoflop`.
        samples: the bootstrap replicates of a, k_N, b, k_D.
        dropped: the budgets without an optimum and why.
        points: the data analysed (group keys, C, N, loss and tokens).
    """

    _kind = "isoflop"

    def _header(self) -> list[str]:
        w = self.settings["window"]
        return [
            f"IsoFLOP profiles (Approach 2): {self.n_groups} group(s)",
            f"optimum per budget: parabola in log N of log loss over the lowest point and up to "
            f"{w} sizes on each side (symmetric); budgets with the lowest point at the edge of "
            "the sampled sizes are dropped",
        ]

    def plot(self, **kwargs: Any) -> Figure:
        """The IsoFLOP curves with their optima; see :func:`plot_isoflop`."""
        return plot_isoflop(self, **kwargs)


class EnvelopeResult(_FrontierResult):
    """The outcome of :func:`envelope`. Read-only.

    Attributes:
        table, predictions, samples, dropped: as :class:`IsoflopResult`.
        optima: one row per (group, grid budget): the envelope ``L_env`` (lowest loss of any
            run there), the ``run`` attaining it, N_opt, D_opt, L_opt with bootstrap bounds, and
            ``status``.
        points: the curves analysed (group keys, run, C, N, loss and tokens).
    """

    _kind = "envelope"

    def __init__(
        self,
        raw: list[dict[str, Any]],
        keys: pd.DataFrame,
        points: pd.DataFrame,
        settings: dict[str, Any],
        run_labels: list[list[Any]],
    ) -> None:
        self._run_labels = run_labels
        super().__init__(raw, keys, points, settings)

    def _optima_columns(self) -> dict[str, Any]:
        runs: list[Any] = []
        for labels, r in zip(self._run_labels, self._raw):
            runs.extend(labels[int(k)] if k >= 0 else None for k in np.asarray(r["best_run"]))
        out = np.empty(len(runs), dtype=object)
        out[:] = runs
        return {"L_env": self._cat("L_env"), "run": out}

    def _header(self) -> list[str]:
        est = self.settings["estimator"]
        how = (
            "the size of the run attaining the envelope"
            if est == "argmin"
            else f"vertex of the parabola in log N over the sizes' lowest losses (window "
            f"{self.settings['window']})"
        )
        return [
            f"Training-curve envelope (Approach 1): {self.n_groups} group(s)",
            f"N*(C) at each grid budget: {how}; budgets where it is the smallest or largest "
            "size covering the budget are dropped; replicates resample whole runs",
        ]

    def plot(self, **kwargs: Any) -> Figure:
        """The envelope and the fitted frontier; see :func:`plot_envelope`."""
        return plot_envelope(self, **kwargs)


# --------------------------------------------------------------------------------------------
# isoflop
# --------------------------------------------------------------------------------------------


def isoflop(
    data: Any,
    compute: str = "C",
    size: str = "N",
    loss: str = "loss",
    tokens: str | None = None,
    by: str | Sequence[str] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    budgets: Sequence[float] | float | None = None,
    *,
    level: float = 0.95,
    window: int = 2,
    budget_rtol: float = 1e-3,
    flops_per_token: float = 6.0,
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
        compute, size, loss: columns of the FLOP budget C, the model size N and the loss.
        tokens: column of the token count; D* is interpolated from it at N* within each budget.
            Without it D* = C / (flops_per_token N*).
        by: column(s) defining groups analysed separately (as in :func:`fit_groups`).
        n_boot: bootstrap replicates (0: none); replicate i of a group draws from its own
            random stream (seed, group keys, i), so results do not depend on threads.
        seed: the bootstrap seed.
        budgets: budgets C at which N*(C) and D*(C) are predicted with intervals.
        level: coverage of the percentile intervals.
        window: sampled sizes on each side of the lowest point in the parabola.
        budget_rtol: rows whose budgets agree within this relative tolerance share a budget.
        flops_per_token: k in C = k N D, for D* without ``tokens``.
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
    _check_common(n_boot, level, window, seed)
    if resample not in RESAMPLE:
        raise InvalidOptionError(
            f"unknown resample '{resample}': use {' or '.join(repr(r) for r in RESAMPLE)}"
        )
    if not 0.0 <= float(budget_rtol) < 1.0:
        raise InvalidOptionError(f"budget_rtol must be in [0, 1), got {budget_rtol}")
    names = column_names(data)
    C = _positive(data, compute, names, "compute")
    N = _positive(data, size, names, "size")
    L = _positive(data, loss, names, "loss")
    T = _positive(data, tokens, names, "tokens") if tokens is not None else None
    n = len(C)
    if n == 0:
        raise InvalidDataError("no rows to analyse")
    by_cols = _as_list(by)
    codes, keys, ids = _groups(data, by_cols, names, n)
    order, offsets = _sorted(codes, len(keys))
    preds = _budgets(budgets)
    bar = _progress(int(n_boot) * len(keys), progress, "isoflop")
    try:
        raw = _core.isoflop(
            _take(C, order),
            _take(N, order),
            _take(L, order),
            _take_opt(T, order),
            offsets,
            ids,
            float(budget_rtol),
            int(window),
            int(n_boot),
            int(seed),
            float(level),
            preds,
            float(flops_per_token),
            _ticker(bar),
            resample,
        )
    finally:
        if bar is not None:
            bar.close()
    points = _points(data, by_cols, names, C, N, L, T)
    settings = dict(
        n_boot=n_boot, seed=seed, level=level, window=window, budget_rtol=budget_rtol,
        resample=resample,
        flops_per_token=flops_per_token, budgets=preds, columns=dict(
            compute=compute, size=size, loss=loss, tokens=tokens),
    )  # fmt: skip
    return IsoflopResult(list(raw), keys, points, settings)


def _points(
    data: Any,
    by: list[str],
    names: list[str],
    C: np.ndarray,
    N: np.ndarray,
    L: np.ndarray,
    T: np.ndarray | None,
    run: np.ndarray | None = None,
) -> pd.DataFrame:
    frame: dict[str, Any] = {}
    if by:
        kdf = _key_frame(data, by, names, "by")
        frame.update({c: kdf[c].to_numpy() for c in by})
    if run is not None:
        frame["run"] = run
    frame.update(C=C, N=N, loss=L)
    if T is not None:
        frame["tokens"] = T
    return pd.DataFrame(frame)


# --------------------------------------------------------------------------------------------
# envelope
# --------------------------------------------------------------------------------------------


def _infer_runs(N: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Runs as blocks of consecutive rows with the same size and increasing compute."""
    n = len(N)
    start = np.ones(n, dtype=bool)
    if n > 1:
        start[1:] = (N[1:] != N[:-1]) | (C[1:] <= C[:-1])
    return np.cumsum(start) - 1


def _run_codes(
    data: Any, run: str | Sequence[str] | None, names: list[str], N: np.ndarray, C: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(run code per row, a label per row: the run's key values, or the first row of the run)."""
    cols = _as_list(run)
    if not cols:
        code = _infer_runs(N, C).astype(np.int64)
        first = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
        ends = np.r_[first[1:], len(code)] - 1
        labels = np.asarray([f"rows {a}-{b}" for a, b in zip(first, ends)], dtype=object)
        return code, labels[code]
    kdf = _key_frame(data, cols, names, "run")
    code = kdf.groupby(cols, sort=False, dropna=False).ngroup().to_numpy(dtype=np.int64)
    if len(cols) == 1:
        lab = kdf[cols[0]].to_numpy(dtype=object)
    else:
        lab = np.empty(len(kdf), dtype=object)
        lab[:] = list(kdf.itertuples(index=False, name=None))
    return code, lab


def envelope(
    curves: Any,
    size: str = "N",
    compute: str = "C",
    loss: str = "loss",
    *,
    tokens: str | None = None,
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
    flops_per_token: float = 6.0,
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
        size, compute, loss: columns of the model size N, the compute so far C and the loss.
        tokens: column of tokens seen; D* is the attaining run's token count at C. Without it
            D* = C / (flops_per_token N*).
        run: column(s) identifying runs. Default: blocks of consecutive rows with the same size
            and increasing compute.
        by: column(s) defining groups analysed separately.
        grid: the budgets (default: ``n_grid`` log-spaced budgets over all checkpoints).
        estimator: ``"argmin"`` (the size of the run attaining the envelope, as Hoffmann et
            al.) or ``"parabola"`` (the vertex of the local parabola in log N over each size's
            lowest loss at the budget: continuous N*, better for coarse size ladders).
        n_boot: bootstrap replicates; each resamples whole runs with replacement.
        seed, budgets, level, window, flops_per_token, progress: as :func:`isoflop`.

    Returns:
        An :class:`EnvelopeResult`.
    """
    _check_common(n_boot, level, window, seed)
    if estimator not in ESTIMATORS:
        raise InvalidOptionError(
            f"unknown estimator '{estimator}': use {' or '.join(repr(e) for e in ESTIMATORS)}"
        )
    names = column_names(curves)
    C = _positive(curves, compute, names, "compute")
    N = _positive(curves, size, names, "size")
    L = _positive(curves, loss, names, "loss")
    T = _positive(curves, tokens, names, "tokens") if tokens is not None else None
    n = len(C)
    if n == 0:
        raise InvalidDataError("no rows to analyse")
    g_list: list[float] = []
    if grid is not None:
        g_list = _budgets(grid)
        if len(g_list) < 2:
            raise InvalidOptionError("grid needs at least 2 budgets")
    elif int(n_grid) < 2:
        raise InvalidOptionError(f"n_grid must be at least 2, got {n_grid}")
    run_code, run_label = _run_codes(curves, run, names, N, C)
    _check_run_sizes(run_code, N, _as_list(run) or None, size)
    by_cols = _as_list(by)
    codes, keys, ids = _groups(curves, by_cols, names, n)
    order, offsets = _sorted(codes, len(keys))
    preds = _budgets(budgets)
    rc = np.ascontiguousarray(run_code[order].astype(np.uint64))
    # runs of each group in order of first appearance (the core numbers them so)
    labels: list[list[Any]] = []
    for g in range(len(keys)):
        seg = rc[offsets[g] : offsets[g + 1]]
        _, first = np.unique(seg, return_index=True)
        first = np.sort(first)
        lab_seg = run_label[order][offsets[g] : offsets[g + 1]]
        labels.append([lab_seg[k] for k in first])
    bar = _progress(int(n_boot) * len(keys), progress, "envelope")
    try:
        raw = _core.envelope(
            rc,
            _take(C, order),
            _take(N, order),
            _take(L, order),
            _take_opt(T, order),
            offsets,
            ids,
            g_list,
            int(n_grid),
            estimator,
            int(window),
            int(n_boot),
            int(seed),
            float(level),
            preds,
            float(flops_per_token),
            _ticker(bar),
        )
    finally:
        if bar is not None:
            bar.close()
    points = _points(curves, by_cols, names, C, N, L, T, run=run_label)
    settings = dict(
        n_boot=n_boot, seed=seed, level=level, window=window, estimator=estimator,
        n_grid=n_grid if grid is None else len(g_list), flops_per_token=flops_per_token,
        budgets=preds, columns=dict(compute=compute, size=size, loss=loss, tokens=tokens),
    )  # fmt: skip
    return EnvelopeResult(list(raw), keys, points, settings, labels)


def _check_run_sizes(code: np.ndarray, N: np.ndarray, run: list[str] | None, size: str) -> None:
    """Every run has one model size (named error with the row otherwise)."""
    if run is None:
        return
    first = pd.Series(N).groupby(code).transform("first").to_numpy()
    bad = np.flatnonzero(first != N)
    if bad.size:
        row = int(bad[0])
        raise InvalidDataError(
            f"column '{size}' has the value {N[row]} at row {row}, but that row's run "
            f"({', '.join(run)}) has size {first[row]}: a run has one model size"
        )


# --------------------------------------------------------------------------------------------
# compare_approaches
# --------------------------------------------------------------------------------------------


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
        parts = []
        for name, g in self.table.groupby("approach", sort=False):
            parts.append(f"{name}: a={g['a'].iloc[0]:.3f}")
        return "<ApproachComparison " + "; ".join(parts) + ">"


def compare_approaches(
    data: Any,
    budgets: Sequence[float] | float,
    *,
    compute: str = "C",
    size: str = "N",
    loss: str = "loss",
    tokens: str | None = None,
    run: str | Sequence[str] | None = None,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
    window: int = 2,
    estimator: str = "argmin",
    n_grid: int = 200,
    n_slices: int = 12,
    law: str = "chinchilla",
    parametric_loss: str = "huber_log",
    delta: float = 1e-3,
    parametric_points: str = "final",
    flops_per_token: float = 6.0,
) -> ApproachComparison:
    """Approaches 1, 2 and 3 of Hoffmann et al. (2022) on the same data, side by side.

    - Approach 1, the envelope (:func:`envelope`): the size attaining the lowest loss at each
      budget. With training curves (``run`` given) on a log-spaced grid; with one row per run
      (IsoFLOP data, ``run=None``) at the sampled budgets, where it is the best sampled size.
    - Approach 2, IsoFLOP profiles (:func:`isoflop`). Training curves are first cut into
      profiles at ``n_slices`` log-spaced budgets covered by at least three sizes (each run's
      loss interpolated there).
    - Approach 3, a parametric fit (``pf.fit(law=law, loss=parametric_loss)``) of L(N, D), with
      D from ``tokens`` (else C / (flops_per_token N)), and its closed-form frontier
      a = beta/(alpha+beta), N*(C) = G (C/k)^a. With curves it is fitted to each run's final
      checkpoint (``parametric_points="final"``, the clean points: a checkpoint in the middle of
      a run has not finished its learning-rate schedule) or to all rows (``"all"``).

    Args:
        data: IsoFLOP points (one row per run) or training curves (with ``run``).
        budgets: budgets C at which N*(C) and D*(C) are compared.
        compute, size, loss, tokens: columns.
        run: column(s) identifying the runs of training curves; None: every row is a run.
        n_boot: bootstrap replicates of each approach (runs resampled; for Approach 3 a case
            bootstrap of the fit).
        seed, level, window, estimator, n_grid, flops_per_token: as :func:`envelope` and
            :func:`isoflop`.
        n_slices: IsoFLOP budgets cut from training curves.
        law, parametric_loss, delta: the parametric fit of Approach 3 (a law with N and D
            terms: ``chinchilla``).

    Returns:
        An :class:`ApproachComparison` (``.table``, ``.wide()``, ``.summary()``).
    """
    from .fit import fit as _fit

    preds = _budgets(budgets)
    if not preds:
        raise InvalidOptionError("compare_approaches needs at least one budget")
    if parametric_points not in ("final", "all"):
        raise InvalidOptionError(
            f"parametric_points must be 'final' or 'all', got {parametric_points!r}"
        )
    if int(n_slices) < 2:
        raise InvalidOptionError(f"n_slices must be at least 2, got {n_slices}")
    names = column_names(data)
    C = _positive(data, compute, names, "compute")
    N = _positive(data, size, names, "size")
    L = _positive(data, loss, names, "loss")
    T = _positive(data, tokens, names, "tokens") if tokens is not None else None
    common: dict[str, Any] = dict(
        n_boot=n_boot, seed=seed, budgets=preds, level=level, window=window,
        flops_per_token=flops_per_token, progress=False,
    )  # fmt: skip
    frame: dict[str, Any] = {"C": C, "N": N, "loss": L}
    if T is not None:
        frame["tokens"] = T
    tok = "tokens" if T is not None else None
    notes: list[str] = []
    if run is None:
        pts = pd.DataFrame(frame)
        pts["_run"] = np.arange(len(pts))
        grid = np.unique(C)
        env = envelope(pts, tokens=tok, run="_run", grid=list(grid), estimator=estimator,
                       **common)  # fmt: skip
        iso = isoflop(pts, tokens=tok, **common)
        par_rows = pts
        notes.append(
            f"data: {len(pts)} IsoFLOP points (one per run) at {len(grid)} budgets; "
            f"Approach 1 = the best sampled size per budget ({estimator})"
        )
    else:
        run_code, run_label = _run_codes(data, run, names, N, C)
        _check_run_sizes(run_code, N, _as_list(run), size)
        curves = pd.DataFrame(frame)
        curves["_run"] = run_code
        env = envelope(curves, tokens=tok, run="_run", n_grid=n_grid, estimator=estimator,
                       **common)  # fmt: skip
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
            prof["tokens"] = sl["tokens"]
        iso = isoflop(pd.DataFrame(prof), tokens=tok, **common)
        last = pd.Series(C).groupby(run_code).transform("max").to_numpy() == C
        par_rows = curves.loc[last] if parametric_points == "final" else curves
        notes.append(
            f"data: {len(curves)} checkpoints of {len(np.unique(run_code))} runs; Approach 1 on "
            f"{env.settings['n_grid']} log-spaced budgets ({estimator}); Approach 2 on "
            f"{int(n_slices)} IsoFLOP slices from {slice_c[0]:.3g} to {slice_c[-1]:.3g}"
        )
    D = (
        par_rows["tokens"].to_numpy()
        if T is not None
        else par_rows["C"].to_numpy() / (flops_per_token * par_rows["N"].to_numpy())
    )
    par = _fit({"N": par_rows["N"].to_numpy(), "D": D, "loss": par_rows["loss"].to_numpy()},
               law=law, loss=parametric_loss, delta=delta, warn=False)  # fmt: skip
    idx = nd_index(par)
    if idx is None:
        raise InvalidOptionError(
            f"Approach 3 needs a law with one N and one D term (chinchilla), not '{law}'"
        )
    notes.append(
        f"Approach 3: pf.fit(law={law!r}, loss={parametric_loss!r}) on {par.n_points} points "
        f"({'final checkpoints' if run is not None and parametric_points == 'final' else 'all rows'}"
        f"); status {par.status}; C = {flops_per_token:g} N D"
    )
    dnames, dvals = _core.derived(par.values[None, :], idx, preds, float(flops_per_token))
    est = dict(zip(dnames, dvals[0]))
    boot = None
    bounds: dict[str, tuple[float, float]] = {}
    if int(n_boot) > 0:
        boot = par.bootstrap(n=int(n_boot), seed=int(seed), progress=False)
        ci = boot.ci(level=level, budgets=preds, k=float(flops_per_token))
        bounds = {
            str(p): (float(lo), float(hi))
            for p, lo, hi in zip(ci["parameter"], ci["lower"], ci["upper"])
        }
    nan2 = (math.nan, math.nan)
    rows = []
    for name, res in (("1 envelope", env), ("2 isoflop", iso)):
        r = res._raw[0]
        p = r["predictions"]
        for k, c in enumerate(preds):
            rows.append(
                dict(
                    approach=name, C=c, a=r["a"], a_lower=r["a_lower"], a_upper=r["a_upper"],
                    b=r["b"], b_lower=r["b_lower"], b_upper=r["b_upper"],
                    N_opt=p["N_opt"][k], N_opt_lower=p["N_opt_lower"][k],
                    N_opt_upper=p["N_opt_upper"][k], D_opt=p["D_opt"][k],
                    D_opt_lower=p["D_opt_lower"][k], D_opt_upper=p["D_opt_upper"][k],
                )  # fmt: skip
            )
    for j, c in enumerate(preds):
        # the core's layout: a, b, eta, G, then N*, D*, D*/N*, L* per budget
        nkey, dkey = dnames[4 + 4 * j], dnames[5 + 4 * j]
        rows.append(
            dict(
                approach="3 parametric", C=c, a=est["a"], a_lower=bounds.get("a", nan2)[0],
                a_upper=bounds.get("a", nan2)[1], b=est["b"], b_lower=bounds.get("b", nan2)[0],
                b_upper=bounds.get("b", nan2)[1], N_opt=est[nkey],
                N_opt_lower=bounds.get(nkey, nan2)[0], N_opt_upper=bounds.get(nkey, nan2)[1],
                D_opt=est[dkey], D_opt_lower=bounds.get(dkey, nan2)[0],
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


def _figure(figsize: tuple[float, float], dpi: float) -> Figure:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'powerfit[plot]'") from None
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _finish(fig: Figure, path: str | os.PathLike[str] | None) -> Figure:
    if path is not None:
        from ._files import save_figure

        save_figure(fig, path)
    return fig


def _group_rows(res: _FrontierResult, frame: pd.DataFrame, group: int) -> pd.DataFrame:
    if not res.by:
        return frame
    key = res._keys.iloc[group]
    mask = np.ones(len(frame), dtype=bool)
    for c in res.by:
        v = key[c]
        col = frame[c]
        mask &= (col.isna() if pd.isna(v) else (col == v)).to_numpy()
    return frame.loc[mask]


def _two_panels(
    res: _FrontierResult, group: int, figsize: tuple[float, float], dpi: float
) -> tuple[Any, pd.DataFrame, pd.DataFrame, Figure, Any, Any]:
    """The group's raw result, points and optima, and a figure with the profile panel (left,
    wider) and the frontier panel (right): the common start of the frontier plots."""
    _check_group(res, group)
    fig = _figure(figsize, dpi)
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1.0]})
    return (
        res._raw[group],
        _group_rows(res, res.points, group),
        _group_rows(res, res.optima, group),
        fig,
        ax,
        ax2,
    )


def _check_group(res: _FrontierResult, group: int) -> None:
    if not 0 <= int(group) < res.n_groups:
        raise InvalidOptionError(f"group must be in 0..{res.n_groups - 1}, got {group}")


def plot_isoflop(
    result: IsoflopResult,
    group: int = 0,
    *,
    figsize: tuple[float, float] = (11.0, 4.4),
    dpi: float = 100,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """The IsoFLOP profiles (loss against N, one colour per budget, log-log) with each budget's
    located optimum and its bootstrap interval (left), and the optima N*(C) against C with the
    fitted power law (right). Dropped budgets are drawn faded, without an optimum.

    Args:
        result: an :class:`IsoflopResult`.
        group: which group (its row in ``result.table``).
        path: also save the figure there (format from the extension).

    Returns:
        The matplotlib Figure (Agg canvas; pyplot is not used).
    """
    from matplotlib import colormaps
    from matplotlib.colors import LogNorm

    r, pts, opt, fig, ax, ax2 = _two_panels(result, group, figsize, dpi)
    cs = np.asarray(r["C"])
    norm = LogNorm(vmin=cs.min(), vmax=max(cs.max(), cs.min() * 1.0001))
    cmap = colormaps["viridis"]
    rtol = float(result.settings.get("budget_rtol", 1e-3))
    pc = pts["C"].to_numpy()
    for k, c in enumerate(cs):
        sel = pts.loc[np.abs(pc / c - 1.0) <= max(rtol, 1e-9) * 1.0001 + 1e-12]
        sel = sel.sort_values("N")
        ok = opt["status"].iloc[k] == "ok"
        colour = cmap(norm(c))
        ax.plot(sel["N"], sel["loss"], "o-", color=colour, ms=3.5, lw=1.0,
                alpha=1.0 if ok else 0.3)  # fmt: skip
        if ok:
            row = opt.iloc[k]
            ax.plot([row["N_opt"]], [row["L_opt"]], marker="*", ms=11, color=colour,
                    mec="black", mew=0.6, zorder=5)  # fmt: skip
            if np.isfinite(row["N_opt_lower"]):
                ax.hlines(row["L_opt"], row["N_opt_lower"], row["N_opt_upper"], color=colour,
                          lw=2.0, alpha=0.8)  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("model size N (parameters)")
    ax.set_ylabel("loss")
    sm = _scalar_mappable(cmap, norm)
    fig.colorbar(sm, ax=ax, label="compute budget C (FLOPs)")
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title("IsoFLOP profiles; ★ located optimum", fontsize=9)
    _draw_frontier(ax2, r, opt, result.level)
    _suptitle(fig, result, group, "IsoFLOP analysis")
    return _finish(fig, path)


def _scalar_mappable(cmap: Any, norm: Any) -> Any:
    from matplotlib.cm import ScalarMappable

    sm = ScalarMappable(norm=norm, cmap=cmap)
    sm.set_array([])
    return sm


def _draw_frontier(
    ax: Any, r: dict[str, Any], opt: pd.DataFrame, level: float, bars: bool = True
) -> None:
    """N*(C) and D*(C) at the budgets with an optimum (with bootstrap bars or a band), the
    fitted power laws over the budgets used, and the dropped budgets."""
    ok = (opt["status"] == "ok").to_numpy()
    o = opt.loc[ok]
    if len(o):
        c = o["C"].to_numpy()
        nopt = o["N_opt"].to_numpy()
        lo = np.clip(nopt - o["N_opt_lower"].to_numpy(), 0, None)
        hi = np.clip(o["N_opt_upper"].to_numpy() - nopt, 0, None)
        has = np.isfinite(lo) & np.isfinite(hi)
        if bars and has.any():
            ax.errorbar(c[has], nopt[has], yerr=[lo[has], hi[has]], fmt="o", ms=4, color="C0",
                        ecolor="C0", elinewidth=1, capsize=2,
                        label=f"N* per budget ({level:.0%} bootstrap)")  # fmt: skip
            if (~has).any():
                ax.plot(c[~has], nopt[~has], "o", ms=4, color="C0")
        else:
            if has.any():
                ax.fill_between(c, o["N_opt_lower"], o["N_opt_upper"], color="C0", alpha=0.2,
                                lw=0, label=f"N* {level:.0%} bootstrap")  # fmt: skip
            ax.plot(c, nopt, "o", ms=3, color="C0", label="N* per budget")
        ax.plot(c, o["D_opt"], "s", ms=3, color="C1", alpha=0.8, label="D* per budget")
        if np.isfinite(r["a"]):
            cs = np.geomspace(c.min(), c.max(), 50)
            ax.plot(cs, np.exp(r["log_k_N"] + r["a"] * np.log(cs)), color="C0", lw=1.6,
                    label=f"N* ∝ C^{r['a']:.3f} ({r['a_lower']:.3f}, {r['a_upper']:.3f})")  # fmt: skip
            ax.plot(cs, np.exp(r["log_k_D"] + r["b"] * np.log(cs)), color="C1", lw=1.6,
                    label=f"D* ∝ C^{r['b']:.3f} ({r['b_lower']:.3f}, {r['b_upper']:.3f})")  # fmt: skip
    dropped = opt.loc[~ok, "C"].to_numpy()
    if 0 < dropped.size <= 20:
        for k, c in enumerate(dropped):
            ax.axvline(c, color="0.6", lw=0.8, ls=":", label="dropped budget" if k == 0 else None)
    elif dropped.size and len(o):
        ax.set_xlim(o["C"].min() / 1.5, o["C"].max() * 1.5)
        ax.set_title(f"{dropped.size} of {len(opt)} budgets dropped (no interior optimum)",
                     fontsize=9)  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("compute C (FLOPs)")
    ax.set_ylabel("compute-optimal N* and D*")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")


def _suptitle(fig: Any, result: _FrontierResult, group: int, what: str) -> None:
    lab = "" if not result.by else f" [{_group_label(result._keys, group)}]"
    fig.suptitle(f"{what}{lab}", fontsize=10)


def plot_envelope(
    result: EnvelopeResult,
    group: int = 0,
    *,
    max_runs: int = 200,
    figsize: tuple[float, float] = (11.0, 4.4),
    dpi: float = 100,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """The training curves (loss against compute, one colour per model size, log-log) with
    their lower envelope, the budgets where an optimum was read off marked (left), and the
    frontier N*(C) with the fitted power law (right).

    Args:
        result: an :class:`EnvelopeResult`.
        group: which group (its row in ``result.table``).
        max_runs: draw at most this many runs (the envelope is always drawn).
        path: also save the figure there (format from the extension).

    Returns:
        The matplotlib Figure (Agg canvas; pyplot is not used).
    """
    from matplotlib import colormaps
    from matplotlib.colors import LogNorm

    r, pts, opt, fig, ax, ax2 = _two_panels(result, group, figsize, dpi)
    sizes = pts["N"].to_numpy()
    norm = LogNorm(vmin=sizes.min(), vmax=max(sizes.max(), sizes.min() * 1.0001))
    cmap = colormaps["viridis"]
    by_run = pts.groupby(pts["run"].astype(str), sort=False) if "run" in pts else []
    for k, (_, sel) in enumerate(by_run):
        if k >= int(max_runs):
            break
        sel = sel.sort_values("C")
        ax.plot(sel["C"], sel["loss"], "-", color=cmap(norm(sel["N"].iloc[0])), lw=0.8,
                alpha=0.6)  # fmt: skip
    env_ok = np.isfinite(opt["L_env"].to_numpy())
    ax.plot(opt["C"][env_ok], opt["L_env"][env_ok], color="black", lw=1.6, label="envelope")
    good = (opt["status"] == "ok").to_numpy()
    ax.plot(opt["C"][good], opt["L_env"][good], "o", color="C3", ms=2.5,
            label="budgets with an optimum")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("compute C (FLOPs)")
    ax.set_ylabel("loss")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")
    fig.colorbar(_scalar_mappable(cmap, norm), ax=ax, label="model size N (parameters)")
    ax.set_title("training curves and their lower envelope", fontsize=9)
    _draw_frontier(ax2, r, opt, result.level, bars=False)
    _suptitle(fig, result, group, f"Training-curve envelope ({result.settings['estimator']})")
    return _finish(fig, path)
