"""The computation graph: a networkx DiGraph with a documented schema, and its builders.

Schema
------
``G.graph["output"]``
    the name of the output node.
Node attributes
    ``kind``: ``input`` (a leaf the user varies), ``param`` (a weight or bias), ``const``
    (a leaf that does not require grad) or ``op``;
    ``label``: how the node is displayed (``w1[1,2]``); the node id is an identifier
    (``w1_1_2``);
    ``requires_grad``: for leaves, whether a gradient is asked for;
    ``op``: the op-table name (op nodes only);
    ``args``: the op's arguments in order, each a node id or a sympy number (op nodes only);
    ``params``: the op's numeric parameters, a dict (op nodes only);
    ``expr``: the node's sympy expression in its argument symbols (``b*c``); for a leaf, its
    own symbol;
    ``value``: a fixed numeric value (const leaves), else absent.
Edge attributes (``u → v`` when ``u`` is an argument of ``v``)
    ``argnum``: the tuple of positions of ``u`` in ``v``'s arguments (``x*x`` has two);
    ``local``: the local partial ∂v/∂u, summed over those positions, written in the argument
    symbols and ``v``'s own symbol (``∂σ(z)/∂z = s·(1 − s)`` with ``s`` the node).

Node ids are stable, readable names. Every entry point (text, MLP, torch model) produces this
graph; nothing downstream knows where a graph came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache

import networkx as nx
import sympy

from . import ops
from .errors import GraphError
from .limits import DEFAULT, Limits, exceeded
from .parse import Apply, Num, Program, Ref, Tree

KINDS = ("input", "param", "const", "op")


@cache
def symbol(name: str) -> sympy.Symbol:
    """The sympy symbol of a node (real-valued, as every value here is)."""
    return sympy.Symbol(name, real=True)


def new_graph(output: str | None = None) -> nx.DiGraph:
    """An empty computation graph."""
    G = nx.DiGraph()
    G.graph["output"] = output
    return G


def add_leaf(G: nx.DiGraph, name: str, kind: str = "input", label: str | None = None,
             requires_grad: bool | None = None, value: float | None = None) -> None:
    """Add a leaf node (input, param or const)."""
    assert kind in ("input", "param", "const"), kind
    attrs = dict(kind=kind, label=label or name, expr=symbol(name),
                 requires_grad=kind != "const" if requires_grad is None else requires_grad)
    if value is not None:
        attrs["value"] = value
    G.add_node(name, **attrs)


def add_op(G: nx.DiGraph, name: str, op: str, args: Iterable, params: Mapping | None = None,
           label: str | None = None) -> None:
    """Add an op node and its in-edges, with the local partial of each edge from the op table.

    ``args`` are node ids (already in ``G``) or numbers. For an argument ``u`` at positions
    ``P`` of ``v = op(a₀, a₁, …)``, the edge ``u → v`` carries ``local = Σ_{i∈P} ∂op/∂aᵢ``.
    """
    row = ops.get(op)
    args = tuple(args)
    params = dict(params or {})
    exprs = [symbol(a) if isinstance(a, str) else ops.as_expr(a) for a in args]
    out = symbol(name)
    G.add_node(name, kind="op", op=row.name, args=args, params=params,
               expr=row.build(*exprs, **params), label=label or name)
    positions: dict[str, list[int]] = {}
    for i, a in enumerate(args):
        if isinstance(a, str):
            positions.setdefault(a, []).append(i)
    for a, argnum in positions.items():
        if a not in G:
            raise GraphError(f"'{name}' uses '{a}', which is not in the graph")
        local = sympy.Add(*(row.partial(i, exprs, out, params) for i in argnum))
        G.add_edge(a, name, argnum=tuple(argnum), local=local)


def leaves(G: nx.DiGraph) -> list[str]:
    """The leaf nodes, in insertion order."""
    return [n for n, k in G.nodes(data="kind") if k != "op"]


def grad_leaves(G: nx.DiGraph) -> list[str]:
    """The leaves that require grad: the ones that get a gradient."""
    return [n for n in leaves(G) if G.nodes[n]["requires_grad"]]


def tracked(G: nx.DiGraph, output: str | None = None) -> set[str]:
    """The nodes autograd tracks: leaves that require grad and every op that depends on one
    (as torch sets ``requires_grad`` on results), restricted to what ``output`` depends on."""
    out = set()
    for n in nx.topological_sort(G):
        data = G.nodes[n]
        if data["kind"] != "op":
            needs = data["requires_grad"]
        else:
            needs = any(p in out for p in G.predecessors(n))
        if needs:
            out.add(n)
    if output is not None:
        out &= nx.ancestors(G, output) | {output}
    return out


def op_nodes(G: nx.DiGraph) -> list[str]:
    """The op nodes, in topological order."""
    return [n for n in nx.topological_sort(G) if G.nodes[n]["kind"] == "op"]


def label(G: nx.DiGraph, n: str) -> str:
    return G.nodes[n].get("label", n)


def validate(G: nx.DiGraph) -> nx.DiGraph:
    """Check the schema; raise :class:`GraphError` naming the first problem. Returns ``G``."""
    if not nx.is_directed_acyclic_graph(G):
        cycle = " → ".join(u for u, _ in nx.find_cycle(G))
        raise GraphError(f"the graph has a cycle: {cycle}")
    output = G.graph.get("output")
    if output not in G:
        raise GraphError(f"the output '{output}' is not a node of the graph")
    for n, data in G.nodes(data=True):
        kind = data.get("kind")
        if kind not in KINDS:
            raise GraphError(f"node '{n}' has kind {kind!r}; expected one of {KINDS}")
        if kind == "op":
            _validate_op(G, n, data)
        elif G.in_degree(n):
            raise GraphError(f"leaf '{n}' has incoming edges")
    return G


def _validate_op(G: nx.DiGraph, n: str, data: dict) -> None:
    row = ops.get(data["op"])
    if not ops.check_arity(row, len(data["args"])):
        raise GraphError(f"node '{n}': {row.name} has {len(data['args'])} arguments")
    named = {a for a in data["args"] if isinstance(a, str)}
    if named != set(G.predecessors(n)):
        raise GraphError(f"node '{n}': its arguments and its in-edges differ")
    for u in named:
        if "local" not in G.edges[u, n]:
            raise GraphError(f"edge {u} → {n} has no local partial")


# --- building from a Program ------------------------------------------------------------------

_NICE_NAMES = ("u", "v", "w", "p", "q", "r", "s", "t", "h", "k", "m", "n", "z")


def _fresh_names(taken: set[str]):
    """Short names for unnamed subexpressions: u, v, w, p, …, then t1, t2, …"""
    for name in _NICE_NAMES:
        if name not in taken:
            yield name
    i = 1
    while True:
        if f"t{i}" not in taken:
            yield f"t{i}"
        i += 1


def build(program: Program, consts: Iterable[str] = (), limits: Limits = DEFAULT) -> nx.DiGraph:
    """Build the graph of a program: one node per input and per operation.

    A name used twice is one node with a fork; the user's names are kept; unnamed
    subexpressions get short names (``u, v, w, …``), outermost first, so that
    ``J = 3(a+bc)`` gives the seed's ``u = a + v``, ``v = b·c``. Only what the output depends
    on is kept. ``consts`` are inputs that do not require grad.

    Examples
    --------
    >>> from graphexplain.parse import parse
    >>> G = build(parse("J(a,b,c) = 3(a+bc)"))
    >>> sorted(G.nodes)
    ['J', 'a', 'b', 'c', 'u', 'v']
    """
    consts = set(consts)
    unknown = consts - set(program.inputs)
    if unknown:
        raise GraphError(f"--const {', '.join(sorted(unknown))}: not an input of the program "
                         f"(inputs: {', '.join(program.inputs)})")
    deps = _dependencies(program)
    needed = nx.ancestors(deps, program.output) | {program.output}
    assigned = program.assigned()
    taken = set(program.inputs) | set(assigned)
    names = _fresh_names(taken)
    G = new_graph(program.output)
    for name in program.inputs:
        if name in needed:
            add_leaf(G, name, "const" if name in consts else "input")
    plan = []  # (name, tree, named args), arguments before their users
    for name in nx.topological_sort(deps):  # statements may come in any order
        if name in needed and name in assigned:
            _plan(name, assigned[name].tree, names, plan)
    if len(plan) + G.number_of_nodes() > limits.max_nodes:
        raise exceeded(f"a graph of {len(plan) + G.number_of_nodes()} nodes", "max_nodes",
                       limits.max_nodes)
    for n, t, args in plan:
        _add_tree_node(G, n, t, args)
    return validate(G)


def _dependencies(program: Program) -> nx.DiGraph:
    """Which statement uses which name; a cycle is an error."""
    deps = nx.DiGraph()
    deps.add_node(program.output)
    for a in program.assignments:
        deps.add_node(a.name)
        for ref in _refs(a.tree):
            deps.add_edge(ref, a.name)
    try:
        cycle = nx.find_cycle(deps)
        raise GraphError("the statements form a cycle: "
                         + " → ".join(u for u, _ in cycle) + f" → {cycle[0][0]}")
    except nx.NetworkXNoCycle:
        pass
    return deps


def _refs(tree: Tree) -> set[str]:
    out, stack = set(), [tree]
    while stack:
        t = stack.pop()
        if isinstance(t, Ref):
            out.add(t.name)
        elif isinstance(t, Apply):
            stack.extend(t.args)
    return out


def _plan(name: str, tree: Tree, names, plan: list) -> None:
    """Name every unnamed Apply below ``tree`` (outermost first) and list them children-first."""
    stack = [(name, tree)]
    order = []
    while stack:  # pre-order naming, so the outer subexpression gets the first fresh name
        n, t = stack.pop()
        if isinstance(t, Apply):
            args = []
            for a in t.args:
                if isinstance(a, Apply):
                    child = next(names)
                    args.append((child, a))
                else:
                    args.append((None, a))
            order.append((n, t, args))
            stack.extend((c, a) for c, a in reversed(args) if c is not None)
        else:
            order.append((n, t, None))
    plan.extend(reversed(order))


def _add_tree_node(G: nx.DiGraph, n: str, t: Tree, args) -> None:
    if isinstance(t, Num):  # x = 3: a named constant
        add_leaf(G, n, "const", value=float(t.value))
        G.nodes[n]["expr"] = t.value
    elif isinstance(t, Ref):  # y = x: an alias, kept visible as an identity node
        add_op(G, n, "identity", [t.name])
    else:
        arg_ids = [c if c is not None else (a.name if isinstance(a, Ref) else a.value)
                   for c, a in args]
        add_op(G, n, t.op, arg_ids, dict(t.params))
