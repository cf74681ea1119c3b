"""What the HTML explorer shows, as plain (JSON-able) data.

What it does: reads an :class:`~graphexplain.api.Explanation` and lays out

- the **steps**: the inputs; the forward pass node by node (``v = b·c = 2·3 = 6``); the seed
  ∂J/∂J = 1; then the backward pass edge by edge, in the order backprop runs it: each node,
  once its own gradient is complete, passes ∂J/∂s · ∂s/∂v to each of its inputs v (a
  first-in first-out sweep from the output, so a network is swept layer by layer). A node
  with several successors (a fork) receives several contributions, shown as ``+=`` with the
  running sum. A graph with more than :data:`STEP_CAP` steps is stepped through a
  generation at a time (for a network, a layer's pre-activations, then its activations),
  with the first formula of each group;
- every node (label, value, adjoint, number of paths to the output) and every edge (its
  local partial, as text and number, and as MathML on graphs up to :data:`EDGE_MATH_CAP`
  edges), from which the page lists a leaf's paths when asked (lazily, in the browser);
- each leaf's gradient formulas, typeset (exact, in intermediates, factored over paths,
  simplified), for up to :data:`LEAF_CAP` leaves (a sample of them on a larger graph;
  every leaf keeps its formula as text);
- the verification, the cost table (if :func:`graphexplain.derive.cost_table` exists), the
  notes, the program text, and, for a torch model, its header.

Formulas are MathML from the one printer (:func:`graphexplain.printing.mathml`), with their
plain-text reading alongside (:func:`graphexplain.printing.text`).

What it does not do: HTML, escaping, or drawing (see :mod:`graphexplain.html.page`).
"""

from __future__ import annotations

import math
import re
from collections import deque
from html import escape

import sympy

from .. import printing
from ..derive import adjoint_symbol, expr_size
from ..graph import symbol
from ..i18n import N_, _, ngettext

STEP_CAP = 1000  # steps shown one by one; beyond this, grouped by generation (layer)
LEAF_CAP = 400  # leaves whose formulas are typeset into the page
EDGE_MATH_CAP = 3000  # edges whose local partials are typeset (path products in MathML)
SUBSTITUTE_MAX = 40  # largest expression shown again with its numbers substituted
EXACT_MAX = 80  # largest formula in the inputs typeset for a leaf (the chain is always there)
ADJOINT_MAX = 12  # largest symbolic ∂J/∂s written out in a step without a point
WRAP = 64  # characters of an equation written on one line; a longer one, a stage a line
INPUTS_SHOWN = 8  # inputs listed in the first step
HIGHLIGHT_CAP = 2000  # elements one grouped step highlights

_NUMBER_MI = re.compile(r"<mi>(\(?[−\d][^<]*)</mi>")
_DOUBLE_PAREN_ML = re.compile(r"<mo>\(</mo><mn>\((−[^<()]*)\)</mn><mo>\)</mo>")
_DOUBLE_PAREN = re.compile(r"\(\((−[^()]*)\)\)")


# --- MathML and text, side by side ------------------------------------------------------------


def mo(text: str) -> str:
    return f"<mo>{escape(text)}</mo>"


def mtext(text: str) -> str:
    return f"<mtext>{escape(text)}</mtext>"


def mn(x: float | None, scale: float | None = None) -> tuple[str, str]:
    """A number as (MathML, text): ``3``, ``−0.5`` (a minus sign and the magnitude)."""
    t = "?" if x is None else printing.number(x, scale)
    if t.startswith(printing.MINUS):
        return f"<mrow>{mo(printing.MINUS)}<mn>{escape(t[1:])}</mn></mrow>", t
    return (f"<mn>{escape(t)}</mn>" if t[:1].isdigit() else f"<mi>{escape(t)}</mi>"), t


def factor(part: tuple[str, str], negative: bool) -> tuple[str, str]:
    """A factor after the first of a product: in parentheses when it is negative or a sum."""
    m, t = part
    return (f"<mrow>{mo('(')}{m}{mo(')')}</mrow>", f"({t})") if negative else part


