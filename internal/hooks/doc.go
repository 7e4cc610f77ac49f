// Package hooks runs the executables of the hooks directory on link,
// switch, threat and pin events, NetworkManager dispatcher style: each in
// name order, the facts in IMSID_* environment variables (never an IMSI or
// ICCID in clear), bounded by a timeout that kills the hook's whole
// process group, its output (bounded) to the log.
package hooks
