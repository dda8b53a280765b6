"""``powerfit compute``: FLOPs per token of a model shape, conversions between FLOPs,
accelerator-hours and money, MFU from a logged throughput, sweep checks of C = k N D, and the
table of accelerators."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable
from typing import Any

from . import _cli_args as a
from .errors import InvalidOptionError

EXAMPLES = """\
examples:
  # Chinchilla 70B's shape: 6N against Kaplan's, PaLM's and Hoffmann's counts
  powerfit compute flops --layers 80 --d-model 8192 --heads 64 --vocab 32000 --ctx 2048
  # a budget in every unit: 1024 H100s for 30 days at 40% MFU, $2.50 per GPU-hour
  powerfit compute convert --gpus 1024 --hours 720 --accelerator H100-SXM --mfu 0.4 --price 2.5
  powerfit compute convert --flops 5.88e23 --accelerator A100-SXM --mfu 0.45
  # MFU from a logged throughput (PaLM: 238.3K tokens/s on 6144 TPU v4)
  powerfit compute mfu --tokens-per-second 238.3e3 --flops-per-token 3.278e12 \\
      --accelerators 6144 --accelerator TPU-v4
  # k in C = k N D per run; runs whose compute looks mis-logged are flagged
  powerfit compute check sweep.csv --columns C=flops N=params D=tokens --out checked.csv
  powerfit compute accelerators
