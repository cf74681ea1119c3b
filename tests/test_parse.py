"""The parser: the whitelist, the textbook reading, error places, and the resource limits."""

from __future__ import annotations

import doctest
import re

import pytest
import sympy
from strategies import time_limit

from graphexplain import parse as parse_module
from graphexplain.errors import GraphExplainError, LimitError, ParseError
from graphexplain.limits import Limits
from graphexplain.parse import Apply, Num, Ref, parse

WHERE = re.compile(r"line \d+, column \d+")


def tree(text: str, name: str | None = None):
    """The tree of the (only, or named) assignment."""
    program = parse(text)
    assigned = program.assigned()
    return assigned[name or program.output].tree


def refs(t) -> list[str]:
    """The names a tree refers to, left to right."""
    if isinstance(t, Ref):
        return [t.name]
    if isinstance(t, Apply):
        return [n for a in t.args for n in refs(a)]
    return []


def test_doctests():
    assert doctest.testmod(parse_module).failed == 0


# --- refusals -----------------------------------------------------------------------------------

REFUSED = [
    ("f = (a).b", "attribute"),
    ("f = torch.sigmoid(x)", "attribute"),
    ("__import__('os').system('id')", None),
    ("f = __import__('os')", "__"),
    ("f = foo(x)", "unknown function 'foo'"),
    ("f = lambda x: x", "lambda"),
    ("f = [x for x in y]", "comprehension"),
    ("f = (x for x in y)", "comprehension"),
    ("import os", "import"),
    ("f = a[i]", "subscript"),
    ("f = (a+b)[0]", "subscript"),
    ("f = 'abc'", "string"),
    ('f = "abc"', "string"),
    ("f = __x", "__"),
    ("__x = 1", "__"),
    ("lambda = 3", "keyword"),
    ("for = 3", None),
    ("None = 3", None),
    ("x = 1; x = 2", "assigned twice"),
    ("a = x; b = y", "several outputs"),
    ("a = b; b = a", "cycle"),
    ("f = sigmoid(x, y)", "sigmoid"),
    ("f = exp()", "exp"),
    ("f = elu(x, beta=1)", "beta"),
    ("f = elu(x, alpha=y)", "alpha"),
    ("f = elu(x, 1, 2)", "elu"),
    ("f = x // 2", "operator"),
    ("f = x % 2", "operator"),
    ("f = x @ y", "operator"),
    ("f = x == y", "comparison"),
    ("f = x if y else z", "if"),
    ("f = x and y", "and"),
    ("f = not x", None),
    ("f = ~x", None),
    ("f = (y := x)", ":="),
    ("f = (x, y)", "tuple"),
    ("f = [x]", "list"),
    ("f = {x}", "set"),
    ("f = {x: y}", "dict"),
    ("f = sin(*x)", "unpacking"),
    ("f = True", None),
    ("f = None", None),
    ("f = sin", "function"),
    ("sin = x", "built-in"),
    ("pi = 3", "built-in"),
    ("f = x $ y", "'$'"),
    ("def f(): pass", "def"),
    ("f = x; return x", "return"),
    ("f = x +", None),
    ("f = (x", None),
    ("", "empty"),
    (" ; ;", "empty"),
    ("f = ", "nothing after"),
    ("f + 1 = x", "left side"),
    ("f(x, 1) = x", "left side"),
    ("f(x,x) = x", "declared twice"),
    ("J(a,b) = a; K(a) = a", "declared twice"),
    ("x; y", "bare expression"),
    ("f(x,y) = x; x = y", "declared input"),
    ("f = x\nf = y", "assigned twice"),
]


@pytest.mark.parametrize(("text", "fragment"), REFUSED, ids=[t for t, _ in REFUSED])
def test_refused_with_line_and_column(text, fragment):
    with pytest.raises(GraphExplainError) as info:
        parse(text)
    message = str(info.value)
    assert WHERE.search(message), message
    assert isinstance(info.value, ParseError)
    assert info.value.line is not None and info.value.col is not None
    if fragment:
        assert fragment.lower() in message.lower(), message


