//go:build !unix

package webhook_test

import "time"

// cpuTime is not measured on this platform.
func cpuTime() time.Duration { return 0 }
