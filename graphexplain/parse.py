"""Parse program text into a :class:`Program`, safely.

What it does: splits the text into statements (``;`` or newlines, in any order), reads the
textbook forms (``J(a,b,c) = 3(a+bc)``: declared inputs, implicit multiplication, juxtaposed
names), then parses each right-hand side with Python's :mod:`ast` and walks the tree against a
whitelist: numbers, names, ``+ - * / ** ^``, unary signs, and calls of op-table functions.

It reads the course's notation as the course and the blackboard write it: ``σ(z)``, ``ln x``,
``max(0, x)`` (relu) and ``max(a, b)``, ``e^x`` (exp, unless the program makes ``e`` a
variable), superscripts ``x²`` ``x⁻¹``, ``·`` ``⋅`` ``×`` for products, ``−`` for minus, and
full-width ``（ ）`` ``，``. A name may be written as a label: ``w1[1,2]`` is the name
``w1_1_2`` and ``linear.weight[0,0]`` is ``linear_weight_0_0`` (:attr:`Program.labels`).
Every place in an error is the line and column of the text as written.

What it does not do: evaluate anything. No ``eval``, ``exec``, ``sympify`` or ``parse_expr``
ever sees user text; :func:`ast.parse` only builds a tree, and anything outside the whitelist
is a :class:`~graphexplain.errors.ParseError` naming its line and column.

The result keeps the structure the user wrote (a small tree per statement), because sympy would
rewrite it on construction (``3*(a+v)`` becomes ``3*a + 3*v``, ``x*x`` becomes ``x**2``).
"""

from __future__ import annotations

import ast
import difflib
import keyword
import math
import re
import sys
import unicodedata
from bisect import bisect_right
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import repeat

import sympy

from . import ops
from .errors import LimitError, ParseError
from .limits import DEFAULT, Limits, exceeded

# --- the program: assignments of small op trees ------------------------------------------------


@dataclass(frozen=True)
class Num:
    """A numeric constant (an exact sympy number, a Float, or ``pi``)."""

    value: sympy.Expr


@dataclass(frozen=True)
class Ref:
    """A reference to a named value: an input, or another statement's result."""

    name: str


@dataclass(frozen=True)
class Apply:
    """An op-table op applied to argument trees, with its numeric parameters."""

    op: str
    args: tuple[Tree, ...]
    params: tuple[tuple[str, sympy.Expr], ...] = ()


Tree = Num | Ref | Apply


@dataclass(frozen=True)
class Assignment:
    """``name = tree``, written at ``line``."""

    name: str
    tree: Tree
    line: int


@dataclass(frozen=True)
class Program:
    """A parsed program.

    Attributes
    ----------
    assignments : the statements, in the order written.
    inputs : the free names (inputs), declared order first, then order of first use.
    output : the assigned name whose value is explained.
    declared : whether the inputs were declared, ``J(a,b,c) = …``.
    labels : identifier → label, for the names written as labels: ``w1[1,2]`` is the name
        ``w1_1_2``, displayed ``w1[1,2]``; ``linear.weight[0,0]`` is ``linear_weight_0_0``.

    A declared input may also be assigned a number (``J(x) = x^2; x = 3``): that number is
    its value at the point (see :func:`graphexplain.graph.build`).
    """

    assignments: tuple[Assignment, ...]
    inputs: tuple[str, ...]
    output: str
    declared: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)

    def assigned(self) -> dict[str, Assignment]:
        """The assignments by name."""
        return {a.name: a for a in self.assignments}


# --- tokens ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tok:
    kind: str  # number, name, op, string
    text: str
    line: int
    col: int  # 1-based, in characters of the original text
    label: str | None = None  # how a name written w1[1,2] or linear.weight is displayed


#: Superscripts, read as a power: ``x²`` is ``x**2``, ``x⁻¹`` is ``x**-1``.
SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺"
_SUPERSCRIPT_ASCII = str.maketrans(SUPERSCRIPTS, "0123456789-+")

_TOKEN = re.compile(
    r"""(?P<ws>[ \t\r\f]+)
      |(?P<number>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
      |(?P<name>[^\W\d][^\W%s]*)
      |(?P<string>'[^'\n]*'|"[^"\n]*")
      |(?P<op>\*\*|//|==|!=|<=|>=|:=|->|[-+*/^(),=.\[\]{}:@%%<>!&|~])""" % SUPERSCRIPTS,
    re.VERBOSE,
)

#: Typographic symbols a textbook or a blackboard uses, and the full-width forms a Chinese
#: keyboard types (（ ）， ；), read as the ASCII character. One character for one, so that
#: every line and column stays that of the original text.
TYPOGRAPHIC = {"×": "*", "·": "*", "⋅": "*", "∙": "*", "∗": "*", "−": "-", "–": "-",
               "÷": "/", "、": ",", "\u3000": " ",
               **{chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}}
_ASCII = str.maketrans(TYPOGRAPHIC)

# Keywords that can appear inside a Python expression reach the AST whitelist, which names the
# construct ("lambda is not allowed"); the others are refused here.
_EXPRESSION_KEYWORDS = {"lambda", "if", "else", "for", "in", "not", "and", "or", "is",
                        "None", "True", "False", "await", "yield", "async"}

#: What to write instead of a keyword used as a name (any other keyword gets a trailing _).
KEYWORD_NAMES = {"in": "x_in", "lambda": "lam", "is": "is_", "as": "as_", "for": "for_",
                 "if": "if_"}


def _tokenize(text: str, where: list[tuple[int, int]]) -> list[Tok]:
    """Tokens of one statement; ``where[i]`` is the (line, column) of its character i."""
    tokens, pos = [], 0
    while pos < len(text):
        ch = text[pos]
        if ch in SUPERSCRIPTS:
            pos = _superscript(text, pos, where, tokens)
            continue
        m = _TOKEN.match(text, pos)
        if not m:
            shown = repr(ch) if ch.isprintable() else f"U+{ord(ch):04X}"
            raise ParseError(f"unexpected character {shown}", *where[pos])
        kind = m.lastgroup
        if kind == "name":
            tokens.append(_name_token(m.group(), *where[pos]))
        elif kind != "ws":
            tokens.append(Tok(kind, m.group(), *where[pos]))
        pos = m.end()
    for i, tok in enumerate(tokens):
        if tok.kind == "name" and keyword.iskeyword(tok.text):
            _check_keyword(tokens, i)
    return _names_with_labels(tokens)


def _name_token(text: str, line: int, col: int) -> Tok:
    """A name, in the form Python's parser reads it (NFKC: ``x₁`` is ``x1``)."""
    name = unicodedata.normalize("NFKC", text)
    if not name.isidentifier():
        bad = next((c for c in text if not ("a" + c).isidentifier()), text[0])
        raise ParseError(f"unexpected character {bad!r} in the name '{text}'", line, col)
    return Tok("name", name, line, col)


