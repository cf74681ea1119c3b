"""Part 6 of the seed: J(a, b, c) = 3(a + bc), with u = a + v and v = bc.

The seed draws the computation graph, takes the partial on every edge, and reads each input's
gradient as the product of the partials along its path, right to left:
∂J/∂a = ∂J/∂u·∂u/∂a = 3 × 1, ∂J/∂b = 3 × 1 × c, ∂J/∂c = 3 × 1 × b. At a = 1, b = 2, c = 3
these are 3, 9 and 6; graphexplain works them out node by node and torch agrees.
"""

from pathlib import Path

import torch

import graphexplain as g
from graphexplain.i18n import _
from graphexplain.printing import number, text

TITLE = _("6. J(a,b,c) = 3(a+bc): the computation graph and backpropagation")

AT = {"a": 1.0, "b": 2.0, "c": 3.0}
SEED = {"a": "3 × 1", "b": "3 × 1 × c", "c": "3 × 1 × b"}


def explain():
    return g.explain("J(a,b,c) = 3(a+bc)", at=AT)


def torch_gradients() -> dict[str, float]:
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in AT.items()}
    J = 3 * (t["a"] + t["b"] * t["c"])
    J.backward()
    return {k: v.grad.item() for k, v in t.items()}


def main(out: Path) -> list[str]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    e = explain()
    reference = torch_gradients()
    for x, expected in reference.items():
        assert e.gradients[x]["value"] == expected, f"∂J/∂{x} disagrees with torch"
    assert e.verification.ok
    print(e.to_text())
    print(_("The seed's products along each path, and their values at {point}:").format(
        point="a = 1, b = 2, c = 3"))
    for x in AT:
        print(f"  ∂J/∂{x} = {SEED[x]} = {text(e.gradients[x]['formula'])} "
              f"= {number(e.gradients[x]['value'])}  "
              + _("(torch: {value})").format(value=number(reference[x])))
    files = [e.render(out / "part6_J_circuit.png"),
             e.render(out / "part6_J_paths_b.png", view="paths", wrt="b"),
             out / "part6_J.html"]
    files[-1].write_text(e.html(title=TITLE), encoding="utf-8")
    print(_("Verdict: ") + _("{gradients}, as the seed's products and as torch").format(
        gradients="∂J/∂a, ∂J/∂b, ∂J/∂c = " + ", ".join(number(reference[x]) for x in AT)))
    return [str(f) for f in files]


if __name__ == "__main__":
    main(Path("out"))
