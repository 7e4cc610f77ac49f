// Package modem is a typed AT driver for cellular modems: commands in, typed
// values and events out, over an injected io.ReadWriter.
//
// It speaks 3GPP TS 27.007 plus the vendor dialects of Quectel, SIMCom,
// u-blox, Telit, Sierra and Huawei, and holds no policy: deciding what to do
// with what it reports is the switcher's job.
//
// Vendor knowledge is data. Each family lives in one file, vendor_<name>.go,
// which registers how to recognise it (manufacturer words and model
// prefixes), the final result codes of its own (Huawei's "COMMAND NOT
// SUPPORT"), its extra identity reads (SIMCom +SIMCOMATI), start-up URC
// settings, and its ICCID, signal, serving-cell, counter and RAT commands
// with their parsers. Adding a family touches that file and its transcripts
// in testdata/transcripts.
//
// The dialect is detected at start-up from every identity source (+CGMI and
// +GMI, +CGMM and +GMM, ATI, the families' own reads) unless WithDialect
// fixes it; if an identity read failed, it is detected again by the next
// dialect-dependent query. Optional reads a modem refuses (ERROR, +CME
// ERROR: 4, a vendor's own error result) are not asked again in that
// session.
//
// Errors: sentinels for states (errors.Is(err, ErrSIMBusy)), *CMEError and
// *VendorResultError for what the device said, *OpError naming the command.
// ErrTimeout is the one meaning of "the modem did not answer in time";
// Responsive and LastResponse tell a hung modem from a slow network.
// ServiceRegistration picks, among the registration domains, the one that
// carries the service (EPS first).
package modem
