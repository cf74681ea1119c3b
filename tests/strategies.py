"""Hypothesis strategies and helpers shared by the tests.

Random programs are drawn as expression TREES over the op table (:class:`Tree`). A tree is
written two ways that share nothing but the tree: as program TEXT (what a user types, which
graphexplain parses), and as a torch function built directly from the tree with the reference
functions written here (:data:`REFERENCE`), never through ``graphexplain.parse``, the graph or
the op table's torch column. A parser that misreads the text makes the two disagree.

Every function in ``ops.FUNCTIONS`` is drawn by name, so a new op row is drawn without touching
this file, except that its reference (one line in :data:`REFERENCE`) must be written here:
``test_every_function_has_an_independent_reference`` fails until it is. Arguments are kept
inside each op's domain by wrapping them (``log((a)**2 + 1)``), and divisors are kept away
from zero (``a / ((b)**2 + 1)``), so that random programs evaluate to finite numbers.

Points (:func:`points`) are mostly away from 0 and from the kinks (|v| in [0.3, 3], either
sign); :func:`special_points` is the separate family at 0, at the kinks and at ties.
"""

from __future__ import annotations

import math
import re
import signal
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import networkx as nx
import sympy
from hypothesis import strategies as st

from graphexplain import derive, evaluate, graph, ops, parse, verify

#: Input names used by the random programs (single letters that no split can produce wrongly).
INPUTS = ("x", "y", "z")

#: Numbers that appear in random programs (no 0: ``0*x`` folds the input away). ``pi`` is
#: the language's constant: a custom function of it (``relu(pi)``) was a bug, now fixed.
NUMBERS = ("1", "2", "3", "0.5", "1.5", "2.25", "pi")

#: Argument templates for functions with a restricted domain; ``{a}`` is the argument text.
#: Any function not listed here is called on its argument directly. (The trees build the
#: same wrapper as a subtree: see ``_in_domain``.)
DOMAIN = {
    "log": "({a})**2 + 1",
    "sqrt": "({a})**2 + 1",
}

#: Values drawn for an op's numeric parameters (alpha, slope, …).
PARAM_VALUES = ("0.5", "0.2", "1.5", "2")


def functions() -> list[str]:
    """The user-callable op names, sorted (what ``parametrize`` runs over)."""
    return sorted(ops.FUNCTIONS)


def ops_with_kinks() -> list[str]:
    """The one-argument op rows that declare a non-differentiable point (at 0); ``max`` has
    its kink at a tie, and ``call_text`` writes it as max(a, −a), whose tie is at a = 0."""
    return sorted(name for name, op in ops.OPS.items() if op.kink is not None and op.arity == 1)


def call_text(name: str, arg: str, params: dict[str, str] | None = None,
              keyword: bool = True) -> str:
    """``name(arg, …)`` with the domain wrapper and the given parameters."""
    inner = DOMAIN.get(name, "{a}").format(a=arg)
    if ops.FUNCTIONS[name].arity == 2:  # max(a, −a) = |a|: its tie is at a = 0, as for a kink
        inner = f"{inner}, -({inner})"
    extra = ""
    if params:
        if keyword:
            extra = "".join(f", {k}={v}" for k, v in params.items())
        else:
            extra = "".join(f", {v}" for v in params.values())
    return f"{name}({inner}{extra})"


def mentions(text: str, names) -> bool:
    """Whether program text uses one of ``names`` (as a whole word)."""
    return any(re.search(rf"\b{re.escape(n)}\b", text) for n in names)


# --- expression trees: program text and an independent torch function --------------------------


def _torch():
    import torch

    return torch


def _F():
    return _torch().nn.functional


