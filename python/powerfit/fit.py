"""Fitting one data set: :func:`fit` and its :class:`FitResult`."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _core
from ._data import as_float_array, column_names, find_y, get_column, resolve_column
from .errors import InvalidDataError, InvalidLawError, InvalidOptionError, PowerfitWarning
from .expr import Law
from .laws import SINGLE_VARIABLE, LawSpec, default_vars, law_spec

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .bootstrap import BootstrapResult

LOSSES = ("l2", "log", "huber", "huber_log", "asymmetric", "asymmetric_log")
FORMULAS = {
    "power": "L = L_inf + A*{x}^-alpha",
    "chinchilla": "L = E + A*N^-alpha + B*D^-beta",
    "additive": "L = L_inf + sum of amplitude*x^-exponent over {vars}",
    "kaplan": "L = ((N_c/N)^(alpha_N/alpha_D) + D_c/D)^alpha_D",
    "m1": "L = beta*{x}^-c",
    "m2": "L = eps_inf + beta*{x}^-c",
    "m3": "L = beta*({x}^-1 + gamma)^c",
    "m4": "(L - eps_inf)/(eps_0 - L)^alpha = beta*{x}^-c",
    "bnsl": "L = a + b*{x}^-c0*(1 + ({x}/d1)^(1/f1))^(-c1*f1)",
    "bnsl2": "L = a + b*{x}^-c0*prod_i (1 + ({x}/d_i)^(1/f_i))^(-c_i*f_i), i = 1, 2",
    "data_constrained": "L = E + A*N'^-alpha + B*D'^-beta (N', D': repetition-discounted)",
}


def check_law_and_loss(law: Any, loss: str, p0: Any, bounds: Any) -> tuple[Any, Any]:
    """Validates the law and loss arguments shared by fit and fit_groups; a written law's own
    p0 and bounds become the defaults."""
    if loss not in LOSSES:
        raise InvalidOptionError(f"unknown loss '{loss}'; losses are {', '.join(LOSSES)}")
    if isinstance(law, Law):
        return law._defaults(p0, bounds)
    if not isinstance(law, str):
        raise InvalidLawError(
            f"law must be a law name or a powerfit.Law, got {type(law).__name__}"
        )
    return p0, bounds


def _param_vector(
    spec: LawSpec, values: Mapping[str, float] | None, what: str
) -> dict[int, float]:
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise InvalidOptionError(f"{what} must be a dict of parameter name -> value")
    out = {}
    for name, v in values.items():
        if name not in spec.params:
            raise InvalidLawError(
                f"{what}: law '{spec.name}' has no parameter '{name}'; "
                f"its parameters are {', '.join(spec.params)}"
            )
        out[spec.params.index(name)] = v
    return out


def _options(
    spec: LawSpec,
    fixed: Mapping[str, float] | None,
    bounds: Mapping[str, tuple[float | None, float | None]] | None,
    p0: Mapping[str, float] | Sequence[float] | None,
) -> tuple[list[float | None], list[float], list[float], list[float] | None]:
    p = len(spec.params)
    fx: list[float | None] = [None] * p
    for k, v in _param_vector(spec, fixed, "fixed").items():
        fx[k] = float(v)
    lo = list(spec.lower) if len(spec.lower) == p else [-math.inf] * p
    hi = [math.inf] * p
    for k, b in _param_vector(spec, bounds, "bounds").items():  # type: ignore[arg-type]
        pair: Any = b
        try:
            blo, bhi = pair
        except (TypeError, ValueError):
            raise InvalidOptionError(
                f"bounds of '{spec.params[k]}' must be a (lower, upper) pair, got {b!r}"
            ) from None
        lo[k] = -math.inf if blo is None else float(blo)
        hi[k] = math.inf if bhi is None else float(bhi)
    start: list[float] | None = None
    if p0 is not None:
        if isinstance(p0, Mapping):
            given = _param_vector(spec, p0, "p0")
            missing = [
                spec.params[k] for k in range(p) if k not in given and fx[k] is None
            ]
            if missing:
                raise InvalidOptionError(f"p0 lacks a start for {', '.join(missing)}")
            start = [float(given.get(k, fx[k] or 0.0)) for k in range(p)]
        else:
            start = [float(v) for v in p0]
            if len(start) != p:
                raise InvalidOptionError(
                    f"p0 has {len(start)} values but law '{spec.name}' has {p} parameters "
                    f"({', '.join(spec.params)})"
                )
    return fx, lo, hi, start


def _gather(
    data: Any,
    law: str | Law,
    x: Any,
    y: Any,
    arrays: dict[str, Any],
    columns: Mapping[str, str],
    weights: Any,
) -> tuple[LawSpec, dict[str, np.ndarray], list[str], np.ndarray, str, np.ndarray | None]:
    """Finds the law's variables (with the names of their columns), the observations and the
    weights."""
    if data is not None:
        names = column_names(data)
        xname = x if isinstance(x, str) else None
        if law in SINGLE_VARIABLE and xname is None and x is None:
            avail = [v for v in ("N", "D", "C", "x") if columns.get(v, v) in names]
        else:
            avail = [v for v in ("N", "D", "C", "U") if columns.get(v, v) in names]
        spec = law_spec(law, default_vars(law, avail, xname))
        labels = [resolve_column(v, names, columns) for v in spec.vars]
        xs = {v: as_float_array(get_column(data, c), c) for v, c in zip(spec.vars, labels)}
        yname = find_y(names, columns)
        yv = as_float_array(get_column(data, yname), yname)
        if isinstance(weights, str):
            weights = get_column(data, resolve_column(weights, names, {}))
    else:
        if y is None:
            raise InvalidDataError("no observations: pass data=... or y=...")
        given = {k: v for k, v in arrays.items() if v is not None}
        if law in SINGLE_VARIABLE:
            if x is not None and not isinstance(x, str):
                given = {"x": x}
            elif isinstance(x, str):
                given = {x: given[x]} if x in given else {}
        elif isinstance(law, Law) and len(law.variables) == 1 and x is not None:
            if not isinstance(x, str):
                given = {law.variables[0]: x}
        spec = law_spec(law, default_vars(law, list(given)))
        missing = [v for v in spec.vars if v not in given]
        if missing:
            raise InvalidDataError(
                f"law '{law}' needs the variable(s) {', '.join(missing)}: pass them as arrays"
            )
        xs = {v: as_float_array(given[v], v) for v in spec.vars}
        labels = list(spec.vars)
        yname = "loss"
        yv = as_float_array(y, yname)
    w = None if weights is None else as_float_array(weights, "weights")
    return spec, xs, labels, yv, yname, w


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
    loss: str = "l2",
    delta: float = 1e-3,
    overestimate_penalty: float = 10.0,
    weights: Any = None,
    fixed: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
    p0: Mapping[str, float] | Sequence[float] | None = None,
    starts: str = "auto",
    ftol: float = 1e-10,
    xtol: float = 1e-10,
    gtol: float = 1e-10,
    max_iter: int = 200,
    warn: bool = True,
) -> FitResult:
    """Fit a scaling law.

    Args:
        data: a pandas or polars DataFrame, a pyarrow Table or a dict of columns. Columns are
            named N, D, C and loss by default; map others with ``columns``. Omit it to pass
            arrays (``N=``, ``D=``, ``C=``, ``x=``, ``y=``).
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
            tried alongside the automatic starts; ``starts="given"`` uses it alone.
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
            columns, too few points.
        InvalidLawError: unknown law, or a parameter the law does not have; a written law that
            is NaN or infinite at the starting point.
        InvalidOptionError: unknown loss or starts, bounds that exclude the start, ...
    """
    p0, bounds = check_law_and_loss(law, loss, p0, bounds)
    cols = dict(columns or {})
    spec, xs, labels, yv, yname, w = _gather(
        data, law, x, y, {"N": N, "D": D, "C": C}, cols, weights
    )
    fx, lo, hi, start = _options(spec, fixed, bounds, p0)
    if isinstance(law, Law):
        law._check_start([xs[v] for v in spec.vars], labels, start, fx, loss)
    raw = _core.fit(
        spec.arg,
        list(spec.vars),
        labels,
        [xs[v] for v in spec.vars],
        yv,
        yname,
        w,
        loss,
        float(delta),
        float(overestimate_penalty),
        fx,
        lo,
        hi,
        starts,
        start,
        float(ftol),
        float(xtol),
        float(gtol),
        int(max_iter),
    )
    res = FitResult(
        raw,
        spec,
        xs,
        yv,
        w,
        labels=labels,
        y_name=yname,
        loss=loss,
        delta=float(delta),
        penalty=float(overestimate_penalty),
        fixed=fx,
        lower=lo,
        upper=hi,
        options={"ftol": ftol, "xtol": xtol, "gtol": gtol, "max_iter": max_iter},
    )
    if warn:
        for msg in res.warnings:
            warnings.warn(msg, PowerfitWarning, stacklevel=2)
    return res


class FitResult:
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
    """

    def __init__(
        self,
        raw: dict[str, Any],
        spec: LawSpec,
        xs: dict[str, np.ndarray],
        y: np.ndarray,
        weights: np.ndarray | None,
        *,
        labels: list[str] | None = None,
        y_name: str = "loss",
        loss: str,
        delta: float,
        penalty: float,
        fixed: list[float | None],
        lower: list[float],
        upper: list[float],
        options: dict[str, Any],
    ) -> None:
        self._raw = raw
        self._spec = spec
        self._x = xs
        self._y = y
        self._w = weights
        self._labels = list(labels) if labels is not None else list(spec.vars)
        self._y_name = y_name
        self.loss = loss
        self.delta = delta
        self.overestimate_penalty = penalty
        self._fixed = fixed
        self._lower = lower
        self._upper = upper
        self._options = options
        self._warnings: list[str] | None = None
        self._boot: BootstrapResult | None = None

    # --- plain attributes -------------------------------------------------------------
    @property
    def law(self) -> str:
        """The law's name."""
        return self._spec.name

    @property
    def variables(self) -> tuple[str, ...]:
        """The law's variables (data columns) in order."""
        return self._spec.vars

    @property
    def param_names(self) -> tuple[str, ...]:
        """Parameter names in the law's order."""
        return self._spec.params

    @property
    def values(self) -> np.ndarray:
        """Parameter values as an array in the law's order."""
        return np.array(self._raw["params"], dtype=float)

    @property
    def params(self) -> dict[str, float]:
        """Parameter estimates by name."""
        return dict(zip(self._spec.params, (float(v) for v in self._raw["params"])))

    @property
    def covariance(self) -> np.ndarray | None:
        """Covariance of the estimates (natural units), or None; see ``cov_note``."""
        c = self._raw["covariance"]
        return None if c is None else np.array(c)

    @property
    def cov_note(self) -> str:
        """How the covariance was estimated, or why there is none."""
        return str(self._raw["cov_note"])

    @property
    def stderr(self) -> dict[str, float]:
        """Standard errors by name (NaN without a covariance, 0 for fixed parameters)."""
        c = self._raw["covariance"]
        if c is None:
            return {n: (0.0 if self._fixed[k] is not None else math.nan)
                    for k, n in enumerate(self._spec.params)}
        d = np.sqrt(np.clip(np.diag(c), 0.0, None))
        return dict(zip(self._spec.params, (float(v) for v in d)))

    @property
    def fixed(self) -> dict[str, float]:
        """Parameters held fixed."""
        return {n: v for n, v in zip(self._spec.params, self._fixed) if v is not None}

    @property
    def cost(self) -> float:
        """The minimised objective."""
        return float(self._raw["cost"])

    @property
    def success(self) -> bool:
        """Whether the solver converged."""
        return bool(self._raw["success"])

    @property
    def status(self) -> str:
        """Why the solver stopped, as a snake_case name (e.g. ``converged_cost``)."""
        return str(self._raw["status"])

    @property
    def message(self) -> str:
        """Why the solver stopped, in words."""
        return str(self._raw["message"])

    @property
    def n_iter(self) -> int:
        """Iterations of the best local solve."""
        return int(self._raw["n_iter"])

    @property
    def nfev(self) -> int:
        """Law evaluations of the best local solve."""
        return int(self._raw["nfev"])

    @property
    def n_starts(self) -> int:
        """How many starting points were refined."""
        return int(self._raw["n_starts"])

    @property
    def n_points(self) -> int:
        """Points with positive weight."""
        return int(self._raw["n_points"])

    @property
    def dof(self) -> int:
        """Degrees of freedom: points minus free parameters."""
        return int(self._raw["n_points"]) - int(self._raw["n_free"])

    @property
    def aic(self) -> float | None:
        """Akaike information criterion (Gaussian likelihood; least-squares losses only)."""
        return self._raw["aic"]

    @property
    def bic(self) -> float | None:
        """Bayesian information criterion (least-squares losses only)."""
        return self._raw["bic"]

    @property
    def condition_number(self) -> float:
        """Condition number of J^T J scaled to unit diagonal: large means weakly identified."""
        return float(self._raw["condition"])

    @property
    def data(self) -> dict[str, np.ndarray]:
        """The fitted data: the law's variables and ``loss`` (copies)."""
        d = {k: v.copy() for k, v in self._x.items()}
        d["loss"] = self._y.copy()
        return d

    @property
    def _law_arg(self) -> Any:
        """The law as the native functions take it (a name or a compiled law)."""
        return self._spec.arg

    def _core_args(self) -> list[Any]:
        """The data and settings, as the native functions take them."""
        return [
            self._law_arg,
            list(self.variables),
            list(self._labels),
            [self._x[v] for v in self.variables],
            self._y,
            self._y_name,
            self._w,
            self.loss,
            self.delta,
            self.overestimate_penalty,
            list(self._fixed),
            list(self._lower),
            list(self._upper),
        ]

    def _nd_index(self) -> list[int] | None:
        """Positions of (E, A, B, alpha, beta) for laws with one N and one D term."""
        names = self.param_names
        if self.law == "chinchilla":
            return [names.index(k) for k in ("E", "A", "B", "alpha", "beta")]
        if self.law == "additive" and set(self.variables) == {"N", "D"}:
            return [names.index(k) for k in ("L_inf", "A", "B", "alpha", "beta")]
        return None

    # --- evaluation ---------------------------------------------------------------------
    def predict(self, data: Any = None, **arrays: Any) -> np.ndarray:
        """The law at new points: ``res.predict(N=..., D=...)`` or ``res.predict(frame)``.

        With a bootstrap run, :meth:`predict_interval` gives prediction intervals.
        """
        xs = self._points(data, arrays)
        n = {len(v) for v in xs}
        if len(n) > 1:
            raise InvalidDataError("prediction columns have different lengths")
        return _core.evaluate(self._law_arg, list(self.variables), xs, list(self.values))

    def _points(self, data: Any, arrays: Mapping[str, Any]) -> list[np.ndarray]:
        out = []
        for v in self.variables:
            if data is not None:
                names = column_names(data)
                if v not in names:
                    raise InvalidDataError(f"column '{v}' is not in the data; columns are {names}")
                col = get_column(data, v)
            elif v in arrays:
                col = arrays[v]
            elif len(self.variables) == 1 and "x" in arrays:
                col = arrays["x"]
            else:
                raise InvalidDataError(f"predict needs {', '.join(self.variables)}")
            a = np.atleast_1d(as_float_array(col, v))
            ok = np.isfinite(a) & ((a > 0) if self._spec.positive_vars else True)
            if not ok.all():
                row = int(np.flatnonzero(~ok)[0])
                must = "positive" if self._spec.positive_vars else "finite"
                raise InvalidDataError(
                    f"column '{v}' has an invalid value {a[row]} at row {row}: must be {must}"
                )
            out.append(a)
        return out

    def residuals(self) -> np.ndarray:
        """Residuals on the loss's scale (prediction minus observation)."""
        f = self.predict(**self._x)
        if self.loss.endswith("log") or self.loss == "log":
            return np.log(f) - np.log(self._y)
        return f - self._y

    # --- diagnostics --------------------------------------------------------------------
    @property
    def warnings(self) -> list[str]:
        """Diagnostics: what the data cannot support (also listed in ``summary()``)."""
        if self._warnings is None:
            from .diagnostics import fit_warnings

            self._warnings = fit_warnings(self)
        return list(self._warnings)

    def summary(self) -> str:
        """A text report: the fit's settings, status, statistics, parameters and warnings."""
        from .report import summary_text

        return summary_text(self)

    def __repr__(self) -> str:
        ps = ", ".join(f"{k}={v:.6g}" for k, v in self.params.items())
        return f"<FitResult {self.law}: {ps}; {self.status}>"

    # --- follow-ups (bootstrap, analysis) --------------------------------------------------
    def bootstrap(self, n: int = 1000, method: str = "case", **kwargs: Any) -> BootstrapResult:
        """Refit on ``n`` resampled data sets; see :func:`powerfit.bootstrap`."""
        from .bootstrap import bootstrap

        return bootstrap(self, n=n, method=method, **kwargs)

    def compute_optimal(self, C: Any, k: float = 6.0, level: float = 0.95) -> pd.DataFrame:
        """Compute-optimal N*(C), D*(C), tokens per parameter and L*(C) with C = k N D, with
        interval columns after ``bootstrap()``; see :func:`powerfit.analysis.compute_optimal`."""
        from .analysis import compute_optimal

        return compute_optimal(self, C, k=k, level=level)

    def inference_optimal(
        self, target_loss: float, inference_tokens: float, k: float = 6.0
    ) -> Any:
        """Inference-aware sizing; see :func:`powerfit.analysis.inference_optimal`."""
        from .analysis import inference_optimal

        return inference_optimal(self, target_loss, inference_tokens, k=k)

    def elasticities(self, data: Any = None, **points: Any) -> pd.DataFrame:
        """Elasticities and marginal values at points; see
        :func:`powerfit.analysis.elasticities`."""
        from .analysis import elasticities

        return elasticities(self, data, **points)

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
        from .analysis import predict_interval

        return predict_interval(self, data, level=level, kind=kind, seed=seed, **points)

    def to_frame(self) -> pd.DataFrame:
        """Parameters and standard errors as a DataFrame."""
        import pandas as pd

        se = self.stderr
        return pd.DataFrame(
            {
                "parameter": list(self.param_names),
                "estimate": [self.params[k] for k in self.param_names],
                "stderr": [se[k] for k in self.param_names],
                "fixed": [self._fixed[i] is not None for i in range(len(self.param_names))],
            }
        )

    # --- plots, reports and files (powerfit.plot, powerfit.html, powerfit.io) ---------------
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
        """Compute-optimal N*(C) and D*(C) for C in [C_min, C_max], with bootstrap bands;
        returns the Figure. See :func:`powerfit.plot.plot_frontier`."""
        from .plot import plot_frontier

        return plot_frontier(self, C_min, C_max, **kwargs)

    def report(self, path: Any, **kwargs: Any) -> Any:
        """Write a shareable report (``.html``, self-contained, or ``.md``) with the tables
        and plots; returns its path. See :func:`powerfit.html.report`."""
        from .html import report

        return report(self, path, **kwargs)

    def save(self, path: Any, bootstrap: bool = True) -> Any:
        """Save the fit (and its bootstrap replicates) as JSON; reload with
        :func:`powerfit.load`. Returns the path. See :func:`powerfit.io.save`."""
        from .io import save

        return save(self, path, bootstrap=bootstrap)

    def to_dict(self, bootstrap: bool = True) -> dict[str, Any]:
        """Everything :func:`powerfit.load` needs to rebuild the fit, as a JSON-safe dict."""
        from .io import to_dict

        return to_dict(self, bootstrap=bootstrap)
