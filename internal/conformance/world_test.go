package conformance

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/simulator"
)

// simDialects are every dialect the simulator offers, with the identity the
// scenario gives each (ground truth for Identity) and the driver dialect
// that identity must be detected as.
var simDialects = []struct {
	name         string
	manufacturer string
	model        string
	revision     string
	want         modem.Dialect
}{
	{"quectel-eg25", "Quectel", "EG25", "EG25GGBR07A08M2G", modem.DialectQuectel},
	{"quectel-ec25", "Quectel", "EC25", "EC25EFAR06A06M4G", modem.DialectQuectel},
	{"simcom-sim7600", "SIMCOM INCORPORATED", "SIMCOM_SIM7600G-H", "LE20B04SIM7600G22", modem.DialectSIMCom},
	{"telit-le910", "Telit", "LE910C4-EU", "25.21.660", modem.DialectTelit},
	{"generic", "Acme Wireless", "AW-100", "1.0.7", modem.DialectGeneric},
}

const testIMEI = "866834040000017"

// cell is the serving cell of the home network in a world: its RAT and
// the radio values the simulator measures on it (dBm / dB; RSRP and RSRQ
// are RSCP and Ec/Io on WCDMA).
type cell struct {
	name                   string
	rat                    string
	rsrp, rsrq, sinr, rssi float64
	tac, ci                uint64
	earfcn, pci, band      int
	iccid                  string
	down                   bool // no coverage at all: every value unknown
	denied                 bool // the home network is down: denied (cause 11) on the strongest foreign one
}

// cells spans the radio ranges, edges included: CSQ's −113/−51 clamps,
// CESQ's RSRP 0/97 and RSRQ 0/34 ends, QCSQ's SINR raw 0..250, GSM and
// WCDMA, and no service (99/255 unknowns).
var cells = []cell{
	{name: "lte-mid", rat: "LTE", rsrp: -88, rsrq: -9, sinr: 15, rssi: -60, tac: 0xDE10, ci: 0x5A29C0B, earfcn: 1650, pci: 12, band: 3, iccid: "89490200001234567890"},
	{name: "lte-strong-edge", rat: "LTE", rsrp: -44, rsrq: -3, sinr: 30, rssi: -45, tac: 0xFFFE, ci: 0xFFFFFFE, earfcn: 6300, pci: 503, band: 20, iccid: "8949020000123456789"},
	{name: "lte-weak-edge", rat: "LTE", rsrp: -124, rsrq: -19.5, sinr: -10, rssi: -118, tac: 0x1, ci: 0x1, earfcn: 0, pci: 0, band: 1, iccid: "8949020000123456789"},
	{name: "lte-half-db", rat: "LTE", rsrp: -101, rsrq: -10.5, sinr: 2.4, rssi: -75, tac: 0x3AFD, ci: 0x1452808, earfcn: 5035, pci: 315, band: 12, iccid: "89014103211118510720"},
	{name: "wcdma", rat: "WCDMA", rsrp: -95, rsrq: -8.5, sinr: 5, rssi: -71, tac: 0x1F4, ci: 0x2A3B4C, earfcn: 10838, pci: 300, band: 2100, iccid: "89490200001234567890"},
	{name: "gsm", rat: "GSM", rsrp: -90, rsrq: -10, sinr: 5, rssi: -77, tac: 0x7D1, ci: 0x4E2F, earfcn: 62, pci: 33, band: 900, iccid: "89490200001234567890"},
	{name: "denied", rat: "LTE", rsrp: -88, rsrq: -9, sinr: 15, rssi: -60, tac: 0xDE10, ci: 0x5A29C0B, earfcn: 1650, pci: 12, band: 3, iccid: "89490200001234567890", denied: true},
	{name: "no-service", rat: "LTE", rsrp: -88, rsrq: -9, sinr: 15, rssi: -60, tac: 0xDE10, ci: 0x5A29C0B, earfcn: 1650, pci: 12, band: 3, iccid: "89490200001234567890", down: true},
}

// worldYAML is the scenario for one dialect and one home cell: the
// applet SIM of basic.yaml (three IMSIs), its home network 26201 on the
// given cell with two LTE neighbours, and two foreign networks so that a
// scan has something to list.
func worldYAML(d string, c cell, extra string) string {
	var id string
	for _, sd := range simDialects {
		if sd.name == d {
			id = fmt.Sprintf("identity: {manufacturer: %q, model: %q, revision: %q, imei: %q}\n",
				sd.manufacturer, sd.model, sd.revision, testIMEI)
		}
	}
	nb := ""
	if c.rat == "LTE" {
		nb = fmt.Sprintf(`, neighbours: [{pci: 276, rsrp: -97, rsrq: -11}, {earfcn: %d, pci: 41, rsrp: -104, rsrq: -13}]`, c.earfcn+100)
	}
	return strings.NewReplacer(
		"$DIALECT", d, "${IDENTITY}", id, "$ICCID", strconv.Quote(c.iccid),
		"$HOMEDOWN", strconv.FormatBool(c.down || c.denied), "$DOWN", strconv.FormatBool(c.down),
		"$SIGNAL", fmt.Sprintf("{rsrp: %g, rsrq: %g, sinr: %g, rssi: %g}", c.rsrp, c.rsrq, c.sinr, c.rssi),
		"$CELL", fmt.Sprintf("{rat: %s, tac: %d, ci: %d, earfcn: %d, pci: %d, band: %d%s}", c.rat, c.tac, c.ci, c.earfcn, c.pci, c.band, nb),
		"$EXTRA", extra,
	).Replace(`dialect: $DIALECT
${IDENTITY}apn: internet
sim:
  iccid: $ICCID
  active_imsi: 0
  imsis:
    - {imsi: "262011234567890", spn: "Telekom.de"}
    - {imsi: "234150999999999", spn: "vodafone UK"}
    - {imsi: "310260123456789", spn: "T-Mobile"}
  applet:
    rotation: {enabled: false}
networks:
  - plmn: "26201"
    name: "Telekom.de"
    short: "TDG"
    down: $HOMEDOWN
    signal: $SIGNAL
    traffic: {tx_bps: 200, rx_bps: 1500}
    cells:
      - $CELL
  - plmn: "23415"
    name: "vodafone UK"
    short: "voda UK"
    down: $DOWN
    signal: {rsrp: -95, rsrq: -10, sinr: 11, rssi: -66}
    cells:
      - {rat: LTE, tac: "2D18", ci: "3089F02", earfcn: 6300, pci: 125, band: 20}
  - plmn: "310260"
    name: "T-Mobile"
    short: "TMO"
    down: $DOWN
    signal: {rsrp: -101, rsrq: -11, sinr: 8, rssi: -70}
    cells:
      - {rat: LTE, tac: "3AFD", ci: "1452808", earfcn: 5035, pci: 315, band: 12}
timing:
  latency: 20ms
  attach_delay: 8s
  refresh_delay: 2s
  cops_scan: 45s
  pdp_activate: 1s
  port_down: 10s
$EXTRA
`)
}

func world(t *testing.T, d string, c cell, extra string) *simulator.Scenario {
	t.Helper()
	return parseScenario(t, d+"-"+c.name+".yaml", worldYAML(d, c, extra))
}
