// Package profiles is the data model of one device's configuration: the
// modem, the SIM and its IMSI profiles, the policy knobs, and the usage
// accounting per profile and billing period. It is pure data: loading,
// validating and defaulting, no I/O beyond reading the file it is given.
package profiles
