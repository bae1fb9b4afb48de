// Package bench measures one authenticated request, a bearer token through
// a middleware to a handler that reads sub, through typedauth and its
// peers: a bare golang-jwt parser (the ratio base), auth0/go-jwt-middleware,
// go-chi/jwtauth, labstack/echo-jwt and coreos/go-oidc.
//
// It is its own module, never required by users. Its tests check that
// every subject really rejects a bad signature, an expired token, a
// foreign issuer, a foreign audience and a missing scope, so that no
// benchmark row is fast because it skips a check. Its benchmarks are run,
// interleaved over several rounds, by the report command, which writes
// BENCHMARKS.md at the root of the repository:
//
//	go run ./bench/cmd/report
package bench
