"""The numerical gradient studied: the error of (f(w+h) − f(w−h))/2h against h.

What it does: for one input w of a graph, evaluates the seed's central difference for every
step h from 1e-1 down to 1e-12 (one batched forward pass), and compares each with the exact
gradient (the symbolic derivation, evaluated). Beside the measured error it gives the two
estimates that explain it:

- truncation, from Taylor's theorem: f(w±h) = f ± f′h + f″h²/2 ± f‴h³/6 + …, so the central
  difference is f′ + f‴h²/6 + O(h⁴), an error of about |f‴(w)|·h²/6 (f‴ is derived
  symbolically);
- rounding: f(w±h) are each off by about ε·|f(w)| (ε = 2⁻⁵² in float64), and dividing
  their difference by 2h makes that about ε·|f(w)|/h.

The two meet where they are equal, at h* = (3ε|f|/|f‴|)^(1/3): about 1e-5 for values of
order one. The seed's h = 1e-7 sits on the rounding side of h*, with an error near
ε/1e-7 ≈ 2e-9 relative to f: a hundred times worse than h*, and still far finer than a
gradient check needs.

What it does not do: choose the verifier's step (see :func:`graphexplain.evaluate.step_size`,
the h* of f ~ 1) or plot (``plot`` draws the table with matplotlib when asked for).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sympy

from . import printing
from .derive import Derivation
from .errors import PointError
from .evaluate import Evaluation
from .files import write_atomic
from .graph import label, symbol
from .i18n import _, with_plot_fonts
from .plan import plan_for

EPS = float(np.finfo(float).eps)
STEPS = tuple(10.0 ** -k for k in range(1, 13))  # 1e-1 … 1e-12
SEED_STEP = 1e-7


@dataclass(frozen=True)
class Row:
    """One step: the central difference, its error, and the two error estimates."""

    h: float
    up: float  # f(w + h)
    down: float  # f(w − h)
    estimate: float  # (f(w+h) − f(w−h)) / 2h
    error: float  # |estimate − exact|
    truncation: float | None  # |f‴(w)|·h²/6, when f‴ is known
    rounding: float  # ε·|f(w)|/h


@dataclass(frozen=True)
class Study:
    """The error of the numerical gradient of ``output`` with respect to ``leaf``."""

    output: str
    leaf: str
    point: dict[str, float]
    value: float  # f(w)
    exact: float  # ∂f/∂w from the derivation
    third: float | None  # f‴(w), None when the formula was too large to differentiate
    rows: list[Row]

    @property
    def best(self) -> Row:
        """The step with the smallest measured error."""
        return min(self.rows, key=lambda r: r.error)

    @property
    def crossover(self) -> float | None:
        """h* = (3ε|f|/|f‴|)^(1/3), where the truncation and rounding estimates are equal."""
        if not self.third or not self.value:
            return None
        return (3 * EPS * abs(self.value) / abs(self.third)) ** (1 / 3)

    def row(self, h: float) -> Row:
        return min(self.rows, key=lambda r: abs(math.log10(r.h) - math.log10(h)))


def study(d: Derivation, ev: Evaluation, leaf: str, steps=STEPS) -> Study:
    """Tabulate (f(w+h) − f(w−h))/2h against the exact gradient for every step in ``steps``.

    Examples
    --------
    >>> from graphexplain import explain
    >>> e = explain("f = x**3", at={"x": 2.0}, verify=False)
    >>> s = study(e.derivation, e.evaluation, "x")
    >>> s.exact, s.third, s.row(1e-3).truncation   # f′ = 3x² = 12, f‴ = 6, 6·h²/6 = h²
    (12.0, 6.0, 1e-06)
    """
    if leaf not in ev.adjoints or leaf not in d.leaves:
        raise PointError(f"--wrt '{leaf}' is not an input with a gradient "
                         f"(inputs: {', '.join(d.leaves)})")
    plan, k, w = plan_for(d.graph), plan_for(d.graph).index[d.output], ev.point[leaf]
    changes = [(leaf, w + s * h) for h in steps for s in (1, -1)]
    values = plan.forward_batch(ev.point, changes)[:, k]
    f, exact, third = ev.values[d.output], ev.adjoints[leaf], _third(d, ev, leaf)
    rows = []
    for i, h in enumerate(steps):
        up, down = float(values[2 * i]), float(values[2 * i + 1])
        with np.errstate(all="ignore"):
            estimate = (up - down) / (2 * h)
        rows.append(Row(h, up, down, estimate, abs(estimate - exact),
                        None if third is None else abs(third) * h * h / 6,
                        EPS * abs(f) / h))
    return Study(d.output, leaf, dict(ev.point), f, exact, third, rows)


def _third(d: Derivation, ev: Evaluation, leaf: str) -> float | None:
    """f‴(w): the gradient's formula (in leaf names) differentiated twice more, evaluated."""
    formula = d.formulas.get(leaf)
    if formula is None:
        return None
    x = symbol(leaf)
    third = sympy.diff(formula, x, 2)
    subs = {symbol(n): v for n, v in ev.point.items()}
    subs.update({symbol(n): d.graph.nodes[n]["value"] for n in d.graph
                 if d.graph.nodes[n]["kind"] == "const" and "value" in d.graph.nodes[n]})
    try:
        value = float(third.xreplace(subs).evalf())
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


# --- printing ------------------------------------------------------------------------------


def _power_of_ten(h: float) -> str:
    """10⁻⁷ for 1e-7 (every step of the study is a power of ten)."""
    k = round(math.log10(h))
    return "10" + printing.superscript(str(k).replace("-", "−")) if h == 10.0 ** k \
        else printing.number(h)


