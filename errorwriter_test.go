package auth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/scopes"
)

// exactScopes is a validator without a compiled matcher, so that Requires
// checks each required scope with HasScope against the slice it was given.
var exactScopes = scopes.Func(func(required string, granted scopes.Set) bool {
	return granted.Contains(required)
})

// auditTokens are the tokens of auditAuth: one with both scopes of the audit
// route, one without the internal one.
var auditTokens = map[string]auth.Claims{
	"auditor-token": {"sub": "auditor", "scope": "internal:audit reports:read"},
	"reader-token":  {"sub": "reader", "scope": "reports:read"},
}

// auditRoute returns a server whose /audit route requires
// "internal:audit reports:read" under exactScopes, with the writer given and
// a realm of "tenant-a".
func auditRoute(tb testing.TB, writer auth.ErrorWriter) *httptest.Server {
	tb.Helper()
	a := auth.NewScoped(auth.Bearer(), func(_ context.Context, raw string) (auth.Claims, error) {
		c, ok := auditTokens[raw]
		if !ok {
			return nil, auth.ErrInvalidCredential
		}
		return c, nil
	}, nil, auth.WithScopeValidator(exactScopes), auth.WithChallenge("Bearer", "tenant-a"), auth.WithErrorWriter(writer))
	mux := http.NewServeMux()
	mux.Handle("/audit", a.Requires("internal:audit", "reports:read").Guard(subHandler))
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return srv
}

// get sends a GET for path with the bearer token given ("" for none) and
// returns the status, the WWW-Authenticate lines joined by " | ", and the
// body.
func get(tb testing.TB, srv *httptest.Server, path, token string) (int, string, string) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, strings.Join(resp.Header.Values("WWW-Authenticate"), " | "), string(body)
}

// vandal is an error writer that does everything a writer can do to the
// error it receives: it filters e.Scope in place to hide internal scopes,
// rewrites the challenges' realm, and edits the scope error in e.Err, then
// writes the default response for what is left.
func vandal(w http.ResponseWriter, r *http.Request, e *auth.Error) {
	kept := e.Scope[:0]
	for _, s := range e.Scope {
		if !strings.HasPrefix(s, "internal:") {
			kept = append(kept, s)
		}
	}
	e.Scope = kept
	for i := range e.Challenges {
		e.Challenges[i].Realm = "tenant-b"
	}
	e.Challenges = append(e.Challenges, auth.Challenge{Scheme: "Injected"})
	var se *auth.ScopeError
	if errors.As(e.Err, &se) {
		se.Missing = "nothing"
		for i := range se.Required {
			se.Required[i] = "reports:read"
		}
	}
	auth.WriteError(w, r, e)
}

// TestErrorWriterCannotReachAuthState is the attack of an error writer that
// hides internal scope names by filtering e.Scope in place: after one 403,
// a token lacking internal:audit must still be refused, and no later
// response may carry what the writer did to the challenges.
func TestErrorWriterCannotReachAuthState(t *testing.T) {
	t.Parallel()
	srv := auditRoute(t, vandal)

	// Each response shows the writer's edits of its own error, and only
	// those: the route's scopes and challenges are the auth's.
	wantForbidden := `Bearer realm="tenant-b", error="insufficient_scope", scope="reports:read"`
	for i := range 3 {
		status, challenge, body := get(t, srv, "/audit", "reader-token")
		if status != http.StatusForbidden {
			t.Fatalf("request %d: a token without internal:audit got %d %q; the writer weakened the route", i+1, status, body)
		}
		if !strings.Contains(body, auth.DetailMissingScope+"internal:audit") {
			t.Errorf("request %d: body %q does not name internal:audit", i+1, body)
		}
		if challenge != wantForbidden {
			t.Errorf("request %d: WWW-Authenticate %q, want %q", i+1, challenge, wantForbidden)
		}
		wantMissing := `Bearer realm="tenant-b" | Injected`
		if status, challenge, _ := get(t, srv, "/audit", ""); status != http.StatusUnauthorized || challenge != wantMissing {
			t.Errorf("request %d without a token: %d %q, want 401 %q", i+1, status, challenge, wantMissing)
		}
	}
	if status, _, body := get(t, srv, "/audit", "auditor-token"); status != http.StatusOK || body != "auditor" {
		t.Errorf("token with both scopes: %d %q, want 200 auditor", status, body)
	}
}

