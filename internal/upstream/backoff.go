package upstream

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MaxRetryAfter caps how long a server's Retry-After can park the device, so
// a misconfigured server cannot silence it for days.
const MaxRetryAfter = 30 * time.Minute

// jitterBackoff is exponential backoff with equal jitter (half fixed, half
// random, so retries from a fleet spread out but never collapse to zero),
// capped at max; a Retry-After on 429 or 503 replaces it.
type jitterBackoff struct {
	now func() time.Time
	mu  sync.Mutex
	rng *rand.Rand
}

func (b *jitterBackoff) backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if d, ok := retryAfter(resp, b.now()); ok {
		return d
	}
	d := min
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	d = minDur(d, max)
	if d <= 1 {
		return d
	}
	b.mu.Lock()
	j := time.Duration(b.rng.Int64N(int64(d/2) + 1))
	b.mu.Unlock()
	return d/2 + j
}

// retryAfter reads Retry-After (delta seconds or an HTTP-date) on a 429 or
// 503 response.
func retryAfter(resp *http.Response, now time.Time) (time.Duration, bool) {
	if resp == nil || (resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable) {
		return 0, false
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		if s > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter, true
		}
		return time.Duration(s) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return minDur(max(t.Sub(now), 0), MaxRetryAfter), true
}

func minDur(a, b time.Duration) time.Duration {
	if a < b {
		return a
	}
	return b
}
