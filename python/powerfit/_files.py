"""Files: reading data tables, writing tables and figures safely (the machinery behind
:mod:`powerfit.io`).

Every writer here goes through :func:`atomic_write`: the output is written to a temporary file in
the destination folder and renamed over the destination only once complete, so an interrupted or
failed write never leaves a partial file behind (and never clobbers an existing good one).
Saved fits are :mod:`powerfit.saved`'s.
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

TABLE_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
}


# --- safe writing --------------------------------------------------------------------------
def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: The process's umask, read once at import (reading it means setting it, which is not
#: thread-safe at any later time).
_UMASK = _read_umask()


def check_writable(path: str | os.PathLike[str]) -> Path:
    """The output path, after checking that its folder exists, that it is not a folder and
    that a file can be created beside it (the way :func:`atomic_write` will write it).

    Raises:
        FileNotFoundError: the folder does not exist.
        IsADirectoryError: ``path`` is an existing folder.
        PermissionError, OSError: no file can be created in the folder (the message names
            ``path``).
    """
    p = Path(path)
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {p}: folder '{folder}' does not exist")
    if p.is_dir():
        raise IsADirectoryError(f"cannot write {p}: it is a folder")
    fd, probe = _temporary(p)
    os.close(fd)
    os.unlink(probe)
    return p


def _temporary(p: Path) -> tuple[int, str]:
    """A new temporary file beside ``p``; a failure names ``p``, not the temporary name."""
    try:
        return tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    except OSError as exc:
        err = type(exc)(f"cannot write {p}: {exc.strerror or exc}")
        err.errno = exc.errno
        raise err from None


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success rename it to ``path``, else delete it.

    >>> with atomic_write("out.json", "w") as fh:  # doctest: +SKIP
    ...     fh.write("{}")
    """
    p = check_writable(path)
    fd, tmp = _temporary(p)
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
                {str(k): _encode(v) for k, v in row.items()} for row in df.to_dict(orient="records")
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
    """Read a data table from a file as a pandas DataFrame, with the one reader every entry
    point uses (:func:`powerfit.readers.read_table`: CSV, TSV, JSON, JSON lines, Parquet,
    Feather, compressed CSV; ``-`` reads CSV from standard input).

    Raises:
        FileNotFoundError: no such file.
        InvalidDataError: the file cannot be parsed as a table, or holds no data rows.
        InvalidOptionError: an extension that is not a table format.
    """
    from .readers import read_table as read

    df = read(path).data.to_pandas()
    if df.shape[1] == 0 or df.shape[0] == 0:
        raise InvalidDataError(f"{path} holds no data rows")
    return df


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
