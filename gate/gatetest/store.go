package gatetest

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// Store is an in-memory gate.Store. Set Err to make every method fail with
// it (a dead store). It is safe for concurrent use.
type Store struct {
	mu        sync.Mutex
	err       error
	block     bool
	blocked   []Blocked
	gates     map[string]*gate.Gate
	entries   map[string]map[string]*gate.Entry // gate → pattern → entry
	nextID    int64
	calls     []*gate.CallRecord
	callID    int64 // the last call-log ID handed out
	audit     []*gate.AuditEntry
	auditID   int64
	failures  map[string][]time.Time
	lockouts  map[string]*gate.Lockout
	prompts   map[string]*gate.PromptFile
	calendars map[string]*gate.CalendarCopy
	tokens    map[string]*gate.Token
	accounts  map[string]map[string]*gate.Account // gate → number → account
	grants    grantTable
	sessions  map[string]gate.ConsoleSession // by key
}

var _ gate.Store = (*Store)(nil)

// NewStore returns an empty Store.
func NewStore() *Store {
	return &Store{
		gates:     map[string]*gate.Gate{},
		entries:   map[string]map[string]*gate.Entry{},
		failures:  map[string][]time.Time{},
		lockouts:  map[string]*gate.Lockout{},
		prompts:   map[string]*gate.PromptFile{},
		calendars: map[string]*gate.CalendarCopy{},
		tokens:    map[string]*gate.Token{},
	}
}

// SetErr makes every method fail with err (nil heals the store).
func (s *Store) SetErr(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

// SetBlocking makes every method block until its context is done and then
// fail with gate.ErrUnavailable, as a store that does not answer (false
// heals it). Calls without a deadline block until they are cancelled.
func (s *Store) SetBlocking(block bool) {
	s.mu.Lock()
	s.block = block
	s.mu.Unlock()
}

// Blocked is one call into a blocking store: how long its context allowed
// it to wait (0 without a deadline).
type Blocked struct {
	Allowed time.Duration
}

// Blocked returns the calls that blocked, in order.
func (s *Store) Blocked() []Blocked {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.blocked)
}

func (s *Store) lock(ctx context.Context) error {
	s.mu.Lock()
	if s.block {
		var b Blocked
		if dl, ok := ctx.Deadline(); ok {
			b.Allowed = time.Until(dl)
		}
		s.blocked = append(s.blocked, b)
		s.mu.Unlock()
		<-ctx.Done()
		return fmt.Errorf("gatetest: blocked until %w: %w", context.Cause(ctx), gate.ErrUnavailable)
	}
	if s.err != nil {
		err := s.err
		s.mu.Unlock()
		return err
	}
	if err := ctx.Err(); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("gatetest: %w", gate.ErrUnavailable)
	}
	return nil
}

func cloneGate(g *gate.Gate) *gate.Gate { return g.Clone() }

// Ping implements gate.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	s.mu.Unlock()
	return nil
}

// Close implements gate.Store.
func (s *Store) Close() error { return nil }

// ListGates implements gate.Store.
func (s *Store) ListGates(ctx context.Context) ([]*gate.Gate, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := make([]*gate.Gate, 0, len(s.gates))
	for _, g := range s.gates {
		out = append(out, cloneGate(g))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// GetGate implements gate.Store.
func (s *Store) GetGate(ctx context.Context, id string) (*gate.Gate, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	g, ok := s.gates[id]
	if !ok {
		return nil, fmt.Errorf("gate %q: %w", id, gate.ErrNotFound)
	}
	return cloneGate(g), nil
}

// CreateGate implements gate.Store.
func (s *Store) CreateGate(ctx context.Context, g *gate.Gate) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.gates[g.ID]; ok {
		return fmt.Errorf("gate %q: %w", g.ID, gate.Duplicate("gates"))
	}
	now := time.Now().UTC()
	g.CreatedAt, g.UpdatedAt = now, now
	s.gates[g.ID] = cloneGate(g)
	return nil
}

// UpdateGate implements gate.Store.
func (s *Store) UpdateGate(ctx context.Context, g *gate.Gate) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	old, ok := s.gates[g.ID]
	if !ok {
		return fmt.Errorf("gate %q: %w", g.ID, gate.ErrNotFound)
	}
	g.CreatedAt, g.UpdatedAt = old.CreatedAt, time.Now().UTC()
	c := cloneGate(g)
	c.Override = old.Override
	s.gates[g.ID] = c
	return nil
}

