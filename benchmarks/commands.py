"""Whole-process benchmarks (issue #12): what the user waits for, output included.

    python benchmarks/commands.py            # every row, median of 3, alternating
    python benchmarks/commands.py --quick    # one round (a smoke run)

Each row times a ``graphexplain`` command as a process, from start to exit with its output
written, against a baseline process measured in the same run, the two alternating so that
both see the same load. Ratios, not seconds, are the targets (the machine is shared):

- ``mlp --layers 32,64,64,10 --format json`` and ``--format text`` (verified, as the user
  runs them) ≤ 2× bare reverse-mode sympy on the same network printing every statement and
  gradient (``baseline.py``, as a process);
- ``explain -f`` of ``w0*x0 + … + w4999*x4999``, symbolic only, ≤ 2× sympy's Add and Mul
  built from the same text (split on ``+`` and ``*``), one reverse sweep, every gradient
  printed;
- ``explain -f`` of a 10,000-term sum, verified, ≤ 3× the import floor of sympy, networkx
  and torch;
- ``torch`` of a 212-parameter model (Linear(8,16), ReLU, Linear(16,4), CrossEntropyLoss,
  batch 4) ``--format json`` ≤ 2× the import floor, and with ``--render`` ≤ 3×;
- ``graphexplain --help`` and a symbolic-only ``explain``: their times against ``python -c
  pass`` and ``import sympy, networkx`` (the start-up floor, reported), and their imports
  (no torch).

Peak RSS of every command is reported (``resource.getrusage`` of the child). The package is
byte-compiled first, as an installed package is (``scripts/setup`` does the same): otherwise,
where ``PYTHONDONTWRITEBYTECODE`` is set, every command would compile our modules again.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable
GE = [PY, "-m", "graphexplain"]

MODEL = '''\
import torch
from torch import nn

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(8, 16)
        self.out = nn.Linear(16, 4)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))


example_inputs = torch.randn(4, 8)
loss = nn.CrossEntropyLoss()
target = torch.tensor([0, 1, 2, 3])
'''

BARE_MLP = '''\
import sys
sys.path.insert(0, {here!r})
import baseline
program = baseline.mlp_adjoints((32, 64, 64, 10))
out = sys.stdout
for symbol, expr in program.items():
    out.write(f"{{symbol}} = {{expr}}\\n")
'''

BARE_SUM = '''\
import sys
import sympy
text = open(sys.argv[1]).read().split("=", 1)[1]
terms = []
for term in text.split("+"):
    factors = [sympy.Symbol(f.strip()) for f in term.split("*")]
    terms.append(sympy.Mul(*factors))
f = sympy.Add(*terms)
# one reverse sweep: ∂f/∂term = 1, ∂term/∂factor = the other factor
grads = {}
for term in f.args:
    for factor in term.args:
        grads[factor] = term / factor
out = sys.stdout
for symbol, expr in grads.items():
    out.write(f"df/d{symbol} = {expr}\\n")
'''


@dataclass
class Row:
    name: str
    ours: list[float]
    base: list[float]
    rss_mib: float
    target: float
    baseline: str

    @property
    def ratio(self) -> float:
        return statistics.median(self.ours) / statistics.median(self.base)

    @property
    def ok(self) -> bool:
        return self.ratio <= self.target


def run(cmd: list[str], stdin: str | None = None) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of one process, its output written to a file."""
    probe = ("import resource, subprocess, sys, time\n"
             "t = time.perf_counter()\n"
             "with open(sys.argv[1], 'w') as out, open(sys.argv[2]) as inp:\n"
             "    p = subprocess.run(sys.argv[3:], stdout=out, stdin=inp)\n"
             "print(time.perf_counter() - t, "
             "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, p.returncode)")
    with tempfile.TemporaryDirectory() as tmp:
        inp = Path(tmp) / "stdin"
        inp.write_text(stdin or "")
        res = subprocess.run([PY, "-c", probe, str(Path(tmp) / "stdout"), str(inp), *cmd],
                             capture_output=True, text=True, check=True)
    seconds, rss, code = res.stdout.split()
    if int(code) not in (0, 3):
        raise RuntimeError(f"{' '.join(cmd)} exited {code}")
    return float(seconds), float(rss)


def alternate(name, ours, base, target, baseline, rounds) -> Row:
    """Run ours and the baseline in turn, ``rounds`` times each."""
    times_ours, times_base, rss = [], [], 0.0
    for _ in range(rounds):
        s, r = run(*ours)
        times_ours.append(s)
        rss = max(rss, r)
        times_base.append(run(*base)[0])
    return Row(name, times_ours, times_base, rss, target, baseline)


def byte_compile() -> None:
    """Compile the package's modules, as pip does when it installs one."""
    package = HERE.parent / "graphexplain"
    subprocess.run([PY, "-m", "compileall", "-q", str(package)], check=True,
                   stdout=subprocess.DEVNULL)


