"""Files: reading data tables, writing tables and figures safely, saving and loading fits.

Every writer here goes through :func:`atomic_write`: the output is written to a temporary file in
the destination folder and renamed over the destination only once complete, so an interrupted or
failed write never leaves a partial file behind (and never clobbers an existing good one).

A saved fit is a JSON document (strict JSON: NaN and infinities are stored as the strings
``"NaN"``, ``"Infinity"`` and ``"-Infinity"``) holding everything needed to rebuild the
:class:`~powerfit.FitResult`: the law, its variables and parameters, the estimates, covariance and
statistics, the data, the loss settings, fixed parameters and bounds, and the bootstrap
replicates when there are any.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from .errors import InvalidDataError, InvalidOptionError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .bootstrap import BootstrapResult
    from .fit import FitResult

#: Identifies a saved fit, and the layout version of the document.
FORMAT = "powerfit.fit"
FORMAT_VERSION = 1

TABLE_FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet",
                 ".json": "json"}
_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


# --- safe writing --------------------------------------------------------------------------
def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: The process's umask, read once at import (reading it means setting it, which is not
#: thread-safe at any later time).
_UMASK = _read_umask()


def check_writable(path: str | os.PathLike[str]) -> Path:
    """The output path, after checking that its folder exists and that it is not a folder.

    Raises:
        FileNotFoundError: the folder does not exist.
        IsADirectoryError: ``path`` is an existing folder.
    """
    p = Path(path)
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {p}: folder '{folder}' does not exist")
    if p.is_dir():
        raise IsADirectoryError(f"cannot write {p}: it is a folder")
    return p


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success rename it to ``path``, else delete it.

    >>> with atomic_write("out.json", "w") as fh:  # doctest: +SKIP
    ...     fh.write("{}")
    """
    p = check_writable(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        fh: IO[Any]
        if "b" in mode:
            fh = os.fdopen(fd, mode)
        else:
            fh = os.fdopen(fd, mode, encoding="utf-8", newline="")
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp creates files private to the user; give the result the usual permissions
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_write(path, "w") as fh:
        fh.write(text)
    return Path(path)


def table_format(path: str | os.PathLike[str]) -> str:
    """``"csv"``, ``"tsv"``, ``"parquet"`` or ``"json"`` from the file's extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_FORMATS:
        raise InvalidOptionError(
            f"cannot tell the format of '{path}' from its extension: use "
            f"{', '.join(sorted(TABLE_FORMATS))}"
        )
    return TABLE_FORMATS[suffix]


def write_table(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a DataFrame as CSV, TSV, Parquet or JSON (records), chosen by extension,
    atomically."""
    fmt = table_format(path)
    check_writable(path)
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ImportError(
                "writing Parquet needs pyarrow: pip install 'powerfit[arrow]'"
            ) from None
    with atomic_write(path, "wb" if fmt == "parquet" else "w") as fh:
        if fmt == "csv":
            df.to_csv(fh, index=False)
        elif fmt == "tsv":
            df.to_csv(fh, index=False, sep="\t")
        elif fmt == "parquet":
            df.to_parquet(fh, index=False)
        else:
            records = [
                {str(k): _encode(v) for k, v in row.items()}
                for row in df.to_dict(orient="records")
            ]
            fh.write(json.dumps(records, indent=1, allow_nan=False))
            fh.write("\n")
    return Path(path)


def save_figure(fig: Any, path: str | os.PathLike[str], dpi: float | None = None) -> Path:
    """Save a matplotlib Figure atomically; the format comes from the extension (png, pdf,
    svg, ...)."""
    p = check_writable(path)
    fmt = p.suffix.lower().lstrip(".") or "png"
    supported = fig.canvas.get_supported_filetypes()
    if fmt not in supported:
        raise InvalidOptionError(
            f"cannot save a figure as '.{fmt}': use one of {', '.join(sorted(supported))}"
        )
    with atomic_write(p, "wb") as fh:
        fig.savefig(fh, format=fmt, dpi=dpi if dpi is not None else "figure")
    return p


# --- reading data --------------------------------------------------------------------------
def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV, TSV, Parquet or JSON (records) table, chosen by extension; ``-`` reads CSV
    from standard input.

    Raises:
        FileNotFoundError: no such file.
        InvalidDataError: the file cannot be parsed as a table (the message says why).
        InvalidOptionError: an extension that is not a table format.
    """
    import sys

    import pandas as pd

    src: Any
    if str(path) == "-":
        fmt, src = "csv", sys.stdin
    else:
        p = Path(path)
        if p.is_dir():
            raise IsADirectoryError(f"{p} is a folder, not a data file")
        if not p.exists():
            raise FileNotFoundError(f"{p}: no such file")
        fmt, src = table_format(p), p
    try:
        if fmt == "csv":
            df = pd.read_csv(src)
        elif fmt == "tsv":
            df = pd.read_csv(src, sep="\t")
        elif fmt == "json":
            df = pd.read_json(src, orient="records")
        else:
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                raise ImportError(
                    "reading Parquet needs pyarrow: pip install 'powerfit[arrow]'"
                ) from None
            df = pd.read_parquet(src)
    except (ImportError, OSError):
        raise
    except Exception as exc:  # pandas and pyarrow raise many kinds of parse errors
        msg = " ".join(str(exc).split()) or type(exc).__name__
        raise InvalidDataError(f"cannot read {path} as {fmt.upper()}: {msg}") from None
    if df.shape[1] == 0 or df.shape[0] == 0:
        raise InvalidDataError(f"{path} holds no data rows")
    return df


# --- saving and loading fits ---------------------------------------------------------------
def _encode(v: Any) -> Any:
    """A JSON-safe copy: arrays to lists, numpy scalars to Python, non-finite floats to
    strings."""
    if isinstance(v, np.ndarray):
        return [_encode(x) for x in v.tolist()]
    if isinstance(v, (list, tuple)):
        return [_encode(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _encode(x) for k, x in v.items()}
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


def _decode(v: Any) -> Any:
    """Inverse of :func:`_encode` for the non-finite floats (containers are kept as lists)."""
    if isinstance(v, str):
        return _NONFINITE.get(v, v)
    if isinstance(v, list):
        return [_decode(x) for x in v]
    if isinstance(v, dict):
        return {k: _decode(x) for k, x in v.items()}
    return v


def _floats(v: Any) -> np.ndarray:
    return np.asarray(_decode(v), dtype=np.float64)


def bootstrap_to_dict(boot: BootstrapResult) -> dict[str, Any]:
    """The replicates of a bootstrap run as a JSON-safe dict."""
    return {
        "method": boot.method,
        "seed": int(boot.seed),
        "sigma": _encode(boot.sigma),
        "labels": None if boot._labels is None else [int(c) for c in boot._labels],
        "samples": _encode(boot.samples),
        "success": [bool(s) for s in boot.success],
        "status": [str(s) for s in boot.status],
        "cost": _encode(boot.cost),
        "n_iter": [int(i) for i in boot.n_iter],
    }


def to_dict(res: FitResult, bootstrap: bool = True) -> dict[str, Any]:
    """Everything needed to rebuild ``res``, as a JSON-safe dict (see :func:`load`)."""
    from . import __version__

    sp = res._spec
    spec = {"name": sp.name, "vars": list(sp.vars), "params": list(sp.params),
            "positive": [bool(v) for v in sp.positive]}
    data: dict[str, Any] = {v: _encode(res._x[v]) for v in res.variables}
    doc: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "powerfit_version": __version__,
        "law": res.law,
        "spec": spec,
        "expression": _expression(res),
        "params": {k: _encode(v) for k, v in res.params.items()},
        "stderr": {k: _encode(v) for k, v in res.stderr.items()},
        "settings": {
            "loss": res.loss,
            "delta": _encode(res.delta),
            "overestimate_penalty": _encode(res.overestimate_penalty),
            "fixed": _encode(list(res._fixed)),
            "lower": _encode(list(res._lower)),
            "upper": _encode(list(res._upper)),
            "options": _encode(dict(res._options)),
        },
        "columns": {"variables": list(res._labels), "loss": res._y_name},
        "raw": {k: _encode(v) for k, v in res._raw.items()},
        "data": {"x": data, "loss": _encode(res._y),
                 "weights": None if res._w is None else _encode(res._w)},
    }
    boot = getattr(res, "_boot", None)
    if bootstrap and boot is not None:
        doc["bootstrap"] = bootstrap_to_dict(boot)
    return doc


def _expression(res: FitResult) -> dict[str, Any] | None:
    """A written law (:class:`powerfit.Law`) as the arguments that rebuild it; None for a
    built-in law."""
    law = getattr(res._spec, "law", None)
    if law is None:
        return None
    return {
        "expr": law.expr,
        "variables": list(law.variables),
        "params": list(law.params),
        "bounds": {k: _encode(list(b)) for k, b in law.bounds.items()} or None,
        "p0": None if law.p0 is None else _encode(law.p0),
        "positive": list(law.positive) or None,
        "linear": list(law.linear) or None,
        "name": None if law.name == "custom" else law.name,
    }


def save(res: FitResult, path: str | os.PathLike[str], bootstrap: bool = True) -> Path:
    """Save a fit (and its bootstrap replicates, unless ``bootstrap=False``) as JSON,
    atomically. Reload it with :func:`powerfit.load`."""
    suffix = Path(path).suffix.lower()
    if suffix in (".csv", ".tsv", ".parquet", ".pq"):
        raise InvalidOptionError(
            f"a fit is saved as JSON, not '{suffix}': use a .json path, or write "
            f"res.to_frame() for the parameter table"
        )
    doc = to_dict(res, bootstrap=bootstrap)
    return write_text(path, _dumps(doc) + "\n")


def _dumps(doc: dict[str, Any]) -> str:
    """JSON with the top two levels indented and every leaf value on one line (so that data
    columns and bootstrap samples do not take one line per number)."""

    def block(obj: Any, depth: int) -> str:
        if isinstance(obj, dict) and depth < 2 and obj:
            pad = "  " * (depth + 1)
            items = [
                f"{pad}{json.dumps(k)}: {block(v, depth + 1)}" for k, v in obj.items()
            ]
            return "{\n" + ",\n".join(items) + "\n" + "  " * depth + "}"
        return json.dumps(obj, allow_nan=False, separators=(", ", ": "))

    return block(doc, 0)


def _bootstrap_from_dict(res: FitResult, d: dict[str, Any]) -> BootstrapResult:
    from . import _core
    from .bootstrap import BootstrapResult

    names = list(_core.TERMINATION_NAMES)
    codes = []
    for s in d["status"]:
        if s not in names:
            raise InvalidDataError(f"saved bootstrap has an unknown status '{s}'")
        codes.append(names.index(s))
    samples = _floats(d["samples"]).reshape(len(d["success"]), len(res.param_names))
    raw = {
        "samples": samples,
        "success": np.asarray(d["success"], dtype=bool),
        "status": np.asarray(codes, dtype=np.int64),
        "cost": _floats(d["cost"]),
        "n_iter": np.asarray(d["n_iter"], dtype=np.int64),
    }
    return BootstrapResult(
        res,
        raw,
        method=str(d["method"]),
        seed=int(d["seed"]),
        labels=None if d.get("labels") is None else [int(c) for c in d["labels"]],
        sigma=float(_decode(d.get("sigma", 0.0))),
    )


def from_dict(doc: dict[str, Any]) -> FitResult:
    """Rebuild a :class:`~powerfit.FitResult` from :func:`to_dict`'s output."""
    from .fit import FitResult
    from .laws import law_spec

    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InvalidDataError("not a saved powerfit fit (no \"format\": \"powerfit.fit\")")
    version = doc.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise InvalidDataError(
            f"saved fit has format version {version!r}; this powerfit reads up to "
            f"{FORMAT_VERSION}: upgrade powerfit"
        )
    try:
        fields = doc["spec"]
        expression = doc.get("expression")
        if expression is not None:  # a written law: compile it again
            from .expr import Law

            e = _decode(expression)
            law = Law(
                e["expr"],
                e["variables"],
                params=e.get("params"),
                bounds=None if not e.get("bounds") else {k: tuple(b) for k, b in
                                                         e["bounds"].items()},
                p0=e.get("p0"),
                positive=e.get("positive"),
                linear=e.get("linear"),
                name=e.get("name"),
            )
            spec = law_spec(law, tuple(law.variables))
        else:
            spec = law_spec(fields["name"], tuple(fields["vars"]))
        if list(spec.params) != list(fields["params"]):
            raise InvalidDataError(
                f"the saved parameters {fields['params']} do not match the law's "
                f"{list(spec.params)}"
            )
        settings = doc["settings"]
        raw = {k: _decode(v) for k, v in doc["raw"].items()}
        raw["params"] = _floats(raw["params"])
        if raw.get("covariance") is not None:
            raw["covariance"] = _floats(raw["covariance"])
        data = doc["data"]
        xs = {v: _floats(data["x"][v]) for v in spec.vars}
        y = _floats(data["loss"])
        w = None if data.get("weights") is None else _floats(data["weights"])
        fixed = [None if f is None else float(f) for f in _decode(settings["fixed"])]
        res = FitResult(
            raw,
            spec,
            xs,
            y,
            w,
            labels=list(doc["columns"]["variables"]),
            y_name=str(doc["columns"]["loss"]),
            loss=str(settings["loss"]),
            delta=float(_decode(settings["delta"])),
            penalty=float(_decode(settings["overestimate_penalty"])),
            fixed=fixed,
            lower=[float(v) for v in _decode(settings["lower"])],
            upper=[float(v) for v in _decode(settings["upper"])],
            options=_decode(settings["options"]),
        )
        if doc.get("bootstrap") is not None:
            _bootstrap_from_dict(res, doc["bootstrap"])
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, InvalidDataError):
            raise
        raise InvalidDataError(f"saved fit is incomplete or corrupt: {exc!r}") from None
    return res


def load(path: str | os.PathLike[str]) -> FitResult:
    """Load a fit saved with :meth:`FitResult.save` (or ``powerfit fit --out FILE.json``).

    The result predicts, reports and plots like the original. When the file holds bootstrap
    replicates they are loaded too, and the plots and reports use them; get them with
    :func:`powerfit.io.load_bootstrap`.

    Raises:
        FileNotFoundError: no such file.
        InvalidDataError: the file is not a saved fit, or is corrupt.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidDataError(f"{p} is not a saved powerfit fit: {exc}") from None
    try:
        return from_dict(doc)
    except InvalidDataError as exc:
        raise InvalidDataError(f"{p}: {exc}") from None


def load_bootstrap(path: str | os.PathLike[str]) -> BootstrapResult:
    """The bootstrap replicates saved with a fit (its ``.result`` is the fit)."""
    res = load(path)
    boot = res._boot
    if boot is None:
        raise InvalidDataError(f"{path} holds no bootstrap replicates")
    return boot

