"""The parser's details, pinned by mutation testing (mutmut) of ``graphexplain/parse.py``.

Each test states a behaviour a user sees: the exact words of an error message and the line and
column it names, the limit a refusal names, how superscripts, signs, keywords, dotted names and
bare expressions are read, and the shape of the parsed trees.
"""

from __future__ import annotations

import sys

import pytest
import sympy

from graphexplain import ops
from graphexplain import parse as parse_module
from graphexplain.errors import GraphExplainError, LimitError, ParseError
from graphexplain.limits import Limits
from graphexplain.parse import Apply, Num, Ref, parse


def tree(text: str, name: str | None = None):
    """The tree of the (only, or named) assignment."""
    program = parse(text)
    return program.assigned()[name or program.output].tree


def refusal(text: str, **limits) -> GraphExplainError:
    """The error ``parse`` raises for ``text`` (under ``limits``)."""
    with pytest.raises(GraphExplainError) as info:
        parse(text, limits=Limits(**limits))
    return info.value


def n(value) -> Num:
    return Num(sympy.sympify(value))


# --- exact messages, with the place they name -------------------------------------------------

MESSAGES = [
    # superscripts: one column each, the ** and the sign at the superscript's place
    ("f = x⁻", "line 1, column 6: the superscript ⁻ needs a whole number, as in x² or x⁻¹"),
    ("f = ²", "line 1, column 5: invalid syntax"),
    ("f = elu(x, ⁻¹)", "line 1, column 12: '**' unpacking is not allowed"),
    ("f = max(⁻¹ 2)", "line 1, column 9: invalid syntax. Perhaps you forgot a comma?"),
    # keywords: a construct of Python's expressions is named as one
    ("f = not x", "line 1, column 5: the operator Not is not allowed"),
    ("f = not (x)", "line 1, column 5: the operator Not is not allowed"),
    ("f = ~x", "line 1, column 5: the operator Invert is not allowed"),
    ("f = 2 in + 1", "line 1, column 5: comparisons are not allowed"),
    ("f = (x) in -y", "line 1, column 5: comparisons are not allowed"),
    ("f = in x", "line 1, column 5: invalid syntax"),
    ("f = True", "line 1, column 5: bool constants are not allowed"),
    ("f = False", "line 1, column 5: bool constants are not allowed"),
    ("f = None", "line 1, column 5: NoneType constants are not allowed"),
    ("f = 2*True", "line 1, column 7: bool constants are not allowed"),
    ("import os", "line 1, column 1: 'import' is not allowed: graphexplain reads formulas, "
                  "not Python statements"),
    ("f = 2*while + 1", "line 1, column 7: 'while' is a Python keyword and cannot be a name: "
                        "write while_ instead"),
    # a dotted name is written without spaces; with them it is attribute access
    ("f = linear .bias + x", "line 1, column 5: attribute access (.) is not allowed"),
    # calls
    ("f = elu(x, 1, 2)", "line 1, column 5: elu takes at most 2 arguments, got 3"),
    ("f = qqq(x)", "line 1, column 5: unknown function 'qqq'; known functions: "
                   + ", ".join(ops.FUNCTIONS) + " (for a product, write qqq*(…))"),
    # a name only somewhat like a function (sigm, sigmoid: 0.73 < 0.75) gets the list
    ("f = sigm(x)", "line 1, column 5: unknown function 'sigm'; known functions: "
                    + ", ".join(ops.FUNCTIONS) + " (for a product, write sigm*(…))"),
    # the suggested declaration lists the inputs in order of use; a keyword argument's
    # parameter name (alpha=) is not a use
    ("y = elu(b, alpha=1) + wx + alpha",
     "line 1, column 23: unknown name 'wx': did you mean w*x (w·x)? Write w*x, or declare the "
     "inputs: y(b,w,x,alpha) = elu(b, alpha=1) + wx + alpha"),
]


@pytest.mark.parametrize(("text", "message"), MESSAGES, ids=[t for t, _ in MESSAGES])
def test_message_words_and_place(text, message):
    error = refusal(text)
    assert isinstance(error, ParseError)
    assert str(error) == message


def test_known_functions_are_listed_comma_separated():
    assert ", ".join(ops.FUNCTIONS).startswith("exp, log, sqrt, sin")


# --- limits named in the message ----------------------------------------------------------------

LIMITS = [
    # the superscript's ** and - are operators, counted against max_terms
    ("f = x²", {"max_terms": 0}, "a statement of 1 operators exceeds the limit max_terms=0; "
                                 "raise it with --limit max_terms=N if this is intended"),
    ("f = x⁻¹", {"max_terms": 1}, "a statement of 2 operators exceeds the limit max_terms=1; "
                                  "raise it with --limit max_terms=N if this is intended"),
    # the superscript's digits are an integer, at the superscript's place
    ("f = x¹²³⁴", {"max_int_digits": 3},
     "line 1, column 6: an integer of 4 digits exceeds the limit max_int_digits=3; "
     "raise it with --limit max_int_digits=N if this is intended"),
    ("f = x**1001", {}, "the exponent 1001 exceeds the limit max_exponent=1000; "
                        "raise it with --limit max_exponent=N if this is intended"),
]


@pytest.mark.parametrize(("text", "limits", "message"), LIMITS, ids=[t for t, _, _ in LIMITS])
def test_limit_messages(text, limits, message):
    error = refusal(text, **limits)
    assert isinstance(error, LimitError)
    assert str(error) == message


@pytest.mark.parametrize("sign", ["+", "-"])
def test_each_unary_sign_is_one_level_of_nesting(sign):
    deepest = "f = " + sign * 100 + "x"
    assert refs(tree(deepest)) == ["x"]
    error = refusal("f = " + sign * 101 + "x")
    assert isinstance(error, LimitError)
    assert str(error) == ("an expression nested too deep (in parentheses, signs, powers or "
                          "calls) exceeds the limit max_depth=100; raise it with "
                          "--limit max_depth=N if this is intended")


def refs(t) -> list[str]:
    if isinstance(t, Ref):
        return [t.name]
    if isinstance(t, Apply):
        return [r for a in t.args for r in refs(a)]
    return []


# --- signs and the leading coefficient ----------------------------------------------------------

X, Y = Ref("x"), Ref("y")


