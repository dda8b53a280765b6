"""The shareable report: provenance (input file and SHA-256, the call or command, version, dates,
interval method and replicate count), formulas as MathML without a script, one parameter table,
Chinchilla's budget, tables that fit a narrow window, figures at 150 dpi or SVG."""

from __future__ import annotations

import base64
import hashlib
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import powerfit as pf
from powerfit import _mathml, html

pytest.importorskip("matplotlib")

DATA = Path(pf.__file__).parent / "data" / "chinchilla_approach3_tidy.csv"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def images(text: str) -> list[tuple[str, bytes]]:
    return [
        (mime, base64.b64decode(b64))
        for mime, b64 in re.findall(r'src="data:([\w/+]+);base64,([A-Za-z0-9+/=]+)"', text)
    ]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def from_file(tmp_path_factory) -> pf.FitResult:
    path = tmp_path_factory.mktemp("in") / "sweep.csv"
    path.write_bytes(DATA.read_bytes())
    res = pf.fit(path, law="chinchilla", loss="huber_log", columns={"loss": "loss"})
    res.bootstrap(120, resample="case", seed=4, progress=False)
    return res


# --- provenance --------------------------------------------------------------------------------
def test_provenance_of_a_fit_from_a_file(from_file, tmp_path):
    prov = from_file.provenance
    src = Path(prov["source"])
    assert src.name == "sweep.csv" and prov["sha256"] == sha256(src)
    assert prov["call"] == (
        f"pf.fit({str(src)!r}, law='chinchilla', columns={{'loss': 'loss'}}, loss='huber_log')"
    )
    assert prov["powerfit"] == pf.__version__
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", prov["created"])
    # the digest of the data as fitted: the same numbers from a DataFrame give the same digest
    df = pd.read_csv(DATA)
    again = pf.fit(df, law="chinchilla", loss="huber_log")
    assert again.provenance["data sha256"] == prov["data sha256"]
    assert again.provenance["source"] == "a pandas DataFrame (245 rows)"
    assert again.provenance["call"] == "pf.fit(df, law='chinchilla', loss='huber_log')"
    text = from_file.report(tmp_path / "r.html", plots=False).read_text()
    for needle in (
        prov["sha256"],
        prov["data sha256"],
        "sweep.csv",
        "pf.fit(",
        f"powerfit {pf.__version__}",
        "res.bootstrap(n_boot=120, resample=&#x27;case&#x27;, seed=4)",
        "95% bootstrap percentile intervals from 120 case replicates (seed 4;",
        "report written",
    ):
        assert needle in text, needle


def test_provenance_without_a_bootstrap_names_the_normal_intervals(tmp_path):
    res = pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="huber_log")
    text = res.report(tmp_path / "r.md", plots=False).read_text()
    assert "95% normal-approximation intervals from the covariance (no bootstrap)" in text


def test_loaded_fit_names_the_saved_file(from_file, tmp_path):
    path = from_file.save(tmp_path / "fit.json")
    loaded = pf.load(path)
    prov = loaded.provenance
    assert prov["source"] == str(path) and prov["sha256"] == sha256(path)
    assert prov["call"] == f"pf.load({str(path)!r})"
    assert prov["data sha256"] == from_file.provenance["data sha256"]


def test_provenance_can_be_overridden(from_file, tmp_path):
    text = from_file.report(
        tmp_path / "r.html", plots=False, provenance={"call": "make sweep-42"}
    ).read_text()
    assert "make sweep-42" in text and "pf.fit(" not in text


