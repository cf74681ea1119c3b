"""torch.fx tracing: a model's operations as an fx graph, with the user's names and grad mode.

What it does: traces an ``nn.Module`` or a function with ``torch.fx`` (symbolically: the code
runs once on proxies) and notes, for every fx node, the source line that made it, the
variable that line assigns (``var1 = x + 2`` names the node ``var1``), the statement's text,
and the grad mode it ran in. Symbolic tracing executes ``with torch.no_grad():`` for real, so
the tracer sees ``torch.is_grad_enabled()`` turn false inside the block (fx itself records no
node for it); a node made there is noted as ``"no_grad"`` (``"inference_mode"`` under
``torch.inference_mode()``), and :mod:`.scalarize` cuts the graph where its value leaves the
block.

What it does not do: scalarize anything (that is :mod:`.scalarize`), or trace data-dependent
control flow, which torch.fx cannot (an :class:`~graphexplain.errors.UnsupportedOpError`).
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from dataclasses import dataclass, field

import torch
import torch.fx
from torch import nn

from ...errors import GraphError, UnsupportedOpError

#: fx node meta keys set by the tracer.
LINE, GRAD = "graphexplain_line", "graphexplain_grad_mode"


@dataclass
class FxTrace:
    """A traced function: the fx graph module, and per fx node the variable it is assigned to
    and the source text of that statement (only for nodes that have them)."""

    gm: torch.fx.GraphModule
    names: dict = field(default_factory=dict)
    statements: dict = field(default_factory=dict)

    def placeholders(self) -> list[torch.fx.Node]:
        return [p for p in self.gm.graph.nodes if p.op == "placeholder"]


def grad_mode() -> str | None:
    """None when autograd records operations, else why it does not: ``"no_grad"`` (also
    ``torch.set_grad_enabled(False)``) or ``"inference_mode"``."""
    if torch.is_inference_mode_enabled():
        return "inference_mode"
    return None if torch.is_grad_enabled() else "no_grad"


class LineTracer(torch.fx.Tracer):
    """An fx tracer that notes which line of the traced function made each node, so that
    nodes can be named after the user's variables, and the grad mode it was made in."""

    def __init__(self, code):
        super().__init__()
        self.code = code

    def create_node(self, *args, **kwargs):
        node = super().create_node(*args, **kwargs)
        node.meta[GRAD] = grad_mode()
        frame = inspect.currentframe()
        while frame is not None and not same_code(frame.f_code, self.code):
            frame = frame.f_back
        if frame is not None:
            node.meta[LINE] = frame.f_lineno
        del frame
        return node


def same_code(a, b) -> bool:
    """Whether two code objects are the same function's (compared by place and name)."""
    return b is not None and (a.co_filename, a.co_firstlineno, a.co_name) == (
        b.co_filename, b.co_firstlineno, b.co_name)


def display_name(fn) -> str:
    """How the model is named in messages: its class for a module, else its ``__name__``."""
    return type(fn).__name__ if isinstance(fn, nn.Module) else getattr(fn, "__name__", "fn")


def code_of(fn):
    """The code object whose lines name the nodes: ``forward``'s, or the function's."""
    target = type(fn).forward if isinstance(fn, nn.Module) else fn
    return getattr(target, "__code__", None)


def fx_trace(fn) -> FxTrace:
    """The fx graph of ``fn``, with grad enabled at the start (as ``backward`` needs), and the
    variable name and statement of each node that has them."""
    code = code_of(fn)
    tracer = LineTracer(code)
    try:
        with torch.enable_grad():
            graph = tracer.trace(fn)
    except Exception as e:  # fx raises many kinds (TraceError, TypeError, …) for untraceable code
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UnsupportedOpError(f"torch.fx cannot trace {display_name(fn)}: {reason}") from None
    gm = torch.fx.GraphModule(tracer.root, graph, display_name(fn))
    out = FxTrace(gm)
    for node, (name, text) in variable_names(gm, code).items():
        out.names[node], out.statements[node] = name, text
    return out


def assignments(code) -> list[tuple[int, int, str, str]]:
    """(first line, last line, name, source text) of each ``name = …`` statement of the
    function."""
    try:
        lines, start = inspect.getsourcelines(code)
        source = textwrap.dedent("".join(lines))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        return []
    defs = [d for d in tree.body if isinstance(d, ast.FunctionDef | ast.AsyncFunctionDef)]
    if not defs:  # a lambda: its line is some other statement, not the function's own
        return []
    return [(st.lineno + start - 1, st.end_lineno + start - 1, target,
             ast.get_source_segment(source, st) or target)
            for st, target in _assigned(defs[0])]


def _assigned(tree: ast.AST):
    """The ``name = …`` (and ``name: T = …``) statements below ``tree``, with the name."""
    for st in ast.walk(tree):
        targets = st.targets if isinstance(st, ast.Assign) else (
            [st.target] if isinstance(st, ast.AnnAssign) and st.value is not None else [])
        if len(targets) == 1 and isinstance(targets[0], ast.Name):
            yield st, targets[0].id


def variable_names(gm: torch.fx.GraphModule, code) -> dict:
    """Node → (variable, statement): the last node a ``name = …`` statement makes."""
    statements = assignments(code) if code is not None else []
    last = {}
    for node in gm.graph.nodes:
        line = node.meta.get(LINE)
        if line is None or not node.op.startswith("call_"):
            continue
        for first, end, name, text in statements:
            if first <= line <= end:
                last[first, name] = (node, text)
    return {node: (name, text) for (_, name), (node, text) in last.items()}


def op_name(node: torch.fx.Node) -> str:
    """How an error names the op: ``Conv2d``, ``torch.sort``, ``Tensor.cumsum``."""
    if node.op == "call_method":
        return f"Tensor.{node.target}"
    module = (getattr(node.target, "__module__", None) or "").lstrip("_")
    module = "torch.nn.functional" if module == "torch._C._nn" else module
    name = getattr(node.target, "__name__", str(node.target))
    return f"{module}.{name}" if module else name


def module_path(node: torch.fx.Node, root: str) -> str:
    """The dotted path of the module the node belongs to (the root's name at the top)."""
    if node.op == "call_module":
        return str(node.target)
    stack = node.meta.get("nn_module_stack") or {}
    return next(reversed(stack)) if stack else root


def fx_name(gm: torch.fx.GraphModule, node: torch.fx.Node) -> str:
    """fx's node name, without the ``_1`` that element indices would make ambiguous
    (``add_1`` → ``add1``); ``nn.Sequential``'s layer ``_0`` becomes ``linear0``."""
    name = node.name
    if node.op == "call_module" and name.startswith("_"):
        name = type(gm.get_submodule(node.target)).__name__.lower() + name
    return re.sub(r"(?<=[^\W\d_])_(\d+)$", r"\1", name)


def line_of(node: torch.fx.Node) -> int | None:
    """The source line that made the node, when it is in the traced function."""
    return node.meta.get(LINE)


def check_arity(fx: FxTrace, n: int, what: str) -> None:
    """Refuse a traced function that takes other than ``n`` inputs."""
    placeholders = fx.placeholders()
    if len(placeholders) != n:
        raise GraphError(f"{what} takes {len(placeholders)} inputs "
                         f"({', '.join(str(p.target) for p in placeholders)}); {n} given")
