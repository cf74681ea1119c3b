"""Printers of a derivation: text, LaTeX, Markdown and JSON (schema ``graphexplain/1``).

What it does: turns a :class:`~graphexplain.derive.Derivation` (with, optionally, the numbers
of an :class:`~graphexplain.evaluate.Evaluation` and a
:class:`~graphexplain.verify.Verification`) into a report. Every printer reads the same
sections (graph, local partials, backward pass, gradients and paths, verification); each
format only says how a section looks. Expression text comes from sympy's own printers.

What it does not do: compute anything beyond formatting; the numbers come from evaluate and
verify.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from functools import lru_cache
from typing import ClassVar

import sympy

from . import ops
from .derive import (
    Derivation,
    adjoint_symbol,
    factored_path_sum,
    leaf_expressions,
    to_leaf_names,
)
from .evaluate import Evaluation
from .graph import label, symbol
from .progress import track
from .verify import Check, Verification

SCHEMA = "graphexplain/1"


# --- shared helpers ---------------------------------------------------------------------------


WIDE_SUM = 64  # a sum with more terms prints as built (sympy's sorting key is quadratic)


def _order(expr: sympy.Expr) -> str | None:
    return "none" if isinstance(expr, sympy.Add) and len(expr.args) > WIDE_SUM else None


@lru_cache(maxsize=100_000)
def _sstr(expr: sympy.Expr) -> str:
    return sympy.sstr(expr, full_prec=False, order=_order(expr))


def expr_text(expr: sympy.Expr | None) -> str | None:
    """sympy's ``str``, without a Float's trailing zeros (``0.5``, not ``0.500000000000000``)."""
    return None if expr is None else _sstr(expr)


def expr_latex(expr: sympy.Expr, names: dict | None = None) -> str:
    """sympy's LaTeX, with node symbols shown by their labels and products as ``a \\cdot b``."""
    return sympy.latex(expr, symbol_names=names or {}, mul_symbol="dot", full_prec=False,
                       order=_order(expr))


class _LabelPrinter(sympy.printing.str.StrPrinter):
    """sympy's str, with node symbols printed as their labels (the expression is not rebuilt,
    so an unevaluated ``2*(out - y)/5`` keeps its form)."""

    _default_settings: ClassVar[dict] = {**sympy.printing.str.StrPrinter._default_settings,
                                         "labels": {}}

    def _print_Symbol(self, expr):
        return self._settings["labels"].get(expr.name, expr.name)


def show(d: Derivation, expr: sympy.Expr | None) -> str | None:
    """Expression text for people: node symbols shown by their labels (``w1[1,2]``,
    ``linear.weight[0,0]``), adjoint symbols as ``∂loss/∂A(f2)``; JSON keeps the
    identifiers, which sympy can parse."""
    if expr is None:
        return None
    G = d.graph
    labels = {s.name: G.nodes[s.name]["label"] for s in expr.free_symbols
              if s.name in G and G.nodes[s.name]["label"] != s.name}
    adjoints = {s.name for s in expr.free_symbols if s.name not in G}
    if adjoints:
        names = _per_derivation(d, "adjoint_labels", lambda: {
            adjoint_symbol(G, d.output, n).name: d_text(d, n) for n in d.program})
        labels.update({a: names[a] for a in adjoints if a in names})
    if not labels:
        return expr_text(expr)
    return _LabelPrinter({"full_prec": False, "labels": labels,
                          "order": _order(expr)}).doprint(expr)


def num(x: float | None) -> str:
    """A compact number: ``3``, ``0.105754``, ``nan``, ``inf``."""
    if x is None:
        return "?"
    if math.isfinite(x) and x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.6g}"


def json_num(x: float | None) -> float | None:
    """A JSON number; NaN and infinities (not valid JSON) become null."""
    return x if x is not None and math.isfinite(x) else None


def point_text(ev: Evaluation, G=None, shown: int = 8) -> str:
    """``a=1, b=2, c=3`` (with labels, given the graph); cut after ``shown`` values."""
    items = [f"{label(G, k) if G is not None and k in G else k}={num(v)}"
             for k, v in ev.point.items()]
    more = f", … ({len(items)} values)" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more


def d_text(d: Derivation, n: str, of: str | None = None) -> str:
    """``∂J/∂v`` with labels."""
    G = d.graph
    return f"∂{label(G, of or d.output)}/∂{label(G, n)}"


