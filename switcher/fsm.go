package switcher

//go:generate go run ./cmd/fsmdiagram -doc ../docs/switcher.md

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/looplab/fsm"
)

// State is the switcher's lifecycle state.
type State string

// Lifecycle states.
const (
	StateStarting    State = "starting"     // waiting for the modem to answer
	StateProbing     State = "probing"      // reading SIM state and identity
	StateRegistering State = "registering"  // SIM ready, waiting for service and a data path
	StateConnected   State = "connected"    // registered, PDP address, probes pass
	StateDegraded    State = "degraded"     // connected but below a floor or probes failing
	StateSwitching   State = "switching"    // profile selection sent to the modem
	StateVerifying   State = "verifying"    // waiting for the new profile to prove itself
	StateRollingBack State = "rolling_back" // target failed; returning to the previous profile
	StateFailed      State = "failed"       // every profile exhausted; backing off
	StateHeld        State = "held"         // pinned by an operator
	StateRecovering  State = "recovering"   // the modem (not the profile) is sick: recovery ladder
	StateModemLost   State = "modem_lost"   // the port is gone; the owner reopens it
)

// Event is a lifecycle event: the input of the state machine.
type Event string

// Lifecycle events.
const (
	EvModemUp        Event = "modem_up"
	EvSIMReady       Event = "sim_ready"
	EvHealthy        Event = "healthy"
	EvDegrade        Event = "degrade"
	EvServiceLost    Event = "service_lost"
	EvSwitch         Event = "switch"
	EvSwitched       Event = "switched"
	EvVerified       Event = "verified"
	EvVerifyFailed   Event = "verify_failed"
	EvRolledBack     Event = "rolled_back"
	EvRollbackFailed Event = "rollback_failed"
	EvExhausted      Event = "exhausted"
	EvRetry          Event = "retry"
	EvPin            Event = "pin"
	EvUnpin          Event = "unpin"
	EvModemSick      Event = "modem_sick"
	EvModemOK        Event = "modem_ok"
	EvModemLost      Event = "modem_lost"
	EvReopened       Event = "reopened"
	// EvAborted: the modem or card refused the selection before anything
	// changed; the previous profile never left.
	EvAborted Event = "aborted"
	// EvFailForward: the target was refused; the next candidate is tried
	// at once instead of going back to a profile that lost its service.
	EvFailForward Event = "fail_forward"
	// EvOverridden: someone else changed the identity under a switch
	// after the target came up; imsid adopts it.
	EvOverridden Event = "overridden"
)

// Transition is one row of the lifecycle table.
type Transition struct {
	Event Event
	From  []State
	To    State
}

// Transitions is the lifecycle, declared once: the state machine is built
// from it and docs/switcher.md's diagram is generated from it.
var Transitions = []Transition{
	{EvModemUp, []State{StateStarting}, StateProbing},
	{EvSIMReady, []State{StateProbing}, StateRegistering},
	{EvHealthy, []State{StateRegistering, StateDegraded}, StateConnected},
	{EvDegrade, []State{StateConnected}, StateDegraded},
	{EvServiceLost, []State{StateConnected, StateDegraded, StateHeld}, StateRegistering},
	{EvSwitch, []State{StateConnected, StateDegraded, StateRegistering, StateHeld, StateFailed}, StateSwitching},
	{EvSwitched, []State{StateSwitching}, StateVerifying},
	{EvVerified, []State{StateVerifying}, StateConnected},
	{EvVerifyFailed, []State{StateSwitching, StateVerifying}, StateRollingBack},
	{EvRolledBack, []State{StateRollingBack}, StateConnected},
	{EvRollbackFailed, []State{StateRollingBack}, StateFailed},
	{EvExhausted, []State{StateRegistering, StateDegraded, StateConnected, StateHeld, StateSwitching, StateVerifying}, StateFailed},
	{EvAborted, []State{StateSwitching}, StateRegistering},
	{EvFailForward, []State{StateSwitching, StateVerifying}, StateSwitching},
	{EvOverridden, []State{StateSwitching, StateVerifying, StateRollingBack}, StateRegistering},
	{EvRetry, []State{StateFailed}, StateProbing},
	{EvPin, []State{StateConnected, StateDegraded}, StateHeld},
	{EvUnpin, []State{StateHeld}, StateConnected},
	{EvModemSick, []State{StateProbing, StateRegistering, StateConnected, StateDegraded, StateHeld,
		StateSwitching, StateVerifying, StateRollingBack, StateFailed}, StateRecovering},
	{EvModemOK, []State{StateRecovering}, StateProbing},
	{EvModemLost, []State{StateStarting, StateProbing, StateRegistering, StateConnected, StateDegraded, StateHeld,
		StateSwitching, StateVerifying, StateRollingBack, StateFailed, StateRecovering}, StateModemLost},
	{EvReopened, []State{StateModemLost}, StateStarting},
}

