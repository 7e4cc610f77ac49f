package modem

import (
	"context"
	"strings"
)

// vendor is what the driver knows about one modem family beyond 3GPP TS
// 27.007, as data: how to recognise it, what it answers that 27.007 does
// not define, and the vendor commands (with their parsers) that read what
// the standard ones cannot. Each family lives in its own vendor_<name>.go,
// which registers it from init; adding a family touches that one file and
// its transcripts (testdata/transcripts/<family>_*.txt).
//
// Any hook may be nil: the query then falls back to the generic 27.007
// command, or reports ErrNotSupported where there is none.
type vendor struct {
	dialect Dialect
	// aliases are further names ParseDialect accepts, normalised (lower
	// case, no "-", "_" or space): "simtech", "sierrawireless".
	aliases []string
	// manufacturers are substrings of the manufacturer (+CGMI/+GMI, ATI,
	// +SIMCOMATI) or of the model that name the family ("simcom" in
	// "SIMCOM_SIM7000G"); models are model prefixes for firmware that
	// answers the manufacturer with something unhelpful, or not at all.
	manufacturers []string
	models        []string
	// finalResults are final result codes of the family's own that end a
	// command with an error (Huawei "COMMAND NOT SUPPORT"). Every
	// registered family's are recognised whatever the dialect, since the
	// dialect is not known yet while the identity is read.
	finalResults []string
	// identity are extra identity reads tried (after +CGMx/+GMx and ATI)
	// while the manufacturer, model or IMEI is still missing; their
	// answer is parsed like ATI ("Manufacturer: ...", "IMEI: ...").
	identity []string
	// startup are the URC settings sent after the engine's own start-up
	// commands. None may reset the modem, touch the radio or change a
	// persistent setting that alters behaviour after a reboot.
	startup []string
	// iccid are the family's ICCID reads, tried before the generic ones.
	iccid []cmdSpec
	// signal adds what the family's own signal or serving-cell command
	// knows beyond +CESQ/+CSQ (SINR above all).
	signal func(context.Context, querier) (Signal, error)
	// servingCell reads the serving cell and, where the command lists
	// them, the neighbours.
	servingCell func(context.Context, querier) (ServingCell, []Neighbour, error)
	// counters reads the modem's byte counters.
	counters func(context.Context, querier) (DataCounters, error)
	// ratLock and setRATLock read and write the technology lock; nil uses
	// 27.007 +WS46.
	ratLock    func(context.Context, querier) (RATMode, error)
	setRATLock func(context.Context, querier, RATMode) error
	// simSlot, setSIMSlot and rejectCauses exist on few families.
	simSlot      func(context.Context, querier) (int, error)
	setSIMSlot   func(context.Context, querier, int) error
	rejectCauses func(context.Context, querier) (map[string]int, error)
	// dataCall is the family's data-call command for modems in
	// ECM/RNDIS/NCM (or RmNet-over-AT) mode, without the "AT" prefix: up
	// binds context cid to the host interface, !up releases it. nil: the
	// family has none (PDP activation is all there is).
	dataCall func(cid int, up bool) string
}

// registry holds every registered family, in registration order.
var registry []*vendor

// genericVendor is the 27.007-only modem: no hook set.
var genericVendor = &vendor{dialect: DialectGeneric, aliases: []string{"3gpp", "27007"}}

// register adds a family; vendor files call it from init.
func register(v *vendor) {
	for _, w := range registry {
		if w.dialect == v.dialect {
			panic("modem: dialect registered twice: " + string(v.dialect))
		}
	}
	registry = append(registry, v)
	Dialects = append(Dialects, v.dialect)
}

// vendorOf returns the registered family of d (genericVendor if none).
func vendorOf(d Dialect) *vendor {
	for _, v := range registry {
		if v.dialect == d {
			return v
		}
	}
	return genericVendor
}

// vendorFinalResult reports whether line is a family's own error final
// result code. Part of the single classification of final results
// (classifyFinal); nothing else matches these texts.
func vendorFinalResult(line string) bool {
	for _, v := range registry {
		for _, r := range v.finalResults {
			if line == r || strings.HasPrefix(line, r) {
				return true
			}
		}
	}
	return false
}
