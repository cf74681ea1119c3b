"""Layer (matrix) form of backprop for an MLP graph: the same numbers, one layer at a time.

Convention (the seed's layer section): a⁽⁰⁾ = x is the input and a⁽ⁿ⁾ the n-th layer after
it, n = 1 … L, with

- forward:  z⁽ⁿ⁾ = W⁽ⁿ⁾ a⁽ⁿ⁻¹⁾ + b⁽ⁿ⁾,  a⁽ⁿ⁾ = A(z⁽ⁿ⁾)  (the seed's a⁽¹⁾ = σ(W a⁽⁰⁾ + b)),
  where A is the hidden activation for n < L and the output activation for n = L (the
  identity by default: then a⁽ᴸ⁾ = z⁽ᴸ⁾);
- backward: δ⁽ᴸ⁾ = ∂L/∂a⁽ᴸ⁾ ⊙ A_out′(z⁽ᴸ⁾),  δ⁽ⁿ⁾ = (W⁽ⁿ⁺¹⁾ᵀ δ⁽ⁿ⁺¹⁾) ⊙ A′(z⁽ⁿ⁾), where
  δ⁽ⁿ⁾ = ∂L/∂z⁽ⁿ⁾ (no A′ factor for a layer without activation);
- gradients: ∂L/∂W⁽ⁿ⁾ = δ⁽ⁿ⁾ a⁽ⁿ⁻¹⁾ᵀ,  ∂L/∂b⁽ⁿ⁾ = δ⁽ⁿ⁾ (no b at all with ``--no-bias``).

Row j of W⁽ⁿ⁾ holds the weights into neuron j (the seed's w_{j,i}, torch's
``nn.Linear.weight``, of shape (out, in)). The seed's 3-layer section numbers its layers from
1 (the inputs) and writes w_n[i,j] from neuron i of its layer n to neuron j of layer n+1,
which are a⁽ⁿ⁻¹⁾ and a⁽ⁿ⁾ here, so W⁽ⁿ⁾[j,i] = w_n[i,j], 1-based: W⁽¹⁾[2,1] = w1[1,2], the
weight from x1 into f2.

The numbers come from the graph's evaluation (values and local partials) and the recurrence
is recomputed with matrices, so that entry [j,i] of δ⁽ⁿ⁾a⁽ⁿ⁻¹⁾ᵀ can be checked against the
graph's gradient of w_n[i,j]. The symbolic form uses A′ for the activation's derivative, as
the seed does. :func:`to_text` prints it all for a person.

What it does not do: build or evaluate the graph (see :mod:`graphexplain.nn.mlp`).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import sympy

from .. import ops
from ..evaluate import Evaluation
from ..i18n import _
from ..printing import number
from .mlp import MLPSpec, act_name, bias, pre_name, weight

A_PRIME = sympy.Function("A′")
MAX_MATRIX_SHOWN = 6  # a matrix or vector with more rows or columns is shown by its shape
FUNCTION = {"sigmoid": "σ", "identity": "id"}  # how formulas write an activation
LOSS_NAME = {"mse": "MSE", "cross_entropy": "CE", "bce_logits": "BCE"}


@dataclass(frozen=True)
class Layer:
    """Layer n (1 … L) at the evaluation's point: a⁽ⁿ⁾ = A(W⁽ⁿ⁾ a⁽ⁿ⁻¹⁾ + b⁽ⁿ⁾), and the
    quantities of the backward recurrence (numbers, as sympy matrices)."""

    n: int
    W: sympy.Matrix  # W⁽ⁿ⁾, shape (neurons of a⁽ⁿ⁾, neurons of a⁽ⁿ⁻¹⁾); W[j,i] = wn[i,j]
    a_in: sympy.Matrix  # a⁽ⁿ⁻¹⁾
    z_out: sympy.Matrix  # z⁽ⁿ⁾
    a_out: sympy.Matrix  # a⁽ⁿ⁾
    delta_out: sympy.Matrix  # δ⁽ⁿ⁾ = ∂L/∂z⁽ⁿ⁾
    dW: sympy.Matrix  # δ⁽ⁿ⁾ a⁽ⁿ⁻¹⁾ᵀ
    db: sympy.Matrix | None  # δ⁽ⁿ⁾, None without biases
    b: sympy.Matrix | None = None  # b⁽ⁿ⁾, None without biases
    activation: str = "identity"  # this layer's own activation (an op-table name)
    W_names: tuple[tuple[str, ...], ...] = ()  # node ids, W_names[j-1][i-1] = wn_i_j
    b_names: tuple[str, ...] = ()


# --- the numbers -------------------------------------------------------------------------------


def _column(values, names) -> sympy.Matrix:
    return sympy.Matrix([values[n] for n in names])


def _activation(spec: MLPSpec, n: int) -> str:
    """The activation of layer n (1 … L): the output activation for the last layer."""
    return spec.output_activation if n == len(spec.layers) - 1 else spec.activation


def _names(spec: MLPSpec, n: int) -> tuple[list[str], list[str]]:
    """(z⁽ⁿ⁾ names, a⁽ⁿ⁾ names) for n ≥ 1; for n = 0 both are the inputs x1, x2, …"""
    if n == 0:
        xs = [f"x{i}" for i in range(1, spec.layers[0] + 1)]
        return xs, xs
    pres = [pre_name(spec, n + 1, j) for j in range(1, spec.layers[n] + 1)]
    return pres, pres if _activation(spec, n) == "identity" else [act_name(p) for p in pres]


def _weight_names(spec: MLPSpec, n: int) -> tuple[tuple[str, ...], ...]:
    """W⁽ⁿ⁾'s node ids: row j, column i holds wn[i,j]."""
    return tuple(tuple(weight(n, i, j)[0] for i in range(1, spec.layers[n - 1] + 1))
                 for j in range(1, spec.layers[n] + 1))


