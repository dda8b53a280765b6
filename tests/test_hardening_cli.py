"""The command line never prints a traceback: every bad flag value exits 2 with one line that
speaks the command line's words (``--max-iter``, ``--columns N=...``), and exit code 3 (an
internal error) is unreachable from any of these inputs.

Most variants run in this process (``main()``); the reproducers the issue names run through
the installed entry point as well.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

import powerfit as pf
from test_cli import assert_usage_error, run, run_here


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("cli-hostile")
    df = pf.datasets.chinchilla()
    df.to_csv(d / "runs.csv", index=False)
    pf.fit(df, law="chinchilla", warn=False).save(d / "fit.json")
    return d


#: (arguments after ``powerfit``, words the one-line message must contain). ``{d}`` is the
#: data folder.
CASES = [
    (["fit", "{d}/runs.csv", "--seed", "18446744073709551616", "--n-boot", "5"], ["--seed"]),
    (["fit", "{d}/runs.csv", "--seed", "-1", "--n-boot", "5"], ["--seed"]),
    (["fit", "{d}/runs.csv", "--max-iter", "1e30"], ["--max-iter"]),
    (["fit", "{d}/runs.csv", "--max-iter", "-1"], ["--max-iter"]),
    (["fit", "{d}/runs.csv", "--max-iter", "0"], ["--max-iter"]),
    (["fit", "{d}/runs.csv", "--n-boot", "1e30"], ["--n-boot"]),
    (["fit", "{d}/runs.csv", "--n-boot", "-5"], ["--n-boot"]),
    (["fit", "{d}/runs.csv", "--level", "2", "--n-boot", "5"], ["--level"]),
    (["fit", "{d}/runs.csv", "--level", "nan", "--n-boot", "5"], ["--level"]),
    (["fit", "{d}/runs.csv", "--delta", "nan"], ["--delta"]),
    (["fit", "{d}/runs.csv", "--delta", "-1"], ["--delta"]),
    (["fit", "{d}/runs.csv", "--loss", "nosuch"], ["--loss"]),
    (["fit", "{d}/runs.csv", "--law", "nosuch"], ["nosuch"]),
    (["fit", "{d}/runs.csv", "--law", "E + A*N^"], ["--variables"]),
    (["fit", "{d}/runs.csv", "--starts", "nosuch"], ["--starts"]),
    (["fit", "{d}/runs.csv", "--fixed", "alpha=inf"], ["alpha"]),
    (["fit", "{d}/runs.csv", "--fixed", "nosuch=1"], ["nosuch"]),
    (["fit", "{d}/runs.csv", "--bounds", "alpha=2:1"], ["alpha"]),
    (["fit", "{d}/runs.csv", "--columns", "N=nosuch"], ["nosuch"]),
    (["fit", "{d}/runs.csv", "--columns", "garbage"], ["--columns"]),
    (["fit", "{d}/runs.csv", "--weights", "nosuch"], ["nosuch"]),
    (["fit", "{d}/runs.csv", "--overestimate-penalty", "-3"], ["--overestimate-penalty"]),
    (["fit", "{d}/runs.csv", "--resample", "nosuch", "--n-boot", "5"], ["--resample"]),
    (
        ["fit", "{d}/runs.csv", "--resample", "cluster", "--cluster", "nosuch", "--n-boot", "5"],
        ["--cluster"],
    ),
    (["fit", "{d}/runs.csv", "--budgets", "nan"], ["--budgets"]),
    (["fit", "{d}/runs.csv", "--budgets", "1e400"], ["--budgets"]),
    (["fit", "{d}/runs.csv", "--flops-per-param-token", "inf"], ["--flops-per-param-token"]),
    (["fit", "{d}/runs.csv", "--out", "{d}/x.xlsx"], ["x.xlsx"]),
    (["fit", "{d}/runs.csv", "--plot", "{d}/x.nope"], ["--plot"]),
    (["fit", "{d}/nosuch.csv"], ["nosuch.csv"]),
    (["fit-groups", "{d}/runs.csv", "--by", "nosuch"], ["nosuch"]),
    (["fit-groups", "{d}/runs.csv", "--by", "N", "--n-boot", "1e30"], ["--n-boot"]),
    (["optimal", "{d}/fit.json", "--budgets", "nan"], ["--budgets"]),
    (["optimal", "{d}/runs.csv", "--budgets", "1e21"], ["not a saved powerfit fit"]),
    (["optimal", "{d}/nosuch.json", "--budgets", "1e21"], ["nosuch.json"]),
]

#: Python spellings that must not reach a command-line user.
PYTHON_WORDS = re.compile(r"\b(max_iter|n_boot|flops_per_param_token|overestimate_penalty)\b|=\{")


@pytest.mark.parametrize("args, words", CASES, ids=[" ".join(a[2:]) or a[1] for a, _ in CASES])
def test_bad_flag_values_exit_2_with_one_line_in_cli_words(
    folder: Path, capsys: pytest.CaptureFixture[str], args: list[str], words: list[str]
) -> None:
    out = run_here(capsys, *(a.replace("{d}", str(folder)) for a in args))
    assert_usage_error(out, *words)
    assert not PYTHON_WORDS.search(out.stderr), out.stderr


@pytest.mark.parametrize(
    "flag, value", [("--seed", "18446744073709551616"), ("--max-iter", "1e30")]
)
def test_the_reproducers_exit_2_through_the_entry_point(
    folder: Path, flag: str, value: str
) -> None:
    out = run("fit", folder / "runs.csv", flag, value, "--n-boot", "5")
    assert_usage_error(out, flag)


def test_python_messages_are_translated_to_the_commands_flags() -> None:
    from powerfit.cli import cli_words

    flags = {"max_iter": "--max-iter", "columns": "--columns", "window": "--window"}
    assert cli_words("max_iter=0 is out of range", flags) == "--max-iter 0 is out of range"
    assert cli_words("map it with columns={'N': ...}", flags) == "map it with --columns N=..."
    assert cli_words("window must be positive", flags) == "--window must be positive"
    # a word that only looks like an option stays
    assert cli_words("the window's width", flags) == "the window's width"


def test_an_unwritable_out_fails_before_the_fit_naming_the_users_path(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_fit(*a: object, **k: object) -> None:
        raise AssertionError("the fit ran before the output was checked")

    monkeypatch.setattr(pf, "fit", no_fit)
    # /proc takes no new files, even for root
    for target in ("/proc/powerfit-out.json", f"{folder}/missing/out.json"):
        out = run_here(capsys, "fit", folder / "runs.csv", "--out", target)
        assert_usage_error(out, target)
        assert ".tmp" not in out.stderr, out.stderr  # not the temporary file's name


def test_exit_code_3_is_documented() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert re.search(r"\b3\b[^\n]*internal", readme), "the README documents exit code 3"


def test_a_subprocess_never_shows_a_traceback_for_a_bad_saved_fit(folder: Path) -> None:
    bad = folder / "bad.json"
    bad.write_text('{"format": "powerfit.fit", "format_version": 1, "law": 5}')
    out: subprocess.CompletedProcess[str] = run("optimal", bad, "--budgets", "1e21")
    assert_usage_error(out, "bad.json")
