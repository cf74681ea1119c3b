"""The verifier's details, pinned: found by mutation testing (mutmut) of graphexplain/verify.py.

Each test fixes one decision the broader tests in test_evaluate_verify.py leave free: the
fields of a check and of its dictionary, the sample of leaves on a large network, the given
step, the rounding slack of a central difference, how the step is batched, and which leaves a
kink takes out of the comparison (at the kink, or within one step of it).
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from graphexplain import verify
from graphexplain.evaluate import evaluate as evaluate_at
from graphexplain.evaluate import step_size
from graphexplain.graph import build
from graphexplain.parse import parse
from graphexplain.plan import plan_for
from graphexplain.verify import finite_difference_check, sample, torch_values

EPS = 2.0 ** -52
H1 = 6.0554544523933395e-06  # ε^(1/3): the default step at |w| ≤ 1


def run(text: str, point: dict, **kwargs):
    G = build(parse(text), **kwargs)
    out = G.graph["output"]
    return G, out, evaluate_at(G, out, point)


# --- the check's fields and its dictionary -------------------------------------------------------


def test_finite_difference_check_is_named_and_records_each_leafs_step_and_values():
    G, out, ev = run("f = 3*x", {"x": 2.0})
    check = finite_difference_check(G, out, ev)
    h = 2 * H1
    assert check.name == "finite_difference"
    assert check.population == 1 and check.compared == 1
    assert check.differences == {"x": (h, 3 * (2 + h), 3 * (2 - h))}
    assert check.reference["x"] == pytest.approx(3.0, rel=1e-9)
    assert check.to_dict() == {
        "ok": True, "max_abs_error": check.max_abs_error, "compared": 1,
        "first_mismatch": None, "not_comparable": [], "step": h,
        "differences": {"x": {"h": h, "f_plus": 3 * (2 + h), "f_minus": 3 * (2 - h)}}}


def test_the_reported_step_is_the_largest_leafs_step():
    G, out, ev = run("f = x*y", {"x": 0.5, "y": -40.0})
    check = finite_difference_check(G, out, ev)
    assert check.step == 40 * H1
    assert check.to_dict()["step"] == 40 * H1
    assert check.differences["x"][0] == H1 and check.differences["y"][0] == 40 * H1


def test_a_non_finite_side_of_the_difference_is_null_in_the_dictionary():
    # log at 0: log(h) is finite, log(−h) is NaN
    G, out, ev = run("f = log(x)", {"x": 0.0})
    check = finite_difference_check(G, out, ev)
    assert check.not_comparable == ["x"] and check.ok is None
    h, up, down = check.differences["x"]
    assert h == H1 and up == math.log(H1) and math.isnan(down)
    assert check.to_dict()["differences"] == {"x": {"h": H1, "f_plus": math.log(H1),
                                                    "f_minus": None}}


def test_a_check_of_every_leaf_says_nothing_of_sampling():
    G, out, ev = run("f = x*y + z", {"x": 1.0, "y": 2.0, "z": 3.0})
    check = finite_difference_check(G, out, ev)
    assert check.population == 3 and check.compared == 3
    assert "sampled_from" not in check.to_dict()


def test_leaves_left_out_at_a_kink_are_not_taken_for_sampling():
    G, out, ev = run("f = abs(x)*y", {"x": 0.0, "y": 2.0})
    check = finite_difference_check(G, out, ev)
    assert check.population == 2 and check.compared == 1 and check.not_comparable == ["x"]
    assert "sampled_from" not in check.to_dict()


def test_no_leaf_to_differentiate_gives_no_step():
    G, out, ev = run("f = 2*c + c*c", {"c": 3.0}, consts=["c"])
    check = finite_difference_check(G, out, ev)
    assert check.step is None and check.population == 0 and check.ok is None
    assert check.to_dict() == {"ok": None, "max_abs_error": None, "compared": 0,
                               "first_mismatch": None, "not_comparable": []}


# --- the sample of leaves on a large network -----------------------------------------------------


def test_sample_spreads_evenly_from_first_to_last():
    assert sample(list(range(10)), 4) == [0, 3, 6, 9]
    assert sample(list(range(10)), 3) == [0, 4, 9]  # 4.5 rounds to even
    assert sample(list("abcdefg"), 2) == ["a", "g"]


def test_sample_keeps_everything_when_there_are_few_enough():
    assert sample(["x"], 1) == ["x"]
    assert sample(["a", "b", "c"], 3) == ["a", "b", "c"]
    assert sample(["a", "b"], 64) == ["a", "b"]


def test_finite_differences_check_a_sample_of_max_leaves():
    G, out, ev = run("f = x*y + z", {"x": 1.0, "y": 2.0, "z": 3.0})
    check = finite_difference_check(G, out, ev, max_leaves=2)
    assert check.compared == 2 and check.population == 3
    assert set(check.reference) == {"x", "z"} and set(check.differences) == {"x", "z"}
    assert check.reference == pytest.approx({"x": 2.0, "z": 1.0}, rel=1e-9)
    assert check.to_dict()["sampled_from"] == 3


def test_a_sample_of_one_is_the_first_leaf():
    # k − 1 = 0 once divided the spread by zero
    assert sample(list("abc"), 1) == ["a"]
    assert sample(list("abc"), 0) == []
    G, out, ev = run("f = x*y + z", {"x": 1.0, "y": 2.0, "z": 3.0})
    check = finite_difference_check(G, out, ev, max_leaves=1)
    assert check.compared == 1 and check.population == 3 and check.ok is True
    assert check.reference == pytest.approx({"x": 2.0}, rel=1e-9)


def test_a_single_leaf_with_max_leaves_one_is_checked():
    G, out, ev = run("f = x*x", {"x": 3.0})
    check = finite_difference_check(G, out, ev, max_leaves=1)
    assert check.compared == 1 and check.ok is True
    assert check.reference["x"] == pytest.approx(6.0)


# --- a given step --------------------------------------------------------------------------------


def test_a_given_step_is_used_for_every_leaf():
    # (2 ± h)³: the central difference is 12 + h², exactly visible at h = 1e-3
    G, out, ev = run("f = x**3", {"x": 2.0})
    check = finite_difference_check(G, out, ev, h=1e-3)
    assert check.step == 1e-3 and check.differences["x"][0] == 1e-3
    assert check.reference["x"] == pytest.approx(12.000001, rel=1e-10)
    assert check.ok is True


def test_verify_passes_its_step_to_the_central_differences():
    G, out, ev = run("f = x**3", {"x": 2.0})
    default = verify.verify(G, out, ev, use_torch=False).finite_difference
    given = verify.verify(G, out, ev, use_torch=False, h=1e-3).finite_difference
    assert default.step == 2 * H1
    assert default.reference["x"] == pytest.approx(12.0, rel=1e-9, abs=0)
    assert abs(default.reference["x"] - 12.000001) > 5e-7
    assert given.step == 1e-3
    assert given.reference["x"] == pytest.approx(12.000001, rel=1e-10)


# --- the rounding slack: 4ε·max|f(w±h)|/h --------------------------------------------------------


def rounding_bound(check, leaf: str) -> float:
    h, up, down = check.differences[leaf]
    return 4 * EPS * max(abs(up), abs(down)) / h


def test_rounding_of_a_large_value_is_allowed_for():
    """f = x + 1e10: f(w±h) has few digits left for h, so the difference is off by ~5%, within
    the rounding bound 4ε·1e10/h ≈ 0.15, and the check agrees."""
    G, out, ev = run("f = x + 1e10", {"x": 0.0})
    check = finite_difference_check(G, out, ev)
    bound = rounding_bound(check, "x")
    assert bound == pytest.approx(4 * EPS * 1e10 / H1, rel=1e-9)
    assert 1e-3 < check.max_abs_error < bound
    assert check.ok is True and check.compared == 1


@pytest.mark.parametrize(("fraction", "ok"), [(0.9, True), (1.1, False)])
def test_the_rounding_slack_is_four_epsilon_times_f_over_h(fraction, ok):
    G, out, ev = run("f = x + 1e10", {"x": 0.0})
    check = finite_difference_check(G, out, ev)
    ref, bound = check.reference["x"], rounding_bound(check, "x")
    # beyond the slack by 1e-4, far more than atol + rtol·|f'| ≈ 1e-5
    planted = ref + fraction * bound + (1e-4 if not ok else 0.0)
    wrong = dataclasses.replace(ev, adjoints={**ev.adjoints, "x": planted})
    decided = finite_difference_check(G, out, wrong)
    assert decided.ok is ok
    assert decided.first_mismatch == (None if ok else "x")


# --- batches of perturbed points -----------------------------------------------------------------


@pytest.mark.parametrize(("leaves_per_batch", "starts"), [(1, [0, 1, 2]), (2, [0, 2])])
def test_central_differences_are_batched_to_at_most_batch_cells_values(
        leaves_per_batch, starts, monkeypatch):
    """A batch holds 2 rows (w ± h) of every node's value per leaf, at most BATCH_CELLS
    values; the results do not depend on the batching."""
    G, out, ev = run("f = x + y + z", {"x": 1.0, "y": -2.0, "z": 0.5})
    whole = finite_difference_check(G, out, ev)
    seen = []

    def track(iterable, desc, total=None):
        seen.append((desc, list(iterable)))
        return iterable

    monkeypatch.setattr(verify, "track", track)
    monkeypatch.setattr(verify, "BATCH_CELLS", 2 * len(plan_for(G).names) * leaves_per_batch)
    batched = finite_difference_check(G, out, ev)
    assert seen == [("finite differences", starts)]
    assert batched.reference == whole.reference == pytest.approx({"x": 1, "y": 1, "z": 1})
    assert batched.differences == whole.differences and batched.compared == 3


@pytest.mark.filterwarnings("error")
def test_an_overflow_on_both_sides_is_not_comparable_and_warns_nothing():
    G, out, ev = run("f = exp(x)", {"x": 1000.0})
    check = finite_difference_check(G, out, ev)
    h = step_size(1000.0)
    assert check.differences == {"x": (h, math.inf, math.inf)}
    assert math.isnan(check.reference["x"])
    assert check.not_comparable == ["x"] and check.ok is None and check.compared == 0


# --- kinks: at the kink, and within a step of it -------------------------------------------------


@pytest.mark.parametrize("text", ["f = relu(x)", "f = abs(x)", "f = leaky_relu(x, 0.2)",
                                  "f = 2*relu(x) + y"])
def test_a_step_across_a_kink_is_not_compared(text):
    """At x = 1e-7 the op is differentiable, but x ± h lands on both sides of 0: the central
    difference (about the mean of the two slopes) says nothing of the derivative."""
    G = build(parse(text))
    out = G.graph["output"]
    ev = evaluate_at(G, out, {"x": 1e-7, **({"y": 1.0} if "y" in G else {})})
    assert ev.kinks == []
    check = finite_difference_check(G, out, ev)
    assert "x" in check.not_comparable and "x" not in check.reference
    assert check.first_mismatch is None and check.ok is not False


def test_a_step_that_stays_on_one_side_of_a_kink_is_compared():
    G, out, ev = run("f = relu(x - 1)", {"x": 1e-7})  # the kink is at x = 1, far away
    check = finite_difference_check(G, out, ev)
    assert check.not_comparable == [] and check.compared == 1
    assert check.reference == {"x": 0.0} and check.ok is True


def test_a_step_across_a_tie_of_max_is_not_compared():
    G, out, ev = run("f = max(x, y)", {"x": 1.0, "y": 1.0 + 1e-7})
    check = finite_difference_check(G, out, ev)
    assert check.not_comparable == ["x", "y"] and check.compared == 0 and check.ok is None


def test_max_kinks_at_the_tie_not_where_an_argument_is_zero():
    G, out, ev = run("f = max(x, y)", {"x": 1e-7, "y": 5.0})
    check = finite_difference_check(G, out, ev)
    assert check.not_comparable == [] and check.compared == 2 and check.ok is True
    assert check.reference["x"] == 0.0
    assert check.reference["y"] == pytest.approx(1.0, rel=1e-9)


@pytest.mark.parametrize("text", ["f = max(x, 0.5)", "f = max(0.5, x)"])
def test_a_step_across_a_tie_with_a_constant_is_not_compared(text):
    G, out, ev = run(text, {"x": 0.5 + 1e-7})
    assert ev.adjoints["x"] == 1.0
    check = finite_difference_check(G, out, ev)
    assert check.not_comparable == ["x"] and check.compared == 0 and check.ok is None


@pytest.mark.parametrize("text", ["f = max(x, 0.5)", "f = max(0.5, x)"])
def test_max_with_a_constant_away_from_the_tie_is_compared(text):
    G, out, ev = run(text, {"x": 2.0})
    check = finite_difference_check(G, out, ev)
    assert check.not_comparable == [] and check.ok is True
    assert check.reference["x"] == pytest.approx(1.0, rel=1e-9)


def test_every_leaf_behind_any_kink_is_left_out_even_if_its_step_crosses_nothing():
    """relu(x·y) at y = 0 sits on its kink; moving x leaves x·y at 0, so x's own step crosses
    nothing, but its gradient passes through the kink: left out. Two such kinks, both count."""
    G, out, ev = run("f = relu(x*y) + relu(z*w)", {"x": 1.0, "y": 0.0, "z": 1.0, "w": 0.0})
    assert len(ev.kinks) == 2
    check = finite_difference_check(G, out, ev)
    assert check.not_comparable == ["x", "y", "z", "w"]
    assert check.compared == 0 and check.ok is None and check.differences == {}


def test_a_leaf_not_behind_the_kink_is_still_compared():
    G, out, ev = run("f = relu(x*y) + z*z", {"x": 1.0, "y": 0.0, "z": 3.0})
    check = finite_difference_check(G, out, ev)
    assert check.not_comparable == ["x", "y"] and check.compared == 1
    assert check.reference["z"] == pytest.approx(6.0, rel=1e-9) and check.ok is True


# --- torch's side: values and gradients from groups of nodes --------------------------------------


def test_torch_values_are_every_nodes_value_when_groups_hold_several_nodes():
    """Three sin nodes form one group (one torch call on a vector), with a constant input and
    a constant argument of max: every node's torch value is graphexplain's value."""
    point = {"x": 0.3, "y": -1.2, "c": 0.7}
    G, out, ev = run("f = sin(x) + sin(y) + c*sin(c) + x*max(y, 2)", point, consts=["c"])
    values, grads = torch_values(G, out, point)
    assert values == pytest.approx(ev.values, rel=1e-14, abs=0)
    assert values["max1"] == 2.0 and values["prod2"] == pytest.approx(0.6, rel=1e-15)
    assert grads["x"] == pytest.approx(math.cos(0.3) + 2.0, rel=1e-14)
    assert grads["y"] == pytest.approx(math.cos(-1.2), rel=1e-14)
    assert "c" not in grads


def test_torch_values_of_a_graph_of_constants_only():
    """No input requires grad: the constant leaves come first in torch's flat tensor, and
    f = sin(c)·c must still read c (not the group computed before it)."""
    G, out, ev = run("f = sin(c)*c", {"c": 0.7}, consts=["c"])
    values, grads = torch_values(G, out, {"c": 0.7})
    assert values == pytest.approx({"c": 0.7, "u": math.sin(0.7), "f": 0.7 * math.sin(0.7)},
                                   rel=1e-14, abs=0)
    assert grads == {}
    check = verify.torch_check(G, out, ev)
    assert check.ok is None and check.compared == 0


def test_torch_values_for_an_intermediate_output_give_zero_beyond_it():
    """∂u/∂· for u = x·y inside f = u + x: f comes after u, so its gradient is 0 (its group
    tensor gets no grad from the backward pass)."""
    G = build(parse("f = x*y + x"))
    values, grads = torch_values(G, "u", {"x": 2.0, "y": 3.0})
    assert values == {"x": 2.0, "y": 3.0, "u": 6.0, "f": 8.0}
    assert grads == {"x": 3.0, "y": 2.0, "u": 1.0, "f": 0.0}


def test_torch_values_for_an_output_of_constants_only_give_zero_gradients():
    """u = sin(c) with c constant does not require grad: no backward pass runs, and every
    tracked node's gradient is 0."""
    G = build(parse("f = x*sin(c)"), consts=["c"])
    values, grads = torch_values(G, "u", {"x": 2.0, "c": 3.0})
    assert values["u"] == pytest.approx(math.sin(3.0), rel=1e-15)
    assert grads == {"x": 0.0, "f": 0.0}


