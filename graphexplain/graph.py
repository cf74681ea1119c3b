"""The computation graph: a networkx DiGraph with a documented schema, and its builders.

Schema
------
``G.graph["output"]``
    the name of the output node.
Node attributes
    ``kind``: ``input`` (a leaf the user varies), ``param`` (a weight or bias), ``const``
    (a leaf that does not require grad) or ``op``;
    ``label``: how the node is displayed (``w1[1,2]``, ``σ₁``); the node id is an identifier
    (``w1_1_2``, ``sigma1``), and :func:`resolve` takes either;
    ``requires_grad``: for leaves, whether a gradient is asked for;
    ``op``: the op-table name (op nodes only);
    ``args``: the op's arguments in order, each a node id or a sympy number (op nodes only);
    ``params``: the op's numeric parameters, a dict (op nodes only);
    ``expr``: the node's sympy expression in its argument symbols (``b*c``); for a leaf, its
    own symbol;
    ``value``: a fixed numeric value (const leaves), else absent;
    ``default``: for an input, its value at the point when none is given (``x = 3`` in
    ``y = x^2; x = 3``; see :func:`complete_point`), else absent.
Edge attributes (``u → v`` when ``u`` is an argument of ``v``)
    ``argnum``: the tuple of positions of ``u`` in ``v``'s arguments (``x*x`` has two);
    ``local``: the local partial ∂v/∂u, summed over those positions, written in the argument
    symbols and ``v``'s own symbol (``∂σ(z)/∂z = s·(1 − s)`` with ``s`` the node).

Node ids are stable, readable names. Every entry point (text, MLP, torch model) produces this
graph; nothing downstream knows where a graph came from.
"""

from __future__ import annotations

import difflib
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from functools import cache

import networkx as nx
import sympy

from . import ops
from .errors import GraphError, PointError
from .limits import DEFAULT, Limits, exceeded
from .parse import Apply, Num, Program, Ref, Tree, identifier

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
        partials = [row.partial(i, exprs, out, params) for i in argnum]
        one = len(partials) == 1 and isinstance(partials[0], sympy.Basic)
        local = partials[0] if one else sympy.Add(*partials)  # Add(p) is p
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
        out &= upstream(G, output)
        # a declared input the output does not use: gradient 0 (torch's None)
        out |= {n for n in leaves(G) if G.nodes[n]["requires_grad"] and not G.out_degree(n)}
    return out


def upstream(G: nx.DiGraph, output: str) -> set[str]:
    """The nodes ``output`` depends on, itself included: the part of the graph its gradients
    flow through."""
    return nx.ancestors(G, output) | {output}


def op_nodes(G: nx.DiGraph) -> list[str]:
    """The op nodes, in topological order."""
    return [n for n in nx.topological_sort(G) if G.nodes[n]["kind"] == "op"]


def label(G: nx.DiGraph, n: str) -> str:
    """The node's display name (``w1[1,2]`` for ``w1_1_2``). Reads networkx's node-attribute
    dict directly: a report asks for labels hundreds of thousands of times, and ``G.nodes[n]``
    builds a view each time."""
    return G._node[n].get("label", n)


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

#: The course's own names for values (weights, inputs, targets, biases, hidden values, the
#: step h, outputs, losses). An intermediate is never named one of these.
COURSE_NAMES = frozenset({"w", "x", "y", "b", "h", "a", "z", "f", "g", "n", "o", "p", "s",
                          "t", "k", "m", "q", "r", "J", "L", "out", "loss", "lr"})

#: The seed's names for the two outermost unnamed parts of J = 3(a+bc): u = a + v, v = bc.
SEED_NAMES = ("u", "v")