"""


def _hardware(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "accelerator": args.accelerator,
        "precision": args.precision,
        "peak_tflops": args.peak_tflops,
    }


def cmd_flops(args: argparse.Namespace) -> int:
    from .compute import Architecture, flops_per_token

    arch = Architecture(
        n_layers=args.layers,
        d_model=args.d_model,
        n_heads=args.heads,
        vocab=args.vocab,
        n_ctx=args.ctx,
        d_head=args.d_head,
        n_kv_heads=args.kv_heads,
        d_ff=args.d_ff,
        gated=args.gated,
        tied_embeddings=args.tied,
        learned_positions=args.learned_positions,
    )
    f = flops_per_token(arch)
    print(f.summary())
    table = f.to_frame()
    if args.tokens:
        table["training_flops"] = table["flops_per_token"] * args.tokens
        print(
            f"training on {args.tokens:.4g} tokens: "
            + ", ".join(f"{m} {v:.4g}" for m, v in zip(table["method"], table["training_flops"]))
        )
    a.write(args, table)
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from .compute import Budget

    b = Budget(
        flops=args.flops,
        gpus=args.gpus,
        hours=args.hours,
        accelerator_hours=args.accelerator_hours,
        money=args.money,
        mfu=args.mfu,
        price_per_hour=args.price,
        **_hardware(args),
    )
    print(b.summary())
    a.write(args, b.to_series().to_frame().T)
    return 0


def cmd_mfu(args: argparse.Namespace) -> int:
    from .compute import mfu

    v = mfu(
        args.tokens_per_second,
        args.flops_per_token,
        args.accelerators,
        args.accelerator,
        precision=args.precision,
        peak_tflops=args.peak_tflops,
    )
    print(
        f"MFU {100 * v:.2f}% ({args.tokens_per_second:.4g} tokens/s x "
        f"{args.flops_per_token:.4g} FLOPs/token on {args.accelerators:g} accelerators)"
    )
    if v > 1:
        print(
            "powerfit: warning: MFU above 100%: the FLOPs per token or the throughput is wrong",
            file=sys.stderr,
        )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from .compute import check_sweep
    from .io import read_table

    a.check_outputs(args.out, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = check_sweep(
            read_table(args.file),
            columns=a.pairs(args.columns, "--columns"),
            by=args.by,
            flops_per_param_token=args.flops_per_param_token,
            tolerance=args.tolerance,
            z=args.z,
        )
    for w in caught:
        a.note(args, f"powerfit: warning: {' '.join(str(w.message).split())}")
    flagged = out[out["flagged"]]
    print(
        f"{len(out)} runs, median k {float(out['k_median'].median()):.4g}, {len(flagged)} flagged"
    )
    if len(flagged):
        print(
            a.show(
                flagged.reset_index().rename(columns={"index": "row"})[
                    ["row", "k", "ratio", "reason"]
                ]
            )
        )
    a.write(args, out)
    return 0


def cmd_accelerators(args: argparse.Namespace) -> int:
    from .compute import table

    t = table()
    print(a.show(t.drop(columns=["notes"])))
    a.write(args, t)
    return 0


def _hardware_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--accelerator", help="a name from 'powerfit compute accelerators'")
    p.add_argument(
        "--precision",
        default="bf16",
        choices=("fp64", "fp32", "tf32", "bf16", "fp16", "fp8", "int8"),
        help="the precision whose peak MFU is measured against",
    )
    p.add_argument(
        "--peak-tflops",
        type=a.positive,
        help="peak TFLOP/s of one accelerator (overrides the table)",
    )


def register(command: Callable[..., argparse.ArgumentParser], quiet: Callable[[Any], None]) -> None:
    """Adds ``powerfit compute`` and its subcommands."""
    p = command(
        "compute",
        "FLOPs per token, FLOPs <-> accelerator-hours <-> money, MFU, sweep checks",
        EXAMPLES,
        _missing,
    )
    sub = p.add_subparsers(dest="what", metavar="WHAT", parser_class=type(p))

    def sub_command(
        name: str, help: str, func: Callable[[argparse.Namespace], int]
    ) -> argparse.ArgumentParser:
        s = sub.add_parser(
            name,
            help=help,
            description=help[0].upper() + help[1:] + ".",
            formatter_class=p.formatter_class,
        )
        s.set_defaults(func=func)
        return s

    s = sub_command(
        "flops", "training FLOPs per token of a dense decoder, by four counts", cmd_flops
    )
    s.add_argument("--layers", type=int, required=True)
    s.add_argument("--d-model", type=int, required=True)
    s.add_argument("--heads", type=int, required=True)
    s.add_argument("--vocab", type=int, required=True)
    s.add_argument("--ctx", type=int, required=True, help="training sequence length")
    s.add_argument("--d-head", type=int, help="width of a head (default d_model / heads)")
    s.add_argument("--kv-heads", type=int, help="key/value heads (grouped-query attention)")
    s.add_argument("--d-ff", type=int, help="feed-forward width (default 4 d_model)")
    s.add_argument("--gated", action="store_true", help="three-matrix feed-forward (SwiGLU)")
    s.add_argument("--tied", action="store_true", help="tied input/output embeddings")
    s.add_argument(
        "--learned-positions", action="store_true", help="learned absolute position embeddings"
    )
    s.add_argument("--tokens", type=a.positive, help="also the training FLOPs for D tokens")
    s.add_argument("--out", metavar="PATH", help="the table: .csv, .parquet or .json")
    quiet(s)

    s = sub_command("convert", "a budget in FLOPs, accelerator-hours and money", cmd_convert)
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--flops", type=a.positive)
    g.add_argument("--gpus", type=a.positive, help="with --hours: a cluster for a time")
    g.add_argument("--accelerator-hours", type=a.positive)
    g.add_argument("--money", type=a.positive, help="with --price")
    s.add_argument("--hours", type=a.positive, help="wall-clock hours on --gpus")
    s.add_argument("--mfu", type=a.fraction, help="model FLOPs utilisation")
    s.add_argument("--price", type=a.positive, help="price per accelerator-hour")
    _hardware_options(s)
    s.add_argument("--out", metavar="PATH", help="the budget in every unit: .csv or .json")
    quiet(s)

    s = sub_command("mfu", "model FLOPs utilisation from a logged throughput", cmd_mfu)
    s.add_argument("--tokens-per-second", type=a.positive, required=True)
    s.add_argument(
        "--flops-per-token",
        type=a.positive,
        required=True,
        help="e.g. 6N, or the palm count of 'powerfit compute flops'",
    )
    s.add_argument("--accelerators", type=a.positive, default=1.0)
    _hardware_options(s)
    quiet(s)

    s = sub_command(
        "check", "k in C = k N D per run, and runs whose compute looks mis-logged", cmd_check
    )
    s.add_argument("file", metavar="FILE", help="CSV, TSV, Parquet or JSON table (- for stdin)")
    s.add_argument(
        "--columns", nargs="+", metavar="VAR=COLUMN", help="map C, N and D to your columns"
    )
    s.add_argument("--by", nargs="+", metavar="COLUMN", help="separate sweeps")
    a.option(
        s,
        "--flops-per-param-token",
        "--k",
        type=a.positive,
        default=6.0,
        metavar="K",
        help="the expected FLOPs per parameter per token: k in C = k N D",
    )
    s.add_argument(
        "--tolerance",
        type=a.positive,
        default=0.1,
        help="smallest relative departure from the median k that is flagged",
    )
    s.add_argument("--z", type=a.positive, default=3.5, help="robust z above which to flag")
    s.add_argument("--out", metavar="PATH", help="every run with k and flags")
    quiet(s)

    s = sub_command("accelerators", "the table of peak throughputs, with sources", cmd_accelerators)
    s.add_argument("--out", metavar="PATH", help="the table: .csv, .parquet or .json")
    quiet(s)


def _missing(args: argparse.Namespace) -> int:
    raise InvalidOptionError(
        "powerfit compute needs one of: flops, convert, mfu, check, accelerators (see "
        "'powerfit compute --help')"
    )
