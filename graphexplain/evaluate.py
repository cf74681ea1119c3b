"""Numbers at a point: the forward pass, local partials, the backward pass, central differences.

What it does: evaluates the graph at a point given for its leaves, in float64-equivalent
precision: each node's value, each edge's local partial, each node's adjoint (a numeric
reverse sweep, the same recurrence as :func:`graphexplain.derive.adjoints`), and the seed's
central difference (f(w+h) − f(w−h)) / 2h.

A value that is not a real number (log of a negative, 0⁻¹, overflow) becomes NaN or ±inf, and
:func:`problems` names the node where it first appears. Where an op is not differentiable
(relu, abs, leaky_relu at 0) the partial follows torch's convention, and :func:`kinks` names
the node. It does not import torch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import networkx as nx
import numpy
import sympy

from . import ops
from .errors import PointError
from .graph import leaves, symbol, tracked
from .plan import plan_for

NAN = float("nan")


def to_float(expr: sympy.Expr) -> float:
    """A sympy number as a float: ±inf for an infinity, NaN for anything not real."""
    if expr in (sympy.zoo, sympy.oo):
        return math.inf
    if expr == -sympy.oo:
        return -math.inf
    if expr is sympy.nan or expr.has(sympy.I):
        return NAN
    try:
        return float(expr)
    except (TypeError, ValueError):
        return NAN
    except OverflowError:
        return math.inf


def _number(value: float) -> sympy.Expr:
    return sympy.Float(value) if math.isfinite(value) else (
        sympy.nan if math.isnan(value) else (sympy.oo if value > 0 else -sympy.oo))


def check_point(G: nx.DiGraph, point: Mapping[str, float]) -> dict[str, float]:
    """The leaf values; refuses unknown names and lists missing ones."""
    names = {n for n in leaves(G) if "value" not in G.nodes[n]}
    unknown = sorted(set(point) - set(G.nodes))
    if unknown:
        raise PointError(f"--at names {', '.join(unknown)}, which "
                         f"{'is' if len(unknown) == 1 else 'are'} not an input "
                         f"(inputs: {', '.join(sorted(names))})")
    not_leaves = sorted(n for n in point if n in G and n not in names)
    if not_leaves:
        raise PointError(f"--at gives a value to {', '.join(not_leaves)}, which "
                         "is computed, not an input")
    missing = [n for n in leaves(G) if n in names and n not in point]
    if missing:
        raise PointError(f"no value for {', '.join(missing)}; give every input with --at, "
                         f"e.g. --at {' '.join(f'{n}=1' for n in missing)}")
    return {n: float(v) for n, v in point.items()}


def forward(G: nx.DiGraph, point: Mapping[str, float]) -> dict[str, float]:
    """The value of every node (a generation at a time; see :mod:`graphexplain.plan`)."""
    plan = plan_for(G)
    values = plan.forward(check_point(G, point))
    return dict(zip(plan.names, map(float, values), strict=True))


def backward(G: nx.DiGraph, output: str, locals_: Mapping[tuple[str, str], float]) -> dict:
    """Adjoint values of ``output`` from given local partials (for another output of the
    same evaluation, as a Jacobian's rows need): ∂L/∂L = 1, ∂L/∂v = Σ_s ∂L/∂s · ∂s/∂v in
    reverse topological order, for the nodes autograd tracks."""
    adj = {output: 1.0}
    relevant = tracked(G, output) - {output}
    for v in reversed(list(nx.topological_sort(G))):
        if v in relevant:
            adj[v] = sum(adj[s] * locals_[v, s] for s in G.successors(v) if s in adj)
    return adj


def step_size(x: float) -> float:
    """A central-difference step for float64: h = ε^(1/3)·max(1, |x|) balances truncation
    error O(h²) against rounding error O(ε/h)."""
    return 6.0554544523933395e-06 * max(1.0, abs(x))


def central_difference(G: nx.DiGraph, output: str, point: Mapping[str, float],
                       leaf: str, h: float | None = None) -> float:
    """∂L/∂leaf ≈ (L(leaf + h) − L(leaf − h)) / 2h, the seed's numerical gradient."""
    h = step_size(point[leaf]) if h is None else h
    plan, k = plan_for(G), plan_for(G).index[output]
    up = plan.forward({**point, leaf: point[leaf] + h})[k]
    down = plan.forward({**point, leaf: point[leaf] - h})[k]
    with numpy.errstate(all="ignore"):
        return float((up - down) / (2 * h))


def kinks(G: nx.DiGraph, values: Mapping[str, float]) -> list[str]:
    """Op nodes evaluated exactly where they are not differentiable (torch's partial used)."""
    found = []
    for n in nx.topological_sort(G):
        data = G.nodes[n]
        row = ops.OPS.get(data.get("op", ""))
        if row is None or row.kink is None:
            continue
        args = [values[a] if isinstance(a, str) else float(a) for a in data["args"]]
        if row.kink(args, data["params"]):
            found.append(n)
    return found


def problems(G: nx.DiGraph, values: Mapping[str, float]) -> list[tuple[str, float]]:
    """Nodes whose value is NaN or infinite while all their arguments are finite: where a
    division by zero, a log or sqrt outside its domain, or an overflow happens."""
    out = []
    for n in nx.topological_sort(G):
        v = values.get(n)
        if v is not None and not math.isfinite(v):
            if all(math.isfinite(values[p]) for p in G.predecessors(n)):
                out.append((n, v))
    return out


@dataclass(frozen=True)
class Evaluation:
    """The numbers of one point: values, local partials, adjoints, and where care is needed."""

    point: dict[str, float]
    values: dict[str, float]
    locals: dict[tuple[str, str], float]
    adjoints: dict[str, float]
    kinks: list[str]
    problems: list[tuple[str, float]]


def evaluate(G: nx.DiGraph, output: str, point: Mapping[str, float]) -> Evaluation:
    """The forward and backward pass at ``point``.

    Examples
    --------
    >>> from graphexplain.parse import parse
    >>> from graphexplain.graph import build
    >>> e = evaluate(build(parse("J(a,b,c) = 3(a+bc)")), "J", {"a": 1, "b": 2, "c": 3})
    >>> e.values["J"], [e.adjoints[x] for x in "abc"]
    (21.0, [3.0, 9.0, 6.0])
    """
    plan = plan_for(G)
    array = plan.forward(check_point(G, point))
    contributions = plan.local_contributions(array)
    adjoint_array = plan.backward(output, contributions)
    values = dict(zip(plan.names, map(float, array), strict=True))
    relevant = tracked(G, output) | {output}
    adj = {n: float(adjoint_array[plan.index[n]]) for n in plan.names if n in relevant}
    return Evaluation(dict(point), values, plan.edge_locals(contributions), adj,
                      kinks(G, values), problems(G, values))


def symbol_values(values: Mapping[str, float]) -> dict[sympy.Symbol, sympy.Float]:
    """A substitution mapping node symbols to their values (for evaluating formulas)."""
    return {symbol(n): _number(v) for n, v in values.items()}
