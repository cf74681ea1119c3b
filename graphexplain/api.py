"""The Python API, which mirrors the command line.

``explain(text, at=…)`` runs the whole pipeline (parse → build → derive → evaluate → verify)
and returns an :class:`Explanation`; ``explain_graph(G, at=…)`` does the same for a graph
from any other entry point. An Explanation prints itself as text, LaTeX, Markdown or JSON,
draws itself, and shows itself in Jupyter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx
import sympy

from . import report
from .derive import Derivation, derive
from .errors import PointError
from .graph import build, complete_point
from .limits import DEFAULT, Limits
from .parse import parse

if TYPE_CHECKING:  # numpy is imported where a point is evaluated, not by a symbolic run
    from .evaluate import Evaluation
    from .verify import Verification


@dataclass
class Explanation:
    """One output's gradients, explained: symbolic, numeric (at a point) and verified.

    Attributes
    ----------
    derivation : the symbolic chain rule (see :class:`~graphexplain.derive.Derivation`).
    evaluation : the numbers at the point, or None when no point was given.
    verification : the torch and finite-difference checks, or None when not run.
    source : the program text, when the graph came from text.
    """

    derivation: Derivation
    evaluation: Evaluation | None = None
    verification: Verification | None = None
    source: str | None = None
    use_torch: bool = field(default=True, repr=False)
    h: float | None = field(default=None, repr=False)  # the central-difference step
    names: frozenset[str] | None = field(default=None, repr=False)  # the user's own names
    _forms: dict | None = field(default=None, repr=False, init=False)
    _gradients: dict | None = field(default=None, repr=False, init=False)
    _notes: list | None = field(default=None, repr=False, init=False)

    @property
    def graph(self) -> nx.DiGraph:
        """The computation graph (a networkx DiGraph; schema in :mod:`graphexplain.graph`)."""
        return self.derivation.graph

    @property
    def output(self) -> str:
        return self.derivation.output

    @property
    def gradients(self) -> dict[str, dict]:
        """leaf → {"formula" (in leaf names), "chain" (in intermediate names), "simplified"
        (the teaching form, or None), "factored" (the sum over paths, factored where paths
        meet, or None on a large graph): sympy expressions; "value": float or None; "paths",
        "path_count"}."""
        if self._gradients is None:  # made once: the forms and factored sums cost sympy time
            d, ev, forms = self.derivation, self.evaluation, self.teaching_forms
            self._gradients = {
                x: {"formula": d.formulas.get(x), "chain": d.adjoints[x],
                    "simplified": forms.get(x), "factored": self._factored(x),
                    "value": ev.adjoints[x] if ev else None,
                    "paths": d.paths.get(x), "path_count": d.path_counts.get(x, 0)}
                for x in d.leaves}
        return self._gradients

    @property
    def teaching_forms(self) -> dict[str, sympy.Expr]:
        """node → ∂output/∂node as a course writes it, where a simpler form was found
        (``x·(σ(z) − y)`` for a cross-entropy through a sigmoid; see
        :mod:`graphexplain.simplify`)."""
        if self._forms is None:
            from .simplify import teaching_forms

            point = self.evaluation.point if self.evaluation else None
            self._forms = teaching_forms(self.derivation, self.names, point)
        return self._forms

    @property
    def notes(self) -> list:
        """The slips a course's students make, found in this graph (a loss that can be
        negative, an input nothing uses, a target out of the output's range, …): a list of
        :class:`graphexplain.lints.Note`, printed as notes, never errors."""
        if self._notes is None:
            from . import lints

            self._notes = lints.check(self.graph, self.output, evaluation=self.evaluation)
        return self._notes

    def _factored(self, leaf: str) -> sympy.Expr | None:
        return report.factored(self.derivation, leaf)

    def verify(self) -> Verification:
        """Check every gradient against torch.autograd and central differences."""
        if self.evaluation is None:
            raise PointError("verification needs a point: give values for the inputs (at=…)")
        if self.verification is None:
            from .verify import verify as run_checks

            self.verification = run_checks(self.graph, self.output, self.evaluation,
                                           self.use_torch, self.h)
        return self.verification

    def report(self, fmt: str = "text") -> str:
        if fmt == "html":
            return self.html()
        return report.report(self.derivation, fmt, self.evaluation, self.verification,
                             self.extras)

    @property
    def extras(self) -> report.Extras:
        """What the reports add to the derivation: teaching forms, notes, the user's names."""
        return report.Extras(self.teaching_forms, self.notes, self.names)

    def to_text(self) -> str:
        return self.report("text")

    def to_json(self) -> str:
        return self.report("json")

    def to_dict(self) -> dict:
        return report.to_dict(self.derivation, self.evaluation, self.verification,
                              self.extras)

    def to_latex(self) -> str:
        return self.report("latex")

    def to_markdown(self) -> str:
        return self.report("markdown")

    def render(self, path: str | Path, view: str = "both", wrt: str | None = None,
               **options) -> Path:
        """Write a diagram: ``.svg``, ``.png``, ``.pdf`` or ``.dot``. ``options``:
        ``partials`` (label each edge ∂v/∂u), ``diagram`` (auto, circuit, network, layers),
        ``expand`` (a large network neuron by neuron)."""
        from .render import render

        return render(self.derivation, path, self.evaluation, view=view, wrt=self._wrt(wrt),
                      **_drawing(options))

    def _wrt(self, wrt: str | None) -> str | None:
        """A leaf named by its label (``w1[1,2]``) or its identifier."""
        if wrt is None or wrt in self.graph:
            return wrt
        from .graph import resolve

        return resolve(self.graph, wrt, self.derivation.leaves, what="wrt")

    def svg(self, view: str = "both", wrt: str | None = None, **options) -> str:
        from .render import svg

        return svg(self.derivation, self.evaluation, view=view, wrt=self._wrt(wrt),
                   **_drawing(options))

    def html(self, title: str | None = None, view: str | None = None, **options) -> str:
        """The HTML explorer: one self-contained page that steps through the forward and
        the backward pass (see :mod:`graphexplain.html`); ``view`` and ``options`` choose
        its drawing, as for :meth:`render`."""
        from .html import page

        return page(self, title=title, view=view, **_drawing(options))

    def _repr_html_(self) -> str:
        """Jupyter shows the explorer inline (its ids scoped: two in one notebook don't
        clash); ``svg()`` gives the bare diagram."""
        from .html import notebook

        return notebook(self)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        """One short line: ``<Explanation of J: 3 gradients, verified>``."""
        n = len(self.derivation.leaves)
        state = ("symbolic" if self.evaluation is None else
                 "not verified" if self.verification is None else
                 {True: "verified", False: "VERIFICATION FAILED",
                  None: "nothing comparable"}[self.verification.ok])
        return (f"<Explanation of {self.graph.nodes[self.output]['label']}: "
                f"{n} gradient{'s' * (n != 1)}, {state}>")


