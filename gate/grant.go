package gate

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Grant is a granted PIN: a random PIN that vipgate generated for one
// caller of a gate, or for anyone calling it (Caller AnyCaller), valid
// for a time and/or a number of uses. It is shown once when it is made;
// only its hash is kept. A granted PIN is accepted wherever the gate asks
// for a PIN, after the caller's own PIN, the static PIN and the PIN set;
// each call it lets through uses it once. A grant that is used up,
// expired or not yet valid is no PIN at all: typing it is a wrong guess.
type Grant struct {
	ID     int64  `json:"id"`
	GateID string `json:"gate_id"`
	// Caller is the number the grant is for, normalised by the gate's
	// Numbering as entries are, or AnyCaller ("*") for anyone.
	Caller string `json:"caller"`
	// PIN is the hash of the PIN; it is never shown.
	PIN   PINHash `json:"-"`
	Label string  `json:"label,omitempty"`
	// ValidFrom and ValidUntil bound when the grant applies (zero =
	// open); a grant has a ValidUntil, a MaxUses or both.
	ValidFrom  time.Time `json:"valid_from,omitzero"`
	ValidUntil time.Time `json:"valid_until,omitzero"`
	// MaxUses is how many calls the grant lets through; 0 means any
	// number until ValidUntil.
	MaxUses int `json:"max_uses"`
	// Uses counts the calls the grant let through.
	Uses int `json:"uses"`
	// CreatedBy says who made the grant (an audit actor).
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// MaxGrants bounds the usable grants of a gate: every grant that applies
// to a call is checked against each guess, as the PINs of a PIN set are.
const MaxGrants = 100

// GrantPINLen is the length of a granted PIN when the gate's dialogue
// allows it; a gate whose min_digits is longer uses min_digits, and one
// whose max_digits is shorter uses max_digits.
const GrantPINLen = 8

// ValidAt reports whether the grant's dates include t.
func (g *Grant) ValidAt(t time.Time) bool {
	return (g.ValidFrom.IsZero() || !t.Before(g.ValidFrom)) && (g.ValidUntil.IsZero() || t.Before(g.ValidUntil))
}

// UsableAt reports whether the grant can let a call through at t: valid
// then and not used up.
func (g *Grant) UsableAt(t time.Time) bool {
	return g.ValidAt(t) && (g.MaxUses == 0 || g.Uses < g.MaxUses)
}

// State says what the grant is at t: usable, pending (not yet valid),
// expired or used_up.
func (g *Grant) State(t time.Time) string {
	switch {
	case g.MaxUses > 0 && g.Uses >= g.MaxUses:
		return "used_up"
	case !g.ValidUntil.IsZero() && !t.Before(g.ValidUntil):
		return "expired"
	case !g.ValidFrom.IsZero() && t.Before(g.ValidFrom):
		return "pending"
	}
	return "usable"
}

// LogValue logs the grant without its PIN hash.
func (g Grant) LogValue() slog.Value {
	return slog.GroupValue(slog.Int64("id", g.ID), slog.String("caller", g.Caller), slog.String("label", g.Label),
		slog.Int("uses", g.Uses), slog.Int("max_uses", g.MaxUses))
}

// GrantStore keeps granted PINs.
type GrantStore interface {
	// CreateGrant stores a new grant and sets its ID (and CreatedAt to the
	// store's clock when it is zero). ErrNotFound if the gate does not exist; ErrConflict if the gate
	// has MaxGrants grants usable at CreatedAt already.
	CreateGrant(ctx context.Context, g *Grant) error
	// ListGrants returns a gate's grants, used up and expired ones too,
	// ordered by ID, without their PIN hashes.
	ListGrants(ctx context.Context, gateID string) ([]*Grant, error)
	// DeleteGrant removes (revokes) one grant; ErrNotFound if the gate
	// has none with that ID.
	DeleteGrant(ctx context.Context, gateID string, id int64) error
	// UseGrant counts one use of a grant at now, in one atomic step: it
	// succeeds only if the grant is valid at now and not used up, and
	// then returns it with Uses counted (without its hash). However many
	// calls and instances use the same grant at once, it never counts
	// more than MaxUses uses. ErrNotFound if the grant is gone, used up
	// or not valid at now.
	UseGrant(ctx context.Context, gateID string, id int64, now time.Time) (*Grant, error)
}

// ErrGrantUnusable is what UseGrant fails with when the grant exists but
// is used up or not valid at the time (it wraps ErrNotFound).
var ErrGrantUnusable = fmt.Errorf("grant used up or not valid now: %w", ErrNotFound)

// GrantIn is a grant as the admin API and the command line ask for it.
type GrantIn struct {
	// Caller is a number in any format; "" or "*" is anyone.
	Caller string `json:"caller,omitempty"`
	// MaxUses is the number of calls the PIN lets through; 0 is any
	// number until it expires.
	MaxUses int `json:"max_uses,omitempty"`
	// ValidFor is how long the PIN is valid from now (or from
	// ValidFrom): a Go duration ("24h", "90m") or whole days ("7d").
	ValidFor string `json:"valid_for,omitempty"`
	// ValidFrom and ValidUntil take ParseValidity's forms in the gate's
	// zone; ValidUntil and ValidFor exclude each other.
	ValidFrom  string `json:"valid_from,omitempty"`
	ValidUntil string `json:"valid_until,omitempty"`
	Label      string `json:"label,omitempty"`
}

// maxGrantUses bounds MaxUses.
const maxGrantUses = 1_000_000

// NewGrant checks in for gate g (numbers read by nb) and returns the
// grant with a fresh random PIN, hashed with h, and that PIN in clear:
// the one time it exists outside the caller's head. The PIN has the
// length grantPINLen gives for g and is never one of g's weak PINs or the
// gate's static or set PIN. Problems name the field; they never hold a
// PIN.
func NewGrant(h *Hasher, g *Gate, nb *Numbering, in GrantIn, by string, now time.Time) (*Grant, string, error) {
	var errs ValidationErrors
	gr := &Grant{GateID: g.ID, Label: strings.TrimSpace(in.Label), MaxUses: in.MaxUses, CreatedBy: by, CreatedAt: now}
	switch c := strings.TrimSpace(in.Caller); c {
	case "", AnyCaller:
		gr.Caller = AnyCaller
	default:
		p, err := nb.Pattern(c)
		switch {
		case err != nil:
			errs = append(errs, &ValidationError{Field: "caller", Problem: err.Error()})
		case strings.HasSuffix(p, "*"):
			errs = append(errs, &ValidationError{Field: "caller", Problem: "must be one number, not a prefix (or empty for anyone)"})
		default:
			gr.Caller = p
		}
	}
	if in.MaxUses < 0 || in.MaxUses > maxGrantUses {
		errs = append(errs, &ValidationError{Field: "max_uses", Problem: fmt.Sprintf("must be 0 (any number until it expires) to %d", maxGrantUses)})
	}
	if utf8.RuneCountInString(gr.Label) > MaxLabelLen {
		errs = append(errs, &ValidationError{Field: "label", Problem: fmt.Sprintf("must have at most %d characters", MaxLabelLen)})
	}
	var err error
	if gr.ValidFrom, err = ParseValidity(in.ValidFrom, g.Location(), false); err != nil {
		errs = append(errs, &ValidationError{Field: "valid_from", Problem: err.Error()})
	}
	if gr.ValidUntil, err = ParseValidity(in.ValidUntil, g.Location(), true); err != nil {
		errs = append(errs, &ValidationError{Field: "valid_until", Problem: err.Error()})
	}
	if v := strings.TrimSpace(in.ValidFor); v != "" {
		d, err := ParseValidFor(v)
		switch {
		case err != nil:
			errs = append(errs, &ValidationError{Field: "valid_for", Problem: err.Error()})
		case strings.TrimSpace(in.ValidUntil) != "":
			errs = append(errs, &ValidationError{Field: "valid_for", Problem: "and valid_until exclude each other"})
		default:
			from := now
			if !gr.ValidFrom.IsZero() {
				from = gr.ValidFrom
			}
			gr.ValidUntil = from.Add(d)
		}
	}
	if len(errs) == 0 {
		switch {
		case gr.MaxUses == 0 && gr.ValidUntil.IsZero():
			errs = append(errs, &ValidationError{Field: "max_uses", Problem: "or an expiry (valid_for, valid_until) is required: a grant that never ends is a caller entry"})
		case !gr.ValidUntil.IsZero() && !gr.ValidUntil.After(now):
			errs = append(errs, &ValidationError{Field: "valid_until", Problem: "is in the past"})
		case !gr.ValidFrom.IsZero() && !gr.ValidUntil.IsZero() && !gr.ValidUntil.After(gr.ValidFrom):
			errs = append(errs, &ValidationError{Field: "valid_until", Problem: "must be after valid_from"})
		}
	}
	if len(errs) > 0 {
		return nil, "", errs
	}
	pin, err := randomPIN(grantPINLen(g), func(p string) bool { return g.Dialogue.RejectWeak && WeakPIN(p) != "" || staticMatches(h, g, p) })
	if err != nil {
		return nil, "", err
	}
	gr.PIN = h.Hash(pin)
	return gr, pin, nil
}

// ParseValidFor reads a grant's validity period: a positive Go duration
// ("24h", "90m") or whole days ("7d"), at most 366 days.
func ParseValidFor(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return 0, errors.New("is not a duration (24h, 90m) or a number of days (7d)")
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, errors.New("is not a duration (24h, 90m) or a number of days (7d)")
		}
	}
	if d <= 0 || d > 366*24*time.Hour {
		return 0, errors.New("must be more than 0 and at most 366 days")
	}
	return d, nil
}

