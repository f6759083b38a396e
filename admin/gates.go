package admin

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// gateIn is a gate as clients write it: the gate model without the
// override (see the override resource) and the timestamps, and with the
// static PIN in clear instead of its hash.
type gateIn struct {
	ID             string             `json:"id"`
	Name           string             `json:"name"`
	Enabled        bool               `json:"enabled"`
	Match          gate.Match         `json:"match"`
	Numbers        gate.NumberRules   `json:"numbers,omitzero"`
	Language       string             `json:"language,omitempty"`
	Activation     gate.Activation    `json:"activation"`
	Identification identIn            `json:"identification"`
	Dialogue       gate.Dialogue      `json:"dialogue"`
	Prompts        gate.Prompts       `json:"prompts,omitempty"`
	Routes         gate.Routes        `json:"routes"`
	Failure        gate.FailurePolicy `json:"failure"`
	Lockout        gate.LockoutPolicy `json:"lockout"`
	Retention      string             `json:"retention,omitempty"`
	PhoneOverride  *phoneOverrideIn   `json:"phone_override,omitempty"`
	Notify         []gate.NotifyRule  `json:"notify,omitempty"`
}

// identIn is gate.Identification as clients write it. StaticPIN is the
// clear static PIN: write-only, hashed at once. On update, nil keeps the
// stored PIN and "" removes it.
type identIn struct {
	Mode      gate.IdentMode `json:"mode"`
	StaticPIN *string        `json:"static_pin,omitempty"`
	// PINSet replaces the gate's PIN set when given (clear PINs, hashed
	// at once); nil keeps the stored set and [] removes it.
	PINSet        *[]gate.SetPINIn    `json:"pin_set,omitempty"`
	UnknownCaller gate.UnknownCaller  `json:"unknown_caller,omitempty"`
	Withheld      gate.Withheld       `json:"withheld,omitempty"`
	Region        string              `json:"region,omitempty"`
	Webhook       *gate.WebhookConfig `json:"webhook,omitempty"`
	// Database is write-only in its DSN: "[redacted]" keeps the stored
	// one.
	Database *gate.DatabaseConfig `json:"database,omitempty"`
}

// gateOut is a gate as the API shows it: no PIN hash, only whether a
// static PIN is set.
type gateOut struct {
	ID             string             `json:"id"`
	Name           string             `json:"name"`
	Enabled        bool               `json:"enabled"`
	Match          gate.Match         `json:"match"`
	Numbers        gate.NumberRules   `json:"numbers,omitzero"`
	Language       string             `json:"language,omitempty"`
	Activation     gate.Activation    `json:"activation"`
	Identification identOut           `json:"identification"`
	Dialogue       gate.Dialogue      `json:"dialogue"`
	Prompts        gate.Prompts       `json:"prompts,omitempty"`
	Routes         gate.Routes        `json:"routes"`
	Failure        gate.FailurePolicy `json:"failure"`
	Lockout        gate.LockoutPolicy `json:"lockout"`
	Retention      string             `json:"retention,omitempty"`
	Notify         []gate.NotifyRule  `json:"notify,omitempty"`
	Override       *gate.Override     `json:"override,omitempty"`
	PhoneOverride  *phoneOverrideOut  `json:"phone_override,omitempty"`
	CreatedAt      time.Time          `json:"created_at,omitzero"`
	UpdatedAt      time.Time          `json:"updated_at,omitzero"`
}

type identOut struct {
	Mode          gate.IdentMode      `json:"mode"`
	StaticPINSet  bool                `json:"static_pin_set"`
	PINSet        []setPINOut         `json:"pin_set,omitempty"`
	UnknownCaller gate.UnknownCaller  `json:"unknown_caller,omitempty"`
	Withheld      gate.Withheld       `json:"withheld,omitempty"`
	Region        string              `json:"region,omitempty"`
	Webhook       *gate.WebhookConfig `json:"webhook,omitempty"`
	// Database never shows its DSN (gate.RedactDatabase).
	Database *gate.DatabaseConfig `json:"database,omitempty"`
}

// setPINOut is a PIN of a PIN set as the API shows it: never the PIN.
type setPINOut struct {
	Label      string    `json:"label"`
	Account    string    `json:"account,omitempty"`
	ValidFrom  time.Time `json:"valid_from,omitzero"`
	ValidUntil time.Time `json:"valid_until,omitzero"`
}