_MEMO: dict[int, tuple] = {}


def _per_derivation(d: Derivation, key: str, make):
    """A value computed once per derivation (the printers ask for it once per expression)."""
    entry = _MEMO.get(id(d))
    if entry is None or entry[0] is not d:
        if len(_MEMO) > 16:
            _MEMO.clear()
        entry = _MEMO[id(d)] = (d, {})
    if key not in entry[1]:
        entry[1][key] = make()
    return entry[1][key]


def _latex_names(d: Derivation) -> dict:
    return _per_derivation(d, "latex_names", lambda: {
        symbol(n): _latex_label(label(d.graph, n)) for n in d.graph.nodes})


def _latex_label(text: str) -> str:
    """``w1[1,2]`` → ``w1[1,2]`` in text mode; a plain identifier stays as sympy shows it."""
    if text.isidentifier():
        return sympy.latex(sympy.Symbol(text))
    return r"\mathrm{%s}" % text.replace("_", r"\_")


# --- sections: the content every printer shows -------------------------------------------------


def forward_rows(d: Derivation, ev: Evaluation | None):
    """(node, label, expression text, value) for every op node, in topological order."""
    G = d.graph
    for n in d.order:
        if G.nodes[n]["kind"] == "op":
            yield n, label(G, n), G.nodes[n]["expr"], ev.values.get(n) if ev else None


def local_rows(d: Derivation, ev: Evaluation | None):
    """(u, v, local expression, value) for every edge, in topological order of ``v``."""
    G = d.graph
    for v in d.order:
        for u in G.predecessors(v):
            yield u, v, G.edges[u, v]["local"], ev.locals.get((u, v)) if ev else None


def backward_rows(d: Derivation):
    """Nodes in backward order (output first), only those the output depends on."""
    return [n for n in reversed(d.order) if n in d.adjoints]


def gradient_entry(d: Derivation, ev: Evaluation | None, x: str) -> dict:
    """The JSON ``gradients`` entry of one leaf."""
    listed = d.paths.get(x)
    count = d.path_counts.get(x, 0)
    return {
        "value": json_num(ev.adjoints.get(x)) if ev else None,
        "formula": expr_text(d.formulas.get(x)),
        "chain": expr_text(d.adjoints[x]),
        "paths": listed if listed is not None and len(listed) == count else None,
        "path_count": count,
    }


# --- text -------------------------------------------------------------------------------------


def to_text(d: Derivation, ev: Evaluation | None = None,
            vf: Verification | None = None) -> str:
    """A readable, step-by-step report (the command line's default).

    Examples
    --------
    >>> from graphexplain.parse import parse
    >>> from graphexplain.graph import build
    >>> from graphexplain.derive import derive
    >>> print(to_text(derive(build(parse("J = 3*u; u = a + b")))).splitlines()[0])
    Computation graph (forward pass)
    """
    sections = [_text_forward(d, ev), _text_locals(d, ev), _text_backward(d, ev),
                _text_gradients(d, ev), _text_notes(d, ev), _text_verification(vf, ev, d.graph)]
    return "\n\n".join(s for s in sections if s) + "\n"


def _text_forward(d: Derivation, ev: Evaluation | None) -> str:
    head = "Computation graph (forward pass" + (f", at {point_text(ev, d.graph)})" if ev else ")")
    leaves = [f"  {label(d.graph, n)}: {_leaf_kind(d, n)}" for n in d.order
              if d.graph.nodes[n]["kind"] != "op"]
    rows = [f"  {lab} = {show(d, e)}" + (f" = {num(v)}" if ev else "")
            for _, lab, e, v in forward_rows(d, ev)]
    return "\n".join([head, *leaves, *rows])


def _leaf_kind(d: Derivation, n: str) -> str:
    data = d.graph.nodes[n]
    kind = data["kind"] + ("" if data["requires_grad"] else ", no grad")
    return kind + (f" = {num(data['value'])}" if "value" in data else "")


def _text_locals(d: Derivation, ev: Evaluation | None) -> str:
    rows = ["  " + " = ".join(_dedupe([d_text(d, u, v), show(d, e)] + ([num(val)] if ev else [])))
            for u, v, e, val in local_rows(d, ev)]
    return "\n".join(["Local partials (one per edge)", *rows])


