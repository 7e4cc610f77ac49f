package configcheck

import (
	"encoding"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/imsid/imsid/profiles"
)

const mod = "github.com/imsid/imsid"

// leaf is one configuration field: its YAML path and the Go struct field
// that holds it, named "Type.Field" (e.g. "D8Jamming.MinRSRP").
type leaf struct {
	path string
	key  string
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// leaves walks the Config type tree: a field is a leaf unless it is a struct
// that is not a scalar of its own (Money, written as text, is a leaf).
func leaves(t reflect.Type, prefix string) []leaf {
	var out []leaf
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		ft := f.Type
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && !reflect.PointerTo(ft.Elem()).Implements(textUnmarshaler) {
			out = append(out, leaves(ft.Elem(), path+"[]")...)
			continue
		}
		if ft.Kind() == reflect.Struct && !reflect.PointerTo(ft).Implements(textUnmarshaler) {
			out = append(out, leaves(ft, path)...)
			continue
		}
		out = append(out, leaf{path: path, key: t.Name() + "." + f.Name})
	}
	return out
}

// profilesLoaders are the files of package profiles that decode, default
// and validate the config: reading a field there does not make it do
// anything. Everything else in profiles (TTL, AllowsPLMN, the ledger, the
// APDU helpers) counts as a reader when the product calls it.
var profilesLoaders = []string{"decode.go", "defaults.go", "load.go", "validate.go", "errors.go"}

// harness lists the packages and files that drive the product in tests,
// benchmarks and the demo: a field only they read has no effect on a
// deployed gateway.
func harness(pkg, file string) bool {
	for _, p := range []string{"/internal/bench", "/internal/soak", "/internal/demo", "/internal/simlink", "/internal/configcheck", "/simulator", "/switcher/switchertest", "/switcher/cmd"} {
		if strings.HasPrefix(pkg, mod+p) {
			return true
		}
	}
	// imsid --simulate writes a config for the simulator; it reads none.
	return pkg == mod+"/cmd/imsid" && (file == "genconfig.go" || file == "simulate.go")
}

type listed struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Export     string
	Module     *struct{ Path string }
	Standard   bool
}

// TestEveryFieldHasAReader fails for each configuration field that no
// product code reads.
func TestEveryFieldHasAReader(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the module")
	}
	all := leaves(reflect.TypeFor[profiles.Config](), "")
	if len(all) < 100 {
		t.Fatalf("only %d leaves found; is the walk right?", len(all))
	}
	read := readFields(t)
	// Controls: the analysis sees a field the switcher reads, and does not
	// count the assignments imsid --simulate makes to the config it
	// generates, nor the loader's own walk.
	if !slices.ContainsFunc(read["Policy.NoServiceTrigger"], func(s string) bool { return strings.HasPrefix(s, "switcher/") }) {
		t.Fatalf("policy.no_service_trigger: no reader found in switcher/ (%v); is the analysis broken?", read["Policy.NoServiceTrigger"])
	}
	for k, where := range read {
		for _, w := range where {
			if strings.HasPrefix(w, "cmd/imsid/genconfig.go") || strings.HasPrefix(w, "profiles/validate.go") {
				t.Errorf("%s counted as read at %s", k, w)
			}
		}
	}
	var unread []string
	for _, l := range all {
		if len(read[l.key]) == 0 {
			unread = append(unread, fmt.Sprintf("%s (%s)", l.path, l.key))
		}
	}
	for _, u := range unread {
		t.Errorf("%s is read by nothing: wire it to its consumer, or remove it from the model, the docs and the examples", u)
	}
	if testing.Verbose() {
		for _, l := range all {
			t.Logf("%-55s %s", l.path, strings.Join(read[l.key], ", "))
		}
	}
}

