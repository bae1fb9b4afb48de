package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/typedauth/auth"
)

// tokens are the bearer tokens the test verifier knows.
var tokens = map[string]auth.Claims{
	"alice-token":  {"sub": "alice", "scope": "reports:read reports:write"},
	"bob-token":    {"sub": "bob", "scope": "reports:read"},
	"carol-token":  {"sub": "carol", "scp": []any{"reports:read", "reports:write"}},
	"dave-token":   {"sub": "dave", "scp": "reports:read reports:write"},
	"ghost-token":  {"sub": "ghost"},   // a user the store does not know
	"banned-token": {"sub": "mallory"}, // a user who may not proceed
	"db-token":     {"sub": "db-down"}, // a lookup that fails
}

// countingVerifier is a token verifier that counts its calls.
type countingVerifier struct{ calls atomic.Int64 }

func (v *countingVerifier) verify(_ context.Context, raw string) (auth.Claims, error) {
	v.calls.Add(1)
	c, ok := tokens[raw]
	if !ok {
		return nil, auth.Unauthorized("Unknown token")
	}
	return c, nil
}

// newTokenAuth returns a scoped bearer auth over tokens and its call counter.
func newTokenAuth(tb testing.TB, opts ...auth.Option) (*auth.ScopedAuth[auth.Claims], *countingVerifier) {
	tb.Helper()
	v := &countingVerifier{}
	return auth.NewScoped(auth.Bearer(), v.verify, nil, opts...), v
}

// header is one request header line; repeated names give repeated lines.
type header struct{ name, value string }

// newRequest builds a GET request for target with the given header lines.
func newRequest(tb testing.TB, target string, headers ...header) *http.Request {
	tb.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for _, h := range headers {
		r.Header.Add(h.name, h.value)
	}
	return r
}

func bearer(tok string) header { return header{name: "Authorization", value: "Bearer " + tok} }

// serve runs h on r and returns the recorded response.
func serve(tb testing.TB, h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	tb.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// subHandler writes the "sub" claim of the principal in the context.
var subHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	c, ok := auth.From[auth.Claims](r.Context())
	if !ok {
		http.Error(w, "no principal", http.StatusTeapot)
		return
	}
	sub, _ := c["sub"].(string)
	_, _ = w.Write([]byte(sub))
})

// problemBody is the RFC 9457 body as decoded by a client.
type problemBody struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// checkProblem asserts that rec is a problem+json response with the given
// status and detail, the default type and the status text as title.
func checkProblem(tb testing.TB, rec *httptest.ResponseRecorder, wantStatus int, wantDetail string) problemBody {
	tb.Helper()
	if rec.Code != wantStatus {
		tb.Errorf("status = %d; want %d (body %q)", rec.Code, wantStatus, rec.Body.String())
	}
	if got := rec.Header().Get("Content-Type"); got != "application/problem+json" {
		tb.Errorf("Content-Type = %q; want application/problem+json", got)
	}
	if got := rec.Header().Get("Cache-Control"); got != "no-store" {
		tb.Errorf("Cache-Control = %q; want no-store", got)
	}
	var p problemBody
	dec := json.NewDecoder(strings.NewReader(rec.Body.String()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		tb.Fatalf("body %q is not a problem document: %v", rec.Body.String(), err)
	}
	want := problemBody{Type: "about:blank", Title: http.StatusText(wantStatus), Status: wantStatus, Detail: wantDetail}
	if p != want {
		tb.Errorf("problem = %+v; want %+v", p, want)
	}
	return p
}

// checkChallenges asserts the WWW-Authenticate header lines of rec.
func checkChallenges(tb testing.TB, rec *httptest.ResponseRecorder, want ...string) {
	tb.Helper()
	got := rec.Header().Values("WWW-Authenticate")
	if !slices.Equal(got, want) {
		tb.Errorf("WWW-Authenticate = %q; want %q", got, want)
	}
}

// User, Account and the store stand for the application's database.
type User struct {
	ID   string
	Name string
}

type Account struct {
	Owner   string
	Balance int
}

var errDBDown = errors.New("db down: connection refused to 10.0.0.7:5432")

var users = map[string]User{
	"alice":   {ID: "alice", Name: "Alice"},
	"bob":     {ID: "bob", Name: "Bob"},
	"carol":   {ID: "carol", Name: "Carol"},
	"mallory": {ID: "mallory", Name: "Mallory"},
}

// loadUser is a Then loader: claims → User.
func loadUser(_ context.Context, c auth.Claims) (User, error) {
	sub, _ := c["sub"].(string)
	switch sub {
	case "db-down":
		return User{}, errDBDown
	case "mallory":
		return User{}, auth.Forbidden("Account suspended")
	}
	u, ok := users[sub]
	if !ok {
		return User{}, auth.Unauthorized("Unknown user")
	}
	return u, nil
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
