"""Details of graphexplain.graph pinned by mutation testing (mutmut): how typed names are
resolved and what the messages say when they are not (the default ``what``, the computed
node given a value, case and spacing in the suggestions, the length of the name list), a
label's fallback to the node id, complete_point with a constant that has a value, the
messages for cycles and too many nodes, the labels of named numbers and aliases, and where
the seed's names u and v go."""

from __future__ import annotations

import pytest

from graphexplain.errors import GraphError, LimitError, PointError
from graphexplain.graph import (
    UnknownNameError,
    add_leaf,
    add_op,
    build,
    complete_point,
    label,
    new_graph,
    resolve,
    resolve_point,
    symbol,
    tracked,
    validate,
)
from graphexplain.limits import Limits
from graphexplain.parse import parse

LOSS = "L = -(y*log(σ(z)) + (1 - y)*log(1 - σ(z)))"
FOUR_WEIGHTS = "f = w1[1,1]*x + w1[1,2]*x + w1[1,3]*x + w1[2,1]*x"


def message(call, *args, **kwargs) -> str:
    with pytest.raises(PointError) as info:
        call(*args, **kwargs)
    return str(info.value)


def inputs(n: int) -> str:
    """J(x1,…,xn) = x1 + … + xn."""
    names = [f"x{i}" for i in range(1, n + 1)]
    return f"J({','.join(names)}) = {' + '.join(names)}"


# --- leaves and tracking ---------------------------------------------------------------------


def test_add_leaf_defaults_to_an_input_that_requires_grad():
    G = new_graph("f")
    add_leaf(G, "x")
    assert G.nodes["x"] == {"kind": "input", "label": "x", "expr": symbol("x"),
                            "requires_grad": True}


def test_add_leaf_requires_grad_follows_the_kind_unless_given():
    G = new_graph("f")
    add_leaf(G, "w", "param", label="w[1]")
    add_leaf(G, "k", "const", value=0.0)
    add_leaf(G, "c", "const", requires_grad=True)
    add_leaf(G, "x", "input", requires_grad=False)
    assert G.nodes["w"]["requires_grad"] is True and G.nodes["w"]["label"] == "w[1]"
    assert G.nodes["k"]["requires_grad"] is False and G.nodes["k"]["value"] == 0.0
    assert G.nodes["c"]["requires_grad"] is True and "value" not in G.nodes["c"]
    assert G.nodes["x"]["requires_grad"] is False


def test_tracked_keeps_an_unused_input_but_not_an_unused_constant():
    G = build(parse("J(a,b) = 2a"), consts=["b"])  # b: a const leaf without edges
    assert tracked(G, "J") == {"a", "J"}
    assert tracked(G) == {"a", "J"}
    G = build(parse("J(a,b) = 2a"))  # b requires grad: tracked, its gradient is 0
    assert tracked(G, "J") == {"a", "b", "J"}


def test_tracked_toward_an_intermediate_node():
    G = build(parse("J(a,b,c) = 3(a+bc)"), consts=["c"])
    assert tracked(G) == {"a", "b", "v", "u", "J"}
    assert tracked(G, "v") == {"b", "v"}  # c is const; a, u and J are not below v


def test_one_and_one_point_zero_are_different_subexpressions():
    G = build(parse("J = (x+1)*(x+1.0)"))
    assert [n for n in G.nodes if G.nodes[n]["kind"] == "op"] == ["u", "v", "J"]
    assert str(G.nodes["u"]["expr"]) == "x + 1" and str(G.nodes["v"]["expr"]) == "x + 1.0"


# --- label -----------------------------------------------------------------------------------


def test_label_of_a_node_without_one_is_its_id():
    G = new_graph("f")
    G.add_node("q", kind="input", requires_grad=True)  # added by hand, no label attribute
    assert label(G, "q") == "q"
    G.add_node("r", kind="input", label="r[1]")
    assert label(G, "r") == "r[1]"


