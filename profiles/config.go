package profiles

import "log/slog"

// Config is one device's configuration. Obtain it from Load or Parse: they
// apply Defaults, then the file, then validate, so every field is usable as is.
type Config struct {
	Modem    Modem     `yaml:"modem" json:"modem"`
	SIM      SIM       `yaml:"sim" json:"sim"`
	Profiles []Profile `yaml:"profiles" json:"profiles"`
	Policy   Policy    `yaml:"policy" json:"policy"`
	API      API       `yaml:"api" json:"api"`
	Upstream Upstream  `yaml:"upstream" json:"upstream"`
	// Link is who owns the data link and how it comes back after a switch.
	Link Link `yaml:"link" json:"link"`
	// StateDir holds the bbolt database (usage, quarantines, journal, outbox).
	StateDir string `yaml:"state_dir" json:"state_dir"`
	// PersistEvery is how often state that changed is written to the
	// database; the smoothed signal priors, the usage ledger and the
	// threat baseline every fifth time. Each write is an fsync: on small
	// NOR flash a longer interval spares it.
	PersistEvery Duration `yaml:"persist_every" json:"persist_every"`
	Log          Log      `yaml:"log" json:"log"`
}

// Modem says where the modem is and how to talk to it.
type Modem struct {
	// Device is the AT port. A /dev/serial/by-id path survives re-enumeration;
	// /dev/ttyUSB2 does not.
	Device  string  `yaml:"device" json:"device"`
	Baud    int     `yaml:"baud" json:"baud"`
	Dialect Dialect `yaml:"dialect" json:"dialect"`
}

// SIM says how the SIM's profiles are selected.
type SIM struct {
	Method Method `yaml:"method" json:"method"`
	// APN is shared by every profile that does not set its own; allowed only
	// with applet and autonomous methods, where one card's IMSIs usually share
	// the operator of record's APN.
	APN    string `yaml:"apn" json:"apn,omitempty"`
	Applet Applet `yaml:"applet" json:"applet"`
	EUICC  EUICC  `yaml:"euicc" json:"euicc"`
}

// Applet is the APDU template for a multi-IMSI applet. In the APDUs, {index}
// is replaced by the profile's index as one hex byte and {aid} by the AID.
// The driver always talks to the applet on a logical channel it opens by
// AID (AT+CCHO, or MANAGE CHANNEL and SELECT over AT+CSIM on modems without
// it), so there is no channel choice and no SELECT template.
type Applet struct {
	AID          HexBytes `yaml:"aid" json:"aid"`
	ActivateAPDU string   `yaml:"activate_apdu" json:"activate_apdu"`
	ExpectSW     []string `yaml:"expect_sw" json:"expect_sw"`
}

// EUICC configures eUICC profile enabling. The ISD-R is addressed by the
// AID GSMA SGP.22 fixes for every eUICC.
type EUICC struct {
	// Refresh asks the eUICC to REFRESH after enabling so the modem picks the
	// new identity up without a CFUN cycle.
	Refresh bool `yaml:"refresh" json:"refresh"`
}

// Profile is one IMSI profile the device may use.
type Profile struct {
	// Name is unique and is what operators type on the CLI.
	Name string `yaml:"name" json:"name"`

	// Index selects an applet IMSI (applet, optionally autonomous).
	Index *int `yaml:"index" json:"index,omitempty"`
	// Slot selects a physical SIM slot, 1-based (slot method).
	Slot *int `yaml:"slot" json:"slot,omitempty"`
	// ICCID selects the eUICC profile (euicc method); with other methods it is
	// the ICCID the card is expected to report.
	ICCID ICCID `yaml:"iccid" json:"iccid,omitempty"`
	// IMSIPrefix is what the IMSI must start with when this profile is active.
	IMSIPrefix IMSIPrefix `yaml:"imsi_prefix" json:"imsi_prefix,omitempty"`

	APN         string   `yaml:"apn" json:"apn"`
	APNUser     string   `yaml:"apn_user" json:"apn_user,omitempty"`
	APNPassword Secret   `yaml:"apn_password" json:"apn_password,omitempty"`
	APNAuth     AuthType `yaml:"apn_auth" json:"apn_auth"`
	PDPType     PDPType  `yaml:"pdp_type" json:"pdp_type"`

	// A PLMN is allowed if it is listed in PLMNs or its MCC is in MCCs.
	PLMNs []PLMN `yaml:"plmns" json:"plmns,omitempty"`
	MCCs  []MCC  `yaml:"mccs" json:"mccs,omitempty"`
	RATs  []RAT  `yaml:"rats" json:"rats"`
	// Roaming marks a profile that is meant to roam (multi-IMSI roaming
	// IMSIs), which softens the roaming-related threat scores.
	Roaming bool `yaml:"roaming" json:"roaming"`

	Cost Cost `yaml:"cost" json:"cost"`
	// DataCap is the plan's allowance per billing period; 0 means no cap.
	DataCap ByteSize `yaml:"data_cap" json:"data_cap"`
	// BillingDay is the day of the month (1-28) a billing period starts.
	BillingDay int `yaml:"billing_day" json:"billing_day"`
	// Priority orders otherwise equal profiles: lower is preferred.
	Priority int `yaml:"priority" json:"priority"`
}

