package main

import (
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/examples/internal/demotest"
)

const (
	secret   = "0123456789abcdef0123456789abcdef"
	password = "correct horse battery staple"
)

// send sends a request with the given headers (each name may repeat); a
// non-nil form is sent as the urlencoded body.
func send(tb testing.TB, client *http.Client, method, url string, headers [][2]string, form url.Values) demotest.Response {
	tb.Helper()
	req := demotest.Request{Method: method, URL: url, Header: headers, Body: form.Encode(), Client: client}
	if form != nil {
		req.ContentType = "application/x-www-form-urlencoded"
	}
	return demotest.Do(tb, req)
}

// sessionCookie returns the session cookie r sets, failing if there is none.
func sessionCookie(tb testing.TB, r demotest.Response) *http.Cookie {
	tb.Helper()
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == cookieName {
			return c
		}
	}
	tb.Fatalf("no %s cookie set; headers %v", cookieName, r.Header)
	return nil
}

// login logs alice in and returns the session cookie.
func login(tb testing.TB, client *http.Client, base string) *http.Cookie {
	tb.Helper()
	r := send(tb, client, "POST", base+"/login", nil, url.Values{"username": {"alice"}, "password": {password}})
	if r.Status != http.StatusOK {
		tb.Fatalf("POST /login: status %d, body %s; want 200", r.Status, r.Body)
	}
	return sessionCookie(tb, r)
}

// mint signs a token as the program would with JWT_SECRET=secret.
func mint(tb testing.TB, secret string, claims auth.Claims) string {
	tb.Helper()
	return demotest.MintHS256(tb, secret, "urn:example:cookie", claims)
}

