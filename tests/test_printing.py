"""The one mathematical printer: every op prints as the course writes it, in text, LaTeX and
MathML, and nothing a person reads looks like Python."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from strategies import points, programs

import graphexplain
from graphexplain import ops, printing
from graphexplain.printing import latex, mathml, number, text

#: What a person must never read: Python's operators and sympy's class names.
PYTHON = ("*", "Piecewise", "Heaviside", "theta")

x, y, z, a, b, c, u, out, y1 = sympy.symbols("x y z a b c u out y1", real=True)


def no_python(printed: str) -> bool:
    return not any(word in printed for word in PYTHON)


# --- every op row, in every printer ---------------------------------------------------------------


def row_expressions(name: str) -> list[sympy.Expr]:
    """An op row's build and each of its partials, on symbols (variadic rows with four
    arguments: two pairs for linear, two outputs and two targets for a loss)."""
    row = ops.OPS[name]
    args = list(sympy.symbols(f"a0:{row.arity or 4}", real=True))
    params = {k: ops.as_expr(v) for k, v in row.params.items()}
    built = row.build(*args, **params)
    o = sympy.Symbol("o", real=True)  # the node's own symbol, as the graph passes it
    return [built] + [row.partial(i, args, o, params) for i in range(len(args))]


@pytest.mark.parametrize("name", sorted(ops.OPS))
def test_every_op_row_prints_without_python(name):
    for expr in row_expressions(name):
        shown, tex, ml = text(expr), latex(expr), mathml(expr)
        assert shown and no_python(shown), (name, shown)
        assert "-" not in shown, (name, shown)  # a true minus
        assert no_python(tex) and "Heaviside" not in tex, (name, tex)
        assert no_python(ml.lower().replace("piecewise", "Piecewise")), (name, ml)
        ET.fromstring(f"<math>{ml}</math>")  # well-formed


_NETWORK_LOSS = {"mse": "mse", "cross_entropy": "ce", "bce_logits": "bce", "linear": "mse"}


def explained_with(name: str):
    """An explanation whose graph uses the op row ``name``: a program for the rows a program
    writes, a small network for the layer and loss rows."""
    row = ops.OPS[name]
    if row.callable or row.infix:
        arguments = ["x", "y"][:row.arity or 2]
        use = f" {row.infix} ".join(arguments) if row.infix else f"{name}({', '.join(arguments)})"
        at = {"x": 0.7, "y": 0.3} if "y" in arguments else {"x": 0.7}
        return graphexplain.explain(f"f = ({use}) * x", at=at, verify=False)
    from graphexplain.api import explain_mlp
    from graphexplain.nn.mlp import MLPSpec

    loss = _NETWORK_LOSS[name]
    spec = MLPSpec((2, 2, 2), "relu", loss=loss, target=1 if loss == "ce" else None)
    return explain_mlp(spec, verify=False)


@pytest.mark.parametrize("name", sorted(ops.OPS))
def test_every_op_row_prints_its_partials_in_a_report(name):
    """Through the whole pipeline too, where the partials meet node symbols and labels."""
    e = explained_with(name)
    assert any(e.graph.nodes[n].get("op") == name for n in e.graph)
    for fmt in ("text", "markdown", "latex"):
        assert no_python(e.report(fmt).replace("{align*}", "{align}")), fmt


# --- the course's notation ----------------------------------------------------------------------


@pytest.mark.parametrize("expr, expected", [
    (3 * c, "3·c"),
    (sympy.Mul(3, u, evaluate=False), "3·u"),
    (sympy.Mul(x, x, evaluate=False), "x·x"),
    (x**2, "x²"),
    (x**10, "x¹⁰"),
    ((out - y1)**2, "(out − y1)²"),
    (sympy.Mul(2, out - y1, evaluate=False), "2·(out − y1)"),
    (sympy.Mul(sympy.Rational(2, 5), out - y1, evaluate=False), "2·(out − y1)/5"),
    (ops.sigmoid(z) * (1 - ops.sigmoid(z)), "σ(z)·(1 − σ(z))"),
    (a - b, "a − b"),
    (-x - 1, "−x − 1"),
    (sympy.Mul(-1, sympy.Rational(1, 2), b, evaluate=False), "−b/2"),
    (1 / x, "1/x"),
    (x**-2, "1/x²"),
    (1 / (2 * sympy.sqrt(x)), "1/(2·√x)"),
    (sympy.Rational(1, 4), "1/4"),
    (sympy.Rational(-1, 2), "−1/2"),
    (sympy.Float(0.25), "0.25"),
    (sympy.Float(1e-20) * x, "1×10⁻²⁰·x"),
    (sympy.exp(x), "eˣ"),
    (sympy.exp(-x), "e⁻ˣ"),
    (sympy.exp(out), "exp(out)"),
    (sympy.log(ops.sigmoid(z)), "log(σ(z))"),
    (1 - sympy.tanh(x)**2, "1 − tanh(x)²"),
    (sympy.Abs(x), "|x|"),
    (ops.relu(x) + ops.softplus(x), "relu(x) + softplus(x)"),
    (ops.elu(x, 1), "elu(x)"),
    (ops.elu(x, sympy.Float(0.5)), "elu(x, α=0.5)"),
    (ops.leaky_relu(x, sympy.Rational(1, 100)), "leaky_relu(x)"),
    (sympy.pi * x, "π·x"),
])
def test_text(expr, expected):
    assert text(expr) == expected


@pytest.mark.parametrize("name, arguments, expected", [
    ("relu", 1, "(1 if a0 > 0, else 0)"),
    ("elu", 1, "(1 if a0 > 0, else eᵃ⁰)"),
    ("leaky_relu", 1, "(1 if a0 > 0, else 1/100)"),
    ("abs", 1, "sign(a0)"),
    ("sigmoid", 1, "o·(1 − o)"),
    ("tanh", 1, "1 − o²"),
    ("mse", 2, "2·(a0 − a1)"),
])
def test_partials_as_the_course_writes_them(name, arguments, expected):
    row = ops.OPS[name]
    args = list(sympy.symbols(f"a0:{arguments}", real=True))
    params = {k: ops.as_expr(v) for k, v in row.params.items()}
    partial = row.partial(0, args, sympy.Symbol("o", real=True), params)
    assert text(partial) == expected


def test_piecewise_forms():
    """relu′, elu′ and max′ as cases, in text and LaTeX; never Piecewise or Heaviside."""
    assert text(sympy.Heaviside(x, 0)) == "(1 if x > 0, else 0)"
    assert text(sympy.Heaviside(x, 1)) == "(1 if x ≥ 0, else 0)"
    assert text(sympy.Heaviside(a - b, sympy.S.Half)) == "(1 if a > b, 1/2 if a = b, else 0)"
    assert text(ops.elu(x, sympy.Float(0.5)).fdiff(1)) == "(1 if x > 0, else 0.5·eˣ)"
    assert text(ops.elu(x, 1).fdiff(1) * y) == "y·(1 if x > 0, else eˣ)"
    assert latex(sympy.Heaviside(x, 0)) == \
        r"\begin{cases} 1 & \text{if } x > 0 \\ 0 & \text{else} \end{cases}"
    assert mathml(sympy.Heaviside(x, 0)).count("<mtr>") == 2


def test_latex_makes_the_same_choices():
    assert latex(3 * c) == r"3 \cdot c"
    assert latex(ops.sigmoid(z) * (1 - ops.sigmoid(z))) == \
        r"\sigma\left(z\right) \cdot \left(1 - \sigma\left(z\right)\right)"
    assert latex((out - y1)**2) == r"\left(out - y_{1}\right)^{2}"
    assert latex(sympy.Mul(-1, sympy.Rational(1, 2), b, evaluate=False)) == r"- \frac{b}{2}"
    assert latex(ops.elu(x, 1)) == r"\operatorname{elu}\left(x\right)"
    assert latex(sympy.Float(1e-20)) == r"1 \times 10^{-20}"


def test_mathml_makes_the_same_choices():
    assert mathml(3 * c) == "<mrow><mn>3</mn><mo>&#183;</mo><mi>c</mi></mrow>"
    shown = mathml(ops.sigmoid(z) * (1 - ops.sigmoid(z)))
    assert "&#963;" in shown and "&#8722;" in shown  # σ, and a true minus
    assert mathml(sympy.Rational(1, 4)) == "<mfrac><mn>1</mn><mn>4</mn></mfrac>"


def test_labels():
    w = sympy.Symbol("w1_1_2", real=True)
    labels = {"w1_1_2": "w1[1,2]", "dloss_dA_f2": "∂loss/∂A(f2)"}
    adjoint = sympy.Symbol("dloss_dA_f2")
    assert text(w * x, labels) == "w1[1,2]·x"
    assert text(adjoint * w, labels) == "∂loss/∂A(f2)·w1[1,2]"
    assert latex(w * x, labels) == r"\mathrm{w1[1,2]} \cdot x"
    assert r"\frac{\partial loss}{\partial A\left(f_{2}\right)}" in latex(adjoint, labels)
    assert printing.latex_label("σ₂") == r"\sigma_{2}"
    assert printing.latex_label("Π₁") == r"\Pi_{1}"
    assert printing.latex_label("lrelu₁") == r"\mathrm{lrelu}_{1}"
    assert "w1[1,2]" in mathml(w, labels)


def test_the_seeds_factored_sum_keeps_path_order():
    A = sympy.Function("A′")
    w = [sympy.Symbol(n) for n in ("x1", "w2[2,1]", "w2[2,2]", "w3[1,1]", "w3[2,1]")]
    inner = sympy.Add(sympy.Mul(w[1], A(sympy.Symbol("g1")), w[3], evaluate=False),
                      sympy.Mul(w[2], A(sympy.Symbol("g2")), w[4], evaluate=False),
                      evaluate=False)
    expr = sympy.Mul(w[0], A(sympy.Symbol("f2")), inner, sympy.Symbol("∂loss/∂out"),
                     evaluate=False)
    assert text(expr, order="none") == \
        "x1·A′(f2)·(w2[2,1]·A′(g1)·w3[1,1] + w2[2,2]·A′(g2)·w3[2,1])·∂loss/∂out"
    assert latex(expr, order="none").startswith(r"x_{1} \cdot A'\left(f_{2}\right) \cdot")


@pytest.mark.parametrize("value, scale, expected", [
    (0.25, None, "0.25"), (-3.0, None, "−3"), (1.81664e-05, None, "1.81664×10⁻⁵"),
    (2.77556e-17, 1.0, "0"), (2.77556e-17, None, "2.77556×10⁻¹⁷"), (1e-9, 1.0, "1×10⁻⁹"),
    (float("nan"), None, "nan"), (float("-inf"), None, "−∞"), (0.1 + 0.2, None, "0.3"),
])
def test_numbers(value, scale, expected):
    assert number(value, scale) == expected


def test_a_wide_sum_prints_in_linear_time_and_in_its_own_order():
    wide = sympy.Add(*sympy.symbols("x0:5000"), evaluate=False)
    start = time.process_time()
    shown = text(wide)
    latex(wide)
    assert time.process_time() - start < 5
    assert shown.startswith("x0 + x1 + x2 + ")


# --- nothing a person reads looks like Python ----------------------------------------------------


def xml_entities(markup: str) -> str:
    """HTML's named entities (sympy's MathML writes π as ``&pi;``, which HTML reads and XML
    does not) as the characters, so that the rest is checked as XML; XML's own five stay."""
    import html
    import re

    return re.sub(r"&([A-Za-z]+);", lambda m: m.group(0) if m.group(1) in
                  ("lt", "gt", "amp", "quot", "apos") else html.unescape(m.group(0)), markup)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(programs(), points())
