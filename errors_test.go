package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/typedauth/auth"
)

func TestErrorCategories(t *testing.T) {
	t.Parallel()
	a, _ := newTokenAuth(t)
	users := auth.Then(a.Requires("reports:read"), loadUser)
	authErr := func(headers ...header) error {
		_, err := users.Authenticate(newRequest(t, "/", headers...))
		return err
	}
	unavailable := auth.New(auth.Bearer(), func(context.Context, string) (string, error) {
		return "", auth.Unavailable("Key server unreachable").Wrap(errors.New("dial tcp: i/o timeout"))
	})
	_, unavailableErr := unavailable.Authenticate(newRequest(t, "/", bearer("x")))

	all := []error{auth.ErrUnauthorized, auth.ErrNoCredential, auth.ErrInvalidCredential, auth.ErrMalformedRequest, auth.ErrForbidden, auth.ErrUnavailable}
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantIs     []error // every sentinel of all that err matches
	}{
		{name: "sentinel no credential", err: auth.ErrNoCredential, wantStatus: 401, wantIs: []error{auth.ErrUnauthorized, auth.ErrNoCredential}},
		{name: "sentinel invalid", err: auth.ErrInvalidCredential, wantStatus: 401, wantIs: []error{auth.ErrUnauthorized, auth.ErrInvalidCredential}},
		{name: "sentinel malformed", err: auth.ErrMalformedRequest, wantStatus: 400, wantIs: []error{auth.ErrUnauthorized, auth.ErrMalformedRequest}},
		{name: "sentinel unauthorized", err: auth.ErrUnauthorized, wantStatus: 401, wantIs: []error{auth.ErrUnauthorized}},
		{name: "sentinel forbidden", err: auth.ErrForbidden, wantStatus: 403, wantIs: []error{auth.ErrForbidden}},
		{name: "sentinel unavailable", err: auth.ErrUnavailable, wantStatus: 503, wantIs: []error{auth.ErrUnavailable}},
		{name: "wrapped sentinel", err: fmt.Errorf("jwt: %w", auth.ErrInvalidCredential), wantStatus: 401, wantIs: []error{auth.ErrUnauthorized, auth.ErrInvalidCredential}},
		{name: "Unauthorized", err: auth.Unauthorized("x"), wantStatus: 401, wantIs: []error{auth.ErrUnauthorized, auth.ErrInvalidCredential}},
		{name: "Forbidden", err: auth.Forbidden("x"), wantStatus: 403, wantIs: []error{auth.ErrForbidden}},
		{name: "Unavailable", err: auth.Unavailable("x"), wantStatus: 503, wantIs: []error{auth.ErrUnavailable}},
		{name: "bare 401 Error", err: &auth.Error{Status: 401}, wantStatus: 401, wantIs: []error{auth.ErrUnauthorized}},
		{name: "bare 403 Error", err: &auth.Error{Status: 403}, wantStatus: 403, wantIs: []error{auth.ErrForbidden}},
		{name: "internal", err: errors.New("boom"), wantStatus: 500},
		{name: "Error without status", err: &auth.Error{Detail: "x"}, wantStatus: 500},
		{name: "Error with a success status", err: &auth.Error{Status: http.StatusOK}, wantStatus: 500},
		{name: "Error with a redirect status", err: &auth.Error{Status: http.StatusFound}, wantStatus: 500},
		{name: "Error with an invalid status", err: &auth.Error{Status: 1000}, wantStatus: 500},
		{name: "request without credential", err: authErr(), wantStatus: 401, wantIs: []error{auth.ErrUnauthorized, auth.ErrNoCredential}},
		{name: "request with malformed header", err: authErr(header{name: "Authorization", value: "Bearer"}), wantStatus: 400,
			wantIs: []error{auth.ErrUnauthorized, auth.ErrMalformedRequest}},
		{name: "request with bad token", err: authErr(bearer("forged")), wantStatus: 401, wantIs: []error{auth.ErrUnauthorized, auth.ErrInvalidCredential}},
		{name: "request without scope", err: authErr(bearer("ghost-token")), wantStatus: 403, wantIs: []error{auth.ErrForbidden}},
		{name: "request of unknown user", err: func() error {
			_, err := auth.Then(a.Auth, loadUser).Authenticate(newRequest(t, "/", bearer("ghost-token")))
			return err
		}(), wantStatus: 401, wantIs: []error{auth.ErrUnauthorized, auth.ErrInvalidCredential}},
		{name: "request of banned user", err: authErr(bearer("banned-token")), wantStatus: 403, wantIs: []error{auth.ErrForbidden}},
		{name: "request with key server down", err: unavailableErr, wantStatus: 503, wantIs: []error{auth.ErrUnavailable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := auth.StatusOf(tt.err); got != tt.wantStatus {
				t.Errorf("StatusOf(%v) = %d; want %d", tt.err, got, tt.wantStatus)
			}
			e := auth.AsError(tt.err)
			if e.Status != tt.wantStatus {
				t.Errorf("AsError(%v).Status = %d; want %d", tt.err, e.Status, tt.wantStatus)
			}
			var asErr *auth.Error
			if !errors.As(tt.err, &asErr) && !errors.Is(e, tt.err) {
				t.Errorf("AsError(%v) does not match its input with errors.Is", tt.err)
			}
			for _, target := range all {
				want := false
				for _, w := range tt.wantIs {
					want = want || w == target
				}
				if got := errors.Is(tt.err, target); got != want {
					t.Errorf("errors.Is(%v, %v) = %v; want %v", tt.err, target, got, want)
				}
				if got := errors.Is(e, target); got != want {
					t.Errorf("errors.Is(AsError(%v), %v) = %v; want %v", tt.err, target, got, want)
				}
			}
		})
	}
	if auth.AsError(nil) != nil || auth.StatusOf(nil) != http.StatusOK {
		t.Errorf("AsError(nil) = %v, StatusOf(nil) = %d; want nil, 200", auth.AsError(nil), auth.StatusOf(nil))
	}
	if !errors.Is(unavailableErr, auth.ErrUnavailable) || !strings.Contains(unavailableErr.Error(), "i/o timeout") {
		t.Errorf("Unavailable().Wrap lost its category or cause: %v", unavailableErr)
	}
}

