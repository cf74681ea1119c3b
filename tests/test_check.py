"""Claims: read in the course's notation, judged correct/wrong/undecided, and wrong ones
diagnosed (missing or extra path, sign, swapped or transposed index, constant factor)."""

import json

import pytest

from graphexplain import check
from graphexplain.api import explain, explain_mlp
from graphexplain.cli import main
from graphexplain.nn.mlp import MLPSpec

J = "J(a,b,c) = 3(a+bc)"
SEED_NET = MLPSpec((2, 2, 2, 1), bias=False)
SEED_ANSWER = "x1·A′(f2)·(w2[2,1]·A′(g1)·w3[1,1] + w2[2,2]·A′(g2)·w3[2,1])·∂loss/∂out"


@pytest.fixture(scope="module")
def j():
    return explain(J, {"a": 1, "b": 2, "c": 3}, verify=False)


@pytest.fixture(scope="module")
def net():
    return explain_mlp(SEED_NET, verify=False)


def verdict(expl, claim):
    return check.check_claims(expl, [claim])[0]


# --- the command line ---------------------------------------------------------------------------


def test_a_right_claim_is_correct_and_exits_0(capsys):
    assert main(["check", J, "--claim", "dJ/db = 3c"]) == 0
    out = capsys.readouterr().out
    assert "correct: ∂J/∂b = 3·c" in out and "1 of 1 claim holds" in out


def test_a_wrong_claim_gives_a_point_both_values_and_exits_3(capsys):
    assert main(["check", J, "--claim", "dJ/db = 3b", "--at", "a=1", "b=2", "c=3"]) == 3
    out = capsys.readouterr().out
    assert "wrong: at a = 1, b = 2, c = 3" in out
    assert "the claim gives 6, but ∂J/∂b = 3·c = 9" in out


@pytest.mark.parametrize("claim", ["∂J/∂b = 3c", "dJ/db = 3*c", "dJ/db = 3·c", "d J / d b = c·3"])
def test_the_notations_of_a_claim(claim, capsys):
    assert main(["check", J, "--claim", claim]) == 0


