"""Compute you can trust: FLOPs per token from a model's shape, FLOPs <-> accelerator-hours <->
money, MFU from logged throughput, sweep checks of C = k N D, and budgets for compute-optimal
and inference-optimal plans.

>>> import powerfit as pf
>>> pf.compute.flops_per_token(n_layers=80, d_model=8192, n_heads=64, vocab=32000,
...                            n_ctx=2048).to_frame()                 # doctest: +SKIP
>>> b = pf.Budget(gpus=1024, hours=720, accelerator="H100-SXM", mfu=0.4)
>>> b.total_flops                                                     # doctest: +SKIP
"""

from __future__ import annotations

from .accelerators import ACCELERATORS, PRECISIONS, Accelerator, accelerator, peak_flops, table
from .budget import Budget, budget_flops, compute_optimal, inference_optimal, plan
from .flops import METHODS, Architecture, FlopCount, flops_per_token
from .sweep import check_sweep
from .units import accelerator_hours, cost, flops_from_hours, mfu, tokens_per_second

__all__ = [
    "ACCELERATORS",
    "METHODS",
    "PRECISIONS",
    "Accelerator",
    "Architecture",
    "Budget",
    "FlopCount",
    "accelerator",
    "accelerator_hours",
    "budget_flops",
    "check_sweep",
    "compute_optimal",
    "cost",
    "flops_from_hours",
    "flops_per_token",
    "inference_optimal",
    "mfu",
    "peak_flops",
    "plan",
    "table",
    "tokens_per_second",
]
