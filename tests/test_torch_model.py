"""Torch models: traced with torch.fx, scalarized, explained, and checked against their own
autograd (graphexplain.nn.torch and the ``torch`` command)."""

import argparse
import copy
import inspect
import json
from pathlib import Path

import numpy as np
import pytest
import sympy
import torch
from torch import nn

from graphexplain import (
    GraphError,
    GraphExplainError,
    LimitError,
    UnsupportedOpError,
    explain_graph,
)
from graphexplain.api import symbols
from graphexplain.nn import torch_cli
from graphexplain.nn.torch import explain_module, load, module_graph

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
LR = f"{EXAMPLES / 'seed_linear_regression.py'}:Lr"


def leaf_ids(G, name: str, shape) -> np.ndarray:
    """The node ids of a tensor's elements, found by their labels (``0.weight[1,2]``)."""
    by_label = {data["label"]: n for n, data in G.nodes(data=True)}
    out = np.empty(tuple(shape), dtype=object)
    for idx in np.ndindex(out.shape):
        out[idx] = by_label[f"{name}[{','.join(map(str, idx))}]" if idx else name]
    return out


def assert_grads(e, named_grads: dict) -> None:
    """Our gradient of every element equals torch's (a {label name: tensor grad} map)."""
    gradients = e.gradients  # a property that derives afresh: read it once
    for name, grad in named_grads.items():
        ids = leaf_ids(e.graph, name, grad.shape)
        for idx in np.ndindex(ids.shape):
            assert gradients[ids[idx]]["value"] == pytest.approx(float(grad[idx]), rel=1e-9,
                                                                   abs=1e-12), (name, idx)


def torch_grads(model, inputs, loss=None, target=None):
    """Independent float64 autograd of a module, by parameter name."""
    m = copy.deepcopy(model).double()
    out = m(*(x.double() for x in inputs))
    if loss is not None:
        out = loss(out, target.double() if target.dtype.is_floating_point else target)
    out.backward()
    return {n: p.grad for n, p in m.named_parameters()}


# --- the seed's examples ----------------------------------------------------------------------


def test_lr_gradients_are_the_closed_form_and_autograd():
    m = load(LR)
    e = explain_module(m.model, m.example_inputs, loss=m.loss, target=m.target)
    x, y = m.example_inputs[0].double(), m.target.double()
    w, b = m.model.linear.weight.double().item(), m.model.linear.bias.double().item()
    residual = w * x + b - y
    n = len(x)
    assert e.gradients["linear_weight_0_0"]["value"] == pytest.approx(
        float((2 / n) * (residual * x).sum()), rel=1e-12)
    assert e.gradients["linear_bias_0"]["value"] == pytest.approx(
        float((2 / n) * residual.sum()), rel=1e-12)
    assert_grads(e, torch_grads(m.model, m.example_inputs, nn.MSELoss(), m.target))
    assert e.verification.ok is True
    assert e.module_check.ok is True and e.module_check.compared == 2
    assert set(e.gradients) == {"linear_weight_0_0", "linear_bias_0"}  # data and targets: none
    assert m.model.linear.weight.grad is None  # the model's own autograd ran on a copy


def test_lr_weight_gradient_is_a_sum_over_the_samples():
    m = load(LR)
    n = len(m.example_inputs[0])
    e = explain_module(m.model, m.example_inputs, loss=m.loss, target=m.target, verify=False)
    w, b = symbols("linear_weight_0_0", "linear_bias_0")
    xs = symbols(*(f"x_{i}_0" for i in range(n)))
    ys = symbols(*(f"y_{i}_0" for i in range(n)))
    closed_w = sympy.Rational(2, n) * sum((w * xi + b - yi) * xi for xi, yi in zip(xs, ys))
    closed_b = sympy.Rational(2, n) * sum(w * xi + b - yi for xi, yi in zip(xs, ys))
    gw, gb = e.gradients["linear_weight_0_0"], e.gradients["linear_bias_0"]
    assert sympy.expand(gw["formula"] - closed_w) == 0
    assert sympy.expand(gb["formula"] - closed_b) == 0
    assert gw["path_count"] == n and gb["path_count"] == n
    assert sorted(p[1] for p in gw["paths"]) == [f"out_{i}_0" for i in range(n)]  # one per sample
    assert e.graph.nodes["linear_weight_0_0"]["label"] == "linear.weight[0,0]"
    assert e.graph.nodes["x_0_0"]["kind"] == "input" and not e.graph.nodes["x_0_0"]["requires_grad"]
    assert e.graph.nodes["y_0_0"]["kind"] == "const"


