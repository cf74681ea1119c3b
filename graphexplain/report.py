"""Printers of a derivation: text, LaTeX, Markdown and JSON (schema ``graphexplain/1``).

What it does: turns a :class:`~graphexplain.derive.Derivation` (with, optionally, the numbers
of an :class:`~graphexplain.evaluate.Evaluation` and a
:class:`~graphexplain.verify.Verification`) into a report. Every printer reads the same
sections (graph, local partials, backward pass, gradients and paths, verification); each
format only says how a section looks. What a person reads (text, Markdown, LaTeX) comes from
the one mathematical printer, :mod:`graphexplain.printing` (``3·c``, ``(out − y1)²``, ``σ``,
cases, no ``*`` or ``Piecewise``); JSON and ``--format program`` keep sympy's own ``str``,
which sympy parses back.

What it does not do: compute anything beyond formatting; the numbers come from evaluate and
verify.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import sympy

from . import ops, printing
from .derive import (
    PRINT_BUDGET,
    Derivation,
    adjoint_name,
    cost_table,
    expr_size,
    factored_path_sum,
    leaf_expressions,
    path_nodes,
    per_node_cap,
    post_dominators,
    to_leaf_names,
)
from .graph import label, symbol, upstream
from .i18n import N_, _, ngettext
from .progress import track

if TYPE_CHECKING:  # annotations only: a symbolic report needs no numpy (evaluate, verify)
    from .evaluate import Evaluation
    from .verify import Check, Verification

SCHEMA = "graphexplain/1"


@dataclass(frozen=True)
class Extras:
    """What an explanation adds to its derivation: the teaching forms (node → simpler form,
    see :mod:`graphexplain.simplify`), the lints' notes (:mod:`graphexplain.lints`), and the
    user's own intermediate names (None: every name is the user's)."""

    forms: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    names: frozenset | None = None


NO_EXTRAS = Extras()


# --- shared helpers ---------------------------------------------------------------------------


WIDE_SUM = printing.WIDE  # a sum with more terms prints as built (sympy's sorting key is quadratic)


def _order(expr: sympy.Expr) -> str | None:
    return "none" if isinstance(expr, sympy.Add) and len(expr.args) > WIDE_SUM else None


@lru_cache(maxsize=100_000)
def _sstr(expr: sympy.Expr, order: str | None = None) -> str:
    return printing.sympy_str(expr, order or _order(expr))  # sympy.sstr, subtrees once


def expr_text(expr: sympy.Expr | None, order: str | None = None) -> str | None:
    """sympy's ``str``, without a Float's trailing zeros (``0.5``, not ``0.500000000000000``):
    the machine-readable form of JSON, which sympy parses back."""
    return None if expr is None else _sstr(expr, order)


def _labels(d: Derivation) -> dict[str, str]:
    """How a derivation's symbols are shown: node symbols by their labels (``w1[1,2]``,
    ``linear.weight[0,0]``), adjoint symbols as ``∂loss/∂A(f2)``; made once."""
    def make():
        G = d.graph
        labels = {adjoint_name(G, d.output, n): d_text(d, n) for n in d.program}
        labels.update({n: G.nodes[n]["label"] for n in G if G.nodes[n]["label"] != n})
        return labels

    return _per_derivation(d, "labels", make)


def _shown(d: Derivation, expr: sympy.Expr, order: str | None, printer) -> str:
    """One printing of an expression per derivation (a report prints the same local partials
    and adjoints several times)."""
    memo = _per_derivation(d, printer, dict)
    key = (expr, order)
    text = memo.get(key)
    if text is None:
        text = memo[key] = printer(expr, _labels(d), order)
    return text


def show(d: Derivation, expr: sympy.Expr | None, order: str | None = None) -> str | None:
    """Expression text for people (the one printer, :func:`graphexplain.printing.text`), with
    node symbols shown by their labels; JSON keeps the identifiers, which sympy can parse."""
    if expr is None:
        return None
    if expr.is_Number:  # no symbols to label (most local partials of a wide sum)
        return printing.text(expr)
    return _shown(d, expr, order, printing.text)


def show_latex(d: Derivation, expr: sympy.Expr, order: str | None = None) -> str:
    """The same expression in LaTeX, with the same labels and choices."""
    return _shown(d, expr, order, printing.latex)


def num(x: float | None, scale: float | None = None) -> str:
    """A compact number (the one printer's): ``3``, ``0.105754``, ``−0.5``, ``1.5×10⁻⁵``;
    ``?`` for none. A value within 1e-12 of ``scale`` (its largest term) prints as 0."""
    return "?" if x is None else printing.number(x, scale)


def json_num(x: float | None) -> float | None:
    """A JSON number; NaN and infinities (not valid JSON) become null."""
    return x if x is not None and math.isfinite(x) else None


def point_text(ev: Evaluation, G=None, shown: int = 8) -> str:
    """``a=1, b=2, c=3`` (with labels, given the graph); cut after ``shown`` values."""
    items = [f"{label(G, k) if G is not None and k in G else k}={num(v)}"
             for k, v in ev.point.items()]
    more = ", … " + _("({n} values)").format(n=len(items)) if len(items) > shown else ""
    return ", ".join(items[:shown]) + more


def d_text(d: Derivation, n: str, of: str | None = None) -> str:
    """``∂J/∂v`` with labels (made once per node: a report names each adjoint several
    times)."""
    memo = _per_derivation(d, "d-text", dict)
    key = (n, of)
    if key not in memo:
        G = d.graph
        memo[key] = f"∂{label(G, of or d.output)}/∂{label(G, n)}"
    return memo[key]


def _per_derivation(d: Derivation, key: str, make):
    """A value computed once per derivation (the printers ask for it once per expression)."""
    memo = d.memo
    value = memo.get(key)
    if value is None:
        value = memo[key] = make()
    return value


# --- numbers: the scale that tells rounding from a value ------------------------------------------


def _term_value(term: sympy.Expr, values: dict) -> float | None:
    """A term of a node's sum at the point: a symbol, a number, or a product of those."""
    if term.is_Symbol:
        return values.get(term.name)
    if term.is_Number:
        return float(term)
    if term.is_Mul:
        factors = [_term_value(f, values) for f in term.args]
        return None if None in factors else math.prod(factors)
    return None


def value_scale(d: Derivation, ev: Evaluation | None, n: str) -> float | None:
    """The largest term of a node that is a sum (``u = b + v + w``, a pre-activation Σ w·x + b),
    at the point: its value within 1e-12 of that is rounding, and prints as 0."""
    expr = d.graph.nodes[n].get("expr")
    if ev is None or not isinstance(expr, sympy.Add):
        return None
    terms = [_term_value(t, ev.values) for t in expr.args]
    return max((abs(t) for t in terms if t is not None and math.isfinite(t)), default=None)


def adjoint_scale(d: Derivation, ev: Evaluation | None, n: str) -> float | None:
    """The largest contribution ∂L/∂s · ∂s/∂n summed into an adjoint (forks add)."""
    if ev is None or len(d.contributions.get(n, ())) < 2:
        return None
    terms = [ev.adjoints.get(s, math.nan) * ev.locals.get((n, s), math.nan)
             for s, _ in d.contributions[n]]
    return max((abs(t) for t in terms if math.isfinite(t)), default=None)


def value_text(d: Derivation, ev: Evaluation, n: str) -> str:
    return num(ev.values.get(n), value_scale(d, ev, n))


def adjoint_text(d: Derivation, ev: Evaluation, n: str) -> str:
    return num(ev.adjoints.get(n), adjoint_scale(d, ev, n))


# --- sections: the content every printer shows -------------------------------------------------


def forward_rows(d: Derivation, ev: Evaluation | None):
    """(node, label, expression, value) for every op node, in topological order."""
    G = d.graph
    for n in d.order:
        if G.nodes[n]["kind"] == "op":
            yield n, label(G, n), G.nodes[n]["expr"], ev.values.get(n) if ev else None


def local_rows(d: Derivation, ev: Evaluation | None, every: bool = False):
    """(u, v, local expression, value) for the edges a gradient flows through, in topological
    order of ``v``; with ``every``, for every edge (an edge from a constant, or from anything
    that does not require grad, carries no gradient and needs no partial)."""
    G = d.graph
    for v in d.order:
        for u in G.predecessors(v):
            if every or u in d.adjoints:
                yield u, v, G.edges[u, v]["local"], ev.locals.get((u, v)) if ev else None


def backward_rows(d: Derivation):
    """Nodes in backward order (output first), only those the output depends on."""
    return [n for n in reversed(d.order) if n in d.adjoints]


def _below_output(d: Derivation, n: str) -> bool:
    """Whether n's only path to the output is one edge: its adjoint is that local partial."""
    return [s for s, _ in d.contributions[n]] == [d.output]


def gradient_entry(d: Derivation, ev: Evaluation | None, x: str,
                   extras: Extras = NO_EXTRAS) -> dict:
    """The JSON ``gradients`` entry of one leaf. ``paths`` lists every path when there are at
    most ``max_paths`` of them, and is null beyond (``path_count`` says how many): a large
    network's JSON carries counts, not millions of paths, and nothing is listed in vain."""
    count = d.path_counts.get(x, 0)
    listed = d.paths.get(x) if count <= d.limits.max_paths else None
    return {
        "value": json_num(ev.adjoints.get(x)) if ev else None,
        "formula": expr_text(d.formulas.get(x)),
        "chain": expr_text(d.adjoints[x]),
        "factored": expr_text(factored(d, x), order="none"),
        "simplified": expr_text(extras.forms.get(x)),
        "paths": listed if listed is not None and len(listed) == count else None,
        "path_count": count,
    }


# --- the sum over paths, factored where the paths meet ------------------------------------------

A_PRIME = sympy.Function("A′")


def display_local(G):
    """Edge factors as the seed writes them: A′(f2) into an activation, ∂loss/∂out into the
    loss, and otherwise the local partial with weights shown by their labels."""
    names = {symbol(n): sympy.Symbol(label(G, n)) for n in G.nodes}
    made: dict[tuple[str, str], sympy.Expr] = {}  # each edge's factor made once

    def local(u: str, v: str) -> sympy.Expr:
        if (u, v) not in made:
            made[u, v] = factor(u, v)
        return made[u, v]

    def factor(u: str, v: str) -> sympy.Expr:
        role = G.nodes[v].get("role")
        if role == "act":
            return A_PRIME(sympy.Symbol(label(G, u)))
        if role == "loss":
            return sympy.Symbol(f"∂{label(G, v)}/∂{label(G, u)}")
        return G.edges[u, v]["local"].xreplace(names)

    return local


def _has_roles(d: Derivation) -> bool:
    """Whether the graph is a network's, with activation and loss roles (asked once)."""
    G = d.graph
    return _per_derivation(d, "roles", lambda: any(
        G.nodes[n].get("role") in ("act", "loss") for n in G))


def _seed_local(d: Derivation):
    """The edge factors of the seed's sums over paths: :func:`display_local` for a network,
    else the local partials."""
    return _per_derivation(d, "seed_local",
                           lambda: display_local(d.graph) if _has_roles(d) else d.local)


def factored(d: Derivation, x: str, display: bool = False) -> sympy.Expr | None:
    """∂L/∂x as the sum over paths of products of local partials, factored where the paths
    meet again (:func:`graphexplain.derive.factored_path_sum`), in path order; None past the
    size budgets (``limits.max_paths`` paths, a printed size within the formulas' share, and
    all of them together within the printing budget).

    ``display`` writes the factors as the seed does for a network (``A′(f2)``,
    ``∂loss/∂out``, labels as names: see :func:`display_local`); otherwise each factor is the
    edge's local partial in node identifiers, which sympy parses (JSON's ``factored``).
    """
    display = display and _has_roles(d)
    state = _per_derivation(d, f"factored-{display}", lambda: {
        "budget": PRINT_BUDGET, "cap": per_node_cap(d.limits.max_formula_ops, len(d.leaves))})
    if x not in state:
        state[x] = _factored(d, x, display, state)
    return state[x]


def _reach(d: Derivation) -> set:
    """The nodes with a path to the output."""
    return _per_derivation(d, "reach", lambda: upstream(d.graph, d.output))


def _path_product(factors: list) -> sympy.Expr:
    kept = [f for f in factors if f != 1]
    if not kept:
        return sympy.S.One
    return kept[0] if len(kept) == 1 else sympy.Mul(*kept, evaluate=False)


def _factored(d: Derivation, x: str, display: bool, state: dict) -> sympy.Expr | None:
    G, out, reach = d.graph, d.output, _reach(d)
    local = _seed_local(d) if display else d.local
    count = d.path_counts.get(x, 0)
    # each path adds at least one factor: more paths than the size cap never fit
    if not 0 < count <= min(d.limits.max_paths, state["cap"]) or state["budget"] <= 0:
        return None
    if count == 1:  # the one path: the product of its local partials
        factors, v = [], x
        while v != out:
            s = next(s for s in G.successors(v) if s in reach)
            factors.append(local(v, s))
            v = s
        expr = _path_product(factors)
    else:  # the work is as large as the paths' own subgraph, not the graph
        state["budget"] -= len(path_nodes(G, x, reach))
        ipdom = _per_derivation(d, "ipdom", lambda: post_dominators(G, out))
        expr = factored_path_sum(G, x, out, local, ipdom, reach)
    size = expr_size(expr, memo=_per_derivation(d, "sizes", dict))  # shared factors once
    state["budget"] -= size
    return expr if size <= state["cap"] else None


def _where(d: Derivation) -> list[tuple[str, sympy.Expr, sympy.Expr]]:
    """What the seed's factors stand for in a network: (op name, A′(z), its derivative) for
    each activation, and (loss op, ∂loss/∂out, its local partial in node symbols) for each
    output."""
    G, rows = d.graph, []
    z = sympy.Dummy("z")
    for op in sorted({G.nodes[n]["op"] for n in G if G.nodes[n].get("role") == "act"}):
        row = ops.OPS[op]
        out = row.build(z, **dict(row.params))
        rows.append((op, A_PRIME(z), row.partial(0, [z], out, dict(row.params))))
    if G.nodes[d.output].get("role") == "loss":
        local = display_local(G)
        for u in G.predecessors(d.output):
            if u in d.adjoints:
                rows.append((G.nodes[d.output]["op"], local(u, d.output), d.local(u, d.output)))
    return rows


# --- text -------------------------------------------------------------------------------------


def to_text(d: Derivation, ev: Evaluation | None = None,
            vf: Verification | None = None, extras: Extras = NO_EXTRAS) -> str:
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
                _text_gradients(d, ev), _text_forms(d, extras), text_costs(cost_table(d)),
                _text_notes(d, ev),
                _text_verification(vf, ev, d.graph), _text_lints(extras)]
    return "\n\n".join(s for s in sections if s) + "\n"


