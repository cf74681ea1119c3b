"""Part 1 of the seed: a layer's forward pass, a⁽¹⁾ = σ(W·a⁽⁰⁾ + b).

The seed writes one neuron in scalar form, a₀⁽¹⁾ = σ(w₀,₀a₀⁽⁰⁾ + w₀,₁a₁⁽⁰⁾ + … + w₀,ₙaₙ⁽⁰⁾ + b₀),
and the whole layer in matrix form: row j of W holds the weights w_{j,i} into neuron j.
This script does both, for n + 1 = 3 inputs and k + 1 = 2 neurons, explains neuron 0 with
graphexplain and checks the numbers against torch (float64).
"""

from pathlib import Path

import numpy as np
import torch

import graphexplain as g
from graphexplain.i18n import _
from graphexplain.printing import number

TITLE = _("1. A layer's forward pass: σ(W·a⁽⁰⁾ + b)")

W = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]])  # W[j, i] = w_{j,i}: from input i to neuron j
A0 = np.array([1.0, 2.0, 0.5])                        # a⁽⁰⁾, the input
B = np.array([0.1, -0.3])                             # b


def neuron(j: int = 0):
    """Neuron j in the seed's scalar form, explained at the values above."""
    terms = " + ".join(f"w[{j},{i}]·a{i}" for i in range(len(A0)))
    at = {f"w[{j},{i}]": W[j, i] for i in range(len(A0))}
    at |= {f"a{i}": A0[i] for i in range(len(A0))} | {f"b{j}": B[j]}
    return g.explain(f"a = σ({terms} + b{j})", at=at, consts=[f"a{i}" for i in range(len(A0))])


def torch_layer():
    """The layer in torch: z = W·a⁽⁰⁾ + b, a⁽¹⁾ = σ(z), and ∂a₀⁽¹⁾/∂W, ∂a₀⁽¹⁾/∂b."""
    Wt = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(B, dtype=torch.float64, requires_grad=True)
    a1 = torch.sigmoid(Wt @ torch.tensor(A0, dtype=torch.float64) + bt)
    a1[0].backward()
    return a1.detach().numpy(), Wt.grad.numpy(), bt.grad.numpy()


def _matrix(m) -> str:
    rows = np.atleast_2d(m)
    return "[" + "; ".join("  ".join(number(v) for v in r) for r in rows) + "]"


def main(out: Path) -> list[str]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    a1, dW, db = torch_layer()
    z = W @ A0 + B
    print(_("Matrix form (the seed's): {layer}, row j into neuron j").format(
        layer="a⁽¹⁾ = σ(W·a⁽⁰⁾ + b), W[j,i] = w_{j,i}"))
    print(f"  W = {_matrix(W)},  a⁽⁰⁾ = {_matrix(A0)}ᵀ,  b = {_matrix(B)}ᵀ")
    print(f"  z = W·a⁽⁰⁾ + b = {_matrix(z)}ᵀ,  a⁽¹⁾ = σ(z) = {_matrix(a1)}ᵀ")
    for j in range(len(B)):
        terms = " + ".join(f"w{j},{i}·a{i}⁽⁰⁾" for i in range(len(A0)))
        nums = " + ".join(f"{number(W[j, i])}·{number(A0[i])}" for i in range(len(A0)))
        print(_("Scalar form: {neuron}").format(
            neuron=f"a{j}⁽¹⁾ = σ({terms} + b{j}) = σ({nums} + {number(B[j])}) "
                   f"= σ({number(z[j])}) = {number(a1[j])}"))
    e = neuron(0)
    assert abs(e.evaluation.values[e.output] - a1[0]) < 1e-12, "a₀⁽¹⁾ disagrees with torch"
    for i in range(len(A0)):
        assert abs(e.gradients[f"w_0_{i}"]["value"] - dW[0, i]) < 1e-12
    assert abs(e.gradients["b0"]["value"] - db[0]) < 1e-12
    assert e.verification.ok
    print("\n" + _("Neuron 0, explained (a = a₀⁽¹⁾; its gradient is σ(z)·(1 − σ(z))·a_i "
                   "for w₀,ᵢ):"))
    print(e.to_text())
    files = [e.render(out / "part1_layer.png"), out / "part1_layer.html"]
    files[1].write_text(e.html(title=TITLE), encoding="utf-8")
    print(_("Verdict: ") + _("{a} and ∂a₀⁽¹⁾/∂w₀,ᵢ, ∂a₀⁽¹⁾/∂b₀ agree with torch").format(
        a=f"a⁽¹⁾ = {_matrix(a1)}ᵀ"))
    return [str(f) for f in files]


if __name__ == "__main__":
    main(Path("out"))
