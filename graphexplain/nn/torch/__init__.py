"""Torch models as computation graphs: traced with torch.fx, scalarized one node per element.

What it does: turns an ``nn.Module`` (or a plain function of tensors), at small example
inputs, into the same plain Graph (schema in :mod:`graphexplain.graph`) that a program gives,
so derivation, reports, pictures and verification need nothing new; then explains it and
checks it against the model's own autograd. One module per stage, imports flowing one way:

- :mod:`.load`: ``FILE.py:NAME`` (**runs the file's code**), ``example_inputs``, ``loss``,
  ``target`` and ``gradient``;
- :mod:`.trace`: ``torch.fx`` tracing, with the user's variable names and the grad mode of
  every node;
- :mod:`.scalarize`: one graph node per tensor element, through :mod:`.table` (which torch
  callable goes to which handler), :mod:`.tensor_ops`, :mod:`.losses` and :mod:`.cuts`
  (``torch.no_grad()`` and ``.detach()`` make constants), over :mod:`.builder` (the graph
  being built);
- :mod:`.check`: the model's own autograd, in float64, as one more check;
- :mod:`.jacobian`, :mod:`.summary` and :mod:`.explain`: the explanation and what its
  reports add.

What it does not do: convolutions, softmax as a layer, normalization, indexing with tensors,
data-dependent control flow (torch.fx cannot trace it), or big tensors (``max_elements``).

Importing this package imports torch (the real one: every module here imports it absolutely);
nothing imports it until a torch model is explained.
"""

from __future__ import annotations

from .builder import MAX_ELEMENTS
from .check import ModuleVerification, module_check, module_gradients
from .explain import ModuleExplanation, explain_file, explain_module
from .jacobian import JACOBIAN_MAX, Jacobian, jacobian
from .load import Loaded, ModelFileError, load
from .scalarize import Traced, module_graph, scalarize_model
from .table import SUPPORTED

__all__ = [
    "JACOBIAN_MAX",
    "MAX_ELEMENTS",
    "SUPPORTED",
    "Jacobian",
    "Loaded",
    "ModelFileError",
    "ModuleExplanation",
    "ModuleVerification",
    "Traced",
    "explain_file",
    "explain_module",
    "jacobian",
    "load",
    "module_check",
    "module_gradients",
    "module_graph",
    "scalarize_model",
]