@pytest.mark.parametrize(("text", "want"), [
    ("f = +x", X),
    ("f = -(-x)", X),
    ("f = -(2*x)", Apply("mul", (n(-2), X))),
    ("f = -(2*x*y)", Apply("mul", (n(-2), X, Y))),
    ("f = -(-2*x*y)", Apply("mul", (n(2), X, Y))),
    ("f = -(x*y)", Apply("mul", (n(-1), Apply("mul", (X, Y))))),
    # a power is not a product: its base is not a coefficient
    ("f = -2**x", Apply("mul", (n(-1), Apply("pow", (n(2), X))))),
    ("f = -(x + 1)", Apply("mul", (n(-1), Apply("add", (X, n(1)))))),
])
def test_a_sign_merges_into_a_leading_coefficient(text, want):
    assert tree(text) == want


# --- long lists in messages keep their first and last names -------------------------------------


@pytest.mark.parametrize(("count", "listed"), [
    (2, "a1, a2"),
    (8, "a1, a2, a3, a4, a5, a6, a7, a8"),
    (9, "a1, a2, a3, a4, a5, a6, …, a9"),
    (12, "a1, a2, a3, a4, a5, a6, …, a12"),
])
def test_several_outputs_are_listed_shortly(count, listed):
    text = "; ".join(f"a{i} = x" for i in range(1, count + 1))
    error = refusal(text)
    assert str(error) == (f"line 1, column 1: several outputs: {listed}; choose one with "
                          "--output NAME")


# --- a bare expression's name -------------------------------------------------------------------


@pytest.mark.parametrize(("text", "name"), [
    ("2*x", "f"),
    ("f = 2; f*x", "out"),
    ("f = 2; out = 3; f*out*x", "result"),
    ("f = 2; out = 3; result = 4; f*out*result*x", "f_out"),
])
def test_a_bare_expression_takes_the_first_free_name(text, name):
    program = parse(text)
    assert program.output == name
    assert program.inputs == ("x",)
    assert [a.name for a in program.assignments][-1] == name


# --- identifiers of typed names -----------------------------------------------------------------


@pytest.mark.parametrize(("typed", "ident"), [
    ("linear . bias", "linear_bias"),
    ("linear.weight[0, 0]", "linear_weight_0_0"),
    ("w1[01,2]", "w1_1_2"),
])
def test_identifier_ignores_spaces_in_labels(typed, ident):
    assert parse_module.identifier(typed) == ident


# --- constants: digits, denominators, values that are not finite or not real --------------------

DIGITS = "an integer with more digits than allowed exceeds the limit max_int_digits={}; " \
         "raise it with --limit max_int_digits=N if this is intended"


@pytest.mark.parametrize(("text", "most", "value"), [
    ("f = 3*3*x", 1, 9),
    ("f = 4*2*x", 1, 8),     # 4 bits, still one digit
    ("f = 8*8*x", 2, 64),
    ("f = 9*11*x", 2, 99),
    ("f = 2**150*2**151*x", 100, 2**301),  # 302 bits, 91 digits
])
def test_a_folded_integer_within_the_digit_limit(text, most, value):
    program = parse(text, limits=Limits(max_int_digits=most))
    assert program.assignments[0].tree == Apply("mul", (n(value), X))


@pytest.mark.parametrize(("text", "most"), [
    ("f = 5*2*x", 1),         # exactly 10**1: two digits
    ("f = 10*10*x", 2),       # exactly 10**2
    ("f = 11*11*x", 2),
    ("f = 999*999*x", 3),
    ("f = 10**100*x", 100),   # exactly 10**100: 101 digits
    ("f = 2**200*2**200*2*x", 100),  # 2**401: more bits than 4 per digit
])
def test_a_folded_integer_over_the_digit_limit(text, most):
    error = refusal(text, max_int_digits=most)
    assert isinstance(error, LimitError)
    assert str(error) == DIGITS.format(most)


def test_a_folded_denominator_over_the_digit_limit():
    assert tree("f = x/999") == Apply("mul", (n("1/999"), X))
    error = refusal("f = x/999/999", max_int_digits=3)
    assert isinstance(error, LimitError)
    assert str(error) == ("a fraction with a denominator too large exceeds the limit "
                          "max_int_digits=3; raise it with --limit max_int_digits=N if this "
                          "is intended")


@pytest.mark.parametrize(("text", "error_type", "message"), [
    ("f = x*log(0)", LimitError, "a constant evaluates to zoo (division by zero?)"),
    ("f = sqrt(-1)*x", ParseError, "the constant I is not a real number; graphexplain works "
                                   "with real values (as torch's float64 does)"),
    # not real, though written without I
    ("f = (-1)**(1/3) * x", ParseError, "the constant (-1)**(1/3) is not a real number; "
                                        "graphexplain works with real values (as torch's "
                                        "float64 does)"),
    # not real either, though sympy cannot tell: it has no float64 value
    ("f = (-2)**pi * x", ParseError, "the constant (-2)**pi has no real value"),
])
def test_constants_that_are_not_real_numbers(text, error_type, message):
    error = refusal(text)
    assert type(error) is error_type
    assert str(error) == message


@pytest.mark.parametrize("value", [sympy.oo, -sympy.oo, sympy.zoo, sympy.nan])
def test_check_number_names_an_infinite_constant(value):
    with pytest.raises(LimitError) as info:
        parse_module._check_number(value, Limits())
    assert str(info.value) == f"a constant evaluates to {value} (division by zero?)"


# --- calls: parameters, nesting, relu -----------------------------------------------------------


@pytest.mark.parametrize(("text", "alpha"), [
    ("f = elu(x, alpha=1)", sympy.Integer(1)),
    ("f = elu(x, 1)", sympy.Integer(1)),
    ("f = elu(x)", sympy.Integer(1)),
    ("f = elu(x, alpha=1/2)", sympy.Rational(1, 2)),
    ("f = elu(x, alpha=0.5)", sympy.Float(0.5)),
    # an irrational parameter is its float64 value
    ("f = elu(x, alpha=pi)", sympy.Float(3.141592653589793)),
])
def test_a_parameter_keeps_an_exact_number(text, alpha):
    t = tree(text)
    assert t.op == "elu" and t.args == (X,)
    ((name, value),) = t.params
    assert name == "alpha" and value == alpha and type(value) is type(alpha)


@pytest.mark.parametrize(("head", "tail"), [("f = elu(x, alpha=", "1)"), ("f = sin(", "x)")])
def test_an_argument_is_one_level_below_its_call(head, tail):
    assert parse(head + "+" * 99 + tail).inputs == ("x",)
    error = refusal(head + "+" * 100 + tail)
    assert isinstance(error, LimitError) and "exceeds the limit max_depth=100" in str(error)


