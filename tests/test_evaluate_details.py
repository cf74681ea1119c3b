"""The numbers at a point, in detail: found by mutation testing (mutmut) of
graphexplain/evaluate.py.

Each test fixes one decision the broader tests in test_evaluate_verify.py leave free: the
exact wording of a refused point, the step size, a given step, the reverse sweep from given
local partials, where NaN or ∞ first appears, kinks with a constant argument, and how sympy
numbers become floats and back (the helpers the symbolic side is evaluated with).
"""

from __future__ import annotations

import math

import pytest
import sympy

from graphexplain.errors import PointError
from graphexplain.evaluate import (
    backward,
    central_difference,
    check_point,
    evaluate,
    step_size,
    symbol_values,
    to_float,
)
from graphexplain.graph import build, symbol
from graphexplain.parse import parse

H1 = 6.0554544523933395e-06  # ε^(1/3): the step at |x| ≤ 1
SEED = "J(a,b,c) = 3(a+bc)"


def graph(text: str, **kwargs):
    return build(parse(text), **kwargs)


# --- the point -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("program", "point", "message"), [
    # one unknown name, with the inputs listed
    (SEED, {"a": 1, "b": 2, "c": 3, "q": 4},
     "--at names q, which is not an input (inputs: a, b, c)"),
    # several, refused together, sorted
    (SEED, {"q": 1, "p": 2, "a": 1}, "--at names p, q, which are not an input (inputs: a, b, c)"),
    # a named constant is not listed as an input
    ("k = 3; f = k*x", {"x": 1, "z": 1}, "--at names z, which is not an input (inputs: x)"),
    # values for computed nodes, by name
    (SEED, {"a": 1, "b": 2, "c": 3, "v": 6, "u": 7},
     "--at gives a value to u, v, which is computed, not an input"),
    ("k = 3; f = k*x", {"x": 1, "k": 2}, "--at gives a value to k, which is computed, not an input"),
    # missing inputs, with an example to copy
    (SEED, {"b": 2}, "no value for a, c; give every input with --at, e.g. --at a=1 c=1"),
])
def test_a_refused_point_says_exactly_what_is_wrong(program, point, message):
    with pytest.raises(PointError) as info:
        check_point(graph(program), point)
    assert str(info.value) == message


def test_a_named_constant_needs_no_value_and_the_point_becomes_floats():
    point = check_point(graph("k = 3; f = k*x"), {"x": 2})
    assert point == {"x": 2.0} and type(point["x"]) is float


def test_the_evaluation_keeps_the_point_it_was_given():
    ev = evaluate(graph(SEED), "J", {"a": 1, "b": 2, "c": 3})
    assert ev.point == {"a": 1, "b": 2, "c": 3}


# --- step size and a given step ------------------------------------------------------------------


def test_the_step_is_cube_root_epsilon_scaled_by_the_input_above_one():
    assert step_size(0.0) == H1 and step_size(-0.25) == H1 and step_size(1.0) == H1
    assert step_size(1.5) == pytest.approx(1.5 * H1, rel=1e-15)
    assert step_size(-40.0) == pytest.approx(40 * H1, rel=1e-15)
    assert step_size(0.5) == pytest.approx(2.0 ** (-52 / 3), rel=1e-15)  # ε^(1/3)


def test_central_difference_uses_the_given_step():
    # ((2 + h)³ − (2 − h)³) / 2h = 12 + h²: 12.000001 at h = 1e-3
    G = graph("f = x**3")
    assert central_difference(G, "f", {"x": 2.0}, "x", h=1e-3) == pytest.approx(
        12.000001, rel=1e-10)
    assert central_difference(G, "f", {"x": 2.0}, "x") == pytest.approx(12.0, rel=1e-9)


@pytest.mark.filterwarnings("error")
def test_central_difference_of_an_overflow_is_nan_without_a_warning():
    assert math.isnan(central_difference(graph("f = exp(x)"), "f", {"x": 1000.0}, "x"))


# --- the reverse sweep from given local partials -------------------------------------------------


def test_backward_sweeps_given_locals_for_the_tracked_nodes_only():
    """f = x·c + y·y with c a constant: ∂f/∂x = c = 3, ∂f/∂y = 2y = 10; c gets no adjoint."""
    G = graph("f = x*c + y*y", consts=["c"])
    ev = evaluate(G, "f", {"x": 2.0, "c": 3.0, "y": 5.0})
    assert backward(G, "f", ev.locals) == {"f": 1.0, "u": 1.0, "v": 1.0, "x": 3.0, "y": 10.0}
    assert backward(G, "f", ev.locals) == ev.adjoints


