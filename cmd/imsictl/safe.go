package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/imsid/imsid/internal/api/wire"
)

// safe makes an untrusted string (from the daemon, the fleet, the modem or
// the network's broadcast operator name) harmless on a terminal: controls
// (escape sequences), bidirectional overrides, line separators and invalid
// UTF-8 are shown as Go-style escapes (\x1b, \u202e, \xff) instead of being
// interpreted.
func safe(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || wire.UnsafeRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x80 && wire.UnsafeRune(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case wire.UnsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// sanitize makes every string reachable from v (a pointer, slice or map)
// safe, in place, before text output. json.RawMessage values are
// re-encoded with safe strings.
func sanitize(v any) {
	sanitizeValue(reflect.ValueOf(v))
}

var rawMessageType = reflect.TypeOf(json.RawMessage(nil))

func sanitizeValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			if v.Kind() == reflect.Interface {
				// An interface's dynamic value is not addressable: copy,
				// clean and put back.
				c := reflect.New(v.Elem().Type()).Elem()
				c.Set(v.Elem())
				sanitizeValue(c)
				if v.CanSet() {
					v.Set(c)
				}
				return
			}
			sanitizeValue(v.Elem())
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString(safe(v.String()))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				sanitizeValue(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Type() == rawMessageType {
			if v.CanSet() && v.Len() > 0 {
				v.SetBytes(safeJSON(v.Bytes()))
			}
			return
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		for i := range v.Len() {
			sanitizeValue(v.Index(i))
		}
	case reflect.Array:
		for i := range v.Len() {
			sanitizeValue(v.Index(i))
		}
	case reflect.Map:
		if v.IsNil() {
			return
		}
		iter := v.MapRange()
		type kv struct{ k, v reflect.Value }
		var items []kv
		for iter.Next() {
			k := reflect.New(iter.Key().Type()).Elem()
			k.Set(iter.Key())
			e := reflect.New(iter.Value().Type()).Elem()
			e.Set(iter.Value())
			items = append(items, kv{k, e})
		}
		for _, it := range items {
			v.SetMapIndex(it.k, reflect.Value{})
			sanitizeValue(it.k)
			sanitizeValue(it.v)
			v.SetMapIndex(it.k, it.v)
		}
	}
}

// safeJSON re-encodes raw with every string (keys included) made safe; raw
// that is not JSON comes back as a JSON string of its safe text.
func safeJSON(raw []byte) []byte {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		b, _ := json.Marshal(safe(string(raw)))
		return b
	}
	v = safeAny(v)
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(safe(string(raw)))
	}
	return b
}

func safeAny(v any) any {
	switch x := v.(type) {
	case string:
		return safe(x)
	case []any:
		for i := range x {
			x[i] = safeAny(x[i])
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[safe(k)] = safeAny(e)
		}
		return out
	}
	return v
}
