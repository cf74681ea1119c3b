"""The computation graph: its schema, the builder's naming and forks, and validate()."""

from __future__ import annotations

import doctest
import math

import networkx as nx
import pytest
import sympy

from graphexplain import graph as graph_module
from graphexplain import ops as ops_module
from graphexplain.errors import (
    GraphError,
    GraphExplainError,
    LimitError,
    PointError,
    UnsupportedOpError,
)
from graphexplain.graph import add_leaf, add_op, build, new_graph, symbol, validate
from graphexplain.limits import Limits
from graphexplain.parse import parse

a, b, c, u, v, x, y = (symbol(n) for n in "abcuvxy")

SEED_FORMS = ["J(a,b,c) = 3(a+bc)", "u = a + v; v = b*c; J = 3*u"]


def same(e1, e2) -> bool:
    return sympy.expand(e1 - e2) == 0


def test_doctests():
    assert doctest.testmod(graph_module).failed == 0


def test_symbol_is_real_and_cached():
    assert symbol("a") is symbol("a")
    assert symbol("a").is_real


@pytest.mark.parametrize("text", SEED_FORMS)
def test_seed_graph(text):
    G = build(parse(text))
    assert G.graph["output"] == "J"
    assert set(G.nodes) == {"a", "b", "c", "u", "v", "J"}
    kinds = dict(G.nodes(data="kind"))
    assert kinds == {"a": "input", "b": "input", "c": "input", "u": "op", "v": "op", "J": "op"}
    ops_ = {n: G.nodes[n]["op"] for n in "uvJ"}
    assert ops_ == {"u": "add", "v": "mul", "J": "mul"}
    exprs = {n: G.nodes[n]["expr"] for n in "uvJ"}
    assert same(exprs["v"], b * c) and same(exprs["u"], a + v) and same(exprs["J"], 3 * u)
    assert str(exprs["v"]) == "b*c" and str(exprs["u"]) == "a + v" and str(exprs["J"]) == "3*u"
    assert G.nodes["J"]["args"] == (sympy.Integer(3), "u")
    assert set(G.edges) == {("a", "u"), ("v", "u"), ("b", "v"), ("c", "v"), ("u", "J")}
    locals_ = {e: G.edges[e]["local"] for e in G.edges}
    assert locals_ == {("a", "u"): 1, ("v", "u"): 1, ("b", "v"): c, ("c", "v"): b,
                       ("u", "J"): 3}
    assert G.edges["u", "J"]["argnum"] == (1,)
    assert G.edges["c", "v"]["argnum"] == (1,)
    for n in "abc":
        assert G.nodes[n]["requires_grad"] is True
        assert G.nodes[n]["expr"] == symbol(n)
        assert G.nodes[n]["label"] == n
    assert graph_module.leaves(G) == ["a", "b", "c"]
    assert graph_module.grad_leaves(G) == ["a", "b", "c"]
    assert graph_module.op_nodes(G) == ["v", "u", "J"]


def test_both_seed_forms_give_the_same_graph():
    G1, G2 = (build(parse(t)) for t in SEED_FORMS)
    assert nx.utils.graphs_equal(G1, G2)


def test_fork_is_one_node():
    """``x*x + x``: one x with two out-edges; x → x*x carries both positions, local 2x."""
    G = build(parse("y = x*x + x"))
    assert [n for n in G if G.nodes[n]["kind"] != "op"] == ["x"]
    assert G.out_degree("x") == 2
    (square,) = [n for n in G.successors("x") if n != "y"]
    assert str(G.nodes[square]["expr"]) == "x*x"  # kept as written, not x**2
    assert G.edges["x", square]["argnum"] == (0, 1)
    assert G.edges["x", square]["local"] == 2 * x
    assert G.edges["x", "y"]["argnum"] == (1,)
    assert G.edges["x", "y"]["local"] == 1
    assert G.edges[square, "y"]["local"] == 1


def test_named_value_used_twice_is_one_node():
    G = build(parse("s = sigmoid(z); f = s*s + s"))
    assert G.out_degree("s") == 2
    # σ′ written in the node's own symbol
    assert G.edges["z", "s"]["local"] == symbol("s") * (1 - symbol("s"))


def test_fresh_names_avoid_user_names():
    G = build(parse("J = u*v + sin(u*v)"))
    assert {"u", "v"} <= set(G.nodes)
    assert G.nodes["u"]["kind"] == "input" and G.nodes["v"]["kind"] == "input"
    fresh = [n for n in G if G.nodes[n]["kind"] == "op" and n != "J"]
    # u*v is written twice and is one node; u and v are taken, so both are named by their op
    assert sorted(fresh) == ["prod1", "sin1"]
    assert G.nodes["sin1"]["args"] == ("prod1",)
    assert G.nodes["J"]["args"] == ("prod1", "sin1")


