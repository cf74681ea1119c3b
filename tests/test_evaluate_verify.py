"""Numbers at a point, and the proof: numeric backward sweep = symbolic formula = torch.autograd
= central differences, on the seed and on random programs over the op table."""

from __future__ import annotations

import dataclasses
import doctest
import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import (
    REFERENCE,
    Program,
    call_text,
    close,
    functions,
    graph_point,
    kink_crossed,
    pipeline,
    points,
    programs,
    programs_with_reference,
    special_points,
    sym_value,
)

from graphexplain import derive, evaluate, verify
from graphexplain.errors import GraphExplainError, PointError
from graphexplain.evaluate import central_difference
from graphexplain.evaluate import evaluate as evaluate_at
from graphexplain.graph import build
from graphexplain.parse import parse
from graphexplain.verify import finite_difference_check, torch_check, torch_values

SEED = {"a": 1.0, "b": 2.0, "c": 3.0}


def run(text: str, point: dict, **kwargs):
    G = build(parse(text), **kwargs)
    out = G.graph["output"]
    ev = evaluate_at(G, out, point)
    return G, out, ev


def test_doctests():
    assert doctest.testmod(evaluate).failed == 0
    assert doctest.testmod(verify).failed == 0


# --- the seed -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["J(a,b,c) = 3(a+bc)", "u = a + v; v = b*c; J = 3*u"])
def test_seed_numbers_and_proof(text):
    G, out, ev = run(text, SEED)
    assert ev.values == {"a": 1.0, "b": 2.0, "c": 3.0, "v": 6.0, "u": 7.0, "J": 21.0}
    assert {n: ev.adjoints[n] for n in "abc"} == {"a": 3.0, "b": 9.0, "c": 6.0}
    assert ev.adjoints["u"] == 3.0 and ev.adjoints["v"] == 3.0 and ev.adjoints["J"] == 1.0
    assert ev.locals[("b", "v")] == 3.0 and ev.locals[("c", "v")] == 2.0
    assert ev.locals[("u", "J")] == 3.0
    assert ev.kinks == [] and ev.problems == []
    # the symbolic side agrees
    d = derive.derive(G)
    for leaf in "abc":
        assert sym_value(d.formulas[leaf], ev.values) == ev.adjoints[leaf]
        assert sum(sym_value(t, ev.values) for t in d.path_terms(leaf)) == ev.adjoints[leaf]
    # torch and finite differences agree
    values, grads = torch_values(G, out, SEED)
    assert values["J"] == 21.0
    assert {n: grads[n] for n in "abc"} == {"a": 3.0, "b": 9.0, "c": 6.0}
    check = verify.verify(G, out, ev)
    assert check.ok is True
    assert check.torch.ok is True and check.torch.max_abs_error == 0.0
    assert check.torch.compared == 6 and check.torch.first_mismatch is None
    assert check.finite_difference.ok is True
    assert check.finite_difference.compared == 3
    assert check.finite_difference.max_abs_error < 1e-6
    assert check.finite_difference.step > 0
    for leaf, want in {"a": 3.0, "b": 9.0, "c": 6.0}.items():
        assert central_difference(G, out, SEED, leaf) == pytest.approx(want, rel=1e-7)
        assert check.finite_difference.reference[leaf] == pytest.approx(want, rel=1e-7)


def test_verification_to_dict():
    G, out, ev = run("J(a,b,c) = 3(a+bc)", SEED)
    d = verify.verify(G, out, ev).to_dict()
    assert d["torch"]["ok"] is True and d["finite_difference"]["ok"] is True
    assert "step" in d["finite_difference"] and "step" not in d["torch"]
    assert set(d["torch"]) >= {"ok", "max_abs_error", "compared", "first_mismatch",
                               "not_comparable"}
    assert verify.verify(G, out, ev, use_torch=False).torch is None
    assert "torch" not in verify.verify(G, out, ev, use_torch=False).to_dict()


def test_fork_numbers():
    G, _, ev = run("y = x*x + x", {"x": 3.0})
    assert ev.values["y"] == 12.0 and ev.adjoints["x"] == 7.0
    square = next(n for n in G.successors("x") if n != "y")
    assert ev.locals[("x", square)] == 6.0  # both positions of x*x, summed