def _sigma_prime(ev: Evaluation, pres: list[str], acts: list[str]) -> sympy.Matrix:
    """A′(z) for each neuron: the local partial of z → A(z), or 1 without activation."""
    return sympy.Matrix([ev.locals[p, a] if p != a else 1.0 for p, a in zip(pres, acts)])


def _loss_gradient(G: nx.DiGraph, spec: MLPSpec, ev: Evaluation) -> sympy.Matrix:
    """∂L/∂a⁽ᴸ⁾, the local partials of the loss node."""
    return sympy.Matrix([ev.locals[a, G.graph["output"]]
                         for a in _names(spec, len(spec.layers) - 1)[1]])


def layer_form(G: nx.DiGraph, ev: Evaluation) -> list[Layer]:
    """The matrix recurrence at the evaluation's point, layers 1 … L.

    Examples
    --------
    >>> from graphexplain.api import explain_mlp
    >>> e = explain_mlp(MLPSpec((2, 2, 2, 1), bias=False), verify=False)
    >>> ly = layer_form(e.graph, e.evaluation)
    >>> [(x.n, x.W.shape, x.activation, x.b) for x in ly]
    [(1, (2, 2), 'sigmoid', None), (2, (2, 2), 'sigmoid', None), (3, (1, 2), 'identity', None)]
    >>> float(ly[0].dW[1, 0]) == e.evaluation.adjoints["w1_1_2"]   # W⁽¹⁾[2,1] = w1[1,2]
    True
    """
    spec: MLPSpec = G.graph["mlp"]
    L = len(spec.layers) - 1
    pres, acts = _names(spec, L)
    delta = _loss_gradient(G, spec, ev).multiply_elementwise(_sigma_prime(ev, pres, acts))
    layers = []
    for n in range(L, 0, -1):
        W_names = _weight_names(spec, n)
        W = sympy.Matrix([[ev.values[w] for w in row] for row in W_names])
        pres_in, acts_in = _names(spec, n - 1)
        pres_out, acts_out = _names(spec, n)
        a_in = _column(ev.values, acts_in)
        b_names = tuple(bias(n, j)[0] for j in range(1, spec.layers[n] + 1)) if spec.bias else ()
        b = _column(ev.values, b_names) if spec.bias else None
        layers.append(Layer(n, W, a_in, _column(ev.values, pres_out),
                            _column(ev.values, acts_out), delta, delta * a_in.T,
                            delta if spec.bias else None, b, _activation(spec, n),
                            W_names, b_names))
        if n > 1:  # δ⁽ⁿ⁻¹⁾ = (W⁽ⁿ⁾ᵀ δ⁽ⁿ⁾) ⊙ A′(z⁽ⁿ⁻¹⁾)
            delta = (W.T * delta).multiply_elementwise(_sigma_prime(ev, pres_in, acts_in))
    return layers[::-1]


# --- the same recurrence in symbols ------------------------------------------------------------


def _label_symbol(G: nx.DiGraph, n: str) -> sympy.Symbol:
    return sympy.Symbol(G.nodes[n]["label"] if n in G else n)


