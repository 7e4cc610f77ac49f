package soak

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func samples(n int, heap, rss func(i int) uint64, gor func(i int) int) []Sample {
	var ss []Sample
	for i := range n {
		ss = append(ss, Sample{Wall: time.Duration(i) * time.Second, HeapInuse: heap(i), RSS: rss(i), Goroutines: gor(i)})
	}
	return ss
}

func TestCheck(t *testing.T) {
	flat := func(int) uint64 { return 50 << 20 }
	grow := func(i int) uint64 { return 50<<20 + uint64(i)<<20 } // 1 MiB/s
	same := func(int) int { return 20 }
	for _, c := range []struct {
		name string
		r    Report
		want string // "" = pass
	}{
		{"flat", Report{Samples: samples(40, flat, flat, same), GoroutinesBefore: 3, GoroutinesAfter: 3}, ""},
		// The first half may grow (start-up, buffers filling); only the second counts.
		{"growth in first half only", Report{Samples: samples(40, func(i int) uint64 { return uint64(min(i, 20)) << 20 }, flat, same)}, ""},
		{"heap grows", Report{Samples: samples(40, grow, flat, same)}, "heap in use grew"},
		{"rss grows", Report{Samples: samples(40, flat, grow, same)}, "RSS grew"},
		{"goroutines grow", Report{Samples: samples(40, flat, flat, func(i int) int { return 20 + i })}, "goroutines grew"},
		{"leftover goroutines", Report{Samples: samples(40, flat, flat, same), GoroutinesBefore: 3, GoroutinesAfter: 5}, "after shutdown"},
		{"status errors", Report{Samples: samples(40, flat, flat, same), Statuses: 40, StatusErrs: 1}, "GET /v1/status failed"},
		{"too few samples", Report{Samples: samples(3, flat, flat, same)}, "only 3 samples"},
	} {
		err := c.r.Check(DefaultTolerance)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

func TestLoad(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%10 == 0 {
			http.Error(w, "no", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("{}"))
	}))
	defer srv.Close()
	res := Load(t.Context(), srv.Client(), 200, 500*time.Millisecond, func(ctx context.Context) *http.Request {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		return req
	})
	if res.Sent != 100 || res.Errors != 10 || len(res.Latencies) != 90 {
		t.Errorf("sent %d errors %d ok %d, want 100/10/90", res.Sent, res.Errors, len(res.Latencies))
	}
	if res.FirstErr == nil || !strings.Contains(res.FirstErr.Error(), "503") {
		t.Errorf("first error %v, want the 503", res.FirstErr)
	}
}