def test_torch_values_when_a_group_mixes_node_and_constant_arguments():
    """x² and 2ˣ are one pow group whose argument positions each hold x for one node and a
    constant for the other; x, the only input, is all torch reads them from."""
    G, out, ev = run("f = x**2 + 2**x", {"x": 1.5})
    values, grads = torch_values(G, out, {"x": 1.5})
    assert values == pytest.approx({"x": 1.5, "u": 2.25, "v": 2 ** 1.5, "f": 2.25 + 2 ** 1.5},
                                   rel=1e-15, abs=0)
    assert grads["x"] == pytest.approx(3.0 + 2 ** 1.5 * math.log(2), rel=1e-14)
    assert grads["u"] == grads["v"] == grads["f"] == 1.0
    check = verify.torch_check(G, out, ev)
    assert check.ok is True and check.compared == 4


def test_torch_check_of_an_intermediate_output_compares_only_what_it_depends_on():
    """For u = x·y inside f = u + x, f is tracked by torch but is no gradient of u: the
    reference holds u and its ancestors only, as the adjoints do."""
    G = build(parse("f = x*y + x"))
    ev = evaluate_at(G, "u", {"x": 2.0, "y": 3.0})
    check = verify.torch_check(G, "u", ev)
    assert check.reference == {"u": 1.0, "x": 3.0, "y": 2.0}
    assert check.ok is True and check.compared == 3 and check.not_comparable == []


