// Package bench benchmarks switching policies against each other: imsid's
// own rule and the baselines people run today (the RutOS router SIM switch
// and OpenWrt mwan3, each at its defaults and tuned, and an autonomous SIM
// applet at 3, 6 and 20 min), all on the same engine (the switcher with the
// real AT driver) and the same modem simulator, in virtual time, with the
// modem's attach, SIM refresh and PLMN search drawn per seed (and at issue
// 11's fixed timing in the "-i11" scenarios). It measures failover and its
// phases, switches and flaps, downtime, money against an offline oracle and
// time on suspicious networks, and renders the results as
// docs/benchmarks.md with SVG plots and the README's block, from a run
// record (docs/benchmarks.json) that TestDocsFromOneRun checks them against.
package bench
