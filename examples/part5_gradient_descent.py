"""Part 5 of the seed: gradient descent on y = 3x + 0.8.

The seed's loop: 50 samples x ~ U(0, 1), y = 3x + 0.8, w ~ U(0, 1), b = 0, learning rate
0.01, 2000 steps, loss = mean((y − (x·w + b))²); its Lr section uses lr = 1e-3 and 100 steps.
Three loops run side by side from the same start, in float64:

1. graphexplain: w ← w − α·∂L/∂w with the symbolic gradient of the explained graph;
2. the seed's torch loop with ``.grad`` and ``.data`` (with w.grad zeroed, as intended);
3. ``nn.Linear`` + ``nn.MSELoss`` + ``optim.SGD``.

Their trajectories (loss, w, b at every step) agree to 1e-12. Then the seed's loop exactly as
written, zeroing ``w.data`` instead of ``w.grad``, next to the fixed one.
"""

from pathlib import Path

import numpy as np
import torch
from torch import nn, optim

import graphexplain as g
from graphexplain import lints, train
from graphexplain.i18n import _, with_plot_fonts
from graphexplain.printing import number
from graphexplain.report import cells, ljust

TITLE = _("5. Gradient descent on y = 3x + 0.8: three loops, and the seed's w.data slip")

N, LR, STEPS = 50, 0.01, 2000      # the seed's loop: x = torch.rand([50,1]), lr 0.01, 2000 steps
LR_MODULE, STEPS_MODULE = 1e-3, 100  # the seed's Lr section: optim.SGD(lr=1e-3), 100 steps
LR_GOOD, STEPS_GOOD = 0.5, 500       # converge (stable below 2/λₘₐₓ ≈ 0.8)
TOL = 1e-3                           # converged: |w − 3| and |b − 0.8| below this


def data(seed: int = 0):
    """The seed's data and start, in float64: x, y (N×1), w₀ ~ U(0, 1), b₀ = 0."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand([N, 1], generator=gen, dtype=torch.float64)
    y = x * 3 + 0.8
    w0 = torch.rand([1, 1], generator=gen, dtype=torch.float64).item()
    return x, y, w0, 0.0


def program(x, y):
    """L = (1/N)·Σᵢ (w·xᵢ + b − yᵢ)², the xᵢ and yᵢ constants."""
    terms = " + ".join(f"(w*x{i} + b - y{i})^2" for i in range(1, len(x) + 1))
    point = {f"x{i}": float(x[i - 1, 0]) for i in range(1, len(x) + 1)}
    point |= {f"y{i}": float(y[i - 1, 0]) for i in range(1, len(x) + 1)}
    return f"L = ({terms})/{len(x)}", point


def graphexplain_loop(x, y, w0, b0, lr, steps):
    text, point = program(x, y)
    e = g.explain(text, consts=list(point), verify=False)
    t = train.sgd(e.graph, e.output, point | {"w": w0, "b": b0}, lr, steps, every=1)
    return np.array([(loss, p["w"], p["b"]) for _, loss, p in t.rows]), e, t, point


def seed_loop(x, y, w0, b0, lr, steps, as_written=False):
    """The seed's loop; ``as_written`` zeroes w.data and b.data (the slip) instead of the grads.
    Returns rows (loss, w, b) before each step and after the last, and each step's w.grad."""
    w = torch.tensor([[w0]], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(b0, dtype=torch.float64, requires_grad=True)
    rows, grads = [], []
    for _step in range(steps):
        y_predict = torch.matmul(x, w) + b
        loss = (y - y_predict).pow(2).mean()
        rows.append((loss.item(), w.item(), b.item()))
        for p in (w, b):
            if p.grad is not None:
                (p.data if as_written else p.grad).zero_()
        loss.backward()
        grads.append(w.grad.item())
        w.data = w.data - lr * w.grad
        b.data = b.data - lr * b.grad
    rows.append((((y - (torch.matmul(x, w) + b)) ** 2).mean().item(), w.item(), b.item()))
    return np.array(rows), np.array(grads)


def module_loop(x, y, w0, b0, lr, steps):
    model = nn.Linear(1, 1).double()
    with torch.no_grad():
        model.weight.fill_(w0)
        model.bias.fill_(b0)
    criterion, optimizer = nn.MSELoss(), optim.SGD(model.parameters(), lr=lr)
    rows = []
    for _step in range(steps):
        loss = criterion(model(x), y)
        rows.append((loss.item(), model.weight.item(), model.bias.item()))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    rows.append((criterion(model(x), y).item(), model.weight.item(), model.bias.item()))
    return np.array(rows)


def hessian_eigenvalues(x) -> np.ndarray:
    """The curvatures of L(w, b): the eigenvalues of 2·[[mean x², mean x], [mean x, 1]]."""
    xs = x.numpy().ravel()
    return np.linalg.eigvalsh(2 * np.array([[np.mean(xs ** 2), np.mean(xs)], [np.mean(xs), 1.0]]))


def max_relative(a, b) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))))


