package gate

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// TargetKind says what kind of place a Target is.
type TargetKind string

// Target kinds.
const (
	// TargetContinue goes back to the dialplan right after Stasis()/AGI():
	// the call's original destination.
	TargetContinue TargetKind = "continue"
	// TargetExtension goes to Exten at priority 1 in the gate's forward
	// context (Context is filled in from the gate when the target is used;
	// it stays empty when the gate has none, and then the channel's current
	// context is used).
	TargetExtension TargetKind = "extension"
	// TargetLocation goes to Context,Exten,Priority.
	TargetLocation TargetKind = "location"
	// TargetHangup hangs up with Cause.
	TargetHangup TargetKind = "hangup"
)

// Target is where a call goes when vipgate lets go of it. Its text form is
// one of "continue", "100" (an extension), "ctx,exten,prio" or
// "hangup:busy" (also just "busy", "rejected", "congestion", "reject").
type Target struct {
	Kind     TargetKind
	Context  string
	Exten    string
	Priority int
	Cause    Cause
}

// Continue is the target that resumes the dialplan after Stasis()/AGI().
var Continue = Target{Kind: TargetContinue}

// Hangup returns a hang-up target with cause c.
func Hangup(c Cause) Target { return Target{Kind: TargetHangup, Cause: c} }

// IsZero reports whether t is unset.
func (t Target) IsZero() bool { return t.Kind == "" }

var (
	extenRE   = regexp.MustCompile(`^[0-9A-Za-z*#+_.\-]{1,80}$`)
	contextRE = regexp.MustCompile(`^[A-Za-z0-9_.\-]{1,79}$`)
)

// ParseTarget reads the text form of a target.
func ParseTarget(s string) (Target, error) {
	s = strings.TrimSpace(s)
	low := strings.ToLower(s)
	switch {
	case s == "":
		return Target{}, fmt.Errorf("empty target")
	case low == "continue":
		return Continue, nil
	case low == "reject":
		return Hangup(CauseBusy), nil
	case low == string(CauseBusy), low == string(CauseRejected), low == string(CauseCongestion):
		return Hangup(Cause(low)), nil
	case strings.HasPrefix(low, "hangup:"), low == "hangup":
		c := Cause(strings.TrimPrefix(strings.TrimPrefix(low, "hangup"), ":"))
		if c == "" {
			c = CauseNormal
		}
		switch c {
		case CauseBusy, CauseRejected, CauseCongestion, CauseNormal:
			return Hangup(c), nil
		}
		return Target{}, fmt.Errorf("unknown hang-up cause %q (want busy, rejected, congestion or normal)", c)
	case strings.Contains(s, ","):
		parts := strings.Split(s, ",")
		if len(parts) != 3 {
			return Target{}, fmt.Errorf("target %q: want context,exten,priority", s)
		}
		ctx, ext, pr := strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1]), strings.TrimSpace(parts[2])
		if !contextRE.MatchString(ctx) {
			return Target{}, fmt.Errorf("target %q: invalid context %q", s, ctx)
		}
		if !extenRE.MatchString(ext) {
			return Target{}, fmt.Errorf("target %q: invalid extension %q", s, ext)
		}
		p, err := strconv.Atoi(pr)
		if err != nil || p < 1 {
			return Target{}, fmt.Errorf("target %q: priority must be a positive number", s)
		}
		return Target{Kind: TargetLocation, Context: ctx, Exten: ext, Priority: p}, nil
	case extenRE.MatchString(s):
		return Target{Kind: TargetExtension, Exten: s, Priority: 1}, nil
	}
	return Target{}, fmt.Errorf("invalid target %q (want continue, an extension, context,exten,priority or hangup:cause)", s)
}

// String returns the text form of t.
func (t Target) String() string {
	switch t.Kind {
	case TargetContinue:
		return "continue"
	case TargetExtension:
		if t.Context != "" {
			return fmt.Sprintf("%s,%s,%d", t.Context, t.Exten, max(t.Priority, 1))
		}
		return t.Exten
	case TargetLocation:
		return fmt.Sprintf("%s,%s,%d", t.Context, t.Exten, t.Priority)
	case TargetHangup:
		return "hangup:" + string(t.Cause)
	}
	return ""
}

// MarshalText writes the text form.
func (t Target) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText reads the text form.
func (t *Target) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*t = Target{}
		return nil
	}
	v, err := ParseTarget(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// UnmarshalJSON reads the text form (a JSON string).
func (t *Target) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("target must be a string: %w", err)
	}
	return t.UnmarshalText([]byte(s))
}

// Resolve fills in the forward context of an extension target.
func (t Target) Resolve(forwardContext string) Target {
	if t.Kind == TargetExtension && t.Context == "" {
		t.Context = forwardContext
		if t.Priority < 1 {
			t.Priority = 1
		}
	}
	return t
}
