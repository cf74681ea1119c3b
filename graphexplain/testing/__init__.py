"""Assertions for pytest: a hand-written gradient, backward pass or training step, checked
against graphexplain's derivation, with a message that says what went wrong.

- :func:`assert_gradients` compares values you computed (by hand, with numpy) with the
  derivation of a program, an MLP spec or a torch module, at one point.
- :func:`check_backward` runs your backward function at several drawn points and compares
  every gradient it returns; several points make the diagnosis sharp.
- :func:`check_autograd_function` checks a custom ``torch.autograd.Function``'s hand-written
  ``backward`` against the derivation of its ``forward``.
- :func:`check_sgd` runs your training step for a few steps and compares every update with
  w ← w − α·∂L/∂w; it recognises gradients accumulated because ``.grad`` was never zeroed
  (the seed's loop, which zeroes ``w.data`` instead).

The modules: :mod:`.compare` (naming entries, comparing, the message), :mod:`.gradients`,
:mod:`.autograd`, :mod:`.sgd`, and :mod:`.artifacts` (the pytest plugin's diagrams).

A failure raises :class:`GradientMismatch` (an ``AssertionError``), whose message names each
wrong entry, the expected formula and value, the diagnosis (a missing path, a sign, a factor,
a transposed index, …: see :mod:`graphexplain.diagnosis`) and the paths.

Names: a program's names or labels (``w1[1,2]``); an MLP's weights ``wN`` and biases ``bN``
as whole arrays (torch's (out, in) layout by default, ``layout="seed"`` for the seed's [i,j])
or entries by label; a torch module's parameters by name (``linear.weight``) or entry
(``linear.weight[0,0]``).

Examples
--------
>>> at = {"a": 1, "b": 2, "c": 3}
>>> _ = assert_gradients("J(a,b,c) = 3(a+bc)", {"a": 3, "b": 9, "c": 6}, at=at)
>>> try:
...     assert_gradients("J(a,b,c) = 3(a+bc)", {"b": 6}, at=at)
... except GradientMismatch as e:
...     print(str(e).splitlines()[1])
  ∂J/∂b: got 6, expected 9 = 3·c
"""

from .autograd import check_autograd_function
from .compare import LAYOUTS, GradientMismatch, Wrong, explain_target
from .gradients import assert_gradients, check_backward
from .sgd import SGDCheck, check_sgd

__all__ = ["LAYOUTS", "GradientMismatch", "SGDCheck", "Wrong", "assert_gradients",
           "check_autograd_function", "check_backward", "check_sgd", "explain_target"]
