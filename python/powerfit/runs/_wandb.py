"""Runs from CSV exports of Weights & Biases.

Three layouts are recognised from their columns:

- the runs table ("Export as CSV" of a project's runs): one row per run, the run in ``Name``,
  W&B's own columns (``State``, ``Notes``, ``User``, ``Tags``, ``Created``, ``Runtime``,
  ``Sweep``, ...) and then the run's config and summary values, which become both parameters
  and per-run metrics (step ``_step`` when exported, else none);
- a chart's export ("Download CSV" of a line plot): a ``Step`` column and one column
  ``<run> - <metric>`` per run (``__MIN`` and ``__MAX`` companions of smoothed or sampled
  charts are ignored);
- a history export (``run.history()`` or ``scan_history`` written to CSV, several runs
  stacked): a ``_step`` column, a run column (``run``, ``name``, ``run_name``, ``Name``, ``id``
  or ``run_id``) and one column per metric.

Several files may be given at once (e.g. one chart per metric, plus the runs table for the
config); their metrics are merged by run and step and their parameters by run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidDataError
from ._tidy import Logged

#: Columns W&B adds to a runs-table export that are not config or metrics.
META = (
    "Name",
    "State",
    "Notes",
    "User",
    "Tags",
    "Created",
    "Runtime",
    "Sweep",
    "ID",
    "Group",
    "Job Type",
    "Hostname",
    "GPU Type",
    "GPU Count",
    "Commit",
    "Updated",
    "End Time",
    "Heartbeat",
    "_runtime",
    "_timestamp",
    "_wandb",
)
#: Run columns of history exports, in order of preference.
RUN_COLUMNS = ("run", "name", "run_name", "Name", "id", "run_id")
_SEPARATOR = " - "
_COMPANIONS = ("__MIN", "__MAX")


def _frame(src: Any) -> tuple[pd.DataFrame, str]:
    from ..readers import read_table

    if isinstance(src, pd.DataFrame):
        return src, "a W&B export (DataFrame)"
    t = read_table(src)
    return t.to_pandas(), t.source


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run": pd.Series(dtype=object),
            "step": pd.Series(dtype=float),
            "key": pd.Series(dtype=object),
            "value": pd.Series(dtype=float),
        }
    )


def _long(frame: pd.DataFrame, run: pd.Series, step: pd.Series, cols: list[str]) -> pd.DataFrame:
    """Numeric columns ``cols`` of a wide table as long rows (run, step, key, value)."""
    numeric = [
        c
        for c in cols
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]
    if not numeric:
        return _empty()
    wide = (
        frame[numeric]
        .astype(float)
        .assign(run=run.astype(str).to_numpy(), step=step.to_numpy(dtype=float))
    )
    m = wide.melt(id_vars=["run", "step"], var_name="key", value_name="value")
    return m[m["value"].notna()]


def _runs_table(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    cols = [c for c in frame.columns if c not in META and c != "_step"]
    step = frame["_step"] if "_step" in frame else pd.Series(np.nan, index=frame.index)
    metrics = _long(frame, frame["Name"], step, cols)
    params = frame[cols].assign(run=frame["Name"].astype(str).to_numpy())
    return metrics, params


def _chart(frame: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in frame.columns if _SEPARATOR in c and not c.endswith(_COMPANIONS)]
    numeric = frame[cols].astype(float).assign(step=frame["Step"].astype(float).to_numpy())
    m = numeric.melt(id_vars=["step"], var_name="column", value_name="value")
    m = m[m["value"].notna()]
    split = m["column"].str.rsplit(_SEPARATOR, n=1, expand=True)
    return pd.DataFrame(
        {
            "run": split[0].to_numpy(),
            "step": m["step"].to_numpy(),
            "key": split[1].to_numpy(),
            "value": m["value"].to_numpy(),
        }
    )


def _history(frame: pd.DataFrame, run_col: str) -> pd.DataFrame:
    cols = [c for c in frame.columns if c not in (run_col, "_step", *META)]
    return _long(frame, frame[run_col], frame["_step"], cols)


def _one(src: Any) -> tuple[pd.DataFrame, pd.DataFrame | None, str]:
    frame, name = _frame(src)
    cols = list(frame.columns)
    if "Step" in cols and any(_SEPARATOR in c for c in cols):
        return _chart(frame), None, name
    run_col = next((c for c in RUN_COLUMNS if c in cols), None)
    if "_step" in cols and run_col is not None and run_col != "Name":
        return _history(frame, run_col), None, name
    if "Name" in cols:
        metrics, params = _runs_table(frame)
        return metrics, params, name
    raise InvalidDataError(
        f"{name} is not a W&B export: expected a runs table (a 'Name' column), a chart "
        f"('Step' and '<run> - <metric>' columns) or a history ('_step' and a run column); "
        f"columns are {cols[:12]}"
    )


def read_wandb(sources: Any, config: Any = None) -> Logged:
    """The runs of one or several W&B CSV exports; ``config`` (a runs-table export) adds each
    run's config as parameters."""
    items: Sequence[Any] = sources if isinstance(sources, (list, tuple)) else [sources]
    if not items:
        raise InvalidDataError("no W&B exports: give at least one CSV file or DataFrame")
    metrics, params, names = [], [], []
    for src in items:
        m, p, name = _one(src)
        metrics.append(m)
        names.append(name)
        if p is not None:
            params.append(p)
    if config is not None:  # its config only: its summary values would repeat the metrics
        _, p, name = _one(config)
        if p is None:
            raise InvalidDataError(f"config= must be a W&B runs-table export; {name} is not")
        params.append(p)
    runs = pd.concat(metrics, ignore_index=True)["run"].unique()
    table = (
        pd.concat(params, ignore_index=True).drop_duplicates("run", keep="last")
        if params
        else pd.DataFrame({"run": runs})
    )
    return Logged(
        metrics=pd.concat(metrics, ignore_index=True),
        params=table,
        source="W&B export " + ", ".join(names),
    )
