"""The layer view: a network too big to draw neuron by neuron, drawn one box per layer.

What it does: :func:`should_collapse` says when a network is too big for the network view
(more than :data:`MAX_NEURONS` neurons, inputs included, or :data:`MAX_WEIGHTS` weights: beyond
that its edges merge into a blur; see :mod:`graphexplain.render.network`), and
:func:`layers_dot` draws it as a chain of boxes, in the numbering of the text report's layer
form (:mod:`graphexplain.nn.layers`, the seed's layer section): a⁽⁰⁾ = x is the input, and
each box is layer n = 1 … L with

- its shape, ``32 → 64`` (and the size of a batch, when the model ran on several samples);
- its formulas: forward z⁽ⁿ⁾ = W⁽ⁿ⁾a⁽ⁿ⁻¹⁾ + b⁽ⁿ⁾ and a⁽ⁿ⁾ = σ(z⁽ⁿ⁾); backward
  δ⁽ⁿ⁾ = (W⁽ⁿ⁺¹⁾ᵀδ⁽ⁿ⁺¹⁾) ⊙ σ′(z⁽ⁿ⁾) (δ⁽ᴸ⁾ = ∂loss/∂a⁽ᴸ⁾ ⊙ σ′(z⁽ᴸ⁾) at the output),
  ∂loss/∂W⁽ⁿ⁾ = δ⁽ⁿ⁾a⁽ⁿ⁻¹⁾ᵀ and ∂loss/∂b⁽ⁿ⁾ = δ⁽ⁿ⁾; and how W⁽ⁿ⁾ ties to the weights'
  names, W⁽ⁿ⁾[j,i] = wn[i,j];
- its numbers at the evaluation's point, as norms: ‖W⁽ⁿ⁾‖ and ‖a⁽ⁿ⁾‖ forward,
  ‖δ⁽ⁿ⁾‖, ‖∂loss/∂W⁽ⁿ⁾‖ and ‖∂loss/∂b⁽ⁿ⁾‖ backward (Frobenius, √Σ entries²).

The arrows between boxes carry a⁽ⁿ⁾ forward and ∂loss/∂a⁽ⁿ⁾ = W⁽ⁿ⁺¹⁾ᵀδ⁽ⁿ⁺¹⁾ backward. The
numbers of a ``graphexplain mlp`` network come from :func:`graphexplain.nn.layers.layer_form`,
the matrices the text report prints; those of any other network (torch ``nn.Linear`` layers)
from the graph's own gradients, layer by layer.

What it does not do: draw neurons or weights (the network view, ``--expand``), or evaluate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import graphviz
import networkx as nx
import numpy

from .. import ops, printing
from ..errors import RenderError
from ..graph import label
from ..nn.layers import FUNCTION, layer_form, sup
from . import dot
from .network import Network, structure

MAX_NEURONS = 48  # neurons (inputs included) the network view draws one by one
MAX_WEIGHTS = 512  # weights (edges) the network view draws one by one
DIGITS = 4

Row = tuple[str, str | None, bool]  # text, colour (None: the ink), bold


# --- when ----------------------------------------------------------------------------------------


def _size(G: nx.DiGraph) -> tuple[int, int] | None:
    """(neurons, weights) of the network in G, or None if G is not one."""
    spec = G.graph.get("mlp")
    if spec is not None:  # quick, for a big MLP
        return sum(spec.layers), sum(a * b for a, b in zip(spec.layers, spec.layers[1:]))
    net = structure(G)
    return None if net is None else (sum(net.columns), net.n_weights)


def should_collapse(G: nx.DiGraph, *, max_neurons: int = MAX_NEURONS,
                    max_weights: int = MAX_WEIGHTS) -> bool:
    """Whether the network in ``G`` is drawn as layers rather than neuron by neuron: more than
    ``max_neurons`` neurons (inputs included) or ``max_weights`` weights. False for a graph
    that is not a network.

    Examples
    --------
    >>> from graphexplain.nn.mlp import MLPSpec, build_mlp
    >>> should_collapse(build_mlp(MLPSpec((4, 16, 16, 3)))), should_collapse(
    ...     build_mlp(MLPSpec((32, 64, 64, 10))))
    (False, True)
    """
    size = _size(G)
    return size is not None and (size[0] > max_neurons or size[1] > max_weights)


# --- the numbers of each layer -------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    """Layer n of a network, for the picture: a⁽ⁿ⁾ = A(W⁽ⁿ⁾a⁽ⁿ⁻¹⁾ + b⁽ⁿ⁾).

    ``fan_in → fan_out`` neurons per sample, ``samples`` copies in a batch, ``activation``
    an op-table name, ``weight`` how W⁽ⁿ⁾'s entries are named, and ``norms`` the Frobenius
    norms at the point (``W``, ``a``, ``delta``, ``dW``, and ``db`` with biases)."""

    n: int
    fan_in: int
    fan_out: int
    activation: str
    bias: bool
    weight: str
    samples: int = 1
    norms: dict = field(default_factory=dict)


def _norm(values) -> float:
    return float(numpy.linalg.norm(numpy.array([float(x) for x in values], dtype=float)))


def _mlp_boxes(G: nx.DiGraph, ev) -> list[Box]:
    """The boxes of a ``graphexplain mlp`` network, numbers from its layer form."""
    spec = G.graph["mlp"]
    forms = layer_form(G, ev) if ev is not None else [None] * (len(spec.layers) - 1)
    boxes = []
    for n, ly in enumerate(forms, start=1):
        act = spec.output_activation if n == len(spec.layers) - 1 else spec.activation
        norms = {} if ly is None else {"W": _norm(ly.W), "a": _norm(ly.a_out),
                                       "delta": _norm(ly.delta_out), "dW": _norm(ly.dW)}
        if ly is not None and ly.db is not None:
            norms["db"] = _norm(ly.db)
        boxes.append(Box(n, spec.layers[n - 1], spec.layers[n], act, spec.bias,
                         f"W{sup(n)}[j,i] = w{n}[i,j]", 1, norms))
    return boxes


def _graph_box(G: nx.DiGraph, ev, net: Network, n: int) -> Box:
    """Layer n of any network, numbers from the graph's values and gradients; a batch's
    copies of a neuron share their weights, so each weight is counted once."""
    layer = net.layers[n - 1]
    rows = list(dict.fromkeys(tuple(w for w, _ in z.weights) for z in layer))
    weights = [w for row in rows for w in row]
    biases = list(dict.fromkeys(z.bias for z in layer if z.bias))
    act = G.nodes[layer[0].act]["op"] if layer[0].act else "identity"
    stem = label(G, weights[0]).split("[")[0]
    norms = {}
    if ev is not None:
        norms = {"W": _norm(ev.values[w] for w in weights),
                 "a": _norm(ev.values[z.out] for z in layer),
                 "delta": _norm(ev.adjoints.get(z.id, 0.0) for z in layer),
                 "dW": _norm(ev.adjoints.get(w, 0.0) for w in weights)}
        if biases:
            norms["db"] = _norm(ev.adjoints.get(b, 0.0) for b in biases)
    return Box(n, len(rows[0]), len(rows), act, bool(biases), f"W{sup(n)} = {stem}",
               len(layer) // len(rows), norms)


def boxes(G: nx.DiGraph, ev=None) -> list[Box]:
    """The layers of the network in ``G``, 1 … L, with their norms when ``ev`` is given.

    Examples
    --------
    >>> from graphexplain.api import explain_mlp
    >>> from graphexplain.nn.mlp import MLPSpec
    >>> e = explain_mlp(MLPSpec((3, 4, 2)), verify=False)
    >>> [(b.n, b.fan_in, b.fan_out, b.activation) for b in boxes(e.graph, e.evaluation)]
    [(1, 3, 4, 'sigmoid'), (2, 4, 2, 'identity')]
    """
    if "mlp" in G.graph:
        return _mlp_boxes(G, ev)
    net = structure(G)
    if net is None:
        raise RenderError("the layer view needs a layered network; draw this graph as a "
                          "circuit")
    return [_graph_box(G, ev, net, n) for n in range(1, len(net.layers) + 1)]


# --- text ----------------------------------------------------------------------------------------


def _num(x: float) -> str:
    return printing.number(x, digits=DIGITS)


def _fn(act: str) -> str:
    """How a formula writes an activation: σ for sigmoid, else its name."""
    return FUNCTION.get(act, act)


def _label(rows: list[Row], html: bool) -> str:
    """A label of the non-empty rows: coloured (HTML-like) or plain."""
    rows = [r for r in rows if r[0]]
    if html:
        return dot.html_rows([dot.font(t, c, bold=b) for t, c, b in rows])
    return dot.plain_label(t for t, _, _ in rows)


@dataclass(frozen=True)
class _View(dot.ViewFlags):
    d: object
    ev: object | None
    view: str
    html: bool

    @property
    def loss(self) -> str:
        return label(self.d.graph, self.d.output)


def _shape_row(b: Box) -> Row:
    batch = f", {b.samples} samples" if b.samples > 1 else ""
    kind = "linear" if b.activation == "identity" else _fn(b.activation)
    return f"layer {b.n}: {b.fan_in} → {b.fan_out} ({kind}{batch})", None, True


def _forward_rows(v: _View, b: Box) -> list[Row]:
    n, plus = b.n, f" + b{sup(b.n)}" if b.bias else ""
    act = (f"a{sup(n)} = z{sup(n)}" if b.activation == "identity" else
           f"a{sup(n)} = {_fn(b.activation)}(z{sup(n)})")
    rows = [(f"z{sup(n)} = W{sup(n)}a{sup(n - 1)}{plus}", None, False), (act, None, False),
            (f"W{sup(n)}: {b.fan_out}×{b.fan_in},  {b.weight}", None, False)]
    if b.norms:
        rows += [(f"‖W{sup(n)}‖ = {_num(b.norms['W'])},  ‖a{sup(n)}‖ = {_num(b.norms['a'])}",
                  dot.VALUE_COLOR, False)]
    return rows


def _delta_row(v: _View, b: Box, last: bool) -> Row:
    n = b.n
    prime = "" if b.activation == "identity" else f" ⊙ {_fn(b.activation)}′(z{sup(n)})"
    if last:
        return f"δ{sup(n)} = ∂{v.loss}/∂a{sup(n)}{prime}", None, False
    inner = f"W{sup(n + 1)}ᵀδ{sup(n + 1)}"
    return f"δ{sup(n)} = " + (f"({inner}){prime}" if prime else inner), None, False


def _backward_rows(v: _View, b: Box, last: bool) -> list[Row]:
    n, loss = b.n, v.loss
    grads = f"∂{loss}/∂W{sup(n)} = δ{sup(n)}a{sup(n - 1)}ᵀ"
    rows = [_delta_row(v, b, last), (grads + (f",  ∂{loss}/∂b{sup(n)} = δ{sup(n)}"
                                               if b.bias else ""), None, False)]
    if b.norms:
        rows.append((f"‖δ{sup(n)}‖ = {_num(b.norms['delta'])}", dot.GRADIENT_COLOR, False))
        rows.append((f"‖∂{loss}/∂W{sup(n)}‖ = {_num(b.norms['dW'])}", dot.GRADIENT_COLOR,
                     False))
        if "db" in b.norms:
            rows.append((f"‖∂{loss}/∂b{sup(n)}‖ = {_num(b.norms['db'])}",
                         dot.GRADIENT_COLOR, False))
    return rows


def _box_rows(v: _View, b: Box, last: bool) -> list[Row]:
    rows = [_shape_row(b)]
    rows += _forward_rows(v, b) if v.forward else []
    return rows + (_backward_rows(v, b, last) if v.backward else [])


def _loss_rows(v: _View, L: int) -> list[Row]:
    G, out = v.d.graph, v.d.output
    symbol = ops.OPS[G.nodes[out]["op"]].symbol if G.nodes[out]["kind"] == "op" else ""
    name = symbol if symbol.isalpha() else "loss"
    rows = [(f"{v.loss} = {name}(a{sup(L)}, y)", None, True)]
    if v.ev is not None:
        rows.append((f"= {_num(v.ev.values[out])}", dot.VALUE_COLOR, False))
    return rows


# --- the drawing ---------------------------------------------------------------------------------


def _flow(v: _View, n: int, size: int, L: int) -> list[Row]:
    """What the arrow out of box n (0: the input) carries: a⁽ⁿ⁾ forward, ∂loss/∂a⁽ⁿ⁾
    backward (none into the input, which gets no gradient here)."""
    rows = [(f"a{sup(n)}: {size}", dot.VALUE_COLOR, False)] if v.forward else []
    if v.backward and n > 0:
        back = f"∂{v.loss}/∂a{sup(n)}" + ("" if n == L else f" = W{sup(n + 1)}ᵀδ{sup(n + 1)}")
        rows.append((back, dot.GRADIENT_COLOR, False))
    return rows


def _boxes_dot(g: graphviz.Digraph, v: _View, layers: list[Box]) -> list[str]:
    """The input, one box per layer and the loss, left to right; returns their DOT ids."""
    taken = set(v.d.graph)
    ids = [dot.fresh_id("inputs", taken)] + [dot.fresh_id(f"layer{b.n}", taken) for b in layers]
    x = [(f"input a{sup(0)} = x", None, True), (f"{layers[0].fan_in} values", None, False)]
    g.node(ids[0], _label(x, v.html), shape="box", style="rounded,filled",
           fillcolor="#eef4fb", **{"class": "input"})
    for b, n in zip(layers, ids[1:]):
        g.node(n, _label(_box_rows(v, b, b.n == len(layers)), v.html), shape="box",
               style="rounded", **{"class": "layer"})
    g.node(v.d.output, _label(_loss_rows(v, len(layers)), v.html), shape="box",
           style="rounded,filled,bold", fillcolor="#fbf3e4", **{"class": "loss"})
    return [*ids, v.d.output]


def layers_dot(d, ev=None, *, view: str = "both", html: bool | None = None) -> graphviz.Digraph:
    """The layer view of a derivation of a network (see the module doc).

    Parameters
    ----------
    d : a :class:`~graphexplain.derive.Derivation` of a network's graph.
    ev : its :class:`~graphexplain.evaluate.Evaluation`, or None for the formulas only.
    view : ``forward``, ``backward``, ``both`` or ``paths`` (which draws as ``forward``:
        a path runs through single weights, which this view does not show).
    html : coloured (HTML-like) labels, or plain ones; by default, what the backend draws.

    Examples
    --------
    >>> from graphexplain.api import explain_mlp
    >>> from graphexplain.nn.mlp import MLPSpec
    >>> e = explain_mlp(MLPSpec((3, 4, 2)), verify=False)
    >>> src = layers_dot(e.derivation, e.evaluation, html=False).source
    >>> "layer 1: 3 → 4 (σ)" in src and "δ⁽¹⁾ = (W⁽²⁾ᵀδ⁽²⁾) ⊙ σ′(z⁽¹⁾)" in src
    True
    """
    v = _View(d, ev, view, dot.html_labels() if html is None else html)
    layers = boxes(d.graph, ev)
    g = dot.new_digraph("layers", ranksep="0.45", nodesep="0.3")
    ends = _boxes_dot(g, v, layers)
    sizes = [layers[0].fan_in] + [b.fan_out for b in layers]
    for k, (a, b) in enumerate(zip(ends, ends[1:])):
        g.edge(a, b, _label(_flow(v, k, sizes[k], len(layers)), v.html), **{"class": "flow"},
               **({"dir": "back"} if view == "backward" else {}))
    return g
