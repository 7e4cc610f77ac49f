// Package conformance holds tests that run the typed driver (modem) against
// the simulator (simulator) in process: the two sides of the wire were
// written independently, and these tests are where they must agree.
//
// It has no non-test code; it is the one place allowed to import both.
package conformance
