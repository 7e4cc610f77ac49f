// Package simulator is a virtual cellular modem that speaks AT over any
// io.ReadWriter or a pseudo-terminal, driven by a scenario timeline.
//
// It is written from the specifications independently of package modem: the
// two sides of the wire share no parsing or formatting code, so a misreading
// cannot pass on both sides.
package simulator