// grantPINLen is the length of g's granted PINs: GrantPINLen within the
// gate's min_digits and max_digits.
func grantPINLen(g *Gate) int {
	lo, hi := g.Dialogue.MinDigits, g.Dialogue.MaxDigits
	if lo <= 0 {
		lo = 4
	}
	if hi <= 0 || hi > MaxPINLen {
		hi = MaxPINLen
	}
	return min(max(GrantPINLen, lo), hi)
}

// staticMatches reports whether pin is g's static PIN or one of its set:
// a grant with that PIN would give its holder the gate's own PIN.
func staticMatches(h *Hasher, g *Gate, pin string) bool {
	if g.Identification.StaticPIN != nil && h.Check(*g.Identification.StaticPIN, pin) {
		return true
	}
	for _, p := range g.Identification.PINSet {
		if h.Check(p.PIN, pin) {
			return true
		}
	}
	return false
}

// randomPIN draws n uniformly random digits with crypto/rand, again
// while refuse says no (at most 100 draws).
func randomPIN(n int, refuse func(string) bool) (string, error) {
	ten := big.NewInt(10)
	b := make([]byte, n)
	for try := 0; try < 100; try++ {
		for i := range b {
			d, err := rand.Int(rand.Reader, ten)
			if err != nil {
				return "", fmt.Errorf("grant: random PIN: %w", err)
			}
			b[i] = byte('0' + d.Int64())
		}
		if p := string(b); !refuse(p) {
			return p, nil
		}
	}
	return "", errors.New("grant: no acceptable random PIN in 100 draws")
}

