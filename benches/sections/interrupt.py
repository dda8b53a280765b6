"""Ctrl-C latency of each long native call (bench.py section ``interrupt``).

Each operation runs in a fresh child interpreter; one second after the child says it is about
to start the call, the bench sends SIGINT and measures the time until the child reports the
KeyboardInterrupt (not its exit, which adds the interpreter's teardown). The target is one
second on an idle machine; an operation that never checks for Ctrl-C shows the time it takes
to finish instead, capped at ``CAP`` seconds (then reported as "> CAP s"). The pytest
behaviour tests (tests/test_hardening_interrupt.py and friends) use a loose bound instead.
"""

from __future__ import annotations

import select
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

from harness import say

#: Seconds after which a child that has not stopped is killed and reported as "> CAP s".
CAP = 120.0
#: Seconds between the child's "ready" and SIGINT (long enough that the native call started).
DELAY = 1.0

_SCRIPT = """
import sys
import numpy as np
import pandas as pd
import powerfit as pf
{setup}
try:
    print("ready", flush=True)
    {call}
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""

_CHINCHILLA = """
rng = np.random.default_rng(0)
n = {n}
N = np.exp(rng.uniform(np.log(1e7), np.log(1e10), n))
D = np.exp(rng.uniform(np.log(1e9), np.log(1e12), n))
y = (1.69 + 406.4 * N ** -0.34 + 410.7 * D ** -0.28) * np.exp(rng.normal(0, 0.01, n))
df = pd.DataFrame({{"N": N, "D": D, "loss": y}})
"""

_FRONTIER = """
rows = []
for c in (1e18, 1e19, 1e20, 1e21):
    for n in np.geomspace(1e7, 1e10, 200):
        d = c / (6 * n)
        loss = 1.69 + 406.4 * n ** -0.34 + 410.7 * d ** -0.28
        rows.append({"C": c, "N": n, "D": d, "loss": loss})
iso = pd.DataFrame(rows)
parts = []
for j, n in enumerate(np.geomspace(1e7, 1e9, 40)):
    d = np.geomspace(1e8, 100 * n, 200)
    loss = 1.69 + 406.4 * n ** -0.34 + 410.7 * d ** -0.28
    parts.append(pd.DataFrame({"run": f"r{j}", "N": n, "D": d, "C": 6 * n * d, "loss": loss}))
curves = pd.concat(parts, ignore_index=True)
"""

_CURVES = """
rng = np.random.default_rng(0)
x = np.geomspace(1e6, 1e9, 30)
n = 20_000
y = (2.0 + 60.0 * x[None, :] ** -rng.uniform(0.2, 0.4, (n, 1))).ravel()
runs = pd.DataFrame({"run": np.repeat(np.arange(n), x.size), "D": np.tile(x, n), "loss": y})
"""

_GRID = """
x = np.geomspace(1e6, 1e10, 2000)
law = pf.Law("E + " + " + ".join(f"A{i}*N^-a{i}" for i in range(3)), variables=["N"])
y = 2 + sum(30 / (i + 1) * x ** -(0.2 + 0.1 * i) for i in range(3))
"""


def _operations(quick: bool) -> list[tuple[str, str, str]]:
    """(name, setup, call) of each long operation."""
    rows = 2_000_000 if quick else 10_000_000
    return [
        (
            "bootstrap, 10^7 replicates (chinchilla, 240 points)",
            _CHINCHILLA.format(n=240),
            'pf.fit(df, law="chinchilla", warn=False).bootstrap(n_boot=10**7, progress=False)',
        ),
        (
            'fit, starts="grid" on a 3-term written power sum (2,000 points)',
            _GRID,
            'pf.fit({"N": x, "loss": y}, law=law, starts="grid", warn=False)',
        ),
        (
            f"fit, chinchilla on {rows:,} rows",
            _CHINCHILLA.format(n=rows),
            'pf.fit(df, law="chinchilla", warn=False)',
        ),
        (
            "fit_groups, 4,000 groups with 200 replicates each",
            _CHINCHILLA.format(n=240)
            + "df = pd.concat([df.assign(g=i) for i in range(4000)], ignore_index=True)",
            'pf.fit_groups(df, by="g", n_boot=200, progress=False)',
        ),
        (
            "isoflop, 5*10^6 replicates (4 budgets x 200 sizes)",
            _FRONTIER,
            "pf.isoflop(iso, n_boot=5_000_000, progress=False)",
        ),
        (
            "select_laws, 20,000 curves x 27 splits (m3 and power)",
            _CURVES,
            'pf.select_laws(runs, "run", laws=["m3", "power"], by="D", x="D", progress=False)',
        ),
        (
            "envelope, 3*10^6 replicates (40 runs x 200 points, 20 budgets)",
            _FRONTIER,
            'pf.envelope(curves, run="run", n_grid=20, n_boot=3_000_000, progress=False)',
        ),
    ]


def _readline(proc: subprocess.Popen[str], timeout: float) -> str | None:
    """The child's next line, or None after ``timeout`` seconds."""
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    return proc.stdout.readline().strip() if ready else None


def latency(setup: str, call: str) -> tuple[float | None, str]:
    """Seconds from SIGINT to the child's KeyboardInterrupt (None past ``CAP``), and what the
    child said."""
    script = _SCRIPT.format(setup=textwrap.dedent(setup), call=call)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        first = _readline(proc, 600.0)
        if first != "ready":
            return None, f"child did not start: {first!r}"
        time.sleep(DELAY)
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        line = _readline(proc, CAP)
        elapsed = time.perf_counter() - sent
        return (elapsed if line is not None else None), (line or "no answer")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def interrupt_section(ctx: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """Ctrl-C latency of each long operation, one child each."""
    rows: list[dict[str, Any]] = []
    for name, setup, call in _operations(ctx.quick):
        say(f"  interrupt: {name}")
        t, said = latency(setup, call)
        if t is None:
            note, shown = f"did not stop within {CAP:.0f} s ({said})", f"> {CAP:.0f} s"
        elif said != "interrupted":
            # either the call ended before the signal came (too little work to measure) or
            # nothing on its path looks at the cancel flag: the row cannot tell which
            note = f"ran to the end ({said}): no latency measured (call too short, or no check)"
            shown = f"{t:.2f} s"
        else:
            note = "target met" if t <= 1.0 else "TARGET MISSED"
            shown = f"{t:.2f} s"
        rows.append(
            {
                "benchmark": f"Ctrl-C: {name}",
                "powerfit": t,
                "peer": "-",
                "peer_time": None,
                "target": "<= 1 s",
                "notes": f"{shown}; {note}",
            }
        )
    details = [
        f"Seconds from SIGINT (sent {DELAY:.0f} s after the call started) to the "
        "KeyboardInterrupt in the child; the load average at the top of the report says how "
        "idle the machine was."
    ]
    return rows, details
