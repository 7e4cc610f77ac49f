// Package bench benchmarks switching policies against each other: imsid's
// own rule and the baselines people run today (router SIM-switch defaults,
// mwan3 defaults, an autonomous SIM applet), all on the same engine (the
// switcher with the real AT driver) and the same modem simulator, in
// virtual time. It measures failover, overhead, switches and flaps,
// downtime, cost against an offline oracle and time on suspicious
// networks, and renders the results as docs/benchmarks.md with SVG plots.
package bench
