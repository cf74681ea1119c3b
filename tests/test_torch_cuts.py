"""torch.no_grad(), .detach() and friends cut the graph exactly where torch's autograd stops
(graphexplain.nn.torch.cuts): every gradient equals torch.autograd's at the example inputs."""

import json
from pathlib import Path

import numpy as np
import pytest
import sympy
import torch
from torch import nn

from graphexplain import GraphError
from graphexplain.api import symbols
from graphexplain.nn.torch import explain_module, load

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SEED = EXAMPLES / "seed_no_grad.py"


def torch_input_grads(fn, inputs, gradient=None):
    """∂out/∂input from torch.autograd itself, in float64, for the inputs that require grad."""
    xs = [x.detach().double().requires_grad_(x.requires_grad) for x in inputs]
    out = fn(*xs)
    wanted = [x for x in xs if x.requires_grad]
    v = None if gradient is None else torch.as_tensor(gradient, dtype=torch.float64)
    return torch.autograd.grad(out, wanted, v, allow_unused=True)


def assert_equal_to_torch(e, name: str, grad) -> None:
    """Every element's gradient equals torch's to 1e-12 (0 where torch has none)."""
    grad = torch.zeros(()) if grad is None else grad
    gradients = e.gradients  # a property that derives afresh: read it once
    for idx in np.ndindex(tuple(grad.shape)):
        node = f"{name}_{'_'.join(map(str, idx))}" if idx else name
        ours = gradients[node]["value"] if node in gradients else 0.0
        assert ours == pytest.approx(float(grad[idx]), rel=1e-12, abs=1e-12), (node, idx)


# --- the seed's snippet -----------------------------------------------------------------------


def test_seed_snippet_under_no_grad_is_torchs_gradient():
    m = load(f"{SEED}:snippet")
    e = explain_module(m.model, m.example_inputs)
    x = m.example_inputs[0].detach()
    (gx,) = torch_input_grads(m.model, m.example_inputs)
    assert_equal_to_torch(e, "x", gx)
    assert gx[0, 0].item() == pytest.approx(5.3115, abs=1e-4)  # the number
    gradients = e.gradients
    for i, j in np.ndindex(2, 2):  # ∂out/∂x = 1.5·(x + 2): nothing through c
        (xij,) = symbols(f"x_{i}_{j}")
        g = gradients[f"x_{i}_{j}"]
        assert g["value"] == pytest.approx(1.5 * (float(x[i, j]) + 2), rel=1e-12)
        assert sympy.expand(g["formula"] - sympy.Rational(3, 2) * (xij + 2)) == 0
        assert g["path_count"] == 1
    assert e.verification.ok is True
    assert e.module_check.ok is True and e.module_check.compared == 4


def test_seed_snippet_without_no_grad_has_the_gradient_through_c():
    m = load(f"{SEED}:tracked")
    e = explain_module(m.model, m.example_inputs)
    (gx,) = torch_input_grads(m.model, m.example_inputs)
    assert_equal_to_torch(e, "x", gx)
    assert e.gradients["x_0_0"]["value"] == pytest.approx(7.81149, abs=1e-5)  # + 10/4
    assert e.gradients["x_0_0"]["path_count"] == 2 and e.cuts == []
    assert e.verification.ok is True and e.module_check.ok is True


def test_seed_snippet_with_detach_equals_no_grad():
    no_grad, detached = (load(f"{SEED}:{name}") for name in ("snippet", "detached"))
    a = explain_module(no_grad.model, no_grad.example_inputs)
    b = explain_module(detached.model, detached.example_inputs)
    (gx,) = torch_input_grads(detached.model, detached.example_inputs)
    assert_equal_to_torch(b, "x", gx)
    assert {n: g["value"] for n, g in a.gradients.items()} == \
        {n: g["value"] for n, g in b.gradients.items()}
    assert b.cuts[0]["why"] == "detach" and b.verification.ok is True


def test_the_cut_is_recorded_as_data():
    m = load(f"{SEED}:snippet")
    e = explain_module(m.model, m.example_inputs)
    x = m.example_inputs[0].detach().double()
    (cut,) = e.graph.graph["cuts"]
    assert cut["name"] == "c" and cut["why"] == "no_grad" and cut["shape"] == [2, 2]
    assert cut["reason"] == "computed under torch.no_grad()"
    assert cut["code"] == "c = var1 * 10" and isinstance(cut["line"], int)
    assert cut["nodes"] == ["c_0_0", "c_0_1", "c_1_0", "c_1_1"]
    assert cut["labels"] == ["c[0,0]", "c[0,1]", "c[1,0]", "c[1,1]"]
    assert cut["depends_on"] == ["x_0_0", "x_0_1", "x_1_0", "x_1_1"]
    for (i, j), node in zip(np.ndindex(2, 2), cut["nodes"]):
        data = e.graph.nodes[node]
        assert data["kind"] == "const" and data["requires_grad"] is False
        assert data["cut"] == "no_grad" and e.graph.in_degree(node) == 0
        assert data["value"] == pytest.approx(10 * (float(x[i, j]) + 2), rel=1e-15)
        assert e.evaluation.values[node] == data["value"]
        assert node not in e.gradients and node not in e.graph.graph["point"]
    assert not any(n.startswith("c_no_grad") for n in e.graph)  # the block's own nodes: gone
    json.dumps(e.graph.graph["cuts"])  # JSON-ready