def test_central_difference_and_step():
    G, out, _ = run("f = x**3", {"x": 2.0})
    assert central_difference(G, out, {"x": 2.0}, "x") == pytest.approx(12.0, rel=1e-8)
    assert central_difference(G, out, {"x": 2.0}, "x", h=1e-3) == pytest.approx(12.0, rel=1e-6)
    assert evaluate.step_size(0.5) == evaluate.step_size(1.0)
    assert evaluate.step_size(100.0) == pytest.approx(100 * evaluate.step_size(1.0))


# --- the point ----------------------------------------------------------------------------------


def test_missing_inputs_are_listed():
    G = build(parse("J(a,b,c) = 3(a+bc)"))
    with pytest.raises(PointError) as info:
        evaluate_at(G, "J", {"a": 1.0})
    message = str(info.value)
    assert "b" in message and "c" in message and "--at" in message
    assert "no value for b, c" in message


def test_unknown_point_name():
    G = build(parse("J(a,b,c) = 3(a+bc)"))
    with pytest.raises(PointError, match="q") as info:
        evaluate_at(G, "J", {**SEED, "q": 1.0})
    assert "not an input" in str(info.value)


def test_point_for_a_computed_node():
    G = build(parse("J(a,b,c) = 3(a+bc)"))
    with pytest.raises(PointError, match="computed"):
        evaluate_at(G, "J", {**SEED, "u": 1.0})


def test_named_constant_takes_its_value():
    G, out, ev = run("k = 3; f = k*x", {"x": 2.0})
    assert ev.values["k"] == 3.0 and ev.values["f"] == 6.0 and ev.adjoints["x"] == 3.0
    assert "k" not in ev.adjoints
    with pytest.raises(PointError, match="k"):
        evaluate_at(G, out, {"x": 2.0, "k": 1.0})


def test_consts_get_no_gradient_as_in_torch():
    G, out, ev = run("f = x*c + c*c", {"x": 2.0, "c": 3.0}, consts=["c"])
    assert ev.adjoints["x"] == 3.0 and "c" not in ev.adjoints
    _, grads = torch_values(G, out, {"x": 2.0, "c": 3.0})
    assert "c" not in grads
    assert verify.verify(G, out, ev).ok is True


# --- NaN, inf, kinks ----------------------------------------------------------------------------


def test_log_of_negative_names_the_node():
    G, out, ev = run("f = log(x)", {"x": -1.0})
    assert math.isnan(ev.values["f"])
    assert [n for n, _ in ev.problems] == ["f"]
    assert verify.verify(G, out, ev).ok is not False


def test_problem_is_named_where_it_starts():
    G, _, ev = run("f = 2*log(x) + y", {"x": -1.0, "y": 1.0})
    (origin,) = ev.problems
    assert G.nodes[origin[0]]["op"] == "log"
    assert math.isnan(ev.values["f"])


def test_division_by_zero_is_inf_and_not_a_mismatch():
    G, out, ev = run("f = 1/x", {"x": 0.0})
    assert ev.values["f"] == math.inf
    assert [n for n, _ in ev.problems] == ["f"]
    check = verify.verify(G, out, ev)
    assert check.ok is not False
    assert check.torch.ok is not False and check.finite_difference.ok is not False
    assert "x" in check.torch.not_comparable or "x" in check.finite_difference.not_comparable


@pytest.mark.parametrize(("text", "point"), [
    ("f = sqrt(x)", {"x": -1.0}),
    ("f = exp(x)", {"x": 1000.0}),
    ("f = x**0.5", {"x": 0.0}),
])
def test_non_finite_values_are_not_mismatches(text, point):
    G, out, ev = run(text, point)
    check = verify.verify(G, out, ev)
    assert check.ok is not False and check.torch.first_mismatch is None


@pytest.mark.parametrize(("text", "point", "want"), [
    ("f = relu(x)", {"x": 0.0}, 0.0),
    ("f = abs(x)", {"x": 0.0}, 0.0),
    ("f = leaky_relu(x, 0.2)", {"x": 0.0}, 0.2),
    ("f = elu(x, 0.5)", {"x": 0.0}, 0.5),
])
def test_kinks_follow_torch_and_skip_finite_differences(text, point, want):
    G, out, ev = run(text, point)
    assert ev.kinks == ["f"]
    assert ev.adjoints["x"] == pytest.approx(want)
    check = verify.verify(G, out, ev)
    assert check.torch.ok is True
    assert check.finite_difference.not_comparable == ["x"]
    assert check.finite_difference.ok is None and check.ok is True


