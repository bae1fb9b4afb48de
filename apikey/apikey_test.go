package apikey_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/apikey"
)

// Note: apikey.New returns a plain *auth.Auth[apikey.Principal], which has no Requires
// method, so `apikey.New(v).Requires("x:read")` does not compile: an API key
// carries no scopes. There is no test for a compile error.

// whoami writes the principal: the owner's name, and the key's id if any.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	p := auth.MustFrom[apikey.Principal](r.Context())
	fmt.Fprint(w, p.Owner)
	if p.KeyID != "" {
		fmt.Fprint(w, "/"+p.KeyID)
	}
})

// serve sends a GET with the given header lines (name, value, name, value…).
func serve(tb testing.TB, h http.Handler, kv ...string) *httptest.ResponseRecorder {
	tb.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for i := 0; i+1 < len(kv); i += 2 {
		r.Header.Add(kv[i], kv[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// checkDenied asserts a problem+json rejection with the given status and detail.
func checkDenied(tb testing.TB, rec *httptest.ResponseRecorder, status int, detail string, challenges ...string) {
	tb.Helper()
	if rec.Code != status {
		tb.Errorf("status = %d; want %d (body %q)", rec.Code, status, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		tb.Errorf("Content-Type = %q; want application/problem+json", ct)
	}
	var p struct {
		Type, Title, Detail string
		Status              int
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		tb.Fatalf("body %q: %v", rec.Body.String(), err)
	}
	if p.Status != status || p.Detail != detail || p.Type != "about:blank" || p.Title != http.StatusText(status) {
		tb.Errorf("problem = %+v; want status %d detail %q", p, status, detail)
	}
	if got := rec.Header().Values("WWW-Authenticate"); !slices.Equal(got, challenges) {
		tb.Errorf("WWW-Authenticate = %q; want %q", got, challenges)
	}
}

const (
	ciKey  = "ci-6f1c2a0e9b7d4c3e8a5f"
	botKey = "bot-0123456789abcdef0123456789abcdef"
)

func TestStaticThroughGuard(t *testing.T) {
	t.Parallel()
	a := apikey.New(apikey.MustStatic(map[string]string{"ci": ciKey, "bot": botKey}))
	tests := []struct {
		name       string
		kv         []string
		wantStatus int
		wantBody   string
	}{
		{name: "right key", kv: []string{"X-Api-Key", ciKey}, wantStatus: 200, wantBody: "ci"},
		{name: "other right key", kv: []string{"X-Api-Key", botKey}, wantStatus: 200, wantBody: "bot"},
		{name: "header name is case-insensitive", kv: []string{"x-api-key", ciKey}, wantStatus: 200, wantBody: "ci"},
		{name: "missing key", wantStatus: 401},
		{name: "empty key", kv: []string{"X-Api-Key", ""}, wantStatus: 401},
		{name: "wrong key", kv: []string{"X-Api-Key", "guess"}, wantStatus: 401},
		{name: "prefix of a key", kv: []string{"X-Api-Key", ciKey[:len(ciKey)-1]}, wantStatus: 401},
		{name: "key with a suffix", kv: []string{"X-Api-Key", ciKey + "x"}, wantStatus: 401},
		{name: "much longer key", kv: []string{"X-Api-Key", strings.Repeat(ciKey, 100)}, wantStatus: 401},
		{name: "key in the wrong header", kv: []string{"Authorization", "Bearer " + ciKey}, wantStatus: 401},
		{name: "key sent twice", kv: []string{"X-Api-Key", ciKey, "X-Api-Key", ciKey}, wantStatus: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := serve(t, a.Guard(whoami), tt.kv...)
			switch tt.wantStatus {
			case 200:
				if rec.Code != 200 || rec.Body.String() != tt.wantBody {
					t.Errorf("got %d %q; want 200 %q", rec.Code, rec.Body.String(), tt.wantBody)
				}
			case 401:
				checkDenied(t, rec, 401, apikey.DetailInvalid, "APIKey")
			case 400:
				checkDenied(t, rec, 400, "More than one X-Api-Key header", "APIKey")
			}
			if strings.Contains(rec.Body.String(), ciKey) && tt.wantStatus != 200 {
				t.Errorf("body echoes the key: %q", rec.Body.String())
			}
		})
	}
}

func TestStatic(t *testing.T) {
	t.Parallel()
	v := apikey.MustStatic(map[string]string{"short": "k", "long": strings.Repeat("L", 4096)})
	tests := []struct {
		name    string
		key     string
		want    string
		wantErr error
	}{
		{name: "one-byte key", key: "k", want: "short"},
		{name: "4 KiB key", key: strings.Repeat("L", 4096), want: "long"},
		{name: "shorter than every key", key: "", wantErr: apikey.ErrUnknownKey},
		{name: "between the lengths", key: "kk", wantErr: apikey.ErrUnknownKey},
		{name: "one byte short of the long key", key: strings.Repeat("L", 4095), wantErr: apikey.ErrUnknownKey},
		{name: "longer than every key", key: strings.Repeat("L", 8192), wantErr: apikey.ErrUnknownKey},
		{name: "same length, different bytes", key: "K", wantErr: apikey.ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := v(context.Background(), tt.key)
			got := p.Owner
			if p.KeyID != "" {
				t.Errorf("Static gave KeyID %q; want none", p.KeyID)
			}
			if got != tt.want || !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("Static(%d-byte key) = %q, %v; want %q, %v", len(tt.key), got, err, tt.want, tt.wantErr)
			}
			if err != nil && !errors.Is(err, auth.ErrInvalidCredential) {
				t.Errorf("error %v is not an ErrInvalidCredential", err)
			}
		})
	}
}

func TestStaticCopiesTheMap(t *testing.T) {
	t.Parallel()
	keys := map[string]string{"ci": ciKey}
	v, err := apikey.Static(keys)
	if err != nil {
		t.Fatal(err)
	}
	keys["ci"] = "changed"
	keys["evil"] = "evil-key"
	if got, err := v(context.Background(), ciKey); got != (apikey.Principal{Owner: "ci"}) || err != nil {
		t.Errorf("original key: %q, %v; want ci", got, err)
	}
	if _, err := v(context.Background(), "evil-key"); !errors.Is(err, apikey.ErrUnknownKey) {
		t.Errorf("key added after Static was accepted: %v", err)
	}
}

// Static reports bad keys, such as an unset environment variable, as an
// error; MustStatic panics with the same message.
func TestStaticErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		keys    map[string]string
		wantMsg string
	}{
		{name: "nil map", keys: nil, wantMsg: "apikey: Static: no keys"},
		{name: "empty map", keys: map[string]string{}, wantMsg: "apikey: Static: no keys"},
		{name: "empty key", keys: map[string]string{"ci": ""}, wantMsg: `apikey: Static: empty key for "ci"`},
		{name: "empty owner", keys: map[string]string{"": ciKey}, wantMsg: "apikey: Static: a key has an empty owner name"},
		{name: "shared key", keys: map[string]string{"a": "same-key", "b": "same-key"}, wantMsg: `apikey: Static: owners "a" and "b" share a key`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := apikey.Static(tt.keys)
			if err == nil || err.Error() != tt.wantMsg || v != nil {
				t.Errorf("Static error = %v (verifier nil: %v); want %q and no verifier", err, v == nil, tt.wantMsg)
			}
			if err != nil && strings.Contains(err.Error(), "same-key") {
				t.Errorf("the error names a key: %v", err)
			}
			defer func() {
				if msg := fmt.Sprint(recover()); msg != tt.wantMsg {
					t.Errorf("MustStatic panic %q; want %q", msg, tt.wantMsg)
				}
			}()
			apikey.MustStatic(tt.keys)
		})
	}
}

