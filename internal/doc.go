// Package internal holds the daemon-only parts of imsid.
package internal
