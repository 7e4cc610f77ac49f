package simulator

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/imsid/imsid/simulator/sim"
)

// Scenario is one simulated world: the modem model, its SIM(s), the
// networks around it, the timing model and a timeline of events.
type Scenario struct {
	// Name is the file the scenario came from (for messages); not in YAML.
	Name     string          `yaml:"-"`
	Dialect  string          `yaml:"dialect"`  // default quectel-eg25
	Identity Identity        `yaml:"identity"` // overrides the dialect's
	SIM      *sim.CardConfig `yaml:"sim"`      // slot 1; absent = no card
	SIM2     *sim.CardConfig `yaml:"sim2"`     // slot 2
	Slot     int             `yaml:"slot"`     // active slot, 1 (default) or 2
	APN      string          `yaml:"apn"`      // CGDCONT cid 1 at first boot
	Networks []NetworkConfig `yaml:"networks"`
	Timing   Timing          `yaml:"timing"`
	Timeline []Event         `yaml:"timeline"`
	Seed     int64           `yaml:"seed"` // faults' random stream
	Quirks   Quirks          `yaml:"quirks"`

	validated bool
}

// Quirks are optional misbehaviours of the modem firmware.
type Quirks struct {
	// IgnoreRefresh: the modem does not act on the card's REFRESH; +CIMI
	// and registration keep the old IMSI until a CFUN cycle or reset while
	// +CRSM already reads the new EF_IMSI.
	IgnoreRefresh bool `yaml:"ignore_refresh"`
	// ChannelTestError: AT+CCHO=? and AT+CGLA=? answer ERROR although the
	// commands work (EM05-G, FG132-GL).
	ChannelTestError bool `yaml:"channel_test_error"`
	// NoCCHC: the firmware lacks +CCHC (EM9191): channels stay open.
	NoCCHC bool `yaml:"no_cchc"`
	// CFUN0DropsPort: AT+CFUN=0 answers OK and the port goes away for
	// timing.port_down (openpilot's mici hardware).
	CFUN0DropsPort bool `yaml:"cfun0_drops_port"`
}

// Identity overrides what +CGMI/+CGMM/+CGMR/+CGSN/ATI report.
type Identity struct {
	Manufacturer string `yaml:"manufacturer"`
	Model        string `yaml:"model"`
	Revision     string `yaml:"revision"`
	IMEI         string `yaml:"imei"`
}

// NetworkConfig is one PLMN and the cell the modem hears of it.
type NetworkConfig struct {
	PLMN  string `yaml:"plmn"`  // MCC+MNC, 5 or 6 digits
	Name  string `yaml:"name"`  // long name (COPS format 0)
	Short string `yaml:"short"` // short name (COPS format 1)
	// Cells: the first is the serving cell; a cell event replaces it.
	Cells  []CellConfig `yaml:"cells"`
	Signal SignalConfig `yaml:"signal"`
	// Access decides what an attach gets, last matching rule wins; with no
	// match an IMSI starting with PLMN is home, any other is rejected with 11.
	Access  []AccessRule `yaml:"access"`
	Data    string       `yaml:"data"` // "up" (default) or "down": core outage from the start
	Down    bool         `yaml:"down"` // carrier outage from the start
	Traffic Traffic      `yaml:"traffic"`
}

// CellConfig is one cell. TAC is the LAC on GSM/WCDMA, EARFCN the
// (U)ARFCN, PCI the BSIC/PSC.
type CellConfig struct {
	RAT        string      `yaml:"rat"` // LTE, WCDMA or GSM
	TAC        Hex         `yaml:"tac"`
	CI         Hex         `yaml:"ci"`
	EARFCN     int         `yaml:"earfcn"`
	PCI        int         `yaml:"pci"`
	Band       int         `yaml:"band"`
	Neighbours []Neighbour `yaml:"neighbours"`
}

// Neighbour is a neighbour cell as +QENG="neighbourcell" lists it.
type Neighbour struct {
	EARFCN int     `yaml:"earfcn"` // 0 = same as serving (intra)
	PCI    int     `yaml:"pci"`
	RSRP   float64 `yaml:"rsrp"`
	RSRQ   float64 `yaml:"rsrq"`
}

