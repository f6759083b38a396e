package webhook_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/webhook"
)

func mustTarget(t *testing.T, s string) gate.Target {
	t.Helper()
	tg, err := gate.ParseTarget(s)
	if err != nil {
		t.Fatalf("ParseTarget(%q): %v", s, err)
	}
	return tg
}

// wantAnswer describes an expected answer; pin is compared through Match.
type wantAnswer struct {
	kind        gate.AnswerKind
	pin         string
	onCorrect   string
	onIncorrect string
	retries     int
	forward     string
}

func checkAnswer(t *testing.T, got gate.AuthAnswer, want wantAnswer) {
	t.Helper()
	if got.Kind != want.kind {
		t.Fatalf("kind = %q, want %q", got.Kind, want.kind)
	}
	if want.kind == gate.AnswerAskPIN {
		if !got.PIN.Match(want.pin) {
			t.Errorf("expected PIN does not match the PIN of the answer")
		}
		if got.PIN.Match(want.pin + "0") {
			t.Errorf("expected PIN matches a longer PIN")
		}
	} else if got.PIN != "" {
		t.Errorf("answer of kind %q carries a PIN", got.Kind)
	}
	tgt := func(s string) gate.Target {
		if s == "" {
			return gate.Target{}
		}
		return mustTarget(t, s)
	}
	if w := tgt(want.onCorrect); got.OnCorrect != w {
		t.Errorf("OnCorrect = %v, want %v", got.OnCorrect, w)
	}
	if w := tgt(want.onIncorrect); got.OnIncorrect != w {
		t.Errorf("OnIncorrect = %v, want %v", got.OnIncorrect, w)
	}
	if got.MaxRetries != want.retries {
		t.Errorf("MaxRetries = %d, want %d", got.MaxRetries, want.retries)
	}
	if w := tgt(want.forward); got.Forward != w {
		t.Errorf("Forward = %v, want %v", got.Forward, w)
	}
}

