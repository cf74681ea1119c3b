"""The MLP builder: a fully connected network as a plain computation graph.

What it does: builds the seed's network, ``--layers 2,2,2,1``, with the seed's names and
conventions, as a graph of scalar nodes (schema in :mod:`graphexplain.graph`):

- inputs ``x{i}`` (data: no gradient), targets ``y{k}`` (constants);
- weights ``w{n}_{i}_{j}``, shown as ``w{n}[i,j]``: layer n, from neuron i to neuron j of
  layer n+1, 1-based; biases ``b{n}_{j}``, shown as ``b{n}[j]``;
- pre-activations named as in the seed: ``f1, f2, …`` for the first hidden layer, ``g1, …``
  for the second, then h, k, m, p, q, r, s, t, and ``out`` (``out1, …`` for several outputs);
  each is one ``linear`` node, z = Σᵢ w[i,j]·aᵢ + b[j], so that ∂f2/∂w1[1,2] = x1 as in the seed;
- activations ``A_f2``, shown as ``A(f2)``; the loss node ``loss``.

Losses are pinned to torch's meaning: ``mse`` is ``nn.MSELoss()`` (mean over the outputs),
``ce`` is −Σₖ yₖ·log softmax(out)ₖ (``nn.CrossEntropyLoss`` for one sample, y one-hot or
given), ``bce`` is ``nn.BCEWithLogitsLoss()`` on the output logits.

Random values (``seed``): weights and biases are drawn as torch's ``nn.Linear`` draws them,
U(−1/√fan_in, 1/√fan_in); inputs x from U(−1, 1); targets: U(0, 1) for mse, a one-hot class
(``target``, else drawn) for ce, and 0/1 labels for bce. Python's ``random.Random(seed)`` is
the generator, so the values do not depend on the torch version.

What it does not do: derive or verify; the graph goes through the same pipeline as any other.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import networkx as nx
import sympy

from ..errors import GraphExplainError
from ..graph import add_leaf, add_op, new_graph, validate

ACTIVATIONS = ("sigmoid", "tanh", "relu", "elu", "leaky_relu", "softplus", "identity")
LOSSES = {"mse": "mse", "ce": "cross_entropy", "bce": "bce_logits"}
_LETTERS = ("f", "g", "h", "k", "m", "p", "q", "r", "s", "t")


class SpecError(GraphExplainError):
    """A network description that cannot be built."""


@dataclass(frozen=True)
class MLPSpec:
    """A fully connected network and one sample.

    ``layers`` counts neurons per layer, inputs first. ``x`` and ``y`` are the sample (drawn
    from ``seed`` when None); for ``ce``, ``target`` is the class (1-based) of a one-hot y.
    """

    layers: tuple[int, ...]
    activation: str = "sigmoid"
    output_activation: str = "identity"
    loss: str = "mse"
    bias: bool = True
    seed: int = 0
    x: tuple[float, ...] | None = None
    y: tuple[float, ...] | None = None
    target: int | None = None

    def check(self) -> MLPSpec:
        """Refuse what cannot be built, with a one-line reason."""
        if len(self.layers) < 2 or any(n < 1 for n in self.layers):
            raise SpecError("--layers needs at least two positive sizes, e.g. 2,2,2,1")
        for what, act in (("--activation", self.activation),
                          ("--output-activation", self.output_activation)):
            if act not in ACTIVATIONS:
                raise SpecError(f"{what} {act}: choose one of {', '.join(ACTIVATIONS)}")
        if self.loss not in LOSSES:
            raise SpecError(f"--loss {self.loss}: choose one of {', '.join(LOSSES)}")
        self._check_sample()
        return self

    def _check_sample(self) -> None:
        n_in, n_out = self.layers[0], self.layers[-1]
        if self.x is not None and len(self.x) != n_in:
            raise SpecError(f"--x has {len(self.x)} values; the input layer has {n_in}")
        if self.y is not None and len(self.y) != n_out:
            raise SpecError(f"--y has {len(self.y)} values; the output layer has {n_out}")
        if self.target is not None:
            if self.loss != "ce":
                raise SpecError("--target (a class) is for --loss ce; give --y otherwise")
            if not 1 <= self.target <= n_out:
                raise SpecError(f"--target {self.target}: classes are 1 … {n_out}")
            if self.y is not None:
                raise SpecError("give --target or --y, not both")

    @property
    def n_params(self) -> int:
        pairs = zip(self.layers, self.layers[1:])
        return sum(a * b + (b if self.bias else 0) for a, b in pairs)


# --- names -------------------------------------------------------------------------------------


def pre_name(spec: MLPSpec, layer: int, j: int) -> str:
    """The pre-activation of neuron j of ``layer`` (2 … L): f2, g1, …, out (seed names)."""
    last = len(spec.layers)
    if layer == last:
        return "out" if spec.layers[-1] == 1 else f"out{j}"
    hidden = layer - 2
    return f"{_LETTERS[hidden]}{j}" if hidden < len(_LETTERS) else f"z{layer}_{j}"


def act_name(pre: str) -> str:
    return f"A_{pre}"


def weight(n: int, i: int, j: int) -> tuple[str, str]:
    """(id, label) of w_n[i,j]."""
    return f"w{n}_{i}_{j}", f"w{n}[{i},{j}]"


def bias(n: int, j: int) -> tuple[str, str]:
    return f"b{n}_{j}", f"b{n}[{j}]"


def outputs(spec: MLPSpec) -> list[str]:
    """The nodes the loss reads: the output pre-activations, or their activations."""
    L = len(spec.layers)
    pres = [pre_name(spec, L, j) for j in range(1, spec.layers[-1] + 1)]
    return pres if spec.output_activation == "identity" else [act_name(p) for p in pres]


# --- values ------------------------------------------------------------------------------------


def draw_values(spec: MLPSpec) -> dict[str, float]:
    """Every leaf's value: the given sample, and the rest drawn from ``seed`` (module doc)."""
    rng = random.Random(spec.seed)
    values = {}
    for n, (fan_in, fan_out) in enumerate(zip(spec.layers, spec.layers[1:]), start=1):
        bound = 1 / math.sqrt(fan_in)
        for j in range(1, fan_out + 1):
            for i in range(1, fan_in + 1):
                values[weight(n, i, j)[0]] = rng.uniform(-bound, bound)
            if spec.bias:
                values[bias(n, j)[0]] = rng.uniform(-bound, bound)
    xs = spec.x if spec.x is not None else [rng.uniform(-1, 1) for _ in range(spec.layers[0])]
    values.update({f"x{i}": float(v) for i, v in enumerate(xs, start=1)})
    values.update({f"y{k}": float(v) for k, v in enumerate(_targets(spec, rng), start=1)})
    return values


