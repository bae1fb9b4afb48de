package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/typedauth/auth"
)

func TestBearerGuard(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", auth.DefaultMaxCredentialLength+1)
	atCap := strings.Repeat("a", auth.DefaultMaxCredentialLength)
	tests := []struct {
		name       string
		headers    []header
		wantStatus int
		wantBody   string // for 200
		wantDetail string // for errors
		wantChall  []string
		wantCalls  int64
	}{
		{
			name:       "no header",
			wantStatus: http.StatusUnauthorized,
			wantDetail: "Missing credentials",
			wantChall:  []string{"Bearer"},
		},
		{
			name:       "basic scheme is no bearer credential",
			headers:    []header{{name: "Authorization", value: "Basic YWxhZGRpbjpvcGVuc2VzYW1l"}},
			wantStatus: http.StatusUnauthorized,
			wantDetail: "Missing credentials",
			wantChall:  []string{"Bearer"},
		},
		{
			name:       "valid",
			headers:    []header{bearer("alice-token")},
			wantStatus: http.StatusOK,
			wantBody:   "alice",
			wantCalls:  1,
		},
		{
			name:       "lower-case scheme",
			headers:    []header{{name: "Authorization", value: "bearer alice-token"}},
			wantStatus: http.StatusOK,
			wantBody:   "alice",
			wantCalls:  1,
		},
		{
			name:       "upper-case scheme",
			headers:    []header{{name: "Authorization", value: "BEARER alice-token"}},
			wantStatus: http.StatusOK,
			wantBody:   "alice",
			wantCalls:  1,
		},
		{
			name:       "several spaces and surrounding white space",
			headers:    []header{{name: "Authorization", value: " \tBearer   alice-token \t"}},
			wantStatus: http.StatusOK,
			wantBody:   "alice",
			wantCalls:  1,
		},
		{
			name:       "unknown token",
			headers:    []header{bearer("nope")},
			wantStatus: http.StatusUnauthorized,
			wantDetail: "Unknown token",
			wantChall:  []string{`Bearer error="invalid_token", error_description="Unknown token"`},
			wantCalls:  1,
		},
		{
			name:       "token68 padding reaches the verifier",
			headers:    []header{bearer("abc==")},
			wantStatus: http.StatusUnauthorized,
			wantDetail: "Unknown token",
			wantChall:  []string{`Bearer error="invalid_token", error_description="Unknown token"`},
			wantCalls:  1,
		},
		{
			name:       "scheme alone",
			headers:    []header{{name: "Authorization", value: "Bearer"}},
			wantStatus: http.StatusBadRequest,
			wantDetail: "No token after the scheme name",
			wantChall:  []string{`Bearer error="invalid_request", error_description="No token after the scheme name"`},
		},
		{
			name:       "scheme and a space",
			headers:    []header{{name: "Authorization", value: "Bearer "}},
			wantStatus: http.StatusBadRequest,
			wantDetail: "No token after the scheme name",
			wantChall:  []string{`Bearer error="invalid_request", error_description="No token after the scheme name"`},
		},
		{
			name:       "two tokens",
			headers:    []header{{name: "Authorization", value: "Bearer a b"}},
			wantStatus: http.StatusBadRequest,
			wantDetail: "The token is not a single token68 value",
			wantChall:  []string{`Bearer error="invalid_request", error_description="The token is not a single token68 value"`},
		},
		{
			name:       "two Authorization headers",
			headers:    []header{bearer("alice-token"), bearer("bob-token")},
			wantStatus: http.StatusBadRequest,
			wantDetail: "More than one Authorization header",
			wantChall:  []string{`Bearer error="invalid_request", error_description="More than one Authorization header"`},
		},
		{
			name:       "valid token and a second, foreign header",
			headers:    []header{bearer("alice-token"), {name: "Authorization", value: "Basic Zm9v"}},
			wantStatus: http.StatusBadRequest,
			wantDetail: "More than one Authorization header",
			wantChall:  []string{`Bearer error="invalid_request", error_description="More than one Authorization header"`},
		},
		{
			name:       "empty header",
			headers:    []header{{name: "Authorization", value: ""}},
			wantStatus: http.StatusBadRequest,
			wantDetail: "Empty Authorization header",
			wantChall:  []string{`Bearer error="invalid_request", error_description="Empty Authorization header"`},
		},
		{
			name:       "NUL in token",
			headers:    []header{bearer("alice\x00token")},
			wantStatus: http.StatusBadRequest,
			wantDetail: "The token is not a single token68 value",
			wantChall:  []string{`Bearer error="invalid_request", error_description="The token is not a single token68 value"`},
		},
		{
			name:       "CR LF in token",
			headers:    []header{bearer("alice\r\nX-Evil: 1")},
			wantStatus: http.StatusBadRequest,
			wantDetail: "The token is not a single token68 value",
			wantChall:  []string{`Bearer error="invalid_request", error_description="The token is not a single token68 value"`},
		},
		{
			name:       "DEL in token",
			headers:    []header{bearer("alice\x7f")},
			wantStatus: http.StatusBadRequest,
			wantDetail: "The token is not a single token68 value",
			wantChall:  []string{`Bearer error="invalid_request", error_description="The token is not a single token68 value"`},
		},
		{
			name:       "quote in token",
			headers:    []header{bearer(`ali"ce`)},
			wantStatus: http.StatusBadRequest,
			wantDetail: "The token is not a single token68 value",
			wantChall:  []string{`Bearer error="invalid_request", error_description="The token is not a single token68 value"`},
		},
		{
			name:       "comma-separated parameters",
			headers:    []header{bearer("a,b")},
			wantStatus: http.StatusBadRequest,
			wantDetail: "The token is not a single token68 value",
			wantChall:  []string{`Bearer error="invalid_request", error_description="The token is not a single token68 value"`},
		},
		{
			name:       "equals sign inside the token",
			headers:    []header{bearer("a=b")},
			wantStatus: http.StatusBadRequest,
			wantDetail: "The token is not a single token68 value",
			wantChall:  []string{`Bearer error="invalid_request", error_description="The token is not a single token68 value"`},
		},
		{
			name:       "non-ASCII token",
			headers:    []header{bearer("tökén")},
			wantStatus: http.StatusBadRequest,
			wantDetail: "The token is not a single token68 value",
			wantChall:  []string{`Bearer error="invalid_request", error_description="The token is not a single token68 value"`},
		},
		{
			name:       "tab after the scheme",
			headers:    []header{{name: "Authorization", value: "Bearer\talice-token"}},
			wantStatus: http.StatusBadRequest,
			wantDetail: "The Authorization header names no valid scheme",
			wantChall:  []string{`Bearer error="invalid_request", error_description="The Authorization header names no valid scheme"`},
		},
		{
			name:       "control character as scheme",
			headers:    []header{{name: "Authorization", value: "\x00 tok"}},
			wantStatus: http.StatusBadRequest,
			wantDetail: "The Authorization header names no valid scheme",
			wantChall:  []string{`Bearer error="invalid_request", error_description="The Authorization header names no valid scheme"`},
		},
		{
			name:       "over the default cap",
			headers:    []header{bearer(long)},
			wantStatus: http.StatusUnauthorized,
			wantDetail: "Credential is too long",
			wantChall:  []string{`Bearer error="invalid_token", error_description="Credential is too long"`},
		},
		{
			name:       "at the default cap",
			headers:    []header{bearer(atCap)},
			wantStatus: http.StatusUnauthorized,
			wantDetail: "Unknown token",
			wantChall:  []string{`Bearer error="invalid_token", error_description="Unknown token"`},
			wantCalls:  1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, v := newTokenAuth(t)
			rec := serve(t, a.Guard(subHandler), newRequest(t, "/", tt.headers...))
			if tt.wantStatus == http.StatusOK {
				if rec.Code != http.StatusOK || rec.Body.String() != tt.wantBody {
					t.Errorf("got %d %q; want 200 %q", rec.Code, rec.Body.String(), tt.wantBody)
				}
			} else {
				checkProblem(t, rec, tt.wantStatus, tt.wantDetail)
			}
			checkChallenges(t, rec, tt.wantChall...)
			if got := v.calls.Load(); got != tt.wantCalls {
				t.Errorf("verifier calls = %d; want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestWithMaxCredentialLength(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		token      string
		wantStatus int
		wantCalls  int64
	}{
		{name: "under", token: "1234567", wantStatus: http.StatusUnauthorized, wantCalls: 1},
		{name: "at", token: "12345678", wantStatus: http.StatusUnauthorized, wantCalls: 1},
		{name: "over", token: "123456789", wantStatus: http.StatusUnauthorized, wantCalls: 0},
		{name: "far over", token: strings.Repeat("9", 1<<20), wantStatus: http.StatusUnauthorized, wantCalls: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, v := newTokenAuth(t, auth.WithMaxCredentialLength(8))
			rec := serve(t, a.Guard(subHandler), newRequest(t, "/", bearer(tt.token)))
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d; want %d", rec.Code, tt.wantStatus)
			}
			if got := v.calls.Load(); got != tt.wantCalls {
				t.Errorf("verifier calls = %d; want %d", got, tt.wantCalls)
			}
			_, err := a.Authenticate(newRequest(t, "/", bearer(tt.token)))
			if !errors.Is(err, auth.ErrInvalidCredential) {
				t.Errorf("Authenticate error = %v; want ErrInvalidCredential", err)
			}
		})
	}
}

func TestWithMaxCredentialLengthPanics(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, -1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("WithMaxCredentialLength(%d) did not panic", n)
				}
			}()
			auth.WithMaxCredentialLength(n)
		}()
	}
}