def _superscript(text: str, pos: int, where, tokens: list[Tok]) -> int:
    """``x²`` → ``x ** 2``, ``x⁻¹`` → ``x ** -1``; returns the position after the run."""
    end = pos
    while end < len(text) and text[end] in SUPERSCRIPTS:
        end += 1
    run = text[pos:end].translate(_SUPERSCRIPT_ASCII)
    sign, digits = run[:1] if run[:1] in "+-" else "", run.lstrip("+-")
    if not digits.isdigit():
        raise ParseError(f"the superscript {text[pos:end]} needs a whole number, as in x² or "
                         "x⁻¹", *where[pos])
    line, col = where[pos]
    tokens.append(Tok("op", "**", line, col))
    if sign == "-":
        tokens.append(Tok("op", "-", line, col))
    tokens.append(Tok("number", digits, line, col))
    return end


_OPERAND_BEFORE = {"+", "-", "*", "/", "**", "^", "(", ",", "="}
_OPERAND_AFTER = {"+", "-", "*", "/", "**", "^", ")", ",", "="}


def _check_keyword(tokens: list[Tok], i: int) -> None:
    """A keyword where a value goes (``2*in + 1``, ``f(in) = …``) is a name the student chose:
    say what to write instead. Any other keyword outside an expression is refused here."""
    tok = tokens[i]
    before = tokens[i - 1].text if i else None
    after = tokens[i + 1].text if i + 1 < len(tokens) else None
    as_name = (before is None or (before in _OPERAND_BEFORE and tokens[i - 1].kind == "op")) \
        and (after is None or (after in _OPERAND_AFTER and tokens[i + 1].kind == "op"))
    if as_name and tok.text not in ("True", "False", "None"):
        raise ParseError(_keyword_message(tok.text), tok.line, tok.col)
    if tok.text not in _EXPRESSION_KEYWORDS:
        raise ParseError(f"'{tok.text}' is not allowed: graphexplain reads formulas, "
                         "not Python statements", tok.line, tok.col)


def _keyword_message(word: str) -> str:
    instead = KEYWORD_NAMES.get(word, word + "_")
    other = f" (or {word}_)" if instead != word + "_" else ""
    return (f"'{word}' is a Python keyword and cannot be a name: write {instead}{other} "
            "instead")


def _adjacent(a: Tok, b: Tok) -> bool:
    return a.line == b.line and b.col == a.col + len(a.text)


def _names_with_labels(tokens: list[Tok]) -> list[Tok]:
    """Read ``w1[1,2]`` and ``linear.weight[0,0]`` as one name each: the identifier
    ``w1_1_2`` (``linear_weight_0_0``), displayed as written (without spaces). The indices
    are whole numbers; the parts of a dotted name are written without spaces and do not start
    with ``_``. A dotted name that is called (``torch.sigmoid(x)``) is left to the AST walk,
    which refuses it."""
    out, i = [], 0
    while i < len(tokens):
        tok, j = tokens[i], i + 1
        if tok.kind != "name":
            out.append(tok)
            i += 1
            continue
        parts = [tok.text]
        while (j + 1 < len(tokens) and tokens[j].text == "." and tokens[j + 1].kind == "name"
               and not tokens[j + 1].text.startswith("_")
               and _adjacent(tokens[j - 1], tokens[j]) and _adjacent(tokens[j], tokens[j + 1])):
            parts.append(tokens[j + 1].text)
            j += 2
        index, end = _index(tokens, j)
        called = end < len(tokens) and tokens[end].text == "("
        if (len(parts) == 1 and index is None) or (len(parts) > 1 and called):
            out.append(tok)
            i += 1
            continue
        out.append(Tok("name", "_".join(parts + (index or [])), tok.line, tok.col,
                       label_of(parts, index)))
        i = end
    return out


def label_of(parts: list[str], index: list[str] | None) -> str:
    """``linear.weight[0,0]``: the display form of a dotted, indexed name."""
    return ".".join(parts) + (f"[{','.join(index)}]" if index else "")


def _index(tokens: list[Tok], j: int) -> tuple[list[str] | None, int]:
    """``[1,2]`` at ``tokens[j]``: (["1", "2"], the position after it), or (None, j)."""
    if j >= len(tokens) or tokens[j].text != "[":
        return None, j
    index, k = [], j + 1
    while k + 1 < len(tokens) and tokens[k].kind == "number" and tokens[k].text.isdigit():
        index.append(str(int(tokens[k].text)))
        if tokens[k + 1].text == "]":
            return index, k + 2
        if tokens[k + 1].text != ",":
            break
        k += 2
    return None, j


def identifier(name: str) -> str:
    """The identifier of a name as typed, label or not: ``w1[1, 2]`` → ``w1_1_2``,
    ``linear.weight[0,0]`` → ``linear_weight_0_0``, ``x`` → ``x``; ``name`` itself when it
    is not one of these forms."""
    text = name.translate(_ASCII).strip()
    if "[" in text or "." in text:  # w1[1, 2] is w1[1,2]
        text = text.replace(" ", "")
    m = re.fullmatch(r"([^\W\d]\w*(?:\.[^\W\d_]\w*)*)(?:\[(\d+(?:,\d+)*)\])?", text)
    if not m:
        return name.strip()
    parts = m.group(1).split(".")
    index = [str(int(i)) for i in m.group(2).split(",")] if m.group(2) else []
    return unicodedata.normalize("NFKC", "_".join(parts + index))


# --- statements --------------------------------------------------------------------------------


@dataclass
class _Statement:
    lhs: Tok | None  # None for a bare expression
    declared: list[Tok] | None  # J(a,b,c) = … declares a, b, c
    rhs: list[Tok]
    line: int
    col: int
    text: str = ""  # the right side as written (for a suggestion that repeats it)


#: the characters that split, nest or comment; everything between them is copied as a run
_STRUCTURE = re.compile(r"[#;\n()\[\]{}]")


def _split_statements(text: str) -> list[tuple[str, list[tuple[int, int]]]]:
    """(statement text, (line, column) of each of its characters) for each statement.

    ``;`` and newlines at depth 0 split; a newline inside parentheses continues the statement
    (and its characters keep their own line and column); ``#`` starts a comment. The text is
    read a run of ordinary characters at a time (a program of 5,000 terms is 100,000 of them).
    """
    out, depth, line, col = [], 0, 1, 1
    buf: list[str] = []
    where: list[tuple[int, int]] = []
    pos = 0
    while True:
        m = _STRUCTURE.search(text, pos)
        end = m.start() if m else len(text)
        if end > pos:  # ordinary characters, all on this line
            buf.append(text[pos:end])
            where.extend(zip(repeat(line), range(col, col + end - pos)))
            col += end - pos
        if m is None:
            break
        ch, pos = m.group(), end
        if ch == "#":  # to the end of the line (the newline itself is read next)
            newline = text.find("\n", pos)
            pos = len(text) if newline < 0 else newline
            continue
        if ch in ";\n" and depth <= 0:
            if "".join(buf).strip():
                out.append(("".join(buf), where))
            buf, where = [], []
        else:
            depth += ch in "([{"
            depth -= ch in ")]}"
            buf.append(" " if ch == "\n" else ch)
            where.append((line, col))
        line, col = (line + 1, 1) if ch == "\n" else (line, col + 1)
        pos += 1
    if "".join(buf).strip():
        out.append(("".join(buf), where))
    return out