def test_cli_report_records_the_command(tmp_path):
    csv = tmp_path / "runs.csv"
    csv.write_bytes(DATA.read_bytes())
    report = tmp_path / "report.html"
    out = subprocess.run(
        [sys.executable, "-m", "powerfit", "fit", str(csv), "--loss", "huber_log",
         "--n-boot", "40", "--report", str(report), "-q"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    text = report.read_text()
    assert sha256(csv) in text
    assert f"powerfit fit {csv} --loss huber_log --n-boot 40 --report {report} -q" in text
    assert "from 40 case replicates" in text


# --- content -----------------------------------------------------------------------------------
def test_one_parameter_table_and_chinchillas_budget(from_file, tmp_path):
    text = from_file.report(tmp_path / "r.html", plots=False).read_text()
    assert text.count('class="params"') == 1
    assert "powerfit fit:" not in text  # the text summary repeated the parameters
    assert "<td>5.88e23</td>" in text and "5.76e23" not in text
    assert html.DEFAULT_BUDGETS[3] == pytest.approx(6 * 70e9 * 1.4e12)
    md = from_file.report(tmp_path / "r.md", plots=False).read_text()
    assert md.count("| parameter | estimate |") == 1 and "| 5.88e23 |" in md


def test_formulas_are_mathml_without_script(from_file, tmp_path):
    text = from_file.report(tmp_path / "r.html", plots=False).read_text()
    assert "<script" not in text.lower()
    maths = re.findall(r"<math [^>]*>.*?</math>", text)
    assert len(maths) == 6  # the law and the five closed-form relations of the allocation
    law = maths[0]
    assert 'display="block"' in law and "<mtext>" not in law
    assert "<msup><mi>N</mi><mrow><mo>−</mo><mi>α</mi></mrow></msup>" in law
    assert "<mfrac><mi>β</mi><mrow><mi>α</mi><mo>+</mo><mi>β</mi></mrow></mfrac>" in text


@pytest.mark.parametrize("law", list(pf.laws.BUILTIN))
def test_every_builtin_law_renders(law):
    class Fake:
        written_law = None
        variables = ("N", "D", "C") if law == "additive" else ("N", "D", "U")[:1]

    Fake.law = law  # type: ignore[attr-defined]
    Fake.formula = ""  # type: ignore[attr-defined]
    text = html.law_text(Fake())  # type: ignore[arg-type]
    out = _mathml.to_mathml(text)
    assert "<mtext>" not in out and out.count("<math") == 1, text


def test_mathml_of_written_laws_and_junk():
    out = _mathml.to_mathml("(L - E)/(L0 - L)^alpha = b*x^-c + exp(-x/tau) + sqrt(abs(x))")
    assert "<mfrac>" in out and "<msqrt>" in out and "<msup><mi>e</mi>" in out
    assert "<mo>=</mo>" in out and "<mi>τ</mi>" in out and "<mtext>" not in out
    assert "<msub><mi>L</mi><mi>∞</mi></msub>" in _mathml.to_mathml("L_inf + 1")
    assert "<msup><mi>D</mi><mo>′</mo></msup>" in _mathml.to_mathml("D'^-beta")
    bad = _mathml.to_mathml('<script>alert("x")</script> + ((')
    assert "<script" not in bad and "&lt;script&gt;" in bad and "<mtext>" in bad
    assert _mathml.to_mathml("1.5e-3 * N").count("<msup><mn>10</mn>") == 1


def test_tables_fit_a_narrow_window(from_file, tmp_path):
    text = from_file.report(tmp_path / "r.html", plots=False).read_text()
    tables = re.findall(r"(.{0,30})<table", text)
    assert tables and all(t.endswith('<div class="scroll">') for t in tables)
    assert re.search(r"\.scroll\{[^}]*overflow-x:auto", text)
    assert "@media (max-width:600px)" in text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in text


def test_figures_at_150_dpi_or_svg(from_file, tmp_path):
    text = from_file.report(tmp_path / "r.html").read_text()
    figs = images(text)
    assert len(figs) == 4 and all(m == "image/png" for m, _ in figs)
    w, h = png_size(figs[0][1])
    assert (w, h) == (1050, 750)  # the 7 x 5 inch fit figure at 150 dpi
    svg = from_file.report(tmp_path / "s.html", figure_format="svg").read_text()
    figs = images(svg)
    assert len(figs) == 4 and all(m == "image/svg+xml" for m, _ in figs)
    assert all(b"<script" not in data for _, data in figs)
    md = from_file.report(tmp_path / "s.md", figure_format="svg")
    assert sorted(p.name for p in (tmp_path / "s_files").iterdir()) == [
        "bootstrap.svg", "fit.svg", "frontier.svg", "residuals.svg",
    ]  # fmt: skip
    assert "](s_files/fit.svg)" in md.read_text()
    with pytest.raises(pf.InvalidOptionError, match="png or svg"):
        from_file.report(tmp_path / "x.html", figure_format="gif")


def test_deprecated_k_of_report(from_file, tmp_path):
    with pytest.warns(pf.errors.PowerfitDeprecationWarning, match="flops_per_param_token"):
        from_file.report(tmp_path / "k.html", plots=False, k=6.0)


def test_optimal_table_uses_the_new_names():
    res = pf.fit(pf.datasets.chinchilla(), law="chinchilla", loss="huber_log")
    text = html.format_optimal(res, [5.88e23])
    assert "N_opt (params)" in text and "D_opt/N_opt" in text and "N*" not in text
    assert np.isfinite(res.compute_optimal([5.88e23])["N_opt"]).all()
