// Command quickstart is a small resource server protected by bearer tokens:
// the place to start with typedauth.
//
// Run it from the root of the repository:
//
//	go run ./examples/quickstart
//
// It answers these routes:
//
//	GET  /healthz   always 200
//	GET  /me        any valid token: the caller's sub and scopes
//	GET  /reports   tokens granting reports:read
//	POST /reports   tokens granting reports:read and reports:write: adds a report
//
// Every rejected request gets an RFC 9457 problem+json body and, for 401
// and 403, an RFC 6750 WWW-Authenticate challenge, written by package auth.
//
// Verified tokens are cached (jwt.WithCache): a client sends the same token
// on every request, and a repeated token skips the signature check, while
// its exp and its signing key are checked again each time.
//
// # Embedded mode (the default)
//
// Without ISSUER the program is its own token issuer, so that it can be
// tried with nothing but curl. It generates an Ed25519 key at start-up and
// serves
//
//	POST /token                   {"sub":"alice","scope":"reports:read"} → {"token_type":"bearer","access_token":"…","expires_in":900}
//	GET  /.well-known/jwks.json   its public key
//
// and prints curl commands to paste. POST /token hands a token to anyone
// who asks: it is a demonstration, never a way to run a real service.
//
// # Real issuer mode
//
// With ISSUER set, tokens come from a real OpenID Provider or OAuth 2.0
// authorization server, and POST /token answers 404. The environment is:
//
//	ISSUER      the issuer URL, required as the iss of every token
//	AUDIENCE    when set, required in the aud of every token (set it: without
//	            it a token the issuer minted for any other API is accepted)
//	JWKS_URL    the issuer's JWKS; when unset it is found by OpenID Connect
//	            discovery at ISSUER/.well-known/openid-configuration
//	ALGORITHMS  comma-separated signature algorithms to accept (default: the
//	            asymmetric ones the issuer declares in its discovery document,
//	            else those of its keys)
//
// The keys are downloaded at start-up and refreshed in the background, and
// a token signed by a key the server has not seen yet makes it download
// them again (at most once every 10 seconds), so the issuer can rotate its
// keys.
//
// In both modes ADDR is the address to listen on (default 127.0.0.1:8080;
// 127.0.0.1:0 picks a free port). A bad configuration makes the program exit
// with status 1 and a one-line reason on stderr. SIGINT or SIGTERM shut it
// down gracefully.
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/jwt"
	"github.com/typedauth/auth/scopes"
)

const (
	// defaultAddr is where the server listens when ADDR is unset.
	defaultAddr = "127.0.0.1:8080"

	// maxBodyBytes bounds the JSON bodies of POST /token and POST /reports.
	maxBodyBytes = 4 << 10

	// tokenLifetime is the lifetime of the tokens of POST /token.
	tokenLifetime = 15 * time.Minute

	// maxReports bounds the in-memory report store; the oldest go first.
	maxReports = 100
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		stop()
		os.Exit(1)
	}
}

