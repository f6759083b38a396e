package gatetest

import (
	"testing"

	"github.com/vipgate/vipgate/gate"
)

// OverrideCase is one row of the phone-override dialplan table that gate's
// own test and each adapter's test run, so that the same dialplan asks
// for the same override over ARI and FastAGI.
type OverrideCase struct {
	Name string
	// Path and Query are a FastAGI URL's script path and query
	// (agi://host/<Path>?<Query>); over ARI a case with a Path is
	// written as the first Stasis argument and one with a Query is not
	// run (Stasis has no URL).
	Path, Query string
	Args        []string
	// Override is nil when the call is no phone override; else Gate,
	// Action and whether the request has a Problem.
	Override *gate.OverrideRequest
	Problem  bool
	// Unknown are the keys of the arguments that are ignored.
	Unknown []string
}

func req(g string, a gate.OverrideAction) *gate.OverrideRequest {
	return &gate.OverrideRequest{Gate: g, Action: a}
}

// OverrideCases is the table.
var OverrideCases = []OverrideCase{
	{Name: "stasis style", Args: []string{"override", "hotline", "toggle"}, Override: req("hotline", gate.ActionToggle)},
	{Name: "action defaults to toggle", Args: []string{"override", "hotline"}, Override: req("hotline", gate.ActionToggle)},
	{Name: "action first", Args: []string{"override", "on", "hotline"}, Override: req("hotline", gate.ActionOn)},
	{Name: "case-insensitive", Args: []string{"OVERRIDE", "hotline", "Off"}, Override: req("hotline", gate.ActionOff)},
	{Name: "schedule", Args: []string{"override", "night", "schedule"}, Override: req("night", gate.ActionSchedule)},
	{Name: "keys", Args: []string{"override", "gate=vip", "action=on"}, Override: req("vip", gate.ActionOn)},
	{Name: "keys win", Args: []string{"override", "hotline", "off", "action=on", "gate=vip"}, Override: req("vip", gate.ActionOn)},
	{Name: "unknown key", Args: []string{"override", "hotline", "pin=1234"}, Override: req("hotline", gate.ActionToggle), Unknown: []string{"pin"}},
	{Name: "bad action", Args: []string{"override", "hotline", "action=maybe"}, Override: req("hotline", "maybe"), Problem: true},
	{Name: "no gate", Args: []string{"override", "toggle"}, Override: req("", gate.ActionToggle), Problem: true},
	{Name: "path", Path: "override", Args: []string{"hotline", "on"}, Override: req("hotline", gate.ActionOn)},
	{Name: "path and query", Path: "override", Query: "gate=hotline&action=off", Override: req("hotline", gate.ActionOff)},
	{Name: "query action with gate arg", Path: "override", Query: "action=schedule", Args: []string{"night"}, Override: req("night", gate.ActionSchedule)},
	{Name: "override later is a gate name", Args: []string{"hotline", "override"}},
	{Name: "screening call", Args: []string{"hotline", "1000"}},
}

// CheckOverride fails t unless info is what row tt asks for: the same
// request over every transport.
func CheckOverride(t testing.TB, tt OverrideCase, info gate.CallInfo) {
	t.Helper()
	if tt.Override == nil {
		if info.Override != nil {
			t.Errorf("Override = %+v for a screening call", *info.Override)
		}
		return
	}
	got := info.Override
	if got == nil {
		t.Fatalf("Override = nil, want %+v", *tt.Override)
	}
	if got.Gate != tt.Override.Gate || got.Action != tt.Override.Action || (got.Problem != "") != tt.Problem {
		t.Errorf("Override = %+v, want gate %q action %q problem %v", *got, tt.Override.Gate, tt.Override.Action, tt.Problem)
	}
	if info.GateName != tt.Override.Gate {
		t.Errorf("GateName = %q, want %q", info.GateName, tt.Override.Gate)
	}
}
