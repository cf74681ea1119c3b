"""Lints: the slips students make, found in the graph and told as notes, never as errors.

What it does: small pure functions over the graph (schema in :mod:`graphexplain.graph`), and
optionally its evaluation, the MLP spec and a gradient-descent trajectory, each returning
:class:`Note` s:

- ``negative-loss``: a loss that can be negative, such as the seed's classification loss
  written without its minus, L = y·log p + (1 − y)·log(1 − p). Checked when the output is
  named like a loss (L, loss, cost, E, …) or is built from the log of a probability (a
  sigmoid, 1 − a sigmoid, or a leaf named p): at the evaluation's point and at a few
  reproducible random points (targets y in [0, 1], probabilities in (0, 1)).
- ``unused-input``: a declared or drawn leaf with no path to the output (its gradient is 0).
- ``weight-input``: a weight w_n[i,j] that multiplies the wrong neuron, such as the seed's
  f2 = w1[1,2]·x2 + w1[2,2]·x2, whose first term is w1[1,2]·x1 (w_n[i,j] comes from neuron i).
- ``target-range``: an output activation or loss that cannot match the target: a sigmoid
  output with a target outside [0, 1], relu with a negative one, tanh outside [−1, 1] (a
  target at an open end, y = 1 after a sigmoid, is approached, and not noted);
  BCE targets outside [0, 1], or a sigmoid before BCEWithLogitsLoss; cross-entropy targets
  that are not probabilities, bounded logits, or a single output.
- ``not-converged``: ``--sgd`` that ends far from a stationary point (the gradient has not
  shrunk to 1/1000 of its starting size) or whose loss grew.

What it does not do: change the graph, raise, or print; :func:`to_text` formats the notes.
"""

from __future__ import annotations

import math
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

import networkx as nx

from .graph import label, leaves, upstream
from .i18n import _, ngettext
from .printing import number

SAMPLES = 16  # random points tried by the negative-loss lint
CONVERGED = 1e-3  # a descent has converged when ‖∇L‖ ≤ CONVERGED·‖∇L at the start‖ …
GRADIENT_FLOOR = 1e-8  # … or ‖∇L‖ ≤ GRADIENT_FLOOR
MAX_SAMPLED_NODES = 20_000  # beyond this, only the evaluation's point is checked
MAX_SAME_NOTES = 3  # notes of one kind beyond this are summed up in one line

LOSS_OPS = ("mse", "bce_logits", "cross_entropy")
_LOSS_NAME = re.compile(r"(?i:loss|cost|err|error|risk|nll|ce|bce|mse|xent|objective)"
                        r"(_?\w*)|[LEℓ](_?\d+)?")
_LIKELIHOOD = re.compile(r"(?i)(log_?)?(ll|lik\w*|logp\w*|log_p\w*)")
_TARGET = re.compile(r"(?i)(y|t|target|label|truth)(_?\w*)?")
_PROBABILITY = re.compile(r"(?i)(p|q|prob\w*|ŷ|y_?hat|y_?pred\w*|pred\w*)(_?\d+)?")
_WEIGHT_ID = re.compile(r"w(\d+)_(\d+)_(\d+)")
_WEIGHT_LABEL = re.compile(r"w_?(\d+)\[\s*(\d+)\s*,\s*(\d+)\s*\]")
_INPUT = re.compile(r"x_?(\d+)")


@dataclass(frozen=True)
class Note:
    """A hint for the student: ``code`` names the kind of slip, ``node`` where it is."""

    code: str
    message: str
    node: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def check(G: nx.DiGraph, output: str | None = None, *, evaluation=None, spec=None,
          descent=None) -> list[Note]:
    """Every lint that applies: the graph's always, the descent's when given.

    ``evaluation`` (an :class:`~graphexplain.evaluate.Evaluation`) gives the values of the
    targets and the point to check first; ``spec`` (an ``MLPSpec``; default the graph's own,
    ``G.graph["mlp"]``) gives them when there is no evaluation; ``descent`` is the
    :class:`~graphexplain.train.Trajectory` of ``--sgd``.

    Examples
    --------
    >>> from graphexplain.parse import parse
    >>> from graphexplain.graph import build
    >>> G = build(parse("p = sigmoid(z); L = y*log(p) + (1 - y)*log(1 - p)"))
    >>> [n.code for n in check(G)]
    ['negative-loss']
    >>> G = build(parse("p = sigmoid(z); L = -(y*log(p) + (1 - y)*log(1 - p))"))
    >>> check(G)
    []
    """
    output = output or G.graph["output"]
    values = _known_values(G, evaluation, spec if spec is not None else G.graph.get("mlp"))
    reach = upstream(G, output)  # found once: three lints ask
    notes = [*negative_loss(G, output, evaluation, reach), *unused_inputs(G, output, reach),
             *weight_inputs(G), *_capped(target_range(G, output, values, reach))]
    if descent is not None:
        notes += not_converged(G, output, descent)
    return notes


