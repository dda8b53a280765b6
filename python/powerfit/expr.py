"""User-written laws: :class:`Law`.

>>> import powerfit as pf
>>> law = pf.Law("E + A*N^-alpha + B*D^-beta", variables=["N", "D"])
>>> law.params
('E', 'A', 'alpha', 'B', 'beta')

The text is parsed and compiled in Rust (never by Python's ``eval``) into a tape evaluated with
exact forward-mode derivatives, so a written law fits at the speed of the built-in ones and works
everywhere a built-in law's name does: :func:`powerfit.fit` (losses, ``fixed``, ``bounds``,
``starts``), the bootstrap, :meth:`~powerfit.FitResult.summary` and predictions.

Grammar: numbers (``2``, ``.5``, ``1e-3``), names, ``+ - * /``, powers ``^`` or ``**``
(right-associative and binding tighter than a unary minus, as in mathematics: ``-x^2`` is
``-(x^2)``, ``N^-alpha`` is ``N^(-alpha)``), parentheses, the functions ``exp``, ``log``
(natural), ``log10``, ``sqrt``, ``pow(a, b)``, ``abs``, ``sin``, ``cos``, ``tan``, ``atan``,
``tanh``, ``min(a, b)``, ``max(a, b)`` and the constant ``pi``. ``a^n`` with a constant integer
``n`` is the exact integer power (fine for negative ``a``); any other ``a^b`` is the real power
``exp(b log a)``, NaN for negative ``a``.

A law of the form ``c + A*x^-e + ...`` (the built-in power-sum family, with distinct
parameters) is recognised: it gets the variable-projection global start (no ``p0`` needed) and
``starts="grid"``, and, like the built-in laws, needs positive data. Any other law is fitted
locally from ``p0`` (given here or to :func:`~powerfit.fit`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import _core
from .errors import InvalidDataError, InvalidLawError, InvalidOptionError

#: Names of the built-in laws: a written law may not take one (reports and analyses key on them).
_BUILTIN_NAMES = tuple(_core.LAWS)


def _names(value: Any, what: str) -> list[str]:
    """A list of names from a string or a sequence of strings."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping) or not isinstance(value, Sequence):
        raise InvalidLawError(f"{what} must be a list of names, got {type(value).__name__}")
    out = []
    for v in value:
        if not isinstance(v, str):
            raise InvalidLawError(f"{what} must hold names (strings), got {v!r}")
        out.append(v)
    return out


