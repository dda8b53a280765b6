"""Tables in files: CSV and TSV (optionally compressed), JSON lines, JSON records or columns,
Parquet (a file, a folder of files or a glob), Arrow IPC / Feather.

Every reader is pyarrow's multithreaded one, asked for the wanted columns only (CSV: only
those columns are converted; Parquet and IPC: only those are read from disk) and, for Parquet,
with the row filter pushed into the scan.
"""

from __future__ import annotations

import glob
import io
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidDataError, InvalidOptionError

#: File formats by extension (after any compression suffix is removed).
EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".feather": "ipc",
    ".arrow": "ipc",
    ".arrows": "ipc",
    ".ipc": "ipc",
}
#: Compression suffixes the text formats may carry (decompressed on the fly).
COMPRESSIONS = (".gz", ".bz2", ".zst", ".lz4")
#: Values of ``format=``.
FORMATS = ("csv", "tsv", "json", "jsonl", "parquet", "ipc")
_TEXT = ("csv", "tsv", "json", "jsonl")
_INDEX_COLUMN = re.compile(r"^__index_level_\d+__$")
#: JSON strings that stand for non-finite numbers (as powerfit's own JSON tables write them).
_NONFINITE = {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}


def is_path(obj: Any) -> bool:
    """Whether ``obj`` names a file (a str or an ``os.PathLike``)."""
    return isinstance(obj, (str, os.PathLike))


def file_kind(path: Any, fmt: str | None) -> str:
    """The format of ``path``: ``fmt`` when given, else from the extension; ``"dataset"``
    for a folder or a glob of Parquet files."""
    if fmt is not None and fmt not in FORMATS:
        raise InvalidOptionError(f"unknown format '{fmt}'; formats are {', '.join(FORMATS)}")
    p = os.fspath(path)
    if p == "-":
        return fmt or "csv"
    if not p.strip():
        raise InvalidDataError("the path is an empty string: give a table file or a table")
    if os.path.isdir(p) or (glob.has_magic(p) and not os.path.exists(p)):
        return "dataset"
    if not os.path.exists(p):
        raise FileNotFoundError(f"{p}: no such file")
    if fmt is not None:
        return fmt
    name = p.lower()
    compressed = name.endswith(COMPRESSIONS)
    if compressed:
        name = os.path.splitext(name)[0]
    kind = EXTENSIONS.get(os.path.splitext(name)[1])
    if kind is None or (compressed and kind not in _TEXT):
        exts = ", ".join(sorted(EXTENSIONS))
        raise InvalidOptionError(
            f"cannot tell the format of '{p}' from its extension: use one of {exts} (CSV, "
            f"TSV and JSON may end in .gz, .bz2 or .zst), or pass format="
        )
    return kind


def file_names(path: Any, kind: str) -> list[str]:
    """Column names of a file, read from its header or schema alone."""
    names: list[str] = _guard(path, kind, lambda: _names(path, kind))
    return names


def read_file(path: Any, kind: str, cols: Sequence[str] | None, filter_expr: Any) -> Any:
    """The columns ``cols`` (all when None) of a file as a pyarrow Table, rows filtered by
    the pyarrow expression ``filter_expr`` (None: all rows). ``cols`` must include the
    columns the filter reads; the caller drops them afterwards."""
    return _guard(path, kind, lambda: _read(path, kind, cols, filter_expr))


def _guard(path: Any, kind: str, fn: Any) -> Any:
    """Runs a pyarrow read, turning parse errors into InvalidDataError naming the file."""
    import pyarrow as pa

    try:
        return fn()
    except (FileNotFoundError, IsADirectoryError, PermissionError, InvalidDataError):
        raise
    except (pa.ArrowException, ValueError, UnicodeDecodeError, EOFError, OSError) as exc:
        msg = " ".join(str(exc).split()) or type(exc).__name__
        what = "a folder of Parquet files" if kind == "dataset" else kind.upper()
        raise InvalidDataError(f"cannot read {os.fspath(path)} as {what}: {msg}") from None


# --- schema ---------------------------------------------------------------------------------
def _names(path: Any, kind: str) -> list[str]:

    if kind in ("csv", "tsv"):
        import pyarrow.csv as pacsv

        with pacsv.open_csv(_source(path), parse_options=_csv_parse(kind)) as reader:
            return [str(n) for n in reader.schema.names]
    if kind == "parquet":
        import pyarrow.parquet as pq

        return _visible(pq.read_schema(path).names)
    if kind == "dataset":
        return _visible(_dataset(path).schema.names)
    if kind == "ipc":
        return list(_ipc_schema(path).names)
    return list(_read_json(path, kind).column_names)


def _visible(names: list[str]) -> list[str]:
    """Column names without the index columns pandas stores in Parquet files."""
    return [n for n in names if not _INDEX_COLUMN.match(n)]


# --- reading --------------------------------------------------------------------------------
def _read(path: Any, kind: str, cols: Sequence[str] | None, filter_expr: Any) -> Any:
    wanted = None if cols is None else list(cols)
    if kind in ("csv", "tsv"):
        import pyarrow.csv as pacsv

        convert = pacsv.ConvertOptions(include_columns=wanted) if wanted is not None else None
        table = pacsv.read_csv(
            _source(path), parse_options=_csv_parse(kind), convert_options=convert
        )
    elif kind == "parquet":
        import pyarrow.parquet as pq

        columns = wanted if wanted is not None else _visible(pq.read_schema(path).names)
        return pq.read_table(path, columns=columns, filters=filter_expr)
    elif kind == "dataset":
        ds = _dataset(path)
        columns = wanted if wanted is not None else _visible(ds.schema.names)
        return ds.to_table(columns=columns, filter=filter_expr)
    elif kind == "ipc":
        table = _read_ipc(path, wanted)
    else:
        table = _read_json(path, kind)
        if wanted is not None:
            table = table.select(wanted)
    if filter_expr is not None:
        table = table.filter(filter_expr)
    return table


