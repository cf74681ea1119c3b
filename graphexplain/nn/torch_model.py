"""Torch models as computation graphs: traced with torch.fx, scalarized one node per element.

What it does: traces an ``nn.Module`` (or a plain function of tensors) with ``torch.fx`` over
small example tensors and turns every tensor operation into one graph node *per element*, so
the result is the same plain Graph (schema in :mod:`graphexplain.graph`) that a program gives,
and derivation, reports, pictures and verification need nothing new.

- Every element of a parameter is a ``param`` leaf, shape-indexed: ``linear.weight[0,0]``
  (node id ``linear_weight_0_0``). Every element of an example input is an ``input`` leaf
  (``x[3,0]``) that requires grad only when the example tensor does, as in torch. Targets are
  ``const`` leaves; class-index targets become the one-hot numbers of the ``cross_entropy`` row.
- Intermediate elements are named after the variable they are assigned to in the source
  (``var1 = x + 2`` gives ``var1[0,1]``), else after the fx node (``add[0,1]``).
- ``nn.Linear`` (and ``F.linear``, ``@``) gives one ``linear`` node per output element,
  yⱼ = Σₖ Wⱼₖ·xₖ + bⱼ. ``a − b = a + (−1)·b`` and ``a / b = a · b⁻¹`` are compositions, as
  everywhere in graphexplain. ``mean`` is a sum, then a product with 1/N.
- ``MSELoss``, ``BCEWithLogitsLoss`` (reduction mean) are one ``mse``/``bce_logits`` node over
  all elements; ``CrossEntropyLoss`` is one ``cross_entropy`` node per sample, then their mean
  (over the samples whose class is not ``ignore_index``, as torch does).
- A non-scalar output needs ``gradient=v``, as ``backward(gradient=v)`` does: the graph gets
  the scalar ``vjp = Σₖ vₖ·outₖ``, whose gradient is the vector-Jacobian product Jᵀv. For small
  outputs the Jacobian Jₖᵢ = ∂outₖ/∂xᵢ is computed and shown too.
- Verification adds, to the usual checks, the model's *own* autograd: a float64 copy of the
  module (``copy.deepcopy(module).double()``; for a function, of the tensors it uses from
  outside, like the seed's ``w`` and ``b``) is run and differentiated with
  ``torch.autograd.grad``, and every leaf gradient is compared.

What it does not do: convolutions, softmax as a layer, normalization, indexing with tensors,
data-dependent control flow (torch.fx cannot trace it), or big tensors: a model is refused
past ``max_elements`` scalar nodes (5,000 by default), since each element is a node with its
own symbolic partials. An unsupported operation is an :class:`UnsupportedOpError` naming the
op and the module path. ``load("FILE.py:NAME")`` *runs the file's code*.

This module imports torch at the top; nothing imports it until a torch model is explained.
"""

from __future__ import annotations

import ast
import copy
import functools
import inspect
import json
import math
import operator
import re
import runpy
import textwrap
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np
import sympy
import torch
import torch.fx
import torch.nn.functional as F
from torch import nn

from .. import ops
from ..api import Explanation, explain_graph
from ..derive import derive
from ..errors import GraphError, GraphExplainError, LimitError, PointError, UnsupportedOpError
from ..evaluate import Evaluation, backward
from ..graph import add_leaf, add_op, grad_leaves, label, new_graph, validate
from ..report import expr_text, json_num, num
from ..verify import ATOL_TORCH, RTOL_TORCH, Check, Verification, _compare

#: The most scalar nodes (elements of parameters, inputs and intermediates) a model may have.
MAX_ELEMENTS = 5_000

#: The Jacobian is shown when the output has at most this many elements, and so many inputs.
JACOBIAN_MAX = 6

SUPPORTED = ("nn.Linear, the activations (ReLU, Sigmoid, Tanh, ELU, LeakyReLU, Softplus), "
             "+ − * / **, matmul, sum, mean, MSELoss, CrossEntropyLoss, BCEWithLogitsLoss")


class ModelFileError(GraphExplainError):
    """A model file that cannot be used: missing, failing, or without NAME or example_inputs."""


class _Refused(Exception):
    """A supported op called in an unsupported way; the caller adds the op and the path."""


# --- handles: what a tensor element is while the graph is built -------------------------------
# A tensor becomes a numpy object array of *handles*: a node id (str) or a sympy number.


def _const(x) -> sympy.Expr:
    """A Python or sympy number as a sympy number (integers stay exact: ``x*3``, not 3.0)."""
    if isinstance(x, sympy.Basic):
        return x
    if isinstance(x, bool | int) or (isinstance(x, float) and x.is_integer()):
        return sympy.Integer(int(x))
    if isinstance(x, float):
        return sympy.Float(x)
    raise _Refused(f"the argument {x!r} is not a tensor or a number")


def _scalar(h) -> np.ndarray:
    out = np.empty((), dtype=object)
    out[()] = h
    return out


def _as_array(x) -> np.ndarray:
    """Handles as an array; a Python number is a 0-d array of one number."""
    return x if isinstance(x, np.ndarray) else _scalar(_const(x))


def _is_node(h) -> bool:
    return isinstance(h, str)


def _index_text(idx: tuple, sep: str) -> str:
    return sep.join(str(i) for i in idx)


def _identifier(path: str, prefix: str = "p") -> str:
    """A dotted torch path as a node-id base: ``linear.weight`` → ``linear_weight``, and
    ``0.weight`` (in an ``nn.Sequential``) → ``p0_weight``, since ids are identifiers."""
    text = "".join(c if c.isalnum() or c == "_" else "_" for c in path)
    return text if text.isidentifier() else prefix + text


def _shape_text(shape: Sequence[int]) -> str:
    return "×".join(map(str, shape)) if len(shape) else "scalar"


