"""Hostile argument values and the public calls they are tried against.

Every public function of powerfit is listed with a valid call (``base``) and the arguments to
attack; each case replaces one argument by one hostile value (None, strings, NaN, infinities,
negative and huge numbers, booleans, containers, callables, complex numbers, arbitrary
objects). A case must either run or raise a :class:`powerfit.PowerfitError`; the tests run
them in a child process (``fuzz_child``), so a crash or a hang names the case.

Values are Python source (evaluated in the child), so that callables and objects can be sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

#: One value of each kind a careless or hostile caller might pass.
VALUES: dict[str, str] = {
    "None": "None",
    "str": "'abc'",
    "empty str": "''",
    "nan": "float('nan')",
    "inf": "float('inf')",
    "-inf": "float('-inf')",
    "-1": "-1",
    "0": "0",
    "0.5": "0.5",
    "2**64": "2**64",
    "-2**64": "-(2**64)",
    "2**1000": "2**1000",
    "1e30": "1e30",
    "-1e30": "-1e30",
    "1e-320": "1e-320",
    "True": "True",
    "False": "False",
    "list": "[1, 2]",
    "empty list": "[]",
    "nested list": "[[1.0, 2.0], [3.0]]",
    "tuple": "(1, 2, 3)",
    "dict": "{'a': 1}",
    "empty dict": "{}",
    "set": "{1.5}",
    "callable": "(lambda *a, **k: 0)",
    "complex": "(1+2j)",
    "object": "object()",
    "bytes": "b'x'",
    "numpy nan": "np.float64('nan')",
    "numpy int": "np.int64(-5)",
    "numpy bool": "np.bool_(True)",
    "2-d array": "np.ones((2, 2))",
    "empty array": "np.array([])",
    "string array": "np.array(['a', 'b'])",
    "object array": "np.array([None, 'x', 1], dtype=object)",
    "DataFrame": "pd.DataFrame({'q': [1.0]})",
}

#: Fixtures the cases use, set up once per child: small data sets of each kind and a fit.
SETUP = """
import os, tempfile, math
rng = np.random.default_rng(0)
DF = pf.datasets.chinchilla()
SMALL = DF.iloc[::4].reset_index(drop=True)
RES = pf.fit(SMALL, law="chinchilla", loss="huber_log", warn=False)
BOOT = RES.bootstrap(n=40, seed=0)
PRES = pf.fit(law="power", x=np.geomspace(1e6, 1e9, 12), y=2 + 30 * np.geomspace(1e6, 1e9, 12) ** -0.3, warn=False)
GROUPS = pd.concat([SMALL.assign(g=k) for k in ("a", "b")], ignore_index=True)

def _iso():
    rows = []
    for c in (1e18, 1e19, 1e20, 1e21):
        for n in np.geomspace(1e7, 1e10, 9):
            d = c / (6 * n)
            rows.append({"C": c, "N": n, "D": d, "loss": 1.69 + 406.4 * n ** -0.34 + 410.7 * d ** -0.28})
    return pd.DataFrame(rows)

ISO = _iso()

def _curves():
    parts = []
    for j, n in enumerate(np.geomspace(1e7, 1e9, 7)):
        d = np.geomspace(1e8, 100 * n, 25)
        loss = 1.69 + 406.4 * n ** -0.34 + 410.7 * d ** -0.28
        parts.append(pd.DataFrame({"run": f"r{j}", "N": n, "D": d, "C": 6 * n * d, "loss": loss}))
    return pd.concat(parts, ignore_index=True)

