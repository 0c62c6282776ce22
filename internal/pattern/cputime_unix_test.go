//go:build unix

package pattern

import "syscall"

// processCPU returns the CPU time this process has used, in nanoseconds,
// so benchmarks can report cost that does not depend on machine load.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