@pytest.mark.parametrize(("text", "want"), [
    ("f = max(0, 3)*x", Apply("mul", (n(3), X))),
    ("f = max(-2, 0) + x", X),
    ("f = max(0, x)", Apply("relu", (X,))),
])
def test_max_with_zero_is_relu_folded_on_numbers(text, want):
    assert tree(text) == want


@pytest.mark.parametrize(("text", "message"), [
    ("f = 'a'(x)", "line 1, column 5: only functions can be called"),
    ("f = sin(x, k=1)", "line 1, column 12: sin has no parameter 'k' (parameters: none)"),
    ("f = leaky_relu(x, alpha=1)", "line 1, column 19: leaky_relu has no parameter 'alpha' "
                                   "(parameters: slope)"),
    ("f = elu(x, 1, alpha=2)", "line 1, column 15: elu: the parameter 'alpha' is given twice"),
    ("f = sigmoid(x, y)", "line 1, column 5: sigmoid takes at most 1 argument, got 2"),
])
def test_call_messages(text, message):
    assert str(refusal(text)) == message


# --- every refusal of the statement level, word for word ----------------------------------------

LEFT = ("the left side of '=' must be a name (J = …) or a declaration of the inputs "
        "(J(a,b,c) = …)")
KNOWN = ", ".join(ops.FUNCTIONS)

STATEMENTS = [
    ("f = x $ y", "line 1, column 7: unexpected character '$'"),
    ("f = x\u200b", "line 1, column 6: unexpected character U+200B"),
    ("f = x½", "line 1, column 5: unexpected character '½' in the name 'x½'"),
    ("f = x +", "line 1, column 5: invalid syntax"),
    ("f = (x", "line 1, column 5: '(' was never closed"),
    ("f = x)", "line 1, column 6: unmatched ')'"),
    ("f = x ** ** 2", "line 1, column 10: invalid syntax"),
    ("f = ", "line 1, column 3: nothing after '='"),
    ("f + 1 = x", f"line 1, column 1: {LEFT}"),
    ("(x) = 1", f"line 1, column 1: {LEFT}"),
    ("f() = 1", f"line 1, column 1: {LEFT}"),
    ("= x", f"line 1, column 1: {LEFT}"),
    ("  f(x, 1) = x", f"line 1, column 3: {LEFT}"),
    ("f(x y) = x", f"line 1, column 1: {LEFT}"),
    ("f(x,x) = x", "line 1, column 5: the input 'x' is declared twice"),
    ("J(a,b) = a; K(a) = a", "line 1, column 13: the inputs are declared twice; declare them "
                             "once, J(a,b,c) = …"),
    ("x; y", "line 1, column 4: only one statement may be a bare expression; name the others, "
             "x = …"),
    ("f = 1\n2*x\n3*x", "line 3, column 1: only one statement may be a bare expression; name "
                        "the others, x = …"),
    ("x = 1; x = 2", "line 1, column 8: 'x' is assigned twice (first at line 1, column 1); "
                     "each name gets one value"),
    ("a = 1\n\n  a = 2", "line 3, column 3: 'a' is assigned twice (first at line 1, column 1); "
                         "each name gets one value"),
    ("f = x\n# c\nf = y", "line 3, column 1: 'f' is assigned twice (first at line 1, "
                          "column 1); each name gets one value"),
    ("f = (x +\n y) + foo(z)", "line 2, column 7: unknown function 'foo'; known functions: "
                               f"{KNOWN} (for a product, write foo*(…))"),
    ("f = [x,\n y]", "line 1, column 5: lists are not allowed"),
    ("f = {x}", "line 1, column 5: sets are not allowed"),
    ("__x = 1", "line 1, column 1: names starting with '__' are not allowed: '__x'"),
    ("f(__x) = 1", "line 1, column 3: names starting with '__' are not allowed: '__x'"),
    ("f = __x", "line 1, column 5: names starting with '__' are not allowed: '__x'"),
    ("sin = x", "line 1, column 1: 'sin' is a built-in name and cannot be used as a variable: "
                "write sin_ or sin1 instead"),
    ("f(pi) = pi", "line 1, column 3: 'pi' is a built-in name and cannot be used as a "
                   "variable: write pi_ or pi1 instead"),
    ("f(in) = 2", "line 1, column 3: 'in' is a Python keyword and cannot be a name: write x_in "
                  "(or in_) instead"),
    ("for = 3", "line 1, column 1: 'for' is a Python keyword and cannot be a name: write for_ "
                "instead"),
    ("f = x % 2", "line 1, column 5: only + - * / ** ^ are allowed as operators"),
    ("f = sin", "line 1, column 5: 'sin' is a function: call it, sin(x)"),
    ("f = x.y.z(1)", "line 1, column 5: attribute access (.) is not allowed"),
    ("f = square(x)", "line 1, column 5: unknown function 'square': write x^2 or x²"),
    ("f = sqr(x)", "line 1, column 5: unknown function 'sqr': write x^2 or x²"),
    ("f = log10(x)", "line 1, column 5: unknown function 'log10': write log(x)/log(10)"),
    ("f = log2(x)", "line 1, column 5: unknown function 'log2': write log(x)/log(2)"),
    ("f = sigma(x)", "line 1, column 5: unknown function 'sigma': write sigmoid(x) or σ(x)"),
    ("f = logistic(x)", "line 1, column 5: unknown function 'logistic': write sigmoid(x) or "
                        "σ(x)"),
    ("f = softmax(x)", "line 1, column 5: unknown function 'softmax': write exp(o1)/(exp(o1) "
                       "+ exp(o2)) for two outputs"),
    ("f = Sigmoid(x)", "line 1, column 5: unknown function 'Sigmoid': did you mean sigmoid? "
                       "Write sigmoid(…)"),
    ("f(x) = y", "line 1, column 8: unknown name 'y': declare it, f(x,y) = …, or write the "
                 "product with *"),
    ("f(x) = e*x", "line 1, column 8: unknown name 'e': declare it, f(x,e) = …, or write the "
                   "product with * (for Euler's number, write e^x or exp(x) and leave e "
                   "undeclared)"),
    ("f(x) = xx1", "line 1, column 8: unknown name 'xx1': declare it, f(x,xx1) = …, or write "
                   "the product with *"),
    ("f(alpha) = alph", "line 1, column 12: unknown name 'alph': did you mean alpha? Or "
                        "declare it, f(alpha,alph) = …"),
    ("f = a + b + ab; g = 1", "line 1, column 13: unknown name 'ab': did you mean a*b (a·b)? "
                              "Write a*b, or declare the inputs: f(a,b) = a + b + ab"),
    # a right side longer than 40 characters is not repeated
    ("f = a + bc + 1111111111 + 2222222222 + 3333333333 + 44444",
     "line 1, column 9: unknown name 'bc': did you mean b*c (b·c)? Write b*c, or declare the "
     "inputs: f(a,b,c) = …"),
    ("f(x) = x; g = 1", "line 1, column 1: several outputs: f, g; choose one with --output "
                        "NAME"),
    ("a = b; b = a", "line 1, column 1: every assigned name is used by another statement, so "
                     "there is no output: the statements form a cycle"),
    ("\na = b\nb = c\nc = a", "line 2, column 1: every assigned name is used by another "
                              "statement, so there is no output: the statements form a cycle"),
    ("f = 1e400*x", "line 1, column 5: the number is too large for float64 (whose largest "
                    "value is about 1.8e308)"),
    ("f = 0**-1*x", "the constant 0**-1 divides by zero"),
    ("f = exp(1000)*x", "the constant exp(1000) is too large for float64 (whose largest value "
                        "is about 1.8e308)"),
    ("f = exp(exp(100))", "the constant exp(exp(100)) is too large for float64 (whose largest "
                          "value is about 1.8e308)"),
    ("", "line 1, column 1: the program is empty"),
    ("# nothing\n ;", "line 1, column 1: the program is empty"),
]


