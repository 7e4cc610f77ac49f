// Package demo runs the store-day demonstration: it drives a simulated imsid
// through its public surfaces only (the HTTP API, its event stream and the
// imsictl binary), turns what it sees into a Timeline, and reports that
// timeline as live progress lines, a summary and an SVG picture.
package demo
