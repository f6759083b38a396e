package main

import (
	"bytes"
	"io"
)

// unsolicited is how net/http's Transport starts the standard-logger line
// it writes when a server sends bytes on an idle connection; the line
// then quotes those bytes.
const unsolicited = "Unsolicited response received on idle HTTP channel"

// stdLogFilter is the standard logger's output. It keeps out what a peer
// wrote: net/http quotes the bytes a server sent on an idle kept-alive
// connection, and a webhook that sends its answer twice would put an
// expected PIN there. Every other line passes unchanged.
type stdLogFilter struct{ w io.Writer }

func (f stdLogFilter) Write(p []byte) (int, error) {
	i := bytes.Index(p, []byte(unsolicited))
	if i < 0 {
		return f.w.Write(p)
	}
	line := append(bytes.Clone(p[:i]), unsolicited+" (its bytes are not logged)\n"...)
	if _, err := f.w.Write(line); err != nil {
		return 0, err
	}
	return len(p), nil
}
