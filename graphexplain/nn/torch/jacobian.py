"""The Jacobian of a vector output, shown beside the vector-Jacobian product for small models.

What it does: for an output with elements outₖ and the leaves xᵢ that require grad,
J[k][i] = ∂outₖ/∂xᵢ, one reverse sweep per output element (numbers) and one derivation per
output element (formulas). ``backward(gradient=v)`` computes Jᵀv without forming J; showing J
makes that product visible.

What it does not do: decide when J is small enough to show (:mod:`.explain` does), or form J
by forward mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import sympy

from ...derive import derive
from ...evaluate import Evaluation, backward
from .builder import is_node

#: The Jacobian is shown when the output has at most this many elements, and so many inputs.
JACOBIAN_MAX = 6


@dataclass(frozen=True)
class Jacobian:
    """J[k][i] = ∂outₖ/∂xᵢ over the output elements and the leaves that require grad."""

    outputs: list[str]
    leaves: list[str]
    values: list[list[float]]
    formulas: list[list[sympy.Expr | None]]


def jacobian(G: nx.DiGraph, ev: Evaluation, outputs: Sequence, leaves: list[str]) -> Jacobian:
    """Each row is one reverse sweep from an output element: Jₖᵢ = ∂outₖ/∂xᵢ."""
    values, formulas = [], []
    for h in outputs:
        if not is_node(h):  # a constant output element
            values.append([0.0] * len(leaves))
            formulas.append([sympy.S.Zero] * len(leaves))
            continue
        adj = backward(G, h, ev.locals)
        d = derive(G, h)
        values.append([adj.get(x, 0.0) for x in leaves])
        formulas.append([d.formulas.get(x, sympy.S.Zero) for x in leaves])
    return Jacobian([h if is_node(h) else str(h) for h in outputs], leaves, values, formulas)
