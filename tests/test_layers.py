"""The layer (matrix) form: the seed's a⁽¹⁾ = σ(W a⁽⁰⁾ + b), with its numbering tied to
w_n[i,j], each layer's own activation, the printed W and b equal to the graph's leaves, and
∂L/∂W = δ aᵀ equal to the graph's gradients."""

import itertools
import re

import pytest
import torch

from graphexplain.api import explain_mlp
from graphexplain.nn.layers import layer_form, to_text
from graphexplain.nn.mlp import MLPSpec

SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
CASES = [((2, 2, 2, 1), "sigmoid", "identity", "mse", False),
         ((2, 2, 2, 1), "sigmoid", "identity", "mse", True),
         ((3, 4, 2, 2), "tanh", "sigmoid", "ce", True),
         ((2, 3, 1), "relu", "identity", "bce", False),
         ((2, 3, 3), "identity", "tanh", "mse", True),
         ((1, 2, 1), "elu", "softplus", "mse", True)]


def explained(shape, act, out_act, loss, bias, seed=0):
    spec = MLPSpec(shape, act, out_act, loss, bias, seed=seed)
    e = explain_mlp(spec, verify=False)
    return e, layer_form(e.graph, e.evaluation), to_text(e.graph, e.evaluation)


def number(text: str) -> float:
    """A printed number back to a float: ``−1.23876×10⁻⁵`` → -1.23876e-05."""
    mantissa, _, power = text.replace("−", "-").partition("×10")
    return float(mantissa) * (10.0 ** int(power.translate(SUPERSCRIPT)) if power else 1.0)


def segments(line: str) -> list[str]:
    """The insides of the brackets on one printed line: ⎡…⎤ ⎢…⎥ ⎣…⎦, or […] for one row
    (whose labels hold brackets of their own, so it is split at " = ")."""
    if any(c in line for c in "⎡⎢⎣"):
        return re.findall(r"[⎡⎢⎣]([^⎤⎥⎦]*)[⎤⎥⎦]", line)
    return [part.strip()[1:-1] for part in line.split(" = ")[1:]]


def printed_block(text: str, head: str, height: int) -> list[list[list[str]]]:
    """The bracketed blocks printed on the ``height`` lines of ``head = …`` (e.g. ``W⁽¹⁾``):
    a list of blocks (labels, then values), each a list of rows of cells."""
    lines = text.splitlines()
    start = next(k for k, line in enumerate(lines) if line.strip().startswith(f"{head} = "))
    rows = [segments(line) for line in lines[start:start + height]]
    assert all(len(r) == len(rows[0]) for r in rows)
    return [[row[b].split() for row in rows] for b in range(len(rows[0]))]


@pytest.mark.parametrize("shape, act, out_act, loss, bias", CASES)
def test_dW_and_db_entries_equal_the_graphs_gradients(shape, act, out_act, loss, bias):
    """Entry [j,i] of ∂L/∂W⁽ⁿ⁾ = δ⁽ⁿ⁾a⁽ⁿ⁻¹⁾ᵀ is the graph's ∂L/∂w{n}_{i}_{j}; entry j of
    ∂L/∂b⁽ⁿ⁾ = δ⁽ⁿ⁾ its ∂L/∂b{n}_{j}."""
    e, layers, _ = explained(shape, act, out_act, loss, bias)
    adj = e.evaluation.adjoints
    assert [ly.n for ly in layers] == list(range(1, len(shape)))
    for ly in layers:
        n = ly.n
        assert ly.dW.shape == (shape[n], shape[n - 1])
        for i, j in itertools.product(range(1, shape[n - 1] + 1), range(1, shape[n] + 1)):
            assert float(ly.dW[j - 1, i - 1]) == pytest.approx(adj[f"w{n}_{i}_{j}"],
                                                               rel=1e-12, abs=1e-12)
        if bias:
            for j in range(1, shape[n] + 1):
                assert float(ly.db[j - 1]) == pytest.approx(adj[f"b{n}_{j}"], rel=1e-12,
                                                            abs=1e-12)
        else:
            assert ly.db is None and ly.b is None