def product(parts: list[tuple[str, str]]) -> tuple[str, str]:
    return ("<mrow>" + mo("·").join(m for m, _ in parts) + "</mrow>",
            " · ".join(t for _, t in parts))


def equation(stages: list[tuple[str, str]], op: str = "=") -> tuple[str, str]:
    """``lhs = s1 = s2 …`` as (MathML row, text); a stage reading as the one before it
    (``3 · 1`` twice) is dropped. ``op`` is the first relation (``+=`` at a fork)."""
    kept = [s for i, s in enumerate(stages)
            if i == 0 or s[1].replace(" ", "") != stages[i - 1][1].replace(" ", "")]
    rows, texts = [[kept[0][0]]], [kept[0][1]]
    for i, (m, t) in enumerate(kept[1:]):
        rel = op if i == 0 else "="
        if i == 0:
            rows[0] += [mo(rel), m]
        else:
            rows.append([mo(rel), m])
        texts += [rel, t]
    text = " ".join(texts)
    if len(text) <= WRAP or len(rows) == 1:
        return "<mrow>" + "".join(x for row in rows for x in row) + "</mrow>", text
    # a long equation: a stage a line, the lines after the first indented
    indent = ['', *['<mspace width="1.5em"/>'] * (len(rows) - 1)]
    cells = "".join(f'<mtr><mtd>{pad}{"".join(row)}</mtd></mtr>' for pad, row in zip(indent, rows))
    return f"<mtable>{cells}</mtable>", text


class Printer:
    """Expressions and ∂-fractions of one derivation as (MathML, text), with its labels."""

    def __init__(self, d):
        self.d, self.G = d, d.graph
        G = d.graph
        self.labels = {adjoint_symbol(G, d.output, n).name: self.d_text(n) for n in d.program}
        self.labels.update({n: G.nodes[n]["label"] for n in G if G.nodes[n]["label"] != n})
        self._sym: dict[str, str] = {}

    def label(self, n: str) -> str:
        return self.G.nodes[n].get("label", n)

    def d_text(self, n: str, of: str | None = None) -> str:
        return f"∂{self.label(of or self.d.output)}/∂{self.label(n)}"

    def sym(self, n: str) -> str:
        """A node's name in MathML (``x1`` as x with subscript 1, ``w1[1,2]`` as is)."""
        if n not in self._sym:
            self._sym[n] = printing.mathml(symbol(n), self.labels)
        return self._sym[n]

    def name(self, n: str) -> tuple[str, str]:
        return self.sym(n), self.label(n)

    def partial(self, n: str, of: str | None = None) -> tuple[str, str]:
        """∂J/∂v as a fraction."""
        top = self.sym(of or self.d.output)
        return (f"<mfrac><mrow>{mo('∂')}{top}</mrow><mrow>{mo('∂')}{self.sym(n)}</mrow></mfrac>",
                self.d_text(n, of))

    def expr(self, e: sympy.Expr, order: str | None = None,
             labels: dict | None = None) -> tuple[str, str]:
        labels = labels or self.labels
        if isinstance(e, sympy.Add) and len(e.args) > printing.WIDE:
            order = "none"  # as the report prints a wide sum: in the order it was built
        return printing.mathml(e, labels, order), printing.text(e, labels, order)

    def text(self, e: sympy.Expr) -> str:
        order = "none" if isinstance(e, sympy.Add) and len(e.args) > printing.WIDE else None
        return printing.text(e, self.labels, order)

    def substituted(self, e: sympy.Expr, values: dict[str, float]) -> tuple[str, str]:
        """The expression with each name replaced by its value, in the same order."""
        labels = dict(self.labels)
        for n, x in values.items():
            t = printing.number(x)
            labels[n] = f"({t})" if t.startswith(printing.MINUS) else t
        m, t = self.expr(e, labels=labels)
        m = _NUMBER_MI.sub(r"<mn>\1</mn>", m)
        # a negative number already in parentheses (a function's argument): once is enough
        m = _DOUBLE_PAREN_ML.sub(r"<mo>(</mo><mn>\1</mn><mo>)</mo>", m)
        return m, _DOUBLE_PAREN.sub(r"(\1)", t)


