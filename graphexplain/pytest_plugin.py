"""graphexplain's pytest plugin (entry point ``pytest11``): ``--graphexplain-artifacts DIR``.

With the option, every :class:`graphexplain.testing.GradientMismatch` also draws each failing
gradient's paths (the ``paths`` view, highlighted) into DIR/<the test's id>/, and its message
names the files; the folder of a test that passes is removed again.
"""

from __future__ import annotations

from pathlib import Path


def pytest_addoption(parser):
    group = parser.getgroup("graphexplain")
    group.addoption("--graphexplain-artifacts", metavar="DIR", default=None,
                    help="write the highlighted diagram of each failing gradient into DIR")


def pytest_configure(config):
    folder = config.getoption("--graphexplain-artifacts", default=None)
    if folder:
        from .testing import artifacts

        artifacts.FOLDER = Path(folder)


def pytest_runtest_logreport(report):
    """A test that passed (a ``pytest.raises(GradientMismatch)`` included) keeps no diagrams."""
    from .testing import artifacts

    if artifacts.FOLDER is None or report.when != "call" or not report.passed:
        return
    import shutil

    shutil.rmtree(artifacts.folder(report.nodeid), ignore_errors=True)