def _statement(tokens: list[Tok], source: str, where: list[tuple[int, int]]) -> _Statement:
    """Split one statement's tokens into its left side (if any) and right side."""
    line, col = where[0]
    eq = next((i for i, t in enumerate(tokens) if t.text == "="), None)
    if eq is None or _depth_at(tokens, eq) > 0:
        return _Statement(None, None, _keywords(tokens), line, col, source.strip())
    lhs, rhs = tokens[:eq], _keywords(tokens[eq + 1:])
    if not rhs:
        raise ParseError("nothing after '='", tokens[eq].line, tokens[eq].col)
    text = source[where.index((tokens[eq].line, tokens[eq].col)) + 1:].strip()
    if len(lhs) == 1 and lhs[0].kind == "name":
        return _Statement(lhs[0], None, rhs, line, col, text)
    if _is_declaration(lhs):
        return _Statement(lhs[0], [t for t in lhs[2:-1] if t.kind == "name"], rhs, line, col,
                          text)
    first = lhs[0] if lhs else tokens[eq]
    raise ParseError("the left side of '=' must be a name (J = …) or a declaration "
                     "of the inputs (J(a,b,c) = …)", first.line, first.col)


def _keywords(tokens: list[Tok]) -> list[Tok]:
    """Mark the parameter names of keyword arguments (``alpha`` in ``elu(x, alpha=2)``): they
    are not variables, and a textbook reading must neither split nor multiply them."""
    return [Tok("keyword", t.text, t.line, t.col)
            if t.kind == "name" and i + 1 < len(tokens) and tokens[i + 1].text == "=" else t
            for i, t in enumerate(tokens)]


def _depth_at(tokens: list[Tok], index: int) -> int:
    depth = 0
    for t in tokens[:index]:
        depth += t.text in "([{"
        depth -= t.text in ")]}"
    return depth


def _is_declaration(lhs: list[Tok]) -> bool:
    """``NAME ( NAME {, NAME} )``."""
    if len(lhs) < 4 or lhs[0].kind != "name" or lhs[1].text != "(" or lhs[-1].text != ")":
        return False
    inner = lhs[2:-1]
    names, commas = inner[0::2], inner[1::2]
    return all(t.kind == "name" for t in names) and all(t.text == "," for t in commas)


# --- textbook reading: implicit multiplication and juxtaposed names ----------------------------


#: Only names this short are read as juxtaposed names (``bc`` → b·c, ``xy`` → x·y): a textbook
#: juxtaposes a few one- or two-letter names, and finding the split takes time quadratic in
#: the length of the name, so a long name is taken as it is.
SPLIT_MAX_CHARS = 24


class _Parts:
    """The names a juxtaposition may split into: the union of a few sets, without copying
    them (a program with thousands of names and statements would copy them per statement)."""

    def __init__(self, *sets: set[str]):
        self.sets = sets

    def __contains__(self, name: str) -> bool:
        for s in self.sets:  # noqa: SIM110 (any() over a generator costs 3× here, per name)
            if name in s:
                return True
        return False


def _segment(word: str, parts) -> list[str] | None:
    """The shortest split of ``word`` into two or more of ``parts`` (``bc`` → ``[b, c]``);
    ``word`` itself is not one of the pieces, and a word longer than :data:`SPLIT_MAX_CHARS`
    is not split."""
    if len(word) > SPLIT_MAX_CHARS:
        return None
    # a split starts with a proper prefix and ends with a proper suffix that are parts: most
    # names (w4999, x12) have neither, and need no search
    ends = range(1, len(word))
    if not any(word[:k] in parts for k in ends) or not any(word[k:] in parts for k in ends):
        return None
    best: list[list[str] | None] = [[]] + [None] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(end):
            piece, before = word[start:end], best[start]
            if before is not None and piece in parts and piece != word:
                if best[end] is None or len(before) + 1 < len(best[end]):
                    best[end] = [*before, piece]
    found = best[len(word)]
    return found if found is not None and len(found) >= 2 else None


def _is_value_end(tok: Tok, variables: set[str]) -> bool:
    """Whether ``tok`` can end a factor that implicit multiplication may follow."""
    if tok.kind == "number" or tok.text == ")":
        return True
    return tok.kind == "name" and not keyword.iskeyword(tok.text) and tok.text not in ops.FUNCTIONS


def _implicit_times(prev: Tok, cur: Tok, variables: set[str]) -> bool:
    """Whether a reader puts a × between ``prev`` and ``cur``: ``2a``, ``3(``, ``)(``, ``b c``."""
    if not _is_value_end(prev, variables) or keyword.iskeyword(cur.text):
        return False
    if cur.kind in ("name", "number") and prev.kind == "name" and cur.kind == "number":
        return False  # "x 2" is not a textbook product
    if cur.text == "(":
        # name( is a call, unless the name is a variable or a constant: u(a+b) reads u·(a+b)
        return prev.kind != "name" or prev.text in variables or prev.text in ops.CONSTANTS
    return cur.kind in ("name", "number") and not (prev.kind == "number" and cur.kind == "number")


def _read_textbook(tokens: list[Tok], variables: set[str], split_into) -> list[Tok]:
    """Insert the implicit ×, and split juxtaposed names into the names in ``split_into``."""
    out: list[Tok] = []
    known = _Parts(variables, ops.FUNCTIONS.keys(), ops.CONSTANTS.keys())
    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        pieces = [tok]
        is_call = nxt is not None and nxt.text == "(" and tok.text in ops.FUNCTIONS
        if tok.kind == "name" and not is_call and tok.text not in known and tok.label is None:
            split = _segment(tok.text, split_into)
            if split:
                offsets = [sum(map(len, split[:k])) for k in range(len(split))]
                pieces = [Tok("name", p, tok.line, tok.col + o)
                          for p, o in zip(split, offsets, strict=True)]
        for piece in pieces:
            if out and _implicit_times(out[-1], piece, variables):
                out.append(Tok("op", "*", piece.line, piece.col))
            out.append(piece)
    return out


