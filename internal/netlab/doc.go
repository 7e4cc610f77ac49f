// Package netlab builds, for end-to-end tests of the data link, a small
// cellular network out of Linux network namespaces: a gateway namespace
// whose wwan0 is one end of a veth pair, and one carrier namespace per
// simulated network, each with its own subnet served by dnsmasq and an
// HTTP endpoint answering 204. Its Driver moves the veth's carrier end
// between the carriers as the simulated modem registers, takes it down
// in an outage and drops its packets in a core outage.
//
// It needs root, iproute2, dnsmasq and udhcpc; only the test's own
// namespaces are ever used as network targets.
package netlab
