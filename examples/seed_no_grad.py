"""The seed's ``torch.no_grad()``: an operation that autograd does not record.

The seed: "to stop an operation being tracked, use ``with torch.no_grad():``". Its autograd
snippet, with one value computed under ``no_grad``::

    var1 = x + 2
    with torch.no_grad():
        c = var1 * 10          # not tracked: c is a constant to backward()
    var2 = var1 * var1 * 3 + c
    out = var2.mean()

    graphexplain torch examples/seed_no_grad.py:snippet
    graphexplain torch examples/seed_no_grad.py:detached
    graphexplain torch examples/seed_no_grad.py:tracked

out = (1/4)·Σ (3·var1² + c). Since no gradient flows through c,

    ∂out/∂x[i,j] = (1/4)·3·2·(x[i,j] + 2) = 1.5·(x[i,j] + 2),

the gradient of the seed's snippet without c (5.3115 for x[0,0] here). graphexplain cuts the
graph at c: its elements are constants holding their values. ``detached`` does the same with
``c = (var1 * 10).detach()``. ``tracked`` is the same code without ``no_grad``: there c carries
a gradient too, and ∂out/∂x[i,j] = 1.5·(x[i,j] + 2) + 10/4 (7.8115 for x[0,0]).
"""

import torch

torch.manual_seed(0)


def snippet(x):
    var1 = x + 2
    with torch.no_grad():
        c = var1 * 10
    var2 = var1 * var1 * 3 + c
    out = var2.mean()
    return out


def detached(x):
    var1 = x + 2
    c = (var1 * 10).detach()
    var2 = var1 * var1 * 3 + c
    out = var2.mean()
    return out


def tracked(x):
    var1 = x + 2
    c = var1 * 10
    var2 = var1 * var1 * 3 + c
    out = var2.mean()
    return out


# What `graphexplain torch FILE.py:NAME` reads: the input to trace on (as in seed_autograd.py).
example_inputs = (torch.randn(2, 2, requires_grad=True),)


if __name__ == "__main__":  # what torch itself says; not run when graphexplain loads the file
    for f in (snippet, detached, tracked):
        x = example_inputs[0].detach().clone().requires_grad_()
        f(x).backward()
        print(f"{f.__name__}: x.grad[0,0] = {x.grad[0, 0].item():.4f}")
