"""Which torch callable is scalarized by which handler: the torch side of the op table.

What it does: maps ``nn.Module`` classes (``MODULES``), functions (``FUNCTIONS``: ``torch.*``,
``F.*`` and Python's operators) and tensor methods (``METHODS``) to the handlers of
:mod:`.tensor_ops`, :mod:`.losses` and :mod:`.cuts`. ``INPLACE`` lists the methods that change
their tensor for every later use (``x.detach_()``), which the walk in :mod:`.scalarize`
rebinds. Adding a torch op is one row here (and, for new maths, one row of
:mod:`graphexplain.ops`).

What it does not do: build anything; an op not listed is refused by the caller, naming the
op and its module path, with ``SUPPORTED`` as the list of what is.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from . import cuts, losses
from . import tensor_ops as T

SUPPORTED = ("nn.Linear, the activations (ReLU, Sigmoid, Tanh, ELU, LeakyReLU, Softplus), "
             "+ − * / **, matmul, sum, mean, reshapes and indexing, detach, torch.no_grad(), "
             "MSELoss, CrossEntropyLoss, BCEWithLogitsLoss")


def _linear_module(b, name, path, m: nn.Linear, input):
    """``nn.Linear``: its weight and bias are parameters, named by the module path."""
    weight = b.param(f"{path}.weight", m.weight)
    bias = None if m.bias is None else b.param(f"{path}.bias", m.bias)
    return T.linear(b, name, input, weight, bias)


def _module_activation(op: str) -> Callable:
    """A handler for an activation module without parameters (``nn.ReLU()``, …)."""

    def handler(b, name, path, m, input):
        return T.elementwise(b, name, op, input)

    return handler


MODULES: dict[type, Callable] = {
    nn.Linear: _linear_module,
    nn.ReLU: _module_activation("relu"),
    nn.Sigmoid: _module_activation("sigmoid"),
    nn.Tanh: _module_activation("tanh"),
    nn.ELU: lambda b, name, path, m, input: T.elu(b, name, input, m.alpha),
    nn.LeakyReLU: lambda b, name, path, m, input: T.leaky_relu(b, name, input, m.negative_slope),
    nn.Softplus: lambda b, name, path, m, input: T.softplus(b, name, input, m.beta, m.threshold),
    nn.Identity: lambda b, name, path, m, input: input,
    nn.Flatten: lambda b, name, path, m, input: T.flatten(b, name, input, m.start_dim, m.end_dim),
    nn.MSELoss: lambda b, name, path, m, input, target: losses.mse_loss(
        b, name, input, target, reduction=m.reduction),
    nn.BCEWithLogitsLoss: lambda b, name, path, m, input, target: losses.bce_logits(
        b, name, input, target, m.weight, reduction=m.reduction, pos_weight=m.pos_weight),
    nn.CrossEntropyLoss: lambda b, name, path, m, input, target: losses.cross_entropy(
        b, name, input, target, m.weight, ignore_index=m.ignore_index, reduction=m.reduction,
        label_smoothing=m.label_smoothing),
}

_ELEMENTWISE = {op: T.activation(op) for op in ("relu", "sigmoid", "tanh", "exp", "log", "sqrt",
                                                "abs")}

FUNCTIONS: dict[Callable, Callable] = {
    operator.add: T.add, torch.add: T.add, operator.sub: T.sub, torch.sub: T.sub,
    torch.rsub: T.rsub, operator.mul: T.mul, torch.mul: T.mul, operator.truediv: T.div,
    torch.div: T.div, operator.pow: T.power, torch.pow: T.power, operator.neg: T.neg,
    torch.neg: T.neg, operator.matmul: T.matmul, torch.matmul: T.matmul, torch.mm: T.matmul,
    torch.sum: T.tensor_sum, torch.mean: T.mean, torch.flatten: T.flatten,
    torch.reshape: T.reshape, torch.t: T.t, torch.transpose: T.transpose,
    torch.squeeze: T.squeeze, torch.unsqueeze: T.unsqueeze, getattr: T.attribute,
    operator.getitem: T.getitem, torch.detach: cuts.detach,
    **{getattr(torch, op): h for op, h in _ELEMENTWISE.items()},
    F.relu: _ELEMENTWISE["relu"], F.sigmoid: _ELEMENTWISE["sigmoid"],
    F.tanh: _ELEMENTWISE["tanh"], F.elu: T.elu, F.leaky_relu: T.leaky_relu,
    F.softplus: T.softplus, F.linear: T.linear, F.mse_loss: losses.mse_loss,
    F.cross_entropy: losses.cross_entropy,
    F.binary_cross_entropy_with_logits: losses.bce_logits,
}

METHODS: dict[str, Callable] = {
    "add": T.add, "sub": T.sub, "mul": T.mul, "div": T.div, "pow": T.power, "neg": T.neg,
    "matmul": T.matmul, "mm": T.matmul, "sum": T.tensor_sum, "mean": T.mean,
    "reshape": T.reshape, "view": T.reshape, "flatten": T.flatten, "t": T.t,
    "transpose": T.transpose, "squeeze": T.squeeze, "unsqueeze": T.unsqueeze, "size": T.size,
    "detach": cuts.detach, "detach_": cuts.detach, "requires_grad_": cuts.requires_grad_,
    **_ELEMENTWISE,
}

#: Methods that change their tensor in place: later uses of it see the result.
INPLACE = frozenset({"detach_", "requires_grad_"})