func TestAsErrorTable(t *testing.T) {
	t.Parallel()
	inner := auth.Forbidden("Suspended")
	wrapped := fmt.Errorf("load user: %w", inner)
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantDetail string
		wantCode   string
	}{
		{name: "no credential", err: auth.ErrNoCredential, wantStatus: 401, wantDetail: "Missing credentials"},
		{name: "malformed", err: auth.ErrMalformedRequest, wantStatus: 400, wantDetail: "Malformed credentials", wantCode: auth.CodeInvalidRequest},
		{name: "invalid", err: auth.ErrInvalidCredential, wantStatus: 401, wantDetail: "Invalid credentials", wantCode: auth.CodeInvalidToken},
		{name: "forbidden", err: auth.ErrForbidden, wantStatus: 403, wantDetail: "Forbidden"},
		{name: "unavailable", err: auth.ErrUnavailable, wantStatus: 503, wantDetail: "Credentials cannot be verified right now"},
		{name: "internal", err: errors.New("pq: password authentication failed"), wantStatus: 500, wantDetail: "Internal Server Error"},
		{name: "wrapped Error keeps its detail", err: wrapped, wantStatus: 403, wantDetail: "Suspended"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := auth.AsError(tt.err)
			if e.Status != tt.wantStatus || e.Detail != tt.wantDetail || e.Code != tt.wantCode {
				t.Errorf("AsError(%v) = {%d %q %q}; want {%d %q %q}", tt.err, e.Status, e.Detail, e.Code, tt.wantStatus, tt.wantDetail, tt.wantCode)
			}
			if !errors.Is(e, tt.err) && e.Err != inner.Err {
				t.Errorf("AsError(%v).Err lost the input", tt.err)
			}
		})
	}
	// AsError returns a copy: changing it leaves the input alone.
	e := auth.AsError(inner)
	e.Detail = "changed"
	if inner.Detail != "Suspended" {
		t.Errorf("AsError modified its input: %q", inner.Detail)
	}
	var got *auth.Error
	if !errors.As(auth.AsError(wrapped), &got) || got.Detail != "Suspended" {
		t.Errorf("errors.As through AsError(wrapped) = %v", got)
	}
}

func TestErrorWrap(t *testing.T) {
	t.Parallel()
	cause := errors.New("signature mismatch")
	e := auth.Unauthorized("Bad signature").Wrap(cause)
	if !errors.Is(e, auth.ErrInvalidCredential) || !errors.Is(e, cause) {
		t.Errorf("Wrap: errors.Is category %v, cause %v; want both", errors.Is(e, auth.ErrInvalidCredential), errors.Is(e, cause))
	}
	const want = "auth: 401 Bad signature: auth: invalid credential: signature mismatch"
	if e.Error() != want {
		t.Errorf("Error() = %q; want %q", e.Error(), want)
	}
	bare := (&auth.Error{Status: 500}).Wrap(cause)
	if bare.Err != cause {
		t.Errorf("Wrap of an Error without cause: Err = %v; want the cause itself", bare.Err)
	}
}

