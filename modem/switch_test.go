package modem

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

func TestSwitchAppletProfileSeesRefreshOnEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, f := newTestModem(t, parseTranscript(`
			> AT+CIMI
			< 262011234567890
			< OK
			> AT+CCID
			< +CCID: "89490200001234567890"
			< OK
			> AT+CCHO="F04D554C5449494D5349"
			< +CCHO: 1
			< OK
			> AT+CGLA=1,8,"80140201"
			< +CGLA: 4,"9000"
			< OK
			! +CPIN: NOT READY
			> AT+CCHC=1
			< +CME ERROR: 21
			@ 1s
			! +CPIN: READY
			! +QUSIM: 1
			> AT+CIMI
			< +CME ERROR: 14
			> AT+CIMI
			< 310260123456789
			< OK
			> AT+CCID
			< +CCID: "89490200001234567890"
			< OK
		`))
		res, err := m.SwitchAppletProfile(t.Context(), DefaultAppletTemplate(), 2)
		if err != nil {
			t.Fatalf("err = %v (commands %q)", err, f.commands())
		}
		if res.Before.IMSI != "262011234567890" || res.After.IMSI != "310260123456789" || !res.IMSIChanged || res.ICCIDChanged {
			t.Fatalf("result = %+v", res)
		}
		if res.Trigger != "+CPIN: READY" {
			t.Errorf("trigger = %q", res.Trigger)
		}
	})
}

func TestAwaitSIMRefreshByPolling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// u-blox style: no URC at all; the SIM is busy, then back with a new ICCID.
		m, _ := newTestModem(t, parseTranscript(`
			> AT+CPIN?
			< +CME ERROR: 14
			> AT+CPIN?
			< +CPIN: READY
			< OK
			> AT+CIMI
			< 234150999999999
			< OK
			> AT+CCID
			< +CCID: 89440000000000000017
			< OK
		`))
		before := SIMIdentity{IMSI: "262011234567890", ICCID: "89490200001234567890"}
		start := time.Now()
		res, err := m.AwaitSIMRefresh(t.Context(), before)
		if err != nil {
			t.Fatal(err)
		}
		if !res.IMSIChanged || !res.ICCIDChanged || res.After.ICCID != "89440000000000000017" || res.Trigger != "poll" {
			t.Fatalf("result = %+v", res)
		}
		if d := time.Since(start); d != 2*refreshPoll {
			t.Errorf("took %v", d)
		}
	})
}

func TestAwaitSIMRefreshGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, f := newTestModem(t, nil)
		f.defaults = map[string][]string{}
		for k, v := range startupDefaults {
			f.defaults[k] = v
		}
		f.defaults["AT+CPIN?"] = []string{"+CPIN: READY", "OK"}
		f.defaults["AT+CIMI"] = []string{"262011234567890", "OK"}
		f.defaults["AT+CCID"] = []string{"+CCID: 89490200001234567890", "OK"}
		ctx, cancel := contextWithTimeout(t.Context(), 7*time.Second)
		defer cancel()
		_, err := m.AwaitSIMRefresh(ctx, SIMIdentity{IMSI: "262011234567890", ICCID: "89490200001234567890"})
		if !errors.Is(err, ErrRefreshNotSeen) {
			t.Fatalf("err = %v", err)
		}
	})
}
