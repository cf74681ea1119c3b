"""The one mathematical printer: what a person reads, in Unicode text, LaTeX and MathML.

What it does: prints sympy expressions as the course writes them, with the same choices in
every format:

- products with ``·`` (``3·c``, ``x1·A′(f2)``), quotients with ``/`` (``−b/2``), and a true
  minus ``−`` (U+2212) in sums, signs and numbers (``out − y1``, ``−0.5``);
- small integer powers as superscripts (``x²``, ``(out − y1)²``), a negative power as a
  quotient (``1/x²``), ``√x``, and ``eˣ`` where the exponent is short (``exp(…)`` otherwise);
- the op table's functions by their course names: ``σ(z)``, ``relu(x)``, ``elu(x)``,
  ``softplus(x)``, ``|x|``, ``log(x)`` (the seed writes log);
- piecewise functions as cases, ``(1 if x > 0, else 0)``, for sympy's ``Piecewise`` and
  ``Heaviside`` (never their names); LaTeX writes ``\\begin{cases}``;
- numbers compactly: ``0.25`` (not ``0.250000000000000``), exact rationals as ``1/4``,
  ``1.5×10⁻⁵`` for very small or large floats, and a value within 1e-12 of its scale as 0;
- node symbols by their labels (``w1[1,2]``, ``linear.weight[0,0]``, ``∂loss/∂A(f2)``),
  from a ``labels`` map of symbol name → label.

The printers dispatch on the expression's class (sympy's ``_print_<Class>``); the choices
they share (how a product splits into sign, numerator and denominator, which terms of a sum
are subtracted, what the cases of a piecewise function are) are made once, here, by
:func:`product_parts`, :func:`sum_terms` and :func:`cases`.

What it does not do: machine-readable text. JSON and ``--format program`` keep sympy's own
``str``, which sympy parses back. Printing is linear in the size of the expression: a sum or
product of more than :data:`WIDE` terms is printed in the order it was built (sympy's
canonical ordering is quadratic).
"""

from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache
from typing import ClassVar

import sympy
from sympy.printing.latex import LatexPrinter
from sympy.printing.mathml import MathMLPresentationPrinter
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

from . import ops

MINUS = "−"  # U+2212
WIDE = 64  # a sum or product with more terms prints in the order it was built
ZERO = 1e-12  # a value within ZERO × its scale prints as 0
VALUE_DIGITS = 6  # significant digits of a value (number())
CONSTANT_DIGITS = 12  # significant digits of a float inside an expression
SHORT_EXPONENT = 2  # characters of an exponent written as superscripts (eˣ, e⁻ˣ, 2ⁿ)

