package admin

import "github.com/vipgate/vipgate/gate"

// phoneOverrideIn is gate.PhoneOverride as clients write it: the override
// PIN in clear (write-only, hashed at once). On update, a missing
// phone_override keeps the stored one, a missing pin keeps the stored
// PIN, and pin "" removes the phone override.
type phoneOverrideIn struct {
	PIN         *string       `json:"pin,omitempty"`
	For         gate.Duration `json:"for,omitempty"`
	UntilChange bool          `json:"until_change,omitempty"`
	Callers     string        `json:"callers,omitempty"`
	Device      string        `json:"device,omitempty"`
}

// phoneOverrideOut is a gate's phone override as the API shows it: never
// the PIN, only whether one is set, and the device in use.
type phoneOverrideOut struct {
	PINSet      bool          `json:"pin_set"`
	For         gate.Duration `json:"for,omitempty"`
	UntilChange bool          `json:"until_change,omitempty"`
	Callers     string        `json:"callers,omitempty"`
	Device      string        `json:"device"`
}

func newPhoneOverrideOut(g *gate.Gate) *phoneOverrideOut {
	p := g.PhoneOverride
	if p == nil {
		return nil
	}
	return &phoneOverrideOut{PINSet: p.PIN != nil, For: p.For, UntilChange: p.UntilChange, Callers: p.Callers, Device: g.Device()}
}

// setPhoneOverride applies in to g (prev is the stored gate on update,
// nil on create) and returns a validation error naming the field.
func (s *server) setPhoneOverride(g *gate.Gate, in *phoneOverrideIn, prev *gate.Gate) *gate.ValidationError {
	if prev != nil {
		g.PhoneOverride = prev.PhoneOverride
	}
	if in == nil {
		return nil
	}
	if in.PIN != nil && *in.PIN == "" {
		g.PhoneOverride = nil
		return nil
	}
	p := &gate.PhoneOverride{For: in.For, UntilChange: in.UntilChange, Callers: in.Callers, Device: in.Device}
	if g.PhoneOverride != nil {
		p.PIN = g.PhoneOverride.PIN
	}
	g.PhoneOverride = p
	if in.PIN == nil {
		return nil
	}
	if err := gate.SetPhonePIN(s.hasher, g, *in.PIN); err != nil {
		ve, _ := err.(*gate.ValidationError)
		return ve
	}
	return nil
}
