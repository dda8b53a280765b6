"""Type stub of the native module (rust/powerfit-py). Kept honest by mypy.stubtest."""

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

__version__: str

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
    law: Any,
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
    law: Any,
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

from typing import final

@final
class Law:
    def __new__(
        cls,
        expr: str,
        variables: list[str],
        params: list[str] | None = None,
        positive: list[str] | None = None,
        p0: list[float] | None = None,
        linear: list[str] | None = None,
        name: str | None = None,
    ) -> Law: ...
    @property
    def expr(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def variables(self) -> list[str]: ...
    @property
    def params(self) -> list[str]: ...
    @property
    def positive(self) -> list[bool]: ...
    @property
    def linear(self) -> list[bool]: ...
    @property
    def p0(self) -> list[float] | None: ...
    @property
    def positive_variables(self) -> bool: ...
    @property
    def structure(self) -> str: ...
    def eval_jac(
        self, x: list[npt.NDArray[np.float64]], params: list[float]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...

# bulk fits (issue 5): rust/powerfit-py/src/groups.rs
TERMINATION_MESSAGES: list[str]
GROUP_INVALID_DATA: int

def fit_groups(
    law: Any,
    vars: list[str],
    x_names: list[str],
    x: list[npt.NDArray[np.float64]],
    y: npt.NDArray[np.float64],
    y_name: str,
    weights: npt.NDArray[np.float64] | None,
    groups: npt.NDArray[np.int64],
    n_groups: int,
    rows: npt.NDArray[np.int64] | None,
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
    n_boot: int = 0,
    boot_method: str = "case",
    seed: int = 0,
    level: float = 0.95,
    ids: npt.NDArray[np.uint64] | None = None,
    progress: Callable[[int], Any] | None = None,
) -> dict[str, Any]: ...
def group_seed(seed: int, id: int) -> int: ...

# --- frontier (issue 8): IsoFLOP profiles and training-curve envelopes ---------------------
BUDGET_STATUS_NAMES: list[str]
FRONTIER_SAMPLE_COLUMNS: list[str]

def isoflop(
    compute: npt.NDArray[np.float64],
    size: npt.NDArray[np.float64],
    loss: npt.NDArray[np.float64],
    tokens: npt.NDArray[np.float64] | None,
    offsets: npt.NDArray[np.int64],
    ids: npt.NDArray[np.uint64] | None,
    budget_rtol: float,
    half_window: int,
    n_boot: int,
    seed: int,
    level: float,
    budgets: list[float],
    flops_per_token: float,
    progress: Callable[[int], Any] | None = None,
    resample: str = "runs",
) -> list[dict[str, Any]]: ...
def envelope(
    run: npt.NDArray[np.uint64],
    compute: npt.NDArray[np.float64],
    size: npt.NDArray[np.float64],
    loss: npt.NDArray[np.float64],
    tokens: npt.NDArray[np.float64] | None,
    offsets: npt.NDArray[np.int64],
    ids: npt.NDArray[np.uint64] | None,
    grid: list[float],
    n_grid: int,
    estimator: str,
    half_window: int,
    n_boot: int,
    seed: int,
    level: float,
    budgets: list[float],
    flops_per_token: float,
    progress: Callable[[int], Any] | None = None,
    resample: str = "runs",
) -> list[dict[str, Any]]: ...
def slice_runs(
    run: npt.NDArray[np.uint64],
    compute: npt.NDArray[np.float64],
    size: npt.NDArray[np.float64],
    loss: npt.NDArray[np.float64],
    tokens: npt.NDArray[np.float64] | None,
    budgets: list[float],
) -> dict[str, npt.NDArray[Any]]: ...

# --- test-time scaling (rust/powerfit-py/src/passk.rs) --------------------------------------
PASSK_PARAM_COLUMNS: list[str]
BETA_STATUS_NAMES: list[str]

def pass_at_k(
    n: npt.NDArray[np.int64], c: npt.NDArray[np.int64], ks: list[int], offsets: list[int]
) -> dict[str, npt.NDArray[Any]]: ...
def pass_at_k_problems(
    n: npt.NDArray[np.int64], c: npt.NDArray[np.int64], ks: list[int]
) -> npt.NDArray[np.float64]: ...
def coverage_fit(
    n: npt.NDArray[np.int64],
    c: npt.NDArray[np.int64],
    offsets: list[int],
    fit_ks: list[int],
    predict_ks: list[float],
    n_boot: int,
    seed: int,
    progress: Callable[[int], Any] | None = None,
) -> list[dict[str, Any]]: ...
def beta_pass_at_k(
    alpha: npt.NDArray[np.float64], beta: npt.NDArray[np.float64], ks: list[float]
) -> npt.NDArray[np.float64]: ...
def beta_k_for(
    alpha: npt.NDArray[np.float64], beta: npt.NDArray[np.float64], targets: list[float]
) -> npt.NDArray[np.float64]: ...
def simulate_passk(
    problems: int, samples: int, alpha: float, beta: float, seed: int
) -> dict[str, npt.NDArray[Any]]: ...
