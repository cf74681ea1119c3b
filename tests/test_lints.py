"""Lints: each fires on the slip it is for, and stays silent on the corrected program."""

from pathlib import Path

import pytest

from graphexplain import lints, seed
from graphexplain.api import explain_mlp
from graphexplain.evaluate import evaluate
from graphexplain.graph import add_leaf, build
from graphexplain.lints import Note, check
from graphexplain.nn.mlp import MLPSpec
from graphexplain.parse import parse
from graphexplain.train import gradient_norm, sgd, torch_sgd

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def codes(notes):
    return [n.code for n in notes]


def graph(program, consts=()):
    return build(parse(program), consts=consts)


# --- a loss that can be negative ---------------------------------------------------------------


@pytest.mark.parametrize("slip, fixed", [
    ("z = w*x + b; p = sigmoid(z); L = y*log(p) + (1 - y)*log(1 - p)",
     "z = w*x + b; p = sigmoid(z); L = -(y*log(p) + (1 - y)*log(1 - p))"),
    ("loss = y*log(p)", "loss = -y*log(p)"),  # the seed's 分类损失, as it writes it
    ("p = sigmoid(z); f = y*log(p)", "p = sigmoid(z); f = -y*log(p)"),  # log p, any name
])
def test_cross_entropy_without_its_minus(slip, fixed):
    notes = check(graph(slip))
    assert codes(notes) == ["negative-loss"]
    assert "A cross-entropy needs its minus" in notes[0].message
    assert notes[0].node == graph(slip).graph["output"]
    assert check(graph(fixed)) == []


def test_a_loss_named_loss_that_goes_below_zero():
    notes = check(graph("loss = w*x - y"))
    assert codes(notes) == ["negative-loss"] and "(prediction − y)²" in notes[0].message
    assert check(graph("loss = (w*x - y)^2")) == []


def test_negative_at_the_students_point_names_the_point():
    G = graph("p = sigmoid(z); L = y*log(p) + (1 - y)*log(1 - p)", consts=["y"])
    ev = evaluate(G, "L", {"z": 0.0, "y": 1.0})
    [note] = lints.negative_loss(G, "L", ev)
    assert "L = −0.693147 at z = 0, y = 1" in note.message


@pytest.mark.parametrize("program", [
    "J(a,b,c) = 3(a+bc)",  # the seed's J is a function, not a loss: negative is fine
    "ll = y*log(p) + (1 - y)*log(1 - p)",  # a log-likelihood is ≤ 0 by nature
    "f = sin(x)",
])
def test_functions_that_are_not_losses_may_be_negative(program):
    assert check(graph(program)) == []


def test_the_seeds_examples_pass_silently():
    for ex in seed.EXAMPLES:
        G = graph(ex.program, ex.consts)
        assert check(G, evaluation=evaluate(G, G.graph["output"], ex.at)) == [], ex.slug
    for net in seed.NETWORKS:
        e = explain_mlp(MLPSpec(net.layers, bias=net.bias), verify=False)
        assert check(e.graph, evaluation=e.evaluation) == [], net.slug


# --- inputs nothing uses, and weights on the wrong neuron --------------------------------------


def test_the_seeds_f2_leaves_x1_unused():
    """The seed writes f2 = w1[1,2]x2 + w1[2,2]x2; with x1 declared, x1 is a leaf without
    edges (as J(a,b) = 2a keeps b), and w1[1,2] multiplies the wrong input."""
    G = graph("f2 = w1_1_2*x2 + w1_2_2*x2")
    add_leaf(G, "x1")  # declared, used by nothing
    notes = check(G)
    assert codes(notes) == ["unused-input", "weight-input"]
    assert notes[0].node == "x1" and "x1 is declared but f2 does not use it" in notes[0].message
    assert "∂f2/∂x1 = 0" in notes[0].message
    assert "w1_1_2 multiplies x2 in f2" in notes[1].message
    assert "did you mean w1_1_2·x1?" in notes[1].message
    fixed = graph("f2 = w1_1_2*x1 + w1_2_2*x2")
    assert check(fixed) == []


