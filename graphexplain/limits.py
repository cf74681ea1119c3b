"""Resource limits: every input gets its answer or a clear refusal, quickly.

Each limit has a documented default that a user can raise (``Limits(max_nodes=50_000)`` in
Python, ``--limit max_nodes=50000`` on the command line). A limit that is hit raises
:class:`~graphexplain.errors.LimitError` naming the limit and how to raise it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from .errors import LimitError


@dataclass(frozen=True)
class Limits:
    """The resource limits, with their defaults.

    Attributes
    ----------
    max_chars : the length of the program text.
    max_statements : the number of statements.
    max_nodes : the number of nodes in the computation graph.
    max_depth : how deeply parentheses, unary signs and calls may nest.
    max_terms : the number of operators in one statement (``a+b+…`` with 20,000 terms is fine).
    max_int_digits : the number of digits of an integer literal.
    max_exponent : the largest integer exponent folded exactly (``2**2000`` is refused,
        ``x**(10**100)`` too; a symbolic exponent is fine).
    max_formula_ops : the size (``count_ops``) above which a formula in leaf names is not
        expanded; the factored, intermediate-name form is shown instead.
    max_paths : how many paths are listed per leaf; more are counted, not listed.
    """

    max_chars: int = 200_000
    max_statements: int = 2_000
    max_nodes: int = 50_000
    max_depth: int = 100
    max_terms: int = 20_000
    max_int_digits: int = 100
    max_exponent: int = 1_000
    max_formula_ops: int = 500
    max_paths: int = 64

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
