package postgres

import (
	"reflect"
	"testing"

	"github.com/vipgate/vipgate/gate"
)

// BenchmarkCloneGate measures the copy that ListGates and GetGate make of
// every cached gate on every call.
func BenchmarkCloneGate(b *testing.B) {
	var g gate.Gate
	fill(reflect.ValueOf(&g).Elem(), 0)
	for b.Loop() {
		_ = cloneGate(&g)
	}
}
