#!/usr/bin/env bash
# Mutation testing (mutmut) and coverage of graphexplain's core. NOT part of CI: it takes
# minutes to hours. Run it by hand, on a quiet machine, e.g.
#
#     tests/mutation/run.sh ops                 # ops.py only, against its fast tests
#     tests/mutation/run.sh                     # ops parse graph derive evaluate verify
#     JOBS=1 NICE=19 tests/mutation/run.sh ops  # gentle on a shared machine
#
# What it does, in a scratch copy of the working tree (the repository is never touched):
#   1. coverage: line and branch coverage of the package under the selected tests;
#   2. mutmut: mutants of each chosen module, each run against a FAST test selection (the
#      unit tests of that stage, not the whole suite), with hypothesis derandomized (the
#      default profile in tests/conftest.py), so a mutant is killed or not, reproducibly;
#   3. the score (killed / all), and the survivors, each shown as its diff.
#
# For the whole suite's coverage of the package instead: SUITE=1 (slow: the full suite);
# COVERAGE_ONLY=1 stops after the coverage report (no mutmut), e.g.
#
#     SUITE=1 COVERAGE_ONLY=1 tests/mutation/run.sh   # the package's coverage by the suite
#
# RERUN=1 reruns, in an existing WORK, only the mutants the last run did not kill, against the
# tests as they are now (copied in again): tests were added to kill them.
#
# Environment: WORK (scratch folder, default /tmp/graphexplain-mutation), JOBS (mutmut's
# --max-children, default 2), NICE (default 19), KEEP=1 to reuse a previous WORK (mutmut then
# only runs the mutants it has no result for).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PY="$ROOT/.venv/bin/python"
WORK="${WORK:-/tmp/graphexplain-mutation}"
JOBS="${JOBS:-2}"
NICE="${NICE:-19}"
MODULES=("$@")
[ ${#MODULES[@]} -eq 0 ] && MODULES=(ops parse graph derive evaluate verify)

# The fast tests of each module: the ones that exercise that stage directly.
tests_for() {
    case "$1" in
        ops)      echo tests/test_ops.py tests/test_ops_forms.py tests/test_evaluate_verify.py \
                       tests/test_layers.py ;;
        parse)    echo tests/test_parse.py tests/test_parse_details.py tests/test_roundtrip.py \
                       tests/test_graph.py ;;
        graph)    echo tests/test_graph.py tests/test_graph_details.py tests/test_derive.py ;;
        derive)   echo tests/test_derive.py tests/test_derive_details.py \
                       tests/test_evaluate_verify.py ;;
        evaluate) echo tests/test_evaluate_verify.py tests/test_evaluate_details.py \
                       tests/test_pinned.py ;;
        verify)   echo tests/test_evaluate_verify.py tests/test_verify_details.py \
                       tests/test_pinned.py ;;
        *) echo "unknown module '$1' (ops parse graph derive evaluate verify)" >&2; exit 2 ;;
    esac
}

"$PY" -c "import mutmut, coverage" 2>/dev/null || {
    echo "needs mutmut and coverage: $ROOT/.venv/bin/pip install -e '.[dev]'" >&2; exit 2; }

SELECTION=()
ONLY=()
for m in "${MODULES[@]}"; do
    for t in $(tests_for "$m"); do
        [[ " ${SELECTION[*]-} " == *" $t "* ]] || SELECTION+=("$t")
    done
    ONLY+=("graphexplain/$m.py")
done

# --- the scratch copy ---------------------------------------------------------------------------
if [ "${RERUN:-0}" = 1 ]; then
    [ -d "$WORK/mutants" ] || { echo "RERUN=1 needs a previous run in $WORK" >&2; exit 2; }
    # the tests as they are now, in the copy and in mutmut's own copy of it
    for dest in "$WORK" "$WORK/mutants"; do
        (cd "$ROOT" && tar --exclude=__pycache__ -cf - tests) | (cd "$dest" && tar -xf -)
    done
elif [ "${KEEP:-0}" != 1 ] || [ ! -d "$WORK" ]; then
    rm -rf "$WORK"
    mkdir -p "$WORK"
    # the working tree as git sees it (tracked files and new ones not ignored): the whole
    # suite (SUITE=1) reads the README, the seed's examples, the scripts and benchmarks
    (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard \
        | tar --null -T - --ignore-failed-read -cf -) | (cd "$WORK" && tar -xf -)