@pytest.mark.parametrize("shape, act, out_act, loss, bias", CASES)
def test_W_is_stored_as_torch_stores_it(shape, act, out_act, loss, bias):
    """Row j of W⁽ⁿ⁾ holds the weights into neuron j: torch's linear(a⁽ⁿ⁻¹⁾, W, b) is z⁽ⁿ⁾."""
    e, layers, _ = explained(shape, act, out_act, loss, bias)
    for ly in layers:
        W = torch.tensor([[float(v) for v in ly.W.row(r)] for r in range(ly.W.rows)],
                         dtype=torch.float64)
        a = torch.tensor([float(v) for v in ly.a_in], dtype=torch.float64)
        b = torch.tensor([float(v) for v in ly.b], dtype=torch.float64) if bias else None
        z = torch.nn.functional.linear(a, W, b)
        assert z.tolist() == pytest.approx([float(v) for v in ly.z_out], rel=1e-12, abs=1e-15)
        for j, i in itertools.product(range(ly.W.rows), range(ly.W.cols)):
            assert float(ly.W[j, i]) == e.evaluation.values[f"w{ly.n}_{i + 1}_{j + 1}"]


@pytest.mark.parametrize("shape, act, out_act, loss, bias", CASES)
def test_printed_W_and_b_are_the_graphs_leaves(shape, act, out_act, loss, bias):
    e, layers, text = explained(shape, act, out_act, loss, bias)
    values, G = e.evaluation.values, e.graph
    for ly in layers:
        n = ly.n
        labels, numbers = printed_block(text, f"W{ly_sup(n)}", shape[n])
        for j, i in itertools.product(range(1, shape[n] + 1), range(1, shape[n - 1] + 1)):
            assert labels[j - 1][i - 1] == G.nodes[f"w{n}_{i}_{j}"]["label"] == f"w{n}[{i},{j}]"
            assert number(numbers[j - 1][i - 1]) == pytest.approx(values[f"w{n}_{i}_{j}"],
                                                                  rel=1e-5, abs=1e-12)
        if bias:
            labels, numbers = printed_block(text, f"b{ly_sup(n)}", shape[n])
            assert [r[0] for r in labels] == [f"b{n}[{j}]" for j in range(1, shape[n] + 1)]
            assert [number(r[0]) for r in numbers] == pytest.approx(
                [values[f"b{n}_{j}"] for j in range(1, shape[n] + 1)], rel=1e-5)


def ly_sup(n: int) -> str:
    return "⁽" + str(n).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")) + "⁾"


def test_printed_dW_is_the_graphs_gradient():
    e, layers, text = explained((2, 2, 2, 1), "sigmoid", "identity", "mse", False)
    for ly in layers:
        head = f"∂loss/∂W{ly_sup(ly.n)}"
        line = next(k for k, s in enumerate(text.splitlines()) if s.strip().startswith(head))
        rows = [segments(s)[-1].split()
                for s in text.splitlines()[line:line + ly.dW.rows]]
        for j, i in itertools.product(range(ly.dW.rows), range(ly.dW.cols)):
            assert number(rows[j][i]) == pytest.approx(
                e.evaluation.adjoints[f"w{ly.n}_{i + 1}_{j + 1}"], rel=1e-5, abs=1e-12)


def test_the_seeds_numbering_w1_1_2_is_row_2_column_1_of_W1():
    e, layers, text = explained((2, 2, 2, 1), "sigmoid", "identity", "mse", False)
    labels, _ = printed_block(text, "W⁽¹⁾", 2)
    assert labels[1][0] == "w1[1,2]"  # W⁽¹⁾[2,1] = w1[1,2]: from x1 into f2
    assert float(layers[0].W[1, 0]) == e.evaluation.values["w1_1_2"]
    assert "W⁽ⁿ⁾[j,i] = wn[i,j]: row j of W⁽ⁿ⁾ holds the weights into neuron j" in text
    assert "a⁽⁰⁾ = x is the input" in text


