"""Side-by-side benchmarks of powerfit and its peers, in one run, on the same data.

Run from the repository root (``make bench`` does this)::

    .venv/bin/python benches/bench.py            # full run, writes benches/RESULTS.md
    .venv/bin/python benches/bench.py --quick    # fewer repetitions / starts
    .venv/bin/python benches/bench.py --only local --only huber_log
    .venv/bin/python benches/bench.py --blas-threads default   # numpy/scipy BLAS threads as-is

Every number written to RESULTS.md is measured by this run; nothing is copied in.

Adding a section: write ``def bench_<name>(ctx: Context) -> Section`` and register it in
``SECTIONS`` (the order there is the order of the report). A section returns table rows (one per
powerfit-vs-peer comparison) and free-form detail lines (costs, parameters, caveats).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import math
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


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

import numpy as np  # noqa: E402 - after the BLAS thread pin
import scipy  # noqa: E402
import scipy.optimize as so  # noqa: E402
import scipy.special as ss  # noqa: E402

import powerfit as pf  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "RESULTS.md")

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
    return Timing(
        statistics.median(per_call), min(per_call), max(per_call), repeats, number
    )


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
# --------------------------------------------------------------------------------------------


class ChinchillaL2:
    """Residuals (model - y) and their analytic Jacobian in natural parameters
    p = [E, A, B, alpha, beta], for scipy."""

    def __init__(self, N: np.ndarray, D: np.ndarray, y: np.ndarray) -> None:
        self.N, self.D, self.y = N, D, y
        self.lN, self.lD = np.log(N), np.log(D)

    def residuals(self, p: np.ndarray) -> np.ndarray:
        E, A, B, a, b = p
        return E + A * np.exp(-a * self.lN) + B * np.exp(-b * self.lD) - self.y

    def jacobian(self, p: np.ndarray) -> np.ndarray:
        _, A, B, a, b = p
        tn = np.exp(-a * self.lN)
        td = np.exp(-b * self.lD)
        J = np.empty((self.y.size, 5))
        J[:, 0] = 1.0
        J[:, 1] = tn
        J[:, 2] = td
        J[:, 3] = -A * tn * self.lN
        J[:, 4] = -B * td * self.lD
        return J

    # curve_fit signatures: f(x, *p); x is unused (the data live on the object)
    def model(self, _x: Any, E: float, A: float, B: float, a: float, b: float) -> np.ndarray:
        return E + A * np.exp(-a * self.lN) + B * np.exp(-b * self.lD)

    def model_jac(self, _x: Any, *p: float) -> np.ndarray:
        return self.jacobian(np.asarray(p))

    def cost(self, p: np.ndarray) -> float:
        r = self.residuals(np.asarray(p, dtype=float))
        return 0.5 * float(r @ r)


class EpochHuber:
    """The Epoch/Hoffmann estimator's objective over theta = [a, b, e, alpha, beta]:
    sum_i huber_delta(LSE(a - alpha log N, b - beta log D, e) - log y_i), with
    A = e^a, B = e^b, E = e^e."""

    def __init__(self, N: np.ndarray, D: np.ndarray, y: np.ndarray, delta: float) -> None:
        self.lN, self.lD, self.ly = np.log(N), np.log(D), np.log(y)
        self.delta = delta

    def objective(self, th: np.ndarray) -> float:
        a, b, e, alpha, beta = th
        terms = np.stack(
            [a - alpha * self.lN, b - beta * self.lD, np.full_like(self.lN, e)]
        )
        r = ss.logsumexp(terms, axis=0) - self.ly
        return float(ss.huber(self.delta, r).sum())

    def objective_and_grad(self, th: np.ndarray) -> tuple[float, np.ndarray]:
        a, b, e, alpha, beta = th
        t1 = a - alpha * self.lN
        t2 = b - beta * self.lD
        m = np.maximum(np.maximum(t1, t2), e)
        w1, w2, w3 = np.exp(t1 - m), np.exp(t2 - m), np.exp(e - m)
        s = w1 + w2 + w3
        r = m + np.log(s) - self.ly
        d = self.delta
        f = float(ss.huber(d, r).sum())
        psi = np.clip(r, -d, d) / s  # huber'(r), times 1/s to turn w_k into softmax weights
        g1, g2 = psi @ w1, psi @ w2
        grad = np.array(
            [g1, g2, psi @ w3, -(psi * w1) @ self.lN, -(psi * w2) @ self.lD]
        )
        return f, grad

    @staticmethod
    def grid() -> np.ndarray:
        """Hoffmann et al.'s 4,500 starts as rows [a, b, e, alpha, beta]."""
        ab = np.arange(0.0, 25.0 + 1e-9, 5.0)
        ee = np.arange(-1.0, 1.0 + 1e-9, 0.5)
        ex = np.arange(0.0, 2.0 + 1e-9, 0.5)
        g = np.array(
            [[a, b, e, al, be] for a in ab for b in ab for e in ee for al in ex for be in ex]
        )
        assert g.shape == (4500, 5)
        return g

    @staticmethod
    def to_natural(th: np.ndarray) -> dict[str, float]:
        a, b, e, alpha, beta = th
        return {
            "E": math.exp(e),
            "A": math.exp(a),
            "B": math.exp(b),
            "alpha": float(alpha),
            "beta": float(beta),
        }

    @staticmethod
    def from_natural(p: dict[str, float]) -> np.ndarray:
        return np.array(
            [math.log(p["A"]), math.log(p["B"]), math.log(p["E"]), p["alpha"], p["beta"]]
        )


