"""The seed's examples (the course material users come from), as graphexplain programs.

Each example is what the course shows, written as a program with a point to evaluate at.
``graphexplain demo`` explains, verifies and draws every one of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Example:
    slug: str
    title: str
    program: str
    at: dict[str, float]
    consts: tuple[str, ...] = ()
    note: str = ""
    wrt: str | None = field(default=None)


@dataclass(frozen=True)
class NetworkExample:
    """An example given as a network (``graphexplain mlp``) rather than a program."""

    slug: str
    title: str
    layers: tuple[int, ...]
    wrt: str
    bias: bool = False
    note: str = ""


NETWORKS = [
    NetworkExample(
        "seed_mlp", "The seed's 3-layer network and its ∂loss/∂w1[1,2]", (2, 2, 2, 1), "w1[1,2]",
        note="The seed writes f2 = w1[1,2]x2 + w1[2,2]x2; the first term is w1[1,2]·x1 "
             "(w1[1,2] connects x1 to f2), which is why its ∂loss/∂w1[1,2] starts with x1."),
]

@dataclass(frozen=True)
class ModelExample:
    """An example given as a torch model in ``examples/`` (``graphexplain torch``)."""

    slug: str
    title: str
    spec: str  # FILE.py:NAME, relative to the examples folder
    note: str = ""
    sgd: tuple[float, int] | None = None  # (learning rate, steps) of the training loop


MODELS = [
    ModelExample("seed_lr", "The seed's Lr model: nn.Linear(1,1) and MSELoss over N samples",
                 "seed_linear_regression.py:Lr",
                 note="∂L/∂w = (2/N)·Σᵢ (w·xᵢ + b − yᵢ)·xᵢ and ∂L/∂b = (2/N)·Σᵢ (w·xᵢ + b − yᵢ): "
                      "one path per sample. Then the seed's training loop: gradient descent "
                      "finds y = 3x + 0.8.", sgd=(0.1, 2000)),
    ModelExample("seed_autograd", "The seed's autograd snippet: var1 = x + 2, "
                 "var2 = var1*var1*3, out = var2.mean()", "seed_autograd.py:snippet",
                 note="x requires grad; ∂out/∂x = 1.5·(x + 2), as x.grad shows after "
                      "out.backward()."),
    ModelExample("seed_no_grad", "The seed's torch.no_grad(): c = var1*10 is not tracked",
                 "seed_no_grad.py:snippet",
                 note="∂out/∂x = 1.5·(x + 2), as torch's x.grad: the graph is cut at c, "
                      "which was computed under no_grad and carries no gradient."),
]

EXAMPLES = [
    Example("j_textbook", "J(a,b,c) = 3(a+bc), as the course writes it",
            "J(a,b,c) = 3(a+bc)", {"a": 1, "b": 2, "c": 3},
            note="The course: ∂J/∂a = 3·1, ∂J/∂b = 3·1·c, ∂J/∂c = 3·1·b. "
                 "The unnamed parts get the course's names, u = a + v and v = bc."),
    Example("j_statements", "J with the course's intermediate names, in the course's order",
            "u = a + v; v = b*c; J = 3*u", {"a": 1, "b": 2, "c": 3}, wrt="b"),
    Example("neuron_mse", "One neuron σ(w·x + b) and the regression loss (y_pred − y_true)²",
            "a1 = sigmoid(w1*x1 + w2*x2 + b)\nloss = (a1 - y)^2",
            {"w1": 0.5, "w2": -0.3, "b": 0.1, "x1": 1.0, "x2": 2.0, "y": 1.0},
            consts=("x1", "x2", "y"),
            note="x and y are data: they get no gradient (like requires_grad=False)."),
    Example("activations", "The course's activations: sigmoid, tanh, relu and ELU",
            "f = sigmoid(x) + tanh(x) + relu(x) + elu(x, alpha=1)", {"x": 0.5}),
    Example("classification_loss", "A classification loss: −(y·log p + (1−y)·log(1−p))",
            "z = w*x + b; p = sigmoid(z); loss = -(y*log(p) + (1 - y)*log(1 - p))",
            {"w": 0.8, "b": -0.2, "x": 1.5, "y": 1.0}, consts=("x", "y"),
            note="The course writes the classification loss as Y_true·log Y_predict; "
                 "with its minus sign and both classes it is the binary cross-entropy."),
    Example("linear_regression", "One sample of gradient descent on y = 3x + 0.8",
            "y_pred = w*x + b; loss = (y_pred - y_true)^2",
            {"w": 0.5, "b": 0.0, "x": 0.7, "y_true": 2.9}, consts=("x", "y_true"),
            note="∂loss/∂w = 2(wx + b − y)·x and ∂loss/∂b = 2(wx + b − y): one step of "
                 "w ← w − α∇w uses exactly these."),
]
