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


def pytest_sessionstart(session):
    """Under mutation testing (``tests/mutation/run.sh``), mutmut runs each mutant's tests in
    a process forked from one that already ran them unmutated. Forget what that process
    cached: sympy's cache of evaluated functions (``sigmoid(2.0)`` worked out by the
    unmutated ``eval``) and graphexplain's own ``lru_cache``s, so a mutant is really run."""
    if "__mutmut_" not in os.environ.get("MUTANT_UNDER_TEST", ""):
        return
    from sympy.core.cache import clear_cache

    clear_cache()
    for name, module in list(sys.modules.items()):
        if name.startswith("graphexplain") and module is not None:
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()
