package main

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// palette colours text only when stdout is a terminal and the user has not
// turned colour off (--no-color, NO_COLOR: https://no-color.org).
type palette struct{ on bool }

func newPalette(e *env, g *globals) palette {
	return palette{on: e.tty && !g.noColor && e.getenv("NO_COLOR") == "" && e.getenv("TERM") != "dumb"}
}

func (p palette) wrap(code, s string) string {
	if !p.on || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p palette) green(s string) string  { return p.wrap("32", s) }
func (p palette) yellow(s string) string { return p.wrap("33", s) }
func (p palette) red(s string) string    { return p.wrap("31", s) }
func (p palette) bold(s string) string   { return p.wrap("1", s) }

// level colours a threat level.
func (p palette) level(l string) string {
	switch l {
	case "none", "":
		return p.green(orDash(l))
	case "low":
		return p.yellow(l)
	default:
		return p.red(l)
	}
}

// bars draws 0-5 signal bars as filled and empty blocks.
func bars(n int) string {
	n = min(max(n, 0), 5)
	return strings.Repeat("▮", n) + strings.Repeat("▯", 5-n)
}

// human renders a duration the way people say it: 45s, 12m, 1h05m, 3d4h.
func human(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(math.Ceil(d.Seconds())))
	case d.Round(time.Minute) < time.Hour:
		return fmt.Sprintf("%dm", int(d.Round(time.Minute).Minutes()))
	case d.Round(time.Minute) < 48*time.Hour:
		d = d.Round(time.Minute)
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%02dm", h, m)
	default:
		d = d.Round(time.Hour)
		days, h := int(d.Hours())/24, int(d.Hours())%24
		if h == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd%dh", days, h)
	}
}

// relative says "in 12m" or "12m ago".
func relative(t, now time.Time) string {
	d := t.Sub(now)
	switch {
	case d > 0:
		return "in " + human(d)
	case d > -time.Second:
		return "now"
	default:
		return human(d) + " ago"
	}
}

// ago is relative for something that has happened: a timestamp a little
// ahead of now (clock skew between the daemon's parts) reads "now".
func ago(t, now time.Time) string {
	if t.After(now) {
		return "now"
	}
	return relative(t, now)
}

// clock shows t in local time: just the time today, with the date otherwise.
func clock(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	if t.YearDay() == now.YearDay() && t.Year() == now.Year() {
		return t.Format("15:04 MST")
	}
	return t.Format("Mon 2 Jan 15:04 MST")
}

// stamp is a full local timestamp for logs and tables.
func stamp(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// num formats an optional measurement with its unit.
func num(p *float64, unit string) string {
	if p == nil {
		return ""
	}
	return fmt.Sprintf("%g %s", *p, unit)
}

// bytesHuman renders a byte count in SI units (carriers bill in them).
func bytesHuman(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTP"[exp])
}

// join keeps the non-empty parts.
func join(sep string, parts ...string) string {
	out := parts[:0:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}