// DeleteGate implements gate.Store.
func (s *Store) DeleteGate(ctx context.Context, id string) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.gates[id]; !ok {
		return fmt.Errorf("gate %q: %w", id, gate.ErrNotFound)
	}
	delete(s.gates, id)
	delete(s.entries, id)
	delete(s.accounts, id)
	s.grants.dropGate(id)
	for k, p := range s.prompts {
		if p.GateID == id {
			delete(s.prompts, k)
		}
	}
	return nil
}

// SetOverride implements gate.Store.
func (s *Store) SetOverride(ctx context.Context, id string, o *gate.Override) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	g, ok := s.gates[id]
	if !ok {
		return fmt.Errorf("gate %q: %w", id, gate.ErrNotFound)
	}
	if o == nil {
		g.Override = nil
	} else {
		c := *o
		g.Override = &c
	}
	return nil
}

// LookupEntry implements gate.Store.
func (s *Store) LookupEntry(ctx context.Context, gateID, number string, at time.Time) (*gate.Entry, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if e := s.lookupLocked(gateID, number, at); e != nil {
		return e, nil
	}
	return nil, fmt.Errorf("entry for %s: %w", number, gate.ErrNotFound)
}

// lookupLocked returns a copy of the entry LookupEntry finds, or nil: the
// number's and its prefixes' entries valid at at, deny before allow
// before PIN, longest first within a kind. s.mu is held.
func (s *Store) lookupLocked(gateID, number string, at time.Time) *gate.Entry {
	es := s.entries[gateID]
	var best *gate.Entry
	// Prefixes are longest first: the first of the best-ranked kind wins.
	for _, k := range gate.Prefixes(number) {
		if e, ok := es[k]; ok && e.ValidAt(at) && (best == nil || e.EntryKind().Rank() < best.EntryKind().Rank()) {
			best = e
		}
	}
	if best == nil {
		return nil
	}
	c := *best
	return &c
}

// ReadCall implements gate.Store.
func (s *Store) ReadCall(ctx context.Context, gateID string, keys []string, number string, now time.Time) (gate.CallState, error) {
	if err := s.lock(ctx); err != nil {
		return gate.CallState{}, err
	}
	defer s.mu.Unlock()
	var st gate.CallState
	for _, k := range keys {
		if l, ok := s.lockouts[key(gateID, k)]; ok && now.Before(l.Until) {
			c := *l
			st.Lockouts = append(st.Lockouts, &c)
		}
	}
	if number != "" {
		st.Entry = s.lookupLocked(gateID, number, now)
	}
	st.Grants = s.grants.usable(gateID, number, now)
	return st, nil
}

// GetEntry implements gate.Store.
func (s *Store) GetEntry(ctx context.Context, gateID string, id int64) (*gate.Entry, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	for _, e := range s.entries[gateID] {
		if e.ID == id {
			c := *e
			return &c, nil
		}
	}
	return nil, fmt.Errorf("entry %d: %w", id, gate.ErrNotFound)
}

// ListEntries implements gate.Store.
func (s *Store) ListEntries(ctx context.Context, gateID string, f gate.EntryFilter) ([]*gate.Entry, int, error) {
	if err := s.lock(ctx); err != nil {
		return nil, 0, err
	}
	defer s.mu.Unlock()
	var all []*gate.Entry
	for _, e := range s.entries[gateID] {
		if f.Caller == "" || strings.HasPrefix(e.Pattern, strings.TrimSuffix(f.Caller, "*")) {
			c := *e
			all = append(all, &c)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Pattern < all[j].Pattern })
	total := len(all)
	if f.NoTotal {
		total = -1
	}
	if f.After != "" {
		all = slices.DeleteFunc(all, func(e *gate.Entry) bool { return e.Pattern <= f.After })
	}
	return page(all, f.Offset, f.Limit), total, nil
}

func page[T any](all []T, offset, limit int) []T {
	if limit <= 0 {
		limit = 100
	}
	if offset >= len(all) {
		return []T{}
	}
	return all[offset:min(offset+limit, len(all))]
}

