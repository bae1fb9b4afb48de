// Package items is what the chi, echo and gin examples, which serve the
// same items API on three routers, share besides authentication: the
// in-memory item store, the demo users whose tokens the programs print at
// start-up, and Serve, which prints them and serves a program's routes. The
// auths, routers, guards and handlers stay in each program's main.go.
package items

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/examples/internal/serve"
	"github.com/typedauth/auth/jwt"
)

// Item is what the API serves.
type Item struct {
	ID        int    `json:"id"`
	Name      string `json:"name"`
	CreatedBy string `json:"created_by"`
}

// Bounds of a Store. Any editor can add items, so without them one client
// could grow the process until it runs out of memory: a Store holds at most
// MaxItems items, each named by at most MaxNameBytes bytes of UTF-8, and its
// created_by is the subject of a token that this program signed (at most
// [auth.DefaultMaxCredentialLength] bytes). A full store keeps serving reads.
const (
	// MaxItems is the most items a Store holds, the initial ones included.
	MaxItems = 1000
	// MaxNameBytes is the longest name, in bytes, that a Store accepts.
	MaxNameBytes = 200
)

// Errors of Store.Add. Problem turns them into the status and detail of the
// answer.
var (
	// ErrFull means that the store holds MaxItems items.
	ErrFull = fmt.Errorf("items: the store holds %d items, its maximum", MaxItems)
	// ErrNameTooLong means that a name is longer than MaxNameBytes.
	ErrNameTooLong = fmt.Errorf("items: a name is longer than %d bytes", MaxNameBytes)
)

// Store holds the items in memory, at most MaxItems of them. It is safe for
// concurrent use. Its zero value is empty; NewStore returns one with two
// items.
type Store struct {
	mu    sync.Mutex
	items []Item
}

// NewStore returns a store holding the items "notebook" (id 1) and
// "stapler" (id 2).
func NewStore() *Store {
	return &Store{items: []Item{{ID: 1, Name: "notebook", CreatedBy: "system"}, {ID: 2, Name: "stapler", CreatedBy: "system"}}}
}

// List returns a copy of all the items, in the order they were added.
func (s *Store) List() []Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Item(nil), s.items...)
}

// Get returns the item whose id is the decimal id, and whether there is
// one. An id that is not a number names no item.
func (s *Store) Get(id string) (Item, bool) {
	n, err := strconv.Atoi(id)
	if err != nil {
		return Item{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range s.items {
		if it.ID == n {
			return it, true
		}
	}
	return Item{}, false
}

// Add stores a new item called name, created by the subject by, and
// returns it with its id. It returns ErrNameTooLong, storing nothing, for a
// name longer than MaxNameBytes, and ErrFull when the store already holds
// MaxItems items.
func (s *Store) Add(name, by string) (Item, error) {
	if len(name) > MaxNameBytes {
		return Item{}, ErrNameTooLong
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.items) >= MaxItems {
		return Item{}, ErrFull
	}
	it := Item{ID: len(s.items) + 1, Name: name, CreatedBy: by}
	s.items = append(s.items, it)
	return it, nil
}

// Problem returns the status and the problem detail that answer an error of
// Add:
//
//   - ErrNameTooLong: 413 Content Too Large, since the request carries more
//     than the server is willing to store (RFC 9110 §15.5.14), as for a
//     document over its size limit;
//   - ErrFull: 409 Conflict, since the request conflicts with the current
//     state of the collection, which holds its maximum (RFC 9110 §15.5.10).
//     Not 507 Insufficient Storage: a 5xx blames the server, invites
//     retries and pages whoever watches error rates, where the limit is a
//     deliberate policy that a client reached; and not 413, since the
//     request itself is small.
//
// Any other error is a 500.
func Problem(err error) (status int, detail string) {
	switch {
	case errors.Is(err, ErrNameTooLong):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("Item names are limited to %d bytes", MaxNameBytes)
	case errors.Is(err, ErrFull):
		return http.StatusConflict, fmt.Sprintf("The store is full: it holds at most %d items", MaxItems)
	}
	return http.StatusInternalServerError, ""
}

// BadBody is the problem detail for a POST /items body that DecodeName
// rejects.
const BadBody = `Want a JSON body {"name":"…"}`

// maxBody bounds the body of POST /items.
const maxBody = 1 << 10

// DecodeName reads the JSON body {"name":"…"} of a POST /items request, of
// at most 1 KiB, and returns the name. It reports false for a body that is
// too large, is not such an object or has an empty name; the caller then
// answers 400 with BadBody.
func DecodeName(w http.ResponseWriter, body io.ReadCloser) (string, bool) {
	var in struct {
		Name string `json:"name"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, body, maxBody)).Decode(&in); err != nil || in.Name == "" {
		return "", false
	}
	return in.Name, true
}

// DemoUser is the subject and scope of a token printed at start-up.
type DemoUser struct{ Sub, Scope string }

// DemoUsers are a reader, an editor and a user without item scopes.
var DemoUsers = []DemoUser{
	{Sub: "rita", Scope: "items:read"},
	{Sub: "ed", Scope: "items:edit"},
	{Sub: "sam", Scope: "profile"},
}

// PrintTokens prints a token from tokens for each of DemoUsers to w, one
// line each: "token for <sub> (<scope>): <token>", so that curl works
// straight away.
func PrintTokens(w io.Writer, tokens *jwt.Auth) error {
	for _, u := range DemoUsers {
		tok, err := tokens.Encode(auth.Claims{"sub": u.Sub, "scope": u.Scope}, 0)
		if err != nil {
			return fmt.Errorf("minting a demo token for %s: %w", u.Sub, err)
		}
		fmt.Fprintf(w, "token for %s (%s): %s\n", u.Sub, u.Scope, tok)
	}
	return nil
}

// Serve listens on addr, the value of ADDR (see serve.Listen), prints to
// stdout a token from tokens for each of DemoUsers and a curl command to
// try, and serves h until ctx is done (see serve.Serve). It returns an
// error, without serving, when it cannot listen or mint a token.
func Serve(ctx context.Context, addr string, stdout io.Writer, tokens *jwt.Auth, h http.Handler) error {
	// Listen before printing, so that ADDR=127.0.0.1:0 (any free port)
	// prints the port actually chosen.
	ln, err := serve.Listen(addr)
	if err != nil {
		return err
	}
	if err := PrintTokens(stdout, tokens); err != nil {
		ln.Close()
		return err
	}
	fmt.Fprintf(stdout, "try: curl -H \"Authorization: Bearer <token>\" %s/items\n", serve.URL(ln))
	return serve.Serve(ctx, stdout, ln, serve.Server(h))
}