def test_the_seeds_f2_as_the_student_writes_it():
    G = graph("f2(x1,x2,w1[1,2],w1[2,2]) = w1[1,2]x2 + w1[2,2]x2")
    notes = check(G)
    assert codes(notes) == ["unused-input", "weight-input"]
    assert "w1[1,2] multiplies x2 in f2" in notes[1].message
    assert "did you mean w1[1,2]·x1?" in notes[1].message
    assert check(graph("f2(x1,x2,w1[1,2],w1[2,2]) = w1[1,2]x1 + w1[2,2]x2")) == []


def test_a_declared_input_the_output_does_not_use():
    G = graph("J(a,b) = 2a")
    if "b" not in G:  # the builder keeps declared inputs as leaves without edges
        add_leaf(G, "b")
    [note] = lints.unused_inputs(G, "J")
    assert note.code == "unused-input" and note.node == "b"
    assert check(graph("J(a,b) = 2a + b")) == []


def test_two_weights_into_one_neuron_on_the_same_input():
    slip = "g1 = w2_1_1*a1 + w2_2_1*a1; out = g1"
    [note] = check(graph(slip))
    assert note.code == "weight-input" and note.node == "a1"
    assert "w2[1,1] and w2[2,1] both multiply a1" in note.message
    assert check(graph("g1 = w2_1_1*a1 + w2_2_1*a2; out = g1")) == []


def test_the_seeds_whole_first_layer_with_its_slip():
    program = ("f1 = w1_1_1*x1 + w1_2_1*x2; f2 = w1_1_2*x2 + w1_2_2*x2; "
               "out = sigmoid(f1) + sigmoid(f2)")
    assert codes(check(graph(program))) == ["weight-input"]
    assert check(graph(program.replace("w1_1_2*x2", "w1_1_2*x1"))) == []


# --- outputs that can't match their targets ----------------------------------------------------


def mlp_notes(**kw):
    spec = MLPSpec(kw.pop("layers", (2, 3, 1)), "tanh", **kw)
    e = explain_mlp(spec, verify=False)
    return check(e.graph, evaluation=e.evaluation)


@pytest.mark.parametrize("slip, fixed, fragment", [
    ({"output_activation": "sigmoid", "y": (1.5,)}, {"output_activation": "sigmoid", "y": (0.5,)},
     "sigmoid, whose values lie in (0, 1): it can never reach the target y1 = 1.5"),
    ({"output_activation": "sigmoid", "y": (-0.1,)}, {"output_activation": "sigmoid", "y": (0.0,)},
     "can never reach the target y1 = −0.1"),  # a 0/1 label is approached: not a slip
    ({"output_activation": "relu", "y": (-0.5,)}, {"output_activation": "relu", "y": (0.5,)},
     "relu, whose values lie in [0, ∞)"),
    ({"output_activation": "tanh", "y": (-1.2,)}, {"output_activation": "tanh", "y": (-0.5,)},
     "tanh, whose values lie in (−1, 1)"),
    ({"loss": "bce", "y": (2.0,)}, {"loss": "bce", "y": (1.0,)},
     "binary cross-entropy targets are probabilities in [0, 1], but y1 = 2 is not"),
    ({"loss": "bce", "output_activation": "sigmoid", "y": (0.0,)}, {"loss": "bce", "y": (0.0,)},
     "probability σ(sigmoid(z)) lies in (0.5, 0.731059)"),
    ({"loss": "ce"}, {"loss": "ce", "layers": (2, 3, 2)}, "softmax of one number is 1"),
    ({"loss": "ce", "layers": (2, 3, 3), "output_activation": "tanh", "target": 2},
     {"loss": "ce", "layers": (2, 3, 3), "target": 2}, "at most 0.786986"),
    ({"loss": "ce", "layers": (2, 3, 3), "y": (0.5, 0.7, 0.2)},
     {"loss": "ce", "layers": (2, 3, 3), "y": (0.1, 0.7, 0.2)}, "sum to 1.4"),
])
def test_output_range_against_the_target(slip, fixed, fragment):
    notes = mlp_notes(**slip)
    assert codes(notes) == ["target-range"] and fragment in notes[0].message
    assert notes[0].node == "loss"
    assert mlp_notes(**fixed) == []


