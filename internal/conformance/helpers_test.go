package conformance

import (
	"net/http"
	"testing"

	"github.com/typedauth/auth"
)

func TestTokensAndServe(t *testing.T) {
	t.Parallel()
	tokens := Tokens()
	h := tokens.Requires("items:read").Handler(func(w http.ResponseWriter, r *http.Request, c auth.Claims) {
		Write(w, http.StatusOK, ReplyItems(c))
	})
	tests := []struct {
		name          string
		authorization string
		wantStatus    int
		wantBody      string // the body of a 200
	}{
		{name: "scope granted", authorization: "Bearer tok-ann.items_read", wantStatus: http.StatusOK, wantBody: "items ann"},
		{name: "no scope", authorization: "Bearer tok-ann", wantStatus: http.StatusForbidden},
		{name: "a scope implying it", authorization: "Bearer tok-ann.items_edit", wantStatus: http.StatusOK, wantBody: "items ann"},
		{name: "not a token", authorization: "Bearer ann", wantStatus: http.StatusUnauthorized},
		{name: "no header", wantStatus: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := Serve(t, h, "GET", "/items", tt.authorization)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d; want %d (body %s)", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantStatus == http.StatusOK && rec.Body.String() != tt.wantBody {
				t.Errorf("body = %q; want %q", rec.Body, tt.wantBody)
			}
		})
	}
}