#: The reference of each op-table function, written here from its mathematics and torch's own
#: functions (not from ``ops``): ``fn(args, params)``, with the parameters' defaults as torch
#: and the course define them (elu's α = 1, leaky_relu's slope = 0.01).
REFERENCE: dict[str, tuple[Callable, dict[str, float]]] = {
    "exp": (lambda a, p: _torch().exp(a[0]), {}),
    "log": (lambda a, p: _torch().log(a[0]), {}),
    "sqrt": (lambda a, p: _torch().sqrt(a[0]), {}),
    "sin": (lambda a, p: _torch().sin(a[0]), {}),
    "cos": (lambda a, p: _torch().cos(a[0]), {}),
    "tanh": (lambda a, p: _torch().tanh(a[0]), {}),
    "sigmoid": (lambda a, p: 1 / (1 + _torch().exp(-a[0])), {}),
    "relu": (lambda a, p: _torch().relu(a[0]), {}),
    "elu": (lambda a, p: _F().elu(a[0], alpha=p["alpha"]), {"alpha": 1.0}),
    "leaky_relu": (lambda a, p: _F().leaky_relu(a[0], negative_slope=p["slope"]),
                   {"slope": 0.01}),
    "softplus": (lambda a, p: _torch().log1p(_torch().exp(a[0])), {}),
    "abs": (lambda a, p: _torch().abs(a[0]), {}),
    "max": (lambda a, p: _torch().maximum(a[0], a[1]), {}),
    "identity": (lambda a, p: a[0], {}),
}


@dataclass(frozen=True)
class Tree:
    """A node of a random expression: ``kind`` is ``name``, ``number``, ``call``, ``add``,
    ``sub``, ``mul``, ``div``, ``neg`` or ``pow``; ``text`` is the name, the number, the
    function or the power's operator (``**`` or ``^``)."""

    kind: str
    args: tuple[Tree, ...] = ()
    text: str = ""
    params: tuple[tuple[str, str], ...] = ()
    keyword: bool = True

    def program(self) -> str:
        """The tree as program text."""
        a = [t.program() for t in self.args]
        if self.kind in ("name", "number"):
            return self.text
        if self.kind == "call":
            extra = "".join(f", {k}={v}" if self.keyword else f", {v}" for k, v in self.params)
            return f"{self.text}({', '.join(a)}{extra})"
        if self.kind == "neg":
            return f"-({a[0]})"
        if self.kind == "pow":
            exponent = self.args[1]
            e = exponent.text if exponent.kind == "number" else f"({a[1]})"
            return f"({a[0]}){self.text}{e}"
        symbol = {"add": "+", "sub": "-", "mul": "*", "div": "/"}[self.kind]
        return f"({a[0]}) {symbol} ({a[1]})"

    def torch(self, env: dict):
        """The tree's value as a float64 tensor, from ``env`` (name → tensor)."""
        torch = _torch()
        if self.kind == "name":
            return env[self.text]
        if self.kind == "number":
            value = math.pi if self.text == "pi" else float(self.text.strip("()"))
            return torch.tensor(value, dtype=torch.float64)
        a = [t.torch(env) for t in self.args]
        if self.kind == "call":
            fn, defaults = REFERENCE[self.text]
            return fn(a, {**defaults, **{k: float(v) for k, v in self.params}})
        if self.kind == "neg":
            return -a[0]
        if self.kind == "pow":
            return a[0] ** a[1]
        return {"add": lambda: a[0] + a[1], "sub": lambda: a[0] - a[1],
                "mul": lambda: a[0] * a[1], "div": lambda: a[0] / a[1]}[self.kind]()


def _name(n: str) -> Tree:
    return Tree("name", text=n)


def _number(v: str) -> Tree:
    return Tree("number", text=v)


def _square_plus_one(a: Tree, caret: str = "**") -> Tree:
    """``(a)**2 + 1``: positive, and at least 1."""
    return Tree("add", (Tree("pow", (a, _number("2")), caret), _number("1")))


def _in_domain(name: str, a: Tree) -> Tree:
    template = DOMAIN.get(name)
    if template is None:
        return a
    assert template == "({a})**2 + 1", f"teach strategies.py the domain wrapper of {name}"
    return _square_plus_one(a)


@st.composite
def call_trees(draw, arg: Tree, name: str | None = None, keywords: bool = True,
               second: Tree | None = None) -> Tree:
    """A call of an op-table function on ``arg`` (and, for two arguments, on ``second`` or
    −arg, whose tie is at arg = 0), with its parameters drawn, given by keyword or by
    position, or left at their defaults."""
    name = name or draw(st.sampled_from(functions()))
    op = ops.FUNCTIONS[name]
    arg = _in_domain(name, arg)
    args = (arg,) if op.arity == 1 else (arg, second or Tree("neg", (arg,)))
    params = {p: draw(st.sampled_from(PARAM_VALUES)) for p in op.params if draw(st.booleans())}
    keyword = keywords and (draw(st.booleans()) or len(params) != len(op.params))
    if params and not keyword:  # positionally, a parameter needs every earlier one
        params = {k: params.get(k, PARAM_VALUES[0]) for k in op.params}
    return Tree("call", args, name, tuple(params.items()), keyword)


