package api

import "github.com/imsid/imsid/internal/api/wire"

// The wire contract (internal/api/wire), under the names the server and the
// daemon use. Clients import wire and link neither the server nor metrics.
type (
	RefusedError    = wire.RefusedError
	DecisionQuery   = wire.DecisionQuery
	Status          = wire.Status
	Dropped         = wire.Dropped
	ModemInfo       = wire.ModemInfo
	SIMInfo         = wire.SIMInfo
	Registration    = wire.Registration
	Signal          = wire.Signal
	Pin             = wire.Pin
	Link            = wire.Link
	HookRun         = wire.HookRun
	BringUp         = wire.BringUp
	Probe           = wire.Probe
	Threat          = wire.Threat
	Recovery        = wire.Recovery
	ThreatAck       = wire.ThreatAck
	ThreatScore     = wire.ThreatScore
	Usage           = wire.Usage
	LastSwitch      = wire.LastSwitch
	SwitchBudget    = wire.SwitchBudget
	Reason          = wire.Reason
	ProfileView     = wire.ProfileView
	ProfileSignal   = wire.ProfileSignal
	Tariff          = wire.Tariff
	Forecast        = wire.Forecast
	Score           = wire.Score
	Quarantine      = wire.Quarantine
	Cap             = wire.Cap
	Decision        = wire.Decision
	Inputs          = wire.Inputs
	Ranked          = wire.Ranked
	WhyNot          = wire.WhyNot
	DecisionPage    = wire.DecisionPage
	Ack             = wire.Ack
	ErrorBody       = wire.ErrorBody
	ErrorInfo       = wire.ErrorInfo
	Event           = wire.Event
	StateChange     = wire.StateChange
	Gap             = wire.Gap
	ThreatList      = wire.ThreatList
	Finding         = wire.Finding
	FindingRef      = wire.FindingRef
	QuarantineEntry = wire.QuarantineEntry
	ATReply         = wire.ATReply
	ProfileList     = wire.ProfileList
	Health          = wire.Health
)

const (
	CodeUnknownProfile   = wire.CodeUnknownProfile
	CodeSwitchCap        = wire.CodeSwitchCap
	CodeQuarantined      = wire.CodeQuarantined
	CodePinned           = wire.CodePinned
	CodeSuspended        = wire.CodeSuspended
	CodeBusy             = wire.CodeBusy
	CodeAutonomous       = wire.CodeAutonomous
	CodeOverCap          = wire.CodeOverCap
	CodeBadRequest       = wire.CodeBadRequest
	CodeMalformedJSON    = wire.CodeMalformedJSON
	CodeUnknownField     = wire.CodeUnknownField
	CodeInvalidField     = wire.CodeInvalidField
	CodeBodyTooLarge     = wire.CodeBodyTooLarge
	CodeUnsupportedMedia = wire.CodeUnsupportedMedia
	CodeUnauthorized     = wire.CodeUnauthorized
	CodeWrongHost        = wire.CodeWrongHost
	CodeNotFound         = wire.CodeNotFound
	CodeMethodNotAllowed = wire.CodeMethodNotAllowed
	CodeNotReady         = wire.CodeNotReady
	CodeUnavailable      = wire.CodeUnavailable
	CodeTimeout          = wire.CodeTimeout
	CodeTooManyStreams   = wire.CodeTooManyStreams
	CodeInternal         = wire.CodeInternal
	EventDecision        = wire.EventDecision
	EventState           = wire.EventState
	EventLink            = wire.EventLink
	EventThreat          = wire.EventThreat
	EventPin             = wire.EventPin
	EventThreatAck       = wire.EventThreatAck
	EventGap             = wire.EventGap
	DefaultDecisionLimit = wire.DefaultDecisionLimit
	MaxDecisionLimit     = wire.MaxDecisionLimit
)

// Ptr returns a pointer to v, for filling the nullable DTO fields.
func Ptr[T any](v T) *T { return &v }

// NonEmpty returns nil for "" and &s otherwise.
func NonEmpty(s string) *string { return wire.NonEmpty(s) }

// UnsafeRune is wire.UnsafeRune.
func UnsafeRune(r rune) bool { return wire.UnsafeRune(r) }

// TryOutSocket is wire.TryOutSocket.
func TryOutSocket() string { return wire.TryOutSocket() }
