"""The network view and the layer view, read back from their DOT source (and laid out by the
system ``dot`` where that is what is checked: positions, PNG size, SVG ids)."""

import json
import math
import re
import shutil
import struct

import numpy as np
import pytest

import graphexplain
from graphexplain import printing
from graphexplain.nn.mlp import MLPSpec, build_mlp
from graphexplain.render import layers, network

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs the system dot")

SEED_WEIGHTS = ["w1[1,1]", "w1[2,1]", "w1[1,2]", "w1[2,2]", "w2[1,1]", "w2[2,1]",
                "w2[1,2]", "w2[2,2]", "w3[1,1]", "w3[2,1]"]


# --- reading DOT source --------------------------------------------------------------------------

_ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s\]]+)')
_STMT = re.compile(r'^\s*("(?:[^"\\]|\\.)*"|[^\s\[{}]+)(?: -> ("(?:[^"\\]|\\.)*"|[^\s\[]+))?'
                   r"\s*(?:\[(.*)\])?\s*$")


def _unquote(s: str) -> str:
    return s[1:-1].replace('\\"', '"') if s.startswith('"') else s


def parse(source: str):
    """(nodes: id → attrs, edges: [(tail, head, attrs)], groups: subgraph → node ids in order)
    of a plain-label DOT source as the graphviz package writes it."""
    nodes, edges, groups, current = {}, [], {}, None
    for line in source.splitlines():
        head = re.match(r"\s*subgraph (\S+) \{", line)
        if head:
            current = head.group(1)
            groups.setdefault(current, [])
            continue
        if line.strip() == "}":
            current = None
            continue
        m = _STMT.match(line)
        if not m or "=" in m.group(1):  # not a statement, or a graph attribute
            continue
        attrs = {k: _unquote(v) for k, v in _ATTR.findall(m.group(3) or "")}
        a = _unquote(m.group(1))
        if m.group(2):
            edges.append((a, _unquote(m.group(2)), attrs))
        else:
            nodes.setdefault(a, {}).update(attrs)
            if current is not None:
                groups[current].append(a)
    return nodes, edges, groups


def lines(attrs: dict, key: str = "label") -> list[str]:
    return [s for s in attrs.get(key, "").split("\\n") if s]


def num(x: float) -> str:
    return printing.number(x, digits=network.DIGITS)


def by_class(items, cls: str):
    return [x for x in items if cls in x[-1].get("class", "").split()]


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed():
    return graphexplain.explain_mlp(MLPSpec((2, 2, 2, 1), bias=False), verify=False)


@pytest.fixture(scope="module")
def net342():
    return graphexplain.explain_mlp(MLPSpec((3, 4, 2)), verify=False)


@pytest.fixture(scope="module")
def net416():
    return graphexplain.explain_mlp(MLPSpec((4, 16, 16, 3)), verify=False)


@pytest.fixture(scope="module")
def big():
    return graphexplain.explain_mlp(MLPSpec((32, 64, 64, 10)), verify=False)


@pytest.fixture(scope="module")
def torch_models():
    torch = pytest.importorskip("torch")
    from torch import nn

    from graphexplain.nn.torch import explain_file, explain_module

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1))
    x, y = torch.rand(1, 2), torch.rand(1, 1)
    two = explain_module(net, (x,), loss=nn.MSELoss(), target=y, verify=False)
    lr = explain_file("examples/seed_linear_regression.py:Lr", verify=False)
    return two, lr


def seed_dot(e, **kw):
    return network.network_dot(e.derivation, e.evaluation, html=False, **kw)


# --- which graphs are networks ------------------------------------------------------------------


@pytest.mark.parametrize("layers_", [(2, 1), (2, 2, 2, 1), (3, 4, 2), (4, 5, 5, 3)])
def test_mlps_are_networks(layers_):
    G = build_mlp(MLPSpec(layers_))
    net = network.structure(G)
    assert network.is_network(G)
    assert net.columns == list(layers_)
    assert net.head == ("loss",)


def test_expression_graphs_are_not_networks():
    for program in ["J(a,b,c) = 3(a+bc)", "y = σ(w*x + b); L = (y - t)^2"]:
        assert not network.is_network(graphexplain.explain(program).graph)
        assert not layers.should_collapse(graphexplain.explain(program).graph)