class _Builder:
    """The graph being built: its nodes, the example point, and the names already used."""

    def __init__(self, max_elements: int):
        self.G = new_graph()
        self.point: dict[str, float] = {}
        self.bases: set[str] = set()
        self.max_elements = max_elements
        self.params: dict[int, np.ndarray] = {}  # id(parameter) → its leaves; a cache key only
        self.info: dict = {"parameters": {}, "inputs": {}, "constants": {}}
        self.names: dict[int, str] = {}  # id(tensor) → a function's name for it (a cache key)

    def base(self, name: str) -> str:
        """Reserve a base name for one tensor's elements (``add``, then ``add2``, …)."""
        out, k = name, 1
        while out in self.bases:
            k += 1
            out = f"{name}{k}"
        self.bases.add(out)
        return out

    def _element(self, base: str, idx: tuple, display: str | None = None) -> tuple[str, str]:
        """(node id, label) of one element: ``x_0_1`` and ``x[0,1]``."""
        if self.G.number_of_nodes() >= self.max_elements:
            raise LimitError(f"the model has more than {self.max_elements} scalar elements "
                             "(parameters, inputs and intermediate values); graphexplain "
                             "explains small models, one node per element: use smaller tensors, "
                             "or raise max_elements")
        name = f"{base}_{_index_text(idx, '_')}" if idx else base
        while name in self.G:  # x_0 (a scalar) and x[0] could both claim x_0
            name += "_"
        shown = display or base
        return name, f"{shown}[{_index_text(idx, ',')}]" if idx else shown

    def leaves(self, base: str, display: str, values: torch.Tensor, kind: str,
               requires_grad: bool) -> np.ndarray:
        """One leaf per element of ``values``; their values go into the point."""
        base = self.base(base)
        data = values.detach().to(torch.float64)
        out = np.empty(tuple(values.shape), dtype=object)
        for idx in np.ndindex(out.shape):
            name, lab = self._element(base, idx, display)
            add_leaf(self.G, name, kind, lab, requires_grad)
            self.point[name] = float(data[idx])
            out[idx] = name
        return out

    def param(self, qualname: str, p: torch.Tensor) -> np.ndarray:
        """The leaves of a parameter, made once however often it is used."""
        if id(p) not in self.params:
            self.params[id(p)] = self.leaves(_identifier(qualname), qualname, p, "param",
                                             p.requires_grad)
            self.info["parameters"][qualname] = tuple(p.shape)
        return self.params[id(p)]

    def node(self, base: str, idx: tuple, op: str, args: Sequence, params=None):
        """One op node; an op of numbers only is folded into a number."""
        row = ops.get(op)
        params = dict(params or {})
        if not any(_is_node(a) for a in args):
            return ops.as_expr(row.build(*args, **params)).doit()
        name, lab = self._element(base, idx)
        add_op(self.G, name, op, args, params, label=lab)
        return name

    def value(self, h) -> float:
        """The number a handle stands for (a leaf's example value, or a number)."""
        if _is_node(h):
            if self.G.nodes[h]["kind"] == "op":
                raise _Refused("class indices computed by the model")
            return self.point[h]
        return float(h)


# --- elementwise and reducing ops -------------------------------------------------------------


def _map(b: _Builder, name: str, op: str, *arrays, params=None) -> np.ndarray:
    """``op`` elementwise, with torch's (numpy's) broadcasting: one node per element."""
    try:
        arrays = np.broadcast_arrays(*map(_as_array, arrays))
    except ValueError:
        shapes = ", ".join(str(tuple(np.shape(a))) for a in arrays)
        raise GraphError(f"'{name}': shapes {shapes} do not broadcast") from None
    base = b.base(name)
    out = np.empty(arrays[0].shape, dtype=object)
    for idx in np.ndindex(out.shape):
        out[idx] = b.node(base, idx, op, [a[idx] for a in arrays], params)
    return out


def _scale(b: _Builder, name: str, x, factor) -> np.ndarray:
    """factor·x, elementwise (``−x`` is ``(−1)·x``)."""
    return _map(b, name, "mul", _const(factor), x)


def _add(b, name, x, y, alpha=1):
    """x + α·y."""
    return _map(b, name, "add", x, y if alpha == 1 else _scale(b, f"{name}_alpha", y, alpha))


def _sub(b, name, x, y, alpha=1):
    """x − α·y = x + (−α)·y."""
    return _map(b, name, "add", x, _scale(b, f"{name}_neg", y, -alpha))


def _rsub(b, name, x, y, alpha=1):
    """y − α·x (``2 - t`` traces as ``rsub(t, 2)``)."""
    return _map(b, name, "add", y, _scale(b, f"{name}_neg", x, -alpha))


def _mul(b, name, x, y):
    return _map(b, name, "mul", x, y)


def _div(b, name, x, y, rounding_mode=None):
    """x / y = x · y⁻¹ (a number divisor folds: ``x/4`` is ``x·(1/4)``)."""
    if rounding_mode is not None:
        raise _Refused(f"division with rounding_mode={rounding_mode!r}")
    return _map(b, name, "mul", x, _map(b, f"{name}_inv", "pow", y, -1))


def _pow(b, name, x, exponent):
    return _map(b, name, "pow", x, exponent)


def _neg(b, name, x):
    return _scale(b, name, x, -1)


def _activation(op: str) -> Callable:
    """A handler for a one-argument activation row (relu, sigmoid, tanh, exp, …)."""

    def handler(b, name, x, inplace=False):
        return _map(b, name, op, x)

    return handler


def _elu(b, name, x, alpha=1.0, inplace=False):
    return _map(b, name, "elu", x, params={"alpha": _const(alpha)})


def _leaky_relu(b, name, x, negative_slope=0.01, inplace=False):
    return _map(b, name, "leaky_relu", x, params={"slope": _const(negative_slope)})


def _softplus(b, name, x, beta=1.0, threshold=20.0):
    """softplus(x) = log(1 + eˣ); torch returns x itself past ``threshold``, which differs by
    less than e^(−20) ≈ 2·10⁻⁹."""
    if beta != 1:
        raise _Refused(f"softplus with beta={beta} (only beta=1)")
    return _map(b, name, "softplus", x)


def _linear(b, name, input, weight, bias=None):
    """yⱼ = Σₖ Wⱼₖ·xₖ + bⱼ over the last axis of x: one ``linear`` node per element of y."""
    x, w = _as_array(input), _as_array(weight)
    if x.ndim == 0 or w.ndim != 2 or x.shape[-1] != w.shape[1]:
        raise GraphError(f"'{name}': input of shape {x.shape} does not fit a weight of shape "
                         f"{w.shape}")
    base = b.base(name)
    out = np.empty(x.shape[:-1] + w.shape[:1], dtype=object)
    for idx in np.ndindex(out.shape):
        *batch, j = idx
        args = _interleave(w[j], x[tuple(batch)])
        out[idx] = b.node(base, idx, "linear", args + ([] if bias is None else [bias[j]]))
    return out


def _interleave(weights, inputs) -> list:
    """[w₀, x₀, w₁, x₁, …]: the ``linear`` row's argument order."""
    return [h for pair in zip(weights, inputs, strict=True) for h in pair]


def _matmul(b, name, input, other):
    """(AB)ᵢⱼ = Σₖ Aᵢₖ·Bₖⱼ for 1-d and 2-d operands, as ``linear`` nodes without a bias."""
    x, y = _as_array(input), _as_array(other)
    if x.ndim not in (1, 2) or y.ndim not in (1, 2):
        raise _Refused("matmul of tensors with other than 1 or 2 dimensions")
    a, c = (x if x.ndim == 2 else x[None, :]), (y if y.ndim == 2 else y[:, None])
    if a.shape[1] != c.shape[0]:
        raise GraphError(f"'{name}': shapes {x.shape} and {y.shape} cannot be multiplied")
    shape = a.shape[:1] * (x.ndim == 2) + c.shape[1:] * (y.ndim == 2)
    base = b.base(name)
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(shape):
        i = idx[0] if x.ndim == 2 else 0
        j = idx[-1] if y.ndim == 2 else 0
        out[idx] = b.node(base, idx, "linear", _interleave(a[i], c[:, j]))
    return out


