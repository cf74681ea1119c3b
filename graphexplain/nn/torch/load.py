"""Model files, ``FILE.py:NAME``, and the inputs a model is explained at.

What it does: runs a model file (**this executes its code**, as ``python FILE.py`` would,
except its ``if __name__ == "__main__":`` block), finds NAME in it (an ``nn.Module`` class,
made with no arguments; an ``nn.Module``; or a function), and reads what the file says about
the point to explain it at: ``example_inputs`` (required), ``loss``, ``target`` and
``gradient`` (v for a vector output, as ``backward(gradient=v)``). It also checks example
inputs and v as given in Python.

What it does not do: unpickle anything, or trace the model (:mod:`.trace`). Errors are one
line: a :class:`ModelFileError` names the file and what is missing.
"""

from __future__ import annotations

import inspect
import math
import runpy
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ...errors import GraphError, GraphExplainError, PointError


class ModelFileError(GraphExplainError):
    """A model file that cannot be used: missing, failing, or without NAME or example_inputs."""


@dataclass
class Loaded:
    """What a model file provides (see :func:`load`)."""

    name: str
    model: object
    example_inputs: tuple
    loss: object = None
    target: object = None
    gradient: object = None


def example_tuple(example_inputs) -> tuple:
    """The example inputs as a tuple of tensors or numbers (one tensor is a 1-tuple).

    >>> len(example_tuple(torch.ones(2)))
    1
    """
    inputs = (example_inputs,) if isinstance(example_inputs, torch.Tensor) else example_inputs
    if not isinstance(inputs, tuple | list):
        raise GraphError("example_inputs must be a tensor or a tuple of tensors, "
                         f"not {type(example_inputs).__name__}")
    for x in inputs:
        _check_input(x)
    return tuple(inputs)


def _check_input(x) -> None:
    if not isinstance(x, torch.Tensor | int | float):
        raise GraphError(f"example input of type {type(x).__name__}: give tensors or numbers")
    if isinstance(x, torch.Tensor) and (x.numel() == 0 or x.is_complex()):
        raise GraphError(f"example input of shape {tuple(x.shape)} and dtype {x.dtype}: give "
                         "non-empty real tensors")


def gradient_tensor(gradient, shape: tuple) -> torch.Tensor:
    """v as float64 in the output's shape (a flat list of the right length is reshaped).

    >>> gradient_tensor([1, 2, 3, 4], (2, 2)).tolist()
    [[1.0, 2.0], [3.0, 4.0]]
    """
    try:
        v = torch.as_tensor(gradient, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as e:
        raise PointError(f"gradient: {e}") from None
    if v.numel() != math.prod(shape):
        raise PointError(f"gradient has {v.numel()} numbers, but the output has shape "
                         f"{tuple(shape)} ({math.prod(shape)} numbers)")
    if not torch.isfinite(v).all():
        raise PointError("gradient: every number must be finite")
    return v.reshape(shape)


def _run_file(path: Path) -> dict:
    """Run the file (this executes its code) and return its globals."""
    if not path.is_file():
        raise ModelFileError(f"cannot read {path}: no such file")
    try:
        return runpy.run_path(str(path), run_name="graphexplain_model")
    except (Exception, SystemExit) as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise ModelFileError(f"running {path} failed: {type(e).__name__}: {reason}") from None


def is_loss(v) -> bool:
    """Whether ``v`` is a torch loss module (``nn.MSELoss()``, …)."""
    return isinstance(v, nn.modules.loss._Loss)


def _candidates(namespace: dict) -> list[str]:
    """The names in a file that could be NAME: modules, module classes, functions."""
    out = []
    for k, v in namespace.items():
        if k.startswith("_"):
            continue
        is_class = isinstance(v, type) and issubclass(v, nn.Module) and \
            v.__module__ == "graphexplain_model"
        is_fn = inspect.isfunction(v) and v.__module__ == "graphexplain_model"
        if is_class or is_fn or (isinstance(v, nn.Module) and not is_loss(v)):
            out.append(k)
    return out


def model_named(path: Path, namespace: dict, name: str):
    """NAME as a model: a module class (instantiated with no arguments), a module, or a
    function."""
    if name not in namespace:
        have = ", ".join(_candidates(namespace)) or "none"
        raise ModelFileError(f"{path} defines no '{name}' (models and functions in it: {have})")
    obj = namespace[name]
    if isinstance(obj, type) and issubclass(obj, nn.Module):
        try:
            return obj()
        except Exception as e:
            raise ModelFileError(f"cannot make {name}() with no arguments: "
                                 f"{type(e).__name__}: {e}") from None
    if isinstance(obj, nn.Module) or callable(obj):
        return obj
    raise ModelFileError(f"'{name}' in {path} is a {type(obj).__name__}, not an nn.Module, a "
                         "module class or a function")


def _split(spec: str) -> tuple[Path, str]:
    """``FILE.py:NAME`` → (FILE.py, NAME)."""
    file, sep, name = spec.rpartition(":")
    if not sep or not file or not name.isidentifier():
        raise ModelFileError(f"expected FILE.py:NAME (e.g. examples/seed_linear_regression.py:Lr),"
                             f" got '{spec}'")
    return Path(file), name


def load(spec: str) -> Loaded:
    """Load ``FILE.py:NAME``. **This runs FILE's code**, as ``python FILE.py`` would (except
    for its ``if __name__ == "__main__":`` block); only load files you trust.

    NAME is an ``nn.Module`` class (instantiated with no arguments), an ``nn.Module``
    instance, or a function. The file defines, at module level, ``example_inputs`` (a tensor or
    a tuple of tensors; required) and optionally ``loss`` (e.g. ``nn.MSELoss()``), ``target``
    and ``gradient`` (v for a vector output).
    """
    path, name = _split(spec)
    namespace = _run_file(path)
    model = model_named(path, namespace, name)
    if namespace.get("example_inputs") is None:
        raise ModelFileError(f"{path} defines no example_inputs: add e.g. "
                             f"example_inputs = (torch.rand(5, 1),) to say what to trace "
                             f"{name} on")
    loss = namespace.get("loss")
    if isinstance(loss, type) and issubclass(loss, nn.Module):
        loss = loss()
    return Loaded(name, model, example_tuple(namespace["example_inputs"]), loss,
                  namespace.get("target"), namespace.get("gradient"))
