//go:build !unix

package pattern

// processCPU is not available here; benchmarks then report no CPU figure.
func processCPU() int64 { return 0 }