_SUPERSCRIPT = dict(zip("0123456789+−-=()abcdefghijklmnoprstuvwxyz",
                        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻ", strict=True))
_RELATIONS = {"==": "=", "!=": "≠", ">=": "≥", "<=": "≤", ">": ">", "<": "<"}


# --- the shared choices --------------------------------------------------------------------------


def superscript(text: str) -> str | None:
    """``x²``'s ``²``: the text in superscript characters, or None when one has none."""
    out = [_SUPERSCRIPT.get(c) for c in text]
    return None if None in out else "".join(out)


def _float_parts(x: float, digits: int) -> tuple[str, int | None]:
    """(mantissa, power of ten or None) of a finite, non-negative float."""
    if x == int(x) and x < 1e15:
        return str(int(x)), None
    text = f"{x:.{digits}g}"
    if "e" not in text:
        return text, None
    mantissa, exponent = text.split("e")
    return mantissa, int(exponent)


def number(x: float, scale: float | None = None, digits: int = VALUE_DIGITS) -> str:
    """A number as a person reads it: ``3``, ``0.25``, ``−0.5``, ``1.5×10⁻⁵``, ``∞``, ``nan``.

    ``scale`` is the size of what was added up to make ``x`` (the largest term of a sum): a
    value within :data:`ZERO` × scale is rounding, and prints as 0.

    Examples
    --------
    >>> number(0.25), number(-3.0), number(1.81664e-05), number(2.77556e-17, scale=0.1)
    ('0.25', '−3', '1.81664×10⁻⁵', '0')
    """
    if math.isnan(x):
        return "nan"
    if scale is not None and abs(x) <= ZERO * abs(scale):
        return "0"
    sign = MINUS if x < 0 else ""
    if math.isinf(x):
        return sign + "∞"
    mantissa, power = _float_parts(abs(x), digits)
    return sign + mantissa + ("" if power is None else f"×10{superscript(str(power))}")


def latex_number(x: float, scale: float | None = None, digits: int = VALUE_DIGITS) -> str:
    """:func:`number` in LaTeX: ``-0.5``, ``1.5 \\times 10^{-5}``, ``\\infty``.

    Examples
    --------
    >>> latex_number(-0.5), latex_number(1.81664e-05)
    ('-0.5', '1.81664 \\\\times 10^{-5}')
    """
    if math.isnan(x):
        return r"\mathrm{nan}"
    if scale is not None and abs(x) <= ZERO * abs(scale):
        return "0"
    sign = "-" if x < 0 else ""
    if math.isinf(x):
        return sign + r"\infty"
    mantissa, power = _float_parts(abs(x), digits)
    return sign + mantissa + ("" if power is None else rf" \times 10^{{{power}}}")


def _is_unevaluated(expr: sympy.Mul) -> bool:
    """A product built with evaluate=False (``3*u``, ``x*x``): printed in its own order."""
    args = expr.args
    return args[0] is sympy.S.One or any(a.is_Number for a in args[1:])


def _negative_exponent(factor: sympy.Expr) -> bool:
    if not (factor.is_Pow and factor.is_commutative):
        return False
    coeff = factor.exp.as_coeff_Mul()[0]
    return bool(coeff.is_extended_negative)


def product_parts(expr: sympy.Mul, keep_order: bool = False):
    """A product as (negative, numerator factors, denominator factors).

    Signs of numbers become one sign, a rational p/q puts p above and q below, a negative
    power goes below; unit factors are left out. Factors keep the order they were built in
    when ``keep_order`` (or when the product was built unevaluated, or is wide); otherwise
    they follow sympy's order, with sums last.

    Examples
    --------
    >>> b, y = sympy.symbols("b y")
    >>> product_parts(sympy.Mul(-1, sympy.Rational(1, 2), b, evaluate=False))
    (True, [b], [2])
    >>> product_parts(3 * y / b**2)
    (False, [3, y], [b**2])
    """
    args = expr.args
    if not (keep_order or len(args) > WIDE or _is_unevaluated(expr)):
        # sympy's order, with sums last: 2·x·(out − y), σ(z)·(1 − σ(z)); for plain symbols
        # that order is by name (Mul.as_ordered_factors, made directly)
        ordered = _symbols_then_sum(args)
        if ordered is None:
            ordered = expr.as_ordered_factors()
        args = [f for f in ordered if not f.is_Add] + [f for f in ordered if f.is_Add]
    negative, above, below = False, [], []
    for f in args:
        if f.is_Number:
            if f.is_extended_negative:
                negative, f = not negative, -f
            if f.is_Rational and not f.is_Integer:
                above += [sympy.Integer(f.p)] if f.p != 1 else []
                below.append(sympy.Integer(f.q))
                continue
            if f is sympy.S.One:
                continue
            above.append(f)
        elif _negative_exponent(f):
            exponent = -f.exp
            below.append(f.base if exponent == 1 else sympy.Pow(f.base, exponent, evaluate=False))
        else:
            above.append(f)
    return negative, above, below


def _name(symbol: sympy.Symbol) -> str:
    return symbol.name


def _symbols_then_sum(args) -> list | None:
    """sympy's order of a product's factors (``Mul.as_ordered_factors``) where it is plain:
    at most one number first (a leading negative one split as −1 and its magnitude, as
    ``Mul.args_cnc`` splits it), then symbols by name, and at most one sum (which goes last
    anyway); else None."""
    numbers = [a for a in args if a.is_Number]
    symbols = [a for a in args if type(a) is sympy.Symbol]
    sums = [a for a in args if type(a) is sympy.Add]
    if len(numbers) + len(symbols) + len(sums) != len(args) or len(sums) > 1 or \
            len(numbers) > 1 or not all(a.is_commutative for a in args):
        return None
    first = numbers and args[0] is numbers[0]  # args_cnc splits a leading negative number
    if first and numbers[0].is_extended_negative and numbers[0] is not sympy.S.NegativeOne:
        numbers = [sympy.S.NegativeOne, -numbers[0]]
    return numbers + sorted(symbols, key=_name) + sums


def _negative_term(term: sympy.Expr) -> bool:
    if term.is_Number:
        return bool(term.is_extended_negative)
    if term.is_Mul:
        return product_parts(term)[0]
    return False


def sum_terms(printer, expr: sympy.Add) -> list[tuple[bool, sympy.Expr]]:
    """The terms of a sum as (subtracted, term): ``a − 3·c`` is [(False, a), (True, -3*c)].
    A subtracted term is printed by its magnitude (the printers' ``_magnitude``)."""
    args = expr.args
    if len(args) > WIDE or printer.order == "none":
        terms = list(args)
    else:  # sympy's order, but a sum does not open with a minus when it need not: σ(z) − y
        plain = _plain_terms(args) if printer.order is None else None
        if plain is not None:  # products of symbols: none is subtracted
            return [(False, t) for t, _names in sorted(plain, key=_monomial_key)]
        terms = printer._as_ordered_terms(expr)
        signs = [_negative_term(t) for t in terms]
        return [(False, t) for t, s in zip(terms, signs, strict=True) if not s] + \
            [(True, t) for t, s in zip(terms, signs, strict=True) if s]
    return [(_negative_term(t), t) for t in terms]


def cases(expr: sympy.Expr) -> list[tuple[sympy.Expr, sympy.Basic | None]]:
    """A piecewise function as (value, condition) pairs; the last condition None means "else".

    ``Heaviside(x, 0)`` (relu′) is [(1, x > 0), (0, None)]; elu′ is
    [(1, x > 0), (α·eˣ, None)]; ``Heaviside(a − b, 1/2)`` (max′) is
    [(1, a > b), (1/2, a = b), (0, None)].
    """
    if isinstance(expr, sympy.Heaviside):
        lhs, rhs = _comparison(expr.args[0])
        h0 = expr.args[1] if len(expr.args) > 1 else sympy.S.Half
        gt, ge, eq = (sympy.Gt(lhs, rhs, evaluate=False), sympy.Ge(lhs, rhs, evaluate=False),
                      sympy.Eq(lhs, rhs, evaluate=False))
        if h0 == 0:
            return [(sympy.S.One, gt), (sympy.S.Zero, None)]
        if h0 == 1:
            return [(sympy.S.One, ge), (sympy.S.Zero, None)]
        return [(sympy.S.One, gt), (h0, eq), (sympy.S.Zero, None)]
    return [(e, None if c is sympy.true else c) for e, c in expr.args]


_COURSE_NAMES = {"maximum": "max", "minimum": "min"}


def course_name(expr: sympy.Expr) -> str:
    """The name a function is written with: ``max`` for the op table's ``maximum``."""
    name = expr.func.__name__
    return _COURSE_NAMES.get(name, name)


def _comparison(x: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr]:
    """``a − b`` as (a, b), so that H(a − b) reads ``1 if a > b``; anything else as (x, 0)."""
    if x.is_Add and len(x.args) == 2:
        p, q = x.args
        if _negative_term(p) != _negative_term(q):
            p, q = (q, p) if _negative_term(p) else (p, q)
            return p, -q
    return x, sympy.S.Zero


def _default_param(value: sympy.Expr, default: float) -> bool:
    return value.is_number and float(value) == default


def function_params(expr: sympy.Expr) -> list[tuple[str, sympy.Expr]]:
    """An op's parameters that differ from their defaults, as (name, value): elu's α,
    leaky_relu's slope s; ``elu(x, 1)`` prints as ``elu(x)``."""
    names = {ops.elu: ("α", 1.0), ops.leaky_relu: ("s", 0.01)}
    name, default = names[type(expr)]
    value = expr.args[1]
    return [] if _default_param(value, default) else [(name, value)]


# --- Unicode text -------------------------------------------------------------------------------


class Remembering:
    """A printer that prints each distinct subexpression once (a mixin before the printer's
    class). The expressions of a report share their subexpressions (the same σ(z) in every
    weight's formula, the same product in the chain and the factored sum), and sympy's
    printers print a shared subtree again for every use. A subexpression's text does not
    depend on where it appears (the settings are the printer's), so what was printed once
    is reused. Bounded: the memory is dropped past :data:`REMEMBERED` entries."""

    def __init__(self, settings=None):
        super().__init__(settings)
        self._memo: dict = {}

    def _print(self, expr, **kwargs):
        if kwargs or not isinstance(expr, sympy.Basic) or not expr.args:
            return super()._print(expr, **kwargs)
        memo = self._memo
        text = memo.get(expr)
        if text is None:
            text = super()._print(expr)
            if len(memo) >= REMEMBERED:
                memo.clear()
            memo[expr] = text
        return text


REMEMBERED = 200_000  # subexpressions remembered per printer


class _SympyStr(Remembering, StrPrinter):
    """sympy's own ``str``, remembering, and with sympy's own choices made directly for the
    commonest forms of a network's expressions: a product of plain symbols (``dL_dz*a``)
    and a sum of such products (``w1*x1 + w2*x2 + b``). sympy's canonical order of such a
    sum compares every term's exponent vector over all of the sum's symbols (quadratic);
    here it is the same order from each term's sorted names."""

    def _print_Mul(self, expr):
        names = _plain_names(expr.args)
        if names is None:
            return super()._print_Mul(expr)
        return "*".join(names if self.order in ("old", "none") else sorted(names))

    def _print_Add(self, expr, order=None):
        how = order or self.order
        terms = _plain_terms(expr.args) if how in (None, "none") else None
        if terms is None:
            return super()._print_Add(expr, order=order)
        if how is None:  # descending lex exponent vectors: see _monomial_key
            terms = sorted(terms, key=_monomial_key)
        return " + ".join(self._print(t) for t, _names in terms)


def _plain_names(args) -> list[str] | None:
    """The names of a product's factors when each is a plain commutative symbol."""
    names = []
    for a in args:
        if type(a) is not sympy.Symbol or not a.is_commutative:
            return None
        names.append(a.name)
    return names


def _plain_terms(args) -> list | None:
    """(term, its symbols' names) for a sum whose terms are plain symbols or products of
    them, each name naming one symbol; else None."""
    terms, symbols, names = [], set(), set()
    for t in args:
        if type(t) is sympy.Symbol:
            own = _plain_names((t,))
            factors = (t,)
        elif type(t) is sympy.Mul:
            own = _plain_names(t.args)
            factors = t.args
        else:
            return None
        if own is None or len(set(own)) != len(own):
            return None
        terms.append((t, own))
        symbols.update(factors)
        names.update(own)
    return terms if len(symbols) == len(names) else None


def _monomial_key(term) -> tuple:
    """sympy's order of a sum's terms (``Expr.as_ordered_terms``: exponent vectors over the
    symbols sorted by name, descending lexicographically), for terms that are products of
    distinct symbols: their sorted names compared in turn, a term before any term whose
    names continue its own (x*y before x)."""
    return (*((0, n) for n in sorted(term[1])), (1, ""))


_SYMPY_STR: dict[str | None, _SympyStr] = {}


def sympy_str(expr: sympy.Basic, order: str | None = None) -> str:
    """Exactly ``sympy.sstr(expr, full_prec=False, order=order)``, the machine-readable text
    of JSON (which sympy parses back), with each distinct subexpression printed once per
    process (:class:`Remembering`).

    Examples
    --------
    >>> x, y = sympy.symbols("x y")
    >>> sympy_str(2 * x * sympy.sin(y) + sympy.Float(0.5))
    '2*x*sin(y) + 0.5'
    """
    printer = _SYMPY_STR.get(order)
    if printer is None:
        printer = _SYMPY_STR[order] = _SympyStr({"full_prec": False, "order": order})
    return printer.doprint(expr)


class SignedTerms:
    """Sums and products as the text and LaTeX printers both write them (a mixin before the
    printer's class): a subtracted term by its magnitude after a minus, a sum inside a sum
    grouped, a quotient for negative powers. A printer gives its minus signs
    (``LEADING_MINUS``, ``MINUS_BETWEEN``), its grouping (``_grouped``) and ``_quotient``;
    the MathML printer, which builds nodes, shares only ``_magnitude``."""

    LEADING_MINUS = MINUS_BETWEEN = ""

    def _grouped(self, text: str) -> str:
        raise NotImplementedError

    def _print_Add(self, expr, order=None):
        out = []
        for i, (subtracted, term) in enumerate(sum_terms(self, expr)):
            text = self._magnitude(term) if subtracted else self._print(term)
            if term.is_Add:
                text = self._grouped(text)
            sign = (self.LEADING_MINUS if subtracted else "") if i == 0 else (
                self.MINUS_BETWEEN if subtracted else " + ")
            out.append(sign + text)
        return "".join(out)

    def _magnitude(self, term):
        """A subtracted term without its sign."""
        if term.is_Number:
            return self._print(-term)
        _negative, above, below = product_parts(term)
        return self._quotient(above, below)

    def _print_Mul(self, expr):
        negative, above, below = product_parts(expr, self.order == "none")
        return (self.LEADING_MINUS if negative else "") + self._quotient(above, below)


class TextPrinter(SignedTerms, StrPrinter):
    """Unicode text for people (see the module docstring for the choices)."""

    _default_settings: ClassVar[dict] = {**StrPrinter._default_settings, "labels": {},
                                         "full_prec": False}

    # atoms
    def _print_Symbol(self, expr):
        return self._settings["labels"].get(expr.name, expr.name)

    _print_Dummy = _print_Symbol

    def _print_Float(self, expr):
        return number(float(expr), digits=CONSTANT_DIGITS)

    def _print_Integer(self, expr):
        return str(expr.p).replace("-", MINUS)

    def _print_Rational(self, expr):
        sign = MINUS if expr.p < 0 else ""
        return f"{sign}{abs(expr.p)}/{expr.q}" if expr.q != 1 else f"{sign}{abs(expr.p)}"

    def _print_Pi(self, expr):
        return "π"

    def _print_Exp1(self, expr):
        return "e"

    def _print_Infinity(self, expr):
        return "∞"

    def _print_NegativeInfinity(self, expr):
        return MINUS + "∞"

    def _print_ComplexInfinity(self, expr):
        return "∞"

    def _print_ImaginaryUnit(self, expr):
        return "i"

    # sums, products (SignedTerms), powers
    LEADING_MINUS, MINUS_BETWEEN = MINUS, f" {MINUS} "

    def _grouped(self, text: str) -> str:
        return f"({text})"

    def _quotient(self, above, below):
        top = "·".join(self.parenthesize(f, PRECEDENCE["Mul"], strict=False) for f in above)
        top = top or "1"
        if not below:
            return top
        if len(below) == 1:
            return f"{top}/{self.parenthesize(below[0], PRECEDENCE['Mul'], strict=True)}"
        return f"{top}/(" + "·".join(self.parenthesize(f, PRECEDENCE["Mul"], strict=False)
                                     for f in below) + ")"

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.args
        if exponent is sympy.S.Half:
            return "√" + self._root_argument(base)
        if _negative_exponent(expr):
            return self._quotient([], [sympy.Pow(base, -exponent, evaluate=False)
                                       if exponent != -1 else base])
        b = self.parenthesize(base, PRECEDENCE["Pow"], strict=True)
        return b + self._exponent(exponent)

    def _root_argument(self, base):
        text = self._print(base)
        return text if base.is_Symbol or base.is_Function or (
            base.is_Number and not base.is_extended_negative) else f"({text})"

    def _exponent(self, exponent):
        """``²``, ``ˣ``, or ``^0.5``, ``^(n + 1)`` when superscripts cannot say it."""
        text = self._print(exponent)
        sup = superscript(text) if exponent.is_Integer or len(text) <= SHORT_EXPONENT else None
        if sup is not None:
            return sup
        atom = exponent.is_Symbol or (exponent.is_Number and not exponent.is_Rational) or \
            exponent.is_Integer
        return "^" + (text if atom and not text.startswith(MINUS) else f"({text})")

    def _print_exp(self, expr):
        text = self._print(expr.args[0])
        sup = superscript(text) if len(text) <= SHORT_EXPONENT else None
        return "e" + sup if sup else f"exp({text})"

    # functions
    def _call(self, name, args, params=()):
        items = [self._print(a) for a in args] + [f"{k}={self._print(v)}" for k, v in params]
        return f"{name}({', '.join(items)})"

    def _print_sigmoid(self, expr):
        return self._call("σ", expr.args)

    def _print_elu(self, expr):
        return self._call("elu", expr.args[:1], function_params(expr))

    def _print_leaky_relu(self, expr):
        return self._call("leaky_relu", expr.args[:1], function_params(expr))

    def _print_Abs(self, expr):
        return f"|{self._print(expr.args[0])}|"

    def _print_Function(self, expr):
        return self._call(course_name(expr), expr.args)

    # piecewise and conditions
    def _print_Piecewise(self, expr):
        """``(1 if x > 0, else 0)``: always in parentheses, so it reads as one factor."""
        rows = cases(expr)
        parts = [self._print(e) if c is None else f"{self._print(e)} if {self._print(c)}"
                 for e, c in rows]
        if rows[-1][1] is None and len(parts) > 1:
            parts[-1] = "else " + parts[-1]
        return "(" + ", ".join(parts) + ")"

    _print_Heaviside = _print_Piecewise

    def _print_Relational(self, expr):
        op = _RELATIONS.get(expr.rel_op, expr.rel_op)
        return f"{self._print(expr.lhs)} {op} {self._print(expr.rhs)}"

    def _print_And(self, expr):
        return " and ".join(self.parenthesize(a, PRECEDENCE["And"]) for a in expr.args)

    def _print_Or(self, expr):
        return " or ".join(self.parenthesize(a, PRECEDENCE["Or"]) for a in expr.args)

    def _print_Not(self, expr):
        return f"not {self.parenthesize(expr.args[0], PRECEDENCE['Not'])}"

    def _print_BooleanTrue(self, expr):
        return "true"

    def _print_BooleanFalse(self, expr):
        return "false"

    def parenthesize(self, item, level, strict=False):
        """As sympy's, and a number or product printed with a leading minus is a sum."""
        text = self._print(item)
        prec = precedence(item)
        if text.startswith(MINUS) and prec > PRECEDENCE["Add"]:
            prec = PRECEDENCE["Add"]
        if prec < level or (strict and prec <= level):
            return f"({text})"
        return text


_CACHED_LABELS = 16  # printings with at most this many labels are remembered


@lru_cache(maxsize=100_000)
def _text(expr: sympy.Expr, labels: tuple, order: str | None) -> str:
    return TextPrinter({"labels": dict(labels), "order": order}).doprint(expr)


def text(expr: sympy.Expr, labels: dict[str, str] | None = None,
         order: str | None = None) -> str:
    """Unicode text of ``expr`` for people: ``3·c``, ``(out − y1)²``, ``σ(z)·(1 − σ(z))``,
    ``(1 if x > 0, else 0)``.

    Parameters
    ----------
    expr : a sympy expression.
    labels : symbol name → how to show it (``{"w1_1_2": "w1[1,2]"}``).
    order : ``"none"`` prints sums and products in the order they were built (a factored
        path sum, in path order); by default sympy's canonical order.

    Examples
    --------
    >>> x, c, y1, out = sympy.symbols("x c y1 out")
    >>> text(3 * c), text(x**2), text((out - y1)**2), text(sympy.Heaviside(x, 0))
    ('3·c', 'x²', '(out − y1)²', '(1 if x > 0, else 0)')
    >>> text(sympy.Symbol("w1_1_2") * x, {"w1_1_2": "w1[1,2]"})
    'w1[1,2]·x'
    """
    if labels and len(labels) > _CACHED_LABELS:  # a whole graph's labels: not a cache key
        return _labelled(labels, order).doprint(expr)
    return _text(expr, tuple(sorted((labels or {}).items())), order)


class _RememberingText(Remembering, TextPrinter):
    """The text printer, remembering (for a whole graph's labels, printed many times)."""


_LABELLED: list = [None, {}]  # the labels map last printed with, and its printers by order


def _labelled(labels: dict[str, str], order: str | None) -> TextPrinter:
    """A remembering text printer for this labels map (a report prints hundreds of
    expressions with the same map; the map is not changed once printed with)."""
    if _LABELLED[0] is not labels:
        _LABELLED[:] = [labels, {}]
    printers = _LABELLED[1]
    if order not in printers:
        printers[order] = _RememberingText({"labels": labels, "order": order})
    return printers[order]


# --- LaTeX --------------------------------------------------------------------------------------


_LATEX_ESCAPES = str.maketrans({"_": r"\_", "{": r"\{", "}": r"\}", "#": r"\#", "%": r"\%",
                                "&": r"\&", "$": r"\$", "^": r"\^{}", "~": r"\~{}",
                                "\\": r"\backslash{}", "′": "'", " ": r"\ "})


_SUBSCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_SUBSCRIPTED = re.compile(r"([A-Za-z][A-Za-z0-9_]*|[^\W\d_]|[√])([₀₁₂₃₄₅₆₇₈₉]+)")
_SYMBOLS = {"√": r"\surd"}
_CALL = re.compile(r"([A-Za-z]\w*)\(([A-Za-z]\w*)\)")


def latex_label(label: str) -> str:
    """A label in LaTeX: an identifier as sympy writes a symbol (``x1`` → ``x_{1}``),
    ``∂loss/∂A(f2)`` as a fraction of partials, ``A(f2)`` as a function of ``f_{2}``, anything
    else upright (``\\mathrm{w1[1,2]}``).

    Examples
    --------
    >>> latex_label("x1"), latex_label("w1[1,2]"), latex_label("∂J/∂u")
    ('x_{1}', '\\\\mathrm{w1[1,2]}', '\\\\frac{\\\\partial J}{\\\\partial u}')
    """
    if label.startswith("∂") and "/∂" in label:
        top, bottom = label[1:].split("/∂", 1)
        return r"\frac{\partial %s}{\partial %s}" % (latex_label(top), latex_label(bottom))
    if label.isidentifier() and label.isascii():
        return sympy.latex(sympy.Symbol(label))
    call = _CALL.fullmatch(label)
    if call:  # A(f2), as the function of a node it is
        return r"%s\left(%s\right)" % (latex_label(call[1]), latex_label(call[2]))
    named = _SUBSCRIPTED.fullmatch(label)
    if named:  # an intermediate named by its op: σ₁, Π₂, lrelu₁
        return "%s_{%s}" % (_latex_stem(named[1]), named[2].translate(_SUBSCRIPT_DIGITS))
    return r"\mathrm{%s}" % label.translate(_LATEX_ESCAPES)


def _latex_stem(stem: str) -> str:
    if len(stem) == 1 and not stem.isascii():
        name = unicodedata.name(stem, "")
        if name.startswith("GREEK "):
            letter = name.split()[-1].lower()
            return "\\" + (letter.capitalize() if "CAPITAL" in name else letter)
        return _SYMBOLS.get(stem, r"\mathrm{%s}" % stem)
    return stem if len(stem) == 1 else r"\mathrm{%s}" % stem.translate(_LATEX_ESCAPES)


class LaTeXPrinter(SignedTerms, LatexPrinter):
    """LaTeX making the text printer's choices (``3 \\cdot c``, cases, σ, labels)."""

    _default_settings: ClassVar[dict] = {**LatexPrinter._default_settings, "labels": {},
                                         "mul_symbol": "dot", "full_prec": False}

    def _print(self, expr, **kwargs):
        # the op table's functions print themselves (their _latex) unless we say otherwise
        if isinstance(expr, _OP_FUNCTIONS):
            return getattr(self, "_print_" + type(expr).__name__)(expr)
        return super()._print(expr, **kwargs)

    def _print_Symbol(self, expr, style="plain"):
        label = self._settings["labels"].get(expr.name)
        if label is None and not (expr.name.isidentifier() and expr.name.isascii()):
            label = expr.name  # a label used as a name (w1[1,2], ∂loss/∂out)
        return latex_label(label) if label is not None else super()._print_Symbol(expr, style)

    def _print_Float(self, expr):
        x = float(expr)
        if not math.isfinite(x):
            return super()._print_Float(expr)
        mantissa, power = _float_parts(abs(x), CONSTANT_DIGITS)
        body = mantissa if power is None else rf"{mantissa} \times 10^{{{power}}}"
        return ("-" if x < 0 else "") + body

    LEADING_MINUS, MINUS_BETWEEN = "- ", " - "  # sums and products: SignedTerms

    def _grouped(self, text: str) -> str:
        return rf"\left({text}\right)"

    def _factor(self, f):
        tex = self._print(f)
        if precedence(f) < PRECEDENCE["Mul"] or tex.startswith("-"):
            return rf"\left({tex}\right)"
        return tex

    def _quotient(self, above, below):
        if below and len(above) == 1:
            top = self._print(above[0])
        else:
            top = r" \cdot ".join(self._factor(f) for f in above) or "1"
        if not below:
            return top
        bottom = r" \cdot ".join(self._factor(f) if len(below) > 1 else self._print(f)
                                 for f in below)
        return r"\frac{%s}{%s}" % (top, bottom)

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.args
        if _negative_exponent(expr):
            return self._quotient([], [sympy.Pow(base, -exponent, evaluate=False)
                                       if exponent != -1 else base])
        if exponent is sympy.S.Half:
            return r"\sqrt{%s}" % self._print(base)
        b = self._print(base)
        if precedence(base) <= PRECEDENCE["Pow"] or b.startswith("-") or (
                base.is_Rational and not base.is_Integer) or (base.is_Function and "^" in b):
            b = rf"\left({b}\right)"
        return "%s^{%s}" % (b, self._print(exponent))

    def _call(self, name, args, params=()):
        items = [self._print(a) for a in args] + [f"{_GREEK.get(k, k)}={self._print(v)}"
                                                  for k, v in params]
        return r"%s\left(%s\right)" % (name, ", ".join(items))

    def _print_sigmoid(self, expr):
        return self._call(r"\sigma", expr.args)

    def _print_relu(self, expr):
        return self._call(r"\operatorname{relu}", expr.args)

    def _print_softplus(self, expr):
        return self._call(r"\operatorname{softplus}", expr.args)

    def _print_elu(self, expr):
        return self._call(r"\operatorname{elu}", expr.args[:1], function_params(expr))

    def _print_leaky_relu(self, expr):
        return self._call(r"\operatorname{leaky\_relu}", expr.args[:1], function_params(expr))

    def _print_AppliedUndef(self, expr):
        name = expr.func.__name__.replace("′", "'")
        return self._call(name if len(name.rstrip("'")) == 1 else
                          r"\operatorname{%s}" % name.translate(_LATEX_ESCAPES), expr.args)

    def _print_Piecewise(self, expr):
        rows = [f"{self._print(e)} & " + (r"\text{else}" if c is None else
                                          rf"\text{{if }} {self._print(c)}")
                for e, c in cases(expr)]
        return r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}"

    _print_Heaviside = _print_Piecewise


_GREEK = {"α": r"\alpha"}
_OP_FUNCTIONS = (ops.sigmoid, ops.relu, ops.softplus, ops.elu, ops.leaky_relu)


@lru_cache(maxsize=100_000)
def _latex(expr: sympy.Expr, labels: tuple, order: str | None) -> str:
    return LaTeXPrinter({"labels": dict(labels), "order": order}).doprint(expr)


def latex(expr: sympy.Expr, labels: dict[str, str] | None = None,
          order: str | None = None) -> str:
    """LaTeX of ``expr``, making :func:`text`'s choices (labels are the same map of text
    labels; :func:`latex_label` turns each into LaTeX).

    Examples
    --------
    >>> x, c = sympy.symbols("x c")
    >>> latex(3 * c), latex(ops.sigmoid(x))
    ('3 \\\\cdot c', '\\\\sigma\\\\left(x\\\\right)')
    >>> latex(sympy.Heaviside(x, 0))
    '\\\\begin{cases} 1 & \\\\text{if } x > 0 \\\\\\\\ 0 & \\\\text{else} \\\\end{cases}'
    """
    if labels and len(labels) > _CACHED_LABELS:
        return LaTeXPrinter({"labels": labels, "order": order}).doprint(expr)
    return _latex(expr, tuple(sorted((labels or {}).items())), order)


# --- MathML (presentation) ----------------------------------------------------------------------


class MathMLPrinter(SignedTerms, MathMLPresentationPrinter):
    """Presentation MathML making the text printer's choices."""

    _default_settings: ClassVar[dict] = {**MathMLPresentationPrinter._default_settings,
                                         "labels": {}, "mul_symbol": "dot"}

    def _el(self, tag, *children, text=None):
        node = self.dom.createElement(tag)
        if text is not None:
            node.appendChild(self.dom.createTextNode(text))
        for child in children:
            node.appendChild(child)
        return node

    def _row(self, *children):
        return self._el("mrow", *children)

    def _mo(self, text):
        return self._el("mo", text=text)

    def _fenced(self, node):
        return self._row(self._mo("("), node, self._mo(")"))

    def _print_Symbol(self, sym, style="plain"):
        label = self._settings["labels"].get(sym.name)
        if label is None and not (sym.name.isidentifier() and sym.name.isascii()):
            label = sym.name  # a label used as a name (w1[1,2], ∂loss/∂out)
        if label is None:
            return super()._print_Symbol(sym, style)
        if label.startswith("∂") and "/∂" in label:
            top, bottom = label[1:].split("/∂", 1)
            return self._el("mfrac", self._row(self._mo("∂"), self._el("mi", text=top)),
                            self._row(self._mo("∂"), self._el("mi", text=bottom)))
        return self._el("mi", text=label)

    def _number(self, x: float, digits: int):
        mantissa, power = _float_parts(abs(x), digits)
        node = self._el("mn", text=mantissa)
        if power is not None:
            node = self._row(node, self._mo("×"), self._el("msup", self._el("mn", text="10"),
                                                             self._el("mn", text=str(power))))
        return self._row(self._mo(MINUS), node) if x < 0 else node

    def _print_Float(self, expr):
        x = float(expr)
        return self._number(x, CONSTANT_DIGITS) if math.isfinite(x) else \
            self._el("mi", text=TextPrinter().doprint(expr))

    def _print_Integer(self, expr):
        return self._number(float(expr.p), CONSTANT_DIGITS) if abs(expr.p) < 10**15 else \
            self._el("mn", text=str(expr.p))

    def _print_Rational(self, expr):
        if expr.q == 1:
            return self._print_Integer(sympy.Integer(expr.p))
        frac = self._el("mfrac", self._el("mn", text=str(abs(expr.p))),
                        self._el("mn", text=str(expr.q)))
        return self._row(self._mo(MINUS), frac) if expr.p < 0 else frac

    def _print_Add(self, expr, order=None):
        row = self._row()
        for i, (subtracted, term) in enumerate(sum_terms(self, expr)):
            if subtracted or i > 0:
                row.appendChild(self._mo(MINUS if subtracted else "+"))
            node = self._magnitude(term) if subtracted else self._print(term)
            row.appendChild(self._fenced(node) if term.is_Add else node)
        return row

    def _print_Mul(self, expr):  # a DOM node, so its own sign (the magnitude is shared)
        negative, above, below = product_parts(expr, self.order == "none")
        node = self._quotient(above, below)
        return self._row(self._mo(MINUS), node) if negative else node

    def _factor(self, f):
        node = self._print(f)
        negative = (f.is_Number and f.is_extended_negative) or (f.is_Mul and product_parts(f)[0])
        return self._fenced(node) if precedence(f) < PRECEDENCE["Mul"] or negative else node

    def _product(self, factors):
        if len(factors) == 1:
            return self._factor(factors[0])
        row = self._row()
        for i, f in enumerate(factors):
            if i:
                row.appendChild(self._mo("·"))
            row.appendChild(self._factor(f))
        return row

    def _quotient(self, above, below):
        if below and len(above) == 1:
            top = self._print(above[0])
        else:
            top = self._product(above) if above else self._el("mn", text="1")
        if not below:
            return top
        bottom = self._product(below) if len(below) > 1 else self._print(below[0])
        return self._el("mfrac", top, bottom)

    def _print_Pow(self, expr):
        base, exponent = expr.args
        if _negative_exponent(expr):
            return self._quotient([], [sympy.Pow(base, -exponent, evaluate=False)
                                       if exponent != -1 else base])
        if exponent is sympy.S.Half:
            return self._el("msqrt", self._print(base))
        b = self._print(base)
        if precedence(base) <= PRECEDENCE["Pow"] or (base.is_Number and base.is_extended_negative):
            b = self._fenced(b)
        return self._el("msup", b, self._print(exponent))

    def _print_exp(self, expr):
        return self._el("msup", self._el("mi", text="e"), self._print(expr.args[0]))

    def _call(self, name, args, params=()):
        inner = self._row()
        items = [self._print(a) for a in args] + [
            self._row(self._el("mi", text=k), self._mo("="), self._print(v)) for k, v in params]
        for i, item in enumerate(items):
            if i:
                inner.appendChild(self._mo(","))
            inner.appendChild(item)
        return self._row(self._el("mi", text=name), self._mo("\u2061"), self._fenced(inner))

    def _print_sigmoid(self, expr):
        return self._call("σ", expr.args)

    def _print_elu(self, expr):
        return self._call("elu", expr.args[:1], function_params(expr))

    def _print_leaky_relu(self, expr):
        return self._call("leaky_relu", expr.args[:1], function_params(expr))

    def _print_Function(self, expr):
        return self._call(course_name(expr), expr.args)

    def _print_Abs(self, expr):
        return self._row(self._mo("|"), self._print(expr.args[0]), self._mo("|"))

    def _print_Relational(self, expr):
        op = _RELATIONS.get(expr.rel_op, expr.rel_op)
        return self._row(self._print(expr.lhs), self._mo(op), self._print(expr.rhs))

    def _print_Piecewise(self, expr):
        table = self._el("mtable")
        for e, c in cases(expr):
            when = self._el("mtext", text="else") if c is None else \
                self._row(self._el("mtext", text="if\u00a0"), self._print(c))
            table.appendChild(self._el("mtr", self._el("mtd", self._print(e)),
                                       self._el("mtd", when)))
        return self._row(self._mo("{"), table)

    _print_Heaviside = _print_Piecewise


def mathml(expr: sympy.Expr, labels: dict[str, str] | None = None,
           order: str | None = None) -> str:
    """Presentation MathML of ``expr`` (the content of a ``<math>`` element), making
    :func:`text`'s choices.

    Examples
    --------
    >>> mathml(3 * sympy.Symbol("c"))
    '<mrow><mn>3</mn><mo>&#183;</mo><mi>c</mi></mrow>'
    """
    return MathMLPrinter({"labels": dict(labels or {}), "order": order}).doprint(expr)
