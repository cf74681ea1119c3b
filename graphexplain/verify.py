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
from dataclasses import dataclass, field, replace

import networkx as nx
import numpy as np

from . import ops
from .evaluate import Evaluation, step_size
from .graph import grad_leaves, tracked
from .plan import plan_for
from .progress import track

# float64 on both sides; the tolerance allows for libm and torch differing in the last digits
# of sin, exp, … which a long chain can amplify
RTOL_TORCH, ATOL_TORCH = 1e-7, 1e-9
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
    population: int | None = None  # how many could have been compared, when sampled
    # central differences: leaf → (h, f(w+h), f(w−h)), so a report can show the seed's sum
    differences: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = {"ok": self.ok, "max_abs_error": self.max_abs_error, "compared": self.compared,
             "first_mismatch": self.first_mismatch, "not_comparable": self.not_comparable}
        if self.step is not None:
            d["step"] = self.step
        if self.population is not None and self.population > self.compared + len(
                self.not_comparable):
            d["sampled_from"] = self.population
        if self.differences:
            d["differences"] = {x: {"h": h, "f_plus": _finite(up), "f_minus": _finite(down)}
                                for x, (h, up, down) in self.differences.items()}
        return d


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def close(a: float, b: float, rtol: float, atol: float) -> bool:
    """|a − b| ≤ atol + rtol·max(|a|, |b|)."""
    return abs(a - b) <= atol + rtol * max(abs(a), abs(b))


def _compare(name: str, ours: Mapping[str, float], ref: Mapping[str, float], order: list[str],
             rtol: float, atol: float, skip=(), step=None, slack=None) -> Check:
    """Compare two {node: value} maps over ``order`` (backward order), skipping non-finite;
    ``slack`` adds a per-node absolute tolerance (a central difference's rounding bound)."""
    errors, not_comparable, first = [], list(skip), None
    slack = slack or {}
    for n in order:
        if n not in ref or n in skip:
            continue
        a, b = ours[n], ref[n]
        if not (math.isfinite(a) and math.isfinite(b)):
            if a != b:  # NaN on either side, or different infinities
                not_comparable.append(n)
            continue
        errors.append(abs(a - b))
        if first is None and not close(a, b, rtol, atol + slack.get(n, 0.0)):
            first = n
    ok = None if not errors else first is None
    return Check(name, ok, max(errors) if errors else None, len(errors), first,
                 not_comparable, step, dict(ref))


def torch_values(G: nx.DiGraph, output: str, point: Mapping[str, float]):
    """Run the graph in torch float64 and backpropagate; return ({node: value}, {node: grad}).

    The graph is rebuilt from tensors, not one torch scalar per node: each group of
    :mod:`graphexplain.plan` (same op, same generation) is one call of the op row's torch
    function on a vector, so a network with thousands of weights is a few dozen torch ops.
    Intermediate gradients come from ``retain_grad`` on every group's tensor.
    """
    plan = plan_for(G)
    grad_leaf, const_leaf, pos = _torch_leaves(G, plan, point)
    flat, groups = torch_forward(plan, grad_leaf, const_leaf, pos)
    out = flat[int(pos[plan.index[output]])]
    if out.requires_grad:
        out.backward()
    return _torch_results(plan, flat, pos, grad_leaf, groups)


def torch_forward(plan, grad_leaf, const_leaf, pos):
    """The forward pass in torch, a group at a time: (every node's value in one flat tensor,
    [(group, its tensor)]). ``pos`` (updated) maps node index → place in the flat tensor.

    Each group reads its arguments from the parts it needs (the leaves, earlier groups), not
    from a flat tensor rebuilt every generation: on a deep chain that rebuilding, and its
    backward, grow with the square of the depth. The flat tensor is made once, at the end."""
    import torch

    parts, groups = [grad_leaf, const_leaf], []
    n_grad = grad_leaf.numel()
    leaf, tracked_ = pos >= 0, (pos >= 0) & (pos < n_grad)
    part_of = np.where(tracked_, 0, np.where(leaf, 1, -1))  # node → the part that holds it
    within = np.where(tracked_, pos, pos - n_grad)  # node → its place in that part
    offset = grad_leaf.numel() + const_leaf.numel()
    for generation in plan.generations:
        for g in generation:
            t = _torch_group(g, parts, part_of, within)
            pos[g.nodes] = offset + np.arange(len(g.nodes))
            part_of[g.nodes], within[g.nodes] = len(parts), np.arange(len(g.nodes))
            offset += len(g.nodes)
            parts.append(t)
            groups.append((g, t))
    return torch.cat(parts), groups


