"""Shared test set-up: ``tests/`` is importable, so test modules share ``strategies``; and the
hypothesis profiles.

Profiles: ``ci`` (the default) is derandomized, so every run draws the same examples and a
failure in CI fails every time, and it prints the reproduction blob of a failing example.
``HYPOTHESIS_PROFILE=dev`` draws new examples on every run (and remembers failures in the
local example database): use it to look for new counterexamples, e.g.
``HYPOTHESIS_PROFILE=dev .venv/bin/pytest tests/test_evaluate_verify.py``.
"""

import os
import sys
from pathlib import Path

from hypothesis import settings

HERE = str(Path(__file__).parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

# Tests that set max_examples themselves keep theirs; 100 is hypothesis' own default.
settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None,
                          max_examples=100)
settings.register_profile("dev", derandomize=False, print_blob=True, deadline=None,
                          max_examples=100)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
