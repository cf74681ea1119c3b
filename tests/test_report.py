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
    args = ", ".join(["x", "z"][:FUNCTIONS[name].arity or 2])
    e = explain(f"y = {name}({args}) * x", at={"x": 0.7, "z": 0.3} if "z" in args else {"x": 0.7})
    for fmt in ("text", "latex", "markdown", "json"):
        out = e.report(fmt)
        assert out.strip()
    validate(e.to_dict())
    assert "agrees" in e.to_text()


def test_text_shows_the_worked_chain_rule(seed):
    text = seed.to_text()
    assert "∂J/∂v = ∂J/∂u · ∂u/∂v = 3 · 1 = 3" in text
    # the product 3 · c is not repeated as 3·c
    assert "∂J/∂b = ∂J/∂v · ∂v/∂b = 3 · c = 3 · 3 = 9\n" in text
    assert "b → v → u → J: c · 1 · 3 = 9" in text
    assert "torch.autograd (float64): agrees" in text


def test_a_node_below_the_output_is_its_local_partial(seed):
    lines = seed.to_text().splitlines()
    assert "  ∂J/∂u = 3" in lines
    assert not any("(local)" in line for line in lines)


def test_text_shows_forks_adding():
    text = explain("y = x*x + x", at={"x": 1.5}).to_text()
    assert "∂y/∂x = ∂y/∂u · ∂u/∂x + ∂y/∂x (local) = 1 · 2·x + 1 = 2·x + 1 = 1 · 3 + 1 = 4" \
        in text


def test_latex_and_markdown(seed):
    latex = seed.to_latex()
    assert latex.startswith("\\begin{align*}") and latex.rstrip().endswith("\\end{align*}")
    assert r"\frac{\partial J}{\partial b}" in latex and r"3 \cdot c" in latex
    md = seed.to_markdown()
    assert "| $v$ | $b \\cdot c$ | $6$ |" in md
    assert "### Verification" in md


def test_kinks_are_noted():
    e = explain("y = relu(x) + abs(z)", at={"x": 0.0, "z": 0.0})
    assert e.evaluation.kinks == ["v", "u"] or set(e.evaluation.kinks) == {"u", "v"}
    assert "torch's convention" in e.to_text()
    assert e.gradients["x"]["value"] == 0.0 and e.gradients["z"]["value"] == 0.0
    assert e.verification.torch.ok is True


# --- the one printer, and the seed's factored sum in every format -----------------------------


def _node_values(doc: dict) -> dict:
    values = {leaf["name"]: leaf["value"] for leaf in doc["leaves"]}
    values.update({n["name"]: n["value"] for n in doc["nodes"]})
    return values


def test_json_factored_is_the_gradient_in_node_names(seed):
    doc = json.loads(seed.to_json())
    validate(doc)
    assert doc["gradients"]["b"]["factored"] == "c*3"  # along b → v → u → J, units left out
    values = _node_values(doc)
    for name, entry in doc["gradients"].items():
        # parsing our own output in a test is fine: this is not user text
        factored = sympy.sympify(entry["factored"])
        at = {s: values[s.name] for s in factored.free_symbols}
        assert float(factored.subs(at)) == pytest.approx(entry["value"]), name


