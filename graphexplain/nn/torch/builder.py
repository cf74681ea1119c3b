"""The graph being built from a torch model, and the handles that stand for tensor elements.

What it does: while a model is scalarized, every tensor is a numpy object array of *handles*,
one per element: a node id (``str``) or a sympy number. :class:`Builder` holds the graph
under construction, the example value of every leaf, and the base names already taken, and
makes leaves (``linear.weight[0,0]``, id ``linear_weight_0_0``) and op nodes (an op of
numbers only folds into a number, so ``2·3`` is never a node).

What it does not do: know about torch.fx or about any particular torch op; those are
:mod:`.trace` and :mod:`.tensor_ops`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sympy
import torch

from ... import ops
from ...errors import LimitError
from ...graph import add_leaf, add_op, new_graph

#: The most scalar nodes (elements of parameters, inputs and intermediates) a model may have.
MAX_ELEMENTS = 5_000


class Refused(Exception):
    """A supported op called in an unsupported way; the caller adds the op and the path."""


def const(x) -> sympy.Expr:
    """A Python or sympy number as a sympy number (integers stay exact: ``x*3``, not 3.0).

    >>> const(3), const(2.0), const(0.5)
    (3, 2, 0.500000000000000)
    """
    if isinstance(x, sympy.Basic):
        return x
    if isinstance(x, bool | int) or (isinstance(x, float) and x.is_integer()):
        return sympy.Integer(int(x))
    if isinstance(x, float):
        return sympy.Float(x)
    raise Refused(f"the argument {x!r} is not a tensor or a number")


def scalar(h) -> np.ndarray:
    """A 0-d object array holding one handle."""
    out = np.empty((), dtype=object)
    out[()] = h
    return out


def as_array(x) -> np.ndarray:
    """Handles as an array; a Python number is a 0-d array of one number."""
    return x if isinstance(x, np.ndarray) else scalar(const(x))


def is_node(h) -> bool:
    """Whether a handle is a node id (else it is a number)."""
    return isinstance(h, str)


def index_text(idx: tuple, sep: str) -> str:
    """``(0, 1)`` → ``0,1`` (labels) or ``0_1`` (ids)."""
    return sep.join(str(i) for i in idx)


def identifier(path: str, prefix: str = "p") -> str:
    """A dotted torch path as a node-id base: ``linear.weight`` → ``linear_weight``, and
    ``0.weight`` (in an ``nn.Sequential``) → ``p0_weight``, since ids are identifiers.

    >>> identifier("linear.weight"), identifier("0.weight")
    ('linear_weight', 'p0_weight')
    """
    text = "".join(c if c.isalnum() or c == "_" else "_" for c in path)
    return text if text.isidentifier() else prefix + text


def shape_text(shape: Sequence[int]) -> str:
    """``(2, 3)`` → ``2×3``; ``()`` → ``scalar``."""
    return "×".join(map(str, shape)) if len(shape) else "scalar"


def interleave(weights, inputs) -> list:
    """[w₀, x₀, w₁, x₁, …]: the ``linear`` row's argument order."""
    return [h for pair in zip(weights, inputs, strict=True) for h in pair]


class Builder:
    """The graph being built: its nodes, the example point, and the names already used.

    ``cuts`` collects where the graph was cut (see :mod:`.cuts`); ``severed`` maps an fx node
    computed under ``torch.no_grad()`` to its handles as constants, made once; ``where`` is
    the source statement and line of the fx node being scalarized.
    """

    def __init__(self, max_elements: int = MAX_ELEMENTS):
        self.G = new_graph()
        self.point: dict[str, float] = {}
        self.bases: set[str] = set()
        self.max_elements = max_elements
        self.params: dict[int, np.ndarray] = {}  # id(parameter) → its leaves; a cache key only
        self.info: dict = {"parameters": {}, "inputs": {}, "constants": {}}
        self.names: dict[int, str] = {}  # id(tensor) → a function's name for it (a cache key)
        self.cuts: list[dict] = []
        self.severed: dict = {}
        self.where: tuple[str | None, int | None] = (None, None)  # the statement being built

    def base(self, name: str) -> str:
        """Reserve a base name for one tensor's elements (``add``, then ``add2``, …)."""
        out, k = name, 1
        while out in self.bases:
            k += 1
            out = f"{name}{k}"
        self.bases.add(out)
        return out

    def element(self, base: str, idx: tuple, display: str | None = None) -> tuple[str, str]:
        """(node id, label) of one element: ``x_0_1`` and ``x[0,1]``."""
        if self.G.number_of_nodes() >= self.max_elements:
            raise LimitError(f"the model has more than {self.max_elements} scalar elements "
                             "(parameters, inputs and intermediate values); graphexplain "
                             "explains small models, one node per element: use smaller tensors, "
                             "or raise max_elements")
        name = f"{base}_{index_text(idx, '_')}" if idx else base
        while name in self.G:  # x_0 (a scalar) and x[0] could both claim x_0
            name += "_"
        shown = display or base
        return name, f"{shown}[{index_text(idx, ',')}]" if idx else shown

    def leaves(self, base: str, display: str, values: torch.Tensor, kind: str,
               requires_grad: bool) -> np.ndarray:
        """One leaf per element of ``values``; their values go into the point."""
        base = self.base(base)
        data = values.detach().to(torch.float64)
        out = np.empty(tuple(values.shape), dtype=object)
        for idx in np.ndindex(out.shape):
            name, lab = self.element(base, idx, display)
            add_leaf(self.G, name, kind, lab, requires_grad)
            self.point[name] = float(data[idx])
            out[idx] = name
        return out

    def param(self, qualname: str, p: torch.Tensor) -> np.ndarray:
        """The leaves of a parameter, made once however often it is used."""
        if id(p) not in self.params:
            self.params[id(p)] = self.leaves(identifier(qualname), qualname, p, "param",
                                             p.requires_grad)
            self.info["parameters"][qualname] = tuple(p.shape)
        return self.params[id(p)]

    def node(self, base: str, idx: tuple, op: str, args: Sequence, params=None):
        """One op node; an op of numbers only is folded into a number."""
        row = ops.get(op)
        params = dict(params or {})
        if not any(is_node(a) for a in args):
            return ops.as_expr(row.build(*args, **params)).doit()
        name, lab = self.element(base, idx)
        add_op(self.G, name, op, args, params, label=lab)
        return name

    def value(self, h) -> float:
        """The number a handle stands for (a leaf's example value, or a number)."""
        if is_node(h):
            if self.G.nodes[h]["kind"] == "op":
                raise Refused("class indices computed by the model")
            return self.point[h] if h in self.point else float(self.G.nodes[h]["value"])
        return float(h)