def _targets(spec: MLPSpec, rng: random.Random) -> list[float]:
    K = spec.layers[-1]
    if spec.y is not None:
        return list(spec.y)
    if spec.loss == "ce":
        cls = spec.target if spec.target is not None else rng.randint(1, K)
        return [1.0 if k == cls else 0.0 for k in range(1, K + 1)]
    if spec.loss == "bce":
        return [float(rng.randint(0, 1)) for _ in range(K)]
    return [rng.uniform(0, 1) for _ in range(K)]


# --- the graph ---------------------------------------------------------------------------------


def build_mlp(spec: MLPSpec) -> nx.DiGraph:
    """The network and its loss as a graph; node attributes ``layer`` and ``role``
    (``pre``, ``act``, ``loss``) tell the layer-level printers what each node is.

    Examples
    --------
    >>> G = build_mlp(MLPSpec((2, 2, 2, 1), bias=False))
    >>> G.nodes["f2"]["expr"]
    w1_1_2*x1 + w1_2_2*x2
    >>> sorted(G.successors("w1_1_2"))
    ['f2']
    """
    spec.check()
    G = new_graph("loss")
    for i in range(1, spec.layers[0] + 1):
        add_leaf(G, f"x{i}", "input", requires_grad=False)
    prev = [f"x{i}" for i in range(1, spec.layers[0] + 1)]
    for n in range(1, len(spec.layers)):
        prev = _add_layer(G, spec, n, prev)
    _add_loss(G, spec)
    G.graph["mlp"] = spec
    return validate(G)


def _add_layer(G: nx.DiGraph, spec: MLPSpec, n: int, prev: list[str]) -> list[str]:
    """Layer n → n+1: z_j = Σᵢ w_n[i,j]·aᵢ + b_n[j], then a_j = A(z_j)."""
    last = n + 1 == len(spec.layers)
    activation = spec.output_activation if last else spec.activation
    out = []
    for j in range(1, spec.layers[n] + 1):
        args = []
        for i, a in enumerate(prev, start=1):
            wid, wlabel = weight(n, i, j)
            add_leaf(G, wid, "param", label=wlabel)
            args += [wid, a]
        if spec.bias:
            bid, blabel = bias(n, j)
            add_leaf(G, bid, "param", label=blabel)
            args.append(bid)
        z = pre_name(spec, n + 1, j)
        add_op(G, z, "linear", args)
        G.nodes[z].update(layer=n + 1, role="pre")
        out.append(_add_activation(G, z, activation, n + 1))
    return out


def _add_activation(G: nx.DiGraph, z: str, activation: str, layer: int) -> str:
    if activation == "identity":
        return z
    params = {"elu": {"alpha": 1}, "leaky_relu": {"slope": sympy.Rational(1, 100)}}
    a = act_name(z)
    add_op(G, a, activation, [z], params.get(activation, {}), label=f"A({z})")
    G.nodes[a].update(layer=layer, role="act")
    return a


def _add_loss(G: nx.DiGraph, spec: MLPSpec) -> None:
    ys = [f"y{k}" for k in range(1, spec.layers[-1] + 1)]
    for y in ys:
        add_leaf(G, y, "const")
    add_op(G, "loss", LOSSES[spec.loss], outputs(spec) + ys)
    G.nodes["loss"].update(layer=len(spec.layers), role="loss")


def find_leaf(G: nx.DiGraph, name: str) -> str:
    """The node id for a label or id (``w1[1,2]`` or ``w1_1_2``)."""
    if name in G:
        return name
    for n, lab in G.nodes(data="label"):
        if lab == name.replace(" ", ""):
            return n
    raise SpecError(f"--wrt '{name}': no such weight, bias or input "
                    "(weights are w{n}[i,j], biases b{n}[j])")
