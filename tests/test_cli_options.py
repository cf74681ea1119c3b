"""Each command-line option does what it says: every test compares the output with and without
the option, or asserts a value only the option can produce, so it fails if the option were
ignored. ``tests/cli_option_registry.py`` maps each option to its test."""

from __future__ import annotations

import json
import re
from importlib.metadata import version
from pathlib import Path

import pytest

import graphexplain
from graphexplain import cli, walkthrough

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
LR = f"{EXAMPLES / 'seed_linear_regression.py'}:Lr"
SNIPPET = f"{EXAMPLES / 'seed_autograd.py'}:snippet"
J = ["explain", "J(a,b,c) = 3(a+bc)", "--at", "a=1", "b=2", "c=3"]
SEED = ["mlp", "--layers", "2,2,2,1", "--no-bias"]


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def ok(capsys, *argv) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    return out


def dot(tmp_path, *argv) -> str:
    """Render ``argv`` to a fresh DOT file; its text."""
    path = tmp_path / f"d{len(list(tmp_path.iterdir()))}.dot"
    assert cli.main([*argv, "--render", str(path), "-q"]) == 0
    return path.read_text(encoding="utf-8")


def as_json(capsys, *argv) -> dict:
    return json.loads(ok(capsys, *argv, "--format", "json"))


def leaves(doc: dict) -> dict[str, float]:
    return {x["name"]: x["value"] for x in doc["leaves"]}


def ops_of(doc: dict) -> dict[str, str]:
    return {n["name"]: n["op"] for n in doc["nodes"]}


# --- the top level ------------------------------------------------------------------------------