@pytest.mark.parametrize(("text", "line", "col", "fragment"), [
    ("f = (a).b", 1, 5, "attribute"),
    ("f = x^2 + (a).b", 1, 11, "attribute"),  # after ^ is rewritten to **
    ("f = x² + (a).b", 1, 10, "attribute"),  # after ² is rewritten to ** 2
    ("f（x）＝ x + foo（x）", 1, 11, "foo"),  # full-width brackets, one column each
    ("f = foo(x)", 1, 5, "foo"),
    ("a = x\n\nb = foo(a)", 3, 5, "foo"),
    ("f = α + foo(x)", 1, 9, "foo"),  # columns in characters, not UTF-8 bytes
    ("x = 1; x = 2", 1, 8, "'x'"),
    ("J(a,b) = 3(a+bc)", 1, 14, "'bc'"),
    ("J = 3(a+bc)", 1, 9, "'bc'"),
    ("J(a,b,c) = 3(a+bc) + foo(a)", 1, 22, "foo"),  # after an implicit × is inserted
    ("f = x $ y", 1, 7, "$"),
    ("f = x\u200b", 1, 6, "U+200B"),
    ("f = 2 3", 1, 7, None),
    ("  f = [x]", 1, 7, "list"),
    ("f = sin(*x)", 1, 9, "unpacking"),
])
def test_column_points_at_the_offending_token(text, line, col, fragment):
    with pytest.raises(ParseError) as info:
        parse(text)
    assert (info.value.line, info.value.col) == (line, col), str(info.value)
    assert str(info.value).startswith(f"line {line}, column {col}: ")
    if fragment:
        assert fragment in str(info.value)


def test_column_of_unknown_keyword_parameter():
    with pytest.raises(ParseError) as info:
        parse("f = elu(x, beta=1)")
    assert (info.value.line, info.value.col) == (1, 12)


def test_place_in_a_statement_continued_over_lines():
    with pytest.raises(ParseError) as info:
        parse("f = (x +\n  foo(y))")
    assert (info.value.line, info.value.col) == (2, 3)


def test_unknown_function_suggests_a_product():
    with pytest.raises(ParseError, match=r"foo\*\(…\)"):
        parse("f = foo(x)")


def test_wrong_arity_names_the_count():
    with pytest.raises(ParseError, match="sigmoid takes at most 1 argument, got 2"):
        parse("f = sigmoid(x, y)")
    with pytest.raises(ParseError, match="exp takes 1 argument, got 0"):
        parse("f = exp()")


def test_non_numeric_parameter():
    with pytest.raises(ParseError, match="parameter 'alpha' of elu must be a number"):
        parse("f = elu(x, alpha=y)")
    with pytest.raises(ParseError, match="must be a number"):
        parse("f = elu(x, y)")


def test_unknown_keyword_lists_the_parameters():
    with pytest.raises(ParseError, match=r"elu has no parameter 'beta' \(parameters: alpha\)"):
        parse("f = elu(x, beta=1)")


def test_two_outputs_and_the_output_choice():
    with pytest.raises(ParseError, match="several outputs: a, b"):
        parse("a = x; b = y")
    assert parse("a = x; b = y", output="b").output == "b"
    assert parse("a = x; b = y", output="a").output == "a"
    # --output may also pick an intermediate
    assert parse("f = x; g = f*2", output="f").output == "f"
    with pytest.raises(ParseError, match="--output 'h' is not an assigned name"):
        parse("a = x; b = y", output="h")
    with pytest.raises(ParseError, match="--output 'x'"):
        parse("a = x; b = y", output="x")


def test_never_evaluates_user_text(monkeypatch):
    """``eval``/``exec``/``sympify``/``parse_expr`` never see the text."""
    import builtins

    def refuse(*args, **kwargs):
        raise AssertionError("evaluated user text")

    seen = []
    real_sympify = sympy.sympify
    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    monkeypatch.setattr(parse_module.sympy, "sympify",
                        lambda v, *a, **k: seen.append(v) or real_sympify(v, *a, **k))
    parse("J(a,b,c) = 3(a+bc) + sin(a)^2 + elu(b, 0.5)")
    assert all(not isinstance(v, str) for v in seen)


# --- acceptance ---------------------------------------------------------------------------------


def test_caret_is_power():
    assert tree("f = x^2") == tree("f = x**2") == Apply("pow", (Ref("x"), Num(sympy.Integer(2))))


def test_pi_is_a_constant():
    program = parse("f = pi*x")
    assert program.inputs == ("x",)
    assert program.assignments[0].tree == Apply("mul", (Num(sympy.pi), Ref("x")))


