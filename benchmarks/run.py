"""Benchmarks of issue #4: backprop at scale, at the cheap-gradient limit.

    python benchmarks/run.py            # the three sizes, every target, a log-log plot
    python benchmarks/run.py --quick    # the smallest size only (the test suite's smoke run)

Every time is the best of a few repeats, and every target is a ratio against a baseline
measured in the same run (the machine is shared and noisy):

(a) ours (graph build, partials, adjoints, chain formulas) / bare reverse-mode sympy ≤ 2
(b) time growth / parameter growth, largest vs middle size ≤ 1.3
(c) gradient-program ops / forward-program ops (sympy.count_ops) ≤ 1.5
(d) compiled gradient program / torch.autograd, per evaluation at a new point ≤ 3
(e) peak memory of the largest end-to-end run < 1 GiB
(f) ``graphexplain mlp --layers 32,64,64,10 --format json`` (verified) ≤ 15 s
(g) the seed's ``explain`` / ``python -c "import sympy, networkx, torch"`` ≤ 1.5, and no
    torch import with --no-verify

Then the whole-process rows of issue #12 (``commands.py``: each command as the user runs it,
output written, against its baseline process, alternating, median of 3, with peak RSS), and
the largest programs within the default limits, each answered within max_seconds
(``limits.py``). ``--no-commands`` skips both.

Naive per-weight ``sympy.diff`` of the whole loss is timed on a sample of weights and
extrapolated to all of them (said so in the table).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
import timeit
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import baseline  # noqa: E402
import commands  # noqa: E402
import limits  # noqa: E402
import sympy  # noqa: E402

from graphexplain.codegen import CompiledGradient  # noqa: E402
from graphexplain.derive import count_ops, derive  # noqa: E402
from graphexplain.nn.mlp import MLPSpec, build_mlp, draw_values  # noqa: E402

SIZES = [(8, 16, 16, 1), (16, 32, 32, 4), (32, 64, 64, 10)]
RESULTS = HERE / "results"


def best(fn, repeat: int = 3) -> float:
    """The best wall time of ``repeat`` calls (the least disturbed by other load)."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def ours(shape):
    """Graph build, local partials, adjoints and chain formulas: everything symbolic."""
    return derive(build_mlp(MLPSpec(shape)))


