"""The bare reverse-mode baseline: an MLP's adjoints built with plain sympy symbols.

This is what issue #4's table measured: every intermediate is a plain sympy Symbol, the local
partials of z = Σ wᵢaᵢ + b are read off directly (∂z/∂wᵢ = aᵢ, ∂z/∂aᵢ = wᵢ), an activation's
is ``sympy.diff`` of its one-argument expression, and the reverse sweep writes each adjoint as
a new expression in the adjoints of the layer above. No graph library, no
names, no report: the least work that yields every dL/dw formula, to compare graphexplain
against in the same run.
"""

from __future__ import annotations

import sympy


def mlp_adjoints(layers: tuple[int, ...]) -> dict[sympy.Symbol, sympy.Expr]:
    """{adjoint symbol: its expression} for a sigmoid MLP with an MSE loss."""
    S = sympy.Symbol
    acts = [S(f"x{i}") for i in range(1, layers[0] + 1)]
    defs: dict[sympy.Symbol, sympy.Expr] = {}  # forward: node symbol -> its expression
    stack = []  # per layer: (pre-activation symbols, activation symbols, weights, inputs)
    for n, fan_out in enumerate(layers[1:], start=1):
        last = n == len(layers) - 1
        zs, outs, ws = [], [], {}
        for j in range(1, fan_out + 1):
            terms = []
            for i, a in enumerate(acts, start=1):
                ws[i, j] = S(f"w{n}_{i}_{j}")
                terms.append(ws[i, j] * a)
            z = S(f"z{n}_{j}")
            defs[z] = sympy.Add(*terms, S(f"b{n}_{j}"))
            zs.append(z)
            if last:
                outs.append(z)
            else:
                a_j = S(f"a{n}_{j}")
                defs[a_j] = 1 / (1 + sympy.exp(-z))
                outs.append(a_j)
        stack.append((zs, outs, ws, acts))
        acts = outs
    ys = [S(f"y{k}") for k in range(1, layers[-1] + 1)]
    loss = sympy.Add(*((o - y) ** 2 for o, y in zip(acts, ys))) / len(ys)
    return _reverse(stack, loss, defs)


def full_loss(layers: tuple[int, ...]) -> tuple[sympy.Expr, list[sympy.Symbol]]:
    """The loss as one expression in leaf names (what naive per-weight diff works on), and
    the weights."""
    S = sympy.Symbol
    acts: list[sympy.Expr] = [S(f"x{i}") for i in range(1, layers[0] + 1)]
    weights = []
    for n, (fan_in, fan_out) in enumerate(zip(layers, layers[1:]), start=1):
        last = n == len(layers) - 1
        outs = []
        for j in range(1, fan_out + 1):
            ws = [S(f"w{n}_{i}_{j}") for i in range(1, fan_in + 1)]
            weights += ws
            z = sympy.Add(*(w * a for w, a in zip(ws, acts)), S(f"b{n}_{j}"))
            outs.append(z if last else 1 / (1 + sympy.exp(-z)))
        acts = outs
    ys = [S(f"y{k}") for k in range(1, layers[-1] + 1)]
    return sympy.Add(*((o - y) ** 2 for o, y in zip(acts, ys))) / len(ys), weights


def _reverse(stack, loss, defs) -> dict[sympy.Symbol, sympy.Expr]:
    S = sympy.Symbol
    program: dict[sympy.Symbol, sympy.Expr] = {}
    adj = {}
    _, outs_last, _, _ = stack[-1]
    for o in outs_last:
        adj[o] = S(f"d_{o}")
        program[adj[o]] = sympy.diff(loss, o)
    for zs, outs, ws, inputs in reversed(stack):
        for z, out in zip(zs, outs):
            if out is not z:  # through the activation: local partial by diff of its node
                adj[z] = S(f"d_{z}")
                program[adj[z]] = adj[out] * sympy.diff(defs[out], z)
        for (i, j), w in ws.items():
            program[S(f"d_{w}")] = adj[zs[j - 1]] * inputs[i - 1]  # ∂z/∂w = a
        for z in zs:
            program[S(f"d_b_{z}")] = adj[z]  # ∂z/∂b = 1
        for i, a in enumerate(inputs, start=1):
            if str(a).startswith("x"):
                continue
            adj[a] = S(f"d_{a}")
            program[adj[a]] = sympy.Add(*(adj[z] * ws[i, j] for j, z in enumerate(zs, 1)))
    return program