// TestErrorWriterGetsFreshError checks what a writer receives, before it
// touches it, after earlier writers edited theirs: a missing scope and a bad
// token.
func TestErrorWriterGetsFreshError(t *testing.T) {
	t.Parallel()
	received := make(chan *auth.Error, 1)
	srv := auditRoute(t, func(w http.ResponseWriter, r *http.Request, e *auth.Error) {
		c := *e
		c.Scope = slices.Clone(e.Scope)
		c.Challenges = slices.Clone(e.Challenges)
		if se, ok := e.Err.(*auth.ScopeError); ok {
			c.Err = &auth.ScopeError{Missing: se.Missing, Required: slices.Clone(se.Required)}
		}
		received <- &c
		vandal(w, r, e)
	})
	for range 3 {
		if status, _, body := get(t, srv, "/audit", "reader-token"); status != http.StatusForbidden {
			t.Fatalf("a token without internal:audit got %d %q; the writer weakened the route", status, body)
		}
		got := <-received
		if want := []string{"internal:audit", "reports:read"}; !slices.Equal(got.Scope, want) {
			t.Errorf("Scope %q, want %q", got.Scope, want)
		}
		if want := []auth.Challenge{{Scheme: "Bearer", Realm: "tenant-a"}}; !slices.Equal(got.Challenges, want) {
			t.Errorf("Challenges %v, want %v", got.Challenges, want)
		}
		var se *auth.ScopeError
		if !errors.As(got.Err, &se) {
			t.Fatalf("Err %v is not a *ScopeError", got.Err)
		}
		if se.Missing != "internal:audit" || !slices.Equal(se.Required, []string{"internal:audit", "reports:read"}) {
			t.Errorf("ScopeError %+v, want missing internal:audit of [internal:audit reports:read]", se)
		}
		if status, _, _ := get(t, srv, "/audit", "forged"); status != http.StatusUnauthorized {
			t.Fatalf("a forged token got %d, want 401", status)
		}
		got = <-received
		if got.Status != http.StatusUnauthorized || got.Code != auth.CodeInvalidToken || got.Scope != nil {
			t.Errorf("bad token: %+v", got)
		}
		if want := []auth.Challenge{{Scheme: "Bearer", Realm: "tenant-a"}}; !slices.Equal(got.Challenges, want) {
			t.Errorf("bad token: Challenges %v, want %v", got.Challenges, want)
		}
	}
}

// TestAuthenticateErrorIsACopy checks that the errors of Authenticate, which
// adapters hand to their frameworks' error handlers, and of Verify are deep
// copies too.
func TestAuthenticateErrorIsACopy(t *testing.T) {
	t.Parallel()
	a := auth.NewScoped(auth.Bearer(), func(_ context.Context, raw string) (auth.Claims, error) {
		return auditTokens[raw], nil
	}, nil, auth.WithScopeValidator(exactScopes))
	audit := a.Requires("internal:audit", "reports:read")
	r := newRequest(t, "/", bearer("reader-token"))
	for range 2 {
		_, err := audit.Authenticate(r)
		var e *auth.Error
		if !errors.As(err, &e) || e.Status != http.StatusForbidden {
			t.Fatalf("Authenticate: %v, want a 403 *Error; an edit of an earlier error weakened the route", err)
		}
		vandal(httptest.NewRecorder(), r, e)
	}
	for range 2 {
		_, err := audit.Verify(r.Context(), "reader-token")
		var e *auth.Error
		if !errors.As(err, &e) || e.Status != http.StatusForbidden {
			t.Fatalf("Verify: %v, want a 403 *Error; an edit of an earlier error weakened the route", err)
		}
		vandal(httptest.NewRecorder(), r, e)
	}
	if _, err := audit.Authenticate(r); auth.StatusOf(err) != http.StatusForbidden {
		t.Fatalf("after editing Authenticate's and Verify's errors, a token without internal:audit gets %v", err)
	}
	if got := audit.Challenges(); !slices.Equal(got, []auth.Challenge{{Scheme: "Bearer"}}) {
		t.Errorf("Challenges() = %v after editing errors, want [{Bearer}]", got)
	}
}

