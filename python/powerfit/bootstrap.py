"""Bootstrap refits: thousands of resampled fits in parallel in the Rust core, and intervals
for parameters and derived quantities."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import _core
from ._progress import Progress
from .errors import InvalidOptionError, PowerfitWarning
from .fit import FitResult, fit

METHODS = ("case", "cluster", "residual", "parametric")
INTERVALS = ("percentile", "basic", "bca")
#: Share of failed replicates above which a warning is raised.
FAIL_WARN = 0.01


def _labels(res: FitResult, cluster: Any) -> list[int]:
    """Cluster ids 0..k-1 per row, from a variable name of the fit or an array of labels."""
    if isinstance(cluster, str):
        if cluster not in res._x:
            raise InvalidOptionError(
                f"cluster='{cluster}' is not a variable of this fit ({', '.join(res.variables)});"
                f" pass an array of labels, one per row"
            )
        values = res._x[cluster]
    else:
        values = np.asarray(cluster)
        if values.shape != (res._y.shape[0],):
            raise InvalidOptionError(
                f"cluster labels must have one entry per row ({res._y.shape[0]}), "
                f"got shape {values.shape}"
            )
    _, codes = np.unique(values, return_inverse=True)
    return [int(c) for c in codes]


def _noise_scale(res: FitResult) -> float:
    """Noise on the loss's scale: RMS residual for least squares, 1.4826 MAD for robust losses."""
    r = res.residuals()
    if res.loss in ("l2", "log"):
        return math.sqrt(float(np.sum(r * r)) / max(res.dof, 1))
    return 1.4826 * float(np.median(np.abs(r - np.median(r))))


