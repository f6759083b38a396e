package gate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

type actorKey struct{}

// WithActor returns a context that names who makes the changes written
// through an Audited store with it.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFrom returns the actor WithActor put into ctx, or "".
func ActorFrom(ctx context.Context) string {
	a, _ := ctx.Value(actorKey{}).(string)
	return a
}

// The fields of a gate and an entry, as AuditDiff paths, whose values
// never go into the audit log.
var (
	gateSecrets  = []string{"identification.static_pin_hash", "identification.webhook.headers.*", "identification.webhook.secret_file", "identification.database.dsn", "webhook_url_credentials", "phone_override.pin_hash", "notify_secrets.*"}
	entrySecrets = []string{"pin"}
)

// Audited returns a store that writes an AuditEntry for every
// administrative change made through it: gates, overrides, entries and
// imports, lockouts cleared, prompts and tokens. The actor is the one in
// the change's context (WithActor), else actor. The entry is written
// after the change succeeded; an error writing it is returned (the change
// itself stays made). Reads and the call path's writes pass through.
// Audited of an Audited store changes only the default actor.
func Audited(s Store, actor string) Store {
	if a, ok := s.(*audited); ok {
		s = a.Store
	}
	return &audited{Store: s, actor: actor}
}

type audited struct {
	Store
	actor string
}