def _step_terms(d: Derivation, n: str) -> list[str]:
    """``∂J/∂u · ∂u/∂v`` for each successor; a local of the output itself is marked."""
    out = []
    for s, _ in d.contributions[n]:
        local = d_text(d, n, s)
        out.append(f"{local} (local)" if s == d.output else f"{d_text(d, s)} · {local}")
    return out


def _step_values(d: Derivation, n: str, value: Callable) -> list[str]:
    out = []
    for s, _local in d.contributions[n]:
        out.append(value(n, s) if s == d.output else f"{value(s, None)} · {value(n, s)}")
    return out


def _text_backward(d: Derivation, ev: Evaluation | None) -> str:
    rows = [f"  {d_text(d, d.output)} = 1"]
    for n in backward_rows(d)[1:]:
        rows.append("  " + " = ".join(_dedupe(_backward_stages(d, ev, n))))
    return "\n".join(["Backward pass (adjoints, from the output back; forks add)", *rows])


def _backward_stages(d: Derivation, ev: Evaluation | None, n: str) -> list[str]:
    """``∂J/∂b``, ``∂J/∂v · ∂v/∂b``, ``3 · c``, ``3*c``, then ``3 · 3``, ``9`` at a point."""
    # a factor is parenthesized when multiplied: every adjoint, and every local but the
    # output's own (which stands alone in its term)
    sym = " + ".join(_step_values(d, n, lambda a, s: _paren(
        d, d.adjoints[a] if s is None else d.local(a, s), s != d.output)))
    stages = [d_text(d, n), " + ".join(_step_terms(d, n)), sym, show(d, d.adjoints[n])]
    if ev:
        nums = " + ".join(_step_values(
            d, n, lambda a, s: num(ev.adjoints[a] if s is None else ev.locals[a, s])))
        stages += ([] if nums == sym else [nums]) + [num(ev.adjoints[n])]
    return stages


def _dedupe(stages: list[str]) -> list[str]:
    """Drop a stage equal to the one before it (``3 = 3``)."""
    return [s for i, s in enumerate(stages) if i == 0 or s != stages[i - 1]]


def _paren(d: Derivation, e: sympy.Expr, needed: bool = True) -> str:
    """A factor's text, in parentheses when it is a sum that is multiplied."""
    t = show(d, e)
    return f"({t})" if needed and isinstance(e, sympy.Add) else t


def _text_gradients(d: Derivation, ev: Evaluation | None) -> str:
    rows = []
    for x in d.leaves:
        formula = d.formulas.get(x)
        shown = show(d, formula) if formula is not None else \
            f"{show(d, d.adjoints[x])}   (in intermediate names; too large to expand)"
        stages = [d_text(d, x), shown] + ([num(ev.adjoints[x])] if ev else [])
        rows.append("  " + " = ".join(_dedupe(stages)))
        rows.extend(_text_path_sum(d, x))
        rows.extend(_text_paths(d, ev, x))
    return "\n".join(["Gradients (and the sum over paths)", *rows])


MAX_PATH_SUM_SHOWN = 8


def _text_path_sum(d: Derivation, x: str) -> list[str]:
    """``= Σ over the 5 paths: 2*(b + w*x0 - y0)/5 + …``, in leaf names, for a few paths."""
    count = d.path_counts.get(x, 0)
    if not 1 < count <= MAX_PATH_SUM_SHOWN or d.formulas.get(x) is None:
        return []
    leaf_exprs = leaf_expressions(d.graph, d.order, d.limits.max_formula_ops)
    terms = [to_leaf_names(t, leaf_exprs, d.limits.max_formula_ops) for t in d.path_terms(x)]
    if any(t is None for t in terms):
        return []
    text = " + ".join(_paren(d, sympy.factor_terms(t)) for t in terms)
    return [f"      = Σ over the {count} paths: {text}"]


TEXT_PATHS_SHOWN = 8  # per leaf; the JSON lists up to limits.max_paths


def _text_paths(d: Derivation, ev: Evaluation | None, x: str) -> list[str]:
    count = d.path_counts.get(x, 0)
    listed = d.paths.get(x)[:TEXT_PATHS_SHOWN] if count <= 4 * TEXT_PATHS_SHOWN else []
    shown = f", first {len(listed)} listed" if 0 < len(listed) < count else ""
    rows = [f"      {count} path{'s' * (count != 1)}{shown}"]
    for p in listed:
        chain = " → ".join(label(d.graph, n) for n in p)
        factors = " · ".join(_paren(d, d.local(u, v)) for u, v in zip(p, p[1:], strict=False))
        row = f"      {chain}: {factors}"
        if ev:
            row += f" = {num(math.prod(ev.locals[u, v] for u, v in zip(p, p[1:], strict=False)))}"
        rows.append(row)
    return rows