def bootstrap(
    result: Any,
    n: int = 1000,
    method: str = "case",
    *,
    seed: int = 0,
    cluster: Any = None,
    progress: bool | None = None,
    **fit_kwargs: Any,
) -> BootstrapResult:
    """Refit on ``n`` resampled data sets, in parallel, each from the full-data estimate.

    Args:
        result: a :class:`~powerfit.FitResult`, or data to fit first with ``fit_kwargs``.
        n: number of replicates.
        method: ``"case"`` (resample rows), ``"cluster"`` (resample whole clusters: give
            ``cluster="N"`` for all runs of one model size, or an array of labels),
            ``"residual"`` (fitted values plus resampled residuals on the loss's scale) or
            ``"parametric"`` (fitted values plus Gaussian noise of the estimated scale).
        seed: fixes every draw; replicate i uses its own stream derived from (seed, i), so
            results do not depend on the number of threads.
        cluster: cluster variable or labels for ``method="cluster"``.
        progress: show a tqdm bar (default: when stderr is a terminal).

    Returns:
        A :class:`BootstrapResult`. Replicates whose refit did not converge are kept in
        ``samples`` but flagged in ``success`` and excluded from every interval.

    Raises:
        InvalidOptionError: unknown method, n < 1, missing cluster labels.
        KeyboardInterrupt: Ctrl-C stops the run within a fraction of a second.
    """
    res = result if isinstance(result, FitResult) else fit(result, **fit_kwargs)
    if method not in METHODS:
        raise InvalidOptionError(f"unknown bootstrap method '{method}': use {', '.join(METHODS)}")
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise InvalidOptionError(f"n must be a positive integer, got {n!r}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidOptionError(f"seed must be a non-negative integer, got {seed!r}")
    labels = None
    if method == "cluster":
        if cluster is None:
            raise InvalidOptionError("method='cluster' needs cluster= (a variable name or labels)")
        labels = _labels(res, cluster)
    sigma = _noise_scale(res) if method == "parametric" else 0.0
    opts = res._options
    with Progress(int(n), progress, "bootstrap", "fit") as bar:
        raw = _core.bootstrap(  # type: ignore[call-arg]  # mypy cannot count *args
            *res._core_args(),
            list(res.values),
            method,
            int(n),
            int(seed),
            labels,
            float(sigma),
            float(opts["ftol"]),
            float(opts["xtol"]),
            float(opts["gtol"]),
            int(opts["max_iter"]),
            False,
            bar.callback,
        )
    boot = BootstrapResult(res, raw, method=method, seed=int(seed), labels=labels, sigma=sigma)
    if boot.n_failed > FAIL_WARN * boot.n:
        warnings.warn(
            f"{boot.n_failed} of {boot.n} bootstrap replicates ({boot.n_failed / boot.n:.1%}) did "
            f"not converge; they are excluded from the intervals",
            PowerfitWarning,
            stacklevel=2,
        )
    return boot


class BootstrapResult:
    """Replicates of a bootstrap run and the intervals they give.

    Attributes:
        result: the full-data :class:`~powerfit.FitResult`.
        samples: ``(n, p)`` ndarray of replicate estimates in the law's parameter order.
        success: boolean mask of replicates whose refit converged.
        status: why each refit stopped (array of names).
        method, seed, n, n_failed.
    """

    def __init__(
        self,
        result: FitResult,
        raw: dict[str, Any],
        *,
        method: str,
        seed: int,
        labels: list[int] | None,
        sigma: float,
    ) -> None:
        self.result = result
        self.method = method
        self.seed = seed
        self.sigma = sigma
        self._labels = labels
        self.samples: np.ndarray = np.asarray(raw["samples"])
        self.success: np.ndarray = np.asarray(raw["success"], dtype=bool)
        codes = np.asarray(raw["status"])
        self.status: np.ndarray = np.asarray(_core.TERMINATION_NAMES, dtype=object)[codes]
        self.cost: np.ndarray = np.asarray(raw["cost"])
        self.n_iter: np.ndarray = np.asarray(raw["n_iter"])
        self._jack: np.ndarray | None = None
        result._boot = self

    @property
    def n(self) -> int:
        """Number of replicates run."""
        return int(self.samples.shape[0])

    @property
    def n_failed(self) -> int:
        """Replicates whose refit did not converge (excluded from intervals)."""
        return int((~self.success).sum())

    @property
    def param_names(self) -> tuple[str, ...]:
        """Parameter names, the columns of ``samples``."""
        return self.result.param_names

    @property
    def se(self) -> dict[str, float]:
        """Bootstrap standard errors (successful replicates)."""
        good = self.samples[self.success]
        sd = good.std(axis=0, ddof=1) if good.shape[0] > 1 else np.full(good.shape[1], np.nan)
        return dict(zip(self.param_names, (float(v) for v in sd)))

    def jackknife(self) -> np.ndarray:
        """Leave-one-out (or leave-one-cluster-out) refits, for BCa's acceleration."""
        if self._jack is None:
            opts = self.result._options
            raw = _core.bootstrap(  # type: ignore[call-arg]  # mypy cannot count *args
                *self.result._core_args(),
                list(self.result.values),
                "case",
                1,
                0,
                self._labels,
                0.0,
                float(opts["ftol"]),
                float(opts["xtol"]),
                float(opts["gtol"]),
                int(opts["max_iter"]),
                True,
                None,
            )
            jk = np.asarray(raw["samples"])
            self._jack = jk[np.asarray(raw["success"], dtype=bool)]
        return self._jack

    def quantities(
        self,
        budgets: Sequence[float] | None = None,
        k: float = 6.0,
        functions: Mapping[str, Callable[[np.ndarray], np.ndarray]] | None = None,
    ) -> tuple[list[str], np.ndarray, np.ndarray, Callable[[np.ndarray], np.ndarray]]:
        """Names, replicate matrix, full-data estimates and the map from a parameter matrix to
        all quantities: the free parameters, the compute-optimal quantities for laws with N and
        D terms (a, b, eta, G, and N*, D*, D*/N*, L* at each budget), and ``functions``
        (each takes the (m, p) parameter matrix and returns m values)."""
        res = self.result
        free = [i for i, nme in enumerate(res.param_names) if nme not in res.fixed]
        idx = res._nd_index()
        budgets = [] if budgets is None else [float(c) for c in np.atleast_1d(budgets)]
        if budgets and idx is None:
            raise InvalidOptionError(
                f"compute-optimal budgets need a law with N and D terms, not '{res.law}'"
            )
        names = [res.param_names[i] for i in free]
        dnames: list[str] = []
        if idx is not None:
            dnames, _ = _core.derived(res.values[None, :], idx, budgets, float(k))
        fnames = list(functions or {})

        def compute(mat: np.ndarray) -> np.ndarray:
            mat = np.ascontiguousarray(mat, dtype=np.float64)
            cols = [mat[:, free]]
            if idx is not None:
                cols.append(_core.derived(mat, idx, budgets, float(k))[1])
            for f in (functions or {}).values():
                v = np.asarray(f(mat), dtype=np.float64).reshape(mat.shape[0], -1)
                if v.shape[1] != 1:
                    raise InvalidOptionError("each function must return one value per row")
                cols.append(v)
            return np.hstack(cols)

        all_names = names + list(dnames) + fnames
        return all_names, compute(self.samples[self.success]), compute(res.values[None, :])[0], compute

    def ci(
        self,
        level: float = 0.95,
        method: str = "percentile",
        *,
        budgets: Sequence[float] | None = None,
        k: float = 6.0,
        functions: Mapping[str, Callable[[np.ndarray], np.ndarray]] | None = None,
    ) -> pd.DataFrame:
        """Intervals as a DataFrame: parameter, estimate, lower, upper, se.

        Args:
            level: coverage, e.g. 0.95.
            method: ``"percentile"``, ``"basic"`` or ``"bca"`` (bias-corrected and
                accelerated; runs the jackknife once, lazily).
            budgets: compute budgets C for N*(C), D*(C), D*/N* and L*(C) rows (laws with N
                and D terms), with C = k N D.
            functions: extra quantities: name -> f(parameter matrix) -> one value per row.
        """
        if method not in INTERVALS:
            raise InvalidOptionError(
                f"unknown interval method '{method}': use {', '.join(INTERVALS)}"
            )
        if not 0.0 < level < 1.0:
            raise InvalidOptionError(f"level must be in (0, 1), got {level}")
        names, reps, est, compute = self.quantities(budgets, k, functions)
        jk = compute(self.jackknife()) if method == "bca" else None
        lo, hi = _core.intervals(reps, list(est), float(level), method, jk)
        se = reps.std(axis=0, ddof=1) if reps.shape[0] > 1 else np.full(len(names), np.nan)
        return pd.DataFrame(
            {"parameter": names, "estimate": est, "lower": lo, "upper": hi, "se": se}
        )

    def summary(self, level: float = 0.95, method: str = "percentile") -> str:
        """A text report: the run, failures, and the intervals."""
        table = self.ci(level=level, method=method)
        lines = [
            f"bootstrap: {self.n} replicates, method={self.method}, seed={self.seed}, "
            f"law={self.result.law}, loss={self.result.loss}",
            f"converged: {self.n - self.n_failed}; failed (excluded): {self.n_failed}",
        ]
        if self.n_failed:
            kinds = pd.Series(self.status[~self.success]).value_counts()
            lines.append("failures: " + ", ".join(f"{k} x{v}" for k, v in kinds.items()))
        lines.append(f"{level:.0%} {method} intervals:")
        lines.append(table.to_string(index=False))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<BootstrapResult {self.result.law}: {self.n} replicates ({self.method}), "
            f"{self.n_failed} failed>"
        )

    def plot(self, **kwargs: Any) -> Any:
        """Histograms of the parameters and scatter plots of their pairs; returns the
        matplotlib Figure. See :func:`powerfit.plot.plot_bootstrap`."""
        from .plot import plot_bootstrap

        return plot_bootstrap(self, **kwargs)