def fmt_params(p: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.6g}" for k, v in p.items())


# --------------------------------------------------------------------------------------------
# Section 1: one local l2 fit from a given start
# --------------------------------------------------------------------------------------------


def capture_core_call(
    call: Callable[[], Any],
) -> tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]] | str:
    """Runs ``call()`` (a ``pf.fit`` call) with ``powerfit.fit._core`` wrapped, and returns the
    native function with the exact arguments it received, to time the native layer alone
    without depending on the private signature. Returns a reason string if that fails."""
    mod = sys.modules.get("powerfit.fit")
    real = getattr(mod, "_core", None)
    if mod is None or real is None or not hasattr(real, "fit"):
        return "powerfit.fit no longer calls _core.fit"
    core: Any = real
    seen: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    class Shim:
        def __getattr__(self, name: str) -> Any:
            return getattr(core, name)

        def fit(self, *args: Any, **kwargs: Any) -> Any:
            seen.append((args, kwargs))
            return core.fit(*args, **kwargs)

    mod._core = Shim()  # type: ignore[attr-defined]
    try:
        call()
    finally:
        mod._core = real  # type: ignore[attr-defined]
    if len(seen) != 1:
        return f"pf.fit made {len(seen)} calls to _core.fit"
    return core.fit, seen[0][0], seen[0][1]