def test_seed_autograd_snippet():
    m = load(f"{EXAMPLES / 'seed_autograd.py'}:snippet")
    e = explain_module(m.model, m.example_inputs)
    x = m.example_inputs[0].detach().double()
    for i, j in np.ndindex(2, 2):
        g = e.gradients[f"x_{i}_{j}"]
        (xij,) = symbols(f"x_{i}_{j}")
        assert g["value"] == pytest.approx(1.5 * (float(x[i, j]) + 2), rel=1e-12)
        assert sympy.expand(g["formula"] - sympy.Rational(3, 2) * (xij + 2)) == 0
    assert e.graph.nodes["var1_0_1"]["label"] == "var1[0,1]"  # named after the source variables
    assert {"var2_1_1", "out"} <= set(e.graph)
    assert e.verification.ok is True and e.module_check.compared == 4


# --- networks ---------------------------------------------------------------------------------

ACTIVATIONS = [nn.Sigmoid, nn.Tanh, nn.ReLU, nn.ELU, nn.LeakyReLU, nn.Softplus]
LOSSES = {
    "mse": (nn.MSELoss, 2, lambda: torch.randn(3, 2)),
    "cross_entropy": (nn.CrossEntropyLoss, 3, lambda: torch.tensor([0, 2, 1])),
    "bce": (nn.BCEWithLogitsLoss, 1, lambda: torch.tensor([[1.0], [0.0], [1.0]])),
}


@pytest.mark.parametrize("loss_name", sorted(LOSSES))
@pytest.mark.parametrize("activation", ACTIVATIONS, ids=lambda a: a.__name__)
def test_mlp_equals_module_autograd(activation, loss_name):
    torch.manual_seed(1)
    loss_cls, outputs, make_target = LOSSES[loss_name]
    model = nn.Sequential(nn.Linear(2, 3), activation(), nn.Linear(3, outputs))
    x, target = torch.randn(3, 2), make_target()
    e = explain_module(model, (x,), loss=loss_cls(), target=target)
    assert e.verification.ok is True
    assert e.module_check.ok is True and e.module_check.compared == 9 + 4 * outputs
    assert_grads(e, torch_grads(model, (x,), loss_cls(), target))


@pytest.mark.parametrize("loss, target", [
    (nn.MSELoss(reduction="sum"), torch.randn(3, 2)),
    (nn.CrossEntropyLoss(), torch.softmax(torch.randn(3, 2), dim=1)),  # class probabilities
    (nn.CrossEntropyLoss(ignore_index=1), torch.tensor([0, 1, 0])),
    (nn.CrossEntropyLoss(reduction="sum"), torch.tensor([1, 0, 1])),
    (nn.BCEWithLogitsLoss(reduction="sum"), torch.tensor([[1.0, 0.0]] * 3)),
    (lambda o, y: ((o - y) ** 2).sum() / 4, torch.randn(3, 2)),  # any loss function is traced
], ids=["mse-sum", "ce-probabilities", "ce-ignore", "ce-sum", "bce-sum", "function"])
def test_loss_variants(loss, target):
    torch.manual_seed(2)
    model = nn.Linear(2, 2)
    e = explain_module(model, (torch.randn(3, 2),), loss=loss, target=target)
    assert e.verification.ok is True and e.module_check.ok is True
    assert e.module_check.compared == 6


class Affine(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(3, 2))
        self.b = nn.Parameter(torch.randn(2))

    def forward(self, x):
        h = torch.matmul(x, self.w) + self.b
        return (h.relu() - 0.5 * h).mean()


