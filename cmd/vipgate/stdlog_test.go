package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestStdLogFilterKeepsPeerBytesOut has a server write a second answer,
// with a PIN, after the first on a kept-alive connection: net/http logs
// that it got bytes on an idle connection, and the filtered standard
// logger says so without the bytes.
func TestStdLogFilterKeepsPeerBytesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		http.ReadRequest(bufio.NewReader(c))
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n{reject:false}"+`{askForPin:{expectedPIN:"4711"}}`)
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		io.Copy(io.Discard, c) // until the client closes
	}()

	var out syncBuffer
	prev := log.Writer()
	log.SetOutput(stdLogFilter{&out})
	defer log.SetOutput(prev)

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+ln.Addr().String()+"/", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	<-done
	got := string(out.Bytes())
	if !strings.Contains(got, unsolicited) {
		t.Fatalf("standard logger wrote %q, want net/http's line about the idle connection", got)
	}
	if strings.Contains(got, "4711") || strings.Contains(got, "askForPin") {
		t.Errorf("standard logger wrote the server's bytes: %q", got)
	}
}

func TestStdLogFilterPassesOtherLines(t *testing.T) {
	var out bytes.Buffer
	l := log.New(stdLogFilter{&out}, "", 0)
	l.Print("http: TLS handshake error from 127.0.0.1:1234: EOF")
	if out.String() != "http: TLS handshake error from 127.0.0.1:1234: EOF\n" {
		t.Errorf("got %q", out.String())
	}
}
