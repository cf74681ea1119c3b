"""Tensor operations, scalarized: each handler turns one torch op into one node per element.

What it does: every handler takes the builder, a base name for the result's elements, and
the op's arguments as torch would get them, with tensors given as arrays of handles (see
:mod:`.builder`), and returns the result's handles. Arithmetic and activations are
elementwise with torch's broadcasting; ``a − b = a + (−1)·b`` and ``a / b = a · b⁻¹`` are
compositions, as everywhere in graphexplain; ``nn.Linear``, ``F.linear`` and ``@`` give one
``linear`` node per output element, yⱼ = Σₖ Wⱼₖ·xₖ + bⱼ; ``mean`` is a sum, then a product with
1/N. Reshapes, transposes and basic indexing make no nodes: they move handles around.

What it does not do: losses (:mod:`.losses`), cutting the graph (:mod:`.cuts`), or decide
which torch callable goes to which handler (:mod:`.table`). An argument a handler does not
take raises :class:`~.builder.Refused`, which the caller turns into an error naming the op.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy

from ...errors import GraphError
from . import cuts
from .builder import Builder, Refused, as_array, const, interleave, scalar

# --- elementwise ------------------------------------------------------------------------------


def elementwise(b: Builder, name: str, op: str, *arrays, params=None) -> np.ndarray:
    """``op`` elementwise, with torch's (numpy's) broadcasting: one node per element."""
    try:
        arrays = np.broadcast_arrays(*map(as_array, arrays))
    except ValueError:
        shapes = ", ".join(str(tuple(np.shape(a))) for a in arrays)
        raise GraphError(f"'{name}': shapes {shapes} do not broadcast") from None
    base = b.base(name)
    out = np.empty(arrays[0].shape, dtype=object)
    for idx in np.ndindex(out.shape):
        out[idx] = b.node(base, idx, op, [a[idx] for a in arrays], params)
    return out


def scale(b, name, x, factor) -> np.ndarray:
    """factor·x, elementwise (``−x`` is ``(−1)·x``)."""
    return elementwise(b, name, "mul", const(factor), x)


def add(b, name, x, y, alpha=1):
    """x + α·y."""
    return elementwise(b, name, "add", x, y if alpha == 1 else scale(b, f"{name}_alpha", y, alpha))


def sub(b, name, x, y, alpha=1):
    """x − α·y = x + (−α)·y."""
    return elementwise(b, name, "add", x, scale(b, f"{name}_neg", y, -alpha))


def rsub(b, name, x, y, alpha=1):
    """y − α·x (``2 - t`` traces as ``rsub(t, 2)``)."""
    return elementwise(b, name, "add", y, scale(b, f"{name}_neg", x, -alpha))


def mul(b, name, x, y):
    """x·y, elementwise."""
    return elementwise(b, name, "mul", x, y)


def div(b, name, x, y, rounding_mode=None):
    """x / y = x · y⁻¹ (a number divisor folds: ``x/4`` is ``x·(1/4)``)."""
    if rounding_mode is not None:
        raise Refused(f"division with rounding_mode={rounding_mode!r}")
    return elementwise(b, name, "mul", x, elementwise(b, f"{name}_inv", "pow", y, -1))


def power(b, name, x, exponent):
    """xᵉ, elementwise."""
    return elementwise(b, name, "pow", x, exponent)


def neg(b, name, x):
    """−x = (−1)·x."""
    return scale(b, name, x, -1)


def activation(op: str) -> Callable:
    """A handler for a one-argument activation row (relu, sigmoid, tanh, exp, …)."""

    def handler(b, name, x, inplace=False):
        return elementwise(b, name, op, x)

    return handler


def elu(b, name, x, alpha=1.0, inplace=False):
    """elu(x) = x for x > 0, α·(eˣ − 1) otherwise."""
    return elementwise(b, name, "elu", x, params={"alpha": const(alpha)})


def leaky_relu(b, name, x, negative_slope=0.01, inplace=False):
    """leaky_relu(x) = x for x > 0, slope·x otherwise."""
    return elementwise(b, name, "leaky_relu", x, params={"slope": const(negative_slope)})


def softplus(b, name, x, beta=1.0, threshold=20.0):
    """softplus(x) = log(1 + eˣ); torch returns x itself past ``threshold``, which differs by
    less than e^(−20) ≈ 2·10⁻⁹."""
    if beta != 1:
        raise Refused(f"softplus with beta={beta} (only beta=1)")
    return elementwise(b, name, "softplus", x)


# --- linear maps ------------------------------------------------------------------------------


def linear(b, name, input, weight, bias=None):
    """yⱼ = Σₖ Wⱼₖ·xₖ + bⱼ over the last axis of x: one ``linear`` node per element of y."""
    x, w = as_array(input), as_array(weight)
    if x.ndim == 0 or w.ndim != 2 or x.shape[-1] != w.shape[1]:
        raise GraphError(f"'{name}': input of shape {x.shape} does not fit a weight of shape "
                         f"{w.shape}")
    base = b.base(name)
    out = np.empty(x.shape[:-1] + w.shape[:1], dtype=object)
    for idx in np.ndindex(out.shape):
        *batch, j = idx
        args = interleave(w[j], x[tuple(batch)])
        out[idx] = b.node(base, idx, "linear", args + ([] if bias is None else [bias[j]]))
    return out


def matmul(b, name, input, other):
    """(AB)ᵢⱼ = Σₖ Aᵢₖ·Bₖⱼ for 1-d and 2-d operands, as ``linear`` nodes without a bias."""
    x, y = as_array(input), as_array(other)
    if x.ndim not in (1, 2) or y.ndim not in (1, 2):
        raise Refused("matmul of tensors with other than 1 or 2 dimensions")
    a, c = (x if x.ndim == 2 else x[None, :]), (y if y.ndim == 2 else y[:, None])
    if a.shape[1] != c.shape[0]:
        raise GraphError(f"'{name}': shapes {x.shape} and {y.shape} cannot be multiplied")
    shape = a.shape[:1] * (x.ndim == 2) + c.shape[1:] * (y.ndim == 2)
    base = b.base(name)
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(shape):
        i = idx[0] if x.ndim == 2 else 0
        j = idx[-1] if y.ndim == 2 else 0
        out[idx] = b.node(base, idx, "linear", interleave(a[i], c[:, j]))
    return out


# --- reductions -------------------------------------------------------------------------------


def total(b, bases: tuple[str, str], idx: tuple, terms: list, divisor: int | None):
    """Σ terms (an ``add`` node), times 1/divisor when there is one (a ``mul`` node)."""
    result = terms[0] if len(terms) == 1 else b.node(bases[0], idx, "add", terms)
    if divisor is None or divisor == 1:
        return result
    return b.node(bases[1], idx, "mul", [sympy.Rational(1, divisor), result])


def reduce(b, name, x, dim, keepdim: bool, mean: bool) -> np.ndarray:
    """sum or mean over ``dim`` (all dimensions when None)."""
    x = as_array(x)
    dims = range(x.ndim) if dim is None else (dim if isinstance(dim, tuple | list) else (dim,))
    axes = sorted({d % x.ndim for d in dims}) if x.ndim else []
    kept = [a for a in range(x.ndim) if a not in axes]
    moved = np.transpose(x, kept + axes).reshape([x.shape[a] for a in kept] + [-1])
    bases = (b.base(f"{name}_sum"), b.base(name)) if mean else (b.base(name), "")
    out = np.empty(moved.shape[:-1], dtype=object)
    for idx in np.ndindex(out.shape):
        terms = list(moved[idx])
        out[idx] = total(b, bases, idx, terms, len(terms) if mean else None)
    if keepdim:
        out = out.reshape([1 if a in axes else s for a, s in enumerate(x.shape)])
    return out


def tensor_sum(b, name, input, dim=None, keepdim=False, dtype=None):
    """Σ over ``dim``: one ``add`` node per element of the result."""
    return reduce(b, name, input, dim, keepdim, mean=False)


def mean(b, name, input, dim=None, keepdim=False, dtype=None):
    """mean = (1/N)·Σ: an ``add`` node, then a ``mul`` by 1/N."""
    return reduce(b, name, input, dim, keepdim, mean=True)


# --- reindexing: no nodes, only handles moved around ------------------------------------------


def reshape(b, name, x, *shape):
    """``reshape``/``view``: the same handles in another shape."""
    shape = shape[0] if len(shape) == 1 and isinstance(shape[0], tuple | list) else shape
    return as_array(x).reshape(shape)


def flatten(b, name, x, start_dim=0, end_dim=-1):
    """Dimensions ``start_dim`` … ``end_dim`` as one."""
    x = as_array(x)
    if x.ndim == 0:
        return x.reshape(1)
    start, end = start_dim % x.ndim, end_dim % x.ndim
    return x.reshape((*x.shape[:start], -1, *x.shape[end + 1:]))


def t(b, name, x):
    """The transpose of a matrix (a vector stays as it is)."""
    return as_array(x).T


def transpose(b, name, x, dim0, dim1):
    """Two dimensions swapped."""
    return np.swapaxes(as_array(x), dim0, dim1)


def squeeze(b, name, x, dim=None):
    """Dimensions of size 1 dropped (only ``dim``, when given)."""
    x = as_array(x)
    if dim is None:
        return np.squeeze(x)
    return np.squeeze(x, dim) if x.ndim and x.shape[dim] == 1 else x


def unsqueeze(b, name, x, dim):
    """A dimension of size 1 inserted at ``dim``."""
    return np.expand_dims(as_array(x), dim)


def size(b, name, x, dim=None):
    """The shape (a number, with ``dim``); no node."""
    shape = as_array(x).shape
    return shape if dim is None else shape[dim]


def attribute(b, name, x, attr):
    """``x.shape`` and ``x.T``; ``x.data`` is detached (see :mod:`.cuts`)."""
    if isinstance(x, np.ndarray) and attr in ("shape", "T"):
        return getattr(x, attr)
    if isinstance(x, np.ndarray) and attr == "data":
        return cuts.data(b, name, x)
    raise Refused(f"the attribute .{attr}")


def getitem(b, name, x, index):
    """Basic indexing (ints, slices, None, ...), which numpy and torch read alike."""
    if not isinstance(x, np.ndarray):
        return x[index]
    parts = index if isinstance(index, tuple) else (index,)
    if not all(p is None or p is Ellipsis or isinstance(p, int | slice) for p in parts):
        raise Refused("indexing with a tensor or a list")
    out = x[index]
    return out if isinstance(out, np.ndarray) else scalar(out)
