package soak

import (
	"math"
	"testing"
	"time"
)

func TestSlope(t *testing.T) {
	for _, c := range []struct {
		xs, ys []float64
		want   float64
	}{
		{[]float64{0, 1, 2, 3}, []float64{1, 3, 5, 7}, 2},
		{[]float64{0, 1, 2, 3}, []float64{5, 5, 5, 5}, 0},
		{[]float64{1}, []float64{1}, 0},
		{[]float64{2, 2}, []float64{1, 9}, 0},
	} {
		if got := Slope(c.xs, c.ys); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Slope(%v, %v) = %v, want %v", c.xs, c.ys, got, c.want)
		}
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i))
	}
	for p, want := range map[float64]time.Duration{50: 50, 99: 99, 100: 100, 1: 1} {
		if got := Percentile(ds, p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
	if Percentile(nil, 50) != 0 {
		t.Error("empty: want 0")
	}
}

func TestReadProcSelf(t *testing.T) {
	st, err := ReadProc(0)
	if err != nil {
		t.Skip("no /proc:", err)
	}
	if st.RSS == 0 || st.HWM < st.RSS {
		t.Errorf("RSS %d HWM %d", st.RSS, st.HWM)
	}
	if st.Anon == 0 || st.Anon > st.RSS {
		t.Errorf("RssAnon %d of RSS %d", st.Anon, st.RSS)
	}
}
