"""Before the fit: learning and capacity curves, the regime of every (model size, tokens)
cell, what to buy next, and the checks a scaling-law fit needs.

>>> import powerfit as pf
>>> d = pf.diagnose(pf.datasets.olmo_ladder(), run=["size", "chinchilla_multiplier"],
...                 columns={"D": "tokens", "loss": "loss_c4"})        # doctest: +SKIP
>>> print(d.summary())                                                  # doctest: +SKIP
"""

from __future__ import annotations

from .pipeline import diagnose
from .regimes import REGIMES
from .result import Diagnosis
from .synthetic import synthetic_sweep

__all__ = ["REGIMES", "Diagnosis", "diagnose", "synthetic_sweep"]
