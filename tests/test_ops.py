"""The op table: every row's partials, torch function, kinks and parsing, checked row by row.

Everything here is parametrized over ``ops.OPS`` / ``ops.FUNCTIONS``, so a new row is tested
without touching this file.
"""

from __future__ import annotations

import math

import pytest
import sympy
import torch
from strategies import call_text, functions, ops_with_kinks

from graphexplain import graph, ops, parse
from graphexplain.errors import GraphExplainError, UnsupportedOpError

ROWS = sorted(ops.OPS)

#: Two points per argument position: all positive (inside every domain), and mixed signs.
POINTS = (
    (0.7, 1.3, 0.45, 1.9),
    (-0.6, 1.2, -1.1, 0.8),
)


def arg_counts(op: ops.Op) -> tuple[int, ...]:
    """The argument counts to try: the arity, or 2 and 4 for a variadic row (4 = two pairs,
    which every variadic row accepts, including the (outputs, targets) losses)."""
    return (op.arity,) if op.arity is not None else (2, 4)


def param_sets(op: ops.Op) -> list[dict[str, sympy.Expr]]:
    """The defaults, and every parameter set to a non-default value."""
    default = {k: sympy.sympify(v) for k, v in op.params.items()}
    sets = [default]
    if op.params:
        sets.append({k: sympy.Float(0.3) for k in op.params})
    return sets


def cases():
    for name in ROWS:
        op = ops.OPS[name]
        for n in arg_counts(op):
            for k, params in enumerate(param_sets(op)):
                yield pytest.param(name, n, params, id=f"{name}-{n}args-p{k}")


def real_value(expr: sympy.Expr) -> float | None:
    """A float, or None when the expression is not a finite real number there."""
    value = sympy.N(expr)
    if value.has(sympy.I, sympy.zoo, sympy.oo, -sympy.oo, sympy.nan) or not value.is_number:
        return None
    value = complex(value)
    if abs(value.imag) > 1e-12 or not math.isfinite(value.real):
        return None
    return value.real


def setup(name: str, n: int, params: dict):
    op = ops.OPS[name]
    args = [graph.symbol(f"a{i}") for i in range(n)]
    out = graph.symbol("out")
    return op, args, out, op.build(*args, **params)


# --- the table's shape --------------------------------------------------------------------------


def test_table_has_the_seed_ops():
    for name in ["add", "mul", "pow", "exp", "log", "sigmoid", "tanh", "relu", "elu"]:
        assert name in ops.OPS
    assert {"+", "*", "**"} <= set(ops.INFIX)
    assert ops.INFIX["+"].name == "add" and ops.INFIX["*"].name == "mul"
    assert ops.INFIX["**"].name == "pow"


@pytest.mark.parametrize("name", ROWS)
def test_row_is_complete(name):
    op = ops.OPS[name]
    assert op.name == name
    assert op.symbol and op.maths
    assert op.arity is None or op.arity >= 1
    assert ops.get(name) is op


def test_functions_are_the_callable_rows():
    assert set(ops.FUNCTIONS) == {n for n, op in ops.OPS.items() if op.callable}
    for op in ops.FUNCTIONS.values():
        assert op.infix is None
    for symbol, op in ops.INFIX.items():
        assert op.name not in ops.FUNCTIONS and op.infix == symbol


def test_get_unknown_op_names_it():
    with pytest.raises(UnsupportedOpError, match="'nope'"):
        ops.get("nope")
    assert issubclass(UnsupportedOpError, GraphExplainError)


@pytest.mark.parametrize("name", ROWS)
def test_check_arity(name):
    op = ops.OPS[name]
    if op.arity is None:
        assert not ops.check_arity(op, 1)
        assert ops.check_arity(op, 2) and ops.check_arity(op, 4)
    else:
        assert ops.check_arity(op, op.arity)
        assert not ops.check_arity(op, op.arity + 1)


# --- partials -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "n", "params"), list(cases()))
def test_partial_equals_sympy_diff(name, n, params):
    """partial(i, args, out, params), with ``out`` replaced by the build, equals
    d build / d args[i] at two points."""
    op, args, out, expr = setup(name, n, params)
    compared = 0
    for point in POINTS:
        subs = {a: sympy.Float(v) for a, v in zip(args, point, strict=False)}
        for i, a in enumerate(args):
            partial = op.partial(i, args, out, params).xreplace({out: expr})
            want = real_value(sympy.diff(expr, a).xreplace(subs))
            got = real_value(partial.xreplace(subs))
            if want is None:  # outside the domain at this point (log of a negative, …)
                continue
            assert got is not None, (name, i, point)
            assert got == pytest.approx(want, rel=1e-9, abs=1e-12), (name, i, point)
            compared += 1
    assert compared >= n  # at least the all-positive point was inside the domain