def test_version_is_the_packages(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"graphexplain {graphexplain.__version__}\n"
    assert graphexplain.__version__ == version("graphexplain")


# --- explain ------------------------------------------------------------------------------------


def test_explain_at_is_the_point(capsys):
    one = as_json(capsys, "explain", "J(a,b,c) = 3(a+bc)", "--at", "a=1", "b=2", "c=3")
    other = as_json(capsys, "explain", "J(a,b,c) = 3(a+bc)", "--at", "a=1", "b=5", "c=-1")
    assert one["gradients"]["b"]["value"] == 9.0 and other["gradients"]["b"]["value"] == -3.0
    bare = as_json(capsys, "explain", "J(a,b,c) = 3(a+bc)")
    assert bare["gradients"]["b"]["value"] is None


def test_explain_view_backward_only(tmp_path):
    """forward: values on the wires, no gradient; backward: gradients and partials, drawn
    against the flow; both (the default): values and gradients."""
    both, fwd, back = (dot(tmp_path, *J, *v) for v in ([], ["--view", "forward"],
                                                       ["--view", "backward"]))
    value, gradient = 'COLOR="#1e7b34"', 'COLOR="#c0392b"'
    assert value in both and gradient in both and "dir=back" not in both
    assert value in fwd and gradient not in fwd and "∂" not in fwd
    assert value not in back and gradient in back and "dir=back" in back
    assert "∂u/∂a = 1" in back


def test_explain_wrt_highlights_its_paths(tmp_path):
    """--view paths --wrt c colours c's one path; --wrt a colours a's instead."""
    def on_path(text, node):
        line = next(x for x in text.splitlines() if x.strip().startswith(f"{node} ["))
        return "path" in re.search(r'class=("[^"]*"|\S+)', line).group(1)

    to_c = dot(tmp_path, *J, "--view", "paths", "--wrt", "c")
    to_a = dot(tmp_path, *J, "--view", "paths", "--wrt", "a")
    assert on_path(to_c, "c") and on_path(to_c, "v") and not on_path(to_c, "a")
    assert on_path(to_a, "a") and not on_path(to_a, "c") and not on_path(to_a, "v")


def test_explain_quiet_prints_nothing(capsys):
    assert "∂J/∂b = 3·c = 9" in ok(capsys, *J)
    assert ok(capsys, *J, "--quiet") == "" and ok(capsys, *J, "-q") == ""


def test_explain_format_program_is_the_program_again(capsys):
    """--format program writes the graph as a program, one statement per node, that explains
    to the same gradients."""
    text = ok(capsys, *J, "--format", "program")
    assert text == "v = b*c\nu = a + v\nJ = 3*u\n"
    again = as_json(capsys, "explain", text, "--at", "a=1", "b=2", "c=3")
    assert {k: g["value"] for k, g in again["gradients"].items()} == {"a": 3.0, "b": 9.0,
                                                                    "c": 6.0}
    assert "·" in ok(capsys, *J) and "·" not in text  # the text report is not the program


def test_explain_diagram_network_is_refused_for_an_expression(capsys, tmp_path):
    code, _, err = run(capsys, *J, "--diagram", "network", "--render", str(tmp_path / "n.dot"))
    assert code == 2 and "the network view needs a layered network" in err
    assert "class=wire" in dot(tmp_path, *J, "--diagram", "circuit")


def test_explain_has_no_expand(capsys):
    """A program is never a network, so explain offers no --expand to ignore."""
    code, _out, err = run(capsys, *J, "--expand")
    assert code == 2 and "unrecognized arguments: --expand" in err


def test_explain_no_verify_skips_the_checks(capsys):
    assert "torch.autograd (float64): agrees" in ok(capsys, *J)
    assert "torch.autograd" not in ok(capsys, *J, "--no-verify")
    assert as_json(capsys, *J, "--no-verify")["verification"] is None


def test_explain_limit_lowers_and_raises(capsys):
    code, _, err = run(capsys, *J, "--limit", "max_nodes=3")
    assert code == 2 and "max_nodes=3" in err
    deep = "f = " + "(" * 150 + "x" + ")" * 150
    code, _, err = run(capsys, "explain", deep, "--no-verify")
    assert code == 2 and "max_depth" in err
    assert "f = x" in ok(capsys, "explain", deep, "--limit", "max_depth=200", "--no-verify")


L = ["explain", "L = (w*x - y)^2", "--at", "w=0", "x=1", "y=1", "--const", "x", "--const", "y"]


def test_explain_sgd_json_and_markdown(capsys):
    """∂L/∂w = 2(w·x − y)·x = −2 at w = 0, so w₁ = 0 − 0.1·(−2) = 0.2, w₂ = 0.36."""
    doc = as_json(capsys, *L, "--sgd", "0.1", "--steps", "2")
    d = doc["descent"]
    assert (d["lr"], d["steps"]) == (0.1, 2)
    assert [r["values"]["w"] for r in d["rows"]] == pytest.approx([0.0, 0.2, 0.36], rel=1e-12)
    assert [r["loss"] for r in d["rows"]] == pytest.approx([1.0, 0.64, 0.4096], rel=1e-12)
    assert d["torch_max_difference"] == pytest.approx(0.0, abs=1e-12)
    assert "descent" not in as_json(capsys, *L)
    md = ok(capsys, *L, "--sgd", "0.1", "--steps", "3", "--format", "markdown")
    block = md.split("Gradient descent:")[1]
    assert "α = 0.1, 3 steps" in block and "0.36" in block and "0.488" in block
    assert "Gradient descent" not in ok(capsys, *L, "--format", "markdown")


# --- mlp ----------------------------------------------------------------------------------------


def test_mlp_layers_and_no_bias(capsys):
    doc = as_json(capsys, "mlp", "--layers", "3,1", "--no-verify")
    names = set(leaves(doc))
    assert {"x1", "x2", "x3", "w1_3_1", "b1_1"} <= names and "x4" not in names
    no_bias = set(leaves(as_json(capsys, "mlp", "--layers", "3,1", "--no-bias", "--no-verify")))
    assert no_bias == names - {"b1_1"}


@pytest.mark.parametrize("activation", ["tanh", "relu", "elu", "leaky_relu", "softplus"])
def test_mlp_activation(capsys, activation):
    doc = as_json(capsys, "mlp", "--layers", "2,2,1", "--activation", activation, "--no-verify")
    assert ops_of(doc)["A_f1"] == activation
    assert ops_of(as_json(capsys, "mlp", "--layers", "2,2,1", "--no-verify"))["A_f1"] == "sigmoid"


def test_mlp_output_activation(capsys):
    default = ops_of(as_json(capsys, "mlp", "--layers", "2,1", "--no-verify"))
    assert "tanh" not in default.values()
    out = ops_of(as_json(capsys, "mlp", "--layers", "2,1", "--output-activation", "tanh",
                         "--no-verify"))
    assert sorted(out.values()) == sorted([*default.values(), "tanh"])


@pytest.mark.parametrize("loss, op", [("mse", "mse"), ("ce", "cross_entropy"),
                                      ("bce", "bce_logits")])
def test_mlp_loss(capsys, loss, op):
    doc = as_json(capsys, "mlp", "--layers", "2,2", "--loss", loss)
    assert ops_of(doc)[doc["output"]] == op
    assert doc["verification"]["torch"]["ok"] is True


def test_mlp_seed_draws_other_weights(capsys):
    zero = leaves(as_json(capsys, "mlp", "--layers", "2,1", "--no-verify"))
    again = leaves(as_json(capsys, "mlp", "--layers", "2,1", "--seed", "0", "--no-verify"))
    three = leaves(as_json(capsys, "mlp", "--layers", "2,1", "--seed", "3", "--no-verify"))
    assert zero == again and zero["w1_1_1"] != three["w1_1_1"]


def test_mlp_x_y_and_target_are_the_sample(capsys):
    doc = leaves(as_json(capsys, "mlp", "--layers", "2,1", "--x", "0.5,-1", "--y", "0.25",
                         "--no-verify"))
    assert (doc["x1"], doc["x2"], doc["y1"]) == (0.5, -1.0, 0.25)
    drawn = leaves(as_json(capsys, "mlp", "--layers", "2,1", "--no-verify"))
    assert (drawn["x1"], drawn["x2"]) != (0.5, -1.0) and drawn["y1"] != 0.25
    for target in (1, 3):
        ys = leaves(as_json(capsys, "mlp", "--layers", "2,3", "--loss", "ce", "--target",
                            str(target), "--no-verify"))
        assert [ys[f"y{k}"] for k in (1, 2, 3)] == [float(k == target) for k in (1, 2, 3)]


@pytest.mark.parametrize("fmt, marker", [
    ("latex", r"\begin{align*}"), ("markdown", "### Forward pass"),
    ("program", "A_f1 = sigmoid(f1)\n"), ("html", "<!DOCTYPE html>"),
])
def test_mlp_formats(capsys, fmt, marker):
    text = ok(capsys, "mlp", "--layers", "2,2,1", "--format", fmt, "--no-verify")
    assert marker in text and marker not in ok(capsys, "mlp", "--layers", "2,2,1", "--no-verify")
    if fmt == "program":
        again = as_json(capsys, "explain", text, "--no-verify")
        assert again["output"] == "loss"


def test_mlp_view(tmp_path):
    both, fwd, back = (dot(tmp_path, *SEED, *v) for v in ([], ["--view", "forward"],
                                                          ["--view", "backward"]))
    assert "∂" not in fwd and "∂" in both and "∂" in back
    assert len({both, fwd, back}) == 3


def test_mlp_partials_on_the_circuit(tmp_path):
    circuit = [*SEED, "--diagram", "circuit"]
    assert "∂f1/∂w1[1,1]" not in dot(tmp_path, *circuit)
    assert "∂f1/∂w1[1,1] = x1" in dot(tmp_path, *circuit, "--partials")


def test_mlp_no_verify_skips_the_checks(capsys):
    assert "torch.autograd (float64): agrees" in ok(capsys, *SEED)
    assert "torch.autograd" not in ok(capsys, *SEED, "--no-verify")


def test_mlp_sgd_and_steps(capsys):
    """One step is w − lr·∂loss/∂w for every weight, and torch.optim.SGD agrees."""
    start = as_json(capsys, *SEED)
    doc = as_json(capsys, *SEED, "--sgd", "0.5", "--steps", "3")
    rows = doc["descent"]["rows"]
    assert doc["descent"]["steps"] == 3 and [r["step"] for r in rows] == [0, 1, 2, 3]
    for name, g in start["gradients"].items():
        w0 = leaves(start)[name]
        assert rows[1]["values"][name] == pytest.approx(w0 - 0.5 * g["value"], rel=1e-12)
    assert doc["descent"]["torch_max_difference"] < 1e-12
    assert "Gradient descent" in ok(capsys, *SEED, "--sgd", "0.5", "--steps", "3")


def test_mlp_h_is_the_step(capsys):
    doc = as_json(capsys, *SEED, "--h", "1e-3")
    assert doc["verification"]["finite_difference"]["step"] == 1e-3
    assert as_json(capsys, *SEED)["verification"]["finite_difference"]["step"] != 1e-3


def test_mlp_limit(capsys):
    """--limit max_paths=1: a gradient with two paths is counted, not listed."""
    listed = as_json(capsys, *SEED)["gradients"]["w1_1_2"]
    counted = as_json(capsys, *SEED, "--limit", "max_paths=1")["gradients"]["w1_1_2"]
    assert listed["path_count"] == counted["path_count"] == 2
    assert len(listed["paths"]) == 2 and counted["paths"] is None


def test_mlp_limit_max_nodes_is_enforced(capsys):
    """As explain refuses a program past max_nodes, mlp refuses a network past it."""
    code, _out, err = run(capsys, *SEED, "--limit", "max_nodes=5")
    assert code == 2 and "a network of 23 nodes exceeds the limit max_nodes=5" in err


def test_mlp_out_writes_the_report_to_a_file(capsys, tmp_path):
    shown = ok(capsys, *SEED, "--format", "markdown")
    report = tmp_path / "r.md"
    assert ok(capsys, *SEED, "--format", "markdown", "-o", str(report)) == ""
    assert report.read_text(encoding="utf-8") == shown
    assert ok(capsys, *SEED, "--format", "markdown", "--out", str(tmp_path / "s.md")) == ""
    assert (tmp_path / "s.md").read_text(encoding="utf-8") == shown


def test_mlp_quiet_prints_nothing(capsys):
    assert "∂loss/∂w1[1,2]" in ok(capsys, *SEED)
    assert ok(capsys, *SEED, "--quiet") == ""


# --- torch --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt, marker", [
    ("text", "module autograd (the model itself, float64): agrees"),
    ("json", '"schema": "graphexplain/1"'), ("latex", r"\begin{align*}"),
    ("markdown", "### Forward pass"), ("program", "out_0_0 = "), ("html", "<!DOCTYPE html>"),
])
def test_torch_formats(capsys, fmt, marker):
    text = ok(capsys, "torch", LR, "--format", fmt)
    assert marker in text
    if fmt != "text":
        assert marker not in ok(capsys, "torch", LR)
    if fmt == "json":
        grads = json.loads(text)["gradients"]
        assert grads["linear_weight_0_0"]["value"] == pytest.approx(-1.632656212, rel=1e-9)


