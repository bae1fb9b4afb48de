// Package itemstest is the test of the items API that the chi, echo and gin
// examples serve on three routers: one table of requests, with the answers
// they must get, that each program's test runs against that program.
package itemstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/typedauth/auth"
	"github.com/typedauth/auth/examples/internal/demotest"
)

// UnknownPaths is what a router answers for a path under /items that no
// route matches.
type UnknownPaths int

const (
	// Guarded unknown paths get the /items group's guard first, as chi's
	// r.Use and Echo's Group middleware do: 401 without a token.
	Guarded UnknownPaths = iota
	// NotFound unknown paths get a 404 problem "No such route" without
	// authentication: Gin runs a group's middleware only for the routes
	// registered on the group.
	NotFound
)

// Challenges and details of the API's rejections.
const (
	noToken     = "Bearer"
	needRead    = `Bearer error="insufficient_scope", scope="items:read"`
	needEdit    = `Bearer error="insufficient_scope", scope="items:edit"`
	badSig      = `Bearer error="invalid_token", error_description="Token signature is invalid"`
	missingRead = "Token is missing required scope: items:read"
	missingEdit = "Token is missing required scope: items:edit"
)

// Routes starts the program run and sends it every request of the table,
// with the demo tokens it prints and a token signed with another secret,
// checking each answer; unknown tells how its router answers an unknown
// path under /items. The requests run in parallel; the one that adds an
// item runs last, alone, so that the listings are deterministic.
func Routes(t *testing.T, run demotest.Run, unknown UnknownPaths) {
	t.Helper()
	base, out := demotest.Start(t, run, nil)
	rita := out.Line(t, "token for rita (items:read): ")
	ed := out.Line(t, "token for ed (items:edit): ")
	sam := out.Line(t, "token for sam (profile): ")
	forged := forge(t, auth.Claims{"sub": "ed", "scope": "items:edit"})

	unknownPath := demotest.Want{Status: http.StatusUnauthorized, Detail: "Missing credentials", Challenge: noToken}
	if unknown == NotFound {
		unknownPath = demotest.Want{Status: http.StatusNotFound, Detail: "No such route"}
	}

	tests := []struct {
		name, method, path, token, body string
		want                            demotest.Want
	}{
		{name: "healthz", method: "GET", path: "/healthz", want: demotest.Want{Status: http.StatusOK, Body: `{"status":"ok"}`}},
		{name: "healthz ignores a bad token", method: "GET", path: "/healthz", token: forged,
			want: demotest.Want{Status: http.StatusOK, Body: `{"status":"ok"}`}},

		{name: "list without a token", method: "GET", path: "/items",
			want: demotest.Want{Status: http.StatusUnauthorized, Detail: "Missing credentials", Challenge: noToken}},
		{name: "list with a forged token", method: "GET", path: "/items", token: forged,
			want: demotest.Want{Status: http.StatusUnauthorized, Detail: "Token signature is invalid", Challenge: badSig}},
		{name: "list without the scope", method: "GET", path: "/items", token: sam,
			want: demotest.Want{Status: http.StatusForbidden, Detail: missingRead, Challenge: needRead}},
		{name: "list as a reader", method: "GET", path: "/items", token: rita, want: demotest.Want{Status: http.StatusOK,
			Body: `{"for":"rita","items":[{"id":1,"name":"notebook","created_by":"system"},{"id":2,"name":"stapler","created_by":"system"}]}`}},
		{name: "list as an editor", method: "GET", path: "/items", token: ed, want: demotest.Want{Status: http.StatusOK,
			Body: `{"for":"ed","items":[{"id":1,"name":"notebook","created_by":"system"},{"id":2,"name":"stapler","created_by":"system"}]}`}},

		{name: "get without a token", method: "GET", path: "/items/1",
			want: demotest.Want{Status: http.StatusUnauthorized, Detail: "Missing credentials", Challenge: noToken}},
		{name: "get without the scope", method: "GET", path: "/items/1", token: sam,
			want: demotest.Want{Status: http.StatusForbidden, Detail: missingRead, Challenge: needRead}},
		{name: "get as a reader", method: "GET", path: "/items/1", token: rita,
			want: demotest.Want{Status: http.StatusOK, Body: `{"id":1,"name":"notebook","created_by":"system"}`}},
		{name: "get a missing item", method: "GET", path: "/items/99", token: rita,
			want: demotest.Want{Status: http.StatusNotFound, Detail: "No such item"}},
		{name: "get an item that cannot exist", method: "GET", path: "/items/one", token: rita,
			want: demotest.Want{Status: http.StatusNotFound, Detail: "No such item"}},
		{name: "unknown path under the group without a token", method: "GET", path: "/items/1/secret", want: unknownPath},

		{name: "create without a token", method: "POST", path: "/items", body: `{"name":"pen"}`,
			want: demotest.Want{Status: http.StatusUnauthorized, Detail: "Missing credentials", Challenge: noToken}},
		{name: "create without any item scope", method: "POST", path: "/items", token: sam, body: `{"name":"pen"}`,
			want: demotest.Want{Status: http.StatusForbidden, Detail: missingRead, Challenge: needRead}},
		{name: "create as a reader", method: "POST", path: "/items", token: rita, body: `{"name":"pen"}`,
			want: demotest.Want{Status: http.StatusForbidden, Detail: missingEdit, Challenge: needEdit}},
		{name: "create as an editor with a bad body", method: "POST", path: "/items", token: ed, body: `{"name":`,
			want: demotest.Want{Status: http.StatusBadRequest, Detail: `Want a JSON body {"name":"…"}`}},
	}
	// The group returns when its parallel subtests have all finished.
	t.Run("requests", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				demotest.Check(t, send(t, tt.method, base+tt.path, tt.token, tt.body), tt.want)
			})
		}
	})

	// The one success that changes state runs last, alone, so that the
	// listings above are deterministic.
	t.Run("create as an editor", func(t *testing.T) {
		created := demotest.Want{Status: http.StatusCreated, Body: `{"id":3,"name":"pen","created_by":"ed"}`}
		demotest.Check(t, send(t, "POST", base+"/items", ed, `{"name":"pen"}`), created)
		got := demotest.Want{Status: http.StatusOK, Body: `{"id":3,"name":"pen","created_by":"ed"}`}
		demotest.Check(t, send(t, "GET", base+"/items/3", rita, ""), got)
	})
}