def symbolic_deltas(G: nx.DiGraph) -> dict[int, sympy.Matrix]:
    """δ⁽ⁿ⁾ in symbols, n = 1 … L: δ⁽ᴸ⁾ₖ = ∂loss/∂a⁽ᴸ⁾ₖ · A′(z⁽ᴸ⁾ₖ) (no A′ for a linear
    output), δ⁽ⁿ⁾ = (W⁽ⁿ⁺¹⁾ᵀ δ⁽ⁿ⁺¹⁾) ⊙ A′(z⁽ⁿ⁾), with weights and nodes shown by their labels
    (the factors :func:`graphexplain.report.display_local` puts on the edges)."""
    spec: MLPSpec = G.graph["mlp"]
    L, loss = len(spec.layers) - 1, G.graph["output"]

    def a_prime(p: str, a: str):
        return A_PRIME(_label_symbol(G, p)) if p != a else 1

    pres, acts = _names(spec, L)
    deltas = {L: sympy.Matrix([sympy.Symbol(f"∂{G.nodes[loss]['label']}/∂{G.nodes[a]['label']}")
                               * a_prime(p, a) for p, a in zip(pres, acts)])}
    for n in range(L - 1, 0, -1):
        W_sym = sympy.Matrix([[_label_symbol(G, w) for w in row]
                              for row in _weight_names(spec, n + 1)])
        pres, acts = _names(spec, n)
        deltas[n] = (W_sym.T * deltas[n + 1]).multiply_elementwise(
            sympy.Matrix([a_prime(p, a) for p, a in zip(pres, acts)]))
    return deltas


def symbolic_weight_gradient(G: nx.DiGraph, n: int, i: int, j: int) -> sympy.Expr:
    """Entry [j,i] of δ⁽ⁿ⁾ a⁽ⁿ⁻¹⁾ᵀ in symbols: ∂L/∂wn[i,j] by the matrix form."""
    spec: MLPSpec = G.graph["mlp"]
    a_in = _names(spec, n - 1)[1][i - 1]
    return symbolic_deltas(G)[n][j - 1] * _label_symbol(G, a_in)


# --- printing ----------------------------------------------------------------------------------

_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def sup(n: int | str) -> str:
    """``⁽²⁾``, ``⁽ᴸ⁾``"""
    return f"⁽{str(n).translate(_SUP)}⁾"


def _num(x: float, scale: float | None = None) -> str:
    """``0.105754``, ``−3``, ``1.5×10⁻⁵``: the one printer's numbers (a value within 1e-12 of
    the scale of the numbers shown with it prints as 0)."""
    return number(float(x), scale=scale)


def _shape(m: sympy.Matrix) -> str:
    return f"{m.rows}×{m.cols}"


def _too_big(m: sympy.Matrix) -> bool:
    return max(m.rows, m.cols) > MAX_MATRIX_SHOWN


def _vector(m: sympy.Matrix) -> str:
    """A column inline: ``[0.1, −0.2]ᵀ`` (``[0.1]`` for one number), or its shape."""
    if _too_big(m):
        return f"({_shape(m)}, not listed)"
    scale = max((abs(float(v)) for v in m), default=1.0)
    inner = ", ".join(_num(v, scale) for v in m)
    return f"[{inner}]" + ("ᵀ" if m.rows > 1 else "")


def _block(cells: list[list[str]], right: bool = True) -> list[str]:
    """A matrix as lines of aligned columns between brackets (⎡ ⎢ ⎣ when several rows)."""
    widths = [max(len(row[c]) for row in cells) for c in range(len(cells[0]))]
    body = ["  ".join(s.rjust(w) if right else s.ljust(w) for s, w in zip(row, widths))
            for row in cells]
    if len(body) == 1:
        return [f"[{body[0]}]"]
    edges = [("⎡", "⎤")] + [("⎢", "⎥")] * (len(body) - 2) + [("⎣", "⎦")]
    return [f"{lo}{line}{hi}" for (lo, hi), line in zip(edges, body)]


def _numbers(m: sympy.Matrix) -> list[str]:
    scale = max((abs(float(v)) for v in m), default=1.0)
    return _block([[_num(m[r, c], scale) for c in range(m.cols)] for r in range(m.rows)])


def _beside(*parts) -> list[str]:
    """Strings and blocks (lists of lines) side by side, aligned on their first line."""
    blocks = [p if isinstance(p, list) else [p] for p in parts]
    height = max(len(b) for b in blocks)
    lines = []
    for r in range(height):
        lines.append("".join((b[r] if r < len(b) else "").ljust(max(len(s) for s in b))
                             for b in blocks).rstrip())
    return lines


def _fn(act: str) -> str:
    return FUNCTION.get(act, act)


