package agi

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// peer is a fake Asterisk that answers vipgate's commands by their verb,
// for tests and the load test that need no fixed transcript. It types
// digits in order: the first during an interruptible STREAM FILE when
// bargeIn is set, the others (or all) on WAIT FOR DIGIT; when none are
// left, WAIT FOR DIGIT times out.
type peer struct {
	r       *bufio.Reader
	w       io.Writer
	digits  string
	bargeIn bool
	// onCommand, if set, is called with each command before it is answered.
	onCommand func(cmd string)
}

// serve answers commands until vipgate closes the connection.
func (p *peer) serve() error {
	for {
		line, err := p.r.ReadString('\n')
		if err == io.EOF && line == "" {
			return nil
		}
		if err != nil {
			return fmt.Errorf("peer: read: %w", err)
		}
		cmd := strings.TrimSuffix(line, "\n")
		if p.onCommand != nil {
			p.onCommand(cmd)
		}
		if _, err := io.WriteString(p.w, p.reply(cmd)+"\n"); err != nil {
			return fmt.Errorf("peer: write: %w", err)
		}
	}
}

func (p *peer) next() int {
	if p.digits == "" {
		return 0
	}
	c := p.digits[0]
	p.digits = p.digits[1:]
	return int(c)
}

func (p *peer) reply(cmd string) string {
	switch {
	case cmd == "ANSWER":
		return "200 result=0"
	case strings.HasPrefix(cmd, "STREAM FILE "):
		if p.bargeIn && !strings.HasSuffix(cmd, ` ""`) && p.digits != "" {
			return fmt.Sprintf("200 result=%d endpos=800", p.next())
		}
		return "200 result=0 endpos=16000"
	case strings.HasPrefix(cmd, "WAIT FOR DIGIT "):
		return fmt.Sprintf("200 result=%d", p.next())
	case strings.HasPrefix(cmd, "SET VARIABLE "):
		return "200 result=1"
	case strings.HasPrefix(cmd, "SET CONTEXT "), strings.HasPrefix(cmd, "SET EXTENSION "), strings.HasPrefix(cmd, "SET PRIORITY "):
		return "200 result=0"
	case strings.HasPrefix(cmd, "EXEC Hangup"):
		return "200 result=-1\nHANGUP"
	case cmd == "CHANNEL STATUS":
		return "200 result=6"
	}
	return "510 Invalid or unknown command"
}
