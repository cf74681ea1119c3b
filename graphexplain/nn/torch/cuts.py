"""Where autograd stops: ``torch.no_grad()``, ``.detach()``, ``.data``, ``requires_grad_(False)``.

What it does: a tensor computed under ``torch.no_grad()`` (or ``torch.inference_mode()``), or
detached, does not require grad in torch: backward passes nothing through it, and to the rest
of the computation it is a number. Here it becomes exactly that: each of its elements is a
``const`` leaf holding its value at the example point (the ``value`` attribute, with the value
as its ``expr``, as a named constant ``c = 3`` is), so

    ∂out/∂v = 0 through a cut element,  and  ∂out/∂x = Σ over the paths that avoid the cuts,

which is torch's gradient. For the seed's snippet with ``c = var1*10`` under ``no_grad`` and
out = mean(3·var1² + c), ∂out/∂x = (1/4)·6·(x + 2) = 1.5·(x + 2), not 1.5·(x + 2) + 10/4.

Each new leaf is marked ``cut`` (``"no_grad"``, ``"inference_mode"``, ``"detach"``, ``"data"``
or ``"requires_grad_"``), and each cut tensor is recorded once (see :func:`record`); the
records end up in ``G.graph["cuts"]``. Numbers, and leaves that do not require grad (targets,
inputs without grad), are constants already and are left as they are.

What it does not do: follow the graph past a cut (the cut element's own computation is
dropped from the graph, as autograd drops it), or recompute a cut value when parameters
change (a training loop over the graph holds it at its example value; ``depends_on`` says
which leaves it came from).
"""

from __future__ import annotations

import re

import networkx as nx
import numpy as np
import sympy

from ...errors import GraphError
from ...graph import add_leaf
from ...i18n import N_, _
from ...plan import Plan
from .builder import Builder, Refused, as_array, is_node, shape_text

#: Why a tensor is a constant, as the report says it.
REASONS = {  # in English in the JSON; the report translates them (N_ marks them for Babel)
    "no_grad": N_("computed under torch.no_grad()"),
    "inference_mode": N_("computed under torch.inference_mode()"),
    "detach": N_("detached with .detach()"),
    "data": N_("read through .data, which is detached"),
    "requires_grad_": N_("marked requires_grad_(False)"),
}


def needs_cut(G: nx.DiGraph, h) -> bool:
    """Whether an element could carry a gradient: an op node, or a leaf that requires grad
    (numbers and leaves without grad are constants already)."""
    return is_node(h) and (G.nodes[h]["kind"] == "op" or G.nodes[h]["requires_grad"])


def values(b: Builder, handles: list[str]) -> tuple[dict[str, float], list[str]]:
    """The example values of some nodes (a forward pass over what they depend on), and the
    leaves that require grad among their ancestors."""
    needed = set(handles).union(*(nx.ancestors(b.G, h) for h in handles))
    H = b.G.subgraph(needed)
    plan = Plan(H)
    numbers = plan.forward({n: b.point[n] for n in H if n in b.point})
    grad = [n for n in H if H.nodes[n]["kind"] != "op" and H.nodes[n]["requires_grad"]]
    return {h: float(numbers[plan.index[h]]) for h in handles}, sorted(grad)


def cut(b: Builder, x, name: str, why: str, code: str | None = None,
        line: int | None = None) -> np.ndarray:
    """The tensor ``x`` as constants: a ``const`` leaf per element that could carry a
    gradient, holding its value; recorded in ``b.cuts``."""
    x = as_array(x)
    todo = [h for h in x.flat if needs_cut(b.G, h)]
    if not todo:
        return x
    numbers, depends = values(b, todo)
    base, out, made = b.base(name), np.empty(x.shape, dtype=object), []
    for idx in np.ndindex(x.shape):
        h = x[idx]
        out[idx] = _const_leaf(b, base, idx, numbers[h], why) if h in numbers else h
        made += [out[idx]] if h in numbers else []
    b.cuts.append(record(name, why, made, x.shape, code, line, depends))
    return out


def _const_leaf(b: Builder, base: str, idx: tuple, value: float, why: str) -> str:
    """One cut element: a const leaf with its value fixed."""
    node, lab = b.element(base, idx)
    add_leaf(b.G, node, "const", lab, False, value=value)
    b.G.nodes[node].update(expr=sympy.Float(value), cut=why)
    return node


def record(name: str, why: str, nodes: list[str], shape: tuple, code: str | None,
           line: int | None, depends_on: list[str]) -> dict:
    """One entry of ``G.graph["cuts"]`` (JSON-ready; ``labels`` are filled in at the end)."""
    return {"name": name, "why": why, "reason": REASONS[why], "shape": list(shape),
            "code": code, "line": line, "nodes": nodes, "labels": [],
            "depends_on": depends_on}


def finish(G: nx.DiGraph, records: list[dict]) -> list[dict]:
    """The records of the cuts still in the graph (what the output depends on), with labels."""
    out = []
    for r in records:
        nodes = [n for n in r["nodes"] if n in G]
        if nodes:
            out.append({**r, "nodes": nodes, "labels": [G.nodes[n]["label"] for n in nodes]})
    return out


def sentence(r: dict) -> str:
    """How the report says it: ``the graph was cut at c = var1·10 (computed under
    torch.no_grad(): no gradient flows through it)``.

    >>> print(sentence(record("c", "no_grad", ["c_0"], (2,), "c = var1 * 10", 4, [])))
    ... # doctest: +NORMALIZE_WHITESPACE
    the graph was cut at c = var1·10 (line 4; computed under torch.no_grad(): no gradient
    flows through it); c (2) is a constant here
    """
    where = math_text(r["code"]) if r["code"] else r["name"]
    line = _("line {line}; ").format(line=r["line"]) if r["line"] else ""
    return _("the graph was cut at {where} ({line}{reason}: no gradient flows through it); "
             "{name} ({shape}) is a constant here").format(
        where=where, line=line, reason=_(r["reason"]), name=r["name"],
        shape=shape_text(r["shape"]))


def math_text(code: str) -> str:
    """A statement as the course writes it: ``·`` for ``*`` and ``^`` for ``**``, one line.

    >>> math_text("c = var1 * 10 ** 2")
    'c = var1·10^2'
    """
    text = " ".join(code.split())
    text = re.sub(r"\s*\*\*\s*", "^", text)
    return re.sub(r"\s*\*\s*", "·", text)


# --- handlers: the torch calls that cut ---------------------------------------------------------


def detach(b: Builder, name: str, x):
    """``x.detach()`` (and ``torch.detach``, ``x.detach_()``): x's values, as constants."""
    return cut(b, x, name, "detach", *b.where)


def data(b: Builder, name: str, x):
    """``x.data``: detached, as ``.detach()``."""
    return cut(b, x, name, "data", *b.where)


def requires_grad_(b: Builder, name: str, x, requires_grad=True):
    """``x.requires_grad_(False)`` on a leaf: x is a constant from here on. torch refuses it
    on a computed tensor, and so does this."""
    if requires_grad:
        raise Refused("requires_grad_(True) inside the model (give example inputs that "
                      "require grad instead)")
    if any(is_node(h) and b.G.nodes[h]["kind"] == "op" for h in as_array(x).flat):
        tensor = name.removesuffix("_detached")
        raise GraphError(f"'{tensor}': requires_grad_(False) on a computed tensor, which torch "
                         f"refuses too (only leaves have it): use {tensor} = {tensor}.detach() "
                         "instead")
    return cut(b, x, name, "requires_grad_", *b.where)
