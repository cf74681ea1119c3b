"""Backprop at scale: the gradient program, compiled evaluation, checks from tensors, the cost
report, progress bars, and a smoke run of the benchmark (timings are the benchmark's job)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sympy

from graphexplain.api import explain_mlp
from graphexplain.cli import main
from graphexplain.codegen import CompiledGradient
from graphexplain.derive import cost, count_ops, derive
from graphexplain.evaluate import evaluate
from graphexplain.graph import build, tracked
from graphexplain.nn.mlp import ACTIVATIONS, MLPSpec, build_mlp, draw_values
from graphexplain.parse import parse

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("loss", ["mse", "ce", "bce"])
def test_compiled_gradients_equal_the_backward_pass(activation, loss):
    spec = MLPSpec((3, 4, 3, 2), activation, loss=loss, seed=7)
    G = build_mlp(spec)
    d = derive(G)
    grad = CompiledGradient(d)
    for seed in (1, 2):  # new points, same compiled program
        point = draw_values(MLPSpec((3, 4, 3, 2), activation, loss=loss, seed=seed))
        value, grads = grad(point)
        ev = evaluate(G, "loss", point)
        assert value == pytest.approx(ev.values["loss"], rel=1e-12)
        for x in d.leaves:
            assert grads[x] == pytest.approx(ev.adjoints[x], rel=1e-9, abs=1e-13), x


@pytest.mark.parametrize("program, point", [
    ("J(a,b,c) = 3(a+bc)", {"a": 1, "b": 2, "c": 3}),
    ("y = elu(x, alpha=0.5) + leaky_relu(x)*softplus(x) + abs(x) + relu(x) - sqrt(x*x + 1)/x",
     {"x": -0.4}),
    ("y = relu(x) + abs(x) + leaky_relu(x)", {"x": 0.0}),  # torch's partials at the kinks
    ("y = x**3 + 2**x + pi*log(x) + sin(x)*cos(x)*tanh(x)*exp(-x)*sigmoid(x)", {"x": 1.3}),
])
def test_compiled_gradients_of_programs(program, point):
    d = derive(build(parse(program)))
    value, grads = CompiledGradient(d)(point)
    ev = evaluate(d.graph, d.output, point)
    assert value == pytest.approx(ev.values[d.output], rel=1e-12)
    assert grads == pytest.approx({x: ev.adjoints[x] for x in d.leaves}, rel=1e-12)


def test_gradient_program_is_one_statement_per_tracked_node_and_cheap():
    for shape in [(4, 8, 8, 2), (8, 16, 16, 1)]:
        d = derive(build_mlp(MLPSpec(shape)))
        assert set(d.program) == tracked(d.graph, "loss")
        G = d.graph
        forward = count_ops(G.nodes[n]["expr"] for n in d.order if G.nodes[n]["kind"] == "op")
        assert count_ops(d.program.values()) <= 1.5 * forward


def test_large_network_is_checked_from_tensors_and_sampled_by_differences():
    e = explain_mlp(MLPSpec((16, 32, 8, 4), "tanh", loss="ce"))
    v = e.verification.to_dict()
    assert v["torch"]["ok"] is True and v["torch"]["compared"] == len(e.evaluation.adjoints)
    assert v["finite_difference"]["ok"] is True
    assert v["finite_difference"]["compared"] == 64
    assert v["finite_difference"]["sampled_from"] == len(e.derivation.leaves)
    assert "(an even sample of" in e.to_text()


def test_chains_stay_small_on_a_large_network():
    d = derive(build_mlp(MLPSpec((16, 32, 32, 4))))
    # past the printed-size budget a chain refers to the adjoint symbols of the layer above
    assert any(str(s).startswith("dloss_d") for s in d.adjoints["w1_1_1"].free_symbols)
    assert d.formulas["w1_1_1"] is None
    assert d.path_counts["w1_1_1"] == 32 * 4


def test_cost_report(capsys):
    assert main(["mlp", "--layers", "4,8,8,2", "--cost", "--no-verify"]) == 0
    out = capsys.readouterr().out
    assert "gradient program:" in out and "× forward" in out and "naive" in out
    d = derive(build_mlp(MLPSpec((4, 8, 8, 2))))
    c = cost(d)
    assert c["weights"] == 4 * 8 + 8 + 8 * 8 + 8 + 8 * 2 + 2
    assert c["naive_visits"] == c["loss_tree_size"] * c["weights"]
    assert 1 <= c["ratio"] <= 1.5
    assert main(["mlp", "--layers", "2,2,1", "--cost", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["cost"]["forward_ops"] > 0


def test_progress_is_silent_without_a_terminal():
    p = subprocess.run([sys.executable, "-m", "graphexplain", "mlp", "--layers", "16,32,32,4",
                        "--format", "json"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0 and p.stderr == ""


def test_progress_bar_on_a_terminal(monkeypatch):
    from graphexplain import progress

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(progress, "QUIET", False)
    assert progress.track(range(3), "x").disable is False
    monkeypatch.setattr(progress, "QUIET", True)
    assert progress.track(range(3), "x").disable is True


def test_benchmark_smoke(tmp_path):
    """The smallest size of benchmarks/run.py, so the benchmark never rots."""
    p = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick",
                        "--naive-samples", "1", "--results", str(tmp_path)],
                       capture_output=True, text=True, timeout=600)
    # the exit code carries timing targets, which a loaded machine may miss: not asserted
    # here (the benchmark is the place for speed); that it ran and wrote fresh results is
    assert p.returncode in (0, 1) and "Traceback" not in p.stderr, p.stderr
    assert "(a) ours / bare sympy" in p.stdout and "(d) compiled eval" in p.stdout, p.stderr
    results = json.loads((tmp_path / "results.json").read_text())  # this run's, not an old one
    row = results["rows"][0]
    assert row["params"] == 433 and row["op_ratio_c"] <= 1.5
    assert (tmp_path / "scaling.png").read_bytes()[:4] == b"\x89PNG"


def test_every_function_of_the_op_table_has_numeric_and_c_code():
    from graphexplain import ops

    assert set(ops.NUMERIC) == set(ops.C_FUNCTIONS)
    # the sympy functions the op table defines (sympy's own exp, log, … print anywhere)
    own = {v.__name__ for v in vars(ops).values() if isinstance(v, type)
           and issubclass(v, sympy.Function) and v.__module__ == ops.__name__}
    assert own == set(ops.NUMERIC)


def test_a_graph_too_large_to_draw_is_refused_and_the_limit_can_be_raised(tmp_path, capsys):
    from graphexplain.errors import RenderError
    from graphexplain.limits import Limits

    e = explain_mlp(MLPSpec((8, 16, 16, 1)), verify=False, limits=Limits(max_render_nodes=100))
    with pytest.raises(RenderError, match="max_render_nodes=100"):
        e.render(tmp_path / "g.svg")
    assert list(tmp_path.iterdir()) == []
    assert main(["mlp", "--layers", "8,16,16,1", "--no-verify", "-q", "--render",
                 str(tmp_path / "g.dot"), "--limit", "max_render_nodes=100"]) == 2
    assert "too large to draw" in capsys.readouterr().err
    assert main(["mlp", "--layers", "4,4,1", "--no-verify", "-q", "--render",
                 str(tmp_path / "g.dot")]) == 0
