//go:build unix

package hooks

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A hook that hangs, with a child of its own, is killed with its whole
// process group at the timeout (a real-time wait, kept short).
func TestTimeoutKillsTheGroup(t *testing.T) {
	dir, pidf := t.TempDir(), filepath.Join(t.TempDir(), "pid")
	writeHook(t, dir, "hang", "sleep 30 &\necho $! > "+pidf+"\nsleep 30\n", 0o755)
	r := &Runner{Dir: dir, Timeout: 300 * time.Millisecond}
	start := time.Now()
	res := r.Run(context.Background(), Facts{Event: SwitchStart})
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %s", took)
	}
	if len(res) != 1 || !errors.Is(res[0].Err, ErrTimeout) || res[0].Outcome() != "timeout" {
		t.Fatalf("results: %+v", res)
	}
	b, err := os.ReadFile(pidf)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	for _, c := range strings.TrimSpace(string(b)) {
		pid = pid*10 + int(c-'0')
	}
	// The killed child is a zombie of init at worst; signal 0 fails once it is reaped.
	deadline := time.Now().Add(3 * time.Second)
	for syscall.Kill(pid, 0) == nil && !isZombie(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("the hook's child %d survived the timeout", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func isZombie(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", itoa(pid), "stat"))
	if err != nil {
		return true
	}
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] == "Z"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
