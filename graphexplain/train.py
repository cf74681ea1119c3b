"""Gradient descent with the explained gradients: the seed's training loop, step by step.

What it does: repeats w ← w − α·∂L/∂w for every leaf that requires grad (the seed's
``w.data = w.data - learning_rate*w.grad``, which is ``optim.SGD`` without momentum), with the
gradients of the backward pass, and records the loss and the parameters along the way. The
same loop runs in torch, with ``torch.optim.SGD`` on the graph rebuilt from tensors, and the
two trajectories are compared step by step.

What it does not do: anything but plain SGD (no momentum, no weight decay), or change the
graph; inputs and targets stay as given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import networkx as nx
import numpy as np

from .errors import PointError
from .evaluate import check_point
from .graph import grad_leaves
from .plan import plan_for
from .progress import track


@dataclass(frozen=True)
class Trajectory:
    """The recorded steps: (step, loss, {parameter: value}) every ``every`` steps, and the
    last; ``final`` is the point after the last step."""

    lr: float
    steps: int
    rows: list[tuple[int, float, dict[str, float]]]
    final: dict[str, float]


def _check(lr: float, steps: int) -> None:
    if not (lr > 0 and np.isfinite(lr)):
        raise PointError(f"the learning rate must be a positive number, got {lr}")
    if not 1 <= steps <= 1_000_000:
        raise PointError(f"the number of steps must be 1 … 1,000,000, got {steps}")


def sgd(G: nx.DiGraph, output: str, point: Mapping[str, float], lr: float, steps: int,
        every: int | None = None) -> Trajectory:
    """Plain gradient descent on ``output``, from ``point``.

    Each step runs the forward pass and the reverse sweep of :mod:`graphexplain.plan`, then
    moves every leaf that requires grad: w ← w − lr·∂output/∂w.

    Examples
    --------
    >>> from graphexplain.parse import parse
    >>> from graphexplain.graph import build
    >>> G = build(parse("loss = (w*x - y)^2"), consts=["x", "y"])
    >>> t = sgd(G, "loss", {"w": 0.0, "x": 1.0, "y": 3.0}, lr=0.25, steps=4)
    >>> round(t.final["w"], 6), t.rows[-1][1]
    (2.8125, 0.03515625)
    """
    _check(lr, steps)
    plan, params = plan_for(G), grad_leaves(G)
    current = dict(check_point(G, point))
    every = every or max(1, steps // 10)
    rows, out = [], plan.index[output]
    for step in track(range(steps + 1), "gradient descent"):
        values = plan.forward(current)
        if step % every == 0 or step == steps:
            rows.append((step, float(values[out]), {p: current[p] for p in params}))
        if step == steps:
            break
        adjoints = plan.backward(output, plan.local_contributions(values))
        for p in params:
            current[p] -= lr * float(adjoints[plan.index[p]])
    return Trajectory(lr, steps, rows, current)


def torch_sgd(G: nx.DiGraph, output: str, point: Mapping[str, float], lr: float,
              steps: int, every: int | None = None) -> Trajectory:
    """The same descent in torch: ``torch.optim.SGD`` on the graph rebuilt from tensors,
    with ``zero_grad()``, ``loss.backward()`` and ``step()`` as the seed writes them."""
    import torch

    from .verify import _torch_leaves, torch_forward

    _check(lr, steps)
    plan, params = plan_for(G), grad_leaves(G)
    grad_leaf, const_leaf, pos = _torch_leaves(G, plan, check_point(G, point))
    optimizer = torch.optim.SGD([grad_leaf], lr=lr)
    every = every or max(1, steps // 10)
    rows = []
    for step in range(steps + 1):
        flat, _ = torch_forward(plan, grad_leaf, const_leaf, pos)
        loss = flat[int(pos[plan.index[output]])]
        if step % every == 0 or step == steps:
            values = grad_leaf.detach().tolist()
            rows.append((step, float(loss.detach()),
                         {p: values[pos[plan.index[p]]] for p in params}))
        if step == steps:
            break
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    values = grad_leaf.detach().tolist()
    final = {**dict(point), **{p: values[pos[plan.index[p]]] for p in params}}
    return Trajectory(lr, steps, rows, final)


def gradient_norm(G: nx.DiGraph, output: str, point: Mapping[str, float]) -> float:
    """‖∇output‖ = √(Σ_w (∂output/∂w)²) over the leaves that require grad, at ``point``:
    0 at a stationary point, which is where gradient descent stops moving.

    Examples
    --------
    >>> from graphexplain.parse import parse
    >>> from graphexplain.graph import build
    >>> G = build(parse("loss = (w - 3)^2 + (b - 1)^2"))
    >>> gradient_norm(G, "loss", {"w": 0.0, "b": 1.0}), gradient_norm(G, "loss", {"w": 3, "b": 1})
    (6.0, 0.0)
    """
    plan = plan_for(G)
    values = plan.forward(check_point(G, point))
    adjoints = plan.backward(output, plan.local_contributions(values))
    with np.errstate(all="ignore"):
        return float(np.sqrt(sum(float(adjoints[plan.index[p]]) ** 2 for p in grad_leaves(G))))


def _relative(x: float, y: float) -> float:
    """|x − y| / max(1, |x|, |y|); 0 for equal values, infinities and NaNs included."""
    if x == y or (np.isnan(x) and np.isnan(y)):
        return 0.0
    return abs(x - y) / max(1.0, abs(x), abs(y))


def max_difference(a: Trajectory, b: Trajectory) -> float:
    """The largest relative difference between two trajectories' losses and parameters."""
    pairs = zip(a.rows, b.rows, strict=True)
    diffs = [_relative(la, lb) for (_, la, pa), (_, lb, pb) in pairs]
    diffs += [_relative(pa[k], pb[k]) for (_, _, pa), (_, _, pb) in zip(a.rows, b.rows,
                                                                         strict=True)
              for k in pa]
    return max(diffs, default=0.0)
