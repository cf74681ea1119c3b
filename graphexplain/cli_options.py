"""The options and helpers that every command of the command line shares.

What it does: the report formats and diagram views, ``--at`` parsing, ``--sgd``, writing the
report (``-o`` or stdout) and the one usage error. It sits below :mod:`graphexplain.cli` and
the command modules (``nn.torch_cli``), so that none of them imports another.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

from . import i18n, lints, report
from .errors import GraphExplainError, PointError
from .files import write_atomic
from .limits import DEFAULT, Limits

FORMATS = ("text", "json", "latex", "markdown", "program", "html")
VIEWS = ("both", "forward", "backward", "paths")
DIAGRAMS = ("auto", "circuit", "network", "layers")


class UsageError(GraphExplainError):
    """A command line that argparse refuses."""


def pairs(items: list[str] | None, what: str) -> dict[str, str]:
    """``["a=1", "b=2,c=3"]`` → ``{"a": "1", "b": "2", "c": "3"}``."""
    out = {}
    for item in items or []:
        # commas inside brackets belong to a label: --at w1[1,2]=0.5
        for piece in filter(None, re.split(r",(?![^\[]*\])", item)):
            name, eq, value = piece.partition("=")
            if not eq or not name.strip() or not value.strip():
                raise PointError(f"{what} expects NAME=VALUE, got '{piece}'")
            if name.strip() in out:
                raise PointError(f"{what} gives '{name.strip()}' twice")
            out[name.strip()] = value.strip()
    return out


def parse_point(items: list[str] | None) -> dict[str, float] | None:
    """The ``--at`` values as floats; a malformed or non-finite number is an error."""
    if not items:
        return None
    point = {}
    for name, text in pairs(items, "--at").items():
        try:
            value = float(text)
        except ValueError:
            raise PointError(f"--at {name}={text}: '{text}' is not a number") from None
        if not math.isfinite(value):
            raise PointError(f"--at {name}={text}: the value must be a finite number")
        point[name] = value
    return point


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    add_lang_option(p)


def language(text: str) -> str:
    """A language of :data:`graphexplain.i18n.LANGUAGES` (for argparse)."""
    try:
        return i18n.check(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_lang_option(p: argparse.ArgumentParser) -> None:
    """``--lang zh``: the prose in Chinese (formulas, numbers and names stay as they are)."""
    p.add_argument("--lang", type=language, default=i18n.DEFAULT, metavar="LANG",
                   help=f"the language of the prose: {', '.join(i18n.LANGUAGES)} "
                        f"(default {i18n.DEFAULT})")


def wrt_leaf(expl, name: str | None) -> str | None:
    """``--wrt``: the id of an input with a gradient, named by its label (``w1[1,2]``,
    ``linear.weight[0,0]``) or its identifier; a one-line error naming the close ones."""
    if name is None:
        return None
    from .graph import label, resolve

    leaves = expl.derivation.leaves
    node = resolve(expl.graph, name, what="--wrt")  # any node: a computed one is named so
    if node not in leaves:
        labels = [label(expl.graph, x) for x in leaves]
        raise PointError(f"--wrt {name}: not an input with a gradient (inputs with a "
                         f"gradient: {', '.join(labels[:12])}{', …' * (len(labels) > 12)})")
    return node


def add_diagram_options(p: argparse.ArgumentParser, wrt_help: str,
                        networks: bool = True) -> None:
    """``--render FILE``, ``--view``, ``--wrt``, ``--partials``, ``--diagram``, and for the
    commands that draw networks (``networks``), ``--expand``."""
    p.add_argument("--render", action="append", default=[], metavar="FILE",
                   help="write a diagram: FILE.svg, .png, .pdf or .dot (repeatable)")
    p.add_argument("--view", choices=VIEWS, default="both",
                   help="what the diagram shows: values and gradients (both, the default), "
                        "forward values, backward gradients and partials, or the paths of "
                        "--wrt")
    p.add_argument("--wrt", help=wrt_help)
    p.add_argument("--partials", action="store_true",
                   help="label every edge with its local partial ∂v/∂u")
    p.add_argument("--diagram", choices=DIAGRAMS, default="auto",
                   help="circuit (expressions), network (neurons in columns, weights on the "
                        "edges) or layers (one box per layer); auto picks the one that fits")
    if networks:  # a program is never a network: explain has nothing to expand
        p.add_argument("--expand", action="store_true",
                       help="draw a large network neuron by neuron, not collapsed into layers")


def report_text(expl, args) -> str:
    """The report in ``--format``; the HTML explorer draws as ``--view``/``--diagram`` say."""
    if args.format == "html":
        return expl.html(view=args.view, partials=args.partials, diagram=args.diagram,
                         expand=getattr(args, "expand", False))
    return expl.report(args.format)


def draw(expl, args, wrt: str | None) -> None:
    """Write every ``--render`` file of a command."""
    for path in args.render:
        expl.render(path, view=args.view, wrt=wrt, partials=args.partials,
                    diagram=args.diagram, expand=getattr(args, "expand", False))


def add_step_option(p: argparse.ArgumentParser) -> None:
    """``--h STEP``: the step of the central differences."""
    p.add_argument("--h", type=positive_float, metavar="STEP",
                   help="the step h of the central differences (f(w+h) − f(w−h))/2h "
                        "(the seed uses 1e-7; default ε^(1/3)·max(1, |w|) ≈ 6e-6 per input)")


def positive_float(text: str) -> float:
    """A finite number > 0 (for argparse)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def add_descent_options(p: argparse.ArgumentParser) -> None:
    """``--sgd LR --steps N``: the seed's training loop, with the explained gradients."""
    p.add_argument("--sgd", type=float, metavar="LR",
                   help="then run gradient descent from the point, w ← w − LR·∂L/∂w for "
                        "every parameter, and the same with torch.optim.SGD")
    p.add_argument("--steps", type=int, default=100, help="steps of --sgd (default 100)")


