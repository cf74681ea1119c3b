"""The model's own autograd, as one more check of every explained gradient.

What it does: runs a float64 copy of the model (``copy.deepcopy(module).double()``; for a
function, the same code over float64 copies of the tensors it uses from outside, like the
seed's ``w`` and ``b``) on float64 copies of the example inputs, differentiates the output (the
loss, or vjp = Σₖ vₖ·outₖ via ``grad_outputs=v``) with ``torch.autograd.grad``, and compares
∂out/∂leaf for every element of every parameter and input that requires grad. The model runs
as written, ``torch.no_grad()`` and ``.detach()`` included, so a graph cut where torch cuts it
agrees, and one that is not does not.

What it does not do: touch the caller's tensors (``.grad`` stays as it was), or check a leaf
that the model's autograd does not reach (``allow_unused``: its gradient is not compared).
"""

from __future__ import annotations

import copy
import inspect
import types
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ...errors import GraphError
from ...evaluate import Evaluation
from ...graph import grad_leaves
from ...verify import ATOL_TORCH, RTOL_TORCH, Check, Verification, _compare
from .builder import is_node
from .scalarize import Traced


def float64(x):
    """A float64 copy (a leaf, requiring grad as the original does); integers stay integers."""
    if not isinstance(x, torch.Tensor):
        return x
    if not x.dtype.is_floating_point:
        return x.detach().clone()
    return x.detach().to(torch.float64).requires_grad_(x.requires_grad)


def float64_function(fn) -> tuple[Callable, dict[int, torch.Tensor]]:
    """The same function over float64 copies of the tensors it uses from outside (its
    globals and closure), as ``.double()`` does for a module's parameters."""
    if not inspect.isfunction(fn):
        return fn, {}
    copies: dict[int, torch.Tensor] = {}

    def swap(v):
        if isinstance(v, torch.Tensor) and v.dtype.is_floating_point:
            return copies.setdefault(id(v), float64(v))
        return v

    scope = dict(fn.__globals__)
    scope.update({k: swap(scope[k]) for k in fn.__code__.co_names if k in scope})
    cells = None if fn.__closure__ is None else tuple(
        types.CellType(swap(c.cell_contents)) if _full(c) else c for c in fn.__closure__)
    out = types.FunctionType(fn.__code__, scope, fn.__name__, fn.__defaults__, cells)
    out.__kwdefaults__ = fn.__kwdefaults__
    return out, copies


def _full(cell) -> bool:
    try:
        cell.cell_contents  # noqa: B018 (an empty cell raises)
    except ValueError:
        return False
    return True


def float64_model(model) -> tuple[Callable, dict[int, torch.Tensor]]:
    """A float64 copy of the model, and id(original tensor) → its copy."""
    if not isinstance(model, nn.Module):
        return float64_function(model)
    double = copy.deepcopy(model).double()
    copies = dict(double.named_parameters())
    return double, {id(p): copies[n] for n, p in model.named_parameters()}


def _forward(t: Traced, model, inputs: list):
    """The model's output (its loss, when there is one), in float64, with grad on, drawing
    the random numbers the trace drew (the caller's random state is left as it was)."""
    with torch.enable_grad(), torch.random.fork_rng(devices=[]):
        if t.rng_state is not None:
            torch.set_rng_state(t.rng_state)
        out = model(*inputs)
        if t.loss is not None:
            loss = copy.deepcopy(t.loss).double() if isinstance(t.loss, nn.Module) else t.loss
            out = loss(out, float64(t.target))
    return out


def _pairs(t: Traced, copies: dict, inputs: list) -> list[tuple[np.ndarray, torch.Tensor]]:
    """(leaf ids, tensor) for every parameter and input that requires grad after the run
    (``requires_grad_(False)`` in the model turns one off)."""
    pairs = [(leaves, copies[i]) for i, leaves in t.params.items()
             if i in copies and copies[i].requires_grad]
    return pairs + [(leaves, x) for leaves, x in zip(t.input_leaves, inputs, strict=True)
                    if leaves is not None and x.requires_grad]


def module_gradients(t: Traced) -> dict[str, float]:
    """Every leaf gradient from the model's own autograd, in float64: ∂out/∂leaf, or
    (Jᵀv)_leaf for a vector output.

    The model is copied (``copy.deepcopy(module).double()``; for a function, the tensors it
    uses from outside), and the inputs too, and ``torch.autograd.grad`` is used, so nothing of
    the caller's (``.grad`` included) changes.
    """
    model, copies = float64_model(t.model)
    inputs = [float64(x) for x in t.inputs]
    try:
        out = _forward(t, model, inputs)
        pairs = _pairs(t, copies, inputs)
        if not pairs or not out.requires_grad:
            return {}
        grads = torch.autograd.grad(out, [x for _, x in pairs], grad_outputs=t.gradient,
                                    allow_unused=True)
    except RuntimeError as e:  # e.g. an inference_mode tensor that backward would need
        reason = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise GraphError(f"the model's own autograd fails: {reason}") from None
    ref = {}
    for (leaves, _), g in zip(pairs, grads, strict=True):
        for idx in np.ndindex(leaves.shape):
            if g is not None and is_node(leaves[idx]):
                ref[leaves[idx]] = float(g[idx])
    return ref


def module_check(t: Traced, ev: Evaluation) -> Check:
    """Compare every leaf gradient with the model's own autograd (float64)."""
    ref = module_gradients(t)
    order = [n for n in grad_leaves(t.graph) if n in ref] + [n for n in ref if n not in t.graph]
    ours = {n: ev.adjoints.get(n, 0.0) for n in ref}  # a pruned leaf has gradient 0
    return _compare("module", ours, ref, order, RTOL_TORCH, ATOL_TORCH)


@dataclass(frozen=True)
class ModuleVerification(Verification):
    """The usual checks (torch rebuild, central differences) plus the model's own autograd."""

    module: Check | None = None

    @property
    def ok(self) -> bool | None:
        results = [super().ok, None if self.module is None else self.module.ok]
        if any(r is False for r in results):
            return False
        return None if all(r is None for r in results) else True

    def to_dict(self) -> dict:
        d = super().to_dict()
        if self.module is not None:
            d["module"] = self.module.to_dict()
        return d
