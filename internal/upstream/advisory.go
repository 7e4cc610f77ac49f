package upstream

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/imsid/imsid/profiles"
)

// Scope is what an advisory applies to.
type Scope string

// Advisory scopes.
const (
	ScopePLMN   Scope = "plmn"
	ScopeCell   Scope = "cell"
	ScopeRegion Scope = "region"
)

// Action is what an advisory asks for. Both tighten policy; there is
// deliberately no action that releases or lowers anything.
type Action string

// Advisory actions.
const (
	ActionQuarantine  Action = "quarantine"
	ActionRaiseThreat Action = "raise_threat"
)

// Level is a threat level an advisory raises to. The names and order match
// the switcher's threat severities (low < medium < high < critical).
type Level string

// Threat levels an advisory may raise to; "none" would not raise anything.
const (
	LevelLow      Level = "low"
	LevelMedium   Level = "medium"
	LevelHigh     Level = "high"
	LevelCritical Level = "critical"
)

var levels = []Level{LevelLow, LevelMedium, LevelHigh, LevelCritical}

// Rank orders levels (low = 1 … critical = 4; unknown = 0).
func (l Level) Rank() int { return slices.Index(levels, l) + 1 }

// MaxAdvisoryTTL bounds expires-issued, so a leaked or mistaken advisory
// cannot quarantine a network for ever.
const MaxAdvisoryTTL = 30 * 24 * time.Hour

// ClockSkew is how far in the future an advisory's issued time may be.
const ClockSkew = 5 * time.Minute

// Advisory is a verified, tighten-only instruction from the fleet.
type Advisory struct {
	ID      string    `json:"id"`
	Issued  time.Time `json:"issued"`
	Expires time.Time `json:"expires"`
	Scope   Scope     `json:"scope"`
	// Key is a PLMN ("26201"), a cell ("26201/1a2b3c4", PLMN and hex cell
	// identity) or a region name.
	Key    string `json:"key"`
	Action Action `json:"action"`
	// Level is set for raise_threat.
	Level Level `json:"level,omitempty"`
}

// Active reports whether the advisory applies at now.
func (a Advisory) Active(now time.Time) bool {
	return !now.Before(a.Issued.Add(-ClockSkew)) && now.Before(a.Expires)
}

// Envelope is an advisory as sent: the payload's exact bytes and an ed25519
// signature over them, both base64 (standard encoding).
type Envelope struct {
	Payload   string `json:"payload"`
	Signature string `json:"signature"`
	// KeyID names the key that signed it (upstream.advisory_keys[].id);
	// empty: any configured key may verify it.
	KeyID string `json:"kid,omitempty"`
}

// KeySet is the advisory keys a device accepts.
type KeySet []NamedKey

// NamedKey is one advisory key; ID "" is upstream.advisory_key.
type NamedKey struct {
	ID  string
	Key ed25519.PublicKey
}

// Keys is the configured key set: advisory_key (id "") and advisory_keys.
func Keys(cfg profiles.Upstream) KeySet {
	var ks KeySet
	if len(cfg.AdvisoryKey) == ed25519.PublicKeySize {
		ks = append(ks, NamedKey{Key: ed25519.PublicKey(cfg.AdvisoryKey)})
	}
	for _, k := range cfg.AdvisoryKeys {
		if len(k.Key) == ed25519.PublicKeySize {
			ks = append(ks, NamedKey{ID: k.ID, Key: ed25519.PublicKey(k.Key)})
		}
	}
	return ks
}

// Reasons an advisory is rejected.
var (
	ErrUnsigned     = errors.New("advisory is not signed")
	ErrBadSignature = errors.New("advisory signature does not verify")
	ErrExpired      = errors.New("advisory has expired")
	ErrMalformed    = errors.New("advisory is malformed")
	ErrLoosening    = errors.New("advisory would loosen policy")
	ErrNoKey        = errors.New("no advisory key configured")
	ErrUnknownKey   = errors.New("advisory names a key id that is not configured")
)

