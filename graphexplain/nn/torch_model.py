"""Compatibility: the torch import now lives in the package :mod:`graphexplain.nn.torch`.

What it does: re-exports that package's public names under the old module path
(``from graphexplain.nn.torch_model import explain_file`` keeps working), with ``trace`` as the
old name of :func:`~graphexplain.nn.torch.scalarize.scalarize_model`.

What it does not do: anything else; new code imports :mod:`graphexplain.nn.torch`.
"""

from __future__ import annotations

from . import torch as _package
from .torch import *  # noqa: F403 (the package's public names, listed in its __all__)
from .torch import scalarize_model

trace = scalarize_model

__all__ = [*_package.__all__, "trace"]
