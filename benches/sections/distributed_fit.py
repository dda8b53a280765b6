"""powerfit.dask.fit_groups on a local two-process cluster against the local engine on the same
table (100,000 groups x 40 points), from a Parquet sweep database on disk."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np

from harness import HERE, Context, Row, Section, say, target_note
from sections.groups import GROUPS_N, GROUPS_PTS, groups_sweep

KEYS = ["sweep", "config"]
FILES = 8  # Parquet files of the sweep database
WORKERS = 2  # worker processes, one thread each


def _write(df: Any, root: str, whole: bool) -> None:
    """The table as FILES Parquet files: every group whole in one file (``whole``: rows sorted
    by key, cut between groups) or rows in table order cut evenly (every group split)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(root)
    if whole:
        df = df.sort_values(KEYS, kind="stable").reset_index(drop=True)
        key = df["sweep"].to_numpy() * 10**6 + df["config"].to_numpy()
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        cuts = starts[np.linspace(0, len(starts), FILES + 1).astype(int)[1:-1]]
    else:
        cuts = np.linspace(0, len(df), FILES + 1).astype(int)[1:-1]
    for i, rows in enumerate(np.split(np.arange(len(df)), cuts)):
        table = pa.Table.from_pandas(df.iloc[rows], preserve_index=False)
        pq.write_table(table, os.path.join(root, f"part-{i:02d}.parquet"))


def dask_worker(repeats: int) -> dict[str, Any]:
    """In a fresh process: the local engine on the table in memory, then the Dask path on the
    same rows read from Parquet (groups whole in files; then every group split), on a
    two-process LocalCluster; times, equality of the results."""
    import pandas as pd
    from distributed import Client, LocalCluster

    import powerfit as pf
    import powerfit.dask as pfd

    df = groups_sweep(GROUPS_N, GROUPS_PTS)
    out: dict[str, Any] = {"rows": len(df)}
    opts: dict[str, Any] = {"law": "chinchilla", "loss": "l2"}
    pf.fit_groups(df.iloc[:2000], by=KEYS, **opts)  # warm-up
    times, ref = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        ref = pf.fit_groups(df, by=KEYS, **opts)
        times.append(time.perf_counter() - t0)
    out["local"] = times
    assert ref is not None
    ref = ref.sort_values(KEYS).reset_index(drop=True)
    with tempfile.TemporaryDirectory() as tmp:
        whole, split = os.path.join(tmp, "whole"), os.path.join(tmp, "split")
        _write(df, whole, True)
        _write(df, split, False)
        del df
        # one rayon thread per worker process: the two workers share the two cores
        env = {"RAYON_NUM_THREADS": "1"}
        with LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True,
                          dashboard_address=None, env=env) as cluster, Client(cluster):  # fmt: skip
            for name, root in (("whole", whole), ("split", split)):
                pfd.fit_groups(root, by=KEYS, **opts).head(1, npartitions=1)  # warm the workers
                times, res = [], None
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    res = pfd.fit_groups(root, by=KEYS, **opts).compute()
                    times.append(time.perf_counter() - t0)
                out[name] = times
                got = res.sort_values(KEYS).reset_index(drop=True)
                for k in KEYS:
                    got[k] = got[k].astype(ref[k].dtype)
                try:
                    pd.testing.assert_frame_equal(got, ref, check_exact=True)
                    out[f"{name}_equal"] = "bit-identical to the local result"
                except AssertionError as exc:
                    out[f"{name}_equal"] = "DIFFERS: " + " ".join(str(exc).split())[:200]
    out["load"] = os.getloadavg()[0]
    return out


def bench_dask(ctx: Context) -> Section:
    sec = Section(
        "dask",
        f"Dask: powerfit.dask.fit_groups on {WORKERS} worker processes vs the local engine "
        f"({GROUPS_N:,} groups x {GROUPS_PTS} points, chinchilla, l2)",
    )
    reps = 1 if ctx.quick else 3
    code = (
        f"import json, sys; sys.path.insert(0, {HERE!r}); from sections import distributed_fit; "
        f"print('@@' + json.dumps(distributed_fit.dask_worker({reps})))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    line = [s for s in proc.stdout.splitlines() if s.startswith("@@")]
    if proc.returncode != 0 or not line:
        raise RuntimeError(f"dask worker failed:\n{proc.stderr[-3000:]}")
    r = json.loads(line[-1][2:])
    local = statistics.median(r["local"])
    for name, label in (("whole", "groups whole in files: no shuffle"),
                        ("split", "every group split across files: shuffled")):  # fmt: skip
        t = statistics.median(r[name])
        say(f"[dask] {name}: {t:.2f} s vs local {local:.2f} s ({t / local:.2f}x)")
        sec.rows.append(
            Row(
                f"powerfit.dask.fit_groups from {FILES} Parquet files, {label}: total time",
                t,
                "local pf.fit_groups on the same table in memory (both cores)",
                local,
                "≤ 1.5x local",
                f"{target_note(t / local, 1.5)}: {t / local:.2f}x; {r[f'{name}_equal']}",
            )
        )
    sec.details += [
        f"- Data: `groups_sweep` ({r['rows']:,} rows, rows in random order), written to "
        f"{FILES} Parquet files twice: sorted by key and cut between groups, and in table "
        "order cut evenly (every group spans files). The Dask times include reading the "
        "files on the workers (only the columns the fit needs), the layout pass over the "
        "keys, the fits and gathering the result; the local time starts from the table in "
        "memory.",
        f"- Cluster: `distributed.LocalCluster(n_workers={WORKERS}, threads_per_worker=1, "
        "processes=True)`, RAYON_NUM_THREADS=1 in the workers (two single-threaded engines on "
        "two cores); local: one process, rayon on both cores.",
        f"- Times (s): local {r['local']}, whole {r['whole']}, split {r['split']}; 1-min load "
        f"{r['load']:.1f} at the end.",
    ]
    return sec
