"""The README is true: every command it shows runs as shown, and exits as it says."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PREFIX = ".venv/bin/graphexplain "


def readme_commands() -> list[str]:
    """Every ``.venv/bin/graphexplain …`` line in the README's shell blocks (comments cut)."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    lines = [line.split("   #")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line.startswith(PREFIX)]


def test_the_readme_shows_commands():
    assert len(readme_commands()) >= 10


@pytest.mark.parametrize("command", readme_commands())
def test_readme_command_runs(command, tmp_path):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    args = shlex.split(command[len(PREFIX):])
    p = subprocess.run([sys.executable, "-m", "graphexplain", *args], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stdout or list(tmp_path.iterdir()) != [tmp_path / "examples"]
    assert "Traceback" not in p.stderr
