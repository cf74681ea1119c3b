"""Details of graphexplain.derive pinned by mutation testing (mutmut): the order of the
adjoints, adjoint names that clash with nodes, the path cap, the factored path sum left
unevaluated in path order, path_nodes, cost_table on graphs with unused or constant
inputs, the size limits of the leaf-name expressions and formulas (and where factor_terms
stops), the derivation's order and limits, and the progress bars' labels. Each expected
value is worked out by hand or with networkx."""

from __future__ import annotations

import signal
from contextlib import contextmanager
from itertools import islice

import networkx as nx
import pytest
import sympy

import graphexplain.derive as derive_module
from graphexplain.derive import (
    FACTOR_TERMS_MAX_SIZE,
    PRINT_BUDGET,
    _in_leaves,
    adjoint_name,
    adjoint_sweep,
    adjoints,
    cost,
    cost_table,
    count_paths,
    derive,
    expr_size,
    factored_path_sum,
    leaf_expressions,
    path_nodes,
    per_node_cap,
    stable_order,
    to_leaf_names,
)
from graphexplain.graph import add_leaf, add_op, build, new_graph, symbol
from graphexplain.limits import Limits
from graphexplain.parse import parse

a, b, c, w, y = (symbol(n) for n in "abcwy")

SEED = "J(a,b,c) = 3(a+bc)"


@contextmanager
def within(seconds: int):
    """Fail (instead of hanging) when the block runs longer than ``seconds``."""
    def fail(*_):
        raise AssertionError(f"took longer than {seconds} s")
    old = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# --- sizes and orders ---------------------------------------------------------------------


def test_per_node_cap_shares_the_print_budget():
    assert PRINT_BUDGET == 100_000
    assert per_node_cap(500, 0) == 500  # no nodes: counted as one
    assert per_node_cap(500, 1) == 500
    assert per_node_cap(10**6, 1) == 100_000
    assert per_node_cap(10**6, 2) == 50_000
    cap = per_node_cap(500, 300)  # 100000 // 300
    assert cap == 333 and type(cap) is int
    assert per_node_cap(500, 10**6) == 1  # never below 1
    assert per_node_cap(0, 5) == 1


def test_expr_size_counts_tree_nodes():
    assert expr_size(a) == 1
    assert expr_size(a * b + c) == 5  # Add(Mul(a, b), c)
    assert expr_size(a * b + c, {"a": 10}) == 14  # a stands for 10 nodes
    assert expr_size(sympy.sin(a * b) + a * b) == 8  # 1 + 3 + (1 + 3): a*b counted twice


def test_expr_size_memo_keeps_own_sizes_only():
    memo: dict = {}
    assert expr_size(a * b, memo=memo) == 3
    assert memo == {a: 1, b: 1, a * b: 3}
    assert expr_size(a * b + c, {"a": 10}, memo=memo) == 14
    assert memo == {a: 1, b: 1, a * b: 3}  # substituted sizes are not remembered


def test_stable_order_keeps_insertion_order_among_independent_nodes():
    G = nx.DiGraph()
    G.add_nodes_from(["f", "y", "x"])  # f inserted before its arguments
    G.add_edges_from([("x", "f"), ("y", "f")])
    assert stable_order(G) == ["y", "x", "f"]
    H = build(parse(SEED))
    assert stable_order(H) == list(H.nodes) == ["a", "b", "c", "v", "u", "J"]


def test_count_paths_to_an_intermediate_node():
    G = build(parse(SEED))
    assert count_paths(G, "v") == {"J": 0, "u": 0, "v": 1, "c": 1, "b": 1, "a": 0}
    assert count_paths(G, "J") == {"J": 1, "u": 1, "v": 1, "c": 1, "b": 1, "a": 1}


# --- adjoints --------------------------------------------------------------------------------


