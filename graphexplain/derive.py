"""The chain rule, worked symbolically over a computation graph.

What it does: reads the local partial ∂v/∂u off every edge (the graph builder took it from the
op table) and derives

- the **adjoint** of every node, ∂L/∂v = Σ_{s ∈ succ(v)} ∂L/∂s · ∂s/∂v, in reverse topological
  order, so contributions are summed at forks (reverse mode);
- for every leaf, the gradient in intermediate names (``chain``) and in leaf names
  (``formula``, not expanded past a size limit);
- for every leaf, the **paths** to the output: ∂L/∂x = Σ_paths Π_edges ∂(head)/∂(tail). Paths
  are counted by dynamic programming over the DAG and listed only up to a cap.

What it does not do: numbers (see :mod:`graphexplain.evaluate`), printing (see
:mod:`graphexplain.report`), or any unbounded simplification. These are pure functions; they
never modify the graph.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice

import networkx as nx
import sympy

from .graph import grad_leaves, symbol, tracked, upstream
from .limits import DEFAULT, Limits
from .progress import track

FACTOR_TERMS_MAX_SIZE = 200
CHAIN_MAX_SIZE = 200
# Written-out chains and formulas share a budget of printed size over the whole graph, so a
# large network's report stays linear in its size: each gets min(cap, budget / nodes).
PRINT_BUDGET = 100_000


def per_node_cap(cap: int, nodes: int) -> int:
    """The size allowed to each of ``nodes`` expressions: at most ``cap``, and together
    within :data:`PRINT_BUDGET`."""
    return max(1, min(cap, PRINT_BUDGET // max(1, nodes)))


@dataclass(frozen=True)
class Derivation:
    """Everything symbolic about one output's gradients.

    Attributes
    ----------
    graph : the computation graph (not modified).
    output : the node whose gradients are derived.
    order : the nodes in topological order (leaves and ops).
    adjoints : node → ∂output/∂node in intermediate names (the ``chain`` form).
    contributions : node → [(successor s, local ∂s/∂node)], the terms summed for the adjoint.
    program : node → its adjoint as one statement of the gradient program, in the adjoint
        symbols of its successors (``dJ_dv = dJ_du*1``).
    formulas : grad leaf → ∂output/∂leaf in leaf names, or None when too large to expand.
    path_counts : node → the number of paths from the node to the output.
    paths : grad leaf → the paths (lists of node ids) up to ``limits.max_paths``.
    """

    graph: nx.DiGraph
    output: str
    order: list[str]
    adjoints: dict[str, sympy.Expr]
    contributions: dict[str, list[tuple[str, sympy.Expr]]]
    program: Mapping[str, sympy.Expr]
    formulas: dict[str, sympy.Expr | None]
    path_counts: dict[str, int]
    paths: Mapping[str, list[list[str]]]
    limits: Limits = field(default=DEFAULT, repr=False)
    #: what the reports work out once per derivation (labels, printed expressions): a
    #: report names each node and prints each local partial several times
    memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def leaves(self) -> list[str]:
        """The leaves that get a gradient."""
        if "leaves" not in self.memo:
            self.memo["leaves"] = grad_leaves(self.graph)
        return self.memo["leaves"]

    def local(self, u: str, v: str) -> sympy.Expr:
        """The local partial ∂v/∂u on the edge u → v."""
        return self.graph.edges[u, v]["local"]

    def path_terms(self, leaf: str) -> list[sympy.Expr]:
        """The product of local partials along each listed path from ``leaf``."""
        return [path_product(self.graph, p) for p in self.paths[leaf]]


def adjoints(G: nx.DiGraph, output: str, order: list[str] | None = None):
    """Reverse-mode adjoints ∂output/∂v for every v the output depends on.

    ∂L/∂L = 1, and for every other node, visited in reverse topological order,
    ∂L/∂v = Σ_{s ∈ succ(v)} ∂L/∂s · ∂s/∂v: one sweep, each edge used once.

    Returns ``(adjoints, contributions)``.

    Examples
    --------
    >>> from graphexplain.parse import parse
    >>> from graphexplain.graph import build
    >>> adj, _ = adjoints(build(parse("u = a + v; v = b*c; J = 3*u")), "J")
    >>> adj["b"]
    3*c
    """
    return adjoint_sweep(G, output, order)[:2]


def adjoint_symbol(G: nx.DiGraph, output: str, v: str) -> sympy.Symbol:
    """The symbol that stands for ∂output/∂v in the gradient program: ``dJ_du``."""
    return symbol(adjoint_name(G, output, v))


def adjoint_name(G: nx.DiGraph, output: str, v: str) -> str:
    """The name of :func:`adjoint_symbol` (without making the symbol)."""
    name = f"d{output}_d{v}"
    while name in G:
        name += "_"
    return name


def adjoint_sweep(G: nx.DiGraph, output: str, order: list[str] | None = None,
                  max_size: int | None = None):
    """The reverse sweep, returning ``(chain, contributions, program)``.

    ``program[v]`` is the gradient program's statement for v, Σ_s dL_ds · ∂s/∂v, written in
    the adjoint symbols of v's successors: one statement per node, so the whole program is
    as large as the graph (the cheap-gradient principle). ``chain[v]`` is the same adjoint
    in intermediate names, with each successor's adjoint written out while it stays within
    ``max_size`` (printed size) and referred to by its symbol beyond that, so the sweep stays
    linear in the graph however deep it is.
    """
    order = order or list(nx.topological_sort(G))
    if max_size is None:
        max_size = per_node_cap(CHAIN_MAX_SIZE, G.number_of_nodes())
    chain: dict[str, sympy.Expr] = {output: sympy.S.One}
    size = {output: 1}
    contributions: dict[str, list[tuple[str, sympy.Expr]]] = {output: []}
    relevant = tracked(G, output) - {output}  # torch computes no grad for the untracked
    for v in track(reversed(order), "adjoints", total=len(order)):
        if v not in relevant:
            continue
        terms = [(s, G.edges[v, s]["local"]) for s in G.successors(v) if s in chain]
        contributions[v] = terms
        refs = {s: chain[s] if size[s] <= max_size else adjoint_symbol(G, output, s)
                for s, _ in terms}
        products = [_times(refs[s], local) for s, local in terms]
        # one successor (no fork): the product itself, without sympy's Add of one term
        chain[v] = products[0] if len(products) == 1 else sympy.Add(*products)
        size[v] = 1 + sum(2 + min(size[s], max_size + 1) + _size(local) for s, local in terms)
    return chain, contributions, GradientProgram(G, output, contributions)


class GradientProgram(Mapping):
    """node → its statement of the gradient program, Σ_s dL_ds · ∂s/∂node, made when first
    read (a report reads none of them; the compiled gradient and the costs read them all).
    Its nodes are those of the sweep, in the sweep's order (the output first)."""

    def __init__(self, G: nx.DiGraph, output: str, contributions: dict):
        self._G, self._output, self._contributions = G, output, contributions
        self._made: dict[str, sympy.Expr] = {}

    def __getitem__(self, v: str) -> sympy.Expr:
        if v not in self._made:
            terms = self._contributions[v]  # KeyError for a node outside the sweep
            G, out = self._G, self._output
            self._made[v] = sympy.S.One if v == out else sympy.Add(*(
                _times(sympy.S.One if s == out else adjoint_symbol(G, out, s), local)
                for s, local in terms))
        return self._made[v]

    def __iter__(self):
        return iter(self._contributions)

    def __len__(self) -> int:
        return len(self._contributions)

    def __contains__(self, v) -> bool:
        return v in self._contributions