_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def build(program: Program, consts: Iterable[str] = (), limits: Limits = DEFAULT) -> nx.DiGraph:
    """Build the graph of a program: one node per input and per operation.

    A name used twice is one node with a fork, and so is an unnamed subexpression written
    twice (``σ(f2)·σ(f2)`` has one σ node). The user's names are kept, with their labels
    (``w1[1,2]`` is the node ``w1_1_2``). Only what the output depends on is kept, except
    the declared inputs: ``J(a,b) = 2a`` keeps ``b``, a leaf without edges whose gradient
    is 0. ``consts`` (identifiers or labels) are inputs that do not require grad.

    **Names of the unnamed subexpressions.** They never take a name the program uses, nor
    one that is a prefix of a name it uses (``w`` next to ``w1``), nor one of the course's
    names (:data:`COURSE_NAMES`: w, x, y, b, h, a, z, f, out, loss, …).

    - The two outermost, nearest the output, are ``u`` and ``v``, as the seed names them:
      ``J = 3(a+bc)`` gives ``u = a + v`` and ``v = b·c``.
    - Every other one is named after its op, numbered in evaluation order: ``sigma1``,
      ``log1``, ``exp2``, ``sum1`` (an add), ``prod1`` (a mul), ``pow1``, … (the op table's
      ``stem``), displayed ``σ₁``, ``log₁``, ``Σ₁``, ``Π₁`` (the node's ``label``). When the
      program uses a name that starts with the stem (``sigma``, ``sum_sq``), the stem takes
      a trailing ``_`` (``sigma_1``).

    **Named numbers.** ``k = 3`` makes a const leaf with value 3, unless ``k`` is a declared
    input, or the program has no other input to differentiate (``y = x^2; x = 3``): then
    ``k`` is an input whose ``default`` is 3, the point where it is explained.

    Examples
    --------
    >>> from graphexplain.parse import parse
    >>> G = build(parse("J(a,b,c) = 3(a+bc)"))
    >>> sorted(G.nodes)
    ['J', 'a', 'b', 'c', 'u', 'v']
    >>> G = build(parse("L = -(y*log(σ(z)) + (1 - y)*log(1 - σ(z)))"))
    >>> G.nodes["sigma1"]["expr"], G.nodes["sigma1"]["label"], G.nodes["log1"]["expr"]
    (sigmoid(z), 'σ₁', log(sigma1))
    >>> G.nodes["u"]["expr"], G.nodes["v"]["expr"], G.nodes["L"]["expr"]
    (prod3 + v, log1*y, -u)
    """
    consts = _resolve_consts(program, consts)
    deps = _dependencies(program)
    needed = upstream(deps, program.output)
    assigned = program.assigned()
    order = [n for n in nx.topological_sort(deps) if n in needed and n in assigned]
    roots, temps, created = _intern(order, assigned)
    leaves_ = [n for n in program.inputs if n in needed or program.declared]
    size = len(leaves_) + len(order) + len(temps)
    if size > limits.max_nodes:
        raise exceeded(f"a graph of {size} nodes", "max_nodes", limits.max_nodes)
    names = _temp_names(program, order, roots, temps)
    defaults = _defaults(program, needed, consts)
    G = new_graph(program.output)
    labels = program.labels
    for name in leaves_:
        add_leaf(G, name, "const" if name in consts else "input", label=labels.get(name))
    for name in order:
        for k in created[name]:
            op, args, params = temps[k]
            add_op(G, names[k][0], op, _arg_ids(args, names), dict(params), label=names[k][1])
        tree = assigned[name].tree
        if name in defaults:
            if name not in G:
                add_leaf(G, name, "input", label=labels.get(name))
            G.nodes[name]["default"] = float(defaults[name])
        elif isinstance(tree, Num):  # k = 3: a named constant
            if name not in G:  # (a declared input made --const is already a const leaf)
                add_leaf(G, name, "const", label=labels.get(name))
            G.nodes[name].update(value=float(tree.value), expr=tree.value)
        elif isinstance(tree, Ref):  # y = x: an alias, kept visible as an identity node
            add_op(G, name, "identity", [tree.name], label=labels.get(name))
        else:
            op, args, params = roots[name]
            add_op(G, name, op, _arg_ids(args, names), dict(params), label=labels.get(name))
    return validate(G)


