"""The op table: the one place where an operation is defined.

Each row (an :class:`Op`) holds everything the rest of graphexplain needs to know about an
operation: its name and arity, how to build it in sympy, its local partial for each argument,
the torch function that computes it, where it has a kink, and how it is displayed. The parser,
the graph builder, the derivation, the printers and the verifier all *read* this table; none of
them knows any operation by itself. To add an operation, add one row to ``OPS``.

Subtraction, division and negation are not primitives: ``a - b = a + (-1)·b``,
``a / b = a · b^(-1)`` and ``-a = (-1)·a``.

This module does not import torch at start-up; torch functions import it when first called.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import sympy
from sympy.core.function import ArgumentIndexError


def _torch():
    import torch  # imported lazily: symbolic-only runs never pay for torch

    return torch


# --- sympy functions for the ops sympy does not have -----------------------------------------
# Each one knows its derivative (``fdiff``), so ``sympy.diff`` of a formula in leaf names works,
# and evaluates itself on numbers, so a formula can be evaluated with ``xreplace``.


def _is_real_number(x) -> bool:
    """A real constant, exact or not (3, 0.5, pi, cos(1)): the functions evaluate on it."""
    return bool(x.is_number and x.is_extended_real)


class sigmoid(sympy.Function):
    """σ(x) = 1 / (1 + e^(−x)); σ′(x) = σ(x)(1 − σ(x))."""

    @classmethod
    def eval(cls, x):
        if _is_real_number(x):
            return 1 / (1 + sympy.exp(-x))
        return None

    def fdiff(self, argindex=1):
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _latex(self, printer):
        return r"\sigma\left(%s\right)" % printer._print(self.args[0])


class relu(sympy.Function):
    """relu(x) = max(0, x); relu′(x) = H(x), with relu′(0) = 0 as in torch."""

    @classmethod
    def eval(cls, x):
        if _is_real_number(x):
            return x if x > 0 else sympy.S.Zero
        return None

    def fdiff(self, argindex=1):
        return sympy.Heaviside(self.args[0], 0)

    def _latex(self, printer):
        return r"\operatorname{relu}\left(%s\right)" % printer._print(self.args[0])


class softplus(sympy.Function):
    """softplus(x) = log(1 + e^x); softplus′(x) = σ(x)."""

    @classmethod
    def eval(cls, x):
        if _is_real_number(x):
            return sympy.log(1 + sympy.exp(x))
        return None

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _latex(self, printer):
        return r"\operatorname{softplus}\left(%s\right)" % printer._print(self.args[0])


class elu(sympy.Function):
    """elu(x, α) = x if x > 0 else α(e^x − 1); elu′(x) = 1 if x > 0 else α·e^x (torch at 0)."""

    nargs = 2

    @classmethod
    def eval(cls, x, alpha):
        if _is_real_number(x) and alpha.is_Number:
            return x if x > 0 else alpha * (sympy.exp(x) - 1)
        return None

    def fdiff(self, argindex=1):
        x, alpha = self.args
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return sympy.Piecewise((1, x > 0), (alpha * sympy.exp(x), True))

    def _latex(self, printer):
        return r"\operatorname{elu}\left(%s, %s\right)" % tuple(map(printer._print, self.args))


class leaky_relu(sympy.Function):
    """leaky_relu(x, s) = x if x > 0 else s·x; derivative 1 if x > 0 else s (torch at 0)."""

    nargs = 2

    @classmethod
    def eval(cls, x, slope):
        if _is_real_number(x) and slope.is_Number:
            return x if x > 0 else slope * x
        return None

    def fdiff(self, argindex=1):
        x, slope = self.args
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return sympy.Piecewise((1, x > 0), (slope, True))

    def _latex(self, printer):
        args = tuple(map(printer._print, self.args))
        return r"\operatorname{leaky\_relu}\left(%s, %s\right)" % args


class maximum(sympy.Function):
    """max(a, b); ∂/∂a = 1 if a > b, 0 if a < b, and ½ at a tie, as torch.maximum splits it."""

    nargs = 2

    @classmethod
    def eval(cls, a, b):
        if _is_real_number(a) and _is_real_number(b):
            return a if a >= b else b
        return None

    def fdiff(self, argindex=1):
        a, b = self.args
        if argindex not in (1, 2):
            raise ArgumentIndexError(self, argindex)
        mine, other = (a, b) if argindex == 1 else (b, a)
        return sympy.Heaviside(mine - other, sympy.S.Half)

    def _latex(self, printer):
        return r"\max\left(%s, %s\right)" % tuple(map(printer._print, self.args))


# --- the table ---------------------------------------------------------------------------------

Expr = sympy.Expr
Partial = Callable[[int, Sequence[Expr], Expr, Mapping[str, Expr]], Expr]


@dataclass(frozen=True)
class Op:
    """One row of the op table.

    Attributes
    ----------
    name : the op's name, as stored in the graph's ``op`` attribute (and, for functions, as the
        user calls it).
    arity : the number of differentiable arguments; ``None`` means variadic (two or more).
    build : ``build(*args, **params)`` returns the sympy expression of the op, keeping the
        structure the user wrote (``x*x`` stays ``x*x``).
    partial : ``partial(i, args, out, params)`` is ∂out/∂args[i], written in the argument
        symbols and, where that is shorter, in the op's own output symbol ``out``.
    torch : ``torch(*args, **params)`` computes the op on tensors (float64).
    symbol : how a diagram shows the op.
    infix : the operator the parser maps to this op (``+``, ``*``, ``**``), or None when the
        user calls it by name.
    params : the op's numeric, non-differentiable parameters and their defaults.
    kink : ``kink(arg_values, params)`` is True where the op is not differentiable; there the
        partial follows torch's convention.
    maths : one line of maths, shown in ``graphexplain ops``.
    network_only : made by the network builders (``graphexplain mlp``, ``torch``), never
        written in a program: ``explain`` refuses it, and ``ops`` lists it apart.
    instead : for a network-only row, what a program writes instead (``(out − y)²``).
    stem : the identifier an unnamed intermediate of this op is named after (``sigma`` gives
        ``sigma1``, ``sigma2``, …); the op's name by default.
    stem_label : the same, for display (``σ`` gives ``σ₁``); the stem by default.
    """

    name: str
    arity: int | None
    build: Callable[..., Expr]
    partial: Partial
    torch: Callable
    symbol: str
    maths: str
    infix: str | None = None
    params: Mapping[str, float] = field(default_factory=dict)
    kink: Callable[[Sequence[float], Mapping[str, float]], bool] | None = None
    network_only: bool = False
    instead: str = ""
    elementwise: bool = True  # torch(*vectors) computes one result per element
    stem: str = ""
    stem_label: str = ""

    @property
    def user(self) -> bool:
        """Whether a program may use this op (the opposite of ``network_only``)."""
        return not self.network_only

    @property
    def callable(self) -> bool:
        """Whether the user writes this op as a function call, ``name(x, …)``; the layer and
        loss rows are made by the network builders, not written in programs."""
        return self.infix is None and self.user

    @property
    def intermediate(self) -> tuple[str, str]:
        """(identifier stem, display stem) for naming this op's unnamed results: ``sigma``,
        ``σ``."""
        stem = self.stem or self.name
        return stem, self.stem_label or stem


def _others_product(i, args, out, params):
    """∂(a₀·a₁·…)/∂aᵢ = Π_{k≠i} a_k."""
    others = [a for k, a in enumerate(args) if k != i]
    # a·b (the common case): the other factor itself, without sympy's Mul of one argument
    return others[0] if len(others) == 1 else sympy.Mul(*others)


def _pow_partial(i, args, out, params):
    """∂(b^e)/∂b = e·b^(e−1); ∂(b^e)/∂e = b^e·log b."""
    base, exponent = args
    return exponent * base ** (exponent - 1) if i == 0 else out * sympy.log(base)


def _mul_build(*args):
    # evaluate=False keeps x*x as written, and 3*(a+v) undistributed.
    return sympy.Mul(*args, evaluate=False)


def _add_build(*args):
    return sympy.Add(*args, evaluate=False)


def _pow_build(base, exponent):
    return sympy.Pow(base, exponent, evaluate=False)


def _unary(fn):
    """Adapt a one-argument torch function name to the ``torch(*args, **params)`` protocol."""
    return lambda x: getattr(_torch(), fn)(x)


def _product(*xs):
    out = xs[0]
    for x in xs[1:]:
        out = out * x
    return out


def _sum(*xs):
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return out


def _at_zero(values, params):
    return values[0] == 0


def _tie(values, params):
    return values[0] == values[1]


def _max_partial(i, args, out, params):
    """∂max(a₀,a₁)/∂aᵢ = H(aᵢ − a₁₋ᵢ), with H(0) = ½: torch.maximum splits a tie evenly."""
    return sympy.Heaviside(args[i] - args[1 - i], sympy.S.Half)


OPS: dict[str, Op] = {
    op.name: op
    for op in [
        Op("add", None, _add_build, lambda i, a, o, p: sympy.S.One, _sum, "+",
           "∂(a₀+a₁+…)/∂aᵢ = 1", infix="+", stem="sum", stem_label="Σ"),
        Op("mul", None, _mul_build, _others_product, _product, "×",
           "∂(a₀·a₁·…)/∂aᵢ = Π_{k≠i} a_k", infix="*", stem="prod", stem_label="Π"),
        Op("pow", 2, _pow_build, _pow_partial, lambda b, e: _torch().pow(b, e), "^",
           "∂bᵉ/∂b = e·bᵉ⁻¹, ∂bᵉ/∂e = bᵉ·log b", infix="**"),
        Op("exp", 1, sympy.exp, lambda i, a, o, p: o, _unary("exp"), "exp",
           "exp′(x) = exp(x)"),
        Op("log", 1, sympy.log, lambda i, a, o, p: 1 / a[0], _unary("log"), "log",
           "log′(x) = 1/x"),
        Op("sqrt", 1, sympy.sqrt, lambda i, a, o, p: 1 / (2 * o), _unary("sqrt"), "√",
           "√′(x) = 1/(2√x)", stem_label="√"),
        Op("sin", 1, sympy.sin, lambda i, a, o, p: sympy.cos(a[0]), _unary("sin"), "sin",
           "sin′(x) = cos(x)"),
        Op("cos", 1, sympy.cos, lambda i, a, o, p: -sympy.sin(a[0]), _unary("cos"), "cos",
           "cos′(x) = −sin(x)"),
        Op("tanh", 1, sympy.tanh, lambda i, a, o, p: 1 - o**2, _unary("tanh"), "tanh",
           "tanh′(x) = 1 − tanh²(x)"),
        Op("sigmoid", 1, sigmoid, lambda i, a, o, p: o * (1 - o), _unary("sigmoid"), "σ",
           "σ′(x) = σ(x)(1 − σ(x))", stem="sigma", stem_label="σ"),
        Op("relu", 1, relu, lambda i, a, o, p: sympy.Heaviside(a[0], 0), _unary("relu"),
           "relu", "relu′(x) = (1 if x > 0, else 0), relu′(0) = 0 as torch", kink=_at_zero),
        Op("elu", 1, lambda x, alpha=1: elu(x, alpha),
           lambda i, a, o, p: elu(a[0], p["alpha"]).fdiff(1),
           lambda x, alpha=1.0: _torch().nn.functional.elu(x, alpha=alpha), "elu",
           "elu′(x) = (1 if x > 0, else α·eˣ)", params={"alpha": 1}, kink=_at_zero),
        Op("leaky_relu", 1, lambda x, slope=sympy.Rational(1, 100): leaky_relu(x, slope),
           lambda i, a, o, p: leaky_relu(a[0], p["slope"]).fdiff(1),
           lambda x, slope=0.01: _torch().nn.functional.leaky_relu(x, negative_slope=slope),
           "leaky_relu", "leaky_relu′(x) = (1 if x > 0, else s)",
           params={"slope": sympy.Rational(1, 100)}, kink=_at_zero, stem="lrelu"),
        Op("softplus", 1, softplus, lambda i, a, o, p: sigmoid(a[0]),
           lambda x: _torch().nn.functional.softplus(x), "softplus",
           "softplus′(x) = σ(x)"),
        Op("abs", 1, sympy.Abs, lambda i, a, o, p: sympy.sign(a[0]), _unary("abs"), "|·|",
           "|x|′ = sign(x), |·|′(0) = 0", kink=_at_zero),
        Op("max", 2, maximum, _max_partial, lambda a, b: _torch().maximum(a, b), "max",
           "∂max(a,b)/∂a = 1 if a > b, ½ if a = b, 0 if a < b (as torch.maximum)",
           kink=_tie),
        Op("identity", 1, lambda x: x, lambda i, a, o, p: sympy.S.One, lambda x: x * 1.0, "id",
           "id′(x) = 1", stem="id"),
    ]
}

# --- layer and loss rows, used by the network builders (nn) -----------------------------------


def _linear_build(*args):
    """w₁·x₁ + w₂·x₂ + … (+ b): arguments alternate weight, input; an odd last one is the bias."""
    pairs = [sympy.Mul(args[k], args[k + 1], evaluate=False) for k in range(0, len(args) - 1, 2)]
    bias = [args[-1]] if len(args) % 2 else []
    return pairs[0] if len(pairs) == 1 and not bias else sympy.Add(*pairs, *bias, evaluate=False)


def _linear_partial(i, args, out, params):
    """∂(Σ wₖxₖ + b)/∂wₖ = xₖ, ∂/∂xₖ = wₖ, ∂/∂b = 1."""
    if len(args) % 2 and i == len(args) - 1:
        return sympy.S.One
    return args[i + 1] if i % 2 == 0 else args[i - 1]


def _linear_torch(*args):
    total = _sum(*(args[k] * args[k + 1] for k in range(0, len(args) - 1, 2)))
    return total + args[-1] if len(args) % 2 else total


def _halves(args):
    """(outputs, targets): a loss takes o₁…o_K then y₁…y_K."""
    k = len(args) // 2
    return args[:k], args[k:]


def _mse_build(*args):
    o, y = _halves(args)
    terms = [sympy.Pow(sympy.Add(a, -b), 2, evaluate=False) for a, b in zip(o, y)]
    total = terms[0] if len(terms) == 1 else sympy.Add(*terms, evaluate=False)
    return total if len(o) == 1 else sympy.Mul(sympy.Rational(1, len(o)), total, evaluate=False)


def _mse_partial(i, args, out, params):
    """∂/∂oₖ (1/K)Σ(oⱼ − yⱼ)² = 2(oₖ − yₖ)/K, and the negative of that for yₖ."""
    o, y = _halves(args)
    k, sign = (i, 1) if i < len(o) else (i - len(o), -1)
    # unevaluated, so that it reads 2*(out - y)/K rather than 2*out/K - 2*y/K
    return sympy.Mul(sympy.Rational(2 * sign, len(o)), o[k] - y[k], evaluate=False)


def _stack(xs):
    torch = _torch()
    return torch.stack([torch.as_tensor(x, dtype=torch.float64) for x in xs])


def _mse_torch(*args):
    o, y = _halves(args)
    return _torch().nn.functional.mse_loss(_stack(o), _stack(y))


def _logsumexp(o):
    return sympy.log(sympy.Add(*(sympy.exp(a) for a in o)))


def _ce_build(*args):
    """−Σₖ yₖ·log softmax(o)ₖ = −Σₖ yₖ·(oₖ − log Σⱼ e^{oⱼ})."""
    o, y = _halves(args)
    lse = _logsumexp(o)
    return -sympy.Add(*(b * (a - lse) for a, b in zip(o, y)))


def _ce_partial(i, args, out, params):
    """∂/∂oₖ = softmax(o)ₖ·Σⱼyⱼ − yₖ (= softmax − y for a one-hot y); ∂/∂yₖ = −log softmax(o)ₖ."""
    o, y = _halves(args)
    if i < len(o):
        softmax = sympy.exp(o[i]) / sympy.Add(*(sympy.exp(a) for a in o))
        return softmax * sympy.Add(*y) - y[i]
    return -(o[i - len(o)] - _logsumexp(o))


def _ce_torch(*args):
    o, y = _halves(args)
    return -(_stack(y) * _torch().log_softmax(_stack(o), dim=0)).sum()


def _bce_build(*args):
    """(1/K)Σₖ softplus(oₖ) − oₖ·yₖ: BCEWithLogitsLoss, −[y·log σ(o) + (1−y)·log(1−σ(o))]."""
    o, y = _halves(args)
    terms = [softplus(a) - a * b for a, b in zip(o, y)]
    return sympy.Add(*terms) / len(o)


def _bce_partial(i, args, out, params):
    """∂/∂oₖ = (σ(oₖ) − yₖ)/K; ∂/∂yₖ = −oₖ/K."""
    o, y = _halves(args)
    if i < len(o):
        return sympy.Mul(sympy.Rational(1, len(o)), sigmoid(o[i]) - y[i], evaluate=False)
    return -o[i - len(o)] / len(o)


def _bce_torch(*args):
    o, y = _halves(args)
    return _torch().nn.functional.binary_cross_entropy_with_logits(_stack(o), _stack(y))


OPS.update({
    op.name: op
    for op in [
        Op("linear", None, _linear_build, _linear_partial, _linear_torch, "Σw·x+b",
           "∂(Σₖ wₖxₖ + b)/∂wₖ = xₖ, ∂/∂xₖ = wₖ, ∂/∂b = 1", network_only=True,
           instead="w1·x1 + w2·x2 + b"),
        Op("mse", None, _mse_build, _mse_partial, _mse_torch, "MSE",
           "∂/∂oₖ (1/K)Σ(oⱼ − yⱼ)² = 2(oₖ − yₖ)/K   (nn.MSELoss)", network_only=True,
           instead="(out − y)², or ((o1 − y1)² + (o2 − y2)²)/2 for two outputs",
           elementwise=False),
        Op("cross_entropy", None, _ce_build, _ce_partial, _ce_torch, "CE",
           "∂/∂oₖ −Σ yⱼ log softmax(o)ⱼ = softmax(o)ₖ·Σy − yₖ", network_only=True,
           instead="−(y1·ln(p1) + y2·ln(p2)) with p1 = e^o1/(e^o1 + e^o2), p2 = …",
           elementwise=False),
        Op("bce_logits", None, _bce_build, _bce_partial, _bce_torch, "BCE",
           "∂/∂oₖ (1/K)Σ softplus(oⱼ) − oⱼyⱼ = (σ(oₖ) − yₖ)/K   (nn.BCEWithLogitsLoss)",
           network_only=True, elementwise=False,
           instead="softplus(o) − o·y, which is −(y·ln σ(o) + (1 − y)·ln(1 − σ(o)))"),
    ]
})

def _np():
    import numpy

    return numpy


#: numpy implementations of the sympy functions defined above, for compiled evaluation
#: (``sympy.lambdify`` knows exp, log, Heaviside, sign, Piecewise, … by itself).
NUMERIC: dict[str, Callable] = {
    "sigmoid": lambda x: 1 / (1 + _np().exp(-x)),
    "relu": lambda x: _np().maximum(x, 0.0),
    "softplus": lambda x: _np().logaddexp(0.0, x),
    "elu": lambda x, alpha: _np().where(x > 0, x, alpha * _np().expm1(x)),
    "leaky_relu": lambda x, slope: _np().where(x > 0, x, slope * x),
    "maximum": lambda a, b: _np().maximum(a, b),
}

#: C implementations of the same functions, for the compiled gradient program (codegen):
#: name → (parameter list, expression).
C_FUNCTIONS: dict[str, tuple[str, str]] = {
    "sigmoid": ("double x", "1.0 / (1.0 + exp(-x))"),
    "relu": ("double x", "x > 0 ? x : 0.0"),
    "softplus": ("double x", "x > 0 ? x + log1p(exp(-x)) : log1p(exp(x))"),
    "elu": ("double x, double alpha", "x > 0 ? x : alpha * expm1(x)"),
    "leaky_relu": ("double x, double slope", "x > 0 ? x : slope * x"),
    # NaN in either argument gives NaN, as numpy.maximum and torch.maximum do
    "maximum": ("double a, double b", "(a > b || a != a) ? a : b"),
}

#: Named constants the parser accepts.
CONSTANTS: dict[str, Expr] = {"pi": sympy.pi}

#: Other names for functions of the table: the course's ``σ(z)`` and ``ln x``, and
#: ``maximum``, the sympy function of max (which the program printer writes).
#: (``max(0, x)`` is read as ``relu(x)`` by the parser, and ``e^x`` as ``exp(x)``.)
ALIASES: dict[str, str] = {"σ": "sigmoid", "ln": "log", "maximum": "max"}

#: The user-callable functions, by name.
FUNCTIONS: dict[str, Op] = {name: op for name, op in OPS.items() if op.callable}

#: The rows only the network builders make (``graphexplain mlp``, ``graphexplain torch``).
NETWORK_ONLY: dict[str, Op] = {name: op for name, op in OPS.items() if op.network_only}

#: Operator → op, for the parser.
INFIX: dict[str, Op] = {op.infix: op for op in OPS.values() if op.infix}


def as_expr(x) -> sympy.Expr:
    """A number of ours (never user text) as a sympy number: an op's default parameter, or
    what a build returned for number arguments."""
    if isinstance(x, sympy.Basic):
        return x
    return sympy.Float(x) if isinstance(x, float) else sympy.Integer(x)


def get(name: str) -> Op:
    """The row for ``name``; raises :class:`~graphexplain.errors.UnsupportedOpError`."""
    from .errors import UnsupportedOpError

    try:
        return OPS[name]
    except KeyError:
        raise UnsupportedOpError(f"unknown op '{name}'; known ops: {', '.join(OPS)}") from None


def check_arity(op: Op, n: int) -> bool:
    """Whether ``op`` accepts ``n`` differentiable arguments."""
    return n >= 2 if op.arity is None else n == op.arity