def bench_local(ctx: Context) -> Section:
    sec = Section("local", "1. Local chinchilla-law fit, l2 loss, 240 points, given start")
    N, D, y = ctx.N, ctx.D, ctx.y
    prob = ChinchillaL2(N, D, y)
    p0 = np.array(P0)

    def run_pf() -> Any:
        return pf.fit(
            law="chinchilla", N=N, D=D, y=y, loss="l2", p0=P0, starts="given", warn=False
        )

    r_pf = run_pf()
    cost_pf = r_pf.cost
    say(f"[local] powerfit: cost={cost_pf:.12g} n_iter={r_pf.n_iter} status={r_pf.status}")
    t_pf = ctx.time(run_pf)
    say(f"[local] powerfit {t_pf.describe()}")
    sec.details.append(
        f"- powerfit `starts=\"given\"`: {t_pf.describe()}; cost {cost_pf:.12g}, "
        f"{r_pf.n_iter} iterations, {r_pf.nfev} evaluations, status `{r_pf.status}`; "
        f"{fmt_params(r_pf.params)}."
    )

    # Where powerfit's time goes: the default warn=True (diagnostics computed in Python) and the
    # raw native call without the Python wrapper. The latter uses the private binding, whose
    # signature may change; it is skipped (and said so) if the call fails.
    t_warn = ctx.time(
        lambda: pf.fit(
            law="chinchilla", N=N, D=D, y=y, loss="l2", p0=P0, starts="given", warn=True
        )
    )
    sec.details.append(
        f"- powerfit, same call with the default `warn=True` (diagnostics): {t_warn.describe()}."
    )
    raw_call = capture_core_call(run_pf)
    if isinstance(raw_call, str):
        sec.details.append(f"- powerfit's native call alone: not measured ({raw_call}).")
    else:
        core_fit, args, kwargs = raw_call
        t_core = ctx.time(lambda: core_fit(*args, **kwargs))
        sec.details.append(
            "- powerfit's native call alone (`powerfit._core.fit` replayed with the arguments "
            "`pf.fit` passed it, so no Python-side validation or result object; it includes "
            f"the covariance and statistics the core computes): {t_core.describe()}."
        )
    say(f"[local] powerfit warn=True {t_warn.describe()}")

    tight = dict(ftol=1e-12, xtol=1e-10, gtol=1e-10)
    peers: list[tuple[str, Callable[[], Any], Callable[[Any], tuple[np.ndarray, str]]]] = []

    def ls_info(r: Any) -> tuple[np.ndarray, str]:
        return r.x, f"nfev {r.nfev}, njev {r.njev}, status {r.status}"

    def cf_info(r: Any) -> tuple[np.ndarray, str]:
        return np.asarray(r[0]), ""

    peers.append(
        (
            "scipy least_squares(method=\"lm\"), analytic jac, default tol",
            lambda: so.least_squares(prob.residuals, p0, jac=prob.jacobian, method="lm"),
            ls_info,
        )
    )
    peers.append(
        (
            "scipy least_squares(method=\"lm\"), analytic jac, ftol=1e-12 xtol=gtol=1e-10",
            lambda: so.least_squares(
                prob.residuals, p0, jac=prob.jacobian, method="lm", **tight
            ),
            ls_info,
        )
    )
    peers.append(
        (
            "scipy least_squares(method=\"lm\"), finite-difference jac",
            lambda: so.least_squares(prob.residuals, p0, method="lm"),
            ls_info,
        )
    )
    peers.append(
        (
            "scipy curve_fit (default: lm, finite-difference jac)",
            lambda: so.curve_fit(prob.model, None, y, p0=p0),
            cf_info,
        )
    )
    peers.append(
        (
            "scipy curve_fit(jac=analytic)",
            lambda: so.curve_fit(prob.model, None, y, p0=p0, jac=prob.model_jac),
            cf_info,
        )
    )
    try:
        import lmfit
    except ImportError:  # pragma: no cover - lmfit is in the dev dependencies
        lmfit = None
    if lmfit is not None:
        params = lmfit.Parameters()
        for name, v in zip(("E", "A", "B", "alpha", "beta"), P0):
            params.add(name, value=v)

        def lm_resid(ps: Any) -> np.ndarray:
            v = ps.valuesdict()
            return prob.residuals(
                np.array([v["E"], v["A"], v["B"], v["alpha"], v["beta"]])
            )

        def lm_info(r: Any) -> tuple[np.ndarray, str]:
            v = r.params.valuesdict()
            return (
                np.array([v["E"], v["A"], v["B"], v["alpha"], v["beta"]]),
                f"nfev {r.nfev}",
            )

        peers.append(
            (
                "lmfit.minimize(method=\"leastsq\"), finite-difference jac",
                lambda: lmfit.minimize(lm_resid, params, method="leastsq"),
                lm_info,
            )
        )

    sec.rows.append(
        Row(
            "local l2 fit (given p0)",
            t_pf.median,
            "—",
            None,
            "≤ 30 µs",
            f"{target_note(t_pf.median, 30e-6)}; powerfit cost {cost_pf:.10g}",
        )
    )
    for label, fn, info in peers:
        out = fn()
        x, extra = info(out)
        c = prob.cost(x)
        same = rel_diff(c, cost_pf) <= 1e-8
        where = (
            "same optimum" if same else f"DIFFERENT cost (rel. diff {rel_diff(c, cost_pf):.1e})"
        )
        t = ctx.time(fn)
        say(f"[local] {label}: cost={c:.12g} ({where}) {t.describe()}")
        note = f"peer cost {c:.10g}: {where}"
        if "default: lm" in label or "curve_fit(jac" in label:
            note += " (curve_fit also returns a covariance)"
        if "default tol" in label:
            note += "; issue's reference: scipy lm ≈ 300 µs"
        sec.rows.append(Row("local l2 fit (given p0)", t_pf.median, label, t.median, "", note))
        names = ("E", "A", "B", "alpha", "beta")
        sec.details.append(
            f"- {label}: {t.describe()}; cost {c:.12g} ({where}); "
            f"{fmt_params(dict(zip(names, map(float, x))))}"
            + (f"; {extra}" if extra else "")
            + "."
        )
    sec.details.append(
        "- Costs are 1/2 sum of squared residuals (model - y), recomputed by this script for "
        "every peer from its returned parameters; 'same optimum' means relative cost "
        "difference ≤ 1e-8."
    )
    return sec


# --------------------------------------------------------------------------------------------
# Section 2: default global l2 fit
# --------------------------------------------------------------------------------------------


