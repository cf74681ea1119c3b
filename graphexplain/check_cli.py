"""The ``check`` command: judge hand-derived gradients against the derivation.

    graphexplain check "J(a,b,c) = 3(a+bc)" --claim "dJ/db = 3c" [--claim …] [--at a=1 …]

Each claim is correct, wrong (with a point, both values and a diagnosis) or undecided (equal
at every sample point, no symbolic proof within the budget). Exit codes: 0 when no claim is
wrong, 3 when one is, 2 for a malformed program or claim (see :mod:`graphexplain.check`).
``graphexplain mlp … --claim …`` judges claims about a network the same way
(:func:`run_claims`).
"""

from __future__ import annotations

import argparse
import json

from .cli_options import UsageError, add_common, check_out, emit, parse_point, read_program
from .limits import DEFAULT, time_budget

HELP = "check hand-derived gradients, e.g. graphexplain check 'J(a,b,c) = 3(a+bc)' " \
       "--claim 'dJ/db = 3c'"

EPILOG = """\
A claim is ∂OUTPUT/∂NAME = formula, in the notation of programs. It may use the graph's
intermediate names (u, v, f2, g1, out), A′(f2) or σ′(f2) for the activation's derivative
(typed A'(f2)), and ∂loss/∂out or dloss/dout for that adjoint's value, as the seed writes:
  graphexplain mlp --layers 2,2,2,1 --no-bias --claim \\
    "dloss/dw1[1,2] = x1·A'(f2)·(w2[2,1]·A'(g1)·w3[1,1] + w2[2,2]·A'(g2)·w3[2,1])·dloss/dout"
Exit codes: 0 every claim holds (or is undecided), 3 a claim is wrong, 2 bad input."""


def add_claim_option(p: argparse.ArgumentParser, required: bool) -> None:
    p.add_argument("--claim", action="append", required=required, metavar="'dJ/db = …'",
                   help="a hand-derived gradient to judge (repeatable)")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``check`` subcommand."""
    p = subparsers.add_parser("check", help=HELP, description=HELP, epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("program", nargs="?", help="the program text, or - for stdin")
    p.add_argument("-f", "--file", help="read the program from FILE (- for stdin)")
    add_claim_option(p, required=True)
    p.add_argument("--at", nargs="+", action="extend", metavar="NAME=VALUE",
                   help="a point to test at first (random points follow)")
    p.add_argument("--output", help="the name the claims differentiate, when several are "
                                    "unused")
    p.add_argument("--const", action="append", default=[], metavar="NAME",
                   help="an input that does not require grad (repeatable)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--samples", type=int, default=None, metavar="N",
                   help="random points besides --at (default 6)")
    p.add_argument("-o", "--out", help="write the verdicts to FILE instead of stdout")
    add_common(p)
    return p


def run(args) -> int:
    """``graphexplain check``: read the program, then judge the claims."""
    from .api import explain

    text = read_program(args, DEFAULT)
    with time_budget(DEFAULT.max_seconds):
        expl = explain(text, parse_point(args.at), output=args.output, consts=args.const,
                       verify=False)
        return run_claims(expl, args)


def run_claims(expl, args) -> int:
    """Judge ``args.claim`` about an explanation, print the verdicts; 3 if one is wrong."""
    from . import check

    samples = getattr(args, "samples", None)
    if samples is not None and not 0 <= samples <= 100:
        raise UsageError("--samples takes 0 … 100 points")
    verdicts = check.check_claims(expl, args.claim,
                                  check.SAMPLES if samples is None else samples)
    if getattr(args, "format", "text") == "json":
        out = json.dumps(check.to_dict(expl.derivation, verdicts), indent=2,
                         ensure_ascii=False, allow_nan=False) + "\n"
    else:
        out = check.to_text(expl.derivation, verdicts)
    check_out(args.out)
    emit(out, args.out, args.quiet)
    return 0 if all(v.ok for v in verdicts) else 3
