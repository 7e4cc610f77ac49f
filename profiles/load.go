package profiles

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"

	"gopkg.in/yaml.v3"
)

// MaxFileSize bounds what Load reads; a real config is a few kilobytes.
const MaxFileSize = 1 << 20

// Load reads, decodes, defaults and validates the config file at path.
// Problems in the file come back as a *ValidationError naming path:line.
func Load(path string) (*Config, error) {
	return load(path, false)
}

// Check is Load, and also opens every file the config names (token and key
// files, certificates, the CA) the way the daemon will: a config Check
// accepts starts, as far as its files go. A missing, unreadable, short or
// group/world-readable secret is reported at the line of the field naming
// it. It is `imsictl config validate`.
func Check(path string) (*Config, error) {
	return load(path, true)
}

func load(path string, files bool) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("profiles: load config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("profiles: load config: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, &ValidationError{Errors: []FieldError{{File: path, Msg: fmt.Sprintf("file larger than %d bytes", MaxFileSize)}}}
	}
	return parse(path, data, files)
}

// Parse decodes, defaults and validates a config held in memory. name is
// used in error messages and, through its directory, to resolve relative
// paths in the file (state_dir, token files, ...).
func Parse(name string, data []byte) (*Config, error) {
	return parse(name, data, false)
}

func parse(name string, data []byte, files bool) (*Config, error) {
	d := newDecoder(name)
	fail := func(line int, msg string) (*Config, error) {
		return nil, &ValidationError{Errors: []FieldError{{File: name, Line: line, Msg: msg}}}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return fail(0, "empty config: at least modem, sim, profiles and policy.site are required")
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); errors.Is(err, io.EOF) {
		return fail(0, "empty config: at least modem, sim, profiles and policy.site are required")
	} else if err != nil {
		// yaml.v3 syntax errors carry no typed position; its message already
		// says "line N".
		return fail(0, err.Error())
	}
	for {
		// A trailing "---" with nothing after it is harmless; more content is not.
		var extra yaml.Node
		err := dec.Decode(&extra)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || len(extra.Content) != 1 || extra.Content[0].Tag != "!!null" {
			return fail(extra.Line, "more than one YAML document; the config is a single document")
		}
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	if doc.Kind == yaml.ScalarNode && doc.Tag == "!!null" {
		return fail(doc.Line, "empty config: at least modem, sim, profiles and policy.site are required")
	}

	cfg := Defaults()
	defaults := map[reflect.Type]elemDefaulter{
		reflect.TypeFor[Profile](): func(i int) reflect.Value { return reflect.ValueOf(DefaultProfile(i)) },
	}
	d.decode(doc, reflect.ValueOf(&cfg).Elem(), "", 0, defaults)
	// Validate even after decode errors, so one pass reports everything, but
	// stay quiet about fields whose value was already refused.
	v := &validator{decoder: d, base: name}
	for _, e := range d.errs {
		v.bad = append(v.bad, e.Path)
	}
	v.finish(&cfg)
	v.validate(&cfg)
	if files {
		v.files(&cfg)
	}
	if len(d.errs) > 0 {
		slices.SortStableFunc(d.errs, func(a, b FieldError) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Path, b.Path))
		})
		return nil, &ValidationError{Errors: d.errs}
	}
	return &cfg, nil
}