func TestEndpoints(t *testing.T) {
	t.Parallel()
	base, _ := demotest.Start(t, run, map[string]string{"JWT_SECRET": secret, "DEMO_PASSWORD": password})
	client := http.DefaultClient

	c := login(t, client, base)
	checkCookieAttributes(t, c, 3600)
	token := c.Value
	session := cookieName + "=" + token
	expired := mint(t, secret, auth.Claims{"sub": "alice", "iat": time.Now().Add(-2 * time.Hour).Unix(), "exp": time.Now().Add(-time.Hour).Unix()})
	forged := mint(t, "another secret of at least 32 bytes", auth.Claims{"sub": "alice"})
	const scriptChallenge = `Session realm="cookie example"`

	tests := []struct {
		name, method, path string
		headers            [][2]string
		form               url.Values
		wantStatus         int
		wantUser           string // the user of a 200 from /me or /whoami
		wantDetail         string // the problem's detail of an error
		wantChallenge      string
	}{
		{name: "me", method: "GET", path: "/me", headers: [][2]string{{"Cookie", session}},
			wantStatus: http.StatusOK, wantUser: "alice"},
		{name: "me without a cookie", method: "GET", path: "/me",
			wantStatus: http.StatusUnauthorized, wantDetail: "Not logged in"},
		{name: "me with an empty cookie", method: "GET", path: "/me", headers: [][2]string{{"Cookie", cookieName + "="}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Not logged in"},
		{name: "me with a garbage cookie", method: "GET", path: "/me", headers: [][2]string{{"Cookie", cookieName + "=garbage"}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Token is malformed"},
		{name: "me with a forged cookie", method: "GET", path: "/me", headers: [][2]string{{"Cookie", cookieName + "=" + forged}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Token signature is invalid"},
		{name: "me with an expired cookie", method: "GET", path: "/me", headers: [][2]string{{"Cookie", cookieName + "=" + expired}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Token has expired"},
		{name: "me with two cookies", method: "GET", path: "/me", headers: [][2]string{{"Cookie", session + "; " + cookieName + "=other"}},
			wantStatus: http.StatusBadRequest, wantDetail: "More than one " + cookieName + " cookie"},
		{name: "me with the token in a cookie without the prefix", method: "GET", path: "/me", headers: [][2]string{{"Cookie", "session=" + token}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Not logged in"},
		{name: "me with the token in a header", method: "GET", path: "/me", headers: [][2]string{{"Authorization", "Session " + token}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Not logged in"},

		{name: "whoami by cookie", method: "GET", path: "/whoami", headers: [][2]string{{"Cookie", session}},
			wantStatus: http.StatusOK, wantUser: "alice"},
		{name: "whoami by header", method: "GET", path: "/whoami", headers: [][2]string{{"Authorization", "Session " + token}},
			wantStatus: http.StatusOK, wantUser: "alice"},
		{name: "whoami by header, scheme in lower case", method: "GET", path: "/whoami", headers: [][2]string{{"Authorization", "session " + token}},
			wantStatus: http.StatusOK, wantUser: "alice"},
		{name: "whoami without a token", method: "GET", path: "/whoami",
			wantStatus: http.StatusUnauthorized, wantDetail: "Missing credentials", wantChallenge: scriptChallenge},
		{name: "whoami with a bearer token", method: "GET", path: "/whoami", headers: [][2]string{{"Authorization", "Bearer " + token}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Missing credentials", wantChallenge: scriptChallenge},
		{name: "whoami with a forged header", method: "GET", path: "/whoami", headers: [][2]string{{"Authorization", "Session " + forged}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Token signature is invalid", wantChallenge: scriptChallenge},
		{name: "whoami with a bad cookie", method: "GET", path: "/whoami", headers: [][2]string{{"Cookie", cookieName + "=garbage"}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Token is malformed", wantChallenge: scriptChallenge},
		{name: "whoami with a malformed header", method: "GET", path: "/whoami", headers: [][2]string{{"Authorization", "Session a b"}},
			wantStatus: http.StatusBadRequest, wantChallenge: scriptChallenge},

		{name: "login with a wrong password", method: "POST", path: "/login", form: url.Values{"username": {"alice"}, "password": {"guess"}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Invalid username or password"},
		{name: "login as nobody", method: "POST", path: "/login", form: url.Values{"username": {"mallory"}, "password": {password}},
			wantStatus: http.StatusUnauthorized, wantDetail: "Invalid username or password"},
		{name: "login without a form", method: "POST", path: "/login",
			wantStatus: http.StatusUnauthorized, wantDetail: "Invalid username or password"},
		{name: "login from another site", method: "POST", path: "/login", headers: [][2]string{{"Sec-Fetch-Site", "cross-site"}},
			form:       url.Values{"username": {"alice"}, "password": {password}},
			wantStatus: http.StatusForbidden, wantDetail: "Cross-origin request"},
		{name: "logout from another origin", method: "POST", path: "/logout", headers: [][2]string{{"Origin", "https://evil.example"}},
			wantStatus: http.StatusForbidden, wantDetail: "Cross-origin request"},
	}
	// The group returns when its parallel subtests have all finished.
	t.Run("requests", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				r := send(t, client, tt.method, base+tt.path, tt.headers, tt.form)
				demotest.Check(t, r, demotest.Want{Status: tt.wantStatus, Detail: tt.wantDetail, Challenge: tt.wantChallenge})
				if len(r.Header.Values("Set-Cookie")) != 0 {
					t.Errorf("Set-Cookie = %q; want none", r.Header.Values("Set-Cookie"))
				}
				if tt.wantStatus == http.StatusOK {
					var got struct {
						User      string  `json:"user"`
						ExpiresAt float64 `json:"expires_at"`
					}
					if err := json.Unmarshal([]byte(r.Body), &got); err != nil {
						t.Fatalf("body %q: %v", r.Body, err)
					}
					if d := time.Until(time.Unix(int64(got.ExpiresAt), 0)); got.User != tt.wantUser || d < 50*time.Minute || d > time.Hour {
						t.Errorf("body = %s; want user %q expiring in about an hour", r.Body, tt.wantUser)
					}
				}
			})
		}
	})

	t.Run("logout", func(t *testing.T) {
		r := send(t, client, "POST", base+"/logout", [][2]string{{"Cookie", session}}, nil)
		if r.Status != http.StatusNoContent {
			t.Fatalf("status = %d; want 204", r.Status)
		}
		c := sessionCookie(t, r)
		if c.Value != "" {
			t.Errorf("cookie = %+v; want an empty one", c)
		}
		checkCookieAttributes(t, c, -1)
	})
}

// TestBrowserFlow logs in and out with a cookie jar, as a browser does, over
// plain HTTP to 127.0.0.1: the jar treats loopback as a secure origin, as
// browsers treat localhost, so development needs no TLS.
func TestBrowserFlow(t *testing.T) {
	t.Parallel()
	base, out := demotest.Start(t, run, nil)
	pw := out.Line(t, "password for alice: ")
	if len(pw) < minPasswordLength {
		t.Fatalf("printed password %q; want a random one of at least %d characters", pw, minPasswordLength)
	}
	client := newJarClient(t)
	me := func() int {
		t.Helper()
		return send(t, client, "GET", base+"/me", nil, nil).Status
	}
	if got := me(); got != http.StatusUnauthorized {
		t.Fatalf("GET /me before login: %d; want 401", got)
	}
	if r := send(t, client, "POST", base+"/login", nil, url.Values{"username": {"alice"}, "password": {pw}}); r.Status != http.StatusOK {
		t.Fatalf("POST /login with the printed password: %d %s; want 200", r.Status, r.Body)
	}
	if got := me(); got != http.StatusOK {
		t.Fatalf("GET /me after login: %d; want 200", got)
	}
	if r := send(t, client, "POST", base+"/logout", nil, nil); r.Status != http.StatusNoContent {
		t.Fatalf("POST /logout: %d; want 204", r.Status)
	}
	if got := me(); got != http.StatusUnauthorized {
		t.Fatalf("GET /me after logout: %d; want 401", got)
	}
}

// checkCookieAttributes checks the attributes of a session cookie set with
// Max-Age maxAge (-1: deleted): those that the __Host- prefix requires
// (Secure, Path=/, no Domain) and HttpOnly, SameSite=Lax.
func checkCookieAttributes(tb testing.TB, c *http.Cookie, maxAge int) {
	tb.Helper()
	if c.Name != "__Host-session" || !c.Secure || c.Path != "/" || c.Domain != "" ||
		!c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.MaxAge != maxAge {
		tb.Errorf("cookie = %+v (%s); want __Host-session, Secure, Path=/, no Domain, HttpOnly, SameSite=Lax, Max-Age=%d",
			c, c.Raw, maxAge)
	}
}

// TestSecureBehindProxy serves the routes as they are deployed: over plain
// HTTP behind a proxy that terminates TLS. The cookie is Secure all the same,
// and the browser's jar sends it back over HTTPS.
func TestSecureBehindProxy(t *testing.T) {
	t.Parallel()
	a, err := newAuths([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	backend := httptest.NewServer(routes(a, map[string][sha256.Size]byte{"alice": sha256.Sum256([]byte(password))}))
	t.Cleanup(backend.Close)
	target, err := url.Parse(backend.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewTLSServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.SetXForwarded()
		r.Out.Host = r.In.Host // the backend sees the host the browser used, as CrossOriginProtection needs
	}})
	t.Cleanup(proxy.Close)

	client := proxy.Client()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client.Jar = jar
	checkCookieAttributes(t, login(t, client, proxy.URL), 3600)
	if r := send(t, client, "GET", proxy.URL+"/me", nil, nil); r.Status != http.StatusOK {
		t.Errorf("GET /me through the proxy: %d %s; want 200", r.Status, r.Body)
	}
	r := send(t, client, "POST", proxy.URL+"/logout", nil, nil)
	if r.Status != http.StatusNoContent {
		t.Fatalf("POST /logout through the proxy: %d; want 204", r.Status)
	}
	checkCookieAttributes(t, sessionCookie(t, r), -1)
	if r := send(t, client, "GET", proxy.URL+"/me", nil, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("GET /me after logout: %d; want 401", r.Status)
	}
}

// TestSecureOverTLS serves the routes over HTTPS directly: the cookie is the
// same.
func TestSecureOverTLS(t *testing.T) {
	t.Parallel()
	a, err := newAuths([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(routes(a, map[string][sha256.Size]byte{"alice": sha256.Sum256([]byte(password))}))
	t.Cleanup(srv.Close)
	c := login(t, srv.Client(), srv.URL)
	checkCookieAttributes(t, c, 3600)
	r := send(t, srv.Client(), "GET", srv.URL+"/me", [][2]string{{"Cookie", cookieName + "=" + c.Value}}, nil)
	if r.Status != http.StatusOK {
		t.Errorf("GET /me over TLS: %d %s; want 200", r.Status, r.Body)
	}
}

func TestBadConfig(t *testing.T) {
	t.Parallel()
	demotest.RunBadConfig(t, run, []demotest.BadConfig{
		{Name: "short secret", Env: map[string]string{"JWT_SECRET": "too short"}, WantErr: "JWT_SECRET: "},
		{Name: "short password", Env: map[string]string{"DEMO_PASSWORD": "hunter2"}, WantErr: "DEMO_PASSWORD is shorter than 12 characters"},
		{Name: "bad address", Env: map[string]string{"ADDR": "127.0.0.1:notaport"}, WantErr: "listening on ADDR"},
	}, "hunter2")
}

// TestMainExit runs the program itself with a bad configuration: it must
// exit with status 1 and one line on stderr.
func TestMainExit(t *testing.T) {
	t.Parallel()
	demotest.MainExit(t, main, []string{"JWT_SECRET=short", "ADDR=127.0.0.1:0"}, "cookie: JWT_SECRET: ")
}

// newJarClient returns a client that keeps cookies, as a browser does.
func newJarClient(tb testing.TB) *http.Client {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

// TestMainSignal runs the program itself and stops it with SIGTERM, as a
// process manager does: it must shut down gracefully and exit with status 0.
func TestMainSignal(t *testing.T) {
	t.Parallel()
	demotest.MainSignal(t, main, []string{"ADDR=127.0.0.1:0"})
}
