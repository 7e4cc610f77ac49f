package api

import (
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkStatus is GET /v1/status over loopback TCP with keep-alive, the
// path a dashboard or imsictl polls.
func BenchmarkStatus(b *testing.B) {
	f := newFake()
	s, err := New(f, Config{Listen: "127.0.0.1:0", Token: testToken})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	url := "http://" + s.TCPAddr().String() + "/v1/status"
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var lat []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.StatusCode)
		}
		lat = append(lat, time.Since(start))
	}
	// Percentiles of one client back to back; issue 8's 500 req/s load
	// test is a separate harness.
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkStatusHandler is the handler alone: JSON encoding, middleware
// and metrics, without the network.
func BenchmarkStatusHandler(b *testing.B) {
	s, err := New(newFake(), Config{Socket: "/nonexistent/unused.sock"})
	if err != nil {
		b.Fatal(err)
	}
	h := s.LocalHandler()
	b.ReportAllocs()
	for b.Loop() {
		if rec := do(h, "GET", "/v1/status", ""); rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkHubPublish is the daemon's cost of publishing with 8 listeners.
func BenchmarkHubPublish(b *testing.B) {
	h := NewHub(256, 1024, nil)
	var wg sync.WaitGroup
	for range 8 {
		ch, cancel, _ := h.Subscribe(b.Context(), 0)
		defer cancel()
		wg.Go(func() {
			for range ch {
			}
		})
	}
	b.ReportAllocs()
	for b.Loop() {
		h.Publish(EventLink, Link{Up: true})
	}
	h.Close()
	wg.Wait()
}