def _total(b, bases: tuple[str, str], idx: tuple, terms: list, divisor: int | None):
    """Σ terms (an ``add`` node), times 1/divisor when there is one (a ``mul`` node)."""
    total = terms[0] if len(terms) == 1 else b.node(bases[0], idx, "add", terms)
    if divisor is None or divisor == 1:
        return total
    return b.node(bases[1], idx, "mul", [sympy.Rational(1, divisor), total])


def _reduce(b, name, x, dim, keepdim: bool, mean: bool) -> np.ndarray:
    """sum or mean over ``dim`` (all dimensions when None)."""
    x = _as_array(x)
    dims = range(x.ndim) if dim is None else (dim if isinstance(dim, tuple | list) else (dim,))
    axes = sorted({d % x.ndim for d in dims}) if x.ndim else []
    kept = [a for a in range(x.ndim) if a not in axes]
    moved = np.transpose(x, kept + axes).reshape([x.shape[a] for a in kept] + [-1])
    bases = (b.base(f"{name}_sum"), b.base(name)) if mean else (b.base(name), "")
    out = np.empty(moved.shape[:-1], dtype=object)
    for idx in np.ndindex(out.shape):
        terms = list(moved[idx])
        out[idx] = _total(b, bases, idx, terms, len(terms) if mean else None)
    if keepdim:
        out = out.reshape([1 if a in axes else s for a, s in enumerate(x.shape)])
    return out


def _sum(b, name, input, dim=None, keepdim=False, dtype=None):
    return _reduce(b, name, input, dim, keepdim, mean=False)


def _mean(b, name, input, dim=None, keepdim=False, dtype=None):
    """mean = (1/N)·Σ: an ``add`` node, then a ``mul`` by 1/N."""
    return _reduce(b, name, input, dim, keepdim, mean=True)


# --- reindexing: no nodes, only handles moved around ------------------------------------------


def _reshape(b, name, x, *shape):
    shape = shape[0] if len(shape) == 1 and isinstance(shape[0], tuple | list) else shape
    return _as_array(x).reshape(shape)


def _flatten(b, name, x, start_dim=0, end_dim=-1):
    x = _as_array(x)
    if x.ndim == 0:
        return x.reshape(1)
    start, end = start_dim % x.ndim, end_dim % x.ndim
    return x.reshape((*x.shape[:start], -1, *x.shape[end + 1:]))


def _t(b, name, x):
    return _as_array(x).T


def _transpose(b, name, x, dim0, dim1):
    return np.swapaxes(_as_array(x), dim0, dim1)


def _squeeze(b, name, x, dim=None):
    x = _as_array(x)
    if dim is None:
        return np.squeeze(x)
    return np.squeeze(x, dim) if x.ndim and x.shape[dim] == 1 else x


def _unsqueeze(b, name, x, dim):
    return np.expand_dims(_as_array(x), dim)


def _size(b, name, x, dim=None):
    shape = _as_array(x).shape
    return shape if dim is None else shape[dim]


def _getattr(b, name, x, attr):
    if isinstance(x, np.ndarray) and attr in ("shape", "T"):
        return getattr(x, attr)
    raise _Refused(f"the attribute .{attr}")


def _getitem(b, name, x, index):
    """Basic indexing (ints, slices, None, ...), which numpy and torch read alike."""
    if not isinstance(x, np.ndarray):
        return x[index]
    parts = index if isinstance(index, tuple) else (index,)
    if not all(p is None or p is Ellipsis or isinstance(p, int | slice) for p in parts):
        raise _Refused("indexing with a tensor or a list")
    out = x[index]
    return out if isinstance(out, np.ndarray) else _scalar(out)


# --- losses -----------------------------------------------------------------------------------


def _pointwise_loss(b, name, op: str, input, target, reduction: str) -> np.ndarray:
    """``mse``/``bce_logits``: one node over all elements for the mean (the row divides by K),
    one node per element otherwise, added for ``sum``."""
    o, y = np.broadcast_arrays(_as_array(input), _as_array(target))
    if reduction == "mean":
        return _scalar(b.node(b.base(name), (), op, [*o.flat, *y.flat]))
    if reduction == "none":
        return _map(b, name, op, o, y)
    if reduction == "sum":
        return _sum(b, name, _map(b, f"{name}_terms", op, o, y))
    raise _Refused(f"reduction={reduction!r}")


def _deprecated(size_average, reduce) -> None:
    if size_average is not None or reduce is not None:
        raise _Refused("size_average/reduce (deprecated; use reduction=)")


def _mse_loss(b, name, input, target, size_average=None, reduce=None, reduction="mean",
              weight=None):
    """MSELoss: (1/K)·Σ(oₖ − yₖ)² over all K elements (the ``mse`` row)."""
    _deprecated(size_average, reduce)
    if weight is not None:
        raise _Refused("weight")
    return _pointwise_loss(b, name, "mse", input, target, reduction)


def _bce_logits(b, name, input, target, weight=None, size_average=None, reduce=None,
                reduction="mean", pos_weight=None):
    """BCEWithLogitsLoss: (1/K)·Σ softplus(oₖ) − oₖ·yₖ (the ``bce_logits`` row)."""
    _deprecated(size_average, reduce)
    if weight is not None or pos_weight is not None:
        raise _Refused("weight or pos_weight")
    return _pointwise_loss(b, name, "bce_logits", input, target, reduction)


def _cross_entropy(b, name, input, target, weight=None, size_average=None, ignore_index=-100,
                   reduce=None, reduction="mean", label_smoothing=0.0):
    """CrossEntropyLoss: per sample n, ℓₙ = −Σ_c yₙc·log softmax(oₙ)_c (one ``cross_entropy``
    node; y is one-hot for a class index); ``mean`` divides Σₙ ℓₙ by the number of samples
    whose class is not ``ignore_index`` (by N for class probabilities), as torch does."""
    _deprecated(size_average, reduce)
    if weight is not None or label_smoothing:
        raise _Refused("weight or label_smoothing")
    o, y = _as_array(input), _as_array(target)
    if o.ndim not in (1, 2):
        raise _Refused("cross_entropy over more than 2 dimensions")
    outputs, targets = (o, y) if o.ndim == 2 else (o[None], y[None])
    probabilities = y.shape == o.shape
    single = len(outputs) == 1 and (reduction != "none" or o.ndim == 1)
    base = b.base(name if single or reduction == "none" else f"{name}_terms")
    terms = [_ce_sample(b, base, () if single or o.ndim == 1 else (n,), outputs[n], targets[n],
                        probabilities, ignore_index) for n in range(len(outputs))]
    kept = [t for t in terms if t is not None]
    if reduction == "none":
        out = np.empty(len(terms), dtype=object)
        out[:] = [sympy.S.Zero if t is None else t for t in terms]  # an ignored sample is 0
        return out.reshape(o.shape[:-1])
    if reduction not in ("mean", "sum"):
        raise _Refused(f"reduction={reduction!r}")
    if not kept:
        raise GraphError(f"'{name}': every target is ignore_index={ignore_index}")
    if single:
        return _scalar(kept[0])
    divisor = (len(outputs) if probabilities else len(kept)) if reduction == "mean" else None
    bases = (b.base(f"{name}_sum") if divisor else b.base(name), b.base(name) if divisor else "")
    return _scalar(_total(b, bases, (), kept, divisor))


