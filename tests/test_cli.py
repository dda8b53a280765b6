"""The ``powerfit`` command line, run as a subprocess.

Exit codes: 0 success, 1 a fit did not converge, 2 a usage or input error reported as one line
on stderr without a traceback. Outputs are written atomically: a failed run leaves no partial or
temporary file and does not touch an existing output.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import powerfit as pf

BIN = Path(sys.executable).with_name("powerfit")
COMMAND = [str(BIN)] if BIN.exists() else [sys.executable, "-m", "powerfit.cli"]
COLUMNS = ["--columns", "N=params", "D=tokens", "loss=val"]


def run(
    *args: str, cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="100")  # the terminal width argparse wraps help to
    return subprocess.run(
        [*COMMAND, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        input=stdin,
        env=env,
        timeout=120,
    )


def run_here(capsys: pytest.CaptureFixture[str], *args: object) -> subprocess.CompletedProcess[str]:
    """The command line in this process (for the many variants of one exit path; each exit
    path is also covered through a subprocess)."""
    from powerfit import cli

    code = cli.main([str(a) for a in args])
    cap = capsys.readouterr()
    return subprocess.CompletedProcess(list(args), code, cap.out, cap.err)


def assert_usage_error(out: subprocess.CompletedProcess[str], *needles: str) -> None:
    """Exit code 2 and a single line on stderr, naming the problem, without a traceback."""
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("powerfit: error: ")
    assert "Traceback" not in out.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sweep with the user's own column names (the bundled Chinchilla points), as CSV and
    Parquet, with a group column; and a saved fit with bootstrap replicates."""
    d = tmp_path_factory.mktemp("cli")
    df = pf.datasets.chinchilla().rename(columns={"N": "params", "D": "tokens", "loss": "val"})
    df["dataset"] = np.where(np.arange(len(df)) % 2 == 0, "web", "code")
    df = df.drop(columns=["epoch_excluded"])
    df.to_csv(d / "runs.csv", index=False)
    df.to_parquet(d / "runs.parquet", index=False)
    res = pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="huber_log")
    res.bootstrap(n_boot=50, seed=0, progress=False)
    res.save(d / "saved.json")
    pf.fit({"N": df["params"], "loss": df["val"]}, law="power").save(d / "power.json")
    return d


# --- fit -----------------------------------------------------------------------------------
def test_fit_end_to_end(folder, tmp_path):
    out = run(
        "fit",
        folder / "runs.csv",
        "--law",
        "chinchilla",
        "--loss",
        "huber_log",
        "--delta",
        "1e-3",
        "--n-boot",
        "40",
        "--seed",
        "0",
        *COLUMNS,
        "--out",
        tmp_path / "fit.json",
        "--plot",
        tmp_path / "fit.png",
        "--budgets",
        "1e21",
        "1e23",
    )
    assert out.returncode == 0, out.stderr
    # readable tables: the summary, the bootstrap intervals, the compute-optimal allocation
    assert "powerfit fit: chinchilla" in out.stdout
    assert "95% CI (bootstrap)" in out.stdout
    assert "N_opt (params)" in out.stdout and "1e21" in out.stdout and "1e23" in out.stdout
    assert "Traceback" not in out.stderr
    res = pf.load(tmp_path / "fit.json")
    assert res.loss == "huber_log" and res.columns == ("params", "tokens")
    assert res.boot is not None and res.boot.n == 40
    assert abs(res.params["alpha"] - 0.3473) < 1e-3
    assert png_size(tmp_path / "fit.png") == (700, 500)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit.json", "fit.png"]


def test_fit_from_parquet_with_options_to_csv_table(folder, tmp_path):
    out = run(
        "fit",
        folder / "runs.parquet",
        *COLUMNS,
        "--fixed",
        "E=1.7",
        "--bounds",
        "alpha=0:2",
        "--starts",
        "grid",
        "--out",
        tmp_path / "params.csv",
        "-q",
    )
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""  # --quiet: no notes
    table = pd.read_csv(tmp_path / "params.csv")
    assert table["parameter"].tolist() == ["E", "A", "B", "alpha", "beta"]
    assert table.loc[0, "estimate"] == 1.7 and bool(table.loc[0, "fixed"])


def test_fit_reads_stdin_and_writes_parquet_and_a_report(folder, tmp_path):
    csv = (folder / "runs.csv").read_text()
    out = run(
        "fit",
        "-",
        *COLUMNS,
        "--law",
        "power",
        "--x",
        "N",
        "--loss",
        "log",
        "--out",
        tmp_path / "p.parquet",
        "--report",
        tmp_path / "r.html",
        stdin=csv,
    )
    assert out.returncode == 0, out.stderr
    assert pd.read_parquet(tmp_path / "p.parquet")["parameter"].tolist() == ["L_inf", "A", "alpha"]
    assert "data:image/png;base64," in (tmp_path / "r.html").read_text()


