"""Names users type, as ``Literal`` types for annotations (the core defines the lists; a test
holds these to them)."""

from __future__ import annotations

from typing import Literal

LawName = Literal[
    "power",
    "chinchilla",
    "additive",
    "kaplan",
    "m1",
    "m2",
    "m3",
    "m4",
    "bnsl",
    "bnsl2",
    "data_constrained",
]
LossName = Literal["l2", "log", "huber", "huber_log", "asymmetric", "asymmetric_log"]
StartsName = Literal["auto", "grid", "given"]
BootstrapMethod = Literal["case", "cluster", "residual", "parametric"]
GroupBootstrapMethod = Literal["case", "residual"]
IntervalMethod = Literal["percentile", "basic", "bca"]

__all__ = [
    "BootstrapMethod",
    "GroupBootstrapMethod",
    "IntervalMethod",
    "LawName",
    "LossName",
    "StartsName",
]
