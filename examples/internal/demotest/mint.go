package demotest

import (
	"testing"
	"time"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/jwt"
)

// MintHS256 signs claims with HS256 and secret as a program configured with
// JWT_SECRET=secret and that issuer would: with iss set to issuer and, unless
// claims set them, iat now and exp an hour later. With another secret it
// forges a token the program must reject. It fails tb if secret is shorter
// than 32 bytes or the claims cannot be encoded.
func MintHS256(tb testing.TB, secret, issuer string, claims auth.Claims) string {
	tb.Helper()
	a, err := jwt.New(jwt.Config{Secret: []byte(secret), Algorithms: []string{"HS256"}, IssuerURL: issuer, Expiration: time.Hour})
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := a.Encode(claims, 0)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}