def test_fit_that_does_not_converge_exits_1(folder, tmp_path):
    out = run(
        "fit",
        folder / "runs.csv",
        *COLUMNS,
        "--max-iter",
        "1",
        "--n-boot",
        "10",
        "--out",
        tmp_path / "fit.json",
    )
    assert out.returncode == 1
    assert "did not converge" in out.stderr and "Traceback" not in out.stderr
    assert "max_iterations" in out.stdout  # the summary is still printed...
    assert not pf.load(tmp_path / "fit.json").success  # ...and the result still written


# --- usage and input errors: exit 2, one line --------------------------------------------------
def test_missing_file(tmp_path):
    assert_usage_error(run("fit", tmp_path / "nope.csv"), "nope.csv", "no such file")


def test_bad_column(folder):
    out = run("fit", folder / "runs.csv", "--columns", "N=parameters", "D=tokens", "loss=val")
    assert_usage_error(out, "'parameters'", "params")  # names the column, lists the real ones


def test_default_columns_missing(folder, capsys):
    assert_usage_error(run_here(capsys, "fit", folder / "runs.csv"), "column 'N'", "--columns N=")


def test_malformed_csv(tmp_path):
    (tmp_path / "bad.csv").write_text("N,D,loss\n1e9,1e10,2.5\n1e9,1e10,2.5,7,8\n")
    assert_usage_error(run("fit", tmp_path / "bad.csv"), "bad.csv")


def test_non_numeric_value(tmp_path, capsys):
    rows = "\n".join(
        f"{n:g},{10 * n:g},{2 + 1 / i}" for i, n in enumerate(np.geomspace(1e7, 1e9, 10), start=1)
    )
    (tmp_path / "text.csv").write_text(f"N,D,loss\n{rows}\n1e9,1e10,oops\n")
    assert_usage_error(run_here(capsys, "fit", tmp_path / "text.csv"), "'loss'", "'oops'", "row 10")


def test_empty_file(tmp_path, capsys):
    (tmp_path / "empty.csv").write_text("")
    assert_usage_error(run_here(capsys, "fit", tmp_path / "empty.csv"), "empty.csv")


def test_output_in_a_missing_folder(folder, tmp_path):
    out = run("fit", folder / "runs.csv", *COLUMNS, "--out", tmp_path / "no" / "fit.json")
    assert_usage_error(out, "does not exist")
    assert list(tmp_path.iterdir()) == []


def test_usage_error_through_the_console_script(folder):
    assert_usage_error(
        run("fit", "runs.csv", "--bogus", cwd=folder), "unrecognized arguments: --bogus"
    )


