package netlab

import "github.com/imsid/imsid/simulator"

// LinkState is what the carrier side of the cellular link should be.
type LinkState struct {
	// Carrier is the PLMN whose namespace holds the link's far end; ""
	// when the modem is registered nowhere we know.
	Carrier string
	// Up: the far end is up (registered, and with a data call when the
	// modem needs one).
	Up bool
	// Drop: the carrier drops every packet from the link (core outage).
	Drop bool
}

// Want is the link the simulated modem's state calls for. needCall: the
// modem is in ECM mode and passes nothing before its data-call command.
func Want(s simulator.State, carriers map[string]bool, needCall bool) LinkState {
	registered := s.RegStat == 1 || s.RegStat == 5
	if !registered || !carriers[s.PLMN] || s.CFUN != 1 {
		return LinkState{}
	}
	return LinkState{Carrier: s.PLMN, Up: !needCall || s.DataCall, Drop: s.CoreDown}
}

// Op is one change to the link.
type Op string

// Ops.
const (
	OpMove   Op = "move"   // the far end moves to Carrier (arriving down)
	OpUp     Op = "up"     // the far end comes up in Carrier
	OpDown   Op = "down"   // the far end goes down in Carrier (no carrier on wwan0)
	OpDrop   Op = "drop"   // Carrier starts dropping the link's packets
	OpUndrop Op = "undrop" // Carrier stops dropping them
)

// Action is an Op in a carrier's namespace; From is the carrier a move
// leaves.
type Action struct {
	Op            Op
	Carrier, From string
}

// Plan is the actions that take the link from cur to want. With no
// carrier wanted the far end stays where it is, down: an outage.
func Plan(cur, want LinkState) []Action {
	var out []Action
	if want.Carrier == "" || want.Carrier == cur.Carrier {
		at := cur.Carrier
		if at == "" {
			return nil
		}
		if want.Carrier == "" {
			want = LinkState{Carrier: at}
		}
		if cur.Drop != want.Drop {
			op := OpUndrop
			if want.Drop {
				op = OpDrop
			}
			out = append(out, Action{Op: op, Carrier: at})
		}
		if cur.Up != want.Up {
			op := OpDown
			if want.Up {
				op = OpUp
			}
			out = append(out, Action{Op: op, Carrier: at})
		}
		return out
	}
	if cur.Carrier != "" && cur.Drop {
		out = append(out, Action{Op: OpUndrop, Carrier: cur.Carrier})
	}
	out = append(out, Action{Op: OpMove, Carrier: want.Carrier, From: cur.Carrier})
	if want.Drop {
		out = append(out, Action{Op: OpDrop, Carrier: want.Carrier})
	}
	if want.Up {
		out = append(out, Action{Op: OpUp, Carrier: want.Carrier})
	}
	return out
}

// Apply is the state after acts, from cur.
func Apply(cur LinkState, acts []Action) LinkState {
	for _, a := range acts {
		switch a.Op {
		case OpMove:
			cur = LinkState{Carrier: a.Carrier}
		case OpUp:
			cur.Up = true
		case OpDown:
			cur.Up = false
		case OpDrop:
			cur.Drop = true
		case OpUndrop:
			cur.Drop = false
		}
	}
	return cur
}
