// Package compose holds the test of the composition that the README shows:
// JWT claims loaded into a User, an admin stage on top, typed claims, an API
// key loaded into the same User, Verify without a request, and the result
// guarding Echo and Gin routes. It has no code of its own.
package compose
