// Package daemon runs the service: it owns the modem session, the switcher
// loop, the store, the API server and the upstream reporter, and their
// lifecycles.
package daemon
