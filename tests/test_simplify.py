"""Teaching forms: the course's x·(σ(z) − y) and p − y, equal to the exact gradients."""

import math
import random

import pytest
import sympy

import graphexplain
from graphexplain.api import symbols
from graphexplain.nn.mlp import MLPSpec
from graphexplain.simplify import teaching_forms

COURSE = "z = w*x + b; p = sigmoid(z); L = -(y*log(p) + (1-y)*log(1-p))"


def _value(expr, point):
    return float(expr.xreplace({sympy.Symbol(k, real=True): v for k, v in point.items()})
                 .evalf())


def test_cross_entropy_through_a_sigmoid_reads_sigma_minus_y():
    e = graphexplain.explain(COURSE, verify=False)
    w, x, y, z = symbols("w", "x", "y", "z")
    s = graphexplain.ops.sigmoid(z)
    assert e.teaching_forms["z"] == s - y
    assert e.gradients["w"]["simplified"] == x * (s - y)
    assert e.gradients["x"]["simplified"] == w * (s - y)
    assert e.gradients["b"]["simplified"] == s - y


def test_teaching_forms_equal_the_exact_gradients_at_random_points():
    e = graphexplain.explain(COURSE, verify=False)
    rng = random.Random(7)
    for _ in range(20):
        point = {k: rng.uniform(-2, 2) for k in "wxb"} | {"y": rng.uniform(0, 1)}
        z = point["w"] * point["x"] + point["b"]
        for leaf in "wxb":
            simplified = e.gradients[leaf]["simplified"]
            exact = e.derivation.formulas[leaf]
            got = _value(simplified, point | {"z": z})
            assert got == pytest.approx(_value(exact, point), rel=1e-12, abs=1e-12)
            # and torch agrees with the exact formula at that point
            ev = graphexplain.explain(COURSE, at=point)
            assert ev.gradients[leaf]["value"] == pytest.approx(got, rel=1e-12, abs=1e-12)


def test_softmax_with_cross_entropy_reads_p_minus_y():
    """A one-hot target (Σy = 1): ∂loss/∂outₖ = softmax(out)ₖ − yₖ, without the Σy factor."""
    e = graphexplain.explain_mlp(MLPSpec((2, 3, 2), loss="ce", target=1))
    out1, out2, y1 = symbols("out1", "out2", "y1")
    p1 = sympy.exp(out1) / (sympy.exp(out1) + sympy.exp(out2))
    form = e.teaching_forms["out1"]
    assert sympy.simplify(form - (p1 - y1)) == 0
    assert "y2" not in str(form)
    values = e.evaluation.values
    p = math.exp(values["out1"]) / (math.exp(values["out1"]) + math.exp(values["out2"]))
    assert e.evaluation.adjoints["out1"] == pytest.approx(p - e.evaluation.point["y1"],
                                                          rel=1e-12)


def test_no_form_where_nothing_is_simpler():
    e = graphexplain.explain("J(a,b,c) = 3(a+bc)", verify=False)
    assert e.teaching_forms == {}
    assert all(g["simplified"] is None for g in e.gradients.values())


def test_large_graphs_are_skipped_quickly():
    e = graphexplain.explain_mlp(MLPSpec((8, 16, 16, 1)), verify=False)
    assert teaching_forms(e.derivation) == {}
