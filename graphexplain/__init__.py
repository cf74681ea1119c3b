"""graphexplain: explains backpropagation symbolically, with pictures, and with proof.

>>> import graphexplain
>>> e = graphexplain.explain("J(a,b,c) = 3(a+bc)", at={"a": 1, "b": 2, "c": 3})
>>> e.gradients["b"]["formula"], e.gradients["b"]["value"]
(3*c, 9.0)

The pipeline, one module per stage: :mod:`~graphexplain.parse` (text → Program),
:mod:`~graphexplain.graph` (→ networkx DiGraph), :mod:`~graphexplain.derive` (the chain
rule), :mod:`~graphexplain.evaluate` (numbers), :mod:`~graphexplain.verify` (torch and
finite differences), :mod:`~graphexplain.report` and :mod:`~graphexplain.render` (printers).
The op table, :mod:`~graphexplain.ops`, is the one place where an operation is defined.
torch is imported only when a check runs.
"""

from .api import Explanation, explain, explain_graph
from .errors import (
                     GraphError,
                     GraphExplainError,
                     LimitError,
                     ParseError,
                     PointError,
                     RenderError,
                     UnsupportedOpError,
)
from .limits import Limits

__version__ = "0.1.0"


def __getattr__(name):
    # explain_module needs torch; importing it lazily keeps symbolic-only runs free of torch
    if name in ("explain_module", "explain_mlp"):
        from . import api
        from .nn import torch as torch_nn

        return getattr(torch_nn if name == "explain_module" else api, name)
    raise AttributeError(f"module 'graphexplain' has no attribute {name!r}")
__all__ = [
                     "Explanation",
                     "GraphError",
                     "GraphExplainError",
                     "LimitError",
                     "Limits",
                     "ParseError",
                     "PointError",
                     "RenderError",
                     "UnsupportedOpError",
                     "explain",
                     "explain_graph",
]