def test_adjoints_follow_the_given_order_reversed():
    G = build(parse(SEED))
    assert list(nx.topological_sort(G)) == ["a", "b", "c", "v", "u", "J"]
    order = ["c", "b", "a", "v", "u", "J"]  # another topological order
    adj, contributions = adjoints(G, "J", order)
    assert list(adj) == ["J", "u", "v", "a", "b", "c"]
    assert list(contributions) == ["J", "u", "v", "a", "b", "c"]
    assert adj["b"] == 3 * c and adj["c"] == 3 * b and adj["a"] == 3
    # without an order: networkx's topological order, reversed
    assert list(adjoints(G, "J")[0]) == ["J", "u", "v", "c", "b", "a"]


def test_chain_writes_out_successors_up_to_the_size_limit():
    """J = 2u, u = 3v, v = 5x: the printed sizes of the adjoints are u: 1 + (2 + 1 + 1) = 5
    and v: 1 + (2 + 5 + 1) = 9; a successor's adjoint is written out when its size is at
    most max_size, else referred to by its symbol."""
    G = build(parse("J = 2*u; u = 3*v; v = 5*x"))
    dJ_du, dJ_dv = symbol("dJ_du"), symbol("dJ_dv")
    expected = {4: (3 * dJ_du, 5 * dJ_dv), 5: (6, 5 * dJ_dv), 8: (6, 5 * dJ_dv), 9: (6, 30)}
    for max_size, (at_v, at_x) in expected.items():
        chain, _, _ = adjoint_sweep(G, "J", max_size=max_size)
        assert chain == {"J": 1, "u": 2, "v": at_v, "x": at_x}, max_size


def test_chain_product_of_two_node_symbols_is_sympy_s_product():
    """∂J/∂x = y·w for J = y·h, h = w·x: built without sympy's Mul, and the same, its
    factors in the order of their names."""
    d = derive(build(parse("J = y*h; h = w*x")))
    dx = d.adjoints["x"]
    assert dx == w * y and dx.args == (w, y) == (w * y).args
    assert dx.is_commutative is True
    d = derive(build(parse("J = a*h; h = w*x")))  # the adjoint's name first this time
    assert d.adjoints["x"] == a * w and d.adjoints["x"].args == (a, w) == (a * w).args


def test_chain_product_of_a_node_symbol_with_itself_is_a_power():
    """∂J/∂x = y·y = y² for J = y·h, h = y·x."""
    d = derive(build(parse("J = y*h; h = y*x")))
    assert d.adjoints["x"] == y**2 and isinstance(d.adjoints["x"], sympy.Pow)


def test_adjoint_name_adds_underscores_past_clashing_nodes():
    G = build(parse("J = 3*u; u = a + dJ_du + dJ_du_"))
    assert {"dJ_du", "dJ_du_"} <= set(G.nodes)
    assert adjoint_name(G, "J", "u") == "dJ_du__"
    assert adjoint_name(G, "J", "a") == "dJ_da"  # no clash: unchanged
    d = derive(G)
    assert str(d.program["a"]) == "dJ_du__"  # ∂J/∂a = dJ/du · 1 in the gradient program


# --- paths -----------------------------------------------------------------------------------

# b → s1 → J (1 path) and b → s2 → t1, t2, t3 → J (3 paths): 4 paths from b
FOUR_PATHS = ("s1 = 2*b; s2 = 3*b; t1 = s2 + 1; t2 = s2*s2; t3 = exp(s2); "
              "J = s1 + t1 + t2 + t3")


def test_paths_stop_at_the_cap_across_successors():
    G = build(parse(FOUR_PATHS))
    d = derive(G, limits=Limits(max_paths=3))
    assert d.path_counts["b"] == 4
    assert d.paths["b"] == list(islice(nx.all_simple_paths(G, "b", "J"), 3))
    assert d.paths["b"] == [["b", "s1", "J"], ["b", "s2", "t1", "J"], ["b", "s2", "t2", "J"]]


def test_no_paths_listed_with_a_cap_of_zero():
    G = build(parse(SEED))
    d = derive(G, limits=Limits(max_paths=0))
    assert d.path_counts["b"] == 1
    assert d.paths["b"] == [] and d.paths["a"] == []
    assert d.path_terms("b") == []


