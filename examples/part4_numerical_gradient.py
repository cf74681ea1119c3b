"""Part 4 of the seed: the numerical gradient,
∇w = (f(w + 0.0000001) − f(w − 0.0000001)) / (2 × 0.0000001),
against the symbolic gradient (backpropagation) and torch.autograd, and how its error depends
on h (the h study: truncation falls as h², rounding grows as 1/h).

f is one neuron with a sigmoid and the cross-entropy loss (examples/logistic.txt), as a
function of its weight w.
"""

import math
from pathlib import Path

import torch

import graphexplain as g
from graphexplain import fd_study
from graphexplain.i18n import _
from graphexplain.printing import number, text

TITLE = _("4. The numerical gradient (f(w+h) − f(w−h))/2h at the seed's h = 10⁻⁷")

H = 1e-7  # the seed's step, 0.0000001
POINT = {"w": 1.2, "x": 2.0, "b": -1.0, "y": 1.0}
PROGRAM = (Path(__file__).resolve().parent / "logistic.txt").read_text(encoding="utf-8")


def f(w: float, x=POINT["x"], b=POINT["b"], y=POINT["y"]) -> float:
    """The loss as plain float64 arithmetic, for the seed's formula."""
    p = 1 / (1 + math.exp(-(w * x + b)))
    return -(y * math.log(p) + (1 - y) * math.log(1 - p))


def seed_gradient(w: float = POINT["w"], h: float = H) -> float:
    return (f(w + h) - f(w - h)) / (2 * h)


def torch_gradient() -> float:
    w = torch.tensor(POINT["w"], dtype=torch.float64, requires_grad=True)
    p = torch.sigmoid(w * POINT["x"] + POINT["b"])
    loss = -(POINT["y"] * torch.log(p) + (1 - POINT["y"]) * torch.log(1 - p))
    loss.backward()
    return w.grad.item()


def explain():
    return g.explain(PROGRAM, at=POINT, consts=["x", "y"], h=H)


def main(out: Path) -> list[str]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    e = explain()
    exact, numeric, autograd = e.gradients["w"]["value"], seed_gradient(), torch_gradient()
    assert abs(exact - autograd) < 1e-12, "the symbolic gradient disagrees with torch"
    assert abs(numeric - exact) < 1e-6 * max(1, abs(exact)), "h = 1e-7 is too far off"
    assert e.verification.ok
    print(_("f(w) = L(w) for the neuron {neuron}, at {point}").format(
        neuron="z = w·x + b, p = σ(z), L = −(y·ln p + (1 − y)·ln(1 − p))",
        point=f"w = {number(POINT['w'])}, x = {number(POINT['x'])}, b = {number(POINT['b'])}, "
              f"y = {number(POINT['y'])}"))
    form = e.teaching_forms.get("w")
    form = e.gradients["w"]["formula"] if form is None else form
    print("  " + _("symbolic (backprop): {gradient}").format(
        gradient=f"∂L/∂w = {text(form)} = {number(exact, digits=16)}"))
    print(f"  torch.autograd (float64):   {number(autograd, digits=16)}")
    print("  " + _("the seed's {difference}").format(
        difference=f"(f(w + 10⁻⁷) − f(w − 10⁻⁷))/(2·10⁻⁷) = "
                   f"({number(f(POINT['w'] + H), digits=16)} − "
                   f"{number(f(POINT['w'] - H), digits=16)})/(2·10⁻⁷)"
                   f" = {number(numeric, digits=16)}"))
    print("  " + _("error of the numerical gradient: {error} (about {digits} of float64's 16 "
                   "digits are right)").format(
        error=number(abs(numeric - exact)),
        digits=int(-math.log10(abs(numeric - exact) / abs(exact)))))
    print("  " + (_("Step 2 of the seed, w ← w − α·∇w: ∇w < 0 moves w up, ∇w > 0 moves it down; "
                    "here ∇w = {g} < 0: w grows.") if exact < 0 else
                  _("Step 2 of the seed, w ← w − α·∇w: ∇w < 0 moves w up, ∇w > 0 moves it down; "
                    "here ∇w = {g} > 0: w shrinks.")).format(g=number(exact)))
    s = fd_study.study(e.derivation, e.evaluation, "w")
    print()
    print(fd_study.to_text(s, e.graph))
    assert s.row(H).error < 1e-6
    files = [fd_study.plot(s, out / "part4_error_against_h.png", e.graph),
             e.render(out / "part4_logistic.png")]
    files.append(out / "part4_logistic.html")
    files[-1].write_text(e.html(title=_("One neuron with the cross-entropy")), encoding="utf-8")
    print(_("Verdict: ") + _("at h = 10⁻⁷ the numerical gradient is off by {error}; "
                                  "backprop and torch agree exactly").format(
        error=number(abs(numeric - exact))))
    return [str(p) for p in files]


if __name__ == "__main__":
    main(Path("out"))