def to_text(notes: Iterable[Note]) -> str:
    """One line per note, ``note: …``; the empty string when there are none."""
    return "".join(_("note: {message}").format(message=n.message) + "\n" for n in notes)


# --- numbers and names in messages -------------------------------------------------------------


def _num(x: float) -> str:
    return number(float(x))


def _names(G: nx.DiGraph, nodes: Iterable[str]) -> str:
    """``x1``, ``x1 and x3``, ``x1, x3 and x4``."""
    shown = [label(G, n) for n in nodes]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + _(" and ") + shown[-1]


def _point_text(G: nx.DiGraph, point: Mapping[str, float], shown: int = 4) -> str:
    items = [f"{label(G, n)} = {_num(v)}" for n, v in point.items()]
    return ", ".join(items[:shown]) + (", …" if len(items) > shown else "")


def _capped(notes: list[Note]) -> list[Note]:
    """At most MAX_SAME_NOTES notes, and one line for the rest (one per sample of a batch)."""
    if len(notes) <= MAX_SAME_NOTES:
        return notes
    rest = len(notes) - MAX_SAME_NOTES
    return [*notes[:MAX_SAME_NOTES],
            Note(notes[0].code, "… " + _("and {n} more like these.").format(n=rest))]


def _known_values(G: nx.DiGraph, evaluation, spec) -> dict[str, float]:
    """Leaf (and node) values known without choosing a point: fixed constants, the MLP's
    sample, and the evaluation's values."""
    values = {n: float(G.nodes[n]["value"]) for n in leaves(G) if "value" in G.nodes[n]}
    if evaluation is not None:
        values.update(evaluation.values)
    elif spec is not None:
        from .nn.mlp import draw_values

        values.update(draw_values(spec))
    return values


# --- a loss that can be negative ---------------------------------------------------------------


def _matches(pattern: re.Pattern, G: nx.DiGraph, n: str) -> bool:
    return bool(pattern.fullmatch(n) or pattern.fullmatch(label(G, n)))


_ONE_LETTER = re.compile(r"[LEℓ](_?\d+)?")


def _named_like_a_loss(G: nx.DiGraph, output: str) -> bool:
    """``loss``, ``cost``, ``mse``, …; a one-letter L or E only when it compares something
    with a target (y, t, label): ``L = (a + b)/4`` is just a function."""
    if not _matches(_LOSS_NAME, G, output):
        return False
    if not _matches(_ONE_LETTER, G, output):
        return True
    return any(_matches(_TARGET, G, n) for n in nx.ancestors(G, output)
               if G.nodes[n]["kind"] != "op")


def _is_probability(G: nx.DiGraph, n: str) -> bool:
    """A sigmoid, a leaf named like a probability (p, prob, ŷ), or 1 − one of those."""
    data = G.nodes[n]
    if data["kind"] != "op":
        return _matches(_PROBABILITY, G, n)
    if data["op"] == "sigmoid":
        return True
    if data["op"] == "add" and len(data["args"]) == 2:
        named = [a for a in data["args"] if isinstance(a, str)]
        numbers = [a for a in data["args"] if not isinstance(a, str)]
        return (len(named) == 1 and numbers == [1] and _negated(G, named[0]) is not None
                and _is_probability(G, _negated(G, named[0])))
    return False


def _negated(G: nx.DiGraph, n: str) -> str | None:
    """``u`` when node ``n`` is ``−1·u`` (how the parser writes a minus), else None."""
    data = G.nodes[n]
    if data.get("op") != "mul" or len(data["args"]) != 2:
        return None
    named = [a for a in data["args"] if isinstance(a, str)]
    numbers = [a for a in data["args"] if not isinstance(a, str)]
    return named[0] if len(named) == 1 and numbers == [-1] else None


def _log_of_probability(G: nx.DiGraph, output: str, reach: set[str] | None = None) -> bool:
    """Whether the output is built from log p, for a probability p."""
    reach = upstream(G, output) if reach is None else reach
    return any(G.nodes[n].get("op") == "log" and _is_probability(G, G.nodes[n]["args"][0])
               for n in reach if isinstance(G.nodes[n].get("args", (None,))[0], str))