@pytest.mark.parametrize(("text", "message"), STATEMENTS, ids=[t for t, _ in STATEMENTS])
def test_statement_messages(text, message):
    assert str(refusal(text)) == message


LIMIT_MESSAGES = [
    ("f = x + x + x + x", {"max_terms": 3}, "a chain of 4 terms", "max_terms=3"),
    ("f = x + x + x + x", {"max_terms": 2}, "a statement of 3 operators", "max_terms=2"),
    ("f = a*b*c*d", {"max_factors": 3}, "a product of 4 factors", "max_factors=3"),
    ("f = x + y", {"max_chars": 8}, "a program of 9 characters", "max_chars=8"),
    ("a=1;b=2;c=a+b", {"max_statements": 2}, "3 statements", "max_statements=2"),
    ("f = 1234*x", {"max_int_digits": 3},
     "line 1, column 5: an integer of 4 digits", "max_int_digits=3"),
    ("f = x**-1001", {}, "the exponent -1001", "max_exponent=1000"),
    ("f = x**2", {"max_exponent": 1}, "the exponent 2", "max_exponent=1"),
    ("f = 10**101*x", {}, "the power 10**101", "max_int_digits=100"),
    ("f = ((x))", {"max_depth": 1}, "nesting 2 deep", "max_depth=1"),
]


@pytest.mark.parametrize(("text", "limits", "what", "limit"), LIMIT_MESSAGES,
                         ids=[f"{t}-{lim}" for t, _, _, lim in LIMIT_MESSAGES])
def test_limit_refusals_name_the_limit(text, limits, what, limit):
    error = refusal(text, **limits)
    assert isinstance(error, LimitError)
    name = limit.split("=")[0]
    assert str(error) == (f"{what} exceeds the limit {limit}; raise it with --limit {name}=N "
                          "if this is intended")


@pytest.mark.parametrize(("text", "limits"), [
    ("f = x + x + x + x", {"max_terms": 4}),
    ("f = a*b*c*d", {"max_factors": 4}),
    ("f = x + y", {"max_chars": 9}),
    ("a=1;b=2;c=a+b", {"max_statements": 3}),
    ("f = 123*x", {"max_int_digits": 3}),
    ("f = x**1", {"max_exponent": 1}),
    ("f = (x)", {"max_depth": 1}),
])
def test_at_the_limit_is_fine(text, limits):
    assert parse(text, limits=Limits(**limits)).output in ("f", "c")


# --- the textbook reading: implicit products, juxtaposed names, the course's notation -----------

A, B, C = Ref("a"), Ref("b"), Ref("c")


def mul(*args):
    return Apply("mul", args)


def add(*args):
    return Apply("add", args)


def fn(op, *args):
    return Apply(op, args)


READINGS = [
    ("f(a,b,c) = abc", mul(A, B, C)),
    ("f(a,b,ab) = ab", Ref("ab")),            # a declared name is not split
    ("f(ab, c) = abc", mul(Ref("ab"), C)),     # the shortest split
    ("f(x,y) = xyx", mul(X, Y, X)),
    ("f(x, y, xy) = xyx", mul(Ref("xy"), X)),
    ("f(x) = 2x(x+1)", mul(n(2), X, add(X, n(1)))),
    ("f(x) = (x+1)(x-1)2", mul(n(2), add(X, n(1)), add(X, n(-1)))),
    ("f = 2(x)(y)", mul(n(2), X, Y)),
    ("f = 2 x y", mul(n(2), X, Y)),
    ("f = x2", Ref("x2")),
    ("f = pi x", mul(Num(sympy.pi), X)),
    ("f = 2 pi", Num(2 * sympy.pi)),
    ("u = 2; f = u(x)", mul(Ref("u"), X)),
    ("ln = 2; f = ln(x)", mul(Ref("ln"), X)),   # ln is a variable here, not log
    ("f(x, σ) = σ(x)", mul(Ref("σ"), X)),
    ("f(x) = sin x + cos x", add(fn("sin", X), fn("cos", X))),
    ("f = σ x", fn("sigmoid", X)),
    ("f = exp x", fn("exp", X)),
    ("f = ln x^-2", fn("log", fn("pow", X, n(-2)))),
    ("f = sin x^y", fn("sin", fn("pow", X, Y))),
    ("f = sin(x)^2", fn("pow", fn("sin", X), n(2))),
    ("f = sin 2x", mul(Num(sympy.sin(2)), X)),  # the argument without parentheses is one atom
    ("f = e^{x}", fn("exp", X)),
    ("f = e^{(x)}", fn("exp", X)),
    ("f = x^{y}z", mul(fn("pow", X, Y), Ref("z"))),
    ("f = e**2*x", mul(Num(sympy.exp(2)), X)),
    ("f = e^x*e", mul(fn("pow", Ref("e"), X), Ref("e"))),  # e used alone is a variable
    ("f = 2e", mul(n(2), Ref("e"))),
    ("f = w1[1,2] + w1[1, 3]", add(Ref("w1_1_2"), Ref("w1_1_3"))),
    ("f = a.b[1]", Ref("a_b_1")),
    ("f = a[01]", Ref("a_1")),
    ("elu(x, alpha=2)", Apply("elu", (X,), (("alpha", sympy.Integer(2)),))),
    ("f = x*alpha + elu(x, alpha=2)",
     add(mul(X, Ref("alpha")), Apply("elu", (X,), (("alpha", sympy.Integer(2)),)))),
    ("f = dx*x", mul(Ref("dx"), X)),
]