def _text_notes(d: Derivation, ev: Evaluation | None) -> str:
    if not ev or not (ev.kinks or ev.problems):
        return ""
    rows = ["Notes at this point"]
    for n in ev.kinks:
        rows.append(f"  {label(d.graph, n)}: {d.graph.nodes[n]['op']} is not differentiable "
                    "here; its partial follows torch's convention")
    for n, v in ev.problems:
        rows.append(f"  {label(d.graph, n)} = {num(v)}: {_problem_reason(d, n)}")
    return "\n".join(rows)


def _problem_reason(d: Derivation, n: str) -> str:
    op = d.graph.nodes[n].get("op")
    reasons = {"log": "log outside its domain (x ≤ 0)", "sqrt": "sqrt of a negative number",
               "pow": "division by zero, or a power outside its domain",
               "exp": "overflow"}
    return reasons.get(op, "the value is not a finite real number")


def _check_text(c: Check, what: str, unit: str) -> str:
    if c.ok is None:
        return f"  {what}: not comparable at this point ({', '.join(c.not_comparable)})"
    verdict = "agrees" if c.ok else f"DISAGREES, first at {c.first_mismatch}"
    sampled = c.to_dict().get("sampled_from")
    unit = f"{unit} (an even sample of {sampled})" if sampled else unit
    line = f"  {what}: {verdict} on {c.compared} {unit}, max abs error {num(c.max_abs_error)}"
    if c.not_comparable:
        line += f"; not comparable at {', '.join(c.not_comparable)}"
    return line


def _text_verification(vf: Verification | None, ev: Evaluation | None, G=None) -> str:
    if vf is None:
        return ""
    rows = [f"Verification at {point_text(ev, G)}"]
    if vf.torch is not None:
        rows.append(_check_text(vf.torch, "torch.autograd (float64)", "adjoints"))
    fd = vf.finite_difference
    rows.append(_check_text(fd, f"central differences (f(w+h) − f(w−h))/2h, h ≈ {num(fd.step)}",
                            "gradients"))
    return "\n".join(rows)


# --- JSON -------------------------------------------------------------------------------------


def to_dict(d: Derivation, ev: Evaluation | None = None,
            vf: Verification | None = None) -> dict:
    """The ``graphexplain/1`` document (see GUIDE.md, "JSON output")."""
    G = d.graph
    leaves = [{"name": n, "label": label(G, n),
               "value": json_num(ev.values.get(n)) if ev else json_num(G.nodes[n].get("value")),
               "requires_grad": bool(G.nodes[n]["requires_grad"])}
              for n in d.order if G.nodes[n]["kind"] != "op"]
    nodes = [{"name": n, "label": lab, "op": G.nodes[n]["op"], "expr": expr_text(e),
              "value": json_num(v), "adjoint": expr_text(d.adjoints.get(n)),
              "adjoint_value": json_num(ev.adjoints.get(n)) if ev else None}
             for n, lab, e, v in forward_rows(d, ev)]
    edges = [{"source": u, "target": v, "local": expr_text(e), "local_value": json_num(val)}
             for u, v, e, val in local_rows(d, ev)]
    doc = {"schema": SCHEMA, "output": d.output, "leaves": leaves, "nodes": nodes,
           "edges": edges,
           "gradients": {x: gradient_entry(d, ev, x) for x in track(d.leaves, "report")},
           "verification": vf.to_dict() if vf is not None else None}
    if ev is not None:
        doc["kinks"] = list(ev.kinks)
        doc["problems"] = [{"node": n, "value": num(v)} for n, v in ev.problems]
    return doc


def to_json(d: Derivation, ev: Evaluation | None = None, vf: Verification | None = None,
            indent: int | None = 2) -> str:
    return json.dumps(to_dict(d, ev, vf), indent=indent, ensure_ascii=False, allow_nan=False)


# --- LaTeX and Markdown -----------------------------------------------------------------------