// SignalConfig sets radio values; unset fields keep their current value.
type SignalConfig struct {
	RSRP *float64 `yaml:"rsrp"` // dBm (RSCP on WCDMA)
	RSRQ *float64 `yaml:"rsrq"` // dB
	SINR *float64 `yaml:"sinr"` // dB
	RSSI *float64 `yaml:"rssi"` // dBm
}

func (s SignalConfig) radio(base Radio) Radio {
	if s.RSRP != nil {
		base.RSRP = *s.RSRP
	}
	if s.RSRQ != nil {
		base.RSRQ = *s.RSRQ
	}
	if s.SINR != nil {
		base.SINR = *s.SINR
	}
	if s.RSSI != nil {
		base.RSSI = *s.RSSI
	}
	return base
}

// AccessRule is one line of a network's acceptance matrix.
type AccessRule struct {
	IMSI   string `yaml:"imsi"`   // exact, prefix ending in "*", or "*"
	Result string `yaml:"result"` // home, roaming or reject
	Cause  int    `yaml:"cause"`  // EMM cause for reject (default 11)
}

// Traffic is the data rate while a PDP context is up and the core works.
type Traffic struct {
	TxBps float64 `yaml:"tx_bps"` // bytes per second
	RxBps float64 `yaml:"rx_bps"`
}

// Timing is the timing model, in scenario time.
type Timing struct {
	Latency      time.Duration            `yaml:"latency"`       // every command (default 0)
	Jitter       time.Duration            `yaml:"jitter"`        // plus a seeded random 0..jitter on every command
	Commands     map[string]time.Duration `yaml:"commands"`      // per command: "+COPS=?", "+CGACT=", "+CSQ"
	AttachDelay  time.Duration            `yaml:"attach_delay"`  // SIM ready → registered (default 5s)
	RefreshDelay time.Duration            `yaml:"refresh_delay"` // SIM busy window (default 2s)
	// AttachDelayMax and RefreshDelayMax, when above their base, make each
	// attach (refresh) draw its delay uniformly from [base, max], from a
	// stream seeded by the scenario's seed (0: fixed delays, as before).
	AttachDelayMax  time.Duration `yaml:"attach_delay_max"`
	RefreshDelayMax time.Duration `yaml:"refresh_delay_max"`
	// PLMNSearch is a full network search some modems run on the first
	// attach after the IMSI changed: with Probability it adds a delay
	// drawn from [Min, Max] to that attach.
	PLMNSearch  PLMNSearch    `yaml:"plmn_search"`
	COPSScan    time.Duration `yaml:"cops_scan"`     // COPS=? (default 30s)
	PDPActivate time.Duration `yaml:"pdp_activate"`  // CGACT= (default 1s)
	CFUN        time.Duration `yaml:"cfun"`          // CFUN= (default 500ms)
	PortDown    time.Duration `yaml:"port_down"`     // port gone after CFUN=1,1 (default 10s)
	BootOnStart bool          `yaml:"boot_on_start"` // run the boot URC chain at New
}

// PLMNSearch is the occasional full PLMN search after an IMSI change.
type PLMNSearch struct {
	Probability float64       `yaml:"probability"` // 0..1 per IMSI change
	Min         time.Duration `yaml:"min"`
	Max         time.Duration `yaml:"max"`
}

// Event is one timeline entry; which fields apply depends on Kind (see
// docs/simulator.md).
type Event struct {
	At       time.Duration   `yaml:"at"`
	Kind     string          `yaml:"event"`
	Network  string          `yaml:"network"` // PLMN
	Signal   *SignalConfig   `yaml:"signal"`
	Over     time.Duration   `yaml:"over"`     // signal: ramp time
	Duration time.Duration   `yaml:"duration"` // outage, core_outage, cell, jamming: revert after
	IMSI     string          `yaml:"imsi"`     // reject/accept: which IMSIs (default all)
	Result   string          `yaml:"result"`   // accept: home or roaming
	Cause    int             `yaml:"cause"`    // reject
	Cell     *CellConfig     `yaml:"cell"`
	SINR     *float64        `yaml:"sinr"` // jamming: SINR everywhere (default -15)
	Slot     int             `yaml:"slot"` // slot, sim_swap: 1 or 2
	SIM      *sim.CardConfig `yaml:"sim"`  // sim_swap: the new card (absent: removed)
	Index    int             `yaml:"index"`
	ICCID    string          `yaml:"iccid"`
	Refresh  string          `yaml:"refresh"` // refresh: uicc_reset (default) or naa_init
	Fault    *FaultConfig    `yaml:"fault"`
	Lines    []string        `yaml:"lines"` // urc
	Traffic  *Traffic        `yaml:"traffic"`
}

