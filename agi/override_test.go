package agi

import (
	"bufio"
	"strconv"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate/gatetest"
)

// TestOverrideTableOverAGI runs every row of gatetest's phone-override
// table as the header of AGI(agi://host/<path>?<query>,<args>): the same
// rows give the same request over ARI (ari's TestOverrideTableOverARI)
// and in gate.
func TestOverrideTableOverAGI(t *testing.T) {
	for _, tt := range gatetest.OverrideCases {
		t.Run(tt.Name, func(t *testing.T) {
			script := tt.Path
			if tt.Query != "" {
				script += "?" + tt.Query
			}
			var b strings.Builder
			b.WriteString("agi_network: yes\n")
			if script != "" {
				b.WriteString("agi_network_script: " + script + "\n")
			}
			b.WriteString("agi_request: agi://127.0.0.1:4573/" + script + "\nagi_uniqueid: 1.2\nagi_callerid: 201\nagi_extension: *55\n")
			for i, a := range tt.Args {
				b.WriteString("agi_arg_" + strconv.Itoa(i+1) + ": " + a + "\n")
			}
			b.WriteString("\n")
			h, err := ReadHeader(bufio.NewReader(strings.NewReader(b.String())), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			gatetest.CheckOverride(t, tt, h.CallInfo())
		})
	}
}