def f_matmul(x, w):
    return ((x @ w - 1) ** 2).mean()


def f_divide(a, b):
    return (a / b).sum() + torch.sum(a * b, dim=1).mean() - (2 ** a).sum() / 3


def f_reduce(x):
    return torch.tanh(x).sum(dim=0, keepdim=True).pow(2).sum() + x.exp().mean(dim=1).sum()


def f_shapes(x):
    return (x.t() @ x).view(-1).sqrt().sum() + (-x[0]).sum()


@pytest.mark.parametrize("fn, shapes", [
    (f_matmul, [(3, 2), (2, 1)]),
    (f_divide, [(2, 2), (2, 2)]),
    (f_reduce, [(2, 3)]),
    (f_shapes, [(2, 2)]),
    (Affine(), [(2, 3)]),
], ids=["matmul-pow", "div-sum-mean", "tanh-sum-dim", "t-view-getitem", "parameters"])
def test_functions_equal_autograd(fn, shapes):
    torch.manual_seed(3)
    inputs = tuple((torch.rand(s) + 0.5).requires_grad_() for s in shapes)
    e = explain_module(fn, inputs)
    assert e.verification.ok is True and e.module_check.ok is True
    model = copy.deepcopy(fn).double() if isinstance(fn, nn.Module) else fn
    doubles = [x.detach().double().requires_grad_() for x in inputs]
    params = dict(model.named_parameters()) if isinstance(fn, nn.Module) else {}
    grads = torch.autograd.grad(model(*doubles), doubles + list(params.values()))
    assert_grads(e, dict(zip(_arg_names(fn, len(inputs)) + list(params), grads)))


def _arg_names(fn, n):
    target = fn.forward if isinstance(fn, nn.Module) else fn
    return list(inspect.signature(target).parameters)[:n]


# --- errors -----------------------------------------------------------------------------------


class WithConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 1, 2), nn.ReLU())

    def forward(self, x):
        return self.features(x).sum()


class Block(nn.Module):
    def forward(self, x):
        return torch.sort(x)[0]


