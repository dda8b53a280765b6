"""Fitting one data set: :func:`fit`, its :class:`FitResult`, :func:`bootstrap` and
:func:`load`.

A fit crosses into the core once: the data are converted to float64 columns here, and the core
builds and checks a :class:`powerfit._core.Model` (law, loss, parameter specification) and a
:class:`powerfit._core.Problem` (the model with its data), then fits it. The result keeps the
problem, so its bootstrap sends nothing again.
"""

from __future__ import annotations

import inspect
import os
import time
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _check, _core, _display, analysis, provenance, saved
from . import bootstrap as _boot
from ._data import as_table, available, gather
from ._deprecate import renamed
from .compute import budget as budget_plan
from .diagnostics import fit_warnings
from .errors import warn as warn_user
from .expr import Law, with_defaults
from .record import FitRecord
from .report import summary_text

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .bootstrap import BootstrapResult

_D = _core.DEFAULTS


@lru_cache(maxsize=128)
def _cached_model(
    law: Any, avail: tuple[str, ...], x: Any, loss: Any, delta: Any, penalty: Any
) -> _core.Model:
    return _core.Model(law, list(avail), x, loss=loss, delta=delta, overestimate_penalty=penalty)


def _model(law: Any, avail: list[str], x: Any, options: Mapping[str, Any]) -> _core.Model:
    """The native model; models without fixed values or bounds are reused across fits (they
    are immutable), which saves rebuilding the law on every call of a loop."""
    if options.get("fixed") is None and options.get("bounds") is None:
        try:
            return _cached_model(
                law,
                tuple(avail),
                x,
                options["loss"],
                options["delta"],
                options["overestimate_penalty"],
            )
        except TypeError:  # an unhashable argument: the core will say what is wrong with it
            pass
    return _core.Model(law, avail, x, **options)


@lru_cache(maxsize=128)
def _cached_options(*args: Any) -> _core.FitOptions:
    return _core.FitOptions(*args)


def _options(
    starts: Any, p0: Any, ftol: Any, xtol: Any, gtol: Any, max_iter: Any
) -> _core.FitOptions:
    """The native fit options, reused across calls with the same plain values."""
    key = tuple(p0) if isinstance(p0, (list, tuple)) else p0
    if key is None or isinstance(key, tuple):
        try:
            return _cached_options(starts, key, ftol, xtol, gtol, max_iter)
        except TypeError:  # an unhashable value: the core will say what is wrong with it
            pass
    return _core.FitOptions(starts, p0, ftol, xtol, gtol, max_iter)


def _problem(
    data: Any,
    law: Any,
    x: Any,
    y: Any,
    arrays: Mapping[str, Any],
    columns: Mapping[str, str] | None,
    weights: Any,
    model_options: Mapping[str, Any],
) -> _core.Problem:
    """The native problem: the model built (and checked) by the core, then the data."""
    cols = _check.mapping(columns, "columns")
    data = as_table(data)
    written = list(law.variables) if isinstance(law, Law) else None
    law_arg = law.native if isinstance(law, Law) else law
    avail, xname = available(data, law, x, arrays, cols, written)
    model = _model(law_arg, avail, xname, model_options)
    xs, labels, yv, yname, w = gather(data, model.variables, x, y, arrays, cols, weights)
    return _core.Problem(model, xs, yv, labels=labels, y_name=yname, weights=w)