// grantCheck checks typed digits against the grants that apply to a
// call. It hashes every grant for every guess (at most MaxGrants), so the
// time taken does not say whether or which one matched.
type grantCheck struct {
	hasher *Hasher
	grants []*Grant
}

// match returns the grant whose PIN digits is, or nil.
func (c *grantCheck) match(digits string) *Grant {
	var found *Grant
	for _, g := range c.grants {
		if c.hasher.Check(g.PIN, digits) && found == nil {
			found = g
		}
	}
	return found
}

// LogValue implements slog.LogValuer.
func (c *grantCheck) LogValue() slog.Value {
	return slog.StringValue(fmt.Sprintf("[%d grants]", len(c.grants)))
}

// noPIN is the expected PIN of a dialogue that only granted PINs can pass.
type noPIN struct{}

// Match implements PINCheck: nothing matches.
func (noPIN) Match(string) bool { return false }

// LogValue implements slog.LogValuer.
func (noPIN) LogValue() slog.Value { return slog.StringValue("[no pin]") }

// grantsOnly asks for a PIN that only the call's grants can pass, when
// there are any, instead of a reject for why; it reports whether it did.
func (e *Engine) grantsOnly(d *Decision, g *Gate, why string) bool {
	if len(d.grants) == 0 || e.cfg.Hasher == nil {
		return false
	}
	d.ask(g, noPIN{}, g.Routes.OnCorrect, g.Routes.OnIncorrect, 0, "granted PIN only: "+why)
	return true
}

