"""The numerical gradient: --h, and the study of its error against h."""

import json
import subprocess
import sys

import pytest

import graphexplain
from graphexplain import fd_study
from graphexplain.cli import main


def _study(text, at, leaf):
    e = graphexplain.explain(text, at=at, verify=False)
    return fd_study.study(e.derivation, e.evaluation, leaf), e


def test_each_row_is_the_central_difference_of_its_step():
    s, _ = _study("f = x**3", {"x": 2.0}, "x")
    assert [r.h for r in s.rows] == [10.0 ** -k for k in range(1, 13)]
    for r in s.rows:
        assert r.up == pytest.approx((2 + r.h) ** 3, rel=1e-15)
        assert r.down == pytest.approx((2 - r.h) ** 3, rel=1e-15)
        assert r.estimate == (r.up - r.down) / (2 * r.h)
        assert r.error == abs(r.estimate - 12.0)
    # f‴ = 6: the truncation estimate is 6·h²/6 = h², exact for a cubic
    assert s.third == 6.0
    assert s.row(1e-2).truncation == pytest.approx(1e-4)
    assert s.row(1e-2).error == pytest.approx(1e-4, rel=1e-6)


def test_truncation_and_rounding_meet_near_the_predicted_step():
    s, _ = _study("f = sin(x)*exp(x)", {"x": 1.3}, "x")
    assert 1e-6 < s.crossover < 1e-4
    assert 1e-6 <= s.best.h <= 1e-4
    assert s.row(1e-1).error > 1e3 * s.best.error  # truncation, large h
    assert s.row(1e-12).error > 1e3 * s.best.error  # rounding, small h
    seed = s.row(1e-7)
    assert seed.error < 1e-7 and seed.rounding > seed.truncation


def test_the_table_explains_the_seeds_step():
    s, e = _study("f = sin(x)*exp(x)", {"x": 1.3}, "x")
    text = fd_study.to_text(s, e.graph)
    assert "← the seed's h" in text and "← least error" in text
    assert "They meet at h* = (3ε|f|/|f‴|)^(1/3) ≈ " in text
    assert "The seed's h = 10⁻⁷" in text and "e-0" not in text


def test_a_quadratic_has_no_truncation_error():
    s, e = _study("J(a,b,c) = 3(a+bc)", {"a": 1, "b": 2, "c": 3}, "b")
    assert s.third == 0.0 and s.crossover is None
    assert "f‴ = 0 here" in fd_study.to_text(s, e.graph)


def test_fd_study_command_json_and_plot(tmp_path, capsys):
    plot = tmp_path / "h.png"
    code = main(["fd-study", "f = sin(x)*exp(x)", "--at", "x=1.3", "--format", "json",
                 "--plot", str(plot)])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["wrt"] == "x" and len(doc["rows"]) == 12
    assert doc["exact"] == pytest.approx(4.517113399272800, rel=1e-12)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_fd_study_refuses_an_unknown_input(capsys):
    assert main(["fd-study", "f = x**2", "--at", "x=1", "--wrt", "y"]) == 2
    assert capsys.readouterr().err.startswith("error: --wrt 'y' is not an input")


@pytest.mark.parametrize("h", [1e-7, 1e-3])
def test_h_sets_the_verifiers_step(h):
    e = graphexplain.explain("f = x**3 + y", at={"x": 2.0, "y": 1.0}, h=h)
    check = e.verification.finite_difference
    assert check.step == h
    step, up, down = check.differences["x"]
    assert step == h and up == pytest.approx(9 + 12 * h + 6 * h * h + h ** 3, rel=1e-15)
    assert check.reference["x"] == (up - down) / (2 * h)
    assert check.reference["x"] == pytest.approx(12 + h * h, rel=1e-6)


def test_h_on_the_command_line(capsys):
    assert main(["explain", "f = x**3", "--at", "x=2", "--h", "1e-3", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["verification"]["finite_difference"]["step"] == 1e-3
    assert main(["explain", "f = x**3", "--at", "x=2", "--h", "0"]) == 2
    assert "--h: 0 is not a positive number" in capsys.readouterr().err


def test_repr_is_one_short_line():
    e = graphexplain.explain("J(a,b,c) = 3(a+bc)", at={"a": 1, "b": 2, "c": 3})
    assert repr(e) == "<Explanation of J: 3 gradients, verified>"
    assert repr(graphexplain.explain("f = x*y", verify=False)) == \
        "<Explanation of f: 2 gradients, symbolic>"


def test_fd_study_as_a_process():
    p = subprocess.run([sys.executable, "-m", "graphexplain", "fd-study", "f = x**3",
                        "--at", "x=2"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "10⁻⁷" in p.stdout and p.stderr == ""