CURVES = _curves()
CURVE = pd.DataFrame({"N": np.geomspace(1e6, 1e10, 14)})
CURVE["loss"] = 2.0 + 40.0 * CURVE["N"] ** -0.3
ROLL = pf.rollout(CURVE, law="power", x="N")
CFIT = pf.fit(CURVE, law="power", x="N", warn=False)
PASSK = pd.DataFrame({"problem": np.arange(40), "n": 20, "c": rng.integers(0, 21, 40)})
COV = pf.fit_coverage(PASSK, n_boot=20)
TMP = tempfile.mkdtemp()
SAVED = os.path.join(TMP, "fit.json")
RES.save(SAVED)
HISTORY = pd.DataFrame({"run": np.repeat(["a", "b"], 5), "_step": np.tile(np.arange(5), 2),
                        "val_loss": np.linspace(3, 2, 10), "params": np.repeat([1e8, 2e8], 5),
                        "tokens": np.tile(np.arange(1, 6) * 1e9, 2)})
CSV = os.path.join(TMP, "runs.csv")
SMALL.to_csv(CSV, index=False)
"""


@dataclass(frozen=True)
class Target:
    """A public call: ``fn(pos, **base)``; each argument in ``attack`` is replaced in turn
    (``"<pos>"`` stands for the first positional argument)."""

    name: str
    fn: str
    pos: str = ""
    base: dict[str, str] = field(default_factory=dict)
    attack: tuple[str, ...] = ()

    def code(self, arg: str, value: str) -> str:
        pos = value if arg == "<pos>" else self.pos
        kw = {k: v for k, v in self.base.items() if k != arg}
        if arg != "<pos>":
            kw[arg] = value
        parts = ([pos] if pos else []) + [f"{k}={v}" for k, v in kw.items()]
        return f"{self.fn}({', '.join(parts)})"


FIT_OPTIONS = (
    "law", "x", "y", "N", "columns", "loss", "delta", "overestimate_penalty", "weights",
    "fixed", "bounds", "p0", "starts", "ftol", "xtol", "gtol", "max_iter", "warn",
)  # fmt: skip

TARGETS: tuple[Target, ...] = (
    Target("fit", "pf.fit", "SMALL", {"warn": "False"}, ("<pos>", *FIT_OPTIONS)),
    Target(
        "fit arrays",
        "pf.fit",
        "",
        {"law": "'power'", "x": "PRES.data['x']", "y": "PRES.data['loss']", "warn": "False"},
        ("x", "y", "law", "loss", "weights", "p0"),
    ),  # fmt: skip
    Target(
        "bootstrap",
        "RES.bootstrap",
        "",
        {"n_boot": "20"},
        ("n_boot", "resample", "seed", "cluster", "progress"),
    ),  # fmt: skip
    Target("pf.bootstrap", "pf.bootstrap", "RES", {"n_boot": "20"}, ("<pos>", "n_boot", "seed")),
    Target(
        "ci",
        "BOOT.ci",
        "",
        {},
        ("level", "interval", "budgets", "flops_per_param_token", "functions"),
    ),
    Target("boot summary", "BOOT.summary", "", {}, ("level", "interval")),
    Target(
        "compute_optimal",
        "RES.compute_optimal",
        "[1e21]",
        {},
        ("<pos>", "flops_per_param_token", "level"),
    ),
    Target(
        "inference_optimal",
        "RES.inference_optimal",
        "",
        {"target_loss": "2.2", "inference_tokens": "1e12"},
        ("target_loss", "inference_tokens", "flops_per_param_token"),
    ),  # fmt: skip
    Target(
        "elasticities", "RES.elasticities", "", {"N": "[1e9]", "D": "[1e11]"}, ("<pos>", "N", "D")
    ),  # fmt: skip
    Target(
        "predict_interval",
        "RES.predict_interval",
        "",
        {"N": "[1e9]", "D": "[1e11]"},
        ("<pos>", "level", "kind", "seed", "N", "D"),
    ),  # fmt: skip
    Target(
        "prediction interval",
        "RES.predict_interval",
        "",
        {"N": "[1e9]", "D": "[1e11]", "kind": "'prediction'"},
        ("seed",),
    ),  # fmt: skip
    Target("predict", "RES.predict", "", {"N": "[1e9]", "D": "[1e11]"}, ("<pos>", "N", "D")),
    Target("save", "RES.save", "os.path.join(TMP, 'out.json')", {}, ("<pos>", "bootstrap")),
    Target("to_dict", "RES.to_dict", "", {}, ("bootstrap",)),
    Target("from_dict", "pf.FitResult.from_dict", "RES.to_dict()", {}, ("<pos>",)),
    Target("load", "pf.load", "SAVED", {}, ("<pos>",)),
    Target(
        "optimal_table",
        "pf.analysis.optimal_table",
        "RES",
        {"budgets": "[1e21]"},
        ("budgets", "flops_per_param_token", "level", "max_replicates"),
    ),  # fmt: skip
    Target(
        "fit_groups",
        "pf.fit_groups",
        "GROUPS",
        {"by": "'g'", "progress": "False"},
        (
            "<pos>",
            "by",
            "law",
            "x",
            "columns",
            "loss",
            "delta",
            "weights",
            "fixed",
            "bounds",
            "p0",
            "starts",
            "ftol",
            "max_iter",
            "n_boot",
            "resample",
            "seed",
            "level",
            "output",
            "row_labels",
        ),
    ),  # fmt: skip
    Target(
        "isoflop",
        "pf.isoflop",
        "ISO",
        {"n_boot": "20", "progress": "False"},
        (
            "<pos>",
            "columns",
            "by",
            "n_boot",
            "seed",
            "budgets",
            "level",
            "window",
            "budget_rtol",
            "flops_per_param_token",
            "resample",
            "progress",
        ),
    ),  # fmt: skip
    Target(
        "envelope",
        "pf.envelope",
        "CURVES",
        {"run": "'run'", "n_boot": "20", "progress": "False"},
        (
            "<pos>",
            "columns",
            "run",
            "by",
            "grid",
            "n_grid",
            "estimator",
            "n_boot",
            "seed",
            "budgets",
            "level",
            "window",
            "flops_per_param_token",
            "progress",
        ),
    ),  # fmt: skip
    Target(
        "compare_approaches",
        "pf.compare_approaches",
        "CURVES",
        {"budgets": "[1e20]", "run": "'run'", "n_boot": "10"},
        (
            "budgets",
            "columns",
            "run",
            "n_boot",
            "seed",
            "level",
            "window",
            "estimator",
            "n_grid",
            "n_slices",
            "law",
            "loss",
            "delta",
            "parametric_points",
            "flops_per_param_token",
        ),
    ),  # fmt: skip
    Target(
        "extrapolation_check",
        "pf.extrapolation_check",
        "SMALL",
        {"law": "'chinchilla'", "warn": "False"},
        ("<pos>", "law", "holdout", "columns"),
    ),  # fmt: skip
    Target(
        "rollout",
        "pf.rollout",
        "CURVE",
        {"law": "'power'", "x": "'N'"},
        ("<pos>", "law", "by", "x", "columns", "min_train", "splits", "rtol", "loss"),
    ),  # fmt: skip
    Target(
        "compare_laws",
        "pf.compare_laws",
        "CURVE",
        {"laws": "('power',)", "x": "'N'", "warn": "False"},
        ("laws", "by", "validate", "min_train", "splits", "rtol", "loss"),
    ),  # fmt: skip
    Target(
        "select_law", "pf.select_law", "CURVE", {"laws": "('power',)", "x": "'N'"}, ("laws", "by")
    ),  # fmt: skip
    Target(
        "forecast_interval",
        "pf.forecast_interval",
        "CFIT, ROLL",
        {"N": "[1e11]"},
        ("level", "N"),
    ),  # fmt: skip
    Target(
        "Law",
        "pf.Law",
        "'E + A*N^-alpha'",
        {"variables": "['N']"},
        ("<pos>", "variables", "params", "bounds", "p0", "positive", "linear", "name"),
    ),  # fmt: skip
    Target(
        "read_table",
        "pf.readers.read_table",
        "CSV",
        {},
        ("<pos>", "columns", "optional", "filters", "format"),
    ),  # fmt: skip
    Target(
        "read_runs",
        "pf.read_runs",
        "HISTORY",
        {},
        (
            "<pos>",
            "tracker",
            "N",
            "D",
            "C",
            "tokens_per_step",
            "train_loss",
            "val_loss",
            "loss_from",
            "hparams",
            "final",
            "flops_per_param_token",
            "experiment",
            "filter",
            "config",
        ),
    ),  # fmt: skip
    Target(
        "diagnose",
        "pf.diagnose",
        "CURVES",
        {"run": "'run'", "n_boot": "10"},
        (
            "<pos>",
            "columns",
            "run",
            "by",
            "cells",
            "points_per_decade",
            "noise",
            "floor",
            "min_gain",
            "ratio",
            "level",
            "n_boot",
            "seed",
        ),
    ),  # fmt: skip
    Target(
        "pass_at_k",
        "pf.pass_at_k",
        "PASSK",
        {"k": "[1, 5]"},
        ("<pos>", "k", "n", "c", "samples", "successes", "problem", "by"),
    ),  # fmt: skip
    Target(
        "fit_coverage",
        "pf.fit_coverage",
        "PASSK",
        {"n_boot": "10"},
        ("<pos>", "k", "n_boot", "seed", "level", "by", "size"),
    ),  # fmt: skip
    Target(
        "sampling_tradeoff",
        "pf.sampling_tradeoff",
        "COV",
        {"budgets": "[1e6]", "tokens_per_sample": "100.0", "N": "1e9"},
        ("budgets", "tokens_per_sample", "N", "prompt_tokens", "law", "level"),
    ),  # fmt: skip
    Target(
        "sampling_cost",
        "pf.sampling_cost",
        "COV",
        {
            "target": "0.5",
            "tokens_per_sample": "100.0",
            "n_queries": "1e6",
            "N": "1e9",
            "D": "2e10",
        },
        (
            "target",
            "tokens_per_sample",
            "n_queries",
            "N",
            "D",
            "train",
            "flops_per_param_token",
            "prompt_tokens",
            "law",
            "level",
            "hardware",
        ),
    ),  # fmt: skip
    Target("flops_per_token arch", "pf.compute.flops_per_token", "", {}, ("arch",)),
    Target(
        "flops_per_token",
        "pf.compute.flops_per_token",
        "",
        {"n_layers": "2", "d_model": "64", "n_heads": "4", "vocab": "100", "n_ctx": "32"},
        (
            "n_layers",
            "d_model",
            "n_heads",
            "vocab",
            "n_ctx",
            "d_head",
            "n_kv_heads",
            "d_ff",
            "gated",
            "shape",
        ),
    ),  # fmt: skip
    Target(
        "accelerator_hours",
        "pf.compute.accelerator_hours",
        "1e21",
        {"accelerator": "'H100-SXM'", "mfu": "0.4"},
        ("<pos>", "accelerator", "mfu", "precision", "peak_tflops"),
    ),  # fmt: skip
    Target(
        "check_sweep",
        "pf.compute.check_sweep",
        "ISO",
        {"warn": "False"},
        ("<pos>", "columns", "by", "flops_per_param_token", "tolerance", "z"),
    ),  # fmt: skip
)


def cases(values: dict[str, str] | None = None) -> Iterator[tuple[str, str, str, str]]:
    """(target name, argument, value name, code) for every target, argument and value."""
    for t in TARGETS:
        for arg in t.attack:
            for vname, v in (values or VALUES).items():
                yield t.name, arg, vname, t.code(arg, v)


def message_names(arg: str, message: str) -> bool:
    """Whether an error message names the argument (or says what it is about)."""
    if arg == "<pos>":
        return True
    return arg.lower() in message.lower()