def test_torch_linear_models_are_networks(torch_models):
    two, lr = torch_models
    net = network.structure(two.graph)
    assert network.is_network(two.graph)
    assert net.columns == [2, 3, 1]
    assert all(n.act and two.graph.nodes[n.act]["op"] == "sigmoid" for n in net.layers[0])
    # the seed's Lr: nn.Linear(1, 1) over 5 samples, one row per sample sharing the weight
    net = network.structure(lr.graph)
    assert network.is_network(lr.graph)
    assert net.columns == [5, 5]
    assert net.uses["linear_weight_0_0"] == 5


def test_dot_ids_map_a_neurons_parts_to_its_circle(net342):
    ids = network.dot_ids(net342.graph)
    assert ids["A_f2"] == ids["f2"] == ids["b1_2"] == "f2"
    assert ids["x1"] == "x1" and ids["loss"] == "loss" and ids["y2"] == "y2"


# --- columns -------------------------------------------------------------------------------------


def test_columns_hold_the_neurons_in_order(seed, net342):
    _, _, groups = parse(seed_dot(seed).source)
    assert groups["column0"] == ["x1", "x2"]
    assert groups["column1"] == ["f1", "f2"]
    assert groups["column2"] == ["g1", "g2"]
    assert groups["column3"] == ["out"]
    assert groups["column_loss"][0] == "loss" and "y1" in groups["column_loss"]
    nodes, edges, groups = parse(seed_dot(net342).source)
    assert [groups[f"column{k}"] for k in range(3)] == [
        ["x1", "x2", "x3"], ["f1", "f2", "f3", "f4"], ["out1", "out2"]]
    # invisible edges keep each column's order
    invisible = {(a, b) for a, b, at in edges if at.get("style") == "invis"}
    assert {("x1", "x2"), ("x2", "x3"), ("f3", "f4"), ("out1", "out2")} <= invisible
    assert all(nodes[n]["class"] == "neuron" and nodes[n]["shape"] == "circle"
               for n in ["f1", "out2"])
    assert nodes["x1"]["class"] == "input"


def _positions(g) -> dict[str, tuple[float, float]]:
    """Node centres after layout, from ``dot -Tjson``."""
    out = json.loads(g.pipe(format="json"))
    return {o["name"]: tuple(map(float, o["pos"].split(","))) for o in out["objects"]
            if "pos" in o}


@needs_dot
@pytest.mark.parametrize("which", ["seed", "net416"])
def test_laid_out_columns_run_left_to_right_and_top_to_bottom(which, request):
    e = request.getfixturevalue(which)
    net = network.structure(e.graph)
    pos = _positions(seed_dot(e))
    columns = [list(net.inputs)] + [[n.id for n in layer] for layer in net.layers]
    xs = []
    for column in columns:
        x = {round(pos[n][0], 1) for n in column}
        assert len(x) == 1, column  # aligned in one column
        xs.append(x.pop())
        ys = [pos[n][1] for n in column]  # y grows upwards in Graphviz: the first on top
        assert ys == sorted(ys, reverse=True) and len(set(ys)) == len(ys), column
    assert xs == sorted(xs) and len(set(xs)) == len(xs)  # columns left to right, in order
    assert pos["loss"][0] > pos[columns[-1][0]][0]


# --- weights on the edges ------------------------------------------------------------------------


def test_the_seeds_ten_weights_are_its_edges_with_their_numbers(seed):
    ev, G = seed.evaluation, seed.graph
    _, edges, _ = parse(seed_dot(seed).source)
    weights = by_class(edges, "weight")
    assert len(weights) == 10
    by_label = {lines(at)[0].split(" = ")[0]: (a, b, at) for a, b, at in weights}
    assert sorted(by_label) == sorted(SEED_WEIGHTS)
    for a, b, at in weights:
        w = at["id"]
        n, i, j = (int(k) for k in w[1:].split("_"))
        # w_n[i,j] runs from neuron i of the seed's layer n to neuron j of layer n+1
        assert a == ["x", "f", "g"][n - 1] + str(i)
        assert b == ["f", "g", "out"][n - 1] + (str(j) if n < 3 else "")
        assert lines(at) == [f"w{n}[{i},{j}] = {num(ev.values[w])}",
                             f"∂loss/∂w{n}[{i},{j}] = {num(ev.adjoints[w])}"]
        assert G.nodes[w]["label"] == f"w{n}[{i},{j}]"


