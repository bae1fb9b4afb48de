// Command cookie keeps a browser session in a cookie: POST /login checks a
// password and sets an HttpOnly cookie holding a signed JWT, and the routes
// behind it read the token from that cookie instead of an Authorization
// header. Only the scheme, the place the credential comes from, changes:
//
//	sessions, err := jwt.New(cfg, jwt.WithScheme(auth.Cookie("__Host-session")))
//
// Configuration, from the environment:
//
//	ADDR           the address to listen on (default 127.0.0.1:8080)
//	JWT_SECRET     the HS256 signing secret, at least 32 bytes (default: random,
//	               so sessions end with the process)
//	DEMO_PASSWORD  the password of the demo user "alice" (default: random, printed)
//
// Routes:
//
//	POST /login   form fields username and password; sets the session cookie
//	POST /logout  clears the session cookie
//	GET  /me      the session cookie: {"user":"alice","expires_at":…}
//	GET  /whoami  the session cookie, or "Authorization: Session <token>" for
//	              scripts, read by a scheme written by hand
//
// Try it from the root of the repository (the program prints the password):
//
//	go run ./examples/cookie
//	curl -i -c jar -d username=alice -d password=<password> http://localhost:8080/login
//	curl -i -b jar http://localhost:8080/me                                  # 200
//	curl -i http://localhost:8080/me                                         # 401
//	curl -i -b '__Host-session=forged' http://localhost:8080/me              # 401
//	curl -i -H 'Authorization: Session <token>' http://localhost:8080/whoami # 200
//
// Cookies are sent by browsers on their own, which opens the door to
// cross-site request forgery. Three defences are in place: the cookie is
// SameSite=Lax, so other sites' forms and scripts do not carry it; the whole
// API is wrapped in http.CrossOriginProtection, which rejects state-changing
// requests that a browser marks as cross-origin (a forged login included);
// and the cookie is HttpOnly, out of reach of scripts.
//
// The cookie is always Secure, so that a browser sends it over HTTPS only,
// and named with the __Host- prefix, which browsers accept only on a Secure
// cookie with Path=/ and no Domain: no sibling subdomain and no page served
// over plain HTTP can set or overwrite it. Secure does not depend on how the
// request reached this program, because a service like this one usually
// runs behind a proxy or load balancer that terminates TLS and forwards
// plain HTTP, and deciding by the request would then drop Secure (and
// trusting X-Forwarded-Proto from any client would let one turn it off).
// Development over plain HTTP still works: browsers, curl and Go's cookie
// jar treat http://localhost as a secure origin and keep and send Secure
// cookies there (curl, Go's jar and Chrome also for 127.0.0.1; in a browser,
// open http://localhost:8080).
//
// A bad configuration makes the program exit with status 1 and a one-line
// reason.
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/examples/internal/serve"
	"github.com/typedauth/auth/jwt"
)

const (
	// cookieName is the name of the session cookie. The __Host- prefix makes
	// browsers refuse it unless it is Secure, has Path=/ and no Domain, so
	// that no other host or plain-HTTP page can plant one.
	cookieName = "__Host-session"
	// sessionLifetime is the lifetime of a session: of the token and of
	// the cookie that holds it.
	sessionLifetime = time.Hour
	// minPasswordLength is the shortest DEMO_PASSWORD accepted.
	minPasswordLength = 12
)

// main runs run until SIGINT or SIGTERM, then shuts the server down
// gracefully; a bad configuration exits with status 1.
func main() { serve.Main("cookie", run) }

// run configures the service from getenv, prints its address and the demo
// password to stdout, and serves until ctx is done. It returns an error,
// without serving, when the configuration is bad.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	// Step 1: the signing secret. A random one is fine for a demo; a real
	// service reads it from a secret store so that sessions survive a
	// restart.
	secret := []byte(getenv("JWT_SECRET"))
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret) // crypto/rand.Read never fails
	}

	// Step 2: the demo user's password, kept only as a digest. A real
	// service stores a slow password hash (bcrypt, scrypt, argon2id) in its
	// database; SHA-256 is enough here because the password is random.
	password := getenv("DEMO_PASSWORD")
	printPassword := password == ""
	if printPassword {
		password = rand.Text()
	} else if len(password) < minPasswordLength {
		return fmt.Errorf("DEMO_PASSWORD is shorter than %d characters", minPasswordLength)
	}
	users := map[string][sha256.Size]byte{"alice": sha256.Sum256([]byte(password))}

	// Step 3: the auths. Both verify the same tokens; they differ in where
	// they look for them.
	a, err := newAuths(secret)
	if err != nil {
		return err
	}

	// Step 4: listen before printing, so that ADDR=127.0.0.1:0 (any free
	// port) prints the port actually chosen.
	ln, err := serve.Listen(getenv("ADDR"))
	if err != nil {
		return err
	}
	base := serve.URL(ln)
	if printPassword {
		fmt.Fprintf(stdout, "password for alice: %s\n", password)
	}
	fmt.Fprintf(stdout, "try: curl -c jar -d username=alice -d password=<password> %s/login && curl -b jar %s/me\n", base, base)

	return serve.Serve(ctx, stdout, ln, serve.Server(routes(a, users)))
}

