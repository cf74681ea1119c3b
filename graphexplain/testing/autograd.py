"""A custom ``torch.autograd.Function``'s hand-written ``backward`` checked against the
derivation of its ``forward`` (:func:`check_autograd_function`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..evaluate import evaluate
from .compare import GradientMismatch, compare, message, show

# --- a custom autograd.Function -------------------------------------------------------------------


class _Ctx:
    """A stand-in for autograd's ctx while the forward is traced on its own."""

    def __init__(self):
        self.saved_tensors = ()
        self.needs_input_grad = ()

    def save_for_backward(self, *tensors):
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *args):
        pass

    def set_materialize_grads(self, value):
        pass


def positional(fn: Callable, names: Sequence[str]) -> Callable:
    """``fn`` with exactly these named parameters (the tracer names the inputs after them):
    a fixed-arity wrapper whose code object carries the names."""
    wrappers = {1: lambda x: fn(x), 2: lambda x, y: fn(x, y), 3: lambda x, y, z: fn(x, y, z),
                4: lambda x, y, z, t: fn(x, y, z, t)}
    if len(names) not in wrappers:
        raise ValueError("a function of 1 to 4 tensors is needed")
    wrapper = wrappers[len(names)]
    if all(n.isidentifier() and n != "fn" for n in names) and len(set(names)) == len(names):
        wrapper.__code__ = wrapper.__code__.replace(co_varnames=tuple(names))
    return wrapper


def parameter_names(fn: Callable, count: int, skip: int = 0) -> list[str]:
    """The names of ``fn``'s first parameters (after ``skip``, e.g. ctx), else x, y, z, t."""
    import inspect

    try:
        params = list(inspect.signature(fn).parameters.values())[skip:]
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return names[:count] if len(names) >= count else ["x", "y", "z", "t"][:count]


def check_autograd_function(function_class, *inputs, points: int = 3, seed: int = 0,
                            rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """Check a ``torch.autograd.Function``'s hand-written ``backward`` against the derivation
    of its ``forward``: the vector-Jacobian product Jᵀv that the backward returns (through
    ``Function.apply`` and ``torch.autograd.grad``), for a random v, against the derivation's,
    for every input that requires grad, at the given inputs and ``points − 1`` more near
    them. Inputs that should get a gradient need ``requires_grad=True``, as for backward()."""
    __tracebackhide__ = True
    import torch

    from ..nn.torch.explain import explain_module

    inputs = tuple(t.detach().double().requires_grad_(t.requires_grad) for t in inputs)
    if not any(t.requires_grad for t in inputs):
        raise ValueError("no input requires grad: create the inputs to check with "
                         "requires_grad=True, as for backward()")
    names = parameter_names(function_class.forward, len(inputs), skip=1)
    forward = positional(lambda *xs: function_class.forward(_Ctx(), *xs), names)
    shape = forward(*inputs).shape
    gen = torch.Generator().manual_seed(seed)
    v = torch.rand(shape, generator=gen, dtype=torch.float64) + 0.5
    expl = explain_module(forward, inputs, gradient=v if shape else None, verify=False)
    leaves = expl.traced.input_leaves
    evs, got = [], {}
    for k in range(points):
        xs = inputs if k == 0 else tuple(
            t.detach() + torch.rand(t.shape, generator=gen, dtype=torch.float64) - 0.5
            for t in inputs)
        xs = tuple(x.detach().clone().requires_grad_(t.requires_grad)
                   for x, t in zip(xs, inputs))
        point = dict(expl.traced.point)
        for x, ids in zip(xs, leaves):
            for idx, leaf in np.ndenumerate(np.asarray(ids, dtype=object)):
                point[leaf] = float(x.detach().numpy()[idx])
        evs.append(evaluate(expl.graph, expl.output, point))
        wanted = [x for x in xs if x.requires_grad]
        grads = torch.autograd.grad(function_class.apply(*xs), wanted,
                                    v if shape else None, allow_unused=True)
        for x, ids, g in zip(wanted, [lv for x, lv in zip(xs, leaves) if x.requires_grad],
                             grads):
            g = torch.zeros_like(x) if g is None else g
            for idx, leaf in np.ndenumerate(np.asarray(ids, dtype=object)):
                got.setdefault(leaf, []).append(float(g.detach().numpy()[idx]))
    wrong = compare(expl, evs, got, rtol, atol)
    if wrong:
        raise GradientMismatch(f"{function_class.__name__}.backward disagrees with the "
                               f"derivation of its forward (Jᵀv, v = {show(v.numpy())})\n"
                               + message(expl, wrong, len(got), evs, rtol), wrong)
    return True