def _finite(x) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


# --- the order of the steps -----------------------------------------------------------------------


def backward_edges(d) -> list[tuple[str, str]]:
    """(v, s) pairs in the order backprop passes gradients: s gives ∂J/∂s · ∂s/∂v to v.

    First in, first out from the output: a node passes its gradient on once every
    contribution to it has arrived, to its inputs in argument order.
    """
    G = d.graph
    receives = {v: {s for s, _ in terms} for v, terms in d.contributions.items()}
    waiting = {v: len(r) for v, r in receives.items()}
    queue, out = deque([d.output]), []
    while queue:
        s = queue.popleft()
        for v in G.predecessors(s):
            if s in receives.get(v, ()):
                out.append((v, s))
                waiting[v] -= 1
                if waiting[v] == 0:
                    queue.append(v)
    return out


def forward_nodes(d) -> list[str]:
    return [n for n in d.order if d.graph.nodes[n]["kind"] == "op"]


def generations(d) -> dict[str, int]:
    """Each node's depth: 0 for a leaf, else 1 + the deepest of its inputs. Nodes of one
    generation depend only on earlier ones (a network's generations are its layers: the
    pre-activations, then the activations, …), so stepping by generation keeps the order."""
    gen: dict[str, int] = {}
    for n in d.order:
        gen[n] = 1 + max((gen[a] for a in d.graph.predecessors(n)), default=-1)
    return gen


def groups(items: list, key) -> list[list]:
    """The items grouped by ``key`` (in order of the key; stably within a group), cut into
    at most :data:`STEP_CAP` even runs when there are more groups than that."""
    runs: list[list] = []
    for item in sorted(items, key=key):
        if runs and key(runs[-1][0]) == key(item):
            runs[-1].append(item)
        else:
            runs.append([item])
    if len(runs) > STEP_CAP:  # a very deep graph: even chunks, still in order
        flat = [item for run in runs for item in run]
        size = math.ceil(len(flat) / STEP_CAP)
        runs = [flat[i:i + size] for i in range(0, len(flat), size)]
    return runs


# --- the steps ------------------------------------------------------------------------------------


