"""The gradient program, compiled: C code for the forward pass and the reverse sweep.

What it does: prints the derivation's program as straight-line C, one statement per node,
``v[7] = v[2]*v[3] + v[4]*v[5]`` forward, then ``g[2] = g[7]*v[3] + …`` backward (the
gradient program of :func:`graphexplain.derive.adjoint_sweep`, read off the op table's local
partials), compiles it with the system C compiler into a shared library (cached by the hash of
its source), and calls it through ctypes. Evaluating every gradient at a new point is then one
call of a few microseconds, like a hand-written backprop.

What it does not do: change any number. The compiled gradients are checked against the
numeric backward pass in the tests and the benchmarks. A machine without a C compiler gets a
clear error (``graphexplain`` itself never needs one).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from sympy.printing.c import C99CodePrinter

from . import ops
from .derive import Derivation, adjoint_symbol
from .errors import GraphExplainError

# The op table's own functions come from ops.C_FUNCTIONS; these two are sympy's, which the
# local partials use (relu′ = Heaviside(x, 0), |x|′ = sign(x), as torch takes them at 0).
PRELUDE = "#include <math.h>\n" + "".join(
    f"static inline double ge_{name}({params}) {{ return {body}; }}\n"
    for name, (params, body) in {
        **ops.C_FUNCTIONS,
        "heaviside": ("double x, double h0", "x > 0 ? 1.0 : (x < 0 ? 0.0 : h0)"),
        "sign": ("double x", "(x > 0) - (x < 0)"),
    }.items())


class CompileError(GraphExplainError):
    """No C compiler, or it refused the generated program."""


class _Printer(C99CodePrinter):
    """C for node symbols (``v[i]``), adjoint symbols (``g[i]``) and the op table's functions."""

    def __init__(self, values: dict[str, int], adjoints: dict[str, int]):
        super().__init__({"strict": False})
        self._values, self._adjoints = values, adjoints

    def _print_Symbol(self, expr):
        if expr.name in self._values:
            return f"v[{self._values[expr.name]}]"
        return f"g[{self._adjoints[expr.name]}]"

    def _print_Function(self, expr):  # sigmoid, relu, elu, … : the prelude's ge_*
        args = ", ".join(self._print(a) for a in expr.args)
        return f"ge_{type(expr).__name__}({args})"

    def _print_Heaviside(self, expr):
        return f"ge_heaviside({', '.join(self._print(a) for a in expr.args)})"

    def _print_sign(self, expr):
        return f"ge_sign({self._print(expr.args[0])})"


def c_source(d: Derivation) -> tuple[str, list[str]]:
    """The C program ``void run(double *v, double *g)`` and its node order.

    On entry ``v`` holds the leaf values (at their positions in the order); on return it
    holds every node's value and ``g`` every adjoint ∂output/∂node (0 where untracked).
    """
    G, order = d.graph, d.order
    index = {n: i for i, n in enumerate(order)}
    adj_index = {adjoint_symbol(G, d.output, n).name: index[n] for n in d.program}
    printer = _Printer(index, adj_index)
    lines = [f"  v[{index[n]}] = {printer.doprint(G.nodes[n]['expr'])};"
             for n in order if G.nodes[n]["kind"] == "op"]
    lines += [f"  g[{index[n]}] = {printer.doprint(d.program[n])};"
              for n in reversed(order) if n in d.program]
    body = "\n".join(lines)
    return f"{PRELUDE}\nvoid run(double *v, double *g) {{\n{body}\n}}\n", order


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    path = Path(base) / "graphexplain"
    path.mkdir(parents=True, exist_ok=True)
    return path


def compile_library(source: str, opt: str = "-O1") -> Path:
    """Compile C source into a shared library, once per source (cached by its hash)."""
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise CompileError("compiling the gradient program needs a C compiler (cc or gcc)")
    digest = hashlib.sha256((source + opt).encode()).hexdigest()[:24]
    target = _cache_dir() / f"grad_{digest}.so"
    if target.exists():
        return target
    with tempfile.TemporaryDirectory() as tmp:
        src, lib = Path(tmp) / "grad.c", Path(tmp) / "grad.so"
        src.write_text(source)
        done = subprocess.run([cc, opt, "-shared", "-fPIC", "-o", str(lib), str(src), "-lm"],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise CompileError(f"the C compiler failed: {done.stderr.strip().splitlines()[-1:]}")
        os.replace(lib, target)
    return target


class CompiledGradient:
    """Every gradient of a derivation at any point, by one call of compiled code.

    Examples
    --------
    >>> from graphexplain.parse import parse
    >>> from graphexplain.graph import build
    >>> from graphexplain.derive import derive
    >>> grad = CompiledGradient(derive(build(parse("J(a,b,c) = 3(a+bc)"))))
    >>> grad({"a": 1, "b": 2, "c": 3})
    (21.0, {'a': 3.0, 'b': 9.0, 'c': 6.0})
    """

    def __init__(self, d: Derivation, opt: str = "-O1"):
        source, self.order = c_source(d)
        self.output, self.leaves = d.output, d.leaves
        self._index = {n: i for i, n in enumerate(self.order)}
        self._fixed = {n: float(d.graph.nodes[n]["value"]) for n in self.order
                       if d.graph.nodes[n]["kind"] != "op" and "value" in d.graph.nodes[n]}
        self._lib = ctypes.CDLL(str(compile_library(source, opt)))
        self._lib.run.argtypes = [ctypes.POINTER(ctypes.c_double)] * 2
        self._lib.run.restype = None
        self.values = np.zeros(len(self.order))
        self.adjoints = np.zeros(len(self.order))
        self._pv = self.values.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        self._pg = self.adjoints.ctypes.data_as(ctypes.POINTER(ctypes.c_double))

    def set_point(self, point: Mapping[str, float]) -> None:
        for n, v in {**self._fixed, **point}.items():
            self.values[self._index[n]] = v

    def run(self) -> None:
        """Forward and backward at the point already set: the benchmarked call."""
        self._lib.run(self._pv, self._pg)

    def __call__(self, point: Mapping[str, float]) -> tuple[float, dict[str, float]]:
        """(output value, {leaf: gradient}) at ``point``."""
        self.set_point(point)
        self.run()
        grads = {x: float(self.adjoints[self._index[x]]) for x in self.leaves}
        return float(self.values[self._index[self.output]]), grads
