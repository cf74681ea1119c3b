"""The command line: outputs, exit codes, and one-line errors."""

import json
import subprocess
import sys

import pytest

from graphexplain.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_seed_example(capsys):
    code, out, err = run(capsys, "explain", "J(a,b,c) = 3(a+bc)", "--at", "a=1", "b=2", "c=3")
    assert code == 0 and err == ""
    for line in ("v = b·c = 6", "u = a + v = 7", "J = 3·u = 21", "∂v/∂b = c = 3",
                 "∂J/∂a = 3", "∂J/∂b = 3·c = 9", "∂J/∂c = 3·b = 6",
                 "torch.autograd (float64): agrees"):
        assert line in out


def test_render_statements_in_any_order(capsys, tmp_path):
    svg = tmp_path / "J.svg"
    code, _out, err = run(capsys, "explain", "u = a + v; v = b*c; J = 3*u", "--render", str(svg))
    assert code == 0, err
    text = svg.read_text()
    for name in ("u", "v", "J"):
        assert f">{name}" in text or f"{name} =" in text
    assert ">c<" in text or "c</text>" in text  # the partial ∂v/∂b on an edge


def test_injection_is_one_line_exit_2(tmp_path):
    marker = tmp_path / "pwned"
    cmd = [sys.executable, "-m", "graphexplain", "explain",
           f"f = __import__('os').system('touch {marker}')"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "Traceback" not in p.stderr
    assert not marker.exists()


@pytest.mark.parametrize("argv, fragment", [
    (["explain", "J = 3(a+bc)"], "did you mean b*c"),
    (["explain", "J = a*b", "--at", "a=1"], "no value for b"),
    (["explain", "J = a*b", "--at", "a=1", "b=x"], "is not a number"),
    (["explain", "J = a*b", "--at", "a=1", "b=2", "q=3"], "not an input"),
    (["explain", "J = a*b", "--at", "a"], "expects NAME=VALUE"),
    (["explain", "J = a*b", "--format", "yaml"], "invalid choice"),
    (["explain", "J = a*b", "--render", "x.gif"], "gif"),
    (["explain", "a = x; b = y"], "several outputs"),
    (["explain", "a = b; b = a"], "cycle"),
    (["explain", "x = 1; x = 2; y = x"], "assigned twice"),
    (["explain", "y = sigmoid(x, z)"], "sigmoid"),
    (["explain", "y = foo(x)"], "unknown function 'foo'"),
    (["explain", "y = x", "--const", "q"], "not an input"),
    (["explain", "J = a*b", "--wrt", "c"], "--wrt"),
    (["explain"], "no program"),
    (["explain", "y = x", "--limit", "max_nodes=abc"], "integer"),
])
def test_user_errors(capsys, tmp_path, monkeypatch, argv, fragment):
    monkeypatch.chdir(tmp_path)
    code, _out, err = run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert fragment in err
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_failed_run_writes_nothing(capsys, tmp_path):
    report, svg = tmp_path / "r.json", tmp_path / "g.svg"
    code, _, _ = run(capsys, "explain", "J = a*b", "--at", "a=1", "--render", str(svg),
                     "-o", str(report))
    assert code == 2 and not report.exists() and not svg.exists()


def test_json_output_and_report_file(capsys, tmp_path):
    report = tmp_path / "r.json"
    code, out, _ = run(capsys, "explain", "y = x*x + x", "--at", "x=1.5", "--format", "json",
                       "-o", str(report))
    assert code == 0 and out == ""
    doc = json.loads(report.read_text())
    assert doc["gradients"]["x"]["value"] == 4.0


def test_stdin_and_file(capsys, tmp_path, monkeypatch):
    prog = tmp_path / "p.txt"
    prog.write_text("u = a + v\nv = b*c\nJ = 3*u\n")
    code, out, _ = run(capsys, "explain", "-f", str(prog), "--at", "a=1,b=2,c=3",
                       "--format", "json")
    assert code == 0 and json.loads(out)["gradients"]["c"]["value"] == 6.0
    import io
    monkeypatch.setattr(sys, "stdin", io.StringIO("J = 3*u; u = a + b"))
    code, out, _ = run(capsys, "explain", "-", "--at", "a=1", "b=2", "--no-verify")
    assert code == 0 and "∂J/∂a = 3" in out and "Verification" not in out


def test_output_choice_and_const(capsys):
    code, out, _ = run(capsys, "explain", "a = x*y; b = x + y", "--output", "b",
                       "--at", "x=1", "y=2", "--const", "y", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["output"] == "b" and list(doc["gradients"]) == ["x"]


def test_formats(capsys):
    for fmt, marker in [("latex", "\\begin{align*}"), ("markdown", "### Forward pass")]:
        code, out, _ = run(capsys, "explain", "J = 3*(a+b*c)", "--format", fmt)
        assert code == 0 and marker in out


def test_ops_lists_the_table(capsys):
    code, out, _ = run(capsys, "ops")
    assert code == 0 and "sigmoid" in out and "relu′(0) = 0" in out


def test_demo_writes_the_walkthrough(capsys, tmp_path):
    """The README's main command: every part of the seed checked against torch, a folder with
    index.html, and one short line per part in the terminal (not the 1,000 lines of before)."""
    code, out, err = run(capsys, "demo", "--out", str(tmp_path / "out"))
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) <= 15 and sum("agrees with torch" in x or "ok" in x.lower()
                                    for x in lines) >= 9, out
    index = (tmp_path / "out" / "index.html").read_text()
    assert index.count("<img") >= 8 and "J(a,b,c) = 3(a+bc)" in index


def test_demo_reports_a_failing_part(capsys, tmp_path, monkeypatch):
    from graphexplain import walkthrough

    real = walkthrough.load_part

    def broken(name):
        module = real(name)
        if name.startswith("part6"):
            def main(out):
                raise AssertionError("planted: J disagrees")
            module.main = main
        return module

    monkeypatch.setattr(walkthrough, "load_part", broken)
    code, out, _ = run(capsys, "demo", "--out", str(tmp_path / "out"), "-q")
    assert code == 3 and out == ""


def test_quiet_builds_no_report(monkeypatch, capsys):
    """--quiet prints nothing and does not build the report it would throw away; the exit
    code still carries the checks."""
    from graphexplain import api, cli

    def refuse(*args, **kwargs):
        raise AssertionError("the report was built")

    monkeypatch.setattr(api.report, "report", refuse)
    monkeypatch.setattr(cli, "mlp_report", refuse)
    assert cli.main(["explain", "J(a,b,c) = 3(a+bc)", "--at", "a=1", "b=2", "c=3",
                     "--quiet"]) == 0
    assert cli.main(["mlp", "--layers", "2,2,1", "--quiet"]) == 0
    assert capsys.readouterr().out == ""


def test_diagram_options_change_the_drawing(tmp_path):
    """--partials labels the edges ∂v/∂u; --diagram picks the drawing; --expand draws a large
    network neuron by neuron."""
    from graphexplain import cli

    def dot(*argv):
        path = tmp_path / f"d{len(list(tmp_path.iterdir()))}.dot"
        assert cli.main([*argv, "--render", str(path), "-q"]) == 0
        return path.read_text()

    j = ["explain", "J(a,b,c) = 3(a+bc)", "--at", "a=1", "b=2", "c=3"]
    assert "∂v/∂b" not in dot(*j) and "∂v/∂b" in dot(*j, "--partials")
    seed = ["mlp", "--layers", "2,2,2,1", "--no-bias"]
    assert "class=neuron" in dot(*seed).replace('"', "")
    assert "neuron" not in dot(*seed, "--diagram", "circuit")
    big = ["mlp", "--layers", "8,40,10,1"]
    assert "layer 1: 8 → 40" in dot(*big)
    assert "layer 1: 8 → 40" not in dot(*big, "--expand")


def test_wrt_takes_a_label_in_every_mode(tmp_path, capsys):
    from graphexplain import cli

    assert cli.main(["explain", "f = w1[1,2]*x1", "--at", "w1[1,2]=0.5", "x1=2",
                     "--wrt", "w1[1, 2]", "--view", "paths",
                     "--render", str(tmp_path / "p.dot"), "-q"]) == 0
    assert cli.main(["mlp", "--layers", "2,2,2,1", "--no-bias", "--wrt", "w1_1_2"]) == 0
    assert "∂loss/∂w1[1,2] = x1·A′(f2)·(w2[2,1]·A′(g1)·w3[1,1] + w2[2,2]·A′(g2)·w3[2,1])" \
           "·∂loss/∂out" in capsys.readouterr().out
    assert cli.main(["explain", "f = x*y", "--at", "x=1", "y=2", "--wrt", "X"]) == 2
    assert "did you mean x?" in capsys.readouterr().err


def test_h_needs_a_point(capsys):
    from graphexplain import cli

    assert cli.main(["explain", "J(a,b,c) = 3(a+bc)", "--h", "1e-7"]) == 2
    assert "--h is the step of the central differences" in capsys.readouterr().err
    assert cli.main(["fd-study", "f = x^3", "--at", "x=1", "--h", "1e-7"]) == 2
    assert "unrecognized arguments: --h" in capsys.readouterr().err  # not read as --help