def _source(path: Any) -> Any:
    """What pyarrow's readers take: the path (compression detected from its suffix), or
    standard input's bytes for ``-``."""
    import pyarrow as pa

    if os.fspath(path) == "-":
        return pa.BufferReader(sys.stdin.buffer.read())
    return os.fspath(path)


def _csv_parse(kind: str) -> Any:
    import pyarrow.csv as pacsv

    return pacsv.ParseOptions(delimiter="\t" if kind == "tsv" else ",")


def _dataset(path: Any) -> Any:
    """A folder (Hive-style partitions become columns) or glob of Parquet files."""
    import pyarrow.dataset as pads

    p = os.fspath(path)
    if os.path.isdir(p):
        return pads.dataset(p, format="parquet", partitioning="hive")
    files = sorted(glob.glob(p))
    if not files:
        raise FileNotFoundError(f"{p}: no file matches")
    return pads.dataset(files, format="parquet")


def _ipc_schema(path: Any) -> Any:
    import pyarrow as pa

    try:
        with pa.ipc.open_file(path) as reader:
            return reader.schema
    except pa.ArrowInvalid:  # the streaming layout (.arrows) has no file footer
        with pa.OSFile(os.fspath(path)) as fh, pa.ipc.open_stream(fh) as reader:
            return reader.schema


def _read_ipc(path: Any, cols: list[str] | None) -> Any:
    import pyarrow as pa
    from pyarrow import feather

    try:
        return feather.read_table(os.fspath(path), columns=cols, memory_map=True)
    except pa.ArrowInvalid:
        with pa.OSFile(os.fspath(path)) as fh, pa.ipc.open_stream(fh) as reader:
            table = reader.read_all()
        return table if cols is None else table.select(cols)


# --- JSON -----------------------------------------------------------------------------------
def _read_json(path: Any, kind: str) -> Any:
    """JSON lines (one object per line), a JSON array of records, or one JSON object of
    columns (``{"N": [...], "loss": [...]}``)."""
    import pyarrow as pa
    import pyarrow.json as pajson

    first = _first_char(path)
    if first == "":
        raise InvalidDataError(f"{os.fspath(path)} is empty")
    if first == "[":
        return _records(_load_json(path), path)
    if kind == "jsonl":
        return pajson.read_json(_source(path))
    try:
        table = pajson.read_json(_source(path))
    except pa.ArrowInvalid:  # e.g. one object of columns spread over several lines
        doc = _load_json(path)
        if isinstance(doc, dict):
            return _columns(doc, path)
        raise
    if (
        table.num_rows == 1
        and table.num_columns
        and all(pa.types.is_list(t) or pa.types.is_large_list(t) for t in table.schema.types)
    ):
        return _columns(_load_json(path), path)
    return table


def _first_char(path: Any) -> str:
    import pyarrow as pa

    if os.fspath(path) == "-":
        raise InvalidOptionError("standard input is read as CSV only")
    with pa.input_stream(os.fspath(path), compression="detect") as stream:
        head = stream.read(4096).decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    return str(head[:1])


def _load_json(path: Any) -> Any:
    import pyarrow as pa

    with pa.input_stream(os.fspath(path), compression="detect") as stream:
        try:
            return json.load(io.TextIOWrapper(stream, encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InvalidDataError(f"{os.fspath(path)} is not valid JSON: {exc}") from None


def _records(doc: Any, path: Any) -> Any:
    """A JSON array of objects (one per row) as a pyarrow Table."""
    import pandas as pd

    from ._memory import memory_table

    if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
        raise InvalidDataError(f"{os.fspath(path)}: a JSON array must hold one object per row")
    if not doc:
        raise InvalidDataError(f"{os.fspath(path)} holds no rows")
    frame = pd.DataFrame.from_records(doc)
    for name in frame.columns:
        if frame[name].dtype == object:
            frame[name] = _decode_nonfinite(frame[name])
    return memory_table(frame, "pandas", None, os.fspath(path))


def _columns(doc: Any, path: Any) -> Any:
    """A JSON object of equal-length arrays as a pyarrow Table."""
    from ._memory import memory_table

    if not isinstance(doc, dict) or not all(isinstance(v, list) for v in doc.values()):
        raise InvalidDataError(
            f"{os.fspath(path)}: a JSON object must map column names to arrays of values"
        )
    decoded = {k: list(_decode_nonfinite_list(v)) for k, v in doc.items()}
    return memory_table(decoded, "dict", None, os.fspath(path))


def _decode_nonfinite(col: Any) -> Any:
    """A pandas column of numbers and the strings "NaN"/"Infinity"/"-Infinity" as floats; any
    other column unchanged."""
    values = col.tolist()
    decoded = _decode_nonfinite_list(values)
    return col if decoded is values else col.__class__(decoded, index=col.index, dtype=float)


def _decode_nonfinite_list(values: list[Any]) -> list[Any]:
    """The same for a list (returned unchanged, the same object, when there is nothing to
    decode)."""
    if any(isinstance(v, str) for v in values) and all(
        v is None or (isinstance(v, str) and v in _NONFINITE) or _is_number(v) for v in values
    ):
        return [_NONFINITE.get(v, v) if isinstance(v, str) else v for v in values]
    return values


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def describe(path: Any) -> str:
    """How a path is named in messages."""
    p = os.fspath(path)
    return "standard input" if p == "-" else str(Path(p))
