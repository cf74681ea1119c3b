"""The MLP builder: the seed's network and formula, the layer form, and torch agreement on
networks rebuilt from the JSON leaves with nn.Linear."""

import itertools
import json

import pytest
import sympy
import torch
from torch import nn

from graphexplain.api import explain_mlp
from graphexplain.cli import main
from graphexplain.derive import factored_path_sum
from graphexplain.errors import GraphExplainError
from graphexplain.nn.layers import layer_form, symbolic_weight_gradient
from graphexplain.nn.mlp import ACTIVATIONS, MLPSpec, build_mlp, draw_values
from graphexplain.report import display_local

TORCH_ACT = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
             "elu": nn.functional.elu, "leaky_relu": nn.functional.leaky_relu,
             "softplus": nn.functional.softplus, "identity": lambda t: t}


def rebuild_and_backprop(doc: dict, spec: MLPSpec):
    """The same network in torch, from nothing but the JSON leaves."""
    values = {leaf["name"]: leaf["value"] for leaf in doc["leaves"]}
    linears = []
    for n, (fan_in, fan_out) in enumerate(itertools.pairwise(spec.layers), start=1):
        lin = nn.Linear(fan_in, fan_out, bias=spec.bias).double()
        with torch.no_grad():
            for i, j in itertools.product(range(1, fan_in + 1), range(1, fan_out + 1)):
                lin.weight[j - 1, i - 1] = values[f"w{n}_{i}_{j}"]
            if spec.bias:
                for j in range(1, fan_out + 1):
                    lin.bias[j - 1] = values[f"b{n}_{j}"]
        linears.append(lin)
    x = torch.tensor([values[f"x{i}"] for i in range(1, spec.layers[0] + 1)], dtype=torch.float64)
    y = torch.tensor([values[f"y{k}"] for k in range(1, spec.layers[-1] + 1)],
                     dtype=torch.float64)
    a = x
    for k, lin in enumerate(linears):
        last = k == len(linears) - 1
        a = TORCH_ACT[spec.output_activation if last else spec.activation](lin(a))
    if spec.loss == "mse":
        loss = nn.MSELoss()(a, y)
    elif spec.loss == "ce":
        loss = nn.CrossEntropyLoss()(a.unsqueeze(0), y.unsqueeze(0))  # y as probabilities
    else:
        loss = nn.BCEWithLogitsLoss()(a, y)
    loss.backward()
    grads = {}
    for n, lin in enumerate(linears, start=1):
        for j, i in itertools.product(range(lin.out_features), range(lin.in_features)):
            grads[f"w{n}_{i + 1}_{j + 1}"] = float(lin.weight.grad[j, i])
        if spec.bias:
            for j in range(lin.out_features):
                grads[f"b{n}_{j + 1}"] = float(lin.bias.grad[j])
    return float(loss.detach()), grads


SHAPES = [(2, 2, 2, 1), (3, 4, 2), (4, 5, 5, 3)]
CASES = [(shape, act, loss, b) for shape in SHAPES for act in ACTIVATIONS
         for loss in ("mse", "ce", "bce") for b in (True, False)]


@pytest.mark.parametrize("shape, activation, loss, bias", CASES)
def test_json_gradients_equal_torch_on_the_rebuilt_network(shape, activation, loss, bias):
    spec = MLPSpec(shape, activation, loss=loss, bias=bias, seed=hash((shape, activation)) % 97)
    expl = explain_mlp(spec, verify=False)
    doc = json.loads(expl.to_json())
    ref_loss, ref_grads = rebuild_and_backprop(doc, spec)
    loss_node = next(n for n in doc["nodes"] if n["name"] == doc["output"])
    assert loss_node["value"] == pytest.approx(ref_loss, rel=1e-12, abs=1e-14)
    assert set(doc["gradients"]) == set(ref_grads)
    for name, g in doc["gradients"].items():
        assert g["value"] == pytest.approx(ref_grads[name], rel=1e-9, abs=1e-12), name


def test_every_output_activation_with_every_loss_is_verified():
    for act, loss in itertools.product(ACTIVATIONS, ("mse", "ce", "bce")):
        e = explain_mlp(MLPSpec((2, 3, 2), "tanh", output_activation=act, loss=loss))
        assert e.verification.ok is True, (act, loss)


def test_the_seeds_formula_with_its_two_paths(capsys):
    code = main(["mlp", "--layers", "2,2,2,1", "--no-bias", "--wrt", "w1[1,2]"])
    out = capsys.readouterr().out
    assert code == 0
    assert ("∂loss/∂w1[1,2] = x1·A′(f2)·(w2[2,1]·A′(g1)·w3[1,1] + "
            "w2[2,2]·A′(g2)·w3[2,1])·∂loss/∂out") in out
    assert "2 paths" in out
    assert out.count("w1[1,2] → f2 → A(f2) → g") == 2
    assert "x1 · A′(f2) · w2[2,1] · A′(g1) · w3[1,1] · ∂loss/∂out" in out
    assert "torch.autograd (float64): agrees" in out