// PutEntry implements gate.Store.
func (s *Store) PutEntry(ctx context.Context, e *gate.Entry) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	return s.putLocked(e)
}

func (s *Store) putLocked(e *gate.Entry) error {
	if e.Pattern == "" {
		return gate.Invalid("caller", "is empty")
	}
	if err := e.CheckKind(""); err != nil {
		return err
	}
	e.Kind = e.EntryKind()
	if _, ok := s.gates[e.GateID]; !ok {
		return fmt.Errorf("gate %q: %w", e.GateID, gate.ErrNotFound)
	}
	es := s.entries[e.GateID]
	if es == nil {
		es = map[string]*gate.Entry{}
		s.entries[e.GateID] = es
	}
	now := time.Now().UTC()
	if e.ID == 0 {
		if _, ok := es[e.Pattern]; ok {
			return fmt.Errorf("entry %s: %w", e.Pattern, gate.Duplicate("entries"))
		}
		s.nextID++
		e.ID, e.CreatedAt, e.UpdatedAt = s.nextID, now, now
		c := *e
		es[e.Pattern] = &c
		return nil
	}
	for k, old := range es {
		if old.ID != e.ID {
			continue
		}
		if other, ok := es[e.Pattern]; ok && other.ID != e.ID {
			return fmt.Errorf("entry %s: %w", e.Pattern, gate.Duplicate("entries"))
		}
		delete(es, k)
		e.CreatedAt, e.UpdatedAt = old.CreatedAt, now
		c := *e
		es[e.Pattern] = &c
		return nil
	}
	return fmt.Errorf("entry %d: %w", e.ID, gate.ErrNotFound)
}

// DeleteEntry implements gate.Store.
func (s *Store) DeleteEntry(ctx context.Context, gateID string, id int64) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	for k, e := range s.entries[gateID] {
		if e.ID == id {
			delete(s.entries[gateID], k)
			return nil
		}
	}
	return fmt.Errorf("entry %d: %w", id, gate.ErrNotFound)
}

// ImportEntries implements gate.Store.
func (s *Store) ImportEntries(ctx context.Context, gateID string, entries []*gate.Entry, opts gate.ImportOptions) (gate.ImportResult, error) {
	var res gate.ImportResult
	if err := s.lock(ctx); err != nil {
		return res, err
	}
	defer s.mu.Unlock()
	if _, ok := s.gates[gateID]; !ok {
		return res, fmt.Errorf("gate %q: %w", gateID, gate.ErrNotFound)
	}
	seen := map[string]bool{}
	next := map[string]*gate.Entry{}
	for p, e := range s.entries[gateID] {
		next[p] = e
	}
	now := time.Now().UTC()
	for i, e := range entries {
		if e.Pattern == "" {
			return gate.ImportResult{}, fmt.Errorf("entry %d: pattern is required: %w", i+1, gate.ErrInvalid)
		}
		if err := e.CheckKind(fmt.Sprintf("entries[%d].", i)); err != nil {
			return gate.ImportResult{}, err
		}
		if seen[e.Pattern] {
			return gate.ImportResult{}, fmt.Errorf("entry %s twice in import: %w", e.Pattern, gate.ErrConflict)
		}
		seen[e.Pattern] = true
		c := *e
		c.GateID = gateID
		c.Kind = e.EntryKind()
		if old, ok := next[e.Pattern]; ok {
			c.ID, c.CreatedAt = old.ID, old.CreatedAt
			res.Updated++
		} else {
			s.nextID++
			c.ID, c.CreatedAt = s.nextID, now
			res.Inserted++
		}
		c.UpdatedAt = now
		next[e.Pattern] = &c
	}
	if opts.Replace {
		for p := range next {
			if !seen[p] {
				delete(next, p)
				res.Deleted++
			}
		}
	}
	s.entries[gateID] = next
	return res, nil
}

// ImportEntriesFrom implements gate.Store: it takes every batch, then
// imports them as ImportEntries does. An error from next imports nothing.
func (s *Store) ImportEntriesFrom(ctx context.Context, gateID string, next func() ([]*gate.Entry, error), opts gate.ImportOptions) (gate.ImportResult, error) {
	var all []*gate.Entry
	for {
		batch, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return gate.ImportResult{}, fmt.Errorf("import entries: %w", err)
		}
		all = append(all, batch...)
	}
	return s.ImportEntries(ctx, gateID, all, opts)
}

