package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vipgate/vipgate/gate"
)

// parseGatesFile reads gates from YAML or JSON: one gate, a list of gates,
// or {gates: [...]}. A gate may carry a write-only clear `static_pin` under
// identification, and a clear `pin` under phone_override; they are hashed
// with h and never kept. Every gate is
// normalised and validated; errors name the gate and the field.
func parseGatesFile(data []byte, h *gate.Hasher) ([]*gate.Gate, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil { // YAML is a superset of JSON
		return nil, fmt.Errorf("parse: %w", err)
	}
	doc, err := plain(&root)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
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
	var clearSet []gate.SetPINIn
	if ident, ok := m["identification"].(map[string]any); ok {
		if set, ok := ident["pin_set"]; ok {
			b, err := json.Marshal(set)
			if err != nil {
				return nil, err
			}
			if err := json.Unmarshal(b, &clearSet); err != nil {
				return nil, &gate.ValidationError{Field: "identification.pin_set", Problem: "must be a list of {label, pin, account, valid_from, valid_until} with quoted PINs"}
			}
			delete(ident, "pin_set")
		}
		if p, ok := ident["static_pin"]; ok {
			s, ok := p.(string)
			if !ok {
				return nil, &gate.ValidationError{Field: "identification.static_pin", Problem: "must be a quoted string of digits (a number would lose leading zeros)"}
			}
			clearPIN = s
			delete(ident, "static_pin")
		}
	}
	var phonePIN *string
	if po, ok := m["phone_override"].(map[string]any); ok {
		if p, ok := po["pin"]; ok {
			s, ok := p.(string)
			if !ok {
				return nil, &gate.ValidationError{Field: "phone_override.pin", Problem: "must be a quoted string of digits (a number would lose leading zeros)"}
			}
			phonePIN = &s
			delete(po, "pin")
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
	if phonePIN != nil && g.PhoneOverride != nil {
		if err := gate.SetPhonePIN(h, &g, *phonePIN); err != nil {
			return nil, err
		}
	}
	if clearSet != nil {
		if err := gate.HashPINSet(h, &g, clearSet); err != nil {
			return nil, err
		}
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return &g, nil
}

// plain turns a YAML document into JSON-compatible values. Timestamps keep
// the text they were written as ("2026-12-24" stays a date,
// "2026-12-28T08:00:00+01:00" a time), so the gate's own types read them.
func plain(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return plain(n.Content[0])
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := plain(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := plain(c)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case yaml.AliasNode:
		return plain(n.Alias)
	case yaml.ScalarNode:
		if n.Tag == "!!timestamp" {
			return n.Value, nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		return v, nil
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
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
