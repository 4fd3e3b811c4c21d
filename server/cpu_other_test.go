//go:build !unix

package server_test

import "time"

// cpuTime reports that the CPU time of the process is not known here.
func cpuTime() (time.Duration, bool) { return 0, false }