func TestHashedDigests(t *testing.T) {
	t.Parallel()
	store := apikey.Digests{apikey.Digest(ciKey): {Owner: "ci", KeyID: "k1"}, apikey.Digest(botKey): {Owner: "bot"}}
	a := apikey.New(apikey.Hashed(store.Lookup))
	tests := []struct {
		name       string
		key        string
		wantStatus int
		wantBody   string
	}{
		{name: "known", key: ciKey, wantStatus: 200, wantBody: "ci/k1"},
		{name: "other known", key: botKey, wantStatus: 200, wantBody: "bot"},
		{name: "unknown", key: "guess", wantStatus: 401},
		{name: "digest itself is not a key", key: fmt.Sprintf("%x", apikey.Digest(ciKey)), wantStatus: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := serve(t, a.Guard(whoami), "X-Api-Key", tt.key)
			if tt.wantStatus == 200 {
				if rec.Code != 200 || rec.Body.String() != tt.wantBody {
					t.Errorf("got %d %q; want 200 %q", rec.Code, rec.Body.String(), tt.wantBody)
				}
				return
			}
			checkDenied(t, rec, 401, apikey.DetailInvalid, "APIKey")
		})
	}
	if d := apikey.Digest("abc"); d != sha256.Sum256([]byte("abc")) {
		t.Errorf("Digest is not SHA-256")
	}
}

