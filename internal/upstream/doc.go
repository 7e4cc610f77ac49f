// Package upstream delivers the device's events to the fleet server,
// durably and in order, and pulls the signed advisories it sends back.
//
// Events are CloudEvents 1.0 in JSON. They go into a durable outbox first
// (Publish) and a Reporter drains it in batches through go-retryablehttp,
// acknowledging only after a 2xx, so an outage loses nothing within the
// outbox's bound. Advisories are ed25519-signed and can only tighten policy.
// docs/upstream.md is the wire contract.
package upstream
