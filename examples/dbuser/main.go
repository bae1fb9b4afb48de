// Command dbuser loads the caller's database record after verifying their
// token, so that handlers receive a typed User rather than a bag of claims.
//
// A token proves who the caller is; the database says what the caller is
// now. Reusable auths are built once, with auth.Then, and every handler that
// needs a user declares which one it wants:
//
//	currentUser := auth.Then(tokens, store.loadUser)                            // any valid token
//	readerUser  := auth.Then(tokens.Requires("documents:read"), store.loadUser) // and the documents:read scope
//	editorUser  := auth.Then(auth.Then(tokens.Requires("documents:edit"), store.loadUser),
//		requireRole("editor", detailNotEditor))                                 // and the editor role, now
//
// A write is authorised by the user as the database describes them on this
// request, not only by the scope minted into the token at login: the last
// stage of editorUser checks the role that loadUser just read. An editor who
// is demoted loses write access on their next request, although their token
// still says documents:edit until it expires; reads, which a viewer may do,
// keep working. The token's scope stays required as well: it is what the
// caller was granted, and a promotion takes effect with the next token.
//
// The database is SQLite through modernc.org/sqlite, a translation of SQLite
// to pure Go: it needs no cgo and no C compiler, so `go build` (or `go run`)
// alone installs it. It is created and seeded with two users at start-up.
//
// Configuration, from the environment:
//
//	ADDR        the address to listen on (default 127.0.0.1:8080)
//	DB          the SQLite database file (default: a temporary file removed at exit)
//	JWT_SECRET  the HS256 signing secret, at least 32 bytes (default: random, so
//	            tokens die with the process)
//
// Routes:
//
//	POST /token           a demo login: form field user=<name>; returns a token whose
//	                      scope follows the user's role (editor: documents:edit,
//	                      viewer: documents:read). It checks no password: never ship it.
//	GET  /me              any valid token of a known user: {"id":…,"name":…,"role":…}
//	GET  /documents/{id}  tokens with documents:read (which documents:edit implies):
//	                      {"id":…,"content":…,"updated_by":…}
//	PUT  /documents/{id}  tokens with documents:edit of a user whose role is editor now:
//	                      stores the request body as the document
//
// Try it from the root of the repository:
//
//	go run ./examples/dbuser
//	TOKEN=$(curl -s -X POST -d user=alice http://127.0.0.1:8080/token | jq -r .access_token)
//	curl -i -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/me
//	curl -i -X PUT -H "Authorization: Bearer $TOKEN" --data 'hello' http://127.0.0.1:8080/documents/7
//	curl -i -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/documents/7
//	BOB=$(curl -s -X POST -d user=bob http://127.0.0.1:8080/token | jq -r .access_token)
//	curl -i -X PUT -H "Authorization: Bearer $BOB" --data 'hello' http://127.0.0.1:8080/documents/7  # 403
//	curl -i http://127.0.0.1:8080/me                                                                  # 401
//
// The program also prints a ready-made token for each user at start-up.
//
// Failures keep their meaning: a token whose subject is not in the database
// is a 401 "Unknown user"; a database failure is a 500 whose text is logged
// but never sent to the client. A bad configuration makes the program exit
// with status 1 and a one-line reason.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/examples/internal/serve"
	"github.com/typedauth/auth/jwt"
)

// main runs run until SIGINT or SIGTERM, then shuts the server down
// gracefully; a bad configuration exits with status 1.
func main() { serve.Main("dbuser", run) }