func TestDefaultWriterHidesInternalErrors(t *testing.T) {
	t.Parallel()
	secret := "dial tcp 10.1.2.3:5432: password=hunter2"
	tests := []struct {
		name string
		err  error
	}{
		{name: "plain error", err: errors.New(secret)},
		{name: "500 Error with a detail", err: &auth.Error{Status: 500, Detail: secret}},
		{name: "500 Error with a title", err: &auth.Error{Status: 500, Title: secret, Detail: "x"}},
		{name: "Error with a success status", err: &auth.Error{Status: 200, Detail: secret}},
		{name: "wrapped cause of a 401", err: auth.Unauthorized("Invalid token").Wrap(errors.New(secret))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := auth.New(auth.Bearer(), func(context.Context, string) (string, error) { return "", tt.err })
			rec := serve(t, a.Guard(subHandler), newRequest(t, "/", bearer("x")))
			if strings.Contains(rec.Body.String(), "hunter2") || strings.Contains(strings.Join(rec.Header().Values("WWW-Authenticate"), " "), "hunter2") {
				t.Errorf("response leaks the cause: %q %q", rec.Header(), rec.Body.String())
			}
			if rec.Code == http.StatusOK {
				t.Errorf("a verifier error was served with 200")
			}
		})
	}
}

func TestWriteErrorNil(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	auth.WriteError(rec, newRequest(t, "/"), nil)
	checkProblem(t, rec, http.StatusInternalServerError, "Internal Server Error")
}

func TestWriteErrorTitle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		err       *auth.Error
		wantType  string
		wantTitle string
	}{
		// RFC 9457 §4.2.1: with about:blank, the title is the status phrase.
		{name: "about:blank by default", err: &auth.Error{Status: 401, Title: "Nope"}, wantType: "about:blank", wantTitle: "Unauthorized"},
		{name: "explicit about:blank", err: &auth.Error{Status: 403, Type: "about:blank", Title: "Nope"}, wantType: "about:blank", wantTitle: "Forbidden"},
		{name: "own type keeps its title", err: &auth.Error{Status: 401, Type: "https://example.com/probs/expired", Title: "Token expired"},
			wantType: "https://example.com/probs/expired", wantTitle: "Token expired"},
		{name: "own type without title", err: &auth.Error{Status: 401, Type: "https://example.com/probs/expired"},
			wantType: "https://example.com/probs/expired", wantTitle: "Unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder()
			auth.WriteError(rec, newRequest(t, "/"), tt.err)
			want := fmt.Sprintf(`{"type":%q,"title":%q,"status":%d}`, tt.wantType, tt.wantTitle, tt.err.Status)
			if rec.Body.String() != want {
				t.Errorf("body = %s; want %s", rec.Body.String(), want)
			}
		})
	}
}

func TestWithErrorWriter(t *testing.T) {
	t.Parallel()
	var logged []error
	write := func(w http.ResponseWriter, r *http.Request, e *auth.Error) {
		logged = append(logged, e.Err)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(e.Status)
		fmt.Fprintf(w, "denied: %s (%d challenges)", e.Detail, len(e.Challenges))
	}
	a, _ := newTokenAuth(t, auth.WithErrorWriter(write))
	for _, g := range []auth.Guarder{a, a.Requires("admin:read"), auth.Then(a.Auth, loadUser)} {
		rec := serve(t, g.Guard(subHandler), newRequest(t, "/", bearer("forged")))
		if rec.Code != 401 || rec.Body.String() != "denied: Unknown token (1 challenges)" {
			t.Errorf("got %d %q; want the custom writer's 401", rec.Code, rec.Body.String())
		}
	}
	rec := serve(t, auth.Then(a.Auth, loadUser).Guard(subHandler), newRequest(t, "/", bearer("db-token")))
	if rec.Code != 500 {
		t.Errorf("status = %d; want 500", rec.Code)
	}
	if len(logged) != 4 || !errors.Is(logged[3], errDBDown) {
		t.Errorf("writer saw causes %v; want 4 with the database error last", logged)
	}
	// A nil writer keeps the default.
	b, _ := newTokenAuth(t, auth.WithErrorWriter(nil))
	checkProblem(t, serve(t, b.Guard(subHandler), newRequest(t, "/")), 401, "Missing credentials")
}