def test_kink_skips_only_the_leaves_behind_it():
    G, out, ev = run("f = abs(x)*y", {"x": 0.0, "y": 2.0})
    check = finite_difference_check(G, out, ev)
    assert check.not_comparable == ["x"] and check.ok is True and check.compared == 1


# --- mismatches are named -----------------------------------------------------------------------


@pytest.mark.parametrize("node", ["v", "u", "b", "a"])
def test_torch_check_names_a_corrupted_adjoint(node):
    G, out, ev = run("J(a,b,c) = 3(a+bc)", SEED)
    wrong = dataclasses.replace(ev, adjoints={**ev.adjoints, node: ev.adjoints[node] + 1.0})
    check = torch_check(G, out, wrong)
    assert check.ok is False
    assert check.first_mismatch == node
    assert check.max_abs_error == pytest.approx(1.0)
    assert verify.verify(G, out, wrong).ok is False


def test_first_mismatch_is_the_first_in_backward_order():
    G, out, ev = run("J(a,b,c) = 3(a+bc)", SEED)
    adj = {**ev.adjoints, "u": 0.0, "b": 0.0}
    assert torch_check(G, out, dataclasses.replace(ev, adjoints=adj)).first_mismatch == "u"


def test_finite_difference_check_names_a_corrupted_leaf():
    G, out, ev = run("J(a,b,c) = 3(a+bc)", SEED)
    wrong = dataclasses.replace(ev, adjoints={**ev.adjoints, "c": 6.5})
    check = finite_difference_check(G, out, wrong)
    assert check.ok is False and check.first_mismatch == "c"
    # an intermediate is not a leaf: finite differences do not see it
    wrong = dataclasses.replace(ev, adjoints={**ev.adjoints, "v": 100.0})
    assert finite_difference_check(G, out, wrong).ok is True


@pytest.mark.parametrize("text", ["h1 = x; f = x + h1", "f = identity(x) * x"])
def test_alias_of_a_forked_input_verifies(text):
    """An alias gets its own gradient in torch, not its input's (regression: identity's torch
    function once returned its argument tensor itself, a false mismatch at h1)."""
    G, out, ev = run(text, {"x": 1.0})
    check = verify.verify(G, out, ev)
    assert check.torch.first_mismatch is None and check.ok is True


# --- constants that are not real numbers --------------------------------------------------------


@pytest.mark.parametrize("text", ["f = x*log(-1)", "f = x + sqrt(-4)", "f = (-8)**(1/3) * x"])
def test_complex_constant_is_refused(text):
    """A constant that is not a real number is refused with a clear, one-line error."""
    with pytest.raises(GraphExplainError) as info:
        G, out, ev = run(text, {"x": 1.0})
        verify.verify(G, out, ev)
    assert "\n" not in str(info.value) and str(info.value)


@pytest.mark.parametrize(("text", "want"), [
    ("f = x*relu(pi)", math.pi),
    ("f = x*softplus(cos(1))", math.log1p(math.exp(math.cos(1)))),
])
def test_custom_function_of_irrational_constant(text, want):
    G, out, ev = run(text, {"x": 1.0})
    assert ev.values[out] == pytest.approx(want)
    assert verify.verify(G, out, ev).ok is True


# --- the property: four ways to the gradient agree ---------------------------------------------


def require(condition: bool) -> None:
    """Outside hypothesis, a fixed example must satisfy what ``assume`` filters."""
    assert condition


def independently(program: Program, raw_point: dict, G, d, ev) -> None:
    """graphexplain's value, adjoints and symbolic formulas = torch.autograd of the function
    built from the program's tree directly (not through parse or the graph), in float64.
    An input the graph lost must have no gradient in torch either."""
    import torch

    point = graph_point(G, raw_point)  # with the defaults of hidden names that became inputs
    env = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True)
           for n, v in {**raw_point, **point}.items()}
    value = program.torch(env)
    assert close(ev.values[d.output], value.item(), 1e-9, 1e-9), (program.text, raw_point)
    grads = (torch.autograd.grad(value, list(env.values()), allow_unused=True)
             if value.requires_grad else [None] * len(env))  # f = 1: a constant
    for name, g in zip(env, grads, strict=True):
        theirs = 0.0 if g is None else g.item()
        ours = ev.adjoints[name] if name in d.leaves else 0.0
        assert close(ours, theirs, 1e-8, 1e-8), (program.text, raw_point, name, ours, theirs)
        if name in d.leaves and d.formulas[name] is not None:
            formula = sym_value(d.formulas[name], ev.values)
            assert close(formula, theirs, 1e-8, 1e-8), (program.text, raw_point, name,
                                                        d.formulas[name], theirs)


