"""Comparing hand-computed gradients with the derivation: the target explained, the entries
named (labels, whole arrays in torch's or the seed's layout), the wrong ones diagnosed, and the
message that pytest prints."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .. import check
from ..check import truth_text
from ..diagnosis import Diagnosis, diagnose, path_product_text, path_text, paths
from ..evaluate import Evaluation
from ..graph import label, resolve, resolve_point
from ..printing import number
from ..verify import close
from . import artifacts

LAYOUTS = ("torch", "seed")


class GradientMismatch(AssertionError):
    """Hand-computed gradients that disagree with the derivation; the message explains."""

    def __init__(self, message: str, wrong: list[Wrong]):
        super().__init__(message)
        self.wrong = wrong


@dataclass
class Wrong:
    """One wrong entry: its node, the values at each point, and the diagnosis."""

    node: str
    got: list[float]
    expected: list[float]
    diagnosis: Diagnosis


# --- the target: what the gradients should be -----------------------------------------------------


def explain_target(target, at: Mapping[str, float] | None = None, *, inputs=None, loss=None,
                   loss_target=None, output: str | None = None, consts=()):
    """The explanation of a program text, an :class:`~graphexplain.nn.mlp.MLPSpec`, a torch
    ``nn.Module`` (with ``inputs``, optionally ``loss`` and ``loss_target``), or an
    explanation already made; evaluated at ``at`` (labels allowed)."""
    from ..api import Explanation, explain, explain_graph
    from ..nn.mlp import MLPSpec, build_mlp, draw_values

    if isinstance(target, Explanation):
        return target
    if isinstance(target, str):
        return explain(target, at, output=output, consts=consts, verify=False)
    if isinstance(target, MLPSpec):
        G = build_mlp(target)
        point = {**draw_values(target), **(resolve_point(G, at) or {})}
        return explain_graph(G, point, verify=False)
    from ..nn.torch.explain import explain_module

    if inputs is None:
        raise TypeError("a torch target needs inputs=(example tensors, …)")
    return explain_module(target, inputs, loss=loss, target=loss_target, verify=False)


def entries(expl, grads: Mapping, layout: str) -> list[tuple[str, float]]:
    """(node id, value) for every entry of ``grads``: scalars by name or label, arrays by
    the name of the weight, bias or parameter they hold."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout is one of {', '.join(LAYOUTS)}, not {layout!r}")
    G, out = expl.graph, []
    for key, value in grads.items():
        array = np.asarray(_numpy(value), dtype=float)
        if array.ndim == 0 and _is_node(G, key):
            out.append((resolve(G, key), float(array)))
            continue
        for index, v in np.ndenumerate(array):
            out.append((resolve(G, _entry_label(G, key, index, array.ndim, layout)), float(v)))
    return out


def _numpy(value):
    if hasattr(value, "detach"):  # a torch tensor
        return value.detach().cpu().double().numpy()
    return value


def _is_node(G, key: str) -> bool:
    try:
        resolve(G, key)
    except Exception:
        return False
    return True


def _entry_label(G, key: str, index: tuple, ndim: int, layout: str) -> str:
    """The label of one entry of an array: an MLP's ``w1`` (torch layout: [j−1, i−1] holds
    w1[i,j]; the seed's: [i−1, j−1]) and ``b1`` (b1[j]); a module's ``linear.weight[r,c]``."""
    if re.fullmatch(r"[wb]\d+", key) and (f"{key}_1_1" in G or f"{key}_1" in G):
        if ndim == 1:
            return f"{key}[{index[0] + 1}]"
        r, c = index[0] + 1, index[1] + 1
        return f"{key}[{c},{r}]" if layout == "torch" else f"{key}[{r},{c}]"
    return f"{key}[{','.join(map(str, index))}]" if index else key


# --- comparing ------------------------------------------------------------------------------------


def compare(expl, evs: Sequence[Evaluation], got: Mapping[str, list[float]], rtol: float,
             atol: float) -> list[Wrong]:
    wrong = []
    d = expl.derivation
    for node, values in got.items():
        expected = [ev.adjoints.get(node, 0.0) for ev in evs]
        if not all(math.isfinite(g) and close(g, e, rtol, atol)
                   for g, e in zip(values, expected)):
            wrong.append(Wrong(node, values, expected, diagnose(
                d, node, values, evs, rtol=max(rtol, 1e-9), from_loop=True)))
    return wrong


def message(expl, wrong: list[Wrong], total: int, evs: Sequence[Evaluation],
             rtol: float) -> str:
    d, G = expl.derivation, expl.graph
    out = label(G, d.output)
    verb = "disagrees" if len(wrong) == 1 else "disagree"
    lines = [f"{len(wrong)} of {total} gradient{'s' * (total != 1)} of {out} {verb} with "
             f"the derivation (rtol {rtol:g}) at {len(evs)} point{'s' * (len(evs) != 1)}:"]
    shared = {w.diagnosis.message.split(":")[0] for w in wrong}
    if len(wrong) > 2 and len(shared) == 1 and wrong[0].diagnosis.kind != "none":
        lines.append(f"  every one: {wrong[0].diagnosis.message.split(':')[0]}")
    for w in wrong:
        name = label(G, w.node)
        lines.append(f"  ∂{out}/∂{name}: got {number(w.got[0])}, expected "
                     f"{number(w.expected[0])} = {truth_text(d, w.node)}")
        lines.append(f"      diagnosis: {w.diagnosis.message}")
        lines.extend(f"        {line}" for line in w.diagnosis.details)
        listed = paths(d, w.node)
        if listed and w.diagnosis.kind not in ("missing-path", "path-sign"):
            lines.append(f"      paths ({len(listed)}):")
            lines.extend(f"        {path_text(G, p)}   {path_product_text(G, p)}"
                         for p in listed[:4])
            if len(listed) > 4:
                lines.append(f"        … and {len(listed) - 4} more")
    lines.append(f"  at {check.point_text(G, evs[0].point)}")
    if artifacts.FOLDER is not None:
        lines.extend(artifacts.draw(expl, wrong))
    return "\n".join(lines)


def rounding_as_zero(a: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Float32 leftovers (1e-9 where the loop wrote 0) shown as the 0 they are."""
    return np.where(np.abs(a) <= 1e-6 * np.maximum(np.abs(scale), 1.0), 0.0, a)


def show(a: np.ndarray) -> str:
    values = [number(float(v)) for v in np.asarray(a).flat]
    return values[0] if len(values) == 1 else "[" + ", ".join(values[:6]) + \
        (", …]" if len(values) > 6 else "]")
