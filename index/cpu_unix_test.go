//go:build unix

package index

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user and system) the process has used, so
// that a benchmark counts Badger's background goroutines and the garbage
// collector as well as the caller's own work; 0 where getrusage fails.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