# closed forms written here, not derived from the rows (whose functions carry their own fdiff)
CLOSED_FORMS = {
    "sigmoid": ({}, lambda x: math.exp(-x) / (1 + math.exp(-x)) ** 2),
    "relu": ({}, lambda x: 1.0 if x > 0 else 0.0),
    "softplus": ({}, lambda x: 1 / (1 + math.exp(-x))),
    "elu": ({"alpha": 0.5}, lambda x: 1.0 if x > 0 else 0.5 * math.exp(x)),
    "leaky_relu": ({"slope": 0.2}, lambda x: 1.0 if x > 0 else 0.2),
    "tanh": ({}, lambda x: 1 / math.cosh(x) ** 2),
    "abs": ({}, lambda x: 1.0 if x > 0 else -1.0),
}


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
@pytest.mark.parametrize("x", [-1.7, -0.3, 0.4, 2.2])
def test_partial_equals_a_closed_form_written_here(name, x):
    """An elu′ that lost its α, or a sign flip in any of these, fails here even though the
    row's own sympy function would agree with itself."""
    params, derivative = CLOSED_FORMS[name]
    op, args, out, expr = setup(name, 1, {k: sympy.Float(v) for k, v in params.items()})
    partial = op.partial(0, args, out, {k: sympy.Float(v) for k, v in params.items()})
    got = real_value(partial.xreplace({out: expr}).xreplace({args[0]: sympy.Float(x)}))
    assert got == pytest.approx(derivative(x), rel=1e-12), (name, x)


@pytest.mark.parametrize(("a", "b", "da", "db"), [(2.0, 1.0, 1.0, 0.0), (1.0, 2.0, 0.0, 1.0),
                                                  (1.5, 1.5, 0.5, 0.5)])
def test_max_partials_are_torchs(a, b, da, db):
    op, args, out, expr = setup("max", 2, {})
    point = {args[0]: sympy.Float(a), args[1]: sympy.Float(b)}
    got = [real_value(op.partial(i, args, out, {}).xreplace({out: expr}).xreplace(point))
           for i in (0, 1)]
    assert got == [da, db]


@pytest.mark.parametrize(("name", "n", "params"), list(cases()))
def test_torch_function_and_gradient_match_the_row(name, n, params):
    """The torch function computes the build's value, and torch.autograd's gradient of it
    equals the row's partial, at both points (where they are inside the domain)."""
    op, args, out, expr = setup(name, n, params)
    compared = 0
    for point in (p[:n] for p in POINTS):
        subs = {a: sympy.Float(v) for a, v in zip(args, point, strict=True)}
        want = real_value(expr.xreplace(subs))
        if want is None:
            continue
        tensors = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in point]
        result = op.torch(*tensors, **{k: float(v) for k, v in params.items()})
        assert float(result.detach()) == pytest.approx(want, rel=1e-12, abs=1e-12)
        compared += 1
        if not result.requires_grad:  # identity(x) may be x itself
            continue
        result.backward()
        for i, t in enumerate(tensors):
            partial = op.partial(i, args, out, params).xreplace({out: expr}).xreplace(subs)
            grad = 0.0 if t.grad is None else float(t.grad)
            assert grad == pytest.approx(real_value(partial), rel=1e-9, abs=1e-12), (name, i)
    assert compared >= 1


@pytest.mark.parametrize(("name", "n", "params"), list(cases()))
def test_build_prints(name, n, params):
    """The build is an ordinary sympy expression: str and LaTeX print it."""
    expr = setup(name, n, params)[3]
    assert str(expr)
    assert sympy.latex(expr)


def test_mul_keeps_the_structure_written():
    x = graph.symbol("x")
    assert str(ops.OPS["mul"].build(x, x)) == "x*x"
    a, v = graph.symbol("a"), graph.symbol("v")
    assert str(ops.OPS["mul"].build(sympy.Integer(3), a + v)) == "3*(a + v)"