def test_fresh_names_outermost_first():
    """u and v are the two outermost unnamed parts; the rest are named after their op."""
    G = build(parse("J = 3*(a + b*c*sin(d))"))
    assert G.nodes["u"]["op"] == "add"
    assert G.nodes["v"]["op"] == "mul"
    assert G.nodes["sin1"]["op"] == "sin" and G.nodes["sin1"]["label"] == "sin₁"
    assert str(G.nodes["v"]["expr"]) == "b*c*sin1"


def test_many_intermediates_are_named_by_their_op():
    text = "f = " + " + ".join(f"sin(x{i})" for i in range(20))
    G = build(parse(text))
    assert G.nodes["u"]["op"] == "sin" and G.nodes["v"]["op"] == "sin"
    sins = [n for n in G if n.startswith("sin")]
    assert sorted(sins, key=lambda n: int(n[3:])) == [f"sin{k}" for k in range(1, 19)]
    assert G.nodes["sin1"]["args"] == ("x2",)  # numbered in evaluation order, after u and v
    assert G.nodes["sin18"]["label"] == "sin₁₈"


def test_fresh_names_never_clash_with_the_course_or_the_user():
    """The issue's clashes: ``w = w2*x2`` beside the weights, ``h = log(m)`` beside the step
    h, and a one-line cross-entropy named n, m, h, k, t, r, s, q, v."""
    G = build(parse("f = w2*x2 + log(m) + exp(w1)"))
    fresh = {n for n in G if G.nodes[n]["kind"] == "op" and n != "f"}
    assert fresh == {"u", "v", "exp1"}
    assert G.nodes["u"]["expr"] == symbol("w2") * symbol("x2")
    G = build(parse("L = -(y*log(σ(z)) + (1 - y)*log(1 - σ(z)))"))
    fresh = [n for n in G if G.nodes[n]["kind"] == "op" and n != "L"]
    assert sorted(fresh) == ["log1", "log2", "prod1", "prod2", "prod3", "sigma1", "sum1",
                             "sum2", "u", "v"]
    assert not set(fresh) & graph_module.COURSE_NAMES
    labels = {G.nodes[n]["label"] for n in fresh}
    assert {"σ₁", "log₁", "log₂", "Σ₁", "Π₁"} <= labels
    assert G.nodes["log1"]["expr"] == sympy.log(symbol("sigma1"))


def test_fresh_names_avoid_prefixes_of_user_names():
    G = build(parse("f = u1*sigma2 + sin(x)*cos(x)"))
    fresh = {n for n in G if G.nodes[n]["kind"] == "op" and n != "f"}
    assert "u" not in fresh and "v" in fresh  # u is a prefix of u1
    G = build(parse("f = u*v*sigma + sigmoid(y)*sigmoid(x)*x + sum_sq"))
    names = set(G.nodes)
    assert {"sigma_1", "sigma_2", "prod1", "prod2"} <= names and "sigma1" not in names
    assert G.nodes["sigma_1"]["label"] == "σ₁"
    assert G.nodes["sigma_1"]["expr"] == ops_module.sigmoid(symbol("y"))


def test_common_subexpressions_are_one_node():
    """σ(f2) written three times is one node with a fork, not three names."""
    G = build(parse("f = sigmoid(f2)*sigmoid(f2) + sigmoid(f2)"))
    sig = [n for n in G if G.nodes[n].get("op") == "sigmoid"]
    assert len(sig) == 1
    (s,) = sig
    assert G.out_degree(s) == 2
    square = next(n for n in G.successors(s) if n != "f")
    assert G.edges[s, square]["argnum"] == (0, 1)
    # across statements, and only identical trees: 2*x is not 2.0*x
    G = build(parse("a = exp(2*x) + 1; f = a*exp(2*x) + exp(2.0*x)"))
    assert len([n for n in G if G.nodes[n].get("op") == "exp"]) == 2


def test_unused_declared_inputs_are_leaves_without_edges():
    G = build(parse("J(a,b) = 2a"))
    assert set(G.nodes) == {"a", "b", "J"}
    assert G.nodes["b"]["kind"] == "input" and G.degree("b") == 0
    assert graph_module.grad_leaves(G) == ["a", "b"]
    assert graph_module.tracked(G, "J") == {"a", "b", "J"}


def test_named_constant_and_alias():
    G = build(parse("k = 3; y = x; f = k*y"))
    assert G.nodes["k"]["kind"] == "const"
    assert G.nodes["k"]["value"] == 3.0 and G.nodes["k"]["requires_grad"] is False
    assert G.nodes["y"]["kind"] == "op" and G.nodes["y"]["op"] == "identity"
    assert graph_module.grad_leaves(G) == ["x"]


