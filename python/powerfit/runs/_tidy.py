"""From what a tracker logged to the tidy table: one row per (run, step) with N, D, C, the
losses and the hyper-parameters.

Every tracker reader produces :class:`Logged`: metrics in long form (run, step, key, value)
and per-run parameters. :func:`tidy` resolves which metric or parameter holds the model size,
the tokens, the compute and the losses, and assembles the table with vectorised pandas
operations (no loop over runs or points).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import _check
from ..errors import InvalidDataError, InvalidOptionError

#: Names looked for, in order, when a quantity is not mapped explicitly.
CANDIDATES: dict[str, tuple[str, ...]] = {
    "N": (
        "N",
        "n_params",
        "num_params",
        "n_parameters",
        "num_parameters",
        "params",
        "parameters",
        "model_size",
        "model/n_params",
        "model.n_params",
        "model/num_params",
        "model.num_params",
    ),
    "D": (
        "D",
        "tokens",
        "tokens_seen",
        "num_tokens",
        "n_tokens",
        "train/tokens",
        "train_tokens",
        "tokens_processed",
        "consumed_tokens",
    ),
    "C": ("C", "flops", "compute", "train/flops", "total_flops"),
    "train_loss": (
        "train_loss",
        "train/loss",
        "loss/train",
        "training_loss",
        "train/lm_loss",
        "train/epoch_loss",
        "loss",
    ),
    "val_loss": (
        "val_loss",
        "val/loss",
        "loss/val",
        "validation_loss",
        "validation/loss",
        "valid/loss",
        "eval/loss",
        "eval_loss",
        "loss/validation",
        "validation/epoch_loss",
    ),
}
#: Columns of the tidy table that hyper-parameter names must not shadow.
RESERVED = ("run", "step", "N", "D", "C", "train_loss", "val_loss", "loss")


@dataclass
class Logged:
    """What one tracker holds.

    Attributes:
        metrics: long table with columns run (str), step (float; NaN for a per-run summary),
            key (str) and value (float).
        params: one row per run: ``run`` and the run's parameters, config or hyper-parameters
            (strings or numbers).
        ids: extra per-run identifier columns (``run_id``, ``experiment``) to carry over.
        source: how the input is named in messages.
    """

    metrics: pd.DataFrame
    params: pd.DataFrame
    source: str
    ids: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"run": []}))


@dataclass
class Mapping:
    """Where each quantity comes from: ("metric", key), ("param", name), ("const", value),
    ("product", names) for tokens per step, or None."""

    how: dict[str, tuple[str, Any] | None]

    def describe(self) -> dict[str, str]:
        out = {}
        for k, v in self.how.items():
            if v is not None:
                kind, what = v
                out[k] = f"{kind} {what}" if kind != "const" else f"{what!r}"
        return out


def _resolve(
    name: str, given: Any, logged: Logged, metric_keys: list[str], param_cols: list[str]
) -> tuple[str, Any] | None:
    """Where ``name`` comes from: an explicit metric, parameter or number, else the first
    candidate name present (metrics before parameters), else None."""
    if isinstance(given, (int, float)) and not isinstance(given, bool):
        return ("const", float(given))
    if given is not None and not isinstance(given, str):
        raise InvalidOptionError(f"{name}= must be a metric or parameter name or a number")
    names = [given] if given is not None else list(CANDIDATES.get(name, ()))
    for n in names:
        if n in metric_keys:
            return ("metric", n)
        if n in param_cols:
            return ("param", n)
    if given is not None:
        raise InvalidDataError(
            f"{name}='{given}' is neither a metric nor a parameter of the runs in "
            f"{logged.source}; metrics are {sorted(metric_keys)}, parameters are "
            f"{sorted(param_cols)}"
        )
    return None


def _numeric_params(params: pd.DataFrame) -> pd.DataFrame:
    """Parameters as numbers where every value of the column parses as one (trackers often
    store parameters as text)."""
    out = params.copy()
    for c in out.columns:
        if (
            c == "run"
            or pd.api.types.is_numeric_dtype(out[c])
            or pd.api.types.is_bool_dtype(out[c])
        ):
            continue
        parsed = pd.to_numeric(out[c], errors="coerce")
        if parsed.notna().sum() == out[c].notna().sum() and out[c].notna().any():
            out[c] = parsed
    return out


def _fill_by_step(frame: pd.DataFrame, col: str) -> pd.Series:
    """``col`` at every step of a run, linearly interpolated in step between the steps where it
    was logged (never extrapolated), vectorised over all runs at once."""
    known = frame[col].notna()
    step = frame["step"]
    grouped = frame.assign(_v=frame[col], _s=step.where(known)).groupby("run", sort=False)
    prev_v, prev_s = grouped["_v"].ffill(), grouped["_s"].ffill()
    next_v, next_s = grouped["_v"].bfill(), grouped["_s"].bfill()
    span = (next_s - prev_s).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(span > 0, (step - prev_s).to_numpy() / span, 0.0)
    filled = prev_v + (next_v - prev_v) * t
    return frame[col].where(known, filled)


def _per_run(params: pd.DataFrame, runs: pd.Series, spec: tuple[str, Any], what: str) -> Any:
    """A per-run value (a parameter, a product of parameters or a number) for every row."""
    kind, name = spec
    if kind == "const":
        return np.full(len(runs), float(name))
    cols = list(name) if kind == "product" else [name]
    value = np.ones(len(runs))
    lookup = params.set_index("run")
    for c in cols:
        col = lookup[c]
        if not pd.api.types.is_numeric_dtype(col):
            raise InvalidDataError(f"{what}: parameter '{c}' is not numeric (e.g. {col.iloc[0]!r})")
        value = value * runs.map(col).to_numpy(dtype=float)
    return value


def tidy(
    logged: Logged,
    *,
    N: Any,
    D: Any,
    C: Any,
    tokens_per_step: Any,
    train_loss: Any,
    val_loss: Any,
    loss: str,
    hparams: bool | Sequence[str],
    final: bool,
    flops_per_token: float | None,
) -> pd.DataFrame:
    """The tidy table of ``logged``; see :func:`powerfit.read_runs` for the arguments."""
    params = _numeric_params(logged.params)
    args = {"N": N, "D": D, "C": C, "train_loss": train_loss, "val_loss": val_loss}
    how = _mapping(logged, params, args, tokens_per_step)
    wide = _wide(logged.metrics, [v[1] for v in how.values() if v and v[0] == "metric"])
    out = _quantities(wide, params, how, tokens_per_step is not None, flops_per_token)
    out["loss"] = _loss_column(out, loss)
    out = out[out["loss"].notna()]
    if final:
        out = out.sort_values(["run", "step"], kind="stable").groupby("run", sort=False).tail(1)
    out = _with_hparams(out, params, hparams, how)
    out = out.merge(logged.ids, on="run", how="left") if len(logged.ids.columns) > 1 else out
    out = out.sort_values(["run", "step"], kind="stable").reset_index(drop=True)
    out["step"] = _steps(out["step"])
    out.attrs["columns"] = Mapping(how).describe()
    return out


def _mapping(
    logged: Logged, params: pd.DataFrame, args: dict[str, Any], tokens_per_step: Any
) -> dict[str, tuple[str, Any] | None]:
    """Where N, D, C and the two losses come from (see :class:`Mapping`)."""
    metric_keys = sorted(logged.metrics["key"].unique().tolist())
    param_cols = [c for c in params.columns if c != "run"]
    how = {k: _resolve(k, v, logged, metric_keys, param_cols) for k, v in args.items()}
    for k in ("train_loss", "val_loss"):
        spec = how[k]
        if spec is not None and spec[0] != "metric":
            how[k] = None if args[k] is None else _not_a_metric(k, args[k])
    if tokens_per_step is not None:
        if args["D"] is not None:
            raise InvalidOptionError("give D= or tokens_per_step=, not both")
        how["D"] = _tokens_per_step(tokens_per_step, param_cols)
    if how["train_loss"] is None and how["val_loss"] is None:
        raise InvalidDataError(
            f"no loss found in {logged.source}: name the metrics with train_loss= or "
            f"val_loss=; metrics are {metric_keys}"
        )
    return how


def _quantities(
    wide: pd.DataFrame,
    params: pd.DataFrame,
    how: dict[str, tuple[str, Any] | None],
    per_step_tokens: bool,
    flops_per_token: float | None,
) -> pd.DataFrame:
    """run, step, then N, D, C and the losses found, one row per row of ``wide``; C is
    ``flops_per_token * N * D`` when not logged (``how`` records it)."""
    out = pd.DataFrame({"run": wide["run"], "step": wide["step"]})
    for name in ("N", "D", "C"):
        spec = how[name]
        if spec is None:
            continue
        if spec[0] == "metric":
            out[name] = _fill_by_step(wide, spec[1]).to_numpy(dtype=float)
        elif name == "D" and per_step_tokens:
            out[name] = out["step"].to_numpy(dtype=float) * _per_run(params, out["run"], spec, name)
        else:
            out[name] = _per_run(params, out["run"], spec, name)
    if "C" not in out and flops_per_token is not None and "N" in out and "D" in out:
        out["C"] = float(flops_per_token) * out["N"] * out["D"]
        how["C"] = ("computed", f"{flops_per_token:g}*N*D")
    for name in ("train_loss", "val_loss"):
        spec = how[name]
        if spec is not None:
            out[name] = wide[spec[1]].to_numpy(dtype=float)
    return out


def _not_a_metric(name: str, given: Any) -> tuple[str, Any]:
    raise InvalidDataError(f"{name}='{given}' is a parameter, not a logged metric")


def _tokens_per_step(spec: Any, param_cols: list[str]) -> tuple[str, Any]:
    if _check.is_real(spec):
        return ("const", _check.real(spec, "tokens_per_step", positive=True))
    names = _check.names(spec, "tokens_per_step")
    if not names:
        raise InvalidOptionError("tokens_per_step must be a number or parameter names, got none")
    missing = [n for n in names if n not in param_cols]
    if missing:
        raise InvalidDataError(
            f"tokens_per_step: no parameter {missing}; parameters are {sorted(param_cols)}"
        )
    return ("product", names)


def _wide(metrics: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One row per (run, step), one column per metric key (the last value logged at a step)."""
    m = metrics[metrics["key"].isin(keys)]
    m = m.assign(step=m["step"].fillna(-1.0))  # a per-run summary has no step
    wide = m.pivot_table(
        index=["run", "step"], columns="key", values="value", aggfunc="last", sort=True
    )
    wide = wide.reset_index()
    wide["step"] = wide["step"].where(wide["step"] >= 0)
    for k in keys:
        if k not in wide:
            wide[k] = np.nan
    return wide