def test_torch_check_is_named_torch():
    G, out, ev = run("J(a,b,c) = 3(a+bc)", {"a": 1.0, "b": 2.0, "c": 3.0})
    check = verify.torch_check(G, out, ev)
    assert check.name == "torch" and check.ok is True and check.compared == 6
    assert check.reference == {"J": 1.0, "u": 3.0, "v": 3.0, "a": 3.0, "b": 9.0, "c": 6.0}


# --- non-finite gradients --------------------------------------------------------------------------


def test_the_same_infinity_on_both_sides_is_neither_compared_nor_not_comparable():
    G, out, ev = run("f = sqrt(x)", {"x": 0.0})  # ∂f/∂x = 1/(2√0) = ∞, in torch too
    assert ev.adjoints["x"] == math.inf
    check = verify.torch_check(G, out, ev)
    assert check.not_comparable == [] and check.compared == 1  # only f itself
    assert check.ok is True and check.reference["x"] == math.inf


def test_nan_or_opposite_infinities_are_not_comparable():
    G, out, ev = run("f = sqrt(x)", {"x": -1.0})  # ∂f/∂x is NaN on both sides
    check = verify.torch_check(G, out, ev)
    assert check.not_comparable == ["x"] and check.compared == 1 and check.ok is True
    G, out, ev = run("f = sqrt(x)", {"x": 0.0})
    flipped = dataclasses.replace(ev, adjoints={**ev.adjoints, "x": -math.inf})
    check = verify.torch_check(G, out, flipped)
    assert check.not_comparable == ["x"] and check.compared == 1 and check.ok is True


