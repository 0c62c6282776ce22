package engine

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stewardhq/steward/internal/asl"
)

// BenchmarkRunPlaybook runs the benchmark playbook in bench/playbooks (a
// Choice, Pass states with intrinsics, a Map over 100 volumes, Retry and
// Catch around tasks) in memory and reports state transitions per second.
// bench/compare-asl.sh runs the same definition and input in the npm
// package aws-local-stepfunctions for comparison.
func BenchmarkRunPlaybook(b *testing.B) {
	def, err := os.ReadFile(filepath.Join("..", "..", "bench", "playbooks", "remediation.asl.json"))
	if err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "bench", "playbooks", "remediation-input.json"))
	if err != nil {
		b.Fatal(err)
	}
	m, err := asl.Parse(def)
	if err != nil {
		b.Fatal(err)
	}
	input, err := asl.DecodeJSON(data)
	if err != nil {
		b.Fatal(err)
	}
	tasks := basics()
	ctx := context.Background()
	transitions := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Run(ctx, RunParams{Machine: m, Input: input, Tasks: tasks, ExecutionName: "bench", Start: t0})
		if err != nil || res.Status != StatusSucceeded {
			b.Fatalf("run: %v %+v", err, res)
		}
		transitions += res.Transitions
	}
	b.ReportMetric(float64(transitions)/b.Elapsed().Seconds(), "transitions/s")
	b.ReportMetric(float64(transitions)/float64(b.N), "transitions/op")
}
