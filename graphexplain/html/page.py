"""The HTML explorer: one self-contained page (or a notebook cell) that steps through backprop.

What it does: :func:`page` writes one HTML file with nothing fetched from anywhere: the
diagram as inline SVG (the explanation's own drawing), the explorer's CSS and JS (package
files, ``explorer.css`` and ``explorer.js``) inline, and what it shows as JSON
(:mod:`graphexplain.html.data`) in a ``<script type="application/json">``. :func:`notebook`
writes the same explorer as a fragment for Jupyter's ``_repr_html_``, with every id scoped by
a prefix unique to the call, so that two explanations in one notebook never clash.

Every string that comes from the user (program text and its comments, names, labels, file
names) reaches the page only as escaped text: in the JSON, ``<``, ``>``, ``&`` and U+2028/9
are written as ``\\u`` escapes, and the script puts strings into the page with
``textContent``, never as markup; formulas are MathML made by the one printer (which escapes
its text), parsed as XML and kept only if every element is MathML. The diagram is Graphviz's
SVG, whose text Graphviz escapes; comments, scripts and event attributes are removed from it.

The page links each SVG element to its node or edge by the element's ``<title>``, which
Graphviz sets to the node's id (``v``) or ``tail->head``; a drawing of the forward and
backward pass side by side prefixes them ``f_`` and ``b_``, and the explorer then lights the
forward copy in the forward pass and the backward copy in the backward pass. A network's
drawings merge parts of the graph: a neuron is drawn once for z and A(z), a weight is the edge
it sits on (with the weight's id as the element's id), and the layer view draws one box per
layer (``inputs``, ``layer1`` …); each part of the graph then lights the element it is in
(:func:`element_map`).

What it does not do: compute or draw anything itself; the explanation does.
"""

from __future__ import annotations

import json
import re
import uuid
from html import escape, unescape
from importlib import resources

import networkx as nx

from ..errors import GraphExplainError
from ..i18n import _, language
from .data import explorer_data

SVG_MAX = 3_000_000  # characters of inline SVG; a larger drawing is left out (say why)

_ELEMENT = re.compile(r"<g\b([^>]*)>\s*<title>(.*?)</title>", re.S)
_KIND = re.compile(r'\bclass="(node|edge)\b')
_BOX = re.compile(r"(inputs|layer\d+)\Z")  # the boxes of a network's layer view
_DEFAULT_ID = re.compile(r"(node|edge|graph|clust|a_node|a_edge)\d+\Z")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_SCRIPT = re.compile(r"<script\b.*?(</script\s*>|\Z)", re.S | re.I)
_FOREIGN = re.compile(r"<foreignObject\b.*?(</foreignObject\s*>|\Z)", re.S | re.I)
_EVENT_ATTR = re.compile(r"""\s on[a-z]+\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""", re.I | re.X)
_JS_URL = re.compile(r"""(href\s*=\s*["'])\s*javascript:[^"']*""", re.I)
_ID = re.compile(r'\bid="([^"]*)"')
_REF = re.compile(r'(url\(#|href="#)([^)"]*)')


# --- the package files ----------------------------------------------------------------------------


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _inline_script(code: str) -> str:
    """Script text that cannot end its own element: ``</`` written as ``<\\/``."""
    return code.replace("</", "<\\/")


def json_for_html(data) -> str:
    """JSON that is safe inside a ``<script>`` element: no ``<``, ``>`` or ``&`` (so no
    ``</script>`` or ``<!--``), and no U+2028/2029 (line breaks to old JavaScript)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


# --- the diagram ----------------------------------------------------------------------------------


def diagram(expl, view: str | None = None, **options) -> tuple[str | None, str | None]:
    """(SVG text, None), or (None, why there is no diagram). ``view`` and ``options``
    (``diagram``, ``expand``, ``partials``) are :meth:`Explanation.svg`'s; by default the
    explanation's own choice (the circuit, the network, or its layers)."""
    kwargs = dict(options, **({} if view is None else {"view": view}))
    try:
        svg = expl.svg(**kwargs)
    except GraphExplainError as e:
        svg = None if kwargs else _collapsed(expl)
        if svg is None:
            return None, str(e)
    svg = clean_svg(svg)
    if len(svg) > SVG_MAX:
        return None, _("the drawing is too large to embed ({n} characters); the steps, "
                       "formulas and paths are all here").format(n=f"{len(svg):,}")
    return svg, None