def _ce_sample(b, base, idx, logits, target, probabilities: bool, ignore_index: int):
    """One sample's cross-entropy node, or None when its class is ``ignore_index``."""
    if probabilities:
        return b.node(base, idx, "cross_entropy", [*logits, *target])
    cls = int(b.value(target))
    if cls == ignore_index:
        return None
    if not 0 <= cls < len(logits):
        raise GraphError(f"'{base}': target class {cls} is out of range for {len(logits)} "
                         "classes")
    onehot = [sympy.Integer(int(c == cls)) for c in range(len(logits))]
    return b.node(base, idx, "cross_entropy", [*logits, *onehot])


# --- modules ----------------------------------------------------------------------------------


def _linear_module(b, name, path, m: nn.Linear, input):
    weight = b.param(f"{path}.weight", m.weight)
    bias = None if m.bias is None else b.param(f"{path}.bias", m.bias)
    return _linear(b, name, input, weight, bias)


def _module_activation(op: str) -> Callable:
    def handler(b, name, path, m, input):
        return _map(b, name, op, input)

    return handler


MODULES: dict[type, Callable] = {
    nn.Linear: _linear_module,
    nn.ReLU: _module_activation("relu"),
    nn.Sigmoid: _module_activation("sigmoid"),
    nn.Tanh: _module_activation("tanh"),
    nn.ELU: lambda b, name, path, m, input: _elu(b, name, input, m.alpha),
    nn.LeakyReLU: lambda b, name, path, m, input: _leaky_relu(b, name, input, m.negative_slope),
    nn.Softplus: lambda b, name, path, m, input: _softplus(b, name, input, m.beta, m.threshold),
    nn.Identity: lambda b, name, path, m, input: input,
    nn.Flatten: lambda b, name, path, m, input: _flatten(b, name, input, m.start_dim,
                                                          m.end_dim),
    nn.MSELoss: lambda b, name, path, m, input, target: _mse_loss(
        b, name, input, target, reduction=m.reduction),
    nn.BCEWithLogitsLoss: lambda b, name, path, m, input, target: _bce_logits(
        b, name, input, target, m.weight, reduction=m.reduction, pos_weight=m.pos_weight),
    nn.CrossEntropyLoss: lambda b, name, path, m, input, target: _cross_entropy(
        b, name, input, target, m.weight, ignore_index=m.ignore_index, reduction=m.reduction,
        label_smoothing=m.label_smoothing),
}

_ELEMENTWISE = {op: _activation(op) for op in ("relu", "sigmoid", "tanh", "exp", "log", "sqrt",
                                               "abs")}

FUNCTIONS: dict[Callable, Callable] = {
    operator.add: _add, torch.add: _add, operator.sub: _sub, torch.sub: _sub, torch.rsub: _rsub,
    operator.mul: _mul, torch.mul: _mul, operator.truediv: _div, torch.div: _div,
    operator.pow: _pow, torch.pow: _pow, operator.neg: _neg, torch.neg: _neg,
    operator.matmul: _matmul, torch.matmul: _matmul, torch.mm: _matmul,
    torch.sum: _sum, torch.mean: _mean, torch.flatten: _flatten, torch.reshape: _reshape,
    torch.t: _t, torch.transpose: _transpose, torch.squeeze: _squeeze,
    torch.unsqueeze: _unsqueeze, getattr: _getattr, operator.getitem: _getitem,
    **{getattr(torch, op): h for op, h in _ELEMENTWISE.items()},
    F.relu: _ELEMENTWISE["relu"], F.sigmoid: _ELEMENTWISE["sigmoid"],
    F.tanh: _ELEMENTWISE["tanh"], F.elu: _elu, F.leaky_relu: _leaky_relu,
    F.softplus: _softplus, F.linear: _linear, F.mse_loss: _mse_loss,
    F.cross_entropy: _cross_entropy, F.binary_cross_entropy_with_logits: _bce_logits,
}

METHODS: dict[str, Callable] = {
    "add": _add, "sub": _sub, "mul": _mul, "div": _div, "pow": _pow, "neg": _neg,
    "matmul": _matmul, "mm": _matmul, "sum": _sum, "mean": _mean, "reshape": _reshape,
    "view": _reshape, "flatten": _flatten, "t": _t, "transpose": _transpose,
    "squeeze": _squeeze, "unsqueeze": _unsqueeze, "size": _size, **_ELEMENTWISE,
}


# --- tracing ----------------------------------------------------------------------------------


class _LineTracer(torch.fx.Tracer):
    """An fx tracer that notes which line of the traced function made each node, so that
    nodes can be named after the user's variables."""

    def __init__(self, code):
        super().__init__()
        self.code = code

    def create_node(self, *args, **kwargs):
        node = super().create_node(*args, **kwargs)
        frame = inspect.currentframe()
        while frame is not None and not _same_code(frame.f_code, self.code):
            frame = frame.f_back
        if frame is not None:
            node.meta["graphexplain_line"] = frame.f_lineno
        del frame
        return node


def _same_code(a, b) -> bool:
    return b is not None and (a.co_filename, a.co_firstlineno, a.co_name) == (
        b.co_filename, b.co_firstlineno, b.co_name)


def _display_name(fn) -> str:
    return type(fn).__name__ if isinstance(fn, nn.Module) else getattr(fn, "__name__", "fn")


def _code_of(fn):
    target = type(fn).forward if isinstance(fn, nn.Module) else fn
    return getattr(target, "__code__", None)


def _trace(fn) -> tuple[torch.fx.GraphModule, dict]:
    """The fx graph of ``fn`` and the variable name of each node that has one."""
    code = _code_of(fn)
    tracer = _LineTracer(code)
    try:
        graph = tracer.trace(fn)
    except Exception as e:  # fx raises many kinds (TraceError, TypeError, …) for untraceable code
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UnsupportedOpError(f"torch.fx cannot trace {_display_name(fn)}: {reason}") from None
    gm = torch.fx.GraphModule(tracer.root, graph, _display_name(fn))
    return gm, _variable_names(gm, code)


def _assignments(code) -> list[tuple[int, int, str]]:
    """(first line, last line, name) of each ``name = …`` statement of the function."""
    try:
        lines, start = inspect.getsourcelines(code)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError):
        return []
    defs = [d for d in tree.body if isinstance(d, ast.FunctionDef | ast.AsyncFunctionDef)]
    if not defs:  # a lambda: its line is some other statement, not the function's own
        return []
    out = []
    for st in ast.walk(defs[0]):
        targets = st.targets if isinstance(st, ast.Assign) else (
            [st.target] if isinstance(st, ast.AnnAssign) and st.value is not None else [])
        if len(targets) == 1 and isinstance(targets[0], ast.Name):
            out.append((st.lineno + start - 1, st.end_lineno + start - 1, targets[0].id))
    return out