def _defaults(program: Program, needed: set[str], consts: set[str]) -> dict[str, sympy.Expr]:
    """The named numbers that are inputs with a default value (see :func:`build`)."""
    numbers = {a.name: a.tree.value for a in program.assignments
               if isinstance(a.tree, Num) and a.name in needed and a.name != program.output}
    if program.declared:
        return {n: v for n, v in numbers.items() if n in program.inputs and n not in consts}
    if any(n in needed and n not in consts for n in program.inputs):
        return {}
    return {n: v for n, v in numbers.items() if n not in consts}


def _resolve_consts(program: Program, consts: Iterable[str]) -> set[str]:
    """``--const`` names (identifiers or labels) as input identifiers."""
    consts = list(consts)
    if not consts:
        return set()
    inputs = list(program.inputs) + [a.name for a in program.assignments
                                     if isinstance(a.tree, Num) and a.name not in program.inputs]
    H = nx.DiGraph()
    H.add_nodes_from((n, {"label": program.labels.get(n, n)}) for n in inputs)
    names, out = _Names(H), set()
    for name in consts:
        found = names.find(name)
        if found is None:
            raise GraphError(f"--const {name}: not an input of the program"
                             f"{_did_you_mean(name, names)} (inputs: "
                             f"{_shortlist(list(names.labels.values())) or 'none'})")
        out.add(found)
    return out


def _dependencies(program: Program) -> nx.DiGraph:
    """Which statement uses which name; a cycle is an error."""
    deps = nx.DiGraph()
    deps.add_node(program.output)
    for a in program.assignments:
        deps.add_node(a.name)
        for ref in _refs(a.tree):
            deps.add_edge(ref, a.name)
    if nx.is_directed_acyclic_graph(deps):  # the usual case, in one linear pass
        return deps
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


# An interned node is (op, args, params), each argument ("ref", name), ("num", value) or
# ("tmp", k): the k-th unnamed subexpression. Identical unnamed subexpressions are one.


def _intern(order: list[str], assigned: dict) -> tuple[dict, list, dict]:
    """The statements' trees with their unnamed subexpressions shared: (statement → its
    interned root, the unnamed subexpressions in evaluation order, statement → the indices
    of the subexpressions first met in it)."""
    table: dict = {}
    temps: list = []
    roots, created = {}, {}
    for name in order:
        before = len(temps)
        tree = assigned[name].tree
        if isinstance(tree, Apply):
            roots[name] = _intern_tree(tree, table, temps)
        created[name] = range(before, len(temps))
    return roots, temps, created


def _intern_tree(root: Apply, table: dict, temps: list) -> tuple:
    """Post-order, without recursion (trees may be deep)."""
    memo: dict[int, tuple] = {}
    stack: list[tuple[Apply, bool]] = [(root, False)]
    while stack:
        t, ready = stack.pop()
        if id(t) in memo:
            continue
        if not ready:
            stack.append((t, True))  # the arguments are visited left to right
            stack.extend((a, False) for a in reversed(t.args)
                         if isinstance(a, Apply) and id(a) not in memo)
            continue
        args = tuple(memo[id(a)] if isinstance(a, Apply) else
                     ("ref", a.name) if isinstance(a, Ref) else ("num", a.value) for a in t.args)
        node = (t.op, args, t.params)
        if t is root:
            return node
        key = (t.op, tuple(_key(a) for a in args),
               tuple((k, *_key(("num", v))) for k, v in t.params))
        if key not in table:
            table[key] = len(temps)
            temps.append(node)
        memo[id(t)] = ("tmp", table[key])
    raise AssertionError("the root is visited last")


def _key(arg: tuple) -> tuple:
    """A hashable key that tells 1 from 1.0 (sympy's Integer and Float)."""
    return (arg[0], type(arg[1]).__name__, arg[1]) if arg[0] == "num" else arg


