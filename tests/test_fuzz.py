"""Fuzzing the parser and the pipeline: whatever the text, only GraphExplainError leaves.

Random strings, token soups (every kind of token the tokenizer reads, huge numbers, control
characters, unicode), random Python expression trees inside and outside the whitelist
(``ast.unparse``-d), and valid programs with random edits. Each example goes through
parse → build → derive → a text report; the explainable ones also through
:func:`graphexplain.explain` at a point with hostile values (0, −1, 710, 1e308, subnormals),
verified against torch, printed as text and JSON and drawn as DOT.

About 2,000 examples here, in CI; ``python tests/fuzz/long_run.py --examples 100000`` is the
long run over the same strategies and targets.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import (
    explained_outcome,
    hostile_points,
    mutated_programs,
    programs,
    python_programs,
    random_text,
    symbolic_outcome,
    time_limit,
    token_soups,
)

#: Generous: an example is a small program, answered in milliseconds; the first one with a
#: point imports torch (about 2 s).
DEADLINE = timedelta(seconds=8)
#: A hang is caught by this alarm, not by the deadline (which only measures finished calls).
HANG = 20


def fuzz(examples: int):
    return settings(max_examples=examples, deadline=DEADLINE,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large])


def symbolic(text: str) -> None:
    with time_limit(HANG):
        outcome = symbolic_outcome(text)
    assert outcome == "ok" or outcome.endswith("Error")


@fuzz(600)
@given(random_text())
def test_random_text(text):
    symbolic(text)


@fuzz(550)
@given(token_soups())
def test_token_soups(text):
    symbolic(text)


@fuzz(250)
@given(python_programs())
def test_random_python_trees(text):
    symbolic(text)


@fuzz(300)
@given(mutated_programs())
def test_edited_programs(text):
    symbolic(text)


@fuzz(300)
@given(st.one_of(programs(depth=2), mutated_programs(), python_programs()), st.data())
def test_whole_pipeline_at_hostile_points(text, data):
    with time_limit(HANG):
        outcome = explained_outcome(text, lambda names: data.draw(hostile_points(names)))
    assert outcome in ("ok", "symbolic") or outcome.endswith("Error")


@pytest.mark.parametrize("text", [
    "f = (lambda: 1)()", "f = __import__('os').system('true')", "f = [x for x in y]",
    "f = x\x00", "f = 9**9**9**9", "f = exp(exp(exp(exp(100))))*x", "a = b; b = a",
])
def test_fuzz_targets_refuse_in_one_line(text):
    """The targets themselves: a refusal is a class name, and its message is one line."""
    assert symbolic_outcome(text).endswith("Error")


def test_long_run_smoke(tmp_path):
    """The long mode stays runnable: a few inputs, one worker, a summary with no failures."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).parent / "fuzz" / "long_run.py"
    summary = tmp_path / "summary.json"
    p = subprocess.run([sys.executable, str(script), "--examples", "60", "--workers", "1",
                        "--pipeline-every", "3", "--json", str(summary)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    result = json.loads(summary.read_text())
    assert result["inputs"] >= 60 and result["unexpected_exceptions"] == 0
    assert result["pipeline_runs"] > 0
