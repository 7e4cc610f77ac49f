// Package configcheck holds a test that every configuration field in
// profiles.Config is read by the product: a field that is documented,
// defaulted and validated but consumed by nothing fails the build's tests
// with its YAML path. It has no non-test code.
package configcheck
