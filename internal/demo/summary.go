package demo

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Summary is the end-of-day report. In JSON, durations and offsets into
// the day are nanoseconds (time.Duration); money is in Currency.
type Summary struct {
	Day      time.Duration    `json:"day"`
	Profiles []ProfileSummary `json:"profiles"`
	Switches []SwitchSummary  `json:"switches"`
	// HeldBack counts switches the daemon wanted but jamming suspended.
	HeldBack int `json:"held_back"`
	// Downtime is the time without a data path after the first connect.
	Downtime time.Duration `json:"downtime"`
	// Outages is how many times the data path went down.
	Outages   int            `json:"outages"`
	Alerts    []AlertSummary `json:"alerts"`
	Pins      []string       `json:"pins"`
	TotalCost float64        `json:"total_cost"`
	Currency  string         `json:"currency"`
	// MaxThreat is the highest threat level seen.
	MaxThreat string `json:"max_threat"`
}

// ProfileSummary is one profile's day.
type ProfileSummary struct {
	Profile   string        `json:"profile"`
	Active    time.Duration `json:"active"`
	UsedBytes int64         `json:"used_bytes"`
	Cost      float64       `json:"cost"`
	Currency  string        `json:"currency"`
}

// SwitchSummary is one switch and why.
type SwitchSummary struct {
	At      time.Duration `json:"at"`
	Kind    string        `json:"kind"` // switch or rollback
	From    string        `json:"from"`
	To      string        `json:"to"`
	Trigger string        `json:"trigger"`
	Reasons []string      `json:"reasons"`
}

// AlertSummary is one threat alert.
type AlertSummary struct {
	At    time.Duration `json:"at"`
	Level string        `json:"level"`
	Text  string        `json:"text"`
}

// Summarize computes the report from a timeline.
func Summarize(t Timeline) Summary {
	s := Summary{Day: t.End, Switches: []SwitchSummary{}, Alerts: []AlertSummary{}, Pins: []string{}, MaxThreat: "none"}

	active := activeSteps(t)
	per := map[string]time.Duration{}
	for i, st := range active {
		end := t.End
		if i+1 < len(active) {
			end = active[i+1].at
		}
		if st.v != "" && end > st.at {
			per[st.v] += end - st.at
		}
	}
	names := append([]string(nil), t.Profiles...)
	for p := range per {
		if !contains(names, p) {
			names = append(names, p)
		}
	}
	for _, p := range names {
		ps := ProfileSummary{Profile: p, Active: per[p], UsedBytes: t.Usage[p]}
		if tr, ok := t.Tariffs[p]; ok {
			ps.Cost = float64(ps.UsedBytes) / 1e6 * tr.PerMB
			ps.Currency = tr.Currency
			s.TotalCost += ps.Cost
			if s.Currency == "" {
				s.Currency = tr.Currency
			}
		}
		s.Profiles = append(s.Profiles, ps)
	}

	s.Downtime, s.Outages = downtime(t)

	for _, e := range t.Events {
		switch e.Kind {
		case KindSwitch, KindRollback:
			s.Switches = append(s.Switches, SwitchSummary{At: e.At, Kind: e.Kind, From: e.From, To: e.To, Trigger: e.Trigger, Reasons: e.Reasons})
		case KindSuspend:
			s.HeldBack++
		case KindAlert:
			s.Alerts = append(s.Alerts, AlertSummary{At: e.At, Level: e.Level, Text: e.Text})
			if threatRank(e.Level) > threatRank(s.MaxThreat) {
				s.MaxThreat = e.Level
			}
		case KindOperator:
			s.Pins = append(s.Pins, ClockTime(e.At)+" "+e.Text)
		}
	}
	for _, x := range t.Samples {
		if threatRank(x.Threat) > threatRank(s.MaxThreat) {
			s.MaxThreat = x.Threat
		}
	}
	return s
}

type step struct {
	at time.Duration
	v  string
}

// activeSteps is the active profile over the day: the samples, sharpened
// by the moments switches were verified or rolled back.
func activeSteps(t Timeline) []step {
	var st []step
	for _, x := range t.Samples {
		st = append(st, step{x.At, x.Active})
	}
	for _, e := range t.Events {
		if (e.Kind == KindVerified || e.Kind == KindRollback) && e.To != "" {
			st = append(st, step{e.At, e.To})
		}
	}
	sort.SliceStable(st, func(i, j int) bool { return st[i].at < st[j].at })
	return st
}

// downtime adds up the time without a data path after the first connect,
// from the state changes (exact), or from the samples when there are none.
func downtime(t Timeline) (time.Duration, int) {
	type pt struct {
		at time.Duration
		up bool
	}
	var pts []pt
	for _, e := range t.Events {
		if e.Kind == KindState && e.To != "" {
			pts = append(pts, pt{e.At, linkUpState(e.To)})
		}
	}
	if len(pts) == 0 {
		for _, x := range t.Samples {
			pts = append(pts, pt{x.At, x.LinkUp})
		}
	}
	var down time.Duration
	n := 0
	seenUp, up := false, false
	var since time.Duration
	for _, p := range pts {
		switch {
		case p.up && !up:
			if seenUp {
				down += p.at - since
			}
			seenUp, up = true, true
		case !p.up && up:
			up, since = false, p.at
			n++
		}
	}
	if seenUp && !up && t.End > since {
		down += t.End - since
	}
	return down, n
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// WriteTable prints the summary for people.
func (s Summary) WriteTable(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "\nStore day summary (%s to %s)\n\n", ClockTime(0)[:5], ClockTime(s.Day)[:5])
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "profile\ttime active\tshare\tdata\tcost\t")
	for _, p := range s.Profiles {
		share := 0.0
		if s.Day > 0 {
			share = 100 * float64(p.Active) / float64(s.Day)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f%%\t%s\t%s\t\n", p.Profile, hm(p.Active), share, mb(p.UsedBytes), money(p.Cost, p.Currency))
	}
	fmt.Fprintf(tw, "total\t\t\t\t%s\t\n", money(s.TotalCost, s.Currency))
	tw.Flush()

	fmt.Fprintf(&b, "\nSwitches (%d)\n", len(s.Switches))
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, x := range s.Switches {
		fmt.Fprintf(tw, "  %s\t%s\t%s -> %s\t%s\t%s\n", ClockTime(x.At)[:5], x.Kind, x.From, x.To, x.Trigger, strings.Join(x.Reasons, ", "))
	}
	tw.Flush()
	if s.HeldBack > 0 {
		fmt.Fprintf(&b, "  (%d more held back: switching was suspended during jamming)\n", s.HeldBack)
	}
	fmt.Fprintf(&b, "\nDowntime    %s in %d outage(s) (after the first connect)\n", hms(s.Downtime), s.Outages)
	fmt.Fprintf(&b, "Max threat  %s\n", s.MaxThreat)
	fmt.Fprintf(&b, "Alerts      %d\n", len(s.Alerts))
	for _, a := range s.Alerts {
		fmt.Fprintf(&b, "  %s  %-8s %s\n", ClockTime(a.At)[:5], a.Level, a.Text)
	}
	for _, p := range s.Pins {
		fmt.Fprintf(&b, "Operator    %s\n", p)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func hm(d time.Duration) string {
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

func hms(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Hour {
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return hm(d)
}

// shortDur prints 2h, 90m, 45s rather than 2h0m0s.
func shortDur(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }

func money(v float64, cur string) string {
	if cur == "" {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.2f %s", v, cur)
}
