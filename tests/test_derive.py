"""The chain rule, worked: adjoints, formulas, paths and path counts."""

from __future__ import annotations

import doctest
import math

import networkx as nx
import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from strategies import pipeline, programs

from graphexplain import derive as derive_module
from graphexplain.derive import (
    adjoints,
    count_paths,
    derive,
    leaf_expressions,
    path_product,
    to_leaf_names,
)
from graphexplain.graph import build, symbol
from graphexplain.limits import Limits
from graphexplain.parse import parse

a, b, c, u, v, x = (symbol(n) for n in "abcuvx")

SEED_FORMS = ["J(a,b,c) = 3(a+bc)", "u = a + v; v = b*c; J = 3*u"]


def same(e1, e2) -> bool:
    return sympy.expand(sympy.sympify(e1) - e2) == 0


def in_leaf_names(d, expr):
    leaf_exprs = leaf_expressions(d.graph, d.order, 10**6)
    return to_leaf_names(expr, leaf_exprs, 10**6)


def test_doctests():
    assert doctest.testmod(derive_module).failed == 0


@pytest.mark.parametrize("text", SEED_FORMS)
def test_seed_formulas_chain_and_paths(text):
    d = derive(build(parse(text)))
    assert d.output == "J" and d.leaves == ["a", "b", "c"]
    # formulas in leaf names
    assert same(d.formulas["a"], 3)
    assert same(d.formulas["b"], 3 * c)
    assert same(d.formulas["c"], 3 * b)
    # the chain, node by node
    assert d.adjoints["J"] == 1
    assert d.adjoints["u"] == 3 and d.adjoints["v"] == 3
    assert same(d.adjoints["b"], 3 * c) and same(d.adjoints["c"], 3 * b)
    assert d.contributions["v"] == [("u", 1)]
    assert d.contributions["b"] == [("v", c)]
    assert d.local("b", "v") == c
    # paths
    assert d.paths == {"a": [["a", "u", "J"]], "b": [["b", "v", "u", "J"]],
                       "c": [["c", "v", "u", "J"]]}
    assert all(d.path_counts[n] == 1 for n in "abcuv")
    assert d.path_counts["J"] == 1
    # chain == formula == sum over paths
    for leaf in "abc":
        by_paths = sympy.Add(*d.path_terms(leaf))
        assert same(in_leaf_names(d, d.adjoints[leaf]), d.formulas[leaf])
        assert same(in_leaf_names(d, by_paths), d.formulas[leaf])


def test_gradient_program_is_one_statement_per_node():
    """program[v] is Σ_s dJ_ds·∂s/∂v in the successors' adjoint symbols; substituting the
    adjoints back gives the chain."""
    d = derive(build(parse("J(a,b,c) = 3(a+bc)")))
    dJ = {n: derive_module.adjoint_symbol(d.graph, "J", n) for n in d.graph}
    assert str(dJ["u"]) == "dJ_du"
    assert d.program["J"] == 1 and d.program["u"] == 3
    assert d.program["b"] == c * dJ["v"] and d.program["a"] == dJ["u"]
    back = {dJ[n]: d.adjoints[n] for n in d.adjoints}
    for n in d.adjoints:
        assert same(d.program[n].xreplace(back), d.adjoints[n]), n


def test_factored_path_sum_of_the_seed_and_a_fork():
    G = build(parse("J(a,b,c) = 3(a+bc)"))
    assert same(derive_module.factored_path_sum(G, "b", "J"), 3 * c)
    G = build(parse("y = x*x + x"))
    assert same(derive_module.factored_path_sum(G, "x", "y"), 2 * x + 1)


def test_fork_gradients_add():
    d = derive(build(parse("y = x*x + x")))
    assert same(d.formulas["x"], 2 * x + 1)
    assert same(d.adjoints["x"], 2 * x + 1)
    square = next(n for n in d.graph.successors("x") if n != "y")
    assert sorted(d.contributions["x"], key=str) == sorted([(square, 2 * x), ("y", 1)], key=str)
    assert d.path_counts["x"] == 2
    assert sorted(map(tuple, d.paths["x"])) == sorted([("x", square, "y"), ("x", "y")])
    assert same(sympy.Add(*d.path_terms("x")), 2 * x + 1)


