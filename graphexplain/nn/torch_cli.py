"""The ``torch`` command: explain the gradients of a torch model defined in a Python file.

    graphexplain torch FILE.py:NAME [--gradient v1,v2,…] [--format …] [--render FILE]

**This runs FILE's code** (as ``python FILE.py`` would, except its
``if __name__ == "__main__":`` block): only use files you trust. In the file,

- ``NAME`` is an ``nn.Module`` class (instantiated with no arguments), an ``nn.Module``
  instance, or a function of tensors;
- ``example_inputs`` (required) is the tensor, or tuple of tensors, to trace NAME on; keep
  them small, since every element becomes a node. An input gets a gradient only if its tensor
  requires grad, as in torch;
- ``loss`` (optional) is a loss module such as ``nn.MSELoss()``, or a function
  ``loss(output, target)``, and ``target`` its target;
- ``gradient`` (optional) is v for a non-scalar output, as in ``backward(gradient=v)``;
  ``--gradient`` overrides it.

The report adds, to the usual checks, a comparison with the model's own autograd (a float64
copy of the module). Exit codes are those of ``graphexplain``: 0, 2 for bad input, 3 when a
check disagrees.

``--wrt`` takes a leaf's label as the report prints it (``linear.weight[0,0]``) or its
identifier (``linear_weight_0_0``).

This module does not import torch; :func:`run` does, through :mod:`graphexplain.nn.torch`
(a package whose modules import the real torch: every import in them is absolute).
"""

from __future__ import annotations

import argparse
import math
import sys

from ..cli_options import (
    FORMATS,
    add_descent_options,
    add_diagram_options,
    draw,
    report_text,
    with_descent,
    wrt_leaf,
)
from ..errors import PointError

HELP = "explain a torch model: graphexplain torch FILE.py:NAME (this runs FILE's code)"

EPILOG = """\
FILE is executed (not its `if __name__ == "__main__":` block): only use files you trust.
NAME is an nn.Module class (made with no arguments), an nn.Module, or a function. FILE must
define example_inputs (a tensor or a tuple of tensors), and may define loss (e.g.
nn.MSELoss()), target, and gradient (v for a vector output). Example:
  graphexplain torch examples/seed_linear_regression.py:Lr"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``torch`` subcommand to the ``graphexplain`` command line."""
    p = subparsers.add_parser("torch", help=HELP, description=HELP, epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("spec", metavar="FILE.py:NAME",
                   help="the model: NAME (a module class, a module or a function) in FILE")
    p.add_argument("--gradient", metavar="V1,V2,…",
                   help="v for a non-scalar output, as backward(gradient=v), flattened in "
                        "row-major order; shows the vector-Jacobian product Jᵀv")
    p.add_argument("--format", choices=FORMATS, default="text")
    add_diagram_options(p, "the leaf whose paths the 'paths' view highlights, by its label "
                           "(linear.weight[0,0]) or its identifier")
    p.add_argument("--no-verify", action="store_true",
                   help="skip the checks against torch.autograd, central differences and the "
                        "model's own autograd")
    add_descent_options(p)
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    return p


def parse_gradient(text: str) -> list[float]:
    """``"1,0.5,-1"`` → ``[1.0, 0.5, -1.0]``; anything else is a one-line error."""
    values = []
    for piece in text.split(","):
        try:
            value = float(piece)
        except ValueError:
            raise PointError(f"--gradient: '{piece.strip()}' is not a number "
                             "(give v1,v2,…)") from None
        if not math.isfinite(value):
            raise PointError(f"--gradient: {piece.strip()} is not a finite number")
        values.append(value)
    return values


def run(args) -> int:
    """Run ``graphexplain torch``; returns the exit code (0, or 3 when a check disagrees)."""
    from .torch import explain_file

    gradient = parse_gradient(args.gradient) if args.gradient else None
    expl = explain_file(args.spec, gradient=gradient, verify=not args.no_verify)
    wrt = wrt_leaf(expl, args.wrt)
    draw(expl, args, wrt)  # with --partials, --diagram and --expand, as every command
    if not args.quiet:
        sys.stdout.write(with_descent(report_text(expl, args), expl, args))
    return 0 if expl.verification is None or expl.verification.ok is not False else 3
