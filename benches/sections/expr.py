"""Written laws: NIST StRD accuracy against scipy, speed against the built-in laws."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.optimize as so

import powerfit as pf
from harness import (
    HERE,
    HUBER_DELTA,
    P0,
    Context,
    Row,
    Section,
    Timing,
    fmt_time,
    rel_diff,
    say,
    target_note,
)

#: The NIST StRD models in numpy, for the scipy peer (independent of powerfit's evaluator).
NIST_NUMPY: dict[str, Callable[[np.ndarray, list[np.ndarray]], np.ndarray]] = {
    "Misra1a": lambda b, x: b[0] * (1 - np.exp(-b[1] * x[0])),
    "Chwirut2": lambda b, x: np.exp(-b[0] * x[0]) / (b[1] + b[2] * x[0]),
    "Chwirut1": lambda b, x: np.exp(-b[0] * x[0]) / (b[1] + b[2] * x[0]),
    "Lanczos3": lambda b, x: (
        b[0] * np.exp(-b[1] * x[0]) + b[2] * np.exp(-b[3] * x[0]) + b[4] * np.exp(-b[5] * x[0])
    ),
    "Gauss1": lambda b, x: (
        b[0] * np.exp(-b[1] * x[0])
        + b[2] * np.exp(-((x[0] - b[3]) ** 2) / b[4] ** 2)
        + b[5] * np.exp(-((x[0] - b[6]) ** 2) / b[7] ** 2)
    ),
    "DanWood": lambda b, x: b[0] * x[0] ** b[1],
    "Misra1b": lambda b, x: b[0] * (1 - (1 + b[1] * x[0] / 2) ** (-2)),
    "Kirby2": lambda b, x: (
        (b[0] + b[1] * x[0] + b[2] * x[0] ** 2) / (1 + b[3] * x[0] + b[4] * x[0] ** 2)
    ),
    "Hahn1": lambda b, x: (
        (b[0] + b[1] * x[0] + b[2] * x[0] ** 2 + b[3] * x[0] ** 3)
        / (1 + b[4] * x[0] + b[5] * x[0] ** 2 + b[6] * x[0] ** 3)
    ),
    "Nelson": lambda b, x: b[0] - b[1] * x[0] * np.exp(-b[2] * x[1]),
    "MGH17": lambda b, x: b[0] + b[1] * np.exp(-x[0] * b[3]) + b[2] * np.exp(-x[0] * b[4]),
    "Misra1c": lambda b, x: b[0] * (1 - (1 + 2 * b[1] * x[0]) ** (-0.5)),
    "Misra1d": lambda b, x: b[0] * b[1] * x[0] * ((1 + b[1] * x[0]) ** (-1)),
    "Roszman1": lambda b, x: b[0] - b[1] * x[0] - np.arctan(b[2] / (x[0] - b[3])) / np.pi,
    "ENSO": lambda b, x: (
        b[0]
        + b[1] * np.cos(2 * np.pi * x[0] / 12)
        + b[2] * np.sin(2 * np.pi * x[0] / 12)
        + b[4] * np.cos(2 * np.pi * x[0] / b[3])
        + b[5] * np.sin(2 * np.pi * x[0] / b[3])
        + b[7] * np.cos(2 * np.pi * x[0] / b[6])
        + b[8] * np.sin(2 * np.pi * x[0] / b[6])
    ),
}
NIST_NUMPY["Lanczos1"] = NIST_NUMPY["Lanczos2"] = NIST_NUMPY["Lanczos3"]
NIST_NUMPY["Gauss2"] = NIST_NUMPY["Gauss3"] = NIST_NUMPY["Gauss1"]


def _nist_module() -> Any:
    """tests/test_nist.py: the 19 laws as pf.Law text, the .dat reader and the LRE."""
    import importlib.util

    path = os.path.join(os.path.dirname(HERE), "tests", "test_nist.py")
    spec = importlib.util.spec_from_file_location("_bench_test_nist", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _paired(
    ctx: Context, a: Callable[[], Any], b: Callable[[], Any], rounds: int = 3
) -> tuple[Timing, Timing]:
    """Times a and b alternately (`rounds` times each) so that a busy machine affects both
    alike; returns the timing with the lower median of each."""
    ta: list[Timing] = []
    tb: list[Timing] = []
    for _ in range(rounds):
        ta.append(ctx.time(a))
        tb.append(ctx.time(b))
    return min(ta, key=lambda t: t.median), min(tb, key=lambda t: t.median)


def _paired_once(a: Callable[[], Any], b: Callable[[], Any], rounds: int) -> tuple[Timing, Timing]:
    """Single calls of a and b, alternately, `rounds` times each (for calls of ~0.1-1 s)."""
    ts: dict[str, list[float]] = {"a": [], "b": []}
    for _ in range(rounds):
        for key, fn in (("a", a), ("b", b)):
            t0 = time.perf_counter()
            fn()
            ts[key].append(time.perf_counter() - t0)
    out = []
    for key in ("a", "b"):
        v = ts[key]
        out.append(Timing(statistics.median(v), min(v), max(v), len(v), 1))
    return out[0], out[1]


def bench_expr(ctx: Context) -> Section:
    sec = Section(
        "expr",
        "Written laws (pf.Law): NIST StRD accuracy vs scipy, and speed vs the built-in law",
    )
    nist = _nist_module()
    tol = nist.TOL
    # ---- NIST StRD: both starts, powerfit vs scipy least_squares(method="lm", 2-point jac)
    table = [
        "| problem | start | powerfit: min param LRE | powerfit: RSS LRE | scipy: min param LRE "
        "| scipy: RSS LRE | scipy status |",
        "|---|---|---|---|---|---|---|",
    ]
    worst_pf: list[float] = []
    worst_sp: list[float] = []
    rss_pf: dict[str, float] = {}
    t_pf = t_sp = 0.0
    n_ok_pf = n_ok_sp = 0
    for name, expr, variables in nist.PROBLEMS:
        prob = nist.read_nist(name)
        k = len(prob["certified"])
        params = [f"b{i}" for i in range(1, k + 1)]
        law = pf.Law(expr, variables=variables, params=params, name=name)
        y = np.log(prob["y"]) if name == "Nelson" else prob["y"]
        xs = prob["x"]
        data = {v: x for v, x in zip(variables, xs)}
        data["y"] = y
        model = NIST_NUMPY[name]
        for s, start in enumerate(prob["starts"], start=1):
            t0 = time.perf_counter()
            res = pf.fit(data, law=law, p0=start, starts="given", warn=False, **tol)
            t_pf += time.perf_counter() - t0
            lre_p = min(nist.lre(res.params[p], c) for p, c in zip(params, prob["certified"]))
            lre_r = nist.lre(2.0 * res.cost, prob["rss"])
            t0 = time.perf_counter()
            with np.errstate(all="ignore"):
                sp = so.least_squares(
                    lambda b: model(b, xs) - y,
                    np.array(start, dtype=float),
                    method="lm",
                    ftol=1e-15,
                    xtol=1e-15,
                    gtol=1e-15,
                    max_nfev=100_000,
                )
            t_sp += time.perf_counter() - t0
            sp_p = min(nist.lre(float(v), c) for v, c in zip(sp.x, prob["certified"]))
            sp_r = nist.lre(float(sp.fun @ sp.fun), prob["rss"])
            need_rss = 3.0 if name == "Lanczos1" else 6.0
            n_ok_pf += lre_p >= 6 and lre_r >= need_rss
            n_ok_sp += sp_p >= 6 and sp_r >= need_rss
            worst_pf.append(lre_p)
            worst_sp.append(sp_p)
            rss_pf[f"{name}/{s}"] = lre_r
            table.append(
                f"| {name} | {s} | {lre_p:.1f} | {lre_r:.1f} | {sp_p:.1f} | {sp_r:.1f} | "
                f"{sp.status} |"
            )
        say(
            f"[expr] NIST {name}: powerfit {worst_pf[-2]:.1f}/{worst_pf[-1]:.1f}, "
            f"scipy {worst_sp[-2]:.1f}/{worst_sp[-1]:.1f}"
        )
    lz = nist.read_nist("Lanczos1")
    lz_fit = pf.fit(
        {"x": lz["x"][0], "y": lz["y"]},
        law=pf.Law(nist.PROBLEMS[12][1], "x", params=[f"b{i}" for i in range(1, 7)]),
        p0=lz["starts"][0],
        starts="given",
        warn=False,
        **tol,
    )
    lanczos = nist.exact_rss_lanczos([lz_fit.params[f"b{i}"] for i in range(1, 7)])
    lanczos_lre = nist.lre(lanczos, lz["rss"])
    n_runs = len(worst_pf)
    sec.rows.append(
        Row(
            f"NIST StRD, 19 lower/average problems × 2 starts ({n_runs} fits), pf.Law, "
            "ftol=xtol=gtol=1e-15",
            t_pf / n_runs,
            'scipy least_squares(method="lm"), finite-difference jac, same tolerances',
            t_sp / n_runs,
            "every LRE ≥ 6 (Lanczos1 RSS ≥ 3)",
            f"time per fit (mean over the {n_runs}); powerfit: {n_ok_pf}/{n_runs} fits with "
            f"every param LRE ≥ 6 and RSS LRE ≥ 6 (Lanczos1: ≥ 3, see details), worst param "
            f"LRE {min(worst_pf):.1f}; scipy: {n_ok_sp}/{n_runs}, worst "
            f"param LRE {min(worst_sp):.1f}",
        )
    )
    sec.details += [
        "- NIST StRD nonlinear regression, the 19 lower- and average-difficulty problems, each "
        "from both certified starts. powerfit: the model written as a `pf.Law` "
        '(tests/test_nist.py), `starts="given"`, ftol=xtol=gtol=1e-15, max_iter=1000, exact '
        'Jacobians from the expression tape. scipy: `least_squares(method="lm")` (MINPACK '
        "lmdif) with its default 2-point finite-difference Jacobian on the same model written "
        "in numpy, ftol=xtol=gtol=1e-15, max_nfev=100000. LRE = -log10(|est - cert| / |cert|), "
        'capped at 15; "min param LRE" is the worst parameter. Nelson is fitted to log(y), '
        "as certified.",
        f"- Lanczos1: the certified RSS 1.43e-25 is the rounding floor of its decimal data. "
        f"Read into doubles, the data's exact optimum has RSS 1.42955e-25 (LRE 3.06), and any "
        f"double-precision evaluation of the model perturbs an RSS that small by ~1e-3 "
        f"relative (scipy's RSS, table below, scores 2.6-3.3). powerfit recomputes the reported "
        f"cost with the model and residuals in double-double when the residuals are below "
        f"1e-6 of the data, so it reports the data's floor. The RSS at powerfit's start-1 "
        f"estimate, recomputed from the decimal data in 40-digit arithmetic, is "
        f"{lanczos:.6e} (LRE {lanczos_lre:.2f}).",
        "",
        *table,
        "",
    ]

    # ---- chinchilla written as an expression vs the built-in law
    df = ctx.df
    order = ["E", "A", "B", "alpha", "beta"]
    law = pf.Law("E + A*N^-alpha + B*D^-beta", ["N", "D"], params=order, positive=["A", "B"])
    # the same law with no recognisable structure: general tape, log N / log D per evaluation,
    # local fits only
    general = pf.Law(
        "(E + A*N^-alpha + B*D^-beta)*1", ["N", "D"], params=order, positive=["A", "B"]
    )
    assert law.structure == "power_sum" and general.structure == "general"
    cases = [
        ('l2, starts="auto"', law, dict(loss="l2")),
        ('huber_log, starts="auto"', law, dict(loss="huber_log", delta=HUBER_DELTA)),
        ("l2, given start", law, dict(loss="l2", starts="given", p0=P0)),
        ("l2, given start, general tape", general, dict(loss="l2", starts="given", p0=P0)),
        (
            "huber_log, given start, general tape",
            general,
            dict(loss="huber_log", delta=HUBER_DELTA, starts="given", p0=P0),
        ),
    ]
    fits: dict[str, tuple[Any, Any]] = {}
    for label, lw, kw in cases:

        def run_e(lw: Any = lw, kw: dict = kw) -> Any:
            return pf.fit(df, law=lw, warn=False, **kw)

        def run_b(kw: dict = kw) -> Any:
            return pf.fit(df, law="chinchilla", warn=False, **kw)

        re_, rb = run_e(), run_b()
        fits[label] = (re_, rb)
        te, tb = _paired(ctx, run_e, run_b)
        ratio = te.median / tb.median
        diff = max(rel_diff(re_.params[k], rb.params[k]) for k in order)
        say(
            f"[expr] single fit {label}: expr {fmt_time(te.median)} built-in "
            f"{fmt_time(tb.median)} ratio {ratio:.2f}; max param rel diff {diff:.1e}"
        )
        sec.rows.append(
            Row(
                f"chinchilla as pf.Law vs built-in: one fit ({label})",
                te.median,
                'built-in law="chinchilla", same call',
                tb.median,
                "pf.Law ≤ 3× built-in",
                f"pf.Law / built-in = {ratio:.2f} ({target_note(ratio, 3.0)}); max relative "
                f"parameter difference {diff:.1e}",
            )
        )
        sec.details.append(
            f"- One fit, {label}: pf.Law {te.describe()}; built-in {tb.describe()}; "
            f"cost {re_.cost:.12g} vs {rb.cost:.12g}, {re_.n_iter} vs {rb.n_iter} iterations."
        )
    n_boot = 4000
    for label in (
        'l2, starts="auto"',
        'huber_log, starts="auto"',
        "l2, given start, general tape",
    ):
        re_, rb = fits[label]

        def boot_e(r: Any = re_) -> Any:
            return r.bootstrap(n_boot=n_boot, seed=0)

        def boot_b(r: Any = rb) -> Any:
            return r.bootstrap(n_boot=n_boot, seed=0)

        be, bb = boot_e(), boot_b()
        te, tb = _paired_once(boot_e, boot_b, 2 if ctx.quick else 4)
        ratio = te.median / tb.median
        ok = be.success & bb.success
        diff = float(np.max(np.abs(be.samples[ok] - bb.samples[ok]) / np.abs(bb.samples[ok])))
        say(
            f"[expr] bootstrap {label}: expr {fmt_time(te.median)} built-in "
            f"{fmt_time(tb.median)} ratio {ratio:.2f}"
        )
        sec.rows.append(
            Row(
                f"chinchilla as pf.Law vs built-in: {n_boot:,} bootstrap refits ({label})",
                te.median,
                'built-in law="chinchilla", same bootstrap (case, seed 0)',
                tb.median,
                "pf.Law ≤ 3× built-in",
                f"pf.Law / built-in = {ratio:.2f} ({target_note(ratio, 3.0)}); "
                f"{int(be.success.sum())} vs {int(bb.success.sum())} successful replicates; "
                f"max relative difference of the replicate estimates {diff:.1e}",
            )
        )
        sec.details.append(
            f"- {n_boot:,} case-bootstrap refits, {label}: pf.Law {te.describe()}; built-in "
            f"{tb.describe()} (alternating single calls; rayon over {os.cpu_count()} CPUs)."
        )
    sec.details.append(
        '- pf.Law is `E + A*N^-alpha + B*D^-beta` with `positive=["A", "B"]` (the built-in '
        "law's log-parametrised amplitudes). It is recognised as a power sum, so it gets the "
        'same variable-projection starts and reads the precomputed log N, log D. The "general '
        'tape" rows write it as `(...)*1`, which hides the structure: local fits from the '
        "given start, and ln N, ln D recomputed at every evaluation. Ratio targets are on "
        "pf.Law time / built-in time (the table's ratio column is built-in / pf.Law)."
    )
    return sec
