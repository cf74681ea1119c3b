"""Writing output files atomically: a temporary file in the same folder, then a rename.

A run that fails leaves nothing behind: no half-written report or diagram.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import GraphExplainError


def write_atomic(path: str | Path, data: bytes | str,
                 error: type[GraphExplainError] = GraphExplainError) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one.

    Any failure raises ``error`` with a one-line message and leaves no file behind.
    """
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise error(f"cannot write {path}: the directory {folder} does not exist")
    raw = data.encode() if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise error(f"cannot write {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        os.chmod(tmp, 0o644)  # mkstemp makes the file private; a report is for sharing
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise error(f"cannot write {path}: {e.strerror or e}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