class Steps:
    """Builds the step list of one explanation."""

    def __init__(self, expl, p: Printer, index: dict, edge_index: dict):
        self.d, self.ev, self.p = expl.derivation, expl.evaluation, p
        self.G = self.d.graph
        self.index, self.edge_index = index, edge_index

    def value(self, n: str) -> float | None:
        return None if self.ev is None else self.ev.values.get(n)

    def adjoint(self, n: str) -> float | None:
        return None if self.ev is None else self.ev.adjoints.get(n)

    def local(self, u: str, v: str) -> float | None:
        return None if self.ev is None else self.ev.locals.get((u, v))

    # the steps themselves

    def all(self) -> tuple[list[dict], str]:
        """The steps, and how they go: ``"node"`` (one node or edge each) or ``"group"``."""
        fwd, bwd = forward_nodes(self.d), backward_edges(self.d)
        start, seed = self.start(), self.seed()
        if len(fwd) + len(bwd) <= STEP_CAP:
            return [start, *map(self.forward, fwd), seed, *self.backward(bwd)], "node"
        gen = generations(self.d)
        fsteps = [self.forward_group(run) for run in groups(fwd, gen.__getitem__)]
        bsteps = [self.backward_group(run) for run in groups(bwd, lambda e: -gen[e[1]])]
        return [start, *fsteps, seed, *bsteps], "group"

    def start(self) -> dict:
        leaves = [n for n in self.d.order if self.G.nodes[n]["kind"] != "op"]
        if self.ev is None:
            shown = [self.p.name(n) for n in leaves[:INPUTS_SHOWN]]
        else:
            shown = [equation([self.p.name(n), mn(self.value(n))]) for n in leaves[:INPUTS_SHOWN]]
        if len(leaves) > INPUTS_SHOWN:
            shown.append((mo("…"), "…"))
        m = "<mrow>" + mo(",").join(m for m, _ in shown) + "</mrow>"
        t = ", ".join(t for _, t in shown)
        return {"phase": "start", "nodes": [self.index[n] for n in leaves[:HIGHLIGHT_CAP]],
                "edges": [], "lines": [[m, t]], "value": None,
                "caption": _("The inputs ({n})").format(n=len(leaves))}

    def forward(self, n: str) -> dict:
        expr = self.G.nodes[n]["expr"]
        stages = [self.p.name(n), self.p.expr(expr)]
        if self.ev is not None:
            preds = {a: self.value(a) for a in self.G.predecessors(n)}
            if expr_size(expr) <= SUBSTITUTE_MAX and None not in preds.values():
                stages.append(self.p.substituted(expr, preds))
            stages.append(mn(self.value(n)))
        return {"phase": "forward", "nodes": [self.index[n]], "edges": [],
                "lines": [list(equation(stages))], "value": _finite(self.value(n)),
                "caption": _("Forward pass: {node}").format(node=self.p.label(n))}

    def seed(self) -> dict:
        out = self.d.output
        m, t = equation([self.p.partial(out), mn(1.0)])
        return {"phase": "seed", "nodes": [self.index[out]], "edges": [], "lines": [[m, t]],
                "value": 1.0,
                "caption": _("Backward pass: it starts at {node}").format(node=self.p.label(out))}

    def backward(self, edges: list[tuple[str, str]]) -> list[dict]:
        arrived: dict[str, list[float | None]] = {}
        steps = []
        for v, s in edges:
            terms = arrived.setdefault(v, [])
            terms.append(self._contribution(v, s))
            steps.append(self.backward_step(v, s, terms))
        return steps

    def _contribution(self, v: str, s: str) -> float | None:
        a, loc = self.adjoint(s), self.local(v, s)
        return None if a is None or loc is None else a * loc

    def backward_step(self, v: str, s: str, terms: list) -> dict:
        k, m = len(terms), len(self.d.contributions[v])
        lines = [list(equation(self._stages(v, s), "=" if k == 1 else "+="))]
        total = None if None in terms else math.fsum(terms)
        if k > 1:
            lines.append(list(self._running(v, terms, k == m)))
        if k == m and self.adjoint(v) is not None:
            total = self.adjoint(v)
        fork = _(" (contribution {k} of {m}: forks add)").format(k=k, m=m) if m > 1 else ""
        return {"phase": "backward", "nodes": [], "edges": [self.edge_index[v, s]],
                "target": self.index[v], "lines": lines, "value": _finite(terms[-1]),
                "total": _finite(total), "complete": k == m,
                "caption": _("Backward pass: {edge}").format(
                    edge=f"{self.p.label(s)} → {self.p.label(v)}") + fork}

    def _stages(self, v: str, s: str) -> list[tuple[str, str]]:
        """``∂J/∂v``, ``∂J/∂s · ∂s/∂v``, ``3 · c``, ``3 · 3``, ``9``."""
        local = self.d.local(v, s)
        local_part = factor(self.p.expr(local), isinstance(local, sympy.Add))
        lv = self.local(v, s)
        if s == self.d.output:  # right below the output, the adjoint is the local partial
            return [self.p.partial(v), self.p.expr(local), mn(lv)]
        stages = [self.p.partial(v), product([self.p.partial(s), self.p.partial(v, s)])]
        a = self.adjoint(s)
        if a is None:
            adj = self.d.adjoints[s]
            given = self.p.expr(adj) if expr_size(adj) <= ADJOINT_MAX else self.p.partial(s)
            return [*stages, product([factor(given, isinstance(adj, sympy.Add)), local_part])]
        stages.append(product([mn(a), local_part]))
        stages.append(product([mn(a), factor(mn(lv), lv is not None and lv < 0)]))
        stages.append(mn(self._contribution(v, s)))
        return stages

    def _running(self, v: str, terms: list, complete: bool) -> tuple[str, str]:
        """``∂J/∂v = 3 + 6 = 9``: the contributions so far, added (``a − b`` for a negative
        one after the first)."""
        if None in terms:
            words = _("the sum of the contributions")
            return equation([self.p.partial(v), (mtext(words), words)])
        m, t = "", ""
        for i, x in enumerate(terms):
            (xm, xt) = mn(abs(x) if i else x)
            sign = "" if i == 0 else (printing.MINUS if x < 0 else "+")
            m += (mo(sign) if sign else "") + xm
            t += f" {sign} {xt}" if sign else xt
        total_m, total_t = mn(self.adjoint(v) if complete else math.fsum(terms))
        if not complete:
            so_far = _(" so far")
            total_m, total_t = f"<mrow>{total_m}{mtext(so_far)}</mrow>", f"{total_t}{so_far}"
        return equation([self.p.partial(v), (f"<mrow>{m}</mrow>", t), (total_m, total_t)])

    # grouped steps (large graphs): one representative formula and what the group holds

    def forward_group(self, run: list[str]) -> dict:
        step = self.forward(run[0])
        step["nodes"] = [self.index[n] for n in run[:HIGHLIGHT_CAP]]
        step["caption"] = _("Forward pass: {node}").format(node=self._group_caption(run))
        step["count"] = len(run)
        return step

    def backward_group(self, run: list[tuple[str, str]]) -> dict:
        v, s = run[0]
        step = self.backward_step(v, s, [self._contribution(v, s)])
        step["edges"] = [self.edge_index[e] for e in run[:HIGHLIGHT_CAP]]
        givers = list(dict.fromkeys(s for _v, s in run))
        caption = ngettext("Backward pass: {nodes} passes its gradient to its inputs",
                           "Backward pass: {nodes} pass their gradients to their inputs",
                           len(givers)).format(nodes=self._group_caption(givers))
        shown = "" if len(run) == 1 else _(" ({n} contributions; the first shown)").format(
            n=len(run))
        step["caption"] = caption + shown
        step["count"] = len(run)
        return step

    def _group_caption(self, nodes: list[str]) -> str:
        first, last = self.p.label(nodes[0]), self.p.label(nodes[-1])
        data = self.G.nodes[nodes[0]]
        # a network's neurons carry the 3-layer section's number (the inputs are layer 1);
        # the layer form, the report and the layer view number W⁽ⁿ⁾'s layer n from there
        layer = data.get("layer") if data.get("role") != "loss" else None
        where = _("layer {n}, ").format(n=layer - 1) if layer is not None else ""
        if len(nodes) == 1:
            return f"{where}{first}"
        return f"{where}{first} … {last} " + _("({n} nodes; the first shown)").format(
            n=len(nodes))