def test_the_report_says_where_and_why():
    m = load(f"{SEED}:snippet")
    e = explain_module(m.model, m.example_inputs)
    text = e.to_text()
    assert ("the graph was cut at c = var1·10 (line " in text and
            "computed under torch.no_grad(): no gradient flows through it); c (2×2) is a "
            "constant here" in text)
    assert "c[0,0]: const" in text
    assert "module autograd (the model itself, float64): agrees on 4 gradients" in text
    doc = json.loads(e.to_json())
    assert doc["model"]["cuts"][0]["labels"][0] == "c[0,0]"
    assert "the graph was cut at c = var1·10" in e.report("markdown")


# --- every way torch stops recording ----------------------------------------------------------


def f_multiplied(x):
    """The cut value multiplies: ∂out/∂x = c/N, which needs c's value, not its gradient."""
    var1 = x + 2
    with torch.no_grad():
        c = var1 * var1
    return (var1 * c).mean()


def f_set_grad_enabled(x):
    torch.set_grad_enabled(False)
    c = x.exp()
    torch.set_grad_enabled(True)
    return (x * c).sum()


def f_nested(x):
    with torch.no_grad():
        c = x * 3
        with torch.enable_grad():
            d = x * 5  # recorded again: d carries a gradient
    return (x * c + d).sum()


def f_inference_mode(x):
    with torch.inference_mode():
        c = x * 2
    return (x * x + c).sum()


def f_detach_in_place(x):
    var1 = x + 2
    y = var1 * 3  # before detach_: a gradient flows through var1 here
    var1.detach_()
    return (var1 * y).sum()  # after: var1 is a constant


def f_data(x):
    return (x * x.data).sum()


def f_function_detach(x):
    return (x * torch.detach(x * 3)).sum()


def f_requires_grad_off(x, w):
    w.requires_grad_(False)
    return (x * w).sum()


def f_detach_in_an_expression(x):
    return (x.sigmoid() * (x * x).detach()).sum() / 2


@pytest.mark.parametrize("fn, shapes, why", [
    (f_multiplied, [(2, 2)], "no_grad"),
    (f_set_grad_enabled, [(3,)], "no_grad"),
    (f_nested, [(2,)], "no_grad"),
    (f_inference_mode, [(2,)], "inference_mode"),
    (f_detach_in_place, [(2,)], "detach"),
    (f_data, [(3,)], "data"),
    (f_function_detach, [(2,)], "detach"),
    (f_requires_grad_off, [(2,), (2,)], "requires_grad_"),
    (f_detach_in_an_expression, [(2, 2)], "detach"),
])
def test_cuts_equal_torch_autograd(fn, shapes, why):
    torch.manual_seed(8)
    inputs = tuple(torch.randn(s, requires_grad=True) for s in shapes)
    e = explain_module(fn, inputs)
    grads = torch_input_grads(fn, inputs)
    for name, g in zip(["x", "w"], grads):
        assert_equal_to_torch(e, name, g)
    assert [c["why"] for c in e.cuts] == [why]
    assert e.verification.ok is True and e.module_check.ok is True


def test_requires_grad_off_leaves_no_gradient_for_that_input():
    torch.manual_seed(9)
    x, w = torch.randn(2, requires_grad=True), torch.randn(2, requires_grad=True)
    e = explain_module(f_requires_grad_off, (x, w))
    assert set(e.gradients) == {"x_0", "x_1"}
    assert e.cuts[0]["labels"] == ["w_detached[0]", "w_detached[1]"]
    assert w.requires_grad  # the caller's tensor is untouched


