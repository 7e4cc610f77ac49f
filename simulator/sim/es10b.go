package sim

// ES10a and ES10b functions (GSMA SGP.22 v2.2, §5.7) that an LPA calls
// besides the ES10c profile management in euicc.go: what `lpac chip info`
// and `lpac notification list` ask after every switch. Tags follow the
// RSPDefinitions ASN.1 module (AUTOMATIC TAGS).
const (
	TagGetEUICCInfo1             = 0xBF20 // ES10b GetEUICCInfo (EUICCInfo1)
	TagGetEUICCInfo2             = 0xBF22 // ES10b GetEUICCInfo (EUICCInfo2)
	TagListNotification          = 0xBF28 // ES10b ListNotification
	TagRetrieveNotificationsList = 0xBF2B // ES10b RetrieveNotificationsList
	TagRemoveNotification        = 0xBF30 // ES10b RemoveNotificationFromList
	TagEuiccConfiguredAddresses  = 0xBF3C // ES10a GetEuiccConfiguredAddresses
	TagSetDefaultDpAddress       = 0xBF3F // ES10a SetDefaultDpAddress
	TagGetRAT                    = 0xBF43 // ES10b GetRAT
)

// gsmaTestCIKeyID is the SubjectKeyIdentifier of the GSMA test CI
// certificate (SGP.26), the CI a test eUICC trusts; real cards answer it in
// euiccCiPKIdListForVerification/-Signing (lpac issue #143 shows
// "0414 81370F5125D0B1D408D4C3B232E6D25E795BEBFB" from a card).
var gsmaTestCIKeyID = []byte{
	0x81, 0x37, 0x0F, 0x51, 0x25, 0xD0, 0xB1, 0xD4, 0x08, 0xD4,
	0xC3, 0xB2, 0x32, 0xE6, 0xD2, 0x5E, 0x79, 0x5B, 0xEB, 0xFB,
}

// rootDSAddress is the GSMA root SM-DS every consumer eUICC is configured
// with (SGP.22 §4.1.2 rootDsAddress).
const rootDSAddress = "lpa.ds.gsma.com"

// Versions the card reports (VersionType: major, minor, revision).
var (
	svnVersion      = []byte{2, 2, 2} // SGP.22 v2.2.2
	profileVersion  = []byte{2, 3, 1} // SIMalliance Interoperable Profile 2.3.1
	firmwareVersion = []byte{1, 0, 0} // the simulator's own
	ts102241Version = []byte{9, 2, 0} // ETSI TS 102 241 (UICC API)
	gpVersion       = []byte{2, 3, 0} // GlobalPlatform Card Specification
	ppVersion       = []byte{1, 0, 0} // SGP.25 protection profile
)

// es10ab answers the ES10a/ES10b functions; ok is false for any other tag.
func (c *Card) es10ab(tag uint32, inner []tlv) ([]byte, bool) {
	switch tag {
	case TagGetEUICCInfo1:
		return c.euiccInfo1(), true
	case TagGetEUICCInfo2:
		return c.euiccInfo2(), true
	case TagListNotification:
		// notificationMetadataList [0]: this card keeps no pending
		// notifications (its profiles ask for none), and an empty list is
		// a valid answer. BF28 { A0 {} }.
		return appendTLV(nil, TagListNotification, appendTLV(nil, 0xA0, nil)), true
	case TagRetrieveNotificationsList:
		// notificationList [0], empty as above.
		return appendTLV(nil, TagRetrieveNotificationsList, appendTLV(nil, 0xA0, nil)), true
	case TagRemoveNotification:
		// deleteNotificationStatus: nothingToDelete (1) for any seqNumber.
		if _, ok := find(inner, 0x80); !ok {
			return result(TagRemoveNotification, ResultUndefinedError), true
		}
		return result(TagRemoveNotification, 1), true
	case TagEuiccConfiguredAddresses:
		var v []byte
		if c.defaultDP != "" {
			v = appendTLV(v, 0x80, []byte(c.defaultDP)) // defaultDpAddress
		}
		v = appendTLV(v, 0x81, []byte(rootDSAddress)) // rootDsAddress
		return appendTLV(nil, TagEuiccConfiguredAddresses, v), true
	case TagSetDefaultDpAddress:
		addr, ok := find(inner, 0x80)
		if !ok || len(addr.Value) > 255 {
			return result(TagSetDefaultDpAddress, ResultUndefinedError), true
		}
		c.defaultDP = string(addr.Value)
		return result(TagSetDefaultDpAddress, ResultOK), true
	case TagGetRAT:
		return c.rat(), true
	}
	return nil, false
}