def _arg_ids(args: tuple, names: dict) -> list:
    return [names[a[1]][0] if a[0] == "tmp" else a[1] for a in args]


def _temp_names(program: Program, order: list[str], roots: dict,
                temps: list) -> dict[int, tuple[str, str]]:
    """(identifier, label) of every unnamed subexpression (the scheme of :func:`build`)."""
    used = sorted({*program.inputs, *(a.name for a in program.assignments)})
    names: dict[int, tuple[str, str]] = {}
    seed = [n for n in SEED_NAMES if _free(n, used)]
    for k, name in zip(_outermost(order, roots, temps, len(seed)), seed, strict=False):
        names[k] = (name, name)
    counts: dict[str, int] = {}
    stems: dict[str, str] = {}
    for k, (op, _, _) in enumerate(temps):
        if k in names:
            continue
        stem, shown = ops.get(op).intermediate
        if stem not in stems:
            stems[stem] = _free_stem(stem, used)
        counts[stem] = counts.get(stem, 0) + 1
        names[k] = (f"{stems[stem]}{counts[stem]}", shown + str(counts[stem]).translate(
            _SUBSCRIPTS))
    return names


def _free(name: str, used: list[str]) -> bool:
    """Whether ``name`` is neither a name of the program nor a prefix of one (``used`` is
    sorted, so the names starting with ``name`` follow it), nor a course name."""
    i = bisect_left(used, name)
    if i < len(used) and used[i].startswith(name):
        return False
    return name not in COURSE_NAMES or name in SEED_NAMES


def _free_stem(stem: str, used: list[str]) -> str:
    """The stem, with trailing ``_`` until no name of the program starts with it."""
    while not _free(stem, used):
        stem += "_"
    return stem


def _outermost(order: list[str], roots: dict, temps: list, count: int) -> list[int]:
    """The first ``count`` unnamed subexpressions met walking down from the output: the
    statements from the last in evaluation order, each tree outermost first."""
    found: list[int] = []
    seen: set[int] = set()
    for name in reversed(order):
        if name not in roots:
            continue
        stack = [a[1] for a in reversed(roots[name][1]) if a[0] == "tmp"]
        while stack and len(found) < count:
            k = stack.pop()
            if k in seen:
                continue
            seen.add(k)
            found.append(k)
            stack.extend(a[1] for a in reversed(temps[k][1]) if a[0] == "tmp")
        if len(found) >= count:
            break
    return found


# --- names as the user types them ------------------------------------------------------------


class UnknownNameError(PointError):
    """A name given on the command line or to the API (``--at``, ``--wrt``, ``--const``) that
    is not a node of the graph; the message lists the close names."""


def resolve(G: nx.DiGraph, name: str, among: Iterable[str] | None = None,
            what: str = "name") -> str:
    """The node id of a name as the user types it: an identifier (``w1_1_2``) or a label
    (``w1[1,2]``, ``w1[1, 2]``, ``linear.weight[0,0]``, ``σ₁``), with or without spaces.

    Parameters
    ----------
    G : the graph.
    name : what the user typed.
    among : the node ids it may be (the leaves for ``--at``, the leaves with a gradient for
        ``--wrt``); all nodes by default.
    what : how the message calls it (``"--at"``, ``"--wrt"``).

    Raises
    ------
    UnknownNameError
        (a :class:`~graphexplain.errors.PointError`) naming the closest names.

    Examples
    --------
    >>> from graphexplain.parse import parse
    >>> G = build(parse("f = w1[1,2]*x1"))
    >>> resolve(G, "w1[1, 2]"), resolve(G, "w1_1_2"), resolve(G, "x1")
    ('w1_1_2', 'w1_1_2', 'x1')
    >>> try:
    ...     resolve(G, "w1[2,1]", what="--at")
    ... except UnknownNameError as e:
    ...     print(e)
    --at w1[2,1]: no such name; did you mean w1[1,2]? (names: w1[1,2], x1, f)
    """
    return _Names(G, among).resolve(name, what)


