"""Files in and out: data tables, figures and saved fits.

Every writer goes through :func:`atomic_write`: the output is written to a temporary file in the
destination folder and renamed over the destination only once complete, so an interrupted or
failed write never leaves a partial file behind (and never clobbers an existing good one).
Saved fits are JSON documents (see ``docs/file-format.md``); :func:`load` checks the whole
document.
"""

from __future__ import annotations

from typing import Any

from ._files import (
    atomic_write,
    check_writable,
    read_table,
    save_figure,
    table_format,
    write_bytes,
    write_table,
    write_text,
)
from .fit import FitResult, load, load_bootstrap
from .saved import bootstrap_to_dict, save, to_dict


def from_dict(doc: dict[str, Any]) -> FitResult:
    """Rebuild a :class:`~powerfit.FitResult` from :func:`to_dict`'s output."""
    return FitResult.from_dict(doc)


__all__ = [
    "atomic_write",
    "bootstrap_to_dict",
    "check_writable",
    "from_dict",
    "load",
    "load_bootstrap",
    "read_table",
    "save",
    "save_figure",
    "table_format",
    "to_dict",
    "write_bytes",
    "write_table",
    "write_text",
]
