"""Real scaling-law sweeps bundled with powerfit (see each function for provenance)."""

from __future__ import annotations

from importlib import resources

import pandas as pd


def _read(name: str) -> pd.DataFrame:
    with resources.files("powerfit.data").joinpath(name).open("rb") as fh:
        return pd.read_csv(fh)


def chinchilla(include_excluded: bool = False) -> pd.DataFrame:
    """The Chinchilla Approach 3 sweep (Hoffmann et al. 2022, Figure 4).

    As extracted by Epoch AI's replication (Besiroglu et al. 2024, arXiv:2404.10102): 245
    points with columns N (parameters), D = C/(6N) (tokens), C (FLOPs), loss and
    ``epoch_excluded`` (the 5 highest-loss points, which Epoch drops). By default the 240 kept
    points are returned, as Epoch fits them.
    """
    df = _read("chinchilla_approach3_tidy.csv")
    if not include_excluded:
        df = df[~df["epoch_excluded"]].reset_index(drop=True)
    return df
