"""Tests of graphexplain.html: the page is self-contained, small enough for a big network,
escapes what the user wrote, and its steps carry the evaluation's own numbers. The page in a
real browser is tested in test_browser.py; in a notebook, in test_notebook.py."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

import graphexplain
import graphexplain.html
from graphexplain.html import data as explorer_data
from graphexplain.html.page import clean_svg, element_map, json_for_html, scope_svg_ids

J = "J(a,b,c) = 3(a+bc)"
AT = {"a": 1, "b": 2, "c": 3}
MATHML = "http://www.w3.org/1998/Math/MathML"
EVIL = "</script><script>alert(1)</script>"


class Tags(HTMLParser):
    """Every start tag of a page, with its attributes, as an HTML parser reads them."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def page_data(page: str, prefix: str = "") -> dict:
    m = re.search(rf'<script type="application/json" id="{prefix}data">(.*?)</script>', page,
                  re.S)
    assert m, "the page carries its data as JSON"
    return json.loads(m.group(1))


@pytest.fixture(scope="module")
def seed():
    return graphexplain.explain(J, at=AT)


@pytest.fixture(scope="module")
def seed_page(seed):
    return graphexplain.html.page(seed)


# --- self-contained ------------------------------------------------------------------------------


def test_the_page_is_self_contained(seed_page):
    tags = Tags(seed_page).tags
    names = [t for t, _ in tags]
    assert names.count("html") == 1 and "link" not in names and "iframe" not in names
    assert "svg" in names, "the diagram is inline"
    for tag, attrs in tags:
        for key in ("src", "href", "xlink:href", "action", "data"):
            value = attrs.get(key) or ""
            assert not re.match(r"\s*(https?:|//|file:|data:|javascript:)", value, re.I), (tag, key)
        if tag == "script":
            assert "src" not in attrs and attrs.get("type") in (None, "application/json")
    # no web fonts, no CSS imports, no references outside the page
    assert "@import" not in seed_page and "@font-face" not in seed_page
    assert not re.search(r"url\(\s*['\"]?(?!#)", seed_page)
    # the only http(s) strings are the SVG namespace names, which nothing fetches
    for m in re.finditer(r"https?://[^\s\"'<>)]*", seed_page):
        assert m.group(0).startswith(("http://www.w3.org/", "https://www.w3.org/")), m.group(0)


def test_the_css_and_js_are_package_files_inlined(seed_page):
    from importlib import resources

    files = resources.files("graphexplain.html")
    js = files.joinpath("explorer.js").read_text(encoding="utf-8")
    css = files.joinpath("explorer.css").read_text(encoding="utf-8")
    assert "function graphexplainExplorer" in js and "</script" not in js.lower()
    assert js.replace("</", "<\\/") in seed_page and css in seed_page
    assert seed_page.count("<script") == 2  # the data and the code, both inline


def test_the_page_has_the_controls_and_the_formula_panel(seed_page):
    for ident in ("prev", "next", "play", "slider", "formula", "leafselect", "paths"):
        assert f'id="{ident}"' in seed_page
    assert seed_page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in seed_page


# --- the steps carry the evaluation's numbers ------------------------------------------------------


def test_the_steps_of_J(seed_page):
    data = page_data(seed_page)
    ids = [n["id"] for n in data["nodes"]]
    steps = data["steps"]
    assert [s["phase"] for s in steps] == (["start"] + ["forward"] * 3 + ["seed"]
                                           + ["backward"] * 5)
    texts = [s["lines"][0][1] for s in steps]
    assert texts[:5] == ["a = 1, b = 2, c = 3", "v = b·c = 2·3 = 6", "u = a + v = 1 + 6 = 7",
                         "J = 3·u = 3·7 = 21", "∂J/∂J = 1"]
    # backprop's order: each node, once complete, passes its gradient to its inputs in turn
    assert texts[5:] == ["∂J/∂u = 3",
                         "∂J/∂a = ∂J/∂u · ∂u/∂a = 3 · 1 = 3",
                         "∂J/∂v = ∂J/∂u · ∂u/∂v = 3 · 1 = 3",
                         "∂J/∂b = ∂J/∂v · ∂v/∂b = 3 · c = 3 · 3 = 9",
                         "∂J/∂c = ∂J/∂v · ∂v/∂c = 3 · b = 3 · 2 = 6"]
    edges = [(ids[data["edges"][s["edges"][0]][0]], ids[data["edges"][s["edges"][0]][1]])
             for s in steps[5:]]
    assert edges == [("u", "J"), ("a", "u"), ("v", "u"), ("b", "v"), ("c", "v")]
    assert [ids[s["nodes"][0]] for s in steps[1:5]] == ["v", "u", "J", "J"]