def test_neurons_show_pre_activation_activation_and_gradient(seed):
    ev = seed.evaluation
    nodes, _, _ = parse(seed_dot(seed).source)
    assert lines(nodes["f2"]) == [f"f2 = {num(ev.values['f2'])}",
                                  f"A(f2) = {num(ev.values['A_f2'])}",
                                  f"∂loss/∂f2 = {num(ev.adjoints['f2'])}"]
    assert lines(nodes["x1"]) == [f"x1 = {num(ev.values['x1'])}"]
    assert lines(nodes["loss"]) == ["loss = MSE(out, y1)", f"= {num(ev.values['loss'])}"]
    assert lines(nodes["y1"]) == [f"y1 = {num(ev.values['y1'])}"]
    back, _, _ = parse(seed_dot(seed, view="backward").source)
    assert lines(back["f2"]) == ["f2 → A(f2)", f"∂loss/∂f2 = {num(ev.adjoints['f2'])}"]


def test_biases_are_written_in_their_neuron(net342):
    nodes, edges, _ = parse(seed_dot(net342).source)
    assert f"b1[2] = {num(net342.evaluation.values['b1_2'])}" in lines(nodes["f2"])
    assert not [e for e in edges if e[2].get("id", "").startswith("b")]


@pytest.mark.parametrize("view", ["forward", "both", "backward"])
def test_edge_colour_follows_the_sign_and_width_the_size(seed, view):
    ev = seed.evaluation
    _, edges, _ = parse(seed_dot(seed, view=view).source)
    weights = by_class(edges, "weight")
    follow = ev.adjoints if view == "backward" else ev.values
    for _, _, at in weights:
        x = follow[at["id"]]
        assert at["color"] == (network.POSITIVE if x >= 0 else network.NEGATIVE)
    biggest = max(weights, key=lambda e: abs(follow[e[2]["id"]]))
    smallest = min(weights, key=lambda e: abs(follow[e[2]["id"]]))
    assert float(biggest[2]["penwidth"]) == pytest.approx(network.MAX_WIDTH)
    assert float(smallest[2]["penwidth"]) < float(biggest[2]["penwidth"])
    if view == "backward":  # the gradient flows back: the arrows point to the inputs
        assert all(at.get("dir") == "back" for *_, at in weights)
    key = [lines(at)[0] for at in parse(seed_dot(seed, view=view).source)[0].values()
           if at.get("class") == "legend"]
    what = "∂loss/∂w" if view == "backward" else "w"
    assert f"▬▬  {what} > 0" in key and f"width ∝ |{what}|" in key


def test_a_big_network_keeps_its_numbers_in_tooltips(net416):
    nodes, edges, _ = parse(seed_dot(net416).source)
    weights = by_class(edges, "weight")
    assert len(weights) == 4 * 16 + 16 * 16 + 16 * 3
    assert all("label" not in at and at["tooltip"].startswith(lines(at, "tooltip")[0])
               for *_, at in weights)
    assert lines(nodes["f3"]) == ["f3"]
    assert f"A(f3) = {num(net416.evaluation.values['A_f3'])}" in lines(nodes["f3"], "tooltip")


# --- the paths of w1[1,2] ------------------------------------------------------------------------


def _legend(nodes) -> list[list[str]]:
    return [lines(at) for n, at in nodes.items() if at.get("class") == "legend"]


_PATH = re.compile(r"path (\d+) = (\S+) \((\S+)%\)")


def _shares(legend) -> list[tuple[int, str, float, str]]:
    out = []
    for entry in legend:
        m = _PATH.match(entry[0])
        if m:
            share = float(m.group(3).replace("−", "-"))
            out.append((int(m.group(1)), m.group(2), share, entry[1]))
    return out


def test_wrt_colours_exactly_the_two_paths_of_the_seed(seed):
    _, edges, _ = parse(seed_dot(seed, wrt="w1_1_2").source)
    lit = by_class(edges, "path")
    colours = {c for *_, at in lit for c in at["color"].split(":")}
    assert len(colours) == 2
    assert {at.get("id", f"{a}->{b}") for a, b, at in lit} == {
        "w1_1_2", "w2_2_1", "w2_2_2", "w3_1_1", "w3_2_1", "out->loss"}
    shared = {at.get("id", f"{a}->{b}") for a, b, at in lit if ":" in at["color"]}
    assert shared == {"w1_1_2", "out->loss"}  # both paths run along these
    faded = [at for *_, at in by_class(edges, "weight") if "path" not in at["class"]]
    assert len(faded) == 5 and all(len(lines(at)) == 2 for at in faded)  # still labelled


