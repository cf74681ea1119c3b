"""Exit codes, each asserted for every command: 0 (done), 1 (an internal error: one line and a
hint to rerun with --debug, which shows the traceback), 2 (bad input: one line, ``error: …``)
and 3 (a check disagrees). ``tests/cli_option_registry.py`` lists them, with the reason where
a command cannot give one (ops and fd-study verify nothing, so they never exit 3).

Internal errors are provoked honestly: one stage of the command is replaced by one that raises
RuntimeError. Disagreements are planted as in test_pinned.py: graphexplain's own adjoint of
one input is made off by a relative 1e-6, which torch and central differences notice.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from test_pinned import plant

from graphexplain import api, cli, fd_study, walkthrough

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
LR = f"{EXAMPLES / 'seed_linear_regression.py'}:Lr"
J = ["explain", "J(a,b,c) = 3(a+bc)", "--at", "a=1", "b=2", "c=3"]
SEED = ["mlp", "--layers", "2,2,2,1", "--no-bias"]

#: A quick, successful run of every command (demo runs one part: see ``one_part``).
RUNS = {
    "explain": J,
    "mlp": SEED,
    "torch": ["torch", LR],
    "demo": ["demo"],  # --out is added in the tests
    "fd-study": ["fd-study", "f = x^3", "--at", "x=1"],
    "ops": ["ops"],
}


def run(capsys, argv) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def one_part(monkeypatch, tmp_path):
    """demo with one part (J), into a temporary folder: the same code path, 1 s not 8 s."""
    monkeypatch.setattr(walkthrough, "PARTS", ["part6_j"])
    return ["--out", str(tmp_path / "out")]


def argv_of(command: str, demo_args: list[str]) -> list[str]:
    return [*RUNS[command], *(demo_args if command == "demo" else [])]


def test_the_runs_cover_every_command():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(RUNS) == set(sub.choices) - {"check"}  # check: its engineer registers it


# --- 0 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", list(RUNS))
def test_exit_0(command, capsys, one_part):
    code, out, err = run(capsys, argv_of(command, one_part))
    assert code == 0, err
    assert out and "error" not in err


# --- 1 ------------------------------------------------------------------------------------------


def _fail(*args, **kwargs):
    raise RuntimeError("planted failure")


#: Per command, the stage replaced by one that raises: (module or object, attribute).
STAGES = {
    "explain": (cli, "explain"),
    "mlp": (api, "explain_mlp"),
    "torch": ("graphexplain.nn.torch", "explain_file"),
    "demo": (walkthrough, "run"),
    "fd-study": (fd_study, "study"),
    "ops": (cli, "_op_usage"),
}

HINT = ("internal error: RuntimeError: planted failure; rerun with --debug for the "
        "traceback\n")


@pytest.mark.parametrize("command", list(STAGES))
def test_exit_1_is_an_internal_error_with_a_hint(command, capsys, monkeypatch, one_part):
    target, name = STAGES[command]
    monkeypatch.setattr(target, name, _fail) if not isinstance(target, str) else \
        monkeypatch.setattr(f"{target}.{name}", _fail)
    argv = argv_of(command, one_part)
    code, _out, err = run(capsys, argv)
    assert (code, err) == (1, HINT)
    code, _out, err = run(capsys, [*argv, "--debug"])
    assert code == 1
    assert err.startswith("Traceback (most recent call last):")
    assert err.rstrip().endswith("RuntimeError: planted failure") and "rerun with" not in err


def test_ops_debug_shows_the_traceback(capsys, monkeypatch):
    monkeypatch.setattr(cli, "_op_usage", _fail)
    code, _out, err = run(capsys, ["ops", "--debug"])
    assert code == 1 and "Traceback" in err


# --- 2 ------------------------------------------------------------------------------------------


BAD = {
    "explain": (["explain", "J = 3(a+bc)"], "did you mean b*c"),
    "mlp": (["mlp", "--layers", "2,x"], "--layers expects numbers"),
    "torch": (["torch", str(EXAMPLES / "no_such_file.py") + ":Model"], "cannot read"),
    "demo": (["demo"], "demo needs the repository's examples/ folder"),
    "fd-study": (["fd-study", "f = x**2", "--at", "x=1", "--wrt", "y"], "--wrt 'y'"),
    "ops": (["ops", "--bogus"], "unrecognized arguments: --bogus"),
}


@pytest.mark.parametrize("command", list(BAD))
def test_exit_2_is_bad_input_in_one_line(command, capsys, monkeypatch, tmp_path):
    argv, fragment = BAD[command]
    if command == "demo":
        monkeypatch.setattr(walkthrough, "EXAMPLES", tmp_path / "missing")
        argv = [*argv, "--out", str(tmp_path / "out")]
    code, out, err = run(capsys, argv)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert fragment in err and "Traceback" not in err


# --- 3 ------------------------------------------------------------------------------------------


PLANTED = {"explain": (J, "b"), "mlp": (SEED, "w3_1_1"), "torch": (["torch", LR],
                                                                  "linear_weight_0_0")}


@pytest.mark.parametrize("quiet", [False, True])
@pytest.mark.parametrize("command", list(PLANTED))
def test_exit_3_when_a_check_disagrees(command, quiet, capsys, monkeypatch):
    """Also with --quiet, which returns before any report is built."""
    argv, leaf = PLANTED[command]
    plant(monkeypatch, leaf, 1e-6)
    code, out, _err = run(capsys, [*argv, *(["-q"] if quiet else [])])
    assert code == 3
    if quiet:
        assert out == ""
    else:
        assert f"torch.autograd (float64): DISAGREES, first at {leaf}" in out


def test_exit_3_when_a_demo_part_disagrees(capsys, monkeypatch, one_part):
    real = walkthrough.load_part

    def broken(name):
        module = real(name)

        def main(out):
            raise AssertionError("planted: J disagrees with torch")

        module.main = main
        return module

    monkeypatch.setattr(walkthrough, "load_part", broken)
    code, out, _ = run(capsys, ["demo", *one_part])
    assert code == 3
    assert "FAILED" in out and "planted: J disagrees with torch" in out
    assert run(capsys, ["demo", *one_part, "-q"])[:2] == (3, "")


# --- the top level and --help -------------------------------------------------------------------


def test_top_level_exit_codes(capsys):
    for argv in (["--version"], ["--help"], ["-h"]):
        with pytest.raises(SystemExit) as info:
            cli.main(argv)
        assert info.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith("graphexplain ") if argv == ["--version"] else "usage: " in out
    code, out, _ = run(capsys, [])  # no command: the help, and 2
    assert code == 2 and out.startswith("usage: graphexplain")
    code, out, err = run(capsys, ["frobnicate"])
    assert code == 2 and out == "" and err.startswith("error: ") and "invalid choice" in err


def _commands() -> list[str]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(sub.choices)


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: graphexplain {command}")
