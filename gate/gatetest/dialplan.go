package gatetest

import (
	"context"

	"github.com/vipgate/vipgate/gate"
)

// DialplanCase is one row of the dialplan-argument table that gate's own
// test and each adapter's test run, so that the same dialplan gives the
// same gate and called number over ARI and FastAGI.
type DialplanCase struct {
	Name  string
	Args  []string // Stasis(vipgate,<Args>) or AGI(agi://host,<Args>)
	Exten string   // ${EXTEN} where vipgate was reached
	DNID  string   // CALLERID(dnid) / agi_dnid; "" when unset
	// Called and Gate are what vipgate must take from it.
	Called, Gate string
	// Unknown are the keys of the arguments that are ignored.
	Unknown []string
}

// DialplanCases is the table.
var DialplanCases = []DialplanCase{
	{Name: "no args uses exten", Exten: "4930123", Called: "4930123"},
	{Name: "number arg", Exten: "s", Args: []string{"4930999"}, Called: "4930999"},
	{Name: "plus number arg", Exten: "1000", Args: []string{"+4930999"}, Called: "+4930999"},
	{Name: "gate name", Exten: "1000", Args: []string{"hotline"}, Called: "1000", Gate: "hotline"},
	{Name: "gate and number", Exten: "1000", Args: []string{"hotline", "4930999"}, Called: "4930999", Gate: "hotline"},
	{Name: "number then gate", Exten: "1000", Args: []string{"4930999", "hotline"}, Called: "4930999", Gate: "hotline"},
	{Name: "explicit keys", Exten: "1000", Args: []string{"called=555", "gate=night"}, Called: "555", Gate: "night"},
	{Name: "explicit keys win wherever they stand", Exten: "1000", Args: []string{"123", "day", "gate=night", "called=+4930999"}, Called: "+4930999", Gate: "night"},
	{Name: "explicit gate with digits", Exten: "1000", Args: []string{"gate=2024"}, Called: "1000", Gate: "2024"},
	{Name: "keys are case-insensitive", Exten: "1000", Args: []string{"Gate=vip", "CALLED=42"}, Called: "42", Gate: "vip"},
	{Name: "empty explicit value is skipped", Exten: "1000", Args: []string{"gate=", "hotline"}, Called: "1000", Gate: "hotline"},
	{Name: "empty args skipped", Exten: "1000", Args: []string{"", " ", "hotline"}, Called: "1000", Gate: "hotline"},
	{Name: "first of a kind wins", Exten: "1000", Args: []string{"a", "b", "1", "2"}, Called: "1", Gate: "a"},
	{Name: "s exten without dnid", Exten: "s", Called: ""},
	{Name: "s exten uses dnid", Exten: "s", DNID: "0711555", Called: "0711555"},
	{Name: "s exten with a gate uses dnid", Exten: "s", DNID: "0711555", Args: []string{"hotline"}, Called: "0711555", Gate: "hotline"},
	{Name: "an argument number wins over the dnid", Exten: "s", DNID: "0711555", Args: []string{"0711666"}, Called: "0711666"},
	{Name: "dnid only for s", Exten: "200", DNID: "0711555", Called: "200"},
	{Name: "lone plus is a name", Exten: "1000", Args: []string{"+"}, Called: "1000", Gate: "+"},
	{Name: "star code is a number", Exten: "s", Args: []string{"*123"}, Called: "*123"},
	{Name: "star and hash count as a number", Exten: "1", Args: []string{"*21#"}, Called: "*21#"},
	{Name: "a blank makes a name", Exten: "s", DNID: "555", Args: []string{"vip", "+49 30", "+4930555"}, Called: "+4930555", Gate: "vip"},
	{Name: "too long for a number", Exten: "1000", Args: []string{"123456789012345678901234567890123"}, Called: "1000", Gate: "123456789012345678901234567890123"},
	{Name: "unknown key is ignored", Exten: "s", DNID: "0711555", Args: []string{"foo=bar"}, Called: "0711555", Unknown: []string{"foo"}},
	{Name: "misspelt key is no gate", Exten: "1000", Args: []string{"gaet=vip", "x=y", "hotline"}, Called: "1000", Gate: "hotline", Unknown: []string{"gaet", "x"}},
}

// DialplanFlow returns a Flow over an in-memory store with inactive gates
// that the rows of DialplanCases select by name or called number, so that
// different rows end at different gates.
func DialplanFlow() *gate.Flow {
	st := NewStore()
	for id, numbers := range map[string][]string{
		"hotline": {"1000"},
		"night":   {"555"},
		"vip":     {"+4930999", "4930999"},
		"dnid":    {"0711555"},
		"code":    {"*123"},
	} {
		g := &gate.Gate{ID: id, Enabled: true, Match: gate.Match{Numbers: numbers}, Activation: gate.Activation{Mode: gate.ActiveNever}}
		g.Normalize()
		if err := st.CreateGate(context.Background(), g); err != nil {
			panic(err)
		}
	}
	return gate.NewFlow(gate.NewEngine(gate.EngineConfig{Store: st, Region: "DE"}), gate.FlowConfig{})
}

// DialplanVars runs f on a call with what gate.Dialplan's rule takes from
// row tt and returns the channel variables the Flow sets: what every
// adapter must set for the same dialplan.
func DialplanVars(f *gate.Flow, tt DialplanCase) map[string]string {
	c := &Call{CallInfo: gate.CallInfo{ID: "dialplan", Source: "test", Called: tt.Called, GateName: tt.Gate}}
	f.Run(context.Background(), c)
	return ResultVars(c.Var)
}

// ResultVars returns the Flow's result variables as get reports them.
func ResultVars(get func(name string) string) map[string]string {
	return map[string]string{gate.VarResult: get(gate.VarResult), gate.VarGate: get(gate.VarGate), gate.VarTarget: get(gate.VarTarget)}
}
