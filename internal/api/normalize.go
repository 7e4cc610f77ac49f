package api

import (
	"encoding/json"
	"slices"
)

// The contract says arrays are [] and never null. The daemon's nil slices
// are fixed here rather than trusted to every mapping, always on copies:
// the Backend may hand out slices it still owns.

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func normalizeStatus(st *Status) {
	st.Usage = nonNil(st.Usage)
	st.Threat.Scores = nonNil(st.Threat.Scores)
	st.Quarantines = nonNil(st.Quarantines)
	if st.LastSwitch != nil && st.LastSwitch.Reasons == nil {
		ls := *st.LastSwitch
		ls.Reasons = []Reason{}
		st.LastSwitch = &ls
	}
}

func normalizeProfiles(ps []ProfileView) []ProfileView {
	ps = slices.Clone(nonNil(ps))
	for i := range ps {
		ps[i].Reasons = nonNil(ps[i].Reasons)
	}
	return ps
}

func normalizeDecisions(ds []Decision) []Decision {
	ds = slices.Clone(nonNil(ds))
	for i := range ds {
		d := &ds[i]
		d.Reasons = nonNil(d.Reasons)
		d.Scores = slices.Clone(nonNil(d.Scores))
		d.WhyNot = slices.Clone(nonNil(d.WhyNot))
		for j := range d.Scores {
			d.Scores[j].Reasons = nonNil(d.Scores[j].Reasons)
		}
		for j := range d.WhyNot {
			d.WhyNot[j].Reasons = nonNil(d.WhyNot[j].Reasons)
		}
	}
	return ds
}

// jsonMarshalCompact marshals v; encoding/json validates and compacts
// RawMessage payloads, so the backend's data cannot smuggle a newline into
// an SSE data line. An invalid payload becomes an error object.
func jsonMarshalCompact(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(`{"error":"unencodable event"}`), err
	}
	return b, nil
}
