package api

import (
	"bytes"
	"encoding/json"
	"github.com/imsid/imsid/internal/modemreport"
	"os"
	"regexp"
	"slices"
	"testing"
)

// TestDocExamples keeps docs/api.md honest: every JSON example decodes into
// its DTO with no unknown keys, and (the contract being "every key always
// present") shows every key the DTO has.
func TestDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal("docs/api.md not found:", err)
	}
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(blocks) < 8 {
		t.Fatalf("only %d JSON examples", len(blocks))
	}
	for _, b := range blocks {
		src := b[1]
		var top map[string]any
		if err := json.Unmarshal(src, &top); err != nil {
			t.Errorf("example is not JSON: %v\n%s", err, src)
			continue
		}
		var v any
		complete := true
		switch {
		case has(top, "command"):
			v = new(ATReply)
		case has(top, "unanswered"):
			v = new(modemreport.Report)
		case has(top, "error"):
			v, complete = new(ErrorBody), false // omitempty by design
		case has(top, "findings"):
			v = new(ThreatList)
		case has(top, "profiles"):
			v = new(ProfileList)
		case has(top, "decisions"):
			v = new(DecisionPage)
		case has(top, "op"):
			v = new(Ack)
		case has(top, "at"):
			v = new(Status)
		case has(top, "status"):
			v = new(Health)
		case has(top, "profile"): // a request body
			if _, err := parseObject(src, "profile", "reason", "for"); err != nil {
				t.Errorf("request example: %v\n%s", err, src)
			}
			continue
		default:
			t.Errorf("example of no known type:\n%s", src)
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(src))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			t.Errorf("%T example: %v\n%s", v, err, src)
			continue
		}
		if complete {
			var full map[string]any
			out, _ := json.Marshal(v)
			json.Unmarshal(out, &full)
			if missing := missingKeys("", full, top); len(missing) > 0 {
				t.Errorf("%T example lacks keys %v", v, missing)
			}
		}
	}
}

func has(m map[string]any, k string) bool { _, ok := m[k]; return ok }

// missingKeys lists the keys of want (recursively, first array elements)
// that got lacks.
func missingKeys(path string, want, got map[string]any) []string {
	var out []string
	for k, wv := range want {
		gv, ok := got[k]
		if !ok {
			out = append(out, path+k)
			continue
		}
		wm, gm := asObject(wv), asObject(gv)
		if wm != nil && gm != nil {
			out = append(out, missingKeys(path+k+".", wm, gm)...)
		}
	}
	slices.Sort(out)
	return out
}

func asObject(v any) map[string]any {
	switch x := v.(type) {
	case map[string]any:
		return x
	case []any:
		if len(x) > 0 {
			m, _ := x[0].(map[string]any)
			return m
		}
	}
	return nil
}