def agree(text: str | Program, raw_point: dict, reject=assume) -> None:
    """Numeric backward sweep = symbolic formula at the point = torch.autograd, for every leaf
    and intermediate; = central differences for every leaf whose difference crosses no kink.
    And verify() agrees with torch on its own. Given a :class:`Program`, also = torch.autograd
    of the function built from its tree (:func:`independently`)."""
    program = text if isinstance(text, Program) else None
    text = program.text if program else text
    G, d = pipeline(text)
    out = d.output
    point = graph_point(G, raw_point)
    ev = evaluate_at(G, out, point)
    magnitudes = [abs(v) for v in (*ev.values.values(), *ev.adjoints.values())]
    reject(all(math.isfinite(m) and m < 1e6 for m in magnitudes))
    if program is not None:
        independently(program, raw_point, G, d, ev)
    _, grads = torch_values(G, out, point)
    for n, ours in ev.adjoints.items():
        if n in grads:
            assert close(ours, grads[n], 1e-8, 1e-8), (text, point, n, ours, grads[n])
    for leaf in d.leaves:
        ours = ev.adjoints[leaf]
        assert close(ours, grads[leaf], 1e-8, 1e-8), (text, point, leaf)
        if d.formulas[leaf] is not None:
            formula = sym_value(d.formulas[leaf], ev.values)
            assert close(ours, formula, 1e-8, 1e-8), (text, point, leaf, d.formulas[leaf])
        h = evaluate.step_size(point[leaf])
        if not kink_crossed(G, point, leaf, h):
            fd = central_difference(G, out, point, leaf)
            if not close(ours, fd, 1e-5, 1e-5):
                # Where the function curves hard (sin(1000·…)), the O(h²) truncation error is
                # what differs; halving h shows its size: E(h) ≈ (4/3)·|D(h) − D(h/2)|.
                fd_half = central_difference(G, out, point, leaf, h=h / 2)
                allowed = 1e-5 * (1 + abs(ours)) + 10 * abs(fd - fd_half)
                assert abs(ours - fd) <= allowed, (text, point, leaf, ours, fd, fd_half)
    assert torch_check(G, out, ev).ok is not False, (text, point)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs_with_reference(), points())
def test_gradients_agree_on_random_programs(program, point):
    agree(program, point)