def text_costs(c: dict) -> str:
    """The seed's reason for backprop, on this graph: the multiplications each way costs."""
    if not c["inputs"]:
        return ""
    n = c["inputs"]
    rows = [(ngettext("each gradient as its sum over paths, path by path ({count} path)",
                      "each gradient as its sum over paths, path by path ({count} paths)",
                      c["paths"]).format(count=_count(c["paths"])), c["per_path"]),
            (ngettext("forward mode, one pass per input ({count} pass)",
                      "forward mode, one pass per input ({count} passes)", n).format(
                count=_count(n)), c["forward_mode"]),
            (_("reverse mode (backprop), one pass for all of them"), c["reverse_mode"])]
    width, digits = max(cells(r) for r, _k in rows), max(len(_count(k)) for _r, k in rows)
    head = ngettext("The cost of the {n} gradient (multiplications of local partials)",
                    "The cost of the {n} gradients (multiplications of local partials)", n)
    return "\n".join([head.format(n=_count(n)),
                      *(f"  {ljust(r, width)}  {_count(k):>{digits}}" for r, k in rows)])


def cells(text: str) -> int:
    """The columns ``text`` takes in a terminal: a Chinese character takes two."""
    return len(text) + sum(unicodedata.east_asian_width(ch) in "WF" for ch in text)


