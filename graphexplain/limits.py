"""Resource limits: every input gets its answer or a clear refusal, quickly.

Each limit has a documented default that a user can raise (``Limits(max_nodes=50_000)`` in
Python, ``--limit max_nodes=50000`` on the command line). A limit that is hit raises
:class:`~graphexplain.errors.LimitError` naming the limit and how to raise it.

The size limits are checked before the work they bound: the program's length and its number of
statements before it is split, operators and integer digits before Python reads a statement,
nesting as the tree is walked, the graph's size before it is built. Constants are folded in
float64 first, so ``exp(exp(exp(100)))`` is refused at once instead of evaluated exactly.
:func:`time_budget` is the backstop for whatever the size limits do not bound.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace

from .errors import LimitError


@dataclass(frozen=True)
class Limits:
    """The resource limits, with their defaults.

    Attributes
    ----------
    max_chars : the length of the program text (200,000 characters).
    max_statements : the number of statements (2,000).
    max_nodes : the number of nodes in the computation graph (50,000).
    max_depth : how deeply parentheses, unary signs, powers and calls may nest (100).
    max_terms : the number of operators in one statement (20,000: ``a+b+…`` with 10,000
        terms is fine). CPython's own parser stops a chain near 60,000 terms whatever this is.
    max_factors : the number of factors in one product (100). Each factor's local partial is
        the product of all the others, so the explanation of a product grows as its square.
    max_int_digits : the number of digits of an integer, as written or folded (100).
    max_exponent : the largest integer exponent (1,000: ``2**2000`` is refused, and
        ``x**(10**100)`` too; a symbolic exponent is fine).
    max_formula_ops : the size (``count_ops``) above which a formula in leaf names is not
        expanded; the factored, intermediate-name form is shown instead (500).
    max_paths : how many paths are listed per leaf; more are counted, not listed (64).
    max_seconds : the wall-clock budget of one command-line run (30 s; 0 for none), the
        backstop for work the size limits do not bound; see :func:`time_budget`. The largest
        programs the size limits admit take up to about 12 s on two shared cores
        (``benchmarks/limits.py``), and each must get its answer, not a refusal.
    max_render_nodes : the largest graph drawn (3,000 nodes): Graphviz's layout of 10,000
        nodes takes minutes, and no one reads it.
    """

    max_chars: int = 200_000
    max_statements: int = 2_000
    max_nodes: int = 50_000
    max_depth: int = 100
    max_terms: int = 20_000
    max_factors: int = 100
    max_int_digits: int = 100
    max_exponent: int = 1_000
    max_formula_ops: int = 500
    max_paths: int = 64
    max_seconds: int = 30
    max_render_nodes: int = 3_000

    def with_overrides(self, pairs: dict[str, str]) -> Limits:
        """A copy with ``name=value`` overrides, as given on the command line."""
        known = {f.name for f in fields(self)}
        values = {}
        for name, text in pairs.items():
            if name not in known:
                names = ", ".join(sorted(known))
                raise LimitError(f"unknown limit '{name}'; known limits: {names}")
            try:
                values[name] = int(text)
            except ValueError:
                raise LimitError(f"limit {name} must be an integer, got '{text}'") from None
            if values[name] < 0:
                raise LimitError(f"limit {name} must not be negative, got {values[name]}")
        return replace(self, **values)


DEFAULT = Limits()


def exceeded(what: str, limit_name: str, value: int) -> LimitError:
    """The error for a limit that is hit, saying how to raise it."""
    return LimitError(
        f"{what} exceeds the limit {limit_name}={value}; "
        f"raise it with --limit {limit_name}=N if this is intended"
    )


@contextmanager
def time_budget(seconds: float, what: str = "the run"):
    """Raise :class:`LimitError` (``max_seconds``) in the block once ``seconds`` have passed.

    A wall-clock backstop for the command line: whatever an input costs, its run ends in
    time with a one-line refusal. It uses ``SIGALRM``, so it works in the main thread of a
    POSIX process; elsewhere, with ``seconds`` 0, or inside another timer (a caller's own
    guard), it does nothing.

    Examples
    --------
    >>> with time_budget(5):
    ...     sum(range(10))
    45
    """
    usable = (seconds and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable or signal.getitimer(signal.ITIMER_REAL)[0]:
        yield
        return

    def expired(signum, frame):
        raise LimitError(f"{what} did not finish within max_seconds={seconds:g}; raise it "
                         "with --limit max_seconds=N (0 for no limit) if this is intended")

    old = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
