"""``powerfit passk``: unbiased pass@k with standard errors from per-problem (or per-attempt)
results, and the coverage laws with bootstrap intervals over problems."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import pandas as pd

from . import _cli_args as a

EXAMPLES = """\
FILE holds one row per problem (columns n and c: samples and successes) or one row per attempt
(columns problem and correct). With --fit (implied by --predict and --target) the Beta
distribution of success rates and the power law on -ln pass@k are fitted, with --n-boot
replicates over problems.

examples:
  powerfit passk results.csv --k 1 10 100
  powerfit passk attempts.parquet --problem task_id --correct passed --by model --k 1 5 25
  powerfit passk results.csv --by model --fit --n-boot 2000 --predict 1000 10000 \\
      --target 0.9 --plot coverage.png --out params.csv
"""


def cmd_passk(args: argparse.Namespace) -> int:
    """Prints pass@k and, when asked, the coverage fits."""
    from .io import read_table
    from .testtime import fit_coverage, pass_at_k

    a.check_outputs(args.out, args.plot)
    data = read_table(args.file)
    cols = {
        "samples": args.samples,
        "successes": args.successes,
        "problem": args.problem,
        "correct": args.correct,
        "by": args.by,
    }
    table = pass_at_k(data, k=args.k, **cols)
    print(a.show(table))
    out: pd.DataFrame = table
    fig = None
    if args.fit or args.predict or args.target:
        cov = fit_coverage(
            data,
            n_boot=args.n_boot,
            seed=args.seed,
            level=args.level,
            progress=False if args.quiet else None,
            **cols,
        )
        print()
        print(cov.summary())
        out = cov.params()
        if args.predict:
            print()
            print(a.show(cov.predict(args.predict, law="both")))
        if args.target:
            print()
            print(a.show(cov.k_for(args.target)))
        fig = cov.plot() if args.plot else None
    elif args.plot:
        raise_plot_needs_fit()
    a.write(args, out, fig)
    return 0


def raise_plot_needs_fit() -> None:
    """--plot draws the fitted laws."""
    from .errors import InvalidOptionError

    raise InvalidOptionError("--plot draws the coverage fits: add --fit")


def register(command: Callable[..., argparse.ArgumentParser], quiet: Callable[[Any], None]) -> None:
    """Adds the subcommand to the parser."""
    p = command(
        "passk",
        "pass@k with standard errors, and coverage laws against attempts",
        EXAMPLES,
        cmd_passk,
    )
    p.add_argument("file", metavar="FILE", help="CSV, TSV, Parquet or JSON table (- for stdin)")
    p.add_argument("--samples", default="n", metavar="COLUMN", help="samples per problem")
    p.add_argument("--successes", default="c", metavar="COLUMN", help="successes per problem")
    p.add_argument(
        "--problem", default="problem", metavar="COLUMN", help="problem id, for one row per attempt"
    )
    p.add_argument(
        "--correct",
        default="correct",
        metavar="COLUMN",
        help="whether an attempt succeeded, for one row per attempt",
    )
    p.add_argument("--by", nargs="+", metavar="COLUMN", help="one curve per group (model)")
    p.add_argument(
        "--k",
        nargs="+",
        type=a.count,
        metavar="K",
        help="k values (default: powers of two up to the fewest samples)",
    )
    p.add_argument("--fit", action="store_true", help="fit the coverage laws")
    a.option(
        p,
        "--n-boot",
        "--bootstrap",
        type=a.count,
        default=1000,
        metavar="N",
        help="bootstrap replicates over problems",
    )
    p.add_argument("--seed", type=a.count, default=0, help="random seed")
    p.add_argument("--level", type=a.fraction, default=0.95, help="interval coverage")
    p.add_argument(
        "--predict",
        nargs="+",
        type=a.positive,
        metavar="K",
        help="predict pass@k at these k (implies --fit)",
    )
    p.add_argument(
        "--target",
        nargs="+",
        type=a.fraction,
        metavar="P",
        help="attempts needed to reach these pass@k (implies --fit)",
    )
    p.add_argument(
        "--out", metavar="PATH", help="pass@k table, or the fitted parameters with --fit"
    )
    p.add_argument("--plot", metavar="PATH", help="coverage curves with both laws (needs --fit)")
    quiet(p)