// LogCall implements gate.Store.
func (s *Store) LogCall(ctx context.Context, r *gate.CallRecord) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.callID++
	r.ID = s.callID
	c := *r
	s.calls = append(s.calls, &c)
	return nil
}

// ListCalls implements gate.Store.
func (s *Store) ListCalls(ctx context.Context, f gate.CallFilter) ([]*gate.CallRecord, int, error) {
	if err := s.lock(ctx); err != nil {
		return nil, 0, err
	}
	defer s.mu.Unlock()
	var all []*gate.CallRecord
	for _, r := range s.calls {
		if (f.GateID != "" && r.GateID != f.GateID) || (f.Caller != "" && r.Caller != f.Caller) ||
			(f.Outcome != "" && r.Outcome != f.Outcome) || (!f.From.IsZero() && r.At.Before(f.From)) ||
			(!f.To.IsZero() && !r.At.Before(f.To)) {
			continue
		}
		c := *r
		all = append(all, &c)
	}
	// Newest first; among equal times the later row first.
	slices.SortStableFunc(all, func(a, b *gate.CallRecord) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return int(b.ID - a.ID)
	})
	return page(all, f.Offset, f.Limit), len(all), nil
}

// CountCalls implements gate.Store.
func (s *Store) CountCalls(ctx context.Context, f gate.CallFilter) (map[gate.Outcome]int, error) {
	f.Offset, f.Limit = 0, math.MaxInt
	rs, _, err := s.ListCalls(ctx, f)
	if err != nil {
		return nil, err
	}
	out := map[gate.Outcome]int{}
	for _, r := range rs {
		out[r.Outcome]++
	}
	return out, nil
}

// PruneCalls implements gate.Store.
func (s *Store) PruneCalls(ctx context.Context, before time.Time) (int64, error) {
	return s.PruneGateCalls(ctx, before, gate.PruneScope{Except: true})
}

// PruneGateCalls implements gate.Store.
func (s *Store) PruneGateCalls(ctx context.Context, before time.Time, scope gate.PruneScope) (int64, error) {
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	keep := s.calls[:0]
	for _, r := range s.calls {
		if !r.At.Before(before) || slices.Contains(scope.GateIDs, r.GateID) == scope.Except {
			keep = append(keep, r)
		}
	}
	n := int64(len(s.calls) - len(keep))
	clear(s.calls[len(keep):])
	s.calls = keep
	return n, nil
}

// Calls returns every call-log row, oldest first.
func (s *Store) Calls() []*gate.CallRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*gate.CallRecord(nil), s.calls...)
}

func key(gateID, caller string) string { return gateID + "\x00" + caller }

// AddFailure implements gate.Store.
func (s *Store) AddFailure(ctx context.Context, gateID, caller string, t time.Time, window time.Duration) (int, error) {
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	k := key(gateID, caller)
	s.failures[k] = append(s.failures[k], t)
	n := 0
	for _, at := range s.failures[k] {
		if at.After(t.Add(-window)) && !at.After(t) {
			n++
		}
	}
	return n, nil
}

// ReserveGuess implements gate.Store.
func (s *Store) ReserveGuess(ctx context.Context, gateID string, keys []gate.GuessKey, t time.Time, window time.Duration) ([]int, bool, error) {
	if err := s.lock(ctx); err != nil {
		return nil, false, err
	}
	defer s.mu.Unlock()
	counts := make([]int, len(keys))
	ok := true
	for i, k := range keys {
		for _, at := range s.failures[key(gateID, k.Caller)] {
			if at.After(t.Add(-window)) {
				counts[i]++
			}
		}
		if counts[i] >= k.Limit {
			ok = false
		}
	}
	if !ok {
		return counts, false, nil
	}
	for i, k := range keys {
		gk := key(gateID, k.Caller)
		s.failures[gk] = append(s.failures[gk], t)
		counts[i]++
	}
	return counts, true, nil
}

// ReleaseGuess implements gate.Store.
func (s *Store) ReleaseGuess(ctx context.Context, gateID, caller string, t time.Time) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	k := key(gateID, caller)
	ts := s.failures[k]
	if i := slices.IndexFunc(ts, t.Equal); i >= 0 {
		s.failures[k] = slices.Delete(ts, i, i+1)
	}
	return nil
}

