"""Results of the frontier analyses: :class:`IsoflopResult` and :class:`EnvelopeResult`,
built from the core's columnar tables."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .. import _core, _display
from ..errors import InvalidOptionError
from ..errors import warn as warn_user

#: Names of a budget's status, by code (``ok``: an interior optimum was located).
STATUS_NAMES: tuple[str, ...] = tuple(_core.BUDGET_STATUS_NAMES)
#: A budget kept in fewer replicates than this share is named among the drivers of an
#: estimate outside its interval (its optimum often leaves the sampled sizes when resampled).
KEPT_WARN = 0.75
STATUS_HELP = {
    "ok": "interior optimum",
    "edge_low": "lowest loss at the smallest sampled size",
    "edge_high": "lowest loss at the largest sampled size",
    "too_few_sizes": "fewer than 3 distinct sizes",
    "not_convex": "the local parabola is not convex",
}


def _group_label(keys: pd.DataFrame, g: int) -> str:
    if keys.shape[1] == 0:
        return "all rows"
    return ", ".join(f"{c}={keys.iloc[g][c]}" for c in keys.columns)


class _FrontierResult:
    """Shared parts of :class:`IsoflopResult` and :class:`EnvelopeResult`: the core's columnar
    table, the groups' keys, the data and the settings."""

    _kind = ""

    def __init__(
        self,
        table: _core.FrontierTable,
        keys: pd.DataFrame,
        points: pd.DataFrame,
        settings: dict[str, Any],
    ) -> None:
        self._native = table
        self._groups: dict[str, np.ndarray] = table.groups
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

    def _with_keys(self, group: np.ndarray, frame: dict[str, Any]) -> pd.DataFrame:
        """``frame`` with the key values of each row's group in front."""
        add = pd.DataFrame(frame)
        if not self.by:
            return add
        out = self._keys.iloc[group].reset_index(drop=True)
        return pd.concat([out, add], axis=1)

    def _build_table(self) -> pd.DataFrame:
        g = self._groups
        n = len(g["a"])
        frame: dict[str, Any] = {
            k: g[k] for k in ("a", "a_lower", "a_upper", "b", "b_lower", "b_upper")
        }
        frame["k_N"] = np.exp(g["log_k_N"])
        frame["k_D"] = np.exp(g["log_k_D"])
        for k in ("r2_N", "r2_D", "n_budgets", "n_used", "n_dropped"):
            frame[k] = g[k]
        frame["n_boot"] = np.full(n, self.n_boot, dtype=np.int64)
        frame["n_boot_ok"] = g["n_boot_ok"]
        return self._with_keys(np.arange(n), frame)

    def _optima_columns(self, o: dict[str, np.ndarray]) -> dict[str, Any]:
        return {}

    def _build_optima(self) -> pd.DataFrame:
        o = self._native.optima
        names = np.asarray(STATUS_NAMES, dtype=object)
        frame: dict[str, Any] = {
            "C": o["C"],
            "n_points": o["n_points"],
            "n_sizes": o["n_sizes"],
            "status": names[o["status"]],
        }
        for k in ("N_opt", "N_opt_lower", "N_opt_upper", "D_opt", "D_opt_lower",
                  "D_opt_upper", "L_opt"):  # fmt: skip
            frame[k] = o[k]
        frame.update(self._optima_columns(o))
        frame["n_boot_ok"] = o["n_boot_ok"]
        return self._with_keys(o["group"], frame)

    def _build_predictions(self) -> pd.DataFrame:
        p = self._native.predictions
        frame = {
            k: p[k]
            for k in (
                "C",
                "N_opt",
                "N_opt_lower",
                "N_opt_upper",
                "D_opt",
                "D_opt_lower",
                "D_opt_upper",
            )  # fmt: skip
        }
        return self._with_keys(p["group"], frame)

    # --- accessors ------------------------------------------------------------------------
    @property
    def keys(self) -> pd.DataFrame:
        """The groups' key values, one row per group (no columns without ``by``)."""
        return self._keys.copy()

    def group_label(self, group: int) -> str:
        """``key=value, ...`` of a group, for titles and reports."""
        return _group_label(self._keys, group)

    @property
    def n_groups(self) -> int:
        """Number of groups (1 without ``by``)."""
        return len(self._groups["a"])

    def group_values(self, group: int) -> dict[str, float]:
        """One group's fitted frontier: a, b, their bounds, log k_N, log k_D, R², counts."""
        return {k: v[group].item() for k, v in self._groups.items()}

    def _single(self, what: str) -> dict[str, float]:
        if self.n_groups != 1:
            raise InvalidOptionError(
                f"'{what}' is defined for one group; this result has {self.n_groups} groups: "
                "read the column of .table instead"
            )
        return self.group_values(0)

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
        s = self._native.samples
        frame = {
            "replicate": s["replicate"],
            "a": s["a"],
            "k_N": np.exp(s["log_k_N"]),
            "b": s["b"],
            "k_D": np.exp(s["log_k_D"]),
        }
        return self._with_keys(s["group"], frame)

    def predict(self, C: Any, group: int = 0) -> pd.DataFrame:
        """N*(C) and D*(C) from the fitted power laws at budgets ``C`` (point estimates; the
        intervals are in ``.predictions`` for the budgets given to the analysis)."""
        c = np.atleast_1d(np.asarray(C, dtype=float))
        if not (np.isfinite(c).all() and (c > 0).all()):
            raise InvalidOptionError("budgets C must be positive and finite")
        if not 0 <= group < self.n_groups:
            raise InvalidOptionError(f"group must be in 0..{self.n_groups - 1}, got {group}")
        r = self.group_values(group)
        return pd.DataFrame(
            {
                "C": c,
                "N_opt": np.exp(r["log_k_N"] + r["a"] * np.log(c)),
                "D_opt": np.exp(r["log_k_D"] + r["b"] * np.log(c)),
            }
        )

    # --- estimates outside their own interval ---------------------------------------------
    #: What to try when a group's estimate lies outside its interval (set by the subclass).
    _remedy = ""

    def _drivers(self, g: int) -> list[str]:
        """The budgets of group ``g`` whose replicates move the optimum away from the estimate:
        the estimate at an end of its own replicates' range, or the budget kept in few
        replicates (its optimum leaves the sampled sizes when resampled)."""
        o = self._native.optima
        sel = (o["group"] == g) & (o["status"] == STATUS_NAMES.index("ok"))
        out = []
        for c, n, lo, hi, ok in zip(
            o["C"][sel], o["N_opt"][sel], o["N_opt_lower"][sel], o["N_opt_upper"][sel],
            o["n_boot_ok"][sel],
        ):  # fmt: skip
            why = []
            if n <= lo * (1 + 1e-9):
                why.append("the estimate at the low end of its replicates")
            elif n >= hi * (1 - 1e-9):
                why.append("the estimate at the high end of its replicates")
            if self.n_boot and ok < KEPT_WARN * self.n_boot:
                why.append(f"kept in {ok / self.n_boot:.0%} of replicates")
            if why:
                out.append(f"C = {c:.3g} ({', '.join(why)})")
        return out

    def _outside_note(self, g: int) -> str | None:
        """Why group ``g``'s estimate of a or b lies outside its own interval, or None."""
        r = self.group_values(g)
        off = [
            f"{k} = {r[k]:.4f} ({r[k + '_lower']:.4f}, {r[k + '_upper']:.4f})"
            for k in ("a", "b")
            if self.n_boot
            and math.isfinite(r[k])
            and math.isfinite(r[k + "_lower"])
            and not r[k + "_lower"] <= r[k] <= r[k + "_upper"]
        ]
        if not off:
            return None
        drivers = self._drivers(g)
        driven = f"; driven by the budgets {'; '.join(drivers)}" if drivers else ""
        return (
            f"the estimate lies outside its own {self.level:.0%} interval: {', '.join(off)}: "
            f"the bootstrap replicates are biased against it{driven}{self._remedy}"
        )

    def outside_notes(self) -> list[str]:
        """One sentence per group whose estimate of a or b lies outside its own interval
        (replicates biased against the estimate), naming the budgets that drive it."""
        notes = []
        for g in range(self.n_groups):
            note = self._outside_note(g)
            if note is not None:
                where = f"[{_group_label(self._keys, g)}] " if self.by else ""
                notes.append(where + note)
        return notes

    def warn_outside(self) -> None:
        """A PowerfitWarning for each note of :meth:`outside_notes`."""
        for note in self.outside_notes():
            warn_user(f"{self._kind}: {note}")

    # --- text -----------------------------------------------------------------------------
    def _header(self) -> list[str]:
        return []

    def _group_lines(self, g: int, opt: pd.DataFrame, pred: pd.DataFrame) -> list[str]:
        r = self.group_values(g)
        lines = [
            f"[{_group_label(self._keys, g)}]",
            f"  a = {r['a']:.4f}  ({r['a_lower']:.4f}, {r['a_upper']:.4f})   "
            f"k_N = {math.exp(r['log_k_N']):.4g}   R² = {r['r2_N']:.4f}",
            f"  b = {r['b']:.4f}  ({r['b_lower']:.4f}, {r['b_upper']:.4f})   "
            f"k_D = {math.exp(r['log_k_D']):.4g}   R² = {r['r2_D']:.4f}",
        ]
        if self.n_boot:
            s = self._native.samples
            a = s["a"][s["group"] == g]
            a = a[np.isfinite(a)]
            if a.size:
                sd = a.std(ddof=1) if a.size > 1 else math.nan
                lines.append(
                    f"  bootstrap: {int(r['n_boot_ok'])}/{self.n_boot} replicates with a fit; "
                    f"median a {np.median(a):.4f}, sd {sd:.4f}"
                )
        lines.append(f"  budgets used: {int(r['n_used'])} of {int(r['n_budgets'])}")
        note = self._outside_note(g)
        if note is not None:
            lines.append(f"  ! {note}")
        bad = opt[opt["status"] != "ok"]
        for name, sel in bad.groupby("status", sort=False):
            cs = [f"{c:.3g}" for c in sel["C"]]
            shown = ", ".join(cs[:8]) + (f", ... ({len(cs)} in all)" if len(cs) > 8 else "")
            lines.append(f"  dropped ({STATUS_HELP[str(name)]}): C = {shown}")
        for row in pred.itertuples(index=False):
            lines.append(
                f"  C = {row.C:.3g}: N* = {row.N_opt:.4g} ({row.N_opt_lower:.4g}, "
                f"{row.N_opt_upper:.4g}); D* = {row.D_opt:.4g} "
                f"({row.D_opt_lower:.4g}, {row.D_opt_upper:.4g})"
            )
        return lines

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
        o, p = self._native.optima, self._native.predictions
        opt = pd.DataFrame(
            {
                "group": o["group"],
                "C": o["C"],
                "status": np.asarray(STATUS_NAMES, dtype=object)[o["status"]],
            }
        )
        pred = pd.DataFrame(p)
        for g in range(self.n_groups):
            lines += self._group_lines(
                g, opt[opt["group"] == g], pred[pred["group"] == g].drop(columns="group")
            )
        lines.append("=" * 78)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return _display.frontier_text(self)

    def _repr_html_(self) -> str:
        return _display.frontier_html(self)


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
    _remedy = "; resample='budgets' (whole budgets resampled) gives an interval around the estimate"

    def _header(self) -> list[str]:
        w = self.settings["window"]
        return [
            f"IsoFLOP profiles (Approach 2): {self.n_groups} group(s)",
            f"optimum per budget: parabola in log N of log loss over the lowest point and up to "
            f"{w} sizes on each side (symmetric); budgets with the lowest point at the edge of "
            "the sampled sizes are dropped",
        ]

    def plot(self, **kwargs: Any) -> Any:
        """The IsoFLOP curves with their optima; returns the matplotlib Figure. See
        :func:`powerfit.plot.plot_isoflop`."""
        from ..plot import plot_isoflop

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
        table: _core.FrontierTable,
        keys: pd.DataFrame,
        points: pd.DataFrame,
        settings: dict[str, Any],
        runs: pd.DataFrame,
    ) -> None:
        self._runs = runs
        super().__init__(table, keys, points, settings)

    def _optima_columns(self, o: dict[str, np.ndarray]) -> dict[str, Any]:
        best = pd.DataFrame({"group": o["group"], "index": o["best_run"]})
        run = best.merge(self._runs, on=["group", "index"], how="left")["run"]
        return {"L_env": o["L_env"], "run": run.astype(object).where(run.notna(), None)}

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

    def plot(self, **kwargs: Any) -> Any:
        """The envelope and the fitted frontier; returns the matplotlib Figure. See
        :func:`powerfit.plot.plot_envelope`."""
        from ..plot import plot_envelope

        return plot_envelope(self, **kwargs)