func TestParseAuthorization(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		values  []string
		scheme  string
		want    string
		wantErr error
	}{
		{name: "absent", scheme: "Bearer"},
		{name: "bearer", values: []string{"Bearer abc"}, scheme: "Bearer", want: "abc"},
		{name: "other scheme name", values: []string{"DPoP abc.def"}, scheme: "DPoP", want: "abc.def"},
		{name: "other scheme name, case folded", values: []string{"dpop abc"}, scheme: "DPoP", want: "abc"},
		{name: "foreign scheme", values: []string{"Bearer abc"}, scheme: "DPoP"},
		{name: "kelvin sign is not k", values: []string{"To\u212Aen abc"}, scheme: "Token", wantErr: auth.ErrMalformedRequest},
		{name: "long s is not s", values: []string{"Ba\u017Fic abc"}, scheme: "Basic", wantErr: auth.ErrMalformedRequest},
		{name: "missing token", values: []string{"DPoP"}, scheme: "DPoP", wantErr: auth.ErrMalformedRequest},
		{name: "twice", values: []string{"DPoP a", "DPoP a"}, scheme: "DPoP", wantErr: auth.ErrMalformedRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for _, v := range tt.values {
				h.Add("Authorization", v)
			}
			got, err := auth.ParseAuthorization(h, tt.scheme)
			if got != tt.want || !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("ParseAuthorization(%q, %q) = %q, %v; want %q, %v", tt.values, tt.scheme, got, err, tt.want, tt.wantErr)
			}
			if err != nil && auth.StatusOf(err) != http.StatusBadRequest {
				t.Errorf("StatusOf(%v) = %d; want 400", err, auth.StatusOf(err))
			}
		})
	}
}