def leaf_trees(names) -> st.SearchStrategy[Tree]:
    """A leaf: an input name (mostly) or a small positive number (or pi)."""
    return st.one_of(st.sampled_from(names).map(_name), st.sampled_from(names).map(_name),
                     st.sampled_from(NUMBERS).map(_number))


@st.composite
def trees(draw, names=INPUTS, depth: int = 3, force: str | None = None,
          keywords: bool = True) -> Tree:
    """A random expression tree over the op table, safe on bounded inputs.

    ``force`` is a function name to apply at the root (so each op is drawn on demand).
    A function's argument may be a constant (``relu(pi)``, ``softplus(cos(1))``).
    """
    def sub():
        return draw(trees(names, depth - 1, keywords=keywords))

    if force is not None:
        return draw(call_trees(sub(), force, keywords))
    if depth <= 0 or draw(st.integers(0, 4)) == 0:
        return draw(leaf_trees(names))
    kind = draw(st.sampled_from(["fn", "fn", "add", "sub", "mul", "div", "pow", "neg",
                                 "powf", "powsym"]))
    a = sub()
    if kind == "fn":
        name = draw(st.sampled_from(functions()))
        second = sub() if ops.FUNCTIONS[name].arity == 2 and draw(st.booleans()) else None
        return draw(call_trees(a, name, keywords, second))
    if kind == "neg":
        return Tree("neg", (a,))
    if kind == "pow":
        caret = draw(st.sampled_from(["**", "^"]))
        return Tree("pow", (a, _number(draw(st.sampled_from(["2", "3"])))), caret)
    if kind == "powf":  # a positive base for a negative or fractional exponent
        e = draw(st.sampled_from(["-1", "0.5", "1.5", "-2", "(-0.5)"]))
        return Tree("pow", (_square_plus_one(a), _number(e)), "**")
    b = sub()
    if kind == "powsym":  # a symbolic exponent exercises ∂(bᵉ)/∂e = bᵉ·log b
        e = draw(call_trees(b, "tanh")) if "tanh" in ops.FUNCTIONS else b
        return Tree("pow", (_square_plus_one(a), e), "**")
    if kind == "div":
        return Tree("div", (a, _square_plus_one(b)))
    return Tree(kind, (a, b))


@st.composite
def expressions(draw, names=INPUTS, depth: int = 3, force: str | None = None,
                keywords: bool = True) -> str:
    """Program text of a random expression tree (see :func:`trees`)."""
    return draw(trees(names, depth, force, keywords)).program()


@dataclass(frozen=True)
class Program:
    """A random program: its text, and the statements it was written from (the hidden names
    in the order they are computed, then the output), for the independent torch function."""

    text: str
    output: str
    statements: tuple[tuple[str, Tree], ...] = field(default=())

    def torch(self, point: dict):
        """The output, as a float64 tensor, computed from the trees with torch alone.
        ``point`` maps input names to tensors; a hidden name given in ``point`` is taken from
        it (graphexplain makes a constant statement, ``h1 = 1``, an input with a default)."""
        env = dict(point)
        for name, tree in self.statements:
            if name not in env:
                env[name] = tree.torch(env)
        return env[self.output]


@st.composite
def programs_with_reference(draw, depth: int = 3, force: str | None = None) -> Program:
    """A whole program: one statement, or named intermediates used by the output, written in
    any order, separated by ``;`` or newlines, sometimes with the inputs declared, and
    with parameters by keyword or by position in either case."""
    declared = draw(st.booleans())
    n_hidden = draw(st.integers(0, 2))
    statements, names, texts = [], list(INPUTS), []
    for k in range(n_hidden):
        h = f"h{k + 1}"
        tree = draw(trees(tuple(names), depth - 1))
        statements.append((h, tree))
        texts.append(f"{h} = {tree.program()}")
        names.append(h)
    body = draw(trees(tuple(names), depth, force=force))
    out = body
    for h, _ in statements:
        out = Tree("add", (out, _name(h)))
    statements.append(("f", out))
    head = f"f({','.join(INPUTS)})" if declared else "f"
    texts.append(f"{head} = " + " + ".join([f"({body.program()})",
                                            *(h for h, _ in statements[:-1])]))
    texts = draw(st.permutations(texts))
    sep = draw(st.sampled_from(["; ", "\n", ";\n"]))
    return Program(sep.join(texts), "f", tuple(statements))


