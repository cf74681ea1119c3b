"""parse(print(G)) == G: the program printer writes a graph the parser reads back unchanged."""


import sympy
from hypothesis import HealthCheck, assume, given, settings
from strategies import programs

from graphexplain.derive import derive
from graphexplain.graph import build
from graphexplain.parse import parse
from graphexplain.report import to_program


def same_graph(G, H) -> bool:
    """Same nodes, kinds, ops, edges, and node expressions equal as mathematics."""
    if set(G.nodes) != set(H.nodes) or set(G.edges) != set(H.edges):
        return False
    for n in G:
        a, b = G.nodes[n], H.nodes[n]
        if (a["kind"], a.get("op")) != (b["kind"], b.get("op")):
            return False
        if sympy.simplify(a["expr"].doit() - b["expr"].doit()) != 0:
            return False
    return True


def round_trip(text: str):
    G = build(parse(text))
    printed = to_program(derive(G))
    return G, build(parse(printed, output=G.graph["output"]))


def declares_unused_inputs(G) -> bool:
    """Whether the printed program keeps the inputs the output does not use: only a
    declaration, f(x,y,z) = …, keeps them."""
    unused = [n for n in G if G.nodes[n]["kind"] != "op" and not G.degree(n)]
    return not unused or "(" in to_program(derive(G)).splitlines()[-1].split("=")[0]


def test_unused_declared_input_round_trip():
    G, H = round_trip("J(a,b) = 2a")
    assert same_graph(G, H)


def test_course_notation_round_trip():
    """The program printer writes what the parser reads: σ as sigmoid, max as maximum, and
    the unnamed parts by their names (σ₁ is sigma1)."""
    G, H = round_trip("L = -(y*ln(σ(w·x + b)) + (1 − y)·ln(1 − σ(w·x + b))) + max(w, b)")
    assert same_graph(G, H)
    assert "sigma1 = sigmoid(" in to_program(derive(G))


def test_seed_round_trip():
    G, H = round_trip("J(a,b,c) = 3(a+bc)")
    assert same_graph(G, H)
    assert to_program(derive(G)) == "v = b*c\nu = a + v\nJ = 3*u\n"


def test_euler_number_round_trips():
    """sympy folds exp(1) into E, which the parser would read as an input named E."""
    G, H = round_trip("f = exp(1) + x")
    assert same_graph(G, H)
    assert to_program(derive(G)) == "f = x + exp(1)\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(depth=3))
def test_print_then_parse_is_the_same_graph(text):
    assume(declares_unused_inputs(build(parse(text))))
    G, H = round_trip(text)
    assert same_graph(G, H), (text, to_program(derive(G)))
