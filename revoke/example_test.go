package revoke_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/revoke"
)

// Stage rejects revoked tokens after any token auth's verification.
func ExampleStage() {
	// A stand-in for a token verifier such as package jwt.
	tokens := auth.New(auth.Bearer(), func(_ context.Context, raw string) (auth.Claims, error) {
		return auth.Claims{"jti": raw, "sub": "alice"}, nil
	})
	list := revoke.NewMemory()
	h := auth.Then(tokens, revoke.Stage(list, revoke.FromClaims)).Guard(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello") }))

	send := func(token string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"), w.Body)
	}
	send("t-1")
	// The user logs out: revoke the token until it would have expired.
	if err := list.RevokeToken(context.Background(), "t-1", time.Now().Add(time.Hour)); err != nil {
		panic(err)
	}
	send("t-1")
	// Output:
	// 200  hello
	// 401 Bearer error="invalid_token", error_description="Token has been revoked" {"type":"about:blank","title":"Unauthorized","status":401,"detail":"Token has been revoked"}
}
