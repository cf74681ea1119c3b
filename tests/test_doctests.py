"""Every docstring example in the package runs and prints what it says."""

import doctest
import importlib
import pkgutil

import pytest

import graphexplain

MODULES = [m.name for m in pkgutil.walk_packages(graphexplain.__path__, "graphexplain.")
           if not m.name.endswith("__main__")]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    assert doctest.testmod(importlib.import_module(name)).failed == 0


def test_package_docstring():
    assert doctest.testmod(graphexplain).failed == 0