def _times(a: sympy.Expr, b: sympy.Expr) -> sympy.Expr:
    """a·b, without sympy's product machinery when a factor is exactly 1 (1·b is b): the
    adjoint through a sum, and the local partial of a sum."""
    if a is sympy.S.One:
        return b
    if b is sympy.S.One:
        return a
    if type(a) is type(b) is sympy.Symbol and a.name != b.name and \
            symbol(a.name) is a and symbol(b.name) is b:
        # two node symbols (the same assumptions): sympy's product is their Mul in the
        # order of their names (Basic.compare), built here without flatten
        return sympy.Mul._from_args((a, b) if a.name < b.name else (b, a), True)
    return a * b


def stable_order(G: nx.DiGraph) -> list[str]:
    """A topological order that keeps insertion order among independent nodes, so reports
    list x[0,0], x[1,0], … as they were built."""
    index = {n: i for i, n in enumerate(G.nodes)}
    if all(index[u] < index[v] for u, v in G.edges):
        # every node was added after its arguments (graph.add_op requires it): insertion
        # order is then the lexicographic topological order itself, found in O(E)
        return list(G.nodes)
    return list(nx.lexicographical_topological_sort(G, key=index.__getitem__))


def count_paths(G: nx.DiGraph, output: str, order: list[str] | None = None) -> dict[str, int]:
    """Number of paths from every node to ``output``, by dynamic programming over the DAG.

    N(output) = 1 and N(v) = Σ_{s ∈ succ(v)} N(s): linear time, even where the number of
    paths is exponential.
    """
    order = order or list(nx.topological_sort(G))
    count = {output: 1}
    for v in reversed(order):
        if v != output:
            count[v] = sum(count.get(s, 0) for s in G.successors(v))
    return count