func TestParseAnswer(t *testing.T) {
	full := wantAnswer{kind: gate.AnswerAskPIN, pin: "1234", onCorrect: "100", onIncorrect: "120", retries: 3}
	tests := []struct {
		name string
		body string
		want wantAnswer
	}{
		{"ask strict", `{"askForPin":{"expectedPIN":"1234","forwardCorrectPIN":"100","forwardIncorrectPIN":"120","maxRetries":3}}`, full},
		{"ask relaxed documented", `{askForPin:{expectedPIN:"1234", forwardCorrectPIN:"100", forwardIncorrectPIN:"120", maxRetries:3}}`, full},
		{"ask single quotes", `{askForPin:{expectedPIN:'1234',forwardCorrectPIN:'100',forwardIncorrectPIN:'120',maxRetries:'3'}}`, full},
		{"ask trailing commas", "{askForPin:{expectedPIN:\"1234\",forwardCorrectPIN:\"100\",forwardIncorrectPIN:\"120\",maxRetries:3,},}", full},
		{"ask comments and newlines", "// answer\n{\n  askForPin: { /* the PIN */ expectedPIN: \"1234\",\n forwardCorrectPIN: 100, forwardIncorrectPIN: \"120\", maxRetries: 3 }\n}\n", full},
		{"ask BOM", "\xEF\xBB\xBF{askForPin:{expectedPIN:\"1234\",forwardCorrectPIN:\"100\",forwardIncorrectPIN:\"120\",maxRetries:3}}", full},
		{"ask key case", `{AskForPIN:{ExpectedPin:"1234",forwardcorrectpin:"100",FORWARDINCORRECTPIN:"120",MaxRetries:3}}`, full},
		{"ask pin only", `{askForPin:{expectedPIN:"0042"}}`, wantAnswer{kind: gate.AnswerAskPIN, pin: "0042"}},
		{"ask numeric pin keeps zeros", `{askForPin:{expectedPIN:007}}`, wantAnswer{kind: gate.AnswerAskPIN, pin: "007"}},
		{"ask 32 digits", `{askForPin:{expectedPIN:"` + strings.Repeat("9", 32) + `"}}`, wantAnswer{kind: gate.AnswerAskPIN, pin: strings.Repeat("9", 32)}},
		{"ask null targets", `{askForPin:{expectedPIN:"1234",forwardCorrectPIN:null,forwardIncorrectPIN:"",maxRetries:null}}`, wantAnswer{kind: gate.AnswerAskPIN, pin: "1234"}},
		{"ask location and hangup targets", `{askForPin:{expectedPIN:"1234",forwardCorrectPIN:"vip,200,1",forwardIncorrectPIN:"hangup:congestion"}}`,
			wantAnswer{kind: gate.AnswerAskPIN, pin: "1234", onCorrect: "vip,200,1", onIncorrect: "hangup:congestion"}},
		{"ask retries clamped high", `{askForPin:{expectedPIN:"1234",maxRetries:99}}`, wantAnswer{kind: gate.AnswerAskPIN, pin: "1234", retries: 10}},
		{"ask retries clamped low", `{askForPin:{expectedPIN:"1234",maxRetries:0}}`, wantAnswer{kind: gate.AnswerAskPIN, pin: "1234", retries: 1}},
		{"ask retries negative", `{askForPin:{expectedPIN:"1234",maxRetries:-5}}`, wantAnswer{kind: gate.AnswerAskPIN, pin: "1234", retries: 1}},
		{"ask retries huge", `{askForPin:{expectedPIN:"1234",maxRetries:99999999999999999999999}}`, wantAnswer{kind: gate.AnswerAskPIN, pin: "1234", retries: 10}},
		{"ask unknown keys ignored", `{askForPin:{expectedPIN:"1234",note:"vip"},customer:{id:7}}`, wantAnswer{kind: gate.AnswerAskPIN, pin: "1234"}},
		{"reject true", `{"reject":true}`, wantAnswer{kind: gate.AnswerReject}},
		{"reject true relaxed", `{reject:true,}`, wantAnswer{kind: gate.AnswerReject}},
		{"reject string", `{reject:'true'}`, wantAnswer{kind: gate.AnswerReject}},
		{"pass", `{"reject":false}`, wantAnswer{kind: gate.AnswerPass}},
		{"pass relaxed", `{ reject : false }`, wantAnswer{kind: gate.AnswerPass}},
		{"forward", `{"forward":"123"}`, wantAnswer{kind: gate.AnswerForward, forward: "123"}},
		{"forward relaxed", `{forward:'123'}`, wantAnswer{kind: gate.AnswerForward, forward: "123"}},
		{"forward number", `{forward:123}`, wantAnswer{kind: gate.AnswerForward, forward: "123"}},
		{"forward location", `{forward:"sales,100,1"}`, wantAnswer{kind: gate.AnswerForward, forward: "sales,100,1"}},
		{"escapes", `{"forward":"\u0031\u00323"}`, wantAnswer{kind: gate.AnswerForward, forward: "123"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := webhook.ParseAnswer([]byte(tt.body))
			if err != nil {
				t.Fatalf("ParseAnswer: %v", err)
			}
			checkAnswer(t, got, tt.want)
		})
	}
}

