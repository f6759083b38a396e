package answercache_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/answercache"
)

type key struct{ caller, called string }

func TestCacheBounded(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	k := func(i int) key { return key{caller: fmt.Sprint("+49", i), called: "+4930"} }
	ans := gate.AuthAnswer{Kind: gate.AnswerReject}
	tests := []struct {
		name string
		// puts at t0+i*step for i in 0..n-1, then a lookup at t0+at.
		n, max   int
		step, at time.Duration
		want     []int // keys still present
		gone     []int
		wantLen  int
	}{
		{"oldest evicted when full", 5, 3, time.Second, 5 * time.Second, []int{2, 3, 4}, []int{0, 1}, 3},
		{"expired dropped on insert", 5, 10, 30 * time.Second, 125 * time.Second, []int{3, 4}, []int{0, 1, 2}, 2},
		{"under the bound keeps all", 3, 10, time.Second, 3 * time.Second, []int{0, 1, 2}, nil, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := answercache.New[key](time.Minute, tt.max)
			for i := range tt.n {
				c.Put(k(i), ans, t0.Add(time.Duration(i)*tt.step))
			}
			if c.Len() != tt.wantLen {
				t.Errorf("len = %d, want %d", c.Len(), tt.wantLen)
			}
			now := t0.Add(tt.at)
			for _, i := range tt.want {
				if _, ok := c.Get(k(i), now); !ok {
					t.Errorf("key %d missing", i)
				}
			}
			for _, i := range tt.gone {
				if _, ok := c.Get(k(i), now); ok {
					t.Errorf("key %d still cached", i)
				}
			}
		})
	}
	t.Run("full cache with expired entries evicts those", func(t *testing.T) {
		c := answercache.New[key](time.Minute, 3)
		for i := range 3 {
			c.Put(k(i), ans, t0)
		}
		c.Put(k(3), ans, t0.Add(2*time.Minute))
		if c.Len() != 1 {
			t.Errorf("len = %d, want 1 (expired entries dropped)", c.Len())
		}
	})
	t.Run("default size", func(t *testing.T) {
		c := answercache.New[key](time.Minute, 0)
		for i := range answercache.DefaultSize + 50 {
			c.Put(k(i), ans, t0)
		}
		if c.Len() != answercache.DefaultSize {
			t.Errorf("len = %d, want %d", c.Len(), answercache.DefaultSize)
		}
	})
}