# --- resolve ---------------------------------------------------------------------------------


def test_resolve_calls_the_name_name_by_default():
    G = build(parse("J(a,b,c) = 3(a+bc)"))
    assert message(resolve, G, "zz") == "name zz: no such name (names: a, b, c, v, u, J)"


def test_resolve_finds_a_label_with_spaces_typed_without_them():
    G = new_graph("f")
    add_leaf(G, "w", label="first weight[0]")  # its identifier is not the node id
    add_op(G, "f", "mul", ["w", 2])
    validate(G)
    assert resolve(G, "firstweight[0]") == "w"
    assert resolve(G, "first weight[0]") == "w"
    assert resolve(G, " first  weight [ 0 ] ") == "w"
    assert resolve(G, "w") == "w"


def test_suggestion_ignores_case():
    G = build(parse(FOUR_WEIGHTS))
    assert message(resolve, G, "X").startswith("name X: no such name; did you mean x? (")


def test_suggestion_ignores_case_and_spaces():
    G = build(parse(FOUR_WEIGHTS))
    assert message(resolve, G, "W 1 [ 1 , 2 ]").startswith(
        "name W 1 [ 1 , 2 ]: no such name; did you mean w1[1,2]? (")


def test_suggestion_lists_at_most_three_close_names():
    """w1[1,1..3] are closer to w1[1,4] than w1[2,1], which is close too (ratio 5/7)."""
    G = build(parse(FOUR_WEIGHTS))
    text = message(resolve, G, "w1[1,4]")
    assert text.startswith("name w1[1,4]: no such name; "
                           "did you mean w1[1,3] or w1[1,2] or w1[1,1]? (")
    assert "w1[2,1] or" not in text and "or w1[2,1]" not in text


# --- the list of names in a message ----------------------------------------------------------


def test_eight_names_are_listed_in_full():
    G = build(parse(inputs(8)))
    assert message(resolve_point, G, {"zz": 1}) == (
        "--at zz: not an input (inputs: x1, x2, x3, x4, x5, x6, x7, x8)")


def test_nine_names_are_cut_to_seven_and_an_ellipsis():
    G = build(parse(inputs(9)))
    assert message(resolve_point, G, {"zz": 1}) == (
        "--at zz: not an input (inputs: x1, x2, x3, x4, x5, x6, x7, …)")


# --- resolve_point and complete_point ---------------------------------------------------------


@pytest.mark.parametrize("typed", ["sigma1", "σ₁"])
def test_a_value_for_a_computed_node_is_refused_by_its_label(typed):
    G = build(parse(LOSS))
    with pytest.raises(PointError) as info:
        resolve_point(G, {"y": 1, typed: 0.5})
    assert type(info.value) is PointError  # not an UnknownNameError: the node exists
    assert str(info.value) == "--at gives a value to σ₁, which is computed, not an input"


def test_a_value_for_the_output_is_refused_with_the_caller_s_option():
    G = build(parse(LOSS))
    assert message(resolve_point, G, {"L": 2}, what="--wrt") == (
        "--wrt gives a value to L, which is computed, not an input")


def test_an_unknown_name_in_a_point_is_not_an_input():
    G = build(parse(LOSS))
    with pytest.raises(UnknownNameError) as info:
        resolve_point(G, {"zz": 1})
    assert str(info.value) == "--at zz: not an input; did you mean z? (inputs: y, z)"


def test_complete_point_names_the_option_at_by_default():
    G = build(parse(LOSS))
    assert message(complete_point, G, {"zz": 1}) == (
        "--at zz: not an input; did you mean z? (inputs: y, z)")
    assert message(complete_point, G, {"zz": 1}, what="--point") == (
        "--point zz: not an input; did you mean z? (inputs: y, z)")