def test_torch_view(tmp_path):
    both, fwd, back = (dot(tmp_path, "torch", LR, *v) for v in ([], ["--view", "forward"],
                                                                ["--view", "backward"]))
    assert "∂" not in fwd and "∂" in back and "linear.weight[0,0] = 0.2682" in fwd
    assert len({both, fwd, back}) == 3


def test_torch_wrt_highlights_its_paths(tmp_path):
    paths = ["torch", LR, "--view", "paths"]
    weight = dot(tmp_path, *paths, "--wrt", "linear.weight[0,0]")
    bias = dot(tmp_path, *paths, "--wrt", "linear.bias[0]")
    assert weight.count('class="weight path"') == 5  # one path per sample
    assert bias.count('class="weight path"') == 0


def explorer(capsys, *argv) -> str:
    return ok(capsys, "torch", *argv, "--format", "html", "--no-verify")


def test_torch_partials_in_the_explorer(capsys):
    assert explorer(capsys, SNIPPET) != explorer(capsys, SNIPPET, "--partials")


def test_torch_diagram_in_the_explorer(capsys):
    network = explorer(capsys, LR)
    circuit = explorer(capsys, LR, "--diagram", "circuit")
    assert 'class="node neuron"' in network and 'class="node neuron"' not in circuit
    assert 'class="edge wire"' in circuit and 'class="edge wire"' not in network


