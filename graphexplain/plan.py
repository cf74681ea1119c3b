"""A compiled evaluation plan: the graph's numbers, computed a layer at a time with numpy.

What it does: groups the op nodes of each topological generation by op (and arity and
parameters), compiles each op row once into numpy functions with ``sympy.lambdify`` (its value
and its partial for each argument, straight from the op table), and evaluates a whole group
in one call. The forward pass, the local partials and the reverse sweep
∂L/∂u += ∂L/∂v · ∂v/∂u (``numpy.add.at`` per generation) then cost a few numpy calls per
generation instead of a Python step per node, which is what lets graphexplain evaluate and
check networks with thousands of weights.

NaN and ±inf propagate as IEEE arithmetic does (no exceptions); :mod:`graphexplain.evaluate`
names the node where they appear. It does not import torch.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import networkx as nx
import numpy as np
import sympy

from . import ops

WIDE = 8  # a sum or product with more arguments is not lambdified per argument


def _wide(op: str, what: int | None) -> Callable:
    """A wide add or mul as numpy closures: the value Σaᵢ or Πaᵢ, and the partials 1 and
    Π_{k≠i} a_k, without compiling one function per argument (which is quadratic)."""
    if op == "add":
        if what is None:
            return lambda *a: np.sum(a[:-1], axis=0)
        return lambda *a: np.ones_like(a[0], dtype=float)
    if what is None:
        return lambda *a: np.prod(a[:-1], axis=0)
    return lambda *a: np.prod([x for k, x in enumerate(a[:-1]) if k != what], axis=0)


def _linear(nargs: int, what: int | None) -> Callable:
    """A neuron's pre-activation Σₖ wₖxₖ (+ b), arguments (w₁, x₁, w₂, x₂, …, b), as numpy
    closures: the value, and the partials ∂/∂wₖ = xₖ, ∂/∂xₖ = wₖ, ∂/∂b = 1. A layer of 64
    inputs would otherwise compile 130 functions with lambdify."""
    pairs = nargs // 2
    if what is None:
        def value(*a):
            total = np.sum([a[2 * k] * a[2 * k + 1] for k in range(pairs)], axis=0)
            return total + a[nargs - 1] if nargs % 2 else total
        return value
    if what >= 2 * pairs:  # the bias
        return lambda *a: np.ones_like(a[0], dtype=float)
    partner = what + 1 if what % 2 == 0 else what - 1
    return lambda *a: a[partner]


@lru_cache(maxsize=4096)
def template(op: str, nargs: int, params: tuple, what: int | None) -> Callable:
    """An op row compiled for numpy: its value (``what`` None) or its partial for argument
    ``what``, as f(a₀, …, a_{n−1}, out), elementwise over arrays."""
    if op in ("add", "mul") and nargs > WIDE:
        return _wide(op, what)
    if op == "linear":
        return _linear(nargs, what)
    row = ops.OPS[op]
    args = [sympy.Symbol(f"a{i}", real=True) for i in range(nargs)]
    out = sympy.Symbol("out", real=True)
    kw = dict(params)
    expr = row.build(*args, **kw) if what is None else row.partial(what, args, out, kw)
    return sympy.lambdify([*args, out], expr, modules=[ops.NUMERIC, "numpy"])


def _apply(fn: Callable, args: list[np.ndarray], out: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):  # NaN and inf are reported by node, not raised
        result = fn(*args, out)
    return np.broadcast_to(np.asarray(result, dtype=float), out.shape).copy()


@dataclass
class Group:
    """Op nodes of one generation that share an op, an arity and parameters."""

    key: tuple  # (op, nargs, params)
    nodes: np.ndarray  # node indices
    args: list[np.ndarray]  # per argument position: the argument's node index, or −1
    consts: list[np.ndarray]  # per argument position: the constant where args is −1

    def gather(self, values: np.ndarray) -> list[np.ndarray]:
        """The argument vectors of the group, from the node values (the last axis indexes
        nodes, so a batch of points, one per row, gathers as well as one point)."""
        return [np.where(a >= 0, values[..., np.maximum(a, 0)], c)
                for a, c in zip(self.args, self.consts, strict=True)]


class Plan:
    """The evaluation plan of a graph: node order, leaves, and groups per generation."""

    def __init__(self, G: nx.DiGraph):
        index_of = {n: i for i, n in enumerate(G.nodes)}
        self.names = list(G.nodes)
        self.index = index_of
        self.leaf_values = {n: float(G.nodes[n]["value"]) for n in G
                            if G.nodes[n]["kind"] != "op" and "value" in G.nodes[n]}
        self.generations = [self._groups(G, gen) for gen in nx.topological_generations(G)]

    def _groups(self, G: nx.DiGraph, generation: list[str]) -> list[Group]:
        by_key = defaultdict(list)
        for n in generation:
            data = G.nodes[n]
            if data["kind"] == "op":
                key = (data["op"], len(data["args"]), tuple(sorted(data["params"].items())))
                by_key[key].append(n)
        return [self._group(G, key, nodes) for key, nodes in by_key.items()]

    def _group(self, G: nx.DiGraph, key: tuple, nodes: list[str]) -> Group:
        argss = [G.nodes[n]["args"] for n in nodes]
        args = [np.array([self.index[a[i]] if isinstance(a[i], str) else -1 for a in argss])
                for i in range(key[1])]
        consts = [np.array([0.0 if isinstance(a[i], str) else float(a[i]) for a in argss])
                  for i in range(key[1])]
        return Group(key, np.array([self.index[n] for n in nodes]), args, consts)

    def forward(self, leaf_values: Mapping[str, float]) -> np.ndarray:
        """Every node's value, given every free leaf's value."""
        values = np.full(len(self.names), np.nan)
        for n, v in {**self.leaf_values, **leaf_values}.items():
            values[self.index[n]] = v
        return self._sweep(values)

    def forward_batch(self, leaf_values: Mapping[str, float],
                      changes: list[tuple[str, float]]) -> np.ndarray:
        """Every node's value at many points at once, one row per point: row r is the point
        ``leaf_values`` with leaf ``changes[r][0]`` set to ``changes[r][1]``.

        Central differences need two forward passes per checked leaf; as one batch they cost
        one numpy call per op group instead of one per group and point.
        """
        base = np.full(len(self.names), np.nan)
        for n, v in {**self.leaf_values, **leaf_values}.items():
            base[self.index[n]] = v
        values = np.tile(base, (len(changes), 1))
        rows = np.arange(len(changes))
        values[rows, [self.index[n] for n, _ in changes]] = [v for _, v in changes]
        return self._sweep(values)

    def _sweep(self, values: np.ndarray) -> np.ndarray:
        """Fill in every op node's value, a generation at a time (``values`` has the leaves;
        its last axis indexes nodes)."""
        for generation in self.generations:
            for g in generation:
                out = np.full((*values.shape[:-1], len(g.nodes)), np.nan)
                values[..., g.nodes] = _apply(template(*g.key, None), g.gather(values), out)
        return values

    def backward(self, output: str, contributions: list) -> np.ndarray:
        """∂output/∂v for every node: the reverse sweep, one generation at a time."""
        adj = np.zeros(len(self.names))
        adj[self.index[output]] = 1.0
        by_generation = defaultdict(list)
        for gen, (g, i, local) in contributions:
            by_generation[gen].append((g, i, local))
        for gen in sorted(by_generation, reverse=True):
            for g, i, local in by_generation[gen]:
                mask = g.args[i] >= 0
                with np.errstate(all="ignore"):
                    np.add.at(adj, g.args[i][mask], (adj[g.nodes] * local)[mask])
        return adj

    def local_contributions(self, values: np.ndarray) -> list:
        """(generation, (group, position, partial values)) for the backward sweep."""
        out = []
        for gen, generation in enumerate(self.generations):
            for g in generation:
                args, node_values = g.gather(values), values[g.nodes]
                ones = np.ones(len(g.nodes)) if g.key[0] == "add" else None
                for i, a in enumerate(g.args):
                    if (a >= 0).any():
                        # ∂(Σa)/∂aᵢ = 1: no call per argument of a 10,000-term sum
                        local = ones if ones is not None else _apply(
                            template(*g.key, i), args, node_values)
                        out.append((gen, (g, i, local)))
        return out

    def edge_locals(self, contributions: list) -> dict[tuple[str, str], float]:
        """{(u, v): ∂v/∂u}, summed over u's positions among v's arguments (``x*x``)."""
        out: dict[tuple[str, str], float] = {}
        names = self.names
        for _, (g, i, local) in contributions:
            for src, dst, value in zip(g.args[i], g.nodes, local, strict=True):
                if src >= 0:
                    key = (names[src], names[dst])
                    out[key] = out.get(key, 0.0) + float(value)
        return out


_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def plan_for(G: nx.DiGraph) -> Plan:
    """The plan of ``G``, made once per graph (rebuilt if the graph has grown since)."""
    size = (G.number_of_nodes(), G.number_of_edges())
    cached = _PLANS.get(G)
    if cached is None or cached[0] != size:
        cached = (size, Plan(G))
        _PLANS[G] = cached
    return cached[1]