fi
cd "$WORK"
toml_list() { local out="" x; for x in "$@"; do out+="\"$x\", "; done; echo "[${out%, }]"; }
# the repository's pyproject.toml, and mutmut's section (only in the scratch copy)
(cd "$ROOT" && sed '/^\[tool.mutmut\]/,$d' pyproject.toml) > pyproject.toml
cat >> pyproject.toml <<TOML

[tool.mutmut]
source_paths = ["graphexplain"]
only_mutate = $(toml_list "${ONLY[@]}")
also_copy = ["examples", "tests"]
pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x"]
pytest_add_cli_args_test_selection = $(toml_list "${SELECTION[@]}")
use_git_change_detection = false
# Each mutant runs in a process forked from the one that ran the tests unmutated (mutmut's
# default, ~3 s a mutant; a fresh interpreter per mutant, "forkserver", costs ~10 s and times
# out). tests/conftest.py clears sympy's cache and our lru_caches in each mutant's process,
# so values the unmutated code worked out (sigmoid(2.0), …) are worked out again.
timeout_multiplier = 5.0
TOML

echo "== modules: ${ONLY[*]}"
echo "== tests:   ${SELECTION[*]}"

# --- 1. coverage --------------------------------------------------------------------------------
echo "== coverage (line and branch) of graphexplain under the selected tests"
COVERED=("${SELECTION[@]}")
[ "${SUITE:-0}" = 1 ] && COVERED=(tests)
nice -n "$NICE" "$PY" -m coverage run --branch --source=graphexplain -m pytest -q \
    -p no:cacheprovider "${COVERED[@]}" > coverage-tests.log 2>&1 || {
    tail -20 coverage-tests.log; echo "the selected tests fail without mutants" >&2; exit 1; }
"$PY" -m coverage report --include="$(IFS=,; echo "${ONLY[*]}")" --skip-empty
echo "   the whole package under these tests: $("$PY" -m coverage report --format=total)%"

[ "${COVERAGE_ONLY:-0}" = 1 ] && exit 0

# --- 2. mutmut ----------------------------------------------------------------------------------
echo "== mutmut (nice $NICE, $JOBS job(s))"
AGAIN=()
if [ "${RERUN:-0}" = 1 ]; then  # only what the last run did not kill; a kill stays a kill
    mapfile -t AGAIN < <("$ROOT/.venv/bin/mutmut" results 2>/dev/null \
        | grep -E ": (survived|no tests|suspicious)" | sed -E 's/^ *//; s/: .*//')
    echo "   again: ${#AGAIN[@]} mutants that were not killed, against the tests as they are now"
fi
start=$(date +%s)
nice -n "$NICE" "$ROOT/.venv/bin/mutmut" run --max-children "$JOBS" "${AGAIN[@]}" \
    > mutmut-run.log 2>&1 || {
    tail -30 mutmut-run.log; echo "mutmut failed" >&2; exit 1; }
echo "   $(( $(date +%s) - start )) s"

# --- 3. the score and the survivors -------------------------------------------------------------
"$ROOT/.venv/bin/mutmut" export-cicd-stats > /dev/null
"$PY" - <<'PYEOF'
import json
s = json.load(open("mutants/mutmut-cicd-stats.json"))
killed = s.get("killed", 0)
total = s.get("total", 0)
print("== score:", ", ".join(f"{k} {v}" for k, v in s.items()))
tested = total - s.get("skipped", 0) - s.get("no_tests", 0) - s.get("not_checked", 0)
if total:
    # a mutant that makes the tests hang (a timeout) is detected too, as mutmut counts it
    detected = killed + s.get("timeout", 0)
    print(f"   detected (killed or timed out) {detected} of {total} mutants: "
          f"{100 * detected / total:.1f}% (killed alone {100 * killed / total:.1f}%)"
          + (f"; {100 * detected / tested:.1f}% of the {tested} tested" if tested != total else ""))
PYEOF
echo "== survivors (mutmut show NAME for each diff; also in $WORK/survivors.txt)"
"$ROOT/.venv/bin/mutmut" results > results.txt 2>&1 || true
grep -E ": (survived|no tests|timeout|suspicious)" results.txt | tee survivors.txt || true
while read -r name _; do
    name="${name%:}"
    echo "--- $name"
    "$ROOT/.venv/bin/mutmut" show "$name" 2>/dev/null | sed -n '1,14p'
done < <(grep -E ": survived" results.txt || true) > survivors-diffs.txt
echo "   diffs: $WORK/survivors-diffs.txt"
