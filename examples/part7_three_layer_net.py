"""Part 7 of the seed: the 3-layer network (2-2-2-1, activation A = σ, no biases) and
∂loss/∂w1[1,2], the weight from input neuron 1 to hidden neuron 2.

The seed writes
∂loss/∂w1[1,2] = x1·A′(f2)·(w2[2,1]·A′(g1)·w3[1,1] + w2[2,2]·A′(g2)·w3[2,1])·∇out,
∇out = ∂loss/∂out: two paths, through g1 and through g2, factored where they meet. This
script reproduces it with graphexplain's network builder, evaluates the seed's formula with
the network's numbers, and checks it against torch. The seed also writes
f2 = w1[1,2]x2 + w1[2,2]x2; the first term must be w1[1,2]·x1, or its formula would start
with x2.
"""

from pathlib import Path

import torch

import graphexplain as g
from graphexplain.i18n import _
from graphexplain.nn.mlp import MLPSpec
from graphexplain.printing import number, text

TITLE = _("7. The 3-layer network's ∂loss/∂w1[1,2], and the seed's f2 slip")

SEED_NET = """
f1 = w1[1,1]·x1 + w1[2,1]·x2
f2 = w1[1,2]·x2 + w1[2,2]·x2
g1 = w2[1,1]·σ(f1) + w2[2,1]·σ(f2)
g2 = w2[1,2]·σ(f1) + w2[2,2]·σ(f2)
out = w3[1,1]·σ(g1) + w3[2,1]·σ(g2)
loss = (out − y1)²
"""  # the seed's network as it writes it: f2 with x2 twice


def explain():
    return g.explain_mlp(MLPSpec((2, 2, 2, 1), bias=False))


def seed_formula(e) -> float:
    """x1·A′(f2)·(w2[2,1]·A′(g1)·w3[1,1] + w2[2,2]·A′(g2)·w3[2,1])·∇out, A′ = A·(1 − A)."""
    v = e.evaluation.values
    d = lambda a: v[a] * (1 - v[a])  # noqa: E731 (σ′ from σ)
    return (v["x1"] * d("A_f2") * (v["w2_2_1"] * d("A_g1") * v["w3_1_1"]
                                   + v["w2_2_2"] * d("A_g2") * v["w3_2_1"])
            * e.evaluation.adjoints["out"])


def torch_gradient(point: dict[str, float]) -> float:
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in point.items()}
    s = torch.sigmoid
    f1 = t["w1_1_1"] * t["x1"] + t["w1_2_1"] * t["x2"]
    f2 = t["w1_1_2"] * t["x1"] + t["w1_2_2"] * t["x2"]
    g1 = t["w2_1_1"] * s(f1) + t["w2_2_1"] * s(f2)
    g2 = t["w2_1_2"] * s(f1) + t["w2_2_2"] * s(f2)
    out = t["w3_1_1"] * s(g1) + t["w3_2_1"] * s(g2)
    ((out - t["y1"]) ** 2).backward()
    return t["w1_1_2"].grad.item()


def main(out: Path) -> list[str]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    e = explain()
    point = e.evaluation.point
    ours, seeds, theirs = e.gradients["w1_1_2"]["value"], seed_formula(e), torch_gradient(point)
    assert abs(ours - theirs) < 1e-12, "∂loss/∂w1[1,2] disagrees with torch"
    assert abs(seeds - theirs) < 1e-12, "the seed's formula disagrees with torch"
    assert e.derivation.path_counts["w1_1_2"] == 2 and e.verification.ok
    labels = {n: d["label"] for n, d in e.graph.nodes(data=True)}
    print(_("The seed's network: {network},").format(
        network="x1, x2 → f1, f2 → g1, g2 → out, A = σ, loss = (out − y1)²"))
    print(_("wn[i,j] from neuron i of layer n to neuron j of layer n + 1."))
    print(_("graphexplain's ∂loss/∂w1[1,2], factored where its 2 paths meet:"))
    print("  " + text(e.gradients["w1_1_2"]["factored"], labels))
    print(_("the seed's:") + "  x1·A′(f2)·(w2[2,1]·A′(g1)·w3[1,1] + w2[2,2]·A′(g2)·w3[2,1])·∇out")
    numbers = _("{seed} with the network's numbers; graphexplain {ours}; torch {theirs}")
    print("  = " + numbers.format(
        seed=number(seeds, digits=12), ours=number(ours, digits=12),
        theirs=number(theirs, digits=12)))
    print()
    print(_("The f2 slip: the seed writes f2 = w1[1,2]x2 + w1[2,2]x2. w1[1,2] runs from x1 to f2,"))
    print(_("so f2 = w1[1,2]·x1 + w1[2,2]·x2, and that x1 is why the formula starts with x1."))
    written = g.explain(SEED_NET, at=point, consts=["y1"])
    notes = [n for n in written.notes if n.code == "weight-input"]
    assert notes, "the lint should flag w1[1,2]·x2"
    for n in notes:
        print("  " + _("note ({code}): {message}").format(code=n.code, message=n.message))
    slip = written.gradients["w1_1_2"]["value"]
    print("  " + _("As written, ∂loss/∂w1[1,2] would start with x2 instead: {slip} instead of "
                   "{right} ({point}).").format(
        slip=number(slip), right=number(theirs),
        point=f"x1 = {number(point['x1'])}, x2 = {number(point['x2'])}"))
    print()
    print(e.to_text())
    files = [e.render(out / "part7_network_paths.png", view="paths", wrt="w1_1_2"),
             out / "part7_network.html"]
    files[-1].write_text(e.html(title=TITLE), encoding="utf-8")
    print(_("Verdict: ") + _("the seed's formula, graphexplain and torch give "
                                  "∂loss/∂w1[1,2] = {value} (2 paths); the f2 slip is flagged")
          .format(value=number(theirs)))
    return [str(f) for f in files]


if __name__ == "__main__":
    main(Path("out"))
