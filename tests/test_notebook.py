"""The explorer in Jupyter: a notebook with two explanations, executed by nbclient on an
ipykernel running this venv's Python, shows each as HTML, with ids that do not clash."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="needs nbformat (pip)")
nbclient = pytest.importorskip("nbclient", reason="needs nbclient (pip)")
pytest.importorskip("ipykernel", reason="needs ipykernel (pip)")

ROOT = Path(__file__).resolve().parent.parent
KERNEL = "graphexplain-test"

SETUP = """\
import graphexplain, graphexplain.html
from graphexplain.api import Explanation
if not hasattr(Explanation, "_repr_html_"):  # the explorer, until Explanation shows it itself
    Explanation._repr_html_ = lambda self: graphexplain.html.notebook(self)
"""


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    """A kernelspec of our own, running this interpreter (the venv's), found first on
    JUPYTER_PATH: whatever kernels the machine has, the notebook runs on this Python."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "graphexplain tests", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return KERNEL


def html_of(cell) -> str:
    outputs = [o for o in cell.outputs if o.output_type == "execute_result"]
    assert len(outputs) == 1, cell.outputs
    data = outputs[0]["data"]
    assert "text/html" in data, sorted(data)
    return data["text/html"]


def test_two_explanations_in_one_notebook(kernel):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(SETUP),
        nbformat.v4.new_code_cell(
            'e1 = graphexplain.explain("J(a,b,c) = 3(a+bc)", at={"a": 1, "b": 2, "c": 3})\ne1'),
        nbformat.v4.new_code_cell(
            'e2 = graphexplain.explain("y = σ(w·x + b)", at={"w": 2, "x": 0.5, "b": -1})\ne2'),
    ]
    client = nbclient.NotebookClient(nb, kernel_name=kernel, timeout=180,
                                     resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    one, two = html_of(nb.cells[1]), html_of(nb.cells[2])
    prefixes = []
    for html in (one, two):
        assert "<html" not in html and "<body" not in html
        m = re.search(r'<div class="ge-explorer" id="(ge[0-9a-f]+-)root"', html)
        assert m, html[:300]
        prefix = m.group(1)
        prefixes.append(prefix)
        ids = re.findall(r'\bid="([^"]*)"', html)
        assert all(i.startswith(prefix) for i in ids)
        assert "<svg" in html and f'id="{prefix}formula"' in html
        data = json.loads(re.search(rf'id="{prefix}data">(.*?)</script>', html, re.S).group(1))
        assert data["steps"] and data["verification"]
    assert prefixes[0] != prefixes[1]
    assert not set(re.findall(r'\bid="([^"]*)"', one)) & set(re.findall(r'\bid="([^"]*)"', two))
    assert "J = 3·u = 3·7 = 21" in one and "y = σ(u)" in two
