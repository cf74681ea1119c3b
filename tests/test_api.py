"""The Python API mirrors the command line."""

import networkx as nx
import pytest

import graphexplain
from graphexplain import PointError, explain
from graphexplain.api import symbols


def test_explain_seed():
    e = explain("J(a,b,c) = 3(a+bc)", at={"a": 1, "b": 2, "c": 3})
    _a, b, c = symbols("a", "b", "c")
    assert isinstance(e.graph, nx.DiGraph)
    assert {x: g["formula"] for x, g in e.gradients.items()} == {"a": 3, "b": 3 * c, "c": 3 * b}
    assert {x: g["value"] for x, g in e.gradients.items()} == {"a": 3.0, "b": 9.0, "c": 6.0}
    assert e.verify().ok is True
    assert e.evaluation.values["J"] == 21.0


def test_symbolic_only_and_verify_needs_a_point():
    e = explain("J = 3*(a+b*c)")
    assert e.evaluation is None and e.verification is None
    with pytest.raises(PointError):
        e.verify()


def test_consts_get_no_gradient():
    e = explain("f = w*x", at={"w": 2.0, "x": 5.0}, consts=["x"])
    assert list(e.gradients) == ["w"]
    assert e.gradients["w"]["value"] == 5.0
    assert e.graph.nodes["x"]["kind"] == "const"
    assert e.verification.ok is True


def test_jupyter_display(tmp_path):
    e = explain("J = 3*(a+b*c)", at={"a": 1, "b": 2, "c": 3})
    assert "<svg" in e.svg() and "<svg" in e._repr_html_()
    assert "$" in e._repr_markdown_()
    path = e.render(tmp_path / "j.svg")
    assert path.read_text().lstrip().startswith(("<?xml", "<svg"))


def test_no_verify_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, graphexplain; "
            "e = graphexplain.explain('J = 3*(a+b*c)', at={'a':1,'b':2,'c':3}, verify=False); "
            "e.to_json(); e.to_text(); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_a_symbolic_explanation_imports_neither_torch_nor_numpy():
    """Without a point nothing is evaluated: the command line's symbolic run starts faster
    without numpy (issue 12), and every report still prints."""
    import subprocess
    import sys

    code = ("import sys; from graphexplain.cli import main; "
            "main(['explain', 'J(a,b,c) = 3(a+bc)', '--format', 'json']); "
            "main(['explain', 'J(a,b,c) = 3(a+bc)']); "
            "print([m for m in ('torch', 'numpy') if m in sys.modules], file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stderr.strip() == "[]"
    assert '"gradients"' in out.stdout and "∂J/∂b = 3·c" in out.stdout


def test_package_exports():
    assert graphexplain.explain is explain
    assert issubclass(graphexplain.ParseError, graphexplain.GraphExplainError)
