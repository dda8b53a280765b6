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