def test_mul_partial_is_the_product_of_the_others():
    a, b, c = (graph.symbol(s) for s in "abc")
    partial = ops.OPS["mul"].partial
    assert partial(1, [a, b, c], graph.symbol("o"), {}) == a * c
    assert partial(0, [a, b], graph.symbol("o"), {}) == b


def test_pow_partials():
    b, e, o = graph.symbol("b"), graph.symbol("e"), graph.symbol("o")
    partial = ops.OPS["pow"].partial
    assert sympy.simplify(partial(0, [b, e], o, {}) - e * b ** (e - 1)) == 0
    assert sympy.simplify(partial(1, [b, e], o, {}) - o * sympy.log(b)) == 0


@pytest.mark.parametrize(("name", "partial_in_out"), [
    ("exp", lambda o: o), ("tanh", lambda o: 1 - o**2), ("sigmoid", lambda o: o * (1 - o)),
    ("sqrt", lambda o: 1 / (2 * o)),
])
def test_partials_written_in_the_output_symbol(name, partial_in_out):
    """Where shorter, the partial is written in the node's own symbol (σ′ = s(1 − s))."""
    x, o = graph.symbol("x"), graph.symbol("o")
    assert ops.OPS[name].partial(0, [x], o, {}) == partial_in_out(o)


# --- the sympy functions of the custom ops ------------------------------------------------------


def test_custom_functions_evaluate_on_numbers():
    assert ops.sigmoid(0) == sympy.Rational(1, 2)
    assert ops.relu(-1) == 0 and ops.relu(2) == 2
    assert ops.softplus(0) == sympy.log(2)
    assert ops.elu(-1, 1) == sympy.exp(-1) - 1 and ops.elu(2, 1) == 2
    assert ops.leaky_relu(-2, sympy.Rational(1, 100)) == sympy.Rational(-1, 50)
    x = graph.symbol("x")
    assert sympy.diff(ops.softplus(x), x) == ops.sigmoid(x)


@pytest.mark.parametrize("fn", [ops.relu, ops.softplus, lambda v: ops.elu(-v, 1),
                                lambda v: ops.leaky_relu(-v, sympy.Rational(1, 100))],
                         ids=["relu", "softplus", "elu", "leaky_relu"])
def test_custom_functions_evaluate_on_irrational_constants(fn):
    float(fn(sympy.pi))


# --- parsing every function ---------------------------------------------------------------------


@pytest.mark.parametrize("name", functions())
def test_every_function_parses_and_builds(name):
    program = parse.parse(f"f = {call_text(name, 'x')}")
    G = graph.build(program)
    ops_used = {d["op"] for _, d in G.nodes(data=True) if d["kind"] == "op"}
    assert name in ops_used
    assert "x" in G


@pytest.mark.parametrize("name", [n for n in functions() if ops.FUNCTIONS[n].params])
@pytest.mark.parametrize("keyword", [True, False], ids=["keyword", "positional"])
def test_function_parameters_parse(name, keyword):
    op = ops.FUNCTIONS[name]
    given = {k: "0.25" for k in op.params}
    program = parse.parse(f"f = {call_text(name, 'x', given, keyword)}")
    (assignment,) = program.assignments
    assert assignment.tree.op == name
    assert dict(assignment.tree.params) == {k: sympy.Float(0.25) for k in op.params}


@pytest.mark.parametrize("name", [n for n in functions() if ops.FUNCTIONS[n].params])
def test_function_parameters_default(name):
    op = ops.FUNCTIONS[name]
    (assignment,) = parse.parse(f"f = {call_text(name, 'x')}").assignments
    assert dict(assignment.tree.params) == {k: sympy.sympify(v) for k, v in op.params.items()}


# --- kinks follow torch -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ops_with_kinks())
def test_kink_is_at_zero(name):
    """Every row with a kink has it at argument 0 (the strategies rely on this)."""
    op = ops.OPS[name]
    params = dict(op.params)
    assert op.kink([0.0], params)
    assert not op.kink([0.5], params) and not op.kink([-0.5], params)


@pytest.mark.parametrize("name", ops_with_kinks())
def test_partial_at_kink_follows_torch(name):
    op = ops.OPS[name]
    for params in param_sets(op):
        x, o = graph.symbol("x"), graph.symbol("o")
        partial = op.partial(0, [x], o, params).xreplace({o: op.build(x, **params)})
        ours = real_value(partial.xreplace({x: sympy.Integer(0)}))
        t = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
        op.torch(t, **{k: float(v) for k, v in params.items()}).backward()
        assert ours == pytest.approx(float(t.grad), abs=1e-15), (name, params)


