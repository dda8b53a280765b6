"""`python -m powerfit.demo`: the bundled Chinchilla sweep, end to end."""

from __future__ import annotations

import time

from . import datasets, fit


def main() -> None:
    """Fit the Chinchilla law to Epoch's 240 points with the Hoffmann/Epoch estimator."""
    df = datasets.chinchilla()
    t = time.perf_counter()
    res = fit(df, law="chinchilla", loss="huber_log", delta=1e-3)
    dt = time.perf_counter() - t
    print(f"Chinchilla Approach 3 sweep: {len(df)} runs, fitted in {dt * 1e3:.1f} ms\n")
    print(res.summary())
    if hasattr(res, "bootstrap"):
        try:
            t = time.perf_counter()
            boot = res.bootstrap(n=4000, seed=0, progress=False)
            dt = time.perf_counter() - t
            print(f"\nBootstrap: 4,000 case resamples in {dt:.2f} s\n")
            print(boot.ci(level=0.95).to_string(index=False))
        except ImportError:
            pass


if __name__ == "__main__":
    main()
