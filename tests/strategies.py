"""Hypothesis strategies and helpers shared by the tests.

The strategies build program TEXT (what a user types) from the op table: every function in
``ops.FUNCTIONS`` is called by name, so a new op row is drawn without touching this file.
Arguments are kept inside each op's domain by wrapping them (``log((a)**2 + 1)``), and
divisors are kept away from zero (``a / ((b)**2 + 1)``), so that random programs evaluate to
finite numbers at the drawn points.
"""

from __future__ import annotations

import math
import re
import signal
from contextlib import contextmanager

import networkx as nx
import sympy
from hypothesis import strategies as st

from graphexplain import derive, evaluate, graph, ops, parse, verify

#: Input names used by the random programs (single letters that no split can produce wrongly).
INPUTS = ("x", "y", "z")

#: Numbers that appear in random programs (no 0: ``0*x`` folds the input away).
NUMBERS = ("1", "2", "3", "0.5", "1.5", "2.25")

#: Argument templates for functions with a restricted domain; ``{a}`` is the argument text.
#: Any function not listed here is called on its argument directly.
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


@st.composite
def function_calls(draw, arg: str, name: str | None = None, keywords: bool = True) -> str:
    """A call of an op-table function on ``arg``, with parameters drawn (or defaulted).

    ``keywords=False`` passes parameters positionally only (see ``programs``).
    """
    name = name or draw(st.sampled_from(functions()))
    op = ops.FUNCTIONS[name]
    params = {}
    for pname in op.params:
        if draw(st.booleans()):
            params[pname] = draw(st.sampled_from(PARAM_VALUES))
    if params and not keywords:  # positionally, a parameter needs every earlier one
        params = {k: params.get(k, PARAM_VALUES[0]) for k in op.params}
    keyword = keywords and (draw(st.booleans()) or len(params) != len(op.params))
    return call_text(name, arg, params, keyword)


def leaves_(names) -> st.SearchStrategy[str]:
    """A leaf: an input name (mostly) or a small positive number."""
    return st.one_of(st.sampled_from(names), st.sampled_from(names),
                     st.sampled_from(NUMBERS))


def mentions(text: str, names) -> bool:
    """Whether program text uses one of ``names`` (as a whole word)."""
    return any(re.search(rf"\b{re.escape(n)}\b", text) for n in names)


@st.composite
def expressions(draw, names=INPUTS, depth: int = 3, force: str | None = None,
                keywords: bool = True) -> str:
    """Program text of a random expression tree over the op table, safe on bounded inputs.

    ``force`` is a function name to apply at the root (so each op is drawn on demand).
    Function arguments always use an input: a custom function of a constant such as
    ``relu(pi)`` or ``softplus(cos(1))`` is a known bug (see test_graph.py), not drawn here.
    """
    def sub():
        return expressions(names, depth - 1, keywords=keywords)

    def call(arg, name=None):
        if not mentions(arg, names):
            arg = f"({arg}) * {draw(st.sampled_from(names))}"
        return draw(function_calls(arg, name, keywords))

    if force is not None:
        return call(draw(sub()), force)
    if depth <= 0 or draw(st.integers(0, 4)) == 0:
        return draw(leaves_(names))
    kind = draw(st.sampled_from(["fn", "fn", "add", "sub", "mul", "div", "pow", "neg",
                                 "powf", "powsym"]))
    a = draw(sub())
    if kind == "fn":
        return call(a)
    if kind == "neg":
        return f"-({a})"
    if kind == "pow":
        caret = draw(st.sampled_from(["**", "^"]))
        return f"({a}){caret}{draw(st.sampled_from(['2', '3']))}"
    if kind == "powf":  # a positive base for a negative or fractional exponent
        e = draw(st.sampled_from(["-1", "0.5", "1.5", "-2", "(-0.5)"]))
        return f"(({a})**2 + 1)**{e}"
    b = draw(sub())
    if kind == "powsym":  # a symbolic exponent exercises ∂(bᵉ)/∂e = bᵉ·log b
        return f"(({a})**2 + 1)**({call(b, 'tanh') if 'tanh' in ops.FUNCTIONS else b})"
    if kind == "div":
        return f"({a}) / (({b})**2 + 1)"
    symbol = {"add": "+", "sub": "-", "mul": "*"}[kind]
    return f"({a}) {symbol} ({b})"


@st.composite
def programs(draw, depth: int = 3, force: str | None = None) -> str:
    """A whole program: one statement, or named intermediates used by the output, written in
    any order, separated by ``;`` or newlines, sometimes with the inputs declared."""
    declared = draw(st.booleans())
    # Keyword parameters with declared inputs are a known bug (test_parse.py), so a declared
    # program passes parameters positionally.
    keywords = not declared
    n_hidden = draw(st.integers(0, 2))
    statements, names = [], list(INPUTS)
    for k in range(n_hidden):
        h = f"h{k + 1}"
        rhs = draw(expressions(tuple(names), depth - 1, keywords=keywords))
        statements.append(f"{h} = {rhs}")
        names.append(h)
    body = draw(expressions(tuple(names), depth, force=force, keywords=keywords))
    hidden = [f"h{k + 1}" for k in range(n_hidden)]
    out = " + ".join([f"({body})", *hidden])
    head = f"f({','.join(INPUTS)})" if declared else "f"
    statements.append(f"{head} = {out}")
    statements = draw(st.permutations(statements))
    sep = draw(st.sampled_from(["; ", "\n", ";\n"]))
    return sep.join(statements)


def points(names=INPUTS, bound: float = 2.0) -> st.SearchStrategy[dict[str, float]]:
    """A point: a bounded float for every name, rounded to 6 decimals (0 stays likely, and
    values such as 1e-116, where sympy's exp(z) − 1 and numpy's expm1 part ways, do not come
    up)."""
    value = st.floats(-bound, bound, allow_nan=False, allow_infinity=False)
    return st.fixed_dictionaries({n: value.map(lambda v: round(v, 6) + 0.0) for n in names})


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