def test_adjoints_of_an_intermediate_output():
    G = build(parse("J(a,b,c) = 3(a+bc)"))
    d = derive(G, "u")
    assert d.output == "u"
    assert same(d.formulas["b"], c) and same(d.formulas["a"], 1)
    assert "J" not in d.adjoints
    adj, _ = adjoints(G, "v")
    assert set(adj) == {"v", "b", "c"}


def test_derive_does_not_modify_the_graph():
    G = build(parse("f = sigmoid(w*x + b)*x"))
    nodes = {n: dict(data) for n, data in G.nodes(data=True)}
    edges = {(s, t): dict(data) for s, t, data in G.edges(data=True)}
    meta = dict(G.graph)
    derive(G)
    assert {n: dict(data) for n, data in G.nodes(data=True)} == nodes
    assert {(s, t): dict(data) for s, t, data in G.edges(data=True)} == edges
    assert G.graph == meta


def test_untracked_nodes_get_no_adjoint():
    """As in torch, a node that depends on no leaf requiring grad gets no gradient."""
    G = build(parse("f = x*c + c*c"), consts=["c"])
    d = derive(G)
    square = next(n for n in G if G.nodes[n].get("args") == ("c", "c"))
    assert square not in d.adjoints and "c" not in d.adjoints
    assert list(d.formulas) == ["x"] and same(d.formulas["x"], symbol("c"))


def test_const_with_value_appears_as_its_value_in_formulas():
    d = derive(build(parse("k = 3; f = k*x*x")))
    assert same(d.formulas["x"], 6 * x)


def test_formula_too_large_is_none_but_the_chain_remains():
    G = build(parse("J(a,b,c) = 3(a+bc)"))
    d = derive(G, limits=Limits(max_formula_ops=1))
    assert d.formulas["b"] is None and d.formulas["c"] is None
    assert same(d.adjoints["b"], 3 * c)


def test_formula_evaluates_at_a_point():
    """A formula in leaf names evaluates at a point with xreplace (the ops docstring)."""
    d = derive(build(parse("f = abs(softplus(x + pi))")))
    value = d.formulas["x"].xreplace({x: sympy.Float(0.0)})
    assert float(value) == pytest.approx(1 / (1 + math.exp(-math.pi)))


def doubling_chain(k: int) -> str:
    """h1 = sin(x) + cos(x); h2 = sin(h1) + cos(h1); …: 2^k paths from x."""
    lines = ["h1 = sin(x) + cos(x)"]
    lines += [f"h{i} = sin(h{i - 1}) + cos(h{i - 1})" for i in range(2, k + 1)]
    return "\n".join(lines)


def test_paths_are_counted_not_listed_past_the_cap():
    G = build(parse(doubling_chain(40)))
    d = derive(G, limits=Limits(max_paths=5, max_formula_ops=50))
    assert d.path_counts["x"] == 2**40
    assert len(d.paths["x"]) == 5
    assert all(p[0] == "x" and p[-1] == "h40" for p in d.paths["x"])
    assert d.formulas["x"] is None  # too large to expand


def test_count_paths_matches_enumeration_on_a_small_chain():
    G = build(parse(doubling_chain(4)))
    counts = count_paths(G, "h4")
    for n in G:
        if n != "h4":
            assert counts[n] == len(list(nx.all_simple_paths(G, n, "h4"))), n
    d = derive(G)
    assert len(d.paths["x"]) == 16