# --- nodes, edges and leaves ---------------------------------------------------------------------


def nodes_data(expl, p: Printer) -> list[dict]:
    d, ev = expl.derivation, expl.evaluation
    grad = set(d.leaves)
    out = []
    for n in d.graph.nodes:
        data = d.graph.nodes[n]
        item = {"id": n, "kind": data["kind"], "pc": d.path_counts.get(n, 0)}
        if p.label(n) != n:
            item["label"] = p.label(n)
        if n in grad:
            item["grad"] = True
        if ev is not None:
            item["value"] = _finite(ev.values.get(n))
            item["adjoint"] = _finite(ev.adjoints.get(n))
        out.append(item)
    return out


def edges_data(expl, p: Printer) -> list[list]:
    """[u, v, local as text, its value, is a sum, local as MathML (small graphs)]."""
    d, ev = expl.derivation, expl.evaluation
    index = {n: i for i, n in enumerate(d.graph.nodes)}
    typeset = d.graph.number_of_edges() <= EDGE_MATH_CAP
    out = []
    for u, v in d.graph.edges:
        local = d.local(u, v)
        m, t = p.expr(local) if typeset else (None, p.text(local))
        value = _finite(ev.locals.get((u, v))) if ev is not None else None
        out.append([index[u], index[v], t, value, isinstance(local, sympy.Add), m])
    return out


