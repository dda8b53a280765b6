"""Bootstrap refits: thousands of resampled fits in parallel in the Rust core, and intervals
for parameters and derived quantities."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import _check, _core, _display
from ._deprecate import renamed, renamed_attribute
from ._progress import Progress
from .analysis import nd_index
from .errors import InvalidOptionError
from .errors import warn as warn_user
from .record import FitRecord

#: Resampling schemes (``resample=``) and interval types (``interval=``), defined by the core.
RESAMPLING: tuple[str, ...] = tuple(_core.BOOTSTRAP_METHODS)
METHODS = RESAMPLING
INTERVALS: tuple[str, ...] = tuple(_core.INTERVAL_METHODS)
#: Ratio of the standard deviation to the robust spread above which a few outlying replicates,
#: not the bulk, decide the standard error (for a normal sample the ratio is about 1).
HEAVY_TAILS = 2.0
#: Share of failed replicates above which a warning is raised.
FAIL_WARN = 0.01


def _labels(res: FitRecord, cluster: Any) -> list[int] | None:
    """Cluster ids 0..k-1 per row, from a variable name of the fit or an array of labels."""
    if cluster is None:
        return None
    if isinstance(cluster, str):
        if cluster not in res.variables:
            raise InvalidOptionError(
                f"cluster='{cluster}' is not a variable of this fit ({', '.join(res.variables)});"
                f" pass an array of labels, one per row"
            )
        values = res.data[cluster]
    else:
        values = np.asarray(cluster)
        if values.ndim != 1:
            raise InvalidOptionError(
                f"cluster labels must be one label per row, got shape {values.shape}"
            )
    _, codes = np.unique(values, return_inverse=True)
    return codes.astype(np.int64).tolist()


def _functions(functions: Any) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """``functions=`` as a dict of name -> callable."""
    if functions is None:
        return {}
    if not isinstance(functions, Mapping) or not all(
        isinstance(k, str) and callable(f) for k, f in functions.items()
    ):
        raise InvalidOptionError(
            "functions must be a dict of name -> function of the (m, p) parameter matrix, "
            f"got {_check.shown(functions)}"
        )
    return dict(functions)


def _function_values(name: str, out: Any, rows: int) -> np.ndarray:
    """What function ``name`` returned, as one number per row."""
    try:
        v = np.asarray(out, dtype=np.float64)
    except (TypeError, ValueError):
        v = None
    if v is None or v.size != rows:
        raise InvalidOptionError(
            f"functions['{name}'] must return one number per row of the parameter matrix "
            f"({rows}), got {_check.shown(out)}"
        )
    return v.reshape(rows, 1)


def run(
    res: FitRecord,
    n_boot: int = 1000,
    resample: str = "case",
    *,
    seed: int = 0,
    cluster: Any = None,
    progress: bool | None = None,
) -> BootstrapResult:
    """Refit ``res``'s problem on ``n_boot`` resampled data sets in the core (see
    :meth:`powerfit.FitResult.bootstrap`)."""
    resample = _check.name(resample, "resample")
    seed = _check.count(seed, "seed")
    progress = _check.optional_flag(progress, "progress")
    labels = _labels(res, cluster) if resample == "cluster" else None
    total = n_boot if isinstance(n_boot, int) and 0 < n_boot < 2**63 else 0
    with Progress(total, progress, "bootstrap", "fit") as bar:
        reps = res.problem.bootstrap(
            res.solution,
            n_boot=n_boot,
            resample=resample,
            seed=seed,
            labels=labels,
            progress=bar.callback,
        )
    boot = BootstrapResult(res, reps, resample=resample, seed=seed, labels=labels)
    if boot.n_failed > FAIL_WARN * boot.n:
        warn_user(
            f"{boot.n_failed} of {boot.n} bootstrap replicates ({boot.n_failed / boot.n:.1%}) did "
            f"not converge; they are excluded from the intervals"
        )
    return boot


def _spreads(reps: np.ndarray, q: int) -> tuple[np.ndarray, np.ndarray]:
    """The replicates' standard deviation and a robust spread (the interquartile range over
    1.349, which equals the standard deviation for normal replicates), per column."""
    if reps.shape[0] < 2:
        nan = np.full(q, np.nan)
        return nan, nan
    sd = reps.std(axis=0, ddof=1)
    q25, q75 = np.nanpercentile(reps, [25.0, 75.0], axis=0)
    return sd, (q75 - q25) / 1.349


class BootstrapResult:
    """Replicates of a bootstrap run and the intervals they give.

    Attributes:
        result: the full-data :class:`~powerfit.FitResult`.
        samples: ``(n, p)`` ndarray of replicate estimates in the law's parameter order.
        success: boolean mask of replicates whose refit converged.
        status: why each refit stopped (array of names).
        resample: the resampling scheme (``method`` is its old name).
        seed, n (the number of replicates), n_failed.
    """

    method = renamed_attribute("resample")

    def __init__(
        self,
        result: FitRecord,
        replicates: _core.Replicates,
        *,
        resample: str,
        seed: int,
        labels: list[int] | None,
    ) -> None:
        self.result = result
        self.replicates = replicates
        self.resample = resample
        self.seed = seed
        self.labels = labels
        self.samples: np.ndarray = replicates.samples
        self.success: np.ndarray = replicates.success
        self.status: np.ndarray = np.asarray(replicates.status, dtype=object)
        self.cost: np.ndarray = replicates.cost
        self.n_iter: np.ndarray = replicates.n_iter
        self._jack: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of replicates run."""
        return int(self.samples.shape[0])

    @property
    def robust_se(self) -> dict[str, float]:
        """A robust spread of each parameter's replicates (interquartile range / 1.349: the
        standard deviation for normal replicates, unmoved by a few outlying ones), to read
        beside :attr:`se`."""
        _, robust = _spreads(self.converged, len(self.param_names))
        return dict(zip(self.param_names, (float(v) for v in robust)))

    @property
    def converged(self) -> np.ndarray:
        """The replicates whose refit converged, (m, p): what every interval is computed from."""
        return np.ascontiguousarray(self.samples[self.success])

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
            res = self.result
            jk = res.problem.jackknife(res.solution, labels=self.labels)
            self._jack = np.ascontiguousarray(jk.samples[jk.success])
        return self._jack

    @renamed({"k": "flops_per_param_token"})
    def quantities(
        self,
        budgets: Sequence[float] | None = None,
        flops_per_param_token: float = 6.0,
        functions: Mapping[str, Callable[[np.ndarray], np.ndarray]] | None = None,
    ) -> tuple[list[str], np.ndarray, np.ndarray, Callable[[np.ndarray], np.ndarray]]:
        """Names, replicate matrix, full-data estimates and the map from a parameter matrix to
        all quantities: the free parameters, the compute-optimal quantities for laws with N and
        D terms (a, b, eta, G, and N_opt, D_opt, D_opt/N_opt, L_opt at each budget), and
        ``functions``
        (each takes the (m, p) parameter matrix and returns m values)."""
        res = self.result
        k = flops_per_param_token
        free = [i for i, nme in enumerate(res.param_names) if nme not in res.fixed]
        idx = nd_index(res)
        budgets = [] if budgets is None else _check.reals(budgets, "budgets").tolist()
        functions = _functions(functions)
        if budgets and idx is None:
            raise InvalidOptionError(
                f"compute-optimal budgets need a law with N and D terms, not '{res.law}'"
            )
        names = [res.param_names[i] for i in free]
        dnames: list[str] = []
        if idx is not None:
            dnames, _ = _core.derived(res.values[None, :], idx, budgets, k)
        fnames = list(functions)

        def compute(mat: np.ndarray) -> np.ndarray:
            mat = np.ascontiguousarray(mat, dtype=np.float64)
            cols = [mat[:, free]]
            if idx is not None:
                cols.append(_core.derived(mat, idx, budgets, k)[1])
            for fname, f in functions.items():
                v = _function_values(fname, f(mat), mat.shape[0])
                cols.append(v)
            return np.hstack(cols)

        all_names = names + list(dnames) + fnames
        return all_names, compute(self.converged), compute(res.values[None, :])[0], compute

    @renamed({"method": "interval", "k": "flops_per_param_token"})
    def ci(
        self,
        level: float = 0.95,
        interval: str = "percentile",
        *,
        budgets: Sequence[float] | None = None,
        flops_per_param_token: float = 6.0,
        functions: Mapping[str, Callable[[np.ndarray], np.ndarray]] | None = None,
    ) -> pd.DataFrame:
        """Intervals as a DataFrame: parameter, estimate, lower, upper, se.

        Args:
            level: coverage, e.g. 0.95.
            interval: how the interval is read from the replicates (formerly ``method``):
                ``"percentile"``, ``"basic"`` or ``"bca"`` (bias-corrected and accelerated;
                runs the jackknife once, lazily).
            budgets: compute budgets C for rows N_opt, D_opt, D_opt/N_opt and L_opt at each
                budget (laws with N and D terms), with C = k N D.
            flops_per_param_token: k in C = k N D (formerly ``k``).
            functions: extra quantities: name -> f(parameter matrix) -> one value per row.
        """
        interval = _check.name(interval, "interval")
        names, reps, est, compute = self.quantities(budgets, flops_per_param_token, functions)
        jk = compute(self.jackknife()) if interval == "bca" else None
        lo, hi = _core.intervals(reps, est, level, interval, jk)
        se, robust = _spreads(reps, len(names))
        heavy = [n for n, a, b in zip(names, se, robust) if a > HEAVY_TAILS * b]
        if heavy:
            warn_user(
                f"the bootstrap standard error of {', '.join(heavy)} is dominated by a few "
                f"outlying replicates (more than {HEAVY_TAILS:g} times the robust spread, "
                f"BootstrapResult.robust_se); read the interval, not the se"
            )
        return pd.DataFrame(
            {"parameter": names, "estimate": est, "lower": lo, "upper": hi, "se": se}
        )

    @renamed({"method": "interval"})
    def summary(self, level: float = 0.95, interval: str = "percentile") -> str:
        """A text report: the run, failures, and the intervals."""
        table = self.ci(level=level, interval=interval)
        _, reps, _, _ = self.quantities()
        table["robust_se"] = _spreads(reps, len(table))[1]
        lines = [
            f"bootstrap: {self.n} replicates, resample={self.resample}, seed={self.seed}, "
            f"law={self.result.law}, loss={self.result.loss}",
            f"converged: {self.n - self.n_failed}; failed (excluded): {self.n_failed}",
        ]
        if self.n_failed:
            kinds = pd.Series(self.status[~self.success]).value_counts()
            lines.append("failures: " + ", ".join(f"{k} x{v}" for k, v in kinds.items()))
        lines.append(f"{level:.0%} {interval} intervals:")
        lines.append(table.to_string(index=False))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return _display.bootstrap_text(self)

    def _repr_html_(self) -> str:
        return _display.bootstrap_html(self)

    def plot(self, **kwargs: Any) -> Any:
        """Histograms of the parameters and scatter plots of their pairs; returns the
        matplotlib Figure. See :func:`powerfit.plot.plot_bootstrap`."""
        from .plot import plot_bootstrap

        return plot_bootstrap(self, **kwargs)
