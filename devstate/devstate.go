package devstate

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// Defaults of a Syncer.
const (
	DefaultInterval = time.Second
	DefaultRefresh  = 5 * time.Minute
	// setTimeout bounds one round of device updates.
	setTimeout = 10 * time.Second
)

// Config wires a Syncer.
type Config struct {
	// Gates lists the gates (the store's ListGates). Required.
	Gates func(ctx context.Context) ([]*gate.Gate, error)
	// Set sets a device's state (ari.App.SetDeviceState). Required.
	Set func(ctx context.Context, device, state string) error
	// Interval is how often the gates are read (default DefaultInterval);
	// Refresh how often every device is set again, changed or not
	// (default DefaultRefresh).
	Interval, Refresh time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger, nil means discard.
	Logger *slog.Logger
}

// Syncer keeps devices in step with the gates' overrides. Run it in a
// goroutine; Resync may be called from any goroutine.
type Syncer struct {
	cfg  Config
	log  *slog.Logger
	kick chan struct{}

	mu sync.Mutex
	// last is the state last set per device; a device not in it is set
	// at the next round.
	last map[string]string
	// failing says which devices' last set failed (logged once).
	failing map[string]bool
}

// New returns a Syncer.
func New(cfg Config) *Syncer {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = DefaultRefresh
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Syncer{cfg: cfg, log: log, kick: make(chan struct{}, 1), last: map[string]string{}, failing: map[string]bool{}}
}

// Resync makes the next round set every device again (and run now), for
// example after Asterisk was reconnected (it may have restarted).
func (s *Syncer) Resync() {
	s.mu.Lock()
	clear(s.last)
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run sets the devices until ctx is done: at once, then every interval
// and when an override expires.
func (s *Syncer) Run(ctx context.Context) {
	refresh := time.NewTicker(s.cfg.Refresh)
	defer refresh.Stop()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-refresh.C:
			s.mu.Lock()
			clear(s.last)
			s.mu.Unlock()
			continue
		case <-s.kick:
		case <-t.C:
		}
		wait := s.Sync(ctx)
		t.Reset(wait)
	}
}

// Sync runs one round: it reads the gates and sets each device whose
// state differs from the one last set. It returns how long to wait
// before the next round: the interval, or less when an override expires
// sooner.
func (s *Syncer) Sync(ctx context.Context) time.Duration {
	ctx, cancel := context.WithTimeout(ctx, setTimeout)
	defer cancel()
	gates, err := s.cfg.Gates(ctx)
	if err != nil {
		s.log.Debug("device states: read gates", "err", err)
		return s.cfg.Interval
	}
	now := s.cfg.Now()
	wait := s.cfg.Interval
	want := make(map[string]string, len(gates))
	owner := make(map[string]string, len(gates))
	for _, g := range gates {
		dev := g.Device()
		want[dev] = g.OverrideStateAt(now).DeviceState()
		owner[dev] = g.ID
		if exp := g.ExpiryAfter(now); !exp.IsZero() && exp.Sub(now) < wait {
			wait = max(exp.Sub(now), time.Millisecond)
		}
	}
	s.mu.Lock()
	for dev := range s.last {
		if _, ok := want[dev]; !ok {
			// The gate is gone (or names another device now).
			want[dev] = gate.DeviceNotInUse
		}
	}
	var todo [][2]string
	for dev, st := range want {
		if s.last[dev] != st {
			todo = append(todo, [2]string{dev, st})
		}
	}
	s.mu.Unlock()
	for _, d := range todo {
		dev, st := d[0], d[1]
		err := s.cfg.Set(ctx, dev, st)
		s.mu.Lock()
		switch {
		case err != nil:
			s.last[dev] = "" // differs from every state: retried next round
			if !s.failing[dev] {
				s.log.Warn("device state: set failed; retrying", "device", dev, "gate", owner[dev], "err", err)
			}
			s.failing[dev] = true
		case owner[dev] == "":
			delete(s.last, dev)
			delete(s.failing, dev)
		default:
			s.last[dev] = st
			delete(s.failing, dev)
			s.log.Debug("device state set", "device", dev, "gate", owner[dev], "state", st)
		}
		s.mu.Unlock()
	}
	return wait
}