def test_torch_render_takes_partials_and_diagram(tmp_path):
    assert dot(tmp_path, "torch", SNIPPET) != dot(tmp_path, "torch", SNIPPET, "--partials")


BIG_MODEL = """\
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(2, 48), nn.Sigmoid(), nn.Linear(48, 1))
example_inputs = (torch.rand(1, 2),)
loss = nn.MSELoss()
target = torch.rand(1, 1)
"""


def test_torch_expand_in_the_explorer(capsys, tmp_path):
    """51 neurons are drawn as layers, unless --expand."""
    path = tmp_path / "big.py"
    path.write_text(BIG_MODEL)
    layers = explorer(capsys, f"{path}:model")
    neurons = explorer(capsys, f"{path}:model", "--expand")
    assert "layer 1: 2 → 48" in layers and "layer 1: 2 → 48" not in neurons


def test_torch_no_verify_skips_the_checks(capsys):
    assert "module autograd" in ok(capsys, "torch", LR)
    text = ok(capsys, "torch", LR, "--no-verify")
    assert "module autograd" not in text and "torch.autograd" not in text


def test_torch_quiet_prints_nothing(capsys):
    assert ok(capsys, "torch", LR) != ""
    assert ok(capsys, "torch", LR, "--quiet") == "" and ok(capsys, "torch", LR, "-q") == ""


