"""The computation graph: its schema, the builder's naming and forks, and validate()."""

from __future__ import annotations

import doctest

import networkx as nx
import pytest
import sympy

from graphexplain import graph as graph_module
from graphexplain.errors import GraphError, GraphExplainError, LimitError, UnsupportedOpError
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
    assert len(fresh) == len(set(fresh)) == 3
    assert not set(fresh) & {"u", "v", "J"}


def test_fresh_names_outermost_first():
    G = build(parse("J = 3*(a + b*c*sin(d))"))
    assert G.nodes["u"]["op"] == "add"
    assert G.nodes["v"]["op"] == "mul"
    assert G.nodes["w"]["op"] == "sin"


def test_fresh_names_run_out_to_t1():
    text = "f = " + " + ".join(f"sin(x{i})" for i in range(20))
    G = build(parse(text))
    assert "t1" in G and G.nodes["t1"]["op"] == "sin"


def test_only_what_the_output_needs_is_kept():
    G = build(parse("f = x; g = y*2", output="g"))
    assert set(G.nodes) == {"y", "g"}
    G = build(parse("f(x,y,z) = x*y"))
    assert "z" not in G


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


@pytest.mark.parametrize("text", ["k = relu(pi); f = k*x", "h = softplus(cos(1)); f = x + h"])
def test_named_constant_of_custom_function(text):
    try:
        G = build(parse(text))
    except GraphExplainError:
        return  # a clear refusal would be fine too
    const = next(n for n in G if G.nodes[n]["kind"] == "const")
    assert isinstance(G.nodes[const]["value"], float)


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
