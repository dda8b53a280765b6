"""The getting-started notebook, executed in a real Jupyter kernel by nbclient: plots display
inline without ``%matplotlib``, results display as HTML, progress bars show without warnings."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "getting_started.ipynb"


def _execute(nb: Any, cwd: Path) -> Any:
    from jupyter_client.manager import KernelManager

    # IPC sockets (files in ``cwd``) rather than TCP: local only, and no warning from the kernel
    km = KernelManager(kernel_name="python3", transport="ipc", ip=str(cwd / "kernel-ipc"))
    client = nbclient.NotebookClient(
        nb, km=km, timeout=600, allow_errors=False, resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()
    return nb


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    return _execute(nb, tmp_path_factory.mktemp("nb"))


def _cell(nb: Any, source_start: str) -> Any:
    cells = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(source_start)]
    assert len(cells) == 1, source_start
    return cells[0]


def _data(cell: Any, mime: str) -> list[Any]:
    return [o["data"][mime] for o in cell.outputs if "data" in o and mime in o["data"]]


def _streams(nb: Any, name: str) -> str:
    return "".join(
        o.get("text", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "stream" and o.name == name
    )


def test_notebook_is_stored_without_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


def test_results_display_as_html(executed: Any) -> None:
    fit_html = _data(_cell(executed, "res = pf.fit("), "text/html")
    assert fit_html and "powerfit fit: chinchilla" in fit_html[0]
    assert "✓" in fit_html[0] and '<td class="t">alpha</td>' in fit_html[0]
    boot_html = _data(_cell(executed, "boot = res.bootstrap("), "text/html")
    assert boot_html and "1000 replicates (case, seed 0)" in boot_html[0]
    iso_html = _data(_cell(executed, "iso = pf.isoflop("), "text/html")
    assert iso_html and "IsoflopResult: 15 group(s)" in iso_html[0]
    table_html = _data(_cell(executed, "boot.ci("), "text/html")
    assert table_html and "5.880e23" in table_html[0]  # derived rows at the budget


def test_plots_display_inline(executed: Any) -> None:
    for start in ("res.plot()", "res.plot_frontier("):
        pngs = _data(_cell(executed, start), "image/png")
        assert len(pngs) == 1, start
        raw = base64.b64decode(pngs[0])
        assert raw[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(raw[16:20], "big") > 300  # width in pixels
        text = _data(_cell(executed, start), "text/plain")
        assert text and text[0].startswith("<Figure")


def test_progress_bar_and_no_warnings(executed: Any) -> None:
    cell = _cell(executed, "boot = res.bootstrap(")
    widget = _data(cell, "application/vnd.jupyter.widget-view+json")
    stderr = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    assert widget or "bootstrap" in stderr  # widget bar, or the text bar without ipywidgets
    err = _streams(executed, "stderr")
    for word in ("Warning", "IProgress", "Traceback"):
        assert word not in err, err


def test_text_bar_without_ipywidgets_and_the_users_figure_format(tmp_path: Path) -> None:
    """With ipywidgets unimportable in the kernel (the case where ``tqdm.auto`` warns), the bar
    falls back to text and nothing warns; a figure format the user set up is kept."""
    cells = [
        nbformat.v4.new_code_cell(
            "%matplotlib inline\n"
            "%config InlineBackend.figure_formats = ['svg']\n"
            "import sys, warnings\n"
            "sys.modules['ipywidgets'] = None  # as if ipywidgets were not installed\n"
            "warnings.simplefilter('always')\n"
            "import powerfit as pf\n"
            "res = pf.fit(pf.datasets.chinchilla(), law='chinchilla', loss='huber_log')\n"
            "boot = res.bootstrap(n_boot=400, seed=0, progress=True)"
        ),
        nbformat.v4.new_code_cell("res"),
        nbformat.v4.new_code_cell("res.plot()"),
    ]
    nb = _execute(nbformat.v4.new_notebook(cells=cells), tmp_path)
    out = nb.cells[0].outputs
    err = "".join(o.get("text", "") for o in out if o.output_type == "stream")
    assert "bootstrap" in err and "/400" in err
    assert "Warning" not in err and "IProgress" not in err
    assert not any("data" in o for o in out)
    assert _data(nb.cells[1], "text/html")
    assert _data(nb.cells[2], "image/svg+xml") and not _data(nb.cells[2], "image/png")
