"""Argument types and output helpers shared by the workflow subcommands (``powerfit
diagnose``, ``powerfit compute``, ``powerfit passk``). Bad values raise
:class:`argparse.ArgumentTypeError` (reported by the parser as a usage error) or
:class:`~powerfit.InvalidOptionError`; either way the command line exits with code 2 and one
line on standard error."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ._deprecate import REMOVED_IN
from .errors import InvalidOptionError

FIGURE_EXTS = (".png", ".pdf", ".svg", ".jpg", ".jpeg", ".webp", ".eps", ".ps", ".tif", ".tiff")


def positive(text: str) -> float:
    """A positive finite number."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got '{text}'")
    return v


def fraction(text: str) -> float:
    """A number in (0, 1)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got '{text}'") from None
    if not 0.0 < v < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got '{text}'")
    return v


def count(text: str) -> int:
    """A whole number >= 0."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got '{text}'")
    return v


def pairs(items: Sequence[str] | None, option: str) -> dict[str, str]:
    """``["N=params", "D=tokens"]`` -> ``{"N": "params", "D": "tokens"}``."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InvalidOptionError(f"{option} expects NAME=VALUE pairs, got '{item}'")
        out[key.strip()] = value.strip()
    return out


def check_outputs(out: str | None, plot: str | None) -> None:
    """Fail before any work when an output cannot be written or has an unknown format."""
    from .io import check_writable, table_format

    if out:
        check_writable(out)
        table_format(out)
    if plot:
        check_writable(plot)
        if Path(plot).suffix.lower() not in FIGURE_EXTS:
            raise InvalidOptionError(
                f"--plot {plot}: use a figure extension ({', '.join(FIGURE_EXTS)})"
            )


def note(args: argparse.Namespace, text: str) -> None:
    """A note on standard error, unless --quiet."""
    if not getattr(args, "quiet", False):
        print(text, file=sys.stderr)


def show(df: pd.DataFrame, max_rows: int = 60) -> str:
    """A DataFrame as a plain text table (numbers to four significant digits)."""
    shown = df.head(max_rows)
    text = str(shown.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if len(df) > max_rows:
        text += f"\n({len(df)} rows, first {max_rows} shown)"
    return text


def write(args: argparse.Namespace, table: pd.DataFrame | None, fig: Any = None) -> None:
    """Writes --out (a table) and --plot (a figure) when asked."""
    from .io import save_figure, write_table

    if getattr(args, "out", None) and table is not None:
        write_table(table, args.out)
        note(args, f"wrote {args.out}")
    if getattr(args, "plot", None) and fig is not None:
        save_figure(fig, args.plot)
        note(args, f"wrote {args.plot}")


class _OldFlag(argparse.Action):
    """An old spelling of a renamed option: stores into the new option's destination and says
    on standard error which flag to use instead."""

    def __init__(self, option_strings: Sequence[str], dest: str, new: str = "", **kw: Any):
        super().__init__(option_strings, dest, **kw)
        self.new = new

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        print(
            f"powerfit: warning: {option_string} is deprecated and is removed in powerfit "
            f"{REMOVED_IN}; use {self.new}",
            file=sys.stderr,
        )
        setattr(namespace, self.dest, self.const if self.nargs == 0 else values)


def option(p: Any, flag: str, *old: str, **kw: Any) -> argparse.Action:
    """``p.add_argument(flag, **kw)``, and each old spelling in ``old`` as a hidden alias that
    warns (one release of grace for a renamed flag). Returns the new flag's action."""
    action = p.add_argument(flag, **kw)
    for name in old:
        if kw.get("action") == "store_true":
            extra: dict[str, Any] = {"nargs": 0, "const": True}
        else:
            extra = {k: kw[k] for k in ("type", "nargs", "choices", "metavar") if k in kw}
        p.add_argument(
            name,
            dest=action.dest,
            action=_OldFlag,
            new=flag,
            default=argparse.SUPPRESS,
            help=argparse.SUPPRESS,
            **extra,
        )
    return action