@pytest.mark.parametrize(("text", "want"), READINGS, ids=[t for t, _ in READINGS])
def test_textbook_readings(text, want):
    assert tree(text) == want


@pytest.mark.parametrize(("text", "labels"), [
    ("f = w1[1,2] + w1[1, 3]", {"w1_1_2": "w1[1,2]", "w1_1_3": "w1[1,3]"}),
    ("f = a.b[1]", {"a_b_1": "a.b[1]"}),
    ("f = a[01]", {"a_1": "a[1]"}),
    ("f = a_1 + x", {}),
])
def test_labels_are_displayed_as_written(text, labels):
    assert parse(text).labels == labels


SUBSCRIPT = ("subscripts ([…]) are not allowed, except whole-number indices that are part of a "
             "name: w1[1,2]")


@pytest.mark.parametrize(("text", "message"), [
    ("f = a._b", "line 1, column 5: attribute access (.) is not allowed"),
    ("f = a. b", "line 1, column 5: attribute access (.) is not allowed"),
    ("f = a[1][2]", f"line 1, column 5: {SUBSCRIPT}"),
    ("f = a[1,x]", f"line 1, column 5: {SUBSCRIPT}"),
    ("f = a[1.5]", f"line 1, column 5: {SUBSCRIPT}"),
    ("f = a[1 2]", "line 1, column 7: invalid syntax. Perhaps you forgot a comma?"),
    ("f(x) = x 2", "line 1, column 10: invalid syntax"),
    ("f = x 2", "line 1, column 7: invalid syntax"),
    ("f = max x", "line 1, column 9: invalid syntax"),
    ("f = ln sin x", "line 1, column 8: invalid syntax"),
    ("f = x(2)", f"line 1, column 5: unknown function 'x'; known functions: {KNOWN} "
                 "(for a product, write x*(…))"),
    ("f = ab*a*b", "line 1, column 5: unknown name 'ab': did you mean a*b (a·b)? Write a*b, or "
                   "declare the inputs: f(a,b) = ab*a*b"),
    ("f = xi + x + i", "line 1, column 5: unknown name 'xi': did you mean x*i (x·i)? Write "
                       "x*i, or declare the inputs: f(x,i) = xi + x + i"),
    ("f = wxb + w + x + b", "line 1, column 5: unknown name 'wxb': did you mean w*x*b (w·x·b)? "
                            "Write w*x*b, or declare the inputs: f(w,x,b) = wxb + w + x + b"),
    ("f = 3(a+bc) + a + b + c", "line 1, column 9: unknown name 'bc': did you mean b*c (b·c)? "
                                "Write b*c, or declare the inputs: f(a,b,c) = 3(a+bc) + a + "
                                "b + c"),
])
def test_reading_refusals(text, message):
    assert str(refusal(text)) == message


@pytest.mark.parametrize(("text", "lines", "output", "inputs"), [
    ("f = (a\n+ 1)\ng = f", [("f", 1), ("g", 3)], "g", ("a",)),
    ("f = x # comment ( \n g = f", [("f", 1), ("g", 2)], "g", ("x",)),
    ("a = 1; b = a + x", [("a", 1), ("b", 1)], "b", ("x",)),
    ("f = x; g = f; h = g*y", [("f", 1), ("g", 1), ("h", 1)], "h", ("x", "y")),
    ("f = x # ; f = y", [("f", 1)], "f", ("x",)),
    # a newline outside parentheses ends the statement: "+ 1" is a second, bare one
    ("f = a\n  + 1\ng = f", [("f", 1), ("out", 2), ("g", 3)], None, ("a",)),
])
def test_statements_lines_and_the_output(text, lines, output, inputs):
    program = parse(text, output="g" if output is None else None)
    assert [(a.name, a.line) for a in program.assignments] == lines
    assert program.output == (output or "g") and program.inputs == inputs


# --- places through comments, separators and continued lines ------------------------------------

FOO = f"unknown function 'foo'; known functions: {KNOWN} (for a product, write foo*(…))"


@pytest.mark.parametrize(("text", "line", "col"), [
    ("a = 1 # c\nb = foo(a)", 2, 5),
    ("a = 1;  b = foo(a)", 1, 13),
    ("f = (x +\n\n  foo(y))", 3, 3),
    ("f = ((x\n)) + foo(y)", 2, 6),
    ("a = 1\r\nb = foo(a)", 2, 5),
])
def test_places_after_comments_separators_and_newlines(text, line, col):
    assert str(refusal(text)) == f"line {line}, column {col}: {FOO}"


