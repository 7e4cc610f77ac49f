// Package api serves the daemon's HTTP API: status, profiles, decisions,
// Server-Sent Events, manual switch/pin/unpin, health and Prometheus metrics,
// over a unix socket (file-mode protected) and an optional TCP listener
// (bearer token, optional TLS).
//
// It knows nothing about the switcher: the daemon implements Backend and maps
// its own types onto the JSON DTOs of internal/api/wire (aliased here
// under the same names), which clients import alone. Those DTOs are the
// public wire contract (docs/api.md); fields are only ever added, never renamed or
// retyped. Every key is always present in a response; a value the daemon does
// not know is null.
package api