@pytest.mark.parametrize(("name", "params", "want"), [
    ("relu", {}, 0.0),
    ("abs", {}, 0.0),
    ("leaky_relu", {}, 0.01),
    ("leaky_relu", {"slope": sympy.Float(0.2)}, 0.2),
    ("elu", {}, 1.0),
    ("elu", {"alpha": sympy.Float(0.5)}, 0.5),
])
def test_known_derivatives_at_zero(name, params, want):
    """relu′(0) = 0, |·|′(0) = 0, leaky_relu′(0) = slope, elu′(0) = α, as torch has them."""
    op = ops.OPS[name]
    full = {k: sympy.sympify(v) for k, v in op.params.items()} | params
    x, o = graph.symbol("x"), graph.symbol("o")
    partial = op.partial(0, [x], o, full).xreplace({o: op.build(x, **full)})
    assert float(partial.xreplace({x: sympy.Integer(0)})) == pytest.approx(want)


# --- max: a two-argument row with a kink at a tie -----------------------------------------------


@pytest.mark.parametrize(("a", "b"), [(2.0, 1.0), (1.0, 2.0), (1.5, 1.5), (-0.5, -0.5)])
def test_max_partials_follow_torch_maximum(a, b):
    """∂max(a,b)/∂a = 1, 0, or ½ at a tie, where torch.maximum splits the gradient."""
    op = ops.OPS["max"]
    x, y, o = graph.symbol("x"), graph.symbol("y"), graph.symbol("o")
    subs = {x: sympy.Float(a), y: sympy.Float(b)}
    ours = [float(op.partial(i, [x, y], o, {}).xreplace(subs)) for i in range(2)]
    ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b))
    op.torch(ta, tb).backward()
    assert ours == [float(ta.grad), float(tb.grad)]
    assert op.kink([a, b], {}) is (a == b)
    assert float(op.build(sympy.Float(a), sympy.Float(b))) == max(a, b)


def test_max_numeric_and_c_code_agree():
    import numpy as np

    from graphexplain.codegen import CompiledGradient
    from graphexplain.derive import derive

    xs, ys = np.array([2.0, 1.0, 1.5, np.nan]), np.array([1.0, 2.0, 1.5, 0.0])
    got = ops.NUMERIC["maximum"](xs, ys)
    assert list(got[:3]) == [2.0, 2.0, 1.5] and math.isnan(got[3])
    grad = CompiledGradient(derive(graph.build(parse.parse("f = max(x, y)"))))
    assert grad({"x": 2.0, "y": 1.0}) == (2.0, {"x": 1.0, "y": 0.0})
    assert grad({"x": 1.5, "y": 1.5}) == (1.5, {"x": 0.5, "y": 0.5})
    value, _ = grad({"x": float("nan"), "y": 0.0})
    assert math.isnan(value)


def test_max_prints_in_latex():
    x, y = graph.symbol("x"), graph.symbol("y")
    assert sympy.latex(ops.maximum(x, y)) == r"\max\left(x, y\right)"


# --- rows the network builders make, and the names of intermediates -----------------------------


def test_network_only_rows_are_flagged_and_say_what_to_write():
    assert set(ops.NETWORK_ONLY) == {"linear", "mse", "cross_entropy", "bce_logits"}
    for name, op in ops.OPS.items():
        assert op.network_only is (name in ops.NETWORK_ONLY)
        assert op.user is not op.network_only
        assert bool(op.instead) is op.network_only
        if op.network_only:
            assert name not in ops.FUNCTIONS


@pytest.mark.parametrize("name", ROWS)
def test_every_row_names_its_intermediates(name):
    """The stem is an ASCII identifier that is not one of the course's names (w, x, h, …)."""
    stem, shown = ops.OPS[name].intermediate
    assert stem.isascii() and stem.isidentifier() and not stem[-1].isdigit()
    assert stem not in graph.COURSE_NAMES and shown
    assert ops.OPS["sigmoid"].intermediate == ("sigma", "σ")
    assert ops.OPS["add"].intermediate == ("sum", "Σ")
    assert ops.OPS["mul"].intermediate == ("prod", "Π")


def test_aliases_name_functions_of_the_table():
    for alias, name in ops.ALIASES.items():
        assert name in ops.FUNCTIONS and alias not in ops.FUNCTIONS