def programs(depth: int = 3, force: str | None = None) -> st.SearchStrategy[str]:
    """The text of :func:`programs_with_reference`."""
    return programs_with_reference(depth, force).map(lambda p: p.text)


def points(names=INPUTS, low: float = 0.3, high: float = 3.0
           ) -> st.SearchStrategy[dict[str, float]]:
    """A point away from 0 and from the kinks: |v| in [low, high] with either sign, rounded
    to 6 decimals (0 and its neighbourhood are :func:`special_points`' family)."""
    magnitude = st.floats(low, high, allow_nan=False, allow_infinity=False)
    value = st.tuples(magnitude, st.sampled_from([1.0, -1.0])).map(
        lambda t: round(t[0] * t[1], 6) + 0.0)
    return st.fixed_dictionaries({n: value for n in names})


#: Values at which kinks and ties are reached: 0 (the kink of relu, abs, elu, leaky_relu and
#: the tie of max(a, −a)), and small values either side of it.
SPECIAL_VALUES = (0.0, 0.0, 1e-3, -1e-3, 1.0, -1.0)


def special_points(names=INPUTS) -> st.SearchStrategy[dict[str, float]]:
    """Points at 0, at the kinks and at ties: every input 0, every input equal (max(x, y) at
    a tie), or each drawn from :data:`SPECIAL_VALUES`."""
    same = st.sampled_from(SPECIAL_VALUES).map(lambda v: {n: v for n in names})
    mixed = st.fixed_dictionaries({n: st.sampled_from(SPECIAL_VALUES) for n in names})
    return st.one_of(st.just({n: 0.0 for n in names}), same, mixed)


@st.composite
def mlp_shapes(draw, max_layers: int = 4, max_width: int = 3) -> list[int]:
    """Small MLP layer widths, ``[inputs, hidden…, 1]``."""
    hidden = draw(st.lists(st.integers(1, max_width), min_size=0, max_size=max_layers - 2))
    return [draw(st.integers(1, max_width)), *hidden, 1]


# --- helpers ------------------------------------------------------------------------------------


def pipeline(text: str, output: str | None = None, **limits):
    """parse → build → derive, with optional limit overrides."""
    from graphexplain.limits import Limits

    lim = Limits(**limits)
    G = graph.build(parse.parse(text, output=output, limits=lim), limits=lim)
    return G, derive.derive(G, limits=lim)


def graph_point(G: nx.DiGraph, point: dict[str, float]) -> dict[str, float]:
    """The part of ``point`` the graph has inputs for (folding may drop an input), and the
    default of an input the point does not give (``h1`` in ``h1 = 1; f = relu(h1) + h1``)."""
    return {n: point[n] if n in point else G.nodes[n]["default"] for n in graph.leaves(G)
            if "value" not in G.nodes[n]}


#: The op table's own sympy functions (the ones sympy does not have).
CUSTOM_FUNCTIONS = tuple(f for f in (getattr(ops, n, None) for n in ops.OPS)
                         if isinstance(f, type) and issubclass(f, sympy.Function))


def sym_value(expr: sympy.Expr, values: dict[str, float]) -> float:
    """A sympy expression in node names, evaluated at numeric node values (``xreplace``, then
    a float)."""
    e = expr.xreplace(evaluate.symbol_values(values)).evalf()
    return evaluate.to_float(e)


