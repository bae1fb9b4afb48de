package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// goodTree is a workspace laid out like the repository's: a root module,
// an adapter, an integration that requires the adapter, examples that
// require them all, and an unpublished bench module.
func goodTree() map[string]string {
	return map[string]string{
		"go.work": `go 1.26.0

use (
	.
	./adapters/echo
	./auth0
	./bench
	./examples
)

replace (
	github.com/typedauth/auth v0.1.0 => ./
	github.com/typedauth/auth/adapters/echo v0.1.0 => ./adapters/echo
	github.com/typedauth/auth/auth0 v0.1.0 => ./auth0
)
`,
		"go.mod": "module github.com/typedauth/auth\n\ngo 1.26.0\n\nrequire github.com/golang-jwt/jwt/v5 v5.3.1\n",
		"adapters/echo/go.mod": `module github.com/typedauth/auth/adapters/echo

go 1.26.0

require (
	github.com/labstack/echo/v4 v4.16.0
	github.com/typedauth/auth v0.1.0
)
`,
		"auth0/go.mod": "module github.com/typedauth/auth/auth0\n\ngo 1.26.0\n\nrequire (\n\tgithub.com/typedauth/auth v0.1.0\n\tgithub.com/typedauth/auth/adapters/echo v0.1.0\n)\n",
		"bench/go.mod": "module github.com/typedauth/auth/bench\n\ngo 1.26.0\n\nrequire github.com/typedauth/auth v0.1.0\n",
		"examples/go.mod": `module github.com/typedauth/auth/examples

go 1.26.0

require (
	github.com/typedauth/auth v0.1.0
	github.com/typedauth/auth/adapters/echo v0.1.0
	github.com/typedauth/auth/auth0 v0.1.0
)
`,
	}
}

// load writes tree to a directory and loads it as a workspace, every
// go.mod of the tree counting as committed.
func load(t *testing.T, tree map[string]string) (*workspace, error) {
	t.Helper()
	dir := t.TempDir()
	var goMods []string
	for name, data := range tree {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, "go.mod") {
			goMods = append(goMods, name)
		}
	}
	return loadWorkspace(dir, goMods, []string{"bench"})
}

func mustLoad(t *testing.T, tree map[string]string) *workspace {
	t.Helper()
	ws, err := load(t, tree)
	if err != nil {
		t.Fatalf("loadWorkspace: %v", err)
	}
	return ws
}

func TestGoodTreePasses(t *testing.T) {
	ws := mustLoad(t, goodTree())
	v, err := ws.releaseVersion()
	if err != nil || v != "v0.1.0" {
		t.Fatalf("releaseVersion() = %q, %v; want v0.1.0", v, err)
	}
	if err := ws.check(v); err != nil {
		t.Fatalf("check: %v", err)
	}
	order, err := ws.releaseOrder()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range order {
		got = append(got, m.Tag(v))
	}
	want := "v0.1.0 adapters/echo/v0.1.0 auth0/v0.1.0 bench/v0.1.0 examples/v0.1.0"
	if strings.Join(got, " ") != want {
		t.Errorf("release order %q; want %q", strings.Join(got, " "), want)
	}
	for _, m := range ws.Modules {
		if m.Published != (m.Dir != "bench") {
			t.Errorf("%s: published = %v", m.Dir, m.Published)
		}
	}
}

