package devstate_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/ari"
	"github.com/vipgate/vipgate/ari/arifake"
	"github.com/vipgate/vipgate/devstate"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

var key = []byte("0123456789abcdef0123456789abcdef")

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	fake   *arifake.Server
	store  *gatetest.Store
	sync   *devstate.Syncer
	clock  *clock
	hasher *gate.Hasher
	sets   *int
}

func newEnv(t *testing.T, gates ...*gate.Gate) *env {
	t.Helper()
	f := arifake.New(arifake.Config{User: "u", Password: "p"})
	t.Cleanup(f.Close)
	cl, err := ari.NewClient(ari.ClientConfig{BaseURL: f.URL(), User: "u", Password: "p"})
	if err != nil {
		t.Fatal(err)
	}
	st := gatetest.NewStore()
	for _, g := range gates {
		g.Normalize()
		if err := st.CreateGate(context.Background(), g); err != nil {
			t.Fatal(err)
		}
	}
	h, err := gate.NewHasher(key)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	sets := 0
	s := devstate.New(devstate.Config{Gates: st.ListGates, Now: c.now, Set: func(ctx context.Context, dev, state string) error {
		sets++
		return cl.SetDeviceState(ctx, dev, state)
	}})
	return &env{fake: f, store: st, sync: s, clock: c, hasher: h, sets: &sets}
}

func plainGate(id string) *gate.Gate {
	return &gate.Gate{ID: id, Enabled: true, Match: gate.Match{Numbers: []string{"1000"}}, Activation: gate.Activation{Mode: gate.ActiveAlways},
		Identification: gate.Identification{Mode: gate.IdentTable}}
}

func (e *env) want(t *testing.T, dev, state string) {
	t.Helper()
	e.sync.Sync(context.Background())
	if got := e.fake.DeviceState(dev); got != state {
		t.Errorf("%s = %s, want %s (changes %q)", dev, got, state, e.fake.DeviceChanges())
	}
}