def close(a: float, b: float, rtol: float = 1e-8, atol: float = 1e-8) -> bool:
    """|a − b| ≤ atol + rtol·max(|a|, |b|), with equal infinities/NaNs counted as close."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return verify.close(a, b, rtol, atol)


def kink_crossed(G: nx.DiGraph, point: dict[str, float], leaf: str, h: float) -> bool:
    """Whether the central difference on ``leaf`` with step ``h`` straddles or touches a kink:
    an op with a kink (at argument 0, as for every such row) whose first argument is 0 or
    changes sign between ``leaf − h``, ``leaf`` and ``leaf + h``."""
    sweeps = [evaluate.forward(G, {**point, leaf: point[leaf] + d}) for d in (-h, 0.0, h)]
    for n in nx.descendants(G, leaf):
        data = G.nodes[n]
        row = ops.OPS.get(data.get("op", ""))
        if row is None or row.kink is None:
            continue
        a = data["args"][0]
        if not isinstance(a, str):
            continue
        signs = {math.copysign(1.0, v[a]) if v[a] != 0 else 0.0 for v in sweeps}
        if len(signs) > 1 or 0.0 in signs:
            return True
    return False


@contextmanager
def time_limit(seconds: float):
    """Raise ``TimeoutError`` if the block runs longer than ``seconds`` (a loose guard for
    inputs that must be answered quickly, not a benchmark). Main thread, POSIX only."""
    def alarm(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# --- hostile input: random text, token soups, random Python trees (test_fuzz, tests/fuzz) ------
# Only GraphExplainError may leave the library, whatever the text; these make the text.

#: Names a hostile program uses: inputs, op-table functions and constants, parameter names,
#: Python built-ins and dunder names an injection would reach for, and keywords.
HOSTILE_NAMES = (*INPUTS, "a", "b", "c", "bc", "J", "u", "pi", "alpha", "slope", "f",
                 "__import__", "__class__", "__builtins__", "__dict__", "_", "eval", "exec",
                 "open", "getattr", "globals", "os", "sum", "max", "range", "print",
                 "lambda", "if", "else", "for", "in", "not", "and", "or", "is", "None", "True",
                 "False", "await", "yield", "async", "import", "def", "class", "return", "del",
                 "αβ", "x" * 30, "ab" * 13)

#: Numbers: ordinary, at float64's edges, past them, and integers too long for the limits.
HOSTILE_NUMBERS = ("0", "1", "2", "3", "0.5", ".5", "1.", "1e", "1e3", "1e308", "1e309",
                   "1e-400", "9**9**9**9", "10**100", "2**0.5", "1_000", "0x1f", "0b1", "1j",
                   "007", "4.9e-324", "1.7976931348623157e308", "9" * 101, "1" + "0" * 400)

#: Operators and punctuation: everything the tokenizer reads (most of it refused later), the
#: typographic operators it translates, and separators.
HOSTILE_OPERATORS = ("+", "-", "*", "/", "**", "^", "//", "%", "@", "==", "!=", "<=", ">=",
                     "<", ">", ":=", "->", "=", ",", ".", ":", "!", "&", "|", "~", "(", ")",
                     "[", "]", "{", "}", ";", "\n", "\r\n", "#", "×", "·", "⋅", "−", "÷",
                     "'s'", '"s"', "'", '"', "\\")

#: Characters a paste from a web page or a terminal brings: control characters, odd spaces,
#: a byte-order mark, line separators, a lone surrogate, symbols.
HOSTILE_CHARACTERS = ("\x00", "\x07", "\x1b[2J", "\x7f", "\t", "\x0b", "\x0c", "\r", "\u00a0",
                      "\u200b", "\ufeff", "\u2028", "\u2029", "\ud800", "∂", "☃", "é", "ß",
                      "ℵ", "𝑥", "x\u0301", " ", "  ")


def soup_tokens() -> st.SearchStrategy[str]:
    """One token of a soup: a name, a function call head, a number, an operator, or a
    strange character."""
    return st.one_of(st.sampled_from(HOSTILE_NAMES), st.sampled_from(functions()),
                     st.sampled_from([f + "(" for f in functions()]),
                     st.sampled_from(HOSTILE_NUMBERS), st.sampled_from(HOSTILE_OPERATORS),
                     st.sampled_from(HOSTILE_OPERATORS), st.sampled_from(HOSTILE_CHARACTERS))


@st.composite
def token_soups(draw, max_tokens: int = 30) -> str:
    """Tokens drawn at random and joined with or without spaces, often after ``f =``."""
    tokens = draw(st.lists(soup_tokens(), min_size=0, max_size=max_tokens))
    sep = draw(st.sampled_from(["", " ", " ", "\n"]))
    head = draw(st.sampled_from(["", "f = ", "J(a,b,c) = ", "u = x; f = "]))
    return head + sep.join(tokens)


#: Characters random text is drawn from, besides any Unicode: what programs are made of.
PROGRAM_ALPHABET = "xyzabcfJuv0123456789.+-*/^()=,;\n _eE#[]{}:'\"!@%&|~<>αpisgmoqrtlhk"


def random_text(max_size: int = 60) -> st.SearchStrategy[str]:
    """Random strings: mostly from the characters of programs, sometimes any Unicode."""
    return st.one_of(st.text(st.sampled_from(PROGRAM_ALPHABET), max_size=max_size),
                     st.text(st.sampled_from(PROGRAM_ALPHABET), max_size=max_size),
                     st.text(max_size=max_size))


def _names_ast() -> st.SearchStrategy:
    import ast

    return st.sampled_from(HOSTILE_NAMES[:40]).filter(str.isidentifier).map(
        lambda n: ast.Name(n, ast.Load()))


def _constants_ast() -> st.SearchStrategy:
    import ast

    values = st.one_of(st.integers(-3, 10), st.sampled_from([10**100, 9**99, 2**64, 10**4000]),
                       st.floats(allow_nan=True, allow_infinity=True),
                       st.sampled_from(["s", b"b", 1j, 2 + 3j, True, False, None, ...]))
    return values.map(ast.Constant)


def _python_trees(children: st.SearchStrategy) -> st.SearchStrategy:
    """One level of a random Python expression tree, inside and outside the whitelist."""
    import ast

    load = ast.Load()
    binops = st.sampled_from([ast.Add, ast.Add, ast.Sub, ast.Mult, ast.Mult, ast.Div, ast.Pow,
                              ast.Pow, ast.Mod, ast.FloorDiv, ast.MatMult, ast.BitXor,
                              ast.BitOr, ast.BitAnd, ast.LShift])
    unops = st.sampled_from([ast.USub, ast.USub, ast.UAdd, ast.Not, ast.Invert])
    callee = st.one_of(st.sampled_from(functions()), st.sampled_from(functions()),
                       st.sampled_from(["foo", "eval", "__import__", "getattr", "x", "pi"]))
    keyword_names = st.sampled_from(["alpha", "slope", "x", "beta", None])
    keywords = st.lists(st.builds(ast.keyword, keyword_names, children), max_size=2)
    comprehension = st.builds(lambda t, it: ast.comprehension(ast.Name(t, ast.Store()), it, [],
                                                              0), st.sampled_from("xyz"), children)
    return st.one_of(
        st.builds(lambda a, op, b: ast.BinOp(a, op(), b), children, binops, children),
        st.builds(lambda a, op, b: ast.BinOp(a, op(), b), children, binops, children),
        st.builds(lambda op, a: ast.UnaryOp(op(), a), unops, children),
        st.builds(lambda f, args, kw: ast.Call(ast.Name(f, load), args, kw), callee,
                  st.lists(children, max_size=3), keywords),
        st.builds(lambda f, a: ast.Call(f, [a], []), children, children),
        st.builds(lambda v, attr: ast.Attribute(v, attr, load), children,
                  st.sampled_from(["__class__", "system", "real"])),
        st.builds(lambda v, i: ast.Subscript(v, i, load), children, children),
        st.builds(lambda b: ast.Lambda(ast.arguments([], [], None, [], [], None, []), b),
                  children),
        st.builds(lambda e, g: ast.ListComp(e, [g]), children, comprehension),
        st.builds(lambda e, g: ast.GeneratorExp(e, [g]), children, comprehension),
        st.builds(lambda t, a, b: ast.IfExp(t, a, b), children, children, children),
        st.builds(lambda a, b: ast.Compare(a, [ast.Lt()], [b]), children, children),
        st.builds(lambda a, b: ast.BoolOp(ast.And(), [a, b]), children, children),
        st.builds(lambda xs: ast.Tuple(xs, load), st.lists(children, max_size=3)),
        st.builds(lambda xs: ast.List(xs, load), st.lists(children, max_size=2)),
        st.builds(lambda k, v: ast.Dict([k], [v]), children, children),
        st.builds(lambda v: ast.Set([v]), children),
        st.builds(lambda v: ast.Call(ast.Name("exp", load), [ast.Starred(v, load)], []),
                  children),
        st.builds(lambda v: ast.NamedExpr(ast.Name("y", ast.Store()), v), children),
        st.builds(lambda v: ast.JoinedStr([ast.FormattedValue(v, -1, None)]), children),
        st.builds(ast.Await, children),
        st.builds(ast.Yield, children),
    )


def python_trees(max_leaves: int = 12) -> st.SearchStrategy:
    """Random Python expression ASTs, mostly arithmetic over names and numbers."""
    return st.recursive(st.one_of(_names_ast(), _names_ast(), _constants_ast()),
                        _python_trees, max_leaves=max_leaves)


def _unparse(tree) -> str | None:
    import ast

    try:
        return ast.unparse(tree)
    except Exception:  # a combination ast.unparse cannot write: not a program anyone types
        return None


@st.composite
def python_programs(draw) -> str:
    """Programs whose right-hand sides are random Python trees, unparsed: one statement, a
    declaration, a bare expression, or two statements."""
    sides = [s for s in draw(st.lists(python_trees().map(_unparse), min_size=1, max_size=2))
             if s is not None]
    if not sides:
        return "f = x"
    form = draw(st.sampled_from(["f = {0}", "f(x,y,z) = {0}", "{0}", "u = {0}; f = u * {1}",
                                 "f = {0}\nu = {1}"]))
    return form.format(sides[0], sides[-1])


@st.composite
def mutated_programs(draw) -> str:
    """A valid random program with a few random edits: a piece inserted, deleted or replaced
    (the inputs near the language's edges, where a parser's corner cases are)."""
    text = draw(programs(depth=2))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        piece = draw(soup_tokens())
        how = draw(st.sampled_from(["insert", "delete", "replace"]))
        end = min(len(text), at + draw(st.integers(1, 3)))
        if how == "insert":
            text = text[:at] + piece + text[at:]
        elif how == "delete":
            text = text[:at] + text[end:]
        else:
            text = text[:at] + piece + text[end:]
    return text


def hostile_programs() -> st.SearchStrategy[str]:
    """Every kind of hostile program text, mixed."""
    return st.one_of(random_text(), token_soups(), python_programs(), mutated_programs())


#: Values at a point: ordinary, zero (kinks, division), negative (log, sqrt), and large
#: enough to overflow exp.
HOSTILE_VALUES = (0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -2.5, 1e-300, 5e-324, 700.0, 710.0, 1e154,
                  1e308, -1e308)


def hostile_points(names) -> st.SearchStrategy[dict[str, float]]:
    """A value for each name, from :data:`HOSTILE_VALUES` or bounded floats."""
    value = st.one_of(st.sampled_from(HOSTILE_VALUES),
                      st.floats(-5, 5, allow_nan=False, allow_infinity=False))
    return st.fixed_dictionaries({n: value for n in names})


def symbolic_outcome(text: str, limits=None) -> str:
    """parse → build → derive → text report, symbolic only. Returns ``"ok"`` or the name of
    the GraphExplainError refusing the text; anything else propagates (a bug). A refusal
    must be one line."""
    from graphexplain.errors import GraphExplainError
    from graphexplain.limits import DEFAULT
    from graphexplain.report import report

    lim = limits or DEFAULT
    try:
        G = graph.build(parse.parse(text, limits=lim), limits=lim)
        report(derive.derive(G, limits=lim), "text")
    except GraphExplainError as e:
        return _refusal(e)
    return "ok"


def explained_outcome(text: str, point_of, formats=("text", "json")) -> str:
    """The whole pipeline at a point: :func:`graphexplain.explain`, verified, then printed in
    ``formats`` and drawn as DOT source. ``point_of(inputs)`` gives the point. Returns
    ``"ok"``, ``"symbolic"`` (no inputs) or the refusal's class name."""
    import graphexplain
    from graphexplain.errors import GraphExplainError
    from graphexplain.render import to_dot

    try:
        G = graph.build(parse.parse(text))
        names = [n for n in graph.leaves(G) if "value" not in G.nodes[n]]  # what --at needs
        at = point_of(names) if names else None
        e = graphexplain.explain(text, at=at)
        for fmt in formats:
            e.report(fmt)
        assert to_dot(e.derivation, e.evaluation, view="both").source
    except GraphExplainError as e:
        return _refusal(e)
    return "ok" if at is not None else "symbolic"


def _refusal(e: Exception) -> str:
    text = str(e)
    assert text and "\n" not in text and "\r" not in text, f"a refusal of more than one line: {text!r}"
    return type(e).__name__
