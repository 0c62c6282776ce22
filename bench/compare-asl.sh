#!/usr/bin/env bash
# Compares steward's in-memory ASL interpreter with the npm package
# aws-local-stepfunctions on the same definition and input
# (bench/playbooks/remediation.asl.json, a Map over 100 volumes), one core
# each. Installs aws-local-stepfunctions with npm into bench/scratch.
set -euo pipefail
cd "$(dirname "$0")/.."
ALSF_VERSION=${ALSF_VERSION:-3.0.0}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
scratch=bench/scratch/alsf
mkdir -p "$scratch"
if [ ! -d "$scratch/node_modules/aws-local-stepfunctions" ]; then
  (cd "$scratch" && npm init -y >/dev/null 2>&1 && npm install --no-audit --no-fund "aws-local-stepfunctions@$ALSF_VERSION" >/dev/null)
fi
cp bench/alsf/run.mjs "$scratch/run.mjs"

echo "steward (go test -bench=RunPlaybook -cpu=1 ./internal/engine):"
steward_out=$(go test -run='^$' -bench=RunPlaybook -benchtime="${SECONDS_PER_RUN}s" -cpu=1 -count=1 ./internal/engine | grep '^BenchmarkRunPlaybook')
echo "  $steward_out"
steward_tps=$(echo "$steward_out" | awk '{for (i=1;i<=NF;i++) if ($i=="transitions/s") print $(i-1)}')
per_exec=$(echo "$steward_out" | awk '{for (i=1;i<=NF;i++) if ($i=="transitions/op") print $(i-1)}')

echo "aws-local-stepfunctions $ALSF_VERSION (node $(node --version)), same definition and input:"
alsf_out=$(cd "$scratch" && taskset -c 0 node run.mjs ../../playbooks/remediation.asl.json ../../playbooks/remediation-input.json "$per_exec" "$SECONDS_PER_RUN" 2>/dev/null || node run.mjs ../../playbooks/remediation.asl.json ../../playbooks/remediation-input.json "$per_exec" "$SECONDS_PER_RUN")
echo "  $alsf_out"
alsf_tps=$(echo "$alsf_out" | sed -E 's/.*"transitionsPerSecond":([0-9.e+]+).*/\1/')

awk -v s="$steward_tps" -v a="$alsf_tps" 'BEGIN {
  printf "state transitions per second: steward %.0f, aws-local-stepfunctions %.0f, ratio %.1fx\n", s, a, s / a
}'
