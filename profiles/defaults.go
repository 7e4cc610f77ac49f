package profiles

import (
	"log/slog"
	"time"
)

// This file is the one place defaults live; docs/config.md mirrors it and
// TestDefaultsDocumented keeps the two from drifting apart.

// Default applet template. It matches the simulator's example multi-IMSI
// applet (simulator/sim, docs/sim-card.md): a proprietary AID (F0 followed by
// "MULTIIMSI" in ASCII) and SET ACTIVE (80 14) with the IMSI index in P1 and
// P2=01, "refresh now", so the modem re-reads the IMSI without a CFUN cycle.
var (
	DefaultAppletAID      = HexBytes{0xF0, 'M', 'U', 'L', 'T', 'I', 'I', 'M', 'S', 'I'}
	DefaultActivateAPDU   = "8014{index}01"
	DefaultProbeURL       = "http://connectivitycheck.gstatic.com/generate_204"
	DefaultRATs           = []RAT{RATLTE, RATNR}
	DefaultAppletExpectSW = []string{"9000"}
)

func dur(d time.Duration) Duration { return Duration(d) }

// Defaults returns a Config holding every default. Profiles are empty: each
// profile's defaults come from DefaultProfile.
func Defaults() Config {
	return Config{
		Modem: Modem{Baud: 115200, Dialect: DialectAuto},
		SIM: SIM{
			Applet: Applet{
				AID:          append(HexBytes(nil), DefaultAppletAID...),
				ActivateAPDU: DefaultActivateAPDU,
				ExpectSW:     append([]string(nil), DefaultAppletExpectSW...),
			},
			EUICC: EUICC{Refresh: true},
		},
		Policy: Policy{
			Probes: Probes{
				HTTP:           []string{DefaultProbeURL},
				Interval:       dur(15 * time.Second),
				Timeout:        dur(2 * time.Second),
				FailuresToDown: 2,
				Retry:          dur(2 * time.Second),
				TrafficAware:   true,
			},
			Thresholds: Thresholds{
				RSRPFloor: -115, RSRPGood: -100,
				SINRFloor: -3, SINRGood: 5,
				RSSIFloor:  -105,
				Hysteresis: 6,
			},
			SignalPoll:           dur(10 * time.Second),
			MinDwell:             dur(10 * time.Minute),
			SwitchCap:            SwitchCap{Max: 3, Window: dur(time.Hour)},
			VerifyDeadline:       dur(3 * time.Minute),
			Quarantine:           Quarantine{Base: dur(30 * time.Minute), Max: dur(24 * time.Hour)},
			AppletHoldoff:        dur(5 * time.Minute),
			NoServiceTrigger:     dur(20 * time.Second),
			FailBack:             FailBack{ScanEvery: dur(time.Minute), Max: dur(2 * time.Minute)},
			CriticalOverridesPin: true,
			Site:                 Site{Mobility: Stationary},
			Threats: Threats{
				Mode:                    ModeEnforce,
				Window:                  dur(15 * time.Minute),
				Watch:                   1.0,
				Suspect:                 2.5,
				Threat:                  4.0,
				SuppressAfterSwitch:     dur(120 * time.Second),
				AlertInterval:           dur(5 * time.Minute),
				BaselineLearning:        dur(7 * 24 * time.Hour),
				BaselineMinObservations: 2000,
				D1:                      D1Downgrade{Enabled: true, Within: dur(30 * time.Second), GoodRSRP: -110, GoodSINR: 0},
				D1b:                     D1bRATLock{Enabled: true, Check: dur(time.Hour)},
				D2:                      D2PLMN{Enabled: true, MaxChangesPerHour: 3},
				D3:                      D3Rejects{Enabled: true, RecoveryBackoff: dur(10 * time.Minute), MaxRecoveries: 3},
				D4:                      D4CellID{Enabled: true, Polls: 2, AcceptAfter: dur(72 * time.Hour)},
				D5:                      D5UnknownCell{Enabled: true, Transient: dur(30 * time.Minute), ReturnWindow: dur(7 * 24 * time.Hour)},
				D6:                      D6Signal{Enabled: true, KnownCellDelta: 12, UnknownCellMargin: 10, UnknownCellMax: -65},
				D7:                      D7Neighbours{Enabled: true, EmptyPolls: 3, MinRSRP: -100},
				D8: D8Jamming{Enabled: true, URCHold: dur(10 * time.Second), MinRSRP: -105, MaxSINR: 0, MaxRSRQ: -15,
					SINRDrop: 10, Polls: 3, BlackoutFor: dur(5 * time.Minute)},
				D9: D9Churn{Enabled: true, ShortCount: 3, ShortWindow: dur(10 * time.Minute), LongCount: 6,
					LongWindow: dur(time.Hour), ReleaseWithin: dur(120 * time.Second)},
				D10: D10SIM{Enabled: true},
			},
		},
		API: API{Socket: "/run/imsid/imsid.sock", SocketMode: 0o660, TokenForReads: true},
		Upstream: Upstream{
			Auth:           AuthBearer,
			HashIdentities: true,
			BatchSize:      50,
			OutboxMax:      10000,
			Heartbeat:      dur(5 * time.Minute),
			Timeout:        dur(10 * time.Second),
			AdvisoryPoll:   dur(15 * time.Minute),
		},
		Link:         defaultLink(),
		StateDir:     "/var/lib/imsid",
		PersistEvery: dur(time.Minute),
		Log:          Log{Format: LogText, Level: slog.LevelInfo, Output: LogAuto},
	}
}

// DefaultProfile returns the defaults for the profile at position i (0-based)
// in the list: its priority defaults to its 1-based position.
func DefaultProfile(i int) Profile {
	return Profile{
		APNAuth:    AuthNone,
		PDPType:    PDPIPv4,
		RATs:       append([]RAT(nil), DefaultRATs...),
		BillingDay: 1,
		Priority:   i + 1,
	}
}