def list_paths(G: nx.DiGraph, source: str, output: str, cap: int) -> list[list[str]]:
    """The first ``cap`` paths from ``source`` to ``output``."""
    return list(islice(nx.all_simple_paths(G, source, output), cap))


def _first_paths(G: nx.DiGraph, source: str, output: str, cap: int, reach: set,
                 memo: dict) -> None:
    """Fill ``memo[v]`` with v's first ``cap`` paths to ``output``, for ``source`` and the
    nodes below it, in the order of :func:`list_paths` (depth first, successors in the
    graph's order). A path is a linked tail, ``(v, tail of the successor)``, so the paths
    below a node are shared by every node above it, and a deep chain costs linear time."""
    stack = [source]
    while stack:
        v = stack[-1]
        if v in memo:
            stack.pop()
            continue
        if v == output:
            memo[v] = [(v, None)]
            stack.pop()
            continue
        succ = [s for s in G.successors(v) if s in reach]
        todo = [s for s in succ if s not in memo]
        if todo:
            stack.extend(reversed(todo))
            continue
        tails: list = []
        for s in succ:
            tails.extend((v, t) for t in memo[s][:cap - len(tails)])
            if len(tails) >= cap:
                break
        memo[v] = tails
        stack.pop()


def _unlinked(path) -> list[str]:
    out = []
    while path is not None:
        out.append(path[0])
        path = path[1]
    return out


class LazyPaths(Mapping):
    """leaf → its first ``cap`` paths to the output, listed when first asked for (a report
    of a large network needs few of them, and listing all would dominate the derivation).
    The paths below each node are listed once and shared by the leaves above it; the lists
    are :func:`list_paths`', in the same order."""

    def __init__(self, G: nx.DiGraph, output: str, leaves: list[str], cap: int):
        self._G, self._output, self._leaves, self._cap = G, output, leaves, cap
        self._known = set(leaves)  # membership in O(1): a report asks once per leaf
        self._listed: dict[str, list[list[str]]] = {}
        self._tails: dict = {}
        self._reach: set | None = None

    def __getitem__(self, leaf: str) -> list[list[str]]:
        if leaf not in self._known:
            raise KeyError(leaf)
        if leaf not in self._listed:
            self._listed[leaf] = self._list(leaf)
        return self._listed[leaf]

    def _list(self, leaf: str) -> list[list[str]]:
        G, out = self._G, self._output
        if self._cap <= 0 or leaf == out or out not in G:
            return list_paths(G, leaf, out, self._cap)
        if self._reach is None:
            self._reach = upstream(G, out)
        if leaf not in self._reach:
            return []
        _first_paths(G, leaf, out, self._cap, self._reach, self._tails)
        return [_unlinked(t) for t in self._tails[leaf]]

    def __iter__(self):
        return iter(self._leaves)

    def __len__(self) -> int:
        return len(self._leaves)


