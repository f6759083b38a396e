package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// pinsGrant makes a granted PIN and prints it, the one time it is shown.
func pinsGrant(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "pins grant", "--gate G [--caller N] [--uses N] [--valid-for 24h | --until T] [--from T] [--label L]")
	c := f.common()
	gateID := f.str("gate", "", "", "gate ID (required)")
	caller := f.str("caller", "", "", "the caller's number in any format (default: anyone)")
	uses := f.str("uses", "", "", "calls the PIN lets through (default 0: any number until it expires)")
	validFor := f.str("valid-for", "", "", "how long the PIN is valid: 24h, 90m, 7d")
	until := f.str("until", "", "", "when the PIN expires: a date, a local time or an RFC 3339 time in the gate's zone")
	from := f.str("from", "", "", "when the PIN starts to be valid (default: now)")
	label := f.str("label", "", "", "label, set as VIPGATE_LABEL when the PIN lets a call through")
	if err := f.parse(args); err != nil {
		return err
	}
	if *gateID == "" || f.fs.NArg() != 0 {
		return usagef("pins grant: give --gate")
	}
	in := gate.GrantIn{Caller: *caller, ValidFor: *validFor, ValidUntil: *until, ValidFrom: *from, Label: *label}
	var err error
	if in.MaxUses, err = whole(*uses, "uses"); err != nil {
		return err
	}
	d, g, err := c.openGate(ctx, e, true, *gateID)
	if err != nil {
		return err
	}
	defer d.Close()
	nb, err := g.Numbering(d.region)
	if err != nil {
		return err
	}
	gr, pin, err := gate.NewGrant(d.hasher, g, nb, in, cliActor(), time.Now().UTC().Truncate(time.Microsecond))
	if err != nil {
		return cliFields(err)
	}
	if err := d.store.CreateGrant(ctx, gr); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "gate %s: grant #%d for %s, %s\n", g.ID, gr.ID, grantWho(gr), grantTerms(gr, g.Location()))
	fmt.Fprintf(e.stdout, "PIN: %s\n", pin)
	fmt.Fprintln(e.stderr, "The PIN is shown only now; vipgate keeps only its hash.")
	return nil
}

// cliFields names the command's flags in validation problems where they
// differ from the API's fields.
func cliFields(err error) error {
	es, ok := err.(gate.ValidationErrors)
	if !ok {
		return err
	}
	names := map[string]string{"max_uses": "uses", "valid_for": "valid-for", "valid_until": "until", "valid_from": "from"}
	out := make(gate.ValidationErrors, len(es))
	for i, v := range es {
		c := *v
		if n, ok := names[c.Field]; ok {
			c.Field = n
			c.Problem = strings.NewReplacer("max_uses", "--uses", "valid_for", "--valid-for", "valid_until", "--until", "valid_from", "--from").Replace(c.Problem)
		}
		out[i] = &c
	}
	return out
}

func grantWho(g *gate.Grant) string {
	if g.Caller == gate.AnyCaller {
		return "anyone"
	}
	return g.Caller
}

// grantTerms says how long and how often a grant is valid.
func grantTerms(g *gate.Grant, loc *time.Location) string {
	var parts []string
	if g.MaxUses > 0 {
		parts = append(parts, fmt.Sprintf("%d/%d uses", g.Uses, g.MaxUses))
	} else {
		parts = append(parts, fmt.Sprintf("%d uses", g.Uses))
	}
	if !g.ValidFrom.IsZero() {
		parts = append(parts, "from "+g.ValidFrom.In(loc).Format(time.RFC3339))
	}
	if !g.ValidUntil.IsZero() {
		parts = append(parts, "until "+g.ValidUntil.In(loc).Format(time.RFC3339))
	}
	return strings.Join(parts, ", ")
}

// pinsGrants lists a gate's grants, never a PIN.
func pinsGrants(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "pins grants", "--gate G")
	c := f.common()
	gateID := f.str("gate", "", "", "gate ID (required)")
	if err := f.parse(args); err != nil {
		return err
	}
	if *gateID == "" || f.fs.NArg() != 0 {
		return usagef("pins grants: give --gate")
	}
	d, g, err := c.openGate(ctx, e, false, *gateID)
	if err != nil {
		return err
	}
	defer d.Close()
	gs, err := d.store.ListGrants(ctx, g.ID)
	if err != nil {
		return err
	}
	if len(gs) == 0 {
		fmt.Fprintf(e.stdout, "gate %s has no grants\n", g.ID)
		return nil
	}
	now := time.Now()
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCALLER\tSTATE\tTERMS\tLABEL\tBY")
	for _, gr := range gs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", gr.ID, grantWho(gr), gr.State(now), grantTerms(gr, g.Location()), gr.Label, gr.CreatedBy)
	}
	return tw.Flush()
}

// pinsRevoke deletes a grant: its PIN is wrong from then on.
func pinsRevoke(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "pins revoke", "--gate G ID")
	c := f.common()
	gateID := f.str("gate", "", "", "gate ID (required)")
	if err := f.parse(args); err != nil {
		return err
	}
	if *gateID == "" || f.fs.NArg() != 1 {
		return usagef("pins revoke: give --gate and the grant's ID")
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(f.fs.Arg(0), "#"), 10, 64)
	if err != nil || id < 1 {
		return usagef("pins revoke: %q is no grant ID (see pins grants)", f.fs.Arg(0))
	}
	d, err := c.open(ctx, e, false)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.store.DeleteGrant(ctx, *gateID, id); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "gate %s: grant #%d revoked\n", *gateID, id)
	return nil
}