def naive(shape, samples: int) -> tuple[float, bool]:
    """Seconds for sympy.diff of the whole loss w.r.t. every weight (sampled, extrapolated)."""
    start = time.perf_counter()
    loss, weights = baseline.full_loss(shape)
    build = time.perf_counter() - start
    picked = weights[:: max(1, len(weights) // samples)][:samples]
    per = best(lambda: [sympy.diff(loss, w) for w in picked], repeat=1) / len(picked)
    return build + per * len(weights), len(picked) < len(weights)


def op_ratio(d) -> float:
    """Gradient-program operations / forward-program operations (sympy.count_ops)."""
    G = d.graph
    forward = count_ops(G.nodes[n]["expr"] for n in d.order if G.nodes[n]["kind"] == "op")
    return count_ops(d.program.values()) / forward


def compiled_vs_torch(d, shape) -> tuple[float, float, float]:
    """(µs per compiled evaluation, µs per torch forward+backward, compile seconds)."""
    spec = MLPSpec(shape)
    point = draw_values(spec)
    t = time.perf_counter()
    grad = CompiledGradient(d)
    compile_s = time.perf_counter() - t
    grad.set_point(point)
    ours_us = min(timeit.repeat(grad.run, number=200, repeat=5)) / 200 * 1e6
    return ours_us, torch_us(spec, point), compile_s


def torch_us(spec: MLPSpec, point: dict) -> float:
    """µs per forward + backward of the same network built from nn.Linear, float64."""
    import torch
    from torch import nn

    layers = []
    for n, (a, b) in enumerate(zip(spec.layers, spec.layers[1:]), start=1):
        lin = nn.Linear(a, b).double()
        with torch.no_grad():
            for i in range(a):
                for j in range(b):
                    lin.weight[j, i] = point[f"w{n}_{i + 1}_{j + 1}"]
            for j in range(b):
                lin.bias[j] = point[f"b{n}_{j + 1}"]
        layers += [lin, nn.Sigmoid()]
    model = nn.Sequential(*layers[:-1])
    x = torch.tensor([point[f"x{i}"] for i in range(1, spec.layers[0] + 1)], dtype=torch.float64)
    y = torch.tensor([point[f"y{k}"] for k in range(1, spec.layers[-1] + 1)],
                     dtype=torch.float64)
    params = list(model.parameters())
    loss_fn = nn.MSELoss()

    def step():
        torch.autograd.grad(loss_fn(model(x), y), params)

    step()
    return min(timeit.repeat(step, number=200, repeat=5)) / 200 * 1e6


def command_seconds(args: list[str], repeat: int = 3) -> float:
    return best(lambda: subprocess.run(args, check=True, capture_output=True), repeat)


def end_to_end(shape) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of ``graphexplain mlp --layers … --format json``."""
    code = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
            "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
            "print(time.perf_counter() - t, "
            "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)")
    cmd = [sys.executable, "-c", code, sys.executable, "-m", "graphexplain", "mlp",
           "--layers", ",".join(map(str, shape)), "--format", "json", "--quiet"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1])


def startup() -> dict:
    """Target (g): the seed's explain against the start-up floor, and --no-verify's imports."""
    py = sys.executable
    floor = command_seconds([py, "-c", "import sympy, networkx, torch"])
    seed = command_seconds([py, "-m", "graphexplain", "explain", "J(a,b,c) = 3(a+bc)",
                            "--at", "a=1", "b=2", "c=3"])
    probe = ("import sys; from graphexplain.cli import main; "
             "main(['explain', 'J(a,b,c) = 3(a+bc)', '--at', 'a=1', 'b=2', 'c=3', "
             "'--no-verify', '--quiet']); print('torch' in sys.modules)")
    torch_loaded = subprocess.run([py, "-c", probe], capture_output=True, text=True,
                                  check=True).stdout.strip() == "True"
    return {"floor_s": floor, "seed_s": seed, "ratio": seed / floor,
            "torch_imported_without_verify": torch_loaded}


def interleaved(fns: list, rounds: int = 5) -> list[float]:
    """The best time of each function, running them in turn so that both see the same load."""
    times = [[] for _ in fns]
    for _ in range(rounds):
        for k, fn in enumerate(fns):
            t = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t)
    return [min(t) for t in times]


def measure(shape, naive_samples: int, quick: bool) -> dict:
    ours_s, base_s = interleaved([lambda: ours(shape), lambda: baseline.mlp_adjoints(shape)])
    d = ours(shape)
    row = {"shape": shape, "params": MLPSpec(shape).n_params, "ours_s": ours_s,
           "baseline_s": base_s, "ratio_a": ours_s / base_s, "op_ratio_c": op_ratio(d)}
    row["naive_s"], row["naive_sampled"] = naive(shape, naive_samples) if naive_samples else \
        (math.nan, True)
    row["compiled_us"], row["torch_us"], row["compile_s"] = compiled_vs_torch(d, shape)
    row["ratio_d"] = row["compiled_us"] / row["torch_us"]
    if not quick:
        row["end_to_end_s"], row["peak_mib"] = end_to_end(shape)
    return row


def table(rows: list[dict]) -> str:
    head = (f"{'network':<16}{'params':>7}{'ours s':>9}{'bare s':>9}{'(a)':>6}"
            f"{'naive sympy.diff s':>21}{'(c) ops':>9}{'compiled µs':>13}{'torch µs':>10}"
            f"{'(d)':>6}{'e2e s':>7}{'peak MiB':>10}")
    lines = [head, "-" * len(head)]
    for r in rows:
        naive_text = "-" if math.isnan(r["naive_s"]) else \
            f"{r['naive_s']:.1f}{' (sampled)' if r['naive_sampled'] else ''}"
        lines.append(
            f"{list(r['shape'])!s:<16}{r['params']:>7}{r['ours_s']:>9.3f}"
            f"{r['baseline_s']:>9.3f}{r['ratio_a']:>6.2f}{naive_text:>21}"
            f"{r['op_ratio_c']:>9.2f}{r['compiled_us']:>13.1f}{r['torch_us']:>10.1f}"
            f"{r['ratio_d']:>6.2f}{r.get('end_to_end_s', math.nan):>7.2f}"
            f"{r.get('peak_mib', math.nan):>10.0f}")
    return "\n".join(lines)


def targets(rows: list[dict], start: dict | None) -> list[tuple[str, str, bool]]:
    out = []
    last = rows[-1]
    out.append(("(a) ours / bare sympy ≤ 2", f"{last['ratio_a']:.2f}", last["ratio_a"] <= 2))
    if len(rows) >= 2:
        mid = rows[-2]
        growth = (last["ours_s"] / mid["ours_s"]) / (last["params"] / mid["params"])
        out.append(("(b) time ratio / param ratio ≤ 1.3", f"{growth:.2f}", growth <= 1.3))
    worst_c = max(r["op_ratio_c"] for r in rows)
    out.append(("(c) gradient ops / forward ops ≤ 1.5", f"{worst_c:.2f}", worst_c <= 1.5))
    worst_d = max(r["ratio_d"] for r in rows)
    out.append(("(d) compiled eval / torch.autograd ≤ 3", f"{worst_d:.2f}", worst_d <= 3))
    if "peak_mib" in last:
        out.append(("(e) peak memory < 1024 MiB", f"{last['peak_mib']:.0f} MiB",
                    last["peak_mib"] < 1024))
        out.append(("(f) end to end, verified ≤ 15 s", f"{last['end_to_end_s']:.2f} s",
                    last["end_to_end_s"] <= 15))
    if start:
        ok = start["ratio"] <= 1.5 and not start["torch_imported_without_verify"]
        out.append(("(g) seed explain / start-up floor ≤ 1.5, no torch with --no-verify",
                    f"{start['ratio']:.2f} ({start['seed_s']:.2f} s / {start['floor_s']:.2f} s)"
                    f", torch imported: {start['torch_imported_without_verify']}", ok))
    return out


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    params = [r["params"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.loglog(params, [r["naive_s"] for r in rows], "o-", label="naive sympy.diff per weight")
    ax.loglog(params, [r["baseline_s"] for r in rows], "s--", label="bare reverse-mode sympy")
    ax.loglog(params, [r["ours_s"] for r in rows], "^-", label="graphexplain (all of it)")
    ax.set_xlabel("parameters")
    ax.set_ylabel("seconds")
    ax.set_title("Every gradient of an MLP, symbolically")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def whole_process(rounds: int = 3) -> dict:
    """Issue #12's whole-process rows (ratios against baselines measured in the same run, peak
    RSS per row, the start-up floor, no torch on --help or --no-verify) and the programs at
    the default limits; printed, and returned with their verdicts."""
    import tempfile

    print("\nWhole processes (issue #12): each command as the user runs it, its output "
          f"written, against its baseline; median of {rounds}, alternating; the machine is "
          "shared, so the ratio is the measure")
    with tempfile.TemporaryDirectory() as tmp:
        rows_ = commands.rows(rounds, Path(tmp))
    print(commands.table(rows_))
    results = [(f"{r.name} ≤ {r.target:g}× ({r.baseline})", f"{r.ratio:.2f}", r.ok)
               for r in rows_ if r.target != float("inf")]
    for name, loaded in commands.imports_without_torch().items():
        print(f"{'FAIL' if loaded else 'PASS'}  {name}: {loaded}")
        results.append((f"{name}: no", str(loaded), not loaded))
    print("\nThe largest programs within the default limits, verified, as whole processes")
    with tempfile.TemporaryDirectory() as tmp:
        probes = [limits.run(name, text, inputs, Path(tmp))
                  for name, text, inputs in limits.probes(quick=False)]
    print(limits.table(probes))
    results += [(f"answered within max_seconds: {r['name']}", f"{r['seconds']:.2f} s",
                 r["ok"]) for r in probes]
    return {"results": results,
            "commands": [{"name": r.name, "ours_s": r.ours, "base_s": r.base,
                          "ratio": r.ratio, "target": r.target, "peak_mib": r.rss_mib,
                          "baseline": r.baseline} for r in rows_],
            "limits": probes}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smallest size only, no subprocesses")
    p.add_argument("--naive-samples", type=int, default=2,
                   help="weights differentiated naively per size (0 skips)")
    p.add_argument("--results", type=Path, default=RESULTS,
                   help=f"folder for results.json and scaling.png (default {RESULTS})")
    p.add_argument("--no-commands", action="store_true",
                   help="skip the whole-process rows (commands.py) and the limits (limits.py)")
    args = p.parse_args(argv)
    sizes = SIZES[:1] if args.quick else SIZES
    rows = [measure(s, args.naive_samples, args.quick) for s in sizes]
    start = None if args.quick else startup()
    print(table(rows))
    print()
    results = targets(rows, start)
    for name, value, ok in results:
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {value}")
    whole = None if args.quick or args.no_commands else whole_process()
    if whole is not None:
        results += whole["results"]
    args.results.mkdir(parents=True, exist_ok=True)
    plot(rows, args.results / "scaling.png")
    (args.results / "results.json").write_text(json.dumps(
        {"rows": rows, "startup": start,
         "commands": whole["commands"] if whole else None,
         "limits": whole["limits"] if whole else None}, indent=2, default=str))
    print(f"\nplot: {args.results / 'scaling.png'}")
    return 0 if all(ok for _, _, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main())
