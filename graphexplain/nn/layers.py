"""Layer (matrix) form of backprop for an MLP graph: the same numbers, one layer at a time.

Convention (the seed's): layer 1 holds the inputs, and W⁽ⁿ⁾ maps layer n to layer n+1, so
W⁽ⁿ⁾[j,i] = w_n[i,j] (rows are the receiving neurons). Then

- forward:  z⁽ⁿ⁺¹⁾ = W⁽ⁿ⁾ a⁽ⁿ⁾ + b⁽ⁿ⁾,  a⁽ⁿ⁺¹⁾ = σ(z⁽ⁿ⁺¹⁾),  a⁽¹⁾ = x  (the seed's σ(Wa+b));
- backward: δ⁽ᴸ⁾ = ∂L/∂a⁽ᴸ⁾ ⊙ σ_out′(z⁽ᴸ⁾),  δ⁽ⁿ⁾ = (W⁽ⁿ⁾ᵀ δ⁽ⁿ⁺¹⁾) ⊙ σ′(z⁽ⁿ⁾);
- gradients: ∂L/∂W⁽ⁿ⁾ = δ⁽ⁿ⁺¹⁾ a⁽ⁿ⁾ᵀ,  ∂L/∂b⁽ⁿ⁾ = δ⁽ⁿ⁺¹⁾,

where δ⁽ⁿ⁾ = ∂L/∂z⁽ⁿ⁾. (With W⁽ⁿ⁾ mapping n → n+1, the recurrence reads W⁽ⁿ⁾ᵀ, not
W⁽ⁿ⁺¹⁾ᵀ as in texts that number the weight matrix after the layer it feeds.)

The numbers come from the graph's evaluation (values and local partials), and the recurrence
is recomputed with matrices, so that entry [j,i] of δ⁽ⁿ⁺¹⁾a⁽ⁿ⁾ᵀ can be checked against the
scalar path sum for w_n[i,j]. The symbolic form uses A′ for the activation's derivative.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import sympy

from ..evaluate import Evaluation
from .mlp import MLPSpec, act_name, pre_name, weight

A_PRIME = sympy.Function("A′")


@dataclass(frozen=True)
class Layer:
    """Layer n → n+1: its weight matrix and the quantities of the recurrence (numbers)."""

    n: int
    W: sympy.Matrix  # values, shape (size[n+1], size[n])
    a_in: sympy.Matrix  # a⁽ⁿ⁾
    z_out: sympy.Matrix  # z⁽ⁿ⁺¹⁾
    a_out: sympy.Matrix  # a⁽ⁿ⁺¹⁾
    delta_out: sympy.Matrix  # δ⁽ⁿ⁺¹⁾
    dW: sympy.Matrix  # δ⁽ⁿ⁺¹⁾ a⁽ⁿ⁾ᵀ
    db: sympy.Matrix | None


def _column(values, names) -> sympy.Matrix:
    return sympy.Matrix([values[n] for n in names])


def _names(spec: MLPSpec, layer: int) -> tuple[list[str], list[str]]:
    """(pre-activation names, activation names) of a layer ≥ 2; layer 1's are the inputs."""
    if layer == 1:
        xs = [f"x{i}" for i in range(1, spec.layers[0] + 1)]
        return xs, xs
    pres = [pre_name(spec, layer, j) for j in range(1, spec.layers[layer - 1] + 1)]
    last = layer == len(spec.layers)
    act = spec.output_activation if last else spec.activation
    return pres, pres if act == "identity" else [act_name(p) for p in pres]


def _sigma_prime(G: nx.DiGraph, ev: Evaluation, pres: list[str], acts: list[str]):
    """σ′(z) for each neuron: the local partial of z → A(z), or 1 without activation."""
    return sympy.Matrix([ev.locals[p, a] if p != a else 1.0 for p, a in zip(pres, acts)])


def _loss_delta(G: nx.DiGraph, spec: MLPSpec, ev: Evaluation) -> sympy.Matrix:
    """δ⁽ᴸ⁾ = ∂L/∂a⁽ᴸ⁾ ⊙ σ_out′(z⁽ᴸ⁾)."""
    pres, acts = _names(spec, len(spec.layers))
    dL_da = sympy.Matrix([ev.locals[a, "loss"] for a in acts])
    return dL_da.multiply_elementwise(_sigma_prime(G, ev, pres, acts))


def layer_form(G: nx.DiGraph, ev: Evaluation) -> list[Layer]:
    """The matrix recurrence at the evaluation's point, from the output layer back."""
    spec: MLPSpec = G.graph["mlp"]
    delta = _loss_delta(G, spec, ev)
    layers = []
    for n in range(len(spec.layers) - 1, 0, -1):
        W_names = [[weight(n, i, j)[0] for i in range(1, spec.layers[n - 1] + 1)]
                   for j in range(1, spec.layers[n] + 1)]
        W = sympy.Matrix([[ev.values[w] for w in row] for row in W_names])
        pres_in, acts_in = _names(spec, n)
        pres_out, acts_out = _names(spec, n + 1)
        a_in = _column(ev.values, acts_in)
        db = delta if spec.bias else None
        layers.append(Layer(n, W, a_in, _column(ev.values, pres_out),
                            _column(ev.values, acts_out), delta, delta * a_in.T, db))
        if n > 1:  # δ⁽ⁿ⁾ = (W⁽ⁿ⁾ᵀ δ⁽ⁿ⁺¹⁾) ⊙ σ′(z⁽ⁿ⁾)
            delta = (W.T * delta).multiply_elementwise(_sigma_prime(G, ev, pres_in, acts_in))
    return layers[::-1]


def symbolic_deltas(G: nx.DiGraph) -> dict[int, sympy.Matrix]:
    """δ⁽ⁿ⁾ as symbols: δ⁽ᴸ⁾ₖ = ∂loss/∂outₖ · A′(outₖ) (no A′ for a linear output), and
    δ⁽ⁿ⁾ = (W⁽ⁿ⁾ᵀ δ⁽ⁿ⁺¹⁾) ⊙ A′(z⁽ⁿ⁾), with weights shown by their labels."""
    spec: MLPSpec = G.graph["mlp"]
    L = len(spec.layers)
    pres, acts = _names(spec, L)
    delta = sympy.Matrix([sympy.Symbol(f"∂loss/∂{a}") * (A_PRIME(sympy.Symbol(p)) if p != a
                                                          else 1) for p, a in zip(pres, acts)])
    deltas = {L: delta}
    for n in range(L - 1, 1, -1):
        W_sym = sympy.Matrix([[sympy.Symbol(G.nodes[weight(n, i, j)[0]]["label"])
                               for i in range(1, spec.layers[n - 1] + 1)]
                              for j in range(1, spec.layers[n] + 1)])
        z = [sympy.Symbol(p) for p in _names(spec, n)[0]]
        deltas[n] = (W_sym.T * deltas[n + 1]).multiply_elementwise(
            sympy.Matrix([A_PRIME(zi) for zi in z]))
    return deltas


def symbolic_weight_gradient(G: nx.DiGraph, n: int, i: int, j: int) -> sympy.Expr:
    """Entry [j,i] of δ⁽ⁿ⁺¹⁾ a⁽ⁿ⁾ᵀ in symbols: ∂L/∂w_n[i,j] by the matrix form."""
    spec: MLPSpec = G.graph["mlp"]
    a_in = _names(spec, n)[1][i - 1]
    a_sym = sympy.Symbol(a_in if a_in.startswith("x") else G.nodes[a_in]["label"])
    return symbolic_deltas(G)[n + 1][j - 1] * a_sym