def _drawing(options: dict) -> dict:
    """The drawing options that differ from their defaults (older renderers take fewer)."""
    defaults = {"partials": False, "diagram": "auto", "expand": False}
    unknown = set(options) - set(defaults)
    if unknown:
        raise TypeError(f"unknown drawing options: {', '.join(sorted(unknown))}")
    return {k: v for k, v in options.items() if v != defaults[k]}


def explain_graph(G: nx.DiGraph, at: Mapping[str, float] | None = None, *,
                  output: str | None = None, verify: bool = True, use_torch: bool = True,
                  limits: Limits = DEFAULT, source: str | None = None,
                  h: float | None = None) -> Explanation:
    """Explain a graph from any entry point (text, MLP, torch model); ``h`` is the step of
    the central differences (default: ε^(1/3)·max(1, |w|) per input w)."""
    d = derive(G, output, limits)
    at = complete_point(G, at)  # labels as names (w1[1,2]=0.5), and the program's defaults
    ev = None
    if at is not None:
        from .evaluate import evaluate

        ev = evaluate(G, d.output, at)
    expl = Explanation(d, ev, None, source, use_torch, h)
    if ev is not None and verify:
        expl.verify()
    return expl


def explain(text: str, at: Mapping[str, float] | None = None, *, output: str | None = None,
            consts: Iterable[str] = (), verify: bool = True, use_torch: bool = True,
            limits: Limits = DEFAULT, h: float | None = None) -> Explanation:
    """Parse, build, derive, and (given a point) evaluate and verify a program.

    Parameters
    ----------
    text : the program, e.g. ``"J(a,b,c) = 3(a+bc)"`` or ``"u = a + v; v = b*c; J = 3*u"``.
    at : values of the inputs; without it, the result is symbolic only.
    output : which assigned name to explain, when there are several candidates.
    consts : inputs that do not require grad (no gradient, drawn as constants).
    verify : check against torch.autograd and central differences (needs ``at``).
    h : the step of the central differences (the seed uses 1e-7); by default
        ε^(1/3)·max(1, |w|) for each input w.

    Examples
    --------
    >>> e = explain("J(a,b,c) = 3(a+bc)", at={"a": 1, "b": 2, "c": 3})
    >>> {x: g["value"] for x, g in e.gradients.items()}
    {'a': 3.0, 'b': 9.0, 'c': 6.0}
    >>> e.verification.ok
    True
    """
    program = parse(text, output, limits)
    G = build(program, consts, limits)
    expl = explain_graph(G, at, verify=verify, use_torch=use_torch, limits=limits,
                         source=text, h=h)
    expl.names = frozenset(program.assigned())
    return expl


def explain_mlp(spec, *, verify: bool = True, use_torch: bool = True,
                limits: Limits = DEFAULT, h: float | None = None) -> Explanation:
    """Build the MLP of ``spec`` (a :class:`graphexplain.nn.mlp.MLPSpec`) and explain its loss
    at the sample and weights of the spec (given, or drawn from its seed).

    Examples
    --------
    >>> from graphexplain.nn.mlp import MLPSpec
    >>> e = explain_mlp(MLPSpec((2, 2, 2, 1), bias=False))
    >>> e.derivation.path_counts["w1_1_2"], e.verification.ok
    (2, True)
    """
    from .nn.mlp import build_mlp, draw_values

    G = build_mlp(spec)
    if G.number_of_nodes() > limits.max_nodes:  # as explain refuses a program of that size
        from .limits import exceeded

        raise exceeded(f"a network of {G.number_of_nodes()} nodes", "max_nodes",
                       limits.max_nodes)
    return explain_graph(G, draw_values(spec), verify=verify, use_torch=use_torch,
                         limits=limits, h=h)


def symbols(*names: str) -> tuple[sympy.Symbol, ...]:
    """The sympy symbols graphexplain uses for these node names (real-valued)."""
    from .graph import symbol

    return tuple(symbol(n) for n in names)