def _check_against_evaluation(expl, data):
    ev, d = expl.evaluation, expl.derivation
    ids = [n["id"] for n in data["nodes"]]
    for node in data["nodes"]:
        n = node["id"]
        assert node["value"] == pytest.approx(ev.values[n], nan_ok=True)
        if n in ev.adjoints:
            assert node["adjoint"] == pytest.approx(ev.adjoints[n])
    for u, v, _text, value, *_ in data["edges"]:
        if (ids[u], ids[v]) in ev.locals:
            assert value == pytest.approx(ev.locals[ids[u], ids[v]])
    for step in data["steps"]:
        if step["phase"] == "forward":
            n = ids[step["nodes"][0]]
            assert step["value"] == pytest.approx(ev.values[n])
        elif step["phase"] == "backward":
            e = data["edges"][step["edges"][0]]
            v, s = ids[e[0]], ids[e[1]]
            assert step["value"] == pytest.approx(ev.adjoints[s] * ev.locals[v, s])
            if step["complete"]:
                assert step["total"] == pytest.approx(ev.adjoints[v])
                assert ids[step["target"]] == v
    done = [ids[s["target"]] for s in data["steps"] if s.get("complete")]
    assert set(done) == {n for n in d.contributions if n != d.output}  # every adjoint, once


def test_the_step_data_equals_the_evaluation(seed, seed_page):
    _check_against_evaluation(seed, page_data(seed_page))


def test_forks_add(tmp_path):
    e = graphexplain.explain("y = x·x + 2x; x = 3·w", at={"w": 0.5})
    data = page_data(graphexplain.html.page(e))
    _check_against_evaluation(e, data)
    ids = [n["id"] for n in data["nodes"]]
    into_x = [s for s in data["steps"] if s["phase"] == "backward" and ids[s["target"]] == "x"]
    assert len(into_x) == 2  # two successors: two contributions
    assert into_x[0]["lines"][0][1].startswith("∂y/∂x = ")
    assert into_x[1]["lines"][0][1].startswith("∂y/∂x += ")
    running = into_x[1]["lines"][1][1]
    assert running.endswith(f"= {graphexplain.printing.number(e.evaluation.adjoints['x'])}")
    assert "so far" not in running and into_x[1]["complete"]


def test_the_mathml_is_well_formed(seed_page):
    data = page_data(seed_page)
    lines = [line for s in data["steps"] for line in s["lines"]]
    lines += [line for leaf in data["leaves"] for line in leaf.get("lines", [])]
    lines += [[e[5], e[2]] for e in data["edges"]]
    for markup, text, *_ in lines:
        root = ET.fromstring(f'<math xmlns="{MATHML}">{markup}</math>')
        assert all(el.tag.startswith(f"{{{MATHML}}}") for el in root.iter())
        assert text and "*" not in text
    assert '<mfrac><mrow><mo>∂</mo><mi>J</mi></mrow><mrow><mo>∂</mo><mi>v</mi></mrow></mfrac>' \
        in data["steps"][7]["lines"][0][0]


def test_the_leaf_and_its_paths(seed_page):
    data = page_data(seed_page)
    ids = [n["id"] for n in data["nodes"]]
    b = next(leaf for leaf in data["leaves"] if ids[leaf["n"]] == "b")
    assert b["text"] == "3·c"
    assert b["lines"][0][1] == "∂J/∂b = 3·c = 9" and b["lines"][0][2].startswith("exact")
    assert data["nodes"][b["n"]]["pc"] == 1 and data["max_paths"] >= 1


