"""Runs from an MLflow tracking store (a local ``mlruns`` folder, an SQLite database or any
tracking URI), read through the ``mlflow`` client."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidDataError
from ._tidy import CANDIDATES, Logged

#: Extensions of SQLite files taken for an MLflow store.
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
_PAGE = 1000


def tracking_uri(source: Any) -> str:
    """A tracking URI for a path (an ``mlruns`` folder or an SQLite file) or a URI."""
    text = str(os.fspath(source))
    if "://" in text or text.startswith("file:"):
        return text
    p = Path(text)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such MLflow store")
    if p.is_file():
        return "sqlite:///" + str(p.resolve())
    return p.resolve().as_uri()


def is_store(path: Path) -> bool:
    """Whether a folder or file looks like an MLflow store."""
    if path.is_file():
        if path.suffix.lower() in SQLITE_SUFFIXES:
            return True
        with path.open("rb") as fh:
            return fh.read(16) == b"SQLite format 3\x00"
    return (path / "0" / "meta.yaml").exists() or any(path.glob("*/meta.yaml"))


def _client(source: Any) -> Any:
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise ImportError(
            "reading MLflow runs needs mlflow: pip install 'powerfit[mlflow]'"
        ) from None
    if isinstance(source, MlflowClient):
        return source
    uri = tracking_uri(source)
    with _file_store_allowed(uri):
        return MlflowClient(tracking_uri=uri)  # builds (and caches) the store now


@contextlib.contextmanager
def _file_store_allowed(uri: str) -> Iterator[None]:
    """MLflow 3 refuses a folder store unless ``MLFLOW_ALLOW_FILE_STORE`` is set; reading one
    the user names is what they asked for, so it is allowed while the client is built."""
    if not uri.startswith("file:") or "MLFLOW_ALLOW_FILE_STORE" in os.environ:
        yield
        return
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        yield
    finally:
        os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)


def _experiments(client: Any, wanted: str | Sequence[str] | None) -> list[Any]:
    exps: list[Any] = []
    token = None
    while True:
        page = client.search_experiments(max_results=_PAGE, page_token=token)
        exps.extend(page)
        token = page.token
        if not token:
            break
    if wanted is None:
        return list(exps)
    names = [wanted] if isinstance(wanted, str) else list(wanted)
    by_key = {e.name: e for e in exps} | {e.experiment_id: e for e in exps}
    missing = [n for n in names if n not in by_key]
    if missing:
        raise InvalidDataError(
            f"no MLflow experiment {missing}; experiments are {sorted(e.name for e in exps)}"
        )
    return [by_key[n] for n in names]


def _search(client: Any, exp_ids: list[str], filter_string: str | None) -> list[Any]:
    """Every active run of the experiments matching the filter (MLflow's own search syntax,
    evaluated by the store), page by page."""
    runs: list[Any] = []
    token = None
    while True:
        page = client.search_runs(
            exp_ids, filter_string=filter_string or "", max_results=_PAGE, page_token=token
        )
        runs.extend(page)
        token = page.token
        if not token:
            return runs


def read_mlflow(
    source: Any,
    experiment: str | Sequence[str] | None,
    filter_string: str | None,
    explicit: set[str],
) -> Logged:
    """The runs of an MLflow store. Metric histories are fetched only for the metrics the
    table may need: the names given explicitly and the default candidates."""
    client = _client(source)
    exps = _experiments(client, experiment)
    if not exps:
        raise InvalidDataError(f"the MLflow store {client.tracking_uri} holds no experiments")
    runs = _search(client, [e.experiment_id for e in exps], filter_string)
    if not runs:
        raise InvalidDataError(f"no runs in the MLflow store {client.tracking_uri}")
    exp_names = {e.experiment_id: e.name for e in exps}
    names = [r.info.run_name or r.info.run_id for r in runs]
    keys = set().union(*(r.data.metrics.keys() for r in runs))
    fetch = keys & (explicit | _default_keys())
    parts = []
    for run, name in zip(runs, names):
        for key in sorted(fetch & set(run.data.metrics)):
            hist = client.get_metric_history(run.info.run_id, key)
            parts.append(
                pd.DataFrame(
                    {
                        "run": name,
                        "step": np.array([m.step for m in hist], dtype=float),
                        "key": key,
                        "value": np.array([m.value for m in hist], dtype=float),
                    }
                )
            )
    metrics = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame({"run": [], "step": [], "key": [], "value": []})
    )
    metrics = pd.concat([metrics, _unfetched(runs, names, keys - fetch)], ignore_index=True)
    params = pd.DataFrame([{"run": n, **r.data.params} for r, n in zip(runs, names)])
    ids = pd.DataFrame({"run": names, "run_id": [r.info.run_id for r in runs]})
    if len(exps) > 1:
        ids["experiment"] = [exp_names[r.info.experiment_id] for r in runs]
    if ids["run"].duplicated().any():
        dup = sorted(ids.loc[ids["run"].duplicated(), "run"].unique())
        raise InvalidDataError(
            f"MLflow run names repeat ({dup}): give the runs distinct names, or read one "
            f"experiment at a time with experiment="
        )
    return Logged(
        metrics=metrics, params=params, ids=ids, source=f"MLflow store {client.tracking_uri}"
    )


def _default_keys() -> set[str]:
    return {k for names in CANDIDATES.values() for k in names}


def _unfetched(runs: list[Any], names: list[str], keys: set[str]) -> pd.DataFrame:
    """Metrics whose history was not fetched, as one summary row (the latest value, no step)
    per run: enough to name them in messages and to map them explicitly."""
    rows = [(n, k, v) for r, n in zip(runs, names) for k, v in r.data.metrics.items() if k in keys]
    return pd.DataFrame(
        {
            "run": [r[0] for r in rows],
            "step": np.nan,
            "key": [r[1] for r in rows],
            "value": [r[2] for r in rows],
        }
    )