def ljust(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns (``str.ljust`` counts characters)."""
    return text + " " * max(0, width - cells(text))


def rjust(text: str, width: int) -> str:
    return " " * max(0, width - cells(text)) + text


def _count(k: int) -> str:
    return f"{k:,}"


FORMS_SHOWN = 12


def shown_forms(d: Derivation, extras: Extras) -> list[str]:
    """The nodes whose teaching form a report shows, in backward order: the gradients, the
    user's own intermediates, and what feeds the loss (∂loss/∂out = softmax − y)."""
    leaves, G = set(d.leaves), d.graph
    wanted = [n for n in reversed(d.order) if n in extras.forms and (
        n in leaves or (extras.names is not None and n in extras.names)
        or (extras.names is None and d.output in G.successors(n)))]
    return wanted


def _text_forms(d: Derivation, extras: Extras) -> str:
    """``∂L/∂z = σ(z) − y``: each shown gradient as a course writes it."""
    nodes = shown_forms(d, extras)
    if not nodes:
        return ""
    rows = [_("Simplified, as a course writes them (each equal to the exact formula above)")]
    rows += [f"  {d_text(d, n)} = {show(d, extras.forms[n])}" for n in nodes[:FORMS_SHOWN]]
    if len(nodes) > FORMS_SHOWN:
        rows.append("  … " + _("and {n} more (all in the JSON report)").format(
            n=len(nodes) - FORMS_SHOWN))
    return "\n".join(rows)


def _text_lints(extras: Extras) -> str:
    if not extras.notes:
        return ""
    from .lints import to_text as lint_text

    return lint_text(extras.notes).rstrip("\n")


def _text_forward(d: Derivation, ev: Evaluation | None) -> str:
    head = (_("Computation graph (forward pass, at {point})").format(
        point=point_text(ev, d.graph)) if ev else _("Computation graph (forward pass)"))
    leaves = [f"  {label(d.graph, n)}: {_leaf_kind(d, n)}" for n in d.order
              if d.graph.nodes[n]["kind"] != "op"]
    rows = [f"  {lab} = {show(d, e)}" + (f" = {value_text(d, ev, n)}" if ev else "")
            for n, lab, e, _ in forward_rows(d, ev)]
    return "\n".join([head, *leaves, *rows])


LEAF_KINDS = {"input": N_("input"), "param": N_("param"), "const": N_("const")}


def _leaf_kind(d: Derivation, n: str) -> str:
    data = d.graph.nodes[n]
    kind = _(LEAF_KINDS.get(data["kind"], data["kind"])) + (
        "" if data["requires_grad"] else _(", no grad"))
    return kind + (f" = {num(data['value'])}" if "value" in data else "")


def _text_locals(d: Derivation, ev: Evaluation | None) -> str:
    rows = ["  " + " = ".join(_dedupe([d_text(d, u, v), show(d, e)]
                                      + ([num(val)] if ev and not _exact(e) else [])))
            for u, v, e, val in local_rows(d, ev)]
    if not rows:
        return _("Local partials: none (no input requires grad, so no gradient flows)")
    return "\n".join([_("Local partials (one per edge a gradient flows through)"), *rows])


def _step_terms(d: Derivation, n: str) -> list[str]:
    """``∂J/∂u · ∂u/∂v`` for each successor; a local of the output itself is marked."""
    out = []
    for s, _expr in d.contributions[n]:
        local = d_text(d, n, s)
        out.append(local + _(" (local)") if s == d.output else f"{d_text(d, s)} · {local}")
    return out


def _step_values(d: Derivation, n: str, value: Callable) -> list[str]:
    """Each term's factors, ``value(a, s)`` for the local ∂s/∂a and ``value(s, None)`` for the
    adjoint ∂L/∂s; a factor after the first is in parentheses when negative."""
    out = []
    for s, _local in d.contributions[n]:
        if s == d.output:
            out.append(value(n, s))
        else:
            out.append(f"{value(s, None)} · {_signed(value(n, s))}")
    return out


def _signed(text: str) -> str:
    """A factor after the first: ``3 · (−1/2)``, not ``3 · −1/2``."""
    return f"({text})" if text.startswith(printing.MINUS) else text


def join_sum(terms: list[str]) -> str:
    """``a + b − c``: terms joined, a leading minus becoming the operator."""
    out = []
    for i, t in enumerate(terms):
        if i and t.startswith(printing.MINUS):
            out.append(f" {printing.MINUS} {t[1:]}")
        else:
            out.append(("" if i == 0 else " + ") + t)
    return "".join(out)


def _text_backward(d: Derivation, ev: Evaluation | None) -> str:
    rows = [f"  {d_text(d, d.output)} = 1"]
    for n in backward_rows(d)[1:]:
        rows.append("  " + " = ".join(_dedupe(_backward_stages(d, ev, n))))
    return "\n".join([_("Backward pass (adjoints, from the output back; forks add)"), *rows])


def _backward_stages(d: Derivation, ev: Evaluation | None, n: str) -> list[str]:
    """``∂J/∂b``, ``∂J/∂v · ∂v/∂b``, ``3 · c``, then ``3 · 3``, ``9`` at a point.

    Right below the output the adjoint is the local partial itself: ``∂J/∂u = 3``. A number
    is shown once: an exact adjoint (``1/4``) is not repeated as a decimal."""
    adjoint = d.adjoints[n]
    if not d.contributions.get(n):  # a declared input the output does not use
        return [d_text(d, n), "0   " + _("({output} does not use {name})").format(
            output=label(d.graph, d.output), name=label(d.graph, n))]
    if _below_output(d, n):
        stages = [d_text(d, n), show(d, adjoint)]
    else:
        sym = join_sum(_step_values(d, n, lambda a, s: _paren(
            d, d.adjoints[a] if s is None else d.local(a, s), s != d.output)))
        stages = [d_text(d, n), " + ".join(_step_terms(d, n)), sym, show(d, adjoint)]
    if ev and not _exact(adjoint):
        if not adjoint.free_symbols or _below_output(d, n):
            return [*stages, adjoint_text(d, ev, n)]
        nums = join_sum(_step_values(
            d, n, lambda a, s: num(ev.adjoints[a] if s is None else ev.locals[a, s])))
        stages += [nums, adjoint_text(d, ev, n)]
    return stages


def _exact(e: sympy.Expr) -> bool:
    """A number shown exactly (``1/4``, ``3``, ``0.5``): its value adds nothing."""
    return bool(e.is_Rational or e.is_Float)


def _dedupe(stages: list[str]) -> list[str]:
    """Drop a stage that reads as the one before it (``3 = 3``, ``3 · c = 3·c``)."""
    def same(a: str, b: str) -> bool:
        return a.replace(" ", "") == b.replace(" ", "")

    return [s for i, s in enumerate(stages) if i == 0 or not same(s, stages[i - 1])]


def _paren(d: Derivation, e: sympy.Expr, needed: bool = True) -> str:
    """A factor's text, in parentheses when it is a sum that is multiplied."""
    t = show(d, e)
    return f"({t})" if needed and isinstance(e, sympy.Add) else t


def _text_gradients(d: Derivation, ev: Evaluation | None) -> str:
    rows = []
    for x in d.leaves:
        formula = d.formulas.get(x)
        shown = show(d, formula) if formula is not None else \
            show(d, d.adjoints[x]) + "   " + _("(in intermediate names; too large to expand)")
        stages = [d_text(d, x), shown] + ([adjoint_text(d, ev, x)] if ev and not (
            formula is not None and _exact(formula)) else [])
        rows.append("  " + " = ".join(_dedupe(stages)))
        rows.extend(_text_path_sum(d, x))
        rows.extend(_text_factored(d, x))
        rows.extend(_text_paths(d, ev, x))
    if not rows:
        return _("Gradients: none (every input is a constant: --const, or no grad)")
    return "\n".join([_("Gradients (and the sum over paths)"), *rows, *_focus_where(d)])


MAX_PATH_SUM_SHOWN = 8
MAX_PATH_SUM_CHARS = 600  # a longer sum in leaf names says less than the factored form


def _path_sum_terms(d: Derivation, x: str) -> list[sympy.Expr] | None:
    """Each path's product of local partials in leaf names, for a few paths."""
    count = d.path_counts.get(x, 0)
    if not 1 < count <= MAX_PATH_SUM_SHOWN or d.formulas.get(x) is None:
        return None
    leaf_exprs = leaf_expressions(d.graph, d.order, d.limits.max_formula_ops)
    terms = [to_leaf_names(t, leaf_exprs, d.limits.max_formula_ops) for t in d.path_terms(x)]
    return None if any(t is None for t in terms) else [sympy.factor_terms(t) for t in terms]


def _path_sum_text(d: Derivation, x: str) -> str | None:
    terms = _path_sum_terms(d, x)
    return None if terms is None else join_sum([_paren(d, t) for t in terms])


def _text_path_sum(d: Derivation, x: str) -> list[str]:
    """``= Σ over the 5 paths: 2·(b + w·x0 − y0)/5 + …``, in leaf names, for a few paths."""
    text = _path_sum_text(d, x)
    if text is None or len(text) > MAX_PATH_SUM_CHARS:
        return []
    return ["      = " + _("Σ over the {count} paths: {sum}").format(count=d.path_counts[x],
                                                                     sum=text)]


def _text_factored(d: Derivation, x: str) -> list[str]:
    """``= x1·A′(f2)·(…)·∂loss/∂out``: the sum over paths factored where they meet again,
    when a common factor was pulled out, and it differs from the formula."""
    expr = factored(d, x, display=True) if d.path_counts.get(x, 0) > 1 else None
    if expr is None or isinstance(expr, sympy.Add):
        return []  # a sum at the top is the paths one by one: nothing was factored
    text = show(d, expr, order="none")
    formula = d.formulas.get(x)
    said = [_path_sum_text(d, x)] + ([show(d, formula)] if formula is not None else [])
    if any(t is not None and t.replace(" ", "") == text.replace(" ", "") for t in said):
        return []
    return [f"      = {text}   " + _("(the paths factored where they meet)")]


TEXT_PATHS_SHOWN = 8  # per leaf; the JSON lists up to limits.max_paths


def _text_paths(d: Derivation, ev: Evaluation | None, x: str) -> list[str]:
    count = d.path_counts.get(x, 0)
    listed = d.paths.get(x)[:TEXT_PATHS_SHOWN] if count <= 4 * TEXT_PATHS_SHOWN else []
    paths = ngettext("{count} path", "{count} paths", count).format(count=count)
    if 0 < len(listed) < count:
        paths = _("{paths}, first {n} listed").format(paths=paths, n=len(listed))
    rows = [f"      {paths}"]
    G, names = d.graph, _per_derivation(d, "node-labels", lambda: {
        n: label(d.graph, n) for n in d.graph})
    edges_seen = _per_derivation(d, "path-edges", dict)  # each edge's factor printed once
    for p in listed:
        edges = list(zip(p, p[1:], strict=False))
        shown = _ends(edges, PATH_ENDS)  # a long path: its two ends, so the report stays linear
        info = [None if e is None else edges_seen[e] if e in edges_seen else
                edges_seen.setdefault(e, _path_edge(d, *e)) for e in shown]
        chain = " → ".join(["…" if e is None else names[e[0]] for e in shown] + [names[p[-1]]])
        row = f"      {chain}: " + " · ".join(
            ["…" if f is None else f[1] if i else f[0] for i, f in enumerate(info)])
        if len(shown) < len(edges):
            row += " " + _("({n} edges)").format(n=len(edges))
        exact = len(shown) == len(edges) and all(f[2] for f in info)
        if exact:  # a product of numbers: worked exactly
            if len(p) > 2:
                row += f" = {show(d, sympy.Mul(*(G.edges[e]['local'] for e in edges)))}"
        elif ev:
            row += f" = {num(math.prod(ev.locals[e] for e in edges))}"
        rows.append(row)
    return rows


PATH_ENDS = 6  # edges shown at each end of a listed path longer than twice this


def _ends(items: list, k: int) -> list:
    """The first and last ``k`` items, with None for what is left out between them."""
    return items if len(items) <= 2 * k + 1 else [*items[:k], None, *items[-k:]]


def _path_edge(d: Derivation, u: str, v: str) -> tuple[str, str, bool]:
    """An edge of a listed path: its factor's text, the same after a ` · `, and whether its
    local partial is an exact number."""
    text = _paren(d, _seed_local(d)(u, v))
    return text, _signed(text), _exact(d.local(u, v))


def _text_notes(d: Derivation, ev: Evaluation | None) -> str:
    if not ev or not (ev.kinks or ev.problems):
        return ""
    rows = [_("Notes at this point")]
    for n in ev.kinks:
        rows.append("  " + _("{name}: {op} is not differentiable here; its partial follows "
                             "torch's convention").format(name=label(d.graph, n),
                                                          op=d.graph.nodes[n]["op"]))
    for n, v in ev.problems:
        rows.append(f"  {label(d.graph, n)} = {num(v)}: {_problem_reason(d, n)}")
    return "\n".join(rows)


def _problem_reason(d: Derivation, n: str) -> str:
    op = d.graph.nodes[n].get("op")
    reasons = {"log": N_("log outside its domain (x ≤ 0)"),
               "sqrt": N_("sqrt of a negative number"),
               "pow": N_("division by zero, or a power outside its domain"),
               "exp": N_("overflow")}
    unknown = N_("the value is not a finite real number")
    return _(reasons.get(op, unknown))


def _units(unit: str, n: int) -> str:
    """``6 adjoints``, ``1 gradient``."""
    if unit == "adjoints":
        return ngettext("{n} adjoint", "{n} adjoints", n).format(n=n)
    return ngettext("{n} gradient", "{n} gradients", n).format(n=n)


def _check_text(c: Check, what: str, unit: str) -> str:
    if c.ok is None and not c.not_comparable:
        return "  " + _("{what}: nothing to compare (no gradient)").format(what=what)
    if c.ok is None:
        return "  " + _("{what}: not comparable at this point ({nodes})").format(
            what=what, nodes=", ".join(c.not_comparable))
    verdict = _("agrees") if c.ok else _("DISAGREES, first at {node}").format(
        node=c.first_mismatch)
    sampled = c.to_dict().get("sampled_from")
    units = _units(unit, c.compared)
    if sampled:
        units += _(" (an even sample of {n})").format(n=sampled)
    line = "  " + _("{what}: {verdict} on {units}, max abs error {error}").format(
        what=what, verdict=verdict, units=units, error=num(c.max_abs_error))
    if c.not_comparable:
        line += _("; not comparable at {nodes}").format(nodes=", ".join(c.not_comparable))
    return line


def _text_verification(vf: Verification | None, ev: Evaluation | None, G=None) -> str:
    if vf is None:
        return ""
    rows = [_("Verification at {point}").format(point=point_text(ev, G))]
    if vf.torch is not None:
        rows.append(_check_text(vf.torch, "torch.autograd (float64)", "adjoints"))
    fd = vf.finite_difference
    steps = {h for h, _, _ in fd.differences.values()}
    step = "" if fd.step is None else (_(", h = {h}").format(h=num(fd.step)) if len(steps) <= 1
                                       else _(", h = ε^(1/3)·max(1, |w|) for each input w"))
    rows.append(_check_text(fd, _("central differences (f(w+h) − f(w−h))/2h") + step,
                            "gradients"))
    rows += _worked_differences(fd, ev, G)
    return "\n".join(rows)


DIFFERENCES_SHOWN = 3


def _term(x: float) -> str:
    """A number inside a difference: (a − (−b)), never a − −b."""
    text = printing.number(x, digits=12)
    return f"({text})" if x < 0 else text


def _worked_differences(fd: Check, ev: Evaluation | None, G) -> list[str]:
    """The seed's numerical gradient with its numbers, for the first few inputs:
    ``∂J/∂b ≈ (J(b+h) − J(b−h))/2h = (21.0001 − 20.9999)/(2·1.2e−05) = 9``."""
    if ev is None or G is None or not fd.differences:
        return []
    out, rows = G.graph.get("output"), []
    f = label(G, out) if out in G else "f"
    for x, (h, up, down) in list(fd.differences.items())[:DIFFERENCES_SHOWN]:
        w = label(G, x)
        if not (math.isfinite(up) and math.isfinite(down)) or x not in fd.reference:
            rows.append(f"    ∂{f}/∂{w}: " + _("{f}({w}±h) is not a finite number here").format(
                f=f, w=w))
            continue
        rows.append(f"    ∂{f}/∂{w} ≈ ({f}({w}+h) − {f}({w}−h))/2h = "
                    f"({printing.number(up, digits=12)} − {_term(down)})"
                    f"/(2·{num(h)}) = {printing.number(fd.reference[x], digits=10)}"
                    "   " + _("(backprop: {value})").format(
                        value=printing.number(ev.adjoints[x], digits=10)))
    more = len(fd.differences) - DIFFERENCES_SHOWN
    if more > 0:
        rows.append("    … " + _("and {n} more").format(n=more))
    return rows


# --- JSON -------------------------------------------------------------------------------------


def to_dict(d: Derivation, ev: Evaluation | None = None,
            vf: Verification | None = None, extras: Extras = NO_EXTRAS) -> dict:
    """The ``graphexplain/1`` document (see GUIDE.md, "JSON output"). Each gradient also has
    ``factored``: the sum over paths factored where the paths meet, in node identifiers
    (sympy-parsable; null past the size budget)."""
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
             for u, v, e, val in local_rows(d, ev, every=True)]
    doc = {"schema": SCHEMA, "output": d.output, "leaves": leaves, "nodes": nodes,
           "edges": edges,
           "gradients": {x: gradient_entry(d, ev, x, extras) for x in track(d.leaves, "report")},
           "verification": vf.to_dict() if vf is not None else None,
           "simplified": {n: expr_text(extras.forms[n]) for n in shown_forms(d, extras)},
           "notes": [n.to_dict() for n in extras.notes],
           "cost": cost_table(d)}
    if ev is not None:
        doc["kinks"] = list(ev.kinks)
        doc["problems"] = [{"node": n, "value": _plain_num(v)} for n, v in ev.problems]
    return doc