// attachGrants lets the PIN dialogue of d accept the call's grants too,
// and says so in the trace (how many, never which).
func (e *Engine) attachGrants(d *Decision) {
	if len(d.grants) == 0 {
		return
	}
	if d.Verdict != VerdictAskPIN || d.AskPIN == nil || e.cfg.Hasher == nil {
		d.trace("grants", "%d granted PINs of this caller or anyone usable now; not asked for a PIN", len(d.grants))
		return
	}
	if d.AskPIN.Account {
		// A grant belongs to a caller number, not to an account.
		d.trace("grants", "%d granted PINs of this caller or anyone usable now; not taken by an account dialogue", len(d.grants))
		return
	}
	d.AskPIN.granted = &grantCheck{hasher: e.cfg.Hasher, grants: d.grants}
	d.trace("grants", "%d granted PINs of this caller or anyone usable now are accepted too", len(d.grants))
}

// useGrant counts one use of gr, the grant the caller's digits matched,
// and returns it, or nil when it cannot be used: used up or expired since
// the call was decided (another call was quicker), or the store failed.
// Either way the guess is then wrong, as for any other wrong PIN.
func (f *Flow) useGrant(ctx context.Context, log *slog.Logger, d *Decision, g *Gate, gr *Grant) *Grant {
	var used *Grant
	err := d.budget.do(context.WithoutCancel(ctx), func(ctx context.Context) (err error) {
		used, err = f.engine.cfg.Store.UseGrant(ctx, g.ID, gr.ID, f.cfg.Now())
		return err
	})
	switch {
	case errors.Is(err, ErrNotFound):
		log.Info("granted PIN used up or expired; the guess is wrong", "grant", gr.ID)
		return nil
	case err != nil:
		log.Warn("count the use of a granted PIN failed; the guess is wrong", "grant", gr.ID, "err", err)
		return nil
	}
	log.Info("granted PIN used", "grant", used.ID, "uses", used.Uses, "max_uses", used.MaxUses)
	return used
}

// grantVars returns VarLabel from the grant that let the call through, if
// one did and it has a label.
func grantVars(used *Grant) []Var {
	if used == nil || used.Label == "" {
		return nil
	}
	return []Var{{VarLabel, used.Label}}
}

// CreateGrant records grant.create with the grant's fields; the PIN and
// its hash are no field of a Grant's JSON, so they never reach the log.
func (a *audited) CreateGrant(ctx context.Context, g *Grant) error {
	if err := a.Store.CreateGrant(ctx, g); err != nil {
		return err
	}
	return a.record(ctx, "grant.create", g.GateID, strconv.FormatInt(g.ID, 10), AuditDiff(nil, g))
}

// DeleteGrant records grant.delete with the fields the grant had.
func (a *audited) DeleteGrant(ctx context.Context, gateID string, id int64) error {
	var old any
	if gs, err := a.Store.ListGrants(ctx, gateID); err == nil {
		for _, g := range gs {
			if g.ID == id {
				old = g
			}
		}
	}
	if err := a.Store.DeleteGrant(ctx, gateID, id); err != nil {
		return err
	}
	return a.record(ctx, "grant.delete", gateID, strconv.FormatInt(id, 10), AuditDiff(old, nil))
}
