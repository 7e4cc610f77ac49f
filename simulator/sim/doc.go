// Package sim is the virtual UICC the simulator's modem talks to: files,
// logical channels, a multi-IMSI applet and an eUICC ISD-R, at the APDU level.
//
// It knows nothing about AT commands. The AT interpreter in package simulator
// maps +CSIM, +CRSM, +CCHO, +CGLA and +CCHC onto [Card.Transmit], [Card.CRSM],
// [Card.OpenChannel], [Card.TransmitChannel] and [Card.CloseChannel], maps the
// sentinel errors onto +CME ERROR codes, and runs the REFRESH sequence that
// [Card.TakeRefresh] reports. The card reports switches; it never acts on the
// modem.
//
// A Card is not safe for concurrent use: the interpreter serialises access,
// as a real modem serialises access to its one card. A Card holds no global
// state, so "removing" a card is dropping the pointer and "inserting" one is
// calling [NewCard] (or [Card.Reset] on a kept one).
//
// The card is clock-free: autonomous rotation is driven by the times passed to
// [Card.ObserveRegistration], [Card.Tick], [Card.PowerOff] and [Card.PowerOn],
// and [Card.NextDeadline] tells the caller when to call Tick next.
//
// See docs/sim-card.md for the file encodings, the example applet's APDU
// protocol and the eUICC subset.
package sim
