// Package durparse reads the durations of imsid's config file and command
// lines ("90s", "2h", "7d"). It is its own package so that imsictl can read
// them (pin --for) without linking the config parser.
package durparse

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Parse reads a duration written as "90s", "2h", "1h30m" or "7d" (a day is
// 24 h). A bare number other than 0 is refused: its unit would be a guess.
func Parse(b string) (time.Duration, error) {

	s := strings.TrimSpace(b)
	if s == "" {
		return 0, errors.New("want a duration such as 90s or 2h, got an empty value")
	}
	if isDigits(s) && s != "0" {
		return 0, fmt.Errorf("duration %q has no unit; write e.g. %ss or %sm", s, s, s)
	}
	var days int64
	if i := strings.IndexByte(s, 'd'); i > 0 && isDigits(s[:i]) {
		n, err := strconv.ParseInt(s[:i], 10, 32)
		if err != nil || n > 10000 {
			return 0, fmt.Errorf("duration %q is out of range", s)
		}
		days, s = n, s[i+1:]
	}
	var rest time.Duration
	if s != "" {
		var err error
		if rest, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("want a duration such as 90s, 2h or 7d, got %q", b)
		}
	}
	if rest < 0 {
		return 0, fmt.Errorf("duration %q must not be negative", b)
	}
	return time.Duration(days)*24*time.Hour + rest, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
