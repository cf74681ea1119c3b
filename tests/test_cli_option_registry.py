"""Every option of every command has a test that fails if the option is ignored, and every
exit code of every command is asserted (issue 13). The list of options comes from the argparse
parsers themselves, so a new option without a registered test fails here."""

from __future__ import annotations

import argparse
import ast
from functools import cache
from pathlib import Path

import pytest
from cli_option_registry import CANNOT, EXIT_CODES, OPTIONS

from graphexplain.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent


def _name(action: argparse.Action) -> str | None:
    if isinstance(action, argparse._SubParsersAction):
        return None
    if not action.option_strings:
        return action.dest
    longs = [s for s in action.option_strings if s.startswith("--")]
    return (longs or action.option_strings)[0]


def cli_options() -> dict[str, str]:
    """``"COMMAND OPTION"`` (or ``"OPTION"`` at the top level) → the command."""
    parser = build_parser()
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command, sub in action.choices.items():
                for a in sub._actions:
                    if _name(a):
                        found[f"{command} {_name(a)}"] = command
        elif _name(action):
            found[_name(action)] = ""
    return found


def commands() -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(sub.choices)


@cache
def _functions(path: str) -> frozenset[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return frozenset(n.name for n in tree.body
                     if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))


def node_exists(node: str) -> None:
    """A registry value names a test function that exists."""
    path, sep, function = node.partition("::")
    assert sep and path.startswith("tests/") and path.endswith(".py"), f"not a node id: {node}"
    assert (ROOT / path).is_file(), f"{node}: no file {path}"
    assert function in _functions(path), f"{node}: no test function {function} in {path}"
    assert function.startswith("test_"), node


def check_entry(key: str, value: str) -> None:
    if value.startswith("INERT: "):
        reason, sep, node = value.removeprefix("INERT: ").partition("; test: ")
        assert sep and len(reason) > 30, f"{key}: an INERT entry gives its reason and its test"
        node_exists(node)
        return
    node_exists(value)


@pytest.mark.parametrize("key", sorted(cli_options()))
def test_every_option_has_a_registered_test(key):
    assert key in OPTIONS, (f"'{key}' has no test registered in tests/cli_option_registry.py; "
                            "write one that fails if the option is ignored, and register it")
    check_entry(key, OPTIONS[key])


def test_no_entry_for_an_option_that_is_gone():
    """An entry for a removed option is stale."""
    stale = [k for k in OPTIONS if k not in cli_options()]
    assert stale == []


@pytest.mark.parametrize("command", ["graphexplain", *commands()])
def test_every_exit_code_of_every_command_is_registered(command):
    assert command in EXIT_CODES, f"{command}: register its exit codes 0, 1, 2 and 3"
    entries = EXIT_CODES[command]
    assert sorted(entries) == [0, 1, 2, 3], command
    for code, value in entries.items():
        if value.startswith(CANNOT):
            assert code in (1, 3), f"{command} exit {code}: every command can succeed and refuse"
            assert len(value.removeprefix(CANNOT)) > 40, f"{command} exit {code}: say why"
        else:
            node_exists(value)


def test_the_commands_documented_as_unable_to_exit_3_cannot():
    """ops and fd-study have no exit-3 path: their functions return only 0 (checked in the
    source, so adding a verifier to them forces the registry to be updated)."""
    import inspect

    from graphexplain import cli

    cannot = {c for c, e in EXIT_CODES.items() if e.get(3, "").startswith(CANNOT)}
    assert cannot == {"graphexplain", "ops", "fd-study"}
    for command in cannot - {"graphexplain"}:
        source = inspect.getsource(cli.COMMANDS[command])
        returns = [line.strip() for line in source.splitlines()
                   if line.strip().startswith("return")]
        assert returns == ["return 0"], (command, returns)
