package console

import (
	"io/fs"
	"regexp"
	"testing"
)

// templateTextRE finds the texts a template translates: t's argument and
// the label and help texts the gate editor passes to its input template.
var templateTextRE = regexp.MustCompile(`(?:\bt \$?\.?l |"label" |"help" )"((?:[^"\\]|\\.)*)"`)

// Every text a template translates has a German entry, and so has every
// prompt label of the gate editor.
func TestEveryTemplateTextHasGerman(t *testing.T) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil || len(names) == 0 {
		t.Fatalf("no templates: %v", err)
	}
	n := 0
	for _, name := range names {
		b, err := fs.ReadFile(templateFS, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range templateTextRE.FindAllStringSubmatch(string(b), -1) {
			n++
			if _, ok := german[m[1]]; !ok {
				t.Errorf("%s: %q has no German entry", name, m[1])
			}
		}
	}
	for _, p := range promptRows {
		if _, ok := german[p.Label]; !ok {
			t.Errorf("prompt label %q has no German entry", p.Label)
		}
	}
	if n < 50 {
		t.Errorf("found %d template texts; the pattern misses them", n)
	}
}
