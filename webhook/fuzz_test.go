package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
)

// FuzzParseAnswer checks that ParseAnswer never panics, classifies every
// error, never quotes PIN-like digit runs in error texts, returns only valid
// answers, and that the tolerant reader agrees with encoding/json on strict
// JSON. Seeds live in testdata/fuzz/FuzzParseAnswer.
func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{
		`{"askForPin":{"expectedPIN":"1234","forwardCorrectPIN":"100","forwardIncorrectPIN":"120","maxRetries":3}}`,
		`{askForPin:{expectedPIN:'0042',},}`,
		`{reject:true}`,
		`{"reject":false}`,
		`{forward:"ctx,100,1"}`,
		`{"a":[1,2.5e3,-0,true,null,"\ud83d\ude00\u00e9"]}`,
	} {
		f.Add([]byte(s))
	}
	digitRun := regexp.MustCompile(`[0-9]{6,}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		ans, err := ParseAnswer(data)
		if err != nil {
			var we *Error
			if !errors.As(err, &we) {
				t.Fatalf("error %T is not *Error", err)
			}
			switch we.Class {
			case ClassSyntax, ClassAnswer, ClassTooLarge:
			default:
				t.Fatalf("class %q", we.Class)
			}
			msg := err.Error()
			for _, run := range digitRun.FindAll(data, -1) {
				if strings.Contains(msg, string(run)) {
					t.Fatalf("error %q quotes input digits %q", msg, run)
				}
			}
		} else {
			checkValidAnswer(t, ans)
		}
		differential(t, data)
	})
}

func checkValidAnswer(t *testing.T, a gate.AuthAnswer) {
	t.Helper()
	switch a.Kind {
	case gate.AnswerAskPIN:
		if err := gate.ValidatePIN(string(a.PIN), 1, gate.MaxPINLen); err != nil {
			t.Fatalf("answer carries an invalid PIN: %v", err)
		}
		if a.MaxRetries != 0 && (a.MaxRetries < MinRetries || a.MaxRetries > MaxRetries) {
			t.Fatalf("MaxRetries = %d", a.MaxRetries)
		}
		for _, tg := range []gate.Target{a.OnCorrect, a.OnIncorrect} {
			checkTarget(t, tg, true)
		}
	case gate.AnswerForward:
		checkTarget(t, a.Forward, false)
	case gate.AnswerReject, gate.AnswerPass:
	default:
		t.Fatalf("unknown kind %q", a.Kind)
	}
	if a.Kind != gate.AnswerAskPIN && a.PIN != "" {
		t.Fatalf("kind %q carries a PIN", a.Kind)
	}
}

func checkTarget(t *testing.T, tg gate.Target, zeroOK bool) {
	t.Helper()
	if tg.IsZero() {
		if !zeroOK {
			t.Fatal("zero target")
		}
		return
	}
	back, err := gate.ParseTarget(tg.String())
	if err != nil || back != tg {
		t.Fatalf("target %v does not round-trip: %v, %v", tg, back, err)
	}
}

// differential compares the tolerant reader with encoding/json on input
// that is strict JSON.
func differential(t *testing.T, data []byte) {
	t.Helper()
	if len(data) > MaxBody || !json.Valid(data) {
		return
	}
	v, err := parseRelaxed(data)
	if err != nil {
		var se *SyntaxError
		if errors.As(err, &se) && se.Msg == "nested too deeply" {
			return
		}
		t.Fatalf("strict JSON refused: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var want any
	if err := dec.Decode(&want); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	if got := toAny(v); !reflect.DeepEqual(got, want) {
		t.Fatalf("tolerant reader = %#v, encoding/json = %#v", got, want)
	}
}

// toAny converts a value to encoding/json's generic form (last key wins).
func toAny(v value) any {
	switch v.kind {
	case kindBool:
		return v.b
	case kindNumber:
		return json.Number(v.s)
	case kindString:
		return v.s
	case kindArray:
		out := make([]any, 0, len(v.elems))
		for _, e := range v.elems {
			out = append(out, toAny(e))
		}
		return out
	case kindObject:
		out := make(map[string]any, len(v.members))
		for _, m := range v.members {
			out[m.key] = toAny(m.val)
		}
		return out
	}
	return nil
}