def test_constant_output():
    G = build(parse("f = 2*3"))
    assert list(G.nodes) == ["f"] and G.nodes["f"]["value"] == 6.0


def test_consts_do_not_require_grad():
    G = build(parse("J(a,b,c) = 3(a+bc)"), consts=["c"])
    assert G.nodes["c"]["kind"] == "const" and G.nodes["c"]["requires_grad"] is False
    assert graph_module.grad_leaves(G) == ["a", "b"]
    with pytest.raises(GraphError, match="--const q"):
        build(parse("J(a,b,c) = 3(a+bc)"), consts=["q"])


def test_tracked_follows_torch():
    """Only what depends on a leaf that requires grad is tracked (c*c here is not)."""
    G = build(parse("f = x*c + c*c"), consts=["c"])
    tracked = graph_module.tracked(G, "f")
    square = next(n for n in G if G.nodes[n].get("args") == ("c", "c"))
    assert "x" in tracked and "f" in tracked
    assert "c" not in tracked and square not in tracked


def test_max_nodes():
    with pytest.raises(LimitError, match="max_nodes"):
        build(parse("J(a,b,c) = 3(a+bc)"), limits=Limits(max_nodes=5))
    assert build(parse("J(a,b,c) = 3(a+bc)"), limits=Limits(max_nodes=6))


def test_statement_cycle_with_an_output():
    with pytest.raises(GraphError, match="cycle") as info:
        build(parse("a = b; b = a; c = a"))
    assert "a" in str(info.value) and "b" in str(info.value)


@pytest.mark.parametrize("text, value", [
    ("k = relu(pi); f = k*x", math.pi),
    ("h = softplus(cos(1)); f = x + h", math.log1p(math.exp(math.cos(1)))),
])
def test_named_constant_of_custom_function(text, value):
    """A custom function of a constant folds to its number (this was a bug: now fixed, so
    a refusal would be one again)."""
    G = build(parse(text))
    const = next(n for n in G if G.nodes[n]["kind"] == "const")
    assert G.nodes[const]["value"] == pytest.approx(value, rel=1e-15)


# --- validate -----------------------------------------------------------------------------------


def small_graph():
    G = new_graph("f")
    add_leaf(G, "x")
    add_leaf(G, "y")
    add_op(G, "f", "mul", ["x", "y"])
    return G


def test_validate_accepts_and_returns():
    G = small_graph()
    assert validate(G) is G


def test_add_op_unknown_op_and_missing_argument():
    G = small_graph()
    with pytest.raises(UnsupportedOpError):
        add_op(G, "g", "frobnicate", ["x"])
    with pytest.raises(GraphError, match="'nowhere'"):
        add_op(G, "g", "sin", ["nowhere"])


def test_add_op_with_number_arguments():
    G = new_graph("f")
    add_leaf(G, "x")
    add_op(G, "f", "pow", ["x", 3])
    assert G.edges["x", "f"]["local"] == 3 * x**2
    assert list(G.predecessors("f")) == ["x"]


@pytest.mark.parametrize(("breakage", "fragment"), [
    (lambda G: G.add_edge("f", "x", argnum=(0,), local=1), "cycle"),
    (lambda G: G.graph.update(output="nope"), "output"),
    (lambda G: G.nodes["x"].update(kind="weird"), "kind"),
    (lambda G: G.nodes["f"].update(args=("x",)), "arguments"),
    (lambda G: G.nodes["f"].update(args=("x", "x")), "in-edges"),
    (lambda G: G.edges["x", "f"].pop("local"), "local"),
    (lambda G: G.nodes["f"].update(op="nope"), "nope"),
])
def test_validate_names_the_problem(breakage, fragment):
    G = small_graph()
    breakage(G)
    with pytest.raises(GraphExplainError, match=fragment):
        validate(G)


def test_validate_leaf_with_incoming_edge():
    G = small_graph()
    add_leaf(G, "z")
    G.add_edge("x", "z", argnum=(0,), local=1)
    with pytest.raises(GraphError, match="leaf 'z'"):
        validate(G)


# --- names as the user types them ---------------------------------------------------------------


def test_labels_are_kept_on_the_nodes():
    G = build(parse("h[1] = sigmoid(w1[1,2]*x1); f = 2*h[1]"))
    assert G.nodes["w1_1_2"]["label"] == "w1[1,2]" and G.nodes["h_1"]["label"] == "h[1]"
    assert G.nodes["x1"]["label"] == "x1"
    assert G.nodes["h_1"]["expr"] == ops_module.sigmoid(symbol("u"))


