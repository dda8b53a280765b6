"""The ``powerfit`` command line.

Commands: ``fit`` (one data set), ``fit-groups`` (one fit per group of a table), ``optimal`` (the
compute-optimal table of a saved fit) and ``demo`` (the bundled Chinchilla sweep end to end). Run
``powerfit COMMAND --help`` for the options and examples of each.

Exit codes: 0 success; 1 a fit did not converge (its results are still printed and written); 2 a
usage or input error, reported as one line on standard error; 3 an internal error (a bug, shown
with its traceback). Tables go to standard output;
progress bars and notes to standard error (no progress bars when standard error is not a terminal,
or with ``--quiet``).
"""

from __future__ import annotations

import argparse
import inspect
import math
import os
import re
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import _core
from ._cli_args import option
from .errors import PowerfitError, PowerfitWarning

PROG = "powerfit"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
LOSSES: tuple[str, ...] = tuple(_core.LOSSES)
FIGURE_EXTS = (".png", ".pdf", ".svg", ".jpg", ".jpeg", ".webp", ".eps", ".ps", ".tif", ".tiff")
REPORT_EXTS = (".html", ".htm", ".md", ".markdown")

MAIN_EXAMPLES = """\
examples:
  powerfit demo
  powerfit fit runs.csv --law chinchilla --loss huber_log --n-boot 4000 \\
      --columns N=params D=tokens loss=val_loss --out fit.json --plot fit.png
  powerfit optimal fit.json --budgets 1e21 5.88e23
  powerfit fit-groups sweep.parquet --by dataset eval_set --law chinchilla --out fits.parquet

exit codes: 0 success, 1 a fit did not converge, 2 usage or input error, 3 internal error
"""

FIT_EXAMPLES = """\
FILE is a CSV, TSV, Parquet or JSON (records) table, or - for CSV on standard input. Columns are
named N, D, C and loss by default; map yours with --columns. --out writes the fit as JSON (which
'powerfit optimal' and powerfit.load() read back) or its parameter table as CSV/Parquet, by
extension.

examples:
  # Hoffmann et al.'s estimator with 4,000 bootstrap refits, saved and plotted
  powerfit fit runs.csv --law chinchilla --loss huber_log --delta 1e-3 --n-boot 4000 \\
      --seed 0 --columns N=params D=tokens loss=val --out fit.json --plot fit.png
  # hold the irreducible loss fixed, and use Hoffmann's 4,500-start grid
  powerfit fit runs.parquet --law chinchilla --fixed E=1.7 --starts grid
  # a one-variable power law in model size, with a shareable HTML report
  powerfit fit runs.csv --law power --x N --loss log --report report.html
  # a law of your own
  powerfit fit runs.csv --law "E + A*N^-alpha + B*D^-beta + G*(N*D)^-gamma" --variables N D
  # the compute-optimal table at a few budgets, straight away
  powerfit fit runs.csv --law chinchilla --loss huber_log --n-boot 1000 --budgets 1e21 5.88e23
"""

GROUPS_EXAMPLES = """\
One independent fit per group of rows (the groups are the distinct values of the --by columns).
--out writes one row per group (CSV, Parquet or JSON by extension).

examples:
  powerfit fit-groups sweep.parquet --by dataset eval_set --law chinchilla --out fits.parquet
  powerfit fit-groups sweep.csv --by task --law power --x N --loss log --out fits.csv
  powerfit fit-groups sweep.csv --by dataset --law chinchilla --loss huber_log --n-boot 200
"""

OPTIMAL_EXAMPLES = """\
Compute-optimal allocation at budgets C = k N D (k: --flops-per-param-token):
N_opt = G (C/k)^a, D_opt = (C/k)^b / G with a = beta/(alpha+beta), b = alpha/(alpha+beta),
G = (alpha A / (beta B))^(1/(alpha+beta)). Intervals come from the bootstrap replicates saved
with the fit (powerfit fit --n-boot N).

examples:
  powerfit optimal fit.json --budgets 1e21 5.88e23
  powerfit optimal fit.json --budgets 1e21 1e22 1e23 1e24 --flops-per-param-token 6 \\
      --out optimal.csv
  powerfit optimal fit.json --budgets 5.88e23 --level 0.9
"""

