// Package datalink keeps the gateway's data link — the host interface the
// store's traffic uses (wwan0, usb0, ppp0) — following the switcher. Its
// one job: after every switch and every modem reset, bring the link back
// the way the configured owner wants (link.owner imsid: re-dial the
// vendor's data call and renew the interface's address; external: ask the
// owner to reconnect through the hooks), and tell the hooks what happened
// (link up/down, switch start/end, threat, pin).
//
// The switcher's callbacks feed it without blocking; everything that
// blocks (AT commands, hooks, the DHCP client) runs on one goroutine the
// Manager owns and Close stops.
package datalink
