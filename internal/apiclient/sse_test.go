package apiclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func readFrames(t testing.TB, in string) ([]frame, time.Duration, error) {
	r := newSSEReader(strings.NewReader(in))
	var out []frame
	for {
		f, err := r.next()
		if errors.Is(err, io.EOF) {
			return out, r.retry, nil
		}
		if err != nil {
			return out, r.retry, err
		}
		out = append(out, f)
	}
}

func TestParseSSE(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    string
		want  []frame
		retry time.Duration
	}{
		{"daemon", "retry: 2000\n: connected\n\nid: 7\nevent: link\ndata: {\"id\":7}\n\n", []frame{{ID: "7", Event: "link", Data: []byte(`{"id":7}`), Line: 4}}, 2 * time.Second},
		{"crlf", "id: 1\r\ndata: a\r\n\r\n", []frame{{ID: "1", Data: []byte("a"), Line: 1}}, 0},
		{"lone cr", "data: a\r\rdata: b\r\r", []frame{{Data: []byte("a"), Line: 1}, {Data: []byte("b"), Line: 3}}, 0},
		{"multi-line data", "data: a\ndata: b\n\n", []frame{{Data: []byte("a\nb"), Line: 1}}, 0},
		{"no space after colon", "data:x\n\n", []frame{{Data: []byte("x"), Line: 1}}, 0},
		{"empty data kept", "data\n\n", []frame{{Line: 1}}, 0},
		{"no data: skipped", "event: x\n\n: hb\n\n", nil, 0},
		{"unterminated frame dropped", "data: a\n", nil, 0},
		{"unknown field ignored", "foo: bar\ndata: a\n\n", []frame{{Data: []byte("a"), Line: 1}}, 0},
		{"bad retry ignored", "retry: soon\ndata: a\n\n", []frame{{Data: []byte("a"), Line: 1}}, 0},
		{"id with NUL ignored", "id: 1\x002\ndata: a\n\n", []frame{{Data: []byte("a"), Line: 1}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, retry, err := readFrames(t, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got, cmp.AllowUnexported(frame{})); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if retry != tc.retry {
				t.Errorf("retry %v, want %v", retry, tc.retry)
			}
		})
	}
}

func TestParseSSELineTooLong(t *testing.T) {
	in := "data: " + strings.Repeat("x", maxSSELine+10) + "\n\n"
	_, _, err := readFrames(t, in)
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("err = %v", err)
	}
}

func TestDecodeFrame(t *testing.T) {
	ev, err := decodeFrame(frame{ID: "9", Event: "link", Data: []byte(`{"time":"2026-03-01T12:00:00Z","data":{"up":true}}`)})
	if err != nil || ev.ID != 9 || ev.Type != "link" || string(ev.Data) != `{"up":true}` {
		t.Fatalf("%+v %v", ev, err)
	}
	_, err = decodeFrame(frame{Line: 3, ID: "x", Data: []byte(`{}`)})
	var fe *FrameError
	if !errors.As(err, &fe) || fe.Line != 3 {
		t.Fatalf("err = %v", err)
	}
	_, err = decodeFrame(frame{Line: 5, Data: []byte(`not json`)})
	if !errors.As(err, &fe) || fe.Line != 5 || !strings.Contains(err.Error(), "line 5") {
		t.Fatalf("err = %v", err)
	}
}

// FuzzParseSSE: any byte stream ends in frames and EOF or an error, never
// a panic or a hang; frames written in the daemon's format read back.
func FuzzParseSSE(f *testing.F) {
	f.Add("retry: 2000\n: connected\n\nid: 7\nevent: link\ndata: {}\n\n", "x", uint64(3))
	f.Add("data: a\r\rdata: b\r\n\r\n", "", uint64(0))
	f.Add("\r", "ev", uint64(1<<63))
	f.Fuzz(func(t *testing.T, raw, typ string, id uint64) {
		frames, _, _ := readFrames(t, raw)
		for _, fr := range frames {
			decodeFrame(fr)
		}
		if strings.ContainsAny(typ, "\r\n") || !utf8.ValidString(typ) {
			return // the daemon cuts types at a newline; JSON needs UTF-8
		}
		q, _ := json.Marshal(typ)
		data := fmt.Sprintf(`{"id":%d,"type":%s,"data":null}`, id, q)
		in := fmt.Sprintf(": hb\n\nid: %d\nevent: %s\ndata: %s\n\n", id, typ, data)
		got, _, err := readFrames(t, in)
		if err != nil || len(got) != 1 {
			t.Fatalf("%q: %v %v", in, got, err)
		}
		ev, err := decodeFrame(got[0])
		if err != nil || ev.ID != id || ev.Type != typ {
			t.Fatalf("%q: %+v %v", in, ev, err)
		}
	})
}
