// Package switcher decides which IMSI profile should carry the traffic.
//
// Each tick it reads the modem, feeds the threat engine, scores every
// profile and takes one decision: a pure function of the tick's situation
// (rules.go) with a stated precedence — safety, then liveness, then the
// operator's pin, then cost and signal — carried out by the switch
// procedure (check, switch, verify, fail forward or roll back) and the
// lifecycle state machine. Every decision is recorded with its reasons. It
// consumes a modem through the small Modem interface it defines.
package switcher