@pytest.mark.parametrize(("text", "message"), [
    ("f = x)\ng = 2", "line 1, column 6: unmatched ')'"),
    ("f = x); g = 2", "line 1, column 6: unmatched ')'"),
    ("3(a+bc)", "line 1, column 5: unknown name 'bc': did you mean b*c (b·c)? Write b*c, or "
                "declare the inputs: f(a,b,c) = 3(a+bc)"),
    ("J = 3(a +\n bc)", "line 2, column 2: unknown name 'bc': did you mean b*c (b·c)? Write "
                        "b*c, or declare the inputs: J(a,b,c) = 3(a +  bc)"),
    ("J(a,b) = u; u = a*q", "line 1, column 19: unknown name 'q': declare it, J(a,b,q) = …, "
                            "or write the product with *"),
    ("f = u; u = a + qq + q", "line 1, column 16: unknown name 'qq': did you mean q*q (q·q)? "
                              "Write q*q, or declare the inputs: u(a,q) = a + qq + q"),
    ("f = [x^{2}]", "line 1, column 5: lists are not allowed"),
    ("f = ln -x", "line 1, column 5: 'log' is a function: call it, log(x)"),
    ("f = sin x^", "line 1, column 5: invalid syntax"),
    ("f = sin sin x", "line 1, column 9: invalid syntax"),
    ("f = ln x(y)", "line 1, column 8: invalid syntax"),
    ("f = x\x07", "line 1, column 6: unexpected character U+0007"),
    ("f = x\U000E0001", "line 1, column 6: unexpected character U+E0001"),
    ("f = x😀", "line 1, column 6: unexpected character '😀'"),
    ("f = a.b(x)", "line 1, column 5: attribute access (.) is not allowed"),
    ("f = (a.\nb)", "line 1, column 6: attribute access (.) is not allowed"),
    ("f = a[1,]", f"line 1, column 5: {SUBSCRIPT}"),
    ("f = a[-1]", f"line 1, column 5: {SUBSCRIPT}"),
    ("f = a[]", "line 1, column 7: invalid syntax"),
    ("f = w[1](x)", f"line 1, column 5: unknown function 'w_1'; known functions: {KNOWN} "
                    "(for a product, write w_1*(…))"),
    ("f(x) = e", "line 1, column 8: unknown name 'e': declare it, f(x,e) = …, or write the "
                 "product with * (for Euler's number, write e^x or exp(x) and leave e "
                 "undeclared)"),
    ("f = a + Ab", "line 1, column 9: unknown name 'Ab': did you mean A*b (A·b)? Write A*b, or "
                   "declare the inputs: f(a,A,b) = a + Ab"),
    # a name longer than 24 characters is never split
    ("f(a,b) = " + "ab" * 13, "line 1, column 10: unknown name '" + "ab" * 13 + "': declare "
     "it, f(a,b," + "ab" * 13 + ") = …, or write the product with *"),
    ("f(x,,y) = x", f"line 1, column 1: {LEFT}"),
    ("f[x] = x", f"line 1, column 1: {LEFT}"),
    ("2(x) = x", f"line 1, column 1: {LEFT}"),
    ("f(x)y = x", f"line 1, column 1: {LEFT}"),
    ("f = x = 2", "line 1, column 7: invalid syntax"),
    ("f = (x = 2)", "line 1, column 6: invalid syntax. Maybe you meant '==' or ':=' instead of "
                    "'='?"),
    ("f = sin(x=2)", "line 1, column 5: sin takes 1 argument, got 0"),
])
def test_more_refusals(text, message):
    assert str(refusal(text)) == message


MORE_READINGS = [
    ("f = x^{y+1}", fn("pow", X, add(Y, n(1)))),
    ("f = e^{x^{2}}", fn("exp", fn("pow", X, n(2)))),
    ("f = x^ {y}", fn("pow", X, Y)),
    ("f = x**{y}", fn("pow", X, Y)),
    ("f = x^{(y)}", fn("pow", X, Y)),
    ("f = x^{y}^{z}", fn("pow", X, fn("pow", Y, Ref("z")))),
    ("f = (x^{y})", fn("pow", X, Y)),
    ("f = ln 2", Num(sympy.log(2))),
    ("f = sin x y", mul(fn("sin", X), Y)),
    ("f = sin x^2 y", mul(fn("sin", fn("pow", X, n(2))), Y)),
    ("f = sin x^-y", fn("sin", fn("pow", X, mul(n(-1), Y)))),
    ("f = sin x**2", fn("sin", fn("pow", X, n(2)))),
    ("f = maximum(x, y)", fn("max", X, Y)),
    ("f = 1234.5*x", mul(Num(sympy.Float(1234.5)), X)),
    ("f = x₁ + y", add(Ref("x1"), Y)),
    ("f = a[1,2,3]", Ref("a_1_2_3")),
    ("f = a[007]", Ref("a_7")),
    ("f(x) = e^x", fn("exp", X)),
    ("f = e^x; g = e^f", fn("exp", Ref("f"))),
    ("f = x + e^2", add(X, Num(sympy.exp(2)))),
    ("f = e^x + e", add(fn("pow", Ref("e"), X), Ref("e"))),
    ("f = a + αβ", add(A, Ref("αβ"))),
    ("f(a,b) = " + "ab" * 12, mul(*[A, B] * 12)),
    ("f(a, b, ab) = aab", mul(A, Ref("ab"))),
    ("f = 0*x", mul(n(0), X)),
    ("f = x + 0", X),
    ("f = x*1", X),
    ("f = 1 + 2", n(3)),
    ("f = x*2", mul(n(2), X)),
    ("f = 2 + x", add(X, n(2))),
    ("f = (a+b)+(c+d)", add(A, B, C, Ref("d"))),
    ("f = (a*b)*(c*d)", mul(A, B, C, Ref("d"))),
    ("f = a - (b - c)", add(A, mul(n(-1), add(B, mul(n(-1), C))))),
    ("f = a/(b/c)", mul(A, fn("pow", mul(B, fn("pow", C, n(-1))), n(-1)))),
    ("f = (-2)**3*x", mul(n(-8), X)),
    ("f = 0**0*x", X),
    ("f = 2.0**3*x", mul(Num(sympy.Float(8)), X)),
    ("f = 2**-3*x", mul(n("1/8"), X)),
    ("f = (-1)**999*x", mul(n(-1), X)),
    ("f = 1**1000*x", X),
    ("f = a*(b + c) + d", add(mul(A, add(B, C)), Ref("d"))),
    ("f(x,) = x", X),
    ("f(x) = elu(x, alpha=2)", Apply("elu", (X,), (("alpha", sympy.Integer(2)),))),
]


@pytest.mark.parametrize(("text", "want"), MORE_READINGS, ids=[t for t, _ in MORE_READINGS])
def test_more_readings(text, want):
    assert tree(text) == want


@pytest.mark.parametrize(("word", "inputs"), [
    ("mu", ("a", "mu")), ("nu", ("a", "nu")), ("xi", ("a", "xi")), ("lr", ("a", "lr")),
    ("id", ("a", "id")), ("dx", ("a", "dx")), ("αβ", ("a", "αβ")), ("x1", ("a", "x1")),
    ("abc", ("a", "abc")),
])
def test_usual_names_stay_names_beside_a_single_letter(word, inputs):
    assert parse(f"f = a + {word}").inputs == inputs


def test_inputs_in_order_of_first_use():
    assert parse("f = a*(b + c) + d").inputs == ("a", "b", "c", "d")
    assert parse("f = d; d = c*b + a").inputs == ("c", "b", "a")
    assert parse("g(z, y) = 2*z*y").inputs == ("z", "y")