def test_a_leaf_with_no_difference_does_not_stop_the_others_being_compared():
    G, out, ev = run("f = sqrt(x)*y", {"x": 0.0, "y": 2.0})  # √(0 − h) is NaN
    check = finite_difference_check(G, out, ev)
    assert check.not_comparable == ["x"] and check.compared == 1
    assert check.reference["y"] == 0.0 and check.ok is True


# --- the tolerance: |a − b| ≤ atol + rtol·max(|a|, |b|) -------------------------------------------


def test_close_includes_the_boundary():
    assert verify.close(1.0, 1.0, 0.0, 0.0)
    assert verify.close(1.0, 1.5, 0.0, 0.5)  # exactly atol apart
    assert not verify.close(1.0, 1.5, 0.0, 0.25)


def test_close_scales_rtol_by_the_larger_magnitude_and_adds_atol():
    assert verify.close(10.0, 11.0, 0.095, 0.0) and verify.close(11.0, 10.0, 0.095, 0.0)
    assert not verify.close(10.0, 11.0, 0.09, 0.0)  # 0.09·11 = 0.99 < 1
    assert verify.close(10.0, 11.0, 0.05, 0.45)  # 0.45 + 0.55 = 1
    assert not verify.close(-1.0, 1.0, 0.5, 0.5)  # 2 > 0.5 + 0.5