def test_path_of_the_output_to_itself_is_the_output_alone():
    d = derive(build(parse(SEED)), "a")  # a leaf as the output
    assert d.adjoints == {"a": 1}
    assert d.paths["a"] == [["a"]] == list(nx.all_simple_paths(d.graph, "a", "a"))
    assert d.path_counts["a"] == 1


def test_paths_of_an_unknown_leaf_is_a_key_error_naming_it():
    d = derive(build(parse(SEED)))
    with pytest.raises(KeyError) as err:
        d.paths["zz"]
    assert err.value.args == ("zz",)
    with pytest.raises(KeyError) as err:
        d.paths["u"]  # a node, but not a leaf
    assert err.value.args == ("u",)


def ladder_above(depth: int) -> str:
    """v = 3b, the output; above it, from b, a ladder with 2^depth paths to J."""
    lines = ["v = 3*b", "p1 = b + 1", "q1 = b + 2"]
    for k in range(2, depth + 1):
        lines += [f"p{k} = p{k - 1} + q{k - 1}", f"q{k} = p{k - 1}*q{k - 1}"]
    lines.append(f"J = p{depth} + q{depth} + v")
    return "; ".join(lines)


def test_paths_to_an_intermediate_output_do_not_explore_the_graph_above_it():
    """Listing b's paths to v stays among v's ancestors: enumerating all simple paths from
    b (2^40 of them lead to J, none to v) would never finish."""
    G = build(parse(ladder_above(40)))
    assert nx.has_path(G, "q40", "J")
    with within(20):
        d = derive(G, "v")
        assert d.paths["b"] == [["b", "v"]]
        assert d.path_counts["b"] == 1
        assert d.adjoints["b"] == 3


# --- path_nodes -----------------------------------------------------------------------------


def test_path_nodes_are_the_descendants_within_reach():
    G = build(parse(SEED))
    to_j = nx.ancestors(G, "J") | {"J"}
    assert path_nodes(G, "b", to_j) == {"b", "v", "u", "J"}
    assert path_nodes(G, "a", to_j) == {"a", "u", "J"}
    to_v = nx.ancestors(G, "v") | {"v"}  # {b, c, v}: u and J are past the target
    assert path_nodes(G, "b", to_v) == {"b", "v"}
    assert path_nodes(G, "a", to_v) == set()  # a does not reach v
    for s in "abc":
        assert path_nodes(G, s, to_j) == ({s} | nx.descendants(G, s)) & to_j


# --- factored_path_sum -----------------------------------------------------------------------


def test_factored_path_sum_keeps_equal_branches_apart():
    """Two paths with the same product stay two terms, 3 + 3, not 6."""
    G = build(parse("p = 3*x; q = 3*x; J = p + q"))
    s = factored_path_sum(G, "x", "J")
    assert isinstance(s, sympy.Add) and s.args == (3, 3)
    assert str(s) == "3 + 3"
    assert s.doit() == 6


def test_factored_path_sum_keeps_factors_in_path_order():
    G = build(parse(SEED))
    s = factored_path_sum(G, "b", "J")  # ∂v/∂b = c, ∂u/∂v = 1 (left out), ∂J/∂u = 3
    assert isinstance(s, sympy.Mul) and s.args == (c, 3)
    assert str(s) == "c*3"


def test_factored_path_sum_of_one_factor_is_that_factor():
    G = build(parse(SEED))
    s = factored_path_sum(G, "a", "J")  # 1 · 3
    assert s == 3 and type(s) is sympy.Integer
    assert factored_path_sum(G, "v", "u") is sympy.S.One  # ∂u/∂v = 1 alone


# --- cost_table ------------------------------------------------------------------------------


def test_cost_table_with_an_unused_input():
    """J(a,b) = 2a: b gets a gradient (0) but has no edge and no path."""
    d = derive(build(parse("J(a,b) = 2a")))
    assert d.leaves == ["a", "b"] and d.path_counts["b"] == 0
    assert cost_table(d) == {"inputs": 2, "paths": 1, "per_path": 0, "forward_mode": 1,
                             "reverse_mode": 1}


