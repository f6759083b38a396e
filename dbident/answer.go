package dbident

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/vipgate/vipgate/gate"
)

// Columns of the answer row (docs/database.md). Names are compared
// without regard to case.
const (
	ColAction      = "action"       // askForPin, reject, pass, forward
	ColPIN         = "pin"          // the expected PIN in clear (text)
	ColPINHash     = "pin_hash"     // the expected PIN as vipgate's hash
	ColOnCorrect   = "on_correct"   // target after a correct PIN
	ColOnIncorrect = "on_incorrect" // target after the last wrong PIN
	ColMaxRetries  = "max_retries"  // PIN attempts, 1 to 10
	ColTarget      = "target"       // the target of forward
	ColLabel       = "label"        // names the caller in the trace
)

var columns = []string{ColAction, ColPIN, ColPINHash, ColOnCorrect, ColOnIncorrect, ColMaxRetries, ColTarget, ColLabel}

// Actions, as the action column writes them (case does not matter).
var actions = map[string]gate.AnswerKind{
	"askforpin": gate.AnswerAskPIN,
	"reject":    gate.AnswerReject,
	"pass":      gate.AnswerPass,
	"forward":   gate.AnswerForward,
}

// answer reads one row (column names and values as pgx decoded them)
// into a verdict. A NULL column counts as missing. Errors never quote a
// PIN or a PIN hash.
func answer(names []string, values []any, h *gate.Hasher) (gate.AuthAnswer, error) {
	cols := map[string]any{}
	for i, n := range names {
		k := strings.ToLower(n)
		known := false
		for _, c := range columns {
			known = known || c == k
		}
		if !known {
			return gate.AuthAnswer{}, fmt.Errorf("unknown column %q (known: %s)", n, strings.Join(columns, ", "))
		}
		if _, dup := cols[k]; dup {
			return gate.AuthAnswer{}, fmt.Errorf("column %s given twice", k)
		}
		cols[k] = values[i]
	}
	text := func(c string) (string, bool, error) {
		v, ok := cols[c]
		if !ok || v == nil {
			return "", false, nil
		}
		s, isText := v.(string)
		if !isText {
			return "", false, fmt.Errorf("column %s: want text, got %T", c, v)
		}
		return strings.TrimSpace(s), true, nil
	}
	act, ok, err := text(ColAction)
	if err != nil {
		return gate.AuthAnswer{}, err
	}
	if !ok || act == "" {
		return gate.AuthAnswer{}, errors.New("column action is missing or NULL")
	}
	kind, known := actions[strings.ToLower(act)]
	if !known {
		return gate.AuthAnswer{}, fmt.Errorf("column action: %q is not askForPin, reject, pass or forward", act)
	}
	a := gate.AuthAnswer{Kind: kind}
	if a.Label, _, err = text(ColLabel); err != nil {
		return gate.AuthAnswer{}, err
	}
	if len(a.Label) > gate.MaxLabelLen {
		a.Label = a.Label[:gate.MaxLabelLen]
	}
	target := func(c string) (gate.Target, error) {
		s, ok, err := text(c)
		if err != nil || !ok || s == "" {
			return gate.Target{}, err
		}
		t, err := gate.ParseTarget(s)
		if err != nil {
			return gate.Target{}, fmt.Errorf("column %s: %w", c, err)
		}
		return t, nil
	}
	switch kind {
	case gate.AnswerForward:
		if a.Forward, err = target(ColTarget); err != nil {
			return gate.AuthAnswer{}, err
		}
		if a.Forward.IsZero() {
			return gate.AuthAnswer{}, errors.New("action forward needs the column target")
		}
	case gate.AnswerAskPIN:
		if err := askForPIN(&a, cols, text, target, h); err != nil {
			return gate.AuthAnswer{}, err
		}
	}
	return a, nil
}

func askForPIN(a *gate.AuthAnswer, cols map[string]any, text func(string) (string, bool, error), target func(string) (gate.Target, error), h *gate.Hasher) error {
	var err error
	if v, ok := cols[ColPIN]; ok && v != nil {
		if _, isText := v.(string); !isText {
			// An integer column loses leading zeros: 0042 would be 42.
			return fmt.Errorf("column pin: want text (digits), got %T; cast it with ::text and keep leading zeros", v)
		}
	}
	pin, havePIN, err := text(ColPIN)
	if err != nil {
		return err
	}
	hash, haveHash, err := text(ColPINHash)
	if err != nil {
		return err
	}
	switch {
	case havePIN && haveHash:
		return errors.New("action askForPin has both pin and pin_hash; give one")
	case havePIN:
		if err := gate.ValidatePIN(pin, 0, 0); err != nil {
			return fmt.Errorf("column pin: %w", err)
		}
		a.PIN = gate.ClearPIN(pin)
	case haveHash:
		ph, err := gate.ParsePINHash(hash)
		if err != nil {
			return fmt.Errorf("column pin_hash: not vipgate's v1$salt$sum form")
		}
		if h == nil {
			return errors.New("column pin_hash: no PIN hasher configured")
		}
		a.Expected = gate.HashedPIN{Hasher: h, Hash: ph}
	default:
		return errors.New("action askForPin needs the column pin or pin_hash")
	}
	if a.OnCorrect, err = target(ColOnCorrect); err != nil {
		return err
	}
	if a.OnIncorrect, err = target(ColOnIncorrect); err != nil {
		return err
	}
	if v, ok := cols[ColMaxRetries]; ok && v != nil {
		n, ok := integer(v)
		if !ok || n < 1 || n > 10 {
			return errors.New("column max_retries: want an integer from 1 to 10")
		}
		a.MaxRetries = int(n)
	}
	return nil
}

// integer reads an integer column of any width (or numeric text).
func integer(v any) (int64, bool) {
	switch n := v.(type) {
	case int16:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<31 {
			return int64(n), true
		}
	case string:
		var i int64
		if _, err := fmt.Sscan(strings.TrimSpace(n), &i); err == nil {
			return i, true
		}
	}
	return 0, false
}
