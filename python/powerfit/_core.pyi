"""Type stub of the native module (rust/powerfit-py). Kept honest by mypy.stubtest."""

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

__version__: str
__all__: list[str]

class PowerfitError(ValueError): ...
class InvalidDataError(PowerfitError): ...
class InvalidLawError(PowerfitError): ...
class InvalidOptionError(PowerfitError): ...

TERMINATION_NAMES: list[str]

def law_info(law: str, vars: list[str]) -> dict[str, Any]: ...
def evaluate(
    law: str, vars: list[str], x: list[npt.NDArray[np.float64]], params: list[float]
) -> npt.NDArray[np.float64]: ...
def fit(
    law: str,
    vars: list[str],
    x_names: list[str],
    x: list[npt.NDArray[np.float64]],
    y: npt.NDArray[np.float64],
    y_name: str,
    weights: npt.NDArray[np.float64] | None,
    loss: str,
    delta: float,
    penalty: float,
    fixed: list[float | None],
    lower: list[float],
    upper: list[float],
    starts: str,
    p0: list[float] | None,
    ftol: float,
    xtol: float,
    gtol: float,
    max_iter: int,
) -> dict[str, Any]: ...
def bootstrap(
    law: str,
    vars: list[str],
    x_names: list[str],
    x: list[npt.NDArray[np.float64]],
    y: npt.NDArray[np.float64],
    y_name: str,
    weights: npt.NDArray[np.float64] | None,
    loss: str,
    delta: float,
    penalty: float,
    fixed: list[float | None],
    lower: list[float],
    upper: list[float],
    estimate: list[float],
    method: str,
    n: int,
    seed: int,
    labels: list[int] | None,
    sigma: float,
    ftol: float,
    xtol: float,
    gtol: float,
    max_iter: int,
    jackknife: bool = False,
    progress: Callable[[int], Any] | None = None,
) -> dict[str, Any]: ...
def intervals(
    samples: npt.NDArray[np.float64],
    estimate: list[float],
    level: float,
    method: str,
    jackknife: npt.NDArray[np.float64] | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def derived(
    params: npt.NDArray[np.float64], idx: list[int], budgets: list[float], k: float
) -> tuple[list[str], npt.NDArray[np.float64]]: ...
def numeric_optimal(
    law: Any, vars: list[str], params: npt.NDArray[np.float64], budgets: list[float], k: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def inference_optimal(
    law: Any, vars: list[str], params: list[float], target: float, tokens_inf: float, k: float
) -> tuple[float, float, float, float] | None: ...
def elasticities(
    law: Any,
    vars: list[str],
    params: list[float],
    points: npt.NDArray[np.float64],
    constant: int | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def evaluate_many(
    law: Any,
    vars: list[str],
    x: list[npt.NDArray[np.float64]],
    params: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]: ...
