"""Runs from TensorBoard event files, read with TensorBoard's own event accumulator.

Layout: every folder under the log folder that holds event files belongs to the run named by
its first path component below the log folder (the log folder's own name when the files lie
directly in it). Scalars in deeper folders are keyed ``<subfolder>/<tag>``, as Keras writes
``train/`` and ``validation/`` beside each other. Both scalar encodings are read (TF1
``simple_value`` and TF2 tensor summaries). Hyper-parameters come from the HParams plugin's
session records in a run's folder; ``add_hparams`` (tensorboardX, PyTorch) writes its record
into a subfolder of the run, whose scalars (its ``metric_dict``) repeat the run's own metrics
and are skipped.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidDataError
from ._tidy import Logged

EVENT_GLOB = "events.out.tfevents.*"


def has_events(path: Path) -> bool:
    """Whether a folder holds TensorBoard event files (at any depth)."""
    return path.is_dir() and next(path.rglob(EVENT_GLOB), None) is not None


def _modules() -> tuple[Any, Any, Any]:
    try:
        from tensorboard.backend.event_processing import plugin_event_accumulator as pea
        from tensorboard.plugins.hparams import plugin_data_pb2
        from tensorboard.util import tensor_util
    except ImportError:
        raise ImportError(
            "reading TensorBoard logs needs tensorboard: pip install 'powerfit[tensorboard]'"
        ) from None
    return pea, plugin_data_pb2, tensor_util


def _hparams(acc: Any, plugin_data_pb2: Any) -> dict[str, Any] | None:
    """The hyper-parameters of a session record in this folder, or None."""
    if "hparams" not in acc.ActivePlugins():
        return None
    found: dict[str, Any] | None = None
    for content in acc.PluginTagToContent("hparams").values():
        data = plugin_data_pb2.HParamsPluginData.FromString(content)
        if data.WhichOneof("data") != "session_start_info":
            continue
        found = found or {}
        for name, value in data.session_start_info.hparams.items():
            kind = value.WhichOneof("kind")
            found[name] = getattr(value, kind) if kind else None
    return found


def _scalars(acc: Any, tensor_util: Any, prefix: str, run: str) -> list[pd.DataFrame]:
    out = []
    for tag in acc.Tags().get("tensors", []):
        if acc.SummaryMetadata(tag).plugin_data.plugin_name != "scalars":
            continue
        events = acc.Tensors(tag)
        out.append(
            pd.DataFrame(
                {
                    "run": run,
                    "step": np.array([e.step for e in events], dtype=float),
                    "key": prefix + tag,
                    "value": np.array(
                        [tensor_util.make_ndarray(e.tensor_proto).item() for e in events],
                        dtype=float,
                    ),
                }
            )
        )
    return out


def _run_of(root: Path, folder: Path) -> tuple[str, str]:
    """(run name, prefix of its tags) of an event folder."""
    rel = folder.relative_to(root).parts
    return (rel[0] if rel else root.name), "".join(f"{p}/" for p in rel[1:])


def read_tensorboard(logdir: Any) -> Logged:
    """The runs of a TensorBoard log folder."""
    pea, plugin_data_pb2, tensor_util = _modules()
    root = Path(os.fspath(logdir))
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such log folder")
    folders = sorted({p.parent for p in root.rglob(EVENT_GLOB)})
    if not folders:
        raise InvalidDataError(f"{root} holds no TensorBoard event files ({EVENT_GLOB})")
    parts: list[pd.DataFrame] = []
    params: dict[str, dict[str, Any]] = {}
    present = set(folders)
    for folder in folders:
        acc = pea.EventAccumulator(str(folder), size_guidance={pea.TENSORS: 0})
        acc.Reload()
        hp = _hparams(acc, plugin_data_pb2)
        # add_hparams writes its record into a subfolder of the run: it belongs to the parent
        beside = hp is not None and folder.parent in present
        run, prefix = _run_of(root, folder.parent if beside else folder)
        params.setdefault(run, {}).update(hp or {})
        if not beside:
            parts.extend(_scalars(acc, tensor_util, prefix, run))
    if not parts:
        raise InvalidDataError(f"{root} holds no scalar summaries")
    metrics = pd.concat(parts, ignore_index=True)
    table = pd.DataFrame([{"run": r, **p} for r, p in params.items()])
    return Logged(metrics=metrics, params=table, source=f"TensorBoard logs {root}")