def _latex_d(d: Derivation, n: str, of: str | None = None) -> str:
    names = _latex_names(d)
    from .graph import symbol

    top, bottom = names[symbol(of or d.output)], names[symbol(n)]
    return r"\frac{\partial %s}{\partial %s}" % (top, bottom)


def latex_lines(d: Derivation, ev: Evaluation | None = None) -> list[str]:
    """One aligned equation per backward step and per gradient."""
    names = _latex_names(d)
    lines = []
    for n in backward_rows(d)[1:]:
        terms = " + ".join(
            _latex_d(d, n, s) + r"\Big|_{\mathrm{local}}" if s == d.output
            else f"{_latex_d(d, s)}{_latex_d(d, n, s)}"
            for s, _ in d.contributions[n])
        stages = [terms, expr_latex(d.adjoints[n], names)] + ([num(ev.adjoints[n])] if ev else [])
        lines.append(f"{_latex_d(d, n)} &= " + " = ".join(_dedupe(stages)))
    for x in d.leaves:
        formula = d.formulas.get(x)
        if formula is not None and formula != d.adjoints[x]:
            lines.append(f"{_latex_d(d, x)} &= {expr_latex(formula, names)}")
    return lines


def to_latex(d: Derivation, ev: Evaluation | None = None,
             vf: Verification | None = None) -> str:
    """An ``align*`` block: the forward definitions, then the backward pass."""
    names = _latex_names(d)
    G = d.graph
    forward = [f"{names[_sym(n)]} &= {expr_latex(G.nodes[n]['expr'], names)}"
               + (f" = {num(v)}" if ev else "") for n, _, _, v in forward_rows(d, ev)]
    body = " \\\\\n".join(forward + latex_lines(d, ev))
    return "\\begin{align*}\n" + body + "\n\\end{align*}\n"


def _sym(n: str):
    from .graph import symbol

    return symbol(n)


def to_markdown(d: Derivation, ev: Evaluation | None = None,
                vf: Verification | None = None) -> str:
    """Markdown with tables and ``$…$`` math (for notebooks and course notes)."""
    names = _latex_names(d)
    parts = ["### Forward pass", "", "| node | definition | value |", "|---|---|---|"]
    for n, _lab, e, v in forward_rows(d, ev):
        parts.append(f"| ${names[_sym(n)]}$ | ${expr_latex(e, names)}$ | {num(v) if ev else ''} |")
    parts += ["", "### Local partials", "", "| edge | local partial | value |", "|---|---|---|"]
    for u, v, e, val in local_rows(d, ev):
        parts.append(f"| ${_latex_d(d, u, v)}$ | ${expr_latex(e, names)}$ | "
                     f"{num(val) if ev else ''} |")
    parts += ["", "### Backward pass", "", "$$", "\\begin{aligned}",
              " \\\\\n".join(latex_lines(d, ev)), "\\end{aligned}", "$$"]
    if vf is not None:
        parts += ["", "### Verification", "", "```", _text_verification(vf, ev, d.graph), "```"]
    return "\n".join(parts) + "\n"


# --- a focus on one leaf: the seed's factored path sum -------------------------------------------

A_PRIME = sympy.Function("A′")
MAX_FACTORED_PATHS = 1000


class _SeedPrinter(sympy.printing.str.StrPrinter):
    """Products as ``x1·A′(f2)·(…)``, in the order the factors were built (path order)."""

    def _print_Mul(self, expr):
        return "·".join(self.parenthesize(a, 40) if isinstance(a, sympy.Add) else self._print(a)
                        for a in expr.args)


def seed_text(expr: sympy.Expr) -> str:
    return _SeedPrinter({"order": "none", "full_prec": False}).doprint(expr)


def display_local(G):
    """Edge factors as the seed writes them: A′(f2) into an activation, ∂loss/∂out into the
    loss, and otherwise the local partial with weights shown by their labels."""
    names = {symbol(n): sympy.Symbol(label(G, n)) for n in G.nodes}

    def local(u: str, v: str) -> sympy.Expr:
        role = G.nodes[v].get("role")
        if role == "act":
            return A_PRIME(sympy.Symbol(label(G, u)))
        if role == "loss":
            return sympy.Symbol(f"∂{label(G, v)}/∂{label(G, u)}")
        return G.edges[u, v]["local"].xreplace(names)

    return local