// TestCheckFailures injects, one at a time, each fault the rehearsal must
// refuse, and checks the message says where and what.
func TestCheckFailures(t *testing.T) {
	tests := []struct {
		name string
		edit func(tree map[string]string)
		want []string
	}{
		{
			name: "replace in a nested go.mod",
			edit: func(tree map[string]string) {
				tree["adapters/echo/go.mod"] += "\nreplace github.com/typedauth/auth => ../..\n"
			},
			want: []string{"adapters/echo/go.mod:10: replace github.com/typedauth/auth => ../..", "must not replace"},
		},
		{
			name: "replace of a third-party module",
			edit: func(tree map[string]string) {
				tree["examples/go.mod"] += "\nreplace github.com/labstack/echo/v4 v4.16.0 => github.com/labstack/echo/v4 v4.15.0\n"
			},
			want: []string{"examples/go.mod:11: replace github.com/labstack/echo/v4@v4.16.0 => github.com/labstack/echo/v4@v4.15.0"},
		},
		{
			name: "sibling required at an unpublished version",
			edit: func(tree map[string]string) {
				tree["examples/go.mod"] = strings.Replace(tree["examples/go.mod"], "auth/auth0 v0.1.0", "auth/auth0 v0.2.0", 1)
			},
			want: []string{"examples/go.mod:8: requires github.com/typedauth/auth/auth0 v0.2.0, an unpublished version", "publishes every module at v0.1.0"},
		},
		{
			name: "unpublished module required",
			edit: func(tree map[string]string) {
				tree["examples/go.mod"] += "\nrequire github.com/typedauth/auth/bench v0.1.0\n"
			},
			want: []string{"examples/go.mod:11: requires github.com/typedauth/auth/bench v0.1.0, which is never published"},
		},
		{
			name: "module that is not in the repository",
			edit: func(tree map[string]string) {
				tree["examples/go.mod"] += "\nrequire github.com/typedauth/auth/adapters/chi v0.1.0\n"
			},
			want: []string{"examples/go.mod:11: requires github.com/typedauth/auth/adapters/chi v0.1.0, which is not a module of this repository"},
		},
		{
			name: "module path does not match the directory",
			edit: func(tree map[string]string) {
				tree["auth0/go.mod"] = strings.Replace(tree["auth0/go.mod"], "module github.com/typedauth/auth/auth0", "module github.com/typedauth/auth0", 1)
			},
			want: []string{"auth0/go.mod: module path github.com/typedauth/auth0 does not match its directory: it must be github.com/typedauth/auth/auth0"},
		},
		{
			name: "go.work misses a replace line",
			edit: func(tree map[string]string) {
				tree["go.work"] = strings.Replace(tree["go.work"], "\tgithub.com/typedauth/auth/auth0 v0.1.0 => ./auth0\n", "", 1)
			},
			want: []string{`go.work: add "github.com/typedauth/auth/auth0 v0.1.0 => ./auth0" to its replace block`},
		},
		{
			name: "go.work replaces at every version",
			edit: func(tree map[string]string) {
				tree["go.work"] = strings.Replace(tree["go.work"], "github.com/typedauth/auth/auth0 v0.1.0 => ./auth0", "github.com/typedauth/auth/auth0 => ./auth0", 1)
			},
			want: []string{"go.work:14: replace github.com/typedauth/auth/auth0 => ./auth0 must name the version"},
		},
		{
			name: "go.work replaces a third-party module",
			edit: func(tree map[string]string) {
				tree["go.work"] += "\nreplace github.com/labstack/echo/v4 => ../echo\n"
			},
			want: []string{"go.work:17: replace github.com/labstack/echo/v4 => ../echo: go.work may only map versions of the repository's own modules"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree := goodTree()
			tt.edit(tree)
			ws := mustLoad(t, tree)
			err := ws.check("v0.1.0")
			if err == nil {
				t.Fatal("check passed; want a failure")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestCheckRejectsBadVersion(t *testing.T) {
	ws := mustLoad(t, goodTree())
	for _, v := range []string{"0.1.0", "v0.1", "v0.1.0+build"} {
		if err := ws.check(v); err == nil || !strings.Contains(err.Error(), "not a canonical semantic version") {
			t.Errorf("check(%q) = %v; want a version error", v, err)
		}
	}
}

func TestLoadWorkspaceFailures(t *testing.T) {
	tests := []struct {
		name string
		edit func(tree map[string]string)
		want string
	}{
		{
			name: "committed module missing from go.work",
			edit: func(tree map[string]string) {
				tree["stores/redis/go.mod"] = "module github.com/typedauth/auth/stores/redis\n\ngo 1.26.0\n"
			},
			want: "stores/redis/go.mod is committed but go.work does not use stores/redis",
		},
		{
			name: "go.work uses a directory without go.mod",
			edit: func(tree map[string]string) {
				tree["go.work"] = strings.Replace(tree["go.work"], "./examples\n", "./examples\n\t./gone\n", 1)
			},
			want: "go.work uses gone, but gone/go.mod is not committed",
		},
		{
			name: "go.work uses a directory outside the repository",
			edit: func(tree map[string]string) {
				tree["go.work"] = strings.Replace(tree["go.work"], "./examples\n", "./examples\n\t../elsewhere\n", 1)
			},
			want: "go.work uses ../elsewhere, which is outside the repository",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree := goodTree()
			tt.edit(tree)
			_, err := load(t, tree)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("loadWorkspace error = %v; want one saying %q", err, tt.want)
			}
		})
	}
}

func TestReleaseVersion(t *testing.T) {
	tree := goodTree()
	tree["examples/go.mod"] = strings.Replace(tree["examples/go.mod"], "auth/auth0 v0.1.0", "auth/auth0 v0.2.0", 1)
	if v, err := mustLoad(t, tree).releaseVersion(); err != nil || v != "v0.1.0" {
		t.Errorf("with one stray requirement: releaseVersion() = %q, %v; want the common v0.1.0", v, err)
	}

	tree = goodTree()
	for _, name := range []string{"adapters/echo/go.mod", "auth0/go.mod", "examples/go.mod", "bench/go.mod"} {
		tree[name] = strings.ReplaceAll(tree[name], "v0.1.0", "v0.2.0")
	}
	if v, err := mustLoad(t, tree).releaseVersion(); err != nil || v != "v0.2.0" {
		t.Errorf("after a bump: releaseVersion() = %q, %v; want v0.2.0", v, err)
	}

	tree = map[string]string{"go.work": "go 1.26.0\n\nuse .\n", "go.mod": "module github.com/typedauth/auth\n\ngo 1.26.0\n"}
	if _, err := mustLoad(t, tree).releaseVersion(); err == nil || !strings.Contains(err.Error(), "pass -version") {
		t.Errorf("without nested modules: err = %v; want one asking for -version", err)
	}
}

func TestReleaseOrderRejectsCycle(t *testing.T) {
	tree := goodTree()
	tree["adapters/echo/go.mod"] += "\nrequire github.com/typedauth/auth/examples v0.1.0\n"
	_, err := mustLoad(t, tree).releaseOrder()
	if err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Fatalf("releaseOrder error = %v; want a cycle", err)
	}
}

func TestPublished(t *testing.T) {
	for dir, want := range map[string]bool{
		".": true, "adapters/echo": true, "bench": false, "internal/release": false, "stores/internal/x": false, "benchmarks": true,
	} {
		if got := published(dir, []string{"bench"}); got != want {
			t.Errorf("published(%q) = %v; want %v", dir, got, want)
		}
	}
}

func TestProxiesOnly(t *testing.T) {
	for in, want := range map[string]string{
		"https://proxy.example,direct":        "https://proxy.example",
		"https://a.example|https://b.example": "https://a.example,https://b.example",
		"direct":                              "off",
		"off":                                 "off",
		"https://a.example,https://b.example,off": "https://a.example,https://b.example",
	} {
		if got := proxiesOnly(in); got != want {
			t.Errorf("proxiesOnly(%q) = %q; want %q", in, got, want)
		}
	}
}
