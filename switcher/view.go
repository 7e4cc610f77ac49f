package switcher

import (
	"slices"
	"time"

	"github.com/imsid/imsid/modem"
)

// View is what one tick published: the Status and the modem's answers the
// tick read, as one immutable value. Every reader (the API, the datalink,
// upstream events, metrics) gets the same view of the same tick, so none
// of them keeps its own copy of modem answers that could disagree with the
// decision the tick made. A View is never modified once published; its
// slices and pointers must be treated as read-only.
type View struct {
	Status
	Modem ModemView `json:"modem"`
}

// ModemView is the modem's answers as of the newest tick that read them
// (a tick that found the modem sick or lost keeps the previous answers and
// says Responding false).
type ModemView struct {
	// Read is when these answers were read (zero: never).
	Read time.Time `json:"read,omitzero"`
	// SIM is the SIM state (modem.SIMUnknown when it was not answered).
	SIM modem.SIMState `json:"sim"`
	// IMSI and ICCID are unmasked: Status carries the masked forms, and
	// whoever passes these on must mask or pseudonymise them.
	IMSI          modem.IMSI           `json:"-"`
	ICCID         modem.ICCID          `json:"-"`
	Registrations []modem.Registration `json:"registrations,omitempty"`
	Operator      *modem.Operator      `json:"operator,omitempty"`
	Signal        *modem.Signal        `json:"signal,omitempty"`
	Serving       *modem.ServingCell   `json:"serving,omitempty"`
	// Responding is false while polls time out (before the recovery ladder
	// takes over), during recovery and while the port is lost.
	Responding bool `json:"responding"`
}

// WithOnView is called at the end of every tick with the view it
// published, after WithOnTick's callback. It runs under the tick's lock
// and must not block or call back in.
func WithOnView(f func(*View)) Option { return func(o *options) { o.onView = f } }

// View returns the view the newest tick published (never nil).
func (s *Switcher) View() *View { return s.pub.Load().view }

// view builds the published view from st and the newest observation.
// Callers hold s.mu (or own s, in New).
func (s *Switcher) view(st Status) *View {
	o := s.obs
	v := &View{Status: st, Modem: ModemView{Read: o.at, SIM: o.simState, IMSI: o.imsi, ICCID: o.iccid,
		Registrations: slices.Clone(o.regs)}}
	if o.operator != nil {
		op := *o.operator
		v.Modem.Operator = &op
	}
	if o.signal != nil {
		sg := *o.signal
		v.Modem.Signal = &sg
	}
	if o.serving != nil {
		sc := *o.serving
		v.Modem.Serving = &sc
	}
	v.Modem.Responding = !o.at.IsZero() && s.sickTicks == 0 &&
		st.State != StateRecovering && st.State != StateModemLost
	return v
}