def _sample_points(G: nx.DiGraph, count: int, seed: int = 0):
    """Reproducible points: targets in [0, 1] (0 and 1 first, as labels are), probabilities
    in (0, 1), everything else in [−3, 3]."""
    rng = random.Random(seed)
    free = [n for n in leaves(G) if "value" not in G.nodes[n]]
    for k in range(count):
        point = {}
        for n in free:
            if _matches(_TARGET, G, n):
                point[n] = float(k % 2) if k < 4 else rng.random()
            elif _matches(_PROBABILITY, G, n):
                point[n] = rng.uniform(0.01, 0.99)
            else:
                point[n] = rng.uniform(-3, 3)
        yield point


def _negative_value(G: nx.DiGraph, output: str, evaluation) -> tuple[float, dict] | None:
    """(a negative value of the output, the point), at the evaluation's point or a sample."""
    if evaluation is not None and evaluation.values.get(output, 0.0) < 0:
        return evaluation.values[output], evaluation.point
    if G.number_of_nodes() > MAX_SAMPLED_NODES or G.nodes[output].get("op") in LOSS_OPS:
        return None
    from .plan import plan_for  # numpy: only when a sample is evaluated

    plan = plan_for(G)
    for point in _sample_points(G, SAMPLES):
        value = float(plan.forward(point)[plan.index[output]])
        if value < -1e-12:  # NaN (a log outside its domain) compares False
            return value, point
    return None


def negative_loss(G: nx.DiGraph, output: str, evaluation=None,
                  reach: set[str] | None = None) -> list[Note]:
    """A loss that can be negative: named like a loss, or a cross-entropy-like log p."""
    if G.nodes[output]["kind"] != "op" or _matches(_LIKELIHOOD, G, output):
        return []
    cross_entropy = _log_of_probability(G, output, reach)
    if not (cross_entropy or _named_like_a_loss(G, output)):
        return []
    found = _negative_value(G, output, evaluation)
    if found is None:
        return []
    value, point = found
    L = label(G, output)
    where = _("{L} = {value} at {point}").format(L=L, value=_num(value),
                                                 point=_point_text(G, point))
    if cross_entropy:
        fix = _("A cross-entropy needs its minus: {L} = −(y·log p + (1 − y)·log(1 − p)), "
                "or −Σₖ yₖ·log pₖ.").format(L=L)
    else:
        fix = _("Check its sign, or measure the error so that it cannot be negative, "
                "e.g. (prediction − y)².")
    return [Note("negative-loss", _("{L} can be negative ({where}); a loss is ≥ 0 and 0 for a "
                                    "perfect prediction, so minimising this one does not fit "
                                    "the target. {fix}").format(L=L, where=where, fix=fix),
                 output)]


# --- inputs that nothing uses, and weights on the wrong neuron ---------------------------------


def unused_inputs(G: nx.DiGraph, output: str, reach: set[str] | None = None) -> list[Note]:
    """Leaves with no path to the output: declared or drawn, but their gradient is 0."""
    used = upstream(G, output) if reach is None else reach
    unused = [n for n in leaves(G) if n not in used]
    if not unused:
        return []
    L = label(G, output)
    grads = ", ".join(f"∂{L}/∂{label(G, n)}" for n in unused[:3]) + (", …" if len(unused) > 3
                                                                      else "")
    message = ngettext("{names} is declared but {L} does not use it, so {grads} = 0. "
                       "Is a term missing, or a name mistyped?",
                       "{names} are declared but {L} does not use them, so {grads} = 0. "
                       "Is a term missing, or a name mistyped?", len(unused))
    return [Note("unused-input", message.format(names=_names(G, unused), L=L, grads=grads),
                 unused[0])]


def _weight(G: nx.DiGraph, n: str) -> tuple[int, int, int] | None:
    """(n, i, j) of a leaf named like w_n[i,j] (``w1_1_2`` or ``w1[1,2]``)."""
    if G.nodes[n]["kind"] == "op":
        return None
    m = _WEIGHT_ID.fullmatch(n) or _WEIGHT_LABEL.fullmatch(label(G, n).replace(" ", ""))
    return tuple(int(g) for g in m.groups()) if m else None