def _variable_names(gm: torch.fx.GraphModule, code) -> dict:
    """Node → the variable it is assigned to: the last node a ``name = …`` statement makes."""
    statements = _assignments(code) if code is not None else []
    last = {}
    for node in gm.graph.nodes:
        line = node.meta.get("graphexplain_line")
        if line is None or not node.op.startswith("call_"):
            continue
        for first, end, name in statements:
            if first <= line <= end:
                last[first, name] = node
    return {node: name for (_, name), node in last.items()}


def _op_name(node: torch.fx.Node) -> str:
    """How an error names the op: ``Conv2d``, ``torch.sort``, ``Tensor.cumsum``."""
    if node.op == "call_method":
        return f"Tensor.{node.target}"
    module = (getattr(node.target, "__module__", None) or "").lstrip("_")
    module = "torch.nn.functional" if module == "torch._C._nn" else module
    name = getattr(node.target, "__name__", str(node.target))
    return f"{module}.{name}" if module else name


def _module_path(node: torch.fx.Node, root: str) -> str:
    """The dotted path of the module the node belongs to (the root's name at the top)."""
    if node.op == "call_module":
        return str(node.target)
    stack = node.meta.get("nn_module_stack") or {}
    return next(reversed(stack)) if stack else root


def _invoke(handler: Callable | None, op: str, path: str, b: _Builder, name: str, *args,
            **kwargs):
    """Call a handler; an unknown op, or arguments it does not take, is an error naming the op
    and the module path."""
    where = f"unsupported op '{op}' at module path '{path}'"
    if handler is None:
        raise UnsupportedOpError(f"{where}; supported: {SUPPORTED}")
    try:
        bound = inspect.signature(handler).bind(b, name, *args, **kwargs)
    except TypeError as e:
        raise UnsupportedOpError(f"{where}: these arguments are not supported ({e})") from None
    try:
        return handler(*bound.args, **bound.kwargs)
    except _Refused as e:
        raise UnsupportedOpError(f"{where}: {e} is not supported") from None


def _attribute(b: _Builder, gm: torch.fx.GraphModule, target: str):
    """A ``get_attr`` node: a parameter (param leaves), a tensor (const leaves) or a value."""
    obj = functools.reduce(getattr, target.split("."), gm)
    if isinstance(obj, nn.Parameter):
        return b.param(target, obj)
    if isinstance(obj, torch.Tensor) and id(obj) not in b.params:
        name = b.names.get(id(obj), target)
        if obj.requires_grad:  # a global tensor a function uses, like the seed's w and b
            b.params[id(obj)] = b.leaves(_identifier(name), name, obj, "param", True)
            b.info["parameters"][name] = tuple(obj.shape)
        else:
            b.params[id(obj)] = b.leaves(_identifier(name, "c"), name, obj, "const", False)
            b.info["constants"][name] = tuple(obj.shape)
    return b.params[id(obj)] if isinstance(obj, torch.Tensor) else obj


def _tensor_names(fn) -> dict[int, str]:
    """The names a function gives the tensors it uses from outside (globals, closures)."""
    if not inspect.isfunction(fn):
        return {}
    try:
        found = inspect.getclosurevars(fn)
    except (TypeError, ValueError):
        return {}
    return {id(v): k for k, v in {**found.globals, **found.nonlocals}.items()
            if isinstance(v, torch.Tensor)}


def _run(b: _Builder, gm: torch.fx.GraphModule, names: dict, inputs: list, root: str):
    """Walk the fx nodes in order, scalarizing each; returns the handles of the output."""
    env: dict = {}
    placeholders = iter(inputs)
    for node in gm.graph.nodes:
        if node.op == "output":
            return torch.fx.node.map_arg(node.args[0], env.__getitem__)
        if node.op == "placeholder":
            env[node] = next(placeholders)
        elif node.op == "get_attr":
            env[node] = _attribute(b, gm, node.target)
        else:
            env[node] = _call(b, gm, node, names, env, root)
    raise GraphError(f"{root}: the traced graph has no output")


def _fx_name(gm: torch.fx.GraphModule, node: torch.fx.Node) -> str:
    """fx's node name, without the ``_1`` that element indices would make ambiguous
    (``add_1`` → ``add1``); ``nn.Sequential``'s layer ``_0`` becomes ``linear0``."""
    name = node.name
    if node.op == "call_module" and name.startswith("_"):
        name = type(gm.get_submodule(node.target)).__name__.lower() + name
    return re.sub(r"(?<=[^\W\d_])_(\d+)$", r"\1", name)


def _call(b: _Builder, gm, node: torch.fx.Node, names: dict, env: dict, root: str):
    args = torch.fx.node.map_arg(node.args, env.__getitem__)
    kwargs = torch.fx.node.map_arg(node.kwargs, env.__getitem__)
    preferred = names.get(node)
    name = preferred if preferred and preferred not in b.bases else _fx_name(gm, node)
    path = _module_path(node, root)
    if node.op == "call_module":
        m = gm.get_submodule(node.target)
        return _invoke(MODULES.get(type(m)), type(m).__name__, path, b, name, node.target, m,
                       *args, **kwargs)
    table = METHODS if node.op == "call_method" else FUNCTIONS
    try:
        handler = table.get(node.target)
    except TypeError:  # an unhashable target
        handler = None
    return _invoke(handler, _op_name(node), path, b, name, *args, **kwargs)


# --- the whole model: inputs, loss, output ----------------------------------------------------


@dataclass
class Traced:
    """A model scalarized into a graph, with what the model's own autograd check needs.

    Attributes
    ----------
    graph : the computation graph; ``graph.graph["point"]`` holds the example values.
    point : leaf id → its example value (parameters, inputs, targets).
    model, inputs, loss, target : as given (inputs as a tuple).
    gradient : v of a vector output (float64, the output's shape), or None.
    params : id(tensor) → the array of its leaf ids, for the parameters, buffers and outside
        tensors the model uses (a cache key, never a node id).
    input_leaves : per example input, the array of its leaf ids (None for a number).
    outputs : the handles of the output's elements (the loss, when there is one); with a
        gradient v, the graph's output is vjp = Σₖ vₖ·outputsₖ.
    info : what the report's header says about the model.
    """

    graph: nx.DiGraph
    point: dict[str, float]
    model: object
    inputs: tuple
    loss: object
    target: object
    gradient: torch.Tensor | None
    params: dict[int, np.ndarray]
    input_leaves: list
    outputs: np.ndarray
    info: dict = field(default_factory=dict)


def _example_tuple(example_inputs) -> tuple:
    inputs = (example_inputs,) if isinstance(example_inputs, torch.Tensor) else example_inputs
    if not isinstance(inputs, tuple | list):
        raise GraphError("example_inputs must be a tensor or a tuple of tensors, "
                         f"not {type(example_inputs).__name__}")
    for x in inputs:
        if not isinstance(x, torch.Tensor | int | float):
            raise GraphError(f"example input of type {type(x).__name__}: give tensors or numbers")
        if isinstance(x, torch.Tensor) and (x.numel() == 0 or x.is_complex()):
            raise GraphError(f"example input of shape {tuple(x.shape)} and dtype {x.dtype}: give "
                             "non-empty real tensors")
    return tuple(inputs)


