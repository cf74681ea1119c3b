"""Loss functions, scalarized: ``MSELoss``, ``BCEWithLogitsLoss`` and ``CrossEntropyLoss``.

What it does: ``MSELoss`` and ``BCEWithLogitsLoss`` with ``reduction="mean"`` are one node of
the op table's ``mse``/``bce_logits`` row over all elements (so the seed's
∂L/∂out = (2/K)·(out − y) is one edge); ``CrossEntropyLoss`` is one ``cross_entropy`` node per
sample, then their mean, over the samples whose class is not ``ignore_index``, as torch does.
Class-index targets become the one-hot numbers of the ``cross_entropy`` row.

What it does not do: class weights, ``pos_weight``, label smoothing, or the deprecated
``size_average``/``reduce`` arguments (each refused by name).
"""

from __future__ import annotations

import numpy as np
import sympy

from ...errors import GraphError
from .builder import Refused, as_array, scalar
from .tensor_ops import elementwise, tensor_sum, total


def pointwise_loss(b, name, op: str, input, target, reduction: str) -> np.ndarray:
    """``mse``/``bce_logits``: one node over all elements for the mean (the row divides by K),
    one node per element otherwise, added for ``sum``."""
    o, y = np.broadcast_arrays(as_array(input), as_array(target))
    if reduction == "mean":
        return scalar(b.node(b.base(name), (), op, [*o.flat, *y.flat]))
    if reduction == "none":
        return elementwise(b, name, op, o, y)
    if reduction == "sum":
        return tensor_sum(b, name, elementwise(b, f"{name}_terms", op, o, y))
    raise Refused(f"reduction={reduction!r}")


def _deprecated(size_average, reduce) -> None:
    if size_average is not None or reduce is not None:
        raise Refused("size_average/reduce (deprecated; use reduction=)")


def mse_loss(b, name, input, target, size_average=None, reduce=None, reduction="mean",
             weight=None):
    """MSELoss: (1/K)·Σ(oₖ − yₖ)² over all K elements (the ``mse`` row)."""
    _deprecated(size_average, reduce)
    if weight is not None:
        raise Refused("weight")
    return pointwise_loss(b, name, "mse", input, target, reduction)


def bce_logits(b, name, input, target, weight=None, size_average=None, reduce=None,
               reduction="mean", pos_weight=None):
    """BCEWithLogitsLoss: (1/K)·Σ softplus(oₖ) − oₖ·yₖ (the ``bce_logits`` row)."""
    _deprecated(size_average, reduce)
    if weight is not None or pos_weight is not None:
        raise Refused("weight or pos_weight")
    return pointwise_loss(b, name, "bce_logits", input, target, reduction)


def cross_entropy(b, name, input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """CrossEntropyLoss: per sample n, ℓₙ = −Σ_c yₙc·log softmax(oₙ)_c (one ``cross_entropy``
    node; y is one-hot for a class index); ``mean`` divides Σₙ ℓₙ by the number of samples
    whose class is not ``ignore_index`` (by N for class probabilities), as torch does."""
    _deprecated(size_average, reduce)
    if weight is not None or label_smoothing:
        raise Refused("weight or label_smoothing")
    o, y = as_array(input), as_array(target)
    if o.ndim not in (1, 2):
        raise Refused("cross_entropy over more than 2 dimensions")
    outputs, targets = (o, y) if o.ndim == 2 else (o[None], y[None])
    probabilities = y.shape == o.shape
    single = len(outputs) == 1 and (reduction != "none" or o.ndim == 1)
    base = b.base(name if single or reduction == "none" else f"{name}_terms")
    terms = [_ce_sample(b, base, () if single or o.ndim == 1 else (n,), outputs[n], targets[n],
                        probabilities, ignore_index) for n in range(len(outputs))]
    if reduction == "none":
        out = np.empty(len(terms), dtype=object)
        out[:] = [sympy.S.Zero if t is None else t for t in terms]  # an ignored sample is 0
        return out.reshape(o.shape[:-1])
    return _reduce_samples(b, name, terms, len(outputs) if probabilities else None,
                           reduction, single, ignore_index)


def _reduce_samples(b, name, terms: list, count: int | None, reduction: str, single: bool,
                    ignore_index: int) -> np.ndarray:
    """Σₙ ℓₙ, divided for ``mean`` by ``count`` (or by the samples not ignored)."""
    if reduction not in ("mean", "sum"):
        raise Refused(f"reduction={reduction!r}")
    kept = [t for t in terms if t is not None]
    if not kept:
        raise GraphError(f"'{name}': every target is ignore_index={ignore_index}")
    if single:
        return scalar(kept[0])
    divisor = (count or len(kept)) if reduction == "mean" else None
    bases = (b.base(f"{name}_sum") if divisor else b.base(name), b.base(name) if divisor else "")
    return scalar(total(b, bases, (), kept, divisor))


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