// run serves until ctx is done, then shuts the server down gracefully. It
// reads its configuration with getenv, prints the address it listens on
// (and, in embedded mode, curl commands to try) to stdout, and logs server
// and key refresh errors to stderr. It returns an error, on one line, when
// the configuration is bad, the issuer's keys cannot be loaded or the
// listener cannot be opened.
func run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	logger := log.New(stderr, "quickstart: ", log.LstdFlags)

	s := &server{reports: newStore()}
	if cfg.issuer != "" {
		// Load the issuer's keys before listening, so that a wrong ISSUER
		// or JWKS_URL stops the program at once.
		keys, err := remoteKeys(ctx, cfg, logger)
		if err != nil {
			return err
		}
		defer keys.Close()
		if len(cfg.algorithms) == 0 {
			cfg.algorithms = keys.Algorithms() // what the issuer declares
		}
		s.tokens, err = jwt.New(jwt.Config{
			KeySet:     keys,
			Algorithms: cfg.algorithms,
			IssuerURL:  cfg.issuer,
			Audience:   cfg.audience,
		}, jwt.WithCache(jwt.CacheOptions{}))
		if err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listening on ADDR %q: %w", cfg.addr, err)
	}
	base := baseURL(ln.Addr())
	if cfg.issuer == "" {
		// Embedded mode: the issuer is this server, known once listening.
		s.issues, s.audience = true, base
		if s.tokens, err = embeddedIssuer(base); err != nil {
			ln.Close()
			return err
		}
	}

	fmt.Fprintf(stdout, "listening on %s\n", base)
	if s.issues {
		printDemo(stdout, base)
	} else {
		fmt.Fprintf(stdout, "accepting tokens of %s with %s\n", cfg.issuer, strings.Join(cfg.algorithms, ", "))
		if len(cfg.audience) == 0 {
			fmt.Fprintln(stdout, "warning: AUDIENCE is not set; tokens the issuer minted for any audience are accepted")
		}
	}

	srv := &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          logger,
	}
	done := make(chan error, 1)
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return <-done
}

// config is the configuration read from the environment.
type config struct {
	addr       string
	issuer     string // "" in embedded mode
	audience   []string
	jwksURL    string
	algorithms []string
}

// asymmetric lists the algorithms a JWKS can serve keys for. HMAC
// algorithms are left out: their secret cannot be published.
var asymmetric = []string{
	"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512", "EdDSA",
}

// loadConfig reads and checks the environment.
func loadConfig(getenv func(string) string) (config, error) {
	cfg := config{
		addr:    getenv("ADDR"),
		issuer:  getenv("ISSUER"),
		jwksURL: getenv("JWKS_URL"),
	}
	if cfg.addr == "" {
		cfg.addr = defaultAddr
	}
	audience, algorithms := getenv("AUDIENCE"), getenv("ALGORITHMS")
	if cfg.issuer == "" {
		for name, v := range map[string]string{"AUDIENCE": audience, "JWKS_URL": cfg.jwksURL, "ALGORITHMS": algorithms} {
			if v != "" {
				return config{}, fmt.Errorf("%s is set but ISSUER is not; set ISSUER to verify tokens of a real issuer, or unset %s for the embedded demo issuer", name, name)
			}
		}
		return cfg, nil
	}
	if err := checkURL("ISSUER", cfg.issuer); err != nil {
		return config{}, err
	}
	if cfg.jwksURL != "" {
		if err := checkURL("JWKS_URL", cfg.jwksURL); err != nil {
			return config{}, err
		}
	}
	if audience != "" {
		cfg.audience = []string{audience}
	}
	if algorithms != "" {
		for a := range strings.SplitSeq(algorithms, ",") {
			a = strings.TrimSpace(a)
			if !slices.Contains(asymmetric, a) {
				return config{}, fmt.Errorf("ALGORITHMS: %q is not a signature algorithm a JWKS can serve; use some of %s", a, strings.Join(asymmetric, ","))
			}
			if !slices.Contains(cfg.algorithms, a) {
				cfg.algorithms = append(cfg.algorithms, a)
			}
		}
	}
	return cfg, nil
}

// checkURL reports whether raw, the value of the variable name, is an
// absolute http or https URL.
func checkURL(name, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%s %q is not an absolute http(s) URL without query or fragment", name, raw)
	}
	return nil
}

// remoteKeys loads the issuer's keys from JWKS_URL, or from the jwks_uri of
// its discovery document, into a key set that refreshes itself until ctx
// ends or it is closed.
func remoteKeys(ctx context.Context, cfg config, logger *log.Logger) (*jwt.RemoteKeySet, error) {
	opts := jwt.RemoteOptions{
		OnError: func(err error) { logger.Printf("refreshing the issuer's keys: %v", err) },
	}
	if cfg.jwksURL != "" {
		keys, err := jwt.NewRemoteKeySet(ctx, cfg.jwksURL, opts)
		if err != nil {
			return nil, fmt.Errorf("loading the keys at JWKS_URL: %w", err)
		}
		return keys, nil
	}
	keys, err := jwt.DiscoverKeySet(ctx, cfg.issuer, opts)
	if err != nil {
		return nil, fmt.Errorf("discovering the keys of ISSUER (set JWKS_URL if it has no discovery document): %w", err)
	}
	return keys, nil
}