def _plain_num(x: float) -> str:
    """A number in JSON text as Python writes it (``nan``, ``-inf``, ``0.105754``)."""
    return str(int(x)) if math.isfinite(x) and x == int(x) and abs(x) < 1e15 else f"{x:.6g}"


COMPACT_ABOVE = 500  # gradients: a larger document is for programs, written compactly


def to_json(d: Derivation, ev: Evaluation | None = None, vf: Verification | None = None,
            extras: Extras = NO_EXTRAS, indent: int | None = 2) -> str:
    """The ``graphexplain/1`` document as JSON: indented for people, and compact (a third of
    the time and size) for a network with more than :data:`COMPACT_ABOVE` gradients."""
    if len(d.leaves) > COMPACT_ABOVE:
        indent = None
    return json.dumps(to_dict(d, ev, vf, extras), indent=indent, ensure_ascii=False,
                      allow_nan=False, separators=None if indent else (",", ":"))


# --- LaTeX and Markdown -----------------------------------------------------------------------


def _latex_d(d: Derivation, n: str, of: str | None = None) -> str:
    """``\\frac{\\partial J}{\\partial b}`` with labels."""
    G = d.graph
    return r"\frac{\partial %s}{\partial %s}" % (printing.latex_label(label(G, of or d.output)),
                                                 printing.latex_label(label(G, n)))


