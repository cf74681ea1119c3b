"""The seed's linear regression: ``Lr`` (one ``nn.Linear(1, 1)``) fitted to y = 3x + 0.8 with
``nn.MSELoss``.

Explain its gradients, and check them against the model's own autograd::

    graphexplain torch examples/seed_linear_regression.py:Lr

With N samples, L = (1/N)·Σᵢ (w·xᵢ + b − yᵢ)², so

    ∂L/∂w = (2/N)·Σᵢ (w·xᵢ + b − yᵢ)·xᵢ,    ∂L/∂b = (2/N)·Σᵢ (w·xᵢ + b − yᵢ):

a sum over the samples, one path per sample. The seed uses 50 samples; 5 keep the report short.

Loading this file defines the model and the data; it does not train. ``python
examples/seed_linear_regression.py`` runs the seed's training loop (no plot).
"""

import torch
from torch import nn, optim

torch.manual_seed(0)

N = 5
x = torch.rand([N, 1])
y = x * 3 + 0.8


class Lr(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x):
        out = self.linear(x)
        return out


# What `graphexplain torch FILE.py:Lr` reads: the inputs to trace Lr on, the loss and its target.
example_inputs = (x,)
loss = nn.MSELoss()
target = y


if __name__ == "__main__":  # the seed's training loop; not run when graphexplain loads the file
    model = Lr()
    criterion = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=1e-1)
    for i in range(1000):
        out = model(x)
        loss_value = criterion(out, y)
        optimizer.zero_grad()
        loss_value.backward()
        optimizer.step()
        if (i + 1) % 200 == 0:
            print(f"epoch {i + 1}: loss {loss_value.item():.6f}, "
                  f"w {model.linear.weight.item():.3f}, b {model.linear.bias.item():.3f}")