def test_verification_cost_and_notes(seed, seed_page):
    data = page_data(seed_page)
    rows = {r["name"]: r for r in data["verification"]}
    assert rows["torch.autograd (float64)"]["ok"] is True
    fd = rows["central differences, (f(w+h) − f(w−h))/2h"]
    assert fd["ok"] and fd["max_abs_error"] == pytest.approx(
        seed.verification.finite_difference.max_abs_error)
    assert fd["step_text"]
    from graphexplain import derive

    if hasattr(derive, "cost_table"):
        table = derive.cost_table(seed.derivation)
        assert {r["key"]: r["multiplications"] for r in data["cost"]} == {
            k: table[k] for k in ("per_path", "forward_mode", "reverse_mode")}
    else:
        assert data["cost"] is None
    assert data["program"] == J and data["notes"] == []


def test_notes_are_shown():
    e = graphexplain.explain("J(a,b) = 2a", at={"a": 1, "b": 5})  # b is declared, unused
    data = page_data(graphexplain.html.page(e))
    assert data["notes"] == [n.message for n in e.notes] and data["notes"]


def test_without_a_point_the_steps_are_symbolic():
    e = graphexplain.explain(J)
    data = page_data(graphexplain.html.page(e))
    assert data["point"] is False and data["verification"] is None
    texts = [s["lines"][0][1] for s in data["steps"]]
    assert texts[1] == "v = b·c" and "∂J/∂b = ∂J/∂v · ∂v/∂b = 3 · c" in texts


# --- escaping -----------------------------------------------------------------------------------------


def test_a_comment_cannot_end_the_script():
    program = f"# {EVIL}\nJ = 3*a  # <b>&amp;</b> \u2028 {EVIL}"
    e = graphexplain.explain(program, at={"a": 1})
    for html in (graphexplain.html.page(e, title=f"{EVIL}<title>"),
                 graphexplain.html.notebook(e, title=EVIL)):
        assert "alert(1)" in html  # it is there, as text …
        assert EVIL not in html and "<b>" not in html  # … never as markup
        assert len(re.findall(r"<script", html)) == 2
        assert sum(tag == "script" for tag, _ in Tags(html).tags) == 2
        assert "\u2028" not in html
        data = page_data(html, re.search(r'id="([^"]*)data"', html).group(1))
        assert data["program"] == program  # read back exactly
        assert EVIL in data["title"]
    assert "<title>&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;title&gt;</title>" \
        in graphexplain.html.page(e, title=f"{EVIL}<title>")


def test_json_for_html():
    text = json_for_html({"s": "</script><!-- & \u2028\u2029 >"})
    assert not re.search("[<>&\u2028\u2029]", text)
    assert json.loads(text) == {"s": "</script><!-- & \u2028\u2029 >"}
    with pytest.raises(ValueError):
        json_for_html({"x": math.nan})  # NaN is not JSON: the data never holds it


def test_the_svg_is_cleaned():
    svg = ('<?xml version="1.0"?>\n<!DOCTYPE svg>\n<!-- a -- b --><svg onload="x()" id="g">'
           '<script>alert(1)</script><a href="javascript:alert(1)"><g id="node1" '
           'class="node"><title>a</title><foreignObject><div>x</div></foreignObject></g></a>'
           '<path fill="url(#g)"/></svg>')
    out = clean_svg(svg)
    assert out.startswith("<svg") and "<!--" not in out and "onload" not in out
    assert "<script" not in out and "javascript:" not in out and "foreignObject" not in out
    scoped = scope_svg_ids(out, "p1-")
    assert 'id="p1-g"' in scoped and 'id="p1-node1"' in scoped and "url(#p1-g)" in scoped


def links(elements: list[list]) -> list[list]:
    """The element map with one index a link (an element may stand for several)."""
    return [[by, key, kind, i, copy] for by, key, kind, ids, copy in elements
            for i in (ids if isinstance(ids, list) else [ids])]


