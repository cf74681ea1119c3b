"""The command-line tool: a thin layer over the library.

Commands: ``explain`` (a program), ``demo`` (the seed's examples, explained and drawn) and
``ops`` (the op table). Every user error prints one line, ``error: …``, on stderr and exits
with 2; an internal error exits with 1 and a hint to rerun with ``--debug``.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import sys
import traceback
from pathlib import Path

from . import __version__, check_cli, i18n, ops, progress, report
from .api import Explanation, explain
from .cli_options import (
    FORMATS,
    UsageError,
    add_common,
    add_descent_options,
    add_diagram_options,
    add_lang_option,
    add_step_option,
    check_out,
    draw,
    emit,
    pairs,
    parse_point,
    read_program,
    report_text,
    with_descent,
    wrt_leaf,
)
from .derive import cost as derive_cost
from .errors import GraphExplainError, one_line
from .limits import DEFAULT, Limits, time_budget
from .nn import torch_cli


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)  # --h is the step h, never --help
        super().__init__(*args, **kwargs)

    def error(self, message):  # one line, exit 2, no usage dump
        raise UsageError(f"{message} (see {self.prog} --help)")


# --- argument parsing -------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="graphexplain", description="Explain backpropagation: the computation "
                "graph, the chain rule worked, pictures, and proof against torch.autograd.")
    p.add_argument("--version", action="version", version=f"graphexplain {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    _add_explain(sub.add_parser("explain", help="explain a program, e.g. 'J(a,b,c) = 3(a+bc)'"))
    demo = sub.add_parser("demo", help="the course, part by part: explained, drawn and checked "
                                       "against torch, into out/index.html")
    demo.add_argument("--out", default="out", help="the folder to write (default out/)")
    add_common(demo)
    _add_mlp(sub.add_parser("mlp", help="explain backprop through a small network, e.g. "
                                          "--layers 2,2,2,1 --wrt 'w1[1,2]'"))
    add_lang_option(torch_cli.add_parser(sub))
    check_cli.add_parser(sub)
    _add_fd_study(sub.add_parser(
        "fd-study", help="the numerical gradient (f(w+h) − f(w−h))/2h against h, from 1e-1 "
                         "to 1e-12: where truncation and rounding meet, and the seed's h = 1e-7"))
    ops_parser = sub.add_parser("ops", help="list the op table: every operation and its "
                                            "local partial")
    ops_parser.add_argument("--debug", action="store_true",
                            help="show tracebacks of internal errors")
    return p


def _floats(text: str, what: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise UsageError(f"{what} expects numbers separated by commas, got '{text}'") from None
    if not values or not all(math.isfinite(v) for v in values):
        raise UsageError(f"{what} expects finite numbers, got '{text}'")
    return values


def _add_mlp(p: argparse.ArgumentParser) -> None:
    from .nn.mlp import ACTIVATIONS, LOSSES

    p.add_argument("--layers", default="2,2,2,1",
                   help="neurons per layer, inputs first (default: the seed's 2,2,2,1)")
    p.add_argument("--activation", default="sigmoid", choices=ACTIVATIONS)
    p.add_argument("--output-activation", default="identity", choices=ACTIVATIONS)
    p.add_argument("--loss", default="mse", choices=tuple(LOSSES),
                   help="mse = nn.MSELoss(); ce = −Σ y·log softmax(out); "
                        "bce = nn.BCEWithLogitsLoss()")
    p.add_argument("--no-bias", action="store_true")
    p.add_argument("--seed", type=int, default=0,
                   help="draws weights as nn.Linear does, U(±1/√fan_in); x from U(−1, 1)")
    p.add_argument("--x", help="the input sample, e.g. --x 0.5,-1")
    p.add_argument("--y", help="the target, e.g. --y 1 (default: drawn)")
    p.add_argument("--target", type=int, help="for --loss ce: the class (1-based) of a one-hot y")
    p.add_argument("--format", choices=FORMATS, default="text")
    add_diagram_options(p, "focus on one weight, e.g. --wrt 'w1[1,2]'")
    p.add_argument("--no-verify", action="store_true")
    add_descent_options(p)
    add_step_option(p)
    p.add_argument("--limit", action="append", metavar="NAME=N",
                   help="raise a resource limit, e.g. --limit max_render_nodes=10000")
    p.add_argument("--cost", action="store_true",
                   help="show this network's costs: forward and gradient operations, and "
                        "what naive per-weight differentiation would cost")
    check_cli.add_claim_option(p, required=False)
    p.add_argument("-o", "--out", help="write the report to FILE instead of stdout")
    add_common(p)


def _add_explain(p: argparse.ArgumentParser) -> None:
    p.add_argument("program", nargs="?", help="the program text, or - for stdin")
    p.add_argument("-f", "--file", help="read the program from FILE (- for stdin)")
    p.add_argument("--at", nargs="+", action="extend", metavar="NAME=VALUE",
                   help="the point: values of the inputs, e.g. --at a=1 b=2 c=3")
    p.add_argument("--output", help="the name to explain, when several are unused")
    p.add_argument("--const", action="append", default=[], metavar="NAME",
                   help="an input that does not require grad (repeatable)")
    p.add_argument("--format", choices=FORMATS, default="text")
    add_diagram_options(p, "the input whose paths the 'paths' view highlights (a name or "
                           "a label)", networks=False)
    p.add_argument("--no-verify", action="store_true",
                   help="skip the checks against torch.autograd and central differences")
    p.add_argument("--limit", action="append", metavar="NAME=N",
                   help=f"raise a resource limit, e.g. --limit max_nodes=100000 "
                        f"(defaults: {', '.join(f'{k}={v}' for k, v in vars(DEFAULT).items())})")
    p.add_argument("-o", "--out", help="write the report to FILE instead of stdout")
    add_descent_options(p)
    add_step_option(p)
    add_common(p)


def _add_fd_study(p: argparse.ArgumentParser) -> None:
    p.add_argument("program", nargs="?", help="the program text, or - for stdin")
    p.add_argument("-f", "--file", help="read the program from FILE (- for stdin)")
    p.add_argument("--at", nargs="+", action="extend", metavar="NAME=VALUE", required=True,
                   help="the point, e.g. --at x=1.3")
    p.add_argument("--wrt", help="the input whose numerical gradient is studied "
                                 "(default: the first)")
    p.add_argument("--output", help="the name to explain, when several are unused")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--plot", metavar="FILE.png",
                   help="also draw the error against h (PNG, SVG or PDF)")
    p.add_argument("-o", "--out", help="write the table to FILE instead of stdout")
    add_common(p)


# --- commands ---------------------------------------------------------------------------------


def cmd_explain(args) -> int:
    limits = Limits().with_overrides(pairs(args.limit, "--limit")) if args.limit else DEFAULT
    text = read_program(args, limits)
    with time_budget(limits.max_seconds):  # text from strangers: an answer or a refusal in time
        expl = explain(text, parse_point(args.at), output=args.output, consts=args.const,
                       verify=not args.no_verify, limits=limits, h=args.h)
        wrt = wrt_leaf(expl, args.wrt)
        if args.h is not None and expl.evaluation is None:
            raise UsageError("--h is the step of the central differences, which need a "
                             "point: give the inputs' values with --at")
        wanted = args.out or not args.quiet  # --quiet: no report is built, only checks
        text = with_descent(report_text(expl, args), expl, args) if wanted else ""
    check_out(args.out)  # before any diagram is written: a failed run writes nothing
    draw(expl, args, wrt)
    emit(text, args.out, args.quiet)
    return 0 if expl.verification is None or expl.verification.ok is not False else 3


def mlp_spec(args):
    from .nn.mlp import MLPSpec

    layers = tuple(int(v) for v in _floats(args.layers, "--layers") if v == int(v))
    return MLPSpec(layers, args.activation, args.output_activation, args.loss,
                   not args.no_bias, args.seed,
                   _floats(args.x, "--x") if args.x else None,
                   _floats(args.y, "--y") if args.y else None, args.target).check()


def mlp_report(expl: Explanation, fmt: str, wrt: str | None, args=None) -> str:
    """The MLP report: the text report (or the focus on --wrt) and the layer form."""
    from .nn import layers

    if fmt == "html":
        return report_text(expl, args)
    if fmt != "text":
        return expl.report(fmt)
    d, ev, vf = expl.derivation, expl.evaluation, expl.verification
    head = report.to_text_focus(d, wrt, ev, vf) if wrt else expl.to_text()
    return head + "\n" + layers.to_text(expl.graph, ev)


def cmd_mlp(args) -> int:
    from .api import explain_mlp

    spec = mlp_spec(args)
    limits = Limits().with_overrides(pairs(args.limit, "--limit")) if args.limit else DEFAULT
    if args.claim:  # judge the claims instead of reporting (verification is theirs to do)
        return check_cli.run_claims(explain_mlp(spec, verify=False, limits=limits), args)
    expl = explain_mlp(spec, verify=not args.no_verify, limits=limits, h=args.h)
    wrt = wrt_leaf(expl, args.wrt)
    draw(expl, args, wrt)
    if args.quiet and not args.out:  # no report is built, only the checks' exit code
        return 0 if expl.verification is None or expl.verification.ok is not False else 3
    text = mlp_report(expl, args.format, wrt, args)
    if args.cost and args.format == "text":
        text += "\n" + report.to_text_cost(derive_cost(expl.derivation))
    elif args.cost and args.format == "json":
        doc = expl.to_dict()
        doc["cost"] = derive_cost(expl.derivation)
        text = json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)
    emit(with_descent(text, expl, args), args.out, args.quiet)
    return 0 if expl.verification is None or expl.verification.ok is not False else 3


def cmd_demo(args) -> int:
    """The course, runnable: every part of the seed explained, drawn, checked against torch,
    into a folder with an index.html; the terminal gets one line per part."""
    from . import walkthrough

    if not walkthrough.EXAMPLES.is_dir():  # examples/ ships with a checkout, not the wheel
        raise UsageError(f"demo needs the repository's examples/ folder "
                         f"({walkthrough.EXAMPLES} is missing)")
    out = Path(args.out)
    results = walkthrough.run(out, quiet=True)
    if not args.quiet:
        print(walkthrough.summary(results, out))
    return 0 if all(ok for _, ok, _ in results) else 3


def cmd_ops(args) -> int:
    """The op table: what a program may use, then the rows only networks use."""
    print("In a program (graphexplain explain):")
    for op in ops.OPS.values():
        if not op.network_only:
            print(f"  {op.name:<11} {_op_usage(op):<28} {op.maths}")
    print("  also written: " + ", ".join(f"{a} for {n}" for a, n in ops.ALIASES.items())
          + "; max(0, x) for relu, e^x for exp, x² for x**2, a·b and a×b for a*b")
    print("\nOnly in networks (graphexplain mlp and torch models); in a program write instead:")
    for op in ops.NETWORK_ONLY.values():
        print(f"  {op.name:<13} {op.maths}\n  {'':<13} instead: {op.instead}")
    return 0


def _op_usage(op) -> str:
    if op.infix:
        return f"a {op.infix} b"
    args = "a, b" if op.arity == 2 else "x"
    return f"{op.name}({args}" + "".join(f", {k}={v}" for k, v in op.params.items()) + ")"


def cmd_fd_study(args) -> int:
    from . import fd_study

    text = read_program(args)
    with time_budget(DEFAULT.max_seconds):
        expl = explain(text, parse_point(args.at), output=args.output, verify=False)
        wrt = args.wrt or (expl.derivation.leaves or [None])[0]
        study = fd_study.study(expl.derivation, expl.evaluation, wrt)
    check_out(args.out)
    out = (fd_study.to_text(study, expl.graph) if args.format == "text" else
           json.dumps(fd_study.to_dict(study), indent=2, allow_nan=False) + "\n")
    if args.plot:
        fd_study.plot(study, args.plot, expl.graph)
    emit(out, args.out, args.quiet)
    return 0


COMMANDS = {"explain": cmd_explain, "demo": cmd_demo, "mlp": cmd_mlp, "torch": torch_cli.run,
            "ops": cmd_ops, "fd-study": cmd_fd_study, "check": check_cli.run}


def _short_lived() -> None:
    """A command is a short process that makes hundreds of thousands of sympy objects and
    frees few: Python's cyclic collector would scan them, and all of sympy, again and again
    (15% of a large network's run). Freeze what is loaded, and collect less often."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 internal error, 2 bad input,
    3 a verification that disagrees). Without ``argv`` it is the process itself: it runs
    ``sys.argv`` and exits."""
    if argv is not None:  # a caller's main([...])
        return _run(argv)
    _short_lived()
    code = _run(sys.argv[1:])
    _exit(code)
    return code  # not reached


def _exit(code: int) -> None:
    """End the process once its output is out. Nothing is left to clean up (every file is
    written and closed by then), and tearing down the hundreds of thousands of sympy objects
    of a large graph one by one costs a tenth of a second for nothing."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # a reader that left (| head), or a closed stream
        pass
    os._exit(code)


def _run(argv: list[str]) -> int:
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        progress.QUIET = bool(getattr(args, "quiet", False))
        if args.command is None:
            build_parser().print_help()
            return 2
        with i18n.using(getattr(args, "lang", i18n.DEFAULT)):
            return COMMANDS[args.command](args)
    except GraphExplainError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # an internal error: one line, unless --debug
        if debug:
            traceback.print_exc()
        else:
            print(f"internal error: {type(e).__name__}: {one_line(str(e))}; rerun with --debug "
                  "for the traceback", file=sys.stderr)
        return 1