def _collapsed(expl) -> str | None:
    """A graph too large to draw node by node, drawn by layer (when render has that diagram)."""
    from .. import render

    if "layers" not in getattr(render, "DIAGRAMS", ()):
        return None
    try:
        return expl.svg(diagram="layers")
    except (GraphExplainError, TypeError):
        return None


def clean_svg(svg: str) -> str:
    """The ``<svg>`` element alone: no XML prolog, doctype or comments (Graphviz writes node
    names into comments), and nothing that could run."""
    start = svg.find("<svg")
    svg = svg[start:] if start >= 0 else ""
    svg = _COMMENT.sub("", svg)
    svg = _SCRIPT.sub("", svg)
    svg = _FOREIGN.sub("", svg)
    svg = _EVENT_ATTR.sub("", svg)
    return _JS_URL.sub(r"\1#", svg)


def scope_svg_ids(svg: str, prefix: str) -> str:
    """Prefix every id (and every reference to one) so two drawings in a notebook don't clash."""
    svg = _ID.sub(lambda m: f'id="{prefix}{m.group(1)}"', svg)
    return _REF.sub(lambda m: f"{m.group(1)}{prefix}{m.group(2)}", svg)


def _dot_ids(G) -> dict[str, str]:
    """DOT id → node, for drawings that give a node a DOT id other than its name."""
    try:
        from .. import render
    except ImportError:
        return {}
    node_ids = getattr(render, "_node_ids", None)
    if node_ids is None:
        return {}
    try:
        return {dot_id: n for n, dot_id in node_ids(G).items()}
    except Exception:  # the drawing's own business; titles that are node names still match
        return {}


def _resolve(name: str, G, dot_ids: dict) -> tuple[str | None, str]:
    """The node a DOT name stands for, and the pass its copy belongs to (``f``, ``b`` or ``""``)."""
    candidates = [(name, "")]
    if name[:2] in ("f_", "b_"):
        candidates.append((name[2:], name[0]))
    for candidate, copy in candidates:
        if candidate in G:
            return candidate, copy
        if candidate in dot_ids:
            return dot_ids[candidate], copy
    if ":" in name:  # a port: node:port
        return _resolve(name.rsplit(":", 1)[0], G, dot_ids)
    return None, ""


def _resolve_edge(title: str, G, dot_ids: dict) -> tuple[tuple[str, str] | None, str]:
    for m in re.finditer("->", title):
        (u, pu), (v, pv) = (_resolve(title[:m.start()], G, dot_ids),
                            _resolve(title[m.end():], G, dot_ids))
        if u is None or v is None:
            continue
        if G.has_edge(u, v):
            return (u, v), pu or pv
        if G.has_edge(v, u):  # drawn against the flow (a backward drawing)
            return (v, u), pu or pv
    return None, ""


