"""Runs read from where they live: MLflow, TensorBoard, Weights & Biases exports.

>>> runs = pf.read_runs("mlruns.db", N="n_params", tokens_per_step=("batch_size", "seq_len"))
>>> res = pf.fit(runs[runs["step"] == runs.groupby("run")["step"].transform("max")])
... # doctest: +SKIP

:func:`read_runs` gives the tidy table every entry point takes: one row per run and step with
``run``, ``step``, ``N``, ``D``, ``C``, ``train_loss``, ``val_loss``, ``loss`` and the runs'
hyper-parameters.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .. import _check
from .._deprecate import renamed
from ..errors import InvalidDataError, InvalidOptionError
from ._mlflow import is_store, read_mlflow
from ._tensorboard import has_events, read_tensorboard
from ._tidy import CANDIDATES, Logged, tidy
from ._wandb import read_wandb

__all__ = ["CANDIDATES", "TRACKERS", "read_runs"]

Tracker = Literal["mlflow", "tensorboard", "wandb"]
#: The trackers :func:`read_runs` reads.
TRACKERS = ("mlflow", "tensorboard", "wandb")


def _detect(source: Any) -> str:
    """Which tracker wrote ``source``."""
    if isinstance(source, (list, tuple, pd.DataFrame)):
        return "wandb"
    if type(source).__name__ == "MlflowClient":
        return "mlflow"
    if not isinstance(source, (str, os.PathLike)):
        raise InvalidDataError(
            f"read_runs takes a path, a tracking URI, an MlflowClient, or W&B exports (paths "
            f"or DataFrames), not {type(source).__name__}"
        )
    text = os.fspath(source)
    if "://" in text or text.startswith("file:"):
        return "mlflow"
    p = Path(text)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file or folder")
    if is_store(p):
        return "mlflow"
    if has_events(p):
        return "tensorboard"
    if p.is_file():
        return "wandb"
    raise InvalidDataError(
        f"{p} is neither an MLflow store (mlruns folder or SQLite file), a TensorBoard log "
        f"folder (event files) nor a W&B CSV export; say which with tracker="
    )


def _explicit(*names: Any) -> set[str]:
    out: set[str] = set()
    for n in names:
        if isinstance(n, str):
            out.add(n)
    return out


@renamed({"loss": "loss_from", "flops_per_token": "flops_per_param_token"})
def read_runs(
    source: Any,
    *,
    tracker: Tracker | None = None,
    N: str | float | None = None,
    D: str | float | None = None,
    C: str | None = None,
    tokens_per_step: str | float | Sequence[str] | None = None,
    train_loss: str | None = None,
    val_loss: str | None = None,
    loss_from: Literal["auto", "val", "train"] = "auto",
    hparams: bool | Sequence[str] = True,
    final: bool = False,
    flops_per_param_token: float | None = 6.0,
    experiment: str | Sequence[str] | None = None,
    filter: str | None = None,
    config: Any = None,
) -> pd.DataFrame:
    """Read training runs logged to an experiment tracker as one tidy table.

    Args:
        source: an MLflow store (an ``mlruns`` folder, an SQLite file such as ``mlflow.db``, a
            tracking URI, or an ``MlflowClient``), a TensorBoard log folder, or W&B CSV exports
            (a path, a DataFrame, or a list of them; see :mod:`powerfit.runs._wandb` for the
            layouts recognised).
        tracker: ``"mlflow"``, ``"tensorboard"`` or ``"wandb"``; detected when omitted.
        N: the metric or parameter (config, hyper-parameter) holding the model size, or a
            number. Default: the first of :data:`CANDIDATES` ``["N"]`` present (``n_params``,
            ``num_params``, ...).
        D: the metric or parameter holding the tokens seen, or a number. Default: the first of
            ``CANDIDATES["D"]`` present (``tokens``, ``tokens_seen``, ...).
        C: the metric or parameter holding the training compute (FLOPs). Default: a candidate
            if present, else ``flops_per_param_token * N * D``.
        tokens_per_step: instead of ``D``: tokens per optimizer step, as a number, a parameter,
            or parameters to multiply (``("batch_size", "seq_len")``); D = step × that.
        train_loss, val_loss: the metrics holding the training and validation losses.
            Default: the first candidate present (``train/loss``, ``val_loss``, ...).
        loss_from: which logged loss fills the ``loss`` column the fitting functions read
            (formerly ``loss``, a word kept for the objective): ``"val"``, ``"train"``, or
            ``"auto"`` (validation when any was logged, else training).
        hparams: add every parameter as a column (True), none (False), or the ones named.
            Parameters logged as text become numbers when every value parses as one.
        final: one row per run, at the last step where the loss was logged, instead of one
            per step.
        flops_per_param_token: k in C = k·N·D when C is not logged (6 for a dense transformer's
            forward and backward pass); None leaves C out.
        experiment: MLflow: the experiment names or ids to read (default all).
        filter: MLflow: a search filter in MLflow's syntax, run by the store
            (e.g. ``"params.optimizer = 'adam'"``).
        config: W&B: a runs-table export whose config columns become parameters of the runs
            in chart or history exports.

    Returns:
        A pandas DataFrame sorted by run and step with columns ``run``, ``step``, ``N``, ``D``,
        ``C`` (those found), ``train_loss``, ``val_loss`` (those found), ``loss``, then the
        hyper-parameters (a parameter named like one of these columns becomes
        ``params.<name>``), then ``run_id`` (and ``experiment`` when several) for MLflow.
        There is a row for every step at which the ``loss`` column's metric was logged (the
        other loss where logged at the same step, else NaN). Metrics logged at other steps
        (e.g. tokens) are interpolated linearly in step between logged steps, never
        extrapolated. ``df.attrs["columns"]`` says where each column came from.

    Raises:
        FileNotFoundError: no such store, folder or file.
        InvalidDataError: no runs, no loss, a name given for N, D, C or a loss that is neither
            a metric nor a parameter (the message lists those there are), repeated MLflow run
            names.
        InvalidOptionError: an unknown ``tracker`` or ``loss_from``; both ``D`` and
            ``tokens_per_step``.
        ImportError: the tracker's optional dependency is missing (``powerfit[mlflow]``,
            ``powerfit[tensorboard]``).
    """
    tracker = _check.name(tracker, "tracker", optional=True)  # type: ignore[assignment]
    loss_from = _check.name(loss_from, "loss_from")  # type: ignore[assignment]
    final = _check.flag(final, "final")
    if isinstance(hparams, (bool, np.bool_)):
        hparams = bool(hparams)
    else:
        hparams = _check.names(hparams, "hparams")
    if flops_per_param_token is not None:
        flops_per_param_token = _check.real(
            flops_per_param_token, "flops_per_param_token", positive=True
        )
    kind = tracker or _detect(source)
    if kind not in TRACKERS:
        raise InvalidOptionError(f"unknown tracker {kind!r}; trackers are {', '.join(TRACKERS)}")
    if kind != "mlflow" and (experiment is not None or filter is not None):
        raise InvalidOptionError("experiment= and filter= apply to MLflow stores only")
    logged: Logged
    if kind == "mlflow":
        names = _explicit(N, D, C, train_loss, val_loss)
        logged = read_mlflow(source, experiment, filter, names)
    elif kind == "tensorboard":
        logged = read_tensorboard(source)
    else:
        logged = read_wandb(source, config)
    return tidy(
        logged,
        N=N,
        D=D,
        C=C,
        tokens_per_step=tokens_per_step,
        train_loss=train_loss,
        val_loss=val_loss,
        loss=loss_from,
        hparams=hparams,
        final=final,
        flops_per_token=flops_per_param_token,
    )
