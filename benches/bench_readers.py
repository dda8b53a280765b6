"""Reading sweep tables: powerfit.readers.read_table against pandas' own readers, on the same
files, in one run. Usable as bench.py's section ``readers`` (``readers_section``) or alone::

    .venv/bin/python benches/bench_readers.py [--rows 2000000] [--quick]

A synthetic sweep table (group keys as text, model size, tokens, compute, loss and six columns
a fit does not need) is written as CSV, gzipped CSV and Parquet; each reader fetches the four
columns a fit reads (N, D, loss and the group key), and the rows of one dataset. Every number
comes from this run."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from powerfit.readers import read_table

WANTED = ["dataset", "N", "D", "loss"]


def _best_of(fn: Any, repeats: int) -> float:
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts)


def sweep_table(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    N = np.exp(rng.uniform(np.log(1e7), np.log(1e10), rows))
    D = np.exp(rng.uniform(np.log(1e9), np.log(1e12), rows))
    frame = {
        "dataset": rng.choice(["c4", "pile", "refinedweb", "slimpajama"], rows),
        "eval_set": rng.choice([f"eval_{i}" for i in range(8)], rows),
        "N": N,
        "D": D,
        "C": 6 * N * D,
        "loss": 1.7 + 400 * N**-0.34 + 1100 * D**-0.28,
    }
    for i in range(6):  # columns a fit does not read
        frame[f"extra_{i}"] = rng.standard_normal(rows)
    return pd.DataFrame(frame)


def readers_section(ctx: Any, rows: int | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    quick = bool(getattr(ctx, "quick", False))
    n = rows or (200_000 if quick else 2_000_000)
    repeats = 2 if quick else 3
    table = sweep_table(n)
    out: list[dict[str, Any]] = []
    details = [f"- {n:,} rows × {table.shape[1]} columns; readers fetch {WANTED}."]
    with tempfile.TemporaryDirectory() as tmp:
        paths = {
            "csv": Path(tmp) / "sweep.csv",
            "csv.gz": Path(tmp) / "sweep.csv.gz",
            "parquet": Path(tmp) / "sweep.parquet",
        }
        table.to_csv(paths["csv"], index=False)
        table.to_csv(paths["csv.gz"], index=False, compression="gzip")
        table.to_parquet(paths["parquet"], index=False, row_group_size=100_000)
        for kind, path in paths.items():
            size = path.stat().st_size / 2**20
            if kind == "parquet":
                peer, peer_name = (
                    lambda p=path: pd.read_parquet(p, columns=WANTED),
                    "pandas.read_parquet(columns=...)",
                )
            else:
                peer, peer_name = (
                    lambda p=path: pd.read_csv(p, usecols=WANTED),
                    "pandas.read_csv(usecols=...), C engine",
                )
            t_pf = _best_of(lambda p=path: read_table(p, columns=WANTED).floats("N"), repeats)
            t_peer = _best_of(peer, repeats)
            out.append(
                {
                    "benchmark": f"read 4 columns of a {size:.0f} MiB {kind} sweep",
                    "powerfit": t_pf,
                    "peer": peer_name,
                    "peer_time": t_peer,
                    "target": "faster than pandas",
                    "notes": f"{t_peer / t_pf:.1f}× pandas' time",
                }
            )
        filt = [("dataset", "==", "pile")]
        t_pf = _best_of(
            lambda: read_table(paths["parquet"], columns=WANTED[1:], filters=filt), repeats
        )
        t_peer = _best_of(
            lambda: pd.read_parquet(paths["parquet"], columns=WANTED[1:], filters=filt), repeats
        )
        out.append(
            {
                "benchmark": "read 3 columns of one dataset's rows (Parquet, filter)",
                "powerfit": t_pf,
                "peer": "pandas.read_parquet(columns=..., filters=...)",
                "peer_time": t_peer,
                "target": "as fast as pandas",
                "notes": f"{t_peer / t_pf:.1f}× pandas' time",
            }
        )
    return out, details


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    rows, details = readers_section(argparse.Namespace(quick=args.quick), args.rows)
    print("| benchmark | powerfit (s) | peer | peer (s) | ratio |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['benchmark']} | {r['powerfit']:.3f} | {r['peer']} | {r['peer_time']:.3f} "
            f"| {r['notes']} |"
        )
    print("\n".join(details))


if __name__ == "__main__":
    main()
