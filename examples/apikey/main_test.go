package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/typedauth/auth/apikey"
	"github.com/typedauth/auth/examples/internal/demotest"
)

func TestPing(t *testing.T) {
	t.Parallel()
	base, out := demotest.Start(t, run, nil)
	billing := out.Line(t, "key for billing: ")
	reports := out.Line(t, "key for reports: ")
	if billing == reports || !strings.HasPrefix(billing, "sk_") {
		t.Fatalf("generated keys %q and %q; want two distinct sk_ keys", billing, reports)
	}
	if got, want := out.Line(t, "security scheme: "), `apiKey in header "Authorization-Key" (Service key, issued per client)`; got != want {
		t.Errorf("security scheme = %q; want %q", got, want)
	}
	runPingTests(t, base, billing, reports)
}

// TestKeysFromEnvironment configures the keys with API_KEYS: they work and
// are never printed.
func TestKeysFromEnvironment(t *testing.T) {
	t.Parallel()
	const billing, reports = "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1", "r2r2r2r2r2r2r2r2r2r2r2r2r2r2r2r2"
	base, out := demotest.Start(t, run, map[string]string{"API_KEYS": "billing=" + billing + ", reports=" + reports})
	if s := out.String(); strings.Contains(s, billing) || strings.Contains(s, reports) || strings.Contains(s, "key for") {
		t.Errorf("the program printed keys it was given:\n%s", s)
	}
	runPingTests(t, base, billing, reports)
}

func runPingTests(t *testing.T, base, billing, reports string) {
	t.Helper()
	invalid := demotest.Want{Status: http.StatusUnauthorized, Detail: "Invalid API Key", Challenge: "APIKey"}
	tests := []struct {
		name    string
		headers [][2]string
		want    demotest.Want
	}{
		{name: "billing", headers: [][2]string{{"Authorization-Key", billing}},
			want: demotest.Want{Status: http.StatusOK, Body: `{"client":"billing","pong":true}`}},
		{name: "reports", headers: [][2]string{{"Authorization-Key", reports}},
			want: demotest.Want{Status: http.StatusOK, Body: `{"client":"reports","pong":true}`}},
		{name: "no key", want: invalid},
		{name: "wrong key", headers: [][2]string{{"Authorization-Key", "sk_WRONGWRONGWRONGWRONGWRONG"}}, want: invalid},
		{name: "a key with a character more", headers: [][2]string{{"Authorization-Key", billing + "x"}}, want: invalid},
		{name: "key in the default header", headers: [][2]string{{"X-Api-Key", billing}}, want: invalid},
		{name: "key as a bearer token", headers: [][2]string{{"Authorization", "Bearer " + billing}}, want: invalid},
		{name: "two keys", headers: [][2]string{{"Authorization-Key", billing}, {"Authorization-Key", reports}},
			want: demotest.Want{Status: http.StatusBadRequest, Detail: "More than one Authorization-Key header", Challenge: "APIKey"}},
	}
	// The group returns when its parallel subtests have all finished.
	t.Run("requests", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				r := demotest.Do(t, demotest.Request{URL: base + "/ping", Header: tt.headers})
				demotest.Check(t, r, tt.want)
				if strings.Contains(r.Body, billing) || strings.Contains(r.Body, reports) {
					t.Errorf("body %s echoes a key", r.Body)
				}
			})
		}
	})
}

func TestBadConfig(t *testing.T) {
	t.Parallel()
	const long = "0123456789abcdef0123456789abcdef"
	demotest.RunBadConfig(t, run, []demotest.BadConfig{
		{Name: "no equals sign", Env: map[string]string{"API_KEYS": long}, WantErr: "API_KEYS: want comma-separated name=key pairs"},
		{Name: "no name", Env: map[string]string{"API_KEYS": "=" + long}, WantErr: "API_KEYS: want comma-separated name=key pairs"},
		{Name: "trailing comma", Env: map[string]string{"API_KEYS": "a=" + long + ","}, WantErr: "API_KEYS: want comma-separated name=key pairs"},
		{Name: "short key", Env: map[string]string{"API_KEYS": "a=" + long + ",b=hunter2"}, WantErr: `API_KEYS: the key of "b" is shorter than 24 characters`},
		{Name: "shared key", Env: map[string]string{"API_KEYS": "a=" + long + ",b=" + long}, WantErr: `API_KEYS: "a" and "b" share a key`},
		{Name: "bad address", Env: map[string]string{"ADDR": "127.0.0.1:notaport"}, WantErr: "listening on ADDR"},
	}, "hunter2", long)
}

// TestMainExit runs the program itself with a bad configuration: it must
// exit with status 1 and one line on stderr.
func TestMainExit(t *testing.T) {
	t.Parallel()
	demotest.MainExit(t, main, []string{"API_KEYS=nokey", "ADDR=127.0.0.1:0"}, "apikey: API_KEYS: ")
}

// TestMainSignal runs the program itself and stops it with SIGTERM, as a
// process manager does: it must shut down gracefully and exit with status 0.
func TestMainSignal(t *testing.T) {
	t.Parallel()
	demotest.MainSignal(t, main, []string{"ADDR=127.0.0.1:0"})
}

// FuzzParseKeys checks that parseKeys never panics and that whatever it
// accepts is a name=key pair per entry, each key long enough and distinct.
func FuzzParseKeys(f *testing.F) {
	f.Add("billing=0123456789abcdef0123456789abcdef")
	f.Add("a=0123456789abcdef01234567, b=76543210fedcba9876543210")
	f.Add("a=short")
	f.Add("=0123456789abcdef0123456789abcdef")
	f.Add("a=0123456789abcdef0123456789abcdef,")
	f.Add("a=0123456789abcdef0123456789abcdef,b=0123456789abcdef0123456789abcdef")
	f.Add("a==0123456789abcdef0123456789abcdef")
	f.Fuzz(func(t *testing.T, spec string) {
		d := apikey.Digests{}
		if err := parseKeys(spec, d); err != nil {
			return
		}
		entries := strings.Split(spec, ",")
		if len(d) != len(entries) {
			t.Fatalf("parseKeys(%q) kept %d keys; want one per entry, %d", spec, len(d), len(entries))
		}
		for _, e := range entries {
			name, key, ok := strings.Cut(strings.TrimSpace(e), "=")
			if !ok || name == "" || len(key) < minKeyLength {
				t.Fatalf("parseKeys(%q) accepted the entry %q", spec, e)
			}
			if got := d[apikey.Digest(key)].Owner; got != name {
				t.Fatalf("parseKeys(%q): owner of %q's key = %q; want %q", spec, name, got, name)
			}
		}
	})
}
