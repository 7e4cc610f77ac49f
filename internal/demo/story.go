package demo

import "time"

// The store day's shape. The scenario file's offsets count from the modem's
// start, which the demo shows as DayStart on the wall clock of the store.
const (
	// DayStart is the time of day the scenario starts at (07:00).
	DayStart = 7 * time.Hour
	// DayLength runs the day to closing time (21:00).
	DayLength = 14 * time.Hour
)

// ClockTime formats an offset into the day as the store's time of day.
func ClockTime(off time.Duration) string {
	t := DayStart + off
	if t < 0 {
		t = 0
	}
	h := int(t / time.Hour)
	m := int(t % time.Hour / time.Minute)
	s := int(t % time.Minute / time.Second)
	if h >= 24 {
		h %= 24
	}
	return pad2(h) + ":" + pad2(m) + ":" + pad2(s)
}

func pad2(n int) string {
	if n < 10 {
		return "0" + string(rune('0'+n))
	}
	return string(rune('0'+n/10)) + string(rune('0'+n%10))
}

// Episode is a stretch of the scenario worth naming in the picture. It
// says what the world did, not what the daemon made of it.
type Episode struct {
	From time.Duration `json:"from"`
	To   time.Duration `json:"to"`
	Text string        `json:"text"`
}

// StoreDayEpisodes are the store day's events (simulator/scenarios/store-day.yaml;
// TestStoreDayEpisodes keeps the two in step).
var StoreDayEpisodes = []Episode{
	{From: 2 * time.Hour, To: 7 * time.Hour, Text: "cheap carrier's outage"},
	{From: 3*time.Hour + 30*time.Minute, To: 4*time.Hour + 30*time.Minute, Text: "IMSI catcher (2G)"},
	{From: 5*time.Hour + 30*time.Minute, To: 5*time.Hour + 50*time.Minute, Text: "jamming"},
}
