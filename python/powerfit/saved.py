"""Saved fits: the JSON document :meth:`powerfit.FitResult.save` writes and
:func:`powerfit.load` reads (its layout is described in ``docs/file-format.md``).

A document is strict JSON (NaN and infinities are stored as the strings ``"NaN"``,
``"Infinity"`` and ``"-Infinity"``) holding everything needed to rebuild the fit: the law (a
built-in law's name, or a written law's text and options), the data, the loss settings,
fixed parameters and bounds, the fit options, the solution, and the bootstrap replicates when
there are any. Reading checks the whole document: its structure here (each field present and of
the right type), its content in the core (the law's parameter count against the estimates and
covariance, the data's lengths and values, the loss names), so a corrupt file fails at load
time with :class:`~powerfit.InvalidDataError`, never later.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _check, _core
from ._files import write_text
from .errors import InvalidDataError, InvalidOptionError, PowerfitError
from .expr import Law
from .record import FitRecord

if TYPE_CHECKING:  # pragma: no cover
    from .bootstrap import BootstrapResult

#: Identifies a saved fit, and the layout version of the document.
FORMAT = "powerfit.fit"
FORMAT_VERSION = 1

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
#: Nesting deeper than this is not a saved fit (and would exhaust Python's recursion limit).
_MAX_DEPTH = 8


# --- encoding ----------------------------------------------------------------------------------
def encode(v: Any) -> Any:
    """A JSON-safe copy: arrays to lists, numpy scalars to Python, non-finite floats to
    strings."""
    if isinstance(v, np.ndarray):
        return [encode(x) for x in v.tolist()]
    if isinstance(v, (list, tuple)):
        return [encode(x) for x in v]
    if isinstance(v, dict):
        return {str(k): encode(x) for k, x in v.items()}
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if math.isfinite(f):
            return f
        return "NaN" if math.isnan(f) else ("Infinity" if f > 0 else "-Infinity")
    return v


def _expression(law: Law | None) -> dict[str, Any] | None:
    if law is None:
        return None
    return {
        "expr": law.expr,
        "variables": list(law.variables),
        "params": list(law.params),
        "bounds": {k: encode(list(b)) for k, b in law.bounds.items()} or None,
        "p0": None if law.p0 is None else encode(law.p0),
        "positive": list(law.positive) or None,
        "linear": list(law.linear) or None,
        "name": None if law.name == "custom" else law.name,
    }


def bootstrap_to_dict(boot: BootstrapResult) -> dict[str, Any]:
    """The replicates of a bootstrap run as a JSON-safe dict."""
    return {
        "method": boot.resample,
        "seed": int(boot.seed),
        "labels": boot.labels,
        "samples": encode(boot.samples),
        "success": [bool(s) for s in boot.success],
        "status": [str(s) for s in boot.status],
        "cost": encode(boot.cost),
        "n_iter": [int(i) for i in boot.n_iter],
    }


def to_dict(res: FitRecord, bootstrap: bool = True) -> dict[str, Any]:
    """Everything needed to rebuild ``res``, as a JSON-safe dict."""
    bootstrap = _check.flag(bootstrap, "bootstrap")
    model = res.model
    opts = res.options
    sol = res.solution.to_dict()
    p = len(res.param_names)
    cov = sol["covariance"]
    sol["covariance"] = None if cov is None else [cov[i * p : (i + 1) * p] for i in range(p)]
    sol["message"] = res.message
    sol["success"] = res.success
    data = res.data
    doc: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "powerfit_version": _core.__version__,
        "law": res.law,
        "spec": {
            "name": res.law,
            "vars": list(res.variables),
            "params": list(res.param_names),
            "positive": [bool(v) for v in model.positive],
        },
        "expression": _expression(res.written_law),
        "params": encode(res.params),
        "stderr": encode(res.stderr),
        "settings": {
            "loss": res.loss,
            "delta": encode(res.delta),
            "overestimate_penalty": encode(res.overestimate_penalty),
            "fixed": encode(list(model.fixed)),
            "lower": encode(list(model.lower)),
            "upper": encode(list(model.upper)),
            "options": {
                "starts": opts.starts,
                "p0": encode(opts.p0),
                "ftol": encode(opts.ftol),
                "xtol": encode(opts.xtol),
                "gtol": encode(opts.gtol),
                "max_iter": opts.max_iter,
            },
        },
        "columns": {"variables": list(res.columns), "loss": res.y_name},
        "raw": encode(sol),
        "data": {
            "x": {v: encode(data[v]) for v in res.variables},
            "loss": encode(data["loss"]),
            "weights": None if res.weights is None else encode(res.weights),
        },
    }
    if bootstrap and res.boot is not None:
        doc["bootstrap"] = bootstrap_to_dict(res.boot)
    return doc


def dumps(doc: dict[str, Any]) -> str:
    """JSON with the top two levels indented and every leaf value on one line (so that data
    columns and bootstrap samples do not take one line per number)."""

    def block(obj: Any, depth: int) -> str:
        if isinstance(obj, dict) and depth < 2 and obj:
            pad = "  " * (depth + 1)
            items = [f"{pad}{json.dumps(k)}: {block(v, depth + 1)}" for k, v in obj.items()]
            return "{\n" + ",\n".join(items) + "\n" + "  " * depth + "}"
        return json.dumps(obj, allow_nan=False, separators=(", ", ": "))

    return block(doc, 0)


def save(res: FitRecord, path: str | os.PathLike[str], bootstrap: bool = True) -> Path:
    """Save a fit (and its bootstrap replicates, unless ``bootstrap=False``) as JSON,
    atomically."""
    bootstrap = _check.flag(bootstrap, "bootstrap")
    suffix = _check.path(path, "path").suffix.lower()
    if suffix in (".csv", ".tsv", ".parquet", ".pq"):
        raise InvalidOptionError(
            f"a fit is saved as JSON, not '{suffix}': use a .json path, or write "
            f"res.to_frame() for the parameter table"
        )
    return write_text(path, dumps(to_dict(res, bootstrap=bootstrap)) + "\n")


# --- decoding ----------------------------------------------------------------------------------
class _Doc:
    """Typed access to a parsed document; every failure names the field."""

    def __init__(self, d: Any, where: str = "") -> None:
        if not isinstance(d, dict):
            raise InvalidDataError(f"'{where or 'the document'}' must be an object")
        self.d = d
        self.where = where

    def _name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def has(self, key: str) -> bool:
        return self.d.get(key) is not None

    def raw(self, key: str) -> Any:
        if key not in self.d:
            raise InvalidDataError(f"'{self._name(key)}' is missing")
        return self.d[key]

    def sub(self, key: str) -> _Doc:
        return _Doc(self.raw(key), self._name(key))

    def text(self, key: str) -> str:
        v = self.raw(key)
        if not isinstance(v, str):
            raise InvalidDataError(f"'{self._name(key)}' must be a string")
        return v

    def number(self, key: str) -> float:
        return _number(self.raw(key), self._name(key))

    def integer(self, key: str) -> int:
        v = self.raw(key)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise InvalidDataError(f"'{self._name(key)}' must be a non-negative whole number")
        return v

    def floats(self, key: str) -> np.ndarray:
        return _floats(self.raw(key), self._name(key))

    def optional_floats(self, key: str) -> np.ndarray | None:
        v = self.d.get(key)
        return None if v is None else _floats(v, self._name(key))

    def names(self, key: str) -> list[str]:
        v = self.raw(key)
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise InvalidDataError(f"'{self._name(key)}' must be a list of strings")
        return v


def _number(v: Any, name: str) -> float:
    if isinstance(v, str) and v in _NONFINITE:
        return _NONFINITE[v]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise InvalidDataError(f"'{name}' must be a number")
    try:
        return float(v)
    except OverflowError:
        raise InvalidDataError(f"'{name}' is out of range") from None


def _floats(v: Any, name: str) -> np.ndarray:
    if not isinstance(v, list):
        raise InvalidDataError(f"'{name}' must be a list of numbers")
    flat: list[Any] = []
    for x in v:
        if isinstance(x, list):
            flat.extend(x)
        else:
            flat.append(x)
    return np.array([_number(x, name) for x in flat], dtype=np.float64)


def _optional_number(v: Any, name: str) -> float | None:
    return None if v is None else _number(v, name)


def _depth(obj: Any, limit: int) -> int:
    """Nesting depth of parsed JSON, stopping at ``limit``."""
    stack = [(obj, 1)]
    deepest = 0
    while stack:
        o, d = stack.pop()
        deepest = max(deepest, d)
        if d >= limit:
            return d
        if isinstance(o, dict):
            stack.extend((v, d + 1) for v in o.values())
        elif isinstance(o, list):
            stack.extend((v, d + 1) for v in o if isinstance(v, (dict, list)))
    return deepest


@dataclass(frozen=True)
class Saved:
    """A saved fit, read and checked: its record and, when saved, its bootstrap replicates."""

    record: FitRecord
    bootstrap: dict[str, Any] | None


def _law(doc: _Doc) -> tuple[Any, Law | None]:
    """The law argument and, for a written law, the rebuilt :class:`powerfit.Law`."""
    if not doc.has("expression"):
        return doc.sub("spec").text("name"), None
    e = doc.sub("expression")
    bounds = e.d.get("bounds")
    if bounds is not None:
        if not isinstance(bounds, dict):
            raise InvalidDataError("'expression.bounds' must be an object")
        bounds = {
            str(k): tuple(_optional_number(x, f"expression.bounds.{k}") for x in _pair(b, k))
            for k, b in bounds.items()
        }
    p0 = e.d.get("p0")
    if isinstance(p0, dict):
        p0 = {str(k): _number(v, f"expression.p0.{k}") for k, v in p0.items()}
    law = Law(
        e.text("expr"),
        e.names("variables"),
        params=e.names("params"),
        bounds=bounds,
        p0=p0,
        positive=e.d.get("positive"),
        linear=e.d.get("linear"),
        name=e.d.get("name"),
    )
    return law.native, law


def _pair(b: Any, k: str) -> list[Any]:
    if not isinstance(b, list) or len(b) != 2:
        raise InvalidDataError(f"'expression.bounds.{k}' must be a [lower, upper] pair")
    return b


def _model(doc: _Doc, law_arg: Any) -> _core.Model:
    spec = doc.sub("spec")
    settings = doc.sub("settings")
    params = spec.names("params")
    fixed_raw = settings.raw("fixed")
    lower = settings.floats("lower")
    upper = settings.floats("upper")
    if not isinstance(fixed_raw, list) or not (
        len(fixed_raw) == len(params) == len(lower) == len(upper)
    ):
        raise InvalidDataError(
            f"'settings.fixed', 'settings.lower' and 'settings.upper' must have one entry per "
            f"parameter ({len(params)})"
        )
    fixed = {
        n: _number(f, f"settings.fixed[{i}]")
        for i, (n, f) in enumerate(zip(params, fixed_raw))
        if f is not None
    }
    bounds = {
        n: (None if lo == -math.inf else float(lo), None if hi == math.inf else float(hi))
        for n, lo, hi in zip(params, lower, upper)
        if lo != -math.inf or hi != math.inf
    }
    model = _core.Model(
        law_arg,
        spec.names("vars"),
        spec.names("vars")[0] if len(spec.names("vars")) == 1 else None,
        loss=settings.text("loss"),
        delta=settings.number("delta"),
        overestimate_penalty=settings.number("overestimate_penalty"),
        fixed=fixed,
        bounds=bounds,
    )
    if list(model.param_names) != params or list(model.variables) != spec.names("vars"):
        raise InvalidDataError(
            f"the saved parameters {params} over {spec.names('vars')} do not match law "
            f"'{model.law_name}' ({list(model.param_names)} over {list(model.variables)})"
        )
    return model


def _options(doc: _Doc) -> _core.FitOptions:
    o = doc.sub("settings").sub("options")
    return _core.FitOptions(
        starts=o.d.get("starts", "auto"),
        p0=o.d.get("p0"),
        ftol=o.number("ftol"),
        xtol=o.number("xtol"),
        gtol=o.number("gtol"),
        max_iter=o.integer("max_iter"),
    )


def _problem(doc: _Doc, model: _core.Model) -> _core.Problem:
    data = doc.sub("data")
    x = data.sub("x")
    cols = [x.floats(v) for v in model.variables]
    columns = doc.sub("columns")
    labels = columns.names("variables")
    if len(labels) != len(cols):
        raise InvalidDataError("'columns.variables' must name one column per variable")
    return _core.Problem(
        model,
        cols,
        data.floats("loss"),
        labels=labels,
        y_name=columns.text("loss"),
        weights=data.optional_floats("weights"),
    )


def _solution(doc: _Doc, model: _core.Model, options: _core.FitOptions) -> _core.Fit:
    raw = doc.sub("raw")
    d: dict[str, Any] = {}
    for key in ("cost", "condition"):
        d[key] = raw.number(key)
    for key in ("n_iter", "nfev", "n_points", "n_free", "n_starts"):
        d[key] = raw.integer(key)
    # the start counts and runaway parameters are absent from files of older versions
    for key in ("n_best", "nfev_total"):
        if raw.has(key):
            d[key] = raw.integer(key)
    if raw.has("at_limit"):
        limit = raw.raw("at_limit")
        if not isinstance(limit, list) or not all(
            isinstance(k, int) and not isinstance(k, bool) and k >= 0 for k in limit
        ):
            raise InvalidDataError("'raw.at_limit' must be a list of parameter indices")
        d["at_limit"] = limit
    d["status"] = raw.text("status")
    d["cov_note"] = raw.text("cov_note")
    d["params"] = raw.floats("params")
    cov = raw.optional_floats("covariance")
    d["covariance"] = None if cov is None else cov.tolist()
    d["weak_direction"] = raw.floats("weak_direction")
    d["aic"] = _optional_number(raw.d.get("aic"), "raw.aic")
    d["bic"] = _optional_number(raw.d.get("bic"), "raw.bic")
    stats = raw.raw("var_stats")
    if not isinstance(stats, list) or not all(isinstance(s, list) and len(s) == 3 for s in stats):
        raise InvalidDataError("'raw.var_stats' must be a list of [min, max, count] triples")
    d["var_stats"] = [
        (_number(a, "raw.var_stats"), _number(b, "raw.var_stats"), _count(c)) for a, b, c in stats
    ]
    d["params"] = d["params"].tolist()
    d["weak_direction"] = d["weak_direction"].tolist()
    return _core.Fit.restore(model, options, d)


def _count(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise InvalidDataError("'raw.var_stats' counts must be non-negative whole numbers")
    return v


def _bootstrap(doc: _Doc, model: _core.Model) -> dict[str, Any] | None:
    if not doc.has("bootstrap"):
        return None
    b = doc.sub("bootstrap")
    status = b.names("status")
    p = len(model.param_names)
    samples = b.floats("samples")
    if samples.size != len(status) * p:
        raise InvalidDataError(
            f"'bootstrap.samples' holds {samples.size} values for {len(status)} replicates of "
            f"{p} parameters"
        )
    cost = b.floats("cost")
    n_iter = b.raw("n_iter")
    if not isinstance(n_iter, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and 0 <= i < 2**32 for i in n_iter
    ):
        raise InvalidDataError("'bootstrap.n_iter' must be a list of iteration counts")
    reps = _core.Replicates.restore(
        model, samples.reshape(len(status), p), status, cost.tolist(), n_iter
    )
    labels = b.d.get("labels")
    if labels is not None and (
        not isinstance(labels, list) or not all(isinstance(c, int) for c in labels)
    ):
        raise InvalidDataError("'bootstrap.labels' must be a list of cluster ids")
    method = b.text("method")
    if method not in _core.BOOTSTRAP_METHODS:
        raise InvalidDataError(f"'bootstrap.method' is not a bootstrap method: {method!r}")
    return {"replicates": reps, "method": method, "seed": b.integer("seed"), "labels": labels}


def from_dict(doc: Any) -> Saved:
    """Check a parsed document and rebuild its record (and bootstrap replicates)."""
    if _depth(doc, _MAX_DEPTH + 1) > _MAX_DEPTH:
        raise InvalidDataError("not a saved powerfit fit: the document is nested too deeply")
    root = _Doc(doc)
    if root.d.get("format") != FORMAT:
        raise InvalidDataError('not a saved powerfit fit (no "format": "powerfit.fit")')
    version = root.d.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
        raise InvalidDataError(
            f"saved fit has format version {version!r}; this powerfit reads up to "
            f"{FORMAT_VERSION}: upgrade powerfit"
        )
    law_arg, law = _law(root)
    model = _model(root, law_arg)
    options = _options(root)
    problem = _problem(root, model)
    solution = _solution(root, model, options)
    return Saved(FitRecord(problem, solution, law), _bootstrap(root, model))


def read(path: str | os.PathLike[str]) -> Saved:
    """Read and check a saved fit.

    Raises:
        FileNotFoundError: no such file.
        InvalidDataError: the file is not a saved fit, or is corrupt (the message names the
            field).
    """
    p = _check.path(path, "path")
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidDataError(f"{p} is not a saved powerfit fit: {exc}") from None
    except RecursionError:
        raise InvalidDataError(f"{p} is not a saved powerfit fit: nested too deeply") from None
    try:
        return from_dict(doc)
    except PowerfitError as exc:
        raise InvalidDataError(f"{p}: saved fit is corrupt: {exc}") from None
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError, RecursionError) as exc:
        raise InvalidDataError(f"{p}: saved fit is corrupt: {exc!r}") from None
