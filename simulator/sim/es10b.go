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
func (c *Card) es10ab(tag uint32, inner []node) ([]byte, bool) {
	e := new(ber)
	switch tag {
	case TagGetEUICCInfo1:
		e.nest(tag, c.euiccInfo1)
	case TagGetEUICCInfo2:
		e.nest(tag, c.euiccInfo2)
	case TagListNotification, TagRetrieveNotificationsList:
		// notificationMetadataList [0] / notificationList [0]: this card
		// keeps no pending notifications (its profiles ask for none), and
		// an empty list is a valid answer: BF28 { A0 {} }.
		e.nest(tag, func(e *ber) { e.nest(0xA0, nil) })
	case TagRemoveNotification:
		// deleteNotificationStatus: nothingToDelete (1) for any seqNumber.
		if _, ok := pick(inner, 0x80); !ok {
			return result(tag, ResultUndefinedError), true
		}
		return result(tag, 1), true
	case TagEuiccConfiguredAddresses:
		e.nest(tag, func(e *ber) {
			if c.defaultDP != "" {
				e.add(0x80, []byte(c.defaultDP)) // defaultDpAddress
			}
			e.add(0x81, []byte(rootDSAddress)) // rootDsAddress
		})
	case TagSetDefaultDpAddress:
		addr, ok := pick(inner, 0x80)
		if !ok || len(addr.raw) > 255 {
			return result(tag, ResultUndefinedError), true
		}
		c.defaultDP = string(addr.raw)
		return result(tag, ResultOK), true
	case TagGetRAT:
		e.nest(tag, c.rat)
	default:
		return nil, false
	}
	return e.bytes(), true
}

// ciLists are euiccCiPKIdListForVerification [9] and ...ForSigning [10]:
// SEQUENCE OF SubjectKeyIdentifier (OCTET STRING).
func ciLists(e *ber) {
	for _, tag := range []uint32{0xA9, 0xAA} {
		e.nest(tag, func(e *ber) { e.add(0x04, gsmaTestCIKeyID) })
	}
}

// euiccInfo1 is the content of EUICCInfo1 ::= [32] { svn [2], ciPKId
// lists [9] [10] }.
func (c *Card) euiccInfo1(e *ber) {
	e.add(0x82, svnVersion)
	ciLists(e)
}

// euiccInfo2 is the content of EUICCInfo2 (SGP.22 §5.7.8) with the
// mandatory fields and the versions of the optional ones; euiccCategory and
// forbiddenProfilePolicyRules are left out (OPTIONAL).
func (c *Card) euiccInfo2(e *ber) {
	e.add(0x81, profileVersion).add(0x82, svnVersion).add(0x83, firmwareVersion)
	// extCardResource (ETSI TS 102 226 §8.2.1.3.2): installed
	// applications, free non-volatile memory (64 KiB), free volatile
	// memory (4 KiB), each a minimal big-endian integer.
	res := new(ber).
		add(0x81, []byte{byte(len(c.profs))}).
		add(0x82, []byte{0x01, 0x00, 0x00}).
		add(0x83, []byte{0x10, 0x00})
	e.add(0x84, res.bytes())
	// uiccCapability BIT STRING: usimSupport (1), akaMilenage (4),
	// javacard (14); 15 bits used, 1 unused.
	e.add(0x85, []byte{0x01, 0x48, 0x02})
	e.add(0x86, ts102241Version).add(0x87, gpVersion)
	// rspCapability BIT STRING: additionalProfile (0),
	// testProfileSupport (3); 4 bits used, 4 unused.
	e.add(0x88, []byte{0x04, 0x90})
	ciLists(e)
	e.add(0x04, ppVersion)
	e.add(0x0C, []byte("IMSID-SIMULATOR")) // sasAcreditationNumber
}

// rat is the content of GetRatResponse ::= [67] { rat [0]
// RulesAuthorisationTable }: one rule letting any operator (mccMnc EEEEEE,
// 'E' a wildcard digit, SGP.22 §2.9.2.2) set PPR1 and PPR2 without end-user
// consent, as consumer cards ship.
func (c *Card) rat(e *ber) {
	e.nest(0xA0, func(e *ber) {
		e.nest(0x30, func(e *ber) { // ProfilePolicyAuthorisationRule
			e.add(0x80, []byte{0x05, 0x60}) // pprIds: ppr1, ppr2
			e.nest(0xA1, func(e *ber) {     // allowedOperators
				e.nest(0x30, func(e *ber) { e.add(0x80, []byte{0xEE, 0xEE, 0xEE}) })
			})
			e.add(0x82, []byte{0x00}) // pprFlags: none
		})
	})
}