// AdvisoryError says which advisory was rejected and why.
type AdvisoryError struct {
	Index int    // position in the pulled list
	ID    string // "" if the payload could not be read
	Err   error
}

func (e *AdvisoryError) Error() string {
	id := e.ID
	if id == "" {
		id = "?"
	}
	return fmt.Sprintf("upstream: advisory #%d (id %s): %v", e.Index, id, e.Err)
}

// Unwrap returns the reason.
func (e *AdvisoryError) Unwrap() error { return e.Err }

var (
	plmnRe   = regexp.MustCompile(`^[0-9]{5,6}$`)
	cellRe   = regexp.MustCompile(`^[0-9]{5,6}/[0-9A-Fa-f]{1,10}$`)
	regionRe = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)
	idRe     = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
)

// VerifyAdvisory checks an envelope's signature with key, then parses and
// validates the payload at now. It is the one place advisories are parsed.
func VerifyAdvisory(key []byte, env Envelope, now time.Time) (Advisory, error) {
	if len(key) != ed25519.PublicKeySize {
		return Advisory{}, ErrNoKey
	}
	return VerifyAdvisoryKeys(KeySet{{Key: ed25519.PublicKey(key)}}, env, now)
}

// VerifyAdvisoryKeys is VerifyAdvisory with a key set: an envelope naming a
// key id is verified with that key only, one without with any key.
func VerifyAdvisoryKeys(keys KeySet, env Envelope, now time.Time) (Advisory, error) {
	if len(keys) == 0 {
		return Advisory{}, ErrNoKey
	}
	if env.Signature == "" {
		return Advisory{}, ErrUnsigned
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil || len(payload) == 0 {
		return Advisory{}, fmt.Errorf("%w: payload is not base64", ErrMalformed)
	}
	sig, err := base64.StdEncoding.DecodeString(env.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return Advisory{}, fmt.Errorf("%w: signature is not a base64 ed25519 signature", ErrBadSignature)
	}
	verified, named := false, false
	for _, k := range keys {
		if env.KeyID != "" && k.ID != env.KeyID {
			continue
		}
		named = true
		if ed25519.Verify(k.Key, payload, sig) {
			verified = true
			break
		}
	}
	switch {
	case !named:
		return Advisory{}, fmt.Errorf("%w: %q", ErrUnknownKey, env.KeyID)
	case !verified:
		return Advisory{}, ErrBadSignature
	}
	return parsePayload(payload, now)
}

// PeekID is the id an envelope's payload claims, for logging a rejected
// advisory: "" when the payload cannot be read or the id is not a valid one
// (it may be unsigned, so it is only trusted as a label).
func PeekID(env Envelope) string {
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return ""
	}
	var p struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(payload, &p) != nil || !idRe.MatchString(p.ID) {
		return ""
	}
	return p.ID
}

// advisoryFields are the payload's keys, spelt exactly so.
var advisoryFields = map[string]bool{"id": true, "issued": true, "expires": true, "scope": true, "key": true, "action": true, "level": true}

// strictKeys refuses a payload object whose keys repeat or are not spelt
// exactly as advisoryFields: encoding/json would take the last of two
// "key"s and match "KEY" to key, so a fleet-side validator reading the
// first, or the exact spelling, could approve a different advisory than
// the device applies.
func strictKeys(payload []byte) error {
	dec := json.NewDecoder(bytes.NewReader(payload))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil // not an object: the decode below says so
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil
		}
		k, _ := t.(string)
		switch {
		case seen[k]:
			return fmt.Errorf("%w: key %q appears twice", ErrMalformed, k)
		case !advisoryFields[k]:
			return fmt.Errorf("%w: unknown field %q (keys are lower case: id, issued, expires, scope, key, action, level)", ErrMalformed, k)
		}
		seen[k] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil
		}
	}
	return nil
}