DEMO_EXAMPLES = """\
Fits the Chinchilla Approach 3 sweep (Hoffmann et al. 2022, as extracted by Epoch AI, 240 runs)
with Huber loss on log residuals, runs a bootstrap, prints the parameter and compute-optimal
tables and writes the fit, its plots and an HTML report to --outdir.

examples:
  powerfit demo
  powerfit demo --outdir /tmp/demo --n-boot 1000 --quiet
"""


class UsageError(Exception):
    """A bad command line (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    """Reports usage errors as a one-line message (no usage block) with exit code 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples' layout and shows the defaults that are values."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            default not in (None, False, argparse.SUPPRESS)
            and "%(default)" not in text
            and action.option_strings
        ):
            text += " (default: %(default)s)"
        return text


# --- argument types --------------------------------------------------------------------------
def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got '{text}'")
    return v


def _level(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got '{text}'") from None
    if not 0.0 < v < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got '{text}'")
    return v


def _count(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got '{text}'")
    return v


def _pairs(items: Sequence[str] | None, option: str) -> dict[str, str]:
    """``["N=params", "D=tokens"]`` -> ``{"N": "params", "D": "tokens"}``."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise UsageError(f"{option} expects NAME=VALUE pairs, got '{item}'")
        out[key.strip()] = value.strip()
    return out


def _numbers(items: Sequence[str] | None, option: str) -> dict[str, float]:
    out = {}
    for key, value in _pairs(items, option).items():
        try:
            out[key] = float(value)
        except ValueError:
            raise UsageError(f"{option} {key}={value}: '{value}' is not a number") from None
    return out


def _bounds(items: Sequence[str] | None) -> dict[str, tuple[float | None, float | None]]:
    """``["alpha=0:2", "E=1:"]`` -> ``{"alpha": (0, 2), "E": (1, None)}``."""
    out: dict[str, tuple[float | None, float | None]] = {}
    for key, value in _pairs(items, "--bounds").items():
        lo, sep, hi = value.partition(":")
        if not sep:
            raise UsageError(
                f"--bounds expects NAME=LOW:HIGH (either side may be empty), got '{key}={value}'"
            )
        try:
            out[key] = (float(lo) if lo.strip() else None, float(hi) if hi.strip() else None)
        except ValueError:
            raise UsageError(f"--bounds {key}={value}: bounds must be numbers") from None
    return out


def _flops_per_param_token(p: Any) -> None:
    option(
        p,
        "--flops-per-param-token",
        "--k",
        type=_positive_float,
        default=6.0,
        metavar="K",
        help="FLOPs per parameter per token: k in C = k N D",
    )


#: The flag of each Python option the commands pass on, for messages that name an option.
OPTION_FLAGS = {
    "n_boot": "--n-boot",
    "resample": "--resample",
    "budgets": "--budgets",
    "flops_per_param_token": "--flops-per-param-token",
    "overestimate_penalty": "--overestimate-penalty",
    "variables": "--variables",
    "max_iter": "--max-iter",
    "p0": "--p0",
    "level": "--level",
    "seed": "--seed",
    "cluster": "--cluster",
    "delta": "--delta",
    "starts": "--starts",
    "fixed": "--fixed",
    "bounds": "--bounds",
    "weights": "--weights",
}


def cli_words(text: str, flags: dict[str, str] | None = None) -> str:
    """A message written for Python callers in the command line's words: ``n_boot=`` becomes
    ``--n-boot``, ``columns={'D': ...}`` becomes ``--columns D=...``; ``flags`` adds the
    running command's own options (Python name -> flag)."""

    def columns(m: re.Match[str]) -> str:
        pairs = re.findall(r"'([^']*)'\s*:\s*('[^']*'|\.\.\.)", m.group(1))
        return "--columns " + " ".join(f"{k}={v.strip(chr(39))}" for k, v in pairs)

    text = re.sub(r"columns=\{([^}]*)\}", columns, text)
    table = {**OPTION_FLAGS, **(flags or {})}
    for name in sorted(table, key=len, reverse=True):
        flag, quoted = table[name], re.escape(name)
        text = re.sub(rf"(?<![\w.'-]){quoted}=(?=['\"\w.(-]|\s|$)", f"{flag} ", text)
        text = re.sub(rf"(?<![\w.'-]){quoted}(?= must\b| is\b| cannot\b| needs\b)", flag, text)
    return text.replace("  ", " ")


def _provenance(args: argparse.Namespace) -> dict[str, Any]:
    """The command that made a report, and its input file."""
    import shlex

    from .provenance import file_digest

    return {
        "call": shlex.join([PROG, *(args.argv or [])]),
        **file_digest(args.file),
    }


# --- helpers ---------------------------------------------------------------------------------
def _note(args: argparse.Namespace, text: str) -> None:
    if not getattr(args, "quiet", False):
        print(text, file=sys.stderr)


def _progress(args: argparse.Namespace) -> bool | None:
    """False with --quiet; else None: a bar only when standard error is a terminal."""
    return False if args.quiet else None


def _check_outputs(args: argparse.Namespace) -> None:
    """Fail before any work when an output cannot be written or has an unknown format."""
    from ._files import check_writable, table_format

    out = getattr(args, "out", None)
    if out:
        check_writable(out)
        table_format(out)
    plot = getattr(args, "plot", None)
    if plot:
        check_writable(plot)
        if Path(plot).suffix.lower() not in FIGURE_EXTS:
            raise UsageError(f"--plot {plot}: use a figure extension ({', '.join(FIGURE_EXTS)})")
    report = getattr(args, "report", None)
    if report:
        check_writable(report)
        if Path(report).suffix.lower() not in REPORT_EXTS:
            raise UsageError(f"--report {report}: use .html or .md")


def _warn_to_stderr(caught: list[warnings.WarningMessage]) -> None:
    seen = set()
    for w in caught:
        msg = " ".join(str(w.message).split())
        if msg not in seen:
            seen.add(msg)
            print(f"{PROG}: warning: {msg}", file=sys.stderr)


def _read(path: str) -> Any:
    from ._files import read_table

    return read_table(path)


def _data_options(p: argparse.ArgumentParser) -> None:
    """Options shared by fit and fit-groups."""
    g = p.add_argument_group("model")
    g.add_argument(
        "--law",
        default="chinchilla",
        help="power, chinchilla, additive, kaplan, or a written law such as "
        "'E + A*N^-alpha' (with --variables)",
    )
    option(
        g,
        "--variables",
        "--vars",
        nargs="+",
        metavar="VAR",
        help="the variables of a written --law, e.g. N D",
    )
    g.add_argument("--x", metavar="VAR", help="for --law power: which variable is x (N, D or C)")
    g.add_argument(
        "--columns",
        nargs="+",
        metavar="VAR=COLUMN",
        help="map law variables and the loss to your columns, e.g. N=params D=tokens loss=val_loss",
    )
    g.add_argument(
        "--loss",
        default="l2",
        choices=LOSSES,
        help="objective: l2, log, huber_log (Hoffmann et al.), ...",
    )
    g.add_argument("--delta", type=_positive_float, default=1e-3, help="Huber threshold")
    option(
        g,
        "--overestimate-penalty",
        "--penalty",
        type=_positive_float,
        default=10.0,
        help="weight of over-predictions for the asymmetric losses",
    )
    g.add_argument("--weights", metavar="COLUMN", help="per-row weights")
    g.add_argument(
        "--fixed", nargs="+", metavar="PARAM=VALUE", help="hold parameters fixed, e.g. E=1.7"
    )
    g.add_argument(
        "--bounds",
        nargs="+",
        metavar="PARAM=LOW:HIGH",
        help="bound parameters, e.g. alpha=0:2 E=0: (a side may be empty)",
    )
    g.add_argument(
        "--starts",
        default="auto",
        choices=tuple(_core.STARTS),
        help="auto: variable projection over an exponent grid; grid: Hoffmann's "
        "4,500 starts; given: --p0 alone",
    )
    g.add_argument("--p0", nargs="+", metavar="PARAM=VALUE", help="a starting point")
    g.add_argument("--max-iter", type=_count, default=200, help="iterations per local solve")
    b = p.add_argument_group("bootstrap")
    option(
        b,
        "--n-boot",
        "--bootstrap",
        type=_count,
        default=0,
        metavar="N",
        help="bootstrap replicates (0: none)",
    )
    option(
        b,
        "--resample",
        "--method",
        default="case",
        choices=tuple(_core.BOOTSTRAP_METHODS),
        help="resampling scheme",
    )
    b.add_argument(
        "--cluster",
        metavar="VAR",
        help="for --resample cluster: the variable whose values form clusters",
    )
    b.add_argument("--seed", type=_count, default=0, help="random seed")
    b.add_argument("--level", type=_level, default=0.95, help="interval coverage")


def _law(args: argparse.Namespace) -> Any:
    """A built-in law's name, or a written law compiled from --law and --vars."""
    from .laws import BUILTIN

    if args.law in BUILTIN and not args.variables:
        return args.law
    if not args.variables:
        if any(c in args.law for c in "+-*/^()"):
            raise UsageError(
                f"the written law '{args.law}' needs --variables (e.g. --variables N D)"
            )
        return args.law  # an unknown name: fit() lists the laws
    try:
        from .expr import Law
    except ImportError:
        raise UsageError("this build of powerfit has no written laws") from None
    return Law(args.law, variables=list(args.variables))


def _fit_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    kw: dict[str, Any] = {
        "law": _law(args),
        "columns": _pairs(args.columns, "--columns"),
        "loss": args.loss,
        "delta": args.delta,
        "overestimate_penalty": args.overestimate_penalty,
        "starts": args.starts,
        "max_iter": args.max_iter,
    }
    if args.x:
        kw["x"] = args.x
    if args.weights:
        kw["weights"] = args.weights
    if args.fixed:
        kw["fixed"] = _numbers(args.fixed, "--fixed")
    if args.bounds:
        kw["bounds"] = _bounds(args.bounds)
    if args.p0:
        kw["p0"] = _numbers(args.p0, "--p0")
    if args.starts == "given" and not args.p0:
        raise UsageError("--starts given needs --p0")
    return kw


# --- commands --------------------------------------------------------------------------------
def cmd_fit(args: argparse.Namespace) -> int:
    from . import fit
    from ._files import table_format, write_table
    from .analysis import optimal_table
    from .html import format_optimal, format_params, param_table, report

    _check_outputs(args)
    if args.resample == "cluster" and args.n_boot and not args.cluster:
        raise UsageError("--resample cluster needs --cluster VAR")
    kw = _fit_kwargs(args)
    data = _read(args.file)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PowerfitWarning)
        res = fit(data, warn=False, **kw)
        if args.budgets:  # fail before printing anything when the law has no N and D terms
            try:
                optimal_table(res, args.budgets, args.flops_per_param_token, max_replicates=0)
            except PowerfitError as exc:
                raise UsageError(f"--budgets: {cli_words(str(exc))}") from None
        print(res.summary())
        ok = res.success
        if ok and args.n_boot:
            boot = res.bootstrap(
                args.n_boot,
                args.resample,
                seed=args.seed,
                cluster=args.cluster,
                progress=_progress(args),
            )
            print()
            print(
                f"bootstrap: {boot.n} replicates ({boot.resample}, seed {boot.seed}), "
                f"{boot.n_failed} failed and excluded"
            )
            print(format_params(res, args.level))
        if ok and args.budgets:
            print()
            print(format_optimal(res, args.budgets, args.flops_per_param_token, args.level))
    _warn_to_stderr(caught)
    if not ok and args.n_boot:
        _note(args, f"{PROG}: skipped the bootstrap: the fit did not converge")
    if args.out:
        if table_format(args.out) == "json":
            res.save(args.out)
        else:
            write_table(param_table(res, args.level), args.out)
        _note(args, f"wrote {args.out}")
    if args.plot:
        from ._files import save_figure
        from .plot import plot_fit

        save_figure(
            plot_fit(res, flops_per_param_token=args.flops_per_param_token, level=args.level),
            args.plot,
        )
        _note(args, f"wrote {args.plot}")
    if args.report:
        report(
            res,
            args.report,
            flops_per_param_token=args.flops_per_param_token,
            level=args.level,
            budgets=args.budgets or _default_budgets(res),
            provenance=_provenance(args),
        )
        _note(args, f"wrote {args.report}")
    if not ok:
        print(f"{PROG}: the fit did not converge ({res.status}): {res.message}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _default_budgets(res: Any) -> list[float] | None:
    from .analysis import supports_optimal
    from .html import DEFAULT_BUDGETS

    return list(DEFAULT_BUDGETS) if supports_optimal(res) else None


def cmd_fit_groups(args: argparse.Namespace) -> int:
    try:
        from .groups import fit_groups
    except ImportError:
        raise UsageError(
            "fit-groups is not available: this build of powerfit lacks powerfit.groups"
        ) from None
    import pandas as pd

    from ._files import write_table

    _check_outputs(args)
    kw = _fit_kwargs(args)
    data = _read(args.file)
    missing = [c for c in args.by if c not in data.columns]
    if missing:
        raise UsageError(
            f"--by: column(s) {', '.join(repr(c) for c in missing)} not in {args.file}; "
            f"columns are {[str(c) for c in data.columns]}"
        )
    if args.cluster:
        raise UsageError("fit-groups resamples rows or residuals: --cluster is not supported")
    call: dict[str, Any] = {
        **kw,
        "n_boot": args.n_boot or None,
        "resample": args.resample,
        "seed": args.seed,
        "level": args.level,
        "progress": _progress(args),
    }
    # pass what this version of fit_groups takes; refuse options it would silently ignore
    params = inspect.signature(fit_groups).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        ignorable = {
            "progress",
            "level",
            "resample",
            "delta",
            "overestimate_penalty",
            "starts",
            "max_iter",
        }
        for key in list(call):
            if key not in params:
                if key not in ignorable:
                    raise UsageError(f"fit-groups does not support the option '{key}'")
                del call[key]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PowerfitWarning)
        table = fit_groups(data, by=list(args.by), **call)
    _warn_to_stderr(caught)
    if not isinstance(table, pd.DataFrame):
        table = pd.DataFrame(table)
    print(_groups_text(table, list(args.by)))
    n_fail = 0
    if "success" in table.columns:
        n_fail = int((~table["success"].astype(bool)).sum())
    if args.out:
        write_table(table, args.out)
        _note(args, f"wrote {args.out}")
    if n_fail:
        print(f"{PROG}: {n_fail} of {len(table)} group fits did not converge", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _groups_text(table: Any, keys: list[str], max_rows: int = 40) -> str:
    """The groups' estimates as a compact text table (intervals, errors and messages are in
    the written file)."""
    from .html import text_table

    skip = ("_stderr", "_lower", "_upper")
    drop = {"message", "condition", "n_iter", "cost", "bootstrap_seed"}
    cols = [c for c in table.columns if c in keys or (c not in drop and not str(c).endswith(skip))]

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.5g}" if math.isfinite(v) else "-"
        return str(v)

    shown = table[cols].head(max_rows)
    rows = [[cell(v) for v in r] for r in shown.itertuples(index=False)]
    text = text_table([str(c) for c in cols], rows)
    n_ok = int(table["success"].astype(bool).sum()) if "success" in table.columns else len(table)
    more = f" (first {max_rows} shown)" if len(table) > max_rows else ""
    return f"{len(table)} groups, {n_ok} converged{more}\n{text}"


def cmd_optimal(args: argparse.Namespace) -> int:
    from ._files import write_table
    from .analysis import optimal_table
    from .fit import load
    from .html import format_optimal

    if not args.budgets:
        raise UsageError("the following arguments are required: --budgets")
    _check_outputs(args)
    res = load(args.fit)
    k = args.flops_per_param_token
    print(format_optimal(res, args.budgets, k, args.level))
    if args.out:
        write_table(optimal_table(res, args.budgets, k, args.level), args.out)
        _note(args, f"wrote {args.out}")
    if not res.success:
        print(
            f"{PROG}: the saved fit did not converge ({res.status}): the table is unreliable",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run

    return run(
        outdir=args.outdir,
        n_boot=args.n_boot,
        seed=args.seed,
        budgets=args.budgets,
        plots=not args.no_plots,
        quiet=args.quiet,
    )


# --- the parser ------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(
        prog=PROG,
        description="Fit neural scaling laws: a Rust engine for nonlinear least squares, "
        "bootstrap and bulk sweeps.",
        epilog=MAIN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(
        name: str, help: str, epilog: str, func: Callable[[argparse.Namespace], int]
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help,
            description=help[0].upper() + help[1:] + ".",
            epilog=epilog,
            formatter_class=_Formatter,
        )
        # the command's parser, for error messages in its flags' words
        p.set_defaults(func=func, command_parser=p)
        return p

    def quiet(p: Any) -> None:
        p.add_argument(
            "-q", "--quiet", action="store_true", help="no progress bars or notes on standard error"
        )

    p = command("fit", "fit a scaling law to a table of runs", FIT_EXAMPLES, cmd_fit)
    p.add_argument("file", metavar="FILE", help="CSV, TSV, Parquet or JSON table (- for stdin)")
    _data_options(p)
    o = p.add_argument_group("output")
    o.add_argument(
        "--out",
        metavar="PATH",
        help="save the fit: .json (loadable) or the parameter table as .csv/.parquet",
    )
    o.add_argument("--plot", metavar="PATH", help="plot of the data and fit (.png, .pdf, .svg)")
    o.add_argument("--report", metavar="PATH", help="shareable report (.html or .md)")
    option(
        o,
        "--budgets",
        "--compute",
        nargs="+",
        type=_positive_float,
        metavar="C",
        help="also print the compute-optimal table at these compute budgets (FLOPs)",
    )
    _flops_per_param_token(o)
    quiet(o)

    p = command("fit-groups", "fit one law per group of rows", GROUPS_EXAMPLES, cmd_fit_groups)
    p.add_argument("file", metavar="FILE", help="CSV, TSV, Parquet or JSON table (- for stdin)")
    p.add_argument(
        "--by",
        nargs="+",
        required=True,
        metavar="COLUMN",
        help="the columns whose distinct values define the groups",
    )
    _data_options(p)
    o = p.add_argument_group("output")
    o.add_argument("--out", metavar="PATH", help="one row per group: .parquet, .csv or .json")
    quiet(o)

    p = command(
        "optimal",
        "compute-optimal model and data size from a saved fit",
        OPTIMAL_EXAMPLES,
        cmd_optimal,
    )
    p.add_argument("fit", metavar="FIT.json", help="a fit saved by 'powerfit fit --out'")
    option(
        p,
        "--budgets",
        "--compute",
        nargs="+",
        type=_positive_float,
        metavar="C",
        help="compute budgets in FLOPs (required)",
    )
    _flops_per_param_token(p)
    p.add_argument("--level", type=_level, default=0.95, help="interval coverage")
    p.add_argument("--out", metavar="PATH", help="write the table: .csv, .parquet or .json")
    quiet(p)

    p = command("demo", "the bundled Chinchilla sweep, end to end", DEMO_EXAMPLES, cmd_demo)
    p.add_argument(
        "--outdir",
        default="powerfit-demo",
        metavar="DIR",
        help="where the fit, plots and report go (created if missing)",
    )
    option(
        p,
        "--n-boot",
        "--bootstrap",
        type=_count,
        default=4000,
        metavar="N",
        help="bootstrap replicates",
    )
    p.add_argument("--seed", type=_count, default=0, help="random seed")
    option(
        p,
        "--budgets",
        "--compute",
        nargs="+",
        type=_positive_float,
        metavar="C",
        help="budgets of the compute-optimal table (default: 1e21 ... 1e25 and "
        "Chinchilla's 5.88e23)",
    )
    p.add_argument("--no-plots", action="store_true", help="skip the figures and report")
    quiet(p)
    from . import cli_compute, cli_diagnose, cli_passk

    for mod in (cli_diagnose, cli_compute, cli_passk):
        mod.register(command, quiet)
    return parser


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.filename and str(exc).startswith("["):
        text = f"{exc.filename}: {exc.strerror}"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def _flags(args: argparse.Namespace | None) -> dict[str, str]:
    """Python option name -> the flag of the command being run (``max_iter`` -> ``--max-iter``),
    read from the command's help (hidden aliases are not offered)."""
    sub = getattr(args, "command_parser", None)
    if not isinstance(sub, argparse.ArgumentParser):
        return {}
    shown = re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", sub.format_help())
    return {f[2:].replace("-", "_"): f for f in shown if f not in ("--help", "--version")}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args: argparse.Namespace | None = None
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        args.argv = list(sys.argv[1:] if argv is None else argv)
        if getattr(args, "func", None) is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return int(args.func(args))
    except UsageError as exc:
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
    except PowerfitError as exc:
        print(f"{PROG}: error: {cli_words(_one_line(exc), _flags(args))}", file=sys.stderr)
    except BrokenPipeError:
        # the reader went away (e.g. `powerfit ... | head`): stay quiet
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
    except OSError as exc:
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
    except ImportError as exc:
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: keep the traceback for the report
        import traceback

        traceback.print_exc()
        print(
            f"{PROG}: internal error ({type(exc).__name__}): {_one_line(exc)}; please "
            f"report it with the traceback above",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
