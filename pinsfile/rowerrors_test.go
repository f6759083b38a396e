package pinsfile_test

import (
	"testing"

	"github.com/vipgate/vipgate/pinsfile"
)

func TestDescribeRowErrors(t *testing.T) {
	re := func(row int, field string) pinsfile.RowError {
		return pinsfile.RowError{Row: row, Field: field, Problem: "bad"}
	}
	tests := []struct {
		errs []pinsfile.RowError
		rows int
		want string
	}{
		{[]pinsfile.RowError{re(3, "caller"), re(3, "pin")}, 1, "1 row has errors (row 3: caller, pin)"},
		{[]pinsfile.RowError{re(3, "caller"), re(5, "pin")}, 2, "2 rows have errors (row 3: caller; row 5: pin)"},
		{[]pinsfile.RowError{re(2, "pin"), re(3, "pin"), re(4, "pin"), re(5, "pin"), re(6, "pin"), re(7, "pin"), re(7, "label"), re(8, "pin")}, 7,
			"7 rows have errors (row 2: pin; row 3: pin; row 4: pin; row 5: pin; row 6: pin; 2 more)"},
	}
	for _, tt := range tests {
		if got := pinsfile.RowsWithErrors(tt.errs); got != tt.rows {
			t.Errorf("RowsWithErrors = %d, want %d", got, tt.rows)
		}
		if got := pinsfile.DescribeRowErrors(tt.errs); got != tt.want {
			t.Errorf("DescribeRowErrors =\n%q, want\n%q", got, tt.want)
		}
	}
}
