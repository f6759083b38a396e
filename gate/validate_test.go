package gate_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

func validPINHash(tb testing.TB) *gate.PINHash {
	tb.Helper()
	h, err := gate.NewHasher([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		tb.Fatal(err)
	}
	ph := h.Hash("4711")
	return &ph
}

func mustTarget(tb testing.TB, s string) gate.Target {
	tb.Helper()
	t, err := gate.ParseTarget(s)
	if err != nil {
		tb.Fatalf("target %q: %v", s, err)
	}
	return t
}

// validStaticGate is a gate that uses every section, in schedule mode with a
// static PIN.
func validStaticGate(tb testing.TB) *gate.Gate {
	return &gate.Gate{
		ID:       "hotline",
		Name:     "Hotline after hours",
		Enabled:  true,
		Language: "de",
		Match:    gate.Match{Numbers: []string{"+4930123456", "0301234*"}, Names: []string{"hotline-2"}},
		Activation: gate.Activation{Mode: gate.ActiveSchedule, Schedule: &gate.Schedule{
			TimeZone: "Europe/Berlin",
			Active:   gate.Outside,
			Windows:  []gate.Window{weekly("mon-fri", "08:00", "18:00"), weekly("sat", "22:00", "02:00")},
			Closures: []gate.Closure{
				{Name: "Christmas Eve", Date: "12-24", Yearly: true, From: "12:00"},
				{Date: "2026-08-03", Until: "2026-08-14"},
			},
		}},
		Identification: gate.Identification{Mode: gate.IdentStatic, StaticPIN: validPINHash(tb), Region: "DE"},
		Dialogue:       gate.Dialogue{MaxRetries: 3, MinDigits: 4, MaxDigits: 8},
		Prompts:        gate.Prompts{gate.PromptAskPIN: "custom/hotline-ask"},
		Routes: gate.Routes{
			ForwardContext: "from-internal",
			OnIncorrect:    mustTarget(tb, "100"),
			Reject:         gate.RejectStyle{Cause: gate.CauseRejected, Announce: true},
		},
		Failure: gate.FailurePolicy{Action: gate.FailForward, Target: mustTarget(tb, "support,200,1")},
		Lockout: gate.LockoutPolicy{MaxFailures: 5, Window: gate.Duration(15 * time.Minute), Duration: gate.Duration(time.Hour)},
	}
}

// validWebhookGate is a gate that asks a webhook.
func validWebhookGate(tb testing.TB) *gate.Gate {
	return &gate.Gate{
		ID:         "crm",
		Activation: gate.Activation{Mode: gate.ActiveAlways},
		Identification: gate.Identification{Mode: gate.IdentWebhook, Webhook: &gate.WebhookConfig{
			URL:     "https://crm.example.com/vip?caller=###CALLER_NUMBER###&called=###CALLED_NUMBER###",
			Method:  "post",
			Headers: map[string]string{"X-Api-Version": "2"},
		}},
		Failure: gate.FailurePolicy{Action: gate.FailTable},
	}
}

// validTableGate is a gate with a caller table.
func validTableGate(tb testing.TB) *gate.Gate {
	return &gate.Gate{
		ID:             "vip",
		Identification: gate.Identification{Mode: gate.IdentTable, UnknownCaller: gate.UnknownStatic, StaticPIN: validPINHash(tb)},
		Failure:        gate.FailurePolicy{Action: gate.FailStatic},
	}
}

func invalidFields(err error) []string {
	var es gate.ValidationErrors
	if !errors.As(err, &es) {
		return nil
	}
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Field
	}
	return out
}

func TestValidateValid(t *testing.T) {
	for name, mk := range map[string]func(testing.TB) *gate.Gate{"static": validStaticGate, "webhook": validWebhookGate, "table": validTableGate} {
		t.Run(name, func(t *testing.T) {
			g := mk(t)
			g.Normalize()
			if err := g.Validate(); err != nil {
				t.Fatalf("Validate: %v (fields %v)", err, invalidFields(err))
			}
		})
	}
}

