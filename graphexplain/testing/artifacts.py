"""``--graphexplain-artifacts DIR`` (the pytest plugin sets :data:`FOLDER`): the highlighted
diagram of each failing gradient, in a folder per test."""

from __future__ import annotations

from pathlib import Path

from ..graph import label

FOLDER: Path | None = None  # set by the pytest plugin's --graphexplain-artifacts DIR
MAX_DRAWN = 32  # diagrams per failure


def file_name(text: str, keep: str = "-.") -> str:
    """``text`` as a file name: letters and digits kept (and ``keep``), the rest ``_``."""
    return "".join(ch if ch.isalnum() or ch in keep else "_" for ch in text)


def folder(test: str | None = None) -> Path:
    """Where a test's diagrams go: a folder per test (pytest names the running test in
    ``PYTEST_CURRENT_TEST``), which the plugin removes again when the test passes."""
    import os

    if test is None:
        test = os.environ.get("PYTEST_CURRENT_TEST", "graphexplain").rsplit(" ", 1)[0]
    return FOLDER / file_name(test)


def draw(expl, wrong: list) -> list[str]:
    """The highlighted diagram of each failing gradient (a list of
    :class:`~graphexplain.testing.compare.Wrong`), into the test's folder."""
    where = folder()
    where.mkdir(parents=True, exist_ok=True)
    lines = []
    if len(wrong) > MAX_DRAWN:
        lines.append(f"  (the first {MAX_DRAWN} of {len(wrong)} are drawn)")
    for w in wrong[:MAX_DRAWN]:
        path = where / f"{expl.output}_d{file_name(label(expl.graph, w.node), keep='')}.svg"
        try:
            expl.render(path, view="paths", wrt=w.node)
            lines.append(f"  drawn: {path}")
        except Exception as e:  # a drawing must never hide the assertion itself
            lines.append(f"  (not drawn: {e})")
    return lines
