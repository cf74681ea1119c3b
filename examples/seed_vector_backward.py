"""A vector output: ``backward()`` needs ``gradient=v``, and computes the vector-Jacobian
product Jᵀv (the seed: "when the output is a vector, backward() needs another argument").

    graphexplain torch examples/seed_vector_backward.py:double
    graphexplain torch examples/seed_vector_backward.py:double --gradient 1,1,1,1

For out = 2·x, the Jacobian is J = 2·I, so x.grad = Jᵀv = 2·v.
"""

import torch

torch.manual_seed(0)


def double(x):
    out = x * 2
    return out


# What `graphexplain torch FILE.py:double` reads: the input, and v for backward(gradient=v).
example_inputs = (torch.randn(2, 2, requires_grad=True),)
gradient = torch.tensor([[1.0, 0.5], [0.0, -1.0]])
