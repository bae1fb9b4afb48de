package bench

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
)

// newEnv returns an Env closed when the test ends.
func newEnv(tb testing.TB) *Env {
	tb.Helper()
	e, err := NewEnv()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(e.Close)
	return e
}

// TestSubjectsReject serves every token kind to every subject in every
// scenario the benchmarks measure: the valid token must reach the handler
// (200, body sub) and each invalid one must be rejected, 401 for the token
// checks and 403 for a missing scope. A check a subject is marked as
// lacking must indeed pass, so that the mark stays true.
func TestSubjectsReject(t *testing.T) {
	e := newEnv(t)
	for _, g := range Groups() {
		if g.Parallel || g.PauseGC {
			continue // the same scenarios as the alg group
		}
		for _, c := range g.Cells {
			for _, sub := range Subjects() {
				t.Run(g.Name+"/"+c.Name+"/"+sub.Name, func(t *testing.T) {
					t.Parallel()
					if sub.Reason(c.Scenario) != "" {
						return // an n/a cell, not benchmarked
					}
					h, err := sub.Build(t.Context(), e, c.Scenario)
					if err != nil {
						t.Fatal(err)
					}
					kinds := []Token{Valid, BadSignature, Expired, ForeignIssuer, ForeignAudience}
					if len(c.Scenario.Required) > 0 {
						kinds = append(kinds, MissingScope)
					}
					for _, kind := range kinds {
						tok, err := e.Token(c.Scenario, kind)
						if err != nil {
							t.Fatal(err)
						}
						code, body := serve(h, tok)
						want := http.StatusUnauthorized
						switch {
						case kind == Valid || slices.Contains(sub.Lacks, kind):
							want = http.StatusOK
						case kind == MissingScope:
							want = http.StatusForbidden
						}
						if code != want {
							t.Errorf("%s token: status %d, want %d (body %q)", kind, code, want, body)
						}
						if (code == http.StatusOK) != (body == Sub) {
							t.Errorf("%s token: status %d with body %q", kind, code, body)
						}
					}
					if code, _ := serve(h, ""); code == http.StatusOK {
						t.Errorf("request without a token: status %d", code)
					}
				})
			}
		}
	}
}

// serve sends one GET / with tok as bearer token (none when empty).
func serve(h http.Handler, tok string) (int, string) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

// TestTokensDiffer checks that each invalid token is a different token
// from the valid one, signed, with the claim it is about changed.
func TestTokensDiffer(t *testing.T) {
	e := newEnv(t)
	s := Scenario{Alg: "HS256", Granted: GrantedScopes, Required: RequiredScopes(4)}
	seen := map[string]Token{}
	for _, kind := range []Token{Valid, BadSignature, Expired, ForeignIssuer, ForeignAudience, MissingScope} {
		tok, err := e.Token(s, kind)
		if err != nil {
			t.Fatal(err)
		}
		if prev, ok := seen[tok]; ok {
			t.Errorf("%s token equals the %s token", kind, prev)
		}
		seen[tok] = kind
	}
	if _, err := e.Token(Scenario{Alg: "HS256"}, MissingScope); err == nil {
		t.Error("a missing-scope token for a scenario without scopes was made")
	}
}

// TestScopeGroupTokens checks that every cell of the scope group, the one
// requiring no scope included, sends the same 20 granted scopes, so that
// the cells differ only in the check.
func TestScopeGroupTokens(t *testing.T) {
	e := newEnv(t)
	for _, g := range Groups() {
		if g.Name != "scopes" {
			continue
		}
		for _, c := range g.Cells {
			tok, err := e.Token(c.Scenario, Valid)
			if err != nil {
				t.Fatal(err)
			}
			claims := gojwt.MapClaims{}
			if _, _, err := gojwt.NewParser().ParseUnverified(tok, claims); err != nil {
				t.Fatal(err)
			}
			scope, _ := claims["scope"].(string)
			if got := strings.Fields(scope); !slices.Equal(got, GrantedScopes) {
				t.Errorf("%s: token grants %q, want the %d scopes of GrantedScopes", c.Name, got, len(GrantedScopes))
			}
		}
	}
}

func TestSettledMean(t *testing.T) {
	us := time.Microsecond
	// Nine requests around 10 µs, one 20 µs (a collection: kept) and one
	// 5 ms (descheduled: left out).
	ts := []time.Duration{10 * us, 11 * us, 9 * us, 10 * us, 20 * us, 10 * us, 5000 * us, 10 * us, 11 * us, 9 * us, 10 * us}
	if got, want := settledMean(ts), 110*us/10; got != want {
		t.Errorf("settledMean = %v, want %v", got, want)
	}
	if got := settledMean(nil); got != 0 {
		t.Errorf("settledMean(nil) = %v", got)
	}
}
