"""The documentation site builds as ``make docs`` builds it (Sphinx, warnings as errors, the
tutorial notebook executed), and the pages hold what they promise, with nothing fetched from
the network."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

for module in ("sphinx", "myst_nb", "furo", "latex2mathml", "ipykernel", "matplotlib"):
    pytest.importorskip(module)

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "-d",
            str(out / ".doctrees"),
            str(DOCS),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return out


def test_every_page_is_built(site: Path) -> None:
    for page in (
        "index",
        "getting_started",
        "data",
        "notebooks",
        "laws",
        "frontier",
        "glossary",
        "api",
        "architecture",
    ):
        assert (site / f"{page}.html").is_file(), page


def test_api_reference_from_docstrings(site: Path) -> None:
    html = (site / "api.html").read_text(encoding="utf-8")
    for name in (
        "powerfit.fit",
        "powerfit.FitResult",
        "powerfit.bootstrap",
        "powerfit.BootstrapResult",
        "powerfit.fit_groups",
        "powerfit.isoflop",
        "powerfit.readers.read_table",
        "powerfit.read_runs",
        "powerfit.Law",
        "powerfit.InvalidDataError",
    ):
        assert f'id="{name}"' in html, name
    assert "Raises" in html and "Returns" in html  # Google sections rendered as fields


def test_formulas_are_mathml(site: Path) -> None:
    laws = (site / "laws.html").read_text(encoding="utf-8")
    assert laws.count("<math") >= 8
    assert "$$" not in laws and "\\frac" not in laws


def test_tutorial_outputs_are_in_the_page(site: Path) -> None:
    page = (site / "getting_started.html").read_text(encoding="utf-8")
    assert "powerfit fit: chinchilla" in page  # a FitResult's rich display
    assert "IsoflopResult: 15 group(s)" in page
    images = re.findall(r'<img[^>]+src="(_images/[^"]+\.png)"', page)
    assert len(images) == 2 and all((site / src).is_file() for src in images)


def test_offline(site: Path) -> None:
    for page in site.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r'<script[^>]+src="https?:', text), page.name
        assert not re.search(r'<link[^>]+href="https?:', text), page.name
