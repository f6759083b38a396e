package pinsfile

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"
)

// writeTable writes header, then row(i) for each i below n, as CSV; what
// names the table in errors.
func writeTable(w io.Writer, what string, header []string, n int, row func(i int) []string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	for i := range n {
		if err := cw.Write(row(i)); err != nil {
			return fmt.Errorf("write %s: %w", what, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	return nil
}

// csvTime is t in a written file: RFC 3339 in UTC, empty when zero.
func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// csvPriority is a priority in a written file, empty when none.
func csvPriority(p int) string {
	if p == 0 {
		return ""
	}
	return strconv.Itoa(p)
}