def _header(spec: MLPSpec, L: int) -> list[str]:
    b = " + b⁽ⁿ⁾" if spec.bias else ""
    layer = f"a⁽¹⁾ = σ(W a⁽⁰⁾{' + b' if spec.bias else ''})"
    rows = [(_("Layer form: the seed's {layer}, one layer at a time") if spec.bias else
             _("Layer form: the seed's {layer}, one layer at a time (no biases: --no-bias)"))
            .format(layer=layer),
            "  " + _("{recurrence} for n = 1 … {L}; a⁽⁰⁾ = x is the input.").format(
                recurrence=f"z⁽ⁿ⁾ = W⁽ⁿ⁾ a⁽ⁿ⁻¹⁾{b}, a⁽ⁿ⁾ = A(z⁽ⁿ⁾)", L=L),
            *("  " + line for line in _(
                "W⁽ⁿ⁾[j,i] = wn[i,j]: row j of W⁽ⁿ⁾ holds the weights into neuron j of a⁽ⁿ⁾, and\n"
                "the seed's wn[i,j] runs from neuron i of a⁽ⁿ⁻¹⁾ (its layer n, the inputs "
                "being its\n"
                "layer 1) to neuron j of a⁽ⁿ⁾, as nn.Linear stores it in weight[j−1, i−1]."
            ).split("\n"))]
    hidden = (_("Hidden layers 1 … {last}: {what}") if L > 2 else _("Hidden layer 1: {what}"))
    if L > 1:
        act = spec.activation
        rows.append("  " + hidden.format(last=L - 1, what=(
            _("linear, {a}").format(a="a⁽ⁿ⁾ = z⁽ⁿ⁾") if act == "identity" else
            f"A = {_fn(act)}" + (f" ({act})" if _fn(act) != act else "")
            + f", {ops.OPS[act].maths}")))
    out = spec.output_activation
    rows.append("  " + _("Output layer {L}: {what}").format(L=L, what=(
        _("linear, {a} (no activation, so no A′ in {delta})").format(
            a=f"a{sup(L)} = z{sup(L)}", delta=f"δ{sup(L)}")
        if out == "identity" else f"a{sup(L)} = {_fn(out)}(z{sup(L)}), {ops.OPS[out].maths}")))
    return rows


def _parameters(G: nx.DiGraph, ly: Layer) -> list[str]:
    """W⁽ⁿ⁾ and b⁽ⁿ⁾ by their entries' labels and values."""
    n, rows = ly.n, []
    W = f"W{sup(n)}"
    if _too_big(ly.W):
        rows.append(f"  {W} ({_shape(ly.W)}): W{sup(n)}[j,i] = w{n}[i,j], " + _("not listed"))
    else:
        labels = _block([[G.nodes[w]["label"] for w in row] for row in ly.W_names], right=False)
        rows += ["  " + s for s in _beside(f"{W} = ", labels, " = ", _numbers(ly.W))]
    if ly.b is not None:
        if _too_big(ly.b):
            rows.append(f"  b{sup(n)} ({_shape(ly.b)}): b{sup(n)}[j] = b{n}[j], "
                        + _("not listed"))
        else:
            labels = _block([[G.nodes[b]["label"]] for b in ly.b_names], right=False)
            rows += ["  " + s for s in _beside(f"b{sup(n)} = ", labels, " = ", _numbers(ly.b))]
    return rows


def _forward(ly: Layer) -> list[str]:
    n = ly.n
    b = f" + b{sup(n)}" if ly.b is not None else ""
    shapes = f"({_shape(ly.W)})({_shape(ly.a_in)})" + (f" + ({_shape(ly.b)})" if b else "")
    rows = [f"  z{sup(n)} = W{sup(n)} a{sup(n - 1)}{b}   {shapes} → {_shape(ly.z_out)} = "
            f"{_vector(ly.z_out)}"]
    if ly.activation == "identity":
        rows.append(f"  a{sup(n)} = z{sup(n)}   " + _("(linear)"))
    else:
        rows.append(f"  a{sup(n)} = {_fn(ly.activation)}(z{sup(n)}) = {_vector(ly.a_out)}")
    return rows


