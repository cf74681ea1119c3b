"""Proof: every gradient checked against torch.autograd and against central differences.

What it does: rebuilds the same graph in torch (float64), node by node through the op table's
torch functions, runs ``backward()``, and compares every leaf's ``.grad`` and every
intermediate's ``.grad`` (via ``retain_grad``) with graphexplain's adjoints. Separately, it
compares every leaf gradient with the central difference (f(w+h) − f(w−h)) / 2h.

It reports the largest absolute error of each check and names the first node, walking back
from the output as backprop does, where a check disagrees. Where a value is NaN or infinite,
or a leaf sits on a kink (where central differences cannot see torch's convention), that
comparison is "not comparable at this point" rather than a false mismatch.

torch is imported only inside :func:`torch_check`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import networkx as nx

from . import ops
from .evaluate import Evaluation, central_difference, step_size
from .graph import grad_leaves

RTOL_TORCH, ATOL_TORCH = 1e-9, 1e-9
RTOL_FD, ATOL_FD = 1e-5, 1e-6


@dataclass(frozen=True)
class Check:
    """The result of one check.

    ``ok`` is True when every comparable value agrees, False on a mismatch, and None when
    nothing was comparable. ``first_mismatch`` is the first disagreeing node in backward order.
    """

    name: str
    ok: bool | None
    max_abs_error: float | None
    compared: int
    first_mismatch: str | None = None
    not_comparable: list[str] = field(default_factory=list)
    step: float | None = None
    reference: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = {"ok": self.ok, "max_abs_error": self.max_abs_error, "compared": self.compared,
             "first_mismatch": self.first_mismatch, "not_comparable": self.not_comparable}
        if self.step is not None:
            d["step"] = self.step
        return d


def close(a: float, b: float, rtol: float, atol: float) -> bool:
    """|a − b| ≤ atol + rtol·max(|a|, |b|)."""
    return abs(a - b) <= atol + rtol * max(abs(a), abs(b))


def _compare(name: str, ours: Mapping[str, float], ref: Mapping[str, float], order: list[str],
             rtol: float, atol: float, skip=(), step=None) -> Check:
    """Compare two {node: value} maps over ``order`` (backward order), skipping non-finite."""
    errors, not_comparable, first = [], list(skip), None
    for n in order:
        if n not in ref or n in skip:
            continue
        a, b = ours[n], ref[n]
        if not (math.isfinite(a) and math.isfinite(b)):
            if not (a == b or (math.isnan(a) and math.isnan(b))):
                not_comparable.append(n)
            continue
        errors.append(abs(a - b))
        if first is None and not close(a, b, rtol, atol):
            first = n
    ok = None if not errors else first is None
    return Check(name, ok, max(errors) if errors else None, len(errors), first,
                 not_comparable, step, dict(ref))


def torch_values(G: nx.DiGraph, output: str, point: Mapping[str, float]):
    """Run the graph in torch float64; return ({node: value}, {node: grad})."""
    import torch

    tensors = {}
    for n in nx.topological_sort(G):
        data = G.nodes[n]
        if data["kind"] != "op":
            value = data.get("value", point.get(n))
            tensors[n] = torch.tensor(float(value), dtype=torch.float64,
                                      requires_grad=bool(data["requires_grad"]))
            continue
        args = [tensors[a] if isinstance(a, str) else float(a) for a in data["args"]]
        params = {k: float(v) for k, v in data["params"].items()}
        t = ops.OPS[data["op"]].torch(*args, **params)
        if not isinstance(t, torch.Tensor):
            t = torch.tensor(float(t), dtype=torch.float64)
        if t.requires_grad:
            t.retain_grad()
        tensors[n] = t
    out = tensors[output]
    if out.requires_grad:
        out.backward()
    values = {n: float(t.detach()) for n, t in tensors.items()}
    grads = {n: (float(t.grad) if t.grad is not None else 0.0)
             for n, t in tensors.items() if t.requires_grad}
    return values, grads


def torch_check(G: nx.DiGraph, output: str, ev: Evaluation) -> Check:
    """Compare every adjoint (leaves and intermediates) with torch.autograd in float64."""
    _, grads = torch_values(G, output, ev.point)
    relevant = nx.ancestors(G, output) | {output}
    ref = {n: g for n, g in grads.items() if n in relevant}
    backward_order = list(reversed(list(nx.topological_sort(G))))
    return _compare("torch", ev.adjoints, ref, backward_order, RTOL_TORCH, ATOL_TORCH)


def finite_difference_check(G: nx.DiGraph, output: str, ev: Evaluation) -> Check:
    """Compare every leaf gradient with the central difference at a float64 step."""
    leaves_ = [x for x in grad_leaves(G) if x in ev.adjoints]
    on_kink = _leaves_through_kinks(G, output, ev.kinks)
    ref = {x: central_difference(G, output, ev.point, x) for x in leaves_ if x not in on_kink}
    steps = [step_size(ev.point[x]) for x in leaves_]
    return _compare("finite_difference", ev.adjoints, ref, leaves_, RTOL_FD, ATOL_FD,
                    skip=[x for x in leaves_ if x in on_kink], step=max(steps, default=None))


def _leaves_through_kinks(G: nx.DiGraph, output: str, kink_nodes: list[str]) -> set[str]:
    """Leaves whose gradient passes through a node evaluated at its kink."""
    out = set()
    for k in kink_nodes:
        out |= nx.ancestors(G, k)
    return out


@dataclass(frozen=True)
class Verification:
    torch: Check | None
    finite_difference: Check

    @property
    def ok(self) -> bool | None:
        """False if any check disagrees; None if nothing was comparable; else True."""
        results = [c.ok for c in (self.torch, self.finite_difference) if c is not None]
        if any(r is False for r in results):
            return False
        return None if all(r is None for r in results) else True

    def to_dict(self) -> dict:
        d = {"finite_difference": self.finite_difference.to_dict()}
        if self.torch is not None:
            d["torch"] = self.torch.to_dict()
        return d


def verify(G: nx.DiGraph, output: str, ev: Evaluation, use_torch: bool = True) -> Verification:
    """Both checks at the evaluation's point."""
    return Verification(torch_check(G, output, ev) if use_torch else None,
                        finite_difference_check(G, output, ev))