def test_without_an_evaluation_the_specs_sample_is_used():
    G = explain_mlp(MLPSpec((2, 2, 1), output_activation="relu", y=(-1.0,)), verify=False).graph
    assert codes(check(G)) == ["target-range"]


def test_a_written_out_squared_error_with_a_bounded_prediction():
    G = graph("L = (sigmoid(w*x + b) - y)^2", consts=["x", "y"])
    at = {"w": 1.0, "x": 1.0, "b": 0.0}
    [note] = check(G, evaluation=evaluate(G, "L", {**at, "y": 2.0}))
    assert note.code == "target-range" and "can never reach the target y = 2" in note.message
    assert check(G, evaluation=evaluate(G, "L", {**at, "y": 0.3})) == []


def test_many_losses_are_summed_up():
    notes = lints._capped([Note("target-range", f"n{k}") for k in range(7)])
    assert [n.message for n in notes] == ["n0", "n1", "n2", "… and 4 more like these."]


# --- gradient descent that stopped too early ---------------------------------------------------


@pytest.fixture(scope="module")
def seed_lr():
    from graphexplain.nn.torch_model import explain_file

    e = explain_file(str(EXAMPLES / "seed_linear_regression.py") + ":Lr", verify=False)
    return e.graph, e.output, e.evaluation.point


def test_the_seeds_own_settings_do_not_converge(seed_lr):
    """optim.SGD(lr=1e-3) for 100 steps, as the seed's training loop: w = 0.42, b = 0.30,
    far from y = 3x + 0.8."""
    G, out, point = seed_lr
    t = sgd(G, out, point, lr=1e-3, steps=100)
    assert t.final["linear_weight_0_0"] == pytest.approx(0.42, abs=0.01)
    assert t.final["linear_bias_0"] == pytest.approx(0.30, abs=0.01)
    [note] = lints.not_converged(G, out, t)
    assert note.code == "not-converged"
    assert note.message.startswith("not converged after 100 steps: the gradient is still 80%")
    assert "linear.weight[0,0] = 0.416668" in note.message and "more steps" in note.message
    assert codes(check(G, out, descent=torch_sgd(G, out, point, 1e-3, 100))) == ["not-converged"]


def test_converged_descent_is_silent(seed_lr):
    G, out, point = seed_lr
    t = sgd(G, out, point, lr=0.1, steps=2000)
    assert gradient_norm(G, out, t.final) < 1e-6
    assert lints.not_converged(G, out, t) == []


def test_a_diverging_descent(seed_lr):
    G, out, point = seed_lr
    [note] = lints.not_converged(G, out, sgd(G, out, point, lr=1.5, steps=50))
    assert "diverged" in note.message and "try α = 0.15" in note.message


def test_gradient_norm_is_zero_at_the_minimum():
    G = graph("loss = (w - 3)^2 + (b - 1)^2")
    assert gradient_norm(G, "loss", {"w": 0.0, "b": 1.0}) == 6.0
    assert gradient_norm(G, "loss", {"w": 3.0, "b": 1.0}) == 0.0
    t = sgd(G, "loss", {"w": 0.0, "b": 1.0}, lr=0.5, steps=1)  # w − 0.5·2(w − 3) = 3
    assert lints.not_converged(G, "loss", t) == []
    t = sgd(G, "loss", {"w": 0.0, "b": 1.0}, lr=0.25, steps=3)  # the error shrinks 2× a step
    assert codes(lints.not_converged(G, "loss", t)) == ["not-converged"]
    t = sgd(G, "loss", {"w": 0.0, "b": 1.0}, lr=0.25, steps=10)  # 1/1024 of it is left
    assert lints.not_converged(G, "loss", t) == []


# --- the API -----------------------------------------------------------------------------------


def test_notes_print_as_lines_and_serialize():
    notes = check(graph("loss = y*log(p)"))
    assert lints.to_text(notes).startswith("note: loss can be negative")
    assert lints.to_text([]) == ""
    assert notes[0].to_dict() == {"code": "negative-loss", "message": notes[0].message,
                                  "node": "loss"}
    assert "*" not in lints.to_text(notes)