def path_product(G: nx.DiGraph, path: list[str]) -> sympy.Expr:
    """Π ∂(path[k+1])/∂(path[k]) along one path: its term in the sum over paths."""
    return sympy.Mul(*(G.edges[u, v]["local"] for u, v in zip(path, path[1:], strict=False)))


def post_dominators(G: nx.DiGraph, target: str) -> dict[str, str]:
    """Immediate post-dominators w.r.t. ``target``: for each node v, the first node that
    every path from v to the target passes through (dominators of the reversed graph)."""
    H = G.subgraph(upstream(G, target)).reverse(copy=False)
    return nx.immediate_dominators(H, target)


def path_nodes(G: nx.DiGraph, source: str, reach: set) -> set:
    """The nodes on the paths from ``source`` to the output whose ancestors (and itself) are
    ``reach``: ``({source} | descendants) & reach``, found without leaving ``reach`` (a node
    below ``source`` that reaches the output has its whole path from ``source`` in it)."""
    seen = {source} & reach
    stack = list(seen)
    while stack:
        for s in G.successors(stack.pop()):
            if s in reach and s not in seen:
                seen.add(s)
                stack.append(s)
    return seen


def factored_path_sum(G: nx.DiGraph, source: str, target: str, local=None,
                      ipdom: dict | None = None, reach: set | None = None) -> sympy.Expr:
    """The sum over paths from ``source`` to ``target``, factored where paths merge.

    S(v→t) = ∂s/∂v · S(s→t) when v has one successor s toward t; otherwise, with m the
    immediate post-dominator of v (where its branches meet again),
    S(v→t) = (Σ_s ∂s/∂v · S(s→m)) · S(m→t). This is colah's and the seed's factoring:
    ``x1·A′(f2)·(w2[2,1]·A′(g1)·w3[1,1] + w2[2,2]·A′(g2)·w3[2,1])·∂loss/∂out``.

    ``local(u, v)`` gives the factor of an edge (default: its local partial). The result is
    an unevaluated sympy expression whose factors are in path order; print it with
    ``order="none"``. Unit factors are left out. ``ipdom`` (:func:`post_dominators`) and
    ``reach`` (the nodes with a path to the target) may be given, computed once for many
    sources.
    """
    local = local or (lambda u, v: G.edges[u, v]["local"])
    reach = reach if reach is not None else upstream(G, target)
    if source not in reach:  # an input the output does not use (J(a,b) = 2a): no path
        return sympy.S.Zero
    ipdom = ipdom if ipdom is not None else post_dominators(G, target)

    def walk(v: str, t: str) -> list:
        factors = []
        while v != t:
            succ = [s for s in G.successors(v) if s in reach]
            if len(succ) == 1:
                factors.append(local(v, succ[0]))
                v = succ[0]
                continue
            m = ipdom[v]
            branches = [_product([local(v, s), *walk(s, m)]) for s in succ]
            factors.append(sympy.Add(*branches, evaluate=False))
            v = m
        return factors

    return _product(walk(source, target))


def _product(factors: list) -> sympy.Expr:
    kept = [f for f in factors if not (f.is_Number and f == 1)]  # only a number can be 1
    if not kept:
        return sympy.S.One
    return kept[0] if len(kept) == 1 else sympy.Mul(*kept, evaluate=False)


def leaf_expressions(G: nx.DiGraph, order: list[str], max_size: int) -> dict[str, sympy.Expr]:
    """Each node's value as an expression in leaf names (None when it grows past max_size).

    Const leaves with a fixed value are replaced by that value.
    """
    out: dict[str, sympy.Expr | None] = {}
    sizes: dict[str, int] = {}
    for n in order:
        data = G.nodes[n]
        if data["kind"] != "op":
            out[n] = data["expr"] if data["kind"] == "const" and "value" in data else symbol(n)
            sizes[n] = expr_size(out[n])
            continue
        # known before anything is built
        sizes[n] = expr_size(data["expr"], {a: sizes[a] for a in G.predecessors(n)})
        if sizes[n] > max_size or any(out[a] is None for a in G.predecessors(n)):
            out[n] = None
            continue
        out[n] = _in_leaves(data["expr"], {symbol(a): out[a] for a in G.predecessors(n)})
    return out


