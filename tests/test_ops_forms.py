"""The op table's forms, pinned exactly: the LaTeX of our functions, the structure each build
keeps (what a report prints is what the user wrote), the conventions at kinks and ties, the
torch adapters and the messages. Written against mutation testing's survivors in ops.py
(``tests/mutation/run.sh ops``): each test fails on a mutant that the rest of the suite let
through.
"""

import pytest
import sympy
import torch
from sympy.core.function import ArgumentIndexError

from graphexplain import ops
from graphexplain.errors import UnsupportedOpError

x, y, w1, w2, x1, x2, b = sympy.symbols("x y w1 w2 x1 x2 b")


@pytest.mark.parametrize("expr, latex", [
    (ops.sigmoid(x), r"\sigma\left(x\right)"),
    (ops.relu(x), r"\operatorname{relu}\left(x\right)"),
    (ops.softplus(x), r"\operatorname{softplus}\left(x\right)"),
    (ops.elu(x, 2), r"\operatorname{elu}\left(x, 2\right)"),
    (ops.leaky_relu(x, sympy.Rational(1, 100)),
     r"\operatorname{leaky\_relu}\left(x, \frac{1}{100}\right)"),
    (ops.maximum(x, y), r"\max\left(x, y\right)"),
])
def test_each_function_prints_its_own_latex(expr, latex):
    assert sympy.latex(expr) == latex


@pytest.mark.parametrize("expr", [ops.elu(x, 2), ops.leaky_relu(x, sympy.Rational(1, 100))])
def test_the_parameter_of_a_function_has_no_partial(expr):
    with pytest.raises(ArgumentIndexError,
                       match=f"argument number 2 for Function {type(expr).__name__}"):
        expr.fdiff(2)


def test_max_has_no_third_partial():
    with pytest.raises(ArgumentIndexError, match="argument number 3 for Function maximum"):
        ops.maximum(x, y).fdiff(3)


def test_relu_partial_at_zero_is_torchs_zero():
    # torch: relu′(0) = 0; sympy's Heaviside(0) would be ½
    assert ops.relu(x).diff(x).subs(x, 0) == 0
    assert ops.get("relu").partial(0, [x], ops.relu(x), {}).subs(x, 0) == 0


def test_max_splits_a_tie_evenly_as_torch_maximum():
    assert ops.maximum(x, y).diff(x).subs({x: 1, y: 1}) == sympy.S.Half
    assert ops.get("max").partial(1, [x, y], ops.maximum(x, y), {}).subs({x: 2, y: 2}) \
        == sympy.S.Half
    a, c = torch.tensor(2.0, requires_grad=True), torch.tensor(2.0, requires_grad=True)
    torch.maximum(a, c).backward()
    assert a.grad.item() == c.grad.item() == 0.5  # the convention it follows


def test_builds_keep_what_the_user_wrote():
    added = ops.get("add").build(x, x)
    assert isinstance(added, sympy.Add) and added.args == (x, x)  # x + x, not 2x
    power = ops.get("pow").build(x, sympy.S.One)
    assert isinstance(power, sympy.Pow) and power.args == (x, 1)  # x¹, not x
    assert ops.get("pow").build(sympy.Integer(2), sympy.Integer(3)).is_Pow  # 2³, not 8


def test_linear_build_pairs_weights_with_inputs_then_the_bias():
    with_bias = ops.get("linear").build(w1, x1, w2, x2, b)
    assert isinstance(with_bias, sympy.Add) and len(with_bias.args) == 3
    assert with_bias.args[-1] == b
    assert all(isinstance(t, sympy.Mul) for t in with_bias.args[:2])
    single = ops.get("linear").build(w1, x1)
    assert isinstance(single, sympy.Mul) and set(single.args) == {w1, x1}
    one_and_bias = ops.get("linear").build(w1, x1, b)
    assert isinstance(one_and_bias, sympy.Add) and b in one_and_bias.args
    same = ops.get("linear").build(x, x)
    assert isinstance(same, sympy.Mul) and same.args == (x, x)  # x·x, not x²
    twice = ops.get("linear").build(w1, x1, w1, x1)
    assert isinstance(twice, sympy.Add) and len(twice.args) == 2  # not 2·w1·x1