def test_reports_and_diagrams_never_read_like_python(program, point):
    from graphexplain.errors import GraphExplainError
    from graphexplain.render import to_dot

    try:
        e = graphexplain.explain(program, verify=False)
        names = [n for n in graphexplain.graph.leaves(e.graph) if "value" not in e.graph.nodes[n]]
        e = graphexplain.explain(program, at={n: point.get(n, 0.5) for n in names} or None,
                                 verify=False)
    except GraphExplainError:
        return
    report = e.to_text()
    assert no_python(report), report
    sections = report.split("\n\n")[:3]  # forward, local partials, backward: all mathematics
    assert all("-" not in line for s in sections for line in s.splitlines()[1:]), sections
    for fmt in ("markdown", "latex"):  # LaTeX writes its own minus, times and powers
        tex = e.report(fmt).replace("{align*}", "{align}")
        assert no_python(tex) and not any(c in tex for c in "−×·²⁻"), tex
    source = to_dot(e.derivation, e.evaluation, view="both").source
    assert no_python(source.replace("->", "→")), source
    G = e.graph
    for expr in [G.nodes[n]["expr"] for n in G] + [G.edges[edge]["local"] for edge in G.edges]:
        shown = mathml(expr)
        ET.fromstring(f"<math>{xml_entities(shown)}</math>")  # well-formed
        assert no_python(shown.lower().replace("piecewise", "Piecewise")), shown
