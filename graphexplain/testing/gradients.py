"""Hand-computed gradients checked at one point (:func:`assert_gradients`) and a hand-written
backward function checked at drawn points (:func:`check_backward`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

import numpy as np

from .. import check
from ..graph import label
from .compare import GradientMismatch, compare, entries, explain_target, message


def assert_gradients(target, grads: Mapping, at: Mapping[str, float] | None = None, *,
                     rtol: float = 1e-6, atol: float = 1e-9, layout: str = "torch",
                     inputs=None, loss=None, loss_target=None, output: str | None = None,
                     consts=()):
    """Assert that ``grads`` (name, label or array → value) are the gradients of ``target``
    at ``at``; returns the explanation. See the module's docstring for names and layouts.

    Raises
    ------
    GradientMismatch
        naming each wrong entry, its formula and value, the diagnosis and the paths.
    """
    __tracebackhide__ = True  # pytest shows the caller's line, not ours
    expl = explain_target(target, at, inputs=inputs, loss=loss, loss_target=loss_target,
                          output=output, consts=consts)
    if expl.evaluation is None:
        raise ValueError("the gradients need a point: give the inputs' values with at=…")
    given = entries(expl, grads, layout)
    evs = [expl.evaluation]
    wrong = compare(expl, evs, {n: [v] for n, v in given}, rtol, atol)
    if wrong:
        raise GradientMismatch(message(expl, wrong, len(given), evs, rtol), wrong)
    return expl


# --- a user's backward function, at drawn points --------------------------------------------------


def check_backward(fn: Callable, target, *, points: int = 3, seed: int = 0,
                   layout: str = "torch", rtol: float = 1e-6, atol: float = 1e-9,
                   at: Mapping[str, float] | None = None, tensors: bool = False):
    """Run a hand-written backward function at ``points`` drawn points and compare every
    gradient it returns with the derivation; returns the explanation.

    How ``fn`` is called:

    - an MLP spec: ``fn(params, x, y)`` with ``params`` = {"w1": array, "b1": array, …} in
      ``layout`` (torch's (out, in) by default), ``x`` and ``y`` 1-D arrays; it returns the
      gradients the same way ({"w1": ∂L/∂W1, …});
    - a program: ``fn(values)`` with ``values`` = {input name: float}; it returns
      {name: ∂L/∂name}.

    With ``tensors=True`` the arrays are float64 torch tensors instead (a torch backward);
    the gradients may be returned as tensors either way.

    The first point is the target's own (the spec's draw, or ``at``), the others are drawn
    (an MLP spec with other seeds; a program's inputs from ±[0.5, 2]).
    """
    __tracebackhide__ = True
    from ..nn.mlp import MLPSpec

    expl = explain_target(target, at)
    d = expl.derivation
    if isinstance(target, MLPSpec):
        point_list = [expl.evaluation.point] + [_mlp_point(target, seed + 1 + k)
                                                for k in range(points - 1)]
    else:
        point_list = check.sample_points(expl.graph, expl.evaluation.point if
                                         expl.evaluation else None, points, seed)[:points]
    evs = check.evaluations(d, point_list)
    got: dict[str, list[float]] = {}
    for ev in evs:
        if isinstance(target, MLPSpec):
            params, x, y = _mlp_arrays(target, ev.point, layout)
            if tensors:
                params, x, y = _as_tensors(params), *_as_tensors({"x": x, "y": y}).values()
            result = fn(params, x, y)
        else:
            result = fn({label(expl.graph, n): v for n, v in ev.point.items()})
        for node, value in entries(expl, result, layout):
            got.setdefault(node, []).append(value)
    missing = [n for n in d.leaves if n not in got]
    wrong = compare(expl, evs, got, rtol, atol)
    if wrong or missing:
        text = message(expl, wrong, len(got), evs, rtol) if wrong else ""
        if missing:
            text += (f"\n  missing: the backward function returned no gradient for "
                     f"{', '.join(label(expl.graph, n) for n in missing[:10])}")
        raise GradientMismatch(text.strip("\n"), wrong)
    return expl


def _as_tensors(arrays: Mapping[str, np.ndarray]) -> dict:
    import torch

    return {k: torch.tensor(v, dtype=torch.float64) for k, v in arrays.items()}


def _mlp_point(spec, seed: int) -> dict[str, float]:
    from ..nn.mlp import draw_values

    return draw_values(replace(spec, seed=seed, x=None, y=None))


def _mlp_arrays(spec, point: Mapping[str, float], layout: str):
    """The point as numpy arrays: W_n in ``layout``, b_n, x, y."""
    sizes = spec.layers
    params = {}
    for n in range(1, len(sizes)):
        fan_in, fan_out = sizes[n - 1], sizes[n]
        W = np.array([[point[f"w{n}_{i}_{j}"] for i in range(1, fan_in + 1)]
                      for j in range(1, fan_out + 1)])  # (out, in): row j = weights into j
        params[f"w{n}"] = W if layout == "torch" else W.T
        if spec.bias:
            params[f"b{n}"] = np.array([point[f"b{n}_{j}"] for j in range(1, fan_out + 1)])
    x = np.array([point[f"x{i}"] for i in range(1, sizes[0] + 1)])
    y = np.array([point[k] for k in sorted((k for k in point if k.startswith("y")),
                                           key=lambda k: int(k[1:]))])
    return params, x, y