def _sample(items: list, k: int) -> list:
    if len(items) <= k:
        return list(items)
    step = len(items) / k
    return [items[int(i * step)] for i in range(k)]


def leaves_data(expl, p: Printer, index: dict) -> list[dict]:
    """Every leaf that gets a gradient: its formula as text, and for up to :data:`LEAF_CAP`
    of them the typeset forms."""
    d = expl.derivation
    typeset = set(_sample(d.leaves, LEAF_CAP))
    forms = _forms(expl) if len(d.leaves) <= LEAF_CAP else {}
    out = []
    for x in d.leaves:
        item = {"n": index[x], "text": p.text(d.adjoints[x])}
        if x in typeset:
            item["lines"] = _leaf_lines(expl, p, x, forms)
        out.append(item)
    return out


def _forms(expl) -> dict:
    try:
        return dict(expl.teaching_forms)
    except Exception:  # a simplification is extra; the formulas stand without it
        return {}


def _leaf_lines(expl, p: Printer, x: str, forms: dict) -> list[list[str]]:
    """[MathML, text, caption] for each form of ∂J/∂x that reads differently."""
    d, ev = expl.derivation, expl.evaluation
    value = [mn(ev.adjoints.get(x))] if ev is not None else []
    exact = d.formulas.get(x)
    if exact is not None and expr_size(exact) > EXACT_MAX:  # unreadable: the chain reads better
        exact = None
    candidates = [(_("exact, in the inputs"), exact, None),
                  (_("in the intermediates (the chain rule, worked)"), d.adjoints[x], None)]
    if d.path_counts.get(x, 0) > 1:
        candidates.append((_("the sum over paths, factored where the paths meet"),
                           _factored(d, x), "none"))
    candidates.append((_("simplified"), forms.get(x), None))
    lines, seen = [], set()
    for caption, e, order in candidates:
        if e is None:
            continue
        m, t = equation([p.partial(x), p.expr(e, order), *value])
        if t not in seen:
            seen.add(t)
            lines.append([m, t, caption])
    return lines


def _factored(d, x: str):
    try:
        from ..report import factored
    except ImportError:
        return None
    return factored(d, x)


# --- what the page adds: proof, cost, notes -------------------------------------------------------


CHECK_NAMES = {"torch": "torch.autograd (float64)",
               "finite_difference": N_("central differences, (f(w+h) − f(w−h))/2h"),
               "module": N_("the model's own autograd")}


def verification_data(expl, p: Printer) -> list[dict] | None:
    """One row per check: what it compared, whether it agrees, and its largest error."""
    vf = expl.verification
    if vf is None:
        return None
    rows = []
    for attr, name in CHECK_NAMES.items():
        c = getattr(vf, attr, None)
        if c is None or not hasattr(c, "ok"):
            continue
        mismatch = c.first_mismatch
        rows.append({"name": _(name), "ok": c.ok, "compared": c.compared,
                     "max_abs_error": _finite(c.max_abs_error),
                     "error_text": None if c.max_abs_error is None
                     else printing.number(c.max_abs_error),
                     "step_text": None if getattr(c, "step", None) is None
                     else printing.number(c.step),
                     "first_mismatch": None if mismatch is None
                     else (p.label(mismatch) if mismatch in p.G else str(mismatch)),
                     "not_comparable": len(c.not_comparable or ())})
    return rows


COST_ROWS = (("per_path", N_("each gradient as its sum over paths, path by path"), "paths",
              "path"),
             ("forward_mode", N_("forward mode, one pass per input"), "inputs", "pass"),
             ("reverse_mode", N_("reverse mode (backprop), one pass for all of them"), None, None))