def _focus_where(d: Derivation) -> list[str]:
    """What A′ and ∂loss/∂out stand for, when the graph has activation and loss roles."""
    G, rows = d.graph, []
    acts = sorted({G.nodes[n]["op"] for n in G if G.nodes[n].get("role") == "act"})
    for op in acts:
        rows.append(f"  where A = {op}: {ops.OPS[op].maths}")
    for u in G.predecessors(d.output):
        if G.nodes[d.output].get("role") == "loss" and u in d.adjoints:
            local = sympy.factor_terms(d.local(u, d.output))
            rows.append(f"  and {d_text(d, u, d.output)} = {show(d, local)}"
                        f"   ({G.nodes[d.output]['op']})")
    return rows


def to_text_focus(d: Derivation, leaf: str, ev: Evaluation | None = None,
                  vf: Verification | None = None) -> str:
    """One gradient, as the seed shows it: the factored sum over paths, each path's product
    of local partials with its value, and the checks."""
    G, local = d.graph, display_local(d.graph)
    rows = []
    if d.path_counts.get(leaf, 0) <= MAX_FACTORED_PATHS:
        rows.append(f"{d_text(d, leaf)} = {seed_text(factored_path_sum(G, leaf, d.output, local))}")
    rows += _focus_where(d)
    count, listed = d.path_counts.get(leaf, 0), d.paths.get(leaf) or []
    rows.append(f"{count} path{'s' * (count != 1)}, each a product of local partials"
                + (f" (first {len(listed)} listed)" if len(listed) < count else "") + ":")
    for p in listed:
        rows.append("  " + " → ".join(label(G, n) for n in p))
        factors = [local(u, v) for u, v in zip(p, p[1:], strict=False)]
        rows.append("      " + " · ".join(seed_text(f) for f in factors if f != 1))
        if ev:
            vals = [ev.locals[u, v] for u, v in zip(p, p[1:], strict=False)]
            product = num(math.prod(vals))
            rows.append("      = " + " · ".join(num(x) for x in vals) + f" = {product}")
    if ev:
        rows.append(f"sum over the paths = backward pass: {d_text(d, leaf)} = "
                    f"{num(ev.adjoints[leaf])}")
    verification = _text_verification(vf, ev, d.graph)
    return "\n".join(rows) + ("\n\n" + verification if verification else "") + "\n"


# --- layer (matrix) form of an MLP ------------------------------------------------------------

_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
MAX_MATRIX_SHOWN = 6


def sup(n: int) -> str:
    """``⁽²⁾``"""
    return f"⁽{str(n).translate(_SUP)}⁾"


def _shape(m) -> str:
    return f"{m.rows}×{m.cols}"


def _matrix(m) -> str:
    """``[0.1, 0.2]`` for a column, ``[[…], […]]`` for a matrix; shape only when large."""
    if max(m.rows, m.cols) > MAX_MATRIX_SHOWN:
        return f"({_shape(m)})"
    if m.cols == 1:
        return "[" + ", ".join(num(float(x)) for x in m) + "]"
    return "[" + ", ".join("[" + ", ".join(num(float(x)) for x in m.row(r)) + "]"
                           for r in range(m.rows)) + "]"


def to_text_layers(layers) -> str:
    """The matrix recurrence of :func:`graphexplain.nn.layers.layer_form`, with shapes."""
    L = layers[-1].n + 1
    rows = ["Layer form (W⁽ⁿ⁾ maps layer n → n+1, W⁽ⁿ⁾[j,i] = wn[i,j]; a" + sup(1) + " = x; "
            "δ⁽ⁿ⁾ = ∂loss/∂z⁽ⁿ⁾)",
            "Forward, the seed's σ(Wa + b):"]
    for ly in layers:
        n = ly.n
        rows.append(f"  z{sup(n + 1)} = W{sup(n)} a{sup(n)} + b{sup(n)}   "
                    f"({_shape(ly.W)})({_shape(ly.a_in)}) → {_shape(ly.z_out)} = "
                    f"{_matrix(ly.z_out)};  a{sup(n + 1)} = {_matrix(ly.a_out)}")
    rows.append("Backward:")
    rows.append(f"  δ{sup(L)} = ∂loss/∂a{sup(L)} ⊙ A′(z{sup(L)})   {_shape(layers[-1].delta_out)} "
                f"= {_matrix(layers[-1].delta_out)}")
    for ly in reversed(layers):
        n = ly.n
        if n > 1:
            prev = layers[n - 2]
            rows.append(f"  δ{sup(n)} = (W{sup(n)}ᵀ δ{sup(n + 1)}) ⊙ A′(z{sup(n)})   "
                        f"({_shape(ly.W.T)})({_shape(ly.delta_out)}) → "
                        f"{_shape(prev.delta_out)} = {_matrix(prev.delta_out)}")
        rows.append(f"  ∂loss/∂W{sup(n)} = δ{sup(n + 1)} a{sup(n)}ᵀ   "
                    f"({_shape(ly.delta_out)})({_shape(ly.a_in.T)}) → {_shape(ly.dW)} = "
                    f"{_matrix(ly.dW)}")
        if ly.db is not None:
            rows.append(f"  ∂loss/∂b{sup(n)} = δ{sup(n + 1)}   {_shape(ly.db)}")
    return "\n".join(rows) + "\n"