def rows(rounds: int, folder: Path) -> list[Row]:
    byte_compile()
    floor = ([PY, "-c", "import sympy, networkx, torch"],)
    bare_mlp = ([PY, "-c", BARE_MLP.format(here=str(HERE))],)
    products = folder / "products.txt"
    products.write_text("f = " + " + ".join(f"w{i}*x{i}" for i in range(5000)) + "\n")
    big_sum = folder / "sum.txt"
    big_sum.write_text("f = " + "+".join(f"x{i}" for i in range(10_000)) + "\n")
    at = [f"x{i}=0.5" for i in range(10_000)]
    model = folder / "model.py"
    model.write_text(MODEL)
    mlp = [*GE, "mlp", "--layers", "32,64,64,10"]
    return [
        alternate("mlp 32,64,64,10 --format json", ([*mlp, "--format", "json"],), bare_mlp,
                  2.0, "bare reverse-mode sympy, every statement printed", rounds),
        alternate("mlp 32,64,64,10 --format text", ([*mlp, "--format", "text"],), bare_mlp,
                  2.0, "the same", rounds),
        alternate("explain -f 5,000 products, --no-verify",
                  ([*GE, "explain", "-f", str(products), "--no-verify"],),
                  ([PY, "-c", BARE_SUM, str(products)],), 2.0,
                  "sympy Add/Mul from the text, one sweep, every gradient printed", rounds),
        alternate("explain -f 10,000-term sum, verified",
                  ([*GE, "explain", "-f", str(big_sum), "--at", *at],), floor, 3.0,
                  "import sympy, networkx, torch", rounds),
        alternate("torch 212-parameter model --format json",
                  ([*GE, "torch", f"{model}:Net", "--format", "json"],), floor, 2.0,
                  "the same import floor", rounds),
        alternate("torch 212-parameter model --render net.svg",
                  ([*GE, "torch", f"{model}:Net", "--render", str(folder / "net.svg")],),
                  floor, 3.0, "the same import floor", rounds),
        alternate("graphexplain --help", ([*GE, "--help"],), ([PY, "-c", "pass"],),
                  float("inf"), "python -c pass (reported, no target)", rounds),
        alternate("explain J(a,b,c) = 3(a+bc), symbolic only",
                  ([*GE, "explain", "J(a,b,c) = 3(a+bc)", "--no-verify"],),
                  ([PY, "-c", "import sympy, networkx"],), float("inf"),
                  "import sympy, networkx (the symbolic floor; reported, no target)", rounds),
    ]


def imports_without_torch() -> dict[str, bool]:
    """Whether --help, a symbolic explain and an unverified one at a point import what they
    do not need: torch (only the checks need it), and numpy without a point (nothing is
    evaluated). They must not."""
    probe = ("import sys; from graphexplain.cli import main; main({args!r}); "
             "print(any(m in sys.modules for m in {unneeded!r}), file=sys.stderr)")
    at = ["--at", "a=1", "b=2", "c=3"]
    cases = (("--help imports torch or numpy", ["--help"], ("torch", "numpy")),
             ("explain (symbolic) imports torch or numpy",
              ["explain", "J(a,b,c) = 3(a+bc)"], ("torch", "numpy")),
             ("explain --at … --no-verify imports torch",
              ["explain", "J(a,b,c) = 3(a+bc)", *at, "--no-verify"], ("torch",)))
    out = {}
    for name, args, unneeded in cases:
        p = subprocess.run([PY, "-c", probe.format(args=args, unneeded=unneeded)],
                           capture_output=True, text=True)
        out[name] = p.stderr.strip().endswith("True")
    return out


def table(results: list[Row]) -> str:
    head = (f"{'command':<44} {'ours s':>7} {'base s':>7} {'ratio':>6} {'target':>6} "
            f"{'peak MiB':>8}  baseline")
    lines = [head, "-" * len(head)]
    for r in results:
        target = "—" if r.target == float("inf") else f"≤{r.target:g}"
        verdict = "" if r.target == float("inf") else ("PASS" if r.ok else "FAIL")
        lines.append(f"{r.name:<44} {statistics.median(r.ours):>7.2f} "
                     f"{statistics.median(r.base):>7.2f} {r.ratio:>6.2f} {target:>6} "
                     f"{r.rss_mib:>8.0f}  {r.baseline}  {verdict}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round instead of three")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        results = rows(1 if args.quick else 3, Path(tmp))
    print(table(results))
    for name, loaded in imports_without_torch().items():
        print(f"{'FAIL' if loaded else 'PASS'}  {name}: {loaded}")
    print(f"({time.perf_counter() - start:.0f} s in all; median of {1 if args.quick else 3}, "
          "ours and the baseline alternating; peak RSS of our process)")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
