"""Type stub of the native module (rust/powerfit-py), written by hand and kept honest by
mypy.stubtest; the ``Literal`` vocabularies are checked against the core's lists by the tests."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol, SupportsFloat, SupportsIndex, TypeAlias, final

import numpy as np
import numpy.typing as npt

__version__: str

_F64: TypeAlias = npt.NDArray[np.float64]
_LawName: TypeAlias = Literal[
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
_LossName: TypeAlias = Literal["l2", "log", "huber", "huber_log", "asymmetric", "asymmetric_log"]
_StartsName: TypeAlias = Literal["auto", "grid", "given"]
_BootstrapMethod: TypeAlias = Literal["case", "cluster", "residual", "parametric"]
_GroupBootstrapMethod: TypeAlias = Literal["case", "residual"]
_IntervalMethod: TypeAlias = Literal["percentile", "basic", "bca"]
_Start: TypeAlias = Mapping[str, SupportsFloat] | Sequence[SupportsFloat]
_Number: TypeAlias = SupportsFloat | SupportsIndex
_ProgressCallback: TypeAlias = Callable[[int], object]

class PowerfitError(ValueError): ...
class InvalidDataError(PowerfitError): ...
class InvalidLawError(PowerfitError): ...
class InvalidOptionError(PowerfitError): ...

LAWS: list[str]
LOSSES: list[str]
STARTS: list[str]
BOOTSTRAP_METHODS: list[str]
GROUP_BOOTSTRAP_METHODS: list[str]
INTERVAL_METHODS: list[str]
ISOFLOP_RESAMPLING: list[str]
ENVELOPE_ESTIMATORS: list[str]
#: (code, name, message) of every status a fit or a group can end with.
STATUS: list[tuple[int, str, str]]
DEFAULTS: dict[str, Any]
BUDGET_STATUS_NAMES: list[str]
FRONTIER_SAMPLE_COLUMNS: list[str]

@final
class Law:
    def __new__(
        cls,
        expr: str,
        variables: Sequence[str],
        params: Sequence[str] | None = None,
        positive: Sequence[str] | None = None,
        p0: Sequence[float] | None = None,
        linear: Sequence[str] | None = None,
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
    def structure(self) -> Literal["power_sum", "general"]: ...
    def eval_jac(self, x: Sequence[_F64], params: Sequence[float]) -> tuple[_F64, _F64]: ...

@final
class Model:
    def __new__(
        cls,
        law: str | Law,
        available: Sequence[str] = ...,
        x: str | None = None,
        *,
        loss: _LossName | str | None = None,
        delta: _Number | None = None,
        overestimate_penalty: _Number | None = None,
        fixed: Mapping[str, _Number] | None = None,
        bounds: Mapping[str, tuple[_Number | None, _Number | None]] | None = None,
    ) -> Model: ...
    @property
    def law_name(self) -> str: ...
    @property
    def written_law(self) -> Law | None: ...
    @property
    def variables(self) -> list[str]: ...
    @property
    def param_names(self) -> list[str]: ...
    @property
    def positive(self) -> list[bool]: ...
    @property
    def positive_variables(self) -> bool: ...
    @property
    def fixed(self) -> list[float | None]: ...
    @property
    def lower(self) -> list[float]: ...
    @property
    def upper(self) -> list[float]: ...
    @property
    def loss(self) -> str: ...
    @property
    def delta(self) -> float: ...
    @property
    def overestimate_penalty(self) -> float: ...
    @property
    def log_scale(self) -> bool: ...
    def predict(
        self,
        params: Sequence[float] | _F64,
        columns: Sequence[_F64],
        labels: Sequence[str] | None = None,
    ) -> _F64: ...
    def predict_many(self, params: _F64, columns: Sequence[_F64]) -> _F64: ...
    def predict_segments(
        self, params: _F64, offsets: Sequence[int], columns: Sequence[_F64]
    ) -> _F64: ...
    def numeric_optimal(
        self, params: _F64, budgets: Sequence[float] | _F64 | float, k: _Number
    ) -> tuple[_F64, _F64, _F64]: ...
    def inference_optimal(
        self, params: Sequence[float] | _F64, target: _Number, tokens: _Number, k: _Number
    ) -> tuple[float, float, float, float]: ...
    def elasticities(
        self, params: Sequence[float] | _F64, points: _F64, constant: int | None = None
    ) -> tuple[_F64, _F64]: ...

@final
class FitOptions:
    def __new__(
        cls,
        starts: _StartsName | str | None = None,
        p0: _Start | None = None,
        ftol: _Number | None = None,
        xtol: _Number | None = None,
        gtol: _Number | None = None,
        max_iter: _Number | None = None,
    ) -> FitOptions: ...
    @property
    def starts(self) -> _StartsName: ...
    @property
    def p0(self) -> dict[str, float] | list[float] | None: ...
    @property
    def ftol(self) -> float: ...
    @property
    def xtol(self) -> float: ...
    @property
    def gtol(self) -> float: ...
    @property
    def max_iter(self) -> int: ...

@final
class Fit:
    @property
    def params(self) -> _F64: ...
    @property
    def stderr(self) -> _F64: ...
    @property
    def covariance(self) -> _F64 | None: ...
    @property
    def cov_note(self) -> str: ...
    @property
    def cost(self) -> float: ...
    @property
    def n_iter(self) -> int: ...
    @property
    def nfev(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def success(self) -> bool: ...
    @property
    def n_points(self) -> int: ...
    @property
    def n_free(self) -> int: ...
    @property
    def n_starts(self) -> int: ...
    @property
    def n_best(self) -> int: ...
    @property
    def nfev_total(self) -> int: ...
    @property
    def at_limit(self) -> list[int]: ...
    @property
    def condition(self) -> float: ...
    @property
    def weak_direction(self) -> list[float]: ...
    @property
    def aic(self) -> float | None: ...
    @property
    def bic(self) -> float | None: ...
    @property
    def var_stats(self) -> list[tuple[float, float, int]]: ...
    @property
    def options(self) -> FitOptions: ...
    def to_dict(self) -> dict[str, Any]: ...
    @staticmethod
    def restore(model: Model, options: FitOptions, d: dict[str, Any]) -> Fit: ...

@final
class Replicates:
    @property
    def samples(self) -> _F64: ...
    @property
    def success(self) -> npt.NDArray[np.bool_]: ...
    @property
    def status(self) -> list[str]: ...
    @property
    def cost(self) -> _F64: ...
    @property
    def n_iter(self) -> npt.NDArray[np.uint32]: ...
    def __len__(self) -> int: ...
    @staticmethod
    def restore(
        model: Model, samples: _F64, status: list[str], cost: list[float], n_iter: list[int]
    ) -> Replicates: ...

@final
class Problem:
    def __new__(
        cls,
        model: Model,
        columns: Sequence[_F64],
        y: _F64,
        *,
        labels: Sequence[str] | None = None,
        y_name: str | None = None,
        weights: _F64 | None = None,
    ) -> Problem: ...
    @property
    def model(self) -> Model: ...
    @property
    def labels(self) -> list[str]: ...
    @property
    def y_name(self) -> str: ...
    @property
    def n_rows(self) -> int: ...
    @property
    def columns(self) -> list[_F64]: ...
    @property
    def y(self) -> _F64: ...
    @property
    def weights(self) -> _F64 | None: ...
    def fit(self, options: FitOptions | None = None, *, p0: _Start | None = None) -> Fit: ...
    def bootstrap(
        self,
        fit: Fit,
        *,
        n_boot: _Number | None = None,
        resample: _BootstrapMethod | str | None = None,
        seed: _Number | None = None,
        labels: Sequence[int] | None = None,
        sigma: _Number | None = None,
        progress: _ProgressCallback | None = None,
    ) -> Replicates: ...
    def jackknife(self, fit: Fit, *, labels: Sequence[int] | None = None) -> Replicates: ...
    def residuals(self, params: Sequence[float] | _F64) -> _F64: ...

@final
class GroupFits:
    @property
    def n_groups(self) -> int: ...
    @property
    def params(self) -> _F64: ...
    @property
    def stderr(self) -> _F64: ...
    @property
    def lower(self) -> _F64 | None: ...
    @property
    def upper(self) -> _F64 | None: ...
    @property
    def cost(self) -> _F64: ...
    @property
    def status(self) -> npt.NDArray[np.uint8]: ...
    @property
    def success(self) -> npt.NDArray[np.bool_]: ...
    @property
    def n_iter(self) -> npt.NDArray[np.int64]: ...
    @property
    def n_points(self) -> npt.NDArray[np.int64]: ...
    @property
    def condition(self) -> _F64: ...
    @property
    def message_index(self) -> npt.NDArray[np.int64]: ...
    @property
    def message_text(self) -> list[str]: ...
    @property
    def n_boot_ok(self) -> npt.NDArray[np.int64] | None: ...
    @property
    def boot_seed(self) -> npt.NDArray[np.uint64] | None: ...

def law_variables(law: str, available: Sequence[str], x: str | None = None) -> list[str]: ...
def intervals(
    samples: _F64,
    estimate: Sequence[float] | _F64,
    level: _Number,
    interval: _IntervalMethod | str,
    jackknife: _F64 | None = None,
) -> tuple[_F64, _F64]: ...
def derived(
    params: _F64,
    idx: tuple[int, int, int, int, int] | Sequence[int],
    budgets: Sequence[float] | _F64 | float,
    k: _Number,
) -> tuple[list[str], _F64]: ...
def fit_groups(
    model: Model,
    columns: Sequence[_F64],
    y: _F64,
    codes: npt.NDArray[np.int64],
    n_groups: int,
    *,
    options: FitOptions,
    labels: Sequence[str] | None = None,
    y_name: str | None = None,
    weights: _F64 | None = None,
    rows: npt.NDArray[np.int64] | None = None,
    n_boot: _Number | None = None,
    resample: _GroupBootstrapMethod | str | None = None,
    seed: _Number | None = None,
    level: _Number | None = None,
    ids: npt.NDArray[np.uint64] | None = None,
    progress: _ProgressCallback | None = None,
) -> GroupFits: ...
def group_seed(seed: int, id: int) -> int: ...

@final
class FrontierTable:
    @property
    def groups(self) -> dict[str, npt.NDArray[Any]]: ...
    @property
    def optima(self) -> dict[str, npt.NDArray[Any]]: ...
    @property
    def predictions(self) -> dict[str, npt.NDArray[Any]]: ...
    @property
    def samples(self) -> dict[str, npt.NDArray[Any]]: ...

class _FrontierOptions(Protocol):
    @property
    def window(self) -> object: ...
    @property
    def n_boot(self) -> object: ...
    @property
    def seed(self) -> object: ...
    @property
    def level(self) -> object: ...
    @property
    def budgets(self) -> object: ...
    @property
    def flops_per_token(self) -> object: ...
    @property
    def resample(self) -> object: ...

def isoflop(
    compute: _F64,
    size: _F64,
    loss: _F64,
    tokens: _F64 | None,
    offsets: npt.NDArray[np.int64],
    *,
    options: _FrontierOptions,
    budget_rtol: _Number,
    ids: npt.NDArray[np.uint64] | None = None,
    progress: _ProgressCallback | None = None,
) -> FrontierTable: ...
def envelope(
    run: npt.NDArray[np.uint64],
    compute: _F64,
    size: _F64,
    loss: _F64,
    tokens: _F64 | None,
    offsets: npt.NDArray[np.int64],
    *,
    options: _FrontierOptions,
    grid: Sequence[float],
    n_grid: _Number,
    estimator: str,
    ids: npt.NDArray[np.uint64] | None = None,
    progress: _ProgressCallback | None = None,
) -> FrontierTable: ...
def slice_runs(
    run: npt.NDArray[np.uint64],
    compute: _F64,
    size: _F64,
    loss: _F64,
    tokens: _F64 | None,
    budgets: Sequence[float] | _F64,
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
