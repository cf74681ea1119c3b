"""The ``torch`` command: labels as names in --wrt, --sgd/--steps, --gradient, and the seed's
no_grad example (graphexplain.nn.torch_cli)."""

import argparse
import json
from pathlib import Path

import pytest
import torch

from graphexplain import GraphExplainError
from graphexplain.nn import torch_cli
from graphexplain.nn.torch import load

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
LR = f"{EXAMPLES / 'seed_linear_regression.py'}:Lr"
DOUBLE = f"{EXAMPLES / 'seed_vector_backward.py'}:double"


def cli_args(*argv):
    parser = argparse.ArgumentParser(prog="graphexplain")
    torch_cli.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["torch", *argv])


@pytest.fixture
def resolver():
    """graphexplain.graph.resolve, which every command uses for --wrt."""
    return "graph.resolve"


@pytest.mark.parametrize("wrt", ["linear.weight[0,0]", "linear.weight[0, 0]",
                                 "linear_weight_0_0"])
def test_wrt_takes_the_label_or_the_id(resolver, wrt, tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr("graphexplain.api.Explanation.render",
                        lambda self, path, view="both", wrt=None, **options: seen.append((view, wrt)))
    assert torch_cli.run(cli_args(LR, "--wrt", wrt, "--view", "paths", "--render",
                                  str(tmp_path / "p.svg"), "-q")) == 0
    assert seen == [("paths", "linear_weight_0_0")]


@pytest.mark.parametrize("wrt, fragment", [
    ("linear.weight[0]", "did you mean linear.weight[0,0]"),
    ("x[0,0]", "not an input with a gradient (inputs with a gradient: linear.weight[0,0], "
               "linear.bias[0])"),
])
def test_wrt_errors_name_what_to_write(resolver, wrt, fragment):
    with pytest.raises(GraphExplainError, match=fragment.replace("[", r"\[").replace("(", r"\(")
                       .replace(")", r"\)")) as info:
        torch_cli.run(cli_args(LR, "--wrt", wrt, "-q"))
    assert str(info.value).startswith(f"--wrt {wrt}") and "\n" not in str(info.value)


def test_sgd_fits_the_seed_line(capsys):
    assert torch_cli.run(cli_args(LR, "--sgd", "0.1", "--steps", "2000", "--format",
                                  "json")) == 0
    doc = json.loads(capsys.readouterr().out)
    last = doc["descent"]["rows"][-1]
    assert doc["descent"]["steps"] == 2000 and last["step"] == 2000
    assert last["values"]["linear_weight_0_0"] == pytest.approx(3.0, abs=1e-6)  # y = 3x + 0.8
    assert last["values"]["linear_bias_0"] == pytest.approx(0.8, abs=1e-6)
    assert doc["descent"]["torch_max_difference"] < 1e-12
    assert torch_cli.run(cli_args(LR, "--sgd", "0.1", "--steps", "10")) == 0
    assert "torch.optim.SGD on the same graph" in capsys.readouterr().out


def test_sgd_first_step_is_one_step_of_torch_optim_sgd(capsys):
    m = load(LR)
    model = m.model.double()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    m.loss(model(m.example_inputs[0].double()), m.target.double()).backward()
    optimizer.step()
    assert torch_cli.run(cli_args(LR, "--sgd", "0.1", "--steps", "1", "--format", "json")) == 0
    values = json.loads(capsys.readouterr().out)["descent"]["rows"][-1]["values"]
    assert values["linear_weight_0_0"] == pytest.approx(model.linear.weight.item(), rel=1e-12)
    assert values["linear_bias_0"] == pytest.approx(model.linear.bias.item(), rel=1e-12)


def test_gradient_option_is_the_vector_jacobian_product(capsys):
    m = load(DOUBLE)
    x = m.example_inputs[0].detach().double().requires_grad_()
    v = torch.tensor([1.0, 0.5, 0.0, 2.0], dtype=torch.float64)
    (expected,) = torch.autograd.grad(m.model(x), x, v.reshape(2, 2))
    assert torch_cli.run(cli_args(DOUBLE, "--gradient", "1,0.5,0,2", "--format", "json")) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["vector_output"]["v"] == [1.0, 0.5, 0.0, 2.0]
    for k, name in enumerate(["x_0_0", "x_0_1", "x_1_0", "x_1_1"]):
        assert doc["gradients"][name]["value"] == pytest.approx(expected.flatten()[k].item(),
                                                                rel=1e-12)


def test_the_file_gradient_is_used_without_the_option(capsys):
    m = load(DOUBLE)
    assert torch_cli.run(cli_args(DOUBLE, "--format", "json")) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["vector_output"]["v"] == m.gradient.flatten().tolist()


@pytest.mark.parametrize("name, value", [("snippet", 5.31149), ("detached", 5.31149),
                                         ("tracked", 7.81149)])
def test_seed_no_grad_example_on_the_command_line(capsys, name, value):
    assert torch_cli.run(cli_args(f"{EXAMPLES / 'seed_no_grad.py'}:{name}")) == 0
    out = capsys.readouterr().out
    assert f"= {value}" in out.split("Gradients")[1].split("\n")[1]
    assert ("the graph was cut at c" in out) == (name != "tracked")
    assert "module autograd (the model itself, float64): agrees on 4 gradients" in out


def test_seed_no_grad_example_json_has_the_cuts(capsys):
    assert torch_cli.run(cli_args(f"{EXAMPLES / 'seed_no_grad.py'}:snippet", "--format",
                                  "json")) == 0
    doc = json.loads(capsys.readouterr().out)
    (cut,) = doc["model"]["cuts"]
    assert cut["name"] == "c" and cut["why"] == "no_grad" and len(cut["nodes"]) == 4
    assert doc["verification"]["module"]["ok"] is True


def test_the_cli_module_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, graphexplain.nn.torch_cli; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"
