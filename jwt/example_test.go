package jwt_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/jwt"
	"github.com/typedauth/auth/scopes"
)

// fixedClock makes the examples' output deterministic.
func fixedClock() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }

// get serves a GET request with an optional bearer token and prints the
// status and body.
func get(h http.Handler, token string) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
}

// The quick start: configure signing once, build the auth, guard /me.
func Example() {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err)
	}
	a := jwt.MustNew(jwt.Config{Secret: key, Algorithms: []string{"HS256"}, Expiration: time.Hour})

	mux := http.NewServeMux()
	mux.Handle("GET /me", a.Handler(func(w http.ResponseWriter, r *http.Request, token auth.Claims) {
		_ = json.NewEncoder(w).Encode(map[string]any{"sub": token["sub"]})
	}))

	tok, err := a.Encode(auth.Claims{"sub": "user-1"}, 0)
	if err != nil {
		panic(err)
	}
	for _, bearer := range []string{"", "not-a-token", tok} {
		req := httptest.NewRequest(http.MethodGet, "/me", nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		fmt.Printf("%d %q %s\n", rec.Code, rec.Header().Get("WWW-Authenticate"), strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// 401 "Bearer" {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Missing credentials"}
	// 401 "Bearer error=\"invalid_token\", error_description=\"Token is malformed\"" {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Token is malformed"}
	// 200 "" {"sub":"user-1"}
}

// The principal is the claims map: registered and custom claims side by
// side.
func Example_claims() {
	a := jwt.MustNew(jwt.Config{Secret: []byte("an example secret of at least 32 bytes"), Algorithms: []string{"HS256"},
		Expiration: time.Hour, Now: fixedClock})
	me := a.Handler(func(w http.ResponseWriter, r *http.Request, token auth.Claims) {
		email, _ := token["email"].(string)
		_ = json.NewEncoder(w).Encode(map[string]any{"sub": token["sub"], "email": email})
	})
	tok, _ := a.Encode(auth.Claims{"sub": "user-1", "email": "user@example.com"}, 0)
	get(me, tok)
	// Output: 200 {"email":"user@example.com","sub":"user-1"}
}

// A Config with an issuer and an audience: iss is required and checked on
// verify and set on issue; aud must name the API.
func ExampleConfig() {
	a := jwt.MustNew(jwt.Config{
		Secret:     []byte("an example secret of at least 32 bytes"),
		Algorithms: []string{"HS256"},
		IssuerURL:  "https://example.com",
		Audience:   []string{"https://api.example.com"},
		Expiration: time.Hour,
		Now:        fixedClock,
	})
	ok, _ := a.Encode(auth.Claims{"sub": "user-1", "aud": "https://api.example.com"}, 0)
	otherAPI, _ := a.Encode(auth.Claims{"sub": "user-1", "aud": "https://other.example.com"}, 0)

	claims, err := a.Verify(context.Background(), ok)
	fmt.Println(claims["iss"], err)
	_, err = a.Verify(context.Background(), otherAPI)
	fmt.Println(err)
	// Output:
	// https://example.com <nil>
	// auth: 401 Token audience is not accepted: auth: invalid credential: jwt: token audience is not accepted
}

// Issuing tokens from a login route: CreateAccessToken returns the token
// endpoint's response.
func Example_issuingTokens() {
	a := jwt.MustNew(jwt.Config{Secret: []byte("an example secret of at least 32 bytes"), Algorithms: []string{"HS256"},
		Expiration: time.Hour, Now: fixedClock})

	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		// ... verify the client's credentials ...
		bearer, err := a.CreateAccessToken(auth.Claims{"sub": "user-1", "scope": "items:read"}, 0)
		if err != nil {
			http.Error(w, "cannot issue a token", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(bearer)
	})

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/token", nil))
	var resp jwt.BearerAccessToken
	_ = json.Unmarshal(rec.Body.Bytes(), &resp)
	fmt.Println(rec.Code, resp.TokenType, resp.ExpiresIn, strings.Count(resp.AccessToken, "."))

	// The token works on a guarded route.
	get(a.Requires("items:read").Guard(subHandler), resp.AccessToken)
	// Output:
	// 200 bearer 3600 2
	// 200 user-1
}

// expires_in overrides the configured lifetime for one token and is
// echoed back.
func ExampleAuth_CreateAccessToken() {
	a := jwt.MustNew(jwt.Config{Secret: []byte("an example secret of at least 32 bytes"), Algorithms: []string{"HS256"},
		Expiration: time.Hour, Now: fixedClock})
	bearer, err := a.CreateAccessToken(auth.Claims{"sub": "user-1"}, 60*time.Second)
	if err != nil {
		panic(err)
	}
	fmt.Println(bearer.ExpiresIn == 60)
	// Output: true
}

// Verify decodes a raw token; you rarely call it yourself, as Guard and
// Requires do.
func ExampleAuth_Verify() {
	a := jwt.MustNew(jwt.Config{Secret: []byte("an example secret of at least 32 bytes"), Algorithms: []string{"HS256"},
		Expiration: time.Hour, Now: fixedClock})
	bearer, _ := a.CreateAccessToken(auth.Claims{"sub": "user-1"}, 0)

	claims, err := a.Verify(context.Background(), bearer.AccessToken)
	fmt.Println(claims["sub"], err)

	_, err = a.Verify(context.Background(), bearer.AccessToken+"x")
	fmt.Println(auth.StatusOf(err), auth.AsError(err).Detail)
	// Output:
	// user-1 <nil>
	// 401 Token signature is invalid
}

// Asymmetric keys fetched at start-up: the verifying service knows only
// where the issuer publishes its keys; it fetches them, then builds its
// Auth.
func Example_fetchThenConstruct() {
	// The issuer, on a test server: it signs with Ed25519 and publishes
	// its key set.
	seed := make([]byte, ed25519.SeedSize)
	issuer := jwt.MustNew(jwt.Config{Key: ed25519.NewKeyFromSeed(seed), Algorithms: []string{"EdDSA"},
		Expiration: time.Hour, Now: fixedClock})
	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/jwks.json", issuer.JWKSHandler())
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// The API: fetch the key set, then construct.
	keys, err := jwt.FetchKeySet(context.Background(), nil, srv.URL+"/.well-known/jwks.json")
	if err != nil {
		fmt.Println("start-up failed:", err)
		return
	}
	a, err := jwt.New(jwt.Config{KeySet: keys, Algorithms: []string{"EdDSA"}, IssuerURL: srv.URL, Now: fixedClock})
	if err != nil {
		fmt.Println("start-up failed:", err)
		return
	}

	tok, _ := issuer.Encode(auth.Claims{"sub": "user-1", "iss": srv.URL}, 0)
	get(a.Guard(subHandler), tok)
	// Output: 200 user-1
}

// Publishing the public keys at /.well-known/jwks.json: private members
// are stripped and each key gets a kid (here its RFC 7638 thumbprint).
func ExampleAuth_JWKSHandler() {
	seed := make([]byte, ed25519.SeedSize)
	a := jwt.MustNew(jwt.Config{Key: ed25519.NewKeyFromSeed(seed), Algorithms: []string{"EdDSA"}})

	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/jwks.json", a.JWKSHandler())

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
	fmt.Println(rec.Header().Get("Content-Type"))
	fmt.Println(rec.Body)
	// Output:
	// application/jwk-set+json
	// {"keys":[{"kty":"OKP","use":"sig","alg":"EdDSA","kid":"9ZP03Nu8GrXPAUkbKNxHOKBzxPX83SShgFkRNK-f2lw","crv":"Ed25519","x":"O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik"}]}
}

// Scope enforcement: encode a space-delimited scope claim, then require
// scopes per route; every listed scope must hold.
func Example_scopes() {
	a := jwt.MustNew(jwt.Config{Secret: []byte("an example secret of at least 32 bytes"), Algorithms: []string{"HS256"},
		Expiration: time.Hour, Now: fixedClock})
	tok, _ := a.Encode(auth.Claims{"sub": "user-1", "scope": "reports:read items:edit"}, 0)

	getReport := a.Requires("reports:read").Guard(subHandler)
	createReport := a.Requires("reports:read", "reports:write").Guard(subHandler)
	readItems := a.Requires("items:read").Guard(subHandler) // edit implies read

	get(getReport, tok)
	get(createReport, tok)
	get(readItems, tok)
	// Output:
	// 200 user-1
	// 403 {"type":"about:blank","title":"Forbidden","status":403,"detail":"Token is missing required scope: reports:write"}
	// 200 user-1
}

// SimpleScopeValidator: scopes match verbatim, so edit no longer implies
// read.
func Example_simpleScopeValidator() {
	a := jwt.MustNew(jwt.Config{Secret: []byte("an example secret of at least 32 bytes"), Algorithms: []string{"HS256"},
		Expiration: time.Hour, Now: fixedClock}, jwt.WithScopeValidator(scopes.Simple{}))
	tok, _ := a.Encode(auth.Claims{"sub": "user-1", "scope": "items:edit"}, 0)
	get(a.Requires("items:edit").Guard(subHandler), tok)
	get(a.Requires("items:read").Guard(subHandler), tok)
	// Output:
	// 200 user-1
	// 403 {"type":"about:blank","title":"Forbidden","status":403,"detail":"Token is missing required scope: items:read"}
}

// A custom action hierarchy: admin implies write, write implies read.
func Example_customHierarchy() {
	hierarchy := scopes.NewHierarchical(map[string][]string{
		"read":  nil,
		"write": {"read"},
		"admin": {"read", "write"},
	})
	a := jwt.MustNew(jwt.Config{Secret: []byte("an example secret of at least 32 bytes"), Algorithms: []string{"HS256"},
		Expiration: time.Hour, Now: fixedClock}, jwt.WithScopeValidator(hierarchy))
	tok, _ := a.Encode(auth.Claims{"sub": "user-1", "scope": "docs:admin"}, 0)
	get(a.Requires("docs:read", "docs:write").Guard(subHandler), tok)
	get(a.Requires("docs:edit").Guard(subHandler), tok)
	// Output:
	// 200 user-1
	// 403 {"type":"about:blank","title":"Forbidden","status":403,"detail":"Token is missing required scope: docs:edit"}
}

// Entirely custom matching: a granted scope grants every scope it
// prefixes.
func Example_prefixScopeValidator() {
	prefix := scopes.Func(func(required string, granted scopes.Set) bool {
		for g := range granted.All() {
			if strings.HasPrefix(required, g) {
				return true
			}
		}
		return false
	})
	a := jwt.MustNew(jwt.Config{Secret: []byte("an example secret of at least 32 bytes"), Algorithms: []string{"HS256"},
		Expiration: time.Hour, Now: fixedClock}, jwt.WithScopeValidator(prefix))
	tok, _ := a.Encode(auth.Claims{"sub": "user-1", "scope": "reports"}, 0)
	get(a.Requires("reports:read").Guard(subHandler), tok)
	get(a.Requires("items:read").Guard(subHandler), tok)
	// Output:
	// 200 user-1
	// 403 {"type":"about:blank","title":"Forbidden","status":403,"detail":"Token is missing required scope: items:read"}
}

// A token in a session cookie rather than an Authorization header.
func Example_cookieScheme() {
	a := jwt.MustNew(jwt.Config{Secret: []byte("an example secret of at least 32 bytes"), Algorithms: []string{"HS256"},
		Expiration: time.Hour, Now: fixedClock},
		jwt.WithScheme(auth.Cookie("session")),
		jwt.WithAuthOptions(auth.WithChallenge("", ""))) // browsers get no Bearer challenge
	tok, _ := a.Encode(auth.Claims{"sub": "user-1"}, 0)

	h := a.Guard(subHandler)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(&http.Cookie{Name: "session", Value: tok})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body)

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	fmt.Printf("%d %q\n", rec.Code, rec.Header().Get("WWW-Authenticate"))
	// Output:
	// 200 user-1
	// 401 ""
}

// Typed claims: decoded straight into a struct and validated with its
// validate tags; the handler receives the struct.
func ExampleNewTyped() {
	type MyClaims struct {
		jwt.RegisteredClaims
		Email string `json:"email" validate:"required,email"`
	}
	cfg := jwt.Config{Secret: []byte("an example secret of at least 32 bytes"), Algorithms: []string{"HS256"},
		Expiration: time.Hour, Now: fixedClock}
	a := jwt.MustNewTyped[MyClaims](cfg)
	issuer := jwt.MustNew(cfg)

	me := a.Requires("profile:read").Handler(func(w http.ResponseWriter, r *http.Request, c MyClaims) {
		fmt.Fprintln(w, c.Subject, c.Email)
	})
	good, _ := issuer.Encode(auth.Claims{"sub": "user-1", "email": "user@example.com", "scope": "profile:read"}, 0)
	noEmail, _ := issuer.Encode(auth.Claims{"sub": "user-1", "scope": "profile:read"}, 0)
	get(me, good)
	get(me, noEmail)
	// Output:
	// 200 user-1 user@example.com
	// 401 {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Invalid claims: email is required"}
}

// A key set loaded from bytes, such as a file or an environment variable
// (JWKS='{"keys":[…]}'), is one call; the Auth is then built with it.
func ExampleParseKeySet() {
	seed := make([]byte, ed25519.SeedSize)
	issuer := jwt.MustNewIssuer(jwt.Config{Key: ed25519.NewKeyFromSeed(seed), Algorithms: []string{"EdDSA"},
		Expiration: time.Hour, Now: fixedClock})
	published, _ := json.Marshal(issuer.JWKS()) // what the issuer publishes

	keys, err := jwt.ParseKeySet(published)
	if err != nil {
		fmt.Println(err)
		return
	}
	a := jwt.MustNew(jwt.Config{KeySet: keys, Algorithms: []string{"EdDSA"}, Now: fixedClock})
	tok, _ := issuer.Encode(auth.Claims{"sub": "user-1"}, 0)
	get(a.Guard(subHandler), tok)
	fmt.Println(a.Issuer == nil) // verifies only: no key to issue with
	// Output:
	// 200 user-1
	// true
}

// A service that only issues tokens, which other services verify with the
// keys it publishes.
func ExampleNewIssuer() {
	seed := make([]byte, ed25519.SeedSize)
	issuer, err := jwt.NewIssuer(jwt.Config{Key: ed25519.NewKeyFromSeed(seed), Algorithms: []string{"EdDSA"},
		IssuerURL: "https://issuer.example", Expiration: time.Hour, Now: fixedClock})
	if err != nil {
		fmt.Println(err)
		return
	}
	bearer, _ := issuer.CreateAccessToken(auth.Claims{"sub": "user-1"}, 0)
	fmt.Println(bearer.TokenType, bearer.ExpiresIn, issuer.JWKS().Keys[0].KTY)
	// Output: bearer 3600 OKP
}