// Cost is a profile's tariff.
type Cost struct {
	Currency     string `yaml:"currency" json:"currency,omitempty"`
	PerMB        Money  `yaml:"per_mb" json:"per_mb"`
	PerMonth     Money  `yaml:"per_month" json:"per_month"`
	RoamingPerMB Money  `yaml:"roaming_per_mb" json:"roaming_per_mb"`
}

// AllowsPLMN reports whether p is on the profile's allowlist.
func (p *Profile) AllowsPLMN(plmn PLMN) bool {
	for _, x := range p.PLMNs {
		if x == plmn {
			return true
		}
	}
	for _, m := range p.MCCs {
		if m == plmn.MCC() {
			return true
		}
	}
	return false
}

// AllowsRAT reports whether r is among the profile's allowed RATs.
func (p *Profile) AllowsRAT(r RAT) bool {
	for _, x := range p.RATs {
		if x == r {
			return true
		}
	}
	return false
}

// Profile returns the profile called name, or nil.
func (c *Config) Profile(name string) *Profile {
	for i := range c.Profiles {
		if c.Profiles[i].Name == name {
			return &c.Profiles[i]
		}
	}
	return nil
}

// Policy holds the switcher's knobs.
type Policy struct {
	Probes     Probes     `yaml:"probes" json:"probes"`
	Thresholds Thresholds `yaml:"thresholds" json:"thresholds"`
	// SignalPoll is how often signal and serving cell are queried.
	SignalPoll Duration `yaml:"signal_poll" json:"signal_poll"`
	// MinDwell is the least time on a profile before a soft trigger may
	// switch away. Hard triggers skip it.
	MinDwell  Duration  `yaml:"min_dwell" json:"min_dwell"`
	SwitchCap SwitchCap `yaml:"switch_cap" json:"switch_cap"`
	// VerifyDeadline bounds check→switch→verify; past it we roll back.
	VerifyDeadline Duration   `yaml:"verify_deadline" json:"verify_deadline"`
	Quarantine     Quarantine `yaml:"quarantine" json:"quarantine"`
	// AppletHoldoff is how long our own modem resets wait after an applet
	// may have started rotating, so we do not pre-empt its timer.
	AppletHoldoff Duration `yaml:"applet_holdoff" json:"applet_holdoff"`
	// NoServiceTrigger is how long without service makes a hard trigger.
	NoServiceTrigger Duration `yaml:"no_service_trigger" json:"no_service_trigger"`
	// FailBack checks, by scanning, whether a cheaper profile is back.
	FailBack FailBack `yaml:"fail_back" json:"fail_back"`
	// CriticalOverridesPin lets a Critical threat move off a pinned profile.
	CriticalOverridesPin bool    `yaml:"critical_overrides_pin" json:"critical_overrides_pin"`
	Site                 Site    `yaml:"site" json:"site"`
	Threats              Threats `yaml:"threats" json:"threats"`
}

// Probes are the data-path health checks.
type Probes struct {
	// HTTP URLs expected to answer 204 No Content.
	HTTP []string `yaml:"http" json:"http"`
	// ICMP hosts (IP or name) to ping.
	ICMP     []string `yaml:"icmp" json:"icmp"`
	Interval Duration `yaml:"interval" json:"interval"`
	Timeout  Duration `yaml:"timeout" json:"timeout"`
	// FailuresToDown consecutive failed rounds mark the data path dead.
	FailuresToDown int `yaml:"failures_to_down" json:"failures_to_down"`
	// Retry is the time between rounds once one has failed, until the
	// path is declared dead or a round passes: a suspected outage is
	// confirmed in seconds, not in FailuresToDown × Interval.
	Retry Duration `yaml:"retry" json:"retry"`
	// TrafficAware uses the modem's byte counters: a scheduled round is
	// skipped while data is being received (the traffic itself proves the
	// path, and the probe's bytes are saved), and a round runs at once
	// when a link that was receiving stops.
	TrafficAware bool `yaml:"traffic_aware" json:"traffic_aware"`
}

