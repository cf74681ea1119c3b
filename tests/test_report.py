"""The printers: JSON against the graphexplain/1 contract, and text/LaTeX/Markdown content."""

import json
from importlib import resources

import jsonschema
import pytest
import sympy

from graphexplain import explain
from graphexplain.ops import FUNCTIONS

SCHEMA = json.loads(resources.files("graphexplain").joinpath("schema/graphexplain-1.json")
                    .read_text())


def validate(doc: dict) -> None:
    jsonschema.validate(doc, SCHEMA)


@pytest.fixture(scope="module")
def seed():
    return explain("J(a,b,c) = 3(a+bc)", at={"a": 1, "b": 2, "c": 3})


def test_json_matches_the_contract_for_the_seed(seed):
    doc = json.loads(seed.to_json())
    validate(doc)
    assert doc["schema"] == "graphexplain/1" and doc["output"] == "J"
    assert [leaf["name"] for leaf in doc["leaves"]] == ["a", "b", "c"]
    assert [leaf["value"] for leaf in doc["leaves"]] == [1.0, 2.0, 3.0]
    v = next(n for n in doc["nodes"] if n["name"] == "v")
    assert (v["op"], v["expr"], v["value"], v["adjoint"], v["adjoint_value"]) == \
        ("mul", "b*c", 6.0, "3", 3.0)
    edge = next(e for e in doc["edges"] if (e["source"], e["target"]) == ("b", "v"))
    assert (edge["local"], edge["local_value"]) == ("c", 3.0)
    b = doc["gradients"]["b"]
    assert (b["value"], b["formula"], b["chain"], b["paths"], b["path_count"]) == \
        (9.0, "3*c", "3*c", [["b", "v", "u", "J"]], 1)
    assert doc["verification"]["torch"]["ok"] is True
    assert doc["verification"]["finite_difference"]["ok"] is True
    assert doc["verification"]["finite_difference"]["step"] > 0


def test_json_formulas_are_sympy_parsable_and_equal_the_gradient(seed):
    doc = json.loads(seed.to_json())
    _a, b, c = sympy.symbols("a b c")
    expected = {"a": 3, "b": 3 * c, "c": 3 * b}
    for name, entry in doc["gradients"].items():
        # parsing our own output in a test is fine: this is not user text
        assert sympy.sympify(entry["formula"]) == expected[name]


def test_json_without_a_point_has_null_values():
    doc = json.loads(explain("y = x*x + x").to_json())
    validate(doc)
    assert doc["verification"] is None
    assert all(n["value"] is None and n["adjoint_value"] is None for n in doc["nodes"])
    assert doc["gradients"]["x"]["value"] is None
    assert doc["gradients"]["x"]["formula"] == "2*x + 1"
    assert doc["gradients"]["x"]["path_count"] == 2


def test_json_nan_is_null_and_the_node_is_named():
    doc = json.loads(explain("f = log(x) + 1", at={"x": -1.0}).to_json())
    validate(doc)
    assert doc["output"] == "f"
    assert doc["problems"] and doc["problems"][0]["node"] == "u"
    assert doc["verification"]["torch"]["ok"] is not False


def test_json_paths_are_null_beyond_the_cap():
    from graphexplain.limits import Limits

    # each layer doubles the paths: x → (a1, b1) → (a2, b2) → …
    lines = ["a1 = sin(x); b1 = cos(x)"]
    for k in range(2, 9):
        lines.append(f"a{k} = a{k-1}*b{k-1}; b{k} = a{k-1} + b{k-1}")
    lines.append("y = a8 + b8")
    e = explain("\n".join(lines), limits=Limits(max_paths=10, max_formula_ops=50))
    doc = e.to_dict()
    validate(doc)
    g = doc["gradients"]["x"]
    assert g["path_count"] == 2 ** 8 and g["paths"] is None
    assert g["formula"] is None and g["chain"]
    assert len(e.derivation.paths["x"]) == 10


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_op_prints_in_every_format(name):
    e = explain(f"y = {name}(x) * x", at={"x": 0.7})
    for fmt in ("text", "latex", "markdown", "json"):
        out = e.report(fmt)
        assert out.strip()
    validate(e.to_dict())
    assert "agrees" in e.to_text()


def test_text_shows_the_worked_chain_rule(seed):
    text = seed.to_text()
    assert "∂J/∂v = ∂J/∂u · ∂u/∂v = 3 · 1 = 3" in text
    assert "∂J/∂b = ∂J/∂v · ∂v/∂b = 3 · c = 3*c = 3 · 3 = 9" in text
    assert "b → v → u → J: c · 1 · 3 = 9" in text
    assert "torch.autograd (float64): agrees" in text


def test_text_shows_forks_adding():
    text = explain("y = x*x + x", at={"x": 1.5}).to_text()
    assert "∂y/∂x = ∂y/∂u · ∂u/∂x + ∂y/∂x (local) = 1 · 2*x + 1 = 2*x + 1 = 1 · 3 + 1 = 4" \
        in text


def test_latex_and_markdown(seed):
    latex = seed.to_latex()
    assert latex.startswith("\\begin{align*}") and latex.rstrip().endswith("\\end{align*}")
    assert r"\frac{\partial J}{\partial b}" in latex and r"3 \cdot c" in latex
    md = seed.to_markdown()
    assert "| $v$ | $b \\cdot c$ | 6 |" in md
    assert "### Verification" in md


def test_kinks_are_noted():
    e = explain("y = relu(x) + abs(z)", at={"x": 0.0, "z": 0.0})
    assert e.evaluation.kinks == ["v", "u"] or set(e.evaluation.kinks) == {"u", "v"}
    assert "torch's convention" in e.to_text()
    assert e.gradients["x"]["value"] == 0.0 and e.gradients["z"]["value"] == 0.0
    assert e.verification.torch.ok is True