// AllStates lists every state in declaration order.
var AllStates = []State{StateStarting, StateProbing, StateRegistering, StateConnected, StateDegraded,
	StateSwitching, StateVerifying, StateRollingBack, StateFailed, StateHeld, StateRecovering, StateModemLost}

// ErrBadTransition is wrapped when an event is not allowed in the current state.
var ErrBadTransition = errors.New("switcher: event not allowed in this state")

// lifecycle wraps looplab/fsm behind the typed State and Event.
type lifecycle struct {
	f *fsm.FSM
}

func newLifecycle(initial State) *lifecycle {
	evs := make(fsm.Events, 0, len(Transitions))
	for _, t := range Transitions {
		src := make([]string, len(t.From))
		for i, s := range t.From {
			src[i] = string(s)
		}
		evs = append(evs, fsm.EventDesc{Name: string(t.Event), Src: src, Dst: string(t.To)})
	}
	return &lifecycle{f: fsm.NewFSM(string(initial), evs, nil)}
}

func (l *lifecycle) Current() State { return State(l.f.Current()) }

func (l *lifecycle) Can(e Event) bool { return l.f.Can(string(e)) }

// Fire moves the machine; an event that does not apply in the current state
// is an error wrapping ErrBadTransition.
func (l *lifecycle) Fire(e Event) error {
	from := l.Current()
	err := l.f.Event(context.Background(), string(e))
	var none fsm.NoTransitionError
	if err == nil || errors.As(err, &none) {
		return nil
	}
	return fmt.Errorf("%w: %s in %s", ErrBadTransition, e, from)
}

// Diagram renders the transition table as a mermaid state diagram.
func Diagram() string {
	var b strings.Builder
	b.WriteString("```mermaid\nstateDiagram-v2\n")
	b.WriteString("    [*] --> starting\n")
	for _, t := range Transitions {
		for _, f := range t.From {
			fmt.Fprintf(&b, "    %s --> %s: %s\n", f, t.To, t.Event)
		}
	}
	b.WriteString("```\n")
	return b.String()
}

// Markers delimit the generated diagram in docs/switcher.md.
const (
	DiagramBegin = "<!-- BEGIN GENERATED: go generate ./switcher (do not edit) -->"
	DiagramEnd   = "<!-- END GENERATED -->"
)

// SpliceDiagram returns doc with the text between the markers replaced by
// Diagram(). It fails if the markers are missing so a broken doc is noticed.
func SpliceDiagram(doc []byte) ([]byte, error) {
	s := string(doc)
	i := strings.Index(s, DiagramBegin)
	j := strings.Index(s, DiagramEnd)
	if i < 0 || j < i {
		return nil, fmt.Errorf("switcher: diagram markers %q … %q not found", DiagramBegin, DiagramEnd)
	}
	return []byte(s[:i+len(DiagramBegin)] + "\n" + Diagram() + s[j:]), nil
}