// run configures the service from getenv, prints its address and demo tokens
// to stdout, and serves until ctx is done. It returns an error, without
// serving, when the configuration is bad.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	// Server-side log: the place where the causes of 500s end up.
	logger := slog.New(slog.NewTextHandler(stdout, nil))

	// Step 1: the signing secret. A random one is fine for a demo; a real
	// service reads it from a secret store so that tokens survive a restart.
	secret := []byte(getenv("JWT_SECRET"))
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret) // crypto/rand.Read never fails
	}

	// Step 2: the token auth. jwt.New checks the configuration (here, that
	// the secret is long enough for HS256) and fails rather than serving
	// with a weak key. The error writer logs the cause of every 500 before
	// writing the usual problem+json response, which never includes it.
	tokens, err := jwt.New(jwt.Config{
		Secret:     secret,
		Algorithms: []string{"HS256"},
		IssuerURL:  "urn:example:dbuser",
		Expiration: time.Hour,
	}, jwt.WithAuthOptions(auth.WithErrorWriter(loggingErrorWriter(logger))))
	if err != nil {
		return fmt.Errorf("JWT_SECRET: %w", err)
	}

	// Step 3: the database, created and seeded now so that requests find it
	// ready. Its statements are prepared once, here, not per request.
	path := getenv("DB")
	if path == "" {
		dir, err := os.MkdirTemp("", "dbuser-")
		if err != nil {
			return fmt.Errorf("creating a temporary database: %w", err)
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "users.db")
	}
	store, err := openStore(ctx, path)
	if err != nil {
		return err
	}
	defer store.Close()

	// Step 4: listen before printing, so that ADDR=127.0.0.1:0 (any free
	// port) prints the port actually chosen.
	ln, err := serve.Listen(getenv("ADDR"))
	if err != nil {
		return err
	}

	// Step 5: demo tokens, one per user, so that curl works straight away.
	users, err := store.all(ctx)
	if err != nil {
		ln.Close()
		return err
	}
	for _, u := range users {
		tok, err := tokens.Encode(claimsFor(u), 0)
		if err != nil {
			ln.Close()
			return err
		}
		fmt.Fprintf(stdout, "token for %s (%s): %s\n", u.Name, u.Role, tok)
	}
	fmt.Fprintf(stdout, "try: curl -H \"Authorization: Bearer <token>\" %s/me\n", serve.URL(ln))

	// The server logs its own errors (a failed TLS handshake, a panicking
	// handler) as warnings in the same log.
	srv := serve.Server(routes(tokens, store, logger))
	srv.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	return serve.Serve(ctx, stdout, ln, srv)
}

// User is a row of the users table: what handlers receive instead of claims.
type User struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// roleScopes is the scope that /token grants to each role. The default scope
// validator is hierarchical: documents:edit implies documents:read.
var roleScopes = map[string]string{
	"editor": "documents:edit",
	"viewer": "documents:read",
}

// claimsFor returns the claims of a token for u: its id as the subject, the
// standard place for "who", and the scope of its role.
func claimsFor(u User) auth.Claims {
	return auth.Claims{"sub": strconv.FormatInt(u.ID, 10), "scope": roleScopes[u.Role]}
}

// detailNotEditor is the detail of the 403 for a write by a user who is not
// an editor (any more).
const detailNotEditor = "Only editors may change documents"

// requireRole returns a stage for auth.Then that lets a user through only
// when their role, as loaded from the database on this request, is role, and
// answers 403 with detail otherwise. It is how a change of role in the
// database takes effect on the next request rather than when the token
// expires.
func requireRole(role, detail string) func(context.Context, User) (User, error) {
	denied := auth.Forbidden(detail) // each rejected request gets its own copy
	return func(_ context.Context, u User) (User, error) {
		if u.Role != role {
			return User{}, denied
		}
		return u, nil
	}
}

