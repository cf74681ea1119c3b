"""Diagnose a wrong gradient against the sum over paths: what slip fits it.

With g = Σₚ Πₑ∈ₚ ∂e the true gradient (each path p's product of local partials) and c the
wrong answer, one value per sample point, the hypotheses are tried in this order:

- a sign flip: c = −g;
- a swapped or transposed name: c = ∂L/∂v for another leaf v (``w1[2,1]`` for ``w1[1,2]``);
- paths left out or with the wrong sign: c = Σₚ sₚ·Πp with every sₚ ∈ {1, 0, −1}, not all 1
  (the fewest changes first: "forks add" forgotten leaves a path out);
- an extra path: c − g is a path of another leaf;
- for a formula (a claim), a transposed index inside it (it writes w2[1,2] where w2[2,1]
  belongs), or terms that are on no path;
- a constant factor: c = r·g with r constant, and its likely cause (MSE's 2, a mean's 1/N,
  k steps of gradients never zeroed);
- none of these.

A hypothesis must hold at every sample point within ``rtol`` of the gradient's scale (its
largest path product), so that a coincidence at one point is not taken for a cause; at a single
point (one hand-computed value) the diagnosis is only as good as that point.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import networkx as nx
import numpy as np
import sympy

from . import printing
from .derive import Derivation
from .evaluate import Evaluation
from .graph import label
from .i18n import _, ngettext

MAX_SIGNED_PATHS = 10  # signed subsets: 3^10 combinations at most
MAX_SUBSET_PATHS = 16  # left-out paths only: 2^16 subsets at most
MAX_NAME_SWAPS = 400  # pairs of names tried inside a formula


@dataclass
class Diagnosis:
    """What fits a wrong answer.

    kind : ``missing-path``, ``path-sign``, ``extra-path``, ``sign``, ``swapped``,
        ``transposed``, ``factor`` or ``none``.
    message : one sentence.
    details : lines of evidence (the paths named, the factor's cause).
    data : the same, machine-readable.
    """

    kind: str
    message: str
    details: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message, "details": self.details,
                **self.data}


# --- numbers along the paths ---------------------------------------------------------------------


def paths(d: Derivation, wrt: str) -> list[list[str]]:
    """The paths from ``wrt`` to the output, when they are few enough to be listed."""
    count = d.path_counts.get(wrt, 0)
    return d.paths[wrt] if 0 < count <= d.limits.max_paths and wrt in d.paths else []


def path_values(d: Derivation, wrt: str, ev: Evaluation) -> list[float]:
    """Each path's product of local partials at an evaluation."""
    return [math.prod(ev.locals[(u, v)] for u, v in zip(p, p[1:])) for p in paths(d, wrt)]


def scale(d: Derivation, wrt: str, ev: Evaluation) -> float:
    """The size below which a difference is rounding: the largest path product's size (a
    gradient whose paths cancel is small, while its terms are not)."""
    products = [abs(p) for p in path_values(d, wrt, ev)]
    return max([*products, abs(ev.adjoints.get(wrt, 0.0)), 1e-300])


def value_at(expr: sympy.Expr, ev: Evaluation) -> float:
    """A formula in node symbols at an evaluation's values."""
    subs = {s: sympy.Float(ev.values[s.name], 30) for s in expr.free_symbols
            if s.name in ev.values}
    v = complex(sympy.N(expr.xreplace(subs), 20))
    return v.real if abs(v.imag) <= 1e-12 * max(1.0, abs(v.real)) else math.nan


def path_text(G: nx.DiGraph, path: Sequence[str]) -> str:
    """``w1[1,2] → f2 → A(f2) → g2 → A(g2) → out → loss``."""
    return " → ".join(label(G, n) for n in path)


def path_product_text(G: nx.DiGraph, path: Sequence[str]) -> str:
    """The path's product of local partials, as the seed writes it
    (``x1·A′(f2)·w2[2,2]·A′(g2)·w3[2,1]·∂loss/∂out`` in a network)."""
    from .report import display_local

    local = display_local(G)
    factors = [local(u, v) for u, v in zip(path, path[1:])]
    factors = [f for f in factors if f != 1] or [sympy.S.One]
    expr = factors[0] if len(factors) == 1 else sympy.Mul(*factors, evaluate=False)
    network = any(G.nodes[n].get("role") for n in path)  # the seed's factors, in path order
    return printing.text(expr, {n: label(G, n) for n in G.nodes},
                         order="none" if network else None)


# --- the diagnosis -------------------------------------------------------------------------------


@dataclass
class _Case:
    """One wrong answer, at its sample points."""

    d: Derivation
    wrt: str
    evs: Sequence[Evaluation]
    c: np.ndarray  # the answer at each point
    g: np.ndarray  # the gradient at each point
    scale: np.ndarray
    rtol: float

    def fits(self, values, against=None) -> bool:
        """Whether ``values`` equal the answer (or ``against``) at every point."""
        a = self.c if against is None else np.asarray(against, dtype=float)
        values = np.asarray(values, dtype=float)
        return bool(np.all(np.abs(a - values) <= self.rtol * np.maximum(
            np.maximum(np.abs(a), np.abs(values)), self.scale)))

    @property
    def G(self) -> nx.DiGraph:
        return self.d.graph

    def grad(self, node: str | None = None) -> str:
        return f"∂{label(self.G, self.d.output)}/∂{label(self.G, node or self.wrt)}"


def diagnose(d: Derivation, wrt: str, answers: Sequence[float], evs: Sequence[Evaluation],
             rtol: float = 1e-6, formula: sympy.Expr | None = None,
             from_loop: bool = False) -> Diagnosis:
    """What fits a wrong answer for ∂output/∂wrt: ``answers`` has one value per evaluation.

    ``formula`` is the answer as a formula in node symbols (a claim), which allows the
    hypotheses about its terms and names; ``from_loop`` says the values may come from a
    training loop (then an integer factor k may be k steps' gradients summed).
    """
    case = _Case(d, wrt, evs, np.array(answers, dtype=float),
                 np.array([ev.adjoints.get(wrt, 0.0) for ev in evs]),
                 np.array([scale(d, wrt, ev) for ev in evs]), rtol)
    hypotheses = [_sign, _other_leaf, _signed_paths, _extra_path]
    if formula is not None:
        hypotheses += [lambda k: _names_inside(k, formula), lambda k: _extra_terms(k, formula)]
    hypotheses.append(lambda k: _factor(k, from_loop))
    for hypothesis in hypotheses:
        found = hypothesis(case)
        if found is not None:
            return found
    return Diagnosis("none", _("none of the usual slips fits (a missing or extra path, a "
                               "sign, a swapped index, a constant factor)"), [
        _("{grad} = {value} at the first point, the answer {answer}").format(
            grad=case.grad(), value=printing.number(float(case.g[0])),
            answer=printing.number(float(case.c[0])))])


def _sign(k: _Case) -> Diagnosis | None:
    if np.any(np.abs(k.g) > k.rtol * k.scale) and k.fits(-k.g):
        return Diagnosis("sign", _("a sign flip: the answer is −{grad}").format(grad=k.grad()), [
            _("every factor's sign matters; check each local partial, e.g. ∂(a − b)/∂b = −1")])
    return None


def transposed(G: nx.DiGraph, a: str, b: str) -> bool:
    """Whether two labels are one weight's indices swapped: w1[1,2] and w1[2,1]."""
    ma = re.fullmatch(r"(.*)\[(\d+),\s*(\d+)\]", label(G, a))
    mb = re.fullmatch(r"(.*)\[(\d+),\s*(\d+)\]", label(G, b))
    return bool(ma and mb and ma.group(1) == mb.group(1)
                and (ma.group(2), ma.group(3)) == (mb.group(3), mb.group(2)))


def _other_leaf(k: _Case) -> Diagnosis | None:
    G, d = k.G, k.d
    others = [v for v in d.adjoints if v != k.wrt and G.nodes[v]["kind"] != "op"]
    others.sort(key=lambda v: not transposed(G, k.wrt, v))  # the transpose first
    for v in others:
        if k.fits([ev.adjoints.get(v, 0.0) for ev in k.evs]):
            kind = "transposed" if transposed(G, k.wrt, v) else "swapped"
            what = _("a transposed index") if kind == "transposed" else _("a swapped name")
            why = (_("wn[i,j] runs from neuron i to neuron j; in torch's (out, in) layout it is "
                     "weight[j−1, i−1]") if kind == "transposed" else
                   _("{a} and {b} were exchanged").format(a=label(G, k.wrt), b=label(G, v)))
            message = _("{what}: the answer is {grad}, the gradient of {other}, not of {name}")
            return Diagnosis(kind, message.format(what=what, grad=k.grad(v), other=label(G, v),
                                                  name=label(G, k.wrt)), [why],
                             {"other": label(G, v)})
    return None


def _coefficients(m: int) -> np.ndarray:
    """Every way to keep (1), leave out (0) or negate (−1) each of m paths, other than
    keeping all, the fewest changes first."""
    values = (1, 0, -1) if m <= MAX_SIGNED_PATHS else (1, 0)
    rows = np.array([r for r in itertools.product(values, repeat=m) if any(x != 1 for x in r)],
                    dtype=float)
    return rows[np.argsort((rows != 1).sum(axis=1), kind="stable")]


def _signed_paths(k: _Case) -> Diagnosis | None:
    found = paths(k.d, k.wrt)
    if not 1 < len(found) <= MAX_SUBSET_PATHS:
        return None
    values = np.array([path_values(k.d, k.wrt, ev) for ev in k.evs])  # points × paths
    rows = _coefficients(len(found))
    sums = values @ rows.T
    for i in range(len(rows)):
        if rows[i].any() and k.fits(sums[:, i]):
            return _paths_diagnosis(k, found, rows[i])
    return None


def _paths_diagnosis(k: _Case, found: list, row: np.ndarray) -> Diagnosis:
    G = k.G
    missing = [p for p, s in zip(found, row) if s == 0]
    negated = [p for p, s in zip(found, row) if s < 0]
    lines = [_("missing: {path}   {product}").format(path=path_text(G, p),
                                                     product=path_product_text(G, p))
             for p in missing]
    lines += [_("wrong sign: {path}   {product}").format(path=path_text(G, p),
                                                        product=path_product_text(G, p))
              for p in negated]
    if missing:
        lines.append(_("the answer has {kept} of the {n} paths; where paths fork and meet "
                       "again, their products add (the chain rule sums over every path)").format(
            kept=len(found) - len(missing), n=len(found)))
    parts = []
    if missing:
        parts.append(_("leaves out {path}").format(path=path_text(G, missing[0]))
                     if len(missing) == 1 else
                     _("leaves out {n} paths").format(n=len(missing)))
    if negated:
        parts.append(_("has the path {path} with the wrong sign").format(
            path=path_text(G, negated[0])) if len(negated) == 1 else
            _("has {n} paths with the wrong sign").format(n=len(negated)))
    kind = "missing-path" if missing else "path-sign"
    what = (_("a missing path") if len(missing) == 1 else
            _("{n} missing paths").format(n=len(missing))) if missing else _("a path's sign")
    message = _("{what}: the answer {parts}").format(what=what, parts=_(" and ").join(parts))
    return Diagnosis(kind, message, lines,
                     {"missing": [path_text(G, p) for p in missing],
                      "negated": [path_text(G, p) for p in negated]})


def _extra_path(k: _Case) -> Diagnosis | None:
    G = k.G
    for v in k.d.adjoints:  # c − g is another leaf's path
        if v == k.wrt or G.nodes[v]["kind"] == "op":
            continue
        for p in paths(k.d, v)[:16]:
            extra = np.array([math.prod(ev.locals[(a, b)] for a, b in zip(p, p[1:]))
                              for ev in k.evs])
            if np.any(np.abs(extra) > 0) and k.fits(k.g + extra):
                message = _("an extra path: the answer adds the path {path}, which starts at "
                            "{start}, not at {name}").format(
                    path=path_text(G, p), start=label(G, v), name=label(G, k.wrt))
                detail = _("extra: {path}   {product}").format(
                    path=path_text(G, p), product=path_product_text(G, p))
                return Diagnosis("extra-path", message, [detail], {"extra": [path_text(G, p)]})
    return None


def _names_inside(k: _Case, formula: sympy.Expr) -> Diagnosis | None:
    """A name in the formula that should be another: first a weight's transpose (it writes
    w2[1,2] where w2[2,1] belongs), then, on small graphs, any other node."""
    G = k.G
    written = sorted((s for s in formula.free_symbols if s.name in G), key=lambda s: s.name)
    pairs = [(s, t) for s in written for t in G if t != s.name and transposed(G, s.name, t)]
    if len(G) <= 30:
        pairs += [(s, t) for s in written for t in G
                  if t != s.name and not transposed(G, s.name, t)]
    for s, t in pairs[:MAX_NAME_SWAPS]:
        swapped = formula.xreplace({s: sympy.Symbol(t, real=True)})
        if k.fits([value_at(swapped, ev) for ev in k.evs], against=k.g):
            kind = "transposed" if transposed(G, s.name, t) else "swapped"
            what = _("a transposed index") if kind == "transposed" else _("a wrong name")
            names = {"written": label(G, s.name), "instead_of": label(G, t)}
            return Diagnosis(kind, _("{what} inside the answer: it writes {written} where "
                                     "{instead_of} belongs").format(what=what, **names), [
                _("with {instead_of} in place of {written}, the answer equals {grad}").format(
                    grad=k.grad(), **names)], names)
    return None


def _extra_terms(k: _Case, formula: sympy.Expr) -> Diagnosis | None:
    terms = set(sympy.Add.make_args(sympy.expand(formula)))
    truth = set(sympy.Add.make_args(sympy.expand(k.d.adjoints[k.wrt])))
    if not truth or not truth < terms:
        return None
    labels = {n: label(k.G, n) for n in k.G.nodes}
    extra = [printing.text(t, labels) for t in sorted(terms - truth, key=str)]
    message = _("an extra term: {terms} is on no path from {name} to {out}").format(
        terms=" + ".join(extra), name=label(k.G, k.wrt), out=label(k.G, k.d.output))
    detail = ngettext("the paths of {name} give {n} term; the answer has it and {m} more",
                      "the paths of {name} give {n} terms; the answer has these and {m} more",
                      len(truth)).format(name=label(k.G, k.wrt), n=len(truth), m=len(extra))
    return Diagnosis("extra-path", message, [detail], {"extra": extra})


def _nice(r: float) -> Fraction | None:
    f = Fraction(r).limit_denominator(1000)
    return f if abs(float(f) - r) <= 1e-6 * abs(r) and abs(f.numerator) <= 1000 else None


def mean_sizes(G: nx.DiGraph) -> set[int]:
    """The N of every mean in the graph: an MSE over N outputs, a product with 1/N."""
    sizes = set()
    for n in G:
        data = G.nodes[n]
        if data.get("op") in ("mse", "cross_entropy") and len(data["args"]) >= 4:
            sizes.add(len(data["args"]) // 2)
        expr = data.get("expr")
        if data.get("op") == "mul" and expr is not None:
            for a in sympy.Mul.make_args(expr):
                if a.is_Rational and a.p == 1 and a.q > 1:
                    sizes.add(int(a.q))
    return sizes


def _squares(G: nx.DiGraph) -> bool:
    return any(G.nodes[n].get("op") == "mse" or (G.nodes[n].get("op") == "pow" and
               G.nodes[n].get("expr") is not None and G.nodes[n]["expr"].args[1:] == (2,))
               for n in G)


def _factor(k: _Case, from_loop: bool) -> Diagnosis | None:
    usable = np.abs(k.g) > 1e-3 * k.scale
    if not usable.any():
        return None
    ratios = k.c[usable] / k.g[usable]
    r = float(ratios[0])
    if not np.allclose(ratios, r, rtol=k.rtol * 10, atol=0) or abs(r - 1) <= k.rtol:
        return None
    f = _nice(r)
    shown = (f"{f.numerator}/{f.denominator}" if f is not None and f.denominator != 1
             else str(f.numerator) if f is not None else printing.number(r))
    causes = []
    if f in (Fraction(1, 2), Fraction(2)) and _squares(k.G):
        causes.append(_("MSE's 2: ∂(out − y)²/∂out = 2·(out − y); the 2 was left out")
                      if f == Fraction(1, 2) else
                      _("MSE's 2: ∂(out − y)²/∂out = 2·(out − y); the 2 was counted twice, or "
                        "a ½ in the loss was dropped"))
    for n in sorted(mean_sizes(k.G)):
        if f in (Fraction(n), Fraction(1, n)):
            causes.append((_("a mean against a sum: the loss averages over N = {n}, so each "
                             "term's gradient carries 1/{n}; the answer left it out") if f == n
                           else _("a mean against a sum: the loss averages over N = {n}, so "
                                  "each term's gradient carries 1/{n}; the answer divides by "
                                  "N once too often")).format(n=n))
    if from_loop and f is not None and f.denominator == 1 and f.numerator >= 2:
        causes.append(_("from a training loop: {k} steps' gradients summed, because .grad "
                        "was never zeroed").format(k=f.numerator))
    if len(k.evs) == 1 and not causes:
        return None  # at one point every wrong value is some multiple: no evidence
    return Diagnosis("factor", _("a constant factor: the answer is {factor} × the "
                                 "gradient").format(factor=shown),
                     causes or [_("no common cause matches this factor")],
                     {"factor": float(r), "factor_shown": shown})
