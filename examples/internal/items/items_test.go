package items

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/typedauth/auth/jwt"
)

func TestStore(t *testing.T) {
	t.Parallel()
	s := NewStore()
	if got := s.List(); len(got) != 2 || got[0].Name != "notebook" || got[1].Name != "stapler" {
		t.Fatalf("List = %+v; want notebook and stapler", got)
	}
	added, err := s.Add("pen", "ed")
	if want := (Item{ID: 3, Name: "pen", CreatedBy: "ed"}); added != want || err != nil {
		t.Errorf("Add = %+v, %v; want %+v, nil", added, err, want)
	}
	tests := []struct {
		name   string
		id     string
		want   Item
		wantOK bool
	}{
		{name: "first", id: "1", want: Item{ID: 1, Name: "notebook", CreatedBy: "system"}, wantOK: true},
		{name: "added", id: "3", want: added, wantOK: true},
		{name: "missing", id: "99"},
		{name: "zero", id: "0"},
		{name: "not a number", id: "one"},
		{name: "empty", id: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := s.Get(tt.id)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Get(%q) = %+v, %v; want %+v, %v", tt.id, got, ok, tt.want, tt.wantOK)
			}
		})
	}
	// List returns a copy: changing it leaves the store as it is.
	l := s.List()
	l[0].Name = "changed"
	if got, _ := s.Get("1"); got.Name != "notebook" {
		t.Errorf("after changing a listed item, Get(1) = %+v; want the notebook", got)
	}
}

