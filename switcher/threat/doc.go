// Package threat turns radio observations into threat findings and a scored
// threat level; it decides nothing about switching.
//
// The package is pure and deterministic: observations and the clock come in
// as values (an [Observation] carries its own timestamp), there are no
// goroutines and no wall clock, and the same sequence of observations always
// gives the same [Result]s. The switcher fills observations from the modem
// driver's queries and URC events, feeds them to an [Engine], and acts on the
// [Response] it gets back.
//
// Detectors D1–D10 follow docs/threats.md (which follows the project's
// threat-detector reference): each finding names its rule (e.g. "D3"), a
// reason code, a human message and its evidence. Findings are aggregated per
// scope over a sliding window (sum over detectors of each detector's highest
// decayed score) into a [Severity] tier, and the response of an episode only
// ever tightens until the episode ends.
package threat