def test_titles_map_to_nodes_and_edges():
    """Titles are graph node ids (``b``, ``b->v``), or prefixed by the copy they belong to in
    a drawing of both passes (``f_b``, ``b_b->b_v``), and may be escaped."""
    G = graphexplain.explain(J).derivation.graph
    nodes, edges = list(G.nodes), list(G.edges)
    svg = "".join(f'<g id="{i}" class="{kind}"><title>{t}</title></g>' for i, kind, t in
                  [("node1", "node", "b"), ("node2", "node", "f_b"), ("node3", "node", "b_v"),
                   ("edge1", "edge", "b&#45;&gt;v"), ("edge2", "edge", "f_b&#45;&gt;f_v"),
                   ("edge3", "edge", "v->b"), ("node4", "node", "legend"),
                   ("edge4", "edge", "x->y"), ("c", "edge", "c2->v2"),
                   ("edge5", "graph", "a")])
    got = sorted(links(element_map(svg, G)))
    assert got == sorted([["t", "b", "n", nodes.index("b"), ""],
                   ["t", "f_b", "n", nodes.index("b"), "f"],
                   ["t", "b_v", "n", nodes.index("v"), "b"],
                   ["t", "b->v", "e", edges.index(("b", "v")), ""],
                   ["t", "f_b->f_v", "e", edges.index(("b", "v")), "f"],
                   ["t", "v->b", "e", edges.index(("b", "v")), ""],
                   # an edge drawn for a node (a weight as a network's edge), by its own id
                   ["i", "c", "n", nodes.index("c"), ""],
                   # u and J are not drawn: each stands in its one operation input's element
                   ["t", "b_v", "n", nodes.index("u"), "b"],
                   ["t", "b_v", "n", nodes.index("J"), "b"]])


def test_a_network_drawing_merges_neurons():
    """The textbook picture draws a neuron once for f1 and A(f1), and a weight as the edge
    f1 → g1 with the weight's id: each part of the graph still finds its element."""
    from graphexplain.nn.mlp import MLPSpec

    G = graphexplain.explain_mlp(MLPSpec((2, 2, 1), bias=False), verify=False).graph
    nodes, edges = list(G.nodes), list(G.edges)
    svg = "".join(f'<g id="{i}" class="{kind}"><title>{t}</title></g>' for i, kind, t in
                  [("node1", "node", "x1"), ("node2", "node", "f1"),
                   ("w1_1_1", "edge", "x1&#45;&gt;f1"), ("node3", "node", "out"),
                   ("w2_1_1", "edge", "f1&#45;&gt;out")])
    got = {(by, key, nodes[i] if kind == "n" else edges[i])
           for by, key, kind, i, _ in links(element_map(svg, G))}
    assert {("t", "f1", "A_f1"), ("t", "f1", "f1"), ("i", "w1_1_1", "w1_1_1"),
            ("t", "x1->f1", ("x1", "f1")), ("i", "w2_1_1", "w2_1_1"),
            ("t", "f1->out", ("A_f1", "out"))} <= got


def test_a_layer_view_lights_its_boxes():
    """A network too big to draw neuron by neuron is drawn as boxes ``inputs``, ``layer1``,
    …: each box stands for its layer's neurons, activations and weights."""
    from graphexplain.nn.mlp import MLPSpec

    G = graphexplain.explain_mlp(MLPSpec((2, 3, 1)), verify=False).graph
    nodes, edges = list(G.nodes), list(G.edges)
    svg = "".join(f'<g id="{i}" class="{kind}"><title>{t}</title></g>' for i, kind, t in
                  [("node1", "node", "inputs"), ("node2", "node", "layer1"),
                   ("edge1", "edge", "inputs&#45;&gt;layer1"), ("node3", "node", "layer2"),
                   ("edge2", "edge", "layer1&#45;&gt;layer2"), ("node4", "node", "loss"),
                   ("edge3", "edge", "layer2&#45;&gt;loss")])
    got: dict = {}
    for _, key, kind, i, _ in links(element_map(svg, G)):
        got.setdefault(key, set()).add(nodes[i] if kind == "n" else edges[i])
    assert got["inputs"] == {"x1", "x2"}
    assert {"f1", "A_f1", "w1_1_1", "w1_2_3", "b1_3"} <= got["layer1"]
    assert got["layer1->layer2"] == {("A_f1", "out"), ("A_f2", "out"), ("A_f3", "out")}
    assert ("x2", "f3") in got["inputs->layer1"] and got["layer2->loss"] == {("out", "loss")}


def test_every_element_of_the_drawing_is_linked(seed, seed_page):
    data = page_data(seed_page)
    linked = {(kind, i) for _, _, kind, i, _ in links(data["elements"])}
    G = seed.derivation.graph
    assert {("n", i) for i in range(G.number_of_nodes())} <= linked
    assert {("e", i) for i in range(G.number_of_edges())} <= linked