func TestParseAnswerErrors(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		class string
	}{
		{"empty", ``, webhook.ClassSyntax},
		{"blank", " \n\t", webhook.ClassSyntax},
		{"not json", `reject`, webhook.ClassSyntax},
		{"html", `<html>error</html>`, webhook.ClassSyntax},
		{"unterminated object", `{reject:true`, webhook.ClassSyntax},
		{"unterminated string", `{forward:"123}`, webhook.ClassSyntax},
		{"missing colon", `{reject true}`, webhook.ClassSyntax},
		{"missing comma", `{reject:true forward:"1"}`, webhook.ClassSyntax},
		{"trailing text", `{reject:true} x`, webhook.ClassSyntax},
		{"two values", `{reject:true}{reject:false}`, webhook.ClassSyntax},
		{"bad literal", `{reject:yes}`, webhook.ClassSyntax},
		{"bad escape", `{forward:"\q"}`, webhook.ClassSyntax},
		{"control char", "{forward:\"1\x01\"}", webhook.ClassSyntax},
		{"unterminated comment", `{reject:true} /*`, webhook.ClassSyntax},
		{"too deep", strings.Repeat("[", 100) + strings.Repeat("]", 100), webhook.ClassSyntax},
		{"too large", `{reject:true}` + strings.Repeat(" ", webhook.MaxBody), webhook.ClassTooLarge},
		{"array", `[{"reject":true}]`, webhook.ClassAnswer},
		{"string", `"reject"`, webhook.ClassAnswer},
		{"none of the keys", `{"status":"ok"}`, webhook.ClassAnswer},
		{"empty object", `{}`, webhook.ClassAnswer},
		{"reject and forward", `{reject:true,forward:"123"}`, webhook.ClassAnswer},
		{"ask and reject", `{askForPin:{expectedPIN:"1"},reject:false}`, webhook.ClassAnswer},
		{"reject twice", `{reject:true,reject:false}`, webhook.ClassAnswer},
		{"reject twice by case", `{reject:true,Reject:true}`, webhook.ClassAnswer},
		{"reject number", `{reject:1}`, webhook.ClassAnswer},
		{"reject null", `{reject:null}`, webhook.ClassAnswer},
		{"forward empty", `{forward:""}`, webhook.ClassAnswer},
		{"forward invalid", `{forward:"a b c"}`, webhook.ClassAnswer},
		{"forward object", `{forward:{}}`, webhook.ClassAnswer},
		{"forward float", `{forward:1.5}`, webhook.ClassAnswer},
		{"ask not object", `{askForPin:"1234"}`, webhook.ClassAnswer},
		{"ask no pin", `{askForPin:{maxRetries:3}}`, webhook.ClassAnswer},
		{"ask empty pin", `{askForPin:{expectedPIN:""}}`, webhook.ClassAnswer},
		{"ask letters", `{askForPin:{expectedPIN:"12a4"}}`, webhook.ClassAnswer},
		{"ask star", `{askForPin:{expectedPIN:"12*4"}}`, webhook.ClassAnswer},
		{"ask negative number", `{askForPin:{expectedPIN:-1234}}`, webhook.ClassAnswer},
		{"ask float pin", `{askForPin:{expectedPIN:12.34}}`, webhook.ClassAnswer},
		{"ask exponent pin", `{askForPin:{expectedPIN:1e5}}`, webhook.ClassAnswer},
		{"ask 33 digits", `{askForPin:{expectedPIN:"` + strings.Repeat("1", 33) + `"}}`, webhook.ClassAnswer},
		{"ask bool pin", `{askForPin:{expectedPIN:true}}`, webhook.ClassAnswer},
		{"ask pin twice", `{askForPin:{expectedPIN:"1",expectedPIN:"2"}}`, webhook.ClassAnswer},
		{"ask bad target", `{askForPin:{expectedPIN:"1234",forwardCorrectPIN:"x,y"}}`, webhook.ClassAnswer},
		{"ask target array", `{askForPin:{expectedPIN:"1234",forwardIncorrectPIN:[]}}`, webhook.ClassAnswer},
		{"ask retries float", `{askForPin:{expectedPIN:"1234",maxRetries:2.5}}`, webhook.ClassAnswer},
		{"ask retries word", `{askForPin:{expectedPIN:"1234",maxRetries:"three"}}`, webhook.ClassAnswer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := webhook.ParseAnswer([]byte(tt.body))
			if err == nil {
				t.Fatalf("ParseAnswer = %+v, want an error of class %s", got, tt.class)
			}
			var we *webhook.Error
			if !errors.As(err, &we) {
				t.Fatalf("error %T is not a *webhook.Error", err)
			}
			if c := gate.ErrorClass(err); c != tt.class {
				t.Errorf("class = %q (%v), want %q", c, err, tt.class)
			}
			if !errors.Is(err, gate.ErrInvalid) {
				t.Errorf("error does not match gate.ErrInvalid")
			}
		})
	}
}