@pytest.mark.parametrize("text", [
    "u = a + v; v = b*c; J = 3*u",
    "u = a + v\nv = b*c\nJ = 3*u",
    "J = 3*u; u = a + v; v = b*c",
    "v = b*c\n\nJ = 3*u ; u = a + v\n",
    "# the seed\nv = b*c  # product\nu = a + v; J = 3*u",
])
def test_separators_and_any_order(text):
    program = parse(text)
    assert program.output == "J"
    assert set(program.inputs) == {"a", "b", "c"}
    assigned = program.assigned()
    assert assigned["v"].tree == Apply("mul", (Ref("b"), Ref("c")))
    assert assigned["u"].tree == Apply("add", (Ref("a"), Ref("v")))
    assert assigned["J"].tree == Apply("mul", (Num(sympy.Integer(3)), Ref("u")))


def test_assignment_lines():
    program = parse("a = x\n\nb = a*2")
    assert [(a.name, a.line) for a in program.assignments] == [("a", 1), ("b", 3)]


def test_newline_inside_parentheses_continues():
    program = parse("f = (x +\n  y)")
    assert program.assignments[0].tree == Apply("add", (Ref("x"), Ref("y")))


@pytest.mark.parametrize(("text", "want"), [
    ("f = 2a", Apply("mul", (Num(sympy.Integer(2)), Ref("a")))),
    ("f = 2 a", Apply("mul", (Num(sympy.Integer(2)), Ref("a")))),
    ("f = .5x", Apply("mul", (Num(sympy.Float(0.5)), Ref("x")))),
    ("f = 2sin(x)", Apply("mul", (Num(sympy.Integer(2)), Apply("sin", (Ref("x"),))))),
    ("f = x y", Apply("mul", (Ref("x"), Ref("y")))),
])
def test_implicit_multiplication(text, want):
    assert tree(text) == want


def test_implicit_multiplication_before_parentheses():
    want = Apply("mul", (Num(sympy.Integer(3)), Apply("add", (Ref("a"), Ref("b")))))
    assert tree("f = 3(a+b)") == want
    both = Apply("add", (Ref("a"), Ref("b")))
    diff = Apply("add", (Ref("a"), Apply("mul", (Num(sympy.S.NegativeOne), Ref("b")))))
    assert tree("f = (a+b)(a-b)") == Apply("mul", (both, diff))
    # u(a+b) is a product when u is a variable, and a call otherwise
    assert tree("u = a; f = u(a+b)", "f") == Apply("mul", (Ref("u"), both))
    with pytest.raises(ParseError, match="unknown function 'u'"):
        parse("f = u(a+b)")


def test_bare_expression_is_named_f():
    program = parse("2a")
    assert program.output == "f" and program.inputs == ("a",)


def test_textbook_seed_splits_bc():
    program = parse("J(a,b,c) = 3(a+bc)")
    assert program.declared and program.inputs == ("a", "b", "c") and program.output == "J"
    bc = Apply("mul", (Ref("b"), Ref("c")))
    want = Apply("mul", (Num(sympy.Integer(3)), Apply("add", (Ref("a"), bc))))
    assert program.assignments[0].tree == want


def test_declared_juxtapositions():
    assert tree("f(x,y) = xy") == Apply("mul", (Ref("x"), Ref("y")))
    assert tree("f(x) = 2xx") == Apply("mul", (Num(sympy.Integer(2)), Ref("x"), Ref("x")))
    assert tree("f(a,b,c) = ab + c") == Apply("add", (Apply("mul", (Ref("a"), Ref("b"))),
                                                      Ref("c")))


def test_declared_inputs_come_first_in_declared_order():
    assert parse("f(z,y,x) = x + y + z").inputs == ("z", "y", "x")


def test_textbook_bc_without_declaration_suggests_product_and_declaration():
    with pytest.raises(ParseError) as info:
        parse("J = 3(a+bc)")
    message = str(info.value)
    assert "'bc'" in message and "b*c" in message and "J(a,b,c) = 3(a+bc)" in message


