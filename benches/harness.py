"""The benchmark harness: timing, the report's rows and sections, the shared context."""

from __future__ import annotations

import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
P0 = [2.0, 400.0, 400.0, 0.3, 0.3]  # E, A, B, alpha, beta: the start of section "local"
HUBER_DELTA = 1e-3

# --------------------------------------------------------------------------------------------
# Timing and formatting
# --------------------------------------------------------------------------------------------


@dataclass
class Timing:
    """Per-call wall time (seconds) over ``repeats`` repeats of ``number`` calls each."""

    median: float
    best: float
    worst: float
    repeats: int
    number: int

    def describe(self) -> str:
        return (
            f"median {fmt_time(self.median)} (min {fmt_time(self.best)}, max "
            f"{fmt_time(self.worst)}; {self.repeats} repeats x {self.number} calls)"
        )


def measure(
    fn: Callable[[], Any],
    *,
    repeats: int,
    warmup: int = 2,
    min_repeat_time: float = 0.02,
    number: int | None = None,
) -> Timing:
    """Times ``fn()`` with ``time.perf_counter``: ``warmup`` untimed calls, then ``repeats``
    repeats; each repeat runs ``number`` calls (chosen so that a repeat lasts at least
    ``min_repeat_time`` unless given) and yields the mean per-call time. Returns the median of
    the repeats (and min, max)."""
    for _ in range(warmup):
        fn()
    if number is None:
        number = 1
        while True:
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            dt = time.perf_counter() - t0
            if dt >= min_repeat_time or number >= 1_000_000:
                break
            number = max(number * 2, int(number * min_repeat_time / max(dt, 1e-9) * 1.2))
    per_call = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        per_call.append((time.perf_counter() - t0) / number)
    return Timing(statistics.median(per_call), min(per_call), max(per_call), repeats, number)


def fmt_time(t: float | None) -> str:
    if t is None or not math.isfinite(t):
        return "—"
    if t < 1e-3:
        return f"{t * 1e6:.1f} µs"
    if t < 1.0:
        return f"{t * 1e3:.2f} ms"
    return f"{t:.2f} s"


def fmt_ratio(peer: float | None, ours: float | None) -> str:
    if peer is None or ours is None or ours <= 0:
        return "—"
    r = peer / ours
    return f"{r:.1f}×" if r < 100 else f"{r:,.0f}×"


def rel_diff(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


# --------------------------------------------------------------------------------------------
# Report structure
# --------------------------------------------------------------------------------------------


@dataclass
class Row:
    benchmark: str
    powerfit: float | None  # seconds per fit
    peer: str
    peer_time: float | None  # seconds per fit (or per estimate)
    target: str
    notes: str


@dataclass
class Section:
    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    details: list[str] = field(default_factory=list)


@dataclass
class Context:
    quick: bool
    N: np.ndarray
    D: np.ndarray
    y: np.ndarray
    df: Any  # the pandas DataFrame of the 240 points

    @property
    def repeats(self) -> int:
        return 5 if self.quick else 15

    @property
    def min_repeat_time(self) -> float:
        return 0.01 if self.quick else 0.05

    def time(self, fn: Callable[[], Any]) -> Timing:
        """``measure`` with this run's repeats and batch length."""
        return measure(fn, repeats=self.repeats, min_repeat_time=self.min_repeat_time)


def say(msg: str) -> None:
    print(msg, flush=True)


def target_note(t: float, limit: float) -> str:
    return "target met" if t <= limit else "TARGET MISSED"


# --------------------------------------------------------------------------------------------
# Peers: the chinchilla law written by hand


def from_rows(name: str, title: str, fn: Callable[[Any], Any]) -> Callable[[Context], Section]:
    """A section from a function returning (rows as dicts, markdown detail lines)."""

    def run(ctx: Context) -> Section:
        rows, details = fn(ctx)
        return Section(name, title, [Row(**r) for r in rows], details)

    return run


def write_atomic(path: str, text: str) -> None:
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".results-", suffix=".md", dir=d)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
