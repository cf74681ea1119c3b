"""Part 8 of the seed: requires_grad, torch.no_grad() and backward().

The seed's snippet: x = torch.randn(2,2, requires_grad=True); var1 = x + 2;
var2 = var1*var1*3; out = var2.mean(); out.backward(); x.grad. Here out = (1/4)·Σ 3(x + 2)²,
so ∂out/∂x[i,j] = 1.5·(x[i,j] + 2). Then the same snippet with one value, c = var1·10,
computed under torch.no_grad() (examples/seed_no_grad.py): c is not recorded, so no gradient
flows through it, and x.grad is unchanged; without no_grad it adds 10/4 = 2.5 to each. Last,
the seed's remark that a vector output needs an argument to backward(): backward(gradient=v)
is Jᵀv (examples/seed_vector_backward.py).
"""

from pathlib import Path

import torch

from graphexplain.i18n import _
from graphexplain.nn.torch import explain_file
from graphexplain.printing import number
from graphexplain.report import ljust

TITLE = _("8. requires_grad, no_grad and backward(): the seed's autograd snippet")

EXAMPLES = Path(__file__).resolve().parent


def explain(name: str, file: str = "seed_no_grad.py"):
    return explain_file(f"{EXAMPLES / file}:{name}")


def tracking():
    """What autograd records: each tensor's requires_grad and grad_fn, in float64."""
    x = torch.randn(2, 2, requires_grad=True, generator=torch.Generator().manual_seed(0),
                    dtype=torch.float64)
    var1 = x + 2
    with torch.no_grad():
        c = var1 * 10
    var2 = var1 * var1 * 3 + c
    out = var2.mean()
    out.backward()
    rows = [(n, t.requires_grad, type(t.grad_fn).__name__ if t.grad_fn else None)
            for n, t in (("x", x), ("var1", var1), ("c (under no_grad)", c),
                         ("var2", var2), ("out", out))]
    return rows, x, c


def main(out: Path) -> list[str]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows, x, c = tracking()
    print(_("Which tensors autograd tracks (requires_grad, and the operation it recorded):"))
    for name, rg, fn in rows:
        none = _("none (a leaf you made)") if name == "x" else _("none (nothing recorded)")
        shown = _("c (under no_grad)") if name == "c (under no_grad)" else name
        print(f"  {ljust(shown, 18)} requires_grad = {rg!s:<5}  grad_fn = {fn or none}")
    assert dict((n, rg) for n, rg, _fn in rows) == {
        "x": True, "var1": True, "c (under no_grad)": False, "var2": True, "out": True}
    assert c.grad_fn is None, "no_grad recorded an operation"
    expected = 1.5 * (x.detach() + 2)
    assert torch.allclose(x.grad, expected, rtol=0, atol=1e-12), "x.grad ≠ 1.5·(x + 2)"
    print("  " + _("x is a leaf: it has no grad_fn, and backward() stores ∂out/∂x in x.grad."))
    print("  " + _("Under torch.no_grad(), c = var1·10 has requires_grad = False and no grad_fn: "
                   "nothing is recorded, so backward() treats c as a constant."))
    print("  out.backward(): x.grad = 1.5·(x + 2) = "
          + ", ".join(number(v) for v in x.grad.flatten().tolist()))
    print()
    seed = explain("snippet", "seed_autograd.py")
    cut, tracked = explain("snippet"), explain("tracked")
    for e in (seed, cut, tracked):
        assert e.verification.ok, "graphexplain disagrees with torch"
    x00 = seed.evaluation.point["x_0_0"]
    assert abs(seed.gradients["x_0_0"]["value"] - 1.5 * (x00 + 2)) < 1e-12
    assert abs(cut.gradients["x_0_0"]["value"] - 1.5 * (x00 + 2)) < 1e-12
    assert abs(tracked.gradients["x_0_0"]["value"] - (1.5 * (x00 + 2) + 2.5)) < 1e-12
    assert cut.cuts, "the no_grad cut should be reported"
    print(_("The seed's snippet ({file}), explained:").format(
        file="examples/seed_autograd.py:snippet"))
    print(seed.to_text())
    print(_("{d} at {point}: the seed's snippet {seed}; with c under no_grad {cut} (the same: "
            "c is cut, {constants} constants); with c tracked {tracked} (+ 10/4).").format(
        d="∂out/∂x[0,0]", point=f"x[0,0] = {number(x00)}",
        seed=number(seed.gradients["x_0_0"]["value"]),
        cut=number(cut.gradients["x_0_0"]["value"]),
        constants=", ".join(cut.cuts[0]["labels"]),
        tracked=number(tracked.gradients["x_0_0"]["value"])))
    print()
    vector = explain("double", "seed_vector_backward.py")
    assert vector.verification.ok
    v = vector.traced.gradient.flatten().tolist()
    xs = sorted(x for x in vector.gradients if x.startswith("x_"))
    got = [vector.gradients[x]["value"] for x in xs]
    assert all(abs(g - 2 * vi) < 1e-12 for g, vi in zip(got, v, strict=True)), "Jᵀv ≠ 2·v"
    print(_("The seed: when the output is a vector, backward() needs an argument ({example}).")
          .format(example="examples/seed_vector_backward.py: out = 2·x, "
                          "out.backward(gradient=v)"))
    print("  " + _("backward(gradient=v) computes Jᵀv; here J = 2·I, so x.grad = 2·v:") + " v = "
          + ", ".join(number(vi) for vi in v) + "  →  x.grad = "
          + ", ".join(number(gi) for gi in got))
    files = [seed.render(out / "part8_snippet.png"), cut.render(out / "part8_no_grad.png")]
    for name, e in (("part8_snippet.html", seed), ("part8_no_grad.html", cut)):
        (out / name).write_text(e.html(title=TITLE), encoding="utf-8")
        files.append(out / name)
    print(_("Verdict: ") + _("x.grad = 1.5·(x + 2) as torch; nothing is recorded under "
                                  "no_grad (c has no grad_fn; the gradient is unchanged)"))
    return [str(f) for f in files]


if __name__ == "__main__":
    main(Path("out"))
