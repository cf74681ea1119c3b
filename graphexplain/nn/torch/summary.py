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
from ...report import expr_text, json_num, num
from ...verify import Check
from .builder import is_node, shape_text
from .cuts import sentence
from .jacobian import JACOBIAN_MAX, Jacobian


def header_lines(info: dict, cuts: list[dict]) -> list[str]:
    """The model's header: what was traced, its parameters, inputs, target, loss and cuts."""
    rows = [f"Model {info['name']}, traced with torch.fx; one node per tensor element"]
    if info["parameters"]:
        rows.append("  parameters: " + ", ".join(f"{n} ({shape_text(s)})"
                                                 for n, s in info["parameters"].items()))
    for n, (shape, grad) in info["inputs"].items():
        rows.append(f"  input {n} ({shape_text(shape)})" + ("" if grad else ", no grad"))
    if "target" in info:
        rows.append(f"  target y ({shape_text(info['target'])}), no grad")
    if info["constants"]:
        rows.append("  constants: " + ", ".join(f"{n} ({shape_text(s)})"
                                                for n, s in info["constants"].items()))
    if "loss" in info:
        rows.append(f"  loss: {info['loss']}")
    return rows + cut_lines(cuts)


def cut_lines(cuts: list[dict]) -> list[str]:
    """One line per cut: ``the graph was cut at c = var1·10 (computed under
    torch.no_grad(): no gradient flows through it); …``."""
    return [f"  {sentence(r)}" for r in cuts]


def module_line(c: Check) -> str:
    """The verification line for the model's own autograd."""
    what = "module autograd (the model itself, float64)"
    if c.ok is None:
        return f"  {what}: nothing comparable"
    verdict = "agrees" if c.ok else f"DISAGREES, first at {c.first_mismatch}"
    return f"  {what}: {verdict} on {c.compared} gradients, max abs error {num(c.max_abs_error)}"


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
    rows = ["Vector output: backward(gradient=v) is the vector-Jacobian product Jᵀv",
            f"  the output has shape {tuple(outputs.shape)}; with v of that shape, "
            "vjp = Σₖ vₖ·outₖ is one number,",
            "  and ∂vjp/∂xᵢ = Σₖ vₖ·∂outₖ/∂xᵢ = (Jᵀv)ᵢ: these are the gradients above",
            "  v = " + ", ".join(f"{lab}: {num(float(x))}" for lab, x in
                                 zip(out_labels, v.flatten(), strict=True)),
            "  Jᵀv = " + ", ".join(f"{label(G, x)}: {num(g)}" for x, g in vjp.items())]
    if jac is None:
        return [*rows, f"  (the Jacobian is shown for at most {JACOBIAN_MAX} outputs × "
                       f"{JACOBIAN_MAX} inputs)"]
    rows += ["", "Jacobian J[k, i] = ∂outₖ/∂xᵢ (rows: outputs, columns: inputs)"]
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