// TestStoreBounds fills a store from many goroutines at once: it ends with
// exactly MaxItems items, refuses the rest with ErrFull and every name over
// MaxNameBytes with ErrNameTooLong, and Problem answers both.
func TestStoreBounds(t *testing.T) {
	t.Parallel()
	s := NewStore()
	if _, err := s.Add(strings.Repeat("a", MaxNameBytes+1), "ed"); !errors.Is(err, ErrNameTooLong) {
		t.Errorf("Add of a name of %d bytes = %v; want ErrNameTooLong", MaxNameBytes+1, err)
	}
	if _, err := s.Add(strings.Repeat("é", MaxNameBytes/2), "ed"); err != nil {
		t.Errorf("Add of a name of %d bytes = %v; want it stored", MaxNameBytes, err)
	}
	const workers = 8
	var added, full, other atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range MaxItems / workers * 2 {
				switch _, err := s.Add(fmt.Sprintf("item %d-%d", w, i), "ed"); {
				case err == nil:
					added.Add(1)
				case errors.Is(err, ErrFull):
					full.Add(1)
				default:
					other.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := len(s.List()); n != MaxItems || added.Load() != MaxItems-3 || other.Load() != 0 ||
		full.Load() != workers*(MaxItems/workers*2)-(MaxItems-3) {
		t.Errorf("after concurrent adds: %d items, %d added, %d full, %d other errors; want %d items", n, added.Load(), full.Load(), other.Load(), MaxItems)
	}
	for i, it := range s.List() {
		if it.ID != i+1 {
			t.Fatalf("item %d has id %d; ids must follow the order of addition", i, it.ID)
		}
	}
	if _, err := s.Add(strings.Repeat("a", MaxNameBytes+1), "ed"); !errors.Is(err, ErrNameTooLong) {
		t.Errorf("Add of a long name to a full store = %v; want ErrNameTooLong", err)
	}
	for _, tt := range []struct {
		err        error
		wantStatus int
		wantDetail string
	}{
		{err: ErrFull, wantStatus: http.StatusConflict, wantDetail: "The store is full: it holds at most 1000 items"},
		{err: ErrNameTooLong, wantStatus: http.StatusRequestEntityTooLarge, wantDetail: "Item names are limited to 200 bytes"},
		{err: errors.New("boom"), wantStatus: http.StatusInternalServerError},
	} {
		if status, detail := Problem(tt.err); status != tt.wantStatus || detail != tt.wantDetail {
			t.Errorf("Problem(%v) = %d, %q; want %d, %q", tt.err, status, detail, tt.wantStatus, tt.wantDetail)
		}
	}
}

func TestDecodeName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		want       string
		wantOK     bool
	}{
		{name: "name", body: `{"name":"pen"}`, want: "pen", wantOK: true},
		{name: "empty name", body: `{"name":""}`},
		{name: "no name", body: `{}`},
		{name: "truncated", body: `{"name":`},
		{name: "not JSON", body: `name=pen`},
		{name: "too large", body: `{"name":"` + strings.Repeat("a", maxBody) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("POST", "/items", strings.NewReader(tt.body))
			got, ok := DecodeName(httptest.NewRecorder(), r.Body)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("DecodeName(%q) = %q, %v; want %q, %v", tt.body, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestPrintTokens(t *testing.T) {
	t.Parallel()
	tokens, err := jwt.New(jwt.Config{Secret: []byte("0123456789abcdef0123456789abcdef"), Algorithms: []string{"HS256"},
		IssuerURL: "urn:example:items", Expiration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := PrintTokens(&out, tokens); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != len(DemoUsers) {
		t.Fatalf("printed %d lines; want %d:\n%s", len(lines), len(DemoUsers), out.String())
	}
	for i, u := range DemoUsers {
		prefix := "token for " + u.Sub + " (" + u.Scope + "): "
		tok, ok := strings.CutPrefix(lines[i], prefix)
		if !ok {
			t.Errorf("line %d = %q; want it to start with %q", i, lines[i], prefix)
			continue
		}
		claims, err := tokens.Verify(context.Background(), tok)
		if err != nil {
			t.Errorf("token of %s: %v", u.Sub, err)
			continue
		}
		if claims["sub"] != u.Sub || claims["scope"] != u.Scope {
			t.Errorf("claims of %s's token = %v; want sub %q, scope %q", u.Sub, claims, u.Sub, u.Scope)
		}
	}
}

func TestServe(t *testing.T) {
	t.Parallel()
	tokens, err := jwt.New(jwt.Config{Secret: []byte("0123456789abcdef0123456789abcdef"), Algorithms: []string{"HS256"},
		IssuerURL: "urn:example:items", Expiration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	h := http.NotFoundHandler()
	if err := Serve(context.Background(), "127.0.0.1:notaport", io.Discard, tokens, h); err == nil || !strings.Contains(err.Error(), "listening on ADDR") {
		t.Errorf("Serve on a bad address = %v; want a listening on ADDR error", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe()
	errc := make(chan error, 1)
	go func() { errc <- Serve(ctx, "127.0.0.1:0", w, tokens, h) }()
	sc := bufio.NewScanner(r)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.HasPrefix(sc.Text(), "listening on ") {
			break
		}
	}
	cancel()
	go func() { _, _ = io.Copy(io.Discard, r) }()
	if err := <-errc; err != nil {
		t.Errorf("Serve = %v after cancel; want nil", err)
	}
	w.Close()
	if len(lines) != len(DemoUsers)+2 {
		t.Fatalf("Serve printed %q; want a token per demo user, a curl command and the address", lines)
	}
	base := strings.TrimPrefix(lines[len(lines)-1], "listening on ")
	if want := `try: curl -H "Authorization: Bearer <token>" ` + base + "/items"; lines[len(lines)-2] != want {
		t.Errorf("curl line = %q; want %q", lines[len(lines)-2], want)
	}
	for i, u := range DemoUsers {
		if !strings.HasPrefix(lines[i], "token for "+u.Sub+" ") {
			t.Errorf("line %d = %q; want the token of %s", i, lines[i], u.Sub)
		}
	}
}

// FuzzDecodeName checks that DecodeName never panics, returns no name when
// it rejects a body and never accepts an empty one.
func FuzzDecodeName(f *testing.F) {
	f.Add(`{"name":"pen"}`)
	f.Add(`{"name":""}`)
	f.Add(`{"name":`)
	f.Add(`{"name":"a","name":"b"}`)
	f.Add(`[]`)
	f.Add(`{"name":"pen"} trailing`)
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/items", strings.NewReader(body))
		name, ok := DecodeName(httptest.NewRecorder(), r.Body)
		if !ok {
			if name != "" {
				t.Fatalf("DecodeName(%q) = %q, false; want no name on failure", body, name)
			}
			return
		}
		if name == "" {
			t.Fatalf("DecodeName(%q) accepted %q", body, name)
		}
	})
}