def test_the_legend_gives_each_paths_product_value_and_share(seed):
    d, ev = seed.derivation, seed.evaluation
    nodes, _, _ = parse(seed_dot(seed, wrt="w1_1_2").source)
    legend = _legend(nodes)
    grad = ev.adjoints["w1_1_2"]
    assert legend[0] == [f"∂loss/∂w1[1,2] = {num(grad)}", "= the sum over 2 paths:"]
    rows = _shares(legend)
    assert [r[3] for r in rows] == ["x1·A′(f2)·w2[2,1]·A′(g1)·w3[1,1]·∂loss/∂out",
                                    "x1·A′(f2)·w2[2,2]·A′(g2)·w3[2,1]·∂loss/∂out"]
    values = [math.prod(ev.locals[s] for s in zip(p, p[1:])) for p in d.paths["w1_1_2"]]
    assert sum(values) == pytest.approx(grad, rel=1e-12)
    assert [r[1] for r in rows] == [num(x) for x in values]
    assert sum(r[2] for r in rows) == pytest.approx(100.0, abs=1e-9)
    for (_, _, share, _), x in zip(rows, values):
        assert share == pytest.approx(100 * x / grad, abs=0.051)
    assert any(r[2] < 0 for r in rows)  # one path pulls the other way: a negative share
    assert any("(−" in e[0] for e in legend)  # with a true minus


def test_paths_in_a_batch_are_one_per_sample(torch_models):
    _, lr = torch_models
    d, ev = lr.derivation, lr.evaluation
    nodes, edges, _ = parse(network.network_dot(d, ev, wrt="linear_weight_0_0",
                                                html=False).source)
    rows = _shares(_legend(nodes))
    assert len(rows) == 5
    assert [r[3] for r in rows] == [f"x[{i},0]·∂loss/∂out[{i},0]" for i in range(5)]
    assert sum(r[2] for r in rows) == pytest.approx(100.0, abs=1e-9)
    weights = by_class(edges, "weight")
    assert sorted(at["id"] for *_, at in weights) == sorted(
        f"linear_weight_0_0:out_{i}_0" for i in range(5))
    assert len({at["color"] for *_, at in by_class(edges, "path")}) == 5


def test_paths_view_defaults_to_the_first_weight(seed):
    nodes, _, _ = parse(seed_dot(seed, view="paths").source)
    assert _legend(nodes)[0][0].startswith("∂loss/∂w1[1,1] = ")


# --- the layer view ------------------------------------------------------------------------------


def test_collapse_threshold(seed, net342, net416, big):
    assert not any(layers.should_collapse(e.graph) for e in (seed, net342, net416))
    assert layers.should_collapse(big.graph)
    assert layers.should_collapse(net416.graph, max_weights=300)


def test_layer_view_of_32_64_64_10(big):
    G, ev = big.graph, big.evaluation
    nodes, edges, _ = parse(layers.layers_dot(big.derivation, ev, html=False).source)
    boxes = [at for at in nodes.values() if at.get("class") == "layer"]
    assert len(boxes) == 3
    heads = [lines(at)[0] for at in boxes]
    assert heads == ["layer 1: 32 → 64 (σ)", "layer 2: 64 → 64 (σ)", "layer 3: 64 → 10 (linear)"]
    spec = G.graph["mlp"]
    for n, at in enumerate(boxes, start=1):
        text = lines(at)
        ws = [f"w{n}_{i}_{j}" for j in range(1, spec.layers[n] + 1)
              for i in range(1, spec.layers[n - 1] + 1)]
        bs = [f"b{n}_{j}" for j in range(1, spec.layers[n] + 1)]
        dW = np.linalg.norm([ev.adjoints[w] for w in ws])
        db = np.linalg.norm([ev.adjoints[b] for b in bs])
        W = np.linalg.norm([ev.values[w] for w in ws])
        assert f"‖∂loss/∂W⁽{'¹²³'[n - 1]}⁾‖ = {num(dW)}" in text
        assert f"‖∂loss/∂b⁽{'¹²³'[n - 1]}⁾‖ = {num(db)}" in text
        assert any(s.startswith(f"‖W⁽{'¹²³'[n - 1]}⁾‖ = {num(W)}") for s in text)
        assert f"∂loss/∂W⁽{'¹²³'[n - 1]}⁾ = δ⁽{'¹²³'[n - 1]}⁾a⁽{'⁰¹²'[n - 1]}⁾ᵀ,  " \
               f"∂loss/∂b⁽{'¹²³'[n - 1]}⁾ = δ⁽{'¹²³'[n - 1]}⁾" in text
    assert "δ⁽¹⁾ = (W⁽²⁾ᵀδ⁽²⁾) ⊙ σ′(z⁽¹⁾)" in lines(boxes[0])
    assert "δ⁽³⁾ = ∂loss/∂a⁽³⁾" in lines(boxes[2])
    assert "z⁽¹⁾ = W⁽¹⁾a⁽⁰⁾ + b⁽¹⁾" in lines(boxes[0])
    assert "W⁽¹⁾: 64×32,  W⁽¹⁾[j,i] = w1[i,j]" in lines(boxes[0])
    assert lines(nodes["loss"]) == ["loss = MSE(a⁽³⁾, y)", f"= {num(ev.values['loss'])}"]
    flows = [lines(at) for *_, at in by_class(edges, "flow")]
    assert flows[0] == ["a⁽⁰⁾: 32"] and flows[1] == ["a⁽¹⁾: 64", "∂loss/∂a⁽¹⁾ = W⁽²⁾ᵀδ⁽²⁾"]