// embeddedIssuer returns an Auth that issues and verifies tokens signed
// with a new Ed25519 key, with base as issuer and audience. The key lives
// only in memory: tokens die with the process.
func embeddedIssuer(base string) (*jwt.Auth, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating a signing key: %w", err)
	}
	return jwt.New(jwt.Config{
		Key:        key,
		Algorithms: []string{"EdDSA"},
		IssuerURL:  base,
		Audience:   []string{base},
		Expiration: tokenLifetime,
	}, jwt.WithCache(jwt.CacheOptions{}))
}

// baseURL is the http URL of addr, with localhost for an unspecified IP
// such as the one of ADDR=:8080.
func baseURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// printDemo prints the warning of embedded mode and curl commands that
// exercise every route.
func printDemo(w io.Writer, base string) {
	fmt.Fprintf(w, `DEMO MODE: POST /token issues tokens to anyone who asks. Never expose this server;
set ISSUER (and AUDIENCE) to verify tokens of a real issuer instead.

Try it (the token grants reports:read and reports:write for 15 minutes):

  TOKEN=$(curl -s %[1]s/token -H 'Content-Type: application/json' -d '{"sub":"alice","scope":"reports:read reports:write"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  curl -i %[1]s/me -H "Authorization: Bearer $TOKEN"
  curl -i %[1]s/reports -H "Authorization: Bearer $TOKEN"
  curl -i %[1]s/reports -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"title":"Q3 revenue"}'

`, base)
}

// server holds the state of the handlers.
type server struct {
	tokens   *jwt.Auth
	issues   bool   // embedded mode: POST /token and the JWKS are served
	audience string // aud of issued tokens
	reports  *store
}

// routes returns the API. The guards of package auth answer unauthorised
// requests before the handlers run, so that a handler always has the
// verified claims.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.Handle("GET /me", s.tokens.Handler(s.me))
	mux.Handle("GET /reports", s.tokens.Requires("reports:read").Handler(s.listReports))
	mux.Handle("POST /reports", s.tokens.Requires("reports:read", "reports:write").Handler(s.createReport))
	if s.issues {
		mux.HandleFunc("POST /token", s.issueToken)
		mux.Handle("GET /.well-known/jwks.json", s.tokens.JWKSHandler())
	} else {
		mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
			auth.WriteError(w, r, &auth.Error{Status: http.StatusNotFound, Detail: "This server does not issue tokens; get one from its issuer"})
		})
	}
	return mux
}

// me answers the caller's subject and scopes.
func (s *server) me(w http.ResponseWriter, r *http.Request, claims auth.Claims) {
	granted := auth.ClaimsScopes(claims).Strings()
	if granted == nil {
		granted = []string{} // [] rather than null in JSON
	}
	writeJSON(w, http.StatusOK, map[string]any{"sub": claims["sub"], "scopes": granted})
}

func (s *server) listReports(w http.ResponseWriter, r *http.Request, claims auth.Claims) {
	writeJSON(w, http.StatusOK, map[string]any{"reports": s.reports.list()})
}

// createReport adds the report of a {"title":"…"} body.
func (s *server) createReport(w http.ResponseWriter, r *http.Request, claims auth.Claims) {
	var body struct {
		Title string `json:"title"`
	}
	if !decodeJSON(w, r, &body, `Send a JSON object such as {"title":"Q3 revenue"}`) {
		return
	}
	if msg := checkText(body.Title, 200); msg != "" {
		badRequest(w, r, "title "+msg)
		return
	}
	sub, _ := claims["sub"].(string)
	rep := s.reports.add(body.Title, sub)
	w.Header().Set("Location", "/reports/"+strconv.Itoa(rep.ID))
	writeJSON(w, http.StatusCreated, rep)
}