@pytest.mark.parametrize(
    "args, needle",
    [
        (["fit", "runs.csv", "--bogus"], "unrecognized arguments: --bogus"),
        (["fit", "runs.csv", "--columns", "Nparams"], "NAME=VALUE"),
        (["fit", "runs.csv", "--loss", "cubic"], "invalid choice: 'cubic'"),
        (["fit", "runs.csv", *COLUMNS, "--law", "quadratic"], "unknown law 'quadratic'"),
        (["fit", "runs.csv", *COLUMNS, "--fixed", "E=abc"], "not a number"),
        (["fit", "runs.csv", *COLUMNS, "--fixed", "Z=1"], "no parameter 'Z'"),
        (["fit", "runs.csv", *COLUMNS, "--out", "fit.xlsx"], "extension"),
        (["fit", "runs.csv", *COLUMNS, "--plot", "fit.txt"], "--plot"),
        (["fit", "runs.csv", *COLUMNS, "--n-boot", "-3"], "--n-boot"),
        (
            ["fit", "runs.csv", "--law", "power", "--x", "N", *COLUMNS, "--budgets", "1e21"],
            "N and D",
        ),
        (["optimal", "saved.json"], "--budgets"),
        (["optimal", "saved.json", "--budgets", "-1"], "positive"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors(folder, args, needle, capsys, monkeypatch):
    monkeypatch.chdir(folder)
    assert_usage_error(run_here(capsys, *args), needle)


def test_no_command_prints_help_and_exits_2():
    out = run()
    assert out.returncode == 2 and "usage: powerfit" in out.stderr


def test_failed_run_leaves_the_previous_output_and_no_temp_file(folder, tmp_path):
    (tmp_path / "fit.json").write_text("previous result")
    out = run(
        "fit",
        folder / "runs.csv",
        "--columns",
        "N=missing",
        "--out",
        tmp_path / "fit.json",
        "--plot",
        tmp_path / "fit.png",
    )
    assert out.returncode == 2
    assert (tmp_path / "fit.json").read_text() == "previous result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit.json"]


def test_output_that_is_a_folder_is_refused(folder, tmp_path):
    (tmp_path / "fit.json").mkdir()
    out = run("fit", folder / "runs.csv", *COLUMNS, "--out", tmp_path / "fit.json")
    assert_usage_error(out, "folder")
    assert [p.name for p in tmp_path.iterdir()] == ["fit.json"]


# --- optimal -------------------------------------------------------------------------------
def test_optimal_from_a_saved_fit(folder, tmp_path):
    out = run(
        "optimal",
        folder / "saved.json",
        "--budgets",
        "1e21",
        "1e23",
        "--flops-per-param-token",
        "6",
        "--out",
        tmp_path / "opt.csv",
    )
    assert out.returncode == 0, out.stderr
    assert "compute-optimal allocation" in out.stdout and "bootstrap percentile" in out.stdout
    table = pd.read_csv(tmp_path / "opt.csv")
    assert table["C"].tolist() == [1e21, 1e23]
    res = pf.load(folder / "saved.json")
    p = res.params
    a = p["beta"] / (p["alpha"] + p["beta"])
    b = p["alpha"] / (p["alpha"] + p["beta"])
    G = (p["alpha"] * p["A"] / (p["beta"] * p["B"])) ** (1 / (p["alpha"] + p["beta"]))
    C = np.array([1e21, 1e23])
    np.testing.assert_allclose(table["N_opt"], G * (C / 6) ** a, rtol=1e-9)
    np.testing.assert_allclose(table["D_opt"], (C / 6) ** b / G, rtol=1e-9)
    assert (table["N_opt_lower"] < table["N_opt"]).all()
    assert (table["N_opt"] < table["N_opt_upper"]).all()


def test_optimal_json_output(folder, tmp_path):
    out = run(
        "optimal",
        folder / "saved.json",
        "--budgets",
        "5.88e23",
        "--out",
        tmp_path / "opt.json",
        "-q",
    )
    assert out.returncode == 0 and out.stderr == ""
    rows = json.loads((tmp_path / "opt.json").read_text())
    assert rows[0]["C"] == 5.88e23 and 10 < rows[0]["tokens_per_param"] < 30


def test_optimal_errors(folder, tmp_path, capsys):
    assert_usage_error(run("optimal", tmp_path / "nope.json", "--budgets", "1e21"), "no such file")
    assert_usage_error(
        run_here(capsys, "optimal", folder / "runs.csv", "--budgets", "1e21"),
        "not a saved powerfit fit",
    )
    assert_usage_error(
        run_here(capsys, "optimal", folder / "power.json", "--budgets", "1e21"), "N and D"
    )


def test_optimal_of_a_fit_that_did_not_converge_exits_1(folder, tmp_path, capsys):
    df = pd.read_csv(folder / "runs.csv")
    res = pf.fit(df, columns={"N": "params", "D": "tokens", "loss": "val"}, max_iter=1, warn=False)
    res.save(tmp_path / "bad.json")
    out = run_here(capsys, "optimal", tmp_path / "bad.json", "--budgets", "1e21")
    assert out.returncode == 1 and "unreliable" in out.stderr and "N_opt (params)" in out.stdout


# --- fit-groups ------------------------------------------------------------------------------
def test_fit_groups(folder, tmp_path):
    out = run(
        "fit-groups",
        folder / "runs.parquet",
        "--by",
        "dataset",
        "--law",
        "chinchilla",
        "--loss",
        "huber_log",
        *COLUMNS,
        "--out",
        tmp_path / "fits.parquet",
    )
    assert out.returncode == 0, out.stderr
    assert "2 groups, 2 converged" in out.stdout
    table = pd.read_parquet(tmp_path / "fits.parquet")
    assert table["dataset"].tolist() == ["code", "web"]
    assert table["success"].all() and {"alpha", "alpha_stderr", "status"} <= set(table.columns)
    # each row is the fit of that group alone
    df = pd.read_parquet(folder / "runs.parquet")
    one = pf.fit(
        df[df["dataset"] == "web"],
        law="chinchilla",
        loss="huber_log",
        columns={"N": "params", "D": "tokens", "loss": "val"},
    )
    assert table.loc[1, "alpha"] == pytest.approx(one.params["alpha"], rel=1e-9)


def test_fit_groups_failures_and_errors(folder, tmp_path):
    out = run(
        "fit-groups",
        folder / "runs.csv",
        "--by",
        "dataset",
        *COLUMNS,
        "--max-iter",
        "1",
        "--out",
        tmp_path / "fits.csv",
    )
    assert out.returncode == 1
    assert "did not converge" in out.stderr
    assert len(pd.read_csv(tmp_path / "fits.csv")) == 2
    assert_usage_error(run("fit-groups", folder / "runs.csv", "--by", "nope", *COLUMNS), "'nope'")


@pytest.mark.parametrize(
    "args, needle",
    [
        ([], "--by"),
        (["--by", "dataset", "--n-boot", "5", "--resample", "parametric"], "parametric"),
        (
            ["--by", "dataset", "--resample", "cluster", "--cluster", "N", "--n-boot", "5"],
            "--cluster",
        ),
        (["--by", "dataset", "--out", "x.xlsx"], "extension"),
    ],
)
def test_fit_groups_usage_errors(folder, args, needle, capsys):
    out = run_here(capsys, "fit-groups", folder / "runs.csv", *COLUMNS, *args)
    assert_usage_error(out, needle)


# --- demo, help, version -----------------------------------------------------------------------
def test_demo(tmp_path):
    out = run("demo", "--outdir", tmp_path / "demo", "--n-boot", "30", "-q")
    assert out.returncode == 0, out.stderr
    for needle in ("powerfit fit: chinchilla", "Epoch 2024", "N_opt (params)", "5.88e23"):
        assert needle in out.stdout
    files = sorted(p.name for p in (tmp_path / "demo").iterdir())
    assert files == [
        "bootstrap.png",
        "chinchilla_fit.png",
        "fit.json",
        "frontier.png",
        "report.html",
        "residuals.png",
    ]
    assert png_size(tmp_path / "demo" / "chinchilla_fit.png") == (1050, 750)  # 150 dpi
    assert pf.load(tmp_path / "demo" / "fit.json").boot.n == 30


@pytest.mark.parametrize("command", ["fit", "fit-groups", "optimal", "demo"])
def test_help_has_examples(command, capsys):
    from powerfit import cli

    with pytest.raises(SystemExit) as exit:
        cli.main([command, "--help"])
    assert exit.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: powerfit {command}")
    assert "examples:" in text and f"powerfit {command} " in text.split("examples:")[1]


def test_top_level_help(capsys):
    from powerfit import cli

    with pytest.raises(SystemExit) as exit:
        cli.main(["--help"])
    text = capsys.readouterr().out
    assert exit.value.code == 0 and "examples:" in text and "exit codes" in text
    for command in ("fit", "fit-groups", "optimal", "demo"):
        assert f"    {command}" in text


def test_help_and_version_through_the_console_script():
    out = run("fit", "--help")
    assert out.returncode == 0 and "examples:" in out.stdout and "--n-boot N" in out.stdout
    out = run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"powerfit {pf.__version__}"


def test_quiet_disables_progress_bars():
    from powerfit import cli

    args = cli.build_parser().parse_args(["fit", "x.csv", "-q"])
    assert cli._progress(args) is False
    args = cli.build_parser().parse_args(["fit", "x.csv"])
    assert cli._progress(args) is None  # the bootstrap shows a bar only on a terminal


def test_internal_errors_exit_3_with_the_traceback(folder, capsys, monkeypatch):
    from powerfit import cli

    def broken(path):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(cli, "_read", broken)
    out = run_here(capsys, "fit", folder / "runs.csv")
    assert out.returncode == 3
    assert "Traceback" in out.stderr and "internal error (ZeroDivisionError): a bug" in out.stderr


def test_written_law_from_the_command_line(folder, tmp_path, capsys):
    if not hasattr(pf, "Law"):
        pytest.skip("written laws are not in this build")
    out = run_here(
        capsys,
        "fit",
        folder / "runs.csv",
        *COLUMNS,
        "--law",
        "E + A*N^-alpha + B*D^-beta",
        "--variables",
        "N",
        "D",
        "--loss",
        "huber_log",
        "--out",
        tmp_path / "law.json",
    )
    assert out.returncode == 0, out.stderr
    assert "L = E + A*N^-alpha + B*D^-beta" in out.stdout
    out = run_here(capsys, "optimal", tmp_path / "law.json", "--budgets", "1e21")
    assert out.returncode == 0 and "N_opt (params)" in out.stdout
    assert_usage_error(
        run_here(capsys, "fit", folder / "runs.csv", *COLUMNS, "--law", "E + A*N^-alpha"),
        "--variables",
    )