@pytest.mark.parametrize(("typed", "node"), [
    ("w1_1_2", "w1_1_2"), ("w1[1,2]", "w1_1_2"), ("w1[1, 2]", "w1_1_2"),
    (" w1 [ 1 , 2 ] ", "w1_1_2"), ("w1［1，2］", "w1_1_2"), ("x1", "x1"), ("f", "f"),
    ("linear.weight[0,0]", "linear_weight_0_0"), ("linear_weight_0_0", "linear_weight_0_0"),
    ("σ₁", "sigma1"), ("sigma1", "sigma1"),
])
def test_resolve_takes_identifiers_and_labels(typed, node):
    G = build(parse("f = sigmoid(w1[1,2]*x1 + linear.weight[0,0]) * sigmoid(x1) * x1"))
    assert graph_module.resolve(G, typed) == node


def test_resolve_an_unknown_name_says_what_is_close():
    G = build(parse("f = w1[1,2]*x1 + w1[2,2]*x2"))
    with pytest.raises(graph_module.UnknownNameError) as info:
        graph_module.resolve(G, "w1[1,3]", what="--at")
    assert str(info.value) == ("--at w1[1,3]: no such name; did you mean w1[1,2] or w1[2,2]? "
                               "(names: w1[1,2], x1, w1[2,2], x2, u, v, f)")
    assert isinstance(info.value, PointError) and isinstance(info.value, GraphExplainError)
    leaves = graph_module.grad_leaves(G)
    with pytest.raises(graph_module.UnknownNameError) as info:
        graph_module.resolve(G, "u", among=leaves, what="--wrt")
    assert str(info.value) == ("--wrt u: not an input (inputs: w1[1,2], x1, w1[2,2], x2)")
    with pytest.raises(graph_module.UnknownNameError, match="no such name"):
        graph_module.resolve(G, "zzz")


def test_resolve_point_and_defaults():
    G = build(parse("f = w1[1,2]*x1"))
    assert graph_module.resolve_point(G, {"w1[1,2]": 2, "x1": 3}) == {"w1_1_2": 2, "x1": 3}
    assert graph_module.resolve_point(G, None) is None
    with pytest.raises(PointError, match="--at gives w1\\[1,2\\] twice"):
        graph_module.resolve_point(G, {"w1[1,2]": 2, "w1_1_2": 3})
    assert graph_module.complete_point(G, None) is None  # no defaults: symbolic only
    assert graph_module.complete_point(G, {"w1[1, 2]": 2, "x1": 3}) == {"w1_1_2": 2.0,
                                                                         "x1": 3.0}


def test_consts_may_be_labels():
    G = build(parse("f = w1[1,2]*x1"), consts=["x1", "w1[1, 2]"])
    assert G.nodes["w1_1_2"]["kind"] == "const" and G.nodes["x1"]["kind"] == "const"
    with pytest.raises(GraphError) as info:
        build(parse("f = w1[1,2]*x1"), consts=["w1[2,1]"])
    assert str(info.value) == ("--const w1[2,1]: not an input of the program; did you mean "
                               "w1[1,2]? (inputs: w1[1,2], x1)")


# --- named numbers ------------------------------------------------------------------------------


def test_a_program_of_named_numbers_is_explained_at_them():
    """``y = x**2; x = 3``: x is the input, and 3 its point (not a constant and an empty
    explanation)."""
    G = build(parse("y = x**2; x = 3"))
    assert G.nodes["x"]["kind"] == "input" and G.nodes["x"]["default"] == 3.0
    assert "value" not in G.nodes["x"] and G.nodes["x"]["expr"] == symbol("x")
    assert graph_module.grad_leaves(G) == ["x"]
    assert graph_module.defaults(G) == {"x": 3.0}
    assert graph_module.complete_point(G, None) == {"x": 3.0}
    assert graph_module.complete_point(G, {"x": 5}) == {"x": 5.0}


def test_named_numbers_beside_inputs_stay_constants():
    G = build(parse("k = 3; f = k*x"))
    assert G.nodes["k"]["kind"] == "const" and G.nodes["k"]["value"] == 3.0
    assert graph_module.defaults(G) == {}


def test_a_declared_input_given_a_number_has_it_as_default():
    G = build(parse("J(a,b) = a*b; b = 2; k = 5; c = k*a", output="J"))
    assert G.nodes["b"]["kind"] == "input" and G.nodes["b"]["default"] == 2.0
    assert graph_module.complete_point(G, None) is None  # a has no value
    assert graph_module.complete_point(G, {"a": 1}) == {"a": 1.0, "b": 2.0}
    G = build(parse("J(a,b) = a*b; b = 2"), consts=["b"])
    assert G.nodes["b"]["kind"] == "const" and G.nodes["b"]["value"] == 2.0
    G = build(parse("y = x**2; x = 3"), consts=["x"])
    assert G.nodes["x"]["kind"] == "const" and G.nodes["x"]["value"] == 3.0
