"""Check a student's work: a claimed gradient is judged, and a wrong one diagnosed.

A **claim** is what a student writes on paper, ``∂J/∂b = 3c``, read by
:mod:`graphexplain.claims` in the course's notation. It is judged (:func:`judge`) as

- **correct**: the difference between the claim and the derivation is 0 under a bounded
  simplification (sympy's ``expand``; ``simplify`` on small differences only), and it agrees
  at every sample point;
- **wrong**: it differs at a sample point; the point and both values are given;
- **undecided**: it agrees at every sample point, but no simplification within the budget
  shows the difference to be 0.

A wrong claim is **diagnosed** against the sum over paths (:mod:`graphexplain.diagnosis`): a
missing path, a path's sign, an extra path or term, a sign flip, a swapped or transposed
name, a constant factor with its cause, or none of these, each required to hold at every
sample point.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import networkx as nx
import sympy

from . import printing
from .claims import Claim, ClaimError, read_claim
from .derive import Derivation, leaf_expressions, to_leaf_names
from .diagnosis import Diagnosis, diagnose, scale, value_at
from .errors import GraphExplainError
from .evaluate import Evaluation, evaluate
from .graph import complete_point, label
from .i18n import N_, _, ngettext

CORRECT, WRONG, UNDECIDED = "correct", "wrong", "undecided"
SAMPLES = 6  # random points besides the user's own; each hypothesis must hold at all of them
CLAIM_RTOL = 1e-9  # a claim is exact: it agrees with the derivation to rounding
SIMPLIFY_MAX_OPS = 300  # sympy.simplify only on differences this small (it has no time limit)


# --- sample points ------------------------------------------------------------------------------


def sample_points(G: nx.DiGraph, at: Mapping[str, float] | None, count: int = SAMPLES,
                  seed: int = 0) -> list[dict[str, float]]:
    """The user's point (if any), then ``count`` random points: every input and parameter
    drawn from ±[0.5, 2] (away from 0 and from relu's kink), constants with a value kept."""
    rng = random.Random(seed)
    fixed = {n: float(G.nodes[n]["value"]) for n in G if G.nodes[n]["kind"] == "const"
             and "value" in G.nodes[n]}
    free = [n for n in G if G.nodes[n]["kind"] != "op" and n not in fixed]
    points = [complete_point(G, at)] if at else []
    for _point in range(count):
        points.append({**fixed, **{n: rng.choice((-1, 1)) * rng.uniform(0.5, 2.0)
                                   for n in free}})
    return points


def evaluations(d: Derivation, points: Iterable[Mapping[str, float]]) -> list[Evaluation]:
    """The forward and backward pass at each point where every value is finite (a log of a
    negative number drops a random point; the user's own point is kept as it is)."""
    out = []
    for p in points:
        try:
            ev = evaluate(d.graph, d.output, p)
        except (GraphExplainError, ValueError, ZeroDivisionError, OverflowError):
            continue
        if all(math.isfinite(v) for v in ev.values.values()) and \
                all(math.isfinite(v) for v in ev.adjoints.values()):
            out.append(ev)
    return out


# --- judging ------------------------------------------------------------------------------------


@dataclass
class Verdict:
    """The judgement of one claim.

    status : correct, wrong or undecided.
    truth : ∂output/∂wrt as the derivation has it (chain form, node symbols).
    how : how the status was reached, in words.
    point, claimed, actual : where a wrong claim differs, with both values.
    diagnosis : for a wrong claim, what fits it.
    """

    claim: Claim
    status: str
    truth: sympy.Expr
    truth_shown: str
    how: str
    samples: int
    point: dict[str, float] | None = None
    claimed: float | None = None
    actual: float | None = None
    diagnosis: Diagnosis | None = None

    @property
    def ok(self) -> bool:
        return self.status != WRONG


def symbolic_zero(diff: sympy.Expr) -> bool:
    """Whether a difference is 0 under the bounded simplification: ``expand``, then
    ``simplify`` for small differences only."""
    if diff == 0 or sympy.expand(diff) == 0:
        return True
    if sympy.count_ops(diff) > SIMPLIFY_MAX_OPS:
        return False
    return sympy.simplify(diff) == 0


def _in_leaves(d: Derivation, expr: sympy.Expr) -> sympy.Expr | None:
    """The expression in the leaves' names, or None when it would be too large."""
    from .report import _per_derivation  # once per derivation, shared by its claims

    budget = 20 * d.limits.max_formula_ops
    exprs = _per_derivation(d, "check-leaf-exprs", lambda: leaf_expressions(
        d.graph, d.order, budget))
    return to_leaf_names(expr, exprs, budget)


def judge(d: Derivation, claim: Claim, evs: Sequence[Evaluation]) -> Verdict:
    """Judge one claim against the derivation, at the evaluations ``evs``."""
    truth = d.adjoints[claim.wrt]
    shown = truth_text(d, claim.wrt)
    claimed = [value_at(claim.expr, ev) for ev in evs]
    actual = [ev.adjoints.get(claim.wrt, 0.0) for ev in evs]
    scales = [scale(d, claim.wrt, ev) for ev in evs]
    for ev, c, g, s in zip(evs, claimed, actual, scales):
        if not (math.isfinite(c) and abs(c - g) <= CLAIM_RTOL * max(abs(c), abs(g), s)):
            diag = diagnose(d, claim.wrt, claimed, evs, formula=claim.expr)
            return Verdict(claim, WRONG, truth, shown, N_("differs at a point"), len(evs),
                           ev.point, c, g, diag)
    diff = claim.expr - truth
    if symbolic_zero(diff):
        return Verdict(claim, CORRECT, truth, shown, N_("symbolically equal"), len(evs))
    leaf_diff = _in_leaves(d, diff)
    if leaf_diff is not None and symbolic_zero(leaf_diff):
        return Verdict(claim, CORRECT, truth, shown, N_("symbolically equal"), len(evs))
    return Verdict(claim, UNDECIDED, truth, shown, N_(
        "equal at every point; no simplification within the budget shows it symbolically"),
        len(evs))


TRUTH_CHARS = 100  # a formula in leaf names longer than this is shown as its paths, factored


def truth_text(d: Derivation, node: str) -> str:
    """∂output/∂node as a student compares it: the formula in the inputs' names when it is
    short, else the sum over paths factored as the seed writes it
    (``x1·A′(f2)·(w2[2,1]·A′(g1)·w3[1,1] + …)·∂loss/∂out``), else the chain form."""
    from . import report

    formula = d.formulas.get(node)
    text = report.show(d, formula) if formula is not None else None
    if text is not None and len(text) <= TRUTH_CHARS:
        return text
    if node in d.paths and d.path_counts.get(node, 0) > 0:
        factored = report.factored(d, node, display=True)
        if factored is not None:
            return report.show(d, factored, order="none")
    return text if text is not None else report.show(d, d.adjoints[node])


def check_claims(expl, claims: Sequence[str], samples: int = SAMPLES,
                 seed: int = 0) -> list[Verdict]:
    """Read and judge every claim about an :class:`~graphexplain.api.Explanation` (its point,
    if any, is the first sample)."""
    d = expl.derivation
    texts = [t for c in claims for t in re.split(r"[;；，]", c) if t.strip()]
    read = [read_claim(d, c) for c in texts]  # every claim read before any is judged
    at = expl.evaluation.point if expl.evaluation is not None else None
    if at is None and samples == 0:
        raise ClaimError("no point to test the claims at: give one with --at, or samples ≥ 1")
    points = sample_points(d.graph, at, samples, seed)
    evs = {id(d): evaluations(d, points)}
    if not evs[id(d)]:
        raise ClaimError("no point where every value is finite was found to test the claims "
                         "at; give one with --at")
    for c in read:
        if id(c.derivation) not in evs:
            sub = c.derivation
            evs[id(sub)] = evaluations(sub, [{n: v for n, v in p.items() if n in sub.graph}
                                             for p in points])
    return [judge(c.derivation, c, evs[id(c.derivation)]) for c in read]


# --- reports ------------------------------------------------------------------------------------


def point_text(G: nx.DiGraph, point: Mapping[str, float] | None, most: int = 10) -> str:
    """``a = 1, b = 2, c = 3``: inputs and targets first, then parameters."""
    if not point:
        return ""
    order = sorted(point, key=lambda n: G.nodes[n].get("kind") == "param" if n in G else True)
    items = [f"{label(G, n)} = {printing.number(point[n])}" for n in order]
    return ", ".join(items[:most]) + (f", … ({len(items)} values)" if len(items) > most else "")


def to_text(d: Derivation, verdicts: Sequence[Verdict]) -> str:
    """The verdicts as a student reads them (in the language of :mod:`graphexplain.i18n`)."""
    G = d.graph
    lines = []
    for v in verdicts:
        grad = f"∂{label(G, v.claim.output)}/∂{label(G, v.claim.wrt)}"
        lines.append(_("claim: {grad} = {claim}").format(grad=grad, claim=v.claim.shown))
        if v.status == CORRECT:
            lines.append(ngettext("  correct: {grad} = {truth} ({how}; and equal at {n} point)",
                                  "  correct: {grad} = {truth} ({how}; and equal at {n} points)",
                                  v.samples).format(grad=grad, truth=v.truth_shown,
                                                    how=_(v.how), n=v.samples))
            if v.claim.circular:
                lines.append(_("  note: the claim is written with {grad} itself, so it holds "
                               "whatever {grad} is").format(grad=grad))
        elif v.status == UNDECIDED:
            lines.append(_("  undecided: {how} ({n} points, to a relative {rtol}); {grad} = "
                           "{truth}").format(how=_(v.how), n=v.samples, grad=grad,
                                             rtol=printing.number(CLAIM_RTOL),
                                             truth=v.truth_shown))
        else:
            lines.extend(_wrong_lines(G, v, grad))
    held = sum(v.ok for v in verdicts)
    lines.append(ngettext("{held} of {n} claim holds.", "{held} of {n} claims hold.",
                          len(verdicts)).format(held=held, n=len(verdicts)))
    return "\n".join(lines) + "\n"


def _wrong_lines(G: nx.DiGraph, v: Verdict, grad: str) -> list[str]:
    value = printing.number(v.actual)
    truth = v.truth_shown if v.truth_shown == value else f"{v.truth_shown} = {value}"
    lines = [_("  wrong: at {point}").format(point=point_text(G, v.point)),
             _("    the claim gives {claimed}, but {grad} = {truth}").format(
                 claimed=printing.number(v.claimed), grad=grad, truth=truth)]
    if v.diagnosis is not None:
        lines.append(_("  diagnosis: {message}").format(message=v.diagnosis.message))
        lines.extend(f"    {line}" for line in v.diagnosis.details)
    return lines


def to_dict(d: Derivation, verdicts: Sequence[Verdict]) -> dict:
    """The verdicts, machine-readable (formulas in sympy syntax, names as labels)."""
    G = d.graph
    rows = []
    for v in verdicts:
        row = {"claim": v.claim.text, "output": label(G, v.claim.output),
               "wrt": label(G, v.claim.wrt), "status": v.status, "how": v.how,
               "claimed_formula": str(v.claim.expr), "formula": str(v.truth),
               "samples": v.samples}
        if v.status == WRONG:
            row.update(point={label(G, n): x for n, x in (v.point or {}).items()},
                       claimed=v.claimed, actual=v.actual,
                       diagnosis=v.diagnosis.to_dict() if v.diagnosis else None)
        rows.append(row)
    return {"schema": "graphexplain-check/1", "output": label(G, d.output), "claims": rows,
            "ok": all(v.ok for v in verdicts)}
