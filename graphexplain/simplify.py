"""Teaching forms: each gradient as a course writes it, found under a size and time budget.

The exact gradient of a cross-entropy through a sigmoid, worked by the chain rule, is
x·σ(z)(1 − σ(z))·(−y/σ(z) + (1 − y)/(1 − σ(z))); every course writes x·(σ(z) − y). This
module finds such forms:

1. write the adjoint out in the user's names (constants kept as symbols, so y stays y);
2. where targets are constants whose values sum to 1 (a one-hot y, or probabilities), use
   Σₖyₖ = 1: softmax with cross-entropy, ∂L/∂oₖ = pₖ·Σy − yₖ, becomes pₖ − yₖ;
3. hide every function application (σ(b + w·x), exp(o₁), …) behind a symbol, so that only
   rational algebra is left, and try ``cancel`` + ``factor`` and ``together`` +
   ``factor_terms``; keep the shortest;
4. put the functions back. Throughout, the user's own intermediate names stay as they
   are (σ(z) when the program says ``z = w*x + b``), while generated ones (q = 1 − p) are
   written out so that they can cancel.

A form is kept only when it is shorter than the exact one, and it is checked to equal the
exact one at random points. What it does not do: run ``sympy.simplify`` (unbounded), or
rewrite inside function arguments.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterable, Mapping

import networkx as nx
import sympy

from .derive import Derivation, adjoint_symbol, expr_size
from .graph import symbol

MAX_NODES = 300  # graphs larger than this get no teaching forms (a network is read by layer)
MAX_SIZE = 400  # printed size of an expression worth simplifying
MAX_SYMBOLS = 12  # multivariate factoring grows fast with the number of symbols
LOSSES = {"mse", "cross_entropy", "bce_logits"}  # never folded: a loss is the output
BUDGET_SECONDS = 2.0  # for all the forms of one derivation
# elementwise functions: an intermediate that applies one is shown as the function, σ(z)
FUNCTIONS = {"exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "elu",
             "leaky_relu", "softplus", "abs"}


def teaching_forms(d: Derivation, names: Iterable[str] | None = None,
                   point: Mapping[str, float] | None = None, wanted: Iterable[str] | None = None,
                   budget: float = BUDGET_SECONDS) -> dict[str, sympy.Expr]:
    """node → its adjoint ∂L/∂node in a simpler form, where one is found within the budget.

    ``names`` are the intermediate names to fold back into the forms (the user's own; by
    default every op node that is not a function application). ``point`` gives the values
    of constants that the graph does not hold (an MLP's targets). ``wanted``: the nodes to
    find forms for (default: every node with an adjoint).

    Examples
    --------
    >>> from graphexplain import explain
    >>> e = explain("z = w*x + b; p = sigmoid(z); L = -(y*log(p) + (1-y)*log(1-p))",
    ...             verify=False)
    >>> forms = teaching_forms(e.derivation, names={"z", "p"})
    >>> forms["z"], forms["w"]
    (-y + sigmoid(z), x*(-y + sigmoid(z)))
    """
    G, wanted = d.graph, None if wanted is None else set(wanted)
    if G.number_of_nodes() > MAX_NODES:
        return {}
    deadline = time.monotonic() + budget
    expanded = _in_kept_names(G, d.order, _kept(G, names))
    full = _written_out(d)
    constants = {n: G.nodes[n].get("value", (point or {}).get(n)) for n in G
                 if G.nodes[n]["kind"] == "const"}
    constants = {n: v for n, v in constants.items() if v is not None}
    sums_to_one = _one_hot_sums(G, constants)
    constants = {symbol(n): v for n, v in constants.items()}
    out, seen = {}, {}
    for n in reversed(d.order):
        if time.monotonic() > deadline:
            break
        if n == d.output or n not in full or (wanted is not None and n not in wanted):
            continue
        if full[n] not in seen:  # a network repeats the same adjoint shapes
            seen[full[n]] = _teaching_form(full[n], expanded, sums_to_one)
        form = seen[full[n]]
        if form is not None and _cost(form) >= _cost(full[n]):
            continue  # the chain in intermediate names already reads better
        if form is not None and _equal(form, _substitute(full[n], expanded), constants):
            out[n] = form
    return out


def _teaching_form(adjoint, expanded, sums_to_one) -> sympy.Expr | None:
    """The shortest of the candidate forms, when shorter than the adjoint in kept names."""
    exact = _substitute(adjoint, expanded)
    if exact is None or expr_size(exact) > MAX_SIZE:
        return None
    relaxed = exact.xreplace(sums_to_one) if sums_to_one else exact
    atoms, hidden = _hide_functions(relaxed)
    if len(hidden.free_symbols) > MAX_SYMBOLS:
        return None
    if relaxed == exact and not _has_denominator(hidden):
        return None  # a polynomial in the functions: nothing cancels, and factoring is slow
    form = _leading_plus(min(_candidates(hidden), key=_cost)).xreplace(atoms)
    return form if _cost(form) < _cost(exact) else None


def _has_denominator(e: sympy.Expr) -> bool:
    """Whether a rational expression divides by something (where terms can cancel)."""
    return any(p.exp.is_negative for p in e.atoms(sympy.Pow))


def _candidates(e: sympy.Expr) -> list[sympy.Expr]:
    """Rational rewrites of an expression without function applications."""
    out = [e]
    for rewrite in (lambda x: sympy.factor(sympy.cancel(x)),
                    lambda x: sympy.factor_terms(sympy.together(x)),
                    lambda x: sympy.factor_terms(sympy.expand(x))):
        try:
            out.append(rewrite(e))
        except (sympy.PolynomialError, TypeError, ValueError):
            continue
    return out


def _leading_plus(e: sympy.Expr) -> sympy.Expr:
    """−x·(y − s) → x·(s − y): a product's minus sign moved into one of its sums."""
    if not (e.is_Mul and e.could_extract_minus_sign()):
        return e
    sums = [f for f in e.args if f.is_Add]
    if not sums:
        return e
    rest = sympy.Mul(*(f for f in e.args if f is not sums[0]))  # carries the minus sign
    return (-rest) * (-sums[0])


def _cost(e: sympy.Expr) -> tuple[int, int]:
    """Fewer operations first, then shorter text."""
    return sympy.count_ops(e), len(str(e))


def _written_out(d: Derivation) -> dict[str, sympy.Expr]:
    """Each adjoint with the adjoint symbols of the layers above written out."""
    G, out = d.graph, {}
    by_symbol = {adjoint_symbol(G, d.output, v): v for v in d.adjoints}
    for n in reversed(d.order):
        if n not in d.adjoints:
            continue
        e = d.adjoints[n]
        refs = {s: out[by_symbol[s]] for s in e.free_symbols if s in by_symbol}
        if any(r is None for r in refs.values()):
            out[n] = None
            continue
        e = e.xreplace(refs) if refs else e
        out[n] = e if expr_size(e) <= MAX_SIZE else None
    return {n: e for n, e in out.items() if e is not None}


def _in_kept_names(G: nx.DiGraph, order: list[str], kept: set[str]) -> dict:
    """Each op node's symbol → its expression in leaves and kept intermediates (themselves
    kept as symbols), or None past the size budget: generated names such as q = 1 − p are
    written out, so that (1 − y)/(1 − p) can cancel against p·(1 − p)."""
    out: dict[sympy.Symbol, sympy.Expr | None] = {}
    for n in order:
        data = G.nodes[n]
        if data["kind"] != "op":
            continue
        if n in kept:
            out[symbol(n)] = symbol(n)
            continue
        subs = {symbol(a): out.get(symbol(a), symbol(a)) for a in G.predecessors(n)}
        if any(v is None for v in subs.values()):
            out[symbol(n)] = None
            continue
        e = data["expr"].xreplace(subs)
        out[symbol(n)] = e if expr_size(e) <= MAX_SIZE else None
    return out


def _substitute(e: sympy.Expr, expanded) -> sympy.Expr | None:
    subs = {s: expanded[s] for s in e.free_symbols if s in expanded}
    if any(v is None for v in subs.values()):
        return None
    return e.xreplace(subs)


def _one_hot_sums(G: nx.DiGraph, constants: Mapping[str, float]) -> dict:
    """Σₖyₖ → 1 for the targets of each loss node whose constant targets sum to 1."""
    out = {}
    for n in G:
        data = G.nodes[n]
        if data["kind"] != "op" or data["op"] != "cross_entropy":
            continue
        ys = data["args"][len(data["args"]) // 2:]
        if not all(isinstance(y, str) and y in constants for y in ys):
            continue
        if math.isclose(sum(constants[y] for y in ys), 1.0, abs_tol=1e-12):
            out[sympy.Add(*(symbol(y) for y in ys))] = sympy.S.One
    return out


def _hide_functions(e: sympy.Expr) -> tuple[dict, sympy.Expr]:
    """Replace each function application by a fresh symbol: ({symbol: application}, e)."""
    applications = sorted(e.atoms(sympy.Function), key=sympy.default_sort_key)
    atoms = {sympy.Dummy(f"f{i}", real=True): a for i, a in enumerate(applications)}
    return atoms, e.xreplace({a: s for s, a in atoms.items()})


def _kept(G: nx.DiGraph, names) -> set[str]:
    """The intermediates a form is written in: the user's own names (all by default), but
    not a function application (σ(z) reads better than p), unless its label reads as one
    (an MLP's A(f2) is the course's own name), and never a loss."""
    out = set()
    for n in G:
        data = G.nodes[n]
        if data["kind"] != "op" or (names is not None and n not in names):
            continue
        if data["op"] in LOSSES or (data["op"] in FUNCTIONS and "(" not in data["label"]):
            continue
        out.add(n)
    return out


def _equal(form: sympy.Expr, exact: sympy.Expr | None, constants, tries: int = 3) -> bool:
    """Both sides agree at random values of their symbols (to a relative 1e-9); constants
    at their values, since Σy = 1 holds only there."""
    if exact is None:
        return False
    symbols = sorted(form.free_symbols | exact.free_symbols, key=str)
    rng = random.Random(0)
    for _ in range(tries):
        point = {s: sympy.Float(constants.get(s, rng.uniform(0.1, 0.9))) for s in symbols}
        try:
            x, y = complex(form.xreplace(point).evalf()), complex(exact.xreplace(point).evalf())
        except (TypeError, ValueError):
            return False
        if not abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y)):
            return False
    return True