def _read_notation(tokens: list[Tok], variables: set[str]) -> list[Tok]:
    """The course's notation, as the functions of the table: ``σ(z)`` and ``ln(x)`` (unless
    σ or ln is a variable of the program), a one-argument function applied without
    parentheses (``ln x``, ``sin x²`` is ``sin(x²)``), and braces after a power
    (``e^{x+1}``)."""
    out: list[Tok] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        name = tok.text if tok.kind == "name" and tok.text not in variables else None
        if name in ops.ALIASES:
            name = ops.ALIASES[name]
            tok = Tok("name", name, tok.line, tok.col)
        end = _atom_end(tokens, i + 1) if name in ops.FUNCTIONS else None
        if end is not None and ops.FUNCTIONS[name].arity == 1:
            atom = tokens[i + 1]
            out += [tok, Tok("op", "(", atom.line, atom.col), *tokens[i + 1:end],
                    Tok("op", ")", atom.line, atom.col)]
            i = end
            continue
        out.append(tok)
        i += 1
    return _braces_after_powers(out)


def _atom_end(tokens: list[Tok], j: int) -> int | None:
    """The end of ``x``, ``2``, ``x²`` or ``x^-2`` at ``tokens[j]``: the argument of a function
    written without parentheses; None when something else is there."""
    if j >= len(tokens):
        return None
    tok = tokens[j]
    plain = tok.kind == "number" or (tok.kind == "name" and not keyword.iskeyword(tok.text)
                                     and tok.text not in ops.FUNCTIONS
                                     and tok.text not in ops.ALIASES)
    if not plain or (j + 1 < len(tokens) and tokens[j + 1].text == "("):
        return None
    end = j + 1
    if end < len(tokens) and tokens[end].text in ("**", "^"):
        k = end + 1 + (end + 1 < len(tokens) and tokens[end + 1].text == "-")
        if k < len(tokens) and tokens[k].kind in ("number", "name"):
            end = k + 1
    return end


def _braces_after_powers(tokens: list[Tok]) -> list[Tok]:
    """``^{…}`` as ``^(…)``: the LaTeX way of grouping an exponent."""
    out, closing, depth = list(tokens), [], 0
    for i, tok in enumerate(out):
        if tok.text == "{" and i and out[i - 1].text in ("**", "^"):
            out[i] = Tok("op", "(", tok.line, tok.col)
            closing.append(depth)
        elif tok.text in ("(", "[", "{"):
            depth += 1
        elif tok.text == "}" and closing and closing[-1] == depth:
            out[i] = Tok("op", ")", tok.line, tok.col)
            closing.pop()
        elif tok.text in (")", "]", "}"):
            depth -= 1
    return out


# --- the AST walk -----------------------------------------------------------------------------

_REFUSED = {
    ast.Attribute: "attribute access (.) is not allowed",
    ast.Subscript: "subscripts ([…]) are not allowed, except whole-number indices that are "
                   "part of a name: w1[1,2]",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.List: "lists are not allowed",
    ast.Tuple: "tuples are not allowed",
    ast.Dict: "dicts are not allowed",
    ast.Set: "sets are not allowed",
    ast.Compare: "comparisons are not allowed",
    ast.BoolOp: "'and'/'or' are not allowed",
    ast.IfExp: "'if … else' is not allowed",
    ast.NamedExpr: "':=' is not allowed",
    ast.JoinedStr: "strings are not allowed",
    ast.Starred: "'*' unpacking is not allowed",
}

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


