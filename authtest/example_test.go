package authtest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/authtest"
	"github.com/typedauth/auth/jwt"
)

// status sends GET url with a bearer token and returns the status line and
// body.
func status(url, token string) string {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Sprintf("%d %s", res.StatusCode, res.Header.Get("WWW-Authenticate"))
	}
	return fmt.Sprintf("%d %s", res.StatusCode, body)
}

// A service verifies tokens of a fake identity provider exactly as it
// would verify a real one's: through discovery and a refreshing JWKS. In a
// test, use authtest.NewIssuer(t), which closes the issuer by itself.
func ExampleStartIssuer() {
	iss := authtest.StartIssuer(authtest.WithAudience("https://api.example.com"))
	defer iss.Close()

	tokens := jwt.MustNew(iss.Config())
	reports := tokens.Requires("reports:read").Handler(func(w http.ResponseWriter, r *http.Request, c auth.Claims) {
		fmt.Fprintf(w, "reports for %s", c["sub"])
	})
	srv := httptest.NewServer(reports)
	defer srv.Close()

	fmt.Println(status(srv.URL, iss.Token(auth.Claims{"sub": "alice", "scope": "reports:read"})))
	fmt.Println(status(srv.URL, iss.Token(auth.Claims{"sub": "bob"})))
	fmt.Println(status(srv.URL, ""))
	// Output:
	// 200 reports for alice
	// 403 Bearer error="insufficient_scope", scope="reports:read"
	// 401 Bearer
}

// After a rotation the issuer signs with a new key and still publishes the
// old one; verifiers pick the new key up from the JWKS on first sight.
func ExampleIssuer_Rotate() {
	iss := authtest.StartIssuer(authtest.WithAlgorithm("EdDSA"))
	defer iss.Close()
	tokens := jwt.MustNew(iss.Config())

	before := iss.Token(auth.Claims{"sub": "alice"})
	iss.Rotate()
	after := iss.Token(auth.Claims{"sub": "alice"})

	for _, token := range []string{before, after} {
		claims, err := tokens.Verify(context.Background(), token)
		fmt.Println(claims["sub"], err)
	}
	fmt.Println(len(iss.KeyIDs()), "keys published")
	// Output:
	// alice <nil>
	// alice <nil>
	// 2 keys published
}

// A handler that reads its principal from the context is tested without
// any token: WithPrincipal puts the principal there, as a guard would.
func ExampleWithPrincipal() {
	type User struct{ Name string }
	hello := func(w http.ResponseWriter, r *http.Request) {
		u := auth.MustFrom[User](r.Context())
		fmt.Fprintf(w, "hello %s", u.Name)
	}

	w := httptest.NewRecorder()
	hello(w, authtest.WithPrincipal(httptest.NewRequest("GET", "/", nil), User{Name: "alice"}))
	fmt.Println(w.Code, w.Body)
	// Output: 200 hello alice
}

// ScopedVerifier stands in for a token verifier, so that a router's
// guards can be tested with fixed tokens and no keys.
func ExampleScopedVerifier() {
	tokens := authtest.ScopedVerifier(map[string]auth.Claims{
		"reader-token": {"sub": "alice", "scope": "reports:read"},
		"guest-token":  {"sub": "guest"},
	}, nil)
	mux := http.NewServeMux()
	mux.Handle("GET /reports", tokens.Requires("reports:read").Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "reports")
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, token := range []string{"reader-token", "guest-token", "forged-token"} {
		fmt.Println(token, status(srv.URL+"/reports", token))
	}
	// Output:
	// reader-token 200 reports
	// guest-token 403 Bearer error="insufficient_scope", scope="reports:read"
	// forged-token 401 Bearer error="invalid_token", error_description="Unknown token"
}

// Verifier accepts fixed tokens, each naming its principal.
func ExampleVerifier() {
	type User struct{ Name string }
	users := authtest.Verifier(map[string]User{"t0ken": {Name: "alice"}})

	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer t0ken")
	u, err := users.Authenticate(r)
	fmt.Println(u.Name, err)
	// Output: alice <nil>
}

// Config also suits a verifier whose principal is a claims struct.
func ExampleIssuer_Config() {
	type Claims struct {
		jwt.RegisteredClaims
		Email string `json:"email" validate:"required,email"`
	}
	iss := authtest.StartIssuer(authtest.WithAlgorithm("ES256"), authtest.WithAudience("https://api.example.com"))
	defer iss.Close()
	users := jwt.MustNewTyped[Claims](iss.Config())

	c, err := users.Verify(context.Background(), iss.Token(auth.Claims{"sub": "alice", "email": "alice@example.com"}))
	fmt.Println(c.Subject, c.Email, c.Audience, err)

	_, err = users.Verify(context.Background(), iss.Token(auth.Claims{"sub": "bob"}))
	fmt.Println(auth.AsError(err).Detail)
	// Output:
	// alice alice@example.com [https://api.example.com] <nil>
	// Invalid claims: email is required
}