def _check_size(model, inputs: tuple, target, max_elements: int) -> None:
    """Refuse big models before tracing: each element will be a node."""
    tensors = [x for x in (*inputs, target) if isinstance(x, torch.Tensor)]
    if isinstance(model, nn.Module):
        tensors += list(model.parameters())
    total = sum(t.numel() for t in tensors)
    if total > max_elements:
        raise LimitError(f"the model's parameters, inputs and targets have {total} elements, "
                         f"more than max_elements={max_elements}; graphexplain explains small "
                         "models, one node per element: use smaller tensors, or raise "
                         "max_elements")


def _input_leaves(b: _Builder, placeholder: torch.fx.Node, x):
    """An example input's leaves: requires grad only when the example tensor does."""
    if not isinstance(x, torch.Tensor):
        return _scalar(_const(x))
    name = str(placeholder.target).lstrip("*")
    b.info["inputs"][name] = (tuple(x.shape), x.requires_grad)
    return b.leaves(name, name, x, "input", x.requires_grad)


def _target_handles(b: _Builder, target) -> np.ndarray:
    """Targets: const leaves (no grad), or numbers for integer class indices."""
    if not isinstance(target, torch.Tensor):
        return _as_array(target)
    b.info["target"] = tuple(target.shape)
    if target.dtype.is_floating_point:
        return b.leaves("y", "y", target, "const", False)
    out = np.empty(tuple(target.shape), dtype=object)
    for idx in np.ndindex(out.shape):
        out[idx] = sympy.Integer(int(target[idx]))
    return out


def _apply_loss(b: _Builder, loss, out, target):
    """loss(output, target): a known loss module directly, any other callable traced."""
    if target is None:
        raise GraphError("a loss needs a target: give target=… (the file's `target`)")
    y = _target_handles(b, target)
    b.info["loss"] = _loss_text(loss)
    if type(loss) in MODULES:
        return _invoke(MODULES[type(loss)], type(loss).__name__, "loss", b, "loss", "loss",
                       loss, out, y)
    if not callable(loss):
        raise GraphError(f"loss must be a loss module or a function, not {type(loss).__name__}")
    gm, names = _trace(loss)
    _check_arity(gm, 2, "the loss")
    return _run(b, gm, names, [out, y], "loss")


def _loss_text(loss) -> str:
    reduction = getattr(loss, "reduction", None)
    return _display_name(loss) + (f"(reduction='{reduction}')" if reduction else "")


def _check_arity(gm: torch.fx.GraphModule, n: int, what: str) -> None:
    placeholders = [p for p in gm.graph.nodes if p.op == "placeholder"]
    if len(placeholders) != n:
        raise GraphError(f"{what} takes {len(placeholders)} inputs "
                         f"({', '.join(str(p.target) for p in placeholders)}); {n} given")


