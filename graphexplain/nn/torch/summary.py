"""What a torch model's report adds: the model's header, its cuts, the check against its own
autograd, and the vector-Jacobian product.

What it does: prints, as lines of text (the report wraps them for Markdown), the model's name,
parameters, inputs, target and loss; where the graph was cut (``torch.no_grad()``,
``.detach()``) and why; the verdict of the model's own autograd; and for a vector output,
v, Jᵀv and the Jacobian. It also gives the model's JSON block.

What it does not do: print the graph, the chain rule or the checks common to every
explanation; :mod:`graphexplain.report` does, and this is added around it.
"""

from __future__ import annotations

import networkx as nx

from ...graph import label
from ...i18n import _
from ...report import expr_text, json_num, num
from ...verify import Check
from .builder import is_node, shape_text
from .cuts import sentence
from .jacobian import JACOBIAN_MAX, Jacobian


def header_lines(info: dict, cuts: list[dict]) -> list[str]:
    """The model's header: what was traced, its parameters, inputs, target, loss and cuts."""
    rows = [_("Model {name}, traced with torch.fx; one node per tensor element").format(
        name=info["name"])]
    if info["parameters"]:
        rows.append(_("  parameters: {list}").format(list=", ".join(
            f"{n} ({shape_text(s)})" for n, s in info["parameters"].items())))
    for n, (shape, grad) in info["inputs"].items():
        rows.append((_("  input {name} ({shape})") if grad else
                     _("  input {name} ({shape}), no grad")).format(name=n,
                                                                     shape=shape_text(shape)))
    if "target" in info:
        rows.append(_("  target y ({shape}), no grad").format(shape=shape_text(info["target"])))
    if info["constants"]:
        rows.append(_("  constants: {list}").format(list=", ".join(
            f"{n} ({shape_text(s)})" for n, s in info["constants"].items())))
    if "loss" in info:
        rows.append(_("  loss: {loss}").format(loss=info["loss"]))
    return rows + cut_lines(cuts)


def cut_lines(cuts: list[dict]) -> list[str]:
    """One line per cut: ``the graph was cut at c = var1·10 (computed under
    torch.no_grad(): no gradient flows through it); …``."""
    return [f"  {sentence(r)}" for r in cuts]


def module_line(c: Check) -> str:
    """The verification line for the model's own autograd."""
    what = _("module autograd (the model itself, float64)")
    if c.ok is None:
        return _("  {what}: nothing comparable").format(what=what)
    if c.ok:
        line = _("  {what}: agrees on {n} gradients, max abs error {error}")
    else:
        line = _("  {what}: DISAGREES, first at {first}, on {n} gradients, max abs error "
                 "{error}")
    return line.format(what=what, n=c.compared, error=num(c.max_abs_error),
                       first=c.first_mismatch)


def model_dict(info: dict, cuts: list[dict]) -> dict:
    """The JSON ``model`` block."""
    return {"name": info["name"],
            "parameters": {n: list(s) for n, s in info["parameters"].items()},
            "inputs": {n: {"shape": list(s), "requires_grad": g}
                       for n, (s, g) in info["inputs"].items()},
            "target": list(info["target"]) if "target" in info else None,
            "loss": info.get("loss"), "output_shape": list(info["output_shape"]),
            "cuts": cuts}


def handle_label(G: nx.DiGraph, h) -> str:
    """A handle's label (a number as itself)."""
    return label(G, h) if is_node(h) and h in G else str(h)


def table(rows: list[str], cols: list[str], values: list[list[float]]) -> list[str]:
    """A right-aligned table of numbers, with row and column labels."""
    cells = [[num(v) for v in row] for row in values]
    width = max(len(c) for c in [*cols, *(c for row in cells for c in row)])
    first = max(len(r) for r in rows)
    lines = ["  " + " " * first + "".join(f"  {c:>{width}}" for c in cols)]
    for r, row in zip(rows, cells, strict=True):
        lines.append(f"  {r:<{first}}" + "".join(f"  {c:>{width}}" for c in row))
    return lines


def vector_lines(G: nx.DiGraph, outputs, v, vjp: dict[str, float],
                 jac: Jacobian | None) -> list[str]:
    """backward(gradient=v) as Jᵀv: v, the products, and the Jacobian when it is small."""
    out_labels = [handle_label(G, h) for h in outputs.flat]
    rows = [_("Vector output: backward(gradient=v) is the vector-Jacobian product Jᵀv"),
            _("  the output has shape {shape}; with v of that shape, vjp = Σₖ vₖ·outₖ is one "
              "number,").format(shape=tuple(outputs.shape)),
            _("  and ∂vjp/∂xᵢ = Σₖ vₖ·∂outₖ/∂xᵢ = (Jᵀv)ᵢ: these are the gradients above"),
            "  v = " + ", ".join(f"{lab}: {num(float(x))}" for lab, x in
                                 zip(out_labels, v.flatten(), strict=True)),
            "  Jᵀv = " + ", ".join(f"{label(G, x)}: {num(g)}" for x, g in vjp.items())]
    if jac is None:
        return [*rows, _("  (the Jacobian is shown for at most {n} outputs × {n} "
                         "inputs)").format(n=JACOBIAN_MAX)]
    rows += ["", _("Jacobian J[k, i] = ∂outₖ/∂xᵢ (rows: outputs, columns: inputs)")]
    return rows + table(out_labels, [label(G, x) for x in jac.leaves], jac.values)


def vector_dict(outputs, v, vjp: dict[str, float], jac: Jacobian | None) -> dict:
    """The JSON ``vector_output`` block."""
    d = {"shape": list(outputs.shape), "v": [float(x) for x in v.flatten()],
         "outputs": [h if is_node(h) else str(h) for h in outputs.flat],
         "vjp": {x: json_num(g) for x, g in vjp.items()}, "jacobian": None}
    if jac is not None:
        d["jacobian"] = {"outputs": jac.outputs, "inputs": jac.leaves,
                         "values": [[json_num(x) for x in row] for row in jac.values],
                         "formulas": [[expr_text(f) for f in row] for row in jac.formulas]}
    return d