func TestHashedLookupFailure(t *testing.T) {
	t.Parallel()
	storeErr := errors.New("redis: dial tcp 10.0.0.9:6379: connection refused")
	tests := []struct {
		name       string
		lookupErr  error
		wantStatus int
		wantDetail string
		wantChall  []string
		wantIs     error
	}{
		{name: "store failure", lookupErr: storeErr, wantStatus: 500, wantDetail: "Internal Server Error", wantIs: storeErr},
		{name: "store unavailable", lookupErr: auth.Unavailable("Key store unreachable").Wrap(storeErr), wantStatus: 503,
			wantDetail: "Key store unreachable", wantIs: auth.ErrUnavailable},
		{name: "unknown key", lookupErr: apikey.ErrUnknownKey, wantStatus: 401, wantDetail: apikey.DetailInvalid,
			wantChall: []string{"APIKey"}, wantIs: apikey.ErrUnknownKey},
		{name: "lookup says no credential", lookupErr: fmt.Errorf("no such key: %w", auth.ErrNoCredential), wantStatus: 401,
			wantDetail: apikey.DetailInvalid, wantChall: []string{"APIKey"}, wantIs: auth.ErrInvalidCredential},
		{name: "revoked key", lookupErr: fmt.Errorf("key revoked: %w", auth.ErrInvalidCredential), wantStatus: 401,
			wantDetail: apikey.DetailInvalid, wantChall: []string{"APIKey"}, wantIs: auth.ErrInvalidCredential},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int64
			a := apikey.New(apikey.Hashed(func(context.Context, [sha256.Size]byte) (apikey.Principal, error) {
				calls.Add(1)
				return apikey.Principal{}, tt.lookupErr
			}))
			rec := serve(t, a.Guard(whoami), "X-Api-Key", "some-key")
			checkDenied(t, rec, tt.wantStatus, tt.wantDetail, tt.wantChall...)
			if strings.Contains(rec.Body.String(), "redis") || strings.Contains(rec.Body.String(), "10.0.0.9") {
				t.Errorf("body leaks the store's error: %q", rec.Body.String())
			}
			if calls.Load() != 1 {
				t.Errorf("lookup calls = %d; want 1", calls.Load())
			}
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("X-Api-Key", "some-key")
			if _, err := a.Authenticate(r); !errors.Is(err, tt.wantIs) {
				t.Errorf("Authenticate error = %v; want it to match %v", err, tt.wantIs)
			}
		})
	}
}