@pytest.mark.parametrize("claim, says", [
    ("3c", "write it as ∂J/∂b = formula"),
    ("dJ/db = 3(c", "never closed"),
    ("dJ/dq = 3c", "q: no such name"),
    ("dJ/db = 3cq", "did you mean"),
    ("dK/db = 3c", "K: no such name"),
    ("dJ/db = F′(c)", "F′ is not a derivative graphexplain knows"),
])
def test_a_malformed_claim_is_one_line_and_exits_2(claim, says, capsys):
    assert main(["check", J, "--claim", claim]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and says in err


def test_a_constant_has_no_gradient_to_claim(capsys):
    assert main(["check", J, "--const", "c", "--claim", "dJ/dc = b"]) == 2
    assert "does not require grad" in capsys.readouterr().err


def test_json_verdicts(capsys):
    assert main(["check", J, "--claim", "dJ/db = 3c", "--claim", "dJ/da = -3",
                 "--format", "json"]) == 3
    doc = json.loads(capsys.readouterr().out)
    assert [c["status"] for c in doc["claims"]] == ["correct", "wrong"]
    assert doc["claims"][1]["diagnosis"]["kind"] == "sign" and doc["ok"] is False


def test_mlp_claim_the_seeds_answer_holds(capsys):
    assert main(["mlp", "--layers", "2,2,2,1", "--no-bias",
                 "--claim", f"dloss/dw1[1,2] = {SEED_ANSWER}"]) == 0
    assert "correct" in capsys.readouterr().out


def test_mlp_claim_without_the_w2_2_2_path_names_it(capsys):
    typed = "x1·A'(f2)·w2[2,1]·A'(g1)·w3[1,1]·dloss/dout"
    assert main(["mlp", "--layers", "2,2,2,1", "--no-bias",
                 "--claim", f"dloss/dw1[1,2] = {typed}"]) == 3
    out = capsys.readouterr().out
    assert "a missing path" in out
    assert ("missing: w1[1,2] → f2 → A(f2) → g2 → A(g2) → out → loss   "
            "x1·A′(f2)·w2[2,2]·A′(g2)·w3[2,1]·∂loss/∂out") in out


# --- reading: the seed's notation means what the seed means ------------------------------------


@pytest.mark.parametrize("claim", [
    f"dloss/dw1[1,2] = {SEED_ANSWER}",
    "dloss/dw1[1,2] = x1·σ′(f2)·(w2[2,1]·σ′(g1)·w3[1,1] + w2[2,2]·σ′(g2)·w3[2,1])·2(out − y1)",
    "dloss/dw1[1,2] = x1·A(f2)·(1 − A(f2))·(w2[2,1]·A′(g1)·w3[1,1] + w2[2,2]·A′(g2)·w3[2,1])"
    "·∇out",
    "dloss/dw1_1_2 = x1·A'(f2)·(w2_2_1·A'(g1)·w3_1_1 + w2_2_2·A'(g2)·w3_2_1)·dloss/dout",
])
def test_the_seeds_answer_in_its_notations(net, claim):
    v = verdict(net, claim)
    assert v.status == check.CORRECT, (claim, v.status)


def test_a_claim_value_is_the_graphs_value(net):
    """A′(f2) at the point is σ(f2)(1 − σ(f2)); ∂loss/∂out is the adjoint of out."""
    c = check.read_claim(net.derivation, "dloss/dw3[1,1] = A′(f2)·dloss/dout")
    ev = net.evaluation
    s = ev.values["A_f2"]
    assert check.value_at(c.expr, ev) == pytest.approx(s * (1 - s) * ev.adjoints["out"],
                                                       rel=1e-12)


def test_intermediate_adjoints_can_be_claimed(j):
    assert verdict(j, "dJ/du = 3").status == check.CORRECT
    assert verdict(j, "dJ/dv = 3").status == check.CORRECT
    assert verdict(j, "dJ/dv = 1").status == check.WRONG


def test_undecided_when_the_simplification_budget_runs_out(monkeypatch):
    e = explain("J(a) = sin(a)^2", verify=False)
    assert verdict(e, "dJ/da = sin(2a)").status == check.CORRECT  # simplify shows it
    monkeypatch.setattr(check, "SIMPLIFY_MAX_OPS", 0)
    v = verdict(e, "dJ/da = sin(2a)")
    assert v.status == check.UNDECIDED and v.ok
    assert "equal at every point" in check.to_text(e.derivation, [v])


# --- diagnosis: each slip, planted --------------------------------------------------------------


def test_missing_path(net):
    v = verdict(net, "dloss/dw1[1,2] = x1·A′(f2)·w2[2,2]·A′(g2)·w3[2,1]·∂loss/∂out")
    assert v.diagnosis.kind == "missing-path"
    assert v.diagnosis.data["missing"] == ["w1[1,2] → f2 → A(f2) → g1 → A(g1) → out → loss"]


def test_extra_path(j):
    v = verdict(j, "dJ/db = 3c + 3")
    assert v.diagnosis.kind == "extra-path"
    assert v.diagnosis.data["extra"] == ["a → u → J"]


def test_extra_term_on_no_path(j):
    v = verdict(j, "dJ/db = 3c + a")
    assert v.diagnosis.kind == "extra-path" and "an extra term: a is on no path" in \
        v.diagnosis.message


def test_sign_flip():
    e = explain("L(w,x,y) = (y - w·x)²", verify=False)
    v = verdict(e, "dL/dw = 2·(y − w·x)·x")
    assert v.diagnosis.kind == "sign"


def test_mse_factor_with_its_cause(net):
    v = verdict(net, "dloss/dw3[1,1] = A(g1)·(out − y1)")
    assert v.diagnosis.kind == "factor" and v.diagnosis.data["factor"] == pytest.approx(0.5)
    assert any("MSE's 2" in line for line in v.diagnosis.details)


def test_mean_against_sum_with_its_cause():
    e = explain("L(a,b) = ((a - 1)^2 + (b - 2)^2)/2", verify=False)
    v = verdict(e, "dL/da = 2(a - 1)")
    assert v.diagnosis.kind == "factor" and v.diagnosis.data["factor_shown"] == "2"
    assert any("a mean against a sum" in line for line in v.diagnosis.details)


def test_transposed_index(net):
    v = verdict(net, f"dloss/dw1[2,1] = {SEED_ANSWER}")
    assert v.diagnosis.kind == "transposed" and v.diagnosis.data["other"] == "w1[1,2]"


def test_swapped_name(j):
    v = verdict(j, "dJ/db = 3b")
    assert v.diagnosis.kind == "swapped" and v.diagnosis.data["other"] == "c"


def test_none_fits(j):
    v = verdict(j, "dJ/db = c^2")
    assert v.status == check.WRONG and v.diagnosis.kind == "none"


def test_every_hypothesis_must_hold_at_every_point(j):
    """3c and 3b + 3 agree at b = c − 1 only: no single point makes it a diagnosis."""
    v = verdict(j, "dJ/db = 3b + 3")
    assert v.diagnosis.kind != "swapped"


def test_the_homework_example_runs():
    from importlib import util
    from pathlib import Path

    path = Path(__file__).parent.parent / "examples" / "check_homework.py"
    spec = util.spec_from_file_location("check_homework", path)
    module = util.module_from_spec(spec)
    spec.loader.exec_module(module)
    statuses = [v.status for v in module.main()]
    assert statuses == [check.CORRECT, check.WRONG, check.WRONG]


def test_a_path_with_the_wrong_sign(net):
    v = verdict(net, "dloss/dw1[1,2] = x1·A′(f2)·(w2[2,1]·A′(g1)·w3[1,1] − w2[2,2]·A′(g2)·w3[2,1])"
                     "·∂loss/∂out")
    assert v.diagnosis.kind == "path-sign"
    assert v.diagnosis.data["negated"] == ["w1[1,2] → f2 → A(f2) → g2 → A(g2) → out → loss"]


def test_a_transposed_index_inside_the_answer(net):
    v = verdict(net, "dloss/dw1[1,2] = x1·A′(f2)·(w2[1,2]·A′(g1)·w3[1,1] + w2[2,2]·A′(g2)·w3[2,1])"
                     "·∂loss/∂out")
    assert v.diagnosis.kind == "transposed"
    assert (v.diagnosis.data["written"], v.diagnosis.data["instead_of"]) == ("w2[1,2]", "w2[2,1]")


def test_the_seeds_latex_as_written(net):
    seed = (r"\cfrac{\partial loss}{\partial w_1\left[ 1,2 \right]}=x_1A^{\prime}\left( f_2 "
            r"\right) \left( w_2\left[ 2,1 \right] A\prime\left( g_1 \right) w_3\left[ 1,1 "
            r"\right] +w_2\left[ 2,2 \right] A\prime\left( g_2 \right) w_3\left[ 2,1 \right] "
            r"\right) \times \nabla out")
    assert verdict(net, seed).status == check.CORRECT


@pytest.mark.parametrize("claim", ["∂J/∂b＝3c", "∂J/∂b = 3（c）", r"\frac{\partial J}{\partial c} = 3\times b",
                                   "∂u/∂a = 1", "dJ/da = ∂J/∂u · ∂u/∂a", "∂L/∂b = 3c"])
def test_full_width_latex_local_partials_and_the_outputs_common_name(j, claim):
    assert verdict(j, claim).status == check.CORRECT, claim


def test_several_claims_in_one_and_a_circular_one(j):
    vs = check.check_claims(j, ["dJ/da = 3；dJ/db = 3c", "dJ/dc = dJ/dc"])
    assert [v.status for v in vs] == [check.CORRECT] * 3
    assert vs[2].claim.circular and "holds whatever" in check.to_text(j.derivation, vs)


# --- every option of the command ------------------------------------------------------------------


def test_check_reads_a_file_and_writes_a_file(tmp_path, capsys):
    program = tmp_path / "j.txt"
    program.write_text(J + "\n")
    out = tmp_path / "verdicts.txt"
    assert main(["check", "-f", str(program), "--claim", "dJ/db = 3c", "-o", str(out)]) == 0
    assert capsys.readouterr().out == ""
    assert "correct: ∂J/∂b = 3·c" in out.read_text()


def test_check_quiet_prints_nothing_and_keeps_the_exit_code(capsys):
    assert main(["check", J, "--claim", "dJ/db = 3b", "--quiet"]) == 3
    assert capsys.readouterr().out == ""


def test_check_samples_sets_the_number_of_points(capsys):
    main(["check", J, "--claim", "dJ/db = 3c", "--samples", "2", "--format", "json"])
    assert json.loads(capsys.readouterr().out)["claims"][0]["samples"] == 2
    main(["check", J, "--claim", "dJ/db = 3c", "--samples", "2", "--at", "a=1", "b=2", "c=3",
          "--format", "json"])
    assert json.loads(capsys.readouterr().out)["claims"][0]["samples"] == 3
    assert main(["check", J, "--claim", "dJ/db = 3c", "--samples", "0"]) == 2
    assert "no point to test the claims at" in capsys.readouterr().err


def test_check_output_chooses_what_is_differentiated(capsys):
    program = "u = a·b; v = u + b"
    assert main(["check", program, "--claim", "du/db = a"]) == 0
    assert main(["check", program, "--output", "v", "--claim", "dv/db = a + 1"]) == 0
    assert main(["check", program, "--output", "v", "--claim", "dv/db = a"]) == 3


def test_check_in_chinese(capsys):
    assert main(["check", J, "--claim", "dJ/db = 3b", "--at", "a=1", "b=2", "c=3",
                 "--lang", "zh"]) == 3
    out = capsys.readouterr().out
    assert "错误：在 a = 1, b = 2, c = 3 处" in out and "诊断：" in out
    assert "wrong" not in out and "diagnosis" not in out


def test_check_internal_error_exits_1_and_debug_shows_it(capsys, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("planted failure")

    monkeypatch.setattr(check, "judge", fail)
    assert main(["check", J, "--claim", "dJ/db = 3c"]) == 1
    assert "rerun with --debug" in capsys.readouterr().err
    assert main(["check", J, "--claim", "dJ/db = 3c", "--debug"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_check_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["check", "--help"])
    assert info.value.code == 0
    assert "dloss/dout" in capsys.readouterr().out
