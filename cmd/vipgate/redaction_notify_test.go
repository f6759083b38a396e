package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/internal/nettest"
	"github.com/vipgate/vipgate/webhook"
)

// rpEventSink is the event webhook of the redaction proof: it keeps every
// request as received and counts those whose signature does not verify.
type rpEventSink struct {
	srv *httptest.Server

	mu   sync.Mutex
	buf  bytes.Buffer
	n    int
	bads int
}

func newRPEventSink(t *testing.T, secret string) *rpEventSink {
	s := &rpEventSink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		defer s.mu.Unlock()
		fmt.Fprintf(&s.buf, "%s %s\n", r.Method, r.RequestURI)
		_ = r.Header.Write(&s.buf)
		s.buf.Write(body)
		s.buf.WriteString("\n\n")
		s.n++
		if webhook.Verify([]byte(secret), r, body, 0, time.Now()) != nil {
			s.bads++
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *rpEventSink) count() int    { s.mu.Lock(); defer s.mu.Unlock(); return s.n }
func (s *rpEventSink) unsigned() int { s.mu.Lock(); defer s.mu.Unlock(); return s.bads }
func (s *rpEventSink) raw() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.buf.Bytes())
}

// rpSMTP is a plain SMTP server on loopback for the redaction proof: it
// checks the login (AUTH PLAIN) and keeps every message as received.
type rpSMTP struct {
	port int

	mu    sync.Mutex
	buf   bytes.Buffer
	mails int
}

func newRPSMTP(t *testing.T, password string) *rpSMTP {
	s := &rpSMTP{}
	s.port = nettest.Serve(t, func(c net.Conn) { s.serve(c, password) }).(*net.TCPAddr).Port
	return s
}

func (s *rpSMTP) serve(c net.Conn, password string) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	tp := textproto.NewConn(c)
	_ = tp.PrintfLine("220 127.0.0.1 ESMTP")
	authed := false
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			_ = tp.PrintfLine("250-127.0.0.1\r\n250 AUTH PLAIN")
		case "AUTH":
			// "PLAIN " + base64("\x00user\x00password")
			authed = strings.HasPrefix(arg, "PLAIN ") && decodePlain(arg[6:]) == "\x00vipgate\x00"+password
			if !authed {
				_ = tp.PrintfLine("535 no")
				continue
			}
			_ = tp.PrintfLine("235 ok")
		case "MAIL":
			if !authed {
				_ = tp.PrintfLine("530 authenticate first")
				continue
			}
			_ = tp.PrintfLine("250 ok")
		case "RCPT", "RSET", "NOOP":
			_ = tp.PrintfLine("250 ok")
		case "DATA":
			_ = tp.PrintfLine("354 go on")
			b, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.buf.Write(b)
			s.buf.WriteString("\n\n")
			s.mails++
			s.mu.Unlock()
			_ = tp.PrintfLine("250 queued")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("502 unknown")
		}
	}
}

func (s *rpSMTP) count() int  { s.mu.Lock(); defer s.mu.Unlock(); return s.mails }
func (s *rpSMTP) raw() []byte { s.mu.Lock(); defer s.mu.Unlock(); return bytes.Clone(s.buf.Bytes()) }

func decodePlain(b64 string) string {
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return ""
	}
	return string(b)
}