def _gradient_tensor(gradient, shape: tuple) -> torch.Tensor:
    """v as float64 in the output's shape (a flat list of the right length is reshaped)."""
    try:
        v = torch.as_tensor(gradient, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as e:
        raise PointError(f"gradient: {e}") from None
    if v.numel() != math.prod(shape):
        raise PointError(f"gradient has {v.numel()} numbers, but the output has shape "
                         f"{tuple(shape)} ({math.prod(shape)} numbers)")
    if not torch.isfinite(v).all():
        raise PointError("gradient: every number must be finite")
    return v.reshape(shape)


def _output(b: _Builder, out: np.ndarray, v: torch.Tensor | None) -> str:
    """The output node: the one element of a scalar, or vjp = Σₖ vₖ·outₖ with v given."""
    if v is not None:
        weights = [_const(float(x)) for x in v.flatten()]
        h = b.node(b.base("vjp"), (), "linear", _interleave(weights, out.flat))
    elif out.size == 1:
        h = out.flat[0]
        if _is_node(h) and b.G.nodes[h]["kind"] != "op":
            h = b.node(b.base("out"), (), "identity", [h])
    else:
        raise GraphError(f"the output has shape {tuple(out.shape)}, not one number: like "
                         "backward(), explaining it needs gradient=v of that shape, and then "
                         "shows the vector-Jacobian product Jᵀv (--gradient v1,v2,… on the "
                         "command line)")
    if not _is_node(h):
        raise GraphError("the output is a constant: it depends on no input or parameter")
    return h


def _finish(b: _Builder, output: str) -> tuple[nx.DiGraph, dict]:
    """Keep what the output depends on, as :func:`graphexplain.graph.build` does."""
    G = b.G
    keep = nx.ancestors(G, output) | {output}
    G.remove_nodes_from([n for n in list(G) if n not in keep])
    G.graph["output"] = output
    point = {n: v for n, v in b.point.items() if n in keep}
    G.graph["point"] = point
    return validate(G), point


def trace(module_or_fn, example_inputs, loss=None, target=None, gradient=None,
          max_elements: int = MAX_ELEMENTS) -> Traced:
    """Trace and scalarize a model (see :func:`explain_module` for the arguments)."""
    inputs = _example_tuple(example_inputs)
    if target is not None and loss is None:
        raise GraphError("a target needs a loss: give loss=… (e.g. nn.MSELoss())")
    _check_size(module_or_fn, inputs, target, max_elements)
    b = _Builder(max_elements)
    b.names = _tensor_names(module_or_fn)
    gm, names = _trace(module_or_fn)
    _check_arity(gm, len(inputs), _display_name(module_or_fn))
    placeholders = [p for p in gm.graph.nodes if p.op == "placeholder"]
    leaves = [_input_leaves(b, p, x) for p, x in zip(placeholders, inputs, strict=True)]
    out = _run(b, gm, names, leaves, _display_name(module_or_fn))
    if loss is not None:
        out = _apply_loss(b, loss, out, target)
    if not isinstance(out, np.ndarray):
        raise GraphError(f"{_display_name(module_or_fn)} must return one tensor, not "
                         f"{type(out).__name__}")
    v = None if gradient is None else _gradient_tensor(gradient, out.shape)
    output = _output(b, out, v)
    G, point = _finish(b, output)
    info = {"name": _display_name(module_or_fn), "output_shape": tuple(out.shape), **b.info}
    return Traced(G, point, module_or_fn, inputs, loss, target, v, dict(b.params),
                  [x if isinstance(x, np.ndarray) and isinstance(i, torch.Tensor) else None
                   for x, i in zip(leaves, inputs, strict=True)], out, info)


def module_graph(module_or_fn, example_inputs, loss=None, target=None, gradient=None,
                 max_elements: int = MAX_ELEMENTS) -> nx.DiGraph:
    """The scalarized computation graph of a model; ``G.graph["point"]`` holds the example
    values of its leaves, ready for ``explain_graph(G, at=G.graph["point"])``.

    Examples
    --------
    >>> import torch
    >>> G = module_graph(lambda x: (x * 2).sum(), (torch.ones(2),))
    >>> sorted(G.nodes)
    ['mul_0', 'mul_1', 'sum1', 'x_0', 'x_1']
    """
    return trace(module_or_fn, example_inputs, loss, target, gradient, max_elements).graph


# --- the model's own autograd -----------------------------------------------------------------


def _float64(x):
    """A float64 copy (a leaf, requiring grad as the original does); integers stay integers."""
    if not isinstance(x, torch.Tensor):
        return x
    if not x.dtype.is_floating_point:
        return x.detach().clone()
    return x.detach().to(torch.float64).requires_grad_(x.requires_grad)


def _float64_function(fn) -> tuple[Callable, dict[int, torch.Tensor]]:
    """The same function over float64 copies of the tensors it uses from outside (its
    globals and closure), as ``.double()`` does for a module's parameters."""
    if not inspect.isfunction(fn):
        return fn, {}
    copies: dict[int, torch.Tensor] = {}

    def swap(v):
        if isinstance(v, torch.Tensor) and v.dtype.is_floating_point:
            return copies.setdefault(id(v), _float64(v))
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


def _float64_model(model) -> tuple[Callable, dict[int, torch.Tensor]]:
    """A float64 copy of the model, and id(original tensor) → its copy."""
    if not isinstance(model, nn.Module):
        return _float64_function(model)
    double = copy.deepcopy(model).double()
    copies = dict(double.named_parameters())
    return double, {id(p): copies[n] for n, p in model.named_parameters()}


def module_gradients(t: Traced) -> dict[str, float]:
    """Every leaf gradient from the model's own autograd, in float64.

    The model is copied (``copy.deepcopy(module).double()``; for a function, the tensors it
    uses from outside), and the inputs too, and ``torch.autograd.grad`` is used, so nothing of
    the caller's (``.grad`` included) changes.
    """
    model, copies = _float64_model(t.model)
    inputs = [_float64(x) for x in t.inputs]
    out = model(*inputs)
    if t.loss is not None:
        loss = copy.deepcopy(t.loss).double() if isinstance(t.loss, nn.Module) else t.loss
        out = loss(out, _float64(t.target))
    pairs = [(leaves, copies[i]) for i, leaves in t.params.items()
             if i in copies and copies[i].requires_grad]
    pairs += [(leaves, x) for leaves, x in zip(t.input_leaves, inputs, strict=True)
              if leaves is not None and x.requires_grad]
    if not pairs or not out.requires_grad:
        return {}
    grads = torch.autograd.grad(out, [x for _, x in pairs], grad_outputs=t.gradient,
                                allow_unused=True)
    ref = {}
    for (leaves, _), g in zip(pairs, grads, strict=True):
        for idx in np.ndindex(leaves.shape):
            if g is not None and _is_node(leaves[idx]):
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


# --- vector outputs: the Jacobian -------------------------------------------------------------


@dataclass(frozen=True)
class Jacobian:
    """J[k][i] = ∂outₖ/∂xᵢ over the output elements and the leaves that require grad."""

    outputs: list[str]
    leaves: list[str]
    values: list[list[float]]
    formulas: list[list[sympy.Expr | None]]


def jacobian(G: nx.DiGraph, ev: Evaluation, outputs: Sequence, leaves: list[str]) -> Jacobian:
    """Each row is one reverse sweep from an output element: Jₖᵢ = ∂outₖ/∂xᵢ."""
    values, formulas = [], []
    for h in outputs:
        if not _is_node(h):  # a constant output element
            values.append([0.0] * len(leaves))
            formulas.append([sympy.S.Zero] * len(leaves))
            continue
        adj = backward(G, h, ev.locals)
        d = derive(G, h)
        values.append([adj.get(x, 0.0) for x in leaves])
        formulas.append([d.formulas.get(x, sympy.S.Zero) for x in leaves])
    return Jacobian([h if _is_node(h) else str(h) for h in outputs], leaves, values, formulas)


# --- the explanation --------------------------------------------------------------------------


@dataclass
class ModuleExplanation(Explanation):
    """An :class:`~graphexplain.api.Explanation` of a torch model: its reports add a header
    about the model, the check against the model's own autograd, and, for a vector output,
    the vector-Jacobian product and the Jacobian."""

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

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["model"] = _model_dict(self.traced.info)
        if self.traced.gradient is not None:
            d["vector_output"] = self._vector_dict()
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

    def _text(self, text: str) -> str:
        parts = ["\n".join(_header_lines(self.traced.info)), text.rstrip("\n")]
        if self.module_check is not None:
            parts[-1] += "\n" + _module_line(self.module_check)
        if self.traced.gradient is not None:
            parts.append("\n".join(self._vector_lines()))
        return "\n\n".join(parts) + "\n"

    def _markdown(self, text: str) -> str:
        if self.module_check is not None and text.endswith("```\n"):
            text = text[:-4] + _module_line(self.module_check) + "\n```\n"
        head = "\n".join(["### Model", "", "```", *_header_lines(self.traced.info), "```", ""])
        tail = ""
        if self.traced.gradient is not None:
            tail = "\n### Vector output\n\n```\n" + "\n".join(self._vector_lines()) + "\n```\n"
        return head + "\n" + text + tail

    def _vjp(self) -> dict[str, float]:
        return {x: self.evaluation.adjoints.get(x, 0.0) for x in self.derivation.leaves}

    def _vector_lines(self) -> list[str]:
        t, G = self.traced, self.graph
        out_labels = [_handle_label(G, h) for h in t.outputs.flat]
        rows = ["Vector output: backward(gradient=v) is the vector-Jacobian product Jᵀv",
                f"  the output has shape {tuple(t.outputs.shape)}; with v of that shape, "
                "vjp = Σₖ vₖ·outₖ is one number,",
                "  and ∂vjp/∂xᵢ = Σₖ vₖ·∂outₖ/∂xᵢ = (Jᵀv)ᵢ: these are the gradients above",
                "  v = " + ", ".join(f"{lab}: {num(float(x))}" for lab, x in
                                     zip(out_labels, t.gradient.flatten(), strict=True))]
        rows.append("  Jᵀv = " + ", ".join(f"{label(G, x)}: {num(v)}"
                                           for x, v in self._vjp().items()))
        if self.jacobian is not None:
            rows += ["", "Jacobian J[k, i] = ∂outₖ/∂xᵢ (rows: outputs, columns: inputs)"]
            rows += _table(out_labels, [label(G, x) for x in self.jacobian.leaves],
                           self.jacobian.values)
        else:
            rows.append(f"  (the Jacobian is shown for at most {JACOBIAN_MAX} outputs × "
                        f"{JACOBIAN_MAX} inputs)")
        return rows

    def _vector_dict(self) -> dict:
        t, j = self.traced, self.jacobian
        d = {"shape": list(t.outputs.shape), "v": [float(x) for x in t.gradient.flatten()],
             "outputs": [h if _is_node(h) else str(h) for h in t.outputs.flat],
             "vjp": {x: json_num(v) for x, v in self._vjp().items()}, "jacobian": None}
        if j is not None:
            values = [[json_num(v) for v in row] for row in j.values]
            d["jacobian"] = {"outputs": j.outputs, "inputs": j.leaves, "values": values,
                             "formulas": [[expr_text(f) for f in row] for row in j.formulas]}
        return d


def _handle_label(G: nx.DiGraph, h) -> str:
    return label(G, h) if _is_node(h) and h in G else str(h)


def _table(rows: list[str], cols: list[str], values: list[list[float]]) -> list[str]:
    cells = [[num(v) for v in row] for row in values]
    width = max(len(c) for c in [*cols, *(c for row in cells for c in row)])
    first = max(len(r) for r in rows)
    lines = ["  " + " " * first + "".join(f"  {c:>{width}}" for c in cols)]
    for r, row in zip(rows, cells, strict=True):
        lines.append(f"  {r:<{first}}" + "".join(f"  {c:>{width}}" for c in row))
    return lines


def _module_line(c: Check) -> str:
    """The verification line for the model's own autograd."""
    what = "module autograd (the model itself, float64)"
    if c.ok is None:
        return f"  {what}: nothing comparable"
    verdict = "agrees" if c.ok else f"DISAGREES, first at {c.first_mismatch}"
    return f"  {what}: {verdict} on {c.compared} gradients, max abs error {num(c.max_abs_error)}"


def _header_lines(info: dict) -> list[str]:
    rows = [f"Model {info['name']}, traced with torch.fx; one node per tensor element"]
    if info["parameters"]:
        rows.append("  parameters: " + ", ".join(f"{n} ({_shape_text(s)})"
                                                 for n, s in info["parameters"].items()))
    for n, (shape, grad) in info["inputs"].items():
        rows.append(f"  input {n} ({_shape_text(shape)})" + ("" if grad else ", no grad"))
    if "target" in info:
        rows.append(f"  target y ({_shape_text(info['target'])}), no grad")
    if info["constants"]:
        rows.append("  constants: " + ", ".join(f"{n} ({_shape_text(s)})"
                                                for n, s in info["constants"].items()))
    if "loss" in info:
        rows.append(f"  loss: {info['loss']}")
    return rows


def _model_dict(info: dict) -> dict:
    return {"name": info["name"],
            "parameters": {n: list(s) for n, s in info["parameters"].items()},
            "inputs": {n: {"shape": list(s), "requires_grad": g}
                       for n, (s, g) in info["inputs"].items()},
            "target": list(info["target"]) if "target" in info else None,
            "loss": info.get("loss"), "output_shape": list(info["output_shape"])}


def explain_module(module_or_fn, example_inputs, loss=None, target=None, gradient=None,
                   verify: bool = True, max_elements: int = MAX_ELEMENTS) -> ModuleExplanation:
    """Explain the gradients of a torch model (or function) at example inputs.

    The model is traced with ``torch.fx`` and scalarized: one graph node per element of every
    parameter, input and intermediate tensor. Then every gradient is derived symbolically
    (∂L/∂w as a sum over paths), evaluated at the example values, and checked against
    torch.autograd, central differences, and the model's own autograd.

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
    """
    t = trace(module_or_fn, example_inputs, loss, target, gradient, max_elements)
    base = explain_graph(t.graph, at=t.point, verify=False)
    expl = ModuleExplanation(base.derivation, base.evaluation, None, traced=t)
    leaves = expl.derivation.leaves
    if t.gradient is not None and t.outputs.size <= JACOBIAN_MAX and len(leaves) <= JACOBIAN_MAX:
        expl.jacobian = jacobian(t.graph, base.evaluation, list(t.outputs.flat), leaves)
    if verify:
        expl.verify()
    return expl


# --- model files: FILE.py:NAME ----------------------------------------------------------------


@dataclass
class Loaded:
    """What a model file provides (see :func:`load`)."""

    name: str
    model: object
    example_inputs: tuple
    loss: object = None
    target: object = None
    gradient: object = None


def _run_file(path: Path) -> dict:
    """Run the file (this executes its code) and return its globals."""
    if not path.is_file():
        raise ModelFileError(f"cannot read {path}: no such file")
    try:
        return runpy.run_path(str(path), run_name="graphexplain_model")
    except (Exception, SystemExit) as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise ModelFileError(f"running {path} failed: {type(e).__name__}: {reason}") from None


def _candidates(namespace: dict) -> list[str]:
    """The names in a file that could be NAME: modules, module classes, functions."""
    out = []
    for k, v in namespace.items():
        if k.startswith("_"):
            continue
        is_class = isinstance(v, type) and issubclass(v, nn.Module) and \
            v.__module__ == "graphexplain_model"
        is_fn = inspect.isfunction(v) and v.__module__ == "graphexplain_model"
        if is_class or is_fn or (isinstance(v, nn.Module) and not _is_loss(v)):
            out.append(k)
    return out


def _is_loss(v) -> bool:
    return isinstance(v, nn.modules.loss._Loss)


def _resolve(path: Path, namespace: dict, name: str):
    """NAME as a model: a module class (instantiated with no arguments), a module, or a
    function."""
    if name not in namespace:
        have = ", ".join(_candidates(namespace)) or "none"
        raise ModelFileError(f"{path} defines no '{name}' (models and functions in it: {have})")
    obj = namespace[name]
    if isinstance(obj, type) and issubclass(obj, nn.Module):
        try:
            return obj()
        except Exception as e:
            raise ModelFileError(f"cannot make {name}() with no arguments: "
                                 f"{type(e).__name__}: {e}") from None
    if isinstance(obj, nn.Module) or callable(obj):
        return obj
    raise ModelFileError(f"'{name}' in {path} is a {type(obj).__name__}, not an nn.Module, a "
                         "module class or a function")


def load(spec: str) -> Loaded:
    """Load ``FILE.py:NAME``. **This runs FILE's code**, as ``python FILE.py`` would (except
    for its ``if __name__ == "__main__":`` block); only load files you trust.

    NAME is an ``nn.Module`` class (instantiated with no arguments), an ``nn.Module``
    instance, or a function. The file defines, at module level, ``example_inputs`` (a tensor or
    a tuple of tensors; required) and optionally ``loss`` (e.g. ``nn.MSELoss()``), ``target``
    and ``gradient`` (v for a vector output).
    """
    file, sep, name = spec.rpartition(":")
    if not sep or not file or not name.isidentifier():
        raise ModelFileError(f"expected FILE.py:NAME (e.g. examples/seed_linear_regression.py:Lr),"
                             f" got '{spec}'")
    path = Path(file)
    namespace = _run_file(path)
    model = _resolve(path, namespace, name)
    if namespace.get("example_inputs") is None:
        raise ModelFileError(f"{path} defines no example_inputs: add e.g. "
                             f"example_inputs = (torch.rand(5, 1),) to say what to trace "
                             f"{name} on")
    loss = namespace.get("loss")
    if isinstance(loss, type) and issubclass(loss, nn.Module):
        loss = loss()
    return Loaded(name, model, _example_tuple(namespace["example_inputs"]), loss,
                  namespace.get("target"), namespace.get("gradient"))


def explain_file(spec: str, gradient=None, verify: bool = True) -> ModuleExplanation:
    """``load(spec)`` then :func:`explain_module`; ``gradient`` overrides the file's."""
    m = load(spec)
    return explain_module(m.model, m.example_inputs, loss=m.loss, target=m.target,
                          gradient=m.gradient if gradient is None else gradient, verify=verify)