def test_juxtaposition_of_used_names_suggests_product():
    with pytest.raises(ParseError, match=r"did you mean a\*b \(a·b\)\?"):
        parse("f = a + b + ab")
    # two letters beside an input named by one letter read as a product too
    with pytest.raises(ParseError, match=r"did you mean b\*c"):
        parse("f = a + bc")
    # a name that is not two letters, or is one of the usual two-letter names, stays a name
    assert parse("f = a + bcd").inputs == ("a", "bcd")
    assert parse("f = x + dx").inputs == ("x", "dx")
    assert parse("f = lr*g + mu").inputs == ("lr", "g", "mu")
    assert parse("loss = wx + bias").inputs == ("wx", "bias")


def test_declared_without_the_name_errors_naming_it():
    with pytest.raises(ParseError) as info:
        parse("J(a,b) = 3(a+bc)")
    message = str(info.value)
    assert "'bc'" in message and "J(a,b,bc) = …" in message and "*" in message


def test_typographic_operators():
    assert tree("f = x × y") == tree("f = x * y")
    assert tree("f = x · y") == tree("f = x * y")
    assert tree("f = x − y") == tree("f = x - y")
    assert tree("f = x ÷ y") == tree("f = x / y")


def test_subtraction_division_negation_are_compositions():
    x, y = Ref("x"), Ref("y")
    minus_one = Num(sympy.S.NegativeOne)
    assert tree("f = x - y") == Apply("add", (x, Apply("mul", (minus_one, y))))
    assert tree("f = x / y") == Apply("mul", (x, Apply("pow", (y, minus_one))))
    assert tree("f = -x") == Apply("mul", (minus_one, x))
    assert tree("f = -2*x") == Apply("mul", (Num(sympy.Integer(-2)), x))


def test_chains_are_flat_and_constants_fold():
    assert tree("f = a + b + c") == Apply("add", (Ref("a"), Ref("b"), Ref("c")))
    assert tree("f = 2*3*x") == Apply("mul", (Num(sympy.Integer(6)), Ref("x")))
    assert tree("f = 2**3") == Num(sympy.Integer(8))
    assert tree("f = x + 1 + 2") == Apply("add", (Ref("x"), Num(sympy.Integer(3))))


def test_parameters_positional_and_keyword():
    p = tree("f = elu(x, 0.5)")
    assert p.op == "elu" and dict(p.params) == {"alpha": sympy.Float(0.5)}
    p = tree("f = leaky_relu(x, slope=0.2)")
    assert p.op == "leaky_relu" and dict(p.params) == {"slope": sympy.Float(0.2)}


def test_keyword_parameter_with_declared_inputs():
    p = tree("f(x) = elu(x, alpha=0.5)")
    assert dict(p.params) == {"alpha": sympy.Float(0.5)}


def test_keyword_parameter_in_textbook_style():
    p = tree("f = 2x + leaky_relu(x, slope=0.5)")
    assert refs(p) == ["x", "x"]


@pytest.mark.parametrize("text", ["f = 2pi", "f = 2(x + pi)", "f = x pi"])
def test_pi_in_textbook_style(text):
    program = parse(text)
    assert "p" not in program.inputs and "i" not in program.inputs


def test_pi_with_declaration_is_a_constant():
    program = parse("f(x) = 2 pi x")
    assert program.inputs == ("x",)
    assert program.assignments[0].tree == Apply("mul", (Num(2 * sympy.pi), Ref("x")))


# --- limits -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["f = x * 9**9**9**9", "f = x**(10**100)", "f = 2**2000",
                                  "f = x**1001", "f = 10**101 * x"])
def test_huge_numbers_are_refused_quickly(text):
    with time_limit(10), pytest.raises(LimitError) as info:
        parse(text)
    assert "--limit" in str(info.value)


def test_exponent_at_the_limit_is_fine():
    assert tree("f = x**1000") == Apply("pow", (Ref("x"), Num(sympy.Integer(1000))))


@pytest.mark.parametrize("text", ["f = x/(1-1)", "f = x*log(0)", "f = 1e400*x"])
def test_constants_that_are_not_finite_are_refused(text):
    with pytest.raises(LimitError):
        parse(text)


@pytest.mark.parametrize("text", [
    "f = " + "(" * 5000 + "x" + ")" * 5000,
    "f = " + "sin(" * 5000 + "x" + ")" * 5000,
    "f = " + "-" * 5000 + "x",
])
def test_deep_nesting_is_refused(text):
    with pytest.raises(GraphExplainError, match="max_depth"):
        parse(text)