def _torch_leaves(G: nx.DiGraph, plan, point: Mapping[str, float]):
    """Two leaf tensors (requires grad, and not) and each node's position in the flat tensor."""
    import torch

    leaves = [n for n in plan.names if G.nodes[n]["kind"] != "op"]
    value = {**plan.leaf_values, **point}
    tracked_ = [n for n in leaves if G.nodes[n]["requires_grad"]]
    fixed = [n for n in leaves if not G.nodes[n]["requires_grad"]]
    pos = np.full(len(plan.names), -1)
    for k, n in enumerate(tracked_ + fixed):
        pos[plan.index[n]] = k
    grad_leaf = torch.tensor([float(value[n]) for n in tracked_], dtype=torch.float64,
                             requires_grad=True)
    const_leaf = torch.tensor([float(value[n]) for n in fixed], dtype=torch.float64)
    return grad_leaf, const_leaf, pos


def _torch_group(g, parts, part_of, within):
    """One group of op nodes, computed on vectors by the op row's torch function; its
    arguments are gathered from the few parts (leaf or group tensors) they live in."""
    import torch

    used = [a[a >= 0] for a in g.args]
    needed = np.unique(np.concatenate([part_of[u] for u in used])) if used else np.array([])
    source = torch.cat([parts[k] for k in needed]) if len(needed) else None
    start = np.zeros(len(parts), dtype=np.int64)
    if len(needed):
        start[needed] = np.concatenate([[0], np.cumsum([parts[k].numel() for k in needed])[:-1]])
    args = []
    for a, c in zip(g.args, g.consts, strict=True):
        constant = torch.as_tensor(c, dtype=torch.float64)
        if source is None or not (a >= 0).any():
            args.append(constant)
            continue
        safe = np.maximum(a, 0)
        index = np.where(a >= 0, start[part_of[safe]] + within[safe], 0)
        args.append(torch.where(torch.as_tensor(a >= 0), source[torch.as_tensor(index)],
                                constant))
    row, params = ops.OPS[g.key[0]], {k: float(v) for k, v in g.key[2]}
    if row.elementwise:
        t = row.torch(*args, **params)
    else:  # a loss reduces its arguments: one call per node
        t = torch.stack([torch.as_tensor(row.torch(*(a[j] for a in args), **params))
                         for j in range(len(g.nodes))])
    t = torch.as_tensor(t, dtype=torch.float64).expand(len(g.nodes))
    if t.requires_grad:
        t.retain_grad()
    return t


def _torch_results(plan, flat, pos, grad_leaf, groups):
    """({node: value}, {node: grad}) for every node that requires grad."""
    flat_values = flat.detach().tolist()
    values = {n: flat_values[pos[i]] for i, n in enumerate(plan.names)}
    grads = {}
    leaf_grad = grad_leaf.grad.tolist() if grad_leaf.grad is not None else None
    for i, n in enumerate(plan.names):
        if pos[i] < grad_leaf.numel():  # the leaves that require grad come first
            grads[n] = leaf_grad[pos[i]] if leaf_grad is not None else 0.0
    for g, t in groups:
        if t.requires_grad:
            tg = t.grad.tolist() if t.grad is not None else [0.0] * len(g.nodes)
            grads.update({plan.names[i]: v for i, v in zip(g.nodes, tg, strict=True)})
    return values, grads


def torch_check(G: nx.DiGraph, output: str, ev: Evaluation) -> Check:
    """Compare every adjoint (leaves and intermediates) with torch.autograd in float64."""
    _, grads = torch_values(G, output, ev.point)
    # a group tensor may mix tracked and untracked nodes; torch's grads of the untracked ones
    # are not gradients the user asked for
    relevant = tracked(G, output) | {output}
    ref = {n: g for n, g in grads.items() if n in relevant}
    backward_order = list(reversed(list(nx.topological_sort(G))))
    return _compare("torch", ev.adjoints, ref, backward_order, RTOL_TORCH, ATOL_TORCH)


FD_MAX_LEAVES = 64


def sample(items: list, k: int) -> list:
    """At most ``k`` items, evenly spread (deterministic: the same run checks the same ones):
    the first and the last, and k − 2 between them; one item is the first."""
    if len(items) <= k:
        return list(items)
    if k <= 1:
        return list(items[:k])
    return [items[round(i * (len(items) - 1) / (k - 1))] for i in range(k)]


