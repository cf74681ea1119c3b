"""Scalarizing a traced model: one graph node per tensor element, via the op table.

What it does: walks the fx graph of :mod:`.trace` in order and turns each fx node into the
handles of its result (see :mod:`.builder`), through the handlers of :mod:`.table`; then adds
the loss, and the output. The result is the same plain Graph (schema in
:mod:`graphexplain.graph`) that a program gives, so derivation, reports, pictures and
verification need nothing new.

- Every element of a parameter is a ``param`` leaf (``linear.weight[0,0]``, id
  ``linear_weight_0_0``); every element of an example input is an ``input`` leaf that requires
  grad only when the example tensor does, as in torch; targets are ``const`` leaves.
- Intermediate elements are named after the variable they are assigned to in the source
  (``var1 = x + 2`` gives ``var1[0,1]``), else after the fx node (``add[0,1]``).
- A value computed under ``torch.no_grad()`` becomes constants where it leaves the block,
  named after its variable (``c[0,0]``): see :mod:`.cuts`. The cuts that the output still
  depends on are listed in ``G.graph["cuts"]``.
- A non-scalar output needs ``gradient=v``, as ``backward(gradient=v)`` does: the graph's
  output is then vjp = Σₖ vₖ·outₖ, whose gradient is the vector-Jacobian product Jᵀv.

What it does not do: big tensors (a model is refused past ``max_elements`` scalar nodes,
5,000 by default), or anything outside :mod:`.table` (an
:class:`~graphexplain.errors.UnsupportedOpError` naming the op and the module path).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import sympy
import torch
import torch.fx
from torch import nn

from ...errors import GraphError, LimitError, UnsupportedOpError
from ...graph import grad_leaves, validate
from . import cuts
from .builder import (
    MAX_ELEMENTS,
    Builder,
    Refused,
    as_array,
    const,
    identifier,
    interleave,
    is_node,
    scalar,
)
from .load import example_tuple, gradient_tensor
from .table import FUNCTIONS, INPLACE, METHODS, MODULES, SUPPORTED
from .trace import (
    GRAD,
    FxTrace,
    check_arity,
    display_name,
    fx_name,
    fx_trace,
    line_of,
    module_path,
    op_name,
)


@dataclass
class Traced:
    """A model scalarized into a graph, with what the model's own autograd check needs.

    Attributes
    ----------
    graph : the computation graph; ``graph.graph["point"]`` holds the example values, and
        ``graph.graph["cuts"]`` where autograd was stopped (see :mod:`.cuts`).
    point : leaf id → its example value (parameters, inputs, targets).
    model, inputs, loss, target : as given (inputs as a tuple).
    gradient : v of a vector output (float64, the output's shape), or None.
    params : id(tensor) → the array of its leaf ids, for the parameters, buffers and outside
        tensors the model uses (a cache key, never a node id).
    input_leaves : per example input, the array of its leaf ids (None for a number).
    outputs : the handles of the output's elements (the loss, when there is one); with a
        gradient v, the graph's output is vjp = Σₖ vₖ·outputsₖ.
    info : what the report's header says about the model.
    """

    graph: nx.DiGraph
    point: dict[str, float]
    model: object
    inputs: tuple
    loss: object
    target: object
    gradient: torch.Tensor | None
    params: dict[int, np.ndarray]
    input_leaves: list
    outputs: np.ndarray
    info: dict = field(default_factory=dict)
    # the random-number state when the model was traced: a torch.randn inside the model is
    # a constant of the trace, so the model's own check must draw the same numbers
    rng_state: torch.Tensor | None = None

    @property
    def cuts(self) -> list[dict]:
        """Where the graph was cut (``torch.no_grad()``, ``.detach()``)."""
        return self.graph.graph.get("cuts", [])


# --- the walk over the fx graph ---------------------------------------------------------------


def run(b: Builder, fx: FxTrace, inputs: list, root: str):
    """Walk the fx nodes in order, scalarizing each; returns the handles of the output."""
    env: dict = {}
    placeholders = iter(inputs)
    for node in fx.gm.graph.nodes:
        if node.op == "output":
            return torch.fx.node.map_arg(node.args[0], _reader(b, fx, env, node))
        if node.op == "placeholder":
            env[node] = next(placeholders)
        elif node.op == "get_attr":
            env[node] = attribute(b, fx.gm, node.target)
        else:
            env[node] = call(b, fx, node, env, root)
    raise GraphError(f"{root}: the traced graph has no output")


def _reader(b: Builder, fx: FxTrace, env: dict, user: torch.fx.Node) -> Callable:
    """How ``user`` sees its arguments: as they are, except that a value computed without
    grad, used where grad is on, is constants (the cut)."""

    def read(a: torch.fx.Node):
        if user.meta.get(GRAD) is not None or a.meta.get(GRAD) is None or \
                not a.op.startswith("call_"):
            return env[a]
        return sever(b, fx, a, env[a])

    return read


def sever(b: Builder, fx: FxTrace, node: torch.fx.Node, value):
    """The value of a node computed under ``torch.no_grad()``, as constants (made once)."""
    if node not in b.severed:
        name = fx.names.get(node) or fx_name(fx.gm, node)
        where = (fx.statements.get(node), line_of(node))

        def one(v):
            return cuts.cut(b, v, name, node.meta[GRAD], *where) if isinstance(v, np.ndarray) \
                else v

        b.severed[node] = torch.fx.node.map_aggregate(value, one)
    return b.severed[node]


def _name(b: Builder, fx: FxTrace, node: torch.fx.Node) -> str:
    """The base name of a node's elements: its variable, else what it detaches
    (``x_detached``, ``x_data``), else fx's name. Inside a ``no_grad`` block it is private
    (``c_no_grad``): the constants made where the value leaves the block take the variable's
    own name."""
    preferred = fx.names.get(node) or _detached_name(fx, node)
    name = preferred if preferred and preferred not in b.bases else fx_name(fx.gm, node)
    mode = node.meta.get(GRAD)
    return name if mode is None else f"{name}_{mode}"


def _detached_name(fx: FxTrace, node: torch.fx.Node) -> str | None:
    """``x.detach()``, ``x.detach_()``, ``x.requires_grad_(False)`` → ``x_detached``;
    ``x.data`` → ``x_data``; None for any other node."""
    tensor = node.args[0] if node.args else None
    if not isinstance(tensor, torch.fx.Node):
        return None
    base = fx.names.get(tensor) or fx_name(fx.gm, tensor)
    if node.target in ("detach", "detach_", "requires_grad_", torch.detach):
        return f"{base}_detached"
    return f"{base}_data" if node.target is getattr and node.args[1:] == ("data",) else None


def call(b: Builder, fx: FxTrace, node: torch.fx.Node, env: dict, root: str):
    """Scalarize one ``call_*`` node: its handler over its arguments' handles."""
    read = _reader(b, fx, env, node)
    args, kwargs = torch.fx.node.map_arg(node.args, read), torch.fx.node.map_arg(node.kwargs, read)
    b.where = (fx.statements.get(node), line_of(node))
    path = module_path(node, root)
    if node.op == "call_module":
        m = fx.gm.get_submodule(node.target)
        return invoke(MODULES.get(type(m)), type(m).__name__, path, b, _name(b, fx, node),
                      node.target, m, *args, **kwargs)
    if node.op == "call_method" and node.target in INPLACE:
        return _inplace(b, fx, node, env, path, args, kwargs)
    table = METHODS if node.op == "call_method" else FUNCTIONS
    try:
        handler = table.get(node.target)
    except TypeError:  # an unhashable target
        handler = None
    return invoke(handler, op_name(node), path, b, _name(b, fx, node), *args, **kwargs)


def _inplace(b: Builder, fx: FxTrace, node: torch.fx.Node, env: dict, path: str, args,
             kwargs):
    """``x.detach_()``, ``x.requires_grad_(False)``: every later use of x sees the result."""
    out = invoke(METHODS[node.target], op_name(node), path, b, _name(b, fx, node), *args,
                 **kwargs)
    if isinstance(node.args[0], torch.fx.Node):
        env[node.args[0]] = out
    return out


def invoke(handler: Callable | None, op: str, path: str, b: Builder, name: str, *args,
           **kwargs):
    """Call a handler; an unknown op, or arguments it does not take, is an error naming the op
    and the module path."""
    where = f"unsupported op '{op}' at module path '{path}'"
    if handler is None:
        raise UnsupportedOpError(f"{where}; supported: {SUPPORTED}")
    try:
        bound = inspect.signature(handler).bind(b, name, *args, **kwargs)
    except TypeError as e:
        raise UnsupportedOpError(f"{where}: these arguments are not supported ({e})") from None
    try:
        return handler(*bound.args, **bound.kwargs)
    except Refused as e:
        raise UnsupportedOpError(f"{where}: {e} is not supported") from None


def attribute(b: Builder, gm: torch.fx.GraphModule, target: str):
    """A ``get_attr`` node: a parameter (param leaves), a tensor (const leaves) or a value."""
    obj = functools.reduce(getattr, target.split("."), gm)
    if isinstance(obj, nn.Parameter):
        return b.param(target, obj)
    if isinstance(obj, torch.Tensor) and id(obj) not in b.params:
        b.params[id(obj)] = _outside_tensor(b, b.names.get(id(obj), target), obj)
    return b.params[id(obj)] if isinstance(obj, torch.Tensor) else obj


def _outside_tensor(b: Builder, name: str, obj: torch.Tensor) -> np.ndarray:
    """A tensor the model uses that is not a parameter: a buffer, or a global like the
    seed's ``w`` and ``b`` (a parameter when it requires grad, else constants)."""
    if obj.requires_grad:
        b.info["parameters"][name] = tuple(obj.shape)
        return b.leaves(identifier(name), name, obj, "param", True)
    b.info["constants"][name] = tuple(obj.shape)
    return b.leaves(identifier(name, "c"), name, obj, "const", False)


def tensor_names(fn) -> dict[int, str]:
    """The names a function gives the tensors it uses from outside (globals, closures)."""
    if not inspect.isfunction(fn):
        return {}
    try:
        found = inspect.getclosurevars(fn)
    except (TypeError, ValueError):
        return {}
    return {id(v): k for k, v in {**found.globals, **found.nonlocals}.items()
            if isinstance(v, torch.Tensor)}


# --- the whole model: inputs, loss, output ----------------------------------------------------


def _check_size(model, inputs: tuple, target, max_elements: int) -> None:
    """Refuse big models before tracing: each element will be a node."""
    tensors = [x for x in (*inputs, target) if isinstance(x, torch.Tensor)]
    if isinstance(model, nn.Module):
        tensors += list(model.parameters())
    size = sum(t.numel() for t in tensors)
    if size > max_elements:
        raise LimitError(f"the model's parameters, inputs and targets have {size} elements, "
                         f"more than max_elements={max_elements}; graphexplain explains small "
                         "models, one node per element: use smaller tensors, or raise "
                         "max_elements")


def _input_leaves(b: Builder, placeholder: torch.fx.Node, x):
    """An example input's leaves: requires grad only when the example tensor does."""
    if not isinstance(x, torch.Tensor):
        return scalar(const(x))
    name = str(placeholder.target).lstrip("*")
    b.info["inputs"][name] = (tuple(x.shape), x.requires_grad)
    return b.leaves(name, name, x, "input", x.requires_grad)


def _target_handles(b: Builder, target) -> np.ndarray:
    """Targets: const leaves (no grad), or numbers for integer class indices."""
    if not isinstance(target, torch.Tensor):
        return as_array(target)
    b.info["target"] = tuple(target.shape)
    if target.dtype.is_floating_point:
        return b.leaves("y", "y", target, "const", False)
    out = np.empty(tuple(target.shape), dtype=object)
    for idx in np.ndindex(out.shape):
        out[idx] = sympy.Integer(int(target[idx]))
    return out


def _apply_loss(b: Builder, loss, out, target):
    """loss(output, target): a known loss module directly, any other callable traced."""
    if target is None:
        raise GraphError("a loss needs a target: give target=… (the file's `target`)")
    y = _target_handles(b, target)
    b.info["loss"] = _loss_text(loss)
    if type(loss) in MODULES:
        return invoke(MODULES[type(loss)], type(loss).__name__, "loss", b, "loss", "loss",
                      loss, out, y)
    if not callable(loss):
        raise GraphError(f"loss must be a loss module or a function, not {type(loss).__name__}")
    fx = fx_trace(loss)
    check_arity(fx, 2, "the loss")
    return run(b, fx, [out, y], "loss")


def _loss_text(loss) -> str:
    reduction = getattr(loss, "reduction", None)
    return display_name(loss) + (f"(reduction='{reduction}')" if reduction else "")


def _output(b: Builder, out: np.ndarray, v: torch.Tensor | None) -> str:
    """The output node: the one element of a scalar, or vjp = Σₖ vₖ·outₖ with v given."""
    if v is not None:
        weights = [const(float(x)) for x in v.flatten()]
        h = b.node(b.base("vjp"), (), "linear", interleave(weights, out.flat))
    elif out.size == 1:
        h = out.flat[0]
        if is_node(h) and b.G.nodes[h]["kind"] != "op":
            _refuse_cut_output(b, h)
            h = b.node(b.base("out"), (), "identity", [h])
    else:
        raise GraphError(f"the output has shape {tuple(out.shape)}, not one number: like "
                         "backward(), explaining it needs gradient=v of that shape, and then "
                         "shows the vector-Jacobian product Jᵀv (--gradient v1,v2,… on the "
                         "command line)")
    if not is_node(h):
        raise GraphError("the output is a constant: it depends on no input or parameter")
    return h


def _refuse_cut_output(b: Builder, h: str) -> None:
    """An output that is itself a cut constant: torch's backward() fails on it too."""
    why = b.G.nodes[h].get("cut")
    if why:
        raise GraphError(f"the output '{b.G.nodes[h]['label']}' is {cuts.REASONS[why]}: it "
                         "does not require grad, so there is nothing to explain (torch's "
                         "backward() fails on it too)")


def _finish(b: Builder, output: str) -> tuple[nx.DiGraph, dict]:
    """Keep what the output depends on, as :func:`graphexplain.graph.build` does, and the
    cuts it still depends on."""
    G = b.G
    keep = nx.ancestors(G, output) | {output}
    G.remove_nodes_from([n for n in list(G) if n not in keep])
    G.graph["output"] = output
    point = {n: v for n, v in b.point.items() if n in keep}
    G.graph["point"] = point
    G.graph["cuts"] = cuts.finish(G, b.cuts)
    _refuse_all_cut(G)
    return validate(G), point


def _refuse_all_cut(G: nx.DiGraph) -> None:
    """Cuts that leave nothing requiring grad: torch's backward() would fail."""
    severed = [r for r in G.graph["cuts"] if r["depends_on"]]
    if severed and not grad_leaves(G):
        raise GraphError(f"nothing the output depends on requires grad any more: "
                         f"{cuts.sentence(severed[0])} (torch's backward() fails here too)")


def scalarize_model(module_or_fn, example_inputs, loss=None, target=None, gradient=None,
                    max_elements: int = MAX_ELEMENTS) -> Traced:
    """Trace and scalarize a model (see
    :func:`~graphexplain.nn.torch.explain.explain_module` for the arguments)."""
    inputs = example_tuple(example_inputs)
    if target is not None and loss is None:
        raise GraphError("a target needs a loss: give loss=… (e.g. nn.MSELoss())")
    _check_size(module_or_fn, inputs, target, max_elements)
    b = Builder(max_elements)
    b.names = tensor_names(module_or_fn)
    rng_state = torch.get_rng_state()
    fx, root = fx_trace(module_or_fn), display_name(module_or_fn)
    check_arity(fx, len(inputs), root)
    leaves = [_input_leaves(b, p, x) for p, x in zip(fx.placeholders(), inputs, strict=True)]
    out = run(b, fx, leaves, root)
    if loss is not None:
        out = _apply_loss(b, loss, out, target)
    if not isinstance(out, np.ndarray):
        raise GraphError(f"{root} must return one tensor, not {type(out).__name__}")
    v = None if gradient is None else gradient_tensor(gradient, out.shape)
    G, point = _finish(b, _output(b, out, v))
    info = {"name": root, "output_shape": tuple(out.shape), **b.info}
    return Traced(G, point, module_or_fn, inputs, loss, target, v, dict(b.params),
                  [x if isinstance(x, np.ndarray) and isinstance(i, torch.Tensor) else None
                   for x, i in zip(leaves, inputs, strict=True)], out, info, rng_state)


def module_graph(module_or_fn, example_inputs, loss=None, target=None, gradient=None,
                 max_elements: int = MAX_ELEMENTS) -> nx.DiGraph:
    """The scalarized computation graph of a model; ``G.graph["point"]`` holds the example
    values of its leaves, ready for ``explain_graph(G, at=G.graph["point"])``.

    Examples
    --------
    >>> import torch
    >>> G = module_graph(lambda x: (x * 2).sum(), (torch.ones(2),))
    >>> sorted(G.nodes)
    ['mul_0', 'mul_1', 'sum1', 'x_0', 'x_1']
    """
    return scalarize_model(module_or_fn, example_inputs, loss, target, gradient,
                           max_elements).graph