def with_descent(text: str, expl, args) -> str:
    """The report, with the trajectory of ``--sgd`` (and torch's) when asked for."""
    if getattr(args, "sgd", None) is None:
        return text
    if expl.evaluation is None:
        raise PointError("--sgd needs a starting point: give every input with --at")
    if args.format not in ("text", "markdown", "json"):
        raise PointError("--sgd goes with --format text, markdown or json")
    from .train import max_difference, sgd, torch_sgd

    G, out, point = expl.graph, expl.output, expl.evaluation.point
    ours = sgd(G, out, point, args.sgd, args.steps)
    theirs = None if args.no_verify else torch_sgd(G, out, point, args.sgd, args.steps)
    notes = lints.not_converged(G, out, ours)
    if args.format == "json":
        doc = json.loads(text)
        doc["descent"] = {"lr": ours.lr, "steps": ours.steps,
                          "rows": [{"step": s, "loss": report.json_num(loss), "values": v}
                                   for s, loss, v in ours.rows],
                          "torch_max_difference": max_difference(ours, theirs) if theirs
                          else None,
                          "notes": [n.to_dict() for n in notes]}
        return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)
    block = report.to_text_descent(expl.derivation, ours, theirs)
    if notes:
        block = block.rstrip("\n") + "\n" + lints.to_text(notes).rstrip("\n") + "\n"
    return text + ("\n" + block if args.format == "text" else f"\n```\n{block}```\n")


def emit(text: str, out: str | None, quiet: bool) -> None:
    if out:
        write_atomic(out, text)
    elif not quiet:
        sys.stdout.write(text)


def check_out(out: str | None) -> None:
    if out and not Path(out).parent.is_dir():
        raise UsageError(f"cannot write {out}: the directory {Path(out).parent} does not exist")


def read_program(args, limits: Limits = DEFAULT) -> str:
    """The program text of ``explain``-like commands: the argument, ``-f FILE`` or stdin (``-``),
    read no further than ``limits.max_chars`` (one character more tells it is too long)."""
    if args.file is not None and args.program is not None:
        raise UsageError("give the program as an argument or with -f FILE, not both")
    if args.file is None and args.program is None:
        raise UsageError("no program: give one, e.g. graphexplain explain \"J = 3*(a+b*c)\"")
    source = args.file if args.file is not None else args.program
    if source == "-":
        return sys.stdin.read(limits.max_chars + 1)
    if args.file is not None:
        try:
            with open(args.file, encoding="utf-8") as f:
                return f.read(limits.max_chars + 1)
        except (OSError, UnicodeDecodeError) as e:
            reason = getattr(e, "strerror", None) or e
            raise UsageError(f"cannot read {args.file}: {reason}") from None
    return source
