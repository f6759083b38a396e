package agi

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// peer is a fake Asterisk that answers vipgate's commands by their verb,
// for tests and the load test that need no fixed transcript. It types
// the keys of digits in order: GET DATA reads them up to '#', its
// maxdigits or the end of digits (then it times out); an interruptible
// STREAM FILE takes the first when bargeIn is set, WAIT FOR DIGIT one each
// (0 when none are left).
//
// A key written with a '+' in front ("1+2") comes right after the key
// before it, as a fast caller or a busy Asterisk delivers it. When
// Asterisk has answered the command that read the key before, no command
// reads the channel at that moment and Asterisk's AGI loop (run_agi in
// res/res_agi.c) reads the key and drops it: the peer drops it too and
// notes it in dropped. Inside one GET DATA no reply goes out between two
// keys, so nothing is dropped there.
type peer struct {
	r       *bufio.Reader
	w       io.Writer
	digits  string
	bargeIn bool
	// dropped holds the keys that reached the channel between commands.
	dropped string
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
		reply, read := p.reply(cmd)
		if _, err := io.WriteString(p.w, reply+"\n"); err != nil {
			return fmt.Errorf("peer: write: %w", err)
		}
		if read {
			p.idle()
		}
	}
}

// next takes the next key (0 when none is left).
func (p *peer) next() int {
	p.digits = strings.TrimPrefix(p.digits, "+")
	if p.digits == "" {
		return 0
	}
	c := p.digits[0]
	p.digits = p.digits[1:]
	return int(c)
}

// idle runs after a reply to a command that read a key: a key that comes
// right after that one reaches a channel no command reads.
func (p *peer) idle() {
	if len(p.digits) >= 2 && p.digits[0] == '+' {
		p.dropped += p.digits[1:2]
		p.digits = p.digits[2:]
	}
}

// reply answers cmd and reports whether the answer carries a key read
// from the channel.
func (p *peer) reply(cmd string) (string, bool) {
	switch {
	case cmd == "ANSWER":
		return "200 result=0", false
	case strings.HasPrefix(cmd, "GET DATA "):
		return p.getData(cmd)
	case strings.HasPrefix(cmd, "STREAM FILE "):
		if p.bargeIn && !strings.HasSuffix(cmd, ` ""`) && p.digits != "" {
			return fmt.Sprintf("200 result=%d endpos=800", p.next()), true
		}
		return "200 result=0 endpos=16000", false
	case strings.HasPrefix(cmd, "WAIT FOR DIGIT "):
		c := p.next()
		return fmt.Sprintf("200 result=%d", c), c != 0
	case strings.HasPrefix(cmd, "SET VARIABLE "):
		return "200 result=1", false
	case strings.HasPrefix(cmd, "SET CONTEXT "), strings.HasPrefix(cmd, "SET EXTENSION "), strings.HasPrefix(cmd, "SET PRIORITY "):
		return "200 result=0", false
	case strings.HasPrefix(cmd, "EXEC Hangup"):
		return "200 result=-1\nHANGUP", false
	case cmd == "CHANNEL STATUS":
		return "200 result=6", false
	}
	return "510 Invalid or unknown command", false
}

// getData answers "GET DATA <file> <timeout> <maxdigits>" as
// ast_readstring_full does: '#' ends the keys (and is not returned), so
// does the maxdigits-th key; no key left is the timeout.
func (p *peer) getData(cmd string) (string, bool) {
	f := strings.Fields(cmd)
	if len(f) != 5 {
		return "520 Invalid command syntax.  Proper usage follows:", false
	}
	maxDigits, err := strconv.Atoi(f[4])
	if err != nil || maxDigits < 1 {
		return "520 Invalid command syntax.  Proper usage follows:", false
	}
	var keys []byte
	for {
		c := p.next()
		switch {
		case c == 0:
			return "200 result=" + string(keys) + " (timeout)", false
		case c == '#':
			return "200 result=" + string(keys), true
		}
		keys = append(keys, byte(c))
		if len(keys) >= maxDigits {
			return "200 result=" + string(keys), true
		}
	}
}
