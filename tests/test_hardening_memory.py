"""A request that is merely big never kills the interpreter: it is refused before any work with
an InvalidOptionError stating the size, or it runs in bounded memory.

Each request runs in a child interpreter whose address space is capped (``resource.setrlimit``
through ``fuzz_child``), so an allocation the machine cannot give aborts the child (a test
failure naming the call), not the test run. The refusals are the core's (checked sizes and
memory bounds before allocating).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fuzz_child import Child

#: Address-space cap of the child: a few times what the requests' inputs need.
CAP = 4 * 2**30

SETUP = """
import numpy as np, pandas as pd
DF = pf.datasets.chinchilla()
RES = pf.fit(DF, law="chinchilla", warn=False)
GROUPS = pd.concat([DF.assign(g=i) for i in range(2)], ignore_index=True)

def power_sum(k):
    x = np.geomspace(1e6, 1e10, 40)
    law = pf.Law("E + " + " + ".join(f"A{i}*N^-a{i}" for i in range(k)), variables=["N"])
    return {"N": x, "loss": 2 + sum(30 / (i + 1) * x ** -(0.2 + 0.05 * i) for i in range(k))}, law

rows = []
for c in (1e18, 1e19, 1e20, 1e21):
    for n in np.geomspace(1e7, 1e10, 9):
        d = c / (6 * n)
        rows.append({"C": c, "N": n, "D": d, "loss": 1.69 + 406.4 * n ** -0.34 + 410.7 * d ** -0.28})
ISO = pd.DataFrame(rows)
"""


@pytest.fixture(scope="module")
def child() -> Iterator[Child]:
    with Child(SETUP, memory_cap=CAP) as c:
        yield c


def assert_refused_with_its_size(child: Child, code: str) -> None:
    out = child.run(code, timeout=300)
    assert out.kind == "error" and out.exc_type == "InvalidOptionError", out
    # the size asked for and the limit, in bytes or in the count the limit is set on
    assert "limit" in out.message and any(
        word in out.message for word in ("GB", "MB", "bytes", "local fits")
    ), out.message


@pytest.mark.parametrize("n", ["10**8", "10**9"])
def test_a_huge_bootstrap_is_refused(child: Child, n: str) -> None:
    assert_refused_with_its_size(child, f"RES.bootstrap(n_boot={n}, progress=False)")


def test_a_huge_bootstrap_per_group_is_refused(child: Child) -> None:
    assert_refused_with_its_size(
        child, "pf.fit_groups(GROUPS, by='g', n_boot=10**9, progress=False)"
    )


def test_a_huge_isoflop_bootstrap_is_refused(child: Child) -> None:
    assert_refused_with_its_size(child, "pf.isoflop(ISO, n_boot=10**9, progress=False)")
    assert_refused_with_its_size(
        child, "pf.isoflop(ISO, n_boot=10**9, resample='budgets', progress=False)"
    )


def test_a_huge_envelope_bootstrap_is_refused(child: Child) -> None:
    curves = "ISO.assign(run=ISO['N'].rank(method='dense'))"
    assert_refused_with_its_size(
        child, f"pf.envelope({curves}, run='run', n_boot=10**9, progress=False)"
    )


@pytest.mark.parametrize("terms", [10, 12, 13])
def test_grid_starts_on_a_long_power_sum_are_refused(child: Child, terms: int) -> None:
    assert_refused_with_its_size(
        child, f"d, law = power_sum({terms}); pf.fit(d, law=law, starts='grid', warn=False)"
    )


def test_a_fit_on_twenty_million_rows_runs_in_bounded_memory(child: Child) -> None:
    out = child.run(
        "x = np.geomspace(1e6, 1e10, 20_000_000); "
        "pf.fit(law='power', x=x, y=2 + 30 * x ** -0.3, warn=False).success",
        timeout=600,
    )
    assert out.kind == "ok" and out.value == "True", out


def test_the_cap_turns_a_runaway_allocation_into_a_clean_error(child: Child) -> None:
    # the child itself survives an allocation past its cap when numpy can report it
    out = child.run("np.empty(2**40)")
    assert out.kind == "error" and out.exc_type in ("MemoryError", "_ArrayMemoryError"), out
    assert child.run("1 + 1").value == "2"