def test_depth_limit_and_override():
    text = "f = " + "(" * 150 + "x" + ")" * 150
    with pytest.raises(LimitError, match="nesting 150 deep"):
        parse(text)
    raised = Limits().with_overrides({"max_depth": "200"})
    assert parse(text, limits=raised).inputs == ("x",)
    assert parse("f = " + "(" * 99 + "x" + ")" * 99).inputs == ("x",)


def test_other_limits():
    with pytest.raises(LimitError, match="max_chars"):
        parse("f = x + y", limits=Limits(max_chars=5))
    with pytest.raises(LimitError, match="max_statements"):
        parse("a = x; b = a; c = b", limits=Limits(max_statements=2))
    with pytest.raises(LimitError, match="max_terms"):
        parse("f = a + b + c + d", limits=Limits(max_terms=3))
    with pytest.raises(LimitError, match="max_int_digits"):
        parse("f = 123456*x", limits=Limits(max_int_digits=3))


def test_limit_overrides_are_checked():
    assert Limits().with_overrides({"max_nodes": "7"}).max_nodes == 7
    with pytest.raises(LimitError, match="unknown limit 'nope'"):
        Limits().with_overrides({"nope": "1"})
    with pytest.raises(LimitError, match="must be an integer"):
        Limits().with_overrides({"max_nodes": "many"})
    with pytest.raises(LimitError, match="must not be negative"):
        Limits().with_overrides({"max_nodes": "-1"})


def test_long_sum_with_declared_inputs_parses():
    names = [f"x{i}" for i in range(1, 10_001)]
    program = parse(f"f({','.join(names)}) = " + "+".join(names))
    (assignment,) = program.assignments
    assert assignment.tree.op == "add" and len(assignment.tree.args) == 10_000


def test_ten_thousand_term_sum_parses():
    """max_terms=20000 allows it; a loose guard (far above a linear parse) keeps the suite
    fast while the quadratic behaviour lasts."""
    text = "f = " + "+".join(f"x{i}" for i in range(1, 10_001))
    with time_limit(8):
        program = parse(text)
    assert len(program.inputs) == 10_000
    assert len(program.assignments[0].tree.args) == 10_000


def test_a_constant_before_parentheses_is_a_product():
    p = tree("f = pi(x + 1)")
    assert p.op == "mul" and p.args[0] == Num(sympy.pi)


def test_times_zero_keeps_the_input():
    program = parse("f = y + 0*x")
    assert program.inputs == ("y", "x")


def test_a_parameter_given_twice_and_double_star_are_refused():
    with pytest.raises(ParseError, match="given twice"):
        parse("f = elu(x, 1, alpha=2)")
    with pytest.raises(ParseError, match=r"'\*\*' unpacking"):
        parse("f = elu(x, **k)")


# --- the course's notation ----------------------------------------------------------------------


@pytest.mark.parametrize(("course", "plain"), [
    ("y = σ(w·x + b)", "y = sigmoid(w*x + b)"),
    ("y = σ(w⋅x + b)", "y = sigmoid(w*x + b)"),
    ("y = w × x − b", "y = w*x - b"),
    ("f = ln x", "f = log(x)"),
    ("f = ln(x) + ln y", "f = log(x) + log(y)"),
    ("f = sin x²", "f = sin(x**2)"),
    ("f = 2 ln x^2", "f = 2*log(x**2)"),
    ("f = max(0, x)", "f = relu(x)"),
    ("f = max(x, 0)", "f = relu(x)"),
    ("f = max(x, 0.0)", "f = relu(x)"),
    ("f = maximum(x, y)", "f = max(x, y)"),
    ("f = e^x", "f = exp(x)"),
    ("f = e**x", "f = exp(x)"),
    ("f = 2e^x - e^-x", "f = 2*exp(x) - exp(-x)"),
    ("f = e^{2x + 1}", "f = exp(2*x + 1)"),
    ("f = x^{2}", "f = x**2"),
    ("y(a,x) = a(e^x - 1)", "y(a,x) = a*(exp(x) - 1)"),
    ("f = x² + y³", "f = x**2 + y**3"),
    ("f = x⁻¹", "f = x**-1"),
    ("f = x¹⁰", "f = x**10"),
    ("f = (a + b)²", "f = (a + b)**2"),
    ("f = 3x²y", "f = 3*x**2*y"),
    ("f（x，y）＝ x − y", "f(x,y) = x - y"),
    ("f = （a + b）×（a − b）", "f = (a + b)*(a - b)"),
    ("f = e²·x", "f = exp(2)*x"),
])
def test_course_notation_reads_as_the_plain_program(course, plain):
    assert parse(course) == parse(plain)