def test_layer_view_of_a_torch_model(torch_models):
    two, lr = torch_models
    nodes, _, _ = parse(layers.layers_dot(two.derivation, two.evaluation, html=False).source)
    heads = [lines(at)[0] for at in nodes.values() if at.get("class") == "layer"]
    assert heads == ["layer 1: 2 → 3 (σ)", "layer 2: 3 → 1 (linear)"]
    (box,) = layers.boxes(lr.graph, lr.evaluation)
    assert (box.fan_in, box.fan_out, box.samples) == (1, 1, 5)
    assert box.norms["dW"] == pytest.approx(abs(lr.evaluation.adjoints["linear_weight_0_0"]))


# --- mathematical labels only ---------------------------------------------------------------------

_CODE = [re.compile(p) for p in (r"\*", r"\de[+-]?\d", r"(?<![\w\]])-\s?\d", r"\w_\w",
                                 r"Piecewise|Heaviside|sigmoid|\*\*")]


def _texts(source: str) -> list[str]:
    nodes, edges, _ = parse(source)
    items = list(nodes.values()) + [at for *_, at in edges]
    return [s for at in items for key in ("label", "tooltip") for s in lines(at, key)]


def test_labels_are_mathematics_not_python(seed, net342, net416, big):
    sources = [seed_dot(seed, view=v).source for v in network.VIEWS]
    sources += [seed_dot(seed, wrt="w1_1_2").source, seed_dot(net342, wrt="b1_2").source,
                seed_dot(net416, view="backward").source]
    sources += [layers.layers_dot(big.derivation, big.evaluation, view=v, html=False).source
                for v in ("both", "forward", "backward")]
    texts = [t for s in sources for t in _texts(s)]
    assert len(texts) > 100
    for t in texts:
        for pattern in _CODE:
            assert not pattern.search(t), (pattern.pattern, t)


def test_coloured_labels_carry_the_same_text(seed):
    source = network.network_dot(seed.derivation, seed.evaluation, html=True).source
    assert "<TABLE" in source
    value = num(seed.evaluation.values["w1_1_2"])
    assert f"w1[1,2] = {value}" in source
    assert f'COLOR="{graphexplain.render.dot.GRADIENT_COLOR}"' in source


# --- pictures ------------------------------------------------------------------------------------


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@needs_dot
@pytest.mark.parametrize("view", ["both", "forward", "backward", "paths"])
def test_the_seeds_png_is_at_most_2000_px_wide(seed, view):
    g = network.network_dot(seed.derivation, seed.evaluation, view=view, wrt="w1_1_2")
    width, height = _png_size(g.pipe(format="png"))
    assert width <= 2000 and height <= 1000


@needs_dot
def test_svg_carries_ids_and_classes_for_the_explorer(seed):
    svg = network.network_dot(seed.derivation, seed.evaluation).pipe(format="svg").decode()
    assert re.search(r'<g id="node\d+" class="node neuron">\s*<title>f2</title>', svg)
    assert re.search(r'<g id="w1_1_2" class="edge weight">\s*<title>x1&#45;&gt;f2</title>',
                     svg)
