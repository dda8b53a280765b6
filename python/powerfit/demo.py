"""``powerfit demo`` (also ``python -m powerfit.demo``): the bundled Chinchilla sweep, end to end.

Fits Hoffmann et al.'s law to Epoch AI's extraction of the Chinchilla Approach 3 sweep with their
estimator (Huber loss, delta = 1e-3, on log residuals), runs a case bootstrap, prints the
parameter table next to Epoch's published numbers and the compute-optimal table with intervals,
and writes the saved fit, the figures and an HTML report to the output folder.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from . import datasets, fit
from .errors import PowerfitWarning

#: Chinchilla's own budget: 70B parameters on 1.4T tokens, C = 6 N D.
CHINCHILLA_BUDGET = 6 * 70e9 * 1.4e12
BUDGETS = (1e21, 1e22, 1e23, CHINCHILLA_BUDGET, 1e24, 1e25)
#: Epoch AI's published estimates on the same 240 points (arXiv:2404.10102).
EPOCH = {
    "estimate": {"E": 1.8172, "A": 477.84, "B": 2143.86, "alpha": 0.3473, "beta": 0.3672},
    "lower": {"E": 1.769, "A": 285.2, "B": 1042, "alpha": 0.317, "beta": 0.331},
    "upper": {"E": 1.871, "A": 743.6, "B": 5810, "alpha": 0.373, "beta": 0.415},
}
#: The figures' file names.
FIGURES = {
    "fit": "chinchilla_fit.png",
    "residuals": "residuals.png",
    "bootstrap": "bootstrap.png",
    "frontier": "frontier.png",
}


def _reference_table(res: object, boot: object | None) -> str:
    from .html import text_table

    rows = []
    ci = boot.ci(level=0.95).set_index("parameter") if boot is not None else None  # type: ignore[attr-defined]
    for name, v in res.params.items():  # type: ignore[attr-defined]
        row = [name, f"{v:.5g}"]
        if ci is not None:
            row.append(f"[{ci.at[name, 'lower']:.4g}, {ci.at[name, 'upper']:.4g}]")
        row.append(f"{EPOCH['estimate'][name]:.5g}")
        if ci is not None:
            row.append(f"[{EPOCH['lower'][name]:.4g}, {EPOCH['upper'][name]:.4g}]")
        rows.append(row)
    head = ["parameter", "powerfit"]
    if ci is not None:
        head.append("95% bootstrap CI")
    head.append("Epoch 2024")
    if ci is not None:
        head.append("Epoch 95% CI")
    return text_table(head, rows)


def _provenance(n_boot: int, seed: int) -> dict[str, str]:
    """The demo's input (the bundled file) and the command that runs it."""
    import hashlib
    from importlib import resources

    name = "chinchilla_approach3_tidy.csv"
    data = resources.files("powerfit.data").joinpath(name).read_bytes()
    return {
        "source": f"pf.datasets.chinchilla(): powerfit/data/{name} (240 of its 245 rows)",
        "sha256": hashlib.sha256(data).hexdigest(),
        "call": f"powerfit demo --n-boot {n_boot} --seed {seed}: "
        "pf.fit(df, law='chinchilla', loss='huber_log', delta=0.001)",
    }


def run(
    outdir: str | Path = "powerfit-demo",
    n_boot: int = 4000,
    seed: int = 0,
    budgets: Sequence[float] | None = None,
    plots: bool = True,
    quiet: bool = False,
) -> int:
    """Run the demo; returns an exit code (0, or 1 if the fit did not converge)."""
    from .html import format_optimal, report, sci

    budgets = list(budgets) if budgets else list(BUDGETS)
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    df = datasets.chinchilla()

    def note(text: str) -> None:
        if not quiet:
            print(text, file=sys.stderr)

    print(
        "powerfit demo: the Chinchilla Approach 3 sweep (Hoffmann et al. 2022, Figure 4, as "
        f"extracted by Epoch AI): {len(df)} training runs"
    )
    t = time.perf_counter()
    res = fit(df, law="chinchilla", loss="huber_log", delta=1e-3, warn=False)
    dt = time.perf_counter() - t
    print(
        f"fit: E + A N^-alpha + B D^-beta, Huber loss (delta 1e-3) on log residuals, "
        f"{res.n_starts} starts, {dt * 1e3:.1f} ms\n"
    )
    print(res.summary())
    if not res.success:
        print(f"powerfit: the fit did not converge ({res.status}): {res.message}", file=sys.stderr)
        return 1
    boot = None
    if n_boot > 0:
        t = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", PowerfitWarning)
            boot = res.bootstrap(n_boot, seed=seed, progress=False if quiet else None)
        dt = time.perf_counter() - t
        for w in caught:
            print(f"powerfit: warning: {w.message}", file=sys.stderr)
        print(
            f"\nbootstrap: {boot.n:,} case resamples refitted in {dt:.2f} s "
            f"({boot.n_failed} failed)"
        )
    print("\nestimates against Epoch AI's replication (4,500-start grid, 4,000 resamples):")
    print(_reference_table(res, boot))
    print()
    print(format_optimal(res, budgets, 6.0, 0.95))
    print(f"(Chinchilla itself: 70B parameters on 1.4T tokens, C = {sci(CHINCHILLA_BUDGET)})")

    written = [res.save(out / "fit.json")]
    if plots:
        from ._files import write_bytes
        from .html import figures

        t = time.perf_counter()
        images = figures(res)
        for name, png in images.items():
            written.append(write_bytes(out / FIGURES[name], png))
        written.append(
            report(
                res,
                out / "report.html",
                budgets=budgets,
                images=images,
                title="powerfit demo: Chinchilla Approach 3",
                provenance=_provenance(n_boot, seed),
            )
        )
        note(f"figures and report in {time.perf_counter() - t:.1f} s")
    print("\nwrote:")
    for p in written:
        print(f"  {p}")
    print(f"\nnext: powerfit optimal {out / 'fit.json'} --budgets 1e24")
    return 0
