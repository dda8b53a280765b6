"""Bulk sweeps with fit_groups against a pandas groupby-apply over scipy."""

from __future__ import annotations

import os
import statistics
import sys
import time
from typing import Any

import numpy as np
import scipy.optimize as so

import powerfit as pf
from harness import (
    HERE,
    P0,
    Context,
    Row,
    Section,
    say,
    target_note,
)
from peers import ChinchillaL2

GROUPS_N, GROUPS_PTS = 100_000, 40  # synthetic sweep database: groups x points (chinchilla)
GROUPS_PEER = 1_000  # groups the scipy peer fits (then scaled up)
SLICES_N, SLICES_PTS = 10_000, 100  # 10^6 rows of power-law slices


def groups_sweep(n_groups: int, n_points: int, seed: int = 20240501) -> Any:
    """A synthetic sweep database (pandas): keys sweep (int, 100 values) x config (int),
    N, D and a chinchilla-law loss with 0.5% multiplicative noise; rows in random order."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups, dtype=np.int64), n_points)
    par = [rng.uniform(lo, hi, n_groups)[g] for lo, hi in
           ((1.5, 2.0), (200, 600), (200, 1000), (0.25, 0.4), (0.2, 0.35))]  # fmt: skip
    N = np.exp(rng.uniform(np.log(1e7), np.log(1e10), g.size))
    D = np.exp(rng.uniform(np.log(1e9), np.log(1e12), g.size))
    E, A, B, al, be = par
    y = (E + A * N**-al + B * D**-be) * (1 + 0.005 * rng.standard_normal(g.size))
    perm = rng.permutation(g.size)
    return pd.DataFrame(
        {
            "sweep": (g % 100)[perm],
            "config": (g // 100)[perm],
            "N": N[perm],
            "D": D[perm],
            "loss": y[perm],
        }  # fmt: skip
    )


def _groups_slices(n_groups: int, n_points: int, seed: int = 7) -> Any:
    """10^6 rows of power-law slices (pandas): key run, compute C, loss = L + A C^-alpha."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups, dtype=np.int64), n_points)
    C = 10 ** rng.uniform(18, 23, g.size)
    L = rng.uniform(1.5, 2.5, n_groups)[g]
    A = rng.uniform(20, 60, n_groups)[g]
    al = rng.uniform(0.04, 0.08, n_groups)[g]
    y = (L + A * C**-al) * (1 + 0.002 * rng.standard_normal(g.size))
    perm = rng.permutation(g.size)
    return pd.DataFrame({"run": g[perm], "C": C[perm], "loss": y[perm]})


