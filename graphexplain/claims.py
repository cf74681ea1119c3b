"""Read a claim: what a student writes on paper, ``∂J/∂b = 3c``, against a derivation.

It is read with the same safe parser and notation as programs (:mod:`graphexplain.parse`),
plus the seed's notation for the chain rule's factors:

- the graph's intermediate names (``f2``, ``g1``, ``out``, ``u``) and labels (``w1[1,2]``);
- ``A′(f2)`` (the network's activation, differentiated at f2), ``σ′(z)``, ``tanh′(z)``,
  ``relu′(z)``, …, also typed ``A'(f2)``; ``A(f2)`` is the activation's value;
- ``∂loss/∂out`` or ``dloss/dout`` (and ``∇out``, as the seed writes it) as the name of that
  value: the adjoint of ``out``; ``∂u/∂a`` for any two nodes;
- the seed's LaTeX (``\\cfrac{\\partial J}{\\partial c}``, ``A^{\\prime}\\left( f_2 \\right)``,
  ``\\times``), full-width ``（）＝`` and subscripts ``x_1``.

The pieces the parser must not see (``A′(f2)``, ``∂loss/∂out``) become placeholder names whose
sympy expressions are kept aside; nothing is evaluated as code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import networkx as nx
import sympy

from . import ops
from .derive import Derivation
from .derive import adjoints as derive_adjoints
from .errors import GraphExplainError, ParseError
from .graph import label, resolve, symbol, upstream
from .parse import Apply, Num, Ref, parse
from .parse import identifier as identifier_of

JUXTAPOSED_MAX_NODES = 200  # a claim may write 3bc for 3·b·c on graphs up to this size


class ClaimError(GraphExplainError):
    """A claim that cannot be read, or that names what the graph does not have (exit 2)."""


# --- reading a claim ----------------------------------------------------------------------------

_NAME = r"[^\W\d]\w*(?:\.\w+)*(?:\[[^\]]*\])?"
_LHS = re.compile(rf"^\s*(∂|d)\s*({_NAME})\s*/\s*(∂|d)\s*({_NAME})\s*$")
_DERIV = re.compile(rf"(?<![\w\]])(∂|d)\s*({_NAME})\s*/\s*(∂|d)\s*({_NAME})")
_NABLA = re.compile(rf"∇\s*({_NAME})")
_PRIME = re.compile(r"([^\W\d]\w*)\s*(?:′|'|’|\\prime)\s*\(")
_ACT_CALL = re.compile(r"(?<![\w′'])A\s*\(\s*([^\W\d]\w*(?:\[[^\]]*\])?)\s*\)")


@dataclass(frozen=True)
class Claim:
    """One claim, read: ``∂output/∂wrt = expr``.

    Attributes
    ----------
    text : as the user wrote it.
    output, wrt : node ids.
    expr : the claimed formula in node symbols (leaves and intermediates); the ``∂loss/∂out``
        it names are replaced by the derivation's adjoints, also in node symbols.
    shown : the claimed formula as the user wrote it (in the seed's notation, which the
        printer would expand).
    derivation : the derivation it is judged in (the output's, or an intermediate's).
    circular : whether the formula uses the very derivative it claims (∂J/∂b = ∂J/∂b).
    """

    text: str
    output: str
    wrt: str
    expr: sympy.Expr
    shown: str
    derivation: Derivation = field(repr=False, compare=False)
    circular: bool = False


_FULL_WIDTH = str.maketrans({"（": "(", "）": ")", "＝": "=", "［": "[", "］": "]", "＋": "+",
                             "－": "-", "／": "/", "’": "'", "＊": "*"})
_LATEX_WORDS = {"partial": "∂", "nabla": "∇", "times": "×", "cdot": "·", "sigma": "σ",
                "prime": "′", "ln": "ln", "log": "log", "exp": "exp", "tanh": "tanh",
                "sin": "sin", "cos": "cos", "max": "max"}
_LATEX_SIZING = re.compile(r"\\(?:left|right|big|Big|bigg|Bigg)(?![A-Za-z])")
_LATEX_SPACING = re.compile(r"\\[,;:! ]")


def normalize(text: str, G: nx.DiGraph) -> str:
    """A claim as typed in the seed's notation, made plain: full-width ``（）＝``, LaTeX
    (``\\cfrac{\\partial J}{\\partial c}``, ``A^{\\prime}\\left( f_2 \\right)``, ``\\times``,
    ``\\nabla out``), and subscripts ``x_1``, ``w_1[1,2]`` for the graph's ``x1``, ``w1[1,2]``."""
    text = text.translate(_FULL_WIDTH)
    if "\\" in text:
        text = _LATEX_SPACING.sub(" ", _LATEX_SIZING.sub("", text))
        text = re.sub(r"\^\s*\{\s*\\prime\s*\}|\^\s*\\prime|\^\s*\{\s*'\s*\}", "′", text)
        text = _fractions(text)
        text = re.sub(r"\\([A-Za-z]+)", lambda m: _LATEX_WORDS.get(m.group(1), m.group(0)),
                      text)
        text = text.replace("{", "(").replace("}", ")")
    return re.sub(r"(?<![\w.])([^\W\d_]+)_\(?(\d+)\)?", lambda m: _subscript(m, G), text)