@pytest.mark.parametrize("name", functions())
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_gradients_agree_through_each_function(name, data):
    """Each op-table function at the root of a random program (a new row is drawn too)."""
    program = data.draw(programs_with_reference(force=name), label="program")
    agree(program, data.draw(points(), label="point"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs_with_reference(), special_points())
def test_gradients_agree_at_special_points(program, point):
    """At 0, the kinks and the ties, graphexplain follows torch's conventions (relu′(0) = 0,
    |·|′(0) = 0, max splits a tie): the independent torch function decides. (Central
    differences are meaningless across a kink, so they are not asked.)"""
    G, d = pipeline(program.text)
    ev = evaluate_at(G, d.output, graph_point(G, point))
    magnitudes = [abs(v) for v in (*ev.values.values(), *ev.adjoints.values())]
    assume(all(math.isfinite(m) and m < 1e6 for m in magnitudes))
    independently(program, point, G, d, ev)


def test_every_function_has_an_independent_reference():
    """A new op row is drawn by the strategies at once; its torch reference must be written
    in tests/strategies.py (REFERENCE), from the maths, not taken from the row."""
    assert set(REFERENCE) == set(functions())


@pytest.mark.parametrize("text, expect", [
    ("f = 3*(x + y*z)", {"x": 3.0, "y": 3.0 * 0.7, "z": 3.0 * -1.2}),
    ("f = x - y/z", {"x": 1.0, "y": -1 / 0.7, "z": -1.2 / 0.49}),
    ("f = -x^2 + 2^y", {"x": -2 * 0.3, "y": math.log(2) * 2 ** -1.2, "z": 0.0}),
])
def test_the_reference_reads_the_tree_not_the_text(text, expect):
    """The independent function is the tree's, so a parser that read ``x - y/z`` as
    ``(x − y)/z``, or ``-x^2`` as ``(−x)²``, would disagree with it."""
    import torch
    from strategies import Tree, _name, _number

    x, y, z = _name("x"), _name("y"), _name("z")
    trees = {
        "f = 3*(x + y*z)": Tree("mul", (_number("3"), Tree("add", (x, Tree("mul", (y, z)))))),
        "f = x - y/z": Tree("sub", (x, Tree("div", (y, z)))),
        "f = -x^2 + 2^y": Tree("add", (Tree("neg", (Tree("pow", (x, _number("2")), "^"),)),
                                      Tree("pow", (_number("2"), y), "^"))),
    }
    program = Program(text, "f", (("f", trees[text]),))
    env = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True)
           for n, v in {"x": 0.3, "y": -1.2, "z": 0.7}.items()}
    grads = torch.autograd.grad(program.torch(env), list(env.values()), allow_unused=True)
    assert {n: 0.0 if g is None else g.item()
            for n, g in zip(env, grads, strict=True)} == pytest.approx(expect)
    G, d = pipeline(text)
    ev = evaluate_at(G, "f", graph_point(G, {"x": 0.3, "y": -1.2, "z": 0.7}))
    independently(program, {"x": 0.3, "y": -1.2, "z": 0.7}, G, d, ev)


@pytest.mark.parametrize("name", functions())
def test_gradients_agree_through_each_function_at_fixed_points(name):
    for arg in ("x*y + z", "sin(x) - y*y", "x"):
        for point in ({"x": 0.3, "y": -1.2, "z": 0.7}, {"x": -1.5, "y": 0.4, "z": -0.2}):
            agree(f"f = {call_text(name, arg)} + 0.5*{call_text(name, 'z')}", point, require)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), points())
def test_numeric_path_sum_is_the_adjoint(text, raw_point):
    """Σ over paths of the numeric products of local partials is the adjoint value, and the
    factored path sum is the same number."""
    G, d = pipeline(text, max_paths=5_000)
    out = d.output
    point = graph_point(G, raw_point)
    ev = evaluate_at(G, out, point)
    assume(all(math.isfinite(v) and abs(v) < 1e6 for v in ev.values.values()))
    assume(all(math.isfinite(v) and abs(v) < 1e6 for v in ev.adjoints.values()))
    for leaf in d.leaves:
        assume(d.path_counts[leaf] <= 5_000)
        by_paths = sum(math.prod(ev.locals[u, v] for u, v in zip(p, p[1:], strict=False))
                       for p in d.paths[leaf])
        assert close(by_paths, ev.adjoints[leaf], 1e-8, 1e-8), (text, leaf)
        symbolic = sum(sym_value(t, ev.values) for t in d.path_terms(leaf))
        assert close(symbolic, ev.adjoints[leaf], 1e-8, 1e-8), (text, leaf)
        factored = derive.factored_path_sum(G, leaf, out)
        assert close(sym_value(factored, ev.values), ev.adjoints[leaf], 1e-8, 1e-8), (text, leaf)


def test_backward_from_given_local_partials_gives_any_outputs_adjoints():
    """evaluate.backward (a Jacobian's rows): the reverse sweep over given local values, for
    the evaluation's own output and for an intermediate one."""
    from graphexplain.evaluate import backward

    G = build(parse("J = x*y + x"))  # u = x·y; J = u + x
    ev = evaluate.evaluate(G, "J", {"x": 2, "y": 3})
    assert backward(G, "J", ev.locals) == pytest.approx({"J": 1, "u": 1, "x": 4, "y": 2})
    assert backward(G, "J", ev.locals) == pytest.approx(ev.adjoints)
    # ∂u/∂x = y = 3, ∂u/∂y = x = 2; J is not upstream of u, so it has no adjoint
    assert backward(G, "u", ev.locals) == pytest.approx({"u": 1, "x": 3, "y": 2})
