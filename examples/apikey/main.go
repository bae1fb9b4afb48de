// Command apikey serves an API whose clients identify themselves with API
// keys sent in an Authorization-Key header. The service never keeps a key in
// plain text: it hashes each one with SHA-256 when it starts and looks
// presented keys up by digest, so a leaked copy of its memory, a dump or a
// log cannot be replayed as a key.
//
// Configuration, from the environment:
//
//	ADDR      the address to listen on (default 127.0.0.1:8080)
//	API_KEYS  client keys as comma-separated name=key pairs, such as
//	          "billing=4f…,reports=9c…"; each key at least 24 characters
//	          (generate them with a CSPRNG: openssl rand -hex 32).
//	          When unset, a key is generated for the clients "billing" and
//	          "reports" and printed once.
//
// Routes:
//
//	GET /ping  any known key: {"pong":true,"client":"<name of the key's owner>"}
//
// A missing or unknown key gets 401 with the problem detail "Invalid API Key"
// and the challenge "WWW-Authenticate: APIKey".
//
// Try it from the root of the repository (the program prints the keys it
// generated):
//
//	go run ./examples/apikey
//	curl -i -H 'Authorization-Key: <key>' http://127.0.0.1:8080/ping   # 200
//	curl -i -H 'Authorization-Key: wrong' http://127.0.0.1:8080/ping   # 401
//	curl -i http://127.0.0.1:8080/ping                                 # 401
//
// A bad configuration makes the program exit with status 1 and a one-line
// reason.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/apikey"
	"github.com/typedauth/auth/examples/internal/serve"
)

// header is where clients send their key. The default is X-Api-Key.
const header = "Authorization-Key"

// minKeyLength is the shortest key accepted from API_KEYS. Keys are secrets
// that clients never type: long random strings cost nothing and cannot be
// guessed. A length check cannot tell a random key from a word repeated, so
// generate keys with a cryptographic random generator.
const minKeyLength = 24

// main runs run until SIGINT or SIGTERM, then shuts the server down
// gracefully; a bad configuration exits with status 1.
func main() { serve.Main("apikey", run) }

// run configures the service from getenv, prints its address (and any keys
// it generated) to stdout, and serves until ctx is done. It returns an error,
// without serving, when the configuration is bad.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	// Step 1: the keys, reduced to their digests at once. Digests maps the
	// SHA-256 digest of each key to the name of its owner; it is all the
	// service keeps.
	digests := apikey.Digests{}
	var generated []string // "client: key" lines, printed once the server listens
	if spec := getenv("API_KEYS"); spec != "" {
		if err := parseKeys(spec, digests); err != nil {
			return fmt.Errorf("API_KEYS: %w", err)
		}
	} else {
		// Demo keys: printed once, below, and then forgotten.
		for _, client := range []string{"billing", "reports"} {
			key := "sk_" + rand.Text() // 26 base32 characters: 130 random bits
			digests[apikey.Digest(key)] = apikey.Principal{Owner: client}
			generated = append(generated, client+": "+key)
		}
	}

	// Step 2: the auth. Hashed hashes the presented key and asks the
	// lookup for its owner: one map access, no key in memory. The
	// description is what API documentation shows for this scheme.
	keys := apikey.New(apikey.Hashed(digests.Lookup),
		apikey.WithHeader(header),
		apikey.WithDescription("Service key, issued per client"),
	)

	// Step 3: listen before printing, so that ADDR=127.0.0.1:0 (any free
	// port) prints the port actually chosen.
	ln, err := serve.Listen(getenv("ADDR"))
	if err != nil {
		return err
	}
	for _, line := range generated {
		fmt.Fprintf(stdout, "key for %s\n", line)
	}
	generated = nil // the plain keys are no longer referenced
	d := keys.Description()
	fmt.Fprintf(stdout, "security scheme: %s in %s %q (%s)\n", d.Type, d.In, d.Name, d.Description)
	fmt.Fprintf(stdout, "try: curl -H '%s: <key>' %s/ping\n", header, serve.URL(ln))

	return serve.Serve(ctx, stdout, ln, serve.Server(routes(keys)))
}

// parseKeys adds the digests of the keys of spec, "name=key,name=key", to d.
// A client may have several keys, so that a new key can be handed out
// before the old one is withdrawn; two clients may not share one.
func parseKeys(spec string, d apikey.Digests) error {
	for entry := range strings.SplitSeq(spec, ",") {
		name, key, ok := strings.Cut(strings.TrimSpace(entry), "=")
		switch {
		case !ok || name == "":
			return errors.New(`want comma-separated name=key pairs`)
		case len(key) < minKeyLength:
			// The message names the client, never the key.
			return fmt.Errorf("the key of %q is shorter than %d characters", name, minKeyLength)
		}
		sum := apikey.Digest(key)
		if other, dup := d[sum]; dup {
			return fmt.Errorf("%q and %q share a key", other.Owner, name)
		}
		d[sum] = apikey.Principal{Owner: name}
	}
	return nil
}

// routes wires the auth to the handler.
func routes(keys *auth.Auth[apikey.Principal]) http.Handler {
	mux := http.NewServeMux()
	// Handler runs the function only for a known key and passes it the
	// key owner's name; every other request gets the 401.
	mux.Handle("GET /ping", keys.Handler(func(w http.ResponseWriter, r *http.Request, client apikey.Principal) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"pong": true, "client": client.Owner})
	}))
	return mux
}
