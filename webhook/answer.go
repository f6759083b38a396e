package webhook

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/vipgate/vipgate/gate"
)

// MaxBody is the largest answer body vipgate reads (64 KiB).
const MaxBody = 64 << 10

// Bounds of an answer's maxRetries; values outside are clamped.
const (
	MinRetries = 1
	MaxRetries = 10
)

// Answer keys, matched without regard to case.
const (
	keyAskForPIN   = "askforpin"
	keyReject      = "reject"
	keyForward     = "forward"
	keyExpectedPIN = "expectedpin"
	keyOnCorrect   = "forwardcorrectpin"
	keyOnIncorrect = "forwardincorrectpin"
	keyMaxRetries  = "maxretries"
)

// ParseAnswer reads a webhook answer body, strict or relaxed JSON:
//
//	{askForPin:{expectedPIN:"1234", forwardCorrectPIN:"100", forwardIncorrectPIN:"120", maxRetries:3}}
//	{reject:true}
//	{reject:false}
//	{forward:"123"}
//
// Exactly one of askForPin, reject and forward must be present; other keys
// are ignored. Keys are matched without regard to case. Errors are *Error
// with class ClassSyntax or ClassAnswer (ClassTooLarge above MaxBody); their
// text never contains the body or the PIN.
func ParseAnswer(body []byte) (gate.AuthAnswer, error) {
	a, err := parseAnswer(body)
	if err != nil {
		return gate.AuthAnswer{}, err
	}
	return a, nil
}

// parseAnswer is ParseAnswer with the concrete error type.
func parseAnswer(body []byte) (gate.AuthAnswer, *Error) {
	if len(body) > MaxBody {
		return gate.AuthAnswer{}, newError(ClassTooLarge, "parse answer", errTooLarge)
	}
	v, err := parseRelaxed(body)
	if err != nil {
		return gate.AuthAnswer{}, newError(ClassSyntax, "parse answer", err)
	}
	a, err := interpret(v)
	if err != nil {
		return gate.AuthAnswer{}, newError(ClassAnswer, "parse answer", err)
	}
	return a, nil
}

// interpret turns a parsed answer into an AuthAnswer. Error texts name keys
// and types only, never values.
func interpret(v value) (gate.AuthAnswer, error) {
	if v.kind != kindObject {
		return gate.AuthAnswer{}, fmt.Errorf("answer is a JSON %s, want an object", v.kind)
	}
	var buf [3]*member
	known, err := pick(buf[:0], v, keyAskForPIN, keyReject, keyForward)
	if err != nil {
		return gate.AuthAnswer{}, err
	}
	switch len(known) {
	case 0:
		return gate.AuthAnswer{}, errors.New("answer has none of askForPin, reject, forward")
	case 1:
	default:
		found := make([]string, len(known))
		for i, m := range known {
			found[i] = m.key
		}
		return gate.AuthAnswer{}, fmt.Errorf("answer has conflicting keys %s", strings.Join(found, ", "))
	}
	m := known[0]
	switch {
	case strings.EqualFold(m.key, keyReject):
		b, err := boolValue(m.val)
		if err != nil {
			return gate.AuthAnswer{}, fmt.Errorf("reject: %w", err)
		}
		if b {
			return gate.AuthAnswer{Kind: gate.AnswerReject}, nil
		}
		return gate.AuthAnswer{Kind: gate.AnswerPass}, nil
	case strings.EqualFold(m.key, keyForward):
		t, err := targetValue(m.val)
		if err != nil {
			return gate.AuthAnswer{}, fmt.Errorf("forward: %w", err)
		}
		if t.IsZero() {
			return gate.AuthAnswer{}, errors.New("forward: empty target")
		}
		return gate.AuthAnswer{Kind: gate.AnswerForward, Forward: t}, nil
	}
	return askForPIN(m.val)
}