func newGateOut(g *gate.Gate) gateOut {
	var set []setPINOut
	for _, p := range g.Identification.PINSet {
		set = append(set, setPINOut{Label: p.Label, Account: p.Account, ValidFrom: p.ValidFrom, ValidUntil: p.ValidUntil})
	}
	return gateOut{
		ID: g.ID, Name: g.Name, Enabled: g.Enabled, Match: g.Match, Numbers: g.Numbers, Language: g.Language,
		Activation: g.Activation,
		Identification: identOut{
			Mode:          g.Identification.Mode,
			StaticPINSet:  g.Identification.StaticPIN != nil,
			PINSet:        set,
			UnknownCaller: g.Identification.UnknownCaller,
			Withheld:      g.Identification.Withheld,
			Region:        g.Identification.Region,
			Webhook:       gate.RedactWebhook(g.Identification.Webhook),
			Database:      gate.RedactDatabase(g.Identification.Database),
		},
		Dialogue: g.Dialogue, Prompts: g.Prompts, Routes: g.Routes, Failure: g.Failure, Lockout: g.Lockout, Retention: g.Retention,
		Notify:   gate.RedactNotify(g.Notify),
		Override: g.Override, PhoneOverride: newPhoneOverrideOut(g), CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt,
	}
}

// toGate builds the gate model from in. prev is the stored gate on update
// (nil on create); its static PIN hash is kept unless in sets a new one.
func (s *server) toGate(in *gateIn, prev *gate.Gate) (*gate.Gate, error) {
	g := &gate.Gate{
		ID: in.ID, Name: in.Name, Enabled: in.Enabled, Match: in.Match, Numbers: in.Numbers, Language: in.Language,
		Activation: in.Activation,
		Identification: gate.Identification{
			Mode:          in.Identification.Mode,
			UnknownCaller: in.Identification.UnknownCaller,
			Withheld:      in.Identification.Withheld,
			Region:        in.Identification.Region,
			Webhook:       in.Identification.Webhook,
			Database:      in.Identification.Database,
		},
		Dialogue: in.Dialogue, Prompts: in.Prompts, Routes: in.Routes, Failure: in.Failure, Lockout: in.Lockout, Retention: in.Retention,
		Notify: in.Notify,
	}
	if prev != nil {
		g.Identification.StaticPIN = prev.Identification.StaticPIN
		g.Identification.PINSet = prev.Identification.PINSet
		g.Override = prev.Override
		g.CreatedAt = prev.CreatedAt
		gate.KeepWebhookSecrets(g.Identification.Webhook, prev.Identification.Webhook)
		gate.KeepDatabaseSecrets(g.Identification.Database, prev.Identification.Database)
		gate.KeepNotifySecrets(g.Notify, prev.Notify)
	}
	g.Normalize()
	var errs gate.ValidationErrors
	if ve := s.setPhoneOverride(g, in.PhoneOverride, prev); ve != nil {
		errs = append(errs, ve)
	}
	if !gate.ValidID(g.ID) {
		errs = append(errs, &gate.ValidationError{Field: "id", Problem: "must be 1-63 lower-case letters, digits, '-' or '_', starting with a letter or digit"})
	}
	if set := in.Identification.PINSet; set != nil {
		if err := gate.HashPINSet(s.hasher, g, *set); err != nil {
			var ves gate.ValidationErrors
			if errors.As(err, &ves) {
				errs = append(errs, ves...)
			}
		}
	}
	if db := g.Identification.Database; db != nil && db.DSN == gate.Redacted {
		errs = append(errs, &gate.ValidationError{Field: "identification.database.dsn", Problem: fmt.Sprintf("is %q and no DSN is stored: write the DSN", gate.Redacted)})
	}
	if p := in.Identification.StaticPIN; p != nil {
		switch {
		case *p == "":
			g.Identification.StaticPIN = nil
		default:
			if err := gate.ValidatePIN(*p, g.Dialogue.MinDigits, g.Dialogue.MaxDigits); err != nil {
				errs = append(errs, &gate.ValidationError{Field: "identification.static_pin", Problem: err.Error()})
			} else if weak := gate.WeakPIN(*p); weak != "" && g.Dialogue.RejectWeak {
				errs = append(errs, &gate.ValidationError{Field: "identification.static_pin", Problem: weak})
			} else {
				h := s.hasher.Hash(*p)
				g.Identification.StaticPIN = &h
			}
		}
	}
	if err := g.Validate(); err != nil {
		var ves gate.ValidationErrors
		var ve *gate.ValidationError
		switch {
		case errors.As(err, &ves):
			for _, v := range ves {
				errs = append(errs, renameField(v))
			}
		case errors.As(err, &ve):
			errs = append(errs, renameField(ve))
		default:
			return nil, err
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return g, nil
}

// renameField names fields as clients write them: the static PIN hash
// is set through identification.static_pin.
func renameField(v *gate.ValidationError) *gate.ValidationError {
	switch v.Field {
	case "identification.static_pin_hash":
		return &gate.ValidationError{Field: "identification.static_pin", Problem: v.Problem}
	case "phone_override.pin_hash":
		return &gate.ValidationError{Field: "phone_override.pin", Problem: v.Problem}
	}
	return v
}

func (s *server) listGates(w http.ResponseWriter, r *http.Request) {
	gs, err := s.store.ListGates(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]gateOut, 0, len(gs))
	for _, g := range gs {
		out = append(out, newGateOut(g))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

func (s *server) getGate(w http.ResponseWriter, r *http.Request) {
	g, err := s.gate(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newGateOut(g))
}

// gate loads the gate named in the URL.
func (s *server) gate(r *http.Request) (*gate.Gate, error) {
	id := urlParam(r, "gate")
	g, err := s.store.GetGate(r.Context(), id)
	if err != nil {
		return nil, fmt.Errorf("gate %q: %w", id, err)
	}
	return g, nil
}

// gateBody reads the gate the URL names, then decodes the JSON request body
// into in.
func (s *server) gateBody(w http.ResponseWriter, r *http.Request, in any) (*gate.Gate, error) {
	g, err := s.gate(r)
	if err != nil {
		return nil, err
	}
	if err := decodeJSON(w, r, s.maxBody, in); err != nil {
		return nil, err
	}
	return g, nil
}

func (s *server) createGate(w http.ResponseWriter, r *http.Request) {
	var in gateIn
	if err := decodeJSON(w, r, s.maxBody, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	g, err := s.toGate(&in, nil)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.store.CreateGate(r.Context(), g); err != nil {
		s.writeError(w, r, fmt.Errorf("create gate %q: %w", g.ID, err))
		return
	}
	s.log.Info("admin: gate created", "gate", g.ID, "by", tokenFrom(r.Context()).ID)
	w.Header().Set("Location", "/api/v1/gates/"+g.ID)
	writeJSON(w, http.StatusCreated, newGateOut(g))
}

func (s *server) updateGate(w http.ResponseWriter, r *http.Request) {
	prev, err := s.gate(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in gateIn
	if err := decodeJSON(w, r, s.maxBody, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.ID == "" {
		in.ID = prev.ID
	}
	if in.ID != prev.ID {
		s.writeError(w, r, invalid("id", "does not match the gate in the URL (%q); gate IDs cannot be changed", prev.ID))
		return
	}
	g, err := s.toGate(&in, prev)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.store.UpdateGate(r.Context(), g); err != nil {
		s.writeError(w, r, fmt.Errorf("update gate %q: %w", g.ID, err))
		return
	}
	s.log.Info("admin: gate updated", "gate", g.ID, "by", tokenFrom(r.Context()).ID)
	if fresh, err := s.store.GetGate(r.Context(), g.ID); err == nil {
		g = fresh
	}
	writeJSON(w, http.StatusOK, newGateOut(g))
}

func (s *server) deleteGate(w http.ResponseWriter, r *http.Request) {
	if _, err := s.gate(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	id := urlParam(r, "gate")
	if err := s.store.DeleteGate(r.Context(), id); err != nil {
		s.writeError(w, r, fmt.Errorf("delete gate %q: %w", id, err))
		return
	}
	s.metrics.ForgetGate(id)
	s.log.Info("admin: gate deleted", "gate", id, "by", tokenFrom(r.Context()).ID)
	w.WriteHeader(http.StatusNoContent)
}

// regionOf is the region to normalise numbers of g with.
func (s *server) regionOf(g *gate.Gate) string {
	if g != nil && g.Identification.Region != "" {
		return g.Identification.Region
	}
	return s.region
}

// numberingOf is how numbers of g are read: its region and rules for
// internal numbers, or the server's region and the default rules when g is
// nil. A stored gate with rules that are not valid is a server error.
func (s *server) numberingOf(g *gate.Gate) (*gate.Numbering, error) {
	if g == nil {
		return gate.NewNumbering(s.region, gate.NumberRules{})
	}
	nb, err := g.Numbering(s.region)
	if err != nil {
		return nil, fmt.Errorf("gate %q: numbers: %v", g.ID, err)
	}
	return nb, nil
}