def _fractions(text: str) -> str:
    """``\\frac{A}{B}`` → ``A/B`` for a derivative (∂J/∂c), else ``(A)/(B)``."""
    while (m := re.search(r"\\[cdt]?frac\s*\{", text)) is not None:
        a_end = _closing(text, m.end() - 1, "{}")
        b_start = text.find("{", a_end or 0)
        b_end = _closing(text, b_start, "{}") if a_end is not None and b_start >= 0 else None
        if b_end is None:
            raise ClaimError(f"unbalanced braces in '{text}'")
        a, b = text[m.end():a_end].strip(), text[b_start + 1:b_end].strip()
        both = all(re.match(r"(\\partial|∂|d\b|d[A-Za-z])", x) for x in (a, b))
        text = text[:m.start()] + (f"{a}/{b}" if both else f"({a})/({b})") + text[b_end + 1:]
    return text


def _subscript(m: re.Match, G: nx.DiGraph) -> str:
    joined = m.group(1) + m.group(2)
    stems = {label(G, n).split("[")[0] for n in G}
    return joined if joined in G or joined in stems else m.group(0)


OUTPUT_NAMES = ("L", "loss", "J", "E", "C", "ℓ")  # what a claim may call the output


def _top(d: Derivation, name: str, text: str) -> str:
    """The node a claim differentiates: any node of the graph, or the output by a common
    name (∂L/∂w for a graph whose output is called loss)."""
    try:
        return resolve(d.graph, name, what=f"claim '{text}':")
    except GraphExplainError:
        if name in OUTPUT_NAMES:
            return d.output
        raise


def sub_derivation(d: Derivation, top: str) -> Derivation:
    """The derivation of an intermediate node (∂u/∂a = 1 in J = 3(a+bc)), on its ancestors."""
    from .derive import derive
    from .report import _per_derivation

    def make():
        G = d.graph.subgraph(upstream(d.graph, top)).copy()
        G.graph["output"] = top
        return derive(G, top, d.limits)

    return d if top == d.output else _per_derivation(d, f"check-sub-{top}", make)


def read_claim(d: Derivation, text: str) -> Claim:
    """Read ``∂J/∂b = 3c`` against the derivation ``d``.

    Examples
    --------
    >>> from graphexplain.api import explain
    >>> d = explain("J(a,b,c) = 3(a+bc)").derivation
    >>> c = read_claim(d, "dJ/db = 3c")
    >>> c.output, c.wrt, c.expr
    ('J', 'b', 3*c)
    """
    G, typed = d.graph, text
    text = normalize(text, G)
    if text.count("=") < 1:
        raise ClaimError(f"claim '{typed}': write it as ∂J/∂b = formula, e.g. 'dJ/db = 3c'")
    lhs, rhs = text.split("=", 1)
    m = _LHS.match(lhs)
    if m is None:
        raise ClaimError(f"claim '{text}': the left side should be ∂{label(G, d.output)}/∂name "
                         f"(or d{label(G, d.output)}/dname), e.g. 'd{label(G, d.output)}/d"
                         f"{label(G, d.leaves[0]) if d.leaves else 'x'} = …'")
    output = _top(d, m.group(2), typed)
    wrt = resolve(G, m.group(4), what=f"claim '{typed}':")
    d = sub_derivation(d, output)
    if wrt not in d.adjoints:
        raise ClaimError(f"claim '{typed}': {label(G, output)} has no gradient with respect "
                         f"to {label(G, wrt)} ({_why_no_gradient(d, wrt)})")
    formula = _Formula(d, typed, (output, wrt))
    expr = formula.expression(rhs)
    return Claim(typed.strip(), output, wrt, expr, " ".join(rhs.split()), d, formula.circular)


