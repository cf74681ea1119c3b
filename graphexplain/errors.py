"""The errors graphexplain raises for bad input.

Every error a user can cause is a :class:`GraphExplainError`; its message names the thing and
the place, and the command line prints it as one line, ``error: …``, with exit code 2.
``assert`` is used only for internal invariants, never for user input.
"""


class GraphExplainError(Exception):
    """Base class of every error caused by the input (exit code 2 on the command line).

    Its text is always one line: a control character that came in with the input (a newline
    in ``--output``, a NUL in a file name) is shown escaped, ``\\n``, ``\\x00``, so that the
    command line's ``error: …`` stays one line that cannot forge others.
    """

    def __str__(self) -> str:
        return one_line(super().__str__())


def one_line(text: str) -> str:
    """``text`` with every non-printable character escaped as Python writes it (``\\n``)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


class ParseError(GraphExplainError):
    """The program text is not in the accepted language; the message gives line and column."""

    def __init__(self, message: str, line: int | None = None, col: int | None = None):
        self.line, self.col = line, col
        where = f"line {line}, column {col}: " if line is not None and col is not None else ""
        super().__init__(where + message)


class UnsupportedOpError(GraphExplainError):
    """An operation that the op table (or the model importer) does not know."""


class GraphError(GraphExplainError):
    """The graph is malformed: a cycle, a name assigned twice, no or several outputs, …"""


class PointError(GraphExplainError):
    """The evaluation point is wrong: missing, unknown or malformed values."""


class LimitError(GraphExplainError):
    """The input exceeds a resource limit (size, depth, number magnitude)."""


class RenderError(GraphExplainError):
    """A diagram cannot be written (unknown format, no Graphviz for PNG/PDF, …)."""