// auths are the two session auths of the service.
type auths struct {
	// sessions reads the token from the session cookie only.
	sessions *jwt.Auth
	// scripts reads it from the cookie or from an "Authorization:
	// Session" header.
	scripts *jwt.Auth
}

func newAuths(secret []byte) (auths, error) {
	cfg := jwt.Config{
		Secret:     secret,
		Algorithms: []string{"HS256"},
		IssuerURL:  "urn:example:cookie",
		Expiration: sessionLifetime,
	}

	// The session cookie. auth.Cookie treats a missing or empty cookie as no
	// credential (401) and rejects a cookie sent twice (400), since a second
	// one may have been planted by a sibling subdomain.
	//
	// A browser session is not an HTTP authentication scheme, so there is
	// no challenge to send: WithChallenge("", "") sends none, where the
	// default would send "WWW-Authenticate: Bearer", which a browser cannot
	// answer. (RFC 9110 asks a 401 for a challenge; /whoami shows one.)
	sessions, err := jwt.New(cfg,
		jwt.WithScheme(auth.Cookie(cookieName)),
		jwt.WithAuthOptions(auth.WithChallenge("", ""), auth.WithMissingDetail("Not logged in")),
	)
	if err != nil {
		return auths{}, fmt.Errorf("JWT_SECRET: %w", err)
	}

	// Any func(*http.Request) (string, error) is a Scheme once converted
	// to auth.SchemeFunc, as a function is an http.Handler once converted
	// to http.HandlerFunc. This one is a line: the token of an "Authorization: Session <token>" header,
	// for scripts that keep no cookies. ParseAuthorization applies the
	// rules of Bearer: no header, or another scheme, is no credential; two
	// headers or a token with spaces are a 400.
	sessionHeader := auth.SchemeFunc(func(r *http.Request) (string, error) { return auth.ParseAuthorization(r.Header, "Session") })

	// FirstOf tries the cookie, then the header. A 401 now has a scheme to
	// name in its challenge: "WWW-Authenticate: Session realm=…".
	scripts, err := jwt.New(cfg,
		jwt.WithScheme(auth.FirstOf(auth.Cookie(cookieName), sessionHeader)),
		jwt.WithAuthOptions(auth.WithChallenge("Session", "cookie example")),
	)
	if err != nil {
		return auths{}, fmt.Errorf("JWT_SECRET: %w", err)
	}
	return auths{sessions: sessions, scripts: scripts}, nil
}

// routes wires the auths to the handlers and wraps them in cross-origin
// protection.
func routes(a auths, users map[string][sha256.Size]byte) http.Handler {
	mux := http.NewServeMux()

	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<10)
		name := r.PostFormValue("username")
		if !checkPassword(users, name, r.PostFormValue("password")) {
			// Same answer for an unknown user and a wrong password, so that
			// the form does not reveal who has an account.
			writeProblem(w, r, http.StatusUnauthorized, "Invalid username or password")
			return
		}
		tok, err := a.sessions.CreateAccessToken(auth.Claims{"sub": name}, 0)
		if err != nil {
			writeProblem(w, r, http.StatusInternalServerError, "")
			return
		}
		http.SetCookie(w, newSessionCookie(tok.AccessToken, int(tok.ExpiresIn))) // the cookie dies with the token
		writeJSON(w, http.StatusOK, map[string]any{"user": name, "expires_in": tok.ExpiresIn})
	})

	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		// Logging out deletes the cookie. The token itself stays valid
		// until it expires: keep sessions short, or keep a deny list of
		// token ids (jti) where logging out must revoke at once.
		http.SetCookie(w, newSessionCookie("", -1))
		w.WriteHeader(http.StatusNoContent)
	})

	// The handlers receive the verified claims of the session token.
	me := func(w http.ResponseWriter, r *http.Request, claims auth.Claims) {
		writeJSON(w, http.StatusOK, map[string]any{"user": claims["sub"], "expires_at": claims["exp"]})
	}
	mux.Handle("GET /me", a.sessions.Handler(me))
	mux.Handle("GET /whoami", a.scripts.Handler(me))

	// CrossOriginProtection rejects non-GET requests that a browser marks
	// as cross-origin (Sec-Fetch-Site, or an Origin that is not this host),
	// and answers them with a problem, as the auths do.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusForbidden, "Cross-origin request")
	}))
	return cop.Handler(mux)
}

// newSessionCookie returns the session cookie holding value for maxAge seconds
// (negative: delete it now). It is the same whether the request came over
// TLS or through a proxy that terminated TLS: always Secure.
func newSessionCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     cookieName, // __Host-: Secure, Path=/ and no Domain, or browsers drop it
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true, // no script can read it
		Secure:   true, // sent over HTTPS only (and to http://localhost in development)
		SameSite: http.SameSiteLaxMode,
	}
}

// checkPassword reports whether password is the password of user name.
// Digests are compared in constant time, and an unknown user costs the same
// as a known one, so that timing reveals neither.
func checkPassword(users map[string][sha256.Size]byte, name, password string) bool {
	want, known := users[name]
	got := sha256.Sum256([]byte(password))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1 && known
}

// writeProblem answers with an RFC 9457 problem, as the auths do. A 500
// always gets a generic detail.
func writeProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	auth.WriteError(w, r, &auth.Error{Status: status, Detail: detail})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
