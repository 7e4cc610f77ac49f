// Package probe checks the cellular data path: HTTP requests that must
// answer 204 No Content and plain TCP connects (no ICMP, so no raw-socket
// privilege), optionally bound to the cellular network interface.
package probe