def converged(row) -> bool:
    return abs(row[1] - 3) < TOL and abs(row[2] - 0.8) < TOL


def _describe(name, row):
    state = _("converged") if converged(row) else _("NOT converged")
    return "  " + _("{name}: {values}  → {state} (the answer is w = 3, b = 0.8)").format(
        name=name, state=state,
        values=f"w = {number(row[1])}, b = {number(row[2])}, loss = {number(row[0])}")


@with_plot_fonts
def _plots(out, x, y, runs, seed_rows, broken_rows):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    fig, ax = plt.subplots(figsize=(6.4, 4), dpi=100)
    for (label, rows), style in zip(runs.items(), ("-", "--", ":", "-", "-")):
        ax.semilogy(rows[:, 0], style, label=label)
    ax.set(xlabel=_("step"), ylabel=_("loss (MSE)"), title=_("Loss curves, from the same start"))
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "part5_loss_curves.png")
    plt.close(fig)
    files.append(out / "part5_loss_curves.png")

    fig, ax = plt.subplots(figsize=(6.4, 4), dpi=100)
    xs = np.array([0.0, 1.0])
    ax.scatter(x.numpy().ravel(), y.numpy().ravel(), s=12, c="r",
               label=_("data {line}").format(line="y = 3x + 0.8"))
    for label, rows in runs.items():
        if "graphexplain" in label or f"lr = {LR_GOOD}" in label or "1e-3" in label:
            w, b = rows[-1, 1], rows[-1, 2]
            ax.plot(xs, w * xs + b, label=f"{label}: y = {w:.3f}x + {b:.3f}")
    ax.set(xlabel="x", ylabel="y", title=_("The fitted lines"))
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "part5_fitted_line.png")
    plt.close(fig)
    files.append(out / "part5_fitted_line.png")

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.5), dpi=100)
    a1.plot(seed_rows[:60, 1], label=_("w, fixed (w.grad.zero_())"))
    a1.plot(broken_rows[:60, 1], "--", label=_("w, as written (w.data.zero_())"))
    a1.set(xlabel=_("step"), title=_("w over the first 60 steps"))
    a1.legend(fontsize=7)
    a2.semilogy(seed_rows[:, 0], label=_("fixed"))
    a2.semilogy(broken_rows[:, 0], "--", label=_("as written"))
    a2.set(xlabel=_("step"), title=_("loss"))
    a2.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "part5_wdata_slip.png")
    plt.close(fig)
    files.append(out / "part5_wdata_slip.png")
    return files


