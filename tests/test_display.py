"""Rich display (powerfit._display) and progress bars (powerfit._progress): HTML and text forms
of every result type, escaping, notebook formatters, and bars that never warn."""

from __future__ import annotations

import io
import math
import subprocess
import sys
import types
import warnings

import numpy as np
import pandas as pd
import pytest

import powerfit as pf
from powerfit import _display, _progress

HOSTILE = '<script>alert("x")</script>'


@pytest.fixture(scope="module")
def fit() -> pf.FitResult:
    return pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="huber_log")


@pytest.fixture(scope="module")
def boot(fit: pf.FitResult) -> pf.BootstrapResult:
    return fit.bootstrap(n_boot=200, seed=0, progress=False)


def _fake_fit(**over: object) -> types.SimpleNamespace:
    base: dict[str, object] = {
        "law": "chinchilla",
        "variables": ("N", "D"),
        "loss": "l2",
        "delta": 1e-3,
        "overestimate_penalty": 10.0,
        "params": {"E": 1.5, "A": 400.0, "B": 1000.0, "alpha": 0.3, "beta": 0.3},
        "stderr": {"E": 0.1, "A": math.nan, "B": 10.0, "alpha": 0.01, "beta": 0.02},
        "fixed": {"B": 1000.0},
        "success": False,
        "status": "max_iterations",
        "message": "stopped",
        "n_points": 12,
        "n_starts": 1,
        "n_best": 1,
        "at_limit": (),
        "dof": 7,
        "cost": 0.5,
        "aic": None,
        "bic": None,
        "warnings": [],
    }
    base.update(over)
    return types.SimpleNamespace(**base)


# --- FitResult -----------------------------------------------------------------------------------
def test_fit_html_table(fit: pf.FitResult) -> None:
    out = _display.fit_html(fit)
    assert out.count("<tr>") == 1 + len(fit.params)  # header + one row per parameter
    for name in fit.param_names:
        assert f'<td class="t">{name}</td>' in out
    e, se = fit.params["E"], fit.stderr["E"]
    assert f"<td>{_display.num(e)}</td>" in out
    lo, hi = e - 1.959964 * se, e + 1.959964 * se
    assert f"[{_display.num(lo, 4)}, {_display.num(hi, 4)}]" in out
    assert "converged" in out and "✓" in out and "huber_log (δ=0.001)" in out
    assert "N<sup>−α</sup>" in out


def test_fit_html_uses_bootstrap_intervals(fit: pf.FitResult, boot: pf.BootstrapResult) -> None:
    out = _display.fit_html(fit, boot)
    ci = boot.ci().set_index("parameter")
    lo, hi = ci.loc["alpha", "lower"], ci.loc["alpha", "upper"]
    assert f"[{_display.num(lo, 4)}, {_display.num(hi, 4)}]" in out
    assert "bootstrap interval (200 × case)" in out


def test_fit_html_failed_fixed_and_escaped() -> None:
    res = _fake_fit(
        law=HOSTILE, message=HOSTILE, warnings=[HOSTILE, "E is at its bound"], status="<b>x</b>"
    )
    out = _display.fit_html(res)
    assert "<script>" not in out and "<b>x</b>" not in out
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in out
    assert "✗" in out and "2 warning(s)" in out and "E is at its bound" in out
    assert "<td>fixed</td>" in out
    assert '<td class="t">A</td><td>400</td><td>–</td><td>–</td>' in out  # NaN stderr: no interval


def test_fit_text(fit: pf.FitResult) -> None:
    text = _display.fit_text(fit)
    lines = text.splitlines()
    assert lines[0].startswith("<FitResult chinchilla, loss=huber_log")
    assert "(success)" in lines[0]
    assert len(lines) == 2 + len(fit.params) + 1
    assert any(line.split()[0] == "alpha" for line in lines[2:])
    assert "FAILED" in _display.fit_text(_fake_fit())


# --- BootstrapResult -------------------------------------------------------------------------------
def test_bootstrap_html_and_text(boot: pf.BootstrapResult) -> None:
    ci = boot.ci()
    out = _display.bootstrap_html(boot)
    assert out.count("<tr>") == 1 + len(ci)
    assert "200 replicates (case, seed 0)" in out
    for q in ("alpha", "a", "G"):
        assert f'<td class="t">{q}</td>' in out
    text = _display.bootstrap_text(boot)
    assert len(text.splitlines()) == 2 + len(ci)
    bca = _display.bootstrap_html(boot, interval="bca", level=0.9)
    assert "90% bca interval" in bca


# --- tables of groups --------------------------------------------------------------------------------
def _groups_table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for g, name in enumerate(["c4", "pile", HOSTILE]):
        N = np.geomspace(1e7, 1e9, 6)
        y = 1.5 + 300 * N**-0.3 * (1 + 0.001 * rng.standard_normal(6)) + 0.1 * g
        rows.append(pd.DataFrame({"dataset": name, "N": N, "loss": y}))
    data = pd.concat(rows, ignore_index=True)
    return pf.fit_groups(data, by="dataset", law="power", x="N")


def test_groups_html_merges_stderr_and_escapes() -> None:
    table = _groups_table()
    out = _display.groups_html(table)
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "3 groups:" in out
    assert "<th>alpha</th>" in out and "<th>alpha_stderr</th>" not in out
    first = table.iloc[0]
    assert f"{_display.num(first['alpha'], 4)} ± {_display.num(first['alpha_stderr'], 2)}" in out
    assert "message" not in out
    text = _display.groups_text(table)
    assert text.splitlines()[0].startswith("3 groups")


