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
    """The op rows that declare a non-differentiable point."""
    return sorted(name for name, op in ops.OPS.items() if op.kink is not None)


def call_text(name: str, arg: str, params: dict[str, str] | None = None,
              keyword: bool = True) -> str:
    """``name(arg, …)`` with the domain wrapper and the given parameters."""
    inner = DOMAIN.get(name, "{a}").format(a=arg)
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
    """The part of ``point`` the graph has inputs for (folding may drop an input)."""
    return {n: point[n] for n in graph.leaves(G) if "value" not in G.nodes[n]}


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
