"""Shared test set-up: ``tests/`` is importable, so test modules share ``strategies``."""

import sys
from pathlib import Path

HERE = str(Path(__file__).parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