def test_cost_table_leaves_out_the_edges_of_a_constant():
    """With c constant, the edge c → v is not swept: edges a→u, b→v, v→u, u→J."""
    G = build(parse(SEED), consts=["c"])
    d = derive(G)
    assert G.number_of_edges() == 5
    # paths: a (1 path, 2 edges), b (1 path, 3 edges): per path 1 + 2 multiplications;
    # forward mode: the pass for a reaches a→u, u→J; the one for b: b→v, v→u, u→J
    assert cost_table(d) == {"inputs": 2, "paths": 2, "per_path": 3, "forward_mode": 5,
                             "reverse_mode": 4}


def test_cost_table_for_an_intermediate_output_skips_leaves_that_do_not_reach_it():
    d = derive(build(parse(SEED)), "v")  # v = b·c: a does not reach v
    assert d.leaves == ["a", "b", "c"]
    assert cost_table(d) == {"inputs": 3, "paths": 2, "per_path": 0, "forward_mode": 2,
                             "reverse_mode": 2}


# --- formulas in leaf names ------------------------------------------------------------------


def test_formula_replaces_a_named_constant_by_its_value():
    """J(x) = x*k; x = 3; k = 2: k is a const leaf with value 2, so ∂J/∂x is 2, not k."""
    G = build(parse("J(x) = x*k; x = 3; k = 2"))
    assert G.nodes["k"]["kind"] == "const" and G.nodes["k"]["value"] == 2.0
    d = derive(G)
    assert d.leaves == ["x"]
    assert d.adjoints["x"] == symbol("k")  # the chain keeps the name
    assert d.formulas["x"] == 2


def test_formula_keeps_a_constant_without_a_value_by_name():
    G = build(parse("J(a,b,c) = 3(a+bc)"), consts=["c"])
    d = derive(G)
    assert d.leaves == ["a", "b"]
    assert d.formulas == {"a": 3, "b": 3 * c}


def test_leaf_expressions_stop_past_the_size_limit():
    """J = 2u, u = 3v, v = 5x: the printed sizes in leaf names, counted before anything is
    built, are v: 3 (5*x), u: 1 + 1 + 3 = 5, J: 1 + 1 + 5 = 7; a node past max_size, or
    above one, is None (every node still listed)."""
    G = build(parse("J = 2*u; u = 3*v; v = 5*x"))
    order = stable_order(G)
    assert order == ["x", "v", "u", "J"]
    x = symbol("x")
    assert leaf_expressions(G, order, 7) == {"x": x, "v": 5 * x, "u": 15 * x, "J": 30 * x}
    assert leaf_expressions(G, order, 6) == {"x": x, "v": 5 * x, "u": 15 * x, "J": None}
    assert leaf_expressions(G, order, 5) == {"x": x, "v": 5 * x, "u": 15 * x, "J": None}
    assert leaf_expressions(G, order, 4) == {"x": x, "v": 5 * x, "u": None, "J": None}
    assert leaf_expressions(G, order, 4)["J"] is None


def test_leaf_expression_of_a_product_of_intermediates_is_written_out():
    G = build(parse("J = sin(w); w = u*v; u = a+b; v = a-b"))
    exprs = leaf_expressions(G, stable_order(G), 100)
    assert exprs["w"] == (a - b) * (a + b)
    assert exprs["J"] == sympy.sin((a - b) * (a + b))
    assert derive(G).formulas == {"a": 2 * a * sympy.cos((a - b) * (a + b)),
                                  "b": -2 * b * sympy.cos((a - b) * (a + b))}


def test_in_leaves_is_xreplace_for_products_of_any_length():
    same = {a: a, b: b, c: c}
    assert _in_leaves(a * b * c, same) == a * b * c
    assert _in_leaves(a * b, same) == a * b and _in_leaves(a * b, same).args == (a, b)
    assert _in_leaves(a * b, {a: c + 1, b: b}) == b * (c + 1)