// ciLists are euiccCiPKIdListForVerification [9] and ...ForSigning [10]:
// SEQUENCE OF SubjectKeyIdentifier (OCTET STRING).
func ciLists(v []byte) []byte {
	ski := appendTLV(nil, 0x04, gsmaTestCIKeyID)
	v = appendTLV(v, 0xA9, ski)
	return appendTLV(v, 0xAA, ski)
}

// euiccInfo1 is EUICCInfo1 ::= [32] { svn [2], ciPKId lists [9] [10] }.
func (c *Card) euiccInfo1() []byte {
	return appendTLV(nil, TagGetEUICCInfo1, ciLists(appendTLV(nil, 0x82, svnVersion)))
}

// euiccInfo2 is EUICCInfo2 (SGP.22 §5.7.8) with the mandatory fields and
// the versions of the optional ones; euiccCategory and
// forbiddenProfilePolicyRules are left out (OPTIONAL).
func (c *Card) euiccInfo2() []byte {
	var v []byte
	v = appendTLV(v, 0x81, profileVersion)
	v = appendTLV(v, 0x82, svnVersion)
	v = appendTLV(v, 0x83, firmwareVersion)
	// extCardResource (ETSI TS 102 226 §8.2.1.3.2): installed
	// applications, free non-volatile memory (64 KiB), free volatile
	// memory (4 KiB), each a minimal big-endian integer.
	var res []byte
	res = appendTLV(res, 0x81, []byte{byte(len(c.profs))})
	res = appendTLV(res, 0x82, []byte{0x01, 0x00, 0x00})
	res = appendTLV(res, 0x83, []byte{0x10, 0x00})
	v = appendTLV(v, 0x84, res)
	// uiccCapability BIT STRING: usimSupport (1), akaMilenage (4),
	// javacard (14); 15 bits used, 1 unused.
	v = appendTLV(v, 0x85, []byte{0x01, 0x48, 0x02})
	v = appendTLV(v, 0x86, ts102241Version)
	v = appendTLV(v, 0x87, gpVersion)
	// rspCapability BIT STRING: additionalProfile (0),
	// testProfileSupport (3); 4 bits used, 4 unused.
	v = appendTLV(v, 0x88, []byte{0x04, 0x90})
	v = ciLists(v)
	v = appendTLV(v, 0x04, ppVersion)
	v = appendTLV(v, 0x0C, []byte("IMSID-SIMULATOR")) // sasAcreditationNumber
	return appendTLV(nil, TagGetEUICCInfo2, v)
}

// rat is GetRatResponse ::= [67] { rat [0] RulesAuthorisationTable }: one
// rule letting any operator (mccMnc EEEEEE, 'E' a wildcard digit, SGP.22
// §2.9.2.2) set PPR1 and PPR2 without end-user consent, as consumer cards
// ship.
func (c *Card) rat() []byte {
	var rule []byte
	rule = appendTLV(rule, 0x80, []byte{0x05, 0x60}) // pprIds: ppr1, ppr2
	op := appendTLV(nil, 0x80, []byte{0xEE, 0xEE, 0xEE})
	rule = appendTLV(rule, 0xA1, appendTLV(nil, 0x30, op)) // allowedOperators
	rule = appendTLV(rule, 0x82, []byte{0x00})             // pprFlags: none
	return appendTLV(nil, TagGetRAT, appendTLV(nil, 0xA0, appendTLV(nil, 0x30, rule)))
}
