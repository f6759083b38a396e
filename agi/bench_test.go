package agi

import (
	"bufio"
	"context"
	"testing"

	"github.com/vipgate/vipgate/gate"
)

// BenchmarkFlowCall measures one whole call on the server side: header,
// gate.Flow with a static-PIN gate on the in-memory store, the PIN typed
// with barge-in, the result variables and the close, over net.Pipe (no
// kernel sockets), with a fake Asterisk answering every command.
//
//	go test -run '^$' -bench BenchmarkFlowCall -benchmem ./agi/
func BenchmarkFlowCall(b *testing.B) {
	flow, _ := newFlow(b, func(h *gate.Hasher) []*gate.Gate { return []*gate.Gate{staticPINGate(b, h, false)} })
	srv := NewServer(Config{Handler: func(ctx context.Context, c gate.Call) { flow.Run(ctx, c) }})
	ln := newPipeListener()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	hdr := loadHeader(1)
	b.ReportAllocs()
	for b.Loop() {
		c, err := ln.Dial()
		if err != nil {
			b.Fatal(err)
		}
		// net.Pipe writes block until read: send the header while the
		// server reads it.
		go func() { _, _ = c.Write([]byte(hdr)) }()
		p := &peer{r: bufio.NewReader(c), w: c, digits: flowPIN + "#", bargeIn: true}
		if err := p.serve(); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
	b.StopTimer()
	cancel()
	if err := <-served; err != nil {
		b.Fatal(err)
	}
}
