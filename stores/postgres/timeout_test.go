package authpostgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/typedauth/auth"
	"github.com/typedauth/auth/apikey"
	"github.com/typedauth/auth/internal/testservers"
	authpostgres "github.com/typedauth/auth/stores/postgres"
)

// onePool returns a pool of a single connection, which a test can hold to
// make every lookup wait.
func onePool(tb testing.TB, url string) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.MaxConns = 1
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Close)
	return p
}

// A lookup that runs out of time, whether by the store's own query timeout
// or by a deadline the server puts on the request, answers 503 problem+json:
// the key could not be checked, which is not the server's fault.
func TestTimeoutsAre503(t *testing.T) {
	url := testservers.PostgresURL(t)
	name := table(t)
	p := onePool(t, url)
	migrate(t, p, name)
	for _, tc := range []struct {
		name         string
		queryTimeout time.Duration
		deadline     time.Duration // put on the request by the server; 0 for none
	}{
		{"store's query timeout", 100 * time.Millisecond, 0},
		{"request deadline", 5 * time.Second, 100 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := authpostgres.New(authpostgres.Config{Pool: p, Table: name, QueryTimeout: tc.queryTimeout})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			key, _, err := s.Create(context.Background(), authpostgres.NewKey{Owner: "o"})
			if err != nil {
				t.Fatal(err)
			}
			var h http.Handler = s.Auth().Handler(func(w http.ResponseWriter, r *http.Request, _ apikey.Principal) {
				io.WriteString(w, "ok")
			})
			if tc.deadline > 0 {
				inner := h
				h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					ctx, cancel := context.WithTimeout(r.Context(), tc.deadline)
					defer cancel()
					inner.ServeHTTP(w, r.WithContext(ctx))
				})
			}
			srv := httptest.NewServer(h)
			defer srv.Close()

			held, err := p.Acquire(context.Background()) // the pool's only connection
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			req.Header.Set("X-Api-Key", key)
			resp, err := httpClient.Do(req)
			held.Release()
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var prob struct {
				Status int
				Detail string
			}
			json.NewDecoder(resp.Body).Decode(&prob)
			if resp.StatusCode != http.StatusServiceUnavailable || prob.Detail != authpostgres.DetailUnavailable ||
				resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("lookup out of time: %d %s %+v; want 503 problem+json %q",
					resp.StatusCode, resp.Header.Get("Content-Type"), prob, authpostgres.DetailUnavailable)
			}
		})
	}
}

// A lookup cancelled by its caller (a client that went away) fails with the
// cancellation, not as if the database were unavailable.
func TestCancelledLookup(t *testing.T) {
	url := testservers.PostgresURL(t)
	name := table(t)
	p := onePool(t, url)
	migrate(t, p, name)
	s, err := authpostgres.New(authpostgres.Config{Pool: p, Table: name})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	key, _, err := s.Create(context.Background(), authpostgres.NewKey{Owner: "o"})
	if err != nil {
		t.Fatal(err)
	}
	held, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = s.Lookup(ctx, key)
	if !errors.Is(err, context.Canceled) || errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("cancelled lookup: %v; want context.Canceled, not ErrUnavailable", err)
	}
}