class _Walker:
    """Turns one statement's AST into a :data:`Tree`, refusing anything off the whitelist."""

    def __init__(self, source: str, tokens: list[Tok], starts: list[int], limits: Limits,
                 euler: bool = False):
        self.source, self.tokens, self.starts, self.limits = source, tokens, starts, limits
        self.euler = euler  # e^x is exp(x): e is not a variable of the program

    def where(self, node: ast.AST) -> tuple[int, int]:
        """Original (line, column) of an AST node, through the rewritten source."""
        char = len(self.source.encode()[: node.col_offset].decode(errors="ignore"))
        tok = self.tokens[max(0, bisect_right(self.starts, char) - 1)]
        return tok.line, tok.col

    def fail(self, node: ast.AST, message: str) -> ParseError:
        return ParseError(message, *self.where(node))

    def walk(self, node: ast.AST, depth: int = 0) -> Tree:
        if depth > self.limits.max_depth:
            raise exceeded("an expression nested too deep (in parentheses, signs, powers "
                           "or calls)", "max_depth", self.limits.max_depth)
        method = getattr(self, "walk_" + type(node).__name__, None)
        if method is None:
            raise self.fail(node, _REFUSED.get(type(node), f"{type(node).__name__} is not allowed"))
        return method(node, depth)

    def walk_Constant(self, node: ast.Constant, depth: int) -> Tree:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = "strings" if isinstance(value, str) else f"{type(value).__name__} constants"
            raise self.fail(node, f"{kind} are not allowed")
        if isinstance(value, int):
            return Num(_check_number(sympy.Integer(value), self.limits))
        if not math.isfinite(value):
            line, col = self.where(node)
            raise LimitError(f"line {line}, column {col}: the number is too large for float64 "
                             "(whose largest value is about 1.8e308)")
        return Num(sympy.Float(value))

    def walk_Name(self, node: ast.Name, depth: int) -> Tree:
        return self.name(node.id, node)

    def name(self, name: str, node: ast.AST) -> Tree:
        if name.startswith("__"):
            raise self.fail(node, f"names starting with '__' are not allowed: '{name}'")
        if name in ops.CONSTANTS:
            return Num(ops.CONSTANTS[name])
        if name in ops.FUNCTIONS:
            raise self.fail(node, f"'{name}' is a function: call it, {name}(x)")
        return Ref(name)

    def walk_UnaryOp(self, node: ast.UnaryOp, depth: int) -> Tree:
        if isinstance(node.op, ast.UAdd):
            return self.walk(node.operand, depth + 1)
        if not isinstance(node.op, ast.USub):
            raise self.fail(node, f"the operator {type(node.op).__name__} is not allowed")
        return _scale(self.walk(node.operand, depth + 1), sympy.S.NegativeOne, self.limits)

    def walk_BinOp(self, node: ast.BinOp, depth: int) -> Tree:
        symbol = _BINOPS.get(type(node.op))
        if symbol is None:
            raise self.fail(node, "only + - * / ** ^ are allowed as operators")
        if symbol == "**":
            exponent = self.walk(node.right, depth + 1)
            if self.euler and isinstance(node.left, ast.Name) and node.left.id == "e":
                return _fold(Apply("exp", (exponent,)), self.limits)
            return _power(self.walk(node.left, depth + 1), exponent, self.limits)
        family = (ast.Add, ast.Sub) if symbol in "+-" else (ast.Mult, ast.Div)
        # Walk the left spine of a + b - c + … without recursion: long sums are flat, not deep.
        terms, inverted = [], []
        while isinstance(node, ast.BinOp) and isinstance(node.op, family):
            terms.append(self.walk(node.right, depth + 1))
            inverted.append(isinstance(node.op, (ast.Sub, ast.Div)))
            node = node.left
        terms.append(self.walk(node, depth + 1))
        inverted.append(False)
        terms, inverted = terms[::-1], inverted[::-1]
        if symbol in "+-":
            args = [_scale(t, sympy.S.NegativeOne, self.limits) if inv else t
                    for t, inv in zip(terms, inverted, strict=False)]
            return _chain("add", args, self.limits)
        args = [_power(t, Num(sympy.S.NegativeOne), self.limits) if inv else t
                for t, inv in zip(terms, inverted, strict=False)]
        return _chain("mul", args, self.limits)

    def walk_Call(self, node: ast.Call, depth: int) -> Tree:
        if not isinstance(node.func, ast.Name):
            why = _REFUSED.get(type(node.func), "only functions can be called")
            raise self.fail(node.func, why)
        name = node.func.id
        op = ops.FUNCTIONS.get(name)
        if op is None:
            raise self.fail(node, _unknown_function(name))
        positional = [self.walk(a, depth + 1) for a in node.args]
        if name == "max" and len(positional) == 2 and not node.keywords:
            zero = [isinstance(a, Num) and a.value.is_zero for a in positional]
            if zero[0] != zero[1]:  # max(0, x) and max(x, 0): the course's relu
                return _fold(Apply("relu", (positional[zero[0]],)), self.limits)
        if len(positional) < op.arity:
            raise self.fail(node, f"{name} takes {op.arity} argument{'s' * (op.arity > 1)}, "
                                  f"got {len(positional)}")
        args, extra = positional[: op.arity], positional[op.arity:]
        params = self.params(op, node, extra, depth)
        return _fold(Apply(op.name, tuple(args), params), self.limits)

    def params(self, op: ops.Op, node: ast.Call, extra: list[Tree], depth: int):
        """The op's numeric parameters, positional after the arguments, or by keyword."""
        names = list(op.params)
        if len(extra) > len(names):
            count = op.arity + len(names)
            raise self.fail(node, f"{op.name} takes at most {count} argument"
                                  f"{'s' * (count > 1)}, got {op.arity + len(extra)}")
        given = dict(zip(names, extra, strict=False))
        for kw in node.keywords:
            if kw.arg is None:
                raise self.fail(kw, "'**' unpacking is not allowed")
            if kw.arg not in names:
                allowed = ", ".join(names) or "none"
                raise self.fail(kw, f"{op.name} has no parameter '{kw.arg}' "
                                    f"(parameters: {allowed})")
            if kw.arg in given:
                raise self.fail(kw, f"{op.name}: the parameter '{kw.arg}' is given twice")
            given[kw.arg] = self.walk(kw.value, depth + 1)
        values = []
        for pname in names:
            tree = given.get(pname, Num(ops.as_expr(op.params[pname])))
            if not isinstance(tree, Num):
                raise self.fail(node, f"parameter '{pname}' of {op.name} must be a number")
            # an irrational parameter (alpha=pi) as a float: the op rows evaluate on numbers
            value = tree.value if tree.value.is_Number else sympy.Float(_float64(tree.value))
            values.append((pname, value))
        return tuple(values)


#: Function names a student may reach for, and what to write instead.
FUNCTION_HINTS = {"min": "-max(-a, -b) for min(a, b)", "square": "x^2 or x²",
                  "sqr": "x^2 or x²", "log10": "log(x)/log(10)", "log2": "log(x)/log(2)",
                  "sigma": "sigmoid(x) or σ(x)", "logistic": "sigmoid(x) or σ(x)",
                  "softmax": "exp(o1)/(exp(o1) + exp(o2)) for two outputs"}


def _unknown_function(name: str) -> str:
    """The refusal of an unknown function, with what to write instead."""
    row = ops.NETWORK_ONLY.get(name)
    if row is not None:
        return f"{name} is used by `graphexplain mlp`; in a program write {row.instead}"
    if name in FUNCTION_HINTS:
        return f"unknown function '{name}': write {FUNCTION_HINTS[name]}"
    near = near_function(name)
    if near is not None:
        return f"unknown function '{name}': did you mean {near}? Write {near}(…)"
    return (f"unknown function '{name}'; known functions: {', '.join(ops.FUNCTIONS)} "
            f"(for a product, write {name}*(…))")


def near_function(name: str) -> str | None:
    """The function of the table a misspelt name most likely means (``sigmod`` → sigmoid,
    ``ReLU`` → relu), or None."""
    lower = name.lower()
    if lower in ops.FUNCTIONS or lower in ops.ALIASES:
        return lower
    found = difflib.get_close_matches(lower, [*ops.FUNCTIONS, *ops.ALIASES], n=1, cutoff=0.75)
    return found[0] if found else None


# --- tree helpers: folding constants, bounded -------------------------------------------------


def _more_digits(n: int, most: int) -> bool:
    """Whether ``|n|`` has more than ``most`` decimal digits, without computing ``10**most``
    (a raised limit may be huge)."""
    bits = abs(n).bit_length()
    if bits <= 3 * most:  # |n| < 2**(3·most) < 10**most
        return False
    if bits > 4 * most:  # |n| ≥ 2**(4·most) > 10**most
        return True
    return abs(n) >= 10**most


def _float64(value: sympy.Expr) -> float:
    """A constant's float64 value: ±inf when it overflows, NaN when it is not real."""
    try:
        return float(value)
    except OverflowError:
        return math.inf
    except (TypeError, ValueError):
        return math.nan