func askForPIN(v value) (gate.AuthAnswer, error) {
	if v.kind != kindObject {
		return gate.AuthAnswer{}, fmt.Errorf("askForPin is a JSON %s, want an object", v.kind)
	}
	var buf [4]*member
	ms, err := pick(buf[:0], v, keyExpectedPIN, keyOnCorrect, keyOnIncorrect, keyMaxRetries)
	if err != nil {
		return gate.AuthAnswer{}, fmt.Errorf("askForPin: %w", err)
	}
	a := gate.AuthAnswer{Kind: gate.AnswerAskPIN}
	havePIN := false
	for _, m := range ms {
		switch key := m.key; {
		case strings.EqualFold(key, keyExpectedPIN):
			pin, err := pinValue(m.val)
			if err != nil {
				return gate.AuthAnswer{}, fmt.Errorf("askForPin.expectedPIN: %w", err)
			}
			a.PIN, havePIN = gate.ClearPIN(pin), true
		case strings.EqualFold(key, keyOnCorrect):
			if a.OnCorrect, err = targetValue(m.val); err != nil {
				return gate.AuthAnswer{}, fmt.Errorf("askForPin.forwardCorrectPIN: %w", err)
			}
		case strings.EqualFold(key, keyOnIncorrect):
			if a.OnIncorrect, err = targetValue(m.val); err != nil {
				return gate.AuthAnswer{}, fmt.Errorf("askForPin.forwardIncorrectPIN: %w", err)
			}
		case strings.EqualFold(key, keyMaxRetries):
			if a.MaxRetries, err = retriesValue(m.val); err != nil {
				return gate.AuthAnswer{}, fmt.Errorf("askForPin.maxRetries: %w", err)
			}
		}
	}
	if !havePIN {
		return gate.AuthAnswer{}, errors.New("askForPin has no expectedPIN")
	}
	return a, nil
}

// pick appends to out the members of object v whose keys are among keys
// (lower case), in order. A key given twice is an error.
func pick(out []*member, v value, keys ...string) ([]*member, error) {
	for i := range v.members {
		m := &v.members[i]
		for _, k := range keys {
			if !strings.EqualFold(m.key, k) {
				continue
			}
			for _, o := range out {
				if strings.EqualFold(o.key, k) {
					return nil, fmt.Errorf("key %s given twice", m.key)
				}
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// boolValue accepts true/false, also as strings.
func boolValue(v value) (bool, error) {
	switch v.kind {
	case kindBool:
		return v.b, nil
	case kindString:
		switch strings.ToLower(strings.TrimSpace(v.s)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, fmt.Errorf("want true or false, got a JSON %s", v.kind)
}

// pinValue accepts a string of 1..32 digits, or a number written with
// digits only (taken as written, so leading zeros are kept).
func pinValue(v value) (string, error) {
	var s string
	switch v.kind {
	case kindString, kindNumber:
		s = v.s
	default:
		return "", fmt.Errorf("want a string of digits, got a JSON %s", v.kind)
	}
	if s == "" {
		return "", errors.New("empty PIN")
	}
	if len(s) > gate.MaxPINLen {
		return "", fmt.Errorf("PIN longer than %d digits", gate.MaxPINLen)
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return "", errors.New("PIN must contain digits only")
		}
	}
	return s, nil
}

// targetValue parses a target given as a string, or as a number written
// with digits only (an extension). An empty string or null means unset.
func targetValue(v value) (gate.Target, error) {
	switch v.kind {
	case kindNull:
		return gate.Target{}, nil
	case kindNumber:
		for i := 0; i < len(v.s); i++ {
			if !isDigit(v.s[i]) {
				return gate.Target{}, errors.New("a numeric target must be digits only")
			}
		}
	case kindString:
		if strings.TrimSpace(v.s) == "" {
			return gate.Target{}, nil
		}
	default:
		return gate.Target{}, fmt.Errorf("want a target string, got a JSON %s", v.kind)
	}
	t, err := gate.ParseTarget(v.s)
	if err != nil {
		// gate.ParseTarget quotes its input; keep answer text out of errors.
		return gate.Target{}, errors.New("invalid target (want continue, an extension, context,exten,priority or hangup:cause)")
	}
	return t, nil
}

// retriesValue reads an integer (or a string holding one) and clamps it to
// MinRetries..MaxRetries. null means unset (0).
func retriesValue(v value) (int, error) {
	var s string
	switch v.kind {
	case kindNull:
		return 0, nil
	case kindNumber:
		s = v.s
	case kindString:
		s = strings.TrimSpace(v.s)
	default:
		return 0, fmt.Errorf("want an integer, got a JSON %s", v.kind)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			n = 1 << 62
			if strings.HasPrefix(s, "-") {
				n = -n
			}
		} else {
			return 0, errors.New("want an integer")
		}
	}
	return int(min(max(n, MinRetries), MaxRetries)), nil
}