def element_map(svg: str | None, G) -> list[list]:
    """How the drawing's elements link to the graph: ``["t", title, "n", node index, pass]``
    or ``["t", title, "e", edge index, pass]`` for an SVG ``<g>`` whose ``<title>`` names a
    node or an edge, and ``["i", id, "n", node index, pass]`` for one whose own id (set in the
    DOT source) names a node, as a network's weight drawn as an edge does. An element that
    stands for several nodes or edges has a list of indices.

    A drawing may merge nodes (a network draws a neuron once for its pre-activation f1 and
    its activation A(f1)): a node that is not drawn stands in the element of its one
    operation input (or its one successor), and an edge ``f1->g1`` that is no edge of the
    graph stands for the edge from the merged node, A(f1) → g1.
    """
    if not svg:
        return []
    index = {n: i for i, n in enumerate(G.nodes)}
    edge_index = {e: i for i, e in enumerate(G.edges)}
    dot_ids = _dot_ids(G)
    out, drawn, loose, boxes = [], {}, [], []
    for attrs, raw in _ELEMENT.findall(svg):
        kind = _KIND.search(attrs)
        if kind is None:
            continue
        title = unescape(raw)
        if kind.group(1) == "node":
            n, copy = _resolve(title, G, dot_ids)
            if n is not None:
                out.append(["t", title, "n", index[n], copy])
                drawn.setdefault(n, []).append((title, copy))
            elif _BOX.match(title):
                boxes.append(title)
        else:
            e, copy = _resolve_edge(title, G, dot_ids)
            if e is not None:
                out.append(["t", title, "e", edge_index[e], copy])
            else:
                loose.append(title)
        own = _ID.search(attrs)
        if own and not _DEFAULT_ID.match(own.group(1)):
            n, copy = _resolve(unescape(own.group(1)), G, {})
            if n is not None:
                out.append(["i", unescape(own.group(1)), "n", index[n], copy])
    if boxes:
        out += _layer_boxes(G, boxes, loose, index, edge_index)
    out += _stand_ins(G, drawn, index)
    out += _merged_edges(G, loose, drawn, dot_ids, edge_index)
    return _compact(out)


def _compact(links: list[list]) -> list[list]:
    """Links to one element of the same kind, merged: ``["t", "layer1", "n", [3, 4, …], ""]``."""
    merged: dict[tuple, list] = {}
    for by, key, kind, i, copy in links:
        merged.setdefault((by, key, kind, copy), []).append(i)
    return [[by, key, kind, ids[0] if len(ids) == 1 else ids, copy]
            for (by, key, kind, copy), ids in merged.items()]


def _box_members(G) -> tuple[dict, dict] | None:
    """For a network drawn one box per layer (``inputs``, ``layer1`` … ``layerL``): each
    box's nodes (neurons, activations, weights, biases), and the nodes its arrow leaves from."""
    try:
        from ..render.network import structure

        net = structure(G)
    except Exception:  # no layered network, or a renderer without one: the boxes stay unlit
        return None
    if net is None:
        return None
    members, outs = {"inputs": list(net.inputs)}, {"inputs": list(net.inputs)}
    for k, layer in enumerate(net.layers, 1):
        members[f"layer{k}"] = [x for n in layer for x in (n.id, n.act, n.bias, *(
            w for w, _ in n.weights)) if x is not None]
        outs[f"layer{k}"] = [n.out for n in layer]
    return members, outs


def _layer_boxes(G, boxes: list[str], edge_titles: list[str], index: dict,
                 edge_index: dict) -> list[list]:
    """Links for the boxes of a layer view and the arrows between them."""
    found = _box_members(G)
    if found is None:
        return []
    members, outs = found
    out = [["t", box, "n", index[n], ""] for box in boxes for n in members.get(box, ())]
    for title in edge_titles:
        a, _, b = title.partition("->")
        if a not in outs or not (b in members or b in G):
            continue
        targets = set(members.get(b, ())) or {b}
        out += [["t", title, "e", edge_index[u, v], ""] for u in outs[a]
                for v in G.successors(u) if v in targets]
    return out


def _stand_ins(G, drawn: dict, index: dict) -> list[list]:
    """Links for the operation nodes a drawing merged into a neighbour."""
    out = []
    for n in nx.topological_sort(G):
        if n in drawn or G.nodes[n]["kind"] != "op":
            continue
        ops_in = [p for p in G.predecessors(n) if G.nodes[p]["kind"] == "op"]
        succ = list(G.successors(n))
        host = (ops_in[0] if len(ops_in) == 1 and ops_in[0] in drawn else
                succ[0] if len(succ) == 1 and succ[0] in drawn else None)
        if host is not None:
            drawn[n] = drawn[host]
            out += [["t", title, "n", index[n], copy] for title, copy in drawn[host]]
    return out