def varpro_multistart_l2(
    prob: ChinchillaL2, n_grid: int = 30, n_polish: int = 3
) -> tuple[np.ndarray, float]:
    """A numpy/scipy global l2 fit: for every (alpha, beta) on an n_grid x n_grid grid over
    [0.05, 1.5]^2 the linear parameters E, A, B are solved exactly (batched 3x3 normal
    equations on unit-norm columns), then scipy least_squares(method="lm", analytic jac)
    polishes the n_polish best grid points; returns the best."""
    ex = np.linspace(0.05, 1.5, n_grid)
    Na = np.exp(-np.outer(ex, prob.lN))  # (g, n): N^-alpha
    Db = np.exp(-np.outer(ex, prob.lD))  # (g, n): D^-beta
    n = prob.y.size
    sa = np.sqrt((Na * Na).sum(1))
    sb = np.sqrt((Db * Db).sum(1))
    Nu = Na / sa[:, None]
    Du = Db / sb[:, None]
    s1 = math.sqrt(n)
    g = n_grid
    G = np.empty((g, g, 3, 3))
    G[:, :, 0, 0] = 1.0
    G[:, :, 0, 1] = G[:, :, 1, 0] = (Nu.sum(1) / s1)[:, None]
    G[:, :, 0, 2] = G[:, :, 2, 0] = (Du.sum(1) / s1)[None, :]
    G[:, :, 1, 1] = 1.0
    G[:, :, 2, 2] = 1.0
    G[:, :, 1, 2] = G[:, :, 2, 1] = Nu @ Du.T
    rhs = np.empty((g, g, 3))
    rhs[:, :, 0] = prob.y.sum() / s1
    rhs[:, :, 1] = (Nu @ prob.y)[:, None]
    rhs[:, :, 2] = (Du @ prob.y)[None, :]
    c = np.linalg.solve(G, rhs[..., None])[..., 0]  # coefficients of the unit columns
    pred = (
        c[:, :, 0, None] / s1
        + c[:, :, 1, None] * Nu[:, None, :]
        + c[:, :, 2, None] * Du[None, :, :]
    )
    sse = ((pred - prob.y) ** 2).sum(-1)
    order = np.argsort(sse, axis=None)[:n_polish]
    best_x, best_c = None, math.inf
    for k in order:
        i, j = divmod(int(k), g)
        start = np.array(
            [c[i, j, 0] / s1, c[i, j, 1] / sa[i], c[i, j, 2] / sb[j], ex[i], ex[j]]
        )
        r = so.least_squares(prob.residuals, start, jac=prob.jacobian, method="lm")
        if r.cost < best_c:
            best_x, best_c = r.x, float(r.cost)
    assert best_x is not None
    return best_x, best_c


def bench_global(ctx: Context) -> Section:
    sec = Section("global", "2. Default global l2 fit (starts=\"auto\")")
    N, D, y = ctx.N, ctx.D, ctx.y
    prob = ChinchillaL2(N, D, y)

    def run_pf() -> Any:
        return pf.fit(law="chinchilla", N=N, D=D, y=y, loss="l2", warn=False)

    r_pf = run_pf()
    t_pf = ctx.time(run_pf)
    say(f"[global] powerfit cost={r_pf.cost:.12g} {t_pf.describe()}")
    sec.details.append(
        f"- powerfit `starts=\"auto\"`: {t_pf.describe()}; cost {r_pf.cost:.12g}, "
        f"status `{r_pf.status}`, n_starts reported {r_pf.n_starts}; {fmt_params(r_pf.params)}."
    )
    x, c = varpro_multistart_l2(prob)
    same = rel_diff(c, r_pf.cost) <= 1e-8
    where = "same optimum" if same else f"DIFFERENT cost (rel. diff {rel_diff(c, r_pf.cost):.1e})"
    t_peer = ctx.time(lambda: varpro_multistart_l2(prob))
    say(f"[global] numpy grid + scipy lm: cost={c:.12g} ({where}) {t_peer.describe()}")
    label = "numpy 30×30 exponent grid (linear E,A,B solved) + scipy lm polish of best 3"
    sec.rows.append(
        Row(
            "global l2 fit (auto starts)",
            t_pf.median,
            label,
            t_peer.median,
            "≤ 200 µs",
            f"{target_note(t_pf.median, 200e-6)}; powerfit cost {r_pf.cost:.10g}, "
            f"peer cost {c:.10g}: {where}",
        )
    )
    sec.details.append(
        f"- Peer ({label}; written for this benchmark, see `varpro_multistart_l2`): "
        f"{t_peer.describe()}; cost {c:.12g} ({where}); "
        f"{fmt_params(dict(zip(('E', 'A', 'B', 'alpha', 'beta'), map(float, x))))}."
    )
    return sec