def test_json_factored_of_the_seeds_network():
    from graphexplain.api import explain_mlp
    from graphexplain.nn.mlp import MLPSpec

    e = explain_mlp(MLPSpec((2, 2, 2, 1), bias=False))
    doc = e.to_dict()
    validate(doc)
    values = _node_values(doc)
    entry = doc["gradients"]["w1_1_2"]
    factored = sympy.sympify(entry["factored"])
    # x1·A′(f2)·(w2[2,1]·A′(g1)·w3[1,1] + …)·∂loss/∂out, in path order, with the local partials
    assert entry["factored"].startswith("x1*(A_f2*(1 - A_f2))*(w2_2_1*(A_g1*(1 - A_g1))*w3_1_1 + ")
    assert float(factored.subs({s: values[s.name] for s in factored.free_symbols})) == \
        pytest.approx(entry["value"], rel=1e-12)
    md, latex = e.to_markdown(), e.to_latex()
    seeds = (r"x_{1} \cdot A'\left(f_{2}\right) \cdot \left(\mathrm{w2[2,1]} \cdot "
             r"A'\left(g_{1}\right) \cdot \mathrm{w3[1,1]} + \mathrm{w2[2,2]} \cdot "
             r"A'\left(g_{2}\right) \cdot \mathrm{w3[2,1]}\right) \cdot "
             r"\frac{\partial loss}{\partial out}")
    assert seeds in md and seeds in latex
    assert r"A'\left(z\right) &= \sigma\left(z\right) \cdot \left(1 - \sigma\left(z\right)\right)" \
        in latex
    assert "x1·A′(f2)·(w2[2,1]·A′(g1)·w3[1,1] + w2[2,2]·A′(g2)·w3[2,1])·∂loss/∂out" in e.to_text()


def test_the_factored_sum_stays_within_its_budget():
    from graphexplain.limits import Limits

    lines = ["a1 = sin(x); b1 = cos(x)"]
    for k in range(2, 9):
        lines.append(f"a{k} = a{k-1}*b{k-1}; b{k} = a{k-1} + b{k-1}")
    lines.append("y = a8 + b8")
    doc = explain("\n".join(lines), limits=Limits(max_paths=10)).to_dict()
    assert doc["gradients"]["x"]["path_count"] == 2**8
    assert doc["gradients"]["x"]["factored"] is None
    validate(doc)


PYTHON = ("*", "Piecewise", "Heaviside")


@pytest.mark.parametrize("program, point, shown", [
    ("f = elu(x) + relu(y)*abs(x)", {"x": 0.5, "y": -1.0}, "= (1 if x > 0, else eˣ) = 1"),
    ("L = (out - y1)**2; out = w*x", {"w": 0.5, "x": 2.0, "y1": 1.0}, "L = u² = 0"),
    ("f = leaky_relu(x) / (1 + x**2) - exp(-x)", {"x": -0.5}, "(1 if x > 0, else 1/100)"),
])
def test_no_python_in_what_a_person_reads(program, point, shown):
    e = explain(program, at=point)
    for fmt in ("text", "markdown", "latex"):
        assert not any(w in e.report(fmt).replace("{align*}", "") for w in PYTHON), fmt
    assert shown in e.to_text()
    assert "*" in e.to_json()  # JSON stays sympy's


def test_no_local_partials_toward_constants():
    e = explain("f = a*b + c", at={"a": 1, "b": 2, "c": 3}, consts=["b"])
    text = e.to_text()
    assert "∂u/∂a = b = 2" in text or "/∂a = b = 2" in text
    assert "/∂b =" not in text.split("Backward pass")[0]
    assert "/∂b}" not in e.to_markdown()
    assert any(edge["source"] == "b" for edge in e.to_dict()["edges"])  # JSON has every edge


def test_exact_numbers_are_shown_once():
    text = explain("L = (a + b)/4", at={"a": 1, "b": 2}).to_text()
    assert "= 1/4 · 1 = 1/4\n" in text
    assert "0.25" not in text.split("Verification")[0]  # central differences are decimals
    text = explain("u = b + v + w; v = -b/2; w = -b/2", at={"b": 0.1}).to_text()
    assert "∂v/∂b = −1/2\n" in text
    assert "1 · (−1/2) + 1 · (−1/2) + 1 = 0\n" in text


def test_rounding_in_a_sum_prints_as_zero():
    e = explain("u = a + b + c", at={"a": 0.1, "b": 0.2, "c": -0.3})
    assert e.evaluation.values["u"] != 0  # 5.55e-17 in floating point
    assert "u = a + b + c = 0\n" in e.to_text()
    assert "$0$" in e.to_markdown()
