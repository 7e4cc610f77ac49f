package upstream

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// HMAC request signing headers; see docs/upstream.md.
const (
	HeaderTimestamp = "X-Imsid-Timestamp"
	HeaderSignature = "X-Imsid-Signature"
	HeaderDevice    = "X-Imsid-Device"
	signaturePrefix = "v1="
)

// Sign returns the X-Imsid-Signature value for a body sent at ts:
// "v1=" + hex(HMAC-SHA256(key, "<unix seconds>." + body)).
func Sign(key []byte, ts time.Time, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return signaturePrefix + hex.EncodeToString(m.Sum(nil))
}

// Signature verification failures.
var (
	ErrSignatureMissing = errors.New("upstream: signature or timestamp header missing")
	ErrSignatureStale   = errors.New("upstream: signature timestamp outside the allowed skew")
	ErrSignatureBad     = errors.New("upstream: signature does not match")
)

// Verify checks a request's signature headers the way a server should:
// timestamp within skew of now, then a constant-time compare.
func Verify(key []byte, timestamp, signature string, body []byte, now time.Time, skew time.Duration) error {
	if timestamp == "" || signature == "" {
		return ErrSignatureMissing
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not unix seconds", ErrSignatureBad, timestamp)
	}
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > skew || d < -skew {
		return fmt.Errorf("%w: %s off", ErrSignatureStale, d.Round(time.Second))
	}
	if !strings.HasPrefix(signature, signaturePrefix) ||
		!hmac.Equal([]byte(signature), []byte(Sign(key, ts, body))) {
		return ErrSignatureBad
	}
	return nil
}