# --------------------------------------------------------------------------------------------
# Section 3: the huber_log global estimate vs the Epoch-style L-BFGS-B grid
# --------------------------------------------------------------------------------------------


def bench_huber_log(ctx: Context) -> Section:
    sec = Section(
        "huber_log",
        "3. huber_log global estimate (delta = 1e-3) vs the Epoch-style L-BFGS-B 4,500-start grid",
    )
    df = ctx.df
    obj = EpochHuber(ctx.N, ctx.D, ctx.y, HUBER_DELTA)

    def run_auto() -> Any:
        return pf.fit(df, law="chinchilla", loss="huber_log", delta=HUBER_DELTA, warn=False)

    def run_grid() -> Any:
        return pf.fit(
            df, law="chinchilla", loss="huber_log", delta=HUBER_DELTA, starts="grid", warn=False
        )

    r_auto = run_auto()
    t_auto = ctx.time(run_auto)
    say(f"[huber_log] powerfit auto cost={r_auto.cost:.12g} {t_auto.describe()}")

    # powerfit's grid: all 4,500 starts, really run (no scaling); ~seconds per call.
    # Timed call by call (no batching); the full run adds one untimed warm-up call first.
    if not ctx.quick:
        run_grid()
    grid_times = []
    for _ in range(1 if ctx.quick else 3):
        t0 = time.perf_counter()
        r_grid = run_grid()
        grid_times.append(time.perf_counter() - t0)
    t_grid = Timing(
        statistics.median(grid_times), min(grid_times), max(grid_times), len(grid_times), 1
    )
    say(f"[huber_log] powerfit grid cost={r_grid.cost:.12g} {t_grid.describe()}")

    # Our objective at powerfit's optimum: checks the two objectives are the same function.
    f_at_auto = obj.objective(EpochHuber.from_natural(r_auto.params))
    sec.details.append(
        f"- powerfit `starts=\"auto\"` (pandas DataFrame in): {t_auto.describe()}; cost "
        f"{r_auto.cost:.12g}, n_starts reported {r_auto.n_starts}, status `{r_auto.status}`; "
        f"{fmt_params(r_auto.params)}. The scipy objective below evaluated at these parameters "
        f"gives {f_at_auto:.12g} (rel. diff {rel_diff(f_at_auto, r_auto.cost):.1e}), so both "
        "minimise the same function."
    )
    sec.details.append(
        f"- powerfit `starts=\"grid\"` (all 4,500 starts, actually run, not scaled): "
        f"{t_grid.describe()}; cost {r_grid.cost:.12g}, n_starts {r_grid.n_starts}, status "
        f"`{r_grid.status}`. powerfit runs grid starts in parallel on a rayon pool "
        f"(this machine: {os.cpu_count()} CPUs); the scipy peer below is single-threaded."
    )

    # The Epoch-style estimator on random subsets of the 4,500 starts, scaled up.
    grid = EpochHuber.grid()
    th = grid[0]
    t_f = measure(lambda: obj.objective(th), repeats=ctx.repeats, min_repeat_time=0.01)
    t_fg = measure(lambda: obj.objective_and_grad(th), repeats=ctx.repeats, min_repeat_time=0.01)
    sec.details.append(
        f"- One evaluation of the scipy objective (scipy.special.logsumexp + huber): "
        f"{fmt_time(t_f.median)}; of the hand-written objective + analytic gradient (numpy "
        f"max-shifted log-sum-exp): {fmt_time(t_fg.median)}. The finite-difference variant "
        "needs 6 objective evaluations per gradient."
    )
    n_sub = 30 if ctx.quick else 300
    rng = np.random.default_rng(20240417)
    perm = rng.permutation(len(grid))
    subsets = {"fd": grid[perm[:n_sub]], "analytic": grid[perm[n_sub : 2 * n_sub]]}
    best_pf = min(r_auto.cost, r_grid.cost)
    results = {}
    for kind, starts in subsets.items():
        fs, xs, nits = [], [], []
        t0 = time.perf_counter()
        for s in starts:
            if kind == "fd":
                r = so.minimize(obj.objective, s, method="L-BFGS-B")
            else:
                r = so.minimize(obj.objective_and_grad, s, jac=True, method="L-BFGS-B")
            fs.append(float(r.fun))
            xs.append(r.x)
            nits.append(int(r.nit))
        total = time.perf_counter() - t0
        fs_a = np.array(fs)
        k = int(np.argmin(fs_a))
        n_hit = int((np.abs(fs_a - best_pf) <= 1e-6 * best_pf).sum())
        per_start = total / len(starts)
        results[kind] = dict(
            total=total,
            per_start=per_start,
            scaled=per_start * len(grid),
            best=float(fs_a[k]),
            best_x=xs[k],
            n_hit=n_hit,
            n=len(starts),
            med_nit=statistics.median(nits),
        )
        say(
            f"[huber_log] scipy L-BFGS-B ({kind}) {len(starts)} starts in {total:.2f} s "
            f"-> {per_start * 1e3:.2f} ms/start, x4500 = {per_start * len(grid):.1f} s; "
            f"best {fs_a[k]:.12g}; {n_hit}/{len(starts)} within 1e-6 rel of powerfit's best"
        )

    labels = {
        "fd": "scipy L-BFGS-B, finite-difference grad, 4,500 starts (scaled from "
        f"{n_sub} random starts)",
        "analytic": "scipy L-BFGS-B, analytic grad, 4,500 starts (scaled from "
        f"{n_sub} random starts)",
    }
    for kind in ("fd", "analytic"):
        res = results[kind]
        gap = res["best"] - best_pf
        subset_note = (
            f"SCALED: {res['n']} random starts took {res['total']:.2f} s "
            f"({res['per_start'] * 1e3:.2f} ms/start) × 4,500; subset best {res['best']:.7e} "
            f"vs powerfit {best_pf:.7e} (diff {gap:+.1e}); {res['n_hit']}/{res['n']} starts "
            "within 1e-6 rel."
        )
        sec.rows.append(
            Row(
                "huber_log estimate, default starts=\"auto\"",
                t_auto.median,
                labels[kind],
                res["scaled"],
                "≤ 100 ms",
                f"{target_note(t_auto.median, 0.1)}; " + subset_note,
            )
        )
    for kind in ("fd", "analytic"):
        res = results[kind]
        sec.rows.append(
            Row(
                "huber_log estimate, starts=\"grid\" (4,500 starts, real)",
                t_grid.median,
                labels[kind],
                res["scaled"],
                "—",
                f"powerfit ran all 4,500 starts on {os.cpu_count()} CPUs (rayon); peer "
                "single-threaded, SCALED as above",
            )
        )
    for kind in ("fd", "analytic"):
        res = results[kind]
        sec.details.append(
            f"- Epoch-style scipy estimator, {labels[kind]}: {res['n']} starts (a random subset "
            f"of the 4,500-start grid, numpy seed 20240417, the two subsets disjoint) took "
            f"{res['total']:.2f} s in one pass, {res['per_start'] * 1e3:.2f} ms per start "
            f"(median {res['med_nit']:g} L-BFGS-B iterations); × 4,500 = "
            f"{res['scaled']:.1f} s. This is an EXTRAPOLATION, not a run of all 4,500 starts. "
            f"Best objective in the subset {res['best']:.12g} "
            f"({fmt_params(EpochHuber.to_natural(res['best_x']))}); powerfit's best "
            f"{best_pf:.12g}; {res['n_hit']}/{res['n']} subset starts end within 1e-6 "
            "relative of powerfit's best."
        )
    sec.details.append(
        "- The scipy objective: theta = [a, b, e, alpha, beta], "
        "`scipy.special.huber(1e-3, logsumexp([a - alpha log N, b - beta log D, e]) - log y).sum()`"
        "; L-BFGS-B with scipy's default options; the analytic gradient is hand-written "
        "(`EpochHuber.objective_and_grad`)."
    )
    return sec


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------

SECTIONS: dict[str, Callable[[Context], Section]] = {
    "local": bench_local,
    "global": bench_global,
    "huber_log": bench_huber_log,
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
                f"{BUILD[1].removeprefix('- powerfit build: ')}); all timings used the build loaded at start, described above."
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
            sections.append(SECTIONS[name](ctx))
    wall = time.perf_counter() - t0
    LOAD[1] = loadavg()
    BUILD[1] = build_line()
    text = render(sections, args, wall)
    write_atomic(args.out, text)
    say(f"wrote {args.out} ({wall:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