def test_to_leaf_names_measures_with_the_sizes_of_the_leaf_expressions():
    """2u with u = 15x: size 1 + 1 + 3 = 5 (not 3, the size of 2u itself)."""
    u, x = symbol("u"), symbol("x")
    leaf_exprs = {"u": 15 * x, "x": x}
    assert to_leaf_names(2 * u, leaf_exprs, 5) == 30 * x
    assert to_leaf_names(2 * u, leaf_exprs, 4) is None
    sizes: dict = {}
    assert to_leaf_names(u * x, leaf_exprs, 100, sizes) == 15 * x**2
    assert sizes == {"u": 3, "x": 1}  # remembered for the caller


def test_to_leaf_names_pulls_out_common_factors():
    u, x = symbol("u"), symbol("x")
    out = to_leaf_names(2 * u, {"u": b + w * x - y}, 100)
    assert type(out) is sympy.Mul and str(out) == "2*(b + w*x - y)"


def test_to_leaf_names_factors_only_up_to_factor_terms_max_size():
    """Σ 2·s_i plus one 2·s·t: 1 + 3n + 4 printed nodes; factored at 200, kept at 201."""
    assert FACTOR_TERMS_MAX_SIZE == 200
    s = [symbol(f"s{i}") for i in range(70)]
    u = symbol("u")
    for n, factored in ((65, True), (66, False)):
        e = sympy.Add(*(2 * t for t in s[:n]), 2 * s[68] * s[69])
        assert expr_size(e) == 1 + 3 * n + 4
        out = to_leaf_names(u, {"u": e}, 10_000)
        assert sympy.expand(out) == e
        if factored:  # 2*(s0 + s1 + … + s68*s69)
            assert type(out) is sympy.Mul and out.args == (2, sympy.Add(*s[:n], s[68] * s[69]))
        else:
            assert out == e and type(out) is sympy.Add, n


def test_cost_ratio_of_a_one_operation_forward_program():
    """J = sin(a): one operation forward, cos(a) in the gradient program: ratio 1."""
    c_ = cost(derive(build(parse("J = sin(a)"))))
    assert (c_["forward_ops"], c_["gradient_ops"], c_["ratio"]) == (1, 1, 1.0)


def test_derivation_lists_nodes_in_insertion_order_reversed():
    """a, b, v = ab, c, u = v + c, d, J = ud inserted in that order: networkx's own
    topological order would put c and d before v; the derivation keeps insertion order."""
    G = new_graph("J")
    add_leaf(G, "a")
    add_leaf(G, "b")
    add_op(G, "v", "mul", ["a", "b"])
    add_leaf(G, "c")
    add_op(G, "u", "add", ["v", "c"])
    add_leaf(G, "d")
    add_op(G, "J", "mul", ["u", "d"])
    assert list(nx.topological_sort(G)) == ["a", "b", "c", "d", "v", "u", "J"]
    d = derive(G)
    expected = ["J", "d", "u", "c", "v", "b", "a"]
    assert d.order == expected[::-1]
    assert list(d.adjoints) == list(d.contributions) == list(d.program) == expected
    assert list(d.path_counts) == expected
    assert d.formulas == {"a": b * symbol("d"), "b": a * symbol("d"), "c": symbol("d"),
                          "d": a * b + c}


def test_derivation_keeps_the_limits_it_was_given():
    limits = Limits(max_paths=3)
    assert derive(build(parse(SEED)), limits=limits).limits == limits
    assert derive(build(parse(SEED)), limits=limits).limits != Limits()


def test_progress_bars_are_labelled_adjoints_and_formulas(monkeypatch):
    calls = []

    def track(iterable, desc, total=None):
        calls.append((desc, total))
        return iterable

    monkeypatch.setattr(derive_module, "track", track)
    derive(build(parse(SEED)))
    assert calls == [("adjoints", 6), ("formulas", None)]