// ResetFailures implements gate.Store.
func (s *Store) ResetFailures(ctx context.Context, gateID, caller string) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	delete(s.failures, key(gateID, caller))
	return nil
}

// SetLockout implements gate.Store.
func (s *Store) SetLockout(ctx context.Context, l *gate.Lockout) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	c := *l
	s.lockouts[key(l.GateID, l.Caller)] = &c
	return nil
}

// GetLockout implements gate.Store.
func (s *Store) GetLockout(ctx context.Context, gateID, caller string, now time.Time) (*gate.Lockout, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	l, ok := s.lockouts[key(gateID, caller)]
	if !ok || !now.Before(l.Until) {
		return nil, fmt.Errorf("lockout: %w", gate.ErrNotFound)
	}
	c := *l
	return &c, nil
}

// ListLockouts implements gate.Store.
func (s *Store) ListLockouts(ctx context.Context, gateID string, now time.Time) ([]*gate.Lockout, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var out []*gate.Lockout
	for _, l := range s.lockouts {
		if (gateID == "" || l.GateID == gateID) && now.Before(l.Until) {
			c := *l
			out = append(out, &c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return key(out[i].GateID, out[i].Caller) < key(out[j].GateID, out[j].Caller) })
	return out, nil
}

// ClearLockout implements gate.Store.
func (s *Store) ClearLockout(ctx context.Context, gateID, caller string) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	k := key(gateID, caller)
	if _, ok := s.lockouts[k]; !ok {
		return fmt.Errorf("lockout: %w", gate.ErrNotFound)
	}
	delete(s.lockouts, k)
	delete(s.failures, k)
	return nil
}

func promptKey(gateID, lang string, k gate.PromptKey) string {
	return gateID + "\x00" + lang + "\x00" + string(k)
}

// PutPrompt implements gate.Store.
func (s *Store) PutPrompt(ctx context.Context, p *gate.PromptFile) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	c := *p
	c.Data = append([]byte(nil), p.Data...)
	c.Size = len(c.Data)
	if c.CreatedAt.IsZero() {
		c.CreatedAt = time.Now().UTC()
	}
	s.prompts[promptKey(p.GateID, p.Lang, p.Key)] = &c
	return nil
}

// GetPrompt implements gate.Store.
func (s *Store) GetPrompt(ctx context.Context, gateID, lang string, k gate.PromptKey) (*gate.PromptFile, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	p, ok := s.prompts[promptKey(gateID, lang, k)]
	if !ok {
		return nil, fmt.Errorf("prompt: %w", gate.ErrNotFound)
	}
	c := *p
	return &c, nil
}

// ListPrompts implements gate.Store.
func (s *Store) ListPrompts(ctx context.Context, gateID string) ([]*gate.PromptFile, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var out []*gate.PromptFile
	for _, p := range s.prompts {
		if gateID == "" || p.GateID == gateID {
			c := *p
			c.Data = nil
			out = append(out, &c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return promptKey(out[i].GateID, out[i].Lang, out[i].Key) < promptKey(out[j].GateID, out[j].Lang, out[j].Key)
	})
	return out, nil
}

// DeletePrompt implements gate.Store.
func (s *Store) DeletePrompt(ctx context.Context, gateID, lang string, k gate.PromptKey) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	pk := promptKey(gateID, lang, k)
	if _, ok := s.prompts[pk]; !ok {
		return fmt.Errorf("prompt: %w", gate.ErrNotFound)
	}
	delete(s.prompts, pk)
	return nil
}

// CreateToken implements gate.Store.
func (s *Store) CreateToken(ctx context.Context, t *gate.Token) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.tokens[t.ID]; ok {
		return fmt.Errorf("token: %w", gate.ErrConflict)
	}
	c := *t
	s.tokens[t.ID] = &c
	return nil
}

// GetToken implements gate.Store.
func (s *Store) GetToken(ctx context.Context, id string) (*gate.Token, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	t, ok := s.tokens[id]
	if !ok {
		return nil, fmt.Errorf("token: %w", gate.ErrNotFound)
	}
	c := *t
	return &c, nil
}

