"""The torch import is a package with one module per stage (graphexplain.nn.torch): the real
torch is imported, imports flow one way, functions stay small, the old module path works."""

import ast
import importlib
import statistics
import sys
from pathlib import Path

import pytest
import torch

import graphexplain
import graphexplain.nn.torch as package

PACKAGE = Path(package.__file__).parent
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")

#: Each module may import (relatively) only the ones before it in this order.
ORDER = ["load", "trace", "builder", "cuts", "tensor_ops", "losses", "table", "scalarize",
         "check", "jacobian", "summary", "explain"]


def test_one_module_per_stage():
    assert set(MODULES) == set(ORDER)
    for stage in ("load", "trace", "scalarize", "check"):
        assert (PACKAGE / f"{stage}.py").is_file()


@pytest.mark.parametrize("name", MODULES)
def test_every_module_says_what_it_does_and_does_not(name):
    doc = importlib.import_module(f"graphexplain.nn.torch.{name}").__doc__
    assert "What it does" in doc and "does not" in doc


@pytest.mark.parametrize("name", MODULES)
def test_import_torch_in_the_package_is_the_real_torch(name):
    module = importlib.import_module(f"graphexplain.nn.torch.{name}")
    if hasattr(module, "torch"):
        assert module.torch is sys.modules["torch"] is torch
        assert "graphexplain" not in module.torch.__file__
    assert hasattr(torch, "fx") and hasattr(torch.nn, "Linear")


def _relative_imports(name: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{name}.py").read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            out |= {node.module} if node.module else {a.name for a in node.names}
    return out


@pytest.mark.parametrize("name", ORDER)
def test_imports_flow_one_way(name):
    allowed = set(ORDER[:ORDER.index(name)])
    assert _relative_imports(name) <= allowed, name


def test_functions_are_small():
    lengths = []
    for name in MODULES:
        tree = ast.parse((PACKAGE / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                body = node.body[1:] if ast.get_docstring(node) else node.body
                lengths.append(body[-1].end_lineno - body[0].lineno + 1)
    assert statistics.median(lengths) < 10
    assert max(lengths) <= 30


def test_old_module_path_and_top_level_still_work():
    from graphexplain.nn import torch_model

    assert torch_model.explain_module is package.explain_module
    assert torch_model.explain_file is package.explain_file
    assert torch_model.trace is package.scalarize_model
    assert graphexplain.explain_module is package.explain_module
    e = graphexplain.explain_module(lambda x: (x * x).sum(),
                                    (torch.tensor([3.0], requires_grad=True),))
    assert e.gradients["x_0"]["value"] == 6.0 and e.verification.ok is True