def test_sigma_of_a_linear_unit():
    program = parse("y = σ(w·x + b)")
    assert program.inputs == ("w", "x", "b")
    wx = Apply("mul", (Ref("w"), Ref("x")))
    assert program.assignments[0].tree == Apply("sigmoid", (Apply("add", (wx, Ref("b"))),))


def test_max_of_two_values_is_the_max_op():
    assert tree("f = max(a, b)") == Apply("max", (Ref("a"), Ref("b")))
    assert tree("f = max(x, 1)") == Apply("max", (Ref("x"), Num(sympy.Integer(1))))
    assert tree("f = max(2, 3)*x") == Apply("mul", (Num(sympy.Integer(3)), Ref("x")))
    with pytest.raises(ParseError, match="max takes 2 arguments, got 1"):
        parse("f = max(x)")


@pytest.mark.parametrize("text", ["f = e*x + e^x", "f(e, x) = e^x", "e = 2; f = e^x",
                                  "f = (e)^x"])
def test_e_is_a_variable_when_the_program_makes_it_one(text):
    program = parse(text)
    assert "exp" not in repr(program.assignments)
    assert "e" in program.inputs or "e" in program.assigned()


def test_e_undeclared_in_a_declared_program_says_how_to_write_exp():
    with pytest.raises(ParseError, match=r"unknown name 'e'.*write e\^x or exp\(x\)"):
        parse("f(x) = e*x")


@pytest.mark.parametrize(("text", "line", "col"), [
    ("f = x²·foo(y)", 1, 8),      # a superscript is one column, and so is ·
    ("f = x⁻¹ + foo(y)", 1, 11),
    ("f = ln x + foo(y)", 1, 12),
    ("f（x）＝ ln（x）＋ foo（x）", 1, 14),
    ("f = (σ(x) +\n  foo(y))", 2, 3),
    ("f = w1[1,2] + foo(y)", 1, 15),
])
def test_places_are_those_of_the_text_as_written(text, line, col):
    with pytest.raises(ParseError) as info:
        parse(text)
    assert (info.value.line, info.value.col) == (line, col), str(info.value)


def test_a_superscript_without_digits_is_refused():
    with pytest.raises(ParseError, match="the superscript ⁻ needs a whole number"):
        parse("f = x⁻")


# --- names written as labels --------------------------------------------------------------------


def test_a_weight_label_is_a_name():
    program = parse("f = w1[1,2]*x1")
    assert program.inputs == ("w1_1_2", "x1")
    assert program.labels == {"w1_1_2": "w1[1,2]"}
    assert program.assignments[0].tree == Apply("mul", (Ref("w1_1_2"), Ref("x1")))


@pytest.mark.parametrize(("text", "ident", "label"), [
    ("f = w1[1, 2]*x", "w1_1_2", "w1[1,2]"),
    ("f = b2[3] + x", "b2_3", "b2[3]"),
    ("f = linear.weight[0,0]*x", "linear_weight_0_0", "linear.weight[0,0]"),
    ("f = linear.bias + x", "linear_bias", "linear.bias"),
    ("f = layer.0.weight", None, None),  # a number is not a part of a dotted name
])
def test_labels_of_indexed_and_dotted_names(text, ident, label):
    if ident is None:
        with pytest.raises(ParseError):
            parse(text)
        return
    program = parse(text)
    assert ident in program.inputs and program.labels[ident] == label


def test_a_label_on_the_left_and_in_a_declaration():
    program = parse("h[1] = sigmoid(x); f = 2h[1]")
    assert program.output == "f" and program.labels == {"h_1": "h[1]"}
    assert program.assigned()["f"].tree == Apply("mul", (Num(sympy.Integer(2)), Ref("h_1")))
    program = parse("f(w[1], x) = w[1]x")
    assert program.inputs == ("w_1", "x")
    assert program.assignments[0].tree == Apply("mul", (Ref("w_1"), Ref("x")))


def test_a_label_and_its_identifier_are_one_name():
    assert parse("f = w1[1,2] + w1_1_2").inputs == ("w1_1_2",)


