"""Shared pytest configuration: hypothesis profiles.

Two profiles are registered (on a common "base": no deadline, blobs printed for reproduction):

* ``fast`` (the default, used by CI): few examples per property so that the whole
  hypothesis suite stays well under a minute on two cores. It is derandomized: every run
  draws the same examples, so a CI result is reproducible and a red run points at a change
  in the code, not at a new draw.
* ``thorough``: many more examples from fresh random draws, for hunting bugs locally or in a
  nightly job::

      HYPOTHESIS_PROFILE=thorough .venv/bin/python -m pytest tests/

A fit takes about a millisecond, so the example counts, not the deadline, bound the run
time; the deadline is disabled because the first call of a test pays for imports and
thread-pool start-up.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Data sets are drawn from a seed plus a few floats, so generation is cheap; the fits themselves
# can make a test look slow to hypothesis on a loaded CI machine.
settings.register_profile(
    "base", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile(
    "fast", parent=settings.get_profile("base"), max_examples=30, derandomize=True
)
settings.register_profile("thorough", parent=settings.get_profile("base"), max_examples=1000)

settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))


# --- data shared by the test files (session-scoped: read once) ------------------------------
import pandas as pd
import pytest

import powerfit as pf

HERE = os.path.dirname(os.path.abspath(__file__))
#: Gadre et al. 2024's sweep (a test fixture; the package does not ship it).
GADRE_CSV = os.path.join(HERE, "data", "gadre2024", "gadre2024_losses_long.csv")


@pytest.fixture(scope="session")
def porian_points() -> pd.DataFrame:
    """Porian et al. 2024's IsoFLOP points, as the package ships them."""
    return pf.datasets.porian2024()


@pytest.fixture(scope="session")
def porian_summary() -> pd.DataFrame:
    """Porian et al. 2024's own fits per configuration."""
    return pf.datasets.porian2024(summary=True)


@pytest.fixture(scope="session")
def olmo_curves() -> pd.DataFrame:
    """The OLMo ladder's training curves, as the package ships them."""
    return pf.datasets.olmo_ladder()


@pytest.fixture(scope="session")
def gadre_table() -> pd.DataFrame:
    """Gadre et al. 2024's 832 final losses (24 groups)."""
    return pd.read_csv(GADRE_CSV)
