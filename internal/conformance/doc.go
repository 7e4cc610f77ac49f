// Package conformance holds tests that run the typed driver (modem) against
// the simulator (simulator) in process: the two sides of the wire were
// written independently, and these tests are where they must agree.
//
// It has no non-test code. It is the one place where the two are tested
// against each other; wiring code above both (cmd/imsid, internal/bench,
// internal/soak) only connects them over a pipe or a pty. TestImportRules
// keeps the project's import direction.
package conformance
