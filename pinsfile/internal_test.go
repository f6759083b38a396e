package pinsfile

import "testing"

// TestCallerIndexIsExact checks that patterns which differ only in a
// leading zero, '+', '*' or length are different keys, that the same
// pattern is found again with its first row, and that patterns which
// cannot be packed are still checked.
func TestCallerIndexIsExact(t *testing.T) {
	c := newCallerIndex()
	distinct := []string{"201", "0201", "00201", "+201", "201*", "+201*", "+4917612345678", "+491761234567*",
		"99999999999999999", "099999999999999999", "+12345678901234567", "abc", "2", "0", "+0", "*", "+"}
	for i, p := range distinct {
		if prev, dup := c.add(p, i+1); dup {
			t.Fatalf("%q (row %d) taken for a repeat of row %d", p, i+1, prev)
		}
	}
	for i, p := range distinct {
		prev, dup := c.add(p, 100+i)
		if !dup || prev != i+1 {
			t.Errorf("%q again: (%d, %v), want (%d, true)", p, prev, dup, i+1)
		}
	}
	if _, ok := packPattern("+12345678901234567"); !ok {
		t.Error("17 digits not packed")
	}
	if _, ok := packPattern("123456789012345678"); ok {
		t.Error("18 digits packed")
	}
}