def _in_leaves(expr: sympy.Expr, subs: dict) -> sympy.Expr:
    """``expr.xreplace(subs)``. A product of two inputs that stand for themselves (``w*x``)
    is rebuilt as xreplace rebuilds it, evaluated (:func:`_times`), without the walk."""
    args = expr.args
    if type(expr) is sympy.Mul and len(args) == 2 and all(subs.get(a) is a for a in args):
        return _times(*args)
    return expr.xreplace(subs)


def to_leaf_names(expr: sympy.Expr, leaf_exprs: dict, max_size: int,
                  sizes: dict | None = None) -> sympy.Expr | None:
    """Rewrite an expression in intermediate names into leaf names, within a size budget.

    ``sizes`` remembers the size of each leaf expression across calls (a caller rewriting
    every gradient measures each node's expression once, not once per gradient using it)."""
    subs = {}
    for s in expr.free_symbols:
        e = leaf_exprs.get(s.name)
        if e is None:  # too large, or an adjoint symbol: the chain was not written out
            return None
        subs[s] = e
    sizes = {} if sizes is None else sizes
    for s, e in subs.items():
        if s.name not in sizes:
            sizes[s.name] = expr_size(e)
    size = expr_size(expr, {s.name: sizes[s.name] for s in subs})
    if size > max_size:  # decided before the expression is built
        return None
    out = expr.xreplace(subs)
    # Common factors pulled out, 2*(b + w*x - y), without expanding or factoring polynomials;
    # only on small formulas, where it reads better and costs little.
    return sympy.factor_terms(out) if size <= FACTOR_TERMS_MAX_SIZE else out


@lru_cache(maxsize=65536)
def _size(expr: sympy.Expr) -> int:
    """:func:`expr_size`, remembered: the same small local partials recur all over a network."""
    return expr_size(expr)


def expr_size(expr: sympy.Expr, symbol_sizes: dict[str, int] | None = None,
              memo: dict | None = None) -> int:
    """The size of an expression as printed: its number of tree nodes.

    Shared subexpressions count once per use, as they print; the count is memoized over the
    distinct subexpressions, so it costs time linear in the DAG even when the tree is huge.
    With ``symbol_sizes``, a symbol counts as the size of what will replace it, so the size of
    a substitution is known before it is made. ``memo`` keeps the sizes of subexpressions
    across calls (without ``symbol_sizes``: a size is then the expression's own).
    """
    sizes = memo if memo is not None and not symbol_sizes else {}
    for name, size in (symbol_sizes or {}).items():
        sizes[symbol(name)] = size
    stack = [(expr, False)]
    while stack:
        e, done = stack.pop()
        if e in sizes:
            continue
        args = e.args
        if not args:
            sizes[e] = 1
        elif done:
            sizes[e] = 1 + sum(sizes[a] for a in args)
        else:
            stack.append((e, True))
            stack.extend((a, False) for a in args if a not in sizes)
    return sizes[expr]


def count_ops(expressions) -> int:
    """Σ sympy.count_ops over a program's statements: its size in operations."""
    return sum(sympy.count_ops(e) for e in expressions)


def leaf_tree_sizes(G: nx.DiGraph, order: list[str]) -> dict[str, int]:
    """How large each node's expression in leaf names would be, printed (nothing is built)."""
    sizes: dict[str, int] = {}
    for n in order:
        sizes[n] = expr_size(G.nodes[n]["expr"], {a: sizes[a] for a in G.predecessors(n)})
    return sizes


def cost(d: Derivation) -> dict:
    """What this gradient costs: the forward and gradient programs in operations, and what
    naive differentiation of the whole loss, once per weight, would visit.

    Reverse mode computes every gradient with one sweep whose program is a small constant
    times the forward program (the cheap-gradient principle); differentiating the loss in
    leaf names once per weight visits its whole tree each time.
    """
    G = d.graph
    forward = count_ops(G.nodes[n]["expr"] for n in d.order if G.nodes[n]["kind"] == "op")
    gradient = count_ops(d.program.values())
    tree = leaf_tree_sizes(G, d.order)[d.output]
    return {"nodes": G.number_of_nodes(), "edges": G.number_of_edges(),
            "forward_ops": forward, "gradient_ops": gradient,
            "ratio": gradient / max(1, forward), "weights": len(d.leaves),
            "loss_tree_size": tree, "naive_visits": tree * len(d.leaves)}


