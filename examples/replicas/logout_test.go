package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/internal/testservers"
	"github.com/typedauth/auth/jwt"
)

// TestLogoutOutlivesLeeway: the replicas accept a token until its exp plus
// the jwt leeway, so a logout must keep the token revoked at least as long;
// a revocation that lapses at exp lets the stolen token back in for the
// rest of the leeway.
func TestLogoutOutlivesLeeway(t *testing.T) {
	urls, table, _ := start(t)
	prefix := "replicas:" + strings.TrimPrefix(table, "replicas_") + ":"
	tokens := jwt.MustNew(jwt.Config{Secret: []byte(secret), Algorithms: []string{"HS256"}, Expiration: tokenLifetime})
	token, err := tokens.Encode(auth.Claims{"sub": "carol", "jti": "logout-leeway"}, tokenLifetime)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := tokens.Verify(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Unix(int64(claims["exp"].(float64)), 0)

	req, err := http.NewRequest(http.MethodPost, urls[0]+"/logout", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d; want 204", resp.StatusCode)
	}

	rdb := redis.NewClient(&redis.Options{Addr: testservers.RedisAddr(t)})
	defer rdb.Close()
	ttl, err := rdb.PTTL(context.Background(), prefix+"t:logout-leeway").Result()
	if err != nil {
		t.Fatal(err)
	}
	if accepted := time.Until(exp.Add(jwt.DefaultLeeway)); ttl < accepted-100*time.Millisecond {
		t.Errorf("the revocation lapses in %v, while the token is accepted for %v more", ttl, accepted)
	}
}

// logoutStatus posts to /logout at url with token and returns the status,
// the content type and the problem's detail.
func logoutStatus(t *testing.T, url, token string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/logout", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p struct{ Detail string }
	json.NewDecoder(resp.Body).Decode(&p)
	return resp.StatusCode, resp.Header.Get("Content-Type"), p.Detail
}

// TestLogoutWithoutJTI: a token without jti (the revocation stage accepts
// it for its sub) cannot be revoked alone; logging out with it revokes
// every token of its subject issued until then, on both replicas.
func TestLogoutWithoutJTI(t *testing.T) {
	urls, _, _ := start(t)
	tokens := jwt.MustNew(jwt.Config{Secret: []byte(secret), Algorithms: []string{"HS256"}, Expiration: tokenLifetime})
	token, err := tokens.Encode(auth.Claims{"sub": "dave"}, tokenLifetime)
	if err != nil {
		t.Fatal(err)
	}
	other, err := tokens.Encode(auth.Claims{"sub": "dave", "jti": "dave-other"}, tokenLifetime)
	if err != nil {
		t.Fatal(err)
	}
	bystander, err := tokens.Encode(auth.Claims{"sub": "erin"}, tokenLifetime)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // the logout comes after the tokens were issued
	if code, ctype, detail := logoutStatus(t, urls[0], token); code != http.StatusNoContent {
		t.Fatalf("logout without jti: %d %s %q; want 204", code, ctype, detail)
	}
	for i, u := range urls {
		for _, tok := range []string{token, other} {
			deadline := time.Now().Add(time.Second)
			for code := getStatus(t, u, tok); code != http.StatusUnauthorized; code = getStatus(t, u, tok) {
				if time.Now().After(deadline) {
					t.Fatalf("replica %d: a token of the subject logged out gets %d after 1 s; want 401", i, code)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		if code := getStatus(t, u, bystander); code != http.StatusOK {
			t.Errorf("replica %d: another subject's token gets %d; want 200", i, code)
		}
	}
}

func getStatus(t *testing.T, url, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url+"/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestLogoutFailureIsProblem: when the revocation cannot be written (Redis
// answers, but refuses writes), logout answers 503 problem+json, which a
// client can tell from success and read.
func TestLogoutFailureIsProblem(t *testing.T) {
	srv := testservers.StartRedis(t)
	urls, _, _ := startWith(t, map[string]string{"REDIS_ADDR": srv.Addr})
	tokens := jwt.MustNew(jwt.Config{Secret: []byte(secret), Algorithms: []string{"HS256"}, Expiration: tokenLifetime})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	// Writes now fail (no replica acknowledges them); reads and pub/sub go on.
	if err := rdb.ConfigSet(context.Background(), "min-replicas-to-write", "1").Err(); err != nil {
		t.Fatal(err)
	}
	for _, claims := range []auth.Claims{{"sub": "frank", "jti": "frank-1"}, {"sub": "frank"}} {
		token, err := tokens.Encode(claims, tokenLifetime)
		if err != nil {
			t.Fatal(err)
		}
		code, ctype, detail := logoutStatus(t, urls[0], token)
		if code != http.StatusServiceUnavailable || ctype != "application/problem+json" || detail == "" {
			t.Errorf("logout (%v) while Redis refuses writes: %d %s %q; want 503 problem+json with a detail", claims, code, ctype, detail)
		}
	}
}

// TestRouteErrorsAreProblems: a wrong method or path gets problem+json
// with the right status, as every other error of the example does.
func TestRouteErrorsAreProblems(t *testing.T) {
	urls, _, _ := start(t)
	for _, tc := range []struct {
		method, path string
		want         int
		allow        string
	}{
		{http.MethodGet, "/logout", http.StatusMethodNotAllowed, "POST"},
		{http.MethodPost, "/me", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodGet, "/nowhere", http.StatusNotFound, ""},
	} {
		req, err := http.NewRequest(tc.method, urls[1]+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var p struct{ Status int }
		json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if resp.StatusCode != tc.want || p.Status != tc.want || resp.Header.Get("Content-Type") != "application/problem+json" ||
			resp.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d %s (problem status %d, Allow %q); want %d problem+json, Allow %q", tc.method, tc.path,
				resp.StatusCode, resp.Header.Get("Content-Type"), p.Status, resp.Header.Get("Allow"), tc.want, tc.allow)
		}
	}
}
