"""Gradient descent with the explained gradients, against torch.optim.SGD and closed forms."""

import json
from pathlib import Path

import pytest

from graphexplain.cli import main
from graphexplain.errors import GraphExplainError
from graphexplain.graph import build
from graphexplain.parse import parse
from graphexplain.train import max_difference, sgd, torch_sgd

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_one_step_is_w_minus_lr_times_the_gradient():
    G = build(parse("loss = (w*x + b - y)^2"), consts=["x", "y"])
    point = {"w": 0.5, "b": 0.0, "x": 0.7, "y": 2.9}
    t = sgd(G, "loss", point, lr=0.1, steps=1)
    residual = 0.5 * 0.7 + 0.0 - 2.9
    assert t.final["w"] == pytest.approx(0.5 - 0.1 * 2 * residual * 0.7, rel=1e-14)
    assert t.final["b"] == pytest.approx(0.0 - 0.1 * 2 * residual, rel=1e-14)
    assert t.final["x"] == 0.7 and t.final["y"] == 2.9  # data does not move
    assert t.rows[0][1] == pytest.approx(residual ** 2)


@pytest.mark.parametrize("program, point, consts", [
    ("loss = (sigmoid(w1*x + b1)*w2 + b2 - y)^2",
     {"w1": 0.3, "b1": -0.1, "w2": 0.8, "b2": 0.2, "x": 1.5, "y": 0.4}, ["x", "y"]),
    ("f = (x*y - 1)^2 + elu(y, alpha=0.5)^2", {"x": 1.2, "y": -0.3}, []),
])
def test_trajectory_equals_torch_optim_sgd(program, point, consts):
    G = build(parse(program), consts=consts)
    out = G.graph["output"]
    ours = sgd(G, out, point, lr=0.05, steps=40, every=5)
    theirs = torch_sgd(G, out, point, lr=0.05, steps=40, every=5)
    assert [r[0] for r in ours.rows] == list(range(0, 41, 5))
    assert max_difference(ours, theirs) < 1e-12


def test_the_seeds_regression_learns_3_and_0_8(capsys):
    code = main(["torch", str(EXAMPLES / "seed_linear_regression.py") + ":Lr", "--sgd", "0.1",
                 "--steps", "2000", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    last = doc["descent"]["rows"][-1]["values"]
    assert last["linear_weight_0_0"] == pytest.approx(3.0, abs=1e-5)
    assert last["linear_bias_0"] == pytest.approx(0.8, abs=1e-5)
    assert doc["descent"]["torch_max_difference"] < 1e-12


def test_cli_descent_text_and_errors(capsys):
    assert main(["explain", "loss = (w - 3)^2", "--at", "w=0", "--sgd", "0.25",
                 "--steps", "4"]) == 0
    out = capsys.readouterr().out
    assert "Gradient descent: w ← w − α·∂loss/∂w" in out and "torch.optim.SGD" in out
    assert main(["explain", "loss = (w - 3)^2", "--sgd", "0.1"]) == 2
    assert "--sgd needs a starting point" in capsys.readouterr().err
    assert main(["explain", "loss = (w - 3)^2", "--at", "w=0", "--sgd", "-1"]) == 2
    assert "learning rate" in capsys.readouterr().err


def test_bad_settings_are_refused():
    G = build(parse("f = x*x"))
    with pytest.raises(GraphExplainError):
        sgd(G, "f", {"x": 1.0}, lr=0.1, steps=0)
    with pytest.raises(GraphExplainError):
        sgd(G, "f", {"x": 1.0}, lr=float("nan"), steps=3)


def test_gradient_norm_is_the_length_of_the_gradient():
    from graphexplain.evaluate import evaluate
    from graphexplain.train import gradient_norm

    G = build(parse("loss = (w*x + b - y)^2"), consts=["x", "y"])
    point = {"w": 0.5, "b": 0.1, "x": 0.7, "y": 2.9}
    ev = evaluate(G, "loss", point)
    residual = 0.5 * 0.7 + 0.1 - 2.9
    assert (ev.adjoints["w"], ev.adjoints["b"]) == pytest.approx((2 * residual * 0.7,
                                                                  2 * residual))
    assert gradient_norm(G, "loss", point) == pytest.approx(
        (ev.adjoints["w"] ** 2 + ev.adjoints["b"] ** 2) ** 0.5, rel=1e-15)
