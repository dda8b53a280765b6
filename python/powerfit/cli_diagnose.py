"""``powerfit diagnose``: learning and capacity curves, the regime of every cell, what to buy
next and the checks a fit needs, from a table of runs."""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Callable
from typing import Any

from . import _cli_args as a

EXAMPLES = """\
FILE holds one row per run (or per checkpoint, with --run): model size N, tokens seen D and the
validation loss, and optionally the train loss and the unique tokens U. The summary goes to
standard output; --out writes the cells with their regimes, --plot the curves.

examples:
  powerfit diagnose runs.csv --columns N=params D=tokens loss=val_loss train_loss=train
  powerfit diagnose ladder.csv --run size multiplier --columns D=tokens loss=loss_c4 \\
      --out cells.csv --plot diagnosis.png
  powerfit diagnose sweep.parquet --by U --noise 0.003 --n-boot 0
"""


def cmd_diagnose(args: argparse.Namespace) -> int:
    """Runs the diagnosis and prints its summary."""
    from .diagnosis import diagnose
    from .io import read_table

    a.check_outputs(args.out, args.plot)
    runs = read_table(args.file)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        d = diagnose(
            runs,
            columns=a.pairs(args.columns, "--columns"),
            run=args.run,
            by=args.by,
            cells=args.cells,
            noise=args.noise,
            floor=args.floor,
            min_gain=args.min_gain,
            ratio=args.ratio,
            level=args.level,
            n_boot=args.n_boot,
            seed=args.seed,
        )
    for w in caught:
        a.note(args, f"powerfit: warning: {' '.join(str(w.message).split())}")
    print(d.summary())
    a.write(args, d.cells, d.plot() if args.plot else None)
    return 0


def register(command: Callable[..., argparse.ArgumentParser], quiet: Callable[[Any], None]) -> None:
    """Adds the subcommand to the parser (`command` makes a subparser)."""
    p = command(
        "diagnose",
        "learning and capacity curves: the regime of every run and what to buy next",
        EXAMPLES,
        cmd_diagnose,
    )
    p.add_argument("file", metavar="FILE", help="CSV, TSV, Parquet or JSON table (- for stdin)")
    p.add_argument(
        "--columns",
        nargs="+",
        metavar="VAR=COLUMN",
        help="map N, D, loss, train_loss and U to your columns",
    )
    p.add_argument(
        "--run",
        nargs="+",
        metavar="COLUMN",
        help="the column(s) identifying a run, when rows are checkpoints",
    )
    p.add_argument("--by", nargs="+", metavar="COLUMN", help="one analysis per group")
    p.add_argument(
        "--cells",
        default="auto",
        choices=("auto", "final", "checkpoints"),
        help="cells from each run's final point or from checkpoints",
    )
    p.add_argument(
        "--noise",
        type=a.positive,
        help="standard deviation of ln(loss) of a run (default: estimated)",
    )
    p.add_argument("--floor", type=a.positive, help="the irreducible loss, when known")
    p.add_argument(
        "--min-gain",
        type=a.positive,
        default=0.0025,
        help="returns below this (relative loss per doubling) count as flat",
    )
    p.add_argument(
        "--ratio",
        type=a.positive,
        default=2.0,
        help="how much one return must exceed the other to name the regime",
    )
    p.add_argument("--level", type=a.fraction, default=0.95, help="interval coverage")
    a.option(
        p,
        "--n-boot",
        "--bootstrap",
        type=a.count,
        default=200,
        metavar="N",
        help="bootstrap replicates of the fitted slices and the floor",
    )
    p.add_argument("--seed", type=a.count, default=0, help="random seed")
    p.add_argument("--out", metavar="PATH", help="the cells table: .csv, .parquet or .json")
    p.add_argument("--plot", metavar="PATH", help="the curves and the regime map (.png, .pdf)")
    quiet(p)