def resolve_point(G: nx.DiGraph, point: Mapping[str, float] | None,
                  what: str = "--at") -> dict[str, float] | None:
    """A point whose names may be labels (``{"w1[1,2]": 0.5}``), keyed by node id. A name
    given twice (``w1[1,2]`` and ``w1_1_2``) is an error."""
    if point is None:
        return None
    names, out = _Names(G, leaves(G)), {}
    for name, value in point.items():
        if names.find(name) is None:  # a computed node, or no node: say which
            computed = _Names(G).find(name)
            if computed is not None:
                raise PointError(f"{what} gives a value to {label(G, computed)}, which is "
                                 "computed, not an input")
        n = names.resolve(name, what)
        if n in out:
            raise PointError(f"{what} gives {label(G, n)} twice")
        out[n] = value
    return out


class _Names:
    """The ids and labels a typed name is looked up in (built once for many look-ups)."""

    def __init__(self, G: nx.DiGraph, among: Iterable[str] | None = None):
        self.among = among is not None
        self.labels = {n: label(G, n) for n in (G.nodes if among is None else among)}
        self.by_label = {"".join(v.split()): k for k, v in self.labels.items()}

    def find(self, name: str) -> str | None:
        typed = "".join(name.split())
        if typed in self.labels:
            return typed
        if typed in self.by_label:
            return self.by_label[typed]
        ident = identifier(typed)
        return ident if ident in self.labels else None

    def resolve(self, name: str, what: str) -> str:
        found = self.find(name)
        if found is None:
            shown = _shortlist(list(self.labels.values()))
            what_is = "not an input" if self.among else "no such name"
            raise UnknownNameError(f"{what} {name.strip()}: {what_is}"
                                   f"{_did_you_mean(name, self)} "
                                   f"({'inputs' if self.among else 'names'}: {shown})")
        return found


def defaults(G: nx.DiGraph) -> dict[str, float]:
    """The inputs with a default value (``x = 3`` in ``y = x^2; x = 3``) and their values."""
    return {n: G.nodes[n]["default"] for n in leaves(G) if "default" in G.nodes[n]}


def complete_point(G: nx.DiGraph, point: Mapping[str, float] | None,
                   what: str = "--at") -> dict[str, float] | None:
    """The point to evaluate at: ``point`` with its names resolved (labels allowed) and the
    default values filled in for the inputs it does not give. Without a point, the defaults
    alone when they give every input, else None (symbolic only).

    >>> from graphexplain.parse import parse
    >>> G = build(parse("y = x^2; x = 3"))
    >>> complete_point(G, None), complete_point(G, {"x": 5})
    ({'x': 3.0}, {'x': 5.0})
    """
    given = resolve_point(G, point, what)
    given = None if given is None else {n: float(v) for n, v in given.items()}
    fixed = defaults(G)
    if given is None:
        needs = [n for n in leaves(G) if "value" not in G.nodes[n] and n not in fixed]
        return dict(fixed) if fixed and not needs else None
    return {**fixed, **given}


def _did_you_mean(name: str, names: _Names) -> str:
    """``; did you mean w1[1,2]?`` from the closest ids and labels, or nothing."""
    spellings = [*names.labels, *names.labels.values()]
    typed = "".join(name.split())
    # X1 for x1: the case first, then the spelling
    close = [s for s in spellings if s.lower() == typed.lower()] or \
        difflib.get_close_matches(typed, spellings, n=3, cutoff=0.6)
    picked: list[str] = []  # one spelling per node: a label and its id are one suggestion
    for c in close:
        text = names.labels[names.find(c)]
        if text not in picked:
            picked.append(text)
    return f"; did you mean {' or '.join(picked)}?" if picked else ""


def _shortlist(names: list[str], most: int = 8) -> str:
    return ", ".join(names if len(names) <= most else [*names[: most - 1], "…"])