def _latex_num(x: float | None, scale: float | None = None) -> str:
    return "?" if x is None else printing.latex_number(x, scale)


def _latex_stages(stages: list[str]) -> str:
    return " = ".join(_dedupe(stages))


def _latex_step(d: Derivation, n: str, s: str) -> str:
    if s == d.output:
        return _latex_d(d, n, s) + r"\Big|_{\mathrm{local}}"
    return f"{_latex_d(d, s)} \\cdot {_latex_d(d, n, s)}"


def latex_backward_lines(d: Derivation, ev: Evaluation | None = None) -> list[str]:
    """One aligned equation per backward step: the chain rule, the adjoint, its value."""
    lines = []
    for n in backward_rows(d)[1:]:
        adjoint = d.adjoints[n]
        if not d.contributions.get(n):  # a declared input the output does not use
            unused = _("(unused)")
            lines.append(rf"{_latex_d(d, n)} &= 0 && \text{{{unused}}}")
            continue
        stages = [] if _below_output(d, n) else \
            [" + ".join(_latex_step(d, n, s) for s, _ in d.contributions[n])]
        stages.append(show_latex(d, adjoint))
        if ev and not _exact(adjoint):
            stages.append(_latex_num(ev.adjoints.get(n), adjoint_scale(d, ev, n)))
        lines.append(f"{_latex_d(d, n)} &= {_latex_stages(stages)}")
    return lines