// FailBack is how a cheaper profile left behind is checked for return.
type FailBack struct {
	// ScanEvery is the time between network scans (+COPS=?) while a
	// cheaper profile waits, starting after min_dwell; 0 turns the scans
	// off (a cheaper profile then returns only on history and score).
	ScanEvery Duration `yaml:"scan_every" json:"scan_every"`
	// Max caps the interval, which doubles after each scan that does not
	// see the cheaper profile's network.
	Max Duration `yaml:"max" json:"max"`
}

// Thresholds are signal floors: below a floor a profile is degraded; a
// candidate must beat the current profile by Hysteresis to be preferred.
type Thresholds struct {
	RSRPFloor  DBm `yaml:"rsrp_floor" json:"rsrp_floor"`
	RSRPGood   DBm `yaml:"rsrp_good" json:"rsrp_good"`
	SINRFloor  DB  `yaml:"sinr_floor" json:"sinr_floor"`
	SINRGood   DB  `yaml:"sinr_good" json:"sinr_good"`
	RSSIFloor  DBm `yaml:"rssi_floor" json:"rssi_floor"`
	Hysteresis DB  `yaml:"hysteresis" json:"hysteresis"`
}

// SwitchCap bounds automatic and hard-triggered switches per window.
type SwitchCap struct {
	Max    int      `yaml:"max" json:"max"`
	Window Duration `yaml:"window" json:"window"`
}

// Quarantine TTLs: the first quarantine lasts Base, each repeat doubles it up
// to Max.
type Quarantine struct {
	Base Duration `yaml:"base" json:"base"`
	Max  Duration `yaml:"max" json:"max"`
}

// TTL returns the quarantine length for the n-th (1-based) consecutive
// quarantine of the same target.
func (q Quarantine) TTL(n int) Duration {
	d := q.Base
	for i := 1; i < n && d < q.Max; i++ {
		d *= 2
	}
	return min(d, q.Max)
}

// Site holds facts about where the gateway is.
type Site struct {
	Mobility   Mobility `yaml:"mobility" json:"mobility"`
	CountryMCC MCC      `yaml:"country_mcc" json:"country_mcc"`
	// BorderMCCs are neighbouring countries whose networks reach the site.
	BorderMCCs []MCC `yaml:"border_mccs" json:"border_mccs,omitempty"`
	// Regions name the fleet regions the site belongs to (a city, a store
	// group); a region-scoped upstream advisory applies when it names one.
	Regions      []string `yaml:"regions" json:"regions,omitempty"`
	Legacy2GLive bool     `yaml:"legacy_2g_live" json:"legacy_2g_live"`
	Legacy3GLive bool     `yaml:"legacy_3g_live" json:"legacy_3g_live"`
	// TimeZone is the IANA name billing periods are computed in; empty means
	// the system's local zone. The daemon loads it (time.LoadLocation).
	TimeZone string `yaml:"time_zone" json:"time_zone,omitempty"`
}

// Threats configures detector scoring and the individual detectors.
type Threats struct {
	Mode DetectorMode `yaml:"mode" json:"mode"`
	// Window is the scoring window; tiers compare the windowed score.
	Window  Duration `yaml:"window" json:"window"`
	Watch   float64  `yaml:"watch" json:"watch"`
	Suspect float64  `yaml:"suspect" json:"suspect"`
	Threat  float64  `yaml:"threat" json:"threat"`
	// SuppressAfterSwitch mutes D3, D9 and D10d after our own transitions.
	SuppressAfterSwitch Duration `yaml:"suppress_after_switch" json:"suppress_after_switch"`
	// AlertInterval rate-limits alerts per (detector, scope).
	AlertInterval Duration `yaml:"alert_interval" json:"alert_interval"`
	// BaselineLearning is the minimum time before the site baseline is used.
	BaselineLearning Duration `yaml:"baseline_learning" json:"baseline_learning"`
	// BaselineMinObservations is the minimum sample count, whichever is later.
	BaselineMinObservations int `yaml:"baseline_min_observations" json:"baseline_min_observations"`

	D1  D1Downgrade   `yaml:"d1_downgrade" json:"d1_downgrade"`
	D1b D1bRATLock    `yaml:"d1b_rat_lock" json:"d1b_rat_lock"`
	D2  D2PLMN        `yaml:"d2_plmn" json:"d2_plmn"`
	D3  D3Rejects     `yaml:"d3_rejects" json:"d3_rejects"`
	D4  D4CellID      `yaml:"d4_cell_identity" json:"d4_cell_identity"`
	D5  D5UnknownCell `yaml:"d5_unknown_cell" json:"d5_unknown_cell"`
	D6  D6Signal      `yaml:"d6_signal" json:"d6_signal"`
	D7  D7Neighbours  `yaml:"d7_neighbours" json:"d7_neighbours"`
	D8  D8Jamming     `yaml:"d8_jamming" json:"d8_jamming"`
	D9  D9Churn       `yaml:"d9_churn" json:"d9_churn"`
	D10 D10SIM        `yaml:"d10_sim" json:"d10_sim"`
}

