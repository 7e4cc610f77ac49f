package simulator

import (
	"fmt"
	"math/rand"
	"time"
)

// FaultKind is a response-level misbehaviour.
type FaultKind int

// Fault kinds. The first six act on the next Count responses; Reset and
// PortLoss act at once.
const (
	FaultNoAnswer    FaultKind = iota + 1 // the response is never sent
	FaultLateAnswer                       // held back, sent when the next command line arrives (or after Delay)
	FaultDuplicateOK                      // a successful response ends with OK twice
	FaultTruncated                        // the response is cut in half; no final result code
	FaultGarbage                          // random bytes precede the response
	FaultSplitWrites                      // every write is split at random byte boundaries
	FaultReset                            // spontaneous reset: boot URC chain, volatile settings lost
	FaultPortLoss                         // the port disappears for Delay (default timing.port_down)
)

var faultNames = map[FaultKind]string{
	FaultNoAnswer:    "no_answer",
	FaultLateAnswer:  "late_answer",
	FaultDuplicateOK: "duplicate_ok",
	FaultTruncated:   "truncated",
	FaultGarbage:     "garbage",
	FaultSplitWrites: "split_writes",
	FaultReset:       "reset",
	FaultPortLoss:    "port_loss",
}

func (k FaultKind) String() string {
	if s, ok := faultNames[k]; ok {
		return s
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// ParseFaultKind maps a scenario name ("late_answer") to its kind.
func ParseFaultKind(s string) (FaultKind, error) {
	for k, n := range faultNames {
		if n == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("%w fault kind %q", ErrUnknown, s)
}

// Fault is one fault to trigger.
type Fault struct {
	Kind FaultKind
	// Count is how many responses (writes, for FaultSplitWrites) it
	// affects; 0 means 1.
	Count int
	// Delay: for FaultLateAnswer, send the held reply after Delay even if no
	// command follows (0: only when the next command arrives); for
	// FaultPortLoss, how long the port stays away (0: timing.port_down).
	Delay time.Duration
	// Seed makes garbage and split points reproducible; 0 uses the
	// scenario's seed stream.
	Seed int64
}

type armedFault struct {
	f    Fault
	left int
	rng  *rand.Rand
}

type lateAnswer struct {
	data  []byte
	timer *trackedTimer
}

// TriggerFault arms a response fault or performs a reset or port loss now.
func (m *Modem) TriggerFault(f Fault) error {
	m.mu.Lock()
	defer m.unlock()
	return m.triggerFault(f)
}

func (m *Modem) triggerFault(f Fault) error {
	if m.closed {
		return ErrClosed
	}
	if _, ok := faultNames[f.Kind]; !ok {
		return fmt.Errorf("simulator: TriggerFault: %w fault kind %d", ErrUnknown, int(f.Kind))
	}
	if f.Count < 0 {
		return fmt.Errorf("simulator: TriggerFault: count %d is negative", f.Count)
	}
	switch f.Kind {
	case FaultReset:
		m.rebootLocked(false)
		return nil
	case FaultPortLoss:
		d := f.Delay
		if d <= 0 {
			d = m.sc.Timing.PortDown
		}
		m.dropPort(d)
		return nil
	}
	n := f.Count
	if n == 0 {
		n = 1
	}
	rng := m.rngFault
	if f.Seed != 0 {
		rng = rand.New(rand.NewSource(f.Seed))
	}
	m.faults = append(m.faults, armedFault{f: f, left: n, rng: rng})
	return nil
}

// dropPort makes Serve return ErrPortDropped; the port is away for d. A
// drop while the port is already away (a port_loss fault during the
// re-enumeration of CFUN=1,1) keeps one port-down period that ends at the
// later of the two deadlines, so WaitPortUp never returns before both.
func (m *Modem) dropPort(d time.Duration) {
	now := m.clk.Now()
	until := now.Add(d)
	if m.portUp == nil || until.After(m.portUpAt) {
		if m.portUp == nil {
			m.portUp = make(chan struct{})
		}
		up := m.portUp
		m.stop(m.portTimer)
		m.portUpAt = until
		m.portTimer = m.after(d, func() {
			m.portTimer = nil
			if m.portUp == up {
				m.portUp = nil
			}
			close(up)
		})
	}
	m.portDown = m.portUpAt.Sub(now)
	if m.conn != nil {
		m.conn.dropPort()
		m.conn = nil
	}
}

// takeFault consumes one armed response fault (not split writes).
func (m *Modem) takeFault() *armedFault {
	for i := range m.faults {
		af := &m.faults[i]
		if af.f.Kind == FaultSplitWrites {
			continue
		}
		cp := *af
		af.left--
		if af.left <= 0 {
			m.faults = append(m.faults[:i], m.faults[i+1:]...)
		}
		return &cp
	}
	return nil
}

func (m *Modem) takeSplit() *rand.Rand {
	for i := range m.faults {
		af := &m.faults[i]
		if af.f.Kind != FaultSplitWrites {
			continue
		}
		af.left--
		rng := af.rng
		if af.left <= 0 {
			m.faults = append(m.faults[:i], m.faults[i+1:]...)
		}
		return rng
	}
	return nil
}

// deliver sends a complete response through the armed faults. mu held.
func (m *Modem) deliver(resp []byte, ok bool) {
	af := m.takeFault()
	if af == nil {
		m.emit(resp)
		return
	}
	m.logger.Debug("fault", "kind", af.f.Kind.String())
	switch af.f.Kind {
	case FaultNoAnswer:
	case FaultLateAnswer:
		if m.late != nil {
			m.flushLate()
		}
		m.late = &lateAnswer{data: resp}
		if af.f.Delay > 0 {
			la := m.late
			la.timer = m.after(af.f.Delay, func() {
				if m.late == la {
					m.flushLate()
				}
			})
		}
	case FaultDuplicateOK:
		m.emit(resp)
		if ok {
			m.emit(m.frameFinal(nil))
		}
	case FaultTruncated:
		cut := len(resp) / 2
		if ok && cut > 0 {
			// Never leave the final OK intact: the point is a reply that ends early.
			fin := len(m.frameFinal(nil))
			if len(resp)-cut < fin {
				cut = len(resp) - fin
			}
		}
		if cut > 0 {
			m.emit(resp[:cut])
		}
	case FaultGarbage:
		g := make([]byte, 4+af.rng.Intn(28))
		for i := range g {
			g[i] = byte(af.rng.Intn(256))
		}
		m.emit(append(g, resp...))
	}
}

func (m *Modem) flushLate() {
	la := m.late
	m.late = nil
	m.stop(la.timer)
	m.emit(la.data)
}