func parsePayload(payload []byte, now time.Time) (Advisory, error) {
	if err := strictKeys(payload); err != nil {
		return Advisory{}, err
	}
	// Unknown fields are refused: a field this build does not understand
	// might be meant to change what the advisory does.
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	var a Advisory
	if err := dec.Decode(&a); err != nil {
		return Advisory{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return Advisory{}, fmt.Errorf("%w: trailing data after the payload", ErrMalformed)
	}
	fail := func(field, format string, args ...any) (Advisory, error) {
		return Advisory{}, fmt.Errorf("%w: %s: %s", ErrMalformed, field, fmt.Sprintf(format, args...))
	}
	switch {
	case !idRe.MatchString(a.ID):
		return fail("id", "want 1-128 of [A-Za-z0-9._:-]")
	case a.Issued.IsZero():
		return fail("issued", "missing")
	case a.Expires.IsZero():
		return fail("expires", "missing")
	case !a.Expires.After(a.Issued):
		return fail("expires", "not after issued")
	case a.Expires.Sub(a.Issued) > MaxAdvisoryTTL:
		return fail("expires", "more than %s after issued", MaxAdvisoryTTL)
	case a.Issued.After(now.Add(ClockSkew)):
		return fail("issued", "%s is in the future", a.Issued.Format(time.RFC3339))
	}
	switch a.Scope {
	case ScopePLMN:
		if !plmnRe.MatchString(a.Key) {
			return fail("key", "want a 5- or 6-digit PLMN for scope plmn")
		}
	case ScopeCell:
		if !cellRe.MatchString(a.Key) {
			return fail("key", "want <plmn>/<hex cell id> for scope cell")
		}
		plmn, ci, _ := strings.Cut(a.Key, "/")
		a.Key = plmn + "/" + strings.ToLower(ci)
	case ScopeRegion:
		if !regionRe.MatchString(a.Key) {
			return fail("key", "want 1-64 of [A-Za-z0-9._:-] for scope region")
		}
	default:
		return fail("scope", "%q is not plmn, cell or region", a.Scope)
	}
	switch a.Action {
	case ActionQuarantine:
		if a.Level != "" {
			return fail("level", "applies to raise_threat only")
		}
	case ActionRaiseThreat:
		if a.Level.Rank() == 0 {
			// "none" or anything below low would lower, not raise.
			return Advisory{}, fmt.Errorf("%w: level %q is not one of low, medium, high, critical", ErrLoosening, a.Level)
		}
	default:
		return Advisory{}, fmt.Errorf("%w: action %q (only quarantine and raise_threat exist)", ErrLoosening, a.Action)
	}
	if !now.Before(a.Expires) {
		return a, fmt.Errorf("%w at %s", ErrExpired, a.Expires.Format(time.RFC3339))
	}
	return a, nil
}

// advisoryList is the body of the advisory endpoint.
type advisoryList struct {
	Advisories []Envelope `json:"advisories"`
}

// Advisories is the set of accepted advisories, by ID.
type Advisories map[string]Advisory

// Active returns the advisories in force at now, ordered by ID.
func (as Advisories) Active(now time.Time) []Advisory {
	var out []Advisory
	for _, a := range as {
		if a.Active(now) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(x, y Advisory) int { return strings.Compare(x.ID, y.ID) })
	return out
}

// merge adds a. A re-sent ID may only extend or strengthen what is held: an
// earlier expiry or a lower level under the same ID would loosen policy by
// the back door, so it is refused.
func (as Advisories) merge(a Advisory) error {
	old, ok := as[a.ID]
	if !ok {
		as[a.ID] = a
		return nil
	}
	switch {
	case old.Scope != a.Scope || old.Key != a.Key || old.Action != a.Action:
		return fmt.Errorf("%w: id %s reused for a different target or action", ErrLoosening, a.ID)
	case a.Expires.Before(old.Expires):
		return fmt.Errorf("%w: id %s re-sent with an earlier expiry", ErrLoosening, a.ID)
	case a.Level.Rank() < old.Level.Rank():
		return fmt.Errorf("%w: id %s re-sent with a lower level", ErrLoosening, a.ID)
	}
	as[a.ID] = a
	return nil
}

func (as Advisories) prune(now time.Time) {
	for id, a := range as {
		if !now.Before(a.Expires) {
			delete(as, id)
		}
	}
}
