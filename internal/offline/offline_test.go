package offline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/imsid/imsid/internal/offline/answer"
)

func TestValidate(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main(t.Context(), []string{ValidateCommand, "../../examples/imsid.yaml"}, &out, &errb, nil); code != 0 {
		t.Fatalf("exit %d: %s%s", code, out.String(), errb.String())
	}
	var v answer.Validate
	if err := json.Unmarshal(out.Bytes(), &v); err != nil || !v.Valid || len(v.Profiles) == 0 || v.Method == "" {
		t.Errorf("%v %+v", err, v)
	}
	out.Reset()
	if code := Main(t.Context(), []string{ValidateCommand, "/nonexistent/imsid.yaml"}, &out, &errb, nil); code != 1 {
		t.Errorf("missing file: exit %d", code)
	}
	v = answer.Validate{}
	if err := json.Unmarshal(out.Bytes(), &v); err != nil || v.Valid || v.ReadError == "" {
		t.Errorf("missing file: %v %+v", err, v)
	}
}

func TestProbeAnswers(t *testing.T) {
	failing := func(context.Context, string, int) (io.ReadWriteCloser, error) {
		return nil, errors.New("no such device")
	}
	for _, c := range []struct {
		args  []string
		code  int
		error string
	}{
		{[]string{ProbeCommand, "--device", "/dev/ttyUSB9"}, 1, "/dev/ttyUSB9: cannot open the port: no such device"},
		{[]string{ProbeCommand, "--device", "/dev/ttyUSB9", "--dialect", "nokia"}, 2, "--dialect"},
		{[]string{ProbeCommand, "--baud", "0", "--device", "x"}, 2, "positive"},
		{[]string{ProbeCommand}, 2, "--device"},
		{[]string{ProbeCommand, "--bogus"}, 2, "bogus"},
	} {
		var out, errb bytes.Buffer
		code := Main(t.Context(), c.args, &out, &errb, failing)
		var p answer.Probe
		if err := json.Unmarshal(out.Bytes(), &p); err != nil || code != c.code || p.Report != nil || !strings.Contains(p.Error, c.error) {
			t.Errorf("%v: exit %d, %v, %+v; want exit %d and %q", c.args, code, err, p, c.code, c.error)
		}
	}
	if Is([]string{"--config"}) || Is(nil) || !Is([]string{ProbeCommand}) {
		t.Error("Is")
	}
}
