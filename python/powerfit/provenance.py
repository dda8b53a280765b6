"""Where a result came from: the input and its SHA-256, the call that made it, the powerfit
version and the time. Reports print it so that a figure sent to a colleague can be traced back
and rerun.

A fit records its provenance when it is made: the file's digest is taken then,
so a report written later still names the bytes that were fitted. The digest of the data as
fitted (the float64 columns the core holds) is computed when asked for (:func:`data_digest`),
which costs nothing for fits that are never reported.
"""

from __future__ import annotations

import glob
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

#: Bytes read at a time when hashing a file.
CHUNK = 1 << 20


def _sha256_files(paths: list[Path]) -> str:
    h = hashlib.sha256()
    several = len(paths) > 1
    for p in paths:
        if several:  # a dataset: the files' names are part of what was read
            h.update(p.name.encode("utf-8") + b"\0")
        with open(p, "rb") as f:
            while chunk := f.read(CHUNK):
                h.update(chunk)
    return h.hexdigest()


def file_digest(source: Any) -> dict[str, str]:
    """``{"source": ..., "sha256": ...}`` for a path (a file, or a folder or glob of Parquet
    files, hashed in name order); only ``source`` for standard input or an unreadable path."""
    p = os.fspath(source)
    if p == "-":
        return {"source": "standard input"}
    if os.path.isdir(p):
        files = sorted(q for q in Path(p).rglob("*") if q.is_file())
    elif os.path.isfile(p):
        files = [Path(p)]
    else:
        files = sorted(Path(q) for q in glob.glob(p) if os.path.isfile(q))
    out = {"source": str(Path(p))}
    try:
        if files:
            out["sha256"] = _sha256_files(files)
    except OSError:
        pass
    return out


def describe(data: Any) -> dict[str, str]:
    """The input of a call: the file and its digest for a path, else what kind of object."""
    if isinstance(data, (str, os.PathLike)):
        return file_digest(data)
    if data is None:
        return {"source": "arrays"}
    kind = type(data)
    shape = getattr(data, "shape", None)
    size = f" ({shape[0]} rows)" if isinstance(shape, tuple) and shape else ""
    return {"source": f"a {kind.__module__.split('.')[0]} {kind.__name__}{size}"}


class _InMemory:
    """Stands for a table in memory in a call's text."""

    def __repr__(self) -> str:
        return "df"


#: The data argument of a call made on a table in memory.
IN_MEMORY: Any = _InMemory()


def _arg(value: Any) -> str:
    """A call's argument as text: literals as Python writes them, anything else by its kind."""
    if isinstance(value, (str, int, float, bool, _InMemory)) or value is None:
        return repr(value)
    if isinstance(value, (list, tuple)) and len(value) <= 8:
        inner = ", ".join(_arg(v) for v in value)
        return (
            f"[{inner}]"
            if isinstance(value, list)
            else f"({inner}{',' if len(value) == 1 else ''})"
        )
    if isinstance(value, Mapping) and len(value) <= 12:
        return "{" + ", ".join(f"{_arg(k)}: {_arg(v)}" for k, v in value.items()) + "}"
    expr = getattr(value, "expr", None)  # a written law
    if isinstance(expr, str):
        return f"pf.Law({expr!r})"
    if isinstance(value, (str, os.PathLike)):
        return repr(os.fspath(value))
    size = getattr(value, "shape", None)
    return f"<{type(value).__name__}{'' if size is None else ' ' + 'x'.join(map(str, size))}>"


def call_text(func: str, args: list[Any], kwargs: Mapping[str, Any]) -> str:
    """``func(arg, key=value, ...)`` as a reader would retype it (data shown by kind)."""
    parts = [_arg(a) for a in args] + [f"{k}={_arg(v)}" for k, v in kwargs.items()]
    return f"{func}({', '.join(parts)})"


def data_digest(columns: list[np.ndarray], y: np.ndarray, weights: np.ndarray | None) -> str:
    """SHA-256 of the data as fitted: each float64 column in order, then the losses and the
    weights (little-endian bytes), so two fits on the same numbers share it whatever the
    file format they came from."""
    h = hashlib.sha256()
    for a in [*columns, y, *([] if weights is None else [weights])]:
        h.update(np.ascontiguousarray(a, dtype="<f8").tobytes())
    return h.hexdigest()


__all__ = ["IN_MEMORY", "call_text", "data_digest", "describe", "file_digest"]