def test_path_product():
    G = build(parse("J(a,b,c) = 3(a+bc)"))
    assert path_product(G, ["b", "v", "u", "J"]) == 3 * c
    assert path_product(G, ["u", "J"]) == 3


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_path_sums_and_counts(text):
    """For random programs: path_counts is the number of simple paths, and for every leaf the
    sum over its paths of the products of local partials is the chain-rule adjoint and, in
    leaf names, the formula."""
    G, d = pipeline(text, max_paths=10_000)
    out = d.output
    for n in G:
        if n != out and n in nx.ancestors(G, out):
            assert d.path_counts[n] == len(list(nx.all_simple_paths(G, n, out))), (text, n)
    leaf_exprs = leaf_expressions(G, d.order, 10**5)
    for leaf in d.leaves:
        assume(d.path_counts[leaf] <= 10_000)
        assert len(d.paths[leaf]) == d.path_counts[leaf]
        by_paths = sympy.Add(*d.path_terms(leaf))
        chain = d.adjoints[leaf]
        # in intermediate names, the two are the same polynomial in the local partials
        difference = to_leaf_names(by_paths - chain, leaf_exprs, 10**5)
        if difference is not None:
            assert _zero_at_points(difference), (text, leaf)
        if d.formulas[leaf] is not None:
            by_paths_leaf = to_leaf_names(by_paths, leaf_exprs, 10**5)
            assert by_paths_leaf is not None
            assert _zero_at_points(by_paths_leaf - d.formulas[leaf]), (text, leaf)


def _zero_at_points(expr) -> bool:
    """An expression in leaf names is (numerically) zero at a few points."""
    names = sorted(expr.free_symbols, key=str)
    for point in ([0.3, -0.7, 1.1, 0.9], [1.3, 0.4, -0.2, -1.6]):
        subs = {s: sympy.Float(point[i % len(point)]) for i, s in enumerate(names)}
        value = complex(sympy.N(expr.xreplace(subs)))
        if abs(value) > 1e-8:
            return False
    return True


# --- inputs the output does not use, and the course's programs end to end -----------------------


def test_an_unused_declared_input_has_gradient_zero():
    """J(a,b) = 2a: b is declared, so --at b=7 is accepted and ∂J/∂b = 0 (torch: None)."""
    from graphexplain import explain
    from graphexplain.derive import factored_path_sum

    d = derive(build(parse("J(a,b) = 2a")))
    assert d.leaves == ["a", "b"]
    assert d.adjoints["b"] == 0 and d.formulas["b"] == 0 and d.program["b"] == 0
    assert d.contributions["b"] == []
    assert d.path_counts["b"] == 0 and d.paths["b"] == []
    assert factored_path_sum(d.graph, "b", "J") == 0
    e = explain("J(a,b) = 2a", at={"a": 1, "b": 7})
    assert e.evaluation.adjoints == {"J": 1.0, "a": 2.0, "b": 0.0}
    assert e.gradients["b"]["value"] == 0.0 and e.gradients["a"]["value"] == 2.0
    assert e.verification.ok is True
    assert e.verification.torch.compared == 3
    assert e.verification.finite_difference.compared == 2


def test_a_point_from_the_program_itself():
    """y = x**2; x = 3 explains dy/dx = 6 at x = 3."""
    from graphexplain import explain_graph
    from graphexplain.graph import complete_point

    G = build(parse("y = x**2; x = 3"))
    e = explain_graph(G, complete_point(G, None))
    assert e.evaluation.values == {"x": 3.0, "y": 9.0}
    assert e.gradients["x"]["value"] == 6.0 and same(e.gradients["x"]["formula"], 2 * x)
    assert e.verification.ok is True
    e = explain_graph(G, complete_point(G, {"x": -1}))
    assert e.gradients["x"]["value"] == -2.0


def test_sigma_of_a_linear_unit_in_the_course_notation():
    from graphexplain import explain

    e = explain("y = σ(w·x + b)", at={"w": 2, "x": 0.5, "b": -1})
    grads = {n: g["value"] for n, g in e.gradients.items()}
    # w·x + b = 0, σ(0) = 1/2, σ′(0) = 1/4
    assert grads == {"w": 0.125, "x": 0.5, "b": 0.25}
    assert e.verification.ok is True
    assert {n for n in e.graph if e.graph.nodes[n]["kind"] == "op"} == {"u", "v", "y"}


def test_labels_as_names_end_to_end():
    from graphexplain import explain

    e = explain("f = w1[1,2]*x1", at={"w1_1_2": 2, "x1": 3})
    assert e.gradients["w1_1_2"]["value"] == 3.0 and e.verification.ok is True
    assert e.graph.nodes["w1_1_2"]["label"] == "w1[1,2]"