// TestSyncStartAndStoreChanges: at start every gate's device is set;
// then a change written to the store (as the command line does, from
// another process, or another instance) and an expiry show at the next
// round, and a round without changes sets nothing.
func TestSyncStartAndStoreChanges(t *testing.T) {
	blf := plainGate("night")
	blf.PhoneOverride = &gate.PhoneOverride{Device: "Stasis:night-blf"}
	e := newEnv(t, plainGate("hotline"), blf)
	ctx := context.Background()
	e.want(t, "Custom:vipgate-hotline", "NOT_INUSE")
	e.want(t, "Stasis:night-blf", "NOT_INUSE")
	before := *e.sets
	e.sync.Sync(ctx)
	if *e.sets != before {
		t.Errorf("a round without changes set %d devices", *e.sets-before)
	}

	if err := e.store.SetOverride(ctx, "hotline", &gate.Override{Active: true, Until: e.clock.now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	e.want(t, "Custom:vipgate-hotline", "INUSE")
	if err := e.store.SetOverride(ctx, "night", &gate.Override{Active: false}); err != nil {
		t.Fatal(err)
	}
	e.want(t, "Stasis:night-blf", "ONHOLD")
	// The next round comes no later than the expiry.
	e.clock.add(59*time.Minute + 59*time.Second)
	if wait := e.sync.Sync(ctx); wait > time.Second || wait <= 0 {
		t.Errorf("wait %v, want at most 1s (the expiry)", wait)
	}
	e.clock.add(time.Second)
	e.want(t, "Custom:vipgate-hotline", "NOT_INUSE")
	if err := e.store.SetOverride(ctx, "night", nil); err != nil {
		t.Fatal(err)
	}
	e.want(t, "Stasis:night-blf", "NOT_INUSE")

	// A deleted gate's device is set to NOT_INUSE once.
	if err := e.store.SetOverride(ctx, "hotline", &gate.Override{Active: true}); err != nil {
		t.Fatal(err)
	}
	e.want(t, "Custom:vipgate-hotline", "INUSE")
	if err := e.store.DeleteGate(ctx, "hotline"); err != nil {
		t.Fatal(err)
	}
	e.want(t, "Custom:vipgate-hotline", "NOT_INUSE")
	n := len(e.fake.DeviceChanges())
	e.sync.Sync(ctx)
	if len(e.fake.DeviceChanges()) != n {
		t.Errorf("the deleted gate's device is set again: %q", e.fake.DeviceChanges())
	}

	// Resync sets every device again (Asterisk may have restarted).
	n = len(e.fake.DeviceChanges())
	e.sync.Resync()
	e.sync.Sync(ctx)
	if got := e.fake.DeviceChanges()[n:]; !slices.Equal(got, []string{"Stasis:night-blf=NOT_INUSE"}) {
		t.Errorf("after Resync: %q", got)
	}
}

// TestSyncAdminAPI: an override set and cleared through the admin API
// (which the web console uses too) shows on the device.
func TestSyncAdminAPI(t *testing.T) {
	e := newEnv(t, plainGate("hotline"))
	e.want(t, "Custom:vipgate-hotline", "NOT_INUSE")
	clear, tok, err := admin.NewToken(gate.RoleOperator, "op")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.CreateToken(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(admin.NewServer(admin.Deps{Store: gate.Audited(e.store, "api"), Hasher: e.hasher, Metrics: admin.NewMetrics(), Region: "DE", Now: e.clock.now}))
	defer srv.Close()
	do := func(method, body string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+"/api/v1/gates/hotline/override", bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer "+clear)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("%s override: %s", method, resp.Status)
		}
	}
	do("PUT", `{"active": false}`)
	e.want(t, "Custom:vipgate-hotline", "ONHOLD")
	do("PUT", `{"active": true}`)
	e.want(t, "Custom:vipgate-hotline", "INUSE")
	do("DELETE", "")
	e.want(t, "Custom:vipgate-hotline", "NOT_INUSE")
}

// TestSyncPhoneOverride: an override set from a phone (gate.Flow over the
// fake ARI) shows on the device: set from the call itself, and kept by
// the Syncer.
func TestSyncPhoneOverride(t *testing.T) {
	h, _ := gate.NewHasher(key)
	g := plainGate("hotline")
	ph := h.Hash("4711")
	g.PhoneOverride = &gate.PhoneOverride{PIN: &ph}
	e := newEnv(t, g)
	e.want(t, "Custom:vipgate-hotline", "NOT_INUSE")
	flow := gate.NewFlow(gate.NewEngine(gate.EngineConfig{Store: e.store, Hasher: h, Region: "DE"}), gate.FlowConfig{Counters: e.store, Now: e.clock.now})
	c := &gatetest.Call{CallInfo: gate.CallInfo{ID: "p", Source: "test", Caller: "201", GateName: "hotline",
		Override: &gate.OverrideRequest{Gate: "hotline", Action: gate.ActionToggle}}, Steps: []gatetest.Step{{Digits: "4711", Terminated: true}}}
	flow.Run(context.Background(), c)
	if got := c.Var("DEVICE_STATE(Custom:vipgate-hotline)"); got != "ONHOLD" {
		t.Errorf("the call set DEVICE_STATE %q, want ONHOLD", got)
	}
	e.want(t, "Custom:vipgate-hotline", "ONHOLD")
}

// TestSyncRetriesFailedSets: a set that fails is retried at the next
// round.
func TestSyncRetriesFailedSets(t *testing.T) {
	st := gatetest.NewStore()
	g := plainGate("hotline")
	g.Normalize()
	if err := st.CreateGate(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	var calls []string
	fail := true
	s := devstate.New(devstate.Config{Gates: st.ListGates, Set: func(ctx context.Context, dev, state string) error {
		calls = append(calls, dev+"="+state)
		if fail {
			return gate.ErrUnavailable
		}
		return nil
	}})
	s.Sync(context.Background())
	fail = false
	s.Sync(context.Background())
	s.Sync(context.Background())
	if want := []string{"Custom:vipgate-hotline=NOT_INUSE", "Custom:vipgate-hotline=NOT_INUSE"}; !slices.Equal(calls, want) {
		t.Errorf("sets %q, want %q", calls, want)
	}
}
