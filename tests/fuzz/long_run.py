"""The long fuzz run: the strategies and targets of ``tests/test_fuzz.py``, many more times.

    python tests/fuzz/long_run.py --examples 100000 [--workers 2] [--pipeline-every 10]

Every input (random text, token soups, random Python trees, edited valid programs) goes through
parse → build → derive → a text report; one in ``--pipeline-every`` (drawn at random) also draws an
explainable program (valid, or valid with edits) and runs the whole pipeline at a hostile
point: :func:`graphexplain.explain` with torch verification, text and JSON reports, DOT.

Unlike a test, the run does not stop at the first failure: it counts every input, and records
each unexpected exception (anything but a GraphExplainError with a one-line message), each
input slower than 10 s, and each hang (stopped at 30 s). It prints a summary and exits 1 if
there was any.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections import Counter
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/, for strategies

SLOW = 10.0
HANG = 30.0


def run_worker(job: tuple[int, int, int]) -> dict:
    """Run ``examples`` inputs with hypothesis seed ``seed``; return the tallies."""
    seed, examples, every = job
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st
    from strategies import (
        explained_outcome,
        hostile_points,
        hostile_programs,
        mutated_programs,
        programs,
        symbolic_outcome,
        time_limit,
    )

    tally = {"inputs": 0, "pipeline": 0, "outcomes": Counter(), "unexpected": [], "slow": [],
             "slowest": 0.0}

    def attempt(kind: str, text: str, target) -> None:
        start = time.monotonic()
        try:
            with time_limit(HANG):
                outcome = target()
        except TimeoutError:
            outcome = "HANG"
            tally["unexpected"].append({"kind": kind, "error": f"hang (> {HANG} s)",
                                        "text": text[:2000]})
        except Exception as e:  # the point is to catch everything else
            if type(e).__module__.startswith("hypothesis"):
                raise
            outcome = "UNEXPECTED"
            tally["unexpected"].append({"kind": kind, "error": f"{type(e).__name__}: {e}"[:500],
                                        "text": text[:2000],
                                        "where": traceback.format_exc(limit=-3)[-1500:]})
        seconds = time.monotonic() - start
        tally["slowest"] = max(tally["slowest"], seconds)
        if seconds > SLOW:
            tally["slow"].append({"kind": kind, "seconds": round(seconds, 1), "text": text[:500]})
        tally["outcomes"][f"{kind}:{outcome}"] += 1

    explainable = st.one_of(programs(depth=2), mutated_programs())

    @hypothesis_seed(seed)
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(hostile_programs(), st.data())
    def fuzz(text, data):
        tally["inputs"] += 1
        attempt("symbolic", text, lambda: symbolic_outcome(text))
        if every and data.draw(st.integers(1, every)) == 1:  # drawn, so that it replays
            program = data.draw(explainable)
            tally["pipeline"] += 1
            attempt("pipeline", program, lambda: explained_outcome(
                program, lambda names: data.draw(hostile_points(names))))

    fuzz()
    return tally


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--examples", type=int, default=100_000, help="inputs in all (100,000)")
    p.add_argument("--workers", type=int, default=2, help="processes (2)")
    p.add_argument("--pipeline-every", type=int, default=10,
                   help="one input in N also runs an explainable program through the whole "
                        "pipeline at a point (10; 0 for never)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="write the summary, with every failure, to this file")
    args = p.parse_args(argv)
    start = time.monotonic()
    share = [args.examples // args.workers + (k < args.examples % args.workers)
             for k in range(args.workers)]
    jobs = [(args.seed * 1000 + k, n, args.pipeline_every) for k, n in enumerate(share) if n]
    with Pool(len(jobs)) as pool:
        tallies = pool.map(run_worker, jobs)
    outcomes = sum((t["outcomes"] for t in tallies), Counter())
    summary = {
        "inputs": sum(t["inputs"] for t in tallies),
        "pipeline_runs": sum(t["pipeline"] for t in tallies),
        "unexpected_exceptions": sum(len(t["unexpected"]) for t in tallies),
        "slower_than_10s": sum(len(t["slow"]) for t in tallies),
        "slowest_seconds": round(max(t["slowest"] for t in tallies), 2),
        "wall_seconds": round(time.monotonic() - start, 1),
        "outcomes": dict(outcomes.most_common()),
    }
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    failures = [f for t in tallies for f in t["unexpected"] + t["slow"]]
    for f in failures[:20]:
        print(json.dumps(f, ensure_ascii=False), file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps({**summary, "failures": failures}, indent=2,
                                              ensure_ascii=False))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