FORMULA_SHOWN = 60  # tree nodes of a formula in leaf names shown beside its factored form


def latex_gradient_lines(d: Derivation, ev: Evaluation | None = None) -> list[str]:
    """One aligned equation per gradient: the sum over paths, factored where the paths meet
    (the seed's form for a network), the formula in leaf names when it is small, the value."""
    lines = []
    for x in d.leaves:
        expr, formula = factored(d, x, display=True), d.formulas.get(x)
        if expr is not None and formula is not None and _evaluated(expr) == formula:
            expr = None  # one path whose product is the formula: it says nothing more
        stages = [] if expr is None else [show_latex(d, expr, order="none")]
        if formula is not None and (expr is None or expr_size(formula) <= FORMULA_SHOWN):
            stages.append(show_latex(d, formula))
        if not stages:
            stages.append(show_latex(d, d.adjoints[x]))
        if ev and not (formula is not None and _exact(formula)):
            stages.append(_latex_num(ev.adjoints.get(x), adjoint_scale(d, ev, x)))
        lines.append(f"{_latex_d(d, x)} &= {_latex_stages(stages)}")
    return lines


def _evaluated(expr: sympy.Expr) -> sympy.Expr:
    """A product built in path order, evaluated at its top: ``c·3`` → ``3·c``."""
    return expr.func(*expr.args) if isinstance(expr, sympy.Mul | sympy.Add) else expr