def _rss_reset() -> str:
    """Resets the kernel's peak-RSS mark (VmHWM) to the current RSS; returns the method."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return "VmHWM after /proc/self/clear_refs reset"
    except OSError:
        return "unavailable"


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def groups_worker(kind: str, repeats: int) -> dict[str, Any]:
    """Runs one bulk-fit measurement in this (fresh) process: builds the data, resets the peak
    RSS mark, runs the fit `repeats` times; returns times, RSS and a digest of the results."""
    import gc

    import pandas as pd

    out: dict[str, Any] = {"kind": kind}
    if kind == "slices":
        df = _groups_slices(SLICES_N, SLICES_PTS)
        call = lambda: pf.fit_groups(df, by="run", law="power", x="C")  # noqa: E731
        pf.fit_groups(df.iloc[:2000], by="run", law="power", x="C")  # warm-up (imports, pool)
    else:
        df = groups_sweep(GROUPS_N, GROUPS_PTS)
        if kind in ("peer", "pf_subset", "pf_given_subset"):
            df = df[df["config"] < GROUPS_PEER // 100].reset_index(drop=True)
        if kind == "peer":

            def one(g: Any) -> Any:
                prob = ChinchillaL2(g["N"].to_numpy(), g["D"].to_numpy(), g["loss"].to_numpy())
                r = so.least_squares(prob.residuals, np.array(P0), jac=prob.jacobian, method="lm")
                return pd.Series(
                    [*r.x, r.cost, r.status > 0],
                    index=["E", "A", "B", "alpha", "beta", "cost", "success"],
                )

            def call() -> Any:
                return df.groupby(["sweep", "config"]).apply(one, include_groups=False)

            warm = df[(df["config"] == 0) & (df["sweep"] < 5)]
            warm.groupby(["sweep", "config"]).apply(one, include_groups=False)
        else:
            given = {"starts": "given", "p0": P0} if kind.startswith("pf_given") else {}

            def call() -> Any:
                return pf.fit_groups(
                    df, by=["sweep", "config"], law="chinchilla", loss="l2", **given
                )

            pf.fit_groups(df.iloc[:2000], by=["sweep", "config"])  # warm-up
    out["rows"] = int(len(df))
    out["input_bytes"] = int(sum(df[c].to_numpy().nbytes for c in df.columns))
    gc.collect()
    out["rss_before_kib"] = _rss_kib("VmRSS")
    out["rss_method"] = _rss_reset()
    times, cpu = [], []
    res = None
    for i in range(repeats):
        c0 = time.process_time()
        t0 = time.perf_counter()
        res = call()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        if i == 0:
            out["peak_kib"] = _rss_kib("VmHWM")
    out["times"] = times
    out["cpu"] = cpu
    out["load"] = os.getloadavg()[0]
    out["groups"] = int(len(res))
    out["success"] = float(np.mean(np.asarray(res["success"], dtype=bool)))
    out["cost"] = [float(v) for v in np.asarray(res["cost"], dtype=float)]
    if kind != "peer":
        out["status"] = {str(k): int(v) for k, v in res["status"].value_counts().items()}
    return out


def _groups_run(kind: str, repeats: int) -> dict[str, Any]:
    """`groups_worker` in a fresh Python process (so its peak RSS is its own)."""
    import json
    import subprocess

    code = (
        f"import json, sys; sys.path.insert(0, {HERE!r}); from sections import groups; "
        f"print('@@' + json.dumps(groups.groups_worker({kind!r}, {repeats})))"
    )
    # the BLAS pin is inherited through the environment (set before numpy loaded here)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    line = [s for s in proc.stdout.splitlines() if s.startswith("@@")]
    if proc.returncode != 0 or not line:
        raise RuntimeError(f"groups worker {kind} failed:\n{proc.stderr[-3000:]}")
    return json.loads(line[-1][2:])


def bench_groups(ctx: Context) -> Section:
    sec = Section(
        "groups",
        "4. Bulk sweeps: fit_groups (100,000 groups x 40 points, chinchilla, l2; 10^6 rows of "
        "power-law slices) vs pandas groupby-apply over scipy least_squares",
    )
    reps = 1 if ctx.quick else 3
    ncpu = os.cpu_count() or 1

    def mem(r: dict[str, Any]) -> str:
        delta = (r["peak_kib"] - r["rss_before_kib"]) / 1024
        return (
            f"peak RSS {r['peak_kib'] / 1024:.0f} MiB, {delta:+.0f} MiB over the "
            f"{r['rss_before_kib'] / 1024:.0f} MiB before the call = "
            f"{delta * 2**20 / r['input_bytes']:.2f}x the {r['input_bytes'] / 2**20:.0f} MiB of "
            "input columns"
        )

    def timing(r: dict[str, Any]) -> str:
        return (
            f"wall {', '.join(f'{t:.2f}' for t in r['times'])} s, CPU "
            f"{', '.join(f'{c:.2f}' for c in r['cpu'])} s ({len(r['times'])} run(s); "
            f"1-min load {r['load']:.1f} at the end)"
        )

    def cost_match(a: dict[str, Any], b: dict[str, Any]) -> str:
        ca, cb = np.array(a["cost"]), np.array(b["cost"])
        tol = 1e-6 * np.maximum(ca, 1e-300)
        same = int(np.sum(np.abs(cb - ca) <= tol))
        return (
            f"same cost (1e-6 rel.) in {same}/{len(ca)} groups, peer higher in "
            f"{int(np.sum(cb - ca > tol))}, lower in {int(np.sum(ca - cb > tol))}"
        )

    runs: dict[str, dict[str, Any]] = {}
    for kind, r in (("pf", reps), ("pf_given", reps), ("pf_subset", 3),
                    ("pf_given_subset", 3), ("peer", 1), ("slices", reps)):  # fmt: skip
        runs[kind] = _groups_run(kind, r)
        say(f"[groups] {kind}: {runs[kind]['groups']} groups / {runs[kind]['rows']} rows; "
            f"{timing(runs[kind])}; {mem(runs[kind])}")  # fmt: skip
    peer = runs["peer"]
    t_peer = peer["times"][0]
    scale = GROUPS_N / peer["groups"]
    peer_note = (
        f"peer {peer['rows'] / t_peer:,.0f} rows/s ({t_peer:.2f} s for {peer['groups']:,} "
        f"groups, x{scale:g} = {t_peer * scale:.0f} s); peer on its subset: {mem(peer)}"
    )
    for kind, label, sub in (
        ("pf", "auto starts (default: VarPro grid + LM)", "pf_subset"),
        ("pf_given", 'starts="given", p0=P0 (a local fit, as the peer\'s)', "pf_given_subset"),
    ):
        r = runs[kind]
        t = statistics.median(r["times"])
        sec.rows.append(
            Row(
                f"fit_groups, {GROUPS_N:,} groups x {GROUPS_PTS} points (chinchilla, l2), "
                f"{label}: time per group",
                t / r["groups"],
                "pandas groupby-apply + scipy least_squares(lm, analytic jac, start P0); "
                f"SCALED from {peer['groups']:,} groups",
                t_peer / peer["groups"],
                "≤ 5 s total",
                f"{target_note(t, 5.0)}: {t:.2f} s total (CPU {statistics.median(r['cpu']):.1f} s "
                f"on {ncpu} threads), {r['rows'] / t:,.0f} rows/s vs {peer_note}; powerfit "
                f"{mem(r)}; on the peer's groups: {cost_match(runs[sub], peer)}",
            )
        )
    sl = runs["slices"]
    t_sl = statistics.median(sl["times"])
    sec.rows.append(
        Row(
            f"fit_groups, 10^6 rows of power-law slices ({SLICES_N:,} groups x {SLICES_PTS}), "
            "time per group",
            t_sl / sl["groups"],
            "—",
            None,
            "≤ 2 s total",
            f"{target_note(t_sl, 2.0)}: {t_sl:.2f} s total, {sl['rows'] / t_sl:,.0f} rows/s; "
            f"{mem(sl)}",
        )
    )
    big, given = runs["pf"], runs["pf_given"]
    sec.details += [
        f"- Data (`groups_sweep`, numpy seed 20240501): {GROUPS_N:,} groups x {GROUPS_PTS} "
        "points = 4,000,000 rows; keys `sweep` (int, 100 values) x `config` (int, 1,000 "
        "values); N log-uniform in [1e7, 1e10], D in [1e9, 1e12]; loss = E + A N^-alpha + "
        "B D^-beta with per-group parameters (E 1.5-2, A 200-600, B 200-1000, alpha 0.25-0.4, "
        "beta 0.2-0.35) and 0.5% noise; rows shuffled, so the grouping does real work. pandas "
        "DataFrame in, pandas DataFrame out; the times include factorising the keys, the "
        "native call and building the result.",
        f"- powerfit, default auto starts: {timing(big)}; {big['success']:.2%} converged "
        f"({', '.join(f'{k} {v}' for k, v in big['status'].items())}). {mem(big)}.",
        f'- powerfit, `starts="given", p0=P0`: {timing(given)}; {given["success"]:.2%} '
        f"converged. {mem(given)}.",
        f"- CPU time / {ncpu} is the wall time this work needs with both cores to itself; the "
        "wall times above are inflated whenever the load average exceeds about 1 (other "
        "processes share the cores).",
        f"- Peer: `df.groupby(['sweep', 'config']).apply(f, include_groups=False)` where f runs "
        "`scipy.optimize.least_squares(method='lm')` with the analytic Jacobian from the fixed "
        f"start P0 = {P0} (close to every group's true parameters, which favours the peer; a "
        "local fit only: no global start, no covariance), single-threaded. Run once on the "
        f"first {peer['groups']:,} groups ({peer['rows']:,} rows): {timing(peer)}; "
        f"{t_peer / peer['groups'] * 1e3:.2f} ms/group; SCALED x{scale:g} = "
        f"{t_peer * scale:.0f} s for {GROUPS_N:,} groups (an EXTRAPOLATION, not a run). "
        f"powerfit on the same {peer['groups']:,} groups (separate runs): auto "
        f"{statistics.median(runs['pf_subset']['times']):.3f} s "
        f"({cost_match(runs['pf_subset'], peer)}); given "
        f"{statistics.median(runs['pf_given_subset']['times']):.3f} s "
        f"({cost_match(runs['pf_given_subset'], peer)}).",
        f"- Power-law slices (`_groups_slices`, seed 7): {SLICES_N:,} groups x {SLICES_PTS} "
        "points = 10^6 rows in random order, `pf.fit_groups(df, by='run', law='power', "
        f"x='C')`: {timing(sl)}; {sl['success']:.2%} converged. {mem(sl)}.",
        "- Memory method: each measurement runs in a fresh Python process (`groups_worker`) "
        "that builds its data, collects garbage, reads VmRSS, resets the kernel's peak-RSS mark "
        "(writes 5 to /proc/self/clear_refs), runs the call and reads VmHWM from "
        f"/proc/self/status ({big['rss_method']}). 'over before' = the first timed call's "
        "VmHWM minus the VmRSS before it: the call's own peak, result included. Input columns "
        "= nbytes of the DataFrame's columns (keys included). The peer's figure is for its "
        f"{peer['groups']:,}-group subset, not scaled.",
    ]
    return sec


# --------------------------------------------------------------------------------------------