// routes wires the auths to the handlers. Handlers log the causes of their
// own 500s with logger.
func routes(tokens *jwt.Auth, store *store, logger *slog.Logger) http.Handler {
	// Reusable auths, one per kind of caller: each is an Auth[User], built
	// once and reused by as many routes as need it. Then runs loadUser only
	// after the token and its scopes are checked, and requireRole only
	// after loadUser has read the user as they are now.
	currentUser := auth.Then(tokens, store.loadUser)
	readerUser := auth.Then(tokens.Requires("documents:read"), store.loadUser)
	editorUser := auth.Then(auth.Then(tokens.Requires("documents:edit"), store.loadUser),
		requireRole("editor", detailNotEditor))

	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		// A demo login. A real one would check a password (or delegate to
		// an identity provider) before issuing anything.
		r.Body = http.MaxBytesReader(w, r.Body, 1<<10)
		u, err := store.byName(r.Context(), r.PostFormValue("user"))
		if errors.Is(err, sql.ErrNoRows) {
			writeProblem(w, r, http.StatusBadRequest, "Unknown user")
			return
		}
		if err != nil {
			internalError(w, r, logger, err)
			return
		}
		tok, err := tokens.CreateAccessToken(claimsFor(u), 0)
		if err != nil {
			internalError(w, r, logger, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store") // RFC 6749 §5.1
		writeJSON(w, http.StatusOK, tok)
	})

	// Handlers receive the User as an argument: no context lookup, no
	// type assertion, and no way to forget the check.
	mux.Handle("GET /me", currentUser.Handler(func(w http.ResponseWriter, r *http.Request, u User) {
		writeJSON(w, http.StatusOK, u)
	}))

	mux.Handle("GET /documents/{id}", readerUser.Handler(func(w http.ResponseWriter, r *http.Request, _ User) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || id <= 0 {
			writeProblem(w, r, http.StatusNotFound, "No such document")
			return
		}
		d, err := store.document(r.Context(), id)
		if errors.Is(err, sql.ErrNoRows) {
			writeProblem(w, r, http.StatusNotFound, "No such document")
			return
		}
		if err != nil {
			internalError(w, r, logger, err)
			return
		}
		writeJSON(w, http.StatusOK, d)
	}))

	mux.Handle("PUT /documents/{id}", editorUser.Handler(func(w http.ResponseWriter, r *http.Request, u User) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || id <= 0 {
			writeProblem(w, r, http.StatusNotFound, "No such document")
			return
		}
		content, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if tooLarge := new(http.MaxBytesError); errors.As(err, &tooLarge) {
			writeProblem(w, r, http.StatusRequestEntityTooLarge, "Documents are limited to 64 KiB")
			return
		}
		if err != nil {
			writeProblem(w, r, http.StatusBadRequest, "The body could not be read")
			return
		}
		if err := store.saveDocument(r.Context(), id, string(content), u.ID); err != nil {
			internalError(w, r, logger, err)
			return
		}
		writeJSON(w, http.StatusOK, document{ID: id, Content: string(content), UpdatedBy: u.ID})
	}))
	return mux
}

// document is a row of the documents table.
type document struct {
	ID        int64  `json:"id"`
	Content   string `json:"content"`
	UpdatedBy int64  `json:"updated_by"`
}

// store is the database and its prepared statements.
type store struct {
	db       *sql.DB
	userByID *sql.Stmt
	userName *sql.Stmt
	saveDoc  *sql.Stmt
	getDoc   *sql.Stmt
}

// schema creates the tables and the demo users. INSERT OR IGNORE keeps the
// users of an existing database file as they are.
const schema = `
CREATE TABLE IF NOT EXISTS users (
	id   INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	role TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
	id         INTEGER PRIMARY KEY,
	content    TEXT NOT NULL,
	updated_by INTEGER NOT NULL REFERENCES users(id)
);
INSERT OR IGNORE INTO users (id, name, role) VALUES (1, 'alice', 'editor'), (2, 'bob', 'viewer');
`

