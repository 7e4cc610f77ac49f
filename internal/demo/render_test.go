package demo

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// pictureDay is recordedDay with what the picture adds: signal scores,
// episodes, a pin and a rollback.
func pictureDay() Timeline {
	t := recordedDay()
	t.Title = "imsid store day (test)"
	t.Episodes = StoreDayEpisodes
	sig := func(cheap, fallback, roaming float64) map[string]float64 {
		return map[string]float64{"cheap": cheap, "fallback": fallback, "roaming": roaming}
	}
	levels := []float64{90, 90, 0, 0, 0, 0, 95, 95}
	for i := range t.Samples {
		t.Samples[i].Signal = sig(levels[i], 70, 60)
	}
	t.Events = append(t.Events,
		Event{At: 9*h + 1*m, Kind: KindPin, To: "fallback", Text: "pinned fallback for 2h"},
		Event{At: 9*h + 2*m, Kind: KindSwitch, From: "cheap", To: "fallback", Trigger: "manual", Reasons: []string{"pin"}, Message: `pinned to "fallback"`},
		Event{At: 11*h + 1*m, Kind: KindUnpin},
		Event{At: 12 * h, Kind: KindRollback, From: "roaming", To: "cheap", Trigger: "hard", Reasons: []string{"verify_failed"}},
		state(13*h, "registering"),
	)
	return t
}

func TestRenderGolden(t *testing.T) {
	var b bytes.Buffer
	if err := Render(&b, pictureDay()); err != nil {
		t.Fatal(err)
	}
	wellFormed(t, b.Bytes())
	golden := filepath.Join("testdata", "timeline.golden.svg")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/demo -run TestRenderGolden -update)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("Render differs from %s; look at the picture, then go test ./internal/demo -run TestRenderGolden -update\n%s", golden, firstDiff(string(want), b.String()))
	}
	// What a newcomer needs to find in the picture.
	for _, s := range []string{
		"signal", "profile in use", "threat level", "store time", "07:00", "21:00", "no data path",
		"cheap (0.002 EUR/MB)", "pinned by operator: fallback", "IMSI catcher (2G)", "jamming",
		"no_service", "threat_critical", "better_profile", "(rolled back)", "&#9660; alert",
	} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("picture lacks %q", s)
		}
	}
}

func TestRenderDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := Render(&a, pictureDay()); err != nil {
		t.Fatal(err)
	}
	if err := Render(&b, pictureDay()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two renders of the same timeline differ")
	}
}

func TestRenderOddTimelines(t *testing.T) {
	for name, tl := range map[string]Timeline{
		"nothing happened":   {End: time.Hour},
		"no profile list":    {End: time.Hour, Samples: []Sample{{At: 0, Active: "x", Signal: map[string]float64{"x": 150}}}},
		"events out of day":  {End: time.Hour, Events: []Event{{At: -time.Hour, Kind: KindSwitch, To: "<b>&"}, {At: 5 * time.Hour, Kind: KindAlert}}},
		"many profiles":      {End: time.Hour, Profiles: []string{"a", "b", "c", "d", "e", "f", "g", "h"}},
		"markup in the text": {End: time.Hour, Title: `<script>"x"</script>`, Episodes: []Episode{{From: 0, To: time.Hour, Text: "a < b & c"}}},
	} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Render(&b, tl); err != nil {
				t.Fatal(err)
			}
			wellFormed(t, b.Bytes())
		})
	}
	if err := Render(io.Discard, Timeline{}); err == nil {
		t.Error("Render of a timeline without a length: no error")
	}
}

func wellFormed(t *testing.T, data []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n- " + x + "\n+ " + y
		}
	}
	return ""
}
