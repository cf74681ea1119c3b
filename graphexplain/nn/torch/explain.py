"""Explaining a torch model: scalarize, derive, evaluate at the example, and check.

What it does: :func:`explain_module` scalarizes a model (:mod:`.scalarize`), explains the
graph as any other (:func:`graphexplain.api.explain_graph`: ∂L/∂w as a sum over paths,
evaluated at the example values), and verifies it against torch.autograd, central differences
and the model's own autograd (:mod:`.check`). :func:`explain_file` does the same for
``FILE.py:NAME`` (:mod:`.load`). The explanation's reports add the model's header, its cuts,
the module check, and for a vector output Jᵀv and the Jacobian (:mod:`.summary`).

What it does not do: anything a plain explanation does not, once the graph is built;
downstream nothing knows the graph came from torch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ...api import Explanation, explain_graph
from ...verify import Check, Verification
from . import summary
from .builder import MAX_ELEMENTS
from .check import ModuleVerification, module_check
from .jacobian import JACOBIAN_MAX, Jacobian, jacobian
from .load import load
from .scalarize import Traced, scalarize_model


@dataclass
class ModuleExplanation(Explanation):
    """An :class:`~graphexplain.api.Explanation` of a torch model: its reports add a header
    about the model and its cuts, the check against the model's own autograd, and, for a
    vector output, the vector-Jacobian product and the Jacobian."""

    traced: Traced | None = field(default=None, repr=False)
    jacobian: Jacobian | None = None

    def verify(self) -> Verification:
        if self.verification is None:
            base = super().verify()
            self.verification = ModuleVerification(base.torch, base.finite_difference,
                                                   module_check(self.traced, self.evaluation))
        return self.verification

    @property
    def module_check(self) -> Check | None:
        vf = self.verification
        return vf.module if isinstance(vf, ModuleVerification) else None

    @property
    def cuts(self) -> list[dict]:
        """Where the graph was cut: see :mod:`graphexplain.nn.torch.cuts`."""
        return self.traced.cuts

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["model"] = summary.model_dict(self.traced.info, self.cuts)
        if self.traced.gradient is not None:
            d["vector_output"] = summary.vector_dict(self.traced.outputs, self.traced.gradient,
                                                     self._vjp(), self.jacobian)
        return d

    def report(self, fmt: str = "text") -> str:
        if fmt == "json":
            return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)
        text = super().report(fmt)
        if fmt == "text":
            return self._text(text)
        if fmt == "markdown":
            return self._markdown(text)
        return text

    def _header(self) -> list[str]:
        return summary.header_lines(self.traced.info, self.cuts)

    def _text(self, text: str) -> str:
        parts = ["\n".join(self._header()), text.rstrip("\n")]
        if self.module_check is not None:
            parts[-1] += "\n" + summary.module_line(self.module_check)
        if self.traced.gradient is not None:
            parts.append("\n".join(self._vector_lines()))
        return "\n\n".join(parts) + "\n"

    def _markdown(self, text: str) -> str:
        if self.module_check is not None and text.endswith("```\n"):
            text = text[:-4] + summary.module_line(self.module_check) + "\n```\n"
        head = "\n".join(["### Model", "", "```", *self._header(), "```", ""])
        tail = ""
        if self.traced.gradient is not None:
            tail = "\n### Vector output\n\n```\n" + "\n".join(self._vector_lines()) + "\n```\n"
        return head + "\n" + text + tail

    def _vjp(self) -> dict[str, float]:
        return {x: self.evaluation.adjoints.get(x, 0.0) for x in self.derivation.leaves}

    def _vector_lines(self) -> list[str]:
        t = self.traced
        return summary.vector_lines(self.graph, t.outputs, t.gradient, self._vjp(),
                                    self.jacobian)


def explain_module(module_or_fn, example_inputs, loss=None, target=None, gradient=None,
                   verify: bool = True, max_elements: int = MAX_ELEMENTS) -> ModuleExplanation:
    """Explain the gradients of a torch model (or function) at example inputs.

    The model is traced with ``torch.fx`` and scalarized: one graph node per element of every
    parameter, input and intermediate tensor. Then every gradient is derived symbolically
    (∂L/∂w as a sum over paths), evaluated at the example values, and checked against
    torch.autograd, central differences, and the model's own autograd. What the model computes
    under ``torch.no_grad()``, or detaches, is a constant of the graph, as it is to autograd.

    Parameters
    ----------
    module_or_fn : an ``nn.Module`` or a function of tensors.
    example_inputs : a tensor or a tuple of tensors (small ones: each element is a node). An
        input requires grad, and gets a gradient, only when its tensor does.
    loss : a loss module (``nn.MSELoss()``, ``nn.CrossEntropyLoss()``,
        ``nn.BCEWithLogitsLoss()``) or a function ``loss(output, target)``; optional.
    target : the target tensor for ``loss`` (class indices for CrossEntropyLoss, or floats).
    gradient : v for a non-scalar output, as ``backward(gradient=v)``: the graph's output is
        then vjp = Σₖ vₖ·outₖ, whose gradients are Jᵀv; a flat list is reshaped.
    verify : run the checks (torch, central differences, the model's own autograd).
    max_elements : refuse models with more scalar nodes than this.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> _ = torch.manual_seed(0)
    >>> x = torch.tensor([[1.0], [2.0]])
    >>> e = explain_module(nn.Linear(1, 1), (x,), loss=nn.MSELoss(), target=3 * x + 0.8)
    >>> e.gradients["weight_0_0"]["path_count"]
    2
    >>> e.verification.ok
    True

    Under ``torch.no_grad()`` the graph is cut: here ∂out/∂x = 2·x, and c adds nothing.

    >>> def f(x):
    ...     with torch.no_grad():
    ...         c = x * 10
    ...     return (x * x + c).sum()
    >>> e = explain_module(f, (torch.tensor([3.0], requires_grad=True),))
    >>> e.gradients["x_0"]["value"], e.cuts[0]["labels"], e.verification.ok
    (6.0, ['c[0]'], True)
    """
    t = scalarize_model(module_or_fn, example_inputs, loss, target, gradient, max_elements)
    base = explain_graph(t.graph, at=t.point, verify=False)
    expl = ModuleExplanation(base.derivation, base.evaluation, None, traced=t)
    leaves = expl.derivation.leaves
    if t.gradient is not None and t.outputs.size <= JACOBIAN_MAX and len(leaves) <= JACOBIAN_MAX:
        expl.jacobian = jacobian(t.graph, base.evaluation, list(t.outputs.flat), leaves)
    if verify:
        expl.verify()
    return expl


def explain_file(spec: str, gradient=None, verify: bool = True) -> ModuleExplanation:
    """``load(spec)`` then :func:`explain_module`; ``gradient`` overrides the file's."""
    m = load(spec)
    return explain_module(m.model, m.example_inputs, loss=m.loss, target=m.target,
                          gradient=m.gradient if gradient is None else gradient, verify=verify)
