package gatetest

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/vipgate/vipgate/gate"
)

// Step is what the scripted caller does during one Collect.
type Step struct {
	// Digits are typed; with Terminated the caller ends with '#'.
	Digits     string
	Terminated bool
	// DuringPrompt marks the digits as typed while the prompt played
	// (barge-in): Collect fails if it was given no prompt to play, which
	// catches a flow that plays the prompt with Play and only then
	// collects (digits typed during it would be lost).
	DuringPrompt bool
	// Hangup hangs up instead of typing.
	Hangup bool
}

// Call is a scripted gate.Call. Each Collect consumes the next Step; when
// the steps run out, Collect times out with no input. HangupAt hangs the
// call up at the n-th operation (1-based; 0 = never). It records what was
// played and where the call went. It is safe for concurrent use.
type Call struct {
	CallInfo gate.CallInfo
	Steps    []Step
	HangupAt int
	// FailOn makes the named operation ("answer", "play", "collect",
	// "setvar" (SetVars), "continue", "hangup") fail with this error.
	FailOn map[string]error
	// OnCollect, if set, is called with the number of each Collect
	// (1-based) before it runs, e.g. to hold parallel calls at a barrier.
	OnCollect func(n int)
	collects  int
	mu        sync.Mutex
	ops       int
	answers   int
	played    []gate.Prompt
	vars      map[string]string
	dest      *gate.Target
	cause     gate.Cause
	gone      bool
	log       []string
}

var _ gate.Call = (*Call)(nil)

// Info implements gate.Call.
func (c *Call) Info() gate.CallInfo { return c.CallInfo }

func (c *Call) op(ctx context.Context, name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ops++
	c.log = append(c.log, name)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, gate.ErrHangup)
	}
	if c.gone || (c.HangupAt > 0 && c.ops >= c.HangupAt) {
		c.gone = true
		return fmt.Errorf("gatetest %s: %w", name, gate.ErrHangup)
	}
	if err := c.FailOn[name]; err != nil {
		return err
	}
	return nil
}

// Answer implements gate.Call.
func (c *Call) Answer(ctx context.Context) error {
	if err := c.op(ctx, "answer"); err != nil {
		return err
	}
	c.mu.Lock()
	c.answers++
	c.mu.Unlock()
	return nil
}

// Play implements gate.Call.
func (c *Call) Play(ctx context.Context, prompts ...gate.Prompt) error {
	if err := c.op(ctx, "play"); err != nil {
		return err
	}
	c.mu.Lock()
	c.played = append(c.played, prompts...)
	c.mu.Unlock()
	return nil
}

// Collect implements gate.Call.
func (c *Call) Collect(ctx context.Context, p gate.Prompt, o gate.CollectOptions) (gate.Input, error) {
	if c.OnCollect != nil {
		c.mu.Lock()
		c.collects++
		n := c.collects
		c.mu.Unlock()
		c.OnCollect(n)
	}
	if err := c.op(ctx, "collect"); err != nil {
		return gate.Input{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p.Name != "" {
		c.played = append(c.played, p)
	}
	if len(c.Steps) == 0 {
		return gate.Input{TimedOut: true}, nil
	}
	s := c.Steps[0]
	c.Steps = c.Steps[1:]
	if s.Hangup {
		c.gone = true
		return gate.Input{}, fmt.Errorf("gatetest collect: %w", gate.ErrHangup)
	}
	if s.DuringPrompt && p.Name == "" {
		return gate.Input{}, fmt.Errorf("gatetest collect: digits typed during the prompt, but Collect was given no prompt (no barge-in)")
	}
	d := s.Digits
	if o.MaxDigits > 0 && len(d) > o.MaxDigits {
		return gate.Input{Digits: d[:o.MaxDigits]}, nil
	}
	return gate.Input{Digits: d, Terminated: s.Terminated, TimedOut: !s.Terminated}, nil
}

// SetVars implements gate.Call; each call is one "setvar" operation, as
// it is one request over ARI.
func (c *Call) SetVars(ctx context.Context, vars ...gate.Var) error {
	if err := c.op(ctx, "setvar"); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.vars == nil {
		c.vars = map[string]string{}
	}
	for _, v := range vars {
		c.vars[v.Name] = v.Value
	}
	return nil
}

// Continue implements gate.Call.
func (c *Call) Continue(ctx context.Context, t gate.Target) error {
	if err := c.op(ctx, "continue"); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dest = &t
	c.gone = true
	return nil
}

// Hangup implements gate.Call.
func (c *Call) Hangup(ctx context.Context, cause gate.Cause) error {
	if err := c.op(ctx, "hangup"); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cause = cause
	c.gone = true
	return nil
}

// Answered reports how many times Answer succeeded.
func (c *Call) Answered() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answers
}

// Played returns the keys of the prompts played, in order.
func (c *Call) Played() []gate.PromptKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]gate.PromptKey, len(c.played))
	for i, p := range c.played {
		out[i] = p.Key
	}
	return out
}

// Prompts returns the prompts played, in order.
func (c *Call) Prompts() []gate.Prompt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]gate.Prompt(nil), c.played...)
}

// Var returns a channel variable that was set.
func (c *Call) Var(name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.vars[name]
}

// Destination returns where the call was continued to, if it was.
func (c *Call) Destination() (gate.Target, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dest == nil {
		return gate.Target{}, false
	}
	return *c.dest, true
}

// HangupCause returns the cause the call was hung up with ("" if not).
func (c *Call) HangupCause() gate.Cause {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cause
}

// Ops returns the operations in order, e.g. "answer collect setvar ...".
func (c *Call) Ops() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.log, " ")
}