def _merged_edges(G, titles: list[str], drawn: dict, dot_ids: dict,
                  edge_index: dict) -> list[list]:
    """Links for edge titles ``u->v`` whose edge runs from a node merged into u."""
    out = []
    for title in titles:
        for m in re.finditer("->", title):
            (u, copy), (v, _) = (_resolve(title[:m.start()], G, dot_ids),
                                 _resolve(title[m.end():], G, dot_ids))
            if u is None or v is None:
                continue
            out += [["t", title, "e", edge_index[a, v], copy] for a in G.successors(u)
                    if G.has_edge(a, v) and drawn.get(a) == drawn.get(u)]
    return out


# --- the page -------------------------------------------------------------------------------------

_BODY = """\
<div class="ge-explorer" id="{p}root" data-prefix="{p}" data-standalone="{standalone}" \
tabindex="-1">
<header class="ge-header">
<h1 id="{p}title" class="ge-title"></h1>
<p id="{p}subtitle" class="ge-subtitle"></p>
</header>
<div class="ge-main">
<div class="ge-diagram" id="{p}diagram">{svg}<p id="{p}nodiagram" class="ge-nodiagram" \
hidden></p></div>
<aside class="ge-side">
<div class="ge-controls">
<button type="button" id="{p}prev" title="{previous} (←)" aria-label="{previous}">\
&#8592;</button>
<button type="button" id="{p}play" title="{play}" aria-label="{play}">&#9654;</button>
<button type="button" id="{p}next" title="{next} (→)" aria-label="{next}">&#8594;</button>
<input type="range" id="{p}slider" min="0" max="0" value="0" aria-label="{step}">
<span id="{p}counter" class="ge-counter"></span>
</div>
<p id="{p}caption" class="ge-caption"></p>
<div id="{p}formula" class="ge-formula" aria-live="polite"></div>
<p class="ge-legend"><span class="ge-key ge-key-forward"></span> {forward}
<span class="ge-key ge-key-backward"></span> {backward}
<span class="ge-key ge-key-path"></span> {chosen}</p>
<div class="ge-choose">
<label for="{p}leafselect">{wrt}</label>
<select id="{p}leafselect"></select>
<span class="ge-hint">{click}</span>
</div>
<section id="{p}leaf" class="ge-leaf" hidden>
<h2 id="{p}leaftitle"></h2>
<div id="{p}leafformula" class="ge-leafformula"></div>
<p id="{p}pathcount" class="ge-pathcount"></p>
<div class="ge-scroll">
<table id="{p}paths" class="ge-paths">
<thead><tr><th>{path}</th><th>{product}</th><th>{value}</th><th>{share}</th></tr>\
</thead>
<tbody></tbody>
</table>
</div>
</section>
</aside>
</div>
<div class="ge-panels">
<section id="{p}verification" class="ge-panel" hidden><h2>{verification}</h2>\
<table class="ge-table"><thead><tr><th>{check}</th><th>{result}</th><th>{compared}</th>\
<th>{error}</th></tr></thead><tbody></tbody></table></section>
<section id="{p}cost" class="ge-panel" hidden><h2>{cost}</h2>\
<table class="ge-table"><thead><tr><th>{method}</th><th>{passes}</th>\
<th>{multiplications}</th></tr></thead><tbody></tbody></table></section>
<section id="{p}notes" class="ge-panel" hidden><h2>{notes}</h2><ul></ul></section>
<section id="{p}model" class="ge-panel" hidden><h2>{model}</h2><pre></pre></section>
<section id="{p}program" class="ge-panel" hidden><h2>{program}</h2><pre></pre></section>
</div>
<script type="application/json" id="{p}data">{data}</script>
</div>
"""


def default_title(expl) -> str:
    G = expl.derivation.graph
    return _("Backprop, step by step: {output}").format(
        output=G.nodes[expl.derivation.output]["label"])