// Bounds checks, through the API of the program run, that its store is
// bounded as documented: a name of up to 200 bytes is stored and a longer
// one refused with 413; items are added until the store holds 1000, after
// which a POST is refused with 409 and the store stays as it is, while reads
// keep working. It sends about a thousand requests to its own instance of
// the program.
func Bounds(t *testing.T, run demotest.Run) {
	t.Helper()
	const maxItems, maxName = 1000, 200 // as documented by package items
	base, out := demotest.Start(t, run, nil)
	rita := out.Line(t, "token for rita (items:read): ")
	ed := out.Line(t, "token for ed (items:edit): ")
	create := func(name string) demotest.Response {
		t.Helper()
		body, err := json.Marshal(map[string]string{"name": name})
		if err != nil {
			t.Fatal(err)
		}
		return send(t, "POST", base+"/items", ed, string(body))
	}

	tooLong := demotest.Want{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("Item names are limited to %d bytes", maxName)}
	demotest.Check(t, create(strings.Repeat("a", maxName+1)), tooLong)
	demotest.Check(t, create(strings.Repeat("é", maxName/2)+"a"), tooLong) // 201 bytes in 101 characters
	longest := strings.Repeat("é", maxName/2)
	demotest.Check(t, create(longest), demotest.Want{Status: http.StatusCreated,
		Body: fmt.Sprintf(`{"id":3,"name":%q,"created_by":"ed"}`, longest)})

	for id := 4; id <= maxItems; id++ {
		if r := create(fmt.Sprintf("item %d", id)); r.Status != http.StatusCreated {
			t.Fatalf("POST /items for item %d: %d %s; want 201 until the store holds %d items", id, r.Status, r.Body, maxItems)
		}
	}
	full := demotest.Want{Status: http.StatusConflict, Detail: fmt.Sprintf("The store is full: it holds at most %d items", maxItems)}
	demotest.Check(t, create("one too many"), full)
	demotest.Check(t, create("x"), full)
	demotest.Check(t, create(strings.Repeat("a", maxName+1)), tooLong)

	r := send(t, "GET", base+"/items", rita, "")
	demotest.Check(t, r, demotest.Want{Status: http.StatusOK})
	var list struct {
		Items []struct {
			ID   int    `json:"id"`
			Name string `json:"name"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(r.Body), &list); err != nil {
		t.Fatalf("GET /items body: %v", err)
	}
	if n := len(list.Items); n != maxItems || list.Items[n-1].ID != maxItems || list.Items[n-1].Name != fmt.Sprintf("item %d", maxItems) {
		t.Errorf("GET /items lists %d items; want %d, the last one item %d", n, maxItems, maxItems)
	}
	demotest.Check(t, send(t, "GET", base+fmt.Sprintf("/items/%d", maxItems), rita, ""), demotest.Want{Status: http.StatusOK,
		Body: fmt.Sprintf(`{"id":%d,"name":"item %d","created_by":"ed"}`, maxItems, maxItems)})
	demotest.Check(t, send(t, "GET", base+fmt.Sprintf("/items/%d", maxItems+1), rita, ""),
		demotest.Want{Status: http.StatusNotFound, Detail: "No such item"})
}

// BadConfig checks that the program run refuses a short JWT_SECRET and a
// bad ADDR.
func BadConfig(t *testing.T, run demotest.Run) {
	t.Helper()
	demotest.RunBadConfig(t, run, []demotest.BadConfig{
		{Name: "short secret", Env: map[string]string{"JWT_SECRET": "too short"}, WantErr: "JWT_SECRET: "},
		{Name: "bad address", Env: map[string]string{"ADDR": "127.0.0.1:notaport"}, WantErr: "listening on ADDR"},
	})
}

// send sends a request with an optional bearer token and JSON body.
func send(tb testing.TB, method, url, token, body string) demotest.Response {
	tb.Helper()
	req := demotest.Request{Method: method, URL: url, Token: token, Body: body}
	if body != "" {
		req.ContentType = "application/json"
	}
	return demotest.Do(tb, req)
}

// forge signs a token with a secret the programs do not know, with their
// issuer.
func forge(tb testing.TB, claims auth.Claims) string {
	tb.Helper()
	return demotest.MintHS256(tb, "a secret the program does not know", "urn:example:items", claims)
}
