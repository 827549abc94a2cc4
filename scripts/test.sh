#!/usr/bin/env bash
# The whole test suite, from a fresh machine: dependencies, local Postgres + Redis, typecheck,
# lint, production build, unit + integration + e2e tests, and the Raft simulator's seeds.
# Ends with one line "N passed, N failed"; exits non-zero on any failure.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
step() { printf '\n== %s\n' "$*"; }

step "dependencies"; bash scripts/bootstrap.sh
step "local stack"; bash scripts/stack.sh up
eval "$(bash scripts/stack.sh env)"
step "typecheck"; npx tsc -p tsconfig.json --noEmit
step "lint"; npx eslint . --max-warnings 0
step "build"; npm run -s build >/dev/null
mkdir -p .data/test-results
rm -f .data/test-results/*.json
status=0
# One tier at a time: the e2e tier runs multi-process clusters, and sharing two cores with the
# other tiers would only make timing-sensitive tests slower and noisier.
for project in unit integration e2e; do
  step "tests: $project"
  npx vitest run --project "$project" --reporter=default --reporter=json \
    --outputFile.json=".data/test-results/$project.json" || status=1
done
sim_passed=0; sim_failed=0
if [ -f libs/testing/src/sim/cli.ts ]; then
  for nodes in 3 5; do
    step "raft simulator: ${SIM_SEEDS:-1000} seeds, $nodes nodes, heavy faults"
    out=$(npm run -s sim -- --seeds "${SIM_SEEDS:-1000}" --from 1 --nodes "$nodes" --faults heavy 2>&1) || status=1
    printf '%s\n' "$out" | tail -n 20
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1 || true)
    if [ -z "$line" ]; then status=1; sim_failed=$((sim_failed + 1)); continue; fi
    sim_passed=$((sim_passed + $(echo "$line" | cut -d' ' -f1)))
    sim_failed=$((sim_failed + $(echo "$line" | cut -d' ' -f3)))
  done
fi
node -e '
const fs = require("fs");
const r = { numPassedTests: 0, numFailedTests: 0, skipped: 0 };
let missing = 0;
for (const project of ["unit", "integration", "e2e"]) {
  const file = `.data/test-results/${project}.json`;
  if (!fs.existsSync(file)) { missing += 1; console.log(`no results from the ${project} tier (it crashed before reporting)`); continue; }
  const p = JSON.parse(fs.readFileSync(file, "utf8"));
  r.numPassedTests += p.numPassedTests;
  // A file that fails to load fails no test but fails its suite: count it once.
  r.numFailedTests += p.numFailedTests || p.numFailedTestSuites;
  r.skipped += p.numPendingTests + p.numTodoTests;
}
const passed = r.numPassedTests + Number(process.argv[1]);
const failed = r.numFailedTests + missing + Number(process.argv[2]);
console.log(`\ntests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.skipped} skipped; simulator seeds: ${process.argv[1]} passed, ${process.argv[2]} failed`);
console.log(`${passed} passed, ${failed} failed`);
' "$sim_passed" "$sim_failed"
exit $status
