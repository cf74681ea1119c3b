"""The cost of the chain rule on the user's own graph: per path, forward mode, reverse mode."""

import json

import networkx as nx
import pytest

import graphexplain
from graphexplain.derive import cost_table
from graphexplain.graph import tracked
from graphexplain.nn.mlp import MLPSpec


def brute_force(d) -> dict:
    """The same counts by listing every path and every forward pass (small graphs only)."""
    G, out = d.graph, d.output
    keep = tracked(G, out) | {out}
    H = G.subgraph(keep)
    per_path = paths = forward = 0
    for x in d.leaves:
        if x not in H:
            continue
        for p in nx.all_simple_paths(H, x, out):
            paths += 1
            per_path += len(p) - 2  # k edges, k − 1 products
        reached = nx.descendants(H, x) | {x}
        forward += sum(1 for u, _ in H.edges if u in reached)
    return {"inputs": len(d.leaves), "paths": paths, "per_path": per_path,
            "forward_mode": forward, "reverse_mode": H.number_of_edges()}


@pytest.mark.parametrize("text", ["J(a,b,c) = 3(a+bc)", "y = x*x + x",
                                  "z = w*x + b; p = sigmoid(z); L = -(y*log(p) + (1-y)*log(1-p))",
                                  "s1 = sin(x)*y + cos(x); s2 = sin(s1)*y + cos(s1); "
                                  "s3 = s2*s1 + x"])
def test_counts_equal_listing_every_path(text):
    d = graphexplain.explain(text, verify=False).derivation
    assert cost_table(d) == brute_force(d)


def test_the_seeds_j():
    d = graphexplain.explain("J(a,b,c) = 3(a+bc)", verify=False).derivation
    # paths a→u→J, b→v→u→J, c→v→u→J: 1 + 2 + 2 products; forward passes reach 2 + 3 + 3 edges
    assert cost_table(d) == {"inputs": 3, "paths": 3, "per_path": 5, "forward_mode": 8,
                             "reverse_mode": 5}


@pytest.mark.parametrize("layers", [(2, 2, 2, 1), (3, 4, 2)])
def test_networks_equal_listing_every_path(layers):
    d = graphexplain.explain_mlp(MLPSpec(layers, bias=False), verify=False).derivation
    assert cost_table(d) == brute_force(d)


def test_exponentially_many_paths_are_counted_not_listed():
    text = "; ".join(f"s{i + 1} = sin(s{i})*x + cos(s{i})" for i in range(30))
    c = cost_table(graphexplain.explain(text, verify=False).derivation)
    assert c["paths"] == 2**31 - 1 and c["reverse_mode"] == 180
    assert c["per_path"] > 10**11 > c["forward_mode"]


def test_shown_in_text_markdown_and_json():
    e = graphexplain.explain("J(a,b,c) = 3(a+bc)", at={"a": 1, "b": 2, "c": 3})
    text = e.to_text()
    assert "The cost of the 3 gradients (multiplications of local partials)" in text
    assert "reverse mode (backprop), one pass for all of them            5" in text
    assert json.loads(e.to_json())["cost"]["forward_mode"] == 8
    assert "### The cost" in e.to_markdown()
