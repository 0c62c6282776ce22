#!/usr/bin/env bash
# Runs the benchmarks behind the README's performance table, one after
# another, and prints their raw output. Run it on a quiet machine:
#   bash bench/run.sh 2>&1 | tee bench/results.txt
set -euo pipefail
cd "$(dirname "$0")/.."
run() { echo; echo "\$ go test -run='^\$' $*"; go test -run='^$' "$@" 2>&1 | grep -E '^(Benchmark|ok|FAIL|---)' || true; }

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(go version) $(nproc) cores"
# Issue 2: in-memory interpreter, one core.
run -bench=RunPlaybook -benchtime=5s -cpu=1 ./internal/engine
# Issue 8: JSONata expressions on a CloudTrail event.
run -bench='SimplePath|Filter|Map100|StringFunctions' -benchmem ./internal/jsonata
# Issue 3: durable transitions, StartExecution through the API, parked executions.
run -bench=DurableTransitions -benchtime=40000x ./internal/engine
run -bench='StartExecution$' -benchtime=5s ./internal/api
run -bench=DurableParked100k -benchtime=1x ./internal/engine
# Issue 4: matching cost against 10, 1,000 and 10,000 rules (one core), durable ingest over HTTP.
run -bench='Matcher(10|1000|10000)$' -benchmem -cpu=1 ./internal/pattern
run -bench=Ingest -benchtime=5s ./internal/ingest
# Issue 5: listing 5 accounts x 4 regions x 5,000 volumes through the simulated AWS.
run -bench=ScanVolumes -benchtime=3x ./internal/cloud