// ListTokens implements gate.Store.
func (s *Store) ListTokens(ctx context.Context) ([]*gate.Token, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var out []*gate.Token
	for _, t := range s.tokens {
		c := *t
		out = append(out, &c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

// RevokeToken implements gate.Store.
func (s *Store) RevokeToken(ctx context.Context, id string, t time.Time) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	tok, ok := s.tokens[id]
	if !ok {
		return fmt.Errorf("token: %w", gate.ErrNotFound)
	}
	tok.RevokedAt = t
	return nil
}

// AppendAudit implements gate.Store.
func (s *Store) AppendAudit(ctx context.Context, e *gate.AuditEntry) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	s.auditID++
	e.ID = s.auditID
	c := *e
	c.Changes = slices.Clone(e.Changes)
	if c.Changes == nil {
		c.Changes = []gate.AuditChange{}
	}
	s.audit = append(s.audit, &c)
	return nil
}

// ListAudit implements gate.Store.
func (s *Store) ListAudit(ctx context.Context, f gate.AuditFilter) ([]*gate.AuditEntry, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	var out []*gate.AuditEntry
	for i := len(s.audit) - 1; i >= 0 && len(out) < limit; i-- {
		e := s.audit[i]
		if (f.GateID != "" && e.GateID != f.GateID) || (f.Actor != "" && e.Actor != f.Actor) ||
			(f.Action != "" && e.Action != f.Action) || (f.Object != "" && e.Object != f.Object) ||
			(!f.From.IsZero() && e.At.Before(f.From)) || (!f.To.IsZero() && !e.At.Before(f.To)) ||
			(f.BeforeID != 0 && e.ID >= f.BeforeID) {
			continue
		}
		c := *e
		c.Changes = slices.Clone(e.Changes)
		out = append(out, &c)
	}
	return out, nil
}

// PruneAudit implements gate.Store.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	keep := s.audit[:0]
	for _, e := range s.audit {
		if !e.At.Before(before) {
			keep = append(keep, e)
		}
	}
	n := int64(len(s.audit) - len(keep))
	clear(s.audit[len(keep):])
	s.audit = keep
	return n, nil
}

// PutCalendar implements gate.CalendarStore.
func (s *Store) PutCalendar(ctx context.Context, c *gate.CalendarCopy) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	cp := *c
	cp.Body = append([]byte{}, c.Body...)
	s.calendars[c.GateID+"\x00"+c.Source] = &cp
	return nil
}

// GetCalendar implements gate.CalendarStore.
func (s *Store) GetCalendar(ctx context.Context, gateID, source string) (*gate.CalendarCopy, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	c, ok := s.calendars[gateID+"\x00"+source]
	if !ok {
		return nil, fmt.Errorf("calendar %s: %w", gateID, gate.ErrNotFound)
	}
	cp := *c
	cp.Body = append([]byte{}, c.Body...)
	return &cp, nil
}

// EraseCaller implements gate.Store.
func (s *Store) EraseCaller(ctx context.Context, gateID, number string) (gate.Erasure, error) {
	var out gate.Erasure
	if err := gate.ValidErasable(number); err != nil {
		return out, err
	}
	if err := s.lock(ctx); err != nil {
		return out, err
	}
	defer s.mu.Unlock()
	if _, ok := s.gates[gateID]; gateID != "" && !ok {
		return out, fmt.Errorf("gate %q: %w", gateID, gate.ErrNotFound)
	}
	at := func(g string) bool { return gateID == "" || g == gateID }
	keep := s.calls[:0]
	for _, r := range s.calls {
		if r.Caller == number && at(r.GateID) {
			out.Calls++
		} else {
			keep = append(keep, r)
		}
	}
	clear(s.calls[len(keep):])
	s.calls = keep
	for g, es := range s.entries {
		if _, ok := es[number]; ok && at(g) {
			delete(es, number)
			out.Entries++
		}
	}
	mine := func(k string) bool {
		g, c, _ := strings.Cut(k, "\x00")
		return c == number && at(g)
	}
	out.Grants = s.grants.eraseCaller(number, at)
	for k := range s.lockouts {
		if mine(k) {
			delete(s.lockouts, k)
			out.Lockouts++
		}
	}
	for k := range s.failures {
		if mine(k) {
			delete(s.failures, k)
			out.Counters++
		}
	}
	return out, nil
}