def _check_number(value: sympy.Expr, limits: Limits) -> sympy.Expr:
    """Refuse a constant that is not a real number, is too large, or is not finite in float64
    (the precision torch checks in), naming the limit to raise where there is one."""
    if value.is_Integer and _more_digits(int(value), limits.max_int_digits):
        raise exceeded("an integer with more digits than allowed", "max_int_digits",
                       limits.max_int_digits)
    if value.is_Rational and not value.is_Integer and _more_digits(value.q,
                                                                   limits.max_int_digits):
        raise exceeded("a fraction with a denominator too large", "max_int_digits",
                       limits.max_int_digits)
    if value in (sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
        raise LimitError(f"a constant evaluates to {value} (division by zero?)")
    if value.is_extended_real is False or value.has(sympy.I):
        raise ParseError(f"the constant {_short(value)} is not a real number; graphexplain "
                         "works with real values (as torch's float64 does)")
    approx = _float64(value)
    if math.isinf(approx):
        raise _overflow(value)
    if math.isnan(approx):  # every constant must have a float64 value, as torch needs one
        raise ParseError(f"the constant {_short(value)} has no real value")
    return value


def _overflow(value: sympy.Expr) -> LimitError:
    return LimitError(f"the constant {_short(value)} is too large for float64 (whose largest "
                      "value is about 1.8e308)")


def _short(value: sympy.Expr, most: int = 60) -> str:
    text = str(value)
    return text if len(text) <= most else text[: most - 1] + "…"


def _power(base: Tree, exponent: Tree, limits: Limits) -> Tree:
    if isinstance(exponent, Num) and exponent.value.is_Integer:
        e = int(exponent.value)
        if abs(e) > limits.max_exponent:
            raise exceeded(f"the exponent {exponent.value}", "max_exponent", limits.max_exponent)
    return _fold(Apply("pow", (base, exponent)), limits)


def _scale(tree: Tree, factor: sympy.Expr, limits: Limits) -> Tree:
    """``factor · tree``, merging into a leading numeric coefficient where there is one."""
    if isinstance(tree, Num):
        return Num(_check_number(factor * tree.value, limits))
    if isinstance(tree, Apply) and tree.op == "mul" and isinstance(tree.args[0], Num):
        coeff = _check_number(factor * tree.args[0].value, limits)
        rest = tree.args[1:]
        return rest[0] if coeff == 1 and len(rest) == 1 else Apply("mul", (Num(coeff), *rest))
    return Apply("mul", (Num(factor), tree))


def _chain(op: str, args: list[Tree], limits: Limits) -> Tree:
    """An add or mul over ``args``: unnamed same-op chains merged, numeric terms folded."""
    flat: list[Tree] = []
    for a in args:
        flat.extend(a.args if isinstance(a, Apply) and a.op == op and not a.params else [a])
    if len(flat) > limits.max_terms:
        raise exceeded(f"a chain of {len(flat)} terms", "max_terms", limits.max_terms)
    numbers = [a.value for a in flat if isinstance(a, Num)]
    rest = [a for a in flat if not isinstance(a, Num)]
    if op == "mul" and len(rest) > limits.max_factors:
        # each factor's local partial is the product of all the others: n² symbols
        raise exceeded(f"a product of {len(rest)} factors", "max_factors", limits.max_factors)
    identity = sympy.S.Zero if op == "add" else sympy.S.One
    constant = identity if not numbers else _check_number(
        sympy.Add(*numbers) if op == "add" else sympy.Mul(*numbers), limits)
    if not rest:
        return Num(constant)
    # 0*x keeps x: it is still an input, with gradient 0
    lead = [] if constant == identity else [Num(constant)]
    args_out = lead + rest if op == "mul" else rest + lead
    return args_out[0] if len(args_out) == 1 else Apply(op, tuple(args_out))


def _fold(tree: Apply, limits: Limits) -> Tree:
    """Evaluate an op whose arguments are all numbers (``2**3`` → 8), within the limits."""
    if not all(isinstance(a, Num) for a in tree.args):
        return tree
    if tree.op == "pow":
        base, exponent = (a.value for a in tree.args)
        if base.is_Integer and exponent.is_Integer and exponent > 0:
            bits = int(exponent) * int(abs(base)).bit_length()
            if abs(base) > 1 and bits > 4 * limits.max_int_digits:
                raise exceeded(f"the power {base}**{exponent}", "max_int_digits",
                               limits.max_int_digits)
        if base == 0 and exponent.is_negative:
            raise LimitError(f"the constant {base}**{exponent} divides by zero")
    op = ops.OPS[tree.op]
    params = dict(tree.params)
    # First in float64, from the arguments' float64 values: cheap whatever the exact constants
    # are. An overflow (exp(exp(exp(100)))) is refused here, before sympy would evaluate the
    # exact constant, which can take hours.
    approx = op.build(*(sympy.Float(_float64(a.value)) for a in tree.args), **params)
    if math.isinf(_float64(ops.as_expr(approx).doit())):
        raise _overflow(op.build(*(a.value for a in tree.args), **params))
    value = op.build(*(a.value for a in tree.args), **params)
    return Num(_check_number(ops.as_expr(value).doit(), limits))


# --- the parser -------------------------------------------------------------------------------


def _parse_rhs(tokens: list[Tok], limits: Limits, euler: bool = False) -> Tree:
    """Parse one right-hand side (already read as a textbook reader would) into a tree."""
    pieces, starts, pos = [], [], 0
    for tok in tokens:
        text = "**" if tok.text == "^" else tok.text
        starts.append(pos)
        pieces.append(text)
        pos += len(text) + 1
    source = " ".join(pieces)
    _check_literals(tokens, limits)
    depth = max_depth(tokens)
    if depth > limits.max_depth:
        raise exceeded(f"nesting {depth} deep", "max_depth", limits.max_depth)
    # CPython builds the AST of a long flat chain recursively (max_terms bounds its depth), and
    # the walk recurses once per level of nesting (max_depth bounds it).
    with _recursion_limit(max(limits.max_terms, 3 * limits.max_depth) + 1000):
        try:
            tree = ast.parse(source, mode="eval")
        except SyntaxError as e:
            at = bisect_right(starts, (e.offset or 1) - 1) - 1
            tok = tokens[max(0, at)] if tokens else None
            msg = (e.msg or "invalid syntax").replace("'**'", "'^'")
            raise ParseError(msg, tok.line if tok else 1, tok.col if tok else 1) from None
        except (RecursionError, MemoryError):
            raise _too_deep() from None
        try:
            return _Walker(source, tokens, starts, limits, euler).walk(tree.body)
        except RecursionError:
            raise _too_deep() from None


#: The most the recursion limit is raised to while parsing, whatever limits are raised.
#: CPython 3.11 builds an AST up to three levels per unit of the recursion limit, in C; with
#: an 8 MiB stack, a chain of 105,000 terms overflows the C stack (a crash, not an error), so
#: the limit stays at a third of that: 75,000 levels.
RECURSION_CAP = 25_000


@contextmanager
def _recursion_limit(wanted: int):
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(min(max(old, wanted), max(old, RECURSION_CAP)))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def _too_deep() -> LimitError:
    return LimitError("the expression is too long or too deeply nested for Python's parser; "
                      "split it into named statements (u = …; f = u + …)")


_ARITHMETIC = {"+", "-", "*", "/", "**", "^"}


def _check_literals(tokens: list[Tok], limits: Limits) -> None:
    """Refuse a statement with more operators than ``max_terms``, and an integer literal with
    more digits than ``max_int_digits``, before Python reads it. Python refuses more than
    4,300 digits by itself (``sys.set_int_max_str_digits``); a limit raised above that raises
    Python's too, for this process."""
    operators = sum(t.kind == "op" and t.text in _ARITHMETIC for t in tokens)
    if operators > limits.max_terms:  # counted before Python builds a tree this deep
        raise exceeded(f"a statement of {operators} operators", "max_terms", limits.max_terms)
    for t in tokens:
        if t.kind == "number" and t.text.isdigit() and len(t.text) > limits.max_int_digits:
            raise LimitError(f"line {t.line}, column {t.col}: an integer of {len(t.text)} "
                             f"digits exceeds the limit max_int_digits={limits.max_int_digits}; "
                             "raise it with --limit max_int_digits=N if this is intended")
    python_limit = getattr(sys, "get_int_max_str_digits", lambda: 0)()
    if python_limit and limits.max_int_digits > python_limit:
        sys.set_int_max_str_digits(min(limits.max_int_digits, 2**31 - 1))


def max_depth(tokens: list[Tok]) -> int:
    """The deepest nesting of brackets in a token list."""
    depth = deepest = 0
    for t in tokens:
        depth += t.text in "([{"
        depth -= t.text in ")]}"
        deepest = max(deepest, depth)
    return deepest


def parse(text: str, output: str | None = None, limits: Limits = DEFAULT) -> Program:
    """Parse program text into a :class:`Program`.

    Parameters
    ----------
    text : statements separated by ``;`` or newlines, in any order.
    output : the name to explain; needed only when several names are unused by other
        statements.
    limits : resource limits.

    Examples
    --------
    >>> p = parse("J(a,b,c) = 3(a+bc)")
    >>> p.inputs, p.output
    (('a', 'b', 'c'), 'J')
    >>> parse("y = σ(w·x + b)").inputs
    ('w', 'x', 'b')
    >>> p = parse("f = w1[1,2]*x1")
    >>> p.inputs, p.labels
    (('w1_1_2', 'x1'), {'w1_1_2': 'w1[1,2]'})
    """
    if len(text) > limits.max_chars:
        raise exceeded(f"a program of {len(text)} characters", "max_chars", limits.max_chars)
    raw = _split_statements(text.translate(_ASCII))
    if not raw:
        raise ParseError("the program is empty", 1, 1)
    if len(raw) > limits.max_statements:
        raise exceeded(f"{len(raw)} statements", "max_statements", limits.max_statements)
    statements = [_statement(_tokenize(s, where), s, where) for s, where in raw]
    declared = _declared_inputs(statements)
    assigned = _assigned_names(statements)
    variables = set(assigned) | set(declared or ())
    for st in statements:
        st.rhs = _read_notation(st.rhs, variables)
    euler = _euler(statements, variables)
    free = _free_name_tokens(statements, set(assigned), euler)
    ctx = _Context.of(declared, variables, free, euler, statements)
    assignments = []
    for st in statements:
        split_into = variables if declared is not None else _undeclared_parts(st, free, variables)
        tokens = _read_textbook(st.rhs, variables, split_into)
        _check_names(tokens, st, ctx)
        name = st.lhs.text if st.lhs is not None else _bare_name(assigned)
        tree = _parse_rhs(tokens, limits, euler)
        if declared and name in declared and not isinstance(tree, Num):
            t = st.lhs
            raise ParseError(f"'{name}' is a declared input: give it a number, {name} = 3 "
                             f"(the point), or remove it from the declaration to compute it",
                             t.line, t.col)
        assignments.append(Assignment(name, tree, st.line))
    return _program(assignments, declared, output, _labels(statements))


@dataclass(frozen=True)
class _Context:
    """What the checks of one statement need to know about the whole program."""

    declared: list[str] | None
    variables: set[str]
    free: set[str]
    euler: bool
    statements: list[_Statement]
    head: str | None = None  # the declaring statement's name (J in J(a,b,c) = …)
    singles: bool = False  # whether an input is named by a single letter (textbook style)

    @classmethod
    def of(cls, declared, variables, free, euler, statements) -> _Context:
        head = next((st.lhs.text for st in statements if st.declared is not None), None)
        singles = any(len(n) == 1 for n in (*free, *(declared or ())))
        return cls(declared, variables, free, euler, statements, head, singles)


def _euler(statements: list[_Statement], variables: set[str]) -> bool:
    """Whether ``e`` is Euler's number: it is neither declared nor assigned, and written only
    as the base of a power (``e^x``, ``e**x``), which is then read as ``exp(x)``."""
    if "e" in variables:
        return False
    uses = [(st.rhs, i) for st in statements for i, t in enumerate(st.rhs)
            if t.kind == "name" and t.text == "e"]
    return bool(uses) and all(i + 1 < len(rhs) and rhs[i + 1].text in ("^", "**")
                              for rhs, i in uses)


def _labels(statements: list[_Statement]) -> dict[str, str]:
    """identifier → label, for the names written ``w1[1,2]`` or ``linear.weight``."""
    out: dict[str, str] = {}
    for st in statements:
        for t in [st.lhs, *(st.declared or ()), *st.rhs]:
            if t is not None and t.label is not None:
                out.setdefault(t.text, t.label)
    return out


def _declared_inputs(statements: list[_Statement]) -> list[str] | None:
    decl = [st for st in statements if st.declared is not None]
    if len(decl) > 1:
        t = decl[1].lhs
        raise ParseError("the inputs are declared twice; declare them once, J(a,b,c) = …",
                         t.line, t.col)
    if not decl:
        return None
    names, seen = [], set()
    for t in decl[0].declared:
        _check_identifier(t)
        if t.text in seen:
            raise ParseError(f"the input '{t.text}' is declared twice", t.line, t.col)
        seen.add(t.text)
        names.append(t.text)
    return names


def _assigned_names(statements: list[_Statement]) -> dict[str, Tok]:
    """The assigned names; a declared input may be assigned a number (its point), which
    :func:`parse` checks once the right side is read."""
    assigned: dict[str, Tok] = {}
    bare = [st for st in statements if st.lhs is None]
    if len(bare) > 1:
        t = bare[1].rhs[0]
        raise ParseError("only one statement may be a bare expression; name the others, "
                         "x = …", t.line, t.col)
    for st in statements:
        if st.lhs is None:
            continue
        t = st.lhs
        _check_identifier(t)
        if t.text in assigned:
            first = assigned[t.text]
            raise ParseError(f"'{t.text}' is assigned twice (first at line {first.line}, "
                             f"column {first.col}); each name gets one value", t.line, t.col)
        assigned[t.text] = t
    return assigned


def _check_identifier(t: Tok) -> None:
    if t.kind != "name":
        raise ParseError(f"'{t.text}' is not a name", t.line, t.col)
    if t.text.startswith("__"):
        raise ParseError(f"names starting with '__' are not allowed: '{t.text}'", t.line, t.col)
    if t.text in ops.FUNCTIONS or t.text in ops.CONSTANTS:
        raise ParseError(f"'{t.text}' is a built-in name and cannot be used as a variable: "
                         f"write {t.text}_ or {t.text}1 instead", t.line, t.col)
    if keyword.iskeyword(t.text):
        raise ParseError(_keyword_message(t.text), t.line, t.col)


def _free_name_tokens(statements: list[_Statement], assigned: set[str],
                      euler: bool = False) -> set[str]:
    """Names used on a right side that nothing assigns (the inputs, before any splitting)."""
    names = set()
    for st in statements:
        for i, t in enumerate(st.rhs):
            nxt = st.rhs[i + 1] if i + 1 < len(st.rhs) else None
            called = nxt is not None and nxt.text == "("
            if t.kind == "name" and t.text not in assigned and not keyword.iskeyword(t.text):
                if not (called and t.text in ops.FUNCTIONS) and t.text not in ops.CONSTANTS:
                    names.add(t.text)
    if euler:
        names.discard("e")
    return names


def _undeclared_parts(st: _Statement, free: set[str], variables: set[str]) -> _Parts:
    """Without a declaration, names split only into names the program uses on their own,
    or into single letters when the statement is written textbook-style (``3(a+bc)``)."""
    pairs = zip(st.rhs, st.rhs[1:], strict=False)
    textbook = any(_implicit_times(p, c, variables) for p, c in pairs)
    letters = {ch for t in st.rhs if t.kind == "name" for ch in t.text if ch.isalpha()}
    return _Parts(free, variables, letters if textbook else set())


#: Two-letter names that are names, not products, even in a textbook-style program.
WORDS = {"mu", "nu", "xi", "pi", "lr", "id", "ln"}


def _juxtaposed(word: str, candidates, ctx: _Context) -> list[str] | None:
    """How an undeclared name splits into a product, if it reads as one: into names the
    program uses (``ab`` beside ``a`` and ``b``), or, for two letters in a program with an
    input named by a single letter (``wx`` beside ``b`` in ``y = wx + b``), into its letters.
    A name like ``loss``, ``w1``, ``lr`` or ``dx`` stays a name."""
    parts = _segment(word, candidates)
    if parts:
        return parts
    two_letters = len(word) == 2 and word.isascii() and word.isalpha()
    if two_letters and word not in WORDS and word[0] != "d" and ctx.singles:
        return list(word)
    return None


def _check_names(tokens: list[Tok], st: _Statement, ctx: _Context) -> None:
    """Refuse names that are neither declared nor assigned (with a declaration), and
    suggest the product for a juxtaposition without one."""
    declared, variables = ctx.declared, ctx.variables
    head = ctx.head or (st.lhs.text if st.lhs is not None else "f")
    for i, t in enumerate(tokens):
        if t.kind != "name" or t.text in variables or keyword.iskeyword(t.text):
            continue
        if t.text in ops.FUNCTIONS or t.text in ops.CONSTANTS or (ctx.euler and t.text == "e"):
            continue
        if i + 1 < len(tokens) and tokens[i + 1].text == "(":
            continue  # a call: the walk names the unknown function and what to write
        if declared is not None:
            euler = (" (for Euler's number, write e^x or exp(x) and leave e undeclared)"
                     if t.text == "e" else "")
            near = difflib.get_close_matches(t.text, sorted(variables), n=1, cutoff=0.75)
            if near:
                raise ParseError(f"unknown name '{t.text}': did you mean {near[0]}? Or declare "
                                 f"it, {head}({_listed([*declared, t.text])}) = …",
                                 t.line, t.col)
            raise ParseError(f"unknown name '{t.text}': declare it, "
                             f"{head}({_listed([*declared, t.text])}) = …, "
                             f"or write the product with *{euler}", t.line, t.col)
    if declared is None:
        candidates = _undeclared_parts(st, ctx.free, variables)
        for t in st.rhs:
            if t.kind != "name" or t.text not in ctx.free or t.label is not None:
                continue
            parts = _juxtaposed(t.text, candidates, ctx)
            if parts:
                star = "*".join(parts)
                names = _inputs_in_order(ctx, t.text, parts)
                rhs = st.text if len(st.text) <= 40 else "…"
                raise ParseError(f"unknown name '{t.text}': did you mean {star} "
                                 f"({'·'.join(parts)})? Write {star}, or declare the inputs: "
                                 f"{head}({_listed(names)}) = {rhs}", t.line, t.col)


def _inputs_in_order(ctx: _Context, word: str, parts: list[str]) -> list[str]:
    """The free names in order of first use, with ``word`` read as ``parts``."""
    seen: dict[str, None] = {}
    for st in ctx.statements:
        for t in st.rhs:
            if t.kind == "name" and t.text in ctx.free:
                for n in (parts if t.text == word else [t.text]):
                    seen.setdefault(n, None)
    return list(seen)


def _listed(names: list[str], sep: str = ",", most: int = 8) -> str:
    """``a,b,c``; a long list keeps its first and last names (a message stays one short line)."""
    if len(names) <= most:
        return sep.join(names)
    return sep.join([*names[: most - 2], "…", names[-1]])


def _bare_name(assigned: dict[str, Tok]) -> str:
    """The name given to a bare expression: ``f``, or ``out`` when ``f`` is taken."""
    return next(n for n in ("f", "out", "result", "f_out") if n not in assigned)


def _program(assignments: list[Assignment], declared: list[str] | None,
             output: str | None, labels: dict[str, str] | None = None) -> Program:
    names = [a.name for a in assignments]
    assigned = set(names)
    used, order = set(), {}
    for a in assignments:
        for ref in _refs(a.tree):
            used.add(ref)
            if ref not in assigned:
                order.setdefault(ref, None)  # a dict keeps the order of first use
    declared_set = set(declared or [])
    inputs = list(declared or []) + [n for n in order if n not in declared_set]
    if output is None:
        candidates = [n for n in names if n not in used and n not in declared_set]
        if not candidates:
            raise ParseError("every assigned name is used by another statement, so there is "
                             "no output: the statements form a cycle", assignments[0].line, 1)
        if len(candidates) > 1:
            raise ParseError(f"several outputs: {_listed(candidates, ', ')}; choose one with "
                             "--output NAME", assignments[0].line, 1)
        output = candidates[0]
    elif output not in names:
        known = _listed(names, ", ")
        raise ParseError(f"--output '{output}' is not an assigned name (assigned: {known})", 1, 1)
    return Program(tuple(assignments), tuple(inputs), output, declared is not None,
                   dict(labels or {}))


def _refs(tree: Tree):
    """The names a tree refers to, in order (iteratively: trees may be wide)."""
    stack = [tree]
    while stack:
        t = stack.pop()
        if isinstance(t, Ref):
            yield t.name
        elif isinstance(t, Apply):
            stack.extend(reversed(t.args))
