"""A coverage-guided fuzzer for the parser (optional; needs ``pip install atheris``).

    python tests/fuzz/atheris_parse.py -runs=100000 [-max_len=4096] [corpus_dir]

libFuzzer mutates bytes toward new branches of graphexplain (only graphexplain is
instrumented); each input, decoded as text, goes through parse → build → derive. Anything
but a GraphExplainError with a one-line message is a crash, which libFuzzer reports with the
input that caused it (``crash-…`` in the current folder).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["graphexplain"]):
    from graphexplain.derive import derive
    from graphexplain.errors import GraphExplainError
    from graphexplain.graph import build
    from graphexplain.parse import parse

#: Seeds: the seed's examples and a few hostile forms, so mutation starts near the language.
SEEDS = ["J(a,b,c) = 3(a+bc)", "u = a + v; v = b*c; J = 3*u", "f = elu(x, alpha=2) * y",
         "f = x**(10**100)", "f = __import__('os')", "f = sigmoid(w*x + b)^2 / 2"]


def test_one_input(data: bytes) -> None:
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(len(data))
    try:
        derive(build(parse(text)))
    except GraphExplainError as e:
        message = str(e)
        if not message or "\n" in message:
            raise AssertionError(f"a refusal of more than one line: {message!r}") from None


def main() -> None:
    argv = list(sys.argv)
    if not any(not a.startswith("-") for a in argv[1:]):  # no corpus given: start from SEEDS
        corpus = Path(tempfile.mkdtemp(prefix="graphexplain-corpus-"))
        for k, seed in enumerate(SEEDS):
            (corpus / f"seed{k}").write_text(seed)
        argv.append(str(corpus))
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