class WithSort(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()

    def forward(self, x):
        return self.block(x).sum()


@pytest.mark.parametrize("model, op, path", [
    (WithConv(), "Conv2d", "features.0"),
    (WithSort(), "torch.sort", "block"),
    (lambda x: x.cumsum(0).sum(), "Tensor.cumsum", "<lambda>"),
])
def test_unsupported_op_names_the_op_and_the_module_path(model, op, path):
    with pytest.raises(UnsupportedOpError) as info:
        explain_module(model, (torch.rand(1, 1, 3, 3),))
    message = str(info.value)
    assert f"unsupported op '{op}' at module path '{path}'" in message
    assert "\n" not in message


def test_unsupported_arguments_and_untraceable_code():
    with pytest.raises(UnsupportedOpError, match="label_smoothing"):
        explain_module(nn.Linear(2, 3), (torch.rand(2, 2),),
                       loss=nn.CrossEntropyLoss(label_smoothing=0.1), target=torch.tensor([0, 1]))

    def branchy(x):
        if x.sum() > 0:
            return x.sum()
        return -x.sum()

    with pytest.raises(UnsupportedOpError, match="torch.fx cannot trace branchy"):
        explain_module(branchy, (torch.rand(2),))


def test_limits_and_bad_inputs():
    with pytest.raises(LimitError, match="max_elements"):
        explain_module(nn.Linear(100, 100), (torch.rand(1, 100),))
    with pytest.raises(LimitError, match="max_elements"):
        explain_module(lambda x: (x @ x).sum(), (torch.rand(12, 12),), max_elements=200)
    with pytest.raises(GraphError, match="takes 2 inputs"):
        explain_module(f_matmul, (torch.rand(2, 2),))
    with pytest.raises(GraphError, match="needs a target"):
        explain_module(nn.Linear(1, 1), (torch.rand(2, 1),), loss=nn.MSELoss())


# --- vector outputs ---------------------------------------------------------------------------


def test_vector_output_needs_gradient():
    with pytest.raises(GraphError, match="gradient=v"):
        explain_module(lambda x: x * 2, (torch.rand(2, 2, requires_grad=True),))


def test_vector_output_is_the_vector_jacobian_product():
    torch.manual_seed(4)
    x, w = torch.randn(2, 3, requires_grad=True), torch.randn(3, 2, requires_grad=True)
    v = torch.randn(2, 2)

    def layer(x, w):
        return torch.tanh(x @ w)

    e = explain_module(layer, (x, w), gradient=v)
    x64, w64 = (t.detach().double().requires_grad_() for t in (x, w))
    gx, gw = torch.autograd.grad(layer(x64, w64), (x64, w64), v.double())
    assert_grads(e, {"x": gx, "w": gw})
    assert e.verification.ok is True and e.module_check.compared == 12
    assert e.jacobian is None  # 4 outputs × 12 inputs: too many to show
    doc = json.loads(e.to_json())
    assert doc["vector_output"]["v"] == pytest.approx(v.flatten().tolist())
    assert doc["verification"]["module"]["ok"] is True


def test_jacobian_matches_torch():
    torch.manual_seed(5)
    x = torch.randn(3, requires_grad=True)

    def f(x):
        return torch.sigmoid(x) * x.sum()

    e = explain_module(f, (x,), gradient=[1.0, 1.0, 1.0])
    expected = torch.autograd.functional.jacobian(f, x.detach().double())
    assert np.allclose(e.jacobian.values, expected.numpy(), rtol=1e-12, atol=1e-12)
    assert e.jacobian.leaves == ["x_0", "x_1", "x_2"]
    text = e.to_text()
    assert "Jacobian J[k, i] = ∂outₖ/∂xᵢ" in text and "vector-Jacobian product Jᵀv" in text
    assert "module autograd (the model itself, float64): agrees" in text


def test_module_graph_is_a_plain_graph():
    G = module_graph(lambda x: (x * 2).sum(), (torch.tensor([1.0, 2.0]),))
    assert sorted(G) == ["mul_0", "mul_1", "sum1", "x_0", "x_1"]
    assert G.graph["output"] == "sum1" and G.graph["point"] == {"x_0": 1.0, "x_1": 2.0}
    e = explain_graph(G, at=G.graph["point"])  # no gradient: x does not require grad
    assert e.evaluation.values["sum1"] == 6.0 and e.gradients == {}


def test_seed_gradient_descent_snippet_with_global_tensors():
    """The seed's hand-written regression: w and b are tensors that require grad, used by
    the function from outside; they become parameters named as in the code."""
    torch.manual_seed(6)
    x = torch.rand([4, 1])
    y_true = x * 3 + 0.8
    w = torch.rand([1, 1], requires_grad=True)
    b = torch.tensor(0.5, requires_grad=True)

    def loss_fn(x):
        y_predict = torch.matmul(x, w) + b
        return (y_true - y_predict).pow(2).mean()

    e = explain_module(loss_fn, (x,))
    residual = (x.double() * w.double().item() + 0.5 - y_true.double())
    assert e.gradients["w_0_0"]["value"] == pytest.approx(float(2 * (residual * x).mean()))
    assert e.gradients["b"]["value"] == pytest.approx(float(2 * residual.mean()))
    assert e.graph.nodes["y_true_0_0"]["kind"] == "const"
    assert e.graph.nodes["y_predict_3_0"]["label"] == "y_predict[3,0]"
    assert e.verification.ok is True and w.grad is None
    assert e.module_check.ok is True and e.module_check.compared == 2  # w and b, in float64


def test_model_that_computes_its_own_loss_and_shares_a_layer():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.Sequential(nn.Linear(2, 2), nn.Tanh())
            self.head = self.layers  # the same layer twice: its gradients add

        def forward(self, x, y):
            h = self.head(self.layers(x))
            return nn.functional.mse_loss(h, y)

    torch.manual_seed(7)
    net, x, y = Net(), torch.randn(3, 2), torch.randn(3, 2)
    e = explain_module(net, (x, y))
    assert e.verification.ok is True and e.module_check.ok is True
    assert e.module_check.compared == 6
    assert e.graph.nodes["layers_0_weight_0_1"]["label"] == "layers.0.weight[0,1]"
    assert e.graph.nodes["y_2_1"]["kind"] == "input"  # a data input: no grad
    assert set(e.gradients) == {n for n in e.graph if n.startswith("layers_0_")}


# --- the command line -------------------------------------------------------------------------


def cli_args(*argv):
    parser = argparse.ArgumentParser(prog="graphexplain")
    torch_cli.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["torch", *argv])


