"""Part 2 of the seed: the activation functions sigmoid (0,1), tanh (−1,1), relu max(0,x)
and ELU α(eˣ − 1).

For each: its formula and derivative as graphexplain derives them, its range, and a plot of
the function beside its derivative. The derivative curves are torch's own (autograd in
float64), so a kink is drawn as torch treats it: relu′(0) = 0. graphexplain's derivative is
checked against torch at several points, the kink included.
"""

from pathlib import Path

import numpy as np
import torch

import graphexplain as g
from graphexplain.i18n import _, with_plot_fonts
from graphexplain.printing import number, text

TITLE = _("2. Activation functions: sigmoid, tanh, relu, ELU")

# name → (graphexplain's function, torch's function, the range, as the seed writes it)
ACTIVATIONS = {
    "sigmoid": ("σ(x)", torch.sigmoid, "(0, 1)", "sigmoid:(0,1)"),
    "tanh": ("tanh(x)", torch.tanh, "(−1, 1)", "tanh:(-1,1)"),
    "relu": ("relu(x)", torch.relu, "[0, ∞)", "relu:max(0,x)"),
    "elu": ("elu(x)", torch.nn.functional.elu, "(−α, ∞), α = 1", "ELU:a(e^x-1)"),
}
POINTS = (-2.0, -0.5, 0.0, 0.5, 2.0)  # 0 is relu's kink
BOUNDS = {"sigmoid": (0, 1), "tanh": (-1, 1), "relu": (0, np.inf), "elu": (-1, np.inf)}


def curves(name: str, xs=None):
    """(x, f(x), f′(x)) from torch autograd in float64; x includes 0 exactly."""
    xs = np.linspace(-4, 4, 801) if xs is None else np.asarray(xs, dtype=float)
    x = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    y = ACTIVATIONS[name][1](x)
    y.sum().backward()
    return xs, y.detach().numpy(), x.grad.numpy()


@with_plot_fonts
def _plot(name: str, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs, f, df = curves(name)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 3), dpi=100)
    ax1.plot(xs, f, color="C0")
    ax1.set_title(f"{ACTIVATIONS[name][0]}, "
                  + _("range {range}").format(range=ACTIVATIONS[name][2]))
    ax2.plot(xs, df, color="C3")
    ax2.set_title(_("its derivative (torch autograd)"))
    lo, hi = BOUNDS[name]
    for b in (lo, hi):
        if np.isfinite(b):
            ax1.axhline(b, color="grey", ls=":", lw=0.8)
    if name == "relu":  # the kink: torch takes relu′(0) = 0
        ax2.plot([0], [0], "o", color="C3")
        ax2.plot([0], [1], "o", mfc="white", color="C3")
        ax2.annotate(_("relu′(0) = 0, as torch"), (0, 0), (0.4, 0.3), fontsize=8)
    for ax in (ax1, ax2):
        ax.axvline(0, color="grey", lw=0.5)
        ax.grid(alpha=0.3)
        ax.set_xlabel("x")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def explain_at(name: str, x: float):
    return g.explain(f"f = {ACTIVATIONS[name][0]}", at={"x": x})


def main(out: Path) -> list[str]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for name, (formula, _torch_f, rng, seed) in ACTIVATIONS.items():
        xs, f, df = curves(name, POINTS)
        derivative = None
        for x, fx, dfx in zip(xs, f, df):
            e = explain_at(name, float(x))
            derivative = e.gradients["x"]["formula"]
            assert abs(e.evaluation.values["f"] - fx) < 1e-12, f"{name}({x}) disagrees with torch"
            assert abs(e.gradients["x"]["value"] - dfx) < 1e-12, f"{name}′({x}) disagrees"
            assert e.verification.ok is not False
        _xs, fs, _dfs = curves(name)
        lo, hi = BOUNDS[name]
        assert lo <= fs.min() and fs.max() <= hi, f"{name} leaves its range"
        print(_("{name} (the seed: {seed})").format(name=name, seed=seed))
        print(f"  f(x) = {formula}    f′(x) = {text(derivative)}    "
              + _("range {range}").format(range=rng))
        print("  " + _("at x = {xs}:  f′ = {values}  (graphexplain = torch)").format(
            xs=", ".join(number(x) for x in xs), values=", ".join(number(d) for d in df)))
        files.append(_plot(name, out / f"part2_{name}.png"))
    assert curves("relu", [0.0])[2][0] == 0.0
    print(_("Kinks follow torch: relu′(0) = 0 (the derivative is 1 for x > 0, else 0)."))
    print(_("The seed gives tanh and sigmoid as ranges, relu and ELU as formulas; "
            "ELU is α(eˣ − 1) for x ≤ 0 and x for x > 0, with α = 1 here."))
    print(_("Verdict: ") + _("4 activations and their derivatives agree with torch at "
                                  "{n} points each (relu′(0) = 0)").format(n=len(POINTS)))
    return [str(f) for f in files]


if __name__ == "__main__":
    main(Path("out"))