def test_table_html_elides_long_tables_and_merges_bounds() -> None:
    df = pd.DataFrame({"g": range(30), "a": np.linspace(0.4, 0.6, 30)})
    df["a_lower"], df["a_upper"] = df["a"] - 0.01, df["a"] + 0.01
    out = _display.table_html(df, "t", max_rows=10)
    assert out.count("<tr>") == 1 + 10 + 1  # header, 10 rows, the ellipsis row
    assert "20 more rows not shown" in out
    assert "<th>a_lower</th>" not in out
    assert f"{_display.num(0.4, 4)} [{_display.num(0.39, 4)}, {_display.num(0.41, 4)}]" in out
    pl = pytest.importorskip("polars")
    assert _display.table_html(pl.from_pandas(df), max_rows=10) == _display.table_html(
        df, max_rows=10
    )


# --- frontier results ------------------------------------------------------------------------------
def test_frontier_and_comparison_html() -> None:
    por = pf.datasets.porian2024()
    one = por[(por["source_file"] == "summary_df") & (por["hparams"] == "tuned")]
    iso = pf.isoflop(one, columns={"C": "flops", "N": "n", "D": "t"}, n_boot=30, budgets=[1e21])
    out = _display.frontier_html(iso)
    assert "IsoflopResult: 1 group(s); 30 bootstrap replicates, 95% intervals" in out
    assert f"{_display.num(iso.a, 4)} [" in out
    assert "predictions" in out and "<th>N_opt</th>" in out
    assert _display.frontier_text(iso).startswith("<IsoflopResult")
    many = pf.isoflop(
        por, columns={"C": "flops", "N": "n", "D": "t"}, n_boot=0, by=pf.datasets.PORIAN2024_CONFIG
    )
    wide = _display.frontier_html(many)
    assert "15 group(s); no bootstrap" in wide
    assert f'<th class="t">group ({", ".join(pf.datasets.PORIAN2024_CONFIG)})</th>' in wide
    assert wide.count(" · ") >= 15 * (len(pf.datasets.PORIAN2024_CONFIG) - 1)
    cmp = pf.compare_approaches(one, [1e21], columns={"C": "flops", "N": "n", "D": "t"}, n_boot=20)
    html = _display.comparison_html(cmp)
    for approach in cmp.table["approach"]:
        assert f'<td class="t">{approach}</td>' in html
    assert len(_display.comparison_text(cmp).splitlines()) == 2 + len(cmp.table)


# --- notebook formatters ---------------------------------------------------------------------------
def test_figure_png(fit: pf.FitResult) -> None:
    pytest.importorskip("matplotlib")
    png = _display.figure_png(fit.plot())
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(png[16:20], "big")
    assert width > 300


def test_nothing_registered_outside_a_kernel() -> None:
    assert _display.enable_notebook_display() is False


def test_scripts_stay_silent(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    code = (
        "import powerfit as pf\n"
        "res = pf.fit(pf.datasets.chinchilla(), law='chinchilla', loss='huber_log')\n"
        "res.bootstrap(n_boot=50, seed=0)\n"
        "res.plot()\n"
        "res\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""
    assert list(tmp_path.iterdir()) == []


# --- progress bars ---------------------------------------------------------------------------------
def _no_warnings(fn):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out = fn()
    assert not seen, [str(w.message) for w in seen]
    return out


def test_progress_off_by_default_when_not_a_terminal(monkeypatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    monkeypatch.setattr(_progress, "make_bar", lambda *a: pytest.fail("no bar expected"))
    assert _progress.Progress(100, None, "x", "it").callback is None
    assert _progress.Progress(100, False, "x", "it").callback is None
    assert _progress.Progress(0, True, "x", "it").callback is None
    monkeypatch.setattr(_progress, "in_kernel", lambda: True)
    assert _progress.Progress(100, None, "x", "it").callback is not None  # on in a kernel
    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert _progress.Progress(100, None, "x", "it").callback is None
    assert _progress.Progress(100, True, "x", "it").callback is not None


def test_progress_text_fallback_without_tqdm(monkeypatch) -> None:
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(_progress, "_has", lambda name: False)
    with _progress.Progress(10, True, "bootstrap", "fit") as bar:
        assert bar.callback is not None
        for i in (3, 3, 10):
            bar.callback(i)
        assert "bootstrap: 10/10 fit (100%)" in err.getvalue()
    assert err.getvalue().endswith("\r")  # the line is cleared when the bar closes


def test_progress_kernel_without_widgets_never_warns(monkeypatch) -> None:
    pytest.importorskip("tqdm")
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(_progress, "in_kernel", lambda: True)
    monkeypatch.setattr(_progress, "_has", lambda name: name != "ipywidgets")

    def run() -> None:
        with _progress.Progress(5, None, "bootstrap", "fit") as bar:  # on by default in a kernel
            assert bar.callback is not None
            bar.callback(5)

    _no_warnings(run)
    assert "bootstrap" in err.getvalue() and "IProgress" not in err.getvalue()


def test_bootstrap_progress_does_not_change_results(fit: pf.FitResult, capsys) -> None:
    pytest.importorskip("tqdm")
    with_bar = _no_warnings(lambda: fit.bootstrap(n_boot=64, seed=3, progress=True))
    assert "bootstrap" in capsys.readouterr().err  # tqdm redraws at most every 0.1 s
    without = fit.bootstrap(n_boot=64, seed=3, progress=False)
    np.testing.assert_array_equal(with_bar.samples, without.samples)
