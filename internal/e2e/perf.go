package e2e

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// clockTick is the unit of utime and stime in /proc/<pid>/stat
// (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// CPU returns the user and system CPU time the Asterisk process has used
// so far, from /proc/<pid>/stat (Linux; in clock ticks of 10 ms).
func (a *Asterisk) CPU() (time.Duration, error) {
	if a.cmd == nil || a.cmd.Process == nil {
		return 0, fmt.Errorf("e2e: asterisk is not running")
	}
	return ProcessCPU(a.cmd.Process.Pid)
}

// TasksCPU returns the time the threads of process pid have run on a CPU,
// in nanoseconds (the sum of the first field of
// /proc/<pid>/task/*/schedstat): finer than ProcessCPU's 10 ms ticks. A
// thread that has exited is not counted (Go's runtime keeps its threads).
func TasksCPU(pid int) (time.Duration, error) {
	dirs, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, err
	}
	var sum time.Duration
	for _, d := range dirs {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, d.Name()))
		if err != nil {
			continue // the thread has just exited
		}
		f := strings.Fields(string(b))
		if len(f) < 1 {
			return 0, fmt.Errorf("e2e: unexpected /proc/%d/task/%s/schedstat", pid, d.Name())
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("e2e: /proc/%d/task/%s/schedstat: %w", pid, d.Name(), err)
		}
		sum += time.Duration(ns)
	}
	return sum, nil
}

// ProcessCPU returns the user and system CPU time of process pid (all its
// threads) from /proc/<pid>/stat.
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; the fields after it start at
	// state (field 3): utime is field 14, stime field 15.
	end := bytes.LastIndexByte(b, ')')
	if end < 0 {
		return 0, fmt.Errorf("e2e: unexpected /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("e2e: short /proc/%d/stat", pid)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("e2e: unexpected /proc/%d/stat", pid)
	}
	return time.Duration(u+s) * clockTick, nil
}

// ARIProxy sits between vipgate and Asterisk's HTTP server and times, from
// outside vipgate, when each StasisStart event of app vipgate left the
// proxy towards vipgate and when vipgate's first REST request about that
// channel reached the proxy. Point vipgate's ARI base URL at URL.
type ARIProxy struct {
	// URL is the ARI base URL to give vipgate (http://127.0.0.1:port/ari).
	URL string

	target string
	ln     net.Listener
	mu     sync.Mutex
	start  map[string]time.Time
	first  map[string]time.Time
	req    map[string]string
	wg     sync.WaitGroup
}

// StartARIProxy starts a proxy to a's ARI until the test ends.
func StartARIProxy(t testing.TB, a *Asterisk) *ARIProxy {
	t.Helper()
	u, err := url.Parse(a.ARIURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &ARIProxy{URL: "http://" + ln.Addr().String() + u.Path, target: u.Host, ln: ln,
		start: map[string]time.Time{}, first: map[string]time.Time{}, req: map[string]string{}}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() { defer p.wg.Done(); p.serve(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return p
}

// Latency is one channel's StasisStart and first command as the proxy saw
// them.
type Latency struct {
	Channel string
	// Added is from the StasisStart event leaving the proxy to the first
	// REST request about the channel arriving there.
	Added time.Duration
	// Request is that request's method and path, without the query.
	Request string
}

// Latencies returns the channels that had both a StasisStart and a
// request so far.
func (p *ARIProxy) Latencies() []Latency {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Latency
	for id, s := range p.start {
		if f, ok := p.first[id]; ok {
			out = append(out, Latency{Channel: id, Added: f.Sub(s), Request: p.req[id]})
		}
	}
	return out
}

// StasisStarts counts the StasisStart events passed to vipgate.
func (p *ARIProxy) StasisStarts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.start)
}

var channelRequest = regexp.MustCompile(`(GET|POST|PUT|DELETE) /ari/channels/([A-Za-z0-9._;-]+)([^ ?]*)`)

func (p *ARIProxy) serve(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer s.Close()
	// The first bytes say whether this is the event websocket.
	buf := make([]byte, 64<<10)
	n, err := c.Read(buf)
	if err != nil {
		return
	}
	p.sawRequests(buf[:n], time.Now())
	ws := bytes.Contains(buf[:n], []byte("GET /ari/events"))
	if _, err := s.Write(buf[:n]); err != nil {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if ws {
			p.copyEvents(c, s)
		} else {
			_, _ = io.Copy(c, s)
		}
		c.Close()
	}()
	for {
		n, err := c.Read(buf)
		if n > 0 {
			p.sawRequests(buf[:n], time.Now())
			if _, werr := s.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	s.Close()
	<-done
}

// sawRequests records the first request about each channel in chunk.
func (p *ARIProxy) sawRequests(chunk []byte, at time.Time) {
	ms := channelRequest.FindAllSubmatch(chunk, -1)
	if len(ms) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range ms {
		id := string(m[2])
		if _, ok := p.first[id]; !ok {
			p.first[id] = at
			rest := string(m[3])
			if strings.HasPrefix(rest, "/play/") {
				rest = "/play/{id}"
			}
			p.req[id] = string(m[1]) + " /channels/{id}" + rest
		}
	}
}

// copyEvents copies the websocket from Asterisk (s) to vipgate (c) frame
// by frame and notes when each StasisStart of app vipgate was written.
func (p *ARIProxy) copyEvents(c net.Conn, s net.Conn) {
	r := bufio.NewReaderSize(s, 64<<10)
	// The handshake answer, up to the empty line.
	for {
		line, err := r.ReadSlice('\n')
		if _, werr := c.Write(line); err != nil || werr != nil {
			return
		}
		if len(bytes.TrimSpace(line)) == 0 {
			break
		}
	}
	hdr := make([]byte, 10)
	for {
		if _, err := io.ReadFull(r, hdr[:2]); err != nil {
			return
		}
		h := 2
		n := uint64(hdr[1] & 0x7f)
		switch n {
		case 126:
			if _, err := io.ReadFull(r, hdr[2:4]); err != nil {
				return
			}
			n, h = uint64(binary.BigEndian.Uint16(hdr[2:4])), 4
		case 127:
			if _, err := io.ReadFull(r, hdr[2:10]); err != nil {
				return
			}
			n, h = binary.BigEndian.Uint64(hdr[2:10]), 10
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			return
		}
		var ev struct {
			Type        string `json:"type"`
			Application string `json:"application"`
			Channel     struct {
				ID string `json:"id"`
			} `json:"channel"`
		}
		start := hdr[0]&0x0f == 1 && bytes.Contains(payload, []byte(`"StasisStart"`)) && json.Unmarshal(payload, &ev) == nil &&
			ev.Type == "StasisStart" && ev.Application == "vipgate"
		// The time is taken before the write, so that the write counts
		// against vipgate, not for it.
		at := time.Now()
		if _, err := c.Write(append(hdr[:h:h], payload...)); err != nil {
			return
		}
		if start {
			p.mu.Lock()
			if _, ok := p.start[ev.Channel.ID]; !ok {
				p.start[ev.Channel.ID] = at
			}
			p.mu.Unlock()
		}
	}
}