def test_cli_seed_linear_regression(capsys):
    m = load(LR)
    x, y = m.example_inputs[0].double(), m.target.double()
    w, b = m.model.linear.weight.double().item(), m.model.linear.bias.double().item()
    residual = w * x + b - y
    expected = {"linear.weight[0,0]": float((2 / 5) * (residual * x).sum()),
                "linear.bias[0]": float((2 / 5) * residual.sum())}
    assert torch_cli.run(cli_args(LR)) == 0
    out = capsys.readouterr().out
    gradients = out.split("Gradients (and the sum over paths)")[1].splitlines()
    for name, value in expected.items():
        # the sums over the samples, (2/N)·Σᵢ (w·xᵢ + b − yᵢ)·xᵢ and (2/N)·Σᵢ (w·xᵢ + b − yᵢ),
        # written in the leaves, with their value
        (line,) = [row for row in gradients if row.startswith(f"  ∂loss/∂{name} = ")]
        assert all(leaf in line for leaf in ("linear.weight[0,0]", "x[4,0]", "y[4,0]"))
        assert line.endswith(f"{abs(value):.6g}")
    assert out.count("Σ over the 5 paths") == 2 and out.count("5 paths") == 4
    assert "module autograd (the model itself, float64): agrees on 2 gradients" in out
    assert "torch.autograd (float64): agrees" in out


def test_cli_vector_output_and_formats(capsys, tmp_path):
    spec = f"{EXAMPLES / 'seed_vector_backward.py'}:double"
    assert torch_cli.run(cli_args(spec, "--gradient", "1,1,1,1", "--format", "json",
                                  "--render", str(tmp_path / "d.svg"))) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["vector_output"]["jacobian"]["values"][0] == [2.0, 0.0, 0.0, 0.0]
    assert all(g["value"] == 2.0 for g in doc["gradients"].values())  # Jᵀv = 2·v
    assert (tmp_path / "d.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    assert torch_cli.run(cli_args(spec, "--format", "markdown")) == 0
    assert "module autograd" in capsys.readouterr().out


@pytest.mark.parametrize("content, spec_name, fragment", [
    (None, "Lr", "no such file"),
    ("import torch\nexample_inputs = (torch.rand(2),)\n", "Net", "defines no 'Net'"),
    ("def f(x):\n    return x.sum()\n", "f", "defines no example_inputs"),
    ("raise ValueError('boom')\n", "f", "ValueError: boom"),
    ("import torch\nexample_inputs = (torch.rand(2),)\n", "", "expected FILE.py:NAME"),
])
def test_cli_file_errors(tmp_path, content, spec_name, fragment):
    path = tmp_path / "model.py"
    if content is not None:
        path.write_text(content)
    with pytest.raises(GraphExplainError, match=fragment) as info:
        torch_cli.run(cli_args(f"{path}:{spec_name}"))
    assert "\n" not in str(info.value)


def test_cli_bad_gradient(capsys):
    spec = f"{EXAMPLES / 'seed_vector_backward.py'}:double"
    with pytest.raises(GraphExplainError, match="not a number"):
        torch_cli.run(cli_args(spec, "--gradient", "1,x"))
    with pytest.raises(GraphExplainError, match="has 2 numbers"):
        torch_cli.run(cli_args(spec, "--gradient", "1,2"))


def test_loading_the_example_does_not_train():
    m = load(LR)
    fresh = load(LR)  # the same seed, so the same untrained parameters
    assert torch.equal(m.model.linear.weight, fresh.model.linear.weight)
    assert m.loss.__class__ is nn.MSELoss and m.target.shape == (5, 1)