// TestAsErrorDeepCopy checks that AsError's result shares no slice and no
// scope error with its argument.
func TestAsErrorDeepCopy(t *testing.T) {
	t.Parallel()
	scope := []string{"a:read", "b:read"}
	required := []string{"a:read", "b:read"}
	challenges := []auth.Challenge{{Scheme: "Bearer", Realm: "r"}}
	orig := &auth.Error{Status: 403, Code: auth.CodeInsufficientScope, Scope: scope, Challenges: challenges,
		Err: &auth.ScopeError{Missing: "a:read", Required: required}}
	for _, in := range []error{orig, fmt.Errorf("outer: %w", orig)} {
		c := auth.AsError(in)
		c.Scope[0] = "x"
		c.Challenges[0].Realm = "x"
		_ = append(c.Scope[:1], "y")
		_ = append(c.Challenges[:0], auth.Challenge{Scheme: "y"})
		if in == error(orig) {
			var se *auth.ScopeError
			if !errors.As(c.Err, &se) {
				t.Fatalf("AsError lost the ScopeError: %v", c.Err)
			}
			se.Missing = "x"
			se.Required[0] = "x"
			_ = append(se.Required[:1], "y")
		}
		if !slices.Equal(scope, []string{"a:read", "b:read"}) || !slices.Equal(required, []string{"a:read", "b:read"}) ||
			challenges[0] != (auth.Challenge{Scheme: "Bearer", Realm: "r"}) || orig.Err.(*auth.ScopeError).Missing != "a:read" {
			t.Fatalf("editing AsError(%v) changed the original: scope %q, required %q, challenges %v", in, scope, required, challenges)
		}
	}
	// Empty and nil slices keep their nil-ness, so a writer can tell "no
	// scope" from an empty list as before.
	if c := auth.AsError(&auth.Error{Status: 401}); c.Scope != nil || c.Challenges != nil {
		t.Errorf("AsError of an Error without slices: Scope %v, Challenges %v, want nil", c.Scope, c.Challenges)
	}
}

// TestErrorWriterConcurrent runs many writers that edit their errors at
// once. Under -race it fails if two of them, or a writer and the auth,
// share memory; without it, it checks that every response is still right.
func TestErrorWriterConcurrent(t *testing.T) {
	t.Parallel()
	srv := auditRoute(t, vandal)
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan string, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				token := "reader-token"
				want := http.StatusForbidden
				if (w+i)%3 == 0 {
					token, want = "", http.StatusUnauthorized
				}
				status, challenge, _ := get(t, srv, "/audit", token)
				wantChallenge := `Bearer realm="tenant-b", error="insufficient_scope", scope="reports:read"`
				if want == http.StatusUnauthorized {
					wantChallenge = `Bearer realm="tenant-b" | Injected`
				}
				if status != want || challenge != wantChallenge {
					errs <- fmt.Sprintf("worker %d request %d: %d %q, want %d with the writer's own challenges", w, i, status, challenge, want)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestErrorCopyCoversEveryMutableField fails when a field that a writer
// could mutate is added to Error, Challenge or ScopeError without being
// copied for the writer: the deep copy names the fields it copies, and this
// list must match them.
func TestErrorCopyCoversEveryMutableField(t *testing.T) {
	t.Parallel()
	copied := map[string]bool{
		"Error.Scope":         true, // copied
		"Error.Challenges":    true, // copied
		"Error.Err":           true, // a *ScopeError is copied; other causes are the verifier's own
		"ScopeError.Required": true, // copied
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[auth.Error](), reflect.TypeFor[auth.Challenge](), reflect.TypeFor[auth.ScopeError]()} {
		for f := range typ.Fields() {
			switch f.Type.Kind() {
			case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
				reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.String:
				continue // copied by value
			}
			if name := typ.Name() + "." + f.Name; !copied[name] {
				t.Errorf("%s (%s) may be shared with the auth; copy it for the error writer and list it here", name, f.Type)
			}
		}
	}
}
