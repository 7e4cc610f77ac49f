package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func FuzzParseObject(f *testing.F) {
	for _, s := range []string{`{"profile":"roam","reason":"x"}`, `{"profile":`, `[]`, `{"a":1}`, ``, `{} {}`, `{"for":"2h"}`, "{\"profile\":\"\u00e9\x1b\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fields, err := parseObject(body, "profile", "reason", "for")
		if err != nil {
			re, ok := err.(*requestError)
			if !ok || re.status != http.StatusBadRequest || re.info.Code == "" || re.info.Message == "" {
				t.Fatalf("error %#v", err)
			}
			return
		}
		for k := range fields {
			if k != "profile" && k != "reason" && k != "for" {
				t.Fatalf("unknown key %q accepted", k)
			}
		}
		if p, err := profileField(fields); err == nil {
			if p == "" || strings.ContainsAny(p, "\n\r\x1b") {
				t.Fatalf("profile %q accepted", p)
			}
		}
		if s, set, err := stringField(fields, "for"); err == nil && set {
			if d, err := parseFor(s, time.Hour); err == nil && (d <= 0 || d > time.Hour) {
				t.Fatalf("for %v accepted", d)
			}
		}
	})
}

func TestParseObjectDuplicateAndNull(t *testing.T) {
	fields, err := parseObject([]byte(`{"profile":"a","profile":"b","reason":null}`), "profile", "reason")
	if err != nil {
		t.Fatal(err)
	}
	var p string
	json.Unmarshal(fields["profile"], &p)
	if p != "b" {
		t.Fatal(p)
	}
	if _, set, err := stringField(fields, "reason"); set || err != nil {
		t.Fatal("null reason should read as absent")
	}
}