def _words() -> dict[str, str]:
    """The page's fixed words, in the current language, escaped for HTML."""
    words = {"previous": _("previous step"), "play": _("play"), "next": _("next step"),
             "step": _("step"), "forward": _("forward pass"), "backward": _("backward pass"),
             "chosen": _("paths of the chosen input"), "wrt": _("Gradient with respect to"),
             "click": _("or click an input in the diagram"), "path": _("path"),
             "product": _("product of local partials"), "value": _("value"),
             "share": _("share"), "verification": _("Verification"), "check": _("check"),
             "result": _("result"), "compared": _("compared"), "error": _("max abs error"),
             "cost": _("The cost of every gradient"), "method": _("method"),
             "passes": _("passes or paths"), "multiplications": _("multiplications"),
             "notes": _("Notes"), "model": _("Model"), "program": _("Program")}
    return {k: escape(v) for k, v in words.items()}


def _body(expl, prefix: str, standalone: bool, title: str | None, view: str | None,
          options: dict) -> str:
    title = title or default_title(expl)
    svg, why = diagram(expl, view, **options)
    data = explorer_data(expl, title)
    data["elements"] = element_map(svg, expl.derivation.graph)
    data["no_diagram"] = why
    if svg and prefix:
        svg = scope_svg_ids(svg, prefix)
    return _BODY.format(p=prefix, standalone=int(standalone), svg=svg or "",
                        data=json_for_html(data), **_words())


def _script(prefix: str) -> str:
    code = _asset("explorer.js")
    # by id; else (a notebook front end that runs the script before its output is in the
    # document) the element just before this script
    call = (f'graphexplainExplorer(document.getElementById("{prefix}root") || '
            "(document.currentScript && document.currentScript.previousElementSibling));")
    return f"<script>\n(function () {{\n{_inline_script(code)}\n{call}\n}})();\n</script>"


def _style(prefix: str) -> str:
    css = _asset("explorer.css")
    if prefix:  # every rule starts at the explorer's root: scope it to this one
        css = css.replace(".ge-explorer", f"#{prefix}root.ge-explorer")
    return f"<style>\n{_inline_script(css)}\n</style>"


def page(expl, *, title: str | None = None, view: str | None = None, **options) -> str:
    """The explorer as one self-contained HTML page.

    Parameters
    ----------
    expl : an :class:`~graphexplain.api.Explanation` (of an expression, an MLP or a torch
        model; with a point, the steps show numbers; with a verification, its result).
    title : the page's title (default: ``Backprop, step by step: J``).
    view, options : the drawing, as :meth:`~graphexplain.api.Explanation.svg` takes them
        (``view``, ``diagram``, ``expand``, ``partials``); by default the explanation's own
        choice: the circuit for an expression, the network (or its layers) for a network.

    Examples
    --------
    >>> import graphexplain, graphexplain.html
    >>> e = graphexplain.explain("J(a,b,c) = 3(a+bc)", at={"a": 1, "b": 2, "c": 3})
    >>> html = graphexplain.html.page(e)
    >>> html.startswith("<!DOCTYPE html>") and 'id="formula"' in html
    True
    """
    title = title or default_title(expl)
    return (f"<!DOCTYPE html>\n<html lang=\"{language()}\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{escape(title)}</title>\n{_style('')}\n</head>\n<body>\n"
            f"{_body(expl, '', True, title, view, options)}{_script('')}\n</body>\n</html>\n")


def notebook(expl, *, title: str | None = None, view: str | None = None, **options) -> str:
    """The explorer as an HTML fragment for Jupyter (``_repr_html_``): no ``<html>`` or
    ``<body>``; ids and styles scoped by a prefix unique to this call."""
    prefix = f"ge{uuid.uuid4().hex[:10]}-"
    body = _body(expl, prefix, False, title, view, options)
    return f"{_style(prefix)}\n{body}{_script(prefix)}\n"
