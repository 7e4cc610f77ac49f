package soak

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// LoadResult is what Load measured.
type LoadResult struct {
	Sent, Errors int
	// Latencies of the successful requests, from the moment each was due
	// (open loop: a slow server delays nothing that follows, and a request
	// that could not be sent on time counts its wait).
	Latencies []time.Duration
	Elapsed   time.Duration
	FirstErr  error
	// Slowest are the slowest few successful requests, slowest first.
	Slowest []Slow
}

// Slow is one slow request: when it was due (from the start) and how long it took.
type Slow struct{ At, Latency time.Duration }

const keepSlowest = 8

// Load sends newReq() at rate per second for d on an open-loop schedule, each
// request on its own goroutine, and waits for the answers (each bounded by
// the client's timeout).
func Load(ctx context.Context, c *http.Client, rate float64, d time.Duration, newReq func(context.Context) *http.Request) LoadResult {
	var (
		mu  sync.Mutex
		res LoadResult
		wg  sync.WaitGroup
	)
	interval := time.Duration(float64(time.Second) / rate)
	n := int(d / interval)
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		if w := time.Until(due); w > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(w):
			}
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := func() error {
				resp, err := c.Do(newReq(ctx))
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				_, _ = io.Copy(io.Discard, resp.Body)
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("HTTP %s", resp.Status)
				}
				return nil
			}()
			lat := time.Since(due)
			mu.Lock()
			defer mu.Unlock()
			res.Sent++
			if err != nil {
				res.Errors++
				if res.FirstErr == nil {
					res.FirstErr = err
				}
				return
			}
			res.Latencies = append(res.Latencies, lat)
			res.Slowest = append(res.Slowest, Slow{At: due.Sub(start), Latency: lat})
			if len(res.Slowest) > 4*keepSlowest {
				res.Slowest = slowest(res.Slowest)
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Slowest = slowest(res.Slowest)
	return res
}

func slowest(s []Slow) []Slow {
	slices.SortFunc(s, func(a, b Slow) int { return cmp.Compare(b.Latency, a.Latency) })
	return s[:min(len(s), keepSlowest)]
}