// FaultConfig is a fault in YAML.
type FaultConfig struct {
	Kind  string        `yaml:"kind"`
	Count int           `yaml:"count"`
	Delay time.Duration `yaml:"delay"`
	Seed  int64         `yaml:"seed"`
}

// Hex is a number written in hex in YAML ("1A2B") or as a plain integer.
type Hex uint64

// UnmarshalYAML reads "1A2B", "0x1A2B" or 6699.
func (h *Hex) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("want a hex string or an integer")
	}
	s := n.Value
	base := 10
	if n.Tag == "!!str" || strings.HasPrefix(strings.ToLower(s), "0x") {
		s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
		base = 16
	}
	v, err := strconv.ParseUint(s, base, 40)
	if err != nil {
		return fmt.Errorf("%q is not a hex number", n.Value)
	}
	*h = Hex(v)
	return nil
}

// LoadScenario reads and validates a scenario file. Errors read
// "file.yaml:12: networks[1].plmn: ...".
func LoadScenario(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("simulator: scenario: %w", err)
	}
	return ParseScenario(filepath.Base(path), data)
}

// ScenarioError is a problem at a place in a scenario file.
type ScenarioError struct {
	File  string
	Line  int
	Field string // e.g. "networks[1].plmn"
	Msg   string
}

func (e *ScenarioError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Field, e.Msg)
}