# --- the notebook fragment ----------------------------------------------------------------------------


def test_the_notebook_fragment_is_scoped(seed):
    one, two = graphexplain.html.notebook(seed), graphexplain.html.notebook(seed)
    p1 = re.search(r'id="(ge[0-9a-f]+-)root"', one).group(1)
    p2 = re.search(r'id="(ge[0-9a-f]+-)root"', two).group(1)
    assert p1 != p2
    for html, prefix in ((one, p1), (two, p2)):
        assert "<html" not in html and "<body" not in html and "<!DOCTYPE" not in html
        ids = re.findall(r'\bid="([^"]*)"', html)
        assert ids and all(i.startswith(prefix) for i in ids), [i for i in ids
                                                                if not i.startswith(prefix)]
        assert f"#{prefix}root.ge-explorer" in html  # the styles apply to this explorer only
        assert f'graphexplainExplorer(document.getElementById("{prefix}root")' in html
        assert page_data(html, prefix)["steps"] == page_data(one, p1)["steps"]


# --- networks and torch models -------------------------------------------------------------------------


def test_the_seed_network():
    from graphexplain.nn.mlp import MLPSpec

    e = graphexplain.explain_mlp(MLPSpec((2, 2, 2, 1), bias=False))
    data = page_data(graphexplain.html.page(e))
    _check_against_evaluation(e, data)
    ids = [n["id"] for n in data["nodes"]]
    w = next(leaf for leaf in data["leaves"] if ids[leaf["n"]] == "w1_1_2")
    assert data["nodes"][w["n"]]["label"] == "w1[1,2]" and data["nodes"][w["n"]]["pc"] == 2
    captions = [line[2] for line in w["lines"]]
    assert "the sum over paths, factored where the paths meet" in captions
    assert data["stepping"] == "node"


def test_a_torch_model():
    from graphexplain.nn.torch import explain_file

    e = explain_file("examples/seed_linear_regression.py:Lr")
    html = graphexplain.html.page(e)
    data = page_data(html)
    _check_against_evaluation(e, data)
    assert data["header"][0].startswith("Model Lr")
    assert any(r["name"] == "the model's own autograd" for r in data["verification"])
    labels = {n.get("label", n["id"]) for n in data["nodes"]}
    assert "linear.weight[0,0]" in labels


def test_a_big_graph_is_stepped_through_by_layer(monkeypatch):
    from graphexplain.nn.mlp import MLPSpec

    e = graphexplain.explain_mlp(MLPSpec((2, 3, 3, 2)))
    monkeypatch.setattr(explorer_data, "STEP_CAP", 10)
    monkeypatch.setattr(explorer_data, "LEAF_CAP", 5)
    data = page_data(graphexplain.html.page(e))
    assert data["stepping"] == "group"
    layers = [s["caption"] for s in data["steps"] if s["phase"] == "forward"]
    assert len(layers) == 6 and layers[0].startswith("Forward pass: layer 1, f1 … f3")
    # each group is one generation: the nodes of a step depend only on earlier steps
    seen = {n["id"] for n in data["nodes"] if n["kind"] != "op"}
    ids = [n["id"] for n in data["nodes"]]
    for step in data["steps"]:
        if step["phase"] == "forward":
            members = {ids[i] for i in step["nodes"]}
            assert all(set(e.graph.predecessors(n)) <= seen for n in members)
            seen |= members
    assert sum(1 for leaf in data["leaves"] if "lines" in leaf) == 5
    assert all(leaf["text"] for leaf in data["leaves"])


def test_32_64_64_10_is_at_most_5_MB():
    """The issue's size limit, on the network of 6,922 weights (about 10 s to explain)."""
    from graphexplain.nn.mlp import MLPSpec

    e = graphexplain.explain_mlp(MLPSpec((32, 64, 64, 10)))
    html = graphexplain.html.page(e)
    assert len(html.encode("utf-8")) <= 5_000_000
    data = page_data(html)
    assert data["stepping"] == "group" and len(data["steps"]) < 40
    assert len(data["leaves"]) == 6922
    assert sum(1 for leaf in data["leaves"] if "lines" in leaf) <= explorer_data.LEAF_CAP