def _loss_rows(G: nx.DiGraph, spec: MLPSpec, ev: Evaluation, L: int) -> tuple[str, str]:
    """(the loss line, ∂loss/∂a⁽ᴸ⁾ as a formula in a⁽ᴸ⁾ and y, parenthesized if a sum)."""
    loss = G.graph["output"]
    op, K = G.nodes[loss]["op"], spec.layers[-1]
    ys = [ev.values[f"y{k}"] for k in range(1, K + 1)]
    a, ak = f"a{sup(L)}", f"a{sup(L)}ₖ"
    mean = "" if K == 1 else f"(1/{K})·Σₖ "
    if op == "mse":
        defn = f"(a{sup(L)} − y)²" if K == 1 else f"{mean}({ak} − yₖ)²"
        grad = {1: f"2·({a} − y)", 2: f"({a} − y)"}.get(K, f"2·({a} − y)/{K}")
    elif op == "bce_logits":
        defn = (f"−(y·log σ({a}) + (1 − y)·log(1 − σ({a})))" if K == 1 else
                f"−{mean}(yₖ·log σ({ak}) + (1 − yₖ)·log(1 − σ({ak})))")
        grad = f"(σ({a}) − y)" + ("" if K == 1 else f"/{K}")
    else:
        defn = f"−Σₖ yₖ·log softmax({a})ₖ"
        grad = f"(softmax({a}) − y)" if abs(sum(ys) - 1) < 1e-12 else \
            f"(softmax({a})·Σₖyₖ − y)"
    line = (f"  {G.nodes[loss]['label']} = {LOSS_NAME[op]}({a}, y) = {defn} = "
            f"{_num(ev.values[loss])},  y = {_vector(sympy.Matrix(ys))}")
    return line, grad


def _backward(ly: Layer, nxt: Layer | None, grad: str, loss: str) -> list[str]:
    n, d = ly.n, f"δ{sup(ly.n)}"
    prime = "" if ly.activation == "identity" else f" ⊙ {_fn(ly.activation)}′(z{sup(n)})"
    if nxt is None:
        shown = grad[1:-1] if not prime and grad.startswith("(") and grad.endswith(")") \
            else grad
        rows = [f"  {d} = ∂{loss}/∂a{sup(n)}{prime} = {shown}{prime}   "
                f"{_shape(ly.delta_out)} = {_vector(ly.delta_out)}"]
    else:
        shapes = f"({_shape(nxt.W.T)})({_shape(nxt.delta_out)})" + (
            f" ⊙ ({_shape(ly.z_out)})" if prime else "")
        rows = [f"  {d} = (W{sup(n + 1)}ᵀ δ{sup(n + 1)}){prime}   {shapes} → "
                f"{_shape(ly.delta_out)} = {_vector(ly.delta_out)}"]
    head = f"  ∂{loss}/∂W{sup(n)} = {d} a{sup(n - 1)}ᵀ   ({_shape(ly.delta_out)})" \
           f"({_shape(ly.a_in.T)}) → {_shape(ly.dW)}"
    rows += ([f"{head}, " + _("not listed")] if _too_big(ly.dW) else
             _beside(head + " = ", _numbers(ly.dW)))
    if ly.db is not None:
        rows.append(f"  ∂{loss}/∂b{sup(n)} = {d} = {_vector(ly.db)}")
    return rows


def to_text(G: nx.DiGraph, ev: Evaluation) -> str:
    """The layer form for a person: the convention, W⁽ⁿ⁾ and b⁽ⁿ⁾ with their values, the
    forward pass, and the backward recurrence with shapes, all at the evaluation's point.

    Examples
    --------
    >>> from graphexplain.api import explain_mlp
    >>> e = explain_mlp(MLPSpec((2, 2, 2, 1), bias=False), verify=False)
    >>> text = to_text(e.graph, e.evaluation)
    >>> "z⁽¹⁾ = W⁽¹⁾ a⁽⁰⁾   (2×2)(2×1) → 2×1" in text, "b⁽" in text
    (True, False)
    """
    spec: MLPSpec = G.graph["mlp"]
    layers = layer_form(G, ev)
    L, loss = len(layers), G.nodes[G.graph["output"]]["label"]
    rows = _header(spec, L)
    rows.append(_("Weights and biases:") if spec.bias else _("Weights:"))
    for ly in layers:
        rows += _parameters(G, ly)
    rows.append(_("Forward, from {input}:").format(input=f"a⁽⁰⁾ = x = {_vector(layers[0].a_in)}"))
    for ly in layers:
        rows += _forward(ly)
    loss_line, grad = _loss_rows(G, spec, ev, L)
    rows.append(loss_line)
    rows.append(_("Backward, {delta}:").format(delta=f"δ⁽ⁿ⁾ = ∂{loss}/∂z⁽ⁿ⁾"))
    for k in range(L - 1, -1, -1):
        rows += _backward(layers[k], layers[k + 1] if k + 1 < L else None, grad, loss)
    return "\n".join(rows) + "\n"