def finite_difference_check(G: nx.DiGraph, output: str, ev: Evaluation,
                            max_leaves: int = FD_MAX_LEAVES, h: float | None = None) -> Check:
    """Compare leaf gradients with the central difference (f(w+h) − f(w−h))/2h: every one,
    or an evenly spread sample of ``max_leaves`` on a large network (torch.autograd checks
    every gradient). The 2·k perturbed points are evaluated as one batch.

    ``h`` is the step (the seed uses 1e-7); by default each leaf w gets
    h = ε^(1/3)·max(1, |w|), where truncation and rounding error balance in float64.
    """
    all_leaves = [x for x in grad_leaves(G) if x in ev.adjoints]
    leaves_ = sample(all_leaves, max_leaves)
    on_kink = _leaves_through_kinks(G, output, ev.kinks)
    todo = [x for x in leaves_ if x not in on_kink]
    ref, slack, seen = {}, {}, {}
    for x, diff in zip(todo, _central_differences(G, output, ev.point, todo, h), strict=True):
        if diff is None:  # w ± h lands on both sides of a kink: no derivative to see
            on_kink.add(x)
        else:
            ref[x], slack[x], seen[x] = diff
    steps = [_step(ev.point[x], h) for x in leaves_]
    check = _compare("finite_difference", ev.adjoints, ref, leaves_, RTOL_FD, ATOL_FD,
                     skip=[x for x in leaves_ if x in on_kink], step=max(steps, default=None),
                     slack=slack)
    return replace(check, population=len(all_leaves), differences=seen)


def _step(w: float, h: float | None) -> float:
    return step_size(w) if h is None else h


EPS = float(np.finfo(float).eps)
BATCH_CELLS = 4_000_000  # node values per batch of perturbed points (32 MB of float64)


def _central_differences(G: nx.DiGraph, output: str, point: Mapping[str, float],
                         leaves_: list[str], h: float | None = None) -> list:
    """For each leaf w: ((f(w+h) − f(w−h))/2h, its rounding bound 4ε·max|f(w±h)|/h,
    (h, f(w+h), f(w−h))), or None when the step crosses a kink (a relu, abs or leaky_relu
    argument changes sign between w−h and w+h). The points w±h are rows of batched forward
    passes."""
    plan = plan_for(G)
    k, kink_args = plan.index[output], _kink_arguments(G, plan)
    per_batch = max(1, BATCH_CELLS // (2 * len(plan.names)))
    out = []
    for start in track(range(0, len(leaves_), per_batch), "finite differences"):
        chunk = leaves_[start:start + per_batch]
        hs = [_step(point[x], h) for x in chunk]
        changes = [(x, point[x] + s * h) for x, h in zip(chunk, hs, strict=True)
                   for s in (1, -1)]
        values = plan.forward_batch(point, changes)
        up, down = values[0::2], values[1::2]
        crossed = (_kink_side(up, kink_args) != _kink_side(down, kink_args)).any(axis=1)
        with np.errstate(all="ignore"):
            diffs = (up[:, k] - down[:, k]) / (2 * np.array(hs))
            rounding = 4 * EPS * np.maximum(abs(up[:, k]), abs(down[:, k])) / np.array(hs)
        out += [None if c else (float(d), float(r), (s, float(u), float(v)))
                for c, d, r, s, u, v in zip(crossed, diffs, rounding, hs, up[:, k], down[:, k],
                                            strict=True)]
    return out


def _kink_arguments(G: nx.DiGraph, plan) -> tuple[list[int], list[int | None]]:
    """Where each kinked op (relu, abs, leaky_relu, max) changes branch: the node indices of
    its first argument and, for max(a, b), its second (the kink is at a = b)."""
    firsts, seconds = [], []
    for n in G:
        data = G.nodes[n]
        if data["kind"] != "op" or ops.OPS[data["op"]].kink is None:
            continue
        args = [plan.index[a] if isinstance(a, str) else float(a) for a in data["args"]]
        if len(args) == 1 and isinstance(args[0], int):
            firsts.append(args[0])
            seconds.append(None)
        elif len(args) == 2:
            firsts.append(args[0])
            seconds.append(args[1])
    return firsts, seconds


def _kink_side(values: np.ndarray, kink_args) -> np.ndarray:
    """The sign of each kinked op's argument (a − b for max) in each row of ``values``."""
    firsts, seconds = kink_args
    columns = [(values[:, a] if isinstance(a, int) else np.full(len(values), a))
               - (0.0 if b is None else values[:, b] if isinstance(b, int) else b)
               for a, b in zip(firsts, seconds, strict=True)]
    return np.sign(np.stack(columns, axis=1)) if columns else np.zeros((len(values), 0))


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


def verify(G: nx.DiGraph, output: str, ev: Evaluation, use_torch: bool = True,
           h: float | None = None) -> Verification:
    """Both checks at the evaluation's point (``h``: the central-difference step)."""
    return Verification(torch_check(G, output, ev) if use_torch else None,
                        finite_difference_check(G, output, ev, h=h))