def to_text_cost(c: dict) -> str:
    """The cost of this gradient, reverse mode against naive per-weight differentiation."""
    ratio = c["naive_visits"] / max(1, c["gradient_ops"])
    return "\n".join([
        f"Cost of every gradient ({c['nodes']:,} nodes, {c['edges']:,} edges, "
        f"{c['weights']:,} gradients; operations as sympy.count_ops counts them)",
        f"  forward program:  {c['forward_ops']:,} ops",
        f"  gradient program: {c['gradient_ops']:,} ops = {c['ratio']:.2f} × forward "
        "(reverse mode: one sweep gives every gradient)",
        f"  naive: the loss written in leaf names has {c['loss_tree_size']:,} nodes; "
        f"differentiating it once per gradient visits about {c['naive_visits']:,.3g} nodes, "
        f"{ratio:,.3g} × the gradient program",
    ]) + "\n"


MAX_DESCENT_COLUMNS = 4


def to_text_descent(d: Derivation, ours, theirs=None) -> str:
    """The trajectory of gradient descent (``graphexplain.train``), and torch's, compared."""
    from .train import max_difference

    params = list(ours.rows[0][2])
    shown = params[:MAX_DESCENT_COLUMNS]
    names = [label(d.graph, p) for p in shown] + (["…"] if len(params) > len(shown) else [])
    width = max(12, *(len(n) + 2 for n in names))
    head = f"  {'step':>7}  {'loss':>12}" + "".join(f"{n:>{width}}" for n in names)
    rows = [f"Gradient descent: w ← w − α·∂{label(d.graph, d.output)}/∂w"
            f" for every parameter, α = {num(ours.lr)}, {ours.steps} steps "
            "(the seed's loop; optim.SGD without momentum)", head]
    for step, loss, values in ours.rows:
        cells = "".join(f"{num(values[p]):>{width}}" for p in shown)
        rows.append(f"  {step:>7}  {num(loss):>12}{cells}" + (f"{'…':>{width}}"
                                                            if len(params) > len(shown) else ""))
    if theirs is not None:
        rows.append(f"torch.optim.SGD on the same graph (zero_grad, backward, step): the same "
                    f"trajectory, largest relative difference "
                    f"{num(max_difference(ours, theirs))}")
    return "\n".join(rows) + "\n"


class _ProgramPrinter(sympy.printing.str.StrPrinter):
    """sympy's str printer, with ``abs`` spelled as the parser reads it."""

    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_Float(self, expr):  # every bit of a float64, so the parser reads it back
        return repr(float(expr))


def to_program(d: Derivation, ev: Evaluation | None = None,
               vf: Verification | None = None) -> str:
    """The graph as a program the parser reads back into the same graph, one statement per
    node in topological order (``v = b*c``, ``u = a + v``, ``J = 3*u``)."""
    printer = _ProgramPrinter({"full_prec": False})
    G = d.graph
    rows = []
    for n in d.order:
        data = G.nodes[n]
        if data["kind"] == "op" or "value" in data:
            rows.append(f"{n} = {printer.doprint(data['expr'])}")
    return "\n".join(rows) + "\n"


PRINTERS: dict[str, Callable] = {"program": to_program, "text": to_text, "json": to_json,
                                 "latex": to_latex, "markdown": to_markdown}


def report(d: Derivation, fmt: str = "text", ev: Evaluation | None = None,
           vf: Verification | None = None) -> str:
    """The report in ``fmt``: one of text, json, latex, markdown."""
    return PRINTERS[fmt](d, ev, vf)