def test_backward_from_an_intermediate_reaches_only_its_ancestors():
    G = graph("f = x*c + y*y", consts=["c"])
    ev = evaluate(G, "f", {"x": 2.0, "c": 3.0, "y": 5.0})
    assert backward(G, "u", ev.locals) == {"u": 1.0, "x": 3.0}
    assert backward(G, "v", ev.locals) == {"v": 1.0, "y": 10.0}


def test_evaluating_for_an_intermediate_output_gives_adjoints_of_its_ancestors_only():
    """u = x·y inside f = u + x: every node gets a value, but only u, x and y an adjoint of u
    (f comes after u, and is no gradient of it)."""
    ev = evaluate(graph("f = x*y + x"), "u", {"x": 2.0, "y": 3.0})
    assert ev.values == {"x": 2.0, "y": 3.0, "u": 6.0, "f": 8.0}
    assert ev.adjoints == {"u": 1.0, "x": 3.0, "y": 2.0}


def test_backward_uses_the_locals_it_is_given():
    G = graph("f = x*c + y*y", consts=["c"])
    locals_ = {("x", "u"): 0.5, ("c", "u"): 7.0, ("y", "v"): -4.0, ("u", "f"): 2.0,
               ("v", "f"): 3.0}
    assert backward(G, "f", locals_) == {"f": 1.0, "u": 2.0, "v": 3.0, "x": 1.0, "y": -12.0}


# --- where NaN and ∞ start, and kinks ------------------------------------------------------------


def test_each_origin_of_nan_is_named_once_and_not_what_follows():
    G = graph("f = log(x)*2 + sqrt(y)")  # v = log x; u = 2v; sqrt1 = √y; f = u + sqrt1
    ev = evaluate(G, "f", {"x": -1.0, "y": -1.0})
    assert [n for n, _ in ev.problems] == ["v", "sqrt1"]
    assert all(math.isnan(v) for _, v in ev.problems)
    assert math.isnan(ev.values["f"]) and math.isnan(ev.values["u"])


def test_an_infinity_is_named_with_its_sign_where_it_starts():
    assert evaluate(graph("f = log(x)"), "f", {"x": 0.0}).problems == [("f", -math.inf)]
    ev = evaluate(graph("f = -1/x"), "f", {"x": 0.0})  # u = x⁻¹ = ∞; f = −u = −∞
    assert ev.problems == [("u", math.inf)] and ev.values["f"] == -math.inf


@pytest.mark.parametrize("text", ["f = max(x, 0.5)", "f = max(0.5, x)"])
def test_a_tie_of_max_with_a_constant_is_a_kink(text):
    ev = evaluate(graph(text), "f", {"x": 0.5})
    assert ev.kinks == ["f"]
    assert ev.adjoints["x"] == 0.5  # torch.maximum splits a tie


def test_every_kink_is_named_in_order():
    ev = evaluate(graph("f = relu(x) + abs(y)"), "f", {"x": 0.0, "y": 0.0})
    assert ev.kinks == ["u", "v"]
    assert evaluate(graph("f = relu(x) + abs(y)"), "f", {"x": 0.0, "y": 1.0}).kinks == ["u"]


# --- sympy numbers to floats and back ------------------------------------------------------------


@pytest.mark.parametrize(("expr", "want"), [
    (sympy.Rational(1, 4), 0.25),
    (sympy.Integer(-3), -3.0),
    (sympy.oo, math.inf),
    (sympy.zoo, math.inf),
    (-sympy.oo, -math.inf),
    (sympy.Integer(10) ** 400, math.inf),
])
def test_to_float_of_real_numbers_and_infinities(expr, want):
    assert to_float(expr) == want


@pytest.mark.parametrize("expr", [sympy.nan, sympy.I, 1 + 2 * sympy.I, sympy.Symbol("x"),
                                  sympy.Mul(sympy.I, sympy.I, evaluate=False)])
def test_to_float_of_anything_not_a_real_number_is_nan(expr):
    assert math.isnan(to_float(expr))


def test_symbol_values_map_each_node_symbol_to_its_number():
    got = symbol_values({"x": 2.5, "y": math.inf, "z": -math.inf, "w": math.nan})
    assert set(got) == {symbol("x"), symbol("y"), symbol("z"), symbol("w")}
    assert got[symbol("x")] == sympy.Float(2.5) and isinstance(got[symbol("x")], sympy.Float)
    assert got[symbol("y")] is sympy.oo and got[symbol("z")] == -sympy.oo
    assert got[symbol("w")] is sympy.nan
