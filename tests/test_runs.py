"""pf.read_runs against real tracker stores: an MLflow SQLite store and an mlruns folder written
with the mlflow client, TensorBoard logs written with tensorboardX and with TensorBoard's own
event writer, and CSV files in the layouts W&B exports."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import powerfit as pf

# a Chinchilla-form law the synthetic runs follow exactly
E, A, B, ALPHA, BETA = 1.7, 400.0, 1100.0, 0.34, 0.28
SIZES = {"s": 2e7, "m": 6e7, "l": 2e8, "xl": 6e8}
BATCH, SEQ = 64, 1024
STEPS = range(1000, 30001, 1000)  # training loss every 1000 steps
VAL_EVERY = 2000


def law(N: float, D: np.ndarray) -> np.ndarray:
    return E + A * N**-ALPHA + B * D**-BETA


def tokens(step: float) -> float:
    return float(step) * BATCH * SEQ


# --- MLflow ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mlflow")
    pytest.importorskip("sqlalchemy")
    pytest.importorskip("alembic")
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    db = tmp_path_factory.mktemp("mlflow") / "mlflow.db"
    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    sweep = client.create_experiment("sweep")
    other = client.create_experiment("other")
    now = int(time.time() * 1000)
    for name, N in SIZES.items():
        run = client.create_run(sweep, run_name=name, tags={"family": "gpt"})
        metrics = []
        for s in STEPS:
            metrics.append(Metric("train/loss", float(law(N, tokens(s))) + 0.05, now, s))
            metrics.append(Metric("tokens", tokens(s), now, s))
            if s % VAL_EVERY == 0:
                metrics.append(Metric("val_loss", float(law(N, tokens(s))), now, s))
        params = [
            Param("n_params", f"{N:g}"),
            Param("batch_size", str(BATCH)),
            Param("seq_len", str(SEQ)),
            Param("lr", "3e-4"),
            Param("optimizer", "adam" if name != "xl" else "lion"),
            Param("step", "x"),
        ]
        client.log_batch(run.info.run_id, metrics=metrics, params=params)
        client.set_terminated(run.info.run_id)
    stray = client.create_run(other, run_name="probe")
    client.log_batch(
        stray.info.run_id,
        metrics=[Metric("val_loss", 9.0, now, 1)],
        params=[Param("n_params", "1e6")],
    )
    return db


def test_mlflow_sqlite_store(mlflow_store: Path) -> None:
    runs = pf.read_runs(mlflow_store, experiment="sweep")
    n_val = len([s for s in STEPS if s % VAL_EVERY == 0])
    assert len(runs) == len(SIZES) * n_val
    assert list(runs.columns[:8]) == [
        "run",
        "step",
        "N",
        "D",
        "C",
        "train_loss",
        "val_loss",
        "loss",
    ]
    assert runs.attrs["columns"]["N"] == "param n_params"
    assert runs.attrs["columns"]["val_loss"] == "metric val_loss"
    for _, r in runs.iterrows():
        N = SIZES[r["run"]]
        assert r["N"] == N and r["D"] == tokens(r["step"])
        assert r["C"] == pytest.approx(6 * N * tokens(r["step"]))
        assert r["loss"] == pytest.approx(float(law(N, tokens(r["step"]))), rel=1e-12)
        assert r["train_loss"] == pytest.approx(r["loss"] + 0.05, rel=1e-12)
    # parameters stored as text come back as numbers; a parameter named like a column is kept
    assert runs["lr"].dtype.kind == "f" and runs["batch_size"].dtype.kind in "iuf"
    assert set(runs["optimizer"]) == {"adam", "lion"}
    assert "params.step" in runs and runs["step"].dtype.kind == "i"
    assert runs["run_id"].nunique() == len(SIZES)


def test_mlflow_fit_recovers_the_law(mlflow_store: Path) -> None:
    runs = pf.read_runs(mlflow_store, experiment="sweep", loss_from="val")
    res = pf.fit(runs, law="chinchilla")
    assert res.success
    assert res.params["alpha"] == pytest.approx(ALPHA, rel=1e-4)
    assert res.params["beta"] == pytest.approx(BETA, rel=1e-4)
    assert res.params["E"] == pytest.approx(E, rel=1e-4)


def test_mlflow_sqlite_file_without_suffix(mlflow_store: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "tracking"
    shutil.copy(mlflow_store, copy)
    runs = pf.read_runs(copy, experiment="sweep", final=True)
    assert sorted(runs["run"]) == sorted(SIZES)


def test_mlflow_options(mlflow_store: Path) -> None:
    every = pf.read_runs(
        str(mlflow_store),
        experiment=["sweep"],
        loss_from="train",
        tokens_per_step=("batch_size", "seq_len"),
        hparams=["lr"],
    )
    assert len(every) == len(SIZES) * len(STEPS)
    np.testing.assert_array_equal(every["D"], every["step"] * BATCH * SEQ)
    assert list(every.columns) == [
        "run",
        "step",
        "N",
        "D",
        "C",
        "train_loss",
        "val_loss",
        "loss",
        "lr",
        "run_id",
    ]
    assert every["val_loss"].isna().sum() == len(SIZES) * (len(STEPS) - len(STEPS) // 2)
    final = pf.read_runs(mlflow_store, experiment="sweep", final=True)
    assert sorted(final["run"]) == sorted(SIZES) and (final["step"] == max(STEPS)).all()
    adam = pf.read_runs(
        f"sqlite:///{mlflow_store}",
        experiment="sweep",
        filter="params.optimizer = 'adam'",
        final=True,
    )
    assert sorted(adam["run"]) == ["l", "m", "s"]
    both = pf.read_runs(mlflow_store, final=True, hparams=False)
    assert set(both["experiment"]) == {"sweep", "other"} and "probe" in set(both["run"])
    assert "lr" not in both


def test_mlflow_errors(mlflow_store: Path) -> None:
    with pytest.raises(pf.InvalidDataError, match=r"no MLflow experiment \['nope'\].*sweep"):
        pf.read_runs(mlflow_store, experiment="nope")
    with pytest.raises(pf.InvalidDataError, match=r"N='width' is neither.*n_params"):
        pf.read_runs(mlflow_store, experiment="sweep", N="width")
    with pytest.raises(pf.InvalidOptionError, match="D= or tokens_per_step="):
        pf.read_runs(mlflow_store, experiment="sweep", D="tokens", tokens_per_step=1024)
    with pytest.raises(pf.InvalidDataError, match="tokens_per_step.*'micro_bs'"):
        pf.read_runs(mlflow_store, experiment="sweep", tokens_per_step=("micro_bs", "seq_len"))
    with pytest.raises(pf.InvalidDataError, match="train_loss='n_params' is a parameter"):
        pf.read_runs(mlflow_store, experiment="sweep", train_loss="n_params")


def test_mlflow_file_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    folder = tmp_path / "mlruns"
    with monkeypatch.context() as m:  # MLflow 3 writes folder stores only when asked to
        m.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
        _write_file_store(MlflowClient(tracking_uri=folder.resolve().as_uri()))
    runs = pf.read_runs(folder, experiment="tiny")
    assert len(runs) == 4 and set(runs["run"]) == {"s", "m"}
    assert runs.attrs["columns"]["N"] == "param num_params"
    assert runs.attrs["columns"]["D"] == "metric tokens_seen"
    np.testing.assert_allclose(
        runs["loss"], [law(SIZES[r], d) for r, d in zip(runs["run"], runs["D"])]
    )


def _write_file_store(client: Any) -> None:
    exp = client.create_experiment("tiny")
    for name, N in list(SIZES.items())[:2]:
        run = client.create_run(exp, run_name=name)
        client.log_param(run.info.run_id, "num_params", N)
        for s in (1000, 2000):
            client.log_metric(run.info.run_id, "eval/loss", float(law(N, tokens(s))), step=s)
            client.log_metric(run.info.run_id, "tokens_seen", tokens(s), step=s)


# --- TensorBoard -------------------------------------------------------------------------------
def test_tensorboardx_logs(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    tbx = pytest.importorskip("tensorboardX")
    for name, N in SIZES.items():
        w = tbx.SummaryWriter(str(tmp_path / name))
        for s in STEPS:
            w.add_scalar("train/loss", float(law(N, tokens(s))) + 0.05, s)
            if s % VAL_EVERY == 0:
                w.add_scalar("val/loss", float(law(N, tokens(s))), s)
                w.add_scalar("tokens", tokens(s), s)  # logged at the validation steps only
        w.add_hparams({"n_params": N, "lr": 3e-4, "optimizer": "adam"}, {"hp/val": 0.0})
        w.close()
    runs = pf.read_runs(tmp_path, loss_from="train")
    assert sorted(runs["run"].unique()) == sorted(SIZES)
    assert len(runs) == len(SIZES) * len(STEPS)
    assert runs.attrs["columns"]["N"] == "param n_params"
    assert runs.attrs["columns"]["D"] == "metric tokens"
    # tokens at training steps between validation steps are interpolated, never extrapolated
    first_val = min(s for s in STEPS if s % VAL_EVERY == 0)
    inside = runs[runs["step"] >= first_val]
    np.testing.assert_allclose(inside["D"], inside["step"] * BATCH * SEQ)
    assert runs.loc[runs["step"] < first_val, "D"].isna().all()
    # TensorBoard stores scalars as float32
    np.testing.assert_allclose(
        runs["train_loss"],
        [law(SIZES[r], tokens(s)) + 0.05 for r, s in zip(runs["run"], runs["step"])],
        rtol=1e-6,
    )
    assert set(runs["optimizer"]) == {"adam"} and runs["lr"].iloc[0] == pytest.approx(3e-4)
    assert not any(c.startswith("hp/") for c in runs.columns)


def test_tensorboard_tensor_scalars_keras_layout(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.compat.proto import event_pb2
    from tensorboard.plugins.scalar import summary_v2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    for name, N in list(SIZES.items())[:2]:
        for split, offset in (("train", 0.05), ("validation", 0.0)):
            w = EventFileWriter(str(tmp_path / name / split))
            for s in STEPS:
                pb = summary_v2.scalar_pb("epoch_loss", float(law(N, tokens(s))) + offset)
                w.add_event(event_pb2.Event(step=s, wall_time=time.time(), summary=pb))
            w.close()
    runs = pf.read_runs(tmp_path, N=3e7, tokens_per_step=BATCH * SEQ)
    assert runs.attrs["columns"]["train_loss"] == "metric train/epoch_loss"
    assert runs.attrs["columns"]["val_loss"] == "metric validation/epoch_loss"
    assert len(runs) == 2 * len(STEPS) and (runs["N"] == 3e7).all()
    np.testing.assert_allclose(
        runs["val_loss"],
        [law(SIZES[r], tokens(s)) for r, s in zip(runs["run"], runs["step"])],
        rtol=1e-6,
    )
    np.testing.assert_array_equal(runs["D"], runs["step"] * BATCH * SEQ)


def test_tensorboard_errors(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    (tmp_path / "empty").mkdir()
    with pytest.raises(pf.InvalidDataError, match="neither an MLflow store"):
        pf.read_runs(tmp_path / "empty")
    with pytest.raises(pf.InvalidDataError, match="no TensorBoard event files"):
        pf.read_runs(tmp_path / "empty", tracker="tensorboard")
    with pytest.raises(FileNotFoundError):
        pf.read_runs(tmp_path / "missing")


# --- Weights & Biases exports ---------------------------------------------------------------------
def _runs_table() -> pd.DataFrame:
    rows = []
    for name, N in SIZES.items():
        s = max(STEPS)
        rows.append(
            {
                "Name": name,
                "State": "finished",
                "Notes": "-",
                "User": "me",
                "Tags": "sweep",
                "Created": "2024-05-01T10:00:00",
                "Runtime": 3600,
                "Sweep": "abc",
                "model.n_params": N,
                "lr": 3e-4,
                "batch_size": BATCH,
                "seq_len": SEQ,
                "train/loss": float(law(N, tokens(s))),
                "_step": s,
            }
        )
    return pd.DataFrame(rows)


def test_wandb_runs_table(tmp_path: Path) -> None:
    path = tmp_path / "wandb_export_2024-05-01.csv"
    _runs_table().to_csv(path, index=False)
    runs = pf.read_runs(path, N="model.n_params", tokens_per_step=("batch_size", "seq_len"))
    assert len(runs) == len(SIZES) and (runs["step"] == max(STEPS)).all()
    np.testing.assert_allclose(
        runs["loss"], [law(SIZES[r], tokens(max(STEPS))) for r in runs["run"]]
    )
    assert "lr" in runs and "State" not in runs and "train/loss" not in runs


def test_wandb_charts_with_config(tmp_path: Path) -> None:
    chart = {"Step": list(STEPS)}
    for name, N in SIZES.items():
        y = law(N, np.array([tokens(s) for s in STEPS]))
        chart[f"{name} - val/loss"] = y
        chart[f"{name} - val/loss__MIN"] = y - 0.01
        chart[f"{name} - val/loss__MAX"] = y + 0.01
    frame = pd.DataFrame(chart)
    frame.loc[0, "xl - val/loss"] = np.nan  # a run that started logging later
    frame.to_csv(tmp_path / "val.csv", index=False)
    table = tmp_path / "runs.csv"
    _runs_table().to_csv(table, index=False)
    runs = pf.read_runs(
        [tmp_path / "val.csv"],
        config=table,
        N="model.n_params",
        tokens_per_step=("batch_size", "seq_len"),
    )
    assert len(runs) == len(SIZES) * len(STEPS) - 1
    np.testing.assert_allclose(
        runs["loss"], [law(SIZES[r], tokens(s)) for r, s in zip(runs["run"], runs["step"])]
    )
    assert "train_loss" not in runs  # the runs table's summary values are not metrics here
    res = pf.fit(runs, law="chinchilla")
    assert res.params["alpha"] == pytest.approx(ALPHA, rel=1e-4)


def test_wandb_history_export(tmp_path: Path) -> None:
    rows = []
    for name, N in SIZES.items():
        for s in STEPS:
            rows.append(
                {
                    "_step": s,
                    "_runtime": s / 10,
                    "_timestamp": 1.7e9 + s,
                    "run": name,
                    "train/loss": float(law(N, tokens(s))),
                    "tokens": tokens(s),
                }
            )
    df = pd.DataFrame(rows)
    runs = pf.read_runs(df, N=1e8)
    assert runs.attrs["columns"]["D"] == "metric tokens"
    assert len(runs) == len(rows) and (runs["N"] == 1e8).all()
    with pytest.raises(pf.InvalidDataError, match="not a W&B export"):
        pf.read_runs(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(pf.InvalidOptionError, match="MLflow stores only"):
        pf.read_runs(df, experiment="sweep")
    with pytest.raises(pf.InvalidOptionError, match="unknown tracker"):
        pf.read_runs(df, tracker="neptune")  # type: ignore[arg-type]
    with pytest.raises(pf.InvalidDataError, match="no loss found"):
        pf.read_runs(df.drop(columns="train/loss"))