def _products(G: nx.DiGraph) -> list[tuple[str, tuple[int, int, int], str]]:
    """(product node, (n, i, j), the other factor) for every w_n[i,j]·a written out."""
    out = []
    for v, data in G.nodes(data=True):
        if data.get("op") != "mul":
            continue
        named = [a for a in data["args"] if isinstance(a, str)]
        if len(named) != 2 or named[0] == named[1]:
            continue
        for w, a in (named, named[::-1]):
            idx = _weight(G, w)
            if idx is not None and _weight(G, a) is None:
                out.append((v, idx, a))
    return out


def _where(G: nx.DiGraph, v: str) -> str:
    """The neuron a product belongs to: its one consumer (f2), else the product itself."""
    succ = list(G.successors(v))
    return label(G, succ[0]) if len(succ) == 1 else label(G, v)


def weight_inputs(G: nx.DiGraph) -> list[Note]:
    """w_n[i,j] is the weight from neuron i: w1[i,j] must multiply x_i, and the weights
    into one neuron j must each multiply a different neuron of the layer before."""
    notes, flagged, products = [], set(), _products(G)
    for v, (n, i, j), a in products:
        m = _INPUT.fullmatch(a) or _INPUT.fullmatch(label(G, a))
        if n == 1 and m and int(m.group(1)) != i:
            w = label(G, next(u for u in G.predecessors(v) if _weight(G, u) == (n, i, j)))
            flagged.add((n, j, a))
            notes.append(Note("weight-input", _(
                "{w} multiplies {a} in {where}, but w{n}[i,j] is the weight from neuron i to "
                "neuron j, so {w} belongs with x{i}: did you mean {w}·x{i}?").format(
                    w=w, a=label(G, a), where=_where(G, v), n=n, i=i), v))
    into = defaultdict(set)
    for _v, (n, i, j), a in products:
        into[n, j, a].add(i)
    for (n, j, a), rows in sorted(into.items()):
        if len(rows) > 1 and (n, j, a) not in flagged:
            ws = _(" and ").join(f"w{n}[{i},{j}]" for i in sorted(rows))
            notes.append(Note("weight-input", _(
                "{ws} both multiply {a}: the weights into neuron {j} each take a different "
                "neuron of the layer before (w{n}[i,{j}] with neuron i).").format(
                    ws=ws, a=label(G, a), j=j, n=n), a))
    return notes


# --- outputs that cannot match their targets ---------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """The range of an activation: lo … hi, each end open or closed."""

    lo: float
    hi: float
    lo_closed: bool = False
    hi_closed: bool = False

    def __contains__(self, y: float) -> bool:
        above = y > self.lo or (self.lo_closed and y == self.lo)
        below = y < self.hi or (self.hi_closed and y == self.hi)
        return above and below

    def reaches(self, y: float) -> bool:
        """Whether y is in the closure: in the range, or approached at an open end."""
        return self.lo <= y <= self.hi

    def __str__(self) -> str:
        def end(x):
            return "∞" if x == math.inf else "−∞" if x == -math.inf else _num(x)

        return (f"{'[' if self.lo_closed else '('}{end(self.lo)}, {end(self.hi)}"
                f"{']' if self.hi_closed else ')'}")


def _sigmoid(x: float) -> float:
    return 0.0 if x == -math.inf else 1.0 if x == math.inf else 1 / (1 + math.exp(-x))


def activation_range(G: nx.DiGraph, n: str) -> Interval | None:
    """The range of node n's values when its op bounds them (sigmoid, tanh, relu, …)."""
    data = G.nodes[n] if isinstance(n, str) else {}
    op, params = data.get("op"), data.get("params", {})
    inf = math.inf
    fixed = {"sigmoid": Interval(0, 1), "tanh": Interval(-1, 1),
             "relu": Interval(0, inf, True), "softplus": Interval(0, inf),
             "exp": Interval(0, inf), "abs": Interval(0, inf, True),
             "sqrt": Interval(0, inf, True)}
    if op == "elu":
        return Interval(-float(params.get("alpha", 1)), inf)
    return fixed.get(op)


def _name_of(G: nx.DiGraph, arg) -> str:
    return label(G, arg) if isinstance(arg, str) else _num(float(arg))


def _value_of(values: Mapping[str, float], arg) -> float | None:
    return values.get(arg) if isinstance(arg, str) else float(arg)


def _mismatch_text(G: nx.DiGraph, misses: list[tuple[object, float]]) -> str:
    return ", ".join(f"{_name_of(G, y)} = {_num(v)}" for y, v in misses[:3]) + (
        ", …" if len(misses) > 3 else "")