def test_complete_point_needs_no_value_for_a_constant_that_has_one():
    """J(x) = x*k; x = 3; k = 2: x is an input with default 3, k a const with value 2."""
    G = build(parse("J(x) = x*k; x = 3; k = 2"))
    assert G.nodes["k"]["kind"] == "const" and G.nodes["k"]["value"] == 2.0
    assert G.nodes["x"]["default"] == 3.0
    assert complete_point(G, None) == {"x": 3.0}
    assert complete_point(G, {"x": 5}) == {"x": 5.0}


# --- build: errors, labels, names ------------------------------------------------------------


def test_validate_names_the_cycle():
    G = new_graph("a")
    add_leaf(G, "x")
    add_op(G, "a", "sin", ["x"])
    add_op(G, "b", "sin", ["a"])
    G.add_edge("b", "a", local=1)
    with pytest.raises(GraphError, match="^the graph has a cycle: a → b$"):
        validate(G)


def test_statements_that_form_a_cycle_are_named_back_to_the_first():
    with pytest.raises(GraphError, match="^the statements form a cycle: a → b → a$"):
        build(parse("J = a + 1; a = b*2; b = a - 1"))


def test_too_many_nodes_names_the_size_and_the_limit():
    """J(a,b,c) = 3(a+bc): a, b, c, v, u, J are 6 nodes."""
    with pytest.raises(LimitError) as info:
        build(parse("J(a,b,c) = 3(a+bc)"), limits=Limits(max_nodes=5))
    assert str(info.value) == ("a graph of 6 nodes exceeds the limit max_nodes=5; "
                               "raise it with --limit max_nodes=N if this is intended")
    assert len(build(parse("J(a,b,c) = 3(a+bc)"), limits=Limits(max_nodes=6))) == 6


def test_named_numbers_and_aliases_keep_their_labels():
    G = build(parse("y = w[1]^2; w[1] = 3"))  # the only input: an input with a default
    assert G.nodes["w_1"]["kind"] == "input" and G.nodes["w_1"]["default"] == 3.0
    assert G.nodes["w_1"]["label"] == "w[1]"
    G = build(parse("J = x*k[1]; k[1] = 2"))  # a named constant
    assert G.nodes["k_1"]["kind"] == "const" and G.nodes["k_1"]["label"] == "k[1]"
    G = build(parse("J = 2*y[1]; y[1] = x"))  # an alias: an identity node
    assert G.nodes["y_1"]["op"] == "identity" and G.nodes["y_1"]["label"] == "y[1]"


def test_a_named_number_is_an_input_when_every_other_input_is_const():
    """y = c·x², x = 3, c const: nothing else to differentiate, so x is an input whose
    default is 3 (not a constant)."""
    G = build(parse("y = c*x^2; x = 3"), consts=["c"])
    assert G.nodes["c"]["kind"] == "const"
    assert G.nodes["x"]["kind"] == "input" and G.nodes["x"]["default"] == 3.0
    assert "value" not in G.nodes["x"]


def test_seed_names_go_to_the_outermost_parts_past_an_alias():
    """J = y is an alias (no unnamed part): u and v are the outermost parts of y."""
    G = build(parse("J = y; y = 3*(a + b*c)"))
    a, b, c = (symbol(n) for n in "abc")
    assert [(n, G.nodes[n]["expr"]) for n in G] == [
        ("a", a), ("b", b), ("c", c), ("v", b * c), ("u", a + symbol("v")),
        ("y", 3 * symbol("u")), ("J", symbol("y"))]


def test_seed_names_skip_a_part_already_named_in_a_later_statement():
    """a + b is written in J and in y: named u from J, it is passed over in y, whose other
    part c + d is v."""
    G = build(parse("J = y*(a+b); y = (a+b)*(c+d)"))
    assert [(n, str(G.nodes[n]["expr"])) for n in G] == [
        ("a", "a"), ("b", "b"), ("c", "c"), ("d", "d"), ("u", "a + b"), ("v", "c + d"),
        ("y", "u*v"), ("J", "u*y")]
