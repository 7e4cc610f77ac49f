package demo

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// The picture's geometry, in SVG user units (pixels at 100 %).
const (
	svgWidth   = 1200
	plotLeft   = 190
	plotRight  = 40
	plotWidth  = svgWidth - plotLeft - plotRight
	epiTop     = 98
	epiRow     = 17
	sigTop     = epiTop + 3*epiRow + 22
	sigHeight  = 190
	bandTop    = sigTop + sigHeight + 34
	bandHeight = 34
	thrTop     = bandTop + bandHeight + 34
	thrHeight  = 100
	axisY      = thrTop + thrHeight + 20
	listTop    = axisY + 44
	lineHeight = 19
)

// profileColors are told apart by people with the common colour-vision
// deficiencies (Okabe-Ito).
var profileColors = []string{"#009E73", "#0072B2", "#D55E00", "#CC79A7", "#E69F00", "#56B4E9"}

var threatColors = map[string]string{"none": "#ffffff", "low": "#F0E442", "medium": "#E69F00", "high": "#D55E00", "critical": "#8B0000"}

var threatLevels = []string{"none", "low", "medium", "high", "critical"}

// Render draws the timeline as a self-contained SVG picture: the signal
// score of every profile, the active profile as a band (with the time
// without a data path hatched and the operator's pin bracketed), the
// threat level, and a numbered marker for each switch, listed with its
// reason underneath. The output depends only on t.
func Render(w io.Writer, t Timeline) error {
	if t.End <= 0 {
		return fmt.Errorf("demo: Render: timeline has no length (End %v)", t.End)
	}
	r := &svg{t: t, color: map[string]string{}}
	for i, p := range r.profiles() {
		r.color[p] = profileColors[i%len(profileColors)]
	}
	switches := switchEvents(t)
	height := listTop + lineHeight*(len(switches)+1) + 16

	r.f(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="13" shape-rendering="geometricPrecision">`+"\n", svgWidth, height, svgWidth, height)
	r.f(`<defs><pattern id="down" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="#ffffff"/><rect width="4" height="8" fill="#999999"/></pattern></defs>` + "\n")
	r.f(`<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", svgWidth, height)
	title := t.Title
	if title == "" {
		title = "imsid timeline"
	}
	r.f(`<text x="%d" y="30" font-size="20" font-weight="bold">%s</text>`+"\n", plotLeft, esc(title))
	r.f(`<text x="%d" y="52" fill="#444">%s to %s store time. Lines: how good each profile's signal looked; band: the profile in use; bottom: threat level. Numbered lines: switches.</text>`+"\n",
		plotLeft, ClockTime(0)[:5], ClockTime(t.End)[:5])
	r.legend()
	r.hourGrid()
	r.episodes()
	r.signal()
	r.band()
	r.threat()
	r.switchMarkers(switches)
	r.switchList(switches)
	r.f("</svg>\n")
	if r.err != nil {
		return r.err
	}
	_, err := w.Write(r.b.Bytes())
	return err
}

type svg struct {
	t     Timeline
	b     bytes.Buffer
	color map[string]string
	err   error
}

func (r *svg) f(format string, a ...any) { fmt.Fprintf(&r.b, format, a...) }

func (r *svg) x(at time.Duration) float64 {
	at = min(max(at, 0), r.t.End)
	return plotLeft + float64(plotWidth)*float64(at)/float64(r.t.End)
}

// profiles: the timeline's list, then any other name seen, in order of
// appearance.
func (r *svg) profiles() []string {
	out := append([]string(nil), r.t.Profiles...)
	add := func(p string) {
		if p != "" && !contains(out, p) {
			out = append(out, p)
		}
	}
	for _, s := range r.t.Samples {
		add(s.Active)
	}
	for _, e := range r.t.Events {
		switch e.Kind {
		case KindSwitch, KindRollback, KindVerified, KindPin:
			add(e.From)
			add(e.To)
		}
	}
	return out
}

func (r *svg) legend() {
	x := float64(plotLeft)
	y := 76.0
	for _, p := range r.profiles() {
		label := p
		if tr, ok := r.t.Tariffs[p]; ok {
			label += fmt.Sprintf(" (%.3f %s/MB)", tr.PerMB, tr.Currency)
		}
		r.f(`<rect x="%.1f" y="%.1f" width="22" height="10" fill="%s"/>`+"\n", x, y-9, r.color[p])
		r.f(`<text x="%.1f" y="%.1f">%s</text>`+"\n", x+28, y, esc(label))
		x += 28 + 7.2*float64(len(label)) + 26
	}
	r.f(`<rect x="%.1f" y="%.1f" width="22" height="10" fill="url(#down)" stroke="#999"/>`+"\n", x, y-9)
	r.f(`<text x="%.1f" y="%.1f">no data path</text>`+"\n", x+28, y)
}

func (r *svg) hourGrid() {
	for h := time.Duration(0); h <= r.t.End; h += time.Hour {
		x := r.x(h)
		r.f(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e4e4e4"/>`+"\n", x, sigTop, x, thrTop+thrHeight)
		r.f(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333"/>`+"\n", x, axisY-14, x, axisY-8)
		r.f(`<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x, axisY+6, ClockTime(h)[:5])
	}
	r.f(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`+"\n", plotLeft, axisY-14, plotLeft+plotWidth, axisY-14)
	r.f(`<text x="%d" y="%d" text-anchor="middle" fill="#444">store time</text>`+"\n", plotLeft+plotWidth/2, axisY+24)
}

func (r *svg) panelLabel(y int, lines ...string) {
	for i, l := range lines {
		weight := ""
		if i == 0 {
			weight = ` font-weight="bold"`
		}
		r.f(`<text x="%d" y="%d" text-anchor="end"%s>%s</text>`+"\n", plotLeft-46, y+16*i, weight, esc(l))
	}
}

// episodes: what the scenario did, one row each (three rows, reused), and
// a light shade behind the signal lines.
func (r *svg) episodes() {
	if len(r.t.Episodes) == 0 {
		return
	}
	r.panelLabel(epiTop+epiRow+4, "what happened")
	for i, e := range r.t.Episodes {
		x0, x1 := r.x(e.From), r.x(e.To)
		y := epiTop + epiRow*(i%3)
		w := max(x1-x0, 2)
		r.f(`<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="#000000" fill-opacity="0.05"/>`+"\n", x0, sigTop, w, sigHeight)
		r.f(`<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="#dddddd" stroke="#777" stroke-width="0.8"/>`+"\n", x0, y, w, epiRow-4)
		r.f(`<text x="%.1f" y="%d" font-size="12" fill="#222">%s %s-%s</text>`+"\n", x0+4, y+epiRow-7, esc(e.Text), ClockTime(e.From)[:5], ClockTime(e.To)[:5])
	}
}

func (r *svg) signal() {
	r.f(`<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", plotLeft, sigTop, plotWidth, sigHeight)
	r.panelLabel(sigTop+sigHeight/2-8, "signal", "score 0-100")
	for _, v := range []float64{0, 25, 50, 75, 100} {
		y := sigTop + sigHeight - v/100*sigHeight
		r.f(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eeeeee"/>`+"\n", plotLeft, y, plotLeft+plotWidth, y)
		r.f(`<text x="%d" y="%.1f" text-anchor="end" font-size="11" fill="#444">%.0f</text>`+"\n", plotLeft-4, y+4, v)
	}
	// Where profiles rate the same the lines overlap: each is drawn
	// narrower than the one before, so all stay visible as nested stripes.
	ps := r.profiles()
	for i, p := range ps {
		width := 2 + 2.5*float64(len(ps)-1-i)
		var pts []string
		flush := func() {
			if len(pts) > 1 {
				r.f(`<polyline fill="none" stroke="%s" stroke-width="%.1f" stroke-linejoin="round" points="%s"/>`+"\n", r.color[p], width, strings.Join(pts, " "))
			}
			pts = pts[:0]
		}
		for _, s := range r.t.Samples {
			v, ok := s.Signal[p]
			if !ok {
				flush()
				continue
			}
			v = min(max(v, 0), 100)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", r.x(s.At), sigTop+sigHeight-v/100*sigHeight))
		}
		flush()
	}
}

func (r *svg) band() {
	r.panelLabel(bandTop+bandHeight/2-4, "profile in use")
	var steps []step
	for _, st := range activeSteps(r.t) {
		if len(steps) > 0 && steps[len(steps)-1].v == st.v {
			continue
		}
		steps = append(steps, st)
	}
	for i, st := range steps {
		end := r.t.End
		if i+1 < len(steps) {
			end = steps[i+1].at
		}
		if st.v == "" || end <= st.at {
			continue
		}
		r.f(`<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" shape-rendering="crispEdges"><title>%s</title></rect>`+"\n",
			r.x(st.at), bandTop, r.x(end)-r.x(st.at), bandHeight, r.color[st.v], esc(st.v))
	}
	for _, d := range downSpans(r.t) {
		r.f(`<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="url(#down)" opacity="0.85"><title>no data path %s-%s</title></rect>`+"\n",
			r.x(d[0]), bandTop, max(r.x(d[1])-r.x(d[0]), 2), bandHeight, ClockTime(d[0])[:5], ClockTime(d[1])[:5])
	}
	r.f(`<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", plotLeft, bandTop, plotWidth, bandHeight)
	for _, p := range pinSpans(r.t) {
		x0, x1 := r.x(p.from), r.x(p.to)
		y := float64(bandTop - 8)
		r.f(`<path d="M%.1f,%.1f V%.1f H%.1f V%.1f" fill="none" stroke="#000" stroke-width="1.5"/>`+"\n", x0, y+6, y, x1, y+6)
		r.f(`<text x="%.1f" y="%.1f" text-anchor="middle" font-size="12">pinned by operator: %s</text>`+"\n", (x0+x1)/2, y-4, esc(p.profile))
	}
}

func (r *svg) threat() {
	r.f(`<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", plotLeft, thrTop, plotWidth, thrHeight)
	r.panelLabel(thrTop+18, "threat level")
	step := float64(thrHeight) / float64(len(threatLevels)-1)
	for i, l := range threatLevels {
		y := float64(thrTop+thrHeight) - float64(i)*step
		r.f(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eeeeee"/>`+"\n", plotLeft, y, plotLeft+plotWidth, y)
		r.f(`<text x="%d" y="%.1f" text-anchor="end" font-size="11" fill="#444">%s</text>`+"\n", plotLeft-4, y+4, l)
	}
	var s []Sample
	for _, x := range r.t.Samples {
		if len(s) > 0 && s[len(s)-1].Threat == x.Threat {
			continue
		}
		s = append(s, x)
	}
	for i, x := range s {
		end := r.t.End
		if i+1 < len(s) {
			end = s[i+1].At
		}
		rank := threatRank(x.Threat)
		if rank == 0 || end <= x.At {
			continue
		}
		h := float64(rank) * step
		r.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" stroke="#000" stroke-width="0.5"/>`+"\n", r.x(x.At), float64(thrTop+thrHeight)-h, r.x(end)-r.x(x.At), h, threatColors[x.Threat])
	}
	for _, e := range r.t.Events {
		if e.Kind != KindAlert {
			continue
		}
		x := r.x(e.At)
		y := float64(thrTop)
		r.f(`<path d="M%.1f,%.1f l-5,-9 h10 z" fill="%s" stroke="#000" stroke-width="0.6"><title>%s alert: %s</title></path>`+"\n",
			x, y-1, threatColor(e.Level), ClockTime(e.At)[:5], esc(e.Text))
	}
	r.f(`<text x="%d" y="%d" text-anchor="end" font-size="11" fill="#444">&#9660; alert</text>`+"\n", plotLeft+plotWidth, thrTop-4)
}

func threatColor(level string) string {
	if c, ok := threatColors[level]; ok && level != "none" {
		return c
	}
	return "#D55E00"
}

func (r *svg) switchMarkers(sw []Event) {
	lastX, level := -100.0, 0
	for i, e := range sw {
		x := r.x(e.At)
		// Switches minutes apart would hide each other's number: step down.
		if x-lastX < 20 {
			level = (level + 1) % 3
		} else {
			level = 0
		}
		lastX = x
		y := sigTop + 22*level
		r.f(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#000" stroke-width="1" stroke-dasharray="4,3"/>`+"\n", x, sigTop, x, thrTop+thrHeight)
		r.f(`<circle cx="%.1f" cy="%d" r="9" fill="#000"/>`+"\n", x, y)
		r.f(`<text x="%.1f" y="%d" text-anchor="middle" font-size="11" fill="#fff" font-weight="bold">%d</text>`+"\n", x, y+4, i+1)
	}
	// Switches the daemon wanted but held back (jamming): a cross on the band.
	held := false
	for _, e := range r.t.Events {
		if e.Kind != KindSuspend {
			continue
		}
		held = true
		r.f(`<text x="%.1f" y="%d" text-anchor="middle" font-size="16" font-weight="bold" fill="#fff" stroke="#000" stroke-width="0.6">&#215;<title>%s switch held back: %s</title></text>`+"\n",
			r.x(e.At), bandTop+bandHeight/2+6, ClockTime(e.At)[:5], esc(strings.Join(e.Reasons, ", ")))
	}
	if held {
		r.f(`<text x="%d" y="%d" text-anchor="end" font-size="11" fill="#444">&#215; switch held back (switching suspended)</text>`+"\n", plotLeft+plotWidth, bandTop+bandHeight+14)
	}
}

func (r *svg) switchList(sw []Event) {
	y := listTop
	r.f(`<text x="%d" y="%d" font-weight="bold">Switches</text>`+"\n", plotLeft, y)
	if len(sw) == 0 {
		r.f(`<text x="%d" y="%d" fill="#444">none</text>`+"\n", plotLeft+80, y)
	}
	for i, e := range sw {
		y += lineHeight
		why := e.Trigger
		if len(e.Reasons) > 0 {
			why += ": " + strings.Join(e.Reasons, ", ")
		}
		if e.Message != "" {
			why += " (" + e.Message + ")"
		}
		kind := ""
		if e.Kind == KindRollback {
			kind = " (rolled back)"
		}
		r.f(`<circle cx="%d" cy="%d" r="8" fill="#000"/><text x="%d" y="%d" text-anchor="middle" font-size="10" fill="#fff" font-weight="bold">%d</text>`+"\n", plotLeft+8, y-4, plotLeft+8, y, i+1)
		r.f(`<text x="%d" y="%d">%s  <tspan fill="%s" font-weight="bold">%s</tspan> &#8594; <tspan fill="%s" font-weight="bold">%s</tspan>%s   <tspan fill="#444">%s</tspan></text>`+"\n",
			plotLeft+24, y, ClockTime(e.At)[:5], r.color[e.From], esc(orDash(e.From)), r.color[e.To], esc(orDash(e.To)), kind, esc(why))
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// switchEvents are the switches and rollbacks, in time order.
func switchEvents(t Timeline) []Event {
	var out []Event
	for _, e := range t.Events {
		if e.Kind == KindSwitch || e.Kind == KindRollback {
			out = append(out, e)
		}
	}
	return out
}

// downSpans are the intervals without a data path after the first
// connect.
func downSpans(t Timeline) [][2]time.Duration {
	var out [][2]time.Duration
	seenUp, up := false, false
	var since time.Duration
	for _, e := range t.Events {
		if e.Kind != KindState || e.To == "" {
			continue
		}
		u := linkUpState(e.To)
		switch {
		case u && !up:
			if seenUp {
				out = append(out, [2]time.Duration{since, e.At})
			}
			seenUp, up = true, true
		case !u && up:
			up, since = false, e.At
		}
	}
	if seenUp && !up {
		out = append(out, [2]time.Duration{since, t.End})
	}
	return out
}

type pinSpan struct {
	from, to time.Duration
	profile  string
}

// pinSpans: from each pin event to the next unpin (or the pin's end, or
// the end of the day).
func pinSpans(t Timeline) []pinSpan {
	var out []pinSpan
	open := -1
	for _, e := range t.Events {
		switch e.Kind {
		case KindPin:
			if open >= 0 {
				out[open].to = e.At
			}
			out = append(out, pinSpan{from: e.At, to: t.End, profile: e.To})
			open = len(out) - 1
		case KindUnpin:
			if open >= 0 {
				out[open].to = e.At
				open = -1
			}
		}
	}
	return out
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
