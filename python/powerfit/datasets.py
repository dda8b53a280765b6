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


#: The columns identifying one of Porian et al.'s 15 configurations.
PORIAN2024_CONFIG = ["source_file", "dataset", "hparams", "warmup", "decay", "param_count", "val"]


def porian2024(summary: bool = False) -> pd.DataFrame:
    """IsoFLOP points of Porian et al. 2024, "Resolving Discrepancies in Compute-Optimal Scaling
    of Language Models" (github.com/formll/resolving-scaling-law-discrepancies, MIT licence:
    ``porian2024_LICENSE.txt`` beside the data).

    1,745 rows, one per (configuration, FLOP budget, model size): the configuration columns
    ``PORIAN2024_CONFIG`` (dataset rw = RefinedWeb or owt2 = OpenWebText2; hparams base/tuned;
    warmup long/short; decay kaplan/chinchilla/const; param_count, the convention for N:
    kaplan, standard or attention; val, train or val loss), ``flops`` (the budget C), ``n``
    (parameters), ``t`` (tokens, C/(6N)) and ``loss`` (the model's loss at that budget).
    15 configurations x 8-16 budgets x 5-16 sizes.

    With ``summary=True``, the authors' fits per configuration instead ("basic" and
    "weighted"): ``n_exponent`` is a in N*(C) ∝ C^a, ``t_exponent`` b in D*(C) ∝ C^b.
    """
    if summary:
        return _read("porian2024_fit_results_summary.csv")
    return _read("porian2024_isoflop_points_long.csv")


def olmo_ladder() -> pd.DataFrame:
    """Training curves of the OLMo model ladder (Bhagia et al. 2024, "Establishing Task
    Scaling Laws via Compute-Efficient Model Ladders"; github.com/allenai/OLMo-ladder,
    Apache-2.0 licence: ``olmo_ladder_LICENSE.txt`` beside the data).

    2,012 checkpoints of 20 runs: four sizes (190M, 370M, 760M, 1B parameters), each trained to
    0.5, 1, 2, 5 and 10 times the Chinchilla token count (20 tokens per parameter). Columns
    ``size``, ``N`` (parameters), ``chinchilla_multiplier``, ``step``, ``tokens`` (seen so
    far), ``loss_c4``, ``loss_pile`` (validation cross-entropy) and ``C`` = 6 N tokens. A run is
    identified by (size, chinchilla_multiplier); its last row is its clean final point (each run
    has its own learning-rate schedule). The ladder's training config (``scripts/ladder_peteish.py``
    in github.com/allenai/OLMo) decays the rate by a cosine to 10% of its peak at the run's last
    token, after a linear warm-up of about N tokens (N / tokens per step, rounded to whole steps):
    ``pf.schedules.cosine(tokens, total, warmup=..., final=0.1)`` rebuilds it as a column.
    """
    return _read("olmo_ladder_curves.csv")
