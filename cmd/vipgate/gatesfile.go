package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vipgate/vipgate/gate"
)

// parseGatesFile reads gates from YAML or JSON: one gate, a list of gates,
// or {gates: [...]}. A gate may carry a write-only clear `static_pin` under
// identification; it is hashed with h and never kept. Every gate is
// normalised and validated; errors name the gate and the field.
func parseGatesFile(data []byte, h *gate.Hasher) ([]*gate.Gate, error) {
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil { // YAML is a superset of JSON
		return nil, fmt.Errorf("parse: %w", err)
	}
	doc = plain(doc)
	var items []any
	switch v := doc.(type) {
	case []any:
		items = v
	case map[string]any:
		if gs, ok := v["gates"]; ok && len(v) == 1 {
			list, ok := gs.([]any)
			if !ok {
				return nil, fmt.Errorf("gates: want a list")
			}
			items = list
		} else {
			items = []any{v}
		}
	default:
		return nil, fmt.Errorf("want a gate, a list of gates, or {gates: [...]}")
	}
	var out []*gate.Gate
	for i, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("gate %d: want an object", i+1)
		}
		g, err := gateFromMap(m, h)
		name := fmt.Sprintf("gate %d", i+1)
		if id, _ := m["id"].(string); id != "" {
			name = fmt.Sprintf("gate %q", id)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, g)
	}
	return out, nil
}

func gateFromMap(m map[string]any, h *gate.Hasher) (*gate.Gate, error) {
	var clearPIN string
	if ident, ok := m["identification"].(map[string]any); ok {
		if p, ok := ident["static_pin"]; ok {
			s, ok := p.(string)
			if !ok {
				return nil, &gate.ValidationError{Field: "identification.static_pin", Problem: "must be a quoted string of digits (a number would lose leading zeros)"}
			}
			clearPIN = s
			delete(ident, "static_pin")
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var g gate.Gate
	if err := dec.Decode(&g); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	g.Normalize()
	if clearPIN != "" {
		if err := gate.ValidatePIN(clearPIN, g.Dialogue.MinDigits, g.Dialogue.MaxDigits); err != nil {
			return nil, &gate.ValidationError{Field: "identification.static_pin", Problem: err.Error()}
		}
		if g.Dialogue.RejectWeak {
			if why := gate.WeakPIN(clearPIN); why != "" {
				return nil, &gate.ValidationError{Field: "identification.static_pin", Problem: why}
			}
		}
		ph := h.Hash(clearPIN)
		g.Identification.StaticPIN = &ph
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return &g, nil
}

// plain turns YAML-decoded values into JSON-compatible ones: map keys to
// strings, timestamps back to their text.
func plain(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = plain(x)
		}
		return v
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[fmt.Sprint(k)] = plain(x)
		}
		return m
	case []any:
		for i, x := range v {
			v[i] = plain(x)
		}
		return v
	case time.Time:
		if v.Hour() == 0 && v.Minute() == 0 && v.Second() == 0 && v.Nanosecond() == 0 {
			return v.Format(time.DateOnly)
		}
		return v.Format(time.RFC3339)
	}
	return v
}

// formatGates writes gates as YAML or JSON (format "yaml" or "json").
func formatGates(gates []*gate.Gate, format string) ([]byte, error) {
	b, err := json.MarshalIndent(map[string]any{"gates": gates}, "", "  ")
	if err != nil {
		return nil, err
	}
	if format == "json" {
		return append(b, '\n'), nil
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// formatOf picks yaml or json from a flag value or a file name.
func formatOf(flagVal, path string) (string, error) {
	switch strings.ToLower(flagVal) {
	case "yaml", "yml":
		return "yaml", nil
	case "json":
		return "json", nil
	case "":
	default:
		return "", usagef("--format: want yaml or json")
	}
	if strings.EqualFold(filepath.Ext(path), ".json") {
		return "json", nil
	}
	return "yaml", nil
}
