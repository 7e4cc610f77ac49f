package main

import (
	"encoding/json"
	"testing"

	"github.com/imsid/imsid/internal/api"
)

func TestSafe(t *testing.T) {
	for in, want := range map[string]string{
		"Telekom.de":       "Telekom.de",
		"Müller 👍 über":    "Müller 👍 über",
		"👨\u200d👩\u200d👧":  "👨\u200d👩\u200d👧", // ZWJ sequences stay
		"a\x1b[31mb":       `a\x1b[31mb`,
		"bell\a":           `bell\x07`,
		"line\nbreak\r":    `line\x0abreak\x0d`,
		"csi\u009b2J":      `csi\u009b2J`,
		"abc\u202egnp.exe": `abc\u202egnp.exe`,
		"iso\u2066x\u2069": `iso\u2066x\u2069`,
		"sep\u2028x":       `sep\u2028x`,
		"bad\xffutf8":      `bad\xffutf8`,
		"zero\u200bwidth":  `zero\u200bwidth`,
		"\ufeffbom":        `\ufeffbom`,
	} {
		if got := safe(in); got != want {
			t.Errorf("safe(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSanitize(t *testing.T) {
	st := api.Status{
		State:        "a\x1bb",
		Registration: api.Registration{Operator: api.Ptr("\u202eop")},
		Usage:        []api.Usage{{Profile: "p\x07"}},
		LastSwitch:   &api.LastSwitch{Reasons: []api.Reason{{Message: "m\x1b"}}},
	}
	sanitize(&st)
	if st.State != `a\x1bb` || *st.Registration.Operator != `\u202eop` || st.Usage[0].Profile != `p\x07` || st.LastSwitch.Reasons[0].Message != `m\x1b` {
		t.Fatalf("%+v", st)
	}
	ev := api.Event{Type: "t\x1b", Data: json.RawMessage(`{"k\u001b":["v\u202e",1.50,null]}`)}
	sanitize(&ev)
	var d map[string][]any
	if err := json.Unmarshal(ev.Data, &d); err != nil || ev.Type != `t\x1b` || d[`k\x1b`][0] != `\u202ev` && d[`k\x1b`][0] != `v\u202e` {
		t.Fatalf("%q %s %v", ev.Type, ev.Data, err)
	}
	if string(ev.Data) != `{"k\\x1b":["v\\u202e",1.50,null]}` {
		t.Fatalf("data %s", ev.Data)
	}
	m := map[string]string{"a\x1b": "b\x1b"}
	sanitize(m)
	if m[`a\x1b`] != `b\x1b` || len(m) != 1 {
		t.Fatalf("%q", m)
	}
}
