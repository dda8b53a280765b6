"""Side-by-side benchmarks of powerfit and its peers, in one run, on the same data.

Run from the repository root (``make bench`` does this)::

    .venv/bin/python benches/bench.py            # full run, writes benches/RESULTS.md
    .venv/bin/python benches/bench.py --quick    # fewer repetitions / starts
    .venv/bin/python benches/bench.py --only local --only huber_log
    .venv/bin/python benches/bench.py --blas-threads default   # numpy/scipy BLAS threads as-is

Every number written to RESULTS.md is measured by this run; nothing is copied in.

Each section lives in ``benches/sections/<name>.py``; this driver pins the BLAS threads, runs the
sections named in ``SECTIONS`` (in that order) and writes the report. Adding a section: write a
function taking the run's :class:`harness.Context` and returning a :class:`harness.Section`
(rows: one per powerfit-vs-peer comparison; details: costs, parameters, caveats), or rows as
dicts and details (wrapped by ``harness.from_rows``), and register it below.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable


def _blas_threads_env(argv: list[str]) -> str:
    """Pins the BLAS thread pools before numpy is imported (``--blas-threads``, default 1).

    scipy's L-BFGS-B calls BLAS on tiny vectors; with OpenBLAS's default of one thread per core
    it runs many times slower (and erratically) whenever another process uses a core. The peers
    are timed single-threaded unless asked otherwise; ``--blas-threads default`` leaves the
    environment alone. An explicit value in the environment wins over the default of 1."""
    val = None
    for i, a in enumerate(argv):
        if a == "--blas-threads" and i + 1 < len(argv):
            val = argv[i + 1]
        elif a.startswith("--blas-threads="):
            val = a.split("=", 1)[1]
    if val is None:
        val = os.environ.get("OPENBLAS_NUM_THREADS", "1")
    if val != "default":
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = val
    return val


BLAS_THREADS = _blas_threads_env(sys.argv[1:])

import numpy as np
import scipy

import powerfit as pf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (
    HERE,
    Context,
    Section,
    fmt_ratio,
    fmt_time,
    from_rows,
    say,
    write_atomic,
)
from sections import (
    bootstrap,
    distributed_fit,
    expr,
    forecast,
    frontier,
    global_fit,
    groups,
    huber_log,
    interrupt,
    local,
    scaling,
    solver,
    workflow,
)

DEFAULT_OUT = os.path.join(HERE, "RESULTS.md")

SECTIONS: dict[str, Callable[[Context], Section]] = {
    "local": local.bench_local,
    "global": global_fit.bench_global,
    "huber_log": huber_log.bench_huber_log,
    "bootstrap": from_rows(
        "bootstrap", "Bootstrap: 4,000 case-resample refits", bootstrap.bootstrap_section
    ),
    "coverage": from_rows(
        "coverage",
        "Coverage of 95% bootstrap intervals (simulated sweeps)",
        bootstrap.coverage_section,
    ),
    "extrapolation": from_rows(
        "extrapolation",
        "Extrapolation study: Gadre et al. 2024, fit below 1e9 parameters, predict above",
        bootstrap.extrapolation_section,
    ),
    "groups": groups.bench_groups,
    "dask": distributed_fit.bench_dask,
    "scaling": scaling.bench_scaling,
    "frontier": frontier.bench_frontier,
    "expr": expr.bench_expr,
    "forecast": from_rows(
        "forecast",
        "Forecasts: held-out error by law, law selection, interval coverage",
        forecast.forecast_section,
    ),
    "interrupt": from_rows(
        "interrupt", "Ctrl-C latency of each long call", interrupt.interrupt_section
    ),
    **workflow.sections(from_rows),
    "floor": solver.bench_floor,
    "nist_hard": solver.bench_nist_hard,
    "small_groups": solver.bench_small_groups,
    "big_fit": solver.bench_big_fit,
    "big_fit_memory": solver.bench_big_fit_memory,
}


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


LOAD = ["?", "?"]
BUILD = ["", ""]  # build_line() at start and at end


def loadavg() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:  # pragma: no cover
        return "?"


def busy_warning() -> list[str]:
    """A warning line when the 1-minute load average showed other work on the machine."""
    try:
        start, end = (float(v) for v in LOAD)
    except ValueError:
        return []
    # This script itself keeps about one core busy, so ~1 at the end is expected.
    if start < 0.5 and end < 1.6:
        return []
    return [
        f"- **Busy machine**: 1-minute load average {start:.2f} at start and {end:.2f} at end "
        f"on {os.cpu_count()} CPUs (this script accounts for about 1), so other processes "
        "competed for the cores; times are inflated and noisy (compare the min in the "
        "details, or rerun on an idle machine)."
    ]


def build_line() -> str:
    """Which powerfit was timed: git commit (and whether the tree had edits) and the native
    module file, its modification time and a hash prefix (the extension is rebuilt often)."""
    import hashlib
    import subprocess

    from powerfit import _core

    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE,
            check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
            text=True, cwd=HERE, check=True,
        ).stdout.strip()  # fmt: skip
        git = f"git {head}" + (" + uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        git = "git: unavailable"
    path = getattr(_core, "__file__", None)
    if not path:
        return f"- powerfit build: {git}"
    with open(path, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()[:12]
    mtime = _dt.datetime.fromtimestamp(os.path.getmtime(path), _dt.timezone.utc)
    return (
        f"- powerfit build: {git}; native module `{os.path.relpath(path)}` built "
        f"{mtime:%Y-%m-%d %H:%M:%S} UTC, sha256 {digest}…"
    )


def machine_lines() -> list[str]:
    try:
        affinity: int | None = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        affinity = os.cpu_count()
    vers = [
        f"python {platform.python_version()}",
        f"numpy {np.__version__}",
        f"scipy {scipy.__version__}",
        f"powerfit {pf.__version__}",
    ]
    try:
        import lmfit

        vers.append(f"lmfit {lmfit.__version__}")
    except ImportError:  # pragma: no cover
        pass
    return [
        f"- CPU: {cpu_model()}; nproc {affinity} (os.cpu_count {os.cpu_count()})",
        f"- Load average (1 min) at start {LOAD[0]}, at end {LOAD[1]} (other processes on the "
        "machine share its cores and can slow the timings, the 2-thread grid most)",
        f"- OS: {platform.platform()}",
        f"- BLAS threads for numpy/scipy: OPENBLAS_NUM_THREADS="
        f"{os.environ.get('OPENBLAS_NUM_THREADS', '(unset: one per core)')} (`--blas-threads "
        f"{BLAS_THREADS}`); powerfit's own thread pool (rayon) is not affected",
        f"- Versions: {', '.join(vers)}",
        BUILD[0],
        *(
            [
                "- **The native module file was rebuilt during this run** (now "
                f"{BUILD[1].removeprefix('- powerfit build: ')}); all timings used the build "
                "loaded at start, described above."
            ]
            if BUILD[1] != BUILD[0]
            else []
        ),
    ]


def command_line() -> str:
    exe = sys.executable
    try:
        rel = os.path.relpath(exe)
        if not rel.startswith(".."):
            exe = rel
    except ValueError:  # pragma: no cover
        pass
    return " ".join(shlex.quote(a) for a in [exe, *sys.argv])


def render(sections: list[Section], args: argparse.Namespace, wall: float) -> str:
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    out = [
        "# powerfit benchmarks",
        "",
        "Written by `benches/bench.py`; every number below was measured by the run described "
        "here (nothing is copied from elsewhere). Times are per fit: median over repeats of "
        "the mean of a batch of calls, after warm-up calls, timed with `time.perf_counter`. "
        "Ratio = peer time / powerfit time (> 1: powerfit faster). Rows marked SCALED are "
        "extrapolated from a random subset of starts and say so.",
        "",
        f"- Date: {now}",
        f"- Command: `cd {os.getcwd()} && {command_line()}`"
        + (" (quick mode: fewer repeats and starts)" if args.quick else ""),
        f"- Sections run: {', '.join(s.name for s in sections)}; total wall time {wall:.1f} s",
        *machine_lines(),
        *busy_warning(),
        "- Data: `powerfit.datasets.chinchilla()` (240 points; N, D, loss).",
        "",
        "| benchmark | powerfit | peer | peer time | ratio (peer/powerfit) | target | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in sections:
        for r in s.rows:
            cells = [
                r.benchmark,
                fmt_time(r.powerfit),
                r.peer,
                fmt_time(r.peer_time),
                fmt_ratio(r.peer_time, r.powerfit),
                r.target or "",
                r.notes,
            ]
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    for s in sections:
        out += ["", f"## {s.title}", "", *s.details]
    out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats and starts")
    ap.add_argument(
        "--only",
        action="append",
        choices=list(SECTIONS),
        metavar="SECTION",
        help=f"run only this section (repeatable): {', '.join(SECTIONS)}",
    )
    ap.add_argument(
        "--blas-threads",
        default="1",
        metavar="N",
        help="OpenBLAS/OpenMP/MKL threads for the numpy/scipy peers, set before numpy loads "
        "(default 1; 'default' leaves the environment alone)",
    )
    ap.add_argument("--out", default=DEFAULT_OUT, help="report path (default benches/RESULTS.md)")
    args = ap.parse_args(argv)

    df = pf.datasets.chinchilla()
    ctx = Context(
        quick=args.quick,
        N=np.ascontiguousarray(df["N"].to_numpy(dtype=float)),
        D=np.ascontiguousarray(df["D"].to_numpy(dtype=float)),
        y=np.ascontiguousarray(df["loss"].to_numpy(dtype=float)),
        df=df,
    )
    assert ctx.y.size == 240, ctx.y.size
    names = args.only or list(SECTIONS)
    LOAD[0] = loadavg()
    BUILD[0] = build_line()
    t0 = time.perf_counter()
    sections = []
    for name in SECTIONS:  # registry order, whatever the order of --only
        if name in names:
            say(f"== {name}")
            try:
                sections.append(SECTIONS[name](ctx))
            except Exception as exc:  # one broken section must not lose the others' figures
                say(f"[{name}] FAILED: {type(exc).__name__}: {exc}")
                failed = Section(name, f"{name}: the section FAILED")
                failed.details.append(f"- {type(exc).__name__}: {exc}")
                sections.append(failed)
    wall = time.perf_counter() - t0
    LOAD[1] = loadavg()
    BUILD[1] = build_line()
    text = render(sections, args, wall)
    write_atomic(args.out, text)
    say(f"wrote {args.out} ({wall:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