func TestValidateRules(t *testing.T) {
	long := strings.Repeat("ä", 101)
	tests := []struct {
		name   string
		base   func(testing.TB) *gate.Gate
		change func(g *gate.Gate)
		fields []string
	}{
		{"id not a slug", validStaticGate, func(g *gate.Gate) { g.ID = "Hot Line" }, []string{"id"}},
		{"id empty", validStaticGate, func(g *gate.Gate) { g.ID = "" }, []string{"id"}},
		{"name too long", validStaticGate, func(g *gate.Gate) { g.Name = long }, []string{"name"}},
		{"name with control character", validStaticGate, func(g *gate.Gate) { g.Name = "a\x07b" }, []string{"name"}},
		{"match number with a letter", validStaticGate, func(g *gate.Gate) { g.Match.Numbers[1] = "030a*" }, []string{"match.numbers[1]"}},
		{"match number empty", validStaticGate, func(g *gate.Gate) { g.Match.Numbers[0] = "" }, []string{"match.numbers[0]"}},
		{"match number bare star", validStaticGate, func(g *gate.Gate) { g.Match.Numbers[0] = "*" }, []string{"match.numbers[0]"}},
		{"match number star inside", validStaticGate, func(g *gate.Gate) { g.Match.Numbers[0] = "030*1" }, []string{"match.numbers[0]"}},
		{"match number too long", validStaticGate, func(g *gate.Gate) { g.Match.Numbers[0] = strings.Repeat("1", 33) }, []string{"match.numbers[0]"}},
		{"match name", validStaticGate, func(g *gate.Gate) { g.Match.Names = append(g.Match.Names, "Bad Name") }, []string{"match.names[1]"}},
		{"language too long", validStaticGate, func(g *gate.Gate) { g.Language = "deutsch" }, []string{"language"}},
		{"language with region", validStaticGate, func(g *gate.Gate) { g.Language = "en_GB" }, []string{"language"}},
		{"activation mode", validStaticGate, func(g *gate.Gate) { g.Activation.Mode = "sometimes" }, []string{"activation.mode"}},
		{"schedule missing", validStaticGate, func(g *gate.Gate) { g.Activation.Schedule = nil }, []string{"activation.schedule"}},
		{"time zone unknown", validStaticGate, func(g *gate.Gate) { g.Activation.Schedule.TimeZone = "Mars/Olympus_Mons" }, []string{"activation.schedule.time_zone"}},
		{"time zone empty", validStaticGate, func(g *gate.Gate) { g.Activation.Schedule.TimeZone = "" }, []string{"activation.schedule.time_zone"}},
		{"schedule active", validStaticGate, func(g *gate.Gate) { g.Activation.Schedule.Active = "during" }, []string{"activation.schedule.active"}},
		{"window end", validStaticGate, func(g *gate.Gate) { g.Activation.Schedule.Windows[1].To = "25:00" }, []string{"activation.schedule.windows[1].to"}},
		{"window start 24:00", validStaticGate, func(g *gate.Gate) { g.Activation.Schedule.Windows[0].From = "24:00" }, []string{"activation.schedule.windows[0].from"}},
		{"window start minutes", validStaticGate, func(g *gate.Gate) { g.Activation.Schedule.Windows[0].From = "8:5" }, []string{"activation.schedule.windows[0].from"}},
		{"window day", validStaticGate, func(g *gate.Gate) { g.Activation.Schedule.Windows[0].Days = []string{"mon", "funday"} }, []string{"activation.schedule.windows[0].days[1]"}},
		{"window day range", validStaticGate, func(g *gate.Gate) { g.Activation.Schedule.Windows[1].Days = []string{"mon-xyz"} }, []string{"activation.schedule.windows[1].days[0]"}},
		{"window day empty", validStaticGate, func(g *gate.Gate) { g.Activation.Schedule.Windows[1].Days = []string{"mon,"} }, []string{"activation.schedule.windows[1].days[0]"}},
		{"too many windows", validStaticGate, func(g *gate.Gate) {
			g.Activation.Schedule.Windows = slices.Repeat([]gate.Window{weekly("mon", "08:00", "09:00")}, 101)
		}, []string{"activation.schedule.windows"}},
		{"closure date not in calendar", validStaticGate, func(g *gate.Gate) { g.Activation.Schedule.Closures[1].Date = "2026-02-30" }, []string{"activation.schedule.closures[1].date"}},
		{"closure date malformed", validStaticGate, func(g *gate.Gate) { g.Activation.Schedule.Closures[1].Date = "24.12.2026" }, []string{"activation.schedule.closures[1].date"}},
		{"closure without year, not yearly", validStaticGate, func(g *gate.Gate) { g.Activation.Schedule.Closures[0].Yearly = false }, []string{"activation.schedule.closures[0].date"}},
		{"closure until before date", validStaticGate, func(g *gate.Gate) { g.Activation.Schedule.Closures[1].Until = "2026-08-02" }, []string{"activation.schedule.closures[1].until"}},
		{"closure until malformed", validStaticGate, func(g *gate.Gate) { g.Activation.Schedule.Closures[0].Until = "12-32" }, []string{"activation.schedule.closures[0].until"}},
		{"closure from", validStaticGate, func(g *gate.Gate) { g.Activation.Schedule.Closures[0].From = "12:60" }, []string{"activation.schedule.closures[0].from"}},
		{"closure to", validStaticGate, func(g *gate.Gate) { g.Activation.Schedule.Closures[0].To = "noon" }, []string{"activation.schedule.closures[0].to"}},
		{"closure name", validStaticGate, func(g *gate.Gate) { g.Activation.Schedule.Closures[0].Name = long }, []string{"activation.schedule.closures[0].name"}},
		{"ident mode missing", validStaticGate, func(g *gate.Gate) { g.Identification.Mode = "" }, []string{"identification.mode"}},
		{"ident mode unknown", validStaticGate, func(g *gate.Gate) { g.Identification.Mode = "voiceprint" }, []string{"identification.mode"}},
		{"static without hash", validStaticGate, func(g *gate.Gate) { g.Identification.StaticPIN = nil }, []string{"identification.static_pin_hash"}},
		{"static hash malformed", validStaticGate, func(g *gate.Gate) { g.Identification.StaticPIN.Sum = g.Identification.StaticPIN.Sum[:8] }, []string{"identification.static_pin_hash"}},
		{"region unknown", validStaticGate, func(g *gate.Gate) { g.Identification.Region = "XY" }, []string{"identification.region"}},
		{"unknown caller rule", validTableGate, func(g *gate.Gate) { g.Identification.UnknownCaller = "maybe" }, []string{"identification.unknown_caller"}},
		{"unknown caller static without hash", validTableGate, func(g *gate.Gate) {
			g.Identification.StaticPIN = nil
			g.Failure.Action = gate.FailReject
		}, []string{"identification.unknown_caller"}},
		{"webhook missing", validWebhookGate, func(g *gate.Gate) { g.Identification.Webhook = nil }, []string{"identification.webhook.url"}},
		{"webhook url empty", validWebhookGate, func(g *gate.Gate) { g.Identification.Webhook.URL = "" }, []string{"identification.webhook.url"}},
		{"webhook url relative", validWebhookGate, func(g *gate.Gate) { g.Identification.Webhook.URL = "/vip?c=###CALLER_NUMBER###" }, []string{"identification.webhook.url"}},
		{"webhook url scheme", validWebhookGate, func(g *gate.Gate) { g.Identification.Webhook.URL = "ftp://crm.example.com/vip" }, []string{"identification.webhook.url"}},
		{"webhook url with user info", validWebhookGate, func(g *gate.Gate) { g.Identification.Webhook.URL = "https://u:secret@crm.example.com/vip" }, []string{"identification.webhook.url"}},
		{"webhook url unknown placeholder", validWebhookGate, func(g *gate.Gate) { g.Identification.Webhook.URL = "https://crm.example.com/?c=###CALLER###" }, []string{"identification.webhook.url"}},
		{"webhook url unparsable", validWebhookGate, func(g *gate.Gate) { g.Identification.Webhook.URL = "http://[::1" }, []string{"identification.webhook.url"}},
		{"webhook method", validWebhookGate, func(g *gate.Gate) { g.Identification.Webhook.Method = "PUT" }, []string{"identification.webhook.method"}},
		{"webhook timeout zero", validWebhookGate, func(g *gate.Gate) { g.Identification.Webhook.Timeout = 0 }, []string{"identification.webhook.timeout"}},
		{"webhook timeout too long", validWebhookGate, func(g *gate.Gate) { g.Identification.Webhook.Timeout = gate.Duration(16 * time.Second) }, []string{"identification.webhook.timeout"}},
		{"webhook concurrency zero", validWebhookGate, func(g *gate.Gate) { g.Identification.Webhook.MaxConcurrent = 0 }, []string{"identification.webhook.max_concurrent"}},
		{"webhook concurrency too high", validWebhookGate, func(g *gate.Gate) { g.Identification.Webhook.MaxConcurrent = 1001 }, []string{"identification.webhook.max_concurrent"}},
		{"webhook cache ttl", validWebhookGate, func(g *gate.Gate) { g.Identification.Webhook.CacheTTL = -1 }, []string{"identification.webhook.cache_ttl"}},
		{"webhook breaker failures", validWebhookGate, func(g *gate.Gate) { g.Identification.Webhook.BreakerFailures = -1 }, []string{"identification.webhook.breaker_failures"}},
		{"webhook breaker cooldown", validWebhookGate, func(g *gate.Gate) { g.Identification.Webhook.BreakerCooldown = -1 }, []string{"identification.webhook.breaker_cooldown"}},
		{"webhook header name", validWebhookGate, func(g *gate.Gate) { g.Identification.Webhook.Headers["Bad Header"] = "x" }, []string{"identification.webhook.headers.Bad Header"}},
		{"webhook header value", validWebhookGate, func(g *gate.Gate) { g.Identification.Webhook.Headers["X-Evil"] = "a\r\nHost: x" }, []string{"identification.webhook.headers.X-Evil"}},
		{"webhook header value with a control byte", validWebhookGate, func(g *gate.Gate) { g.Identification.Webhook.Headers["X-Evil"] = "a\x7fb" }, []string{"identification.webhook.headers.X-Evil"}},
		{"max retries zero", validStaticGate, func(g *gate.Gate) { g.Dialogue.MaxRetries = 0 }, []string{"dialogue.max_retries"}},
		{"max retries too many", validStaticGate, func(g *gate.Gate) { g.Dialogue.MaxRetries = 11 }, []string{"dialogue.max_retries"}},
		{"min digits zero", validStaticGate, func(g *gate.Gate) { g.Dialogue.MinDigits = 0 }, []string{"dialogue.min_digits"}},
		{"min digits too many", validStaticGate, func(g *gate.Gate) { g.Dialogue.MinDigits = 33 }, []string{"dialogue.min_digits"}},
		{"max digits too many", validStaticGate, func(g *gate.Gate) { g.Dialogue.MaxDigits = 33 }, []string{"dialogue.max_digits"}},
		{"max digits below min", validStaticGate, func(g *gate.Gate) { g.Dialogue.MaxDigits = 3 }, []string{"dialogue.max_digits"}},
		{"first digit timeout short", validStaticGate, func(g *gate.Gate) { g.Dialogue.FirstDigitTimeout = gate.Duration(500 * time.Millisecond) }, []string{"dialogue.first_digit_timeout"}},
		{"inter digit timeout long", validStaticGate, func(g *gate.Gate) { g.Dialogue.InterDigitTimeout = gate.Duration(61 * time.Second) }, []string{"dialogue.inter_digit_timeout"}},
		{"prompt key unknown", validStaticGate, func(g *gate.Gate) { g.Prompts["hello"] = "custom/hello" }, []string{"prompts.hello"}},
		{"prompt name climbs", validStaticGate, func(g *gate.Gate) { g.Prompts[gate.PromptAskPIN] = "custom/../../etc/passwd" }, []string{"prompts.ask-pin"}},
		{"prompt name absolute", validStaticGate, func(g *gate.Gate) { g.Prompts[gate.PromptWrongPIN] = "/var/lib/asterisk/sounds/x" }, []string{"prompts.wrong-pin"}},
		{"prompt name not clean", validStaticGate, func(g *gate.Gate) { g.Prompts[gate.PromptRejected] = "custom//x" }, []string{"prompts.rejected"}},
		{"prompt name odd character", validStaticGate, func(g *gate.Gate) { g.Prompts[gate.PromptRejected] = "custom/x;rm" }, []string{"prompts.rejected"}},
		{"prompt name empty", validStaticGate, func(g *gate.Gate) { g.Prompts[gate.PromptWelcome] = "" }, []string{"prompts.welcome"}},
		{"forward context invalid", validStaticGate, func(g *gate.Gate) { g.Routes.ForwardContext = "from internal" }, []string{"routes.forward_context"}},
		{"forward context needed", validStaticGate, func(g *gate.Gate) { g.Routes.ForwardContext = "" }, []string{"routes.forward_context"}},
		{"forward context needed by failure target", validStaticGate, func(g *gate.Gate) {
			g.Routes.ForwardContext = ""
			g.Routes.OnIncorrect = gate.Hangup(gate.CauseBusy)
			g.Failure.Target = mustTarget(t, "300")
		}, []string{"routes.forward_context"}},
		{"on correct unknown kind", validStaticGate, func(g *gate.Gate) { g.Routes.OnCorrect = gate.Target{Kind: "teleport"} }, []string{"routes.on_correct"}},
		{"on correct missing", validStaticGate, func(g *gate.Gate) { g.Routes.OnCorrect = gate.Target{} }, []string{"routes.on_correct"}},
		{"on incorrect priority", validStaticGate, func(g *gate.Gate) {
			g.Routes.OnIncorrect = gate.Target{Kind: gate.TargetLocation, Context: "x", Exten: "1"}
		}, []string{"routes.on_incorrect"}},
		{"on incorrect extension", validStaticGate, func(g *gate.Gate) {
			g.Routes.OnIncorrect = gate.Target{Kind: gate.TargetExtension, Exten: "1 0"}
		}, []string{"routes.on_incorrect"}},
		{"on incorrect cause", validStaticGate, func(g *gate.Gate) { g.Routes.OnIncorrect = gate.Hangup("angry") }, []string{"routes.on_incorrect"}},
		{"reject cause", validStaticGate, func(g *gate.Gate) { g.Routes.Reject.Cause = "angry" }, []string{"routes.reject.cause"}},
		{"failure action", validStaticGate, func(g *gate.Gate) { g.Failure.Action = "explode" }, []string{"failure.action"}},
		{"failure forward without target", validStaticGate, func(g *gate.Gate) { g.Failure.Target = gate.Target{} }, []string{"failure.target"}},
		{"failure target invalid", validStaticGate, func(g *gate.Gate) {
			g.Failure.Target = gate.Target{Kind: gate.TargetLocation, Context: "bad ctx", Exten: "1", Priority: 1}
		}, []string{"failure.target"}},
		{"failure table outside webhook gates", validStaticGate, func(g *gate.Gate) { g.Failure.Action = gate.FailTable }, []string{"failure.action"}},
		{"failure static without hash", validWebhookGate, func(g *gate.Gate) { g.Failure.Action = gate.FailStatic }, []string{"failure.action"}},
		{"lockout failures negative", validStaticGate, func(g *gate.Gate) { g.Lockout.MaxFailures = -1 }, []string{"lockout.max_failures"}},
		{"lockout gate failures negative", validStaticGate, func(g *gate.Gate) { g.Lockout.GateMaxFailures = -1 }, []string{"lockout.gate_max_failures"}},
		{"lockout window missing", validStaticGate, func(g *gate.Gate) { g.Lockout.Window = 0 }, []string{"lockout.window"}},
		{"lockout window negative", validStaticGate, func(g *gate.Gate) { g.Lockout.Window = -1 }, []string{"lockout.window"}},
		{"lockout duration missing", validStaticGate, func(g *gate.Gate) { g.Lockout.Duration = 0 }, []string{"lockout.duration"}},
		{"lockout parallel negative", validStaticGate, func(g *gate.Gate) { g.Lockout.MaxParallel = -1 }, []string{"lockout.max_parallel"}},
		{"lockout gate parallel negative", validStaticGate, func(g *gate.Gate) { g.Lockout.GateMaxParallel = -2 }, []string{"lockout.gate_max_parallel"}},
		{"lockout gate action unknown", validStaticGate, func(g *gate.Gate) { g.Lockout.GateAction = "ignore" }, []string{"lockout.gate_action"}},
		{"lockout slow delay too long", validStaticGate, func(g *gate.Gate) {
			g.Lockout.GateAction, g.Lockout.SlowDelay = gate.GateSlow, gate.Duration(2*time.Minute)
		}, []string{"lockout.slow_delay"}},
		{"gate lockout needs a window", validStaticGate, func(g *gate.Gate) {
			g.Lockout = gate.LockoutPolicy{GateMaxFailures: 50, Duration: gate.Duration(time.Minute)}
		}, []string{"lockout.window"}},
		{"every problem is reported", validStaticGate, func(g *gate.Gate) {
			g.ID = "X"
			g.Activation.Schedule.Windows[0].To = "99:99"
			g.Lockout.MaxFailures = -1
		}, []string{"id", "activation.schedule.windows[0].to", "lockout.max_failures"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := tt.base(t)
			g.Normalize()
			if err := g.Validate(); err != nil {
				t.Fatalf("base gate does not validate: %v", err)
			}
			tt.change(g)
			err := g.Validate()
			if !errors.Is(err, gate.ErrInvalid) {
				t.Fatalf("Validate = %v, want an error matching ErrInvalid", err)
			}
			if got := invalidFields(err); !slices.Equal(got, tt.fields) {
				t.Errorf("fields = %q, want %q (%v)", got, tt.fields, err)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name  string
		g     *gate.Gate
		check func(t *testing.T, g *gate.Gate)
	}{
		{"defaults", &gate.Gate{ID: "g", Identification: gate.Identification{Mode: gate.IdentWebhook, Webhook: &gate.WebhookConfig{URL: "http://h/"}}}, func(t *testing.T, g *gate.Gate) {
			w := g.Identification.Webhook
			for _, c := range []struct {
				field     string
				got, want any
			}{
				{"activation.mode", g.Activation.Mode, gate.ActiveAlways},
				{"dialogue.max_retries", g.Dialogue.MaxRetries, 3},
				{"dialogue.min_digits", g.Dialogue.MinDigits, 4},
				{"dialogue.max_digits", g.Dialogue.MaxDigits, 12},
				{"dialogue.first_digit_timeout", g.Dialogue.FirstDigitTimeout.D(), 10 * time.Second},
				{"dialogue.inter_digit_timeout", g.Dialogue.InterDigitTimeout.D(), 5 * time.Second},
				{"identification.unknown_caller", g.Identification.UnknownCaller, gate.UnknownReject},
				{"failure.action", g.Failure.Action, gate.FailReject},
				{"routes.on_correct", g.Routes.OnCorrect, gate.Continue},
				{"routes.on_incorrect", g.Routes.OnIncorrect, gate.Hangup(gate.CauseBusy)},
				{"routes.reject.cause", g.Routes.Reject.Cause, gate.CauseBusy},
				{"webhook.method", w.Method, "GET"},
				{"webhook.timeout", w.Timeout.D(), 3 * time.Second},
				{"webhook.max_concurrent", w.MaxConcurrent, 32},
				{"webhook.breaker_failures", w.BreakerFailures, 5},
				{"webhook.breaker_cooldown", w.BreakerCooldown.D(), 30 * time.Second},
			} {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
				}
			}
		}},
		{"wrong PIN rejects with the reject cause", &gate.Gate{Routes: gate.Routes{Reject: gate.RejectStyle{Cause: " Congestion "}}}, func(t *testing.T, g *gate.Gate) {
			if want := gate.Hangup(gate.CauseCongestion); g.Routes.OnIncorrect != want {
				t.Errorf("on_incorrect = %v, want %v", g.Routes.OnIncorrect, want)
			}
		}},
		{"set values are kept", validStaticGate(t), func(t *testing.T, g *gate.Gate) {
			want := validStaticGate(t)
			if g.Dialogue.MaxDigits != want.Dialogue.MaxDigits || g.Routes.OnIncorrect != want.Routes.OnIncorrect || g.Failure.Action != want.Failure.Action || g.Routes.Reject.Cause != want.Routes.Reject.Cause {
				t.Errorf("Normalize changed set values: %+v", g)
			}
		}},
		{"short maximum lowers the minimum", &gate.Gate{Dialogue: gate.Dialogue{MaxDigits: 3}}, func(t *testing.T, g *gate.Gate) {
			if g.Dialogue.MinDigits != 3 || g.Dialogue.MaxDigits != 3 {
				t.Errorf("digits = %d..%d, want 3..3", g.Dialogue.MinDigits, g.Dialogue.MaxDigits)
			}
		}},
		{"long minimum raises the maximum", &gate.Gate{Dialogue: gate.Dialogue{MinDigits: 16}}, func(t *testing.T, g *gate.Gate) {
			if g.Dialogue.MinDigits != 16 || g.Dialogue.MaxDigits != 16 {
				t.Errorf("digits = %d..%d, want 16..16", g.Dialogue.MinDigits, g.Dialogue.MaxDigits)
			}
		}},
		{"trims and lower-cases", &gate.Gate{
			ID: " hotline ", Name: " Hotline ", Language: " DE ",
			Match: gate.Match{Numbers: []string{" +4930 "}},
			Activation: gate.Activation{Mode: " Schedule ", Schedule: &gate.Schedule{TimeZone: " Europe/Berlin ",
				Windows:  []gate.Window{{Days: []string{" Mon-Fri ", "SAT"}, From: " 08:00", To: "18:00 "}},
				Closures: []gate.Closure{{Name: " Eve ", Date: " 12-24 ", Yearly: true, From: " 12:00 "}},
			}},
			Identification: gate.Identification{Mode: " Table ", UnknownCaller: " Pass ", Region: " de ", Webhook: &gate.WebhookConfig{URL: " https://h/ ", Method: " post "}},
			Routes:         gate.Routes{ForwardContext: " from-internal "},
			Prompts:        gate.Prompts{gate.PromptAskPIN: " custom/ask "},
			Failure:        gate.FailurePolicy{Action: " Pass "},
		}, func(t *testing.T, g *gate.Gate) {
			s := g.Activation.Schedule
			got := []string{g.ID, g.Name, g.Language, g.Match.Numbers[0], string(g.Activation.Mode), s.TimeZone, s.Active,
				s.Windows[0].Days[0], s.Windows[0].Days[1], s.Windows[0].From, s.Windows[0].To,
				s.Closures[0].Name, s.Closures[0].Date, s.Closures[0].From,
				string(g.Identification.Mode), string(g.Identification.UnknownCaller), g.Identification.Region,
				g.Identification.Webhook.URL, g.Identification.Webhook.Method, g.Routes.ForwardContext,
				g.Prompts[gate.PromptAskPIN], string(g.Failure.Action)}
			want := []string{"hotline", "Hotline", "de", "+4930", "schedule", "Europe/Berlin", "outside",
				"mon-fri", "sat", "08:00", "18:00",
				"Eve", "12-24", "12:00",
				"table", "pass", "DE",
				"https://h/", "POST", "from-internal",
				"custom/ask", "pass"}
			if !slices.Equal(got, want) {
				t.Errorf("normalised = %q,\nwant %q", got, want)
			}
			if err := g.Validate(); err != nil {
				t.Errorf("Validate after Normalize: %v", err)
			}
		}},
		{"nil gate", nil, func(t *testing.T, g *gate.Gate) {
			if err := g.Validate(); !errors.Is(err, gate.ErrInvalid) {
				t.Errorf("Validate(nil) = %v, want ErrInvalid", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.g.Normalize()
			tt.check(t, tt.g)
		})
	}
}

// FuzzValidate checks that Normalize and Validate never panic and that a
// gate that validates has a schedule that evaluates.
func FuzzValidate(f *testing.F) {
	for _, g := range []*gate.Gate{validStaticGate(f), validWebhookGate(f), validTableGate(f), {}} {
		b, err := json.Marshal(g)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"activation":{"mode":"schedule","schedule":{"time_zone":"../../etc/passwd","windows":[{"days":["-"],"from":":","to":"24:"}],"closures":[{"date":"-1-1","until":"99-99","from":"1:1"}]}}}`))
	f.Add([]byte(`{"routes":{"on_correct":"hangup:","on_incorrect":"a,b,0"},"prompts":{"":"..","ask-pin":"/"},"identification":{"mode":"webhook","webhook":{"url":"###"}}}`))
	when := time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		var g gate.Gate
		if json.Unmarshal(b, &g) != nil {
			return
		}
		g.Normalize()
		err := g.Validate()
		if err != nil && !errors.Is(err, gate.ErrInvalid) {
			t.Fatalf("Validate error %v does not match ErrInvalid", err)
		}
		if s := g.Activation.Schedule; err == nil && s != nil {
			if _, _, err := s.ActiveAt(when); err != nil {
				t.Fatalf("valid schedule does not evaluate: %v", err)
			}
		}
	})
}
