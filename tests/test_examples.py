"""The course's parts as example scripts (examples/part*.py): each runs, writes real PNG and
HTML files, and reproduces the seed's numbers, checked here once more against torch."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from graphexplain.walkthrough import EXAMPLES, PARTS, load_part

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def parts():
    return {name: load_part(name) for name in PARTS}


def test_every_part_of_the_seed_has_a_script():
    assert sorted(p.stem for p in EXAMPLES.glob("part*.py")) == sorted(PARTS)
    assert len(PARTS) == 9


@pytest.mark.parametrize("name", PARTS)
def test_main_writes_its_pictures_and_pages(parts, name, tmp_path, capsys):
    files = [Path(f) for f in parts[name].main(tmp_path)]
    text = capsys.readouterr().out
    assert files and any(f.suffix == ".png" for f in files)
    for f in files:
        assert f.is_file() and f.parent == tmp_path and f.stat().st_size > 0
        data = f.read_bytes()
        if f.suffix == ".png":
            assert data.startswith(PNG), f
        else:
            assert f.suffix == ".html" and data.lstrip().lower().startswith(b"<!doctype html"), f
    assert "Verdict:" in text
    # the reader sees mathematics, not Python
    assert "**" not in text and "Piecewise" not in text and "Heaviside" not in text


def test_part1_layer_matches_sigma_of_Wa_plus_b(parts):
    p = parts["part1_layer"]
    a1, dW, _db = p.torch_layer()
    z = p.W @ p.A0 + p.B
    np.testing.assert_allclose(a1, 1 / (1 + np.exp(-z)), rtol=0, atol=1e-15)
    e = p.neuron(0)
    assert e.evaluation.values[e.output] == pytest.approx(0.401312339887548, abs=1e-15)
    assert e.gradients["w_0_1"]["value"] == pytest.approx(dW[0, 1], abs=1e-15)


def test_part2_relu_derivative_at_zero_is_zero_as_torch(parts):
    p = parts["part2_activations"]
    xs, _f, df = p.curves("relu")
    assert 0.0 in xs and df[list(xs).index(0.0)] == 0.0  # the plotted data
    assert p.explain_at("relu", 0.0).gradients["x"]["value"] == 0.0
    _, _, dsig = p.curves("sigmoid", [0.0])
    assert dsig[0] == 0.25


def test_part3_losses_and_the_missing_minus(parts):
    p = parts["part3_losses"]
    assert p.explain("mse").gradients["p"]["value"] == pytest.approx(-0.6)   # 2(p − y)
    assert p.explain("ce").gradients["p"]["value"] == pytest.approx(-1 / 0.7)  # −y/p
    assert [n.code for n in p.explain("seed_ce").notes] == ["negative-loss"]
    assert p.explain("ce").notes == []


def test_part4_numerical_gradient_at_the_seeds_h(parts):
    p = parts["part4_numerical_gradient"]
    assert p.H == 1e-7
    exact = p.torch_gradient()
    assert p.explain().gradients["w"]["value"] == pytest.approx(exact, abs=1e-15)
    assert 0 < abs(p.seed_gradient() - exact) < 1e-9


def test_part5_the_three_loops_agree_and_the_wdata_slip(parts):
    p = parts["part5_gradient_descent"]
    assert (p.N, p.LR, p.STEPS) == (50, 0.01, 2000)
    x, y, w0, b0 = p.data()
    ge, *_ = p.graphexplain_loop(x, y, w0, b0, p.LR, 40)
    seed, _grads = p.seed_loop(x, y, w0, b0, p.LR, 40)
    mod = p.module_loop(x, y, w0, b0, p.LR, 40)
    assert p.max_relative(ge, seed) <= 1e-12 and p.max_relative(ge, mod) <= 1e-12
    broken, acc = p.seed_loop(x, y, w0, b0, p.LR, 40, as_written=True)
    assert broken[1, 1] == seed[1, 1]                        # the first step is the same
    assert broken[2, 1] == pytest.approx(-p.LR * acc[1], abs=1e-15)  # w₀ is lost at step 2
    np.testing.assert_allclose(broken[3:, 1], -p.LR * acc[2:], atol=1e-12)  # w = −lr·Σ g
    written, _ = p.seed_loop(x, y, w0, b0, p.LR, p.STEPS, as_written=True)
    fixed, _ = p.seed_loop(x, y, w0, b0, p.LR, p.STEPS)
    assert abs(written[-1, 1] - fixed[-1, 1]) < 0.1 and written[-1, 0] < 0.01  # still "fits"
    long, _ = p.seed_loop(x, y, w0, b0, p.LR_GOOD, p.STEPS_GOOD)
    assert p.converged(long[-1])


def test_part6_J_gradients_3_9_6(parts):
    e = parts["part6_j"].explain()
    assert {x: g["value"] for x, g in e.gradients.items()} == {"a": 3.0, "b": 9.0, "c": 6.0}
    assert parts["part6_j"].torch_gradients() == {"a": 3.0, "b": 9.0, "c": 6.0}


def test_part7_the_seeds_formula_is_right(parts):
    p = parts["part7_three_layer_net"]
    e = p.explain()
    expected = p.torch_gradient(e.evaluation.point)
    assert p.seed_formula(e) == pytest.approx(expected, abs=1e-15)
    assert e.gradients["w1_1_2"]["path_count"] == 2


def test_part8_nothing_recorded_under_no_grad(parts):
    rows, x, c = parts["part8_autograd"].tracking()
    assert c.grad_fn is None and not c.requires_grad
    assert [n for n, rg, _ in rows if not rg] == ["c (under no_grad)"]
    np.testing.assert_allclose(x.grad.numpy(), 1.5 * (x.detach().numpy() + 2), atol=1e-15)


def test_part9_one_sgd_step_by_hand(parts):
    p = parts["part9_module_sgd"]
    _, dw, db, w1, b1 = p.by_hand([1.0, 2.0], [4.0, 7.0], w=1.0, b=0.0, lr=0.1)
    # residuals −3, −5: ∂L/∂w = (2/2)(−3·1 − 5·2) = −13, ∂L/∂b = −8
    assert (dw, db) == (-13.0, -8.0) and (w1, b1) == pytest.approx((2.3, 0.8))
    m = p.load(p.SPEC)
    _, log = p.torch_step(m.model, m.example_inputs[0], m.target)
    names = [what for what, _ in log]
    assert names[1:] == ["optimizer.zero_grad()", "loss.backward()", "optimizer.step()"]
    assert log[1][1][2] is None and log[2][1][2] is not None


def test_a_script_runs_on_its_own_into_out(tmp_path):
    subprocess.run([sys.executable, str(EXAMPLES / "part6_j.py")], cwd=tmp_path, check=True,
                   capture_output=True)
    assert (tmp_path / "out" / "part6_J_circuit.png").read_bytes().startswith(PNG)