def fit(
    data: Any = None,
    law: str | Law = "chinchilla",
    *,
    x: Any = None,
    y: Any = None,
    N: Any = None,
    D: Any = None,
    C: Any = None,
    columns: Mapping[str, str] | None = None,
    loss: str = _D["loss"],
    delta: float = _D["delta"],
    overestimate_penalty: float = _D["overestimate_penalty"],
    weights: Any = None,
    fixed: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
    p0: Mapping[str, float] | Sequence[float] | None = None,
    starts: str = _D["starts"],
    ftol: float = _D["ftol"],
    xtol: float = _D["xtol"],
    gtol: float = _D["gtol"],
    max_iter: int = _D["max_iter"],
    warn: bool = True,
) -> FitResult:
    """Fit a scaling law.

    Args:
        data: a pandas or polars DataFrame, a pyarrow Table, a dict of columns, or anything
            :func:`powerfit.readers.read_table` reads (a path to CSV, Parquet, JSON lines,
            Feather; a DuckDB relation; a polars LazyFrame). Columns are named N, D, C and loss
            by default; map others with ``columns``. Omit it to pass arrays (``N=``, ``D=``,
            ``C=``, ``x=``, ``y=``).
        law: ``"power"``, ``"chinchilla"``, ``"additive"`` or ``"kaplan"`` (see
            :mod:`powerfit.laws` for the formulas), or a written law, a :class:`powerfit.Law`
            (its ``p0`` and ``bounds`` are the defaults of this call's).
        x: for ``law="power"``: which column is x (``"N"``, ``"D"``, ``"C"``, ...) or its values;
            for a :class:`~powerfit.Law` of one variable, that variable's values.
        y: observed losses, when ``data`` is not given.
        N, D, C: variable arrays, when ``data`` is not given.
        columns: maps law variables and ``loss`` to data columns, e.g.
            ``{"N": "params", "D": "tokens", "loss": "val_loss"}``.
        loss: ``"l2"`` (residuals in L), ``"log"`` (residuals in log L), ``"huber_log"`` (Huber
            with ``delta`` on log residuals, summed: the Hoffmann/Epoch estimator), ``"huber"``,
            ``"asymmetric"`` / ``"asymmetric_log"`` (over-predictions weighted by
            ``overestimate_penalty``).
        delta: Huber threshold (default 1e-3, as Hoffmann et al.).
        overestimate_penalty: weight of over-predictions in the asymmetric losses.
        weights: per-point weights (array, or a column name).
        fixed: parameters held at given values, e.g. ``{"E": 1.7}``.
        bounds: ``{"alpha": (0, 2)}``; None for an open side.
        p0: starting values (dict or sequence in the law's order). With ``starts="auto"`` it is
            tried alongside the automatic starts; ``starts="given"`` uses it alone (for a
            power sum, with its constant and amplitudes first solved at its exponents, kept
            when that lowers the loss).
        starts: ``"auto"`` (variable projection over a grid of exponents, then
            Levenberg-Marquardt from the best grid minima), ``"grid"`` (Hoffmann et al.'s
            4,500-start grid) or ``"given"``.
        ftol, xtol, gtol: relative stopping tolerances (cost reduction, step, gradient cosine).
        max_iter: iteration limit of each local solve.
        warn: emit :class:`~powerfit.PowerfitWarning` for diagnostics (always in ``summary()``).

    Returns:
        A :class:`FitResult`.

    Raises:
        InvalidDataError: NaN, infinite or non-positive values (naming column and row), missing
            columns, too few points, a constant loss column.
        InvalidLawError: unknown law, or a parameter the law does not have; a written law that
            is NaN or infinite at the starting point.
        InvalidOptionError: unknown loss or starts, bounds that exclude the start, a tolerance
            or iteration limit out of range, ...
    """
    warn = _check.flag(warn, "warn")
    if isinstance(law, Law):
        p0, bounds = with_defaults(law, p0, bounds)
    problem = _problem(
        data,
        law,
        x,
        y,
        {"N": N, "D": D, "C": C},
        columns,
        weights,
        {
            "loss": loss,
            "delta": delta,
            "overestimate_penalty": overestimate_penalty,
            "fixed": fixed,
            "bounds": bounds,
        },
    )
    options = _options(starts, p0, ftol, xtol, gtol, max_iter)
    res = FitResult(problem, problem.fit(options), law if isinstance(law, Law) else None)
    call = dict(law=law, x=x, y=y, N=N, D=D, C=C, columns=columns, loss=loss, delta=delta,
                overestimate_penalty=overestimate_penalty, weights=weights, fixed=fixed,
                bounds=bounds, p0=p0, starts=starts, ftol=ftol, xtol=xtol, gtol=gtol,
                max_iter=max_iter)  # fmt: skip
    res._provenance = _Origin("pf.fit", data, call)
    if warn:
        for msg in res.warnings:
            warn_user(msg)
    return res


