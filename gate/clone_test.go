package gate_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// TestCloneDeep fills every field of a gate and checks that the clone is
// equal and shares no memory with it, so a reference field added to
// gate.Gate without a line in Clone fails here.
func TestCloneDeep(t *testing.T) {
	var g gate.Gate
	fill(reflect.ValueOf(&g).Elem(), 0)
	for _, src := range []*gate.Gate{&g, {}} {
		c := src.Clone()
		if !reflect.DeepEqual(c, src) {
			t.Fatalf("clone differs from the original:\n got %+v\nwant %+v", c, src)
		}
		if p := shared(reflect.ValueOf(src).Elem(), reflect.ValueOf(c).Elem(), "gate"); p != "" {
			t.Errorf("clone shares %s with the original", p)
		}
	}
	if (*gate.Gate)(nil).Clone() != nil {
		t.Error("Clone of nil is not nil")
	}
}

// fill sets every field reachable from v to a non-zero value: pointers
// to new values, slices and maps to one element.
func fill(v reflect.Value, depth int) {
	if depth > 8 {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), depth+1)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Unix(1, 0)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), depth+1)
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, depth+1)
		fill(e, depth+1)
		v.SetMapIndex(k, e)
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint8, reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	}
}

// shared reports the first path at which a and b share memory.
func shared(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		return shared(a.Elem(), b.Elem(), path)
	case reflect.Struct:
		for i := range a.NumField() {
			if a.Type().Field(i).IsExported() {
				if p := shared(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
					return p
				}
			}
		}
	case reflect.Slice:
		if a.Len() == 0 {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		for i := range a.Len() {
			if p := shared(a.Index(i), b.Index(i), path+"[i]"); p != "" {
				return p
			}
		}
	case reflect.Map:
		if a.Len() > 0 && a.Pointer() == b.Pointer() {
			return path
		}
	}
	return ""
}

// BenchmarkClone measures the copy that stores make of every cached gate
// on every call.
func BenchmarkClone(b *testing.B) {
	var g gate.Gate
	fill(reflect.ValueOf(&g).Elem(), 0)
	b.ReportAllocs()
	for b.Loop() {
		_ = g.Clone()
	}
}