def _loss_column(out: pd.DataFrame, loss: str) -> pd.Series:
    if loss not in ("auto", "val", "train"):
        raise InvalidOptionError(f"loss_from must be 'auto', 'val' or 'train', not {loss!r}")
    has_val = "val_loss" in out and out["val_loss"].notna().any()
    if loss == "val" or (loss == "auto" and has_val):
        if not has_val:
            raise InvalidDataError("loss_from='val' but no validation loss was logged")
        return out["val_loss"]
    if "train_loss" not in out:
        raise InvalidDataError("loss_from='train' but no training loss was logged")
    return out["train_loss"]


def _with_hparams(
    out: pd.DataFrame,
    params: pd.DataFrame,
    hparams: bool | Sequence[str],
    how: dict[str, tuple[str, Any] | None],
) -> pd.DataFrame:
    if hparams is False:
        return out
    used: set[str] = set()
    for v in how.values():
        if v and v[0] in ("param", "metric"):
            used.add(v[1])
        elif v and v[0] == "product":
            used.update(v[1])
    cols = [c for c in params.columns if c != "run" and c not in used]
    if hparams is not True:
        wanted = list(hparams)
        missing = [c for c in wanted if c not in params.columns]
        if missing:
            raise InvalidDataError(
                f"hparams: no parameter {missing}; parameters are "
                f"{sorted(c for c in params.columns if c != 'run')}"
            )
        cols = wanted
    table = params[["run", *cols]].rename(columns={c: f"params.{c}" for c in cols if c in RESERVED})
    return out.merge(table, on="run", how="left")


def _steps(step: pd.Series) -> pd.Series:
    """Steps as integers when every row has one."""
    if step.notna().all() and (step == np.floor(step)).all():
        return step.astype(np.int64)
    return step