class Gated(nn.Module):
    """A layer evaluated under no_grad scales the output: its parameters get gradient only
    through the tracked use."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(2, 2), nn.Linear(2, 1)

    def forward(self, x):
        h = torch.tanh(self.a(x))
        with torch.no_grad():
            scale = self.b(h) * 2
        return (self.b(h) * scale).mean()


def test_module_with_a_no_grad_block_equals_its_autograd():
    torch.manual_seed(10)
    model, x = Gated(), torch.randn(3, 2)
    e = explain_module(model, (x,))
    double = Gated()
    double.load_state_dict(model.state_dict())
    double = double.double()
    double(x.double()).backward()
    gradients = e.gradients
    for name, p in double.named_parameters():
        for idx in np.ndindex(tuple(p.shape)):
            node = f"{name.replace('.', '_')}_{'_'.join(map(str, idx))}"
            assert gradients[node]["value"] == pytest.approx(float(p.grad[idx]), rel=1e-12,
                                                               abs=1e-12)
    assert e.cuts[0]["name"] == "scale" and len(e.cuts[0]["nodes"]) == 3
    assert "b_weight_0_0" in e.cuts[0]["depends_on"]
    assert e.module_check.ok is True and e.module_check.compared == 9


def test_detach_in_a_loss_function():
    torch.manual_seed(11)

    def weighted(o, y):
        return ((o - y) ** 2 * o.detach()).mean()

    model, x, y = nn.Linear(2, 1), torch.randn(3, 2), torch.randn(3, 1)
    e = explain_module(model, (x,), loss=weighted, target=y)
    double = nn.Linear(2, 1).double()
    double.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    weighted(double(x.double()), y.double()).backward()
    assert e.gradients["weight_0_1"]["value"] == pytest.approx(
        double.weight.grad[0, 1].item(), rel=1e-12)
    assert e.gradients["bias_0"]["value"] == pytest.approx(double.bias.grad[0].item(), rel=1e-12)
    assert e.cuts[0]["name"] == "o_detached" and e.module_check.ok is True


def test_vector_output_with_a_detached_factor():
    torch.manual_seed(12)
    x, v = torch.randn(3, requires_grad=True), [1.0, -2.0, 0.5]

    def f(x):
        return x * x.detach()

    e = explain_module(f, (x,), gradient=v)
    (gx,) = torch_input_grads(f, (x,), gradient=v)
    assert_equal_to_torch(e, "x", gx)
    expected = torch.autograd.functional.jacobian(lambda t: t * t.detach(), x.detach().double())
    assert np.allclose(e.jacobian.values, expected.numpy(), rtol=1e-12, atol=1e-12)


def test_a_cut_of_what_needs_no_grad_changes_nothing():
    x = torch.tensor([1.0, 2.0])  # no grad: detaching it is a no-op

    def f(x, w):
        return (x.detach() * w).sum()

    e = explain_module(f, (x, torch.tensor([3.0, 4.0], requires_grad=True)))
    assert e.cuts == [] and e.gradients["w_0"]["value"] == 1.0


# --- nothing left to explain ------------------------------------------------------------------


def all_under_no_grad(x):
    with torch.no_grad():
        out = (x * 2).sum()
    return out


@torch.no_grad()
def decorated(x):
    return (x * 2).sum()


def all_detached(x):
    return (x * 2).detach()


@pytest.mark.parametrize("fn, kwargs, fragment", [
    (all_under_no_grad, {}, "the output 'out' is computed under torch.no_grad()"),
    (decorated, {}, "computed under torch.no_grad()"),
    (all_detached, {"gradient": [1.0, 1.0]}, "nothing the output depends on requires grad"),
])
def test_an_output_with_no_gradient_is_an_error_as_in_torch(fn, kwargs, fragment):
    with pytest.raises(GraphError, match=fragment) as info:
        explain_module(fn, (torch.randn(2, requires_grad=True),), **kwargs)
    assert "\n" not in str(info.value)
    with pytest.raises(RuntimeError, match="does not require grad"):  # torch agrees
        out = fn(torch.randn(2, requires_grad=True))
        out.backward(torch.ones_like(out) if out.dim() else None)


def test_inference_tensor_that_backward_needs_is_torchs_error():
    def f(x):
        with torch.inference_mode():
            c = x * 2
        return (x * c).sum()  # saving c for backward: torch refuses

    with pytest.raises(GraphError, match="Inference tensors cannot be saved for backward"):
        explain_module(f, (torch.randn(2, requires_grad=True),))


def test_requires_grad_off_on_a_computed_tensor_is_refused_as_torch_does():
    def f(x):
        y = x * 2
        y.requires_grad_(False)
        return y.sum()

    with pytest.raises(GraphError, match="use y = y.detach"):
        explain_module(f, (torch.randn(2, requires_grad=True),))
    with pytest.raises(RuntimeError, match="leaf variables"):
        f(torch.randn(2, requires_grad=True))


def test_explaining_under_no_grad_still_works():
    """A caller inside torch.no_grad() does not cut the model: trace and check enable grad."""
    m = load(f"{SEED}:tracked")
    with torch.no_grad():
        e = explain_module(m.model, m.example_inputs)
    assert e.cuts == [] and e.module_check.ok is True
    assert e.gradients["x_0_0"]["value"] == pytest.approx(7.81149, abs=1e-5)


def test_random_draw_under_no_grad_is_the_traced_constant():
    """The seed's pattern: a tensor drawn under no_grad is a constant of the trace; the
    model's own check must draw the same numbers (and the caller's random state stays)."""
    import graphexplain

    def nograd(inp):
        with torch.no_grad():
            t = torch.randn(2, 2)
        var1 = inp + 2 + t
        return (var1 * var1 * 3).mean()

    x = torch.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=torch.float64, requires_grad=True)
    torch.manual_seed(7)
    state = torch.get_rng_state()
    e = graphexplain.explain_module(nograd, (x,))
    assert e.module_check.ok is True and e.module_check.max_abs_error == 0
    torch.set_rng_state(state)
    t = torch.randn(2, 2)
    expected = 1.5 * (x.detach() + 2 + t)  # ∂/∂x of mean(3·(x + 2 + t)²)
    for (i, j), value in np.ndenumerate(expected.numpy()):
        assert e.gradients[f"inp_{i}_{j}"]["value"] == pytest.approx(value, rel=1e-12)
