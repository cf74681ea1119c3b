"""Progress bars for long work, on stderr.

A bar appears only after about a second of work, only when stderr is a terminal, and never
under ``--quiet`` (which sets :data:`QUIET`). Short runs and pipes stay silent.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from tqdm import tqdm

QUIET = False


def track(iterable: Iterable, desc: str, total: int | None = None) -> Iterable:
    """``iterable``, with a progress bar when the work turns out to be long."""
    return tqdm(iterable, desc=desc, total=total, file=sys.stderr, delay=1.0, leave=False,
                mininterval=0.25, disable=QUIET or not sys.stderr.isatty())
