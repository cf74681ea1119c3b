"""The seed's autograd snippet: x is 2×2 and requires grad; ``var1 = x + 2``,
``var2 = var1*var1*3``, ``out = var2.mean()``; then ``out.backward()`` fills ``x.grad``.

    graphexplain torch examples/seed_autograd.py:snippet

out = (1/4)·Σ 3·(x + 2)², so ∂out/∂x[i,j] = (1/4)·3·2·(x[i,j] + 2) = 1.5·(x[i,j] + 2).

The seed then says that a vector output needs an argument to ``backward()``; that case is
examples/seed_vector_backward.py. Its ``torch.no_grad()`` (an operation autograd does not
record) is examples/seed_no_grad.py.
"""

import torch

torch.manual_seed(0)


def snippet(x):
    var1 = x + 2
    var2 = var1 * var1 * 3
    out = var2.mean()
    return out


# What `graphexplain torch FILE.py:snippet` reads: the input to trace the snippet on.
example_inputs = (torch.randn(2, 2, requires_grad=True),)
