// Package modem is a typed AT driver for cellular modems: commands in, typed
// values and events out, over an injected io.ReadWriter.
//
// It speaks 3GPP TS 27.007 plus the vendor dialects of Quectel, SIMCom,
// u-blox, Telit, Sierra and Huawei, and holds no policy: deciding what to do
// with what it reports is the switcher's job.
package modem
