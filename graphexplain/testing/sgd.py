"""A training step checked against w ← w − α·∂L/∂w (:func:`check_sgd`), with the slips of
training loops recognised: gradients accumulated because ``.grad`` was never zeroed (the
seed's loop, which zeroes ``w.data`` instead), gradient ascent, another learning rate."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from ..evaluate import evaluate
from ..printing import number
from .autograd import parameter_names, positional
from .compare import GradientMismatch, rounding_as_zero, show

# --- training steps -------------------------------------------------------------------------------


@dataclass
class SGDCheck:
    """What :func:`check_sgd` saw: each step's weights before and after, the gradient the
    derivation gives there, and the .grad after the step (None for plain arrays)."""

    names: list[str]
    before: list[dict[str, np.ndarray]]
    after: list[dict[str, np.ndarray]]
    gradients: list[dict[str, np.ndarray]]
    grads_seen: list[dict[str, np.ndarray] | None]


def check_sgd(step: Callable[[], object], params: Mapping[str, object], loss: Callable,
              lr: float, steps: int = 5, rtol: float | None = None) -> SGDCheck:
    """Run a training ``step`` (which updates the tensors in ``params`` in place, as
    ``w.data = w.data - lr*w.grad`` or ``optimizer.step()`` do) ``steps`` times, and check
    each update against w ← w − α·∂L/∂w, with ∂L/∂w from the derivation of ``loss``.

    ``loss(*params)`` computes the loss from the parameters, in the order of ``params``
    (e.g. ``lambda w, b: ((x @ w + b - y)**2).mean()``; tensor operations and
    ``torch.nn.functional``, since a module called inside a function cannot be traced).
    ``rtol`` defaults to 1e-9 for float64 parameters and 1e-5 for float32 (the seed's).

    Raises :class:`GradientMismatch` naming the step, the parameter, what was expected, and
    the cause where one fits: gradients accumulated because ``.grad`` was never zeroed, and
    weights changed before the update (``w.data.zero_()``, which zeroes the weight).
    """
    __tracebackhide__ = True
    import torch

    from ..nn.torch.explain import explain_module

    names = list(params)
    tensors = [params[n] for n in names]
    if rtol is None:
        rtol = 1e-5 if any(t.dtype == torch.float32 for t in tensors) else 1e-9
    start = tuple(t.detach().double().clone().requires_grad_(True) for t in tensors)
    expl = explain_module(positional(loss, parameter_names(loss, len(names))), start,
                          verify=False)
    leaves = expl.traced.input_leaves
    record = SGDCheck(names, [], [], [], [])
    for _ in range(steps):
        before = {n: _array(t) for n, t in zip(names, tensors)}
        step()
        record.before.append(before)
        record.after.append({n: _array(t) for n, t in zip(names, tensors)})
        record.gradients.append(_gradients(expl, leaves, names, before))
        record.grads_seen.append({n: _array(t.grad) for n, t in zip(names, tensors)}
                                 if all(t.grad is not None for t in tensors) else None)
    problem = _sgd_problem(record, expl, leaves, lr, rtol)
    if problem:
        raise GradientMismatch(problem, [])
    return record


def _array(t) -> np.ndarray:
    return np.array(t.detach().double().cpu().numpy(), dtype=float, copy=True)


def _gradients(expl, leaves, names, values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """∂L/∂(each parameter) from the derivation, at the parameters' ``values``."""
    point = dict(expl.evaluation.point)
    for n, ids in zip(names, leaves):
        for idx, leaf in np.ndenumerate(np.asarray(ids, dtype=object)):
            point[leaf] = float(values[n][idx])
    ev = evaluate(expl.graph, expl.output, point)
    return {n: np.vectorize(lambda leaf: ev.adjoints.get(leaf, 0.0), otypes=[float])(
        np.asarray(ids, dtype=object)) for n, ids in zip(names, leaves)}


def _near(a: np.ndarray, b: np.ndarray, rtol: float, scale: float) -> bool:
    return bool(np.all(np.abs(a - b) <= rtol * np.maximum(np.maximum(np.abs(a), np.abs(b)),
                                                           scale)))


def _sgd_problem(r: SGDCheck, expl, leaves, lr: float, rtol: float) -> str | None:
    """None when every update is w − lr·∂L/∂w; else the first wrong step, explained."""
    for t in range(len(r.before)):
        bad = [n for n in r.names
               if not _near(r.after[t][n], r.before[t][n] - lr * r.gradients[t][n], rtol,
                            max(1.0, float(np.max(np.abs(r.before[t][n]))) if
                                r.before[t][n].size else 1.0))]
        if bad:
            return _sgdmessage(r, expl, leaves, lr, rtol, t, bad)
    return None


def _sgdmessage(r: SGDCheck, expl, leaves, lr, rtol, t: int, bad: list[str]) -> str:
    n = bad[0]
    expected = r.before[t][n] - lr * r.gradients[t][n]
    grad = show(r.gradients[t][n])
    lines = [f"step {t + 1}: {n} became {show(r.after[t][n])}, but w − lr·∂L/∂w = "
             f"{show(r.before[t][n])} − {lr:g}·{f'({grad})' if grad.startswith('−') else grad}"
             f" = {show(expected)}"]
    cause = _scaled_update(r, lr) or _accumulation(r, expl, leaves, lr, rtol)
    lines.extend(cause or ["  none of the known slips fits (accumulated gradients, weights "
                           "changed before the update, an ascent, another learning rate)"])
    return "\n".join(lines)


def _scaled_update(r: SGDCheck, lr: float) -> list[str] | None:
    """Whether every update was r·lr·∂L/∂w for one constant r ≠ 1: r = −1 is gradient ascent,
    another r another learning rate (or a gradient scaled by a constant)."""
    ratios = []
    for t in range(len(r.before)):
        for n in r.names:
            g = lr * r.gradients[t][n]
            step = r.before[t][n] - r.after[t][n]
            big = np.abs(g) > 1e-6 * max(1.0, float(np.max(np.abs(r.before[t][n]), initial=0)))
            ratios.extend((step[big] / g[big]).ravel().tolist())
    if not ratios or not np.allclose(ratios, ratios[0], rtol=1e-3, atol=0):
        return None
    k = float(np.median(ratios))
    if abs(k - 1) < 1e-3:
        return None
    if abs(k + 1) < 1e-3:
        return ["  cause: gradient ascent: each update added lr·∂L/∂w (w + lr·w.grad); "
                "descent subtracts it, w ← w − lr·∂L/∂w"]
    return [f"  cause: every update was {number(k)} × lr·∂L/∂w: the loop's learning rate is "
            f"{number(k * lr)}, not lr = {lr:g} (or its gradient is scaled by {number(k)})"]


def _accumulation(r: SGDCheck, expl, leaves, lr, rtol) -> list[str] | None:
    """Whether .grad held the sum of every step's gradient (never zeroed), and whether the
    weights the update started from were not the weights before the step (zeroed .data)."""
    if any(g is None for g in r.grads_seen):
        return _accumulated_trajectory(r, lr, rtol)
    # the weights each update started from: after = used − lr·grad
    used = [{n: r.after[t][n] + lr * r.grads_seen[t][n] for n in r.names}
            for t in range(len(r.before))]
    # each step's fresh gradient, at the weights before the step (the forward pass ran there)
    # or, if the loop changed them before its forward pass, at the weights it started from
    if not (_running_sums(r, r.gradients, rtol) or _running_sums(
            r, [_gradients(expl, leaves, r.names, u) for u in used], rtol)):
        return None
    changed = [t for t in range(len(r.before))
               if not all(_near(used[t][n], r.before[t][n], 1e-6, 1.0) for n in r.names)]
    lines = ["  cause: gradients accumulated over the steps: after step k, .grad holds "
             "∂L/∂w summed over steps 1 … k, because it was never zeroed (call "
             "w.grad.zero_() or optimizer.zero_grad() before backward())"]
    if changed:
        t = changed[0]
        shown = ", ".join(f"{n} = {show(rounding_as_zero(used[t][n], r.before[t][n]))}"
                          for n in r.names)
        lines.append(f"  and from step {t + 1} on, the update started from {shown}, not from "
                     f"the weights before the step: the loop changed the weights themselves "
                     f"(w.data.zero_() zeroes the weight, not its gradient)")
    return lines


def _running_sums(r: SGDCheck, gradients: list[dict], rtol: float) -> bool:
    """Whether .grad after each step is the sum of ``gradients`` so far (and not just the
    last: one step alone is no evidence)."""
    total = {n: np.zeros_like(r.before[0][n]) for n in r.names}
    for t in range(len(r.before)):
        for n in r.names:
            total[n] = total[n] + gradients[t][n]
        if not all(_near(r.grads_seen[t][n], total[n], max(rtol, 1e-6) * 100, 1e-12)
                   for n in r.names):
            return False
    return len(r.before) > 1


def _accumulated_trajectory(r: SGDCheck, lr, rtol) -> list[str] | None:
    """Without .grad: whether each update used the running sum of the gradients."""
    total = {n: np.zeros_like(r.before[0][n]) for n in r.names}
    for t in range(len(r.before)):
        for n in r.names:
            total[n] = total[n] + r.gradients[t][n]
            if not _near(r.after[t][n], r.before[t][n] - lr * total[n], rtol, 1.0):
                return None
    return ["  cause: gradients accumulated over the steps: each update used ∂L/∂w summed "
            "over every step so far (the gradient was never reset)"]
