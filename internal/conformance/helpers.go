package conformance

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/typedauth/auth"
)

// Tokens returns a bearer auth for the adapters' own tests whose tokens are
// "tok-<sub>[.<scope>]", with a scope written resource_action:
// "tok-ann.items_read" is ann's token granting items:read. Any other token
// is invalid. It is safe for concurrent use.
func Tokens() *auth.ScopedAuth[auth.Claims] {
	return auth.NewScoped(auth.Bearer(), func(_ context.Context, raw string) (auth.Claims, error) {
		rest, ok := strings.CutPrefix(raw, "tok-")
		if !ok {
			return nil, auth.ErrInvalidCredential
		}
		sub, scope, _ := strings.Cut(rest, ".")
		return auth.Claims{"sub": sub, "scope": strings.ReplaceAll(scope, "_", ":")}, nil
	}, nil)
}

// Serve sends h a request with method and target, and with authorization as
// its Authorization header unless it is "", and returns the recorded
// answer.
func Serve(tb testing.TB, h http.Handler, method, target, authorization string) *httptest.ResponseRecorder {
	tb.Helper()
	req := httptest.NewRequest(method, target, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