// readFields type-checks every package of the module (export data from
// go list for the dependencies) and returns, per "Type.Field" of package
// profiles, the places that read it.
func readFields(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-export", "-deps", "-json", mod+"/...")
	cmd.Dir = "../.."
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	exports := map[string]string{}
	var pkgs []listed
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		exports[p.ImportPath] = p.Export
		if p.Module != nil && p.Module.Path == mod {
			pkgs = append(pkgs, p)
		}
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		f, ok := exports[path]
		if !ok || f == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(f)
	})
	read := map[string][]string{}

	type funcReads struct {
		fields []string
		calls  []string
	}
	// In profiles, reads are attributed to the enclosing function and
	// count only if product code reaches that function.
	profFuncs := map[string]*funcReads{}
	var roots []string

	for _, p := range pkgs {
		var files []*ast.File
		var names []string
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
			names = append(names, name)
		}
		info := &types.Info{Selections: map[*ast.SelectorExpr]*types.Selection{}, Uses: map[*ast.Ident]types.Object{}, Defs: map[*ast.Ident]types.Object{}}
		conf := types.Config{Importer: imp}
		_, err := conf.Check(p.ImportPath, fset, files, info)
		if err != nil {
			t.Fatalf("type-check %s: %v", p.ImportPath, err)
		}
		isProfiles := p.ImportPath == mod+"/profiles"
		for i, f := range files {
			name := names[i]
			if harness(p.ImportPath, name) || isProfiles && slices.Contains(profilesLoaders, name) {
				continue
			}
			written := writes(f)
			where := func(pos token.Pos) string {
				ps := fset.Position(pos)
				return fmt.Sprintf("%s/%s:%d", strings.TrimPrefix(p.ImportPath, mod+"/"), name, ps.Line)
			}
			for _, d := range f.Decls {
				var fr *funcReads
				if isProfiles {
					fd, ok := d.(*ast.FuncDecl)
					if !ok {
						continue
					}
					fr = &funcReads{}
					profFuncs[funcKey(info.Defs[fd.Name].(*types.Func))] = fr
				}
				ast.Inspect(d, func(n ast.Node) bool {
					switch n := n.(type) {
					case *ast.SelectorExpr:
						sel := info.Selections[n]
						if sel == nil || written[n] {
							if fn, ok := info.Uses[n.Sel].(*types.Func); ok {
								if isProfiles {
									fr.calls = append(fr.calls, funcKey(fn))
								} else if fn.Pkg() != nil && fn.Pkg().Path() == mod+"/profiles" {
									roots = append(roots, funcKey(fn))
								}
							}
							return true
						}
						switch sel.Kind() {
						case types.FieldVal:
							v := sel.Obj().(*types.Var)
							if v.Pkg() == nil || v.Pkg().Path() != mod+"/profiles" {
								return true
							}
							k := fieldKey(sel)
							if isProfiles {
								fr.fields = append(fr.fields, k)
							} else {
								read[k] = append(read[k], where(n.Pos()))
							}
						case types.MethodVal, types.MethodExpr:
							fn := sel.Obj().(*types.Func)
							if isProfiles {
								fr.calls = append(fr.calls, funcKey(fn))
							} else if fn.Pkg() != nil && fn.Pkg().Path() == mod+"/profiles" {
								roots = append(roots, funcKey(fn))
							}
						}
					case *ast.Ident:
						if fn, ok := info.Uses[n].(*types.Func); ok && isProfiles && fr != nil {
							fr.calls = append(fr.calls, funcKey(fn))
						}
					}
					return true
				})
			}
		}
	}
	// Fields read by profiles' own helpers count when the product calls
	// the helper, directly or through another.
	seen := map[string]bool{}
	for len(roots) > 0 {
		fn := roots[len(roots)-1]
		roots = roots[:len(roots)-1]
		if seen[fn] {
			continue
		}
		seen[fn] = true
		fr := profFuncs[fn]
		if fr == nil {
			continue
		}
		for _, k := range fr.fields {
			read[k] = append(read[k], "profiles."+fn)
		}
		roots = append(roots, fr.calls...)
	}
	for k := range read {
		sort.Strings(read[k])
		read[k] = slices.Compact(read[k])
	}
	return read
}

// fieldKey names a field selection "Type.Field" after the struct that
// declares the field (through embedded fields, if any): packages see
// profiles through export data, so its objects are not shared.
func fieldKey(sel *types.Selection) string {
	t := sel.Recv()
	idx := sel.Index()
	for _, i := range idx[:len(idx)-1] {
		t = structOf(t).Field(i).Type()
	}
	name := "?"
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := t.(*types.Named); ok {
		name = n.Obj().Name()
	}
	return name + "." + sel.Obj().Name()
}

// funcKey names a function of profiles "Name" or "Recv.Name", for the
// same reason.
func funcKey(fn *types.Func) string {
	sig, _ := fn.Type().(*types.Signature)
	if sig == nil || sig.Recv() == nil {
		return fn.Name()
	}
	t := sig.Recv().Type()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := t.(*types.Named); ok {
		return n.Obj().Name() + "." + fn.Name()
	}
	// A method of an interface: no body to follow.
	return "?." + fn.Name()
}

func structOf(t types.Type) *types.Struct {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	return t.Underlying().(*types.Struct)
}

// writes returns the selector expressions that are assigned to (x.f = v):
// those set a field, they do not read it. x.f += v reads it.
func writes(f *ast.File) map[*ast.SelectorExpr]bool {
	w := map[*ast.SelectorExpr]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if as, ok := n.(*ast.AssignStmt); ok && as.Tok == token.ASSIGN {
			for _, l := range as.Lhs {
				if s, ok := l.(*ast.SelectorExpr); ok {
					w[s] = true
				}
			}
		}
		return true
	})
	return w
}