// sessionCookie is a custom cookie scheme, in one line.
var sessionCookie = auth.SchemeFunc(func(r *http.Request) (string, error) {
	if c, err := r.Cookie("session"); err == nil {
		return c.Value, nil
	}
	return "", nil
})

func TestSchemes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		scheme  auth.Scheme
		target  string
		headers []header
		want    string
		wantErr error
	}{
		{name: "header", scheme: auth.Header("X-Api-Key"), headers: []header{{name: "X-Api-Key", value: "k1"}}, want: "k1"},
		{name: "header name is canonicalised", scheme: auth.Header("x-api-key"), headers: []header{{name: "X-API-KEY", value: "k1"}}, want: "k1"},
		{name: "header trimmed", scheme: auth.Header("X-Api-Key"), headers: []header{{name: "X-Api-Key", value: " k1\t"}}, want: "k1"},
		{name: "header absent", scheme: auth.Header("X-Api-Key")},
		{name: "header empty", scheme: auth.Header("X-Api-Key"), headers: []header{{name: "X-Api-Key", value: ""}}},
		{name: "header twice", scheme: auth.Header("X-Api-Key"), headers: []header{{name: "X-Api-Key", value: "a"}, {name: "X-Api-Key", value: "b"}}, wantErr: auth.ErrMalformedRequest},
		{name: "cookie", scheme: auth.Cookie("session"), headers: []header{{name: "Cookie", value: "theme=dark; session=s1"}}, want: "s1"},
		{name: "cookie absent", scheme: auth.Cookie("session"), headers: []header{{name: "Cookie", value: "theme=dark"}}},
		{name: "cookie twice", scheme: auth.Cookie("session"), headers: []header{{name: "Cookie", value: "session=a; session=b"}}, wantErr: auth.ErrMalformedRequest},
		{name: "custom cookie scheme", scheme: sessionCookie, headers: []header{{name: "Cookie", value: "session=s1"}}, want: "s1"},
		{name: "custom cookie scheme absent", scheme: sessionCookie},
		{name: "query", scheme: auth.Query("access_token"), target: "/?access_token=q1", want: "q1"},
		{name: "query escaped", scheme: auth.Query("access_token"), target: "/?access_token=" + url.QueryEscape("a+b/c="), want: "a+b/c="},
		{name: "query absent", scheme: auth.Query("access_token"), target: "/?other=1"},
		{name: "query twice", scheme: auth.Query("access_token"), target: "/?access_token=a&access_token=b", wantErr: auth.ErrMalformedRequest},
		{name: "first of: first wins", scheme: auth.FirstOf(auth.Bearer(), auth.Cookie("session")),
			headers: []header{bearer("b1"), {name: "Cookie", value: "session=s1"}}, want: "b1"},
		{name: "first of: falls through", scheme: auth.FirstOf(auth.Bearer(), auth.Cookie("session")),
			headers: []header{{name: "Cookie", value: "session=s1"}}, want: "s1"},
		{name: "first of: foreign Authorization falls through", scheme: auth.FirstOf(auth.Bearer(), auth.Cookie("session")),
			headers: []header{{name: "Authorization", value: "Basic Zm9v"}, {name: "Cookie", value: "session=s1"}}, want: "s1"},
		{name: "first of: malformed stops", scheme: auth.FirstOf(auth.Bearer(), auth.Cookie("session")),
			headers: []header{{name: "Authorization", value: "Bearer a b"}, {name: "Cookie", value: "session=s1"}}, wantErr: auth.ErrMalformedRequest},
		{name: "first of: ErrNoCredential moves on", scheme: auth.FirstOf(auth.SchemeFunc(func(*http.Request) (string, error) { return "", auth.ErrNoCredential }), auth.Query("t")),
			target: "/?t=q", want: "q"},
		{name: "first of: none", scheme: auth.FirstOf(auth.Bearer(), auth.Query("t"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			target := tt.target
			if target == "" {
				target = "/"
			}
			got, err := tt.scheme.Credential(newRequest(t, target, tt.headers...))
			if got != tt.want || !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("scheme = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestSchemesThroughGuard(t *testing.T) {
	t.Parallel()
	verify := func(_ context.Context, raw string) (string, error) {
		if raw != "s3cret" {
			return "", auth.Unauthorized("Unknown session")
		}
		return "alice", nil
	}
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("hello " + auth.MustFrom[string](r.Context())))
	})
	tests := []struct {
		name       string
		scheme     auth.Scheme
		target     string
		headers    []header
		wantStatus int
	}{
		{name: "header ok", scheme: auth.Header("X-Token"), headers: []header{{name: "X-Token", value: "s3cret"}}, wantStatus: http.StatusOK},
		{name: "header wrong", scheme: auth.Header("X-Token"), headers: []header{{name: "X-Token", value: "guess"}}, wantStatus: http.StatusUnauthorized},
		{name: "header twice", scheme: auth.Header("X-Token"), headers: []header{{name: "X-Token", value: "s3cret"}, {name: "X-Token", value: "s3cret"}}, wantStatus: http.StatusBadRequest},
		{name: "cookie ok", scheme: auth.Cookie("session"), headers: []header{{name: "Cookie", value: "session=s3cret"}}, wantStatus: http.StatusOK},
		{name: "cookie missing", scheme: auth.Cookie("session"), wantStatus: http.StatusUnauthorized},
		{name: "custom cookie ok", scheme: sessionCookie, headers: []header{{name: "Cookie", value: "session=s3cret"}}, wantStatus: http.StatusOK},
		{name: "custom cookie wrong", scheme: sessionCookie, headers: []header{{name: "Cookie", value: "session=x"}}, wantStatus: http.StatusUnauthorized},
		{name: "query ok", scheme: auth.Query("access_token"), target: "/?access_token=s3cret", wantStatus: http.StatusOK},
		{name: "query twice", scheme: auth.Query("access_token"), target: "/?access_token=s3cret&access_token=x", wantStatus: http.StatusBadRequest},
		{name: "first of ok", scheme: auth.FirstOf(auth.Bearer(), sessionCookie), headers: []header{{name: "Cookie", value: "session=s3cret"}}, wantStatus: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := auth.New(tt.scheme, verify, auth.WithChallenge("", ""))
			target := tt.target
			if target == "" {
				target = "/"
			}
			rec := serve(t, a.Guard(hello), newRequest(t, target, tt.headers...))
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d; want %d (body %q)", rec.Code, tt.wantStatus, rec.Body.String())
			}
			if tt.wantStatus == http.StatusOK && rec.Body.String() != "hello alice" {
				t.Errorf("body = %q; want %q", rec.Body.String(), "hello alice")
			}
			// WithChallenge("", "") sends no challenge, as for a browser session.
			checkChallenges(t, rec)
		})
	}
}

