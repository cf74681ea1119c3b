"""The HTML explorer: a page (or a Jupyter cell) that steps through backprop on the diagram.

>>> import graphexplain, graphexplain.html
>>> e = graphexplain.explain("J(a,b,c) = 3(a+bc)", at={"a": 1, "b": 2, "c": 3})
>>> page = graphexplain.html.page(e)           # one self-contained HTML file
>>> cell = graphexplain.html.notebook(e)       # the same, as a fragment for _repr_html_

:mod:`~graphexplain.html.data` lays out what the page shows (steps, formulas as MathML, paths,
verification, cost, notes); :mod:`~graphexplain.html.page` assembles the HTML, with the
package files ``explorer.js`` and ``explorer.css`` inline and nothing fetched from anywhere.
"""

from .page import notebook, page

__all__ = ["notebook", "page"]