class _Origin:
    """How a fit was made, kept raw and rendered when asked for (most fits are never
    reported). A file's digest is taken at once, so that it names the bytes that were fitted."""

    def __init__(self, func: str, data: Any, call: Mapping[str, Any]) -> None:
        path = isinstance(data, (str, os.PathLike))
        self.func = func
        self.data = data if path or data is None else provenance.IN_MEMORY
        self.input = provenance.describe(data)
        self.call = call
        self.time = time.time()

    def render(self, res: FitRecord) -> dict[str, str]:
        defaults = _fit_defaults() if self.func == "pf.fit" else {}
        kw = {
            k: v
            for k, v in self.call.items()
            if k == "law" or not (k in defaults and _same(v, defaults[k]))
        }
        shown = [] if self.data is None else [self.data]
        p = res.problem
        return {
            **self.input,
            "call": provenance.call_text(self.func, shown, kw),
            "data sha256": provenance.data_digest(list(p.columns), p.y, p.weights),
            "powerfit": str(_core.__version__),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.time)),
        }


@lru_cache(maxsize=1)
def _fit_defaults() -> dict[str, Any]:
    return {
        k: p.default
        for k, p in inspect.signature(fit).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def _same(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # an array or a table: never a default
        return False


class FitResult(FitRecord):
    """The outcome of :func:`fit`. Read-only.

    Attributes:
        law: the law's name; ``param_names``: its parameters in order.
        params, stderr: dicts in the law's parameter order (stderr is NaN where no covariance
            could be estimated; fixed parameters have stderr 0).
        covariance: p x p ndarray in natural units, or None (``cov_note`` says why).
        cost: the minimised objective (1/2 sum of squares, or summed Huber).
        success, status, message: whether and why the solver stopped.
        n_iter, nfev: iterations and law evaluations of the best local solve.
        n_points, dof, aic, bic: statistics (AIC/BIC for least-squares losses only).
        boot: the bootstrap run the intervals use (the latest :meth:`bootstrap`), or None.
        problem, solution: the native problem and solution (see :class:`FitRecord`).
    """

    def __init__(
        self,
        problem: _core.Problem,
        solution: _core.Fit,
        written_law: Law | None = None,
        saved_bootstrap: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(problem, solution, written_law)
        self._selection: Any = None
        self._provenance: _Origin | dict[str, str] | None = None
        if saved_bootstrap is not None:
            b = saved_bootstrap
            self._boot = _boot.BootstrapResult(
                self, b["replicates"], resample=b["method"], seed=b["seed"], labels=b["labels"]
            )

    @property
    def selection(self) -> Any:
        """With ``pf.fit(..., law="auto")``: the :class:`powerfit.forecast.Selection` that chose
        the law (the candidates ranked by held-out error, with AIC/BIC beside it); else None."""
        return self._selection

    def with_selection(self, selection: Any) -> FitResult:
        """The same fit, recording the law selection that chose it (a new result)."""
        out = type(self)(self.problem, self.solution, self.written_law)
        out._boot = self._boot
        out._selection = selection
        return out

    # --- display ----------------------------------------------------------------------------
    def __repr__(self) -> str:
        return _display.fit_text(self)

    def _repr_html_(self) -> str:
        return _display.fit_html(self, self.boot)

    # --- diagnostics and reports ----------------------------------------------------------
    @property
    def provenance(self) -> dict[str, str]:
        """Where the fit came from, for reports: ``source`` (the input file, or what kind of
        object), ``sha256`` (of that file), ``call`` (the call that made the fit),
        ``data sha256`` (of the float64 data as fitted: the variables in order, the losses,
        the weights), ``powerfit`` (the version) and ``created`` (UTC)."""
        origin = self._provenance
        if isinstance(origin, _Origin):
            return origin.render(self)
        if isinstance(origin, dict):
            return dict(origin)
        return _Origin("FitResult", None, {}).render(self)

    @property
    def warnings(self) -> list[str]:
        """Diagnostics: what the data cannot support (also listed in ``summary()``)."""
        if self._warnings is None:
            self._warnings = fit_warnings(self)
        return list(self._warnings)

    def summary(self) -> str:
        """A text report: the fit's settings, status, statistics, parameters, the bootstrap in
        use and the warnings."""
        return summary_text(self)

    # --- follow-ups ---------------------------------------------------------------------------
    @renamed({"n": "n_boot", "method": "resample"})
    def bootstrap(
        self,
        n_boot: int = 1000,
        resample: str = "case",
        *,
        seed: int = 0,
        cluster: Any = None,
        progress: bool | None = None,
    ) -> BootstrapResult:
        """Refit on ``n_boot`` resampled data sets in parallel, each from this fit's estimate
        with its law, loss, bounds, fixed parameters and options.

        The run becomes this fit's :attr:`boot`: the one ``compute_optimal``,
        ``predict_interval``, the plots and reports take their intervals from (a later run
        replaces it; ``summary()`` says which is in use).

        Args:
            n_boot: number of replicates (formerly ``n``).
            resample: the resampling scheme (formerly ``method``): ``"case"`` (resample
                rows), ``"cluster"`` (resample whole clusters: give
                ``cluster="N"`` for all runs of one model size, or an array of labels),
                ``"residual"`` (fitted values plus resampled residuals on the loss's scale) or
                ``"parametric"`` (fitted values plus Gaussian noise of the estimated scale).
            seed: fixes every draw; replicate i uses its own stream derived from (seed, i), so
                results do not depend on the number of threads.
            cluster: cluster variable or labels for ``resample="cluster"``.
            progress: show a progress bar (default: when stderr is a terminal).

        Returns:
            A :class:`~powerfit.BootstrapResult`. Replicates whose refit did not converge are
            kept in ``samples`` but flagged in ``success`` and excluded from every interval.

        Raises:
            InvalidOptionError: unknown resampling scheme, n_boot < 1, missing cluster labels,
                a request too large for the machine's memory.
            KeyboardInterrupt: Ctrl-C stops the run within a second.
        """
        boot = _boot.run(self, n_boot, resample, seed=seed, cluster=cluster, progress=progress)
        self._boot = boot
        return boot

    @renamed({"C": "budgets", "k": "flops_per_param_token", "budget": "budgets"})
    def compute_optimal(
        self,
        budgets: Any,
        flops_per_param_token: float = 6.0,
        level: float = 0.95,
        *,
        warn: bool = True,
    ) -> pd.DataFrame:
        """Compute-optimal N_opt, D_opt, tokens per parameter and L_opt at each compute budget
        C = k N D (k = ``flops_per_param_token``), with interval columns from :attr:`boot` and
        each budget's distance from the data (``decades_beyond``); see
        :func:`powerfit.analysis.compute_optimal`.

        ``budgets`` are FLOPs, or a :class:`powerfit.Budget` (accelerators for a time,
        accelerator-hours or money, with the achieved MFU): the plan then comes in FLOPs,
        accelerator-hours and money (see :func:`powerfit.compute.plan`)."""
        if budget_plan.holds_budget(budgets):
            return budget_plan.compute_optimal(
                self, budgets, flops_per_param_token, level=level, warn=warn
            )
        return analysis.compute_optimal(
            self, budgets, flops_per_param_token=flops_per_param_token, level=level, warn=warn
        )

    @renamed({"k": "flops_per_param_token"})
    def inference_optimal(
        self,
        target_loss: float,
        inference_tokens: float,
        flops_per_param_token: float = 6.0,
        *,
        budget: Any = None,
    ) -> Any:
        """Inference-aware sizing; see :func:`powerfit.analysis.inference_optimal`. With
        ``budget=`` a :class:`powerfit.Budget`, the sizing comes back as a Series with its
        FLOPs also in accelerator-hours and money and ``fits_budget``."""
        if budget is not None:
            return budget_plan.inference_optimal(
                self, target_loss, inference_tokens, budget, flops_per_param_token
            )
        return analysis.inference_optimal(
            self, target_loss, inference_tokens, flops_per_param_token=flops_per_param_token
        )

    def elasticities(self, data: Any = None, **points: Any) -> pd.DataFrame:
        """Elasticities and marginal values at points; see
        :func:`powerfit.analysis.elasticities`."""
        return analysis.elasticities(self, data, **points)

    def predict_interval(
        self,
        data: Any = None,
        *,
        level: float = 0.95,
        kind: str = "confidence",
        seed: int = 0,
        **points: Any,
    ) -> pd.DataFrame:
        """Bootstrap confidence or prediction intervals for :meth:`predict`; see
        :func:`powerfit.analysis.predict_interval`."""
        return analysis.predict_interval(self, data, level=level, kind=kind, seed=seed, **points)

    # --- plots, reports and files ---------------------------------------------------------
    def plot(self, **kwargs: Any) -> Any:
        """Data and fitted law on log-log axes, with the bootstrap band after
        :meth:`bootstrap`; returns the matplotlib Figure. See :func:`powerfit.plot.plot_fit`."""
        from .plot import plot_fit

        return plot_fit(self, **kwargs)

    def plot_residuals(self, **kwargs: Any) -> Any:
        """Residuals against each variable and their histogram; returns the Figure. See
        :func:`powerfit.plot.plot_residuals`."""
        from .plot import plot_residuals

        return plot_residuals(self, **kwargs)

    def plot_frontier(
        self, C_min: float | None = None, C_max: float | None = None, **kwargs: Any
    ) -> Any:
        """Compute-optimal N_opt and D_opt for budgets C in [C_min, C_max], with bootstrap
        bands; returns the Figure. See :func:`powerfit.plot.plot_frontier`."""
        from .plot import plot_frontier

        return plot_frontier(self, C_min, C_max, **kwargs)

    def report(self, path: Any, **kwargs: Any) -> Any:
        """Write a shareable report (``.html``, self-contained, or ``.md``) with the tables
        and plots; returns its path. See :func:`powerfit.html.report`."""
        from .html import report

        return report(self, path, **kwargs)

    def save(self, path: str | os.PathLike[str], bootstrap: bool = True) -> Path:
        """Save the fit (and its bootstrap replicates) as JSON; reload with
        :func:`powerfit.load`. Returns the path."""
        return saved.save(self, path, bootstrap=bootstrap)

    def to_dict(self, bootstrap: bool = True) -> dict[str, Any]:
        """Everything :func:`powerfit.load` needs to rebuild the fit, as a JSON-safe dict."""
        return saved.to_dict(self, bootstrap=bootstrap)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> FitResult:
        """Rebuild a fit from :meth:`to_dict`'s output (checked as :func:`load` checks a
        file)."""
        return cls._from_saved(saved.from_dict(doc))

    @classmethod
    def _from_saved(cls, s: saved.Saved) -> FitResult:
        rec = s.record
        return cls(rec.problem, rec.solution, rec.written_law, s.bootstrap)


@renamed({"n": "n_boot", "method": "resample"})
def bootstrap(
    result: Any,
    n_boot: int = 1000,
    resample: str = "case",
    *,
    seed: int = 0,
    cluster: Any = None,
    progress: bool | None = None,
    **fit_kwargs: Any,
) -> BootstrapResult:
    """Refit on ``n_boot`` resampled data sets, in parallel, each from the full-data estimate.

    ``result`` is a :class:`FitResult`, or data to fit first with ``fit_kwargs``; see
    :meth:`FitResult.bootstrap` for the other arguments.
    """
    res = result if isinstance(result, FitResult) else fit(result, **fit_kwargs)
    return res.bootstrap(n_boot, resample, seed=seed, cluster=cluster, progress=progress)


def load(path: str | os.PathLike[str]) -> FitResult:
    """Load a fit saved with :meth:`FitResult.save` (or ``powerfit fit --out FILE.json``).

    The result predicts, reports and plots like the original; saved bootstrap replicates come
    back as its :attr:`~FitResult.boot`. The whole document is checked on loading.

    Raises:
        FileNotFoundError: no such file.
        InvalidDataError: the file is not a saved fit, or is corrupt (the message names the
            field).
    """
    res = FitResult._from_saved(saved.read(path))
    res._provenance = _Origin("pf.load", path, {})
    return res


def load_bootstrap(path: str | os.PathLike[str]) -> BootstrapResult:
    """The bootstrap replicates saved with a fit (its ``.result`` is the fit)."""
    from .errors import InvalidDataError

    res = load(path)
    if res.boot is None:
        raise InvalidDataError(f"{path} holds no bootstrap replicates")
    return res.boot


__all__ = ["FitResult", "bootstrap", "fit", "load", "load_bootstrap"]