def _why_no_gradient(d: Derivation, node: str) -> str:
    G = d.graph
    if node == d.output:
        return "it is the output itself"
    if G.nodes[node]["kind"] == "const" or G.nodes[node].get("requires_grad") is False:
        return "it is a constant: it does not require grad"
    return f"{label(G, d.output)} does not depend on it"


class _Formula:
    """The right side of a claim, rewritten into program text the parser reads: the seed's
    ∂loss/∂out and A′(f2) become placeholder names whose expressions are kept here."""

    def __init__(self, d: Derivation, claim: str, about: tuple[str, str] | None = None):
        self.d, self.G, self.claim, self.about = d, d.graph, claim, about
        self.held: dict[str, sympy.Expr] = {}
        self.typed: dict[str, str] = {}  # identifier → the label as the user typed it
        self.circular = False  # the formula uses the very derivative it claims
        self._adjoints: dict[str, dict] = {d.output: d.adjoints}

    def hold(self, expr: sympy.Expr) -> str:
        """A placeholder name for a piece the parser must not see, multiplied onto its
        neighbours (``x1A′(f2)`` reads x1·A′(f2))."""
        name = f"gxq{len(self.held) + 1}"
        while name in self.G:
            name += "q"
        self.held[name] = expr
        return f" {name} "

    def node(self, name: str) -> str | None:
        try:
            return resolve(self.G, name)
        except GraphExplainError:
            return None

    def derivative(self, top: str, below: str) -> sympy.Expr:
        """∂top/∂below in node symbols (the adjoint when top is the output)."""
        if (top, below) == self.about:
            self.circular = True
        if top not in self._adjoints:
            self._adjoints[top] = derive_adjoints(self.G, top)[0]
        if below not in self._adjoints[top]:
            raise ClaimError(f"claim '{self.claim}': {label(self.G, top)} does not depend on "
                             f"{label(self.G, below)}, so ∂{label(self.G, top)}/∂"
                             f"{label(self.G, below)} = 0; write 0")
        return self._adjoints[top][below]

    def rewrite(self, text: str) -> str:
        text = _NABLA.sub(self._nabla, text)
        text = _DERIV.sub(self._deriv, text)
        text = _ACT_CALL.sub(self._act_value, text)
        return self._primes(text)

    def _nabla(self, m: re.Match) -> str:
        n = self.node(m.group(1))
        return self.hold(self.derivative(self.d.output, n)) if n else m.group(0)

    def _deriv(self, m: re.Match) -> str:
        top, below = self.node(m.group(2)), self.node(m.group(4))
        if top is None or below is None:
            if m.group(1) == "∂":
                missing = m.group(2) if top is None else m.group(4)
                resolve(self.G, missing, what=f"claim '{self.claim}':")  # raises, with names
            return m.group(0)  # d…/d… that isn't two names: ordinary division
        return self.hold(self.derivative(top, below))

    def _act_value(self, m: re.Match) -> str:
        if "A" in self.G:
            return m.group(0)  # the user's own A
        z = self.node(m.group(1))
        act = _activation_of(self.G, z) if z else None
        return self.hold(symbol(act)) if act else m.group(0)

    def _primes(self, text: str) -> str:
        while (m := _PRIME.search(text)) is not None:
            start, inner_start = m.start(), m.end()
            end = _closing(text, inner_start - 1)
            if end is None:
                raise ClaimError(f"claim '{self.claim}': unbalanced parentheses after "
                                 f"{m.group(1)}′(")
            before, fn = self._split_prefix(m.group(1))
            inner = self.expression(text[inner_start:end])
            text = (text[:start] + before + self.hold(self._prime(fn, inner))
                    + text[end + 1:])
        return text

    def _split_prefix(self, word: str) -> tuple[str, str]:
        """``x1A`` (the seed writes x1A′(f2)) is x1 times A: (``"x1 "``, ``"A"``)."""
        if word == "A" or word in ops.OPS or word in ops.ALIASES or word == "sigma":
            return "", word
        for fn in ("A", "σ", "sigma", *ops.FUNCTIONS):
            if word.endswith(fn) and self.node(word[:-len(fn)]) is not None:
                return word[:-len(fn)] + " ", fn
        return "", word

    def _prime(self, fn: str, z: sympy.Expr) -> sympy.Expr:
        """F′(z) in node symbols: the op's derivative at z (A is the network's activation)."""
        op = _activation_op(self.G, z, self.claim) if fn == "A" else \
            ops.ALIASES.get(fn, {"sigma": "sigmoid"}.get(fn, fn))
        row = ops.OPS.get(op)
        if row is None or row.arity != 1:
            unary = sorted(n for n, r in ops.FUNCTIONS.items() if r.arity == 1)
            known = ", ".join(["A", "σ", *unary])
            raise ClaimError(f"claim '{self.claim}': {fn}′ is not a derivative graphexplain "
                             f"knows; use one of {known} (e.g. A′(f2))")
        t = sympy.Dummy("t", real=True)
        return sympy.diff(row.build(t), t).subs(t, z)

    def expression(self, text: str) -> sympy.Expr:
        """Parse a piece of formula text (already free of ∂ and ′) into node symbols."""
        text = self.rewrite(text)
        for w in re.findall(_NAME, text):
            if "[" in w or "." in w:
                self.typed.setdefault(identifier_of(w), w)
        names = {n for w in re.findall(_NAME, text) if (n := self._known(w))}
        if len(self.G) <= JUXTAPOSED_MAX_NODES:  # declared, so that 3bc reads 3·b·c
            names |= {n for n in self.G if n.isidentifier() and "_" not in n}
        names = sorted(names)
        head = "gxclaim"
        while head in self.G:
            head += "x"
        try:
            program = parse(f"{head}({','.join(names)}) = {text}" if names
                            else f"{head} = {text}")
        except ParseError as e:
            raise self._error(e, len(head) + 4 + len(",".join(names))) from None
        tree = program.assignments[-1].tree
        return self._sympy(tree)

    def _known(self, word: str) -> str | None:
        """The node id (or placeholder) a word of the formula names, if any."""
        if word in self.held:
            return word
        return self.node(word) if word in self.G or "[" in word or "." in word else None

    def _error(self, e: ParseError, offset: int) -> ClaimError:
        message = str(e).split(": ", 1)[-1]
        unknown = re.match(r"unknown name '([^']+)'", message)
        if unknown:
            try:
                typed = self.typed.get(unknown.group(1), unknown.group(1))
                resolve(self.G, typed, what=f"claim '{self.claim}':")
            except GraphExplainError as named:
                return ClaimError(str(named))
        return ClaimError(f"claim '{self.claim}': {message}")

    def _sympy(self, tree) -> sympy.Expr:
        if isinstance(tree, Num):
            return tree.value
        if isinstance(tree, Ref):
            return self.held.get(tree.name, symbol(tree.name))
        assert isinstance(tree, Apply)
        args = [self._sympy(a) for a in tree.args]
        return ops.OPS[tree.op].build(*args, **dict(tree.params))


def _closing(text: str, open_at: int, pair: str = "()") -> int | None:
    depth = 0
    for i in range(open_at, len(text)):
        depth += {pair[0]: 1, pair[1]: -1}.get(text[i], 0)
        if depth == 0:
            return i
    return None


def _activation_of(G: nx.DiGraph, z: str) -> str | None:
    """The activation node applied to z (``A_f2`` for ``f2``), if any."""
    acts = [s for s in G.successors(z) if G.nodes[s].get("role") == "act"]
    return acts[0] if len(acts) == 1 else None


def _activation_op(G: nx.DiGraph, z: sympy.Expr, claim: str) -> str:
    """Which op A is: the activation applied to z, else the network's only activation."""
    if isinstance(z, sympy.Symbol) and z.name in G:
        act = _activation_of(G, z.name)
        if act is not None:
            return G.nodes[act]["op"]
    kinds = {G.nodes[n]["op"] for n in G if G.nodes[n].get("role") == "act"}
    if len(kinds) == 1:
        return kinds.pop()
    raise ClaimError(f"claim '{claim}': A′ is the network's activation, and this graph has "
                     f"{'none' if not kinds else 'several'}; write the function, e.g. σ′(z)")
