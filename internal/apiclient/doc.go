// Package apiclient is the typed Go client for the imsid daemon's HTTP API
// (docs/api.md), over the daemon's unix socket or TCP with a bearer token.
//
// It speaks the wire contract defined by internal/api/wire and turns every
// failure into one of three shapes a caller can act on: *UnreachableError
// (the daemon could not be reached; errors.Is ErrUnreachable), *APIError (the
// daemon answered with an error body) or a decoding error.
package apiclient