def _how(n: int, unit: str | None) -> str:
    """``3 paths``, ``1 pass``."""
    if unit == "path":
        return ngettext("{n} path", "{n} paths", n).format(n=f"{n:,}")
    return ngettext("{n} pass", "{n} passes", n).format(n=f"{n:,}")


def cost_data(d) -> list[dict] | None:
    """The multiplications each way of getting every gradient needs (when the derive stage
    offers ``cost_table``)."""
    from .. import derive

    table = getattr(derive, "cost_table", None)
    if table is None:
        return None
    c = table(d)
    rows = []
    for key, what, count, unit in COST_ROWS:
        if key in c:
            n = c.get(count, 1)
            rows.append({"key": key, "what": _(what), "how": _how(n, unit),
                         "multiplications": c[key]})
    return rows or None


def notes_data(expl) -> list[str]:
    notes = []
    for note in expl.notes:
        notes.append(getattr(note, "message", None) or str(note))
    return notes


def header_data(expl) -> list[str]:
    """A torch model's header: what was traced, its parameters and where the graph was cut."""
    header = getattr(expl, "_header", None)
    if header is None or getattr(expl, "traced", None) is None:
        return []
    return [line.strip() for line in header()]


def explorer_data(expl, title: str) -> dict:
    """Everything the page shows, as JSON-able data (see the module's docstring)."""
    d = expl.derivation
    p = Printer(d)
    index = {n: i for i, n in enumerate(d.graph.nodes)}
    edge_index = {e: i for i, e in enumerate(d.graph.edges)}
    steps, stepping = Steps(expl, p, index, edge_index).all()
    return {
        "schema": "graphexplain-explorer/1",
        "title": title,
        "output": index[d.output],
        "output_label": p.label(d.output),
        "point": expl.evaluation is not None,
        "nodes": nodes_data(expl, p),
        "edges": edges_data(expl, p),
        "steps": steps,  # each: phase, nodes, edges (indices), lines [[MathML, text]], value
        "stepping": stepping,
        "leaves": leaves_data(expl, p, index),
        "max_paths": d.limits.max_paths,
        "verification": verification_data(expl, p),
        "cost": cost_data(d),
        "notes": notes_data(expl),
        "header": header_data(expl),
        "program": expl.source,
        "words": page_words(),
    }


def page_words() -> dict[str, str]:
    """The sentences the page's script writes, in the current language; ``{name}`` is filled
    in by the script. (One catalogue: the script translates nothing itself.)"""
    return {
        "no_diagram": _("No diagram: {why}"),
        "counter": _("step {n} of {total}"),
        "play": _("play"), "pause": _("pause"),
        "leaf_title": _("The gradient {d}"),
        "sampled": _("in the intermediates (typeset forms are embedded for a sample of the "
                     "{n} inputs)"),
        "paths_one": ngettext("{n} path from {leaf} to {output}",
                              "{n} paths from {leaf} to {output}", 1),
        "paths_many": ngettext("{n} path from {leaf} to {output}",
                               "{n} paths from {leaf} to {output}", 2),
        "first_shown": _(" (the first {n} shown)"),
        "paths_tail": _(": the gradient is the sum, over the paths, of the products of the "
                        "local partials."),
        "choose": _("(choose an input)"),
        "agrees": _("✓ agrees"), "disagrees": _("✗ disagrees"),
        "first_at": _(" first at {node}"), "nothing": _("nothing comparable"),
        "not_comparable": _(" ({n} not comparable)"),
        "grouped": _("The forward pass, then the backward pass, a layer at a time (the graph "
                     "has {n} nodes; each step shows the first formula of its layer)"),
        "stepwise": _("The forward pass node by node, then the backward pass edge by edge"),
        "use": _(". Use the buttons, the slider or the ← → keys; choose an input to see its "
                 "gradient as a sum over paths. "),
        "gradients_one": ngettext("{n} gradient", "{n} gradients", 1),
        "gradients_many": ngettext("{n} gradient", "{n} gradients", 2),
        "verified": _(", verified."), "failed": _(", VERIFICATION FAILED."), "end": _("."),
    }
