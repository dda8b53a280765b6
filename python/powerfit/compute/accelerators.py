"""Peak dense throughput of common accelerators, per precision, with sources.

Figures are the vendors' dense peaks in TFLOP/s (no structured sparsity: where a datasheet
quotes "with sparsity", the dense figure is half of it). MFU is measured against these peaks.
Pass your own :class:`Accelerator` (or ``peak_tflops=``) wherever a name is accepted to use
other hardware or other figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from ..errors import InvalidOptionError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Precision names; "fp16" and "bf16" share the tensor-core peak on every listed part.
PRECISIONS = ("fp64", "fp32", "tf32", "bf16", "fp16", "fp8", "int8")


@dataclass(frozen=True)
class Accelerator:
    """An accelerator: its name, dense peak TFLOP/s per precision, and where the figures come
    from."""

    name: str
    peak_tflops: Mapping[str, float]
    source: str = "user-supplied"
    notes: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvalidOptionError("an accelerator needs a name")
        peaks = dict(self.peak_tflops)
        for prec, v in peaks.items():
            if prec not in PRECISIONS:
                raise InvalidOptionError(
                    f"accelerator '{self.name}': unknown precision '{prec}'; precisions are "
                    f"{', '.join(PRECISIONS)}"
                )
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise InvalidOptionError(
                    f"accelerator '{self.name}': peak for {prec} must be a positive number of "
                    f"TFLOP/s, got {v!r}"
                )
        object.__setattr__(self, "peak_tflops", MappingProxyType(peaks))

    def peak_flops(self, precision: str = "bf16") -> float:
        """Dense peak in FLOP/s at `precision`."""
        if precision not in self.peak_tflops:
            have = ", ".join(self.peak_tflops) or "none"
            raise InvalidOptionError(
                f"accelerator '{self.name}' has no {precision} peak in the table (it has: "
                f"{have}); pass peak_tflops= or an Accelerator with it"
            )
        return float(self.peak_tflops[precision]) * 1e12


_NV_A100 = "NVIDIA A100 Tensor Core GPU datasheet (2021)"
_NV_H100 = "NVIDIA H100 Tensor Core GPU datasheet (2023); dense = half the sparse figures"
_NV_B200 = "NVIDIA HGX B200 datasheet (2024), per GPU; dense = half the sparse figures"
_AMD_300 = "AMD Instinct MI300X accelerator datasheet (2023); dense figures"

_TABLE = [
    Accelerator(
        "V100-SXM",
        {"fp64": 7.8, "fp32": 15.7, "fp16": 125.0},
        "NVIDIA Tesla V100 datasheet (2020)",
        "fp16 on tensor cores; no bf16",
    ),
    Accelerator(
        "A100-SXM",
        {"fp64": 19.5, "fp32": 19.5, "tf32": 156.0, "bf16": 312.0, "fp16": 312.0, "int8": 624.0},
        _NV_A100,
        "fp64 on tensor cores; int8 in TOPS",
    ),
    Accelerator(
        "A100-PCIe",
        {"fp64": 19.5, "fp32": 19.5, "tf32": 156.0, "bf16": 312.0, "fp16": 312.0, "int8": 624.0},
        _NV_A100,
        "same peaks as the SXM part at a lower power limit",
    ),
    Accelerator(
        "H100-SXM",
        {
            "fp64": 67.0,
            "fp32": 67.0,
            "tf32": 494.7,
            "bf16": 989.4,
            "fp16": 989.4,
            "fp8": 1978.9,
            "int8": 1978.9,
        },
        _NV_H100,
        "fp64 on tensor cores",
    ),
    Accelerator(
        "H100-PCIe",
        {
            "fp64": 51.0,
            "fp32": 51.0,
            "tf32": 378.0,
            "bf16": 756.0,
            "fp16": 756.0,
            "fp8": 1513.0,
            "int8": 1513.0,
        },
        _NV_H100,
        "fp64 on tensor cores",
    ),
    Accelerator(
        "H200-SXM",
        {
            "fp64": 67.0,
            "fp32": 67.0,
            "tf32": 494.7,
            "bf16": 989.4,
            "fp16": 989.4,
            "fp8": 1978.9,
            "int8": 1978.9,
        },
        "NVIDIA H200 Tensor Core GPU datasheet (2024); dense = half the sparse figures",
        "the H100's compute with more memory",
    ),
    Accelerator(
        "B200",
        {
            "fp64": 40.0,
            "tf32": 1125.0,
            "bf16": 2250.0,
            "fp16": 2250.0,
            "fp8": 4500.0,
            "int8": 4500.0,
        },
        _NV_B200,
    ),
    Accelerator(
        "TPU-v4",
        {"bf16": 275.0, "int8": 275.0},
        "Google Cloud TPU v4 documentation; Chowdhery et al. 2022 (PaLM)",
    ),
    Accelerator("TPU-v5e", {"bf16": 197.0, "int8": 394.0}, "Google Cloud TPU v5e documentation"),
    Accelerator("TPU-v5p", {"bf16": 459.0, "int8": 918.0}, "Google Cloud TPU v5p documentation"),
    Accelerator(
        "MI250X",
        {"fp64": 95.7, "fp32": 95.7, "bf16": 383.0, "fp16": 383.0, "int8": 383.0},
        "AMD Instinct MI250X datasheet (2021)",
        "fp64/fp32 on matrix cores",
    ),
    Accelerator(
        "MI300X",
        {
            "fp64": 163.4,
            "fp32": 163.4,
            "tf32": 653.7,
            "bf16": 1307.4,
            "fp16": 1307.4,
            "fp8": 2614.9,
            "int8": 2614.9,
        },
        _AMD_300,
        "fp64/fp32 on matrix cores",
    ),
]

#: The built-in table, by name (read-only).
ACCELERATORS: Mapping[str, Accelerator] = MappingProxyType({a.name: a for a in _TABLE})


def _norm(name: str) -> str:
    return name.lower().replace("_", "-").replace(" ", "-")


def accelerator(spec: str | Accelerator) -> Accelerator:
    """An :class:`Accelerator` from a table name (case and - / _ insensitive) or itself."""
    if isinstance(spec, Accelerator):
        return spec
    if not isinstance(spec, str):
        raise InvalidOptionError(
            f"accelerator must be a name or a powerfit.compute.Accelerator, got {spec!r}"
        )
    found = {_norm(k): v for k, v in ACCELERATORS.items()}.get(_norm(spec))
    if found is None:
        raise InvalidOptionError(
            f"unknown accelerator '{spec}'; the table has {', '.join(ACCELERATORS)} (or pass "
            f"peak_tflops= or a powerfit.compute.Accelerator)"
        )
    return found


def peak_flops(
    spec: str | Accelerator | None, precision: str = "bf16", peak_tflops: float | None = None
) -> float:
    """Dense peak FLOP/s: `peak_tflops` when given (an override), else the table's figure."""
    if not isinstance(precision, str) or precision not in PRECISIONS:
        raise InvalidOptionError(
            f"unknown precision '{precision}'; precisions are {', '.join(PRECISIONS)}"
        )
    if peak_tflops is not None:
        if not (
            isinstance(peak_tflops, (int, float)) and math.isfinite(peak_tflops) and peak_tflops > 0
        ):
            raise InvalidOptionError(f"peak_tflops must be positive, got {peak_tflops!r}")
        return float(peak_tflops) * 1e12
    if spec is None:
        raise InvalidOptionError("name an accelerator (or pass peak_tflops=)")
    return accelerator(spec).peak_flops(precision)


def table() -> pd.DataFrame:
    """The built-in table: one row per accelerator, one column per precision (TFLOP/s),
    and the source."""
    import pandas as pd

    rows = [
        {
            "accelerator": a.name,
            **{p: a.peak_tflops.get(p, math.nan) for p in PRECISIONS},
            "source": a.source,
            "notes": a.notes,
        }
        for a in ACCELERATORS.values()
    ]
    return pd.DataFrame(rows)


__all__ = ["ACCELERATORS", "PRECISIONS", "Accelerator", "accelerator", "peak_flops", "table"]