def latex_where_lines(d: Derivation) -> list[str]:
    """What ``A′`` and ``∂loss/∂out`` stand for in a network's factored sums."""
    lines = []
    for op, name, partial in _where(d):
        op = op.replace("_", r"\_")
        lines.append(rf"{show_latex(d, name)} &= {show_latex(d, partial)} && \text{{({op})}}")
    return lines


def latex_lines(d: Derivation, ev: Evaluation | None = None) -> list[str]:
    """One aligned equation per backward step and per gradient."""
    return latex_backward_lines(d, ev) + latex_gradient_lines(d, ev) + latex_where_lines(d)


def _latex_forward(d: Derivation, ev: Evaluation | None) -> list[str]:
    G = d.graph
    return [f"{printing.latex_label(lab)} &= {show_latex(d, e)}"
            + (f" = {_latex_num(v, value_scale(d, ev, n))}" if ev else "")
            for n, lab, e, v in forward_rows(d, ev) if G.nodes[n]["kind"] == "op"]


def to_latex(d: Derivation, ev: Evaluation | None = None,
             vf: Verification | None = None, extras: Extras = NO_EXTRAS) -> str:
    """An ``align*`` block: the forward definitions, the backward pass, then each gradient as
    its sum over paths (factored) and in leaf names, and the simplified forms."""
    body = " \\\\\n".join(_latex_forward(d, ev) + latex_lines(d, ev)
                          + latex_form_lines(d, extras))
    return "\\begin{align*}\n" + body + "\n\\end{align*}\n"


def latex_form_lines(d: Derivation, extras: Extras) -> list[str]:
    """``∂L/∂z = σ(z) − y``, simplified, as aligned LaTeX lines."""
    simplified = _("(simplified)")
    return [rf"{_latex_d(d, n)} &= {show_latex(d, extras.forms[n])} && \text{{{simplified}}}"
            for n in shown_forms(d, extras)[:FORMS_SHOWN]]


def _aligned(lines: list[str]) -> list[str]:
    """A display block of aligned equations (Markdown's ``$$``)."""
    return ["$$", "\\begin{aligned}", " \\\\\n".join(lines), "\\end{aligned}", "$$"]


def to_markdown(d: Derivation, ev: Evaluation | None = None,
                vf: Verification | None = None, extras: Extras = NO_EXTRAS) -> str:
    """Markdown with tables and ``$…$`` math (for notebooks and course notes)."""
    parts = ["### " + _("Forward pass"), "", _("| node | definition | value |"), "|---|---|---|"]
    for n, lab, e, v in forward_rows(d, ev):
        value = _latex_num(v, value_scale(d, ev, n)) if ev else ""
        parts.append(f"| ${printing.latex_label(lab)}$ | ${show_latex(d, e)}$ | "
                     + (f"${value}$" if value else "") + " |")
    rows = [f"| ${_latex_d(d, u, v)}$ | ${show_latex(d, e)}$ | "
            + (f"${_latex_num(val)}$" if ev else "") + " |" for u, v, e, val in local_rows(d, ev)]
    if rows:
        parts += ["", "### " + _("Local partials"), "", _("| edge | local partial | value |"),
                  "|---|---|---|", *rows]
    backward, gradients = latex_backward_lines(d, ev), latex_gradient_lines(d, ev)
    if backward:
        parts += ["", "### " + _("Backward pass"), "", *_aligned(backward)]
    if gradients:
        parts += ["", "### " + _("Gradients (the sum over paths, factored where the paths meet)"),
                  "", *_aligned(gradients)]
    where = latex_where_lines(d)
    if where:
        parts += ["", _("where"), "", *_aligned(where)]
    forms = latex_form_lines(d, extras)
    if forms:
        parts += ["", "### " + _("Simplified, as a course writes them"), "", *_aligned(forms)]
    costs = text_costs(cost_table(d))
    if costs:
        parts += ["", "### " + _("The cost"), "", "```", costs, "```"]
    if vf is not None:
        parts += ["", "### " + _("Verification"), "", "```", _text_verification(vf, ev, d.graph),
                  "```"]
    if extras.notes:
        parts += ["", "### " + _("Notes"), "", *(f"- {n.message}" for n in extras.notes)]
    return "\n".join(parts) + "\n"


# --- a focus on one leaf: the seed's factored path sum -------------------------------------------

MAX_FACTORED_PATHS = 1000


def _focus_where(d: Derivation) -> list[str]:
    """What A′ and ∂loss/∂out stand for, when the graph has activation and loss roles."""
    rows = []
    for op, name, partial in _where(d):
        if isinstance(name, sympy.Symbol):
            rows.append("  " + _("and {name} = {partial}   ({op})").format(
                name=show(d, name), partial=show(d, partial), op=op))
        else:
            rows.append("  " + _("where A = {op}: {name} = {partial}").format(
                op=op, name=show(d, name), partial=show(d, partial)))
    return rows


