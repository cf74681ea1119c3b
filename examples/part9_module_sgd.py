"""Part 9 of the seed: the Lr nn.Module (one nn.Linear(1, 1)) trained with nn.MSELoss and
optim.SGD(model.parameters(), lr=1e-3).

What one step of the seed's loop does to each parameter (w = linear.weight, b = linear.bias):
``optimizer.zero_grad()`` clears w.grad and b.grad (to None, torch's default); ``loss.backward()``
fills them with ∂L/∂w = (2/N)·Σᵢ (w·xᵢ + b − yᵢ)·xᵢ and ∂L/∂b = (2/N)·Σᵢ (w·xᵢ + b − yᵢ);
``optimizer.step()`` moves each: w ← w − lr·∂L/∂w. The step is worked by hand, by graphexplain
and by torch, and they agree. The model and data are examples/seed_linear_regression.py (N = 5).
"""

import copy
from pathlib import Path

from torch import nn, optim

from graphexplain.i18n import _
from graphexplain.nn.torch import explain_file, load
from graphexplain.printing import number
from graphexplain.report import cells, ljust

TITLE = _("9. The Lr nn.Module with optim.SGD: zero_grad, backward, step")

EXAMPLES = Path(__file__).resolve().parent
SPEC = f"{EXAMPLES / 'seed_linear_regression.py'}:Lr"
LR = 1e-3  # the seed's optim.SGD(model.parameters(), lr=1e-3)


def by_hand(x, y, w, b, lr=LR):
    """One step of gradient descent, as arithmetic: the gradients and the new w, b."""
    r = [w * xi + b - yi for xi, yi in zip(x, y)]
    n = len(x)
    dw, db = 2 / n * sum(ri * xi for ri, xi in zip(r, x)), 2 / n * sum(r)
    return r, dw, db, w - lr * dw, b - lr * db


def torch_step(model, x, y, lr=LR):
    """The seed's loop body on a float64 copy of the model, recording each parameter."""
    model = copy.deepcopy(model).double()
    x, y = x.double(), y.double()
    criterion, optimizer = nn.MSELoss(), optim.SGD(model.parameters(), lr=lr)
    w, b = model.linear.weight, model.linear.bias
    snap = lambda: (w.item(), b.item(), None if w.grad is None else w.grad.item(),  # noqa: E731
                    None if b.grad is None else b.grad.item())
    log = []
    out = model(x)
    loss = criterion(y, out)  # the seed's argument order; MSE is symmetric
    log.append((_("forward: {code}").format(code="out = model(x), loss = criterion(y, out)"),
                snap()))
    optimizer.zero_grad()
    log.append(("optimizer.zero_grad()", snap()))
    loss.backward()
    log.append(("loss.backward()", snap()))
    optimizer.step()
    log.append(("optimizer.step()", snap()))
    return loss.item(), log


def _g(v):
    return "None" if v is None else number(v, digits=10)


def main(out: Path) -> list[str]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    m = load(SPEC)
    e = explain_file(SPEC)
    assert e.verification.ok
    p = e.evaluation.point
    n = len(m.example_inputs[0])
    x = [p[f"x_{i}_0"] for i in range(n)]
    y = [p[f"y_{i}_0"] for i in range(n)]
    w, b = p["linear_weight_0_0"], p["linear_bias_0"]
    r, dw, db, w1, b1 = by_hand(x, y, w, b)
    loss, log = torch_step(m.model, m.example_inputs[0], m.target)
    gw, gb = e.gradients["linear_weight_0_0"]["value"], e.gradients["linear_bias_0"]["value"]
    assert abs(gw - dw) < 1e-12 and abs(gb - db) < 1e-12, "graphexplain ≠ the hand computation"
    tw, tb = log[2][1][2], log[2][1][3]
    assert abs(tw - dw) < 1e-12 and abs(tb - db) < 1e-12, "torch's grads ≠ the hand computation"
    assert log[1][1][2] is None and log[1][1][3] is None
    assert abs(log[3][1][0] - w1) < 1e-12 and abs(log[3][1][1] - b1) < 1e-12
    print(_("Lr: {model}").format(
        model=f"out = w·x + b (nn.Linear(1, 1)), L = (1/N)·Σᵢ (outᵢ − yᵢ)², N = {n}, lr = {LR:g}"))
    print("  " + _("start: {values}").format(
        values=f"w = {number(w, digits=10)}, b = {number(b, digits=10)}, L = {number(loss)}"))
    print(_("What each call of the loop does to w and b (torch, float64):"))
    call = _("call")
    width = max(52, cells(call), *(cells(what) for what, _values in log))
    print(f"  {ljust(call, width)} {'w':>14} {'b':>14} {'w.grad':>14} {'b.grad':>14}")
    for what, (wv, bv, wg, bg) in log:
        print(f"  {ljust(what, width)} {_g(wv):>14} {_g(bv):>14} {_g(wg):>14} {_g(bg):>14}")
    print(_("By hand: the residuals {r} are").format(r="rᵢ = w·xᵢ + b − yᵢ") + " "
          + ", ".join(number(ri) for ri in r))
    print(f"  ∂L/∂w = (2/N)·Σᵢ rᵢ·xᵢ = {number(dw, digits=10)},  "
          f"∂L/∂b = (2/N)·Σᵢ rᵢ = {number(db, digits=10)}  (graphexplain: "
          f"{number(gw, digits=10)}, {number(gb, digits=10)})")
    step = _("step:")
    print(f"  {step} w ← w − lr·∂L/∂w = {number(w, digits=10)} − {LR:g}·({number(dw, digits=10)}) "
          f"= {number(w1, digits=10)}")
    print(f"  {' ' * cells(step)} b ← b − lr·∂L/∂b = {number(b, digits=10)} − "
          f"{LR:g}·({number(db, digits=10)}) = {number(b1, digits=10)}")
    print("  " + _("zero_grad() matters because backward() adds into .grad: without it, each step "
                   "would use the sum of all the gradients so far."))
    print()
    print(e.to_text())
    files = [e.render(out / "part9_lr_network.png"), out / "part9_lr.html"]
    files[-1].write_text(e.html(title=TITLE), encoding="utf-8")
    print(_("Verdict: ") + _("one SGD step worked by hand = graphexplain = torch ({grads})")
          .format(grads=f"∂L/∂w = {number(dw)}, ∂L/∂b = {number(db)}"))
    return [str(f) for f in files]


if __name__ == "__main__":
    main(Path("out"))