// ParseScenario decodes and validates a scenario; name labels errors.
func ParseScenario(name string, data []byte) (*Scenario, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		line := 0
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		return nil, &ScenarioError{File: name, Line: line, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	sc := &Scenario{Name: name}
	d := &decoder{file: name, pos: map[string]int{}}
	if len(root.Content) == 0 {
		return nil, &ScenarioError{File: name, Line: 1, Msg: "empty scenario"}
	}
	if err := d.decode(root.Content[0], reflect.ValueOf(sc).Elem(), ""); err != nil {
		return nil, err
	}
	if err := sc.validate(d); err != nil {
		return nil, err
	}
	sc.validated = true
	return sc, nil
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// decoder walks the YAML tree against the Go types so every unknown key
// and bad value is reported with its line and its path.
type decoder struct {
	file string
	pos  map[string]int // field path -> line
}

var (
	durationType    = reflect.TypeOf(time.Duration(0))
	unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
)

func (d *decoder) errAt(n *yaml.Node, path, format string, args ...any) error {
	return &ScenarioError{File: d.file, Line: n.Line, Field: path, Msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) error {
	d.pos[path] = n.Line
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if v.Kind() == reflect.Pointer {
		if n.Tag == "!!null" {
			return nil
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return d.decode(n, v.Elem(), path)
	}
	if reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		if err := n.Decode(v.Addr().Interface()); err != nil {
			return d.errAt(n, path, "%s", cleanYAMLErr(err))
		}
		return nil
	}
	switch {
	case v.Type() == durationType:
		if n.Kind != yaml.ScalarNode {
			return d.errAt(n, path, "want a duration such as 30s or 2m")
		}
		if n.Value == "0" {
			v.SetInt(0)
			return nil
		}
		dur, err := time.ParseDuration(n.Value)
		if err != nil || dur < 0 {
			return d.errAt(n, path, "%q is not a duration such as 30s or 2m", n.Value)
		}
		v.SetInt(int64(dur))
		return nil
	case v.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return d.errAt(n, path, "want a mapping")
		}
		fields := map[string]int{}
		for i := 0; i < v.NumField(); i++ {
			tag := strings.Split(v.Type().Field(i).Tag.Get("yaml"), ",")[0]
			if tag != "" && tag != "-" {
				fields[tag] = i
			}
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			fp := join(path, k.Value)
			idx, ok := fields[k.Value]
			if !ok {
				return d.errAt(k, fp, "unknown key")
			}
			if seen[k.Value] {
				return d.errAt(k, fp, "key given twice")
			}
			seen[k.Value] = true
			if err := d.decode(val, v.Field(idx), fp); err != nil {
				return err
			}
		}
		return nil
	case v.Kind() == reflect.Slice:
		if n.Tag == "!!null" {
			return nil
		}
		if n.Kind != yaml.SequenceNode {
			return d.errAt(n, path, "want a list")
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, e := range n.Content {
			if err := d.decode(e, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case v.Kind() == reflect.Map:
		if n.Tag == "!!null" {
			return nil
		}
		if n.Kind != yaml.MappingNode {
			return d.errAt(n, path, "want a mapping")
		}
		mp := reflect.MakeMap(v.Type())
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			kv := reflect.New(v.Type().Key()).Elem()
			if err := d.decode(k, kv, path); err != nil {
				return err
			}
			ev := reflect.New(v.Type().Elem()).Elem()
			if err := d.decode(val, ev, join(path, k.Value)); err != nil {
				return err
			}
			mp.SetMapIndex(kv, ev)
		}
		v.Set(mp)
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return d.errAt(n, path, "want a single value")
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		return d.errAt(n, path, "%s", cleanYAMLErr(err))
	}
	return nil
}

func cleanYAMLErr(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "yaml: unmarshal errors:\n")
	s = strings.TrimSpace(s)
	s = regexp.MustCompile(`^line \d+: `).ReplaceAllString(s, "")
	return s
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// validate checks values and fills defaults.
func (sc *Scenario) validate(d *decoder) error {
	bad := func(path, format string, args ...any) error {
		line := d.pos[path]
		for p := path; line == 0 && p != ""; {
			if i := strings.LastIndexAny(p, ".["); i >= 0 {
				p = p[:i]
			} else {
				p = ""
			}
			line = d.pos[p]
		}
		return &ScenarioError{File: d.file, Line: max(line, 1), Field: path, Msg: fmt.Sprintf(format, args...)}
	}
	if _, ok := lookupDialect(sc.Dialect); !ok {
		return bad("dialect", "unknown dialect %q (have %s)", sc.Dialect, strings.Join(Dialects(), ", "))
	}
	if sc.Dialect == "" {
		sc.Dialect = "quectel-eg25"
	}
	switch sc.Slot {
	case 0:
		sc.Slot = 1
	case 1, 2:
	default:
		return bad("slot", "must be 1 or 2, got %d", sc.Slot)
	}
	for i, cfg := range []*sim.CardConfig{sc.SIM, sc.SIM2} {
		if cfg == nil {
			continue
		}
		if err := checkCard(*cfg); err != nil {
			return bad(simField(i, err), "%s", simReason(err))
		}
	}
	plmns := map[string]bool{}
	for i := range sc.Networks {
		n := &sc.Networks[i]
		p := fmt.Sprintf("networks[%d]", i)
		if !isDigits(n.PLMN) || (len(n.PLMN) != 5 && len(n.PLMN) != 6) {
			return bad(p+".plmn", "want 5 or 6 digits (MCC+MNC), got %q", n.PLMN)
		}
		if plmns[n.PLMN] {
			return bad(p+".plmn", "PLMN %s listed twice", n.PLMN)
		}
		plmns[n.PLMN] = true
		if n.Name == "" {
			n.Name = n.PLMN
		}
		if n.Short == "" {
			n.Short = n.Name
		}
		if len(n.Cells) == 0 {
			return bad(p+".cells", "at least one cell is needed")
		}
		for j := range n.Cells {
			if err := checkCell(&n.Cells[j]); err != nil {
				return bad(fmt.Sprintf("%s.cells[%d].%s", p, j, err.field), "%s", err.msg)
			}
		}
		for j, a := range n.Access {
			ap := fmt.Sprintf("%s.access[%d]", p, j)
			switch a.Result {
			case "home", "roaming":
			case "reject":
				if a.Cause < 0 || a.Cause > 255 {
					return bad(ap+".cause", "must be 0-255")
				}
			default:
				return bad(ap+".result", "want home, roaming or reject, got %q", a.Result)
			}
			if a.IMSI != "" && a.IMSI != "*" && !isDigits(strings.TrimSuffix(a.IMSI, "*")) {
				return bad(ap+".imsi", "want digits, a prefix ending in *, or *")
			}
		}
		switch n.Data {
		case "", "up", "down":
		default:
			return bad(p+".data", "want up or down, got %q", n.Data)
		}
		if n.Traffic.TxBps < 0 || n.Traffic.RxBps < 0 {
			return bad(p+".traffic", "rates must not be negative")
		}
	}
	t := &sc.Timing
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&t.AttachDelay, 5*time.Second)
	def(&t.RefreshDelay, 2*time.Second)
	def(&t.COPSScan, 30*time.Second)
	def(&t.PDPActivate, time.Second)
	def(&t.CFUN, 500*time.Millisecond)
	def(&t.PortDown, 10*time.Second)
	if t.AttachDelayMax != 0 && t.AttachDelayMax < t.AttachDelay {
		return bad("timing.attach_delay_max", "%s is below attach_delay (%s)", t.AttachDelayMax, t.AttachDelay)
	}
	if t.RefreshDelayMax != 0 && t.RefreshDelayMax < t.RefreshDelay {
		return bad("timing.refresh_delay_max", "%s is below refresh_delay (%s)", t.RefreshDelayMax, t.RefreshDelay)
	}
	if ps := t.PLMNSearch; ps.Probability < 0 || ps.Probability > 1 {
		return bad("timing.plmn_search.probability", "want 0..1, got %g", ps.Probability)
	} else if ps.Min < 0 || ps.Max < ps.Min {
		return bad("timing.plmn_search", "want 0 <= min <= max, got %s..%s", ps.Min, ps.Max)
	}
	if len(t.Commands) > 0 {
		norm := map[string]time.Duration{}
		for k, v := range t.Commands {
			key := strings.ToUpper(strings.TrimPrefix(strings.TrimPrefix(k, "AT"), "at"))
			if key == "" {
				return bad("timing.commands."+k, "empty command name")
			}
			norm[key] = v
		}
		t.Commands = norm
	}
	for i := range sc.Timeline {
		if err := sc.checkEvent(&sc.Timeline[i], fmt.Sprintf("timeline[%d]", i), plmns, bad); err != nil {
			return err
		}
	}
	return nil
}

type fieldErr struct{ field, msg string }

func checkCell(c *CellConfig) *fieldErr {
	c.RAT = strings.ToUpper(c.RAT)
	switch RAT(c.RAT) {
	case RATLTE, RATGSM, RATWCDMA:
	case "UMTS":
		c.RAT = string(RATWCDMA)
	case "":
		return &fieldErr{"rat", "missing (LTE, WCDMA or GSM)"}
	default:
		return &fieldErr{"rat", fmt.Sprintf("want LTE, WCDMA or GSM, got %q", c.RAT)}
	}
	if c.CI == 0 {
		return &fieldErr{"ci", "missing cell identity"}
	}
	if c.CI > 0xFFFFFFF {
		return &fieldErr{"ci", "more than 28 bits"}
	}
	if c.TAC > 0xFFFF {
		return &fieldErr{"tac", "more than 16 bits"}
	}
	return nil
}

// checkCard builds the card once to validate its config.
func checkCard(cfg sim.CardConfig) error {
	_, err := sim.NewCard(cfg)
	return err
}

func simField(slot int, err error) string {
	base := "sim"
	if slot == 1 {
		base = "sim2"
	}
	var ce *sim.ConfigError
	if errors.As(err, &ce) && ce.Field != "" {
		return base + "." + ce.Field
	}
	return base
}

func simReason(err error) string {
	var ce *sim.ConfigError
	if errors.As(err, &ce) {
		return ce.Reason
	}
	return err.Error()
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// Event kinds.
var eventKinds = []string{
	"signal", "outage", "restore", "core_outage", "core_restore", "reject", "accept",
	"cell", "jamming", "jamming_end", "sim_swap", "switch_imsi", "enable_profile",
	"slot", "refresh", "fault", "urc", "reset", "traffic",
}

func (sc *Scenario) checkEvent(ev *Event, p string, plmns map[string]bool, bad func(string, string, ...any) error) error {
	known := false
	for _, k := range eventKinds {
		known = known || k == ev.Kind
	}
	if !known {
		return bad(p+".event", "unknown event %q (have %s)", ev.Kind, strings.Join(eventKinds, ", "))
	}
	needNet := map[string]bool{"signal": true, "outage": true, "restore": true, "core_outage": true,
		"core_restore": true, "reject": true, "accept": true, "cell": true, "traffic": true}
	if needNet[ev.Kind] {
		if ev.Network == "" {
			return bad(p+".network", "event %s needs a network (PLMN)", ev.Kind)
		}
		if !plmns[ev.Network] {
			return bad(p+".network", "no network with PLMN %q", ev.Network)
		}
	}
	switch ev.Kind {
	case "signal":
		if ev.Signal == nil {
			return bad(p+".signal", "missing")
		}
	case "accept":
		if ev.Result != "home" && ev.Result != "roaming" {
			return bad(p+".result", "want home or roaming, got %q", ev.Result)
		}
	case "reject":
		if ev.Cause < 0 || ev.Cause > 255 {
			return bad(p+".cause", "must be 0-255")
		}
	case "cell":
		if ev.Cell == nil {
			return bad(p+".cell", "missing")
		}
		if err := checkCell(ev.Cell); err != nil {
			return bad(p+".cell."+err.field, "%s", err.msg)
		}
	case "sim_swap", "slot":
		if ev.Slot == 0 {
			ev.Slot = sc.Slot
		}
		if ev.Slot != 1 && ev.Slot != 2 {
			return bad(p+".slot", "must be 1 or 2, got %d", ev.Slot)
		}
		if ev.SIM != nil {
			if err := checkCard(*ev.SIM); err != nil {
				var ce *sim.ConfigError
				f := p + ".sim"
				if errors.As(err, &ce) && ce.Field != "" {
					f += "." + ce.Field
				}
				return bad(f, "%s", simReason(err))
			}
		}
	case "switch_imsi":
		if ev.Index < 0 {
			return bad(p+".index", "must not be negative")
		}
	case "enable_profile":
		if ev.ICCID == "" {
			return bad(p+".iccid", "missing")
		}
	case "refresh":
		switch ev.Refresh {
		case "", "uicc_reset", "naa_init":
		default:
			return bad(p+".refresh", "want uicc_reset or naa_init, got %q", ev.Refresh)
		}
	case "fault":
		if ev.Fault == nil {
			return bad(p+".fault", "missing")
		}
		if _, err := ParseFaultKind(ev.Fault.Kind); err != nil {
			return bad(p+".fault.kind", "unknown fault %q", ev.Fault.Kind)
		}
		if ev.Fault.Count < 0 {
			return bad(p+".fault.count", "must not be negative")
		}
	case "urc":
		if len(ev.Lines) == 0 {
			return bad(p+".lines", "missing")
		}
		for i, l := range ev.Lines {
			if strings.ContainsAny(l, "\r\n") {
				return bad(fmt.Sprintf("%s.lines[%d]", p, i), "must not contain CR or LF")
			}
		}
	case "traffic":
		if ev.Traffic == nil {
			return bad(p+".traffic", "missing")
		}
	}
	return nil
}

// ParseEvent decodes one timeline event, e.g. `{event: outage, network:
// "26201", duration: 2m}`, for the control socket. Unknown keys are errors;
// RunEvent checks the rest against the modem's networks.
func ParseEvent(name string, data []byte) (Event, error) {
	var root yaml.Node
	var ev Event
	if err := yaml.Unmarshal(data, &root); err != nil {
		return ev, &ScenarioError{File: name, Line: 1, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if len(root.Content) == 0 {
		return ev, &ScenarioError{File: name, Line: 1, Msg: "empty event"}
	}
	d := &decoder{file: name, pos: map[string]int{}}
	if err := d.decode(root.Content[0], reflect.ValueOf(&ev).Elem(), "event"); err != nil {
		return ev, err
	}
	return ev, nil
}
