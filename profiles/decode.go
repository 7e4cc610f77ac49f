package profiles

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The decoder walks a yaml.Node tree itself, rather than using
// yaml.Node.Decode, so that every problem carries its line and field path,
// unknown keys are reported all at once, and a field left out keeps the
// default that was in place before decoding.

const (
	maxDepth  = 32
	maxNodes  = 100_000 // alias expansion cannot turn a small file into a huge walk
	maxErrors = 100
)

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

type decoder struct {
	file  string
	errs  []FieldError
	lines map[string]int // field path -> line, for validation messages
	nodes int
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, lines: map[string]int{}}
}

func (d *decoder) add(line int, path, format string, args ...any) {
	if len(d.errs) >= maxErrors {
		return
	}
	d.errs = append(d.errs, FieldError{File: d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// line returns the line of path, or of its nearest ancestor that was in the
// file (a missing field is reported where its parent is).
func (d *decoder) line(path string) int {
	for {
		if l, ok := d.lines[path]; ok {
			return l
		}
		if path == "" {
			return 0
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			path = ""
		} else {
			path = path[:i]
		}
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "an unexpected node"
}

// elemDefaulter lets a slice element start from its defaults.
type elemDefaulter func(i int) reflect.Value

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string, depth int, defaults map[reflect.Type]elemDefaulter) {
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			d.add(n.Line, path, "unresolved alias")
			return
		}
		n = n.Alias
	}
	d.nodes++
	if d.nodes > maxNodes || depth > maxDepth {
		if d.nodes == maxNodes+1 || depth == maxDepth+1 {
			d.add(n.Line, path, "document too large or too deeply nested")
		}
		return
	}
	if _, seen := d.lines[path]; !seen {
		d.lines[path] = n.Line
	}
	// An explicit null ("key:" or "key: ~") means "not set": keep the default.
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if v.Kind() == reflect.Pointer && !v.Type().Implements(textUnmarshaler) {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path, depth+1, defaults)
		return
	}
	if v.CanAddr() && v.Addr().Type().Implements(textUnmarshaler) {
		if n.Kind != yaml.ScalarNode {
			d.add(n.Line, path, "want a single value, got %s", kindName(n))
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			d.add(n.Line, path, "%v", err)
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path, depth, defaults)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.add(n.Line, path, "want a list, got %s", kindName(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			if mk, ok := defaults[v.Type().Elem()]; ok {
				s.Index(i).Set(mk(i))
			}
			d.decode(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i), depth+1, defaults)
		}
		v.Set(s)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.add(n.Line, path, "want a string, got %s", kindName(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		switch strings.ToLower(n.Value) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			d.add(n.Line, path, "want true or false, got %s", kindName(n))
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		x, err := strconv.ParseInt(n.Value, 10, v.Type().Bits())
		if n.Kind != yaml.ScalarNode || err != nil {
			d.add(n.Line, path, "want an integer, got %s", kindName(n))
			return
		}
		v.SetInt(x)
	case reflect.Float64:
		x, err := strconv.ParseFloat(n.Value, 64)
		if n.Kind != yaml.ScalarNode || err != nil {
			d.add(n.Line, path, "want a number, got %s", kindName(n))
			return
		}
		v.SetFloat(x)
	default:
		// Only reachable if a field of an unsupported kind is added to Config.
		d.add(n.Line, path, "field of unsupported type %s", v.Type())
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string, depth int, defaults map[reflect.Type]elemDefaulter) {
	d.nodes++
	if d.nodes > maxNodes || depth > maxDepth {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.add(n.Line, path, "want a mapping, got %s", kindName(n))
		return
	}
	fields := fieldIndex(v.Type())
	// Merge keys ("<<: *common") go first so that the mapping's own keys
	// override what they bring in, wherever they are written.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k, val := n.Content[i], n.Content[i+1]; k.Tag == "!!merge" {
			if val.Kind == yaml.AliasNode && val.Alias != nil {
				val = val.Alias
			}
			srcs := []*yaml.Node{val}
			if val.Kind == yaml.SequenceNode {
				srcs = val.Content
			}
			for _, src := range srcs {
				d.decodeStruct(resolve(src), v, path, depth+1, defaults)
			}
		}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.add(k.Line, path, "want a field name, got %s", kindName(k))
			continue
		}
		child := k.Value
		if path != "" {
			child = path + "." + k.Value
		}
		if first, dup := seen[k.Value]; dup {
			d.add(k.Line, child, "duplicate key (first set on line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		idx, ok := fields[k.Value]
		if why, gone := removedFields[child]; gone && !ok {
			if len(d.errs) < maxErrors {
				d.errs = append(d.errs, FieldError{File: d.file, Line: k.Line, Path: child,
					Msg: fmt.Sprintf("field %s was removed: %s", child, why), Err: ErrRemovedField})
			}
			continue
		}
		if !ok {
			d.add(k.Line, child, "unknown field%s", suggest(k.Value, fields))
			continue
		}
		d.lines[child] = k.Line
		d.decode(val, v.Field(idx), child, depth+1, defaults)
	}
}

func resolve(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

func fieldIndex(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("yaml")
		if tag == "" || tag == "-" {
			continue
		}
		m[strings.Split(tag, ",")[0]] = i
	}
	return m
}

// suggest names a known field one edit away, for the common typo case.
func suggest(key string, fields map[string]int) string {
	best := ""
	for f := range fields {
		if closeEnough(key, f) && (best == "" || f < best) {
			best = f
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// closeEnough reports whether a and b are within one edit, or differ only
// in '-' versus '_'.
func closeEnough(a, b string) bool {
	if strings.ReplaceAll(a, "-", "_") == b {
		return true
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(b)-len(a) > 1 || len(a) < 3 {
		return false
	}
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	if i == len(a) {
		return true
	}
	if len(a) == len(b) {
		return a[i+1:] == b[i+1:] || (i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:])
	}
	return a[i:] == b[i+1:]
}