def _g(x: float | None, digits: int = 3) -> str:
    """A number as the course writes it (1.8×10⁻⁵), or — when unknown."""
    return "—" if x is None else printing.number(x, digits=digits)


def to_text(s: Study, G) -> str:
    """The table, and what it shows: where truncation and rounding meet, and the seed's h."""
    w, f = label(G, s.leaf), label(G, s.output)
    from .report import rjust

    error, truncation, rounding = _("error"), _("truncation"), _("rounding")
    lines = [_("The numerical gradient {difference} against the exact {gradient}, at {point}")
             .format(difference=f"({f}({w}+h) − {f}({w}−h))/2h",
                     gradient=f"∂{f}/∂{w} = {_g(s.exact, 15)}",
                     point=f"{w} = {_g(s.point[s.leaf], 6)}"),
             f"  {'h':>7}  {f + '(' + w + '+h)':>26}  {f + '(' + w + '−h)':>26}  "
             f"{'(…)/2h':>26}  {rjust(error, 10)}  {rjust(truncation, 10)}  "
             f"{rjust(rounding, 10)}"]
    for r in s.rows:
        mark = "  " + _("← least error") if r is s.best else (
            "  " + _("← the seed's h") if r.h == SEED_STEP else "")
        lines.append(f"  {_power_of_ten(r.h):>7}  {_g(r.up, 16):>26}  {_g(r.down, 16):>26}  "
                     f"{_g(r.estimate, 16):>26}  {_g(r.error):>10}  {_g(r.truncation):>10}  "
                     f"{_g(r.rounding):>10}{mark}")
    return "\n".join([*lines, "", *_conclusion(s)]) + "\n"


def _conclusion(s: Study) -> list[str]:
    """Why the error falls, then rises again, and what that says about h = 1e-7."""
    seed = s.row(SEED_STEP)
    out = [_("truncation ≈ |f‴|·h²/6 (Taylor: the h² term of the central difference); "
             "rounding ≈ ε·|f|/h (ε = 2.2×10⁻¹⁶ in float64: f(w±h) each lose about ε·|f|, and "
             "the difference is divided by 2h).")]
    if s.third != 0:
        out.append(_("Large h: truncation dominates and the error falls as h². Small h: "
                     "rounding dominates and the error grows as 1/h."))
    least = _("the least measured error, {error}, is at h = {h}.").format(
        error=_g(s.best.error, 2), h=_power_of_ten(s.best.h))
    if s.crossover is not None:
        out.append(_("They meet at h* = (3ε|f|/|f‴|)^(1/3) ≈ {h}; {least}").format(
            h=_g(s.crossover, 2), least=least))
    else:
        why = (_("f‴ = 0 here: the central difference of a polynomial of degree 2 or less is "
                 "exact, so only rounding is left, and it shrinks as h grows; {least}")
               if s.third == 0 else
               _("f‴ is unknown here (the formula is too large to differentiate); {least}"))
        out.append(why.format(least=least))
    scale = max(abs(s.exact), 1.0)
    side = (_("mostly rounding") if seed.rounding >= (seed.truncation or 0)
            else _("mostly truncation"))
    out.append(_("The seed's h = 10⁻⁷: error {error} ({relative} relative), {side}. Not the best "
                 "step, but float64's 16 digits leave room: a gradient check only needs a few "
                 "digits, so 10⁻⁷ is a safe, simple choice. In float32 (ε = 1.2×10⁻⁷) the same h "
                 "would lose every digit.").format(error=_g(seed.error, 2),
                                                   relative=_g(seed.error / scale, 1), side=side))
    return out


def to_dict(s: Study) -> dict:
    """The study as JSON-ready data (non-finite numbers as None)."""
    def num(x):
        return x if x is not None and math.isfinite(x) else None
    return {"output": s.output, "wrt": s.leaf, "value": num(s.value), "exact": num(s.exact),
            "third_derivative": num(s.third), "crossover_h": num(s.crossover),
            "best_h": s.best.h, "rows": [{k: num(v) for k, v in vars(r).items()}
                                         for r in s.rows]}


@with_plot_fonts
def plot(s: Study, path: str | Path, G=None) -> Path:
    """Error against h on log–log axes, with the two estimates and the seed's h marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hs = [r.h for r in s.rows]
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    ax.loglog(hs, [max(r.error, 1e-18) for r in s.rows], "o-", label=_("measured error"))
    if s.third:
        ax.loglog(hs, [r.truncation for r in s.rows], "--",
                  label=_("truncation {estimate}").format(estimate="|f‴|h²/6"))
    ax.loglog(hs, [r.rounding for r in s.rows], ":",
              label=_("rounding {estimate}").format(estimate="ε|f|/h"))
    floor = min(r.error for r in s.rows if r.error > 0) if any(r.error for r in s.rows) else 1e-16
    ax.set_ylim(bottom=floor / 100)
    ax.axvline(SEED_STEP, color="grey", lw=0.8)
    ax.annotate(_("the seed's h = 10⁻⁷"), (SEED_STEP, ax.get_ylim()[1]), rotation=90, va="top",
                ha="right", fontsize=8, color="grey")
    w, f = (label(G, s.leaf), label(G, s.output)) if G is not None else (s.leaf, s.output)
    ax.set(xlabel="h", ylabel=f"|({f}({w}+h) − {f}({w}−h))/2h − ∂{f}/∂{w}|",
           title=_("The central difference of {d}: its error against h").format(
               d=f"∂{f}/∂{w}"))
    ax.legend(fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format=Path(path).suffix.lstrip(".") or "png")
    plt.close(fig)
    return write_atomic(path, buffer.getvalue())