def test_path_values_multiply_and_sum_to_the_gradient():
    e = explain_mlp(MLPSpec((2, 2, 2, 1), bias=False))
    ev, d = e.evaluation, e.derivation
    terms = [sympy.prod([ev.locals[u, v] for u, v in itertools.pairwise(p)])
             for p in d.paths["w1_1_2"]]
    assert len(terms) == 2
    assert float(sum(terms)) == pytest.approx(ev.adjoints["w1_1_2"], rel=1e-12)


def test_seed_names_and_structure():
    G = build_mlp(MLPSpec((2, 2, 2, 1), bias=False))
    assert set(G.predecessors("f2")) == {"w1_1_2", "x1", "w1_2_2", "x2"}
    assert G.edges["w1_1_2", "f2"]["local"] == sympy.Symbol("x1", real=True)
    assert G.nodes["w1_1_2"]["label"] == "w1[1,2]" and G.nodes["A_f2"]["label"] == "A(f2)"
    assert {n for n in G if G.nodes[n].get("role") == "pre"} == {"f1", "f2", "g1", "g2", "out"}
    assert G.nodes["x1"]["requires_grad"] is False and G.nodes["y1"]["kind"] == "const"
    assert all(isinstance(n, str) and n.isidentifier() for n in G)  # ids are identifiers


@pytest.mark.parametrize("shape, activation, output_activation", [
    ((2, 2, 2, 1), "tanh", "identity"), ((3, 2, 3, 2), "tanh", "identity"),
    ((2, 3, 2), "identity", "sigmoid"), ((2, 2, 2, 2), "relu", "tanh")])
def test_matrix_entry_equals_the_scalar_path_sum(shape, activation, output_activation):
    """Entry [j,i] of δ⁽ⁿ⁾a⁽ⁿ⁻¹⁾ᵀ = the factored path sum for w_n[i,j], symbolically (with A′
    generic, and none for a linear layer) and numerically (with the graph's adjoints)."""
    e = explain_mlp(MLPSpec(shape, activation, output_activation, bias=True), verify=False)
    G = e.graph
    layers = layer_form(G, e.evaluation)
    local = display_local(G)
    for n, (fan_in, fan_out) in enumerate(itertools.pairwise(shape), start=1):
        for i, j in itertools.product(range(1, fan_in + 1), range(1, fan_out + 1)):
            w = f"w{n}_{i}_{j}"
            paths = factored_path_sum(G, w, "loss", local)
            matrix = symbolic_weight_gradient(G, n, i, j)
            assert sympy.expand(paths.doit() - matrix) == 0, w
            assert float(layers[n - 1].dW[j - 1, i - 1]) == pytest.approx(
                e.evaluation.adjoints[w], rel=1e-12, abs=1e-15)


def test_layer_deltas_equal_the_graph_adjoints():
    e = explain_mlp(MLPSpec((3, 4, 2, 2), "sigmoid", loss="ce"), verify=False)
    layers = layer_form(e.graph, e.evaluation)
    names = {1: ["f1", "f2", "f3", "f4"], 2: ["g1", "g2"], 3: ["out1", "out2"]}  # z⁽ⁿ⁾
    assert [ly.n for ly in layers] == [1, 2, 3]
    for ly in layers:
        expected = [e.evaluation.adjoints[z] for z in names[ly.n]]
        assert [float(v) for v in ly.delta_out] == pytest.approx(expected, rel=1e-12)


def test_given_sample_and_one_hot_target():
    spec = MLPSpec((2, 3, 3), loss="ce", x=(0.5, -1.0), target=2)
    values = draw_values(spec)
    assert (values["x1"], values["x2"]) == (0.5, -1.0)
    assert [values[f"y{k}"] for k in (1, 2, 3)] == [0.0, 1.0, 0.0]
    e = explain_mlp(spec)
    assert e.verification.ok is True
    assert [leaf["name"] for leaf in e.to_dict()["leaves"] if not leaf["requires_grad"]] == \
        ["x1", "x2", "y1", "y2", "y3"]


@pytest.mark.parametrize("kwargs, fragment", [
    ({"layers": (2,)}, "at least two"),
    ({"layers": (2, 2), "activation": "swish"}, "swish"),
    ({"layers": (2, 2), "loss": "hinge"}, "hinge"),
    ({"layers": (2, 2), "x": (1.0,)}, "--x has 1"),
    ({"layers": (2, 2), "target": 1}, "--target"),
    ({"layers": (2, 2), "loss": "ce", "target": 3}, "classes are 1"),
])
def test_spec_errors(kwargs, fragment):
    with pytest.raises(GraphExplainError, match=fragment):
        MLPSpec(**kwargs).check()


def test_cli_mlp_errors_and_json(capsys):
    assert main(["mlp", "--layers", "2,x"]) == 2
    assert "error: --layers" in capsys.readouterr().err
    assert main(["mlp", "--wrt", "w9[1,1]"]) == 2
    assert "w9[1,1]: no such name; did you mean w3[1,1]" in capsys.readouterr().err
    assert main(["mlp", "--layers", "2,3,1", "--format", "json", "--seed", "3"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["output"] == "loss" and len(doc["gradients"]) == 2 * 3 + 3 + 3 + 1
