"""A student's numpy backprop of the seed's 3-layer network, checked with pytest:
``pytest examples/test_my_backprop.py``.

``backprop`` is what a student writes by hand: the forward pass z = W·a, a = σ(z), and the
backward pass δ⁽ⁿ⁾ = (W⁽ⁿ⁺¹⁾ᵀ δ⁽ⁿ⁺¹⁾) ⊙ σ′(z⁽ⁿ⁾), ∂loss/∂W⁽ⁿ⁾ = δ⁽ⁿ⁾ a⁽ⁿ⁻¹⁾ᵀ, with the
weights in torch's (out, in) layout: W⁽ⁿ⁾[j−1, i−1] = wn[i,j]. graphexplain.testing runs it
at three drawn points and compares every entry with the derivation. Add
``--graphexplain-artifacts DIR`` to get the highlighted diagram of a failing gradient.
"""

import numpy as np
import pytest

from graphexplain.nn.mlp import MLPSpec
from graphexplain.testing import GradientMismatch, assert_gradients, check_backward

SEED_NET = MLPSpec((2, 2, 2, 1), bias=False)  # inputs x1, x2; hidden f, g; out; MSE loss


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(params, x, y):
    """∂loss/∂W for loss = (out − y)², by hand."""
    W1, W2, W3 = params["w1"], params["w2"], params["w3"]
    a1 = sigmoid(W1 @ x)
    a2 = sigmoid(W2 @ a1)
    out = W3 @ a2
    d3 = 2 * (out - y)                         # ∂loss/∂out (no activation on the output)
    d2 = (W3.T @ d3) * a2 * (1 - a2)           # δ⁽²⁾ = (W⁽³⁾ᵀ δ⁽³⁾) ⊙ σ′(z⁽²⁾)
    d1 = (W2.T @ d2) * a1 * (1 - a1)           # δ⁽¹⁾ = (W⁽²⁾ᵀ δ⁽²⁾) ⊙ σ′(z⁽¹⁾)
    return {"w1": np.outer(d1, x), "w2": np.outer(d2, a1), "w3": np.outer(d3, a2)}


def backprop_one_path(params, x, y):
    """A slip: δ⁽¹⁾ from the diagonal of W⁽²⁾ only, so each f keeps one of its two paths."""
    grads = backprop(params, x, y)
    W1, W2, W3 = params["w1"], params["w2"], params["w3"]
    a1 = sigmoid(W1 @ x)
    a2 = sigmoid(W2 @ a1)
    d2 = (W3.T @ (2 * (W3 @ a2 - y))) * a2 * (1 - a2)
    grads["w1"] = np.outer((np.diag(np.diag(W2)).T @ d2) * a1 * (1 - a1), x)
    return grads


def test_my_backprop_agrees_with_the_derivation():
    check_backward(backprop, SEED_NET)


def test_the_seeds_weight_by_hand():
    """∂loss/∂w1[1,2] at the network's drawn point, one number checked by label."""
    from graphexplain.api import explain_mlp

    value = explain_mlp(SEED_NET, verify=False).gradients["w1_1_2"]["value"]
    assert_gradients(SEED_NET, {"w1[1,2]": value})


def test_a_backprop_missing_a_path_is_caught_and_explained():
    with pytest.raises(GradientMismatch) as e:
        check_backward(backprop_one_path, SEED_NET)
    message = str(e.value)
    assert "∂loss/∂w1[1,2]" in message and "a missing path" in message
    assert "w1[1,2] → f2 → A(f2) → g1 → A(g1) → out → loss" in message
    assert {w.node for w in e.value.wrong} == {"w1_1_1", "w1_2_1", "w1_1_2", "w1_2_2"}
