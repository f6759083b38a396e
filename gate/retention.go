package gate

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// MinRetention is the shortest call-log retention accepted other than 0.
const MinRetention = 24 * time.Hour

// maxDays is the longest retention in days that a time.Duration holds
// (about 292 years).
const maxDays = math.MaxInt64 / int64(24*time.Hour)

// ParseRetention reads a call-log retention: a whole number of days
// ("90d") or a Go duration of at least MinRetention ("2160h", "36h30m").
// "0" (or "0d") is 0: keep every row (globally), or follow the global
// setting (in a gate).
func ParseRetention(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n < 0 || n > maxDays || strings.HasPrefix(days, "+") {
			return 0, fmt.Errorf("want a whole number of days such as 90d, got %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("want days such as 90d or a duration such as 36h (0 keeps every row), got %q", s)
	}
	if d > 0 && d < MinRetention {
		// 90m or 90s is more likely a slip for 90 days (or months) than
		// a wish to keep an hour and a half of calls.
		return 0, fmt.Errorf("%q is less than %v; give days such as 90d (0 keeps every row)", s, MinRetention)
	}
	return d, nil
}

// CallRetention returns the gate's own call-log retention, 0 when it
// follows the global setting (Retention empty or "0", or invalid, which
// Validate reports).
func (g *Gate) CallRetention() time.Duration {
	if g.Retention == "" {
		return 0
	}
	d, err := ParseRetention(g.Retention)
	if err != nil {
		return 0
	}
	return d
}