// D1Downgrade detects a sudden fall from good LTE to 2G/3G.
type D1Downgrade struct {
	Enabled bool `yaml:"enabled" json:"enabled"`
	// Within is how soon after good LTE the legacy RAT must appear.
	Within   Duration `yaml:"within" json:"within"`
	GoodRSRP DBm      `yaml:"good_rsrp" json:"good_rsrp"`
	GoodSINR DB       `yaml:"good_sinr" json:"good_sinr"`
}

// D1bRATLock re-reads the modem's RAT lock.
type D1bRATLock struct {
	Enabled bool     `yaml:"enabled" json:"enabled"`
	Check   Duration `yaml:"check" json:"check"`
}

// D2PLMN checks the serving PLMN against the allowlist and the site MCC.
type D2PLMN struct {
	Enabled bool `yaml:"enabled" json:"enabled"`
	// MaxChangesPerHour PLMN changes while stationary before scoring.
	MaxChangesPerHour int `yaml:"max_changes_per_hour" json:"max_changes_per_hour"`
}

// D3Rejects scores registration reject causes.
type D3Rejects struct {
	Enabled bool `yaml:"enabled" json:"enabled"`
	// RecoveryBackoff waits before the CFUN 0/1 that clears "USIM invalid".
	RecoveryBackoff Duration `yaml:"recovery_backoff" json:"recovery_backoff"`
	MaxRecoveries   int      `yaml:"max_recoveries_per_day" json:"max_recoveries_per_day"`
}

// D4CellID detects a known cell identity reappearing with new parameters.
type D4CellID struct {
	Enabled bool `yaml:"enabled" json:"enabled"`
	Polls   int  `yaml:"polls" json:"polls"`
	// AcceptAfter learns a changed cell into the baseline if nothing else fires.
	AcceptAfter Duration `yaml:"accept_after" json:"accept_after"`
}

// D5UnknownCell scores cells missing from the baseline.
type D5UnknownCell struct {
	Enabled   bool     `yaml:"enabled" json:"enabled"`
	Transient Duration `yaml:"transient" json:"transient"`
	// ReturnWindow: a transient cell that is not back within it scores.
	ReturnWindow Duration `yaml:"return_window" json:"return_window"`
}

// D6Signal detects over-strong cells.
type D6Signal struct {
	Enabled           bool `yaml:"enabled" json:"enabled"`
	KnownCellDelta    DB   `yaml:"known_cell_delta" json:"known_cell_delta"`
	UnknownCellMargin DB   `yaml:"unknown_cell_margin" json:"unknown_cell_margin"`
	UnknownCellMax    DBm  `yaml:"unknown_cell_max" json:"unknown_cell_max"`
}

// D7Neighbours detects empty or inverted neighbour lists. The list is read
// with the serving cell at every signal poll.
type D7Neighbours struct {
	Enabled    bool `yaml:"enabled" json:"enabled"`
	EmptyPolls int  `yaml:"empty_polls" json:"empty_polls"`
	MinRSRP    DBm  `yaml:"min_rsrp" json:"min_rsrp"`
}

// D8Jamming detects RF denial; its response suspends switching.
type D8Jamming struct {
	Enabled     bool     `yaml:"enabled" json:"enabled"`
	URCHold     Duration `yaml:"urc_hold" json:"urc_hold"`
	MinRSRP     DBm      `yaml:"min_rsrp" json:"min_rsrp"`
	MaxSINR     DB       `yaml:"max_sinr" json:"max_sinr"`
	MaxRSRQ     DB       `yaml:"max_rsrq" json:"max_rsrq"`
	SINRDrop    DB       `yaml:"sinr_drop" json:"sinr_drop"`
	Polls       int      `yaml:"polls" json:"polls"`
	BlackoutFor Duration `yaml:"blackout_window" json:"blackout_window"`
}