func (a *audited) record(ctx context.Context, action, gateID, object string, changes []AuditChange) error {
	actor := ActorFrom(ctx)
	if actor == "" {
		actor = a.actor
	}
	e := &AuditEntry{Actor: actor, Action: action, GateID: gateID, Object: object, Changes: changes}
	if err := a.Store.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// before returns v, or nil (as any) when err says it does not exist.
func before[T any](v *T, err error) (any, error) {
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

func (a *audited) CreateGate(ctx context.Context, g *Gate) error {
	if err := a.Store.CreateGate(ctx, g); err != nil {
		return err
	}
	return a.record(ctx, "gate.create", g.ID, "", AuditDiff(nil, gateView(g), gateSecrets...))
}

func (a *audited) UpdateGate(ctx context.Context, g *Gate) error {
	old, err := a.Store.GetGate(ctx, g.ID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if err := a.Store.UpdateGate(ctx, g); err != nil {
		return err
	}
	after := *g
	if old != nil {
		after.Override = old.Override // UpdateGate keeps the override
	}
	return a.record(ctx, "gate.update", g.ID, "", AuditDiff(gateView(old), gateView(&after), gateSecrets...))
}

func (a *audited) DeleteGate(ctx context.Context, id string) error {
	old, err := a.Store.GetGate(ctx, id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if err := a.Store.DeleteGate(ctx, id); err != nil {
		return err
	}
	return a.record(ctx, "gate.delete", id, "", AuditDiff(gateView(old), nil, gateSecrets...))
}

func (a *audited) SetOverride(ctx context.Context, id string, o *Override) error {
	var old any
	if g, err := a.Store.GetGate(ctx, id); err == nil && g.Override != nil {
		old = g.Override
	}
	if err := a.Store.SetOverride(ctx, id, o); err != nil {
		return err
	}
	action, after := "override.set", any(o)
	if o == nil {
		action, after = "override.clear", nil
	}
	return a.record(ctx, action, id, "", AuditDiff(old, after))
}

// gateView is what the audit log compares of a gate: its JSON with the
// webhook URL's credentials (user info password, secret-looking query
// parameters) Redacted, and the URL itself, when it has credentials, as
// the secret field webhook_url_credentials (so that a changed password
// shows as a redacted change).
func gateView(g *Gate) any {
	if g == nil {
		return nil
	}
	c := *g
	var cred string
	if w := g.Identification.Webhook; w != nil {
		wc := *w
		if wc.URL = RedactWebhook(w).URL; wc.URL != w.URL {
			cred = w.URL
		}
		c.Identification.Webhook = &wc
	}
	// The rules are compared as a whole (an array): their secrets are
	// Redacted there and compared apart, by rule, as secret fields.
	var notify map[string]string
	for _, r := range g.Notify {
		if r.Webhook != nil && r.Webhook.Secret != "" {
			if notify == nil {
				notify = map[string]string{}
			}
			notify[r.Name] = r.Webhook.Secret
		}
	}
	c.Notify = RedactNotify(g.Notify)
	return struct {
		*Gate
		Cred   string            `json:"webhook_url_credentials,omitempty"`
		Notify map[string]string `json:"notify_secrets,omitempty"`
	}{&c, cred, notify}
}

// entryView is what the audit log compares of an entry: its JSON and
// whether and which PIN hash it has (redacted by AuditDiff).
func entryView(e *Entry) any {
	if e == nil {
		return nil
	}
	v := struct {
		*Entry
		PIN string `json:"pin,omitempty"`
	}{Entry: e}
	if len(e.PIN.Sum) > 0 {
		v.PIN = e.PIN.String()
	}
	return v
}

func (a *audited) PutEntry(ctx context.Context, e *Entry) error {
	var old *Entry
	if e.ID != 0 {
		o, err := a.Store.GetEntry(ctx, e.GateID, e.ID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		old = o
	}
	if err := a.Store.PutEntry(ctx, e); err != nil {
		return err
	}
	action := "entry.update"
	if old == nil {
		action = "entry.create"
	}
	return a.record(ctx, action, e.GateID, strconv.FormatInt(e.ID, 10), AuditDiff(entryView(old), entryView(e), entrySecrets...))
}

func (a *audited) DeleteEntry(ctx context.Context, gateID string, id int64) error {
	old, err := a.Store.GetEntry(ctx, gateID, id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if err := a.Store.DeleteEntry(ctx, gateID, id); err != nil {
		return err
	}
	return a.record(ctx, "entry.delete", gateID, strconv.FormatInt(id, 10), AuditDiff(entryView(old), nil, entrySecrets...))
}

func (a *audited) recordImport(ctx context.Context, gateID string, res ImportResult, opts ImportOptions) error {
	return a.record(ctx, "entries.import", gateID, "", AuditDiff(nil, struct {
		ImportResult
		Replace bool `json:"replace"`
	}{res, opts.Replace}))
}

func (a *audited) ImportEntries(ctx context.Context, gateID string, entries []*Entry, opts ImportOptions) (ImportResult, error) {
	res, err := a.Store.ImportEntries(ctx, gateID, entries, opts)
	if err != nil {
		return res, err
	}
	return res, a.recordImport(ctx, gateID, res, opts)
}

func (a *audited) ImportEntriesFrom(ctx context.Context, gateID string, next func() ([]*Entry, error), opts ImportOptions) (ImportResult, error) {
	res, err := a.Store.ImportEntriesFrom(ctx, gateID, next, opts)
	if err != nil {
		return res, err
	}
	return res, a.recordImport(ctx, gateID, res, opts)
}

func (a *audited) ClearLockout(ctx context.Context, gateID, caller string) error {
	if err := a.Store.ClearLockout(ctx, gateID, caller); err != nil {
		return err
	}
	return a.record(ctx, "lockout.clear", gateID, caller, []AuditChange{})
}

func (a *audited) PutPrompt(ctx context.Context, p *PromptFile) error {
	old, err := before(a.Store.GetPrompt(ctx, p.GateID, p.Lang, p.Key))
	if err != nil {
		return err
	}
	if err := a.Store.PutPrompt(ctx, p); err != nil {
		return err
	}
	return a.record(ctx, "prompt.put", p.GateID, p.Lang+"/"+string(p.Key), AuditDiff(old, p))
}

func (a *audited) DeletePrompt(ctx context.Context, gateID, lang string, key PromptKey) error {
	old, err := before(a.Store.GetPrompt(ctx, gateID, lang, key))
	if err != nil {
		return err
	}
	if err := a.Store.DeletePrompt(ctx, gateID, lang, key); err != nil {
		return err
	}
	return a.record(ctx, "prompt.delete", gateID, lang+"/"+string(key), AuditDiff(old, nil))
}

func (a *audited) CreateToken(ctx context.Context, t *Token) error {
	if err := a.Store.CreateToken(ctx, t); err != nil {
		return err
	}
	return a.record(ctx, "token.create", "", t.ID, AuditDiff(nil, t))
}

func (a *audited) RevokeToken(ctx context.Context, id string, at time.Time) error {
	old, err := before(a.Store.GetToken(ctx, id))
	if err != nil {
		return err
	}
	if err := a.Store.RevokeToken(ctx, id, at); err != nil {
		return err
	}
	after := old
	if t, ok := old.(*Token); ok {
		c := *t
		c.RevokedAt = at
		after = &c
	}
	return a.record(ctx, "token.revoke", "", id, AuditDiff(old, after))
}