def _regression_targets(G: nx.DiGraph, pairs, values, node: str, loss: str) -> list[Note]:
    """(prediction, target) pairs of a squared error: can the prediction reach each target?

    A target on an open end of the range (y = 1 after a sigmoid) is approached as the weights
    grow, as in the course's own σ neuron with (a − y)², and is not a slip."""
    by_op = defaultdict(list)
    for o, y in pairs:
        rng, v = activation_range(G, o), _value_of(values, y)
        if rng is not None and v is not None and not rng.reaches(v):
            by_op[G.nodes[o]["op"], rng].append((y, v))
    return [Note("target-range", ngettext(
        "the prediction comes from {op}, whose values lie in {range}: it can never reach the "
        "target {targets}, and {loss} can't come down to 0. Choose an output activation whose "
        "range holds the targets (linear for regression), or rescale the targets.",
        "the prediction comes from {op}, whose values lie in {range}: it can never reach the "
        "targets {targets}, and {loss} can't come down to 0. Choose an output activation whose "
        "range holds the targets (linear for regression), or rescale the targets.",
        len(misses)).format(op=op, range=rng, targets=_mismatch_text(G, misses), loss=loss), node)
            for (op, rng), misses in by_op.items()]


def _bce_targets(G: nx.DiGraph, node: str, pairs, values) -> list[Note]:
    ys = [(y, _value_of(values, y)) for _, y in pairs]
    bad = [(y, v) for y, v in ys if v is not None and not 0 <= v <= 1]
    L = label(G, node)
    if bad:
        return [Note("target-range", _("binary cross-entropy targets are probabilities in "
                                       "[0, 1], but {targets} is not ({L}).").format(
                                           targets=_mismatch_text(G, bad), L=L), node)]
    notes = []
    for o, y in pairs:
        rng, v = activation_range(G, o), _value_of(values, y)
        if rng is None or v is None:
            continue
        p = Interval(_sigmoid(rng.lo), _sigmoid(rng.hi), rng.lo_closed, rng.hi_closed)
        if not p.reaches(v):
            op = G.nodes[o]["op"]
            notes.append(Note("target-range", _(
                "{L} is BCEWithLogitsLoss, which applies σ itself: after {op}, its logits lie "
                "in {range}, so the probability σ({op}(z)) lies in {p} and can't match the "
                "target {y} = {value}. Leave the output linear (--output-activation "
                "identity).").format(L=L, op=op, range=rng, p=p, y=_name_of(G, y),
                                     value=_num(v)), node))
            break
    return notes


def _ce_targets(G: nx.DiGraph, node: str, pairs, values) -> list[Note]:
    L, K = label(G, node), len(pairs)
    if K == 1:
        return [Note("target-range", _(
            "{L} is a cross-entropy over one output: softmax of one number is 1, so the loss "
            "and every gradient are 0 whatever the weights. For two classes use two outputs, "
            "or one output with bce.").format(L=L), node)]
    ys = [(y, _value_of(values, y)) for _, y in pairs]
    if any(v is None for _, v in ys):
        return []
    bad = [(y, v) for y, v in ys if not 0 <= v <= 1]
    total = sum(v for _, v in ys)
    if bad or abs(total - 1) > 1e-9:
        outside = _(" and {targets} is outside [0, 1]").format(
            targets=_mismatch_text(G, bad)) if bad else ""
        return [Note("target-range", _(
            "cross-entropy targets are probabilities that sum to 1 (a one-hot y for a class: "
            "--target k), but here they sum to {total}{outside} ({L}).").format(
                total=_num(total), outside=outside, L=L), node)]
    ranges = [activation_range(G, o) for o, _ in pairs]
    if all(r is not None and math.isfinite(r.lo) and math.isfinite(r.hi) for r in ranges):
        lo, hi = min(r.lo for r in ranges), max(r.hi for r in ranges)
        p_max = 1 / (1 + (K - 1) * math.exp(lo - hi))
        if max(v for _, v in ys) > p_max + 1e-12:
            op = G.nodes[pairs[0][0]]["op"]
            return [Note("target-range", _(
                "the logits of {L} come from {op}, in {range}, so softmax gives any of the {K} "
                "classes at most {p} and can't match the target {target}. Leave the output "
                "linear (--output-activation identity).").format(
                    L=L, op=op, range=ranges[0], K=K, p=_num(p_max),
                    target=_num(max(v for _y, v in ys))), node)]
    return []


def _halves(args: tuple) -> list[tuple]:
    k = len(args) // 2
    return list(zip(args[:k], args[k:], strict=True))