def to_text_focus(d: Derivation, leaf: str, ev: Evaluation | None = None,
                  vf: Verification | None = None) -> str:
    """One gradient, as the seed shows it: the factored sum over paths, each path's product
    of local partials with its value, and the checks."""
    G, local = d.graph, display_local(d.graph)
    rows = []
    if d.path_counts.get(leaf, 0) <= MAX_FACTORED_PATHS:
        expr = factored_path_sum(G, leaf, d.output, local)
        rows.append(f"{d_text(d, leaf)} = {printing.text(expr, order='none')}")
    rows += _focus_where(d)
    count, listed = d.path_counts.get(leaf, 0), d.paths.get(leaf) or []
    head = ngettext("{count} path, a product of local partials",
                    "{count} paths, each a product of local partials", count).format(count=count)
    if len(listed) < count:
        head += _(" (first {n} listed)").format(n=len(listed))
    rows.append(head + _(":"))
    for p in listed:
        rows.append("  " + " → ".join(label(G, n) for n in p))
        factors = [local(u, v) for u, v in zip(p, p[1:], strict=False)]
        rows.append("      " + " · ".join(printing.text(f) for f in factors if f != 1))
        if ev:
            vals = [ev.locals[u, v] for u, v in zip(p, p[1:], strict=False)]
            product = num(math.prod(vals))
            rows.append("      = " + " · ".join(num(x) if i == 0 else _signed(num(x))
                                                 for i, x in enumerate(vals)) + f" = {product}")
    if ev:
        rows.append(_("sum over the paths = backward pass: {d} = {value}").format(
            d=d_text(d, leaf), value=num(ev.adjoints[leaf])))
    verification = _text_verification(vf, ev, d.graph)
    return "\n".join(rows) + ("\n\n" + verification if verification else "") + "\n"


# --- cost and descent -------------------------------------------------------------------------


def to_text_cost(c: dict) -> str:
    """The cost of this gradient, reverse mode against naive per-weight differentiation."""
    ratio = c["naive_visits"] / max(1, c["gradient_ops"])
    return "\n".join([
        _("Cost of every gradient ({nodes} nodes, {edges} edges, {weights} gradients; "
          "operations as sympy.count_ops counts them)").format(
            nodes=f"{c['nodes']:,}", edges=f"{c['edges']:,}", weights=f"{c['weights']:,}"),
        "  " + _("forward program:  {ops} ops").format(ops=f"{c['forward_ops']:,}"),
        "  " + _("gradient program: {ops} ops = {ratio} × forward (reverse mode: one sweep "
                 "gives every gradient)").format(ops=f"{c['gradient_ops']:,}",
                                                 ratio=f"{c['ratio']:.2f}"),
        "  " + _("naive: the loss written in leaf names has {size} nodes; differentiating it "
                 "once per gradient visits about {visits} nodes, {ratio} × the gradient "
                 "program").format(size=f"{c['loss_tree_size']:,}",
                                   visits=printing.number(c["naive_visits"], digits=3),
                                   ratio=printing.number(ratio, digits=3)),
    ]) + "\n"


MAX_DESCENT_COLUMNS = 4


def to_text_descent(d: Derivation, ours, theirs=None) -> str:
    """The trajectory of gradient descent (``graphexplain.train``), and torch's, compared."""
    from .train import max_difference

    params = list(ours.rows[0][2])
    shown = params[:MAX_DESCENT_COLUMNS]
    names = [label(d.graph, p) for p in shown] + (["…"] if len(params) > len(shown) else [])
    width = max(12, *(len(n) + 2 for n in names))
    step, loss = _("step"), _("loss")
    head = f"  {rjust(step, 7)}  {rjust(loss, 12)}" + "".join(
        f"{n:>{width}}" for n in names)
    rows = [_("Gradient descent: w ← w − α·∂{L}/∂w for every parameter, α = {lr}, {steps} steps "
              "(the seed's loop; optim.SGD without momentum)").format(
                L=label(d.graph, d.output), lr=num(ours.lr), steps=ours.steps), head]
    for step, loss, values in ours.rows:
        cells = "".join(f"{num(values[p]):>{width}}" for p in shown)
        rows.append(f"  {step:>7}  {num(loss):>12}{cells}" + (f"{'…':>{width}}"
                                                            if len(params) > len(shown) else ""))
    if theirs is not None:
        rows.append(_("torch.optim.SGD on the same graph (zero_grad, backward, step): the "
                      "same trajectory, largest relative difference {d}").format(
                          d=num(max_difference(ours, theirs))))
    return "\n".join(rows) + "\n"


class _ProgramPrinter(sympy.printing.str.StrPrinter):
    """sympy's str printer, with ``abs`` spelled as the parser reads it."""

    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_Float(self, expr):  # every bit of a float64, so the parser reads it back
        return repr(float(expr))

    def _print_Exp1(self, expr):  # sympy's E would read back as an input named E
        return "exp(1)"


def to_program(d: Derivation, ev: Evaluation | None = None,
               vf: Verification | None = None, extras: Extras = NO_EXTRAS) -> str:
    """The graph as a program the parser reads back into the same graph, one statement per
    node in topological order (``v = b*c``, ``u = a + v``, ``J = 3*u``)."""
    printer = _ProgramPrinter({"full_prec": False})
    G = d.graph
    rows = []
    # an input nothing uses exists only by its declaration: J(a, b) = 2*a
    inputs = [n for n in d.order if G.nodes[n]["kind"] != "op" and "value" not in G.nodes[n]]
    unused = any(G.degree(n) == 0 and n != d.output for n in inputs)
    for n in d.order:
        data = G.nodes[n]
        if data["kind"] == "op" or "value" in data:
            head = f"{n}({', '.join(inputs)})" if unused and n == d.output else n
            rows.append(f"{head} = {printer.doprint(data['expr'])}")
    return "\n".join(rows) + "\n"


PRINTERS: dict[str, Callable] = {"program": to_program, "text": to_text, "json": to_json,
                                 "latex": to_latex, "markdown": to_markdown}


def report(d: Derivation, fmt: str = "text", ev: Evaluation | None = None,
           vf: Verification | None = None, extras: Extras = NO_EXTRAS) -> str:
    """The report in ``fmt``: one of text, json, latex, markdown, program."""
    return PRINTERS[fmt](d, ev, vf, extras)