// issueToken is the demo token endpoint: it signs whatever subject and
// scopes it is asked for. A real token endpoint authenticates the client and
// the user first; this one exists only so that the example runs alone.
func (s *server) issueToken(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Sub   string `json:"sub"`
		Scope string `json:"scope"`
	}
	if !decodeJSON(w, r, &body, `Send a JSON object such as {"sub":"alice","scope":"reports:read"}`) {
		return
	}
	if msg := checkText(body.Sub, 255); msg != "" {
		badRequest(w, r, "sub "+msg)
		return
	}
	granted := scopes.Parse(body.Scope).Strings()
	for _, sc := range granted {
		if scopes.Check(sc) != nil {
			badRequest(w, r, "scope must be scope tokens separated by spaces, such as \"reports:read reports:write\" (RFC 6749 §3.3)")
			return
		}
	}
	claims := auth.Claims{"sub": body.Sub, "aud": s.audience}
	if len(granted) > 0 {
		claims["scope"] = strings.Join(granted, " ")
	}
	token, err := s.tokens.CreateAccessToken(claims, 0)
	if err != nil {
		auth.WriteError(w, r, auth.AsError(err)) // 500 with a generic detail
		return
	}
	w.Header().Set("Cache-Control", "no-store") // RFC 6749 §5.1
	writeJSON(w, http.StatusOK, token)
}

// decodeJSON decodes the body of r, a single JSON object of at most
// maxBodyBytes with no unknown field, into v. On failure it answers 400 (or
// 413, 415) with hint and returns false.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, hint string) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			auth.WriteError(w, r, &auth.Error{Status: http.StatusUnsupportedMediaType, Detail: "The body must be application/json. " + hint})
			return false
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.Decode(new(json.RawMessage)) != io.EOF {
		err = errors.New("trailing data")
	}
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil:
		return true
	case errors.As(err, &tooLarge):
		auth.WriteError(w, r, &auth.Error{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("The body is larger than %d bytes", maxBodyBytes)})
	default:
		// The decoder's message may quote the input, so it stays out of
		// the response.
		badRequest(w, r, "The body is not a valid JSON object with the expected fields. "+hint)
	}
	return false
}

// checkText returns why s is not an acceptable text field of at most limit
// bytes, or "" when it is.
func checkText(s string, limit int) string {
	switch {
	case s == "":
		return "is required"
	case len(s) > limit:
		return fmt.Sprintf("is longer than %d bytes", limit)
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case strings.ContainsFunc(s, unicode.IsControl):
		return "contains control characters"
	}
	return ""
}

// badRequest answers 400 with a problem+json body.
func badRequest(w http.ResponseWriter, r *http.Request, detail string) {
	auth.WriteError(w, r, &auth.Error{Status: http.StatusBadRequest, Detail: detail})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// report is one report of the store.
type report struct {
	ID      int       `json:"id"`
	Title   string    `json:"title"`
	Author  string    `json:"author"`
	Created time.Time `json:"created"`
}

// store keeps the last maxReports reports in memory. It is safe for
// concurrent use.
type store struct {
	mu      sync.Mutex
	next    int
	reports []report
}

func newStore() *store {
	s := &store{}
	s.add("Q1 revenue", "system")
	s.add("Q2 revenue", "system")
	return s
}

func (s *store) add(title, author string) report {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	rep := report{ID: s.next, Title: title, Author: author, Created: time.Now().UTC().Truncate(time.Second)}
	s.reports = append(s.reports, rep)
	if len(s.reports) > maxReports {
		s.reports = slices.Delete(s.reports, 0, len(s.reports)-maxReports)
	}
	return rep
}

func (s *store) list() []report {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reports)
}