func TestWithHeaderAndDescription(t *testing.T) {
	t.Parallel()
	a := apikey.New(apikey.MustStatic(map[string]string{"svc": ciKey}),
		apikey.WithHeader("authorization-key"), apikey.WithDescription("Service key"))
	want := auth.Description{Type: "apiKey", In: "header", Name: "Authorization-Key", Description: "Service key"}
	if got := a.Description(); got != want {
		t.Errorf("Description() = %+v; want %+v", got, want)
	}
	if rec := serve(t, a.Guard(whoami), "Authorization-Key", ciKey); rec.Code != 200 || rec.Body.String() != "svc" {
		t.Errorf("custom header: got %d %q; want 200 svc", rec.Code, rec.Body.String())
	}
	checkDenied(t, serve(t, a.Guard(whoami), "X-Api-Key", ciKey), 401, apikey.DetailInvalid, "APIKey")
	if got := a.Challenges(); len(got) != 1 || got[0] != (auth.Challenge{Scheme: "APIKey"}) {
		t.Errorf("Challenges() = %v; want [APIKey]", got)
	}

	def := apikey.New(apikey.Unverified())
	wantDef := auth.Description{Type: "apiKey", In: "header", Name: "X-Api-Key"}
	if got := def.Description(); got != wantDef {
		t.Errorf("default Description() = %+v; want %+v", got, wantDef)
	}
}

func TestWithAuthOptions(t *testing.T) {
	t.Parallel()
	var seen error
	a := apikey.New(apikey.MustStatic(map[string]string{"ci": ciKey}), apikey.WithAuthOptions(
		auth.WithErrorWriter(func(w http.ResponseWriter, r *http.Request, e *auth.Error) {
			seen = e.Err
			auth.WriteError(w, r, e)
		}),
		auth.WithMaxCredentialLength(64),
	))
	checkDenied(t, serve(t, a.Guard(whoami), "X-Api-Key", "guess"), 401, apikey.DetailInvalid, "APIKey")
	if !errors.Is(seen, apikey.ErrUnknownKey) {
		t.Errorf("error writer saw %v; want ErrUnknownKey", seen)
	}
	checkDenied(t, serve(t, a.Guard(whoami), "X-Api-Key", strings.Repeat("k", 65)), 401, "Credential is too long", "APIKey")
}

func TestUnverified(t *testing.T) {
	t.Parallel()
	a := apikey.New(apikey.Unverified())
	if rec := serve(t, a.Guard(whoami), "X-Api-Key", "anything"); rec.Code != 200 || rec.Body.String() != "anything" {
		t.Errorf("got %d %q; want 200 anything", rec.Code, rec.Body.String())
	}
	checkDenied(t, serve(t, a.Guard(whoami)), 401, apikey.DetailInvalid, "APIKey")
}

func TestNewPanics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		build   func()
		wantMsg string
	}{
		{name: "nil verifier", build: func() { apikey.New(nil) }, wantMsg: "apikey: New: nil verifier"},
		{name: "empty header", build: func() { apikey.New(apikey.Unverified(), apikey.WithHeader("")) }, wantMsg: "apikey: New: empty header name"},
		{name: "nil lookup", build: func() { apikey.Hashed(nil) }, wantMsg: "apikey: Hashed: nil lookup"},
		{name: "header with a space", build: func() { apikey.New(apikey.Unverified(), apikey.WithHeader("X Api Key")) },
			wantMsg: `apikey: New: invalid header name "X Api Key"`},
		{name: "header with a colon", build: func() { apikey.New(apikey.Unverified(), apikey.WithHeader("X-Api-Key:")) },
			wantMsg: `apikey: New: invalid header name "X-Api-Key:"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if msg := fmt.Sprint(recover()); msg != tt.wantMsg {
					t.Errorf("panic %q; want %q", msg, tt.wantMsg)
				}
			}()
			tt.build()
		})
	}
}

func TestNilOptionIsIgnored(t *testing.T) {
	t.Parallel()
	a := apikey.New(apikey.MustStatic(map[string]string{"ci": ciKey}), nil, apikey.WithDescription("d"))
	if a.Description().Description != "d" {
		t.Errorf("Description() = %+v", a.Description())
	}
}

func TestErrUnknownKey(t *testing.T) {
	t.Parallel()
	if !errors.Is(apikey.ErrUnknownKey, auth.ErrInvalidCredential) || !errors.Is(apikey.ErrUnknownKey, auth.ErrUnauthorized) {
		t.Error("ErrUnknownKey is not an ErrInvalidCredential")
	}
	if got := auth.StatusOf(apikey.ErrUnknownKey); got != 401 {
		t.Errorf("StatusOf(ErrUnknownKey) = %d; want 401", got)
	}
}
