"""The largest programs within the default limits, each answered within max_seconds (issue #12).

    python benchmarks/limits.py            # every probe, as the user runs it (verified, text)
    python benchmarks/limits.py --quick    # the two largest only

The size limits (``graphexplain.limits.Limits``: max_chars 200,000, max_statements 2,000,
max_terms 20,000 terms in a statement, max_nodes 50,000, max_depth 100) admit a program;
``max_seconds`` (30 s) is the backstop for what they do not bound. A program the size
limits admit must get its answer in time, not a refusal: otherwise a default is wrong. Each
probe is a program at (or next to) the limits, run as a whole process with a point, so that
it is evaluated and verified against torch and central differences, and its report printed.
A probe passes when it exits 0 (or 3, a disagreement, which is an answer) within the default
``max_seconds``; exit 2 with ``max_seconds`` in the message is the refusal this guards
against. The seconds are wall-clock on a shared machine: the margin is reported as well.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from graphexplain.limits import DEFAULT  # noqa: E402

PY = sys.executable
GE = [PY, "-m", "graphexplain"]


def wide_sum(n_terms: int) -> tuple[str, list[str]]:
    """``x0 + … + xN``: one statement of ``n_terms`` terms (max_terms counts the terms of a
    chain of one operator), N + 2 nodes."""
    names = [f"x{i}" for i in range(n_terms)]
    return "f = " + "+".join(names) + "\n", names


def products(n_ops: int) -> tuple[str, list[str]]:
    """``w0*x0 + … + wK*xK`` with 2K − 1 ≤ ``n_ops`` operators: 3K + 1 nodes."""
    k = (n_ops + 1) // 2
    text = "f = " + " + ".join(f"w{i}*x{i}" for i in range(k)) + "\n"
    return text, [f"w{i}" for i in range(k)] + [f"x{i}" for i in range(k)]


def neighbours(n_ops: int, statements: int) -> tuple[str, list[str]]:
    """``s_k = a0*a1 + a1*a2 + …`` in several statements of ``n_ops`` operators each, summed
    by the output: the most nodes the character and operator limits allow (shared inputs,
    every product a node)."""
    per = (n_ops + 1) // 2
    rows, names = [], set()
    for s in range(statements):
        terms = [f"a{s * per + i}*a{s * per + i + 1}" for i in range(per)]
        names.update(f"a{s * per + i}" for i in range(per + 1))
        rows.append(f"s{s} = " + "+".join(terms))
    rows.append("f = " + " + ".join(f"s{s}" for s in range(statements)))
    return "\n".join(rows) + "\n", sorted(names, key=lambda n: int(n[1:]))


def chain(statements: int) -> tuple[str, list[str]]:
    """``v1 = tanh(w1*v0 + b1)``, … ``f = v_N``: a network as deep as max_statements."""
    rows = [f"v{k} = tanh(w{k}*v{k - 1} + b{k})" for k in range(1, statements)]
    rows.append(f"f = v{statements - 1}*v{statements - 1}")
    names = ["v0"] + [f"{p}{k}" for k in range(1, statements) for p in ("w", "b")]
    return "\n".join(rows) + "\n", names


def probes(quick: bool) -> list[tuple[str, str, list[str]]]:
    L = DEFAULT
    out = [("sum of max_terms terms", *wide_sum(L.max_terms)),
           ("products, max_terms operators", *products(L.max_terms))]
    if not quick:
        out += [("neighbour products, max_chars", *neighbours(L.max_terms // 2, 3)),
                ("chain of max_statements", *chain(L.max_statements))]
    return out


def run(name: str, text: str, inputs: list[str], folder: Path) -> dict:
    if len(text) > DEFAULT.max_chars:
        raise SystemExit(f"probe '{name}' is over max_chars ({len(text)}); fix the probe")
    program = folder / "program.txt"
    program.write_text(text)
    at = [f"{n}={0.5 + (i % 7) / 10}" for i, n in enumerate(inputs)]
    cmd = [*GE, "explain", "-f", str(program), "--at", *at]
    start = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    refused = p.returncode == 2 and "max_seconds" in p.stderr
    ok = p.returncode in (0, 3) and seconds <= DEFAULT.max_seconds
    return {"name": name, "chars": len(text), "seconds": seconds, "code": p.returncode,
            "refused": refused, "ok": ok, "error": p.stderr.strip().splitlines()[-1:]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the two largest probes only")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        results = [run(name, text, inputs, Path(tmp)) for name, text, inputs in
                   probes(args.quick)]
    print(table(results))
    return 0 if all(r["ok"] for r in results) else 1


def table(results: list[dict]) -> str:
    lines = [f"{'program at the limits':<34} {'chars':>8} {'s':>6} {'exit':>5}  "
             f"(within max_seconds={DEFAULT.max_seconds}, verified)"]
    for r in results:
        note = "refused: " + r["error"][0] if r["refused"] else \
            (r["error"][0] if r["code"] not in (0, 3) and r["error"] else "")
        lines.append(f"{r['name']:<34} {r['chars']:>8} {r['seconds']:>6.2f} {r['code']:>5}  "
                     f"{'PASS' if r['ok'] else 'FAIL'} {note}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