def test_a_shared_subexpression_sums_its_paths():
    """σ(f2)·σ(f2) + σ(f2): one σ node, whose adjoint sums both uses (2σ + 1)."""
    from graphexplain import explain

    e = explain("f = sigmoid(f2)*sigmoid(f2) + sigmoid(f2)", at={"f2": 0.3})
    (s,) = [n for n in e.graph if e.graph.nodes[n].get("op") == "sigmoid"]
    sig = 1 / (1 + math.exp(-0.3))
    assert e.evaluation.adjoints[s] == pytest.approx(2 * sig + 1)
    assert e.gradients["f2"]["value"] == pytest.approx((2 * sig + 1) * sig * (1 - sig))
    assert e.derivation.path_counts["f2"] == 2  # σ → σ·σ (local 2σ) → f, and σ → f
    assert e.verification.ok is True


@pytest.mark.parametrize(("point", "want"), [
    ({"x": 2.0, "y": 1.0}, {"x": 1.0, "y": 0.0}),
    ({"x": 1.0, "y": 2.0}, {"x": 0.0, "y": 1.0}),
    ({"x": 1.0, "y": 1.0}, {"x": 0.5, "y": 0.5}),  # a tie splits as torch.maximum does
])
def test_max_gradients_follow_torch(point, want):
    from graphexplain import explain

    e = explain("f = max(x, y)", at=point)
    assert {n: g["value"] for n, g in e.gradients.items()} == want
    assert e.verification.torch.ok is True and e.verification.ok is not False
    assert e.evaluation.kinks == (["f"] if point["x"] == point["y"] else [])


def test_the_course_classification_program():
    from graphexplain import explain

    text = "z = w*x + b; p = sigmoid(z); L = -(y*log(p) + (1-y)*log(1-p))"
    e = explain(text, at={"w": 0.8, "b": -0.2, "x": 1.5, "y": 1.0}, consts=["x", "y"])
    p = 1 / (1 + math.exp(-(0.8 * 1.5 - 0.2)))
    assert e.evaluation.adjoints["z"] == pytest.approx(p - 1.0)  # σ(z) − y
    assert e.gradients["w"]["value"] == pytest.approx((p - 1.0) * 1.5)
    assert e.verification.ok is True


# --- what a gradient costs (derive.cost), pinned on the seed's J ------------------------------


def test_cost_of_the_seeds_j_counts_both_programs_and_naive_differentiation():
    d = derive(build(parse("J(a,b,c) = 3(a+bc)")))
    c = derive_module.cost(d)
    # forward: b·c, a + v, 3·u (3 ops); gradient: dJ_db = dJ_dv·c, dJ_dc = dJ_dv·b (2 ops;
    # the rest are copies); J = 3·(a + b·c) is a tree of 7 nodes, visited once per weight
    assert c == {"nodes": 6, "edges": 5, "forward_ops": 3, "gradient_ops": 2,
                 "ratio": 2 / 3, "weights": 3, "loss_tree_size": 7, "naive_visits": 21}
    assert derive_module.count_ops(d.program.values()) == sum(
        sympy.count_ops(e) for e in d.program.values()) == 2
    assert derive_module.leaf_tree_sizes(d.graph, d.order) == {
        "a": 1, "b": 1, "c": 1, "v": 3, "u": 5, "J": 7}


def test_list_paths_stops_at_its_cap_and_the_program_knows_its_nodes():
    G = build(parse("J = x*x + x*y"))  # x reaches J by two paths (x·x is one edge, used twice)
    paths = derive_module.list_paths(G, "x", "J", 10)
    assert sorted(map(tuple, paths)) == sorted(map(tuple, nx.all_simple_paths(G, "x", "J")))
    assert len(paths) == 2 and derive_module.list_paths(G, "x", "J", 1) == paths[:1]
    assert derive_module.list_paths(G, "x", "J", 0) == []
    d = derive(G)
    assert "x" in d.program and "J" in d.program and "nonsense" not in d.program
