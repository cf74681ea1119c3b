"""Part 3 of the seed: the loss functions, MSE and cross-entropy, and their gradients with
respect to the prediction p.

The seed first writes loss = (Y_predict − Y_true)² as the regression loss and
loss = Y_true·log Y_predict as the classification loss; later it lists nn.MSELoss as
"常用于分类问题" (used for classification) and the cross-entropy as "常用于逻辑回归" (logistic
regression). This script says which is which, shows the seed's cross-entropy without its
minus next to the right one, and what graphexplain's lint says about it.
"""

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import graphexplain as g
from graphexplain.i18n import _, with_plot_fonts
from graphexplain.printing import number, text

TITLE = _("3. Loss functions: MSE (regression) and cross-entropy (classification)")

P, Y = 0.7, 1.0  # a prediction and its target
LOSSES = {
    "mse": "L = (p − y)²",
    "ce": "L = −(y·ln p + (1 − y)·ln(1 − p))",
    "seed_ce": "L = y·ln p",
}


def explain(kind: str, p: float = P, y: float = Y):
    return g.explain(LOSSES[kind], at={"p": p, "y": y}, consts=["y"])


def torch_grad(kind: str, p: float = P, y: float = Y) -> tuple[float, float]:
    pt = torch.tensor([p], dtype=torch.float64, requires_grad=True)
    yt = torch.tensor([y], dtype=torch.float64)
    loss = {"mse": lambda: F.mse_loss(pt, yt),
            "ce": lambda: F.binary_cross_entropy(pt, yt),
            "seed_ce": lambda: (yt * torch.log(pt)).sum()}[kind]()
    loss.backward()
    return loss.detach().item(), pt.grad.item()


@with_plot_fonts
def _plot(path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ps = np.linspace(0.01, 0.99, 200)
    fig, ax = plt.subplots(figsize=(6.4, 4), dpi=100)
    ax.plot(ps, (ps - 1) ** 2, label="MSE (p − y)²")
    ax.plot(ps, -np.log(ps), label=_("cross-entropy −ln p"))
    ax.plot(ps, np.log(ps), "--", label=_("the seed's y·ln p (no minus): ≤ 0"))
    ax.axhline(0, color="grey", lw=0.6)
    ax.set(xlabel=_("prediction p (target y = 1)"), ylabel=_("loss"),
           title=_("Loss against the prediction, for the target y = 1"))
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def main(out: Path) -> list[str]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for kind in LOSSES:
        e = explain(kind)
        loss, grad = torch_grad(kind)
        assert abs(e.evaluation.values[e.output] - loss) < 1e-12, f"{kind} loss disagrees"
        assert abs(e.gradients["p"]["value"] - grad) < 1e-12, f"∂{kind}/∂p disagrees"
        assert e.verification.ok
        results[kind] = e
        print(_("{loss}:  {gradient} at {point}  (torch: {torch})").format(
            loss=LOSSES[kind], gradient=f"∂L/∂p = {text(e.gradients['p']['formula'])} = "
                                        f"{number(e.gradients['p']['value'])}",
            point=f"p = {number(P)}, y = {number(Y)}", torch=number(grad)))
    print()
    print(_("MSE is the regression loss: it measures the squared distance between a real-valued\n"
            "prediction and a real-valued target, and is smallest (0) where they are equal.\n"
            "The seed's list later calls nn.MSELoss \"常用于分类问题\" (used for classification):\n"
            "that is a slip; its own first formula calls it 回归损失, the regression loss.\n"
            "For a class probability the cross-entropy is the loss: through a sigmoid its\n"
            "gradient, σ(z) − y, does not vanish when the prediction is confidently wrong,\n"
            "while the MSE's 2(σ(z) − y)·σ(z)(1 − σ(z)) does. (The seed's next line,\n"
            "nn.CrossEntropyLoss \"常用于逻辑回归\", is right: logistic regression classifies.)"))
    print()
    print(_("The seed's classification loss is y·log p, without its minus:"))
    notes = results["seed_ce"].notes
    assert any(n.code == "negative-loss" for n in notes), "the lint should flag y·ln p"
    assert not results["ce"].notes, "the right cross-entropy should raise no note"
    for n in notes:
        print("  " + _("note ({code}): {message}").format(code=n.code, message=n.message))
    print("  " + _("The right one, −(y·ln p + (1 − y)·ln(1 − p)), raises no note: it is ≥ 0, "
                   "and 0 only for a perfect prediction."))
    print("  " + _("At p = {p}: y·ln p = {seed}, the cross-entropy = {ce}; gradient descent on "
                   "y·ln p would push p down, away from the target.").format(
        p=number(P), seed=number(results["seed_ce"].evaluation.values["L"]),
        ce=number(results["ce"].evaluation.values["L"])))
    files = [_plot(out / "part3_losses.png")]
    ce = results["ce"]
    files.append(ce.render(out / "part3_cross_entropy.png"))
    files.append(out / "part3_cross_entropy.html")
    files[-1].write_text(ce.html(title=_("The cross-entropy and its gradient")), encoding="utf-8")
    print(_("Verdict: ") + _("MSE, cross-entropy and the seed's y·ln p and their ∂L/∂p "
                                  "agree with torch; the lint flags y·ln p"))
    return [str(f) for f in files]


if __name__ == "__main__":
    main(Path("out"))
