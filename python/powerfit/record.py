"""The record of one fit: the native problem it was made on, the native solution, and read-only
views of both. The modules that analyse, report, plot or save a fit take a :class:`FitRecord`;
:class:`powerfit.FitResult` is a FitRecord with those follow-ups as methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from . import laws
from ._data import as_float_array, column_names, get_column
from .errors import InvalidDataError
from .errors import warn as warn_user

#: Decades outside the fitted range beyond which a prediction warns.
FAR_DECADES = 1.0

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ._core import Fit, FitOptions, Model, Problem


class FitRecord:
    """A fit's problem and solution, read-only.

    Attributes:
        problem: the native :class:`powerfit._core.Problem` (the model and its data, as the core
            holds them); ``problem.fit(...)`` refits without sending the data again.
        solution: the native :class:`powerfit._core.Fit` (estimates, covariance, termination,
            statistics).
    """

    _problem: Problem
    _solution: Fit
    _model: Model
    _written: Any
    _columns: dict[str, np.ndarray] | None
    _boot: Any
    _warnings: list[str] | None

    def __init__(self, problem: Problem, solution: Fit, written_law: Any = None) -> None:
        # the instance dict directly: a fit is built once per pf.fit call, keep that cheap
        self.__dict__.update(
            _problem=problem,
            _solution=solution,
            _model=problem.model,
            _written=written_law,
            _columns=None,
            _boot=None,
            _warnings=None,
        )

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_"):
            raise AttributeError(f"a fit result is read-only: '{name}' cannot be set")
        object.__setattr__(self, name, value)

    # --- the law and its settings ------------------------------------------------------------
    @property
    def problem(self) -> Problem:
        """The native problem: the model and its data as the core holds them."""
        return self._problem

    @property
    def solution(self) -> Fit:
        """The native solution: estimates, covariance, termination, statistics."""
        return self._solution

    @property
    def model(self) -> Model:
        """The native :class:`powerfit._core.Model`: law, loss and parameter specification."""
        return self._model

    @cached_property
    def law(self) -> str:
        """The law's name."""
        return self._model.law_name

    @property
    def written_law(self) -> Any:
        """The :class:`powerfit.Law` of a fit of a written law (None for a built-in law)."""
        return self._written

    @cached_property
    def formula(self) -> str:
        """The law as a formula, for reports."""
        if self._written is not None:
            expr = str(self._written.expr)
            return expr if "=" in expr else f"L = {expr}"  # an implicit law is an equation
        return laws.formula(self.law, self.variables)

    @cached_property
    def variables(self) -> tuple[str, ...]:
        """The law's variables in order."""
        return tuple(self._model.variables)

    @cached_property
    def columns(self) -> tuple[str, ...]:
        """The data columns the variables were read from (the user's names), in order."""
        return tuple(self.problem.labels)

    @cached_property
    def y_name(self) -> str:
        """The name of the observed-loss column."""
        return self.problem.y_name

    @cached_property
    def param_names(self) -> tuple[str, ...]:
        """Parameter names in the law's order."""
        return tuple(self._model.param_names)

    @cached_property
    def loss(self) -> str:
        """The loss the fit minimised (``l2``, ``log``, ``huber_log``, ...)."""
        return self._model.loss

    @cached_property
    def delta(self) -> float:
        """The Huber threshold."""
        return self._model.delta

    @cached_property
    def overestimate_penalty(self) -> float:
        """The weight of over-predictions in the asymmetric losses."""
        return self._model.overestimate_penalty

    @cached_property
    def log_scale(self) -> bool:
        """Whether the loss takes residuals on log L."""
        return self._model.log_scale

    @property
    def fixed(self) -> dict[str, float]:
        """Parameters held fixed, by name."""
        return dict(self._fixed_items)

    @cached_property
    def _fixed_items(self) -> tuple[tuple[str, float], ...]:
        return tuple((n, v) for n, v in zip(self.param_names, self._model.fixed) if v is not None)

    @property
    def bounds(self) -> dict[str, tuple[float, float]]:
        """Every parameter's (lower, upper) bounds (infinite when open)."""
        return dict(self._bound_items)

    @cached_property
    def _bound_items(self) -> tuple[tuple[str, tuple[float, float]], ...]:
        return tuple(zip(self.param_names, zip(self._model.lower, self._model.upper)))

    @property
    def options(self) -> FitOptions:
        """The native fit options (starts, p0, tolerances, iteration limit)."""
        return self.solution.options

    # --- the solution -----------------------------------------------------------------------
    @cached_property
    def _values(self) -> np.ndarray:
        return self.solution.params

    @property
    def values(self) -> np.ndarray:
        """Parameter values as an array in the law's order (a copy)."""
        return self._values.copy()

    @property
    def params(self) -> dict[str, float]:
        """Parameter estimates by name."""
        return dict(zip(self.param_names, self._values.tolist()))

    @property
    def stderr(self) -> dict[str, float]:
        """Standard errors by name (NaN without a covariance, 0 for fixed parameters)."""
        return dict(zip(self.param_names, self._stderr_values))

    @cached_property
    def _stderr_values(self) -> tuple[float, ...]:
        return tuple(self.solution.stderr.tolist())

    @property
    def covariance(self) -> np.ndarray | None:
        """Covariance of the estimates (natural units), or None; see ``cov_note``."""
        return self.solution.covariance

    @cached_property
    def cov_note(self) -> str:
        """How the covariance was estimated, or why there is none."""
        return self.solution.cov_note

    @cached_property
    def cost(self) -> float:
        """The minimised objective."""
        return self.solution.cost

    @cached_property
    def success(self) -> bool:
        """Whether the solver found an optimum."""
        return self.solution.success

    @cached_property
    def status(self) -> str:
        """Why the solver stopped, as a snake_case name (e.g. ``converged_cost``)."""
        return self.solution.status

    @cached_property
    def message(self) -> str:
        """Why the solver stopped, in words."""
        return self.solution.message

    @cached_property
    def n_iter(self) -> int:
        """Iterations of the best local solve."""
        return self.solution.n_iter

    @cached_property
    def nfev(self) -> int:
        """Law evaluations of the best local solve."""
        return self.solution.nfev

    @cached_property
    def n_starts(self) -> int:
        """How many starting points were refined by a full local solve."""
        return self.solution.n_starts

    @cached_property
    def n_best(self) -> int:
        """How many of the ``n_starts`` local solves reached the best cost (within 1e-8
        relative). Fewer than ``n_starts`` means the starts found different optima: the
        landscape has several basins and the estimate is the best of them."""
        return self.solution.n_best

    @property
    def starts_agree(self) -> bool:
        """Whether every local solve reached the best cost (``n_best == n_starts``)."""
        return self.n_best == self.n_starts

    @cached_property
    def nfev_total(self) -> int:
        """Law evaluations over the data by the whole fit: the global start search and every
        local solve (``nfev`` counts only the solve that gave the estimate)."""
        return self.solution.nfev_total

    @cached_property
    def at_limit(self) -> tuple[str, ...]:
        """Names of the parameters that ran off to the edge of the representable range (the
        data do not determine them; the status is then ``diverged``)."""
        return tuple(self.param_names[k] for k in self.solution.at_limit)

    @cached_property
    def n_points(self) -> int:
        """Points with positive weight."""
        return self.solution.n_points

    @cached_property
    def dof(self) -> int:
        """Degrees of freedom: points minus free parameters."""
        return self.solution.n_points - self.solution.n_free

    @cached_property
    def aic(self) -> float | None:
        """Akaike information criterion (Gaussian likelihood; least-squares losses only)."""
        return self.solution.aic

    @cached_property
    def bic(self) -> float | None:
        """Bayesian information criterion (least-squares losses only)."""
        return self.solution.bic

    @cached_property
    def condition_number(self) -> float:
        """Condition number of J^T J scaled to unit diagonal: large means weakly identified."""
        return self.solution.condition

    @property
    def boot(self) -> Any:
        """The bootstrap run the intervals of ``compute_optimal``, ``predict_interval``, the
        plots and reports use: the latest ``bootstrap()`` of this fit (or the one loaded with
        it), or None. ``summary()`` states its size and method."""
        return self._boot

    # --- data --------------------------------------------------------------------------------
    def _data_columns(self) -> dict[str, np.ndarray]:
        if self._columns is None:
            self._columns = dict(zip(self.variables, self.problem.columns))
        return self._columns

    @property
    def data(self) -> dict[str, np.ndarray]:
        """The fitted data: the law's variables and ``loss`` (copies)."""
        d = {k: v.copy() for k, v in self._data_columns().items()}
        d["loss"] = self.problem.y
        return d

    @property
    def weights(self) -> np.ndarray | None:
        """The per-point weights of the fit (a copy), or None."""
        return self.problem.weights

    # --- evaluation -------------------------------------------------------------------------
    def predict(self, data: Any = None, *, warn: bool = True, **arrays: Any) -> np.ndarray:
        """The law at new points: ``res.predict(N=..., D=...)`` or ``res.predict(frame)``; a
        frame's columns are found under the names the fit read them from (``columns=``
        mapping) or the variables' names. Points more than :data:`FAR_DECADES` decades
        outside the fitted range of a variable raise a :class:`~powerfit.PowerfitWarning`
        saying how far (``warn=False`` silences it)."""
        xs = self.points(data, arrays)
        if warn:
            warn_if_far(self, dict(zip(self.variables, xs)))
        return self._model.predict(self.values, xs, list(self.columns))

    def decades_beyond(self, **points: Any) -> dict[str, float]:
        """How far the given values of each variable reach outside the fitted data, in decades
        (log10 of the ratio to the largest, or smallest, fitted value; 0 inside the range)."""
        out = {}
        data = self._data_columns()
        for v, vals in points.items():
            if v not in data:
                raise InvalidDataError(f"'{v}' is not a variable of this fit ({self.variables})")
            x = np.atleast_1d(np.asarray(vals, dtype=float))
            col = data[v]
            lo, hi = float(col.min()), float(col.max())
            if lo <= 0 or not x.size or (x <= 0).any():
                out[v] = 0.0
                continue
            above = np.log10(x.max() / hi) if x.max() > hi else 0.0
            below = np.log10(lo / x.min()) if x.min() < lo else 0.0
            out[v] = float(max(above, below))
        return out

    def points(self, data: Any, arrays: Mapping[str, Any]) -> list[np.ndarray]:
        """The law's variables at new points, as float64 arrays in the law's order."""
        out = []
        for v, col in zip(self.variables, self.columns):
            if data is not None:
                names = column_names(data)
                name = col if col in names else v
                if name not in names:
                    raise InvalidDataError(
                        f"column '{col}' (variable {v}) is not in the data; columns are {names}"
                    )
                raw = get_column(data, name)
            elif v in arrays:
                raw = arrays[v]
            elif col in arrays:
                raw = arrays[col]
            elif len(self.variables) == 1 and "x" in arrays:
                raw = arrays["x"]
            else:
                raise InvalidDataError(f"predict needs {', '.join(self.variables)}")
            out.append(np.atleast_1d(as_float_array(raw, v)))
        if len({len(x) for x in out}) > 1:
            lengths = ", ".join(f"{v}: {len(x)}" for v, x in zip(self.variables, out))
            raise InvalidDataError(f"the points' columns differ in length ({lengths})")
        return out

    def residuals(self) -> np.ndarray:
        """Residuals on the loss's scale (prediction minus observation)."""
        return self.problem.residuals(self.values)

    def to_frame(self) -> pd.DataFrame:
        """Parameters and standard errors as a DataFrame."""
        import pandas as pd

        fixed = self._model.fixed
        return pd.DataFrame(
            {
                "parameter": list(self.param_names),
                "estimate": self.solution.params,
                "stderr": self.solution.stderr,
                "fixed": [f is not None for f in fixed],
            }
        )

    def __repr__(self) -> str:
        ps = ", ".join(f"{k}={v:.6g}" for k, v in self.params.items())
        return f"<FitResult {self.law}: {ps}; {self.status}>"


def warn_if_far(res: FitRecord, points: Mapping[str, Any]) -> None:
    """A :class:`~powerfit.PowerfitWarning` when ``points`` reach more than
    :data:`FAR_DECADES` decades outside the fitted data of any variable."""
    far = {v: d for v, d in res.decades_beyond(**points).items() if d > FAR_DECADES}
    if far:
        what = ", ".join(f"{v} by {d:.1f} decades" for v, d in far.items())
        warn_user(
            f"extrapolating beyond the fitted data: {what}; a law's forecast that far out is "
            f"only as good as its held-out error at that distance (see powerfit.rollout)"
        )