def _residuals(G: nx.DiGraph) -> Iterable[tuple[str, str, object]]:
    """(error node, prediction, target) for the squared or absolute errors written out:
    (p − y)² or |p − y| with p bounded, y a leaf (the parser writes p − y as p + (−1·y))."""
    for v, data in G.nodes(data=True):
        if data.get("op") != "add" or len(data["args"]) != 2:
            continue
        if not all(isinstance(a, str) for a in data["args"]):
            continue
        squared = any(G.nodes[s].get("op") == "abs" or (
            G.nodes[s].get("op") == "pow" and G.nodes[s]["args"][1:] == (2,))
            for s in G.successors(v))
        if not squared:
            continue
        a, b = data["args"]
        for p, neg in ((a, b), (b, a)):
            y = _negated(G, neg)
            if y is not None and G.nodes[y]["kind"] != "op" and activation_range(G, p):
                yield v, p, y


def target_range(G: nx.DiGraph, output: str, values: Mapping[str, float],
                 reach: set[str] | None = None) -> list[Note]:
    """Outputs whose activation or loss can't match the target (needs the targets' values)."""
    reach = upstream(G, output) if reach is None else reach
    notes = []
    for n, op in G.nodes(data="op"):
        if op in LOSS_OPS and n in reach:
            pairs = _halves(G.nodes[n]["args"])
            notes += (_regression_targets(G, pairs, values, n, label(G, n)) if op == "mse" else
                      _bce_targets(G, n, pairs, values) if op == "bce_logits" else
                      _ce_targets(G, n, pairs, values))
    for v, p, y in _residuals(G):
        if v in reach:
            notes += _regression_targets(G, [(p, y)], values, v, label(G, output))
    return notes


# --- gradient descent that stopped too early ---------------------------------------------------


def not_converged(G: nx.DiGraph, output: str, descent) -> list[Note]:
    """``--sgd`` that ends far from a stationary point, or whose loss grew.

    Converged means ‖∇L‖ at the end ≤ CONVERGED·‖∇L‖ at the start (or ≤ GRADIENT_FLOOR).
    Otherwise the note gives the ratio and, from the last recorded steps' rate, roughly how
    many more steps the same α would need.
    """
    from .train import gradient_norm

    steps, lr = descent.steps, descent.lr
    first, last = descent.rows[0], descent.rows[-1]
    L = label(G, output)
    if not math.isfinite(last[1]) or last[1] > first[1]:
        return [Note("not-converged", _(
            "--sgd diverged: {L} grew from {first} to {last} in {steps} steps; α = {lr} is too "
            "large here, try α = {smaller}.").format(
                L=L, first=_num(first[1]), last=_num(last[1]), steps=steps, lr=_num(lr),
                smaller=_num(lr / 10)), output)]
    start = {**descent.final, **first[2]}
    g0, g = gradient_norm(G, output, start), gradient_norm(G, output, descent.final)
    if not math.isfinite(g) or g <= max(CONVERGED * g0, GRADIENT_FLOOR):
        return []
    more = _steps_to_go(G, output, descent, g, CONVERGED * g0)
    reached = _point_text(G, {**last[2]}) + ("" if len(last[2]) > 4 else
                                            f", {L} = {_num(last[1])}")
    return [Note("not-converged", _(
        "not converged after {steps} steps: the gradient is still {percent} of its starting "
        "size (‖∇{L}‖ = {g0} → {g}), so where it stopped ({reached}) is not yet a "
        "minimum{more}. Try more steps (--steps) or a larger α (now {lr}).").format(
            steps=steps, percent=f"{100 * g / g0:.2g}%", L=L, g0=_num(g0), g=_num(g),
            reached=reached, more=more, lr=_num(lr)), output)]


def _steps_to_go(G: nx.DiGraph, output: str, descent, g: float, target: float) -> str:
    """``; at this rate about 2,300 more steps``, from the gradient's shrinking since the
    previous recorded step (linear convergence), or the empty string."""
    from .train import gradient_norm

    if len(descent.rows) < 2:
        return ""
    step, _loss, params = descent.rows[-2]
    gone = descent.steps - step
    g_before = gradient_norm(G, output, {**descent.final, **params})
    if not (0 < g < g_before) or gone <= 0:
        return _("; the gradient is not shrinking")
    rate = (g / g_before) ** (1 / gone)
    more = math.log(target / g) / math.log(rate)
    return _("; at this rate about {n} more steps").format(n=f"{more:,.0f}") \
        if math.isfinite(more) else ""