def test_identifier_of_a_typed_name():
    assert parse_module.identifier("w1[1, 2]") == "w1_1_2"
    assert parse_module.identifier("linear.weight[0,0]") == "linear_weight_0_0"
    assert parse_module.identifier("w1［1，2］") == "w1_1_2"
    assert parse_module.identifier("x") == "x"
    assert parse_module.identifier("not a name") == "not a name"


# --- what to write instead ----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    ("f = sigmod(x)", "line 1, column 5: unknown function 'sigmod': did you mean sigmoid? "
                      "Write sigmoid(…)"),
    ("f = ReLU(x)", "line 1, column 5: unknown function 'ReLU': did you mean relu? "
                    "Write relu(…)"),
    ("f = tahn(x)", "line 1, column 5: unknown function 'tahn': did you mean tanh? "
                    "Write tanh(…)"),
    ("f(x) = 2*sigmoidd(x)", "line 1, column 10: unknown function 'sigmoidd': did you mean "
                             "sigmoid? Write sigmoid(…)"),
    ("f = min(x, y)", "line 1, column 5: unknown function 'min': write -max(-a, -b) for "
                      "min(a, b)"),
    ("y = wx + b", "line 1, column 5: unknown name 'wx': did you mean w*x (w·x)? Write w*x, "
                   "or declare the inputs: y(w,x,b) = wx + b"),
    ("f = 2*in + 1", "line 1, column 7: 'in' is a Python keyword and cannot be a name: write "
                     "x_in (or in_) instead"),
    ("f(in, w) = w*in", "line 1, column 3: 'in' is a Python keyword and cannot be a name: "
                        "write x_in (or in_) instead"),
    ("lambda = 3", "line 1, column 1: 'lambda' is a Python keyword and cannot be a name: "
                   "write lam (or lambda_) instead"),
    ("f = is*x", "line 1, column 5: 'is' is a Python keyword and cannot be a name: write is_ "
                 "instead"),
    ("as = 2; f = as*x", "line 1, column 1: 'as' is a Python keyword and cannot be a name: "
                         "write as_ instead"),
    ("exp = 2; f = exp*x", "line 1, column 1: 'exp' is a built-in name and cannot be used as "
                           "a variable: write exp_ or exp1 instead"),
    ("L = mse(out, y)", "line 1, column 5: mse is used by `graphexplain mlp`; in a program "
                        "write (out − y)², or ((o1 − y1)² + (o2 − y2)²)/2 for two outputs"),
    ("f(weight, x) = wieght*x", "line 1, column 16: unknown name 'wieght': did you mean "
                                "weight? Or declare it, f(weight,x,wieght) = …"),
    ("f(x,y) = x; x = y", "line 1, column 13: 'x' is a declared input: give it a number, "
                          "x = 3 (the point), or remove it from the declaration to compute it"),
])
def test_refusals_say_what_to_write_instead(text, message):
    with pytest.raises(ParseError) as info:
        parse(text)
    assert str(info.value) == message


@pytest.mark.parametrize("name", ["linear", "mse", "cross_entropy", "bce_logits"])
def test_network_only_ops_are_refused_with_what_a_program_writes(name):
    from graphexplain import ops

    with pytest.raises(ParseError) as info:
        parse(f"L = {name}(o, y)")
    assert f"{name} is used by `graphexplain mlp`; in a program write " in str(info.value)
    assert ops.OPS[name].instead in str(info.value)


def test_a_keyword_inside_an_expression_is_still_named_as_a_construct():
    with pytest.raises(ParseError, match="'if … else' is not allowed"):
        parse("f = x if y else z")
    with pytest.raises(ParseError, match="lambda is not allowed"):
        parse("f = lambda x: x")


# --- numbers for names: the point ---------------------------------------------------------------


def test_a_declared_input_may_be_given_its_value():
    program = parse("J(x) = x^2; x = 3")
    assert program.inputs == ("x",) and program.output == "J"
    assert program.assigned()["x"].tree == Num(sympy.Integer(3))
    # the value statement is not an output, even where nothing uses the input
    assert parse("J(a,b) = 2a; b = 7").output == "J"


def test_named_numbers_and_the_output():
    program = parse("y = x**2; x = 3")
    assert program.output == "y" and program.inputs == ()
    assert program.assigned()["x"].tree == Num(sympy.Integer(3))
