"""Ctrl-C stops every long native call: the call raises KeyboardInterrupt and the interpreter
stays usable (``ctrl_c.assert_interrupted``, in a child interpreter).

Each call below runs far longer than ``ctrl_c.STOP_BOUND`` when nothing stops it (a minute or
more on an idle machine), so a call that does not check for Ctrl-C fails the test instead of
finishing inside the bound; the bound itself is loose, for a machine whose cores are busy.
The latency on an idle machine is measured by ``make bench`` (benches/sections/interrupt.py).
The bootstrap and fit_groups have their own tests in test_bootstrap.py and test_groups.py.
"""

from __future__ import annotations

from ctrl_c import assert_interrupted

#: A written sum of three power laws on 2,000 points: the grid search runs 135,000 local fits
#: (minutes uninterrupted).
GRID = """
import numpy as np
x = np.geomspace(1e6, 1e10, 2000)
law = pf.Law("E + " + " + ".join(f"A{i}*N^-a{i}" for i in range(3)), variables=["N"])
y = 2 + sum(30 / (i + 1) * x ** -(0.2 + 0.1 * i) for i in range(3))
"""

#: A Chinchilla fit on a million rows with grid starts (thousands of variable-projection solves
#: over every row).
BIG = """
import numpy as np
rng = np.random.default_rng(0)
n = 1_000_000
N = np.exp(rng.uniform(np.log(1e7), np.log(1e10), n))
D = np.exp(rng.uniform(np.log(1e9), np.log(1e12), n))
y = (1.69 + 406.4 * N ** -0.34 + 410.7 * D ** -0.28) * np.exp(rng.normal(0, 0.01, n))
"""

#: IsoFLOP points (four budgets of 200 sizes) and training curves (40 sizes, 200 points each):
#: each replicate does enough work that millions of them take about a minute, in little memory.
FRONTIER = """
import numpy as np
import pandas as pd
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


def test_ctrl_c_stops_a_grid_start_search() -> None:
    assert_interrupted(GRID, 'pf.fit({"N": x, "loss": y}, law=law, starts="grid", warn=False)')


def test_ctrl_c_stops_a_fit_on_a_million_rows() -> None:
    assert_interrupted(
        BIG, 'pf.fit({"N": N, "D": D, "loss": y}, law="chinchilla", starts="grid", warn=False)'
    )


def test_ctrl_c_stops_an_isoflop_bootstrap() -> None:
    assert_interrupted(FRONTIER, "pf.isoflop(iso, n_boot=5_000_000, progress=False)")


def test_ctrl_c_stops_an_envelope_bootstrap() -> None:
    assert_interrupted(
        FRONTIER, 'pf.envelope(curves, run="run", n_grid=20, n_boot=3_000_000, progress=False)'
    )