func TestWithChallenge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		scheme    string
		realm     string
		headers   []header
		required  []string
		wantChall []string
	}{
		{name: "realm on a bare challenge", scheme: "Bearer", realm: "api", wantChall: []string{`Bearer realm="api"`}},
		{name: "realm before the error", scheme: "Bearer", realm: "api", headers: []header{bearer("forged")},
			wantChall: []string{`Bearer realm="api", error="invalid_token", error_description="Unknown token"`}},
		{name: "realm with insufficient scope", scheme: "Bearer", realm: "api", headers: []header{bearer("bob-token")}, required: []string{"admin:read"},
			wantChall: []string{`Bearer realm="api", error="insufficient_scope", scope="admin:read"`}},
		{name: "realm is sanitised", scheme: "Bearer", realm: "a\"b\\c\r\nd", wantChall: []string{`Bearer realm="a?b?c??d"`}},
		{name: "other scheme gets no RFC 6750 parameters", scheme: "DPoP", realm: "api", headers: []header{bearer("forged")},
			wantChall: []string{`DPoP realm="api"`}},
		{name: "other scheme gets no 403 challenge", scheme: "DPoP", headers: []header{bearer("bob-token")}, required: []string{"admin:read"}},
		{name: "no challenge", scheme: "", realm: "ignored"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, _ := newTokenAuth(t, auth.WithChallenge(tt.scheme, tt.realm))
			rec := serve(t, a.Requires(tt.required...).Guard(subHandler), newRequest(t, "/", tt.headers...))
			checkChallenges(t, rec, tt.wantChall...)
		})
	}
}

func TestWithChallengePanicsOnInvalidScheme(t *testing.T) {
	t.Parallel()
	for _, scheme := range []string{"Bearer realm", "Bearer\r\nX-Evil: 1", `Bea"rer`, "Bearer,", "Bäarer"} {
		if msg := panicMessage(t, func() { auth.WithChallenge(scheme, "") }); !strings.HasPrefix(msg, "auth: WithChallenge") {
			t.Errorf("WithChallenge(%q) panic = %q; want a WithChallenge panic", scheme, msg)
		}
	}
}

func TestWriteErrorSkipsInvalidChallengeSchemes(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	auth.WriteError(rec, newRequest(t, "/"), &auth.Error{Status: 401, Challenges: []auth.Challenge{
		{Scheme: "Bearer\r\nSet-Cookie: a=b"}, {Scheme: `Evil"`}, {Scheme: ""}, {Scheme: "APIKey"},
	}})
	checkChallenges(t, rec, "APIKey")
}

func TestErrorDescriptionSanitised(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		detail string
		want   string
	}{
		{name: "plain", detail: "Token expired", want: `Bearer error="invalid_token", error_description="Token expired"`},
		{name: "quote", detail: `say "hi"`, want: `Bearer error="invalid_token", error_description="say ?hi?"`},
		{name: "backslash", detail: `a\"b`, want: `Bearer error="invalid_token", error_description="a??b"`},
		{name: "CRLF", detail: "a\r\nSet-Cookie: x=y", want: `Bearer error="invalid_token", error_description="a??Set-Cookie: x=y"`},
		{name: "NUL and DEL", detail: "a\x00b\x7f", want: `Bearer error="invalid_token", error_description="a?b?"`},
		{name: "tab", detail: "a\tb", want: `Bearer error="invalid_token", error_description="a?b"`},
		{name: "non-ASCII", detail: "é", want: `Bearer error="invalid_token", error_description="??"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := auth.New(auth.Bearer(), func(context.Context, string) (string, error) { return "", auth.Unauthorized(tt.detail) })
			rec := serve(t, a.Guard(subHandler), newRequest(t, "/", bearer("x")))
			checkChallenges(t, rec, tt.want)
			// The body carries the detail as JSON, escaped but intact.
			checkProblem(t, rec, http.StatusUnauthorized, tt.detail)
		})
	}
}

func TestWithMissingDetail(t *testing.T) {
	t.Parallel()
	a, _ := newTokenAuth(t, auth.WithMissingDetail("Log in first"))
	rec := serve(t, a.Optional(subHandler), newRequest(t, "/"))
	if rec.Code != http.StatusTeapot {
		t.Errorf("Optional without credential: status = %d; want the handler to run", rec.Code)
	}
	rec = serve(t, a.Guard(subHandler), newRequest(t, "/"))
	checkProblem(t, rec, http.StatusUnauthorized, "Log in first")
	checkChallenges(t, rec, "Bearer")
	_, err := a.Authenticate(newRequest(t, "/"))
	if !errors.Is(err, auth.ErrNoCredential) {
		t.Errorf("Authenticate error = %v; want ErrNoCredential", err)
	}
}
