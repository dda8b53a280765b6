"""The one columnar form every entry point receives: :class:`Table`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..errors import InvalidDataError

#: The table library results are handed back in.
Flavour = Literal["pandas", "polars", "pyarrow"]


@dataclass(frozen=True, repr=False)
class Table:
    """A table read by :func:`~powerfit.readers.read_table`.

    Attributes:
        data: the columns as a ``pyarrow.Table`` (only those asked for, rows filtered).
        kind: what was read: ``"csv"``, ``"tsv"``, ``"json"``, ``"jsonl"``, ``"parquet"``,
            ``"ipc"``, ``"dataset"`` (a folder of Parquet files), ``"duckdb"``, ``"pandas"``,
            ``"polars"``, ``"pyarrow"`` or ``"dict"``.
        flavour: the library outputs should come back in (:meth:`to_native`): ``"polars"``
            for polars input, ``"pyarrow"`` for pyarrow input, ``"pandas"`` for everything else.
        source: a short description of the input for messages (the path, or e.g.
            ``"a pandas DataFrame"``).
    """

    data: Any
    kind: str
    flavour: Flavour
    source: str

    @property
    def column_names(self) -> list[str]:
        """Names of the columns read."""
        return list(self.data.column_names)

    @property
    def num_rows(self) -> int:
        """Number of rows."""
        return int(self.data.num_rows)

    def __len__(self) -> int:
        return self.num_rows

    def __repr__(self) -> str:
        return (
            f"<Table from {self.source} ({self.kind}): {self.num_rows} rows, columns "
            f"{self.column_names}>"
        )

    def __contains__(self, name: object) -> bool:
        return name in self.data.column_names

    def column(self, name: str) -> Any:
        """The column ``name`` as a ``pyarrow.ChunkedArray``.

        Raises:
            InvalidDataError: no such column (the message lists the columns there are).
        """
        if name not in self.data.column_names:
            raise InvalidDataError(
                f"{self.source} has no column '{name}'; columns are {self.column_names}"
            )
        return self.data.column(name)

    def floats(self, name: str) -> np.ndarray:
        """The column ``name`` as a contiguous float64 array (missing values become NaN).

        Raises:
            InvalidDataError: no such column, or a value that is not a number (naming the
                column, the source and the first bad row).
        """
        return to_floats(self.column(name), name, self.source)

    def to_pandas(self) -> Any:
        """The data as a pandas DataFrame."""
        return self.data.to_pandas()

    def to_native(self, frame: Any) -> Any:
        """``frame`` (a pandas DataFrame or a pyarrow Table) in this table's ``flavour``."""
        import pandas as pd
        import pyarrow as pa

        if self.flavour == "pandas":
            return frame.to_pandas() if isinstance(frame, pa.Table) else frame
        arrow = (
            pa.Table.from_pandas(frame, preserve_index=False)
            if isinstance(frame, pd.DataFrame)
            else frame
        )
        if self.flavour == "pyarrow":
            return arrow
        import polars as pl

        return pl.from_arrow(arrow)


def to_floats(col: Any, name: str, source: str) -> np.ndarray:
    """A pyarrow column as float64 numpy, or InvalidDataError naming the first bad row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.dictionary_decode()
        t = arr.type
    if pa.types.is_boolean(t):
        raise InvalidDataError(f"column '{name}' of {source} holds booleans, not numbers")
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        out = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
        return np.ascontiguousarray(out, dtype=np.float64)
    if pa.types.is_null(t):
        return np.full(len(arr), np.nan)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        try:
            out = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
            return np.ascontiguousarray(out, dtype=np.float64)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            row, value = _first_unparsable(arr)
            raise InvalidDataError(
                f"column '{name}' of {source} has a non-numeric value {value!r} at row {row}"
            ) from None
    raise InvalidDataError(f"column '{name}' of {source} holds {t}, not numbers")


def _first_unparsable(arr: Any) -> tuple[int, Any]:
    """Row and value of the first string that does not parse as a number (an error path:
    the column is already known to hold one)."""
    import pandas as pd

    values = arr.to_pandas()
    parsed = pd.to_numeric(values, errors="coerce")
    bad = np.flatnonzero(parsed.isna().to_numpy() & values.notna().to_numpy())
    row = int(bad[0]) if bad.size else 0
    return row, values.iloc[row]
