"""graphexplain.testing: hand-written gradients, backward passes, autograd Functions and
training steps checked against the derivation, with messages that explain a failure."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from graphexplain.api import explain_mlp
from graphexplain.nn.mlp import MLPSpec
from graphexplain.testing import (
    GradientMismatch,
    assert_gradients,
    check_autograd_function,
    check_backward,
    check_sgd,
)

ROOT = Path(__file__).parent.parent
SEED_NET = MLPSpec((2, 2, 2, 1), bias=False)
J = "J(a,b,c) = 3(a+bc)"
AT = {"a": 1, "b": 2, "c": 3}


def test_assert_gradients_program():
    assert_gradients(J, {"a": 3, "b": 9, "c": 6}, at=AT)
    with pytest.raises(GradientMismatch) as e:
        assert_gradients(J, {"a": 3, "b": -9, "c": 6}, at=AT)
    message = str(e.value)
    assert "1 of 3 gradients of J disagree" in message
    assert "∂J/∂b: got −9, expected 9 = 3·c" in message and "a sign flip" in message
    assert [w.node for w in e.value.wrong] == ["b"]


def test_assert_gradients_a_relative_1e_6_error_is_caught():
    with pytest.raises(GradientMismatch):
        assert_gradients(J, {"b": 9 * (1 + 1e-5)}, at=AT)
    assert_gradients(J, {"b": 9 * (1 + 1e-9)}, at=AT)


@pytest.fixture(scope="module")
def seed_grads():
    e = explain_mlp(SEED_NET, verify=False)
    g = {n: v["value"] for n, v in e.gradients.items()}
    W1 = np.array([[g["w1_1_1"], g["w1_2_1"]], [g["w1_1_2"], g["w1_2_2"]]])  # (out, in)
    return g, W1


def test_assert_gradients_mlp_arrays_in_both_layouts(seed_grads):
    _g, W1 = seed_grads
    assert_gradients(SEED_NET, {"w1": W1})
    assert_gradients(SEED_NET, {"w1": W1.T}, layout="seed")
    with pytest.raises(GradientMismatch) as e:
        assert_gradients(SEED_NET, {"w1": W1.T})  # the seed's layout given as torch's
    assert "a transposed index" in str(e.value)
    assert {w.node for w in e.value.wrong} == {"w1_1_2", "w1_2_1"}


def test_assert_gradients_mlp_by_label(seed_grads):
    g, _ = seed_grads
    assert_gradients(SEED_NET, {"w1[1,2]": g["w1_1_2"], "w3[2,1]": g["w3_2_1"]})


def test_assert_gradients_torch_module_by_parameter_name():
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1).double()
    x = torch.tensor([[1.0, 2.0], [0.5, -1.0]], dtype=torch.float64)
    y = torch.tensor([[1.0], [0.0]], dtype=torch.float64)
    loss = torch.nn.MSELoss()
    model.zero_grad()
    loss(model(x), y).backward()
    right = {"weight": model.weight.grad.clone(), "bias": model.bias.grad.clone()}
    assert_gradients(model, right, inputs=(x,), loss=loss, loss_target=y)
    assert_gradients(model, {"weight[0,1]": float(right["weight"][0, 1])}, inputs=(x,),
                     loss=loss, loss_target=y)
    with pytest.raises(GradientMismatch) as e:
        assert_gradients(model, {"weight": 2 * right["weight"]}, inputs=(x,), loss=loss,
                         loss_target=y)
    assert "a constant factor" in str(e.value) and "weight[0,0]" in str(e.value)


def test_check_backward_program():
    check_backward(lambda v: {"a": 3, "b": 3 * v["c"], "c": 3 * v["b"]}, J, at=AT)
    with pytest.raises(GradientMismatch) as e:
        check_backward(lambda v: {"a": 3, "b": 3 * v["c"], "c": 3 * v["a"]}, J, at=AT)
    assert "∂J/∂c" in str(e.value) and "∂J/∂b" not in str(e.value)


def test_check_backward_torch_tensors():
    def backward(params, x, y):  # the seed's network by hand, in torch
        W1, W2, W3 = params["w1"], params["w2"], params["w3"]
        a1 = torch.sigmoid(W1 @ x)
        a2 = torch.sigmoid(W2 @ a1)
        d3 = 2 * (W3 @ a2 - y)
        d2 = (W3.T @ d3) * a2 * (1 - a2)
        d1 = (W2.T @ d2) * a1 * (1 - a1)
        return {"w1": torch.outer(d1, x), "w2": torch.outer(d2, a1), "w3": torch.outer(d3, a2)}

    check_backward(backward, SEED_NET, tensors=True)
    with pytest.raises(GradientMismatch, match="a sign flip"):
        check_backward(lambda p, x, y: {k: -v for k, v in backward(p, x, y).items()},
                       SEED_NET, tensors=True)


def test_check_backward_reports_a_missing_gradient():
    with pytest.raises(GradientMismatch, match="returned no gradient for c"):
        check_backward(lambda v: {"a": 3, "b": 3 * v["c"]}, J, at=AT)


def test_the_example_pytest_file_passes_and_its_plugin_draws_a_failure(tmp_path):
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          str(ROOT / "examples" / "test_my_backprop.py")],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    failing = tmp_path / "test_wrong.py"
    failing.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT / 'examples')!r})\n"
        "from test_my_backprop import SEED_NET, backprop_one_path\n"
        "import pytest\n"
        "from graphexplain.testing import GradientMismatch, check_backward\n"
        "def test_wrong():\n"
        "    check_backward(backprop_one_path, SEED_NET)\n"
        "def test_expected_to_fail():\n"
        "    with pytest.raises(GradientMismatch):\n"
        "        check_backward(backprop_one_path, SEED_NET)\n")
    art = tmp_path / "art"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          str(failing), "--graphexplain-artifacts", str(art)],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 1
    assert "GradientMismatch" in run.stdout and "a missing path" in run.stdout
    assert "1 failed, 1 passed" in run.stdout
    # one folder per failing test; the test that passed (pytest.raises) keeps nothing
    assert [p.name for p in art.iterdir()] == ["test_wrong.py__test_wrong"]
    drawn = sorted(p.name for p in (art / "test_wrong.py__test_wrong").glob("*.svg"))
    assert "loss_dw1_1_2_.svg" in drawn and len(drawn) == 4
    assert "<svg" in (art / "test_wrong.py__test_wrong" / "loss_dw1_1_2_.svg").read_text()
    assert "testing.py" not in run.stdout.split("test_wrong")[1].split("GradientMismatch")[0]


# --- a custom autograd.Function -----------------------------------------------------------------


class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return w * x ** 3

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        return 3 * w * x ** 2 * g, x ** 3 * g


class CubeWrong(Cube):
    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        return w * x ** 2 * g, x ** 3 * g  # the 3 of 3x² lost


def test_autograd_function_right_and_wrong():
    x = torch.tensor([1.5, -0.5], requires_grad=True)
    w = torch.tensor([2.0, 3.0], requires_grad=True)
    assert check_autograd_function(Cube, x, w)
    with pytest.raises(GradientMismatch) as e:
        check_autograd_function(CubeWrong, x, w)
    message = str(e.value)
    assert "CubeWrong.backward disagrees" in message
    assert "∂vjp/∂x[0]" in message and "1/3 × the gradient" in message
    assert "∂vjp/∂w[0]" not in message


# --- training loops -----------------------------------------------------------------------------


def seed_loop(as_written: bool, lr=0.01):
    """The seed's loop on y = 3x + 0.8, float32 as in the seed; ``as_written`` zeroes
    w.data and b.data (the slip) where it meant w.grad and b.grad."""
    torch.manual_seed(0)
    x = torch.rand([50, 1])
    y_true = x * 3 + 0.8
    w = torch.rand([1, 1], requires_grad=True)
    b = torch.tensor(0, dtype=torch.float32, requires_grad=True)

    def step():
        y_predict = torch.matmul(x, w) + b
        loss = (y_true - y_predict).pow(2).mean()
        if w.grad is not None:
            (w.data if as_written else w.grad).zero_()
        if b.grad is not None:
            (b.data if as_written else b.grad).zero_()
        loss.backward()
        w.data = w.data - lr * w.grad
        b.data = b.data - lr * b.grad

    return step, {"w": w, "b": b}, lambda w, b: (y_true - (torch.matmul(x, w) + b)).pow(2).mean()


def test_check_sgd_the_fixed_seed_loop_passes():
    step, params, loss = seed_loop(False)
    record = check_sgd(step, params, loss, lr=0.01, steps=5)
    assert len(record.before) == 5
    assert record.after[-1]["w"] != pytest.approx(record.before[0]["w"])


def test_check_sgd_the_seed_loop_as_written_is_caught_with_the_accumulation_named():
    step, params, loss = seed_loop(True)
    with pytest.raises(GradientMismatch) as e:
        check_sgd(step, params, loss, lr=0.01, steps=5)
    message = str(e.value)
    assert message.startswith("step 2: w became")
    assert "gradients accumulated over the steps" in message
    assert "w.data.zero_() zeroes the weight" in message


def test_check_sgd_accumulation_without_zeroing_anything():
    _step, params, loss = seed_loop(False)
    w, b = params["w"], params["b"]

    def no_zeroing():
        loss(w, b).backward()  # .grad never zeroed, weights untouched: plain accumulation
        w.data = w.data - 0.01 * w.grad
        b.data = b.data - 0.01 * b.grad

    with pytest.raises(GradientMismatch) as e:
        check_sgd(no_zeroing, params, loss, lr=0.01, steps=4)
    assert "gradients accumulated" in str(e.value)
    assert "zeroes the weight" not in str(e.value)


@pytest.mark.parametrize("update, says", [
    (lambda p, g: p + 0.01 * g, "gradient ascent"),
    (lambda p, g: p - 0.1 * g, "the loop's learning rate is 0.1, not lr = 0.01"),
])
def test_check_sgd_ascent_and_another_learning_rate(update, says):
    _, params, loss = seed_loop(False)
    w, b = params["w"], params["b"]

    def step():
        for p in (w, b):
            p.grad = None
        loss(w, b).backward()
        w.data = update(w.data, w.grad)
        b.data = update(b.data, b.grad)

    with pytest.raises(GradientMismatch, match=says):
        check_sgd(step, params, loss, lr=0.01, steps=3)


def test_check_sgd_module_and_optimizer():
    torch.manual_seed(1)
    x = torch.rand([20, 1], dtype=torch.float64)
    y = 3 * x + 0.8
    model = torch.nn.Linear(1, 1).double()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    mse = torch.nn.MSELoss()

    def step():
        opt.zero_grad()
        mse(model(x), y).backward()
        opt.step()

    def loss(weight, bias):  # functional: fx traces a function, not a module called in it
        return ((x @ weight.T + bias - y) ** 2).mean()

    check_sgd(step, {"weight": model.weight, "bias": model.bias}, loss, lr=0.1)
    with pytest.raises(GradientMismatch, match="step 1: weight became"):
        check_sgd(step, {"weight": model.weight, "bias": model.bias}, loss, lr=0.05)
