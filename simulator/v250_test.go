package simulator

import (
	"testing"
	"testing/synctest"
)

// A/ repeats the last command line as soon as the '/' arrives: V.250 §6.2.2
// gives it no terminator. Before #13 the modem waited for a CR.
func TestRepeatWithoutTerminator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, loadScenario(t, "basic.yaml"))
		r.send("ATE0\r")
		r.readUntil("OK\r\n")
		r.send("AT+CGMI\r")
		if got := r.readUntil("OK\r\n"); got != "\r\nQuectel\r\n\r\nOK\r\n" {
			t.Fatalf("AT+CGMI = %q", got)
		}
		r.send("A/") // no CR
		if got := r.readUntil("OK\r\n"); got != "\r\nQuectel\r\n\r\nOK\r\n" {
			t.Fatalf("A/ = %q", got)
		}
		// Lower case too; a CR after it is an empty line, which answers
		// nothing.
		r.send("a/\r")
		if got := r.readUntil("OK\r\n"); got != "\r\nQuectel\r\n\r\nOK\r\n" {
			t.Fatalf("a/ = %q", got)
		}
		synctest.Wait()
		r.send("AT\r")
		if got := r.readUntil("OK\r\n"); got != "\r\nOK\r\n" {
			t.Fatalf("after a/CR: %q", got)
		}
		// With echo on, the echo of A/ comes before the answer.
		r.send("ATE1\r")
		r.readUntil("OK\r\n")
		r.send("A/")
		if got := r.readUntil("OK\r\n"); got != "A/\r\nOK\r\n" {
			t.Fatalf("echoed A/ = %q", got)
		}
		// A slash elsewhere in a line is not a repeat.
		r.send("AT+CSCA=\"+49/1\"\r")
		if got := r.readUntil("OK\r\n"); got != "AT+CSCA=\"+49/1\"\r\r\nOK\r\n" {
			t.Fatalf("slash inside a line = %q", got)
		}
	})
}

// ATS3=<n> changes the command line terminator (V.250 §6.2.1); ATS3? reads
// it back and ATZ restores 13. Before #13 S3 was accepted and ignored.
func TestS3Terminator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, loadScenario(t, "basic.yaml"))
		r.send("ATE0\r")
		r.readUntil("OK\r\n")
		r.send("ATS3=64\r")
		if got := r.readUntil("OK\r\n"); got != "\r\nOK\r\n" {
			t.Fatalf("ATS3=64 = %q", got)
		}
		r.send("AT+CGMI@")
		if got := r.readUntil("OK\r\n"); got != "\r\nQuectel\r\n\r\nOK\r\n" {
			t.Fatalf("line ended by @ = %q", got)
		}
		r.send("ATS3?@")
		if got := r.readUntil("OK\r\n"); got != "\r\n064\r\n\r\nOK\r\n" {
			t.Fatalf("ATS3? = %q", got)
		}
		// A CR no longer ends a line: it is a character of the line,
		// which then fails to parse.
		r.send("AT\r@")
		if got := r.readUntil("ERROR\r\n"); got != "\r\nERROR\r\n" {
			t.Fatalf("AT<CR>@ = %q", got)
		}
		r.send("ATZ@")
		r.readUntil("OK\r\n")
		r.send("ATS3?\r")
		if got := r.readUntil("OK\r\n"); got != "ATS3?\r\r\n013\r\n\r\nOK\r\n" {
			t.Fatalf("after ATZ = %q", got)
		}
		for _, bad := range []string{"ATS3=128\r", "ATS3=x\r"} {
			r.send(bad)
			if got := r.readUntil("ERROR\r\n"); got != bad+"\r\nERROR\r\n" {
				t.Fatalf("%q = %q", bad, got)
			}
		}
	})
}