@pytest.fixture
def pythons_digit_limit():
    """Python's own limit on the digits of an integer, at its default, restored afterwards."""
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(4300)
    yield
    sys.set_int_max_str_digits(old)


@pytest.mark.usefixtures("pythons_digit_limit")
def test_a_raised_digit_limit_raises_pythons_own():
    """Python reads at most 4,300 digits; with max_int_digits above that, a longer integer is
    read, and refused as too large for float64 (its text shortened to 60 characters)."""
    error = refusal(f"f = {'1' * 4500}*x", max_int_digits=5000)
    assert isinstance(error, LimitError)
    assert str(error) == (f"the constant {'1' * 59}… is too large for float64 (whose largest "
                          "value is about 1.8e308)")


@pytest.mark.parametrize(("text", "message"), [
    ("f = await x", "line 1, column 5: Await is not allowed"),
    ("f = (yield x)", "line 1, column 6: Yield is not allowed"),
    ("f = x if y else z", "line 1, column 5: 'if … else' is not allowed"),
    ("f = [x for x in y]", "line 1, column 5: comprehensions are not allowed"),
    ("f = 2 < x", "line 1, column 5: comparisons are not allowed"),
    ("f = ^2", "line 1, column 5: invalid syntax"),
    ("f = *x", "line 1, column 5: invalid syntax"),
    ("f = 'a'", "line 1, column 5: strings are not allowed"),
    ('f = x + "b"', "line 1, column 9: strings are not allowed"),
])
def test_constructs_off_the_whitelist_are_named(text, message):
    assert str(refusal(text)) == message


def test_e_to_a_power_is_exp_only_for_e():
    assert tree("f = e^x + y^2") == add(fn("exp", X), fn("pow", Y, n(2)))
    assert tree("f = 2^x") == fn("pow", n(2), X)


# Where the operand of each construct sits: its nesting level, one below the construct. The
# deepest allowed operand is at level max_depth (100); "{}" is k unary plus signs and z.
LEVELS = [
    ("f = {}", 0),
    ("f = x**{}", 1),
    ("f = ({})**2", 1),
    ("f = y + {}", 1),
    ("f = {} + y", 1),
    ("f = y*{}", 1),
    ("f = {}*y", 1),
    ("f = y - {}", 1),
    ("f = {}/y", 1),
    ("f = sin({})", 1),
    ("f = -{}", 1),
]


@pytest.mark.parametrize(("template", "level"), LEVELS, ids=[t for t, _ in LEVELS])
def test_the_nesting_level_of_each_operand(template, level):
    deepest = 100 - level
    assert "z" in parse(template.format("+" * deepest + "z")).inputs
    error = refusal(template.format("+" * (deepest + 1) + "z"))
    assert isinstance(error, LimitError) and "exceeds the limit max_depth=100" in str(error)


@pytest.mark.parametrize(("text", "limits"), [
    ("f = sin((x))", {"max_terms": 0}),      # brackets and commas are not operators
    ("f = max(x, y)", {"max_terms": 0}),
    ("f = 1234.5*abcd", {"max_int_digits": 3}),  # only integers count their digits
])
def test_what_the_literal_limits_do_not_count(text, limits):
    assert parse(text, limits=Limits(**limits)).output == "f"


@pytest.mark.usefixtures("pythons_digit_limit")
def test_the_default_digit_limit_leaves_pythons_alone():
    assert tree("f = 2*x") == mul(n(2), X)
    assert sys.get_int_max_str_digits() == 4300


@pytest.mark.parametrize(("text", "message"), [
    # textbook style (2abc): a name splits into its letters, however long
    ("f = 2abc", "line 1, column 6: unknown name 'abc': did you mean a*b*c (a·b·c)? Write "
                 "a*b*c, or declare the inputs: f(a,b,c) = 2abc"),
    # into names another statement assigns
    ("ab = 2*y; f = abc + c", "line 1, column 15: unknown name 'abc': did you mean ab*c "
                              "(ab·c)? Write ab*c, or declare the inputs: f(y,ab,c) = abc + c"),
    ("f[a) = a", f"line 1, column 1: {LEFT}"),
    ("f a b) = b", f"line 1, column 1: {LEFT}"),
])
def test_juxtapositions_and_left_sides(text, message):
    assert str(refusal(text)) == message


R40 = "a + bc + 1111111111 + 2222222222 + 33333"  # 40 characters: repeated in the suggestion


@pytest.mark.parametrize(("text", "message"), [
    ("f(x) = x if x else x", "line 1, column 8: 'if … else' is not allowed"),
    ("f(x) = not x", "line 1, column 8: the operator Not is not allowed"),
    ("f(x) = sin", "line 1, column 8: 'sin' is a function: call it, sin(x)"),
    ("f(x) = pi*x + y", "line 1, column 15: unknown name 'y': declare it, f(x,y) = …, or "
                       "write the product with *"),
    ("f(x) = x + y", "line 1, column 12: unknown name 'y': declare it, f(x,y) = …, or write "
                     "the product with *"),
    ("f(x) = sin(y) + x", "line 1, column 12: unknown name 'y': declare it, f(x,y) = …, or "
                          "write the product with *"),
    ("f(x) = foo(x)", f"line 1, column 8: unknown function 'foo'; known functions: {KNOWN} "
                      "(for a product, write foo*(…))"),
    ("f(x) = foo(x) + y", "line 1, column 17: unknown name 'y': declare it, f(x,y) = …, or "
                          "write the product with *"),
    # only a close name is suggested (ab, abcd: 0.67 < 0.75)
    ("f(abcd) = ab", "line 1, column 11: unknown name 'ab': declare it, f(abcd,ab) = …, or "
                     "write the product with *"),
    ("f = " + R40, "line 1, column 9: unknown name 'bc': did you mean b*c (b·c)? Write b*c, or "
                   f"declare the inputs: f(a,b,c) = {R40}"),
    ("f = " + R40 + "3", "line 1, column 9: unknown name 'bc': did you mean b*c (b·c)? Write "
                         "b*c, or declare the inputs: f(a,b,c) = …"),
])
def test_names_checked_in_a_declared_program(text, message):
    assert str(refusal(text)) == message


def test_a_juxtaposition_splits_into_the_fewest_names():
    # x·a·ab is found first; xaa·b has fewer factors
    assert tree("f(x, a, ab, xaa, b) = xaab") == mul(Ref("xaa"), B)