// openStore opens (or creates) the SQLite database at path, creates and seeds
// its tables and prepares the statements that requests use.
func openStore(ctx context.Context, path string) (*store, error) {
	// busy_timeout makes a writer wait for a lock rather than fail at once;
	// foreign_keys turns on the REFERENCES check, which SQLite leaves off.
	dsn := "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening DB %q: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("creating the tables of DB %q: %w", path, err)
	}
	s := &store{db: db}
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&s.userByID, `SELECT id, name, role FROM users WHERE id = ?`},
		{&s.userName, `SELECT id, name, role FROM users WHERE name = ?`},
		{&s.saveDoc, `INSERT INTO documents (id, content, updated_by) VALUES (?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET content = excluded.content, updated_by = excluded.updated_by`},
		{&s.getDoc, `SELECT id, content, updated_by FROM documents WHERE id = ?`},
	} {
		if *p.stmt, err = db.PrepareContext(ctx, p.sql); err != nil {
			s.Close()
			return nil, fmt.Errorf("preparing a statement on DB %q: %w", path, err)
		}
	}
	return s, nil
}

// Close closes the statements and the database.
func (s *store) Close() error {
	for _, st := range []*sql.Stmt{s.userByID, s.userName, s.saveDoc, s.getDoc} {
		if st != nil {
			st.Close()
		}
	}
	return s.db.Close()
}

// loadUser is the loader given to auth.Then: it turns verified claims into
// the User they name. It runs with the request's context, so a client that
// hangs up cancels the query.
//
// Its errors keep their meaning: a subject that names no user is the
// caller's problem (401 "Unknown user"), while a failing database is ours
// (500, with the cause logged and a generic detail sent).
func (s *store) loadUser(ctx context.Context, claims auth.Claims) (User, error) {
	sub, _ := claims["sub"].(string)
	id, err := strconv.ParseInt(sub, 10, 64)
	if err != nil {
		return User{}, auth.Unauthorized("Unknown user")
	}
	var u User
	err = s.userByID.QueryRowContext(ctx, id).Scan(&u.ID, &u.Name, &u.Role)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, auth.Unauthorized("Unknown user")
	}
	if err != nil {
		return User{}, fmt.Errorf("dbuser: loading user %d: %w", id, err)
	}
	return u, nil
}

// byName returns the user called name, or sql.ErrNoRows.
func (s *store) byName(ctx context.Context, name string) (User, error) {
	var u User
	err := s.userName.QueryRowContext(ctx, name).Scan(&u.ID, &u.Name, &u.Role)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("dbuser: finding user %q: %w", name, err)
	}
	return u, err
}

// all returns every user, for the demo tokens printed at start-up.
func (s *store) all(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, role FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	defer rows.Close()
	var users []User
	for rows.Next() {
		var u User
		if err := rows.Scan(&u.ID, &u.Name, &u.Role); err != nil {
			return nil, fmt.Errorf("listing users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	return users, nil
}

// saveDocument creates or replaces document id.
func (s *store) saveDocument(ctx context.Context, id int64, content string, by int64) error {
	if _, err := s.saveDoc.ExecContext(ctx, id, content, by); err != nil {
		return fmt.Errorf("dbuser: saving document %d: %w", id, err)
	}
	return nil
}

// document returns document id, or sql.ErrNoRows.
func (s *store) document(ctx context.Context, id int64) (document, error) {
	var d document
	err := s.getDoc.QueryRowContext(ctx, id).Scan(&d.ID, &d.Content, &d.UpdatedBy)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return document{}, fmt.Errorf("dbuser: reading document %d: %w", id, err)
	}
	return d, err
}

// loggingErrorWriter logs the cause of server-side failures, which the
// client never sees, then writes the standard problem+json response.
func loggingErrorWriter(logger *slog.Logger) auth.ErrorWriter {
	return func(w http.ResponseWriter, r *http.Request, e *auth.Error) {
		if e.Status >= 500 {
			logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", e.Status, "err", e.Err)
		}
		auth.WriteError(w, r, e)
	}
}

// internalError logs err and answers 500 with a generic problem: the
// client learns that the failure is ours, not what it was.
func internalError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", http.StatusInternalServerError, "err", err)
	writeProblem(w, r, http.StatusInternalServerError, "")
}

// writeProblem answers with an RFC 9457 problem, as the auths do. A 500
// always gets a generic detail.
func writeProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	auth.WriteError(w, r, &auth.Error{Status: status, Detail: detail})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