def cost_table(d: Derivation) -> dict:
    """Multiplications of local partials that three ways of getting every gradient need.

    - per-path enumeration: each ∂L/∂x as its sum over paths, each path's product worked
      on its own: a path of k edges costs k − 1 multiplications;
    - forward mode: one pass per input x, carrying ∂v/∂x forward: one multiplication per
      edge the pass reaches, ∂v/∂x += ∂v/∂u · ∂u/∂x;
    - reverse mode (backprop): one pass for all of them, ∂L/∂u += ∂L/∂v · ∂v/∂u: one
      multiplication per edge.

    Counted by dynamic programming over the graph, never by listing paths (a graph can have
    2³⁰ of them). The seed's point: reverse mode does in one pass what the others repeat per
    weight or per path.

    Examples
    --------
    >>> from graphexplain.parse import parse
    >>> from graphexplain.graph import build
    >>> cost_table(derive(build(parse("J(a,b,c) = 3(a+bc)"))))
    {'inputs': 3, 'paths': 3, 'per_path': 5, 'forward_mode': 8, 'reverse_mode': 5}
    """
    G, out = d.graph, d.output
    relevant = set(d.contributions)  # the sweep's nodes: tracked(G, out) | {out}, known
    edges = [(u, v) for u, v in G.edges if u in relevant and v in relevant]
    succ: dict[str, list[str]] = {}
    for u, v in edges:
        succ.setdefault(u, []).append(v)
    count: dict[str, int] = {out: 1}  # paths from v to the output
    length: dict[str, int] = {out: 0}  # edges summed over those paths
    for v in reversed(d.order):
        if v != out and v in relevant:
            count[v] = sum(count[s] for s in succ.get(v, ()))
            length[v] = sum(length[s] + count[s] for s in succ.get(v, ()))
    leaves = [x for x in d.leaves if count.get(x, 0)]
    bit = {x: 1 << i for i, x in enumerate(leaves)}
    reach: dict[str, int] = {}  # which inputs reach each node, as a bitset
    for v in d.order:
        reach[v] = bit.get(v, 0)
        for u in G.predecessors(v):
            reach[v] |= reach.get(u, 0)
    return {"inputs": len(d.leaves), "paths": sum(count[x] for x in leaves),
            "per_path": sum(length[x] - count[x] for x in leaves),
            "forward_mode": sum(reach.get(u, 0).bit_count() for u, _ in edges),
            "reverse_mode": len(edges)}


def derive(G: nx.DiGraph, output: str | None = None, limits: Limits = DEFAULT) -> Derivation:
    """Derive every adjoint, gradient formula and path sum of ``output`` (default: the graph's).

    Examples
    --------
    >>> from graphexplain.parse import parse
    >>> from graphexplain.graph import build
    >>> d = derive(build(parse("J(a,b,c) = 3(a+bc)")))
    >>> [d.formulas[x] for x in "abc"]
    [3, 3*c, 3*b]
    >>> d.path_counts["b"], d.paths["b"]
    (1, [['b', 'v', 'u', 'J']])
    """
    output = output or G.graph["output"]
    order = stable_order(G)
    adj, contributions, program = adjoint_sweep(G, output, order)
    gleaves = [n for n in grad_leaves(G) if n in adj]
    cap = per_node_cap(limits.max_formula_ops, len(gleaves))
    leaf_exprs = leaf_expressions(G, order, cap)
    sizes: dict[str, int] = {}  # each leaf expression measured once
    formulas = {x: to_leaf_names(adj[x], leaf_exprs, cap, sizes)
                for x in track(gleaves, "formulas")}
    counts = count_paths(G, output, order)
    paths = LazyPaths(G, output, gleaves, limits.max_paths)
    return Derivation(G, output, order, adj, contributions, program, formulas, counts, paths,
                      limits)