def main(out: Path) -> list[str]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    x, y, w0, b0 = data()
    ge, e, t, _point = graphexplain_loop(x, y, w0, b0, LR, STEPS)
    seed_rows, _grads = seed_loop(x, y, w0, b0, LR, STEPS)
    mod = module_loop(x, y, w0, b0, LR, STEPS)
    d1, d2 = max_relative(ge, seed_rows), max_relative(ge, mod)
    assert d1 <= 1e-12 and d2 <= 1e-12, f"the trajectories differ: {d1}, {d2}"
    print(_("Data: {n} samples x ~ U(0,1), y = 3x + 0.8; start {start} (float64). {loss},").format(
        n=N, start=f"w₀ = {number(w0)}, b₀ = 0", loss=f"L = (1/{N})·Σᵢ (w·xᵢ + b − yᵢ)²"))
    print(f"  ∂L/∂w = (2/{N})·Σᵢ (w·xᵢ + b − yᵢ)·xᵢ,  ∂L/∂b = (2/{N})·Σᵢ (w·xᵢ + b − yᵢ).")
    print(_("The seed's settings: lr = {lr}, {steps} steps. Three loops from the same start:")
          .format(lr=LR, steps=STEPS))
    print(_describe(_("graphexplain (symbolic gradient)"), ge[-1]))
    print(_describe(_("the seed's torch loop (.grad, .data)"), seed_rows[-1]))
    print(_describe("nn.Linear + MSELoss + optim.SGD", mod[-1]))
    print("  " + _("the three trajectories (loss, w, b at all {n} points) agree: largest relative "
                   "difference {d} ≤ 10⁻¹²").format(n=STEPS + 1, d=number(max(d1, d2))))
    for n in lints.not_converged(e.graph, e.output, t):
        print("  " + _("note ({code}): {message}").format(code=n.code, message=n.message))
    module_rows = module_loop(x, y, w0, b0, LR_MODULE, STEPS_MODULE)
    print(_("The seed's Lr section: lr = {lr}, {steps} steps:").format(lr=f"{LR_MODULE:g}",
                                                                      steps=STEPS_MODULE))
    print(_describe("nn.Linear + optim.SGD", module_rows[-1]))
    good, _rows, _t_good, _point = graphexplain_loop(x, y, w0, b0, LR_GOOD, STEPS_GOOD)
    good_torch = module_loop(x, y, w0, b0, LR_GOOD, STEPS_GOOD)
    assert max_relative(good, good_torch) <= 1e-12
    assert converged(good[-1]), f"lr = {LR_GOOD} should converge"
    lam = hessian_eigenvalues(x)
    print(_("Why: the loss is a quadratic bowl whose curvatures (the Hessian's eigenvalues) are "
            "λ = {l0} and {l1}. Along each, the error shrinks by a factor |1 − lr·λ| per step: "
            "with lr = {lr} the flat direction keeps {keep} of it per step, {left} after {steps} "
            "steps. Any lr below 2/λₘₐₓ = {limit} is stable.").format(
        l0=number(lam[0]), l1=number(lam[1]), lr=LR, keep=number(1 - LR * lam[0]),
        left=number((1 - LR * lam[0]) ** STEPS), steps=STEPS, limit=number(2 / lam[1])))
    print(_("Settings that converge: lr = {lr}, {steps} steps (the flat direction keeps {keep} "
            "per step):").format(lr=LR_GOOD, steps=STEPS_GOOD, keep=number(1 - LR_GOOD * lam[0])))
    print(_describe("graphexplain = torch", good[-1]))

    broken, broken_grads = seed_loop(x, y, w0, b0, LR, STEPS, as_written=True)
    fixed, fixed_grads = seed_loop(x, y, w0, b0, LR, STEPS)
    print()
    print(_("The seed's loop exactly as written zeroes w.data (the weight) instead of w.grad:"))
    heads = [_("step"), _("w before (written)"), _("w.grad (written, accumulated)"),
             _("w before (fixed)"), _("w.grad (fixed)")]
    # the English columns; a longer (Chinese) heading widens its column
    head_widths = [max(w, cells(h)) for w, h in zip((4, 18, 29, 16, 14), heads)]
    widths = [w + extra for w, extra in zip(head_widths, (0, 0, 0, 1, 0))]
    print("  " + "  ".join(ljust(h, w) for h, w in zip(heads[:3], head_widths[:3])) + "  |  "
          + "  ".join(ljust(h, w) for h, w in zip(heads[3:], head_widths[3:])).rstrip())
    for i in range(5):
        print(f"  {i:>{widths[0]}}  {number(broken[i, 1]):>{widths[1]}}  "
              f"{number(broken_grads[i]):>{widths[2]}}  |  "
              f"{number(fixed[i, 1]):>{widths[3]}}  {number(fixed_grads[i]):>{widths[4]}}")
    # what happens: w.grad keeps the sum of every gradient so far, and w is set to 0 − lr·that sum
    for i in range(2, 8):
        assert abs(broken[i + 1, 1] - (-LR * broken_grads[i])) < 1e-12
    print(_("  Each step after the first sets w to 0, then to 0 − lr·w.grad; and w.grad, never\n"
            "  zeroed, holds the sum of every gradient so far. So w = −lr·(g₀ + g₁ + … + gᵢ),\n"
            "  which is w − lr·gᵢ again, because the previous w was −lr·(g₀ + … + gᵢ₋₁).\n"
            "  Zeroing the weight and accumulating the gradient cancel out; only the start w₀\n"
            "  is lost, at step 2. It is plain gradient descent from another start, which is\n"
            "  why it still seems to fit."))
    print(_describe(_("as written"), broken[-1]))
    print(_describe(_("fixed"), fixed[-1]))
    # the legends; the fitted-line plot picks its runs by "graphexplain", "lr = 0.5", "1e-3"
    runs = {f"graphexplain, lr = {LR}": ge,
            _("seed's torch loop, {lr}").format(lr=f"lr = {LR}"): seed_rows,
            f"nn.Linear + optim.SGD, lr = {LR}": mod,
            _("{model}, {lr}, {steps} steps").format(model="nn.Linear", lr="lr = 1e-3",
                                                      steps=STEPS_MODULE): module_rows,
            _("{model}, {lr}, {steps} steps").format(model="graphexplain", lr=f"lr = {LR_GOOD}",
                                                      steps=STEPS_GOOD): good}
    files = _plots(out, x, y, runs, fixed, broken)
    verdict = (_("3 loops agree to {d} (≤ 10⁻¹²); the seed's lr = {lr}, {steps} steps "
                 "converge (w = {w}); lr = {good}, {good_steps} steps does")
               if converged(ge[-1]) else
               _("3 loops agree to {d} (≤ 10⁻¹²); the seed's lr = {lr}, {steps} steps "
                 "do not converge (w = {w}); lr = {good}, {good_steps} steps does"))
    print(_("Verdict: ") + verdict.format(d=number(max(d1, d2)), lr=LR, steps=STEPS,
                                              w=number(ge[-1, 1]), good=LR_GOOD,
                                              good_steps=STEPS_GOOD))
    return [str(f) for f in files]


if __name__ == "__main__":
    main(Path("out"))