# --- demo ---------------------------------------------------------------------------------------


def test_demo_out_and_quiet(capsys, tmp_path, monkeypatch):
    """One part (J) for speed: --out is where index.html goes; --quiet prints nothing."""
    monkeypatch.setattr(walkthrough, "PARTS", ["part6_j"])
    out = ok(capsys, "demo", "--out", str(tmp_path / "a"))
    assert str(tmp_path / "a") in out and len(out.strip().splitlines()) >= 1
    assert "J(a,b,c) = 3(a+bc)" in (tmp_path / "a" / "index.html").read_text(encoding="utf-8")
    assert ok(capsys, "demo", "--out", str(tmp_path / "b"), "--quiet") == ""
    assert (tmp_path / "b" / "index.html").is_file()


# --- fd-study -----------------------------------------------------------------------------------


def test_fd_study_file_at_wrt_and_output(capsys, tmp_path):
    program = "g = x^3*y; f = x*y^2"
    base = ["fd-study", "--format", "json"]
    doc = json.loads(ok(capsys, *base, program, "--at", "x=2", "y=3", "--output", "g"))
    assert (doc["output"], doc["wrt"], doc["exact"]) == ("g", "x", 36.0)  # 3x²y
    doc = json.loads(ok(capsys, *base, program, "--at", "x=2", "y=3", "--output", "g",
                        "--wrt", "y"))
    assert (doc["wrt"], doc["exact"]) == ("y", 8.0)  # x³
    doc = json.loads(ok(capsys, *base, program, "--at", "x=1", "y=3", "--output", "f"))
    assert (doc["output"], doc["exact"]) == ("f", 9.0)  # y²
    path = tmp_path / "p.txt"
    path.write_text("f = x^3\n")
    doc = json.loads(ok(capsys, *base, "-f", str(path), "--at", "x=2"))
    assert doc["exact"] == 12.0


def test_fd_study_out_and_quiet(capsys, tmp_path):
    argv = ["fd-study", "f = x^3", "--at", "x=1"]
    shown = ok(capsys, *argv)
    assert "1e-07" in shown or "10⁻⁷" in shown
    assert ok(capsys, *argv, "-o", str(tmp_path / "t.txt")) == ""
    assert (tmp_path / "t.txt").read_text(encoding="utf-8") == shown
    assert ok(capsys, *argv, "--quiet") == ""