def test_linear_torch_adds_the_bias():
    t = [torch.tensor(v, dtype=torch.float64) for v in (2.0, 3.0, 5.0, 7.0, 11.0)]
    assert ops.get("linear").torch(*t).item() == 2 * 3 + 5 * 7 + 11
    assert ops.get("linear").torch(*t[:4]).item() == 2 * 3 + 5 * 7
    assert ops.get("linear").torch(*t[:2], t[4]).item() == 2 * 3 + 11


def test_mse_build_is_the_mean_of_squares_as_written():
    o1, o2, y1, y2 = sympy.symbols("o1 o2 y1 y2")
    one = ops.get("mse").build(o1, y1)
    assert isinstance(one, sympy.Pow) and one.args[1] == 2
    assert isinstance(one.args[0], sympy.Add)  # (o1 − y1)², not expanded
    two = ops.get("mse").build(o1, o2, y1, y2)
    assert isinstance(two, sympy.Mul) and two.args[0] == sympy.Rational(1, 2)
    total = two.args[1]
    assert isinstance(total, sympy.Add) and all(isinstance(t, sympy.Pow) for t in total.args)
    same = ops.get("mse").build(o1, o1, y1, y1)
    assert isinstance(same.args[1], sympy.Add) and len(same.args[1].args) == 2  # not 2·(o1 − y1)²
    numbers = ops.get("mse").build(sympy.Integer(3), sympy.Integer(1))
    assert isinstance(numbers, sympy.Pow) and numbers.args == (2, 2)  # (3 − 1)², not 4
    assert sympy.simplify(two - ((o1 - y1) ** 2 + (o2 - y2) ** 2) / 2) == 0


def test_mse_partial_reads_two_times_the_residual_over_k():
    o1, o2, y1, y2 = sympy.symbols("o1 o2 y1 y2")
    args = [o1, o2, y1, y2]
    d_o = ops.get("mse").partial(0, args, None, {})
    assert isinstance(d_o, sympy.Mul) and d_o.args[0] == 1  # 2/2 · (o1 − y1), unevaluated
    assert isinstance(d_o.args[1], sympy.Add)
    d_y = ops.get("mse").partial(3, args, None, {})
    assert d_y.args[0] == -1 and sympy.expand(d_y - (y2 - o2)) == 0
    three = ops.get("mse").partial(0, [o1, o2, x, y1, y2, y], None, {})
    assert three.args[0] == sympy.Rational(2, 3)


@pytest.mark.parametrize("name, fn", [("exp", torch.exp), ("log", torch.log),
                                      ("sqrt", torch.sqrt), ("sin", torch.sin),
                                      ("cos", torch.cos), ("tanh", torch.tanh),
                                      ("sigmoid", torch.sigmoid), ("relu", torch.relu),
                                      ("abs", torch.abs)])
def test_each_unary_row_runs_its_torch_function(name, fn):
    t = torch.tensor([0.5, 2.0], dtype=torch.float64)
    assert torch.equal(ops.get(name).torch(t), fn(t))
    assert torch.equal(ops._unary(name)(t), fn(t))  # the adapter itself, as the table makes it


def test_as_expr_keeps_floats_and_integers():
    assert ops.as_expr(0.5) == sympy.Float(0.5) and isinstance(ops.as_expr(0.5), sympy.Float)
    assert isinstance(ops.as_expr(3), sympy.Integer) and ops.as_expr(3) == 3


def test_an_unknown_op_lists_the_known_ones():
    with pytest.raises(UnsupportedOpError, match="known ops: add, mul, pow, exp"):
        ops.get("frobnicate")