def test_no_bias_means_no_b_anywhere():
    _, layers, text = explained((2, 2, 2, 1), "sigmoid", "identity", "mse", False)
    assert all(ly.b is None and ly.db is None and ly.b_names == () for ly in layers)
    assert "b⁽" not in text and "+ b" not in text and "b1[" not in text
    assert "z⁽¹⁾ = W⁽¹⁾ a⁽⁰⁾   (2×2)(2×1) → 2×1" in text
    assert "the seed's a⁽¹⁾ = σ(W a⁽⁰⁾)" in text
    _, _, with_bias = explained((2, 2, 2, 1), "sigmoid", "identity", "mse", True)
    assert "z⁽¹⁾ = W⁽¹⁾ a⁽⁰⁾ + b⁽¹⁾   (2×2)(2×1) + (2×1) → 2×1" in with_bias
    assert "∂loss/∂b⁽³⁾ = δ⁽³⁾" in with_bias


def test_each_layer_has_its_own_activation():
    _, layers, text = explained((2, 2, 2, 1), "sigmoid", "identity", "mse", False)
    assert [ly.activation for ly in layers] == ["sigmoid", "sigmoid", "identity"]
    assert "a⁽²⁾ = σ(z⁽²⁾)" in text and "Output layer 3: linear, a⁽³⁾ = z⁽³⁾" in text
    assert "δ⁽³⁾ = ∂loss/∂a⁽³⁾ = 2·(a⁽³⁾ − y)   1×1" in text  # no A′ for a linear output
    assert "δ⁽²⁾ = (W⁽³⁾ᵀ δ⁽³⁾) ⊙ σ′(z⁽²⁾)" in text
    assert not re.search(r"sigmoid.*a⁽³⁾|a⁽³⁾ = σ", text)

    _, layers, text = explained((3, 4, 2, 2), "tanh", "sigmoid", "ce", True)
    assert [ly.activation for ly in layers] == ["tanh", "tanh", "sigmoid"]
    assert "a⁽¹⁾ = tanh(z⁽¹⁾)" in text and "a⁽³⁾ = σ(z⁽³⁾)" in text
    assert "δ⁽³⁾ = ∂loss/∂a⁽³⁾ ⊙ σ′(z⁽³⁾) = (softmax(a⁽³⁾) − y) ⊙ σ′(z⁽³⁾)" in text
    assert "δ⁽¹⁾ = (W⁽²⁾ᵀ δ⁽²⁾) ⊙ tanh′(z⁽¹⁾)" in text

    _, _, text = explained((2, 3, 3), "identity", "tanh", "mse", True)
    assert "Hidden layer 1: linear" in text and "δ⁽¹⁾ = (W⁽²⁾ᵀ δ⁽²⁾)   " in text


@pytest.mark.parametrize("shape, act, out_act, loss, bias", CASES)
def test_the_notation_is_mathematics_not_python(shape, act, out_act, loss, bias):
    _, _, text = explained(shape, act, out_act, loss, bias)
    assert "*" not in text and "e-0" not in text and "e+" not in text
    assert "-" not in text.replace("--no-bias", "").replace("--output-activation", "")


def test_large_layers_are_shown_by_their_shape():
    _, _, text = explained((8, 16, 2), "sigmoid", "identity", "mse", True)
    assert "W⁽¹⁾ (16×8): W⁽¹⁾[j,i] = w1[i,j], not listed" in text
    assert "∂loss/∂W⁽¹⁾ = δ⁽¹⁾ a⁽⁰⁾ᵀ   (16×1)(1×8) → 16×8, not listed" in text