@pytest.mark.parametrize(("text", "limits", "want"), [
    ("f = x^e", {}, fn("pow", X, Ref("e"))),     # e not as a base is a variable
    ("f = x*e", {}, mul(X, Ref("e"))),
    # e^… is exp, so e is no input, and no input is a single letter: cd stays a name
    ("f = e^(ab) + cd", {}, add(fn("exp", Ref("ab")), Ref("cd"))),
    ("f = 1**100000*x", {"max_exponent": 10**6}, X),   # 1 to any power is small
    ("f = (-1)**100001*x", {"max_exponent": 10**6}, mul(n(-1), X)),
    ("f = a.b.c", {}, Ref("a_b_c")),
    ("f = elu x", {}, Apply("elu", (X,), (("alpha", sympy.Integer(1)),))),
    ("f = e^{(x+1)*(y)}", {}, fn("exp", mul(add(X, n(1)), Y))),
    ("f(ﬁ) = ﬁ", {}, Ref("fi")),                     # NFKC: the ligature is f, i
])
def test_readings_under_limits(text, limits, want):
    assert parse(text, limits=Limits(**limits)).assignments[0].tree == want


@pytest.mark.parametrize(("text", "message"), [
    ("f = 2*1e400", "line 1, column 7: the number is too large for float64 (whose largest "
                    "value is about 1.8e308)"),
    ("f = αβγ + foo(x)", f"line 1, column 11: {FOO}"),
    ("f = x^{y} + {z}", "line 1, column 13: sets are not allowed"),
    ("\n\na = x; b = y", "line 3, column 1: several outputs: a, b; choose one with --output "
                         "NAME"),
    ("f = 2**-1000*x", "a fraction with a denominator too large exceeds the limit "
                       "max_int_digits=100; raise it with --limit max_int_digits=N if this is "
                       "intended"),
])
def test_places_and_words_of_constant_and_structure_errors(text, message):
    assert str(refusal(text)) == message


def test_output_choice_messages_and_the_program_fields():
    with pytest.raises(ParseError) as info:
        parse("a = x; b = y", output="h")
    assert str(info.value) == ("line 1, column 1: --output 'h' is not an assigned name "
                               "(assigned: a, b)")
    program = parse("J(x) = x^2; x = 2 + 1")
    assert program.declared is True and program.inputs == ("x",) and program.output == "J"
    assert program.assigned()["x"].tree == n(3)
    assert parse("f = x").declared is False


def test_of_two_splits_as_short_the_first_found_is_kept():
    assert tree("f(a, ab, bc, c) = abc") == mul(A, Ref("bc"))


def test_a_name_with_a_part_at_each_end_but_no_split_is_unknown():
    assert str(refusal("f(a, c) = abc")) == ("line 1, column 11: unknown name 'abc': declare "
                                             "it, f(a,c,abc) = …, or write the product with *")


@pytest.mark.parametrize(("text", "inputs", "want"), [
    # a called function, a constant, a number or an assigned name is not an input: it neither
    # splits a name nor makes the program one of single-letter inputs
    ("f = sin(x) + sinx", ("x", "sinx"), add(fn("sin", X), Ref("sinx"))),
    ("f = pi*x + pix", ("x", "pix"), add(mul(Num(sympy.pi), X), Ref("pix"))),
    ("f = cd + 2", ("cd",), add(Ref("cd"), n(2))),
    ("u = 2*yy; f = u + vw", ("yy", "vw"), add(Ref("u"), Ref("vw"))),
])
def test_what_counts_as_an_input_for_juxtapositions(text, inputs, want):
    program = parse(text)
    assert program.inputs == inputs and program.assigned()["f"].tree == want


def test_a_label_written_only_in_the_declaration():
    program = parse("f(w[1], x) = 2x")
    assert program.inputs == ("w_1", "x") and program.labels == {"w_1": "w[1]"}


def test_e_last_in_a_declared_program_is_an_unknown_name():
    assert str(refusal("f(x) = x*e")) == (
        "line 1, column 10: unknown name 'e': declare it, f(x,e) = …, or write the product with "
        "* (for Euler's number, write e^x or exp(x) and leave e undeclared)")


@pytest.mark.parametrize(("text", "message"), [
    ("f(x) = x + foo(", "line 1, column 15: '(' was never closed"),
    # the suggestion repeats the right side as written, even without spaces around =
    ("J=3(a+bc)", "line 1, column 7: unknown name 'bc': did you mean b*c (b·c)? Write b*c, or "
                  "declare the inputs: J(a,b,c) = 3(a+bc)"),
])
def test_unclosed_call_and_the_repeated_right_side(text, message):
    assert str(refusal(text)) == message


# --- shortened constants and expressions too deep for Python's parser -------------------------

DIGITS_55 = "1234567890" * 5 + "12345"


@pytest.mark.parametrize(("digits", "shown"), [
    (DIGITS_55, f"exp({DIGITS_55})"),                    # 60 characters: shown whole
    (DIGITS_55 + "6", f"exp({DIGITS_55}6"[:59] + "…"),   # 61: its first 59 and …
], ids=["60", "61"])
def test_a_constant_is_shown_whole_up_to_60_characters(digits, shown):
    error = refusal(f"f = exp({digits})*x")
    assert isinstance(error, LimitError)
    assert str(error) == (f"the constant {shown} is too large for float64 (whose largest value "
                          "is about 1.8e308)")


def test_an_expression_too_deep_for_pythons_parser_is_a_limit_error():
    # within max_depth and max_terms, but deeper than CPython's parser goes (about 6,000)
    error = refusal("f = " + "-" * 7000 + "x", max_depth=20_000, max_terms=20_000)
    assert isinstance(error, LimitError)
    assert str(error) == ("the expression is too long or too deeply nested for Python's parser; "
                          "split it into named statements (u = …; f = u + …)")


@pytest.mark.parametrize(("text", "want"), [
    # no integer is written, but log(1.0) folds to the integer 0, which has no digits
    ("f = x*log(1.0)", mul(n(0), X)),
    ("f = x + sin(0.0)", X),
])
def test_a_digit_limit_of_zero_admits_the_integer_zero(text, want):
    assert parse(text, limits=Limits(max_int_digits=0)).assignments[0].tree == want


def test_a_digit_limit_of_zero_refuses_a_folded_integer():
    # cos(pi) folds to -1: one digit
    error = refusal("f = x*cos(pi)", max_int_digits=0)
    assert isinstance(error, LimitError)
    assert str(error) == DIGITS.format(0)