func TestFirstOfPanics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		schemes []auth.Scheme
	}{
		{name: "none"},
		{name: "nil", schemes: []auth.Scheme{auth.Bearer(), nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if recover() == nil {
					t.Error("FirstOf did not panic")
				}
			}()
			auth.FirstOf(tt.schemes...)
		})
	}
}

// TestSchemeAccessorsReturnCopies checks that changing what a scheme's
// Challenges or Descriptions returned reaches neither the scheme nor the
// Auths built from it afterwards.
func TestSchemeAccessorsReturnCopies(t *testing.T) {
	schemes := map[string]auth.Scheme{
		"bearer":  auth.Bearer(),
		"query":   auth.Query("access_token"),
		"header":  auth.Header("X-Key"),
		"cookie":  auth.Cookie("session"),
		"firstOf": auth.FirstOf(auth.Bearer(), auth.Query("access_token")),
	}
	for name, s := range schemes {
		t.Run(name, func(t *testing.T) {
			wantC, wantD := slices.Clone(s.Challenges()), slices.Clone(s.Descriptions())
			if c := s.Challenges(); len(c) > 0 {
				c[0].Realm = "vandal"
			}
			if d := s.Descriptions(); len(d) > 0 {
				d[0].Name = "vandal"
			}
			if got := s.Challenges(); !reflect.DeepEqual(got, wantC) {
				t.Errorf("Challenges() after a caller's edit = %v; want %v", got, wantC)
			}
			if got := s.Descriptions(); !reflect.DeepEqual(got, wantD) {
				t.Errorf("Descriptions() after a caller's edit = %v; want %v", got, wantD)
			}
			a := auth.New(s, func(context.Context, string) (string, error) { return "p", nil })
			if got := a.Challenges(); !reflect.DeepEqual(got, wantC) {
				t.Errorf("Auth.Challenges() = %v; want %v", got, wantC)
			}
		})
	}
}

// TestBearerToken68EveryByte places every byte value at every position of
// tokens of 1 to 20 bytes (before, inside and after the scan's blocks of
// eight), as a token character and in the padding, and checks Bearer's
// verdict against token68 as isToken68 (fuzz_test.go) defines it.
func TestBearerToken68EveryByte(t *testing.T) {
	const body = "eyJhbGciOiJIUzI1NiJ9"
	for n := 1; n <= len(body); n++ {
		for pos := range n + 2 {
			for c := range 256 {
				tok := []byte(body[:n] + "==")
				if pos >= len(tok) {
					continue
				}
				tok[pos] = byte(c)
				if strings.ContainsAny(string(tok), " \t\r\n,") {
					continue // separators: the header's syntax, not token68's
				}
				h := http.Header{"Authorization": {"Bearer " + string(tok)}}
				_, err := auth.ParseAuthorization(h, "Bearer")
				if want := isToken68(string(tok)); (err == nil) != want {
					t.Fatalf("token %q: error %v; token68 %v", tok, err, want)
				}
			}
		}
	}
}
