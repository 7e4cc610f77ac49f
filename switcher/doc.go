// Package switcher decides which IMSI profile should carry the traffic: it
// turns observations into signal, cost, threat and health scores, drives the
// lifecycle state machine and records every decision with its reasons.
// It consumes a modem through the small Modem interface it defines.
package switcher