def _number(v: Any, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise InvalidOptionError(f"{what} must be a number, got {v!r}")
    return float(v)


class Law:
    """A scaling law written as text, e.g. ``Law("E + A*N^-alpha + B*D^-beta", ["N", "D"])``.

    Args:
        expr: the law's right-hand side (see the module docstring for the grammar).
        variables: the data columns it reads (names in ``expr``); a single name may be a string.
        params: parameter order (every other name in ``expr`` is then an error). Default: the
            names that are not variables, in order of first appearance.
        bounds: default bounds of :func:`~powerfit.fit`, ``{"alpha": (0, 2)}``; None for an open
            side. Bounds given to ``fit`` override these per parameter.
        p0: default start, a dict over all parameters or a sequence in parameter order. A dict
            given to ``fit`` overrides it per parameter; a sequence replaces it.
        positive: parameters that are positive by nature (amplitudes): the solver works with
            their logarithm, which conditions the problem much better.
        linear: parameters that enter the law linearly; checked against the expression.
        name: shown in reports (default ``"custom"``).

    Raises:
        InvalidLawError: a syntax error (with a caret under the offending character), an unknown
            function, a name in ``params`` or ``variables`` that the law does not use, ...
        InvalidOptionError: bad ``p0`` or ``bounds``.
    """

    __slots__ = ("_native", "_bounds", "_p0")

    _native: Any
    _bounds: dict[str, tuple[float, float]]
    _p0: dict[str, float] | None

    def __init__(
        self,
        expr: str,
        variables: Sequence[str] | str,
        params: Sequence[str] | None = None,
        bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
        p0: Mapping[str, float] | Sequence[float] | None = None,
        positive: Sequence[str] | str | None = None,
        linear: Sequence[str] | str | None = None,
        name: str | None = None,
    ) -> None:
        if not isinstance(expr, str):
            raise InvalidLawError(f"a law must be a string, got {type(expr).__name__}")
        vars_ = _names(variables, "variables")
        params_ = None if params is None else _names(params, "params")
        pos = None if positive is None else _names(positive, "positive")
        lin = None if linear is None else _names(linear, "linear")
        if name is not None:
            if not isinstance(name, str):
                raise InvalidLawError(f"name must be a string, got {type(name).__name__}")
            if name in _BUILTIN_NAMES:
                raise InvalidLawError(
                    f"name '{name}' is a built-in law's name: choose another for a written law"
                )
        native = _core.Law(expr, vars_, params_, pos, None, lin, name)
        order = tuple(native.params)
        start: list[float] | None = None
        if p0 is not None:
            start = self._vector(order, p0)
            native = _core.Law(expr, vars_, list(order), pos, start, lin, name)
        object.__setattr__(self, "_native", native)
        object.__setattr__(self, "_bounds", self._check_bounds(order, bounds, start))
        object.__setattr__(self, "_p0", None if start is None else dict(zip(order, start)))

    # --- validation -----------------------------------------------------------------------
    @staticmethod
    def _vector(order: tuple[str, ...], p0: Any) -> list[float]:
        if isinstance(p0, Mapping):
            unknown = [k for k in p0 if k not in order]
            if unknown:
                raise InvalidLawError(
                    f"p0: {', '.join(map(repr, unknown))} is not a parameter of the law "
                    f"(parameters: {', '.join(order)})"
                )
            missing = [k for k in order if k not in p0]
            if missing:
                raise InvalidOptionError(f"p0 lacks a start for {', '.join(missing)}")
            return [_number(p0[k], f"p0[{k!r}]") for k in order]
        if isinstance(p0, (str, bytes)) or not isinstance(p0, (Sequence, np.ndarray)):
            raise InvalidOptionError(
                f"p0 must be a dict or a sequence of numbers, got {type(p0).__name__}"
            )
        vals = [_number(v, "p0") for v in p0]
        if len(vals) != len(order):
            raise InvalidOptionError(
                f"p0 has {len(vals)} values but the law has {len(order)} parameters "
                f"({', '.join(order)})"
            )
        return vals

    @staticmethod
    def _check_bounds(
        order: tuple[str, ...], bounds: Any, start: list[float] | None
    ) -> dict[str, tuple[float, float]]:
        if bounds is None:
            return {}
        if not isinstance(bounds, Mapping):
            raise InvalidOptionError("bounds must be a dict of parameter name -> (lower, upper)")
        out = {}
        for k, b in bounds.items():
            if k not in order:
                raise InvalidLawError(
                    f"bounds: {k!r} is not a parameter of the law (parameters: {', '.join(order)})"
                )
            try:
                lo, hi = b
            except (TypeError, ValueError):
                raise InvalidOptionError(
                    f"bounds of '{k}' must be a (lower, upper) pair, got {b!r}"
                ) from None
            lo = -math.inf if lo is None else _number(lo, f"lower bound of '{k}'")
            hi = math.inf if hi is None else _number(hi, f"upper bound of '{k}'")
            if not lo < hi:
                raise InvalidOptionError(f"bounds of '{k}' are empty or NaN: [{lo}, {hi}]")
            if start is not None:
                v = start[order.index(k)]
                if not lo <= v <= hi:
                    raise InvalidOptionError(
                        f"p0 of '{k}' ({v}) lies outside its bounds [{lo}, {hi}]"
                    )
            out[k] = (lo, hi)
        return out

    # --- read-only view -------------------------------------------------------------------
    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("a Law is immutable: build a new one")

    @property
    def native(self) -> Any:
        """The law compiled by the core (``powerfit._core.Law``), as the native calls take it."""
        return self._native

    @property
    def expr(self) -> str:
        """The law's text, as given."""
        return str(self._native.expr)

    @property
    def name(self) -> str:
        """The name shown in reports."""
        return str(self._native.name)

    @property
    def variables(self) -> tuple[str, ...]:
        """The data columns the law reads, in order."""
        return tuple(self._native.variables)

    @property
    def params(self) -> tuple[str, ...]:
        """Parameter names in the law's order."""
        return tuple(self._native.params)

    @property
    def bounds(self) -> dict[str, tuple[float, float]]:
        """Default bounds by parameter (only those given)."""
        return dict(self._bounds)

    @property
    def p0(self) -> dict[str, float] | None:
        """Default start by parameter, or None."""
        return None if self._p0 is None else dict(self._p0)

    @property
    def positive(self) -> tuple[str, ...]:
        """Parameters the solver works with in log space."""
        return tuple(p for p, f in zip(self.params, self._native.positive) if f)

    @property
    def linear(self) -> tuple[str, ...]:
        """Parameters declared (and checked) linear."""
        return tuple(p for p, f in zip(self.params, self._native.linear) if f)

    @property
    def structure(self) -> str:
        """``"power_sum"`` (global starts, positive data) or ``"general"`` (fits from p0)."""
        return str(self._native.structure)

    @property
    def positive_variables(self) -> bool:
        """Whether the data must be positive (power-sum laws read only log x)."""
        return bool(self._native.positive_variables)

    def __repr__(self) -> str:
        extra = ""
        if self.name != "custom":
            extra = f", name={self.name!r}"
        return f"Law({self.expr!r}, variables={list(self.variables)!r}{extra})"

    def __str__(self) -> str:
        return self.name

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild,
            (
                self.expr,
                list(self.variables),
                list(self.params),
                self.bounds or None,
                None if self._p0 is None else list(self._p0.values()),
                list(self.positive) or None,
                list(self.linear) or None,
                None if self.name == "custom" else self.name,
            ),
        )

    # --- evaluation -----------------------------------------------------------------------
    def _columns(self, data: Any, arrays: Mapping[str, Any]) -> list[np.ndarray]:
        from ._data import as_float_array, get_column

        out = []
        for v in self.variables:
            if v in arrays:
                col = arrays[v]
            elif data is not None:
                col = get_column(data, v)
            else:
                raise InvalidDataError(f"the law reads {', '.join(self.variables)}: pass {v}=...")
            out.append(np.atleast_1d(as_float_array(col, v)))
        return out

    def _params(self, params: Any) -> list[float]:
        if params is None:
            if self._p0 is None:
                raise InvalidOptionError("give params (the law has no p0)")
            return list(self._p0.values())
        return self._vector(self.params, params)

    def evaluate(self, params: Any = None, data: Any = None, **columns: Any) -> np.ndarray:
        """The law's values: ``law.evaluate({"a": 1, "b": 2}, x=xs)`` (params default to p0)."""
        vals, _ = self._native.eval_jac(self._columns(data, columns), self._params(params))
        return np.asarray(vals)

    def jacobian(
        self, params: Any = None, data: Any = None, **columns: Any
    ) -> tuple[np.ndarray, np.ndarray]:
        """Values (n,) and the exact Jacobian (n, p) with respect to the parameters."""
        vals, jac = self._native.eval_jac(self._columns(data, columns), self._params(params))
        return np.asarray(vals), np.asarray(jac).T


def law_argument(law: Any) -> str | Law:
    """``law=`` as given: a law's name or a :class:`Law` (anything else is refused before it
    is compared with a name)."""
    if isinstance(law, (str, Law)):
        return law
    raise InvalidLawError(f"law must be a law's name or a powerfit.Law, got {type(law).__name__}")


def with_defaults(law: Law, p0: Any, bounds: Any) -> tuple[Any, Any]:
    """A fit's ``p0`` and ``bounds`` with the written law's defaults filled in (the fit's own
    values win, per parameter when both are dicts)."""
    if p0 is None:
        p0 = law.p0
    elif isinstance(p0, Mapping) and law.p0 is not None:
        p0 = {**law.p0, **p0}
    if bounds is None:
        bounds = law.bounds or None
    elif isinstance(bounds, Mapping) and law.bounds:
        bounds = {**law.bounds, **bounds}
    return p0, bounds


def _rebuild(
    expr: str,
    variables: list[str],
    params: list[str],
    bounds: Any,
    p0: Any,
    positive: Any,
    linear: Any,
    name: Any,
) -> Law:
    return Law(expr, variables, params, bounds, p0, positive, linear, name)


__all__ = ["Law", "with_defaults"]