// D9Churn detects attach/detach churn and capture-and-release.
type D9Churn struct {
	Enabled       bool     `yaml:"enabled" json:"enabled"`
	ShortCount    int      `yaml:"short_count" json:"short_count"`
	ShortWindow   Duration `yaml:"short_window" json:"short_window"`
	LongCount     int      `yaml:"long_count" json:"long_count"`
	LongWindow    Duration `yaml:"long_window" json:"long_window"`
	ReleaseWithin Duration `yaml:"release_within" json:"release_within"`
}

// D10SIM detects SIM, ICCID, IMSI and IMEI changes. The identity is read
// at every signal poll.
type D10SIM struct {
	Enabled bool `yaml:"enabled" json:"enabled"`
}

// API configures the local HTTP API.
type API struct {
	// Socket is the unix socket imsictl uses.
	Socket     string   `yaml:"socket" json:"socket"`
	SocketMode FileMode `yaml:"socket_mode" json:"socket_mode"`
	// Listen is an optional TCP address; a bare port or ":port" binds 127.0.0.1.
	Listen string `yaml:"listen" json:"listen,omitempty"`
	// TokenFile holds the bearer token TCP requests must present.
	TokenFile string `yaml:"token_file" json:"token_file,omitempty"`
	// TokenForReads requires the token for GETs on TCP as well (default);
	// false makes reads public and then needs Hosts.
	TokenForReads bool `yaml:"token_for_reads" json:"token_for_reads"`
	// Hosts are the Host header names the TCP listener answers.
	Hosts   []string `yaml:"hosts" json:"hosts,omitempty"`
	TLSCert string   `yaml:"tls_cert" json:"tls_cert,omitempty"`
	TLSKey  string   `yaml:"tls_key" json:"tls_key,omitempty"`
	// InsecurePlaintext allows a TCP listener on a non-loopback address
	// without TLS.
	InsecurePlaintext bool `yaml:"insecure_plaintext" json:"insecure_plaintext"`
}

// Upstream configures fleet reporting. An empty URL disables it.
type Upstream struct {
	URL  string       `yaml:"url" json:"url,omitempty"`
	Auth UpstreamAuth `yaml:"auth" json:"auth"`
	// DeviceID names this device to the fleet; empty: derived from the
	// machine id, else a random one kept in the state file.
	DeviceID  string `yaml:"device_id" json:"device_id,omitempty"`
	TokenFile string `yaml:"token_file" json:"token_file,omitempty"`
	HMACKey   string `yaml:"hmac_key_file" json:"hmac_key_file,omitempty"`
	CAFile    string `yaml:"ca_file" json:"ca_file,omitempty"`
	// HashIdentities sends IMSI/ICCID as salted hashes instead of in clear.
	HashIdentities bool   `yaml:"hash_identities" json:"hash_identities"`
	FleetSalt      Secret `yaml:"fleet_salt" json:"fleet_salt,omitempty"`
	BatchSize      int    `yaml:"batch_size" json:"batch_size"`
	// OutboxMax bounds the durable outbox; beyond it the oldest are dropped.
	OutboxMax int      `yaml:"outbox_max" json:"outbox_max"`
	Heartbeat Duration `yaml:"heartbeat" json:"heartbeat"`
	Timeout   Duration `yaml:"timeout" json:"timeout"`
	// AdvisoryKey verifies signed advisories; empty (and no AdvisoryKeys)
	// ignores advisories.
	AdvisoryKey PublicKey `yaml:"advisory_key" json:"advisory_key,omitempty"`
	// AdvisoryKeys are further keys, each with the id an envelope names in
	// "kid": a rotation adds the next key before the fleet signs with it
	// and drops the old one after, so stored advisories are not shed.
	AdvisoryKeys []AdvisoryKey `yaml:"advisory_keys" json:"advisory_keys,omitempty"`
	AdvisoryPoll Duration      `yaml:"advisory_poll" json:"advisory_poll"`
}

// Log configures slog.
type Log struct {
	Format LogFormat  `yaml:"format" json:"format"`
	Level  slog.Level `yaml:"level" json:"level"`
	// Output is where lines go and how their priority travels.
	Output LogOutput `yaml:"output" json:"output"`
}

// AdvisoryKey is one named advisory verification key.
type AdvisoryKey struct {
	ID  string    `yaml:"id" json:"id"`
	Key PublicKey `yaml:"key" json:"key"`
}
