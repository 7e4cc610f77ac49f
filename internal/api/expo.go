package api

import (
	"bufio"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// A small writer of the Prometheus text exposition format (version 0.0.4),
// in place of client_golang: the daemon needs counters, gauges and fixed
// bucket histograms with a few bounded labels, and nothing of protobuf,
// registries or collectors. Families are written sorted by name, series
// sorted by their label values, every family with HELP and TYPE; a family
// with no series is left out. Label names are given sorted.

type metricKind string

const (
	kindCounter   metricKind = "counter"
	kindGauge     metricKind = "gauge"
	kindHistogram metricKind = "histogram"
)

// family is one metric name and its series, keyed by the label values
// joined with \xff.
type family struct {
	name, help string
	kind       metricKind
	labels     []string
	buckets    []float64 // histograms: upper bounds, ascending, without +Inf

	mu     sync.Mutex
	series map[string]*series
}

type series struct {
	values []string
	v      float64  // counter, gauge
	counts []uint64 // histogram: per bucket (not cumulative), then +Inf
	sum    float64  // histogram
	n      uint64   // histogram
}

func newFamily(name, help string, kind metricKind, buckets []float64, labels ...string) *family {
	if !slices.IsSorted(labels) {
		panic("api: labels of " + name + " not sorted")
	}
	return &family{name: name, help: help, kind: kind, labels: labels, buckets: buckets, series: map[string]*series{}}
}

// get returns the series for values, creating it at zero. f.mu is held.
func (f *family) get(values []string) *series {
	if len(values) != len(f.labels) {
		panic("api: " + f.name + ": wrong number of label values")
	}
	k := strings.Join(values, "\xff")
	s := f.series[k]
	if s == nil {
		s = &series{values: slices.Clone(values)}
		if f.kind == kindHistogram {
			s.counts = make([]uint64, len(f.buckets)+1)
		}
		f.series[k] = s
	}
	return s
}

func (f *family) set(v float64, values ...string) {
	f.mu.Lock()
	f.get(values).v = v
	f.mu.Unlock()
}

func (f *family) add(v float64, values ...string) {
	f.mu.Lock()
	f.get(values).v += v
	f.mu.Unlock()
}

func (f *family) observe(v float64, values ...string) {
	f.mu.Lock()
	s := f.get(values)
	i, _ := slices.BinarySearch(f.buckets, v) // first bound >= v
	s.counts[i]++
	s.sum += v
	s.n++
	f.mu.Unlock()
}

// sample is one line of a family written at scrape time (gauges and
// counters computed from the daemon's state).
type sample struct {
	values []string
	v      float64
}

// write writes the family with its stored series, or with samples when
// samples is not nil. NaN values are never written: an unknown value is
// an absent series.
func (f *family) write(w *bufio.Writer, samples []sample) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if samples == nil {
		for _, s := range f.series {
			samples = append(samples, sample{s.values, s.v})
		}
	}
	samples = slices.DeleteFunc(samples, func(s sample) bool { return f.kind != kindHistogram && math.IsNaN(s.v) })
	var hist []*series
	if f.kind == kindHistogram {
		for _, s := range f.series {
			hist = append(hist, s)
		}
		if len(hist) == 0 {
			return
		}
		slices.SortFunc(hist, func(a, b *series) int { return slices.Compare(a.values, b.values) })
	} else {
		if len(samples) == 0 {
			return
		}
		slices.SortFunc(samples, func(a, b sample) int { return slices.Compare(a.values, b.values) })
	}
	w.WriteString("# HELP " + f.name + " " + escapeHelp(f.help) + "\n")
	w.WriteString("# TYPE " + f.name + " " + string(f.kind) + "\n")
	if f.kind != kindHistogram {
		for _, s := range samples {
			writeLine(w, f.name, f.labels, s.values, "", "", s.v)
		}
		return
	}
	for _, s := range hist {
		var cum uint64
		for i, b := range f.buckets {
			cum += s.counts[i]
			writeLine(w, f.name+"_bucket", f.labels, s.values, "le", formatFloat(b), float64(cum))
		}
		writeLine(w, f.name+"_bucket", f.labels, s.values, "le", "+Inf", float64(s.n))
		writeLine(w, f.name+"_sum", f.labels, s.values, "", "", s.sum)
		writeLine(w, f.name+"_count", f.labels, s.values, "", "", float64(s.n))
	}
}

func writeLine(w *bufio.Writer, name string, labels, values []string, extra, extraValue string, v float64) {
	w.WriteString(name)
	if len(labels) > 0 || extra != "" {
		w.WriteByte('{')
		for i, l := range labels {
			if i > 0 {
				w.WriteByte(',')
			}
			w.WriteString(l + `="` + escapeLabel(values[i]) + `"`)
		}
		if extra != "" {
			if len(labels) > 0 {
				w.WriteByte(',')
			}
			w.WriteString(extra + `="` + extraValue + `"`)
		}
		w.WriteByte('}')
	}
	w.WriteByte(' ')
	w.WriteString(formatFloat(v))
	w.WriteByte('\n')
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }

// writeFamilies writes fams sorted by name; extra gives the samples of
// the families computed at scrape time.
func writeFamilies(w io.Writer, fams []*family, extra map[*family][]sample) error {
	bw := bufio.NewWriter(w)
	sorted := slices.Clone(fams)
	slices.SortFunc(sorted, func(a, b *family) int { return strings.Compare(a.name, b.name) })
	for _, f := range sorted {
		s, computed := extra[f]
		if computed && s == nil {
			s = []sample{}
		}
		f.write(bw, s)
	}
	return bw.Flush()
}
