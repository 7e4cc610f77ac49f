package threat

import (
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkObserve measures one observation on a warm engine with a busy
// window (random mixed stream).
func BenchmarkObserve(b *testing.B) {
	e, start := warmEngine(b, testConfig())
	r := rand.New(rand.NewPCG(1, 2))
	obs := make([]Observation, 1024)
	for i := range obs {
		obs[i] = randomObservation(r)
	}
	at := start
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		at = at.Add(30 * time.Second)
		o := obs[i%len(obs)]
		o.At = at
		if _, err := e.Observe(o); err != nil {
			b.Fatal(err)
		}
	}
}
